// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the worker's measured configuration
// (src/worker/measured.c, doc/worker.md 9.2, rules MC1 to MC5). Whatever
// the file holds, a configuration accepted pins a known TEE type and a
// measurement of exactly that type's length.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "worker/measured.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct measured_config mc;

	if (measured_config_parse((const char *)data, size, &mc) != 0)
		return 0;
	if (mc.coord.tee == COFFER_TEE_UNKNOWN ||
	    mc.coord.len != (mc.coord.tee == COFFER_TEE_SGX ? 32u :
	    mc.coord.tee == COFFER_TEE_TDX ? 240u : 48u))
		abort();
	return 0;
}
