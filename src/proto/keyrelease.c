// SPDX-License-Identifier: Apache-2.0
// Key upload, jobs and key release (doc/protocol/key-release.md). Keys
// never travel or rest in the clear outside a TEE or the owner's machine:
// they are wrapped (HPKE auth mode, doc/format/wrap.md) or boxed under a
// wrapped one-time key, and every copy this file makes is wiped.
#include <string.h>

#include "coffer/error.h"
#include "crypto/box.h"
#include "crypto/datakey.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/jcs.h"
#include "crypto/wrap.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/jfield.h"
#include "proto/keyrelease.h"
#include "proto/signed.h"

#define BINDING_LABEL "coffer/release-binding/v1"
#define RELEASE_LABEL "coffer/key-release/v1"
#define DATAKEY_LABEL "coffer/data-key/v1"
#define RESULT_LABEL "coffer/result-key/v1"
#define WRAPPED_KEY_LEN (COFFER_WRAP_OVERHEAD + 32) /* 92 */

/* label || 0x00 || parts..., into out (at most cap bytes). */
static size_t
labelled(uint8_t *out, size_t cap, const char *label, const uint8_t *a,
    size_t an, const uint8_t *b, size_t bn, const uint8_t *c, size_t cn)
{
	size_t n = strlen(label) + 1;

	if (n + an + bn + cn > cap)
		return 0;
	memcpy(out, label, n);
	memcpy(out + n, a, an);
	n += an;
	if (bn)
		memcpy(out + n, b, bn);
	n += bn;
	if (cn)
		memcpy(out + n, c, cn);
	return n + cn;
}

int
coffer_keyrelease_binding(const uint8_t job[16], const uint8_t nonce[32],
    const uint8_t w_pk[32], uint8_t out[64])
{
	uint8_t m[128];
	size_t n = labelled(m, sizeof(m), BINDING_LABEL, job, 16, nonce, 32, w_pk, 32);

	return coffer_sha512(m, n, out);
}

/* ---- Key upload ---- */

static size_t
upload_info(uint8_t out[96], const uint8_t h[32], const uint8_t key_id[16])
{
	return labelled(out, 96, DATAKEY_LABEL, h, 32, key_id, 16, NULL, 0);
}

int
coffer_keyupload_make(const struct coffer_identity *owner, const uint8_t h[32],
    const uint8_t key_id[16], const uint8_t key[32], const uint8_t coord_kx_pk[32],
    struct coffer_buf *out)
{
	struct coffer_buf blob = COFFER_BUF_INIT(256), b64 = COFFER_BUF_INIT(512);
	char hh[65], kid[33], fp[COFFER_ID_FINGERPRINT_HEX];
	uint8_t info[96];
	size_t infolen = upload_info(info, h, key_id);
	json_t *st = NULL;
	int r;

