// SPDX-License-Identifier: Apache-2.0
// Standby and bind (doc/protocol/key-release.md section 6.7), the
// coordinator's side: it reads standby requests (SB1) and bind requests
// (BD1), checks the bind MAC (BD5), and makes both answers. The keys it
// handles (S, the payload's) are wiped here as in keyrelease_coord.c.
#include <string.h>

#include <openssl/crypto.h>

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
#include "proto/standby.h"
#include "proto/standby_int.h"

/* The URL's job (32 hex) is the body's (SB's BD1). */
static int
same_path_job(const char *path_job, const uint8_t job[16])
{
	uint8_t pj[16];
	size_t got = 0;

	if (path_job != NULL &&
	    (strlen(path_job) != 32 || coffer_hex_decode(path_job, 32, pj, 16,
	    &got) != 0 || got != 16 || memcmp(pj, job, 16) != 0))
		return coffer_errf(COFFER_E_FORMAT, "job: not the job of the URL");
	return 0;
}

/* ---- Standby request (6.7.4, SB1) ---- */

void
coffer_standby_request_init(struct coffer_standby_request *r)
{
	memset(r, 0, sizeof(*r));
	coffer_buf_init(&r->evidence, COFFER_STANDBY_EVIDENCE_MAX);
}

void
coffer_standby_request_release(struct coffer_standby_request *r)
{
	coffer_buf_release(&r->evidence);
}

int
coffer_standby_request_parse(const char *text, size_t len,
    struct coffer_standby_request *out)
{
	static const char *const members[] = { "type", "version", "nonce",
		"worker_pk", "evidence", NULL };
	json_t *root = NULL;
	int r;

	if ((r = coffer_json_parse(text, len, COFFER_STANDBY_REQ_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &root)) != 0)
		return coffer_errctx(r, "standby request (request.malformed)");
	if ((r = coffer_jfield_keys(root, NULL, members, NULL)) != 0 ||
	    (r = coffer_jfield_type(root, NULL, "coffer-standby-request")) != 0 ||
	    (r = coffer_jfield_version(root, NULL)) != 0 ||
	    (r = coffer_jfield_hex(root, NULL, "nonce", out->nonce, 32)) != 0 ||
	    (r = coffer_jfield_hex(root, NULL, "worker_pk", out->worker_pk, 32)) != 0 ||
	    (r = coffer_jfield_blob(root, NULL, "evidence",
	    COFFER_STANDBY_EVIDENCE_MAX, &out->evidence)) != 0)
		goto out;
	if (coffer_dh_check_public(out->worker_pk) != 0)
		r = coffer_errf(COFFER_E_FORMAT, "worker_pk: a point of small order");
out:
	json_decref(root);
	return r != 0 ? coffer_errctx(r, "standby request (request.malformed)") : 0;
}

/* ---- Standby answer (6.7.4) ---- */

int
coffer_standby_answer_make(const uint8_t standby[16],
    const uint8_t s[COFFER_STANDBY_SECRET_LEN], const uint8_t nonce[32],
    const uint8_t w_pk[32], const uint8_t coord_kx_sk[32],
    struct coffer_buf *out)
{
	struct coffer_buf wrapped = COFFER_BUF_INIT(256), kb = COFFER_BUF_INIT(256);
	uint8_t info[96];
	size_t infolen = standby_wrap_info(info, nonce, w_pk);
	char sh[33];
	json_t *ans = NULL;
	int r;

