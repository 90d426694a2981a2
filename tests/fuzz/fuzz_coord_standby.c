// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: standby sessions and their bind on a real coordinator
// (tests/fuzz/coord_harness.h; doc/protocol/key-release.md 6.7) whose
// policy is approved and whose keys are uploaded. The first byte chooses
// what the rest is:
//   0  a standby request body (rules SB1 on)
//   1  evidence, sent in a well-formed standby request with a fresh nonce,
//      so that hostile evidence reaches SB4 and SB5
//   2  a bind request body for the job (BD1 on)
//   3  evidence put in a standby session directly, then bound with the
//      right MAC, so that hostile evidence reaches BD6 to BD11
#include <stddef.h>
#include <stdint.h>

#include "coord_harness.h"
#include "lib/mem.h"
#include "coordinator/standby.h"
#include "proto/standby.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t w_pk[32] = { 9 }; /* X25519 base point: valid */
	struct coffer_buf req = COFFER_BUF_INIT(COFFER_STANDBY_REQ_MAX);
	uint8_t nonce[32], id[16], s[COFFER_STANDBY_SECRET_LEN];
	char path[80];

	memset(nonce, 0, sizeof(nonce));
	if (H_c == NULL)
		h_world();
	if (size < 1)
		return 0;
	snprintf(path, sizeof(path), "/v1/jobs/%s/bind", H_jhex);
	switch (data[0] % 4) {
	case 0:
		h_call("POST", "/v1/standby", data + 1, size - 1);
		break;
	case 1:
		if (coord_nonce_issue(H_c->nonces, coffer_mono_ms(), nonce) == 0 &&
		    coffer_standby_request_make(nonce, w_pk, data + 1, size - 1,
		    &req) == 0)
			h_call("POST", "/v1/standby", req.data, req.len);
		break;
	case 2:
		h_call("POST", path, data + 1, size - 1);
		break;
	default:
		if (coord_standby_add(H_c->standbys, coffer_mono_ms(), nonce, w_pk,
		    data + 1, size - 1, id, s) == 0 &&
		    coffer_bind_request_make(H_job, id, s, &req) == 0)
			h_call("POST", path, req.data, req.len);
		coffer_wipe(s, sizeof(s));
		break;
	}
	coffer_buf_release(&req);
	/* Forget used nonces and sessions now: an input that leaves memory
	 * behind makes libFuzzer scan for leaks every run. */
	coord_nonces_sweep(H_c->nonces, INT64_MAX);
	coord_standbys_sweep(H_c->standbys, INT64_MAX);
	return 0;
}
