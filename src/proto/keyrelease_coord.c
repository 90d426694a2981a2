// SPDX-License-Identifier: Apache-2.0
// Key upload, jobs and key release (doc/protocol/key-release.md), the
// coordinator's side: it verifies key uploads, reads job and release
// requests, makes release answers and wraps result keys.
#include <string.h>

#include "coffer/error.h"
#include "crypto/box.h"
#include "crypto/datakey.h"
#include "crypto/dh.h"
#include "crypto/jcs.h"
#include "crypto/wrap.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/jfield.h"
#include "proto/keyrelease.h"
#include "proto/keyrelease_int.h"
#include "proto/signed.h"

#define WRAPPED_KEY_LEN (COFFER_WRAP_OVERHEAD + 32) /* 92 */

/* ---- Key upload ---- */

int
coffer_keyupload_verify(const struct coffer_policy *p, const char *text,
    size_t len, const uint8_t coord_kx_sk[32], struct coffer_keyupload *out)
{
	static const char *const members[] = { "type", "version", "policy",
		"signer", "key_id", "wrapped", NULL };
	struct coffer_buf blob = COFFER_BUF_INIT(512);
	struct coffer_buf key = COFFER_BUF_INIT_SECRET(64);
	struct coffer_keyupload u;
	struct coffer_signed s;
	const struct coffer_policy_owner *ow;
	uint8_t h[32], fp[32], info[96], id[16];
	int i, r;

	memset(&u, 0, sizeof(u));
	coffer_signed_init(&s);
	/* UP1 */
	if ((r = coffer_signed_parse(text, len, COFFER_KEYUPLOAD_MAX,
	    "coffer-key-upload", &s)) != 0 ||
	    (r = coffer_jfield_keys(s.statement, "statement", members, NULL)) != 0 ||
	    (r = coffer_jfield_version(s.statement, "statement")) != 0 ||
	    (r = coffer_jfield_hex(s.statement, "statement", "policy", h, 32)) != 0 ||
	    (r = coffer_jfield_hex(s.statement, "statement", "signer", fp, 32)) != 0 ||
	    (r = coffer_jfield_hex(s.statement, "statement", "key_id", u.key_id,
	    16)) != 0 ||
	    (r = coffer_jfield_blob(s.statement, "statement", "wrapped", 256,
	    &blob)) != 0)
		goto out;
	if (blob.len != WRAPPED_KEY_LEN) {
		r = coffer_errf(COFFER_E_FORMAT, "statement.wrapped: %zu bytes, a "
		    "wrapped data key is %d (request.malformed)", blob.len,
		    WRAPPED_KEY_LEN);
		goto out;
	}
	/* UP2 */
	if (p == NULL || memcmp(h, p->hash, 32) != 0) {
		r = coffer_errf(COFFER_E_NOTFOUND, "statement.policy: not this policy "
		    "(policy.unknown)");
		goto out;
	}
	/* UP3 */
	if ((i = coffer_policy_owner_index(p, fp)) < 0) {
		r = coffer_errf(COFFER_E_UNTRUSTED, "statement.signer: not an owner of "
		    "the policy (signer.unknown)");
		goto out;
	}
	u.owner = (size_t)i;
	ow = &p->owners[i];
	/* UP4 */
	if ((r = coffer_signed_verify(&s, ow->id.sign_pk)) != 0) {
		r = coffer_errctx(r, "signature.invalid");
		goto out;
	}
	/* UP5: only the owner the policy says holds the dataset. */
	if (coffer_policy_key_owner(p, u.key_id) != i) {
		r = coffer_errf(COFFER_E_POLICY, "statement.key_id: not the key of a "
		    "dataset of this owner (upload.not_owner)");
		goto out;
	}
	/* UP6: auth mode, from the owner's key-exchange key, bound to policy
	 * and key id. */
	if ((r = coffer_unwrap(coord_kx_sk, ow->id.kx_pk, info,
	    keyrelease_upload_info(info, p->hash, u.key_id), NULL, 0, blob.data,
	    blob.len, &key)) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "statement.wrapped: does not open as a "
		    "key from this owner for this policy and key id (upload.bad_wrap)");
		goto out;
	}
	/* UP7 */
	if (key.len != 32 || (r = coffer_datakey_id(key.data, id)) != 0 ||
	    memcmp(id, u.key_id, 16) != 0) {
		r = r != 0 ? r : coffer_errf(COFFER_E_WRONG_KEY, "the wrapped key is not "
		    "the key with this key id (upload.wrong_key)");
		goto out;
	}
	memcpy(u.key, key.data, 32);
	*out = u;