	/* B_s names the nonce and the worker's key: S opens only for the
	 * key the evidence bound (SB5), from this coordinator (auth mode). */
	if ((r = coffer_wrap(w_pk, coord_kx_sk, info, infolen, NULL, 0, s,
	    COFFER_STANDBY_SECRET_LEN, &wrapped)) != 0 ||
	    (r = coffer_b64url_put(&kb, wrapped.data, wrapped.len)) != 0)
		goto out;
	coffer_hex_encode(standby, 16, sh);
	if ((ans = json_pack("{s:s, s:i, s:s, s:s}", "type", "coffer-standby",
	    "version", 1, "standby", sh, "key", coffer_buf_str(&kb))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	r = coffer_jcs_put(ans, out);
out:
	json_decref(ans);
	coffer_buf_release(&wrapped);
	coffer_buf_release(&kb);
	return r;
}

/* ---- Bind request (6.7.5, BD1 and BD5) ---- */

int
coffer_bind_request_parse(const char *text, size_t len, const char *path_job,
    struct coffer_bind_request *out)
{
	static const char *const members[] = { "type", "version", "job",
		"standby", "mac", NULL };
	struct coffer_bind_request q;
	json_t *root = NULL;
	int r;

	memset(&q, 0, sizeof(q));
	if ((r = coffer_json_parse(text, len, COFFER_BIND_REQ_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &root)) != 0)
		return coffer_errctx(r, "bind request (request.malformed)");
	if ((r = coffer_jfield_keys(root, NULL, members, NULL)) != 0 ||
	    (r = coffer_jfield_type(root, NULL, "coffer-bind-request")) != 0 ||
	    (r = coffer_jfield_version(root, NULL)) != 0 ||
	    (r = coffer_jfield_hex(root, NULL, "job", q.job, 16)) != 0 ||
	    (r = coffer_jfield_hex(root, NULL, "standby", q.standby, 16)) != 0 ||
	    (r = coffer_jfield_hex(root, NULL, "mac", q.mac, 32)) != 0 ||
	    (r = same_path_job(path_job, q.job)) != 0)
		goto out;
	*out = q;
out:
	json_decref(root);
	return r != 0 ? coffer_errctx(r, "bind request (request.malformed)") : 0;
}

int
coffer_bind_request_check_mac(const struct coffer_bind_request *q,
    const uint8_t s[COFFER_STANDBY_SECRET_LEN])
{
	uint8_t want[32];
	int r;

	if ((r = coffer_bind_mac(s, q->job, q->standby, want)) != 0)
		return r;
	r = CRYPTO_memcmp(want, q->mac, 32) == 0 ? 0 :
	    coffer_errf(COFFER_E_AUTH, "mac: not the standby session's MAC for "
	    "this job");
	coffer_wipe(want, sizeof(want));
	return r;
}

/* ---- Bind answer (6.7.6) ---- */

int
coffer_bind_answer_make(const struct coffer_release_payload *p,
    const uint8_t standby[16], const uint8_t s[COFFER_STANDBY_SECRET_LEN],
    const uint8_t *policy, size_t policy_len, struct coffer_buf *out)
{
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(COFFER_RELEASE_PAYLOAD_MAX);
	struct coffer_buf boxed = COFFER_BUF_INIT(COFFER_RELEASE_PAYLOAD_MAX +
	    COFFER_BOX_OVERHEAD);
	struct coffer_buf pb = COFFER_BUF_INIT(2 * COFFER_RELEASE_PAYLOAD_MAX);
	uint8_t info[64];
	size_t infolen = standby_bind_info(info, p->job, standby);
	char jh[33], sh[33];
	json_t *o = NULL, *head = NULL;
	int r;

	if (policy_len == 0 || policy_len > COFFER_POLICY_MAX_BYTES)
		return coffer_errf(COFFER_E_INVAL, "bind answer: a policy of %zu "
		    "bytes", policy_len);
	if ((o = keyrelease_payload_json(p)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	/* S_box (S's second half) seals this one message, aad B_b. */
	if ((r = coffer_jcs_put(o, &pt)) != 0 ||
	    (r = coffer_box_seal(s + 32, info, infolen, pt.data, pt.len,
	    &boxed)) != 0 ||
	    (r = coffer_b64url_put(&pb, boxed.data, boxed.len)) != 0)
		goto out;
	coffer_hex_encode(p->job, 16, jh);
	coffer_hex_encode(p->session, 16, sh);
	if ((head = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I}", "type",
	    "coffer-bind", "version", 1, "job", jh, "session", sh, "payload",
	    coffer_buf_str(&pb), "policy_len", (json_int_t)policy_len)) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	/* JCS writes no LF (hex and base64url need no escape): the head is
	 * one line, then the policy's bytes as stored (N4). */
	if ((r = coffer_jcs_put(head, out)) != 0 ||
	    (r = coffer_buf_put(out, "\n", 1)) != 0)
		goto out;
	r = coffer_buf_put(out, policy, policy_len);
out:
	keyrelease_wipe_payload_json(o);
	json_decref(o);
	json_decref(head);
	coffer_buf_release_secret(&pt);
	coffer_buf_release(&boxed);
	coffer_buf_release(&pb);
	return r;
}