	if ((r = coffer_identity_fingerprint(&owner->pub, fp)) != 0 ||
	    (r = coffer_wrap(coord_kx_pk, owner->kx_sk, info, infolen, NULL, 0, key,
	    32, &blob)) != 0 ||
	    (r = coffer_b64url_put(&b64, blob.data, blob.len)) != 0)
		goto out;
	coffer_hex_encode(h, 32, hh);
	coffer_hex_encode(key_id, 16, kid);
	st = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "type", "coffer-key-upload",
	    "version", 1, "policy", hh, "signer", fp, "key_id", kid, "wrapped",
	    coffer_buf_str(&b64));
	if (st == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	r = coffer_signed_make(st, owner->sign_sk, out);
out:
	json_decref(st);
	coffer_buf_release(&blob);
	coffer_buf_release(&b64);
	return r;
}

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
	if ((r = coffer_unwrap(coord_kx_sk, ow->id.kx_pk, info, upload_info(info,
	    p->hash, u.key_id), NULL, 0, blob.data, blob.len, &key)) != 0) {
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

int
coffer_release_request_make(const uint8_t job[16], const uint8_t nonce[32],
    const uint8_t w_pk[32], const uint8_t *evidence, size_t evlen,
    struct coffer_buf *out)
{
	struct coffer_buf ev = COFFER_BUF_INIT(2 * COFFER_RELEASE_EVIDENCE_MAX);
	char jh[33], nh[65], ph[65];
	json_t *o;
	int r;

	if (evlen == 0 || evlen > COFFER_RELEASE_EVIDENCE_MAX)
		return coffer_errf(COFFER_E_INVAL, "evidence of %zu bytes", evlen);
	if ((r = coffer_b64url_put(&ev, evidence, evlen)) != 0)
		goto out;
	coffer_hex_encode(job, 16, jh);
	coffer_hex_encode(nonce, 32, nh);
	coffer_hex_encode(w_pk, 32, ph);
	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "type",
	    "coffer-release-request", "version", 1, "job", jh, "nonce", nh,
	    "worker_pk", ph, "evidence", coffer_buf_str(&ev));
	if (o == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	r = coffer_jcs_put(o, out);
	json_decref(o);
out:
	coffer_buf_release(&ev);
	return r;
}

/* ---- Release answer ---- */

/* jansson copies strings and frees them without wiping: the hex of a key
 * that went through a JSON value is wiped in place before the value goes. */
static void
wipe_json_string(json_t *v)
{
	if (json_is_string(v))
		coffer_wipe((char *)json_string_value(v), json_string_length(v));
}

static void
wipe_payload_json(json_t *o)
{
	json_t *keys = json_object_get(o, "keys"), *k;
	size_t i;

	wipe_json_string(json_object_get(o, "session_key"));
	wipe_json_string(json_object_get(o, "output_key"));
	wipe_json_string(json_object_get(o, "intermediate_key"));
	wipe_json_string(json_object_get(o, "app_secret"));
	if (json_is_array(keys))
		json_array_foreach(keys, i, k)
			wipe_json_string(json_object_get(k, "key"));
}

void
coffer_release_payload_clear(struct coffer_release_payload *p)
{
	if (p->keys != NULL)
		coffer_free_secret(p->keys, p->nkeys * sizeof(*p->keys));
	json_decref(p->params);
	json_decref(p->limits);
	coffer_wipe(p, sizeof(*p));
}

static size_t
release_info(uint8_t out[128], const uint8_t job[16], const uint8_t nonce[32],
    const uint8_t w_pk[32])
{
	return labelled(out, 128, RELEASE_LABEL, job, 16, nonce, 32, w_pk, 32);
}

static int
put_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char h[65];

	coffer_hex_encode(p, n, h);
	return json_object_set_new(o, k, json_string(h));
}

static json_t *
payload_json(const struct coffer_release_payload *p)
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
		wipe_payload_json(o);
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
	size_t infolen = release_info(info, p->job, nonce, w_pk);
	json_t *o = NULL, *ans = NULL;
	int r;

	if ((o = payload_json(p)) == NULL)
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
	wipe_payload_json(o);
	json_decref(o);
	json_decref(ans);
	coffer_buf_release_secret(&pt);
	coffer_buf_release(&wrapped);
	coffer_buf_release(&boxed);
	coffer_buf_release(&kb);
	coffer_buf_release(&pb);
	return r;
}

/* W4: the payload's members. */
static int
parse_payload(json_t *o, struct coffer_release_payload *p)
{
	static const char *const members[] = { "type", "version", "job", "policy",
		"app", "app_sha256", "reduce", "session", "session_key", "keys",
		"output_key", "params", "limits", "app_secret", NULL };
	static const char *const optional[] = { "intermediate_key", NULL };
	static const char *const kmembers[] = { "key_id", "key", NULL };
	char kp[COFFER_JFIELD_PATH_MAX];
	const char *app, *k;
	json_t *keys, *e, *v;
	size_t i;
	int r;

	if ((r = coffer_jfield_keys(o, "payload", members, optional)) != 0 ||
	    (r = coffer_jfield_type(o, "payload", "coffer-release-payload")) != 0 ||
	    (r = coffer_jfield_version(o, "payload")) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "job", p->job, 16)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "policy", p->policy, 32)) != 0 ||
	    (r = coffer_jfield_str(o, "payload", "app", 1, COFFER_POLICY_NAME_MAX,
	    COFFER_JFIELD_LOWER_NAME, &app)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "app_sha256", p->app_sha256, 32)) != 0 ||
	    (r = coffer_jfield_bool(o, "payload", "reduce", &p->reduce)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "session", p->session, 16)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "session_key", p->session_key,
	    32)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "output_key", p->output_key, 32)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "app_secret", p->app_secret, 32)) != 0)
		return r;
	memcpy(p->app, app, strlen(app) + 1);
	if (p->reduce != (json_object_get(o, "intermediate_key") != NULL))
		return coffer_errf(COFFER_E_FORMAT, "payload.intermediate_key: present "
		    "exactly when the job has a reduce stage");
	if (p->reduce && (r = coffer_jfield_hex(o, "payload", "intermediate_key",
	    p->intermediate_key, 32)) != 0)
		return r;
	keys = json_object_get(o, "keys");
	if (!json_is_array(keys) || json_array_size(keys) < 1 ||
	    json_array_size(keys) > 4096)
		return coffer_errf(COFFER_E_FORMAT, "payload.keys: expected 1 to 4096 keys");
	p->keys = coffer_calloc(json_array_size(keys), sizeof(*p->keys));
	if (p->keys == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	json_array_foreach(keys, i, e) {
		coffer_jfield_index(kp, "payload.keys", i);
		if ((r = coffer_jfield_keys(e, kp, kmembers, NULL)) != 0 ||
		    (r = coffer_jfield_hex(e, kp, "key_id", p->keys[i].key_id, 16)) != 0 ||
		    (r = coffer_jfield_hex(e, kp, "key", p->keys[i].key, 32)) != 0)
			return r;
		p->nkeys++;
		for (size_t j = 0; j < i; j++)
			if (memcmp(p->keys[j].key_id, p->keys[i].key_id, 16) == 0)
				return coffer_errf(COFFER_E_FORMAT, "%s: a key id given twice", kp);
	}
	p->params = json_incref(json_object_get(o, "params"));
	p->limits = json_incref(json_object_get(o, "limits"));
	if (!json_is_object(p->params) || !json_is_object(p->limits))
		return coffer_errf(COFFER_E_FORMAT, "payload: params and limits are "
		    "objects");
	json_object_foreach(p->params, k, v)
		if (!json_is_string(v))
			return coffer_errf(COFFER_E_FORMAT, "payload.params.%s: expected a "
			    "string", k);
	json_object_foreach(p->limits, k, v)
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return coffer_errf(COFFER_E_FORMAT, "payload.limits.%s: expected an "
			    "integer", k);
	return 0;
}