out:
	coffer_wipe(&u, sizeof(u));
	coffer_signed_release(&s);
	coffer_buf_release(&blob);
	coffer_buf_release_secret(&key);
	return r != 0 ? coffer_errctx(r, "key upload") : 0;
}

/* ---- Job request ---- */

void
coffer_job_request_release(struct coffer_job_request *r)
{
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

int
coffer_job_request_parse(const char *text, size_t len,
    struct coffer_job_request *out)
{
	static const char *const members[] = { "type", "version", "policy", "app",
		"params", NULL };
	struct coffer_job_request j;
	const char *k;
	json_t *v;
	int r;

	memset(&j, 0, sizeof(j));
	if ((r = coffer_json_parse(text, len, COFFER_JOBREQ_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &j.root)) != 0)
		return coffer_errctx(r, "job request");
	if ((r = coffer_jfield_keys(j.root, NULL, members, NULL)) != 0 ||
	    (r = coffer_jfield_type(j.root, NULL, "coffer-job")) != 0 ||
	    (r = coffer_jfield_version(j.root, NULL)) != 0 ||
	    (r = coffer_jfield_hex(j.root, NULL, "policy", j.policy, 32)) != 0 ||
	    (r = coffer_jfield_str(j.root, NULL, "app", 1, COFFER_POLICY_NAME_MAX,
	    COFFER_JFIELD_LOWER_NAME, &j.app)) != 0)
		goto out;
	j.params = json_object_get(j.root, "params");
	if (!json_is_object(j.params) || json_object_size(j.params) > 64) {
		r = coffer_errf(COFFER_E_FORMAT, "params: expected an object of at most "
		    "64 strings");
		goto out;
	}
	json_object_foreach((json_t *)j.params, k, v)
		if (!json_is_string(v) || json_string_length(v) > COFFER_POLICY_VALUE_MAX) {
			r = coffer_errf(COFFER_E_FORMAT, "params.%s: expected a string of at "
			    "most %d bytes", k, COFFER_POLICY_VALUE_MAX);
			goto out;
		}
	*out = j;
	return 0;
out:
	json_decref(j.root);
	return coffer_errctx(r, "job request");
}

/* ---- Release request ---- */

void
coffer_release_request_init(struct coffer_release_request *r)
{
	memset(r, 0, sizeof(*r));
	coffer_buf_init(&r->evidence, COFFER_RELEASE_EVIDENCE_MAX);
}

void
coffer_release_request_release(struct coffer_release_request *r)
{
	coffer_buf_release(&r->evidence);
}

int
coffer_release_request_parse(const char *text, size_t len, const char *path_job,
    struct coffer_release_request *out)
{
	static const char *const members[] = { "type", "version", "job", "nonce",
		"worker_pk", "evidence", NULL };
	json_t *root = NULL;
	uint8_t pj[16];
	size_t got;
	int r;

	/* KR1 */
	if ((r = coffer_json_parse(text, len, COFFER_RELEASE_REQ_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &root)) != 0)
		return coffer_errctx(r, "release request");
	if ((r = coffer_jfield_keys(root, NULL, members, NULL)) != 0 ||
	    (r = coffer_jfield_type(root, NULL, "coffer-release-request")) != 0 ||
	    (r = coffer_jfield_version(root, NULL)) != 0 ||
	    (r = coffer_jfield_hex(root, NULL, "job", out->job, 16)) != 0 ||
	    (r = coffer_jfield_hex(root, NULL, "nonce", out->nonce, 32)) != 0 ||
	    (r = coffer_jfield_hex(root, NULL, "worker_pk", out->worker_pk, 32)) != 0 ||
	    (r = coffer_jfield_blob(root, NULL, "evidence",
	    COFFER_RELEASE_EVIDENCE_MAX, &out->evidence)) != 0)
		goto out;
	if (path_job != NULL &&
	    (strlen(path_job) != 32 || coffer_hex_decode(path_job, 32, pj, 16,
	    &got) != 0 || memcmp(pj, out->job, 16) != 0)) {
		r = coffer_errf(COFFER_E_FORMAT, "job: not the job of the URL");
		goto out;
	}
	if (coffer_dh_check_public(out->worker_pk) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "worker_pk: a point of small order");
		goto out;
	}
out:
	json_decref(root);
	return r != 0 ? coffer_errctx(r, "release request (request.malformed)") : 0;
}

