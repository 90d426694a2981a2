// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: item proofs, closing and a job's results on a real
// coordinator (tests/fuzz/coord_harness.h), whose policy is approved. The
// first byte chooses what the rest is:
//   0  a proofs request body for the world's job (rules B1 to B3)
//   1  proof bodies (152 bytes each, up to 16) that the harness MACs with
//      a session's key and sends as one batch to a job of their own, so
//      that hostile fields reach rules IP9 to IP17 and C1 to C5; the job is
//      then closed and its receipt, results and bundle asked for
//   2  a close request body (CL1) for a job of its own
//   3  the tail of a GET path under the world's job (stages, receipt,
//      bundle, result key)
#include <stddef.h>
#include <stdint.h>

#include "coord_harness.h"
#include "proto/itembatch.h"
#include "proto/itemproof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t S_key[32];
static uint64_t S_count;

/* A job of its own with one session (id and key fixed but for the job):
 * every input starts from an open job. */
static void
new_job(uint8_t job[16], uint8_t session[16])
{
	struct coord_job j;
	struct coord_session s;

	memset(&j, 0, sizeof(j));
	memset(job, 0x22, 16);
	coffer_store_u64be(job + 8, ++S_count);
	memcpy(j.id, job, 16);
	memcpy(j.policy, H_policy->hash, 32);
	snprintf(j.app, sizeof(j.app), "stats");
	j.params = "{\"alpha\":\"0.05\"}";
	memset(&s, 0, sizeof(s));
	memcpy(s.id, job, 16);
	s.id[0] = 0x33;
	memcpy(s.job, job, 16);
	snprintf(s.tee, sizeof(s.tee), "sim");
	memcpy(s.measurement, H_policy->apps[0].measurements[0].value,
	    H_policy->apps[0].measurements[0].len);
	s.measurement_len = H_policy->apps[0].measurements[0].len;
	memcpy(s.key, S_key, 32);
	if (coffer_receipt_input_root(H_policy, &H_policy->apps[0], &j.items,
	    j.input_root) != 0 || coord_state_job_put(H_c->st, &j) != 0 ||
	    coord_state_session_put(H_c->st, &s) != 0)
		h_die("job");
	memcpy(session, s.id, 16);
}

static void
path_of(char *out, size_t n, const uint8_t job[16], const char *tail)
{
	char hex[33];

	coffer_hex_encode(job, 16, hex);
	snprintf(out, n, "/v1/jobs/%s/%s", hex, tail);
}

static void
proofs(const uint8_t *data, size_t size)
{
	struct coffer_buf body = COFFER_BUF_INIT(COFFER_ITEMPROOF_BATCH_BYTES);
	uint8_t job[16], session[16], b[16][COFFER_ITEMPROOF_LEN];
	char path[200], fp[65];
	size_t n = 0;

	new_job(job, session);
	for (size_t off = 0; off + 152 <= size && n < 16; off += 152, n++) {
		memcpy(b[n], data + off, 152);
		/* Past B2 and B3: this job's session; the job field stays the
		 * fuzzer's when its first byte is odd (IP9). */
		memcpy(b[n] + 24, session, 16);
		if ((data[off] & 1) == 0)
			memcpy(b[n] + 8, job, 16);
		/* The MAC of doc/format/item-proof.md section 3 over bytes the
		 * fuzzer chose, structurally valid or not. */
		{
			uint8_t m[21 + 152];

			memcpy(m, "coffer/item-proof/v1", 21); /* with its NUL */
			memcpy(m + 21, b[n], 152);
			if (coffer_hmac_sha256(S_key, 32, m, sizeof(m), b[n] + 152) != 0)
				h_die("hmac");
		}
	}
	if (n == 0 || coffer_itemproof_batch_put((const uint8_t (*)[
	    COFFER_ITEMPROOF_LEN])b, n, &body) != 0) {
		coffer_buf_release(&body);
		return;
	}
	path_of(path, sizeof(path), job, "proofs");
	h_call("POST", path, body.data, body.len);
	/* Everything a job's end serves, then its close (which frees it). */
	path_of(path, sizeof(path), job, "stages/map/leaves");
	h_call("GET", path, "", 0);
	path_of(path, sizeof(path), job, "close");
	h_call("POST", path, "{\"reason\":\"done\"}", 17);
	path_of(path, sizeof(path), job, "receipt");
	h_call("GET", path, "", 0);
	if (coffer_identity_fingerprint(&H_owner[0].pub, fp) == 0) {
		char tail[100];

		snprintf(tail, sizeof(tail), "bundle/%s", fp);
		path_of(path, sizeof(path), job, tail);
		h_call("GET", path, "", 0);
		snprintf(tail, sizeof(tail), "result-key/%s", fp);
		path_of(path, sizeof(path), job, tail);
		h_call("GET", path, "", 0);
	}
	coffer_buf_release(&body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t job[16], session[16];
	char path[400], tail[200];
	size_t n;

	if (H_c == NULL) {
		h_world();
		memset(S_key, 0x44, sizeof(S_key));
	}
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		path_of(path, sizeof(path), H_job, "proofs");
		h_call("POST", path, data + 1, size - 1);
		break;
	case 1:
		proofs(data + 1, size - 1);
		break;
	case 2:
		new_job(job, session);
		path_of(path, sizeof(path), job, "close");
		h_call("POST", path, data + 1, size - 1);
		path_of(path, sizeof(path), job, "close");
		h_call("POST", path, "{\"reason\":\"cancelled\"}", 22);
		break;
	default:
		n = size - 1 < sizeof(tail) - 1 ? size - 1 : sizeof(tail) - 1;
		for (size_t i = 0; i < n; i++)
			tail[i] = data[1 + i] >= 0x21 && data[1 + i] < 0x7f &&
			    data[1 + i] != '?' ? (char)data[1 + i] : '_';
		tail[n] = '\0';
		path_of(path, sizeof(path), H_job, tail);
		h_call("GET", path, "", 0);
		break;
	}
	return 0;
}
