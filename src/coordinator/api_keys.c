// SPDX-License-Identifier: Apache-2.0
// POST /v1/keys: an owner's data key upload (doc/protocol/key-release.md
// section 4, rules UP1 to UP7, applied by src/proto). The upload envelope
// is stored as received: the key in it stays wrapped to this
// coordinator's X25519 key on disk, and the signed statement keeps saying
// which owner sent it for which policy.
#include <string.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/coord.h"
#include "crypto/hash.h"
#include "lib/enc.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "proto/keyrelease.h"
#include "proto/signed.h"

/* The `key-upload` event (doc/format/audit-log.md section 3): who sent
 * which key id under which policy, and the hash of the wrapped blob; never
 * the key. */
static int
log_upload(struct coord *c, const struct coffer_policy *p,
    const struct coffer_keyupload *up, const char *body, size_t len)
{
	struct coffer_buf wrapped = COFFER_BUF_INIT(1024);
	const char *w;
	char ph[65], sh[65], kh[33], wh[65];
	uint8_t h[32];
	json_t *env, *ev = NULL;
	int e;

	if ((env = json_loadb(body, len, 0, NULL)) == NULL ||
	    (w = json_string_value(json_object_get(json_object_get(env,
	    "statement"), "wrapped"))) == NULL) {
		json_decref(env);
		return coffer_errf(COFFER_E_INTERNAL, "upload: no wrapped member");
	}
	if ((e = coffer_b64url_decode_buf(w, strlen(w), &wrapped)) != 0 ||
	    (e = coffer_sha256(wrapped.data, wrapped.len, h)) != 0)
		goto out;
	coffer_hex_encode(p->hash, 32, ph);
	coffer_hex_encode(p->owners[up->owner].fingerprint, 32, sh);
	coffer_hex_encode(up->key_id, 16, kh);
	coffer_hex_encode(h, 32, wh);
	if ((ev = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "key-upload",
	    "policy", ph, "signer", sh, "key_id", kh, "wrapped_sha256", wh)) == NULL) {
		e = COFFER_E_NOMEM;
		goto out;
	}
	e = coord_audit_append(c->st, ev, NULL);
out:
	json_decref(ev);
	json_decref(env);
	coffer_buf_release(&wrapped);
	return e;
}

void
api_key_upload(struct http_req *r)
{
	struct coord *c = r->ctx;
	const struct coffer_policy *p;
	struct coffer_keyupload up;
	uint8_t h[32];
	char ph[65], kh[33], sh[65];
	int e;

	memset(&up, 0, sizeof(up));
	if (coord_seen_head(r, NULL) != 0)
		return;
	/* Which policy to check it against: none (NULL) when the statement
	 * names no policy this coordinator knows, so that a malformed upload
	 * is request.malformed (UP1) before it is policy.unknown (UP2). */
	p = NULL;
	if (coffer_signed_peek_policy(r->body, r->body_len, h) == 0 &&
	    (e = coord_book_get(c->book, h, &p)) != 0 && e != COFFER_E_NOTFOUND) {
		http_reply_coffer_err(r, e);
		return;
	}
	/* UP1 to UP7 */
	if ((e = coffer_keyupload_verify(p, r->body, r->body_len, c->id.kx_sk,
	    &up)) != 0) {
		coord_refuse_err(r, e, e == COFFER_E_FORMAT || e == COFFER_E_VERSION ||
		    e == COFFER_E_LIMIT ? "request.malformed" :
		    e == COFFER_E_UNTRUSTED ? "signer.unknown" :
		    e == COFFER_E_SIGNATURE ? "signature.invalid" :
		    e == COFFER_E_POLICY ? "upload.not_owner" :
		    e == COFFER_E_AUTH ? "upload.bad_wrap" :
		    e == COFFER_E_WRONG_KEY ? "upload.wrong_key" : NULL);
		return;
	}
	if ((e = coord_state_begin(c->st)) == 0) {
		e = coord_state_key_put(c->st, up.key_id, p->hash,
		    p->owners[up.owner].fingerprint, r->body, r->body_len);
		if (e != 0 || (e = log_upload(c, p, &up, r->body, r->body_len)) != 0 ||
		    (e = coord_state_commit(c->st)) != 0)
			coord_state_rollback(c->st);
	}
	if (e == 0 || e == COFFER_E_EXISTS)
		e = coord_keycache_put(c->keys, up.key_id, up.key);
	coffer_wipe(up.key, sizeof(up.key));
	if (e != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	coffer_hex_encode(p->hash, 32, ph);
	coffer_hex_encode(up.key_id, 16, kh);
	coffer_hex_encode(p->owners[up.owner].fingerprint, 32, sh);
	coffer_logkv(COFFER_LOG_INFO, "key stored", "policy", ph, "key_id", kh,
	    "signer", sh, NULL);
	/* Uploading the same key again changes nothing and answers the same. */
	http_reply_json(r, 200, json_pack("{s:s, s:s, s:b}", "policy", ph,
	    "key_id", kh, "stored", 1));
}
