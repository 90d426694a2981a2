// SPDX-License-Identifier: Apache-2.0
// Standby and bind (doc/protocol/key-release.md section 6.7), the
// worker's side: it makes the standby and bind requests and opens their
// answers (rules WS1, WS2 and WB1 to WB3). S arrives wrapped to the
// worker's attested key from the pinned coordinator, and the bind answer
// opens only under S: the standby secret takes the place of W2.
#include <string.h>

#include "coffer/error.h"
#include "crypto/box.h"
#include "crypto/dh.h"
#include "crypto/jcs.h"
#include "crypto/wrap.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/jfield.h"
#include "proto/keyrelease_int.h"
#include "proto/policy.h"
#include "proto/standby.h"
#include "proto/standby_int.h"

/* ---- Standby request (6.7.4) ---- */

int
coffer_standby_request_make(const uint8_t nonce[32], const uint8_t w_pk[32],
    const uint8_t *evidence, size_t evlen, struct coffer_buf *out)
{
	struct coffer_buf ev = COFFER_BUF_INIT(2 * COFFER_STANDBY_EVIDENCE_MAX);
	char nh[65], ph[65];
	json_t *o;
	int r;

	if (evlen == 0 || evlen > COFFER_STANDBY_EVIDENCE_MAX)
		return coffer_errf(COFFER_E_INVAL, "evidence of %zu bytes", evlen);
	if ((r = coffer_b64url_put(&ev, evidence, evlen)) != 0)
		goto out;
	coffer_hex_encode(nonce, 32, nh);
	coffer_hex_encode(w_pk, 32, ph);
	if ((o = json_pack("{s:s, s:i, s:s, s:s, s:s}", "type",
	    "coffer-standby-request", "version", 1, "nonce", nh, "worker_pk", ph,
	    "evidence", coffer_buf_str(&ev))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	r = coffer_jcs_put(o, out);
	json_decref(o);
out:
	coffer_buf_release(&ev);
	return r;
}

/* ---- Standby answer (6.7.4, WS1 and WS2) ---- */

int
coffer_standby_answer_open(const char *text, size_t len,
    const uint8_t nonce[32], const uint8_t w_sk[32],
    const uint8_t coord_kx_pk[32], uint8_t standby[16],
    uint8_t s[COFFER_STANDBY_SECRET_LEN])
{
	static const char *const members[] = { "type", "version", "standby", "key",
		NULL };
	struct coffer_buf wrapped = COFFER_BUF_INIT(256);
	struct coffer_buf S = COFFER_BUF_INIT_SECRET(128);
	uint8_t id[16], w_pk[32], info[96];
	size_t infolen;
	json_t *root = NULL;
	int r;

	/* WS1 */
	if ((r = coffer_json_parse(text, len, COFFER_STANDBY_ANSWER_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &root)) != 0 ||
	    (r = coffer_jfield_keys(root, "answer", members, NULL)) != 0 ||
	    (r = coffer_jfield_type(root, "answer", "coffer-standby")) != 0 ||
	    (r = coffer_jfield_version(root, "answer")) != 0 ||
	    (r = coffer_jfield_hex(root, "answer", "standby", id, 16)) != 0 ||
	    (r = coffer_jfield_blob(root, "answer", "key", 256, &wrapped)) != 0)
		goto out;
	if (wrapped.len != COFFER_STANDBY_WRAPPED_LEN) {
		r = coffer_errf(COFFER_E_FORMAT, "answer.key: %zu bytes, not %d",
		    wrapped.len, COFFER_STANDBY_WRAPPED_LEN);
		goto out;
	}
	/* WS2: from the pinned coordinator (auth mode), for this nonce and
	 * key. */
	if ((r = coffer_dh_public(w_sk, w_pk)) != 0)
		goto out;
	infolen = standby_wrap_info(info, nonce, w_pk);
	if (coffer_unwrap(w_sk, coord_kx_pk, info, infolen, NULL, 0, wrapped.data,
	    wrapped.len, &S) != 0 || S.len != COFFER_STANDBY_SECRET_LEN) {
		r = coffer_errf(COFFER_E_AUTH, "answer.key: does not open as the "
		    "pinned coordinator's answer to this standby request");
		goto out;
	}
	memcpy(standby, id, 16);
	memcpy(s, S.data, COFFER_STANDBY_SECRET_LEN);
out:
	json_decref(root);
	coffer_buf_release(&wrapped);
	coffer_buf_release_secret(&S);
	return r != 0 ? coffer_errctx(r, "standby answer") : 0;
}

/* ---- Bind request (6.7.5) ---- */

int
coffer_bind_request_make(const uint8_t job[16], const uint8_t standby[16],
    const uint8_t s[COFFER_STANDBY_SECRET_LEN], struct coffer_buf *out)
{
	uint8_t mac[32];
	char jh[33], sh[33], mh[65];
	json_t *o;
	int r;

	if ((r = coffer_bind_mac(s, job, standby, mac)) != 0)
		return r;
	coffer_hex_encode(job, 16, jh);
	coffer_hex_encode(standby, 16, sh);
	coffer_hex_encode(mac, 32, mh);
	if ((o = json_pack("{s:s, s:i, s:s, s:s, s:s}", "type",
	    "coffer-bind-request", "version", 1, "job", jh, "standby", sh, "mac",
	    mh)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	r = coffer_jcs_put(o, out);
	json_decref(o);
	return r;
}

/* ---- Bind answer (6.7.6, WB1 to WB3) ---- */

#define BIND_HEAD_MAX (2 * COFFER_RELEASE_PAYLOAD_MAX)

int
coffer_bind_answer_open(const uint8_t *body, size_t len, const uint8_t job[16],
    const uint8_t standby[16], const uint8_t s[COFFER_STANDBY_SECRET_LEN],
    struct coffer_release_payload *out, struct coffer_buf *policy)
{
	static const char *const members[] = { "type", "version", "job", "session",
		"payload", "policy_len", NULL };
	const uint8_t *lf = len > 0 ? memchr(body, '\n', len) : NULL;
	struct coffer_release_payload p;
	struct coffer_buf boxed = COFFER_BUF_INIT(COFFER_RELEASE_PAYLOAD_MAX +
	    COFFER_BOX_OVERHEAD);
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(COFFER_RELEASE_PAYLOAD_MAX);
	uint8_t aj[16], as[16], info[64];
	size_t infolen, head;
	uint64_t plen = 0;
	json_t *root = NULL, *po = NULL;
	int r;

	memset(&p, 0, sizeof(p));
	/* WB1 */
	if (len > COFFER_BIND_ANSWER_MAX) {
		r = coffer_errf(COFFER_E_LIMIT, "%zu bytes (limit %zu)", len,
		    COFFER_BIND_ANSWER_MAX);
		goto out;
	}
	if (lf == NULL) {
		r = coffer_errf(COFFER_E_FORMAT, "no line feed after its head");
		goto out;
	}
	head = (size_t)(lf - body);
	if ((r = coffer_json_parse((const char *)body, head, BIND_HEAD_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &root)) != 0 ||
	    (r = coffer_jfield_keys(root, "answer", members, NULL)) != 0 ||
	    (r = coffer_jfield_type(root, "answer", "coffer-bind")) != 0 ||
	    (r = coffer_jfield_version(root, "answer")) != 0 ||
	    (r = coffer_jfield_hex(root, "answer", "job", aj, 16)) != 0 ||
	    (r = coffer_jfield_hex(root, "answer", "session", as, 16)) != 0 ||
	    (r = coffer_jfield_blob(root, "answer", "payload",
	    COFFER_RELEASE_PAYLOAD_MAX + COFFER_BOX_OVERHEAD, &boxed)) != 0 ||
	    (r = coffer_jfield_uint(root, "answer", "policy_len", 1,
	    COFFER_POLICY_MAX_BYTES, &plen)) != 0)
		goto out;
	if (plen != len - head - 1) {
		r = coffer_errf(COFFER_E_FORMAT, "%zu bytes of policy after its head, "
		    "not its policy_len %llu", len - head - 1, (unsigned long long)plen);
		goto out;
	}
	if (memcmp(aj, job, 16) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "answer.job: not the job asked for");
		goto out;
	}
	/* WB2: only the holder of S, and the coordinator that wrapped it to
	 * this worker's attested key, know S_box. */
	infolen = standby_bind_info(info, job, standby);
	if (coffer_box_open(s + 32, info, infolen, boxed.data, boxed.len,
	    &pt) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "answer.payload: does not open under "
		    "the standby session's key for this job");
		goto out;
	}
	/* WB3 (W4) */
	if ((r = coffer_json_parse((const char *)pt.data, pt.len,
	    COFFER_RELEASE_PAYLOAD_MAX, COFFER_JSON_MAX_DEPTH_DEFAULT, &po)) != 0 ||
	    (r = keyrelease_parse_payload(po, &p)) != 0)
		goto out;
	if (memcmp(p.job, job, 16) != 0 || memcmp(p.session, as, 16) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "payload: another job or session than "
		    "the answer's");
		goto out;
	}
	if ((r = coffer_buf_put(policy, lf + 1, (size_t)plen)) != 0)
		goto out;
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	coffer_release_payload_clear(&p);
	if (po != NULL)
		keyrelease_wipe_payload_json(po);
	json_decref(po);
	json_decref(root);
	coffer_buf_release(&boxed);
	coffer_buf_release_secret(&pt);
	return r != 0 ? coffer_errctx(r, "bind answer") : 0;
}
