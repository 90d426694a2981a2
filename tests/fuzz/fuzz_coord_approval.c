// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: approvals and revocations on a real coordinator
// (tests/fuzz/coord_harness.h), of a policy three owners approved. The
// first byte chooses the route (even: POST .../approvals, rules A1 to A7;
// odd: POST .../revocations, rules RK1 to RK5); the rest is the body.
#include <stddef.h>
#include <stdint.h>

#include "coord_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];

	if (H_c == NULL)
		h_world();
	if (size < 1)
		return 0;
	snprintf(path, sizeof(path), "/v1/policies/%s/%s", H_phex,
	    data[0] % 2 == 0 ? "approvals" : "revocations");
	h_call("POST", path, data + 1, size - 1);
	return 0;
}