int
coffer_release_answer_open(const char *text, size_t len, const uint8_t job[16],
    const uint8_t nonce[32], const uint8_t w_sk[32], const uint8_t coord_kx_pk[32],
    struct coffer_release_payload *out)
{
	static const char *const members[] = { "type", "version", "job", "session",
		"key", "payload", NULL };
	struct coffer_release_payload p;
	struct coffer_buf wrapped = COFFER_BUF_INIT(256);
	struct coffer_buf boxed = COFFER_BUF_INIT(2 * COFFER_RELEASE_PAYLOAD_MAX);
	struct coffer_buf K = COFFER_BUF_INIT_SECRET(64);
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(COFFER_RELEASE_PAYLOAD_MAX);
	uint8_t aj[16], as[16], w_pk[32], info[128];
	json_t *root = NULL, *po = NULL;
	size_t infolen;
	int r;

	memset(&p, 0, sizeof(p));
	/* W1 */
	if ((r = coffer_json_parse(text, len, 3 * COFFER_RELEASE_PAYLOAD_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &root)) != 0 ||
	    (r = coffer_jfield_keys(root, "answer", members, NULL)) != 0 ||
	    (r = coffer_jfield_type(root, "answer", "coffer-release")) != 0 ||
	    (r = coffer_jfield_version(root, "answer")) != 0 ||
	    (r = coffer_jfield_hex(root, "answer", "job", aj, 16)) != 0 ||
	    (r = coffer_jfield_hex(root, "answer", "session", as, 16)) != 0 ||
	    (r = coffer_jfield_blob(root, "answer", "key", 256, &wrapped)) != 0 ||
	    (r = coffer_jfield_blob(root, "answer", "payload",
	    2 * COFFER_RELEASE_PAYLOAD_MAX, &boxed)) != 0)
		goto out;
	if (memcmp(aj, job, 16) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "answer.job: not the job asked for");
		goto out;
	}
	if ((r = coffer_dh_public(w_sk, w_pk)) != 0)
		goto out;
	infolen = release_info(info, job, nonce, w_pk);
	/* W2: from the pinned coordinator (auth mode), for this job, nonce
	 * and key. */
	if ((r = coffer_unwrap(w_sk, coord_kx_pk, info, infolen, NULL, 0,
	    wrapped.data, wrapped.len, &K)) != 0 || K.len != 32) {
		r = coffer_errf(COFFER_E_AUTH, "answer.key: does not open as the "
		    "pinned coordinator's answer to this request");
		goto out;
	}
	/* W3 */
	if ((r = coffer_box_open(K.data, info, infolen, boxed.data, boxed.len,
	    &pt)) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "answer.payload: does not open under the "
		    "answer key");
		goto out;
	}
	/* W4 */
	if ((r = coffer_json_parse((const char *)pt.data, pt.len,
	    COFFER_RELEASE_PAYLOAD_MAX, COFFER_JSON_MAX_DEPTH_DEFAULT, &po)) != 0 ||
	    (r = parse_payload(po, &p)) != 0)
		goto out;
	if (memcmp(p.job, job, 16) != 0 || memcmp(p.session, as, 16) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "payload: another job or session than "
		    "the answer's");
		goto out;
	}
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	coffer_release_payload_clear(&p);
	if (po != NULL)
		wipe_payload_json(po);
	json_decref(po);
	json_decref(root);
	coffer_buf_release(&wrapped);
	coffer_buf_release(&boxed);
	coffer_buf_release_secret(&K);
	coffer_buf_release_secret(&pt);
	return r != 0 ? coffer_errctx(r, "release answer") : 0;
}

