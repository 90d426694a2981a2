// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: POST /v1/policies on a real coordinator
// (tests/fuzz/coord_harness.h): the policy parser (doc/format/policy.md
// rules P1 to P17) as the coordinator applies it, then its checks of the
// coordinator and the predecessor, storage, and the status it answers.
// The input is the request body.
#include <stddef.h>
#include <stdint.h>

#include "coord_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (H_c == NULL)
		h_world();
	h_call("POST", "/v1/policies", data, size);
	return 0;
}
