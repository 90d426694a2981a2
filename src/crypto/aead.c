// SPDX-License-Identifier: Apache-2.0
// Keyed AEAD contexts over OpenSSL EVP (crypto/aead.h). AES-256-GCM and
// ChaCha20-Poly1305 (RFC 8439), and AES-128-GCM for HPKE's suite 1;
// 96-bit nonces, 128-bit tags. The ciphers are fetched from OpenSSL's
// default provider once per process (as in hash.c), not at every key.
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "coffer/error.h"
#include "crypto/aead.h"
#include "lib/mem.h"

struct coffer_aead {
	enum coffer_aead_alg alg;
	EVP_CIPHER_CTX *enc;   /* NULL in a decrypt-only context */
	EVP_CIPHER_CTX *dec;   /* NULL in an encrypt-only context */
};

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes256gcm, *chacha, *aes128gcm;

static void
fetch(void)
{
	aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
}

/* NULL for an unknown algorithm or one OpenSSL has not. */
static const EVP_CIPHER *
cipher_of(enum coffer_aead_alg alg)
{
	pthread_once(&fetch_once, fetch);
	switch (alg) {
	case COFFER_AEAD_AES256GCM: return aes256gcm;
	case COFFER_AEAD_CHACHA20POLY1305: return chacha;
	case COFFER_AEAD_AES128GCM: return aes128gcm;
	}
	return NULL;
}

size_t
coffer_aead_key_len(enum coffer_aead_alg alg)
{
	switch (alg) {
	case COFFER_AEAD_AES256GCM:
	case COFFER_AEAD_CHACHA20POLY1305:
		return 32;
	case COFFER_AEAD_AES128GCM:
		return 16;
	}
	return 0;
}

/* Key a's contexts with key under alg (the cipher given only when it
 * changes: OpenSSL then keeps the context's allocation). */
static int
key_ctxs(struct coffer_aead *a, enum coffer_aead_alg alg, const uint8_t *key,
    size_t keylen)
{
	const EVP_CIPHER *c = cipher_of(alg);

	if (c == NULL)
		return coffer_errf(COFFER_E_UNSUPPORTED, "AEAD algorithm %d", alg);
	if (keylen != coffer_aead_key_len(alg))
		return coffer_errf(COFFER_E_INVAL, "AEAD key of %zu bytes, want %zu",
		    keylen, coffer_aead_key_len(alg));
	if (alg == a->alg)
		c = NULL;
	if ((a->enc != NULL && EVP_EncryptInit_ex(a->enc, c, NULL, key, NULL) != 1) ||
	    (a->dec != NULL && EVP_DecryptInit_ex(a->dec, c, NULL, key, NULL) != 1)) {
		a->alg = 0;   /* the next key gives the cipher again */
		return coffer_errf(COFFER_E_CRYPTO, "AEAD key setup failed");
	}
	a->alg = alg;
	return 0;
}

