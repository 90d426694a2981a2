// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the verification policy's JSON form
// (src/tee/policy.c, doc/format/evidence.md section 10.3). What parses
// must write back to JSON that parses to the same policy.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coffer/tee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_tee_policy p, q;
	char *js = NULL;

	if (coffer_tee_policy_parse((const char *)data, size, &p) != 0)
		return 0;
	if (p.size != sizeof(p) || p.version != COFFER_TEE_POLICY_VERSION ||
	    p.n_sim_keys > COFFER_TEE_POLICY_MAX_SIM_KEYS || p.snp_max_vmpl > 3)
		abort();
	if (coffer_tee_policy_json(&p, &js) != 0 ||
	    coffer_tee_policy_parse(js, strlen(js), &q) != 0 ||
	    memcmp(&p, &q, sizeof(p)) != 0)
		abort();
	free(js);
	return 0;
}