/* ---- Release answer ---- */

static int
put_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char h[65];

	coffer_hex_encode(p, n, h);
	return json_object_set_new(o, k, json_string(h));
}

/* The payload object (6.5; also the bind answer's, standby_coord.c). */
json_t *
keyrelease_payload_json(const struct coffer_release_payload *p)
{
	json_t *o = json_object(), *keys = json_array();
	int bad = o == NULL || keys == NULL;

	for (size_t i = 0; !bad && i < p->nkeys; i++) {
		json_t *k = json_object();

		bad = k == NULL || put_hex(k, "key_id", p->keys[i].key_id, 16) != 0 ||
		    put_hex(k, "key", p->keys[i].key, 32) != 0 ||
		    json_array_append_new(keys, k) != 0;
		if (bad)
			json_decref(k);
	}
	bad = bad || json_object_set_new(o, "type",
	    json_string("coffer-release-payload")) != 0 ||
	    json_object_set_new(o, "version", json_integer(1)) != 0 ||
	    put_hex(o, "job", p->job, 16) != 0 ||
	    put_hex(o, "policy", p->policy, 32) != 0 ||
	    json_object_set_new(o, "app", json_string(p->app)) != 0 ||
	    put_hex(o, "app_sha256", p->app_sha256, 32) != 0 ||
	    json_object_set_new(o, "reduce", json_boolean(p->reduce)) != 0 ||
	    put_hex(o, "session", p->session, 16) != 0 ||
	    put_hex(o, "session_key", p->session_key, 32) != 0 ||
	    json_object_set(o, "keys", keys) != 0 ||
	    put_hex(o, "output_key", p->output_key, 32) != 0 ||
	    (p->reduce && put_hex(o, "intermediate_key", p->intermediate_key, 32) != 0) ||
	    json_object_set(o, "params", p->params ? p->params : json_object()) != 0 ||
	    json_object_set(o, "limits", p->limits ? p->limits : json_object()) != 0 ||
	    put_hex(o, "app_secret", p->app_secret, 32) != 0;
	if (bad) {
		keyrelease_wipe_payload_json(o);
		json_decref(keys);
		json_decref(o);
		return NULL;
	}
	json_decref(keys);
	return o;
}

int
coffer_release_answer_make(const struct coffer_release_payload *p,
    const uint8_t nonce[32], const uint8_t w_pk[32], const uint8_t coord_kx_sk[32],
    struct coffer_buf *out)
{
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(COFFER_RELEASE_PAYLOAD_MAX);
	struct coffer_buf wrapped = COFFER_BUF_INIT(256);
	struct coffer_buf boxed = COFFER_BUF_INIT(2 * COFFER_RELEASE_PAYLOAD_MAX);
	struct coffer_buf kb = COFFER_BUF_INIT(256), pb = COFFER_BUF_INIT(
	    3 * COFFER_RELEASE_PAYLOAD_MAX);
	char jh[33], sh[33];
	uint8_t info[128], K[32];
	size_t infolen = keyrelease_release_info(info, p->job, nonce, w_pk);
	json_t *o = NULL, *ans = NULL;
	int r;

