// SPDX-License-Identifier: Apache-2.0
// The box construction (crypto/box.h): AES-256-GCM, random nonce stored in
// front. The caller never sees or chooses a nonce, so none can be reused
// by mistake; the 2^32 limit per key comes from random 96-bit nonces.
#include <string.h>

#include "coffer/error.h"
#include "crypto/aead.h"
#include "crypto/box.h"
#include "lib/mem.h"
#include "lib/random.h"

int
coffer_box_seal(const uint8_t key[32], const uint8_t *aad, size_t aadlen,
    const uint8_t *msg, size_t n, struct coffer_buf *out)
{
	struct coffer_aead *a = NULL;
	size_t start = out->len;
	uint8_t *w;
	int r;

	if (n > COFFER_BOX_MAX_MSG)
		return coffer_errf(COFFER_E_LIMIT, "box: a message of %zu bytes is "
		    "larger than %zu", n, COFFER_BOX_MAX_MSG);
	if ((r = coffer_buf_reserve(out, n + COFFER_BOX_OVERHEAD, &w)) != 0)
		return r;
	if ((r = coffer_random(w, COFFER_BOX_NONCE_LEN)) != 0)
		goto out;
	if ((r = coffer_aead_new(COFFER_AEAD_AES256GCM, key, COFFER_BOX_KEY_LEN,
	    &a)) != 0 ||
	    (r = coffer_aead_encrypt(a, w, aad, aadlen, msg, n,
	    w + COFFER_BOX_NONCE_LEN, w + COFFER_BOX_NONCE_LEN + n)) != 0)
		goto out;
	coffer_buf_commit(out, n + COFFER_BOX_OVERHEAD);
out:
	if (r != 0)
		out->data[start] = '\0';
	coffer_aead_free(a);
	return r;
}

int
coffer_box_open(const uint8_t key[32], const uint8_t *aad, size_t aadlen,
    const uint8_t *box, size_t n, struct coffer_buf *out)
{
	struct coffer_aead *a = NULL;
	size_t m;
	uint8_t *w;
	int r;

	if (n < COFFER_BOX_OVERHEAD)
		return coffer_errf(COFFER_E_TRUNCATED, "box of %zu bytes is shorter "
		    "than its %d bytes of overhead", n, COFFER_BOX_OVERHEAD);
	m = n - COFFER_BOX_OVERHEAD;
	if (m > COFFER_BOX_MAX_MSG)
		return coffer_errf(COFFER_E_LIMIT, "box of %zu bytes is larger than "
		    "the limit", n);
	if ((r = coffer_buf_reserve(out, m, &w)) != 0)
		return r;
	if ((r = coffer_aead_new(COFFER_AEAD_AES256GCM, key, COFFER_BOX_KEY_LEN,
	    &a)) != 0)
		goto out;
	/* aead.c wipes w if the tag does not verify; nothing is committed. */
	r = coffer_aead_decrypt(a, box, aad, aadlen, box + COFFER_BOX_NONCE_LEN, m,
	    box + COFFER_BOX_NONCE_LEN + m, w);
	if (r == COFFER_E_AUTH)
		r = coffer_errf(COFFER_E_AUTH, "box does not authenticate (wrong key, "
		    "wrong aad, or tampered)");
	if (r == 0)
		coffer_buf_commit(out, m);
out:
	coffer_aead_free(a);
	return r;
}