/* ---- Result keys ---- */

static size_t
result_info(uint8_t out[96], const uint8_t job[16], const uint8_t policy[32])
{
	return labelled(out, 96, RESULT_LABEL, job, 16, policy, 32, NULL, 0);
}

int
coffer_resultkey_wrap(const uint8_t recipient_kx_pk[32],
    const uint8_t coord_kx_sk[32], const uint8_t job[16], const uint8_t policy[32],
    const uint8_t output_key[32], struct coffer_buf *blob)
{
	uint8_t info[96];

	return coffer_wrap(recipient_kx_pk, coord_kx_sk, info,
	    result_info(info, job, policy), NULL, 0, output_key, 32, blob);
}

int
coffer_resultkey_unwrap(const uint8_t recipient_kx_sk[32],
    const uint8_t coord_kx_pk[32], const uint8_t job[16], const uint8_t policy[32],
    const uint8_t *blob, size_t n, uint8_t output_key[32])
{
	struct coffer_buf k = COFFER_BUF_INIT_SECRET(64);
	uint8_t info[96];
	int r;

	r = coffer_unwrap(recipient_kx_sk, coord_kx_pk, info,
	    result_info(info, job, policy), NULL, 0, blob, n, &k);
	if (r == 0 && k.len != 32)
		r = coffer_errf(COFFER_E_FORMAT, "a result key is 32 bytes");
	if (r == 0)
		memcpy(output_key, k.data, 32);
	coffer_buf_release_secret(&k);
	return r;
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

int
coffer_resultkey_answer_open(const char *text, size_t len, const uint8_t job[16],
    const uint8_t policy[32], const uint8_t recipient_fpr[32],
    const uint8_t recipient_kx_sk[32], const uint8_t coord_kx_pk[32],
    uint8_t output_key[32])
{
	static const char *const members[] = { "type", "version", "job", "policy",
		"recipient", "key_id", "wrapped", NULL };
	struct coffer_buf blob = COFFER_BUF_INIT(128);
	uint8_t j[16], p[32], f[32], kid[16], got[16], key[32];
	json_t *root = NULL;
	int r;

	/* RR1 */
	if ((r = coffer_json_parse(text, len, COFFER_RESULTKEY_ANSWER_MAX, 2,
	    &root)) != 0)
		return coffer_errctx(r, "result key");
	if ((r = coffer_jfield_keys(root, "result key", members, NULL)) != 0 ||
	    (r = coffer_jfield_type(root, "result key", "coffer-result-key")) != 0 ||
	    (r = coffer_jfield_version(root, "result key")) != 0 ||
	    (r = coffer_jfield_hex(root, "result key", "job", j, 16)) != 0 ||
	    (r = coffer_jfield_hex(root, "result key", "policy", p, 32)) != 0 ||
	    (r = coffer_jfield_hex(root, "result key", "recipient", f, 32)) != 0 ||
	    (r = coffer_jfield_hex(root, "result key", "key_id", kid, 16)) != 0 ||
	    (r = coffer_jfield_blob(root, "result key", "wrapped", 128, &blob)) != 0)
		goto out;
	if (blob.len != 92) {
		r = coffer_errf(COFFER_E_FORMAT, "result key.wrapped: expected 92 "
		    "bytes, not %zu", blob.len);
		goto out;
	}
	/* RR2 */
	if (memcmp(j, job, 16) != 0 || memcmp(p, policy, 32) != 0 ||
	    memcmp(f, recipient_fpr, 32) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "result key: for another job, policy "
		    "or recipient than asked");
		goto out;
	}
	/* RR3 */
	if ((r = coffer_resultkey_unwrap(recipient_kx_sk, coord_kx_pk, job, policy,
	    blob.data, blob.len, key)) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "result key: does not unwrap for this "
		    "recipient from the pinned coordinator");
		goto out;
	}
	/* RR4 */
	if ((r = coffer_datakey_id(key, got)) != 0)
		goto out;
	if (memcmp(got, kid, 16) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "result key: its key id is not key_id");
		goto out;
	}
	memcpy(output_key, key, 32);
out:
	coffer_wipe(key, sizeof(key));
	json_decref(root);
	coffer_buf_release(&blob);
	return r;
}