	if ((o = keyrelease_payload_json(p)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	if ((r = coffer_jcs_put(o, &pt)) != 0 ||
	    (r = coffer_datakey_generate(K)) != 0 ||
	    (r = coffer_wrap(w_pk, coord_kx_sk, info, infolen, NULL, 0, K, 32,
	    &wrapped)) != 0 ||
	    (r = coffer_box_seal(K, info, infolen, pt.data, pt.len, &boxed)) != 0 ||
	    (r = coffer_b64url_put(&kb, wrapped.data, wrapped.len)) != 0 ||
	    (r = coffer_b64url_put(&pb, boxed.data, boxed.len)) != 0)
		goto out;
	coffer_hex_encode(p->job, 16, jh);
	coffer_hex_encode(p->session, 16, sh);
	ans = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "type", "coffer-release",
	    "version", 1, "job", jh, "session", sh, "key", coffer_buf_str(&kb),
	    "payload", coffer_buf_str(&pb));
	if (ans == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	r = coffer_jcs_put(ans, out);
out:
	coffer_wipe(K, sizeof(K));
	keyrelease_wipe_payload_json(o);
	json_decref(o);
	json_decref(ans);
	coffer_buf_release_secret(&pt);
	coffer_buf_release(&wrapped);
	coffer_buf_release(&boxed);
	coffer_buf_release(&kb);
	coffer_buf_release(&pb);
	return r;
}

/* ---- Result keys ---- */

int
coffer_resultkey_wrap(const uint8_t recipient_kx_pk[32],
    const uint8_t coord_kx_sk[32], const uint8_t job[16], const uint8_t policy[32],
    const uint8_t output_key[32], struct coffer_buf *blob)
{
	uint8_t info[96];

	return coffer_wrap(recipient_kx_pk, coord_kx_sk, info,
	    keyrelease_result_info(info, job, policy), NULL, 0, output_key, 32,
	    blob);
}

int
coffer_resultkey_answer_make(const uint8_t recipient_kx_pk[32],
    const uint8_t recipient_fpr[32], const uint8_t coord_kx_sk[32],
    const uint8_t job[16], const uint8_t policy[32],
    const uint8_t output_key[32], struct coffer_buf *out)
{
	struct coffer_buf blob = COFFER_BUF_INIT(256);
	uint8_t kid[16];
	char jh[33], ph[65], fh[65], kh[33];
	int r;

	if ((r = coffer_datakey_id(output_key, kid)) != 0 ||
	    (r = coffer_resultkey_wrap(recipient_kx_pk, coord_kx_sk, job, policy,
	    output_key, &blob)) != 0)
		goto out;
	coffer_hex_encode(job, 16, jh);
	coffer_hex_encode(policy, 32, ph);
	coffer_hex_encode(recipient_fpr, 32, fh);
	coffer_hex_encode(kid, 16, kh);
	/* Members in canonical order; every value is ASCII JCS keeps as is. */
	if ((r = coffer_buf_putf(out, "{\"job\":\"%s\",\"key_id\":\"%s\",\"policy\":"
	    "\"%s\",\"recipient\":\"%s\",\"type\":\"coffer-result-key\","
	    "\"version\":1,\"wrapped\":\"", jh, kh, ph, fh)) != 0 ||
	    (r = coffer_b64url_put(out, blob.data, blob.len)) != 0)
		goto out;
	r = coffer_buf_puts(out, "\"}");
out:
	coffer_buf_release(&blob);
	return r;
}
