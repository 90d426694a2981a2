// SPDX-License-Identifier: Apache-2.0
// Hashes over OpenSSL's EVP interface (crypto/hash.h).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/mem.h"

struct coffer_hash {
	EVP_MD_CTX *ctx;
	size_t len;
};

static const EVP_MD *
md_of(enum coffer_hash_alg alg)
{
	switch (alg) {
	case COFFER_HASH_SHA256: return EVP_sha256();
	case COFFER_HASH_SHA384: return EVP_sha384();
	}
	return NULL;
}

size_t
coffer_hash_len(enum coffer_hash_alg alg)
{
	return alg == COFFER_HASH_SHA256 ? COFFER_SHA256_LEN :
	    alg == COFFER_HASH_SHA384 ? COFFER_SHA384_LEN : 0;
}

static int
digest(const EVP_MD *md, const void *p, size_t n, uint8_t *out)
{
	if (EVP_Digest(p, n, out, NULL, md, NULL) != 1)
		return coffer_errf(COFFER_E_CRYPTO, "EVP_Digest failed");
	return 0;
}

int
coffer_sha256(const void *p, size_t n, uint8_t out[COFFER_SHA256_LEN])
{
	return digest(EVP_sha256(), p, n, out);
}

int
coffer_sha384(const void *p, size_t n, uint8_t out[COFFER_SHA384_LEN])
{
	return digest(EVP_sha384(), p, n, out);
}

int
coffer_sha512(const void *p, size_t n, uint8_t out[COFFER_SHA512_LEN])
{
	return digest(EVP_sha512(), p, n, out);
}

int
coffer_hmac_sha256(const uint8_t *key, size_t keylen, const void *p, size_t n,
    uint8_t out[COFFER_SHA256_LEN])
{
	unsigned int len = COFFER_SHA256_LEN;

	if (keylen > INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, p, n, out, &len) == NULL)
		return coffer_errf(COFFER_E_CRYPTO, "HMAC-SHA256 failed");
	return 0;
}

int
coffer_hash_new(enum coffer_hash_alg alg, struct coffer_hash **out)
{
	struct coffer_hash *h;
	const EVP_MD *md = md_of(alg);

	if (md == NULL)
		return coffer_errf(COFFER_E_INVAL, "unknown hash algorithm %d", alg);
	if ((h = coffer_calloc(1, sizeof(*h))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "hash context");
	if ((h->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
		coffer_hash_free(h);
		return coffer_errf(COFFER_E_CRYPTO, "EVP_DigestInit failed");
	}
	h->len = coffer_hash_len(alg);
	*out = h;
	return 0;
}

int
coffer_hash_update(struct coffer_hash *h, const void *p, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(h->ctx, p, n) != 1)
		return coffer_errf(COFFER_E_CRYPTO, "EVP_DigestUpdate failed");
	return 0;
}

int
coffer_hash_final(struct coffer_hash *h, uint8_t *out, size_t outlen)
{
	if (outlen != h->len)
		return coffer_errf(COFFER_E_INVAL, "digest length %zu, want %zu",
		    outlen, h->len);
	if (EVP_DigestFinal_ex(h->ctx, out, NULL) != 1)
		return coffer_errf(COFFER_E_CRYPTO, "EVP_DigestFinal failed");
	return 0;
}

void
coffer_hash_free(struct coffer_hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}
