// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the JSON of simulated platform values that
// `coffer attest report --sim-tcb` takes (src/tee/sim_values.c,
// doc/format/evidence.md section 8.4).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "coffer/error.h"
#include "coffer/tee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_tee_sim_values v;

	if (coffer_tee_sim_values_parse((const char *)data, size, &v) != 0)
		return 0;
	if (v.vmpl > 3 || v.tcb_status < COFFER_TCB_UP_TO_DATE ||
	    v.tcb_status > COFFER_TCB_REVOKED)
		abort();
	return 0;
}