int
coffer_aead_new_dir(enum coffer_aead_alg alg, int dirs, const uint8_t *key,
    size_t keylen, struct coffer_aead **out)
{
	struct coffer_aead *a;
	int r;

	if ((dirs & COFFER_AEAD_BOTH) == 0 || (dirs & ~COFFER_AEAD_BOTH) != 0)
		return coffer_errf(COFFER_E_INVAL, "AEAD directions %d", dirs);
	if ((a = coffer_calloc(1, sizeof(*a))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "AEAD context");
	/* Key each direction once; each message then only sets its IV. */
	if (((dirs & COFFER_AEAD_ENCRYPT) && (a->enc = EVP_CIPHER_CTX_new()) == NULL) ||
	    ((dirs & COFFER_AEAD_DECRYPT) && (a->dec = EVP_CIPHER_CTX_new()) == NULL)) {
		coffer_aead_free(a);
		return coffer_errf(COFFER_E_NOMEM, "AEAD context");
	}
	if ((r = key_ctxs(a, alg, key, keylen)) != 0) {
		coffer_aead_free(a);
		return r;
	}
	*out = a;
	return 0;
}

int
coffer_aead_new(enum coffer_aead_alg alg, const uint8_t *key, size_t keylen,
    struct coffer_aead **out)
{
	return coffer_aead_new_dir(alg, COFFER_AEAD_BOTH, key, keylen, out);
}

int
coffer_aead_rekey(struct coffer_aead *a, enum coffer_aead_alg alg,
    const uint8_t *key, size_t keylen)
{
	return key_ctxs(a, alg, key, keylen);
}

void
coffer_aead_free(struct coffer_aead *a)
{
	if (a == NULL)
		return;
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	free(a);
}

/* EVP takes int lengths; feed large inputs in pieces. */
#define STEP (1 << 30)

int
coffer_aead_encrypt(struct coffer_aead *a,
    const uint8_t nonce[COFFER_AEAD_NONCE_LEN], const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t n, uint8_t *ct,
    uint8_t tag[COFFER_AEAD_TAG_LEN])
{
	int outl;

	if (a->enc == NULL)
		return coffer_errf(COFFER_E_STATE, "AEAD context is decrypt-only");
	if (EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, nonce) != 1)
		goto fail;
	for (size_t o = 0; o < aadlen; o += STEP) {
		size_t k = aadlen - o < STEP ? aadlen - o : STEP;

		if (EVP_EncryptUpdate(a->enc, NULL, &outl, aad + o, (int)k) != 1)
			goto fail;
	}
	for (size_t o = 0; o < n; o += STEP) {
		size_t k = n - o < STEP ? n - o : STEP;

		if (EVP_EncryptUpdate(a->enc, ct + o, &outl, pt + o, (int)k) != 1)
			goto fail;
	}
	/* GCM and ChaCha20-Poly1305 write nothing at Final; never form
	 * NULL + 0 when a caller passes no buffer for an empty message. */
	if (EVP_EncryptFinal_ex(a->enc, n > 0 ? ct + n : ct, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_AEAD_GET_TAG,
	    COFFER_AEAD_TAG_LEN, tag) != 1)
		goto fail;
	return 0;
fail:
	return coffer_errf(COFFER_E_CRYPTO, "AEAD encryption failed");
}

int
coffer_aead_decrypt(struct coffer_aead *a,
    const uint8_t nonce[COFFER_AEAD_NONCE_LEN], const uint8_t *aad,
    size_t aadlen, const uint8_t *ct, size_t n,
    const uint8_t tag[COFFER_AEAD_TAG_LEN], uint8_t *pt)
{
	uint8_t tagcopy[COFFER_AEAD_TAG_LEN];
	int outl;

	if (a->dec == NULL) {
		coffer_wipe(pt, n);
		return coffer_errf(COFFER_E_STATE, "AEAD context is encrypt-only");
	}
	for (int i = 0; i < COFFER_AEAD_TAG_LEN; i++)
		tagcopy[i] = tag[i];
	if (EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, nonce) != 1)
		goto fail;
	for (size_t o = 0; o < aadlen; o += STEP) {
		size_t k = aadlen - o < STEP ? aadlen - o : STEP;

		if (EVP_DecryptUpdate(a->dec, NULL, &outl, aad + o, (int)k) != 1)
			goto fail;
	}
	for (size_t o = 0; o < n; o += STEP) {
		size_t k = n - o < STEP ? n - o : STEP;

		if (EVP_DecryptUpdate(a->dec, pt + o, &outl, ct + o, (int)k) != 1)
			goto fail;
	}
	if (EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_AEAD_SET_TAG,
	    COFFER_AEAD_TAG_LEN, tagcopy) != 1)
		goto fail;
	if (EVP_DecryptFinal_ex(a->dec, n > 0 ? pt + n : pt, &outl) != 1) {
		/* Never let unauthenticated plaintext escape. */
		coffer_wipe(pt, n);
		return coffer_errf(COFFER_E_AUTH, "AEAD tag mismatch");
	}
	return 0;
fail:
	coffer_wipe(pt, n);
	return coffer_errf(COFFER_E_CRYPTO, "AEAD decryption failed");
}
