// SPDX-License-Identifier: Apache-2.0
// Ed25519 over OpenSSL 3 EVP (crypto/sign.h). OpenSSL's verifier follows
// RFC 8032 section 5.1.7 and rejects S >= L (checked by the Wycheproof
// SignatureMalleability vectors in tests/unit/test_crypto_sign.c); the
// explicit check below makes that independent of the OpenSSL version.
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "coffer/error.h"
#include "crypto/keygen.h"
#include "crypto/sign.h"
#include "lib/mem.h"

static int
load_secret(const uint8_t sk[32], EVP_PKEY **out)
{
	if ((*out = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk,
	    COFFER_SIGN_SK_LEN)) == NULL) {
		ERR_clear_error();
		return coffer_errf(COFFER_E_CRYPTO, "Ed25519: loading the secret key "
		    "failed");
	}
	return 0;
}

int
coffer_sign_public(const uint8_t sk[32], uint8_t pk[32])
{
	EVP_PKEY *k = NULL;
	size_t len = COFFER_SIGN_PK_LEN;
	int r;

	if ((r = load_secret(sk, &k)) != 0)
		return r;
	if (EVP_PKEY_get_raw_public_key(k, pk, &len) != 1 ||
	    len != COFFER_SIGN_PK_LEN) {
		ERR_clear_error();
		r = coffer_errf(COFFER_E_CRYPTO, "Ed25519: public key derivation "
		    "failed");
	}
	EVP_PKEY_free(k);
	return r;
}

int
coffer_sign_keygen(uint8_t sk[32], uint8_t pk[32])
{
	/* RFC 8032 section 5.1.5: the private key is 32 random bytes. */
	return coffer_keygen32(coffer_sign_public, sk, pk);
}

int
coffer_sign(const uint8_t sk[32], const void *msg, size_t n, uint8_t sig[64])
{
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *ctx = NULL;
	uint8_t s[COFFER_SIGN_SIG_LEN];
	size_t len = sizeof(s);
	int r;

	if ((r = load_secret(sk, &k)) != 0)
		return r;
	/* EVP_DigestSign wants a non-NULL pointer even for an empty message. */
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(ctx, s, &len, n > 0 ? msg : (const void *)"", n) != 1 ||
	    len != sizeof(s)) {
		ERR_clear_error();
		r = coffer_errf(COFFER_E_CRYPTO, "Ed25519 signing failed");
		goto out;
	}
	memcpy(sig, s, sizeof(s));
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return r;
}

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t ed25519_l[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2,
	0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* 1 if the little-endian S is < L. S is public: no need for constant time. */
static int
s_is_reduced(const uint8_t *s)
{
	for (int i = 31; i >= 0; i--) {
		if (s[i] != ed25519_l[i])
			return s[i] < ed25519_l[i];
	}
	return 0;
}

int
coffer_sign_verify(const uint8_t pk[32], const void *msg, size_t n,
    const uint8_t *sig, size_t siglen)
{
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *ctx = NULL;
	int r = 0, v;

	if (siglen != COFFER_SIGN_SIG_LEN)
		return coffer_errf(COFFER_E_SIGNATURE,
		    "Ed25519 signature of %zu bytes, want %d", siglen,
		    COFFER_SIGN_SIG_LEN);
	/* RFC 8032 section 5.1.7 step 1: S must be in [0, L). */
	if (!s_is_reduced(sig + 32))
		return coffer_errf(COFFER_E_SIGNATURE,
		    "Ed25519 signature is not canonical (S >= L)");
	if ((k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk,
	    COFFER_SIGN_PK_LEN)) == NULL) {
		r = coffer_errf(COFFER_E_SIGNATURE, "Ed25519 public key rejected");
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) != 1) {
		r = coffer_errf(COFFER_E_CRYPTO, "Ed25519 verifier setup failed");
		goto out;
	}
	v = EVP_DigestVerify(ctx, sig, siglen, n > 0 ? msg : (const void *)"", n);
	if (v != 1)
		r = coffer_errf(COFFER_E_SIGNATURE, "Ed25519 signature does not "
		    "verify");
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return r;
}

#define SIG_PREFIX "coffer-sig-v1"

/* The labelled message: "coffer-sig-v1" 0 label 0 msg, in a new buffer. */
static int
labeled(const char *label, const void *msg, size_t n, uint8_t **out,
    size_t *outlen)
{
	size_t ll = strnlen(label, COFFER_SIGN_LABEL_MAX + 1), pl, total;
	uint8_t *m;

	if (ll == 0 || ll > COFFER_SIGN_LABEL_MAX)
		return coffer_errf(COFFER_E_INVAL, "signature label of %zu "
		    "characters (want 1 to %d)", ll, COFFER_SIGN_LABEL_MAX);
	for (size_t i = 0; i < ll; i++) {
		char c = label[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '/' || c == '-'))
			return coffer_errf(COFFER_E_INVAL, "signature label: character "
			    "0x%02x at %zu is not allowed", (unsigned char)c, i);
	}
	pl = sizeof(SIG_PREFIX) + ll + 1; /* both NULs included */
	if (n > SIZE_MAX - pl)
		return coffer_errf(COFFER_E_LIMIT, "message too long to sign");
	total = pl + n;
	if ((m = coffer_malloc(total)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "labelled message of %zu bytes",
		    total);
	memcpy(m, SIG_PREFIX, sizeof(SIG_PREFIX)); /* with its NUL */
	memcpy(m + sizeof(SIG_PREFIX), label, ll);
	m[sizeof(SIG_PREFIX) + ll] = 0;
	if (n > 0)
		memcpy(m + pl, msg, n);
	*out = m;
	*outlen = total;
	return 0;
}

int
coffer_sign_labeled(const uint8_t sk[32], const char *label, const void *msg,
    size_t n, uint8_t sig[64])
{
	uint8_t *m = NULL;
	size_t mlen = 0;
	int r;

	if ((r = labeled(label, msg, n, &m, &mlen)) != 0)
		return r;
	r = coffer_sign(sk, m, mlen, sig);
	coffer_free_secret(m, mlen);
	return r;
}

int
coffer_sign_verify_labeled(const uint8_t pk[32], const char *label,
    const void *msg, size_t n, const uint8_t *sig, size_t siglen)
{
	uint8_t *m = NULL;
	size_t mlen = 0;
	int r;

	if ((r = labeled(label, msg, n, &m, &mlen)) != 0)
		return r;
	r = coffer_sign_verify(pk, m, mlen, sig, siglen);
	free(m);
	return r;
}
