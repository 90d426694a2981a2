// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: Asperathos submissions (src/manager/asperathos.c), as
// POST /submissions takes them. An accepted submission must give a job
// whose normalised form the store can parse back.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "manager/asperathos.h"
#include "manager/jobspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_BUF_MAX_DEFAULT);
	struct mgr_asperathos a;
	struct mgr_jobspec s;
	json_t *j = NULL, *n;

	memset(&a, 0, sizeof(a));
	memset(&s, 0, sizeof(s));
	if (coffer_json_parse((const char *)data, size, 1 << 20,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &j) != 0)
		return 0;
	if (mgr_asperathos_parse(j, &a) == 0) {
		if (!json_is_array(a.ignored) || !json_is_array(a.stored) ||
		    a.spec.cmd == NULL || a.spec.queue_layout != MGR_QUEUE_ASPERATHOS)
			abort();
		if ((n = mgr_jobspec_to_json(&a.spec)) == NULL ||
		    coffer_json_dump(n, &b) != 0)
			abort();
		if (mgr_jobspec_parse_text(coffer_buf_str(&b), b.len,
		    COFFER_BUF_MAX_DEFAULT, 1800000000, 1, &s) != 0)
			abort();
		json_decref(n);
		mgr_jobspec_release(&s);
		mgr_asperathos_release(&a);
	}
	coffer_buf_release(&b);
	json_decref(j);
	return 0;
}
