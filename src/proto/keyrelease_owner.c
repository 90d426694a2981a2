// SPDX-License-Identifier: Apache-2.0
// Key upload and result keys (doc/protocol/key-release.md), the owner's
// side: the key upload statement (section 4) and the opening of a result
// key answer (section 7).
#include <string.h>

#include "coffer/error.h"
#include "crypto/datakey.h"
#include "crypto/wrap.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/jfield.h"
#include "proto/keyrelease.h"
#include "proto/keyrelease_int.h"
#include "proto/signed.h"

/* ---- Key upload ---- */

int
coffer_keyupload_make(const struct coffer_identity *owner, const uint8_t h[32],
    const uint8_t key_id[16], const uint8_t key[32], const uint8_t coord_kx_pk[32],
    struct coffer_buf *out)
{
	struct coffer_buf blob = COFFER_BUF_INIT(256), b64 = COFFER_BUF_INIT(512);
	char hh[65], kid[33], fp[COFFER_ID_FINGERPRINT_HEX];
	uint8_t info[96];
	size_t infolen = keyrelease_upload_info(info, h, key_id);
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

/* ---- Result keys ---- */

int
coffer_resultkey_unwrap(const uint8_t recipient_kx_sk[32],
    const uint8_t coord_kx_pk[32], const uint8_t job[16], const uint8_t policy[32],
    const uint8_t *blob, size_t n, uint8_t output_key[32])
{
	struct coffer_buf k = COFFER_BUF_INIT_SECRET(64);
	uint8_t info[96];
	int r;

	r = coffer_unwrap(recipient_kx_sk, coord_kx_pk, info,
	    keyrelease_result_info(info, job, policy), NULL, 0, blob, n,
	    &k);
	if (r == 0 && k.len != 32)
		r = coffer_errf(COFFER_E_FORMAT, "a result key is 32 bytes");
	if (r == 0)
		memcpy(output_key, k.data, 32);
	coffer_buf_release_secret(&k);
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
