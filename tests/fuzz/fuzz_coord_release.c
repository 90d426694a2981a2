// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: key upload, jobs and key release on a real coordinator
// (tests/fuzz/coord_harness.h) whose policy is approved and whose keys are
// uploaded. The first byte chooses what the rest is:
//   0  a release request body (rules KR1 to KR4 and on)
//   1  evidence, sent in a well-formed request with a fresh nonce, so that
//      hostile evidence reaches rules KR8 to KR12
//   2  a key upload body (UP1 to UP7)
//   3  a job request body (J1 to J5)
#include <stddef.h>
#include <stdint.h>

#include "coord_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t w_pk[32] = { 9 }; /* X25519 base point: valid */
	char path[80];

	if (H_c == NULL)
		h_world();
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		snprintf(path, sizeof(path), "/v1/jobs/%s/release", H_jhex);
		h_call("POST", path, data + 1, size - 1);
		break;
	case 1:
		h_release(data + 1, size - 1, w_pk);
		break;
	case 2:
		h_call("POST", "/v1/keys", data + 1, size - 1);
		break;
	default:
		h_call("POST", "/v1/jobs", data + 1, size - 1);
		break;
	}
	return 0;
}
