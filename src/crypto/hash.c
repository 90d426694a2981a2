// SPDX-License-Identifier: Apache-2.0
// Hashes over OpenSSL's EVP interface (crypto/hash.h).
//
// The algorithms are fetched from OpenSSL's default provider once per
// process: OpenSSL 3 otherwise looks each one up again, under its locks, on
// every call, which cost more than hashing the 200 bytes of an item proof
// (BENCHMARKS.md, "Coordinator ledger").
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/mem.h"

struct coffer_hash {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	size_t len;
};

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256, *sha384, *sha512;
static EVP_MAC_CTX *hmac256;  /* HMAC with SHA-256 set, no key: the template */
/* Each thread's own copy of the template, keyed again at every use (a new
 * context per MAC cost as much as the MAC); freed, which wipes it, when
 * the thread ends. */
static pthread_key_t hmac_key;
static int hmac_key_ok;

static void
hmac_ctx_free(void *ctx)
{
	EVP_MAC_CTX_free(ctx);
}

static void
fetch(void)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	if (mac != NULL && (hmac256 = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_CTX_set_params(hmac256, params) != 1) {
		EVP_MAC_CTX_free(hmac256);
		hmac256 = NULL;
	}
	EVP_MAC_free(mac);  /* the context keeps its own reference */
	hmac_key_ok = pthread_key_create(&hmac_key, hmac_ctx_free) == 0;
}

/* This thread's HMAC-SHA-256 context, or NULL. */
static EVP_MAC_CTX *
hmac_ctx(void)
{
	EVP_MAC_CTX *ctx;

	pthread_once(&fetch_once, fetch);
	if (hmac256 == NULL || !hmac_key_ok)
		return NULL;
	if ((ctx = pthread_getspecific(hmac_key)) != NULL)
		return ctx;
	if ((ctx = EVP_MAC_CTX_dup(hmac256)) != NULL &&
	    pthread_setspecific(hmac_key, ctx) != 0) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* NULL when OpenSSL has not the algorithm (callers then fail). */
static const EVP_MD *
md_of(enum coffer_hash_alg alg)
{
	pthread_once(&fetch_once, fetch);
	switch (alg) {
	case COFFER_HASH_SHA256: return sha256;
	case COFFER_HASH_SHA384: return sha384;
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
	if (md == NULL || EVP_Digest(p, n, out, NULL, md, NULL) != 1)
		return coffer_errf(COFFER_E_CRYPTO, "EVP_Digest failed");
	return 0;
}

int
coffer_sha256(const void *p, size_t n, uint8_t out[COFFER_SHA256_LEN])
{
	return digest(md_of(COFFER_HASH_SHA256), p, n, out);
}

int
coffer_sha384(const void *p, size_t n, uint8_t out[COFFER_SHA384_LEN])
{
	return digest(md_of(COFFER_HASH_SHA384), p, n, out);
}

int
coffer_sha512(const void *p, size_t n, uint8_t out[COFFER_SHA512_LEN])
{
	pthread_once(&fetch_once, fetch);
	return digest(sha512, p, n, out);
}

int
coffer_hmac_sha256(const uint8_t *key, size_t keylen, const void *p, size_t n,
    uint8_t out[COFFER_SHA256_LEN])
{
	static const uint8_t empty[1];
	EVP_MAC_CTX *ctx;
	size_t len = 0;
	int ok;

	if ((ctx = hmac_ctx()) == NULL)
		return coffer_errf(COFFER_E_CRYPTO, "HMAC-SHA256 failed");
	/* A key (OpenSSL refuses a NULL one even when empty) resets the
	 * context: nothing of the previous MAC is left in the result. */
	ok = EVP_MAC_init(ctx, keylen > 0 ? key : empty, keylen, NULL) == 1 &&
	    EVP_MAC_update(ctx, p, n) == 1 &&
	    EVP_MAC_final(ctx, out, &len, COFFER_SHA256_LEN) == 1 &&
	    len == COFFER_SHA256_LEN;
	if (!ok)
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
	h->md = md;
	h->len = coffer_hash_len(alg);
	*out = h;
	return 0;
}

int
coffer_hash_reset(struct coffer_hash *h)
{
	/* The same algorithm on the same context: OpenSSL keeps it. */
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1)
		return coffer_errf(COFFER_E_CRYPTO, "EVP_DigestInit failed");
	return 0;
}

int
coffer_hash_once(struct coffer_hash *h, const void *p, size_t n, uint8_t *out,
    size_t outlen)
{
	int r;

	if ((r = coffer_hash_reset(h)) != 0 || (r = coffer_hash_update(h, p, n)) != 0)
		return r;
	return coffer_hash_final(h, out, outlen);
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
