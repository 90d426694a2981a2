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

/* HMAC-SHA-256 keyed once for many messages (crypto/hash.h). */
struct coffer_hmac {
	EVP_MAC_CTX *ctx;
	int keyed;     /* a key was set */
	int started;   /* a message is under way (its key set or reset) */
};

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256, *sha384, *sha512;
static EVP_MAC_CTX *hmac256;  /* HMAC with SHA-256 set, no key: the template */
/* Each thread's own struct coffer_hmac made from the template, keyed again
 * at every one-shot use (a new context per MAC cost as much as the MAC);
 * freed, which wipes it, when the thread ends. */
static pthread_key_t hmac_key;
static int hmac_key_ok;

static void
hmac_thread_free(void *h)
{
	coffer_hmac_free(h);
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
	hmac_key_ok = pthread_key_create(&hmac_key, hmac_thread_free) == 0;
}

int
coffer_hmac_new(struct coffer_hmac **out)
{
	struct coffer_hmac *h;

	pthread_once(&fetch_once, fetch);
	if (hmac256 == NULL)
		return coffer_errf(COFFER_E_CRYPTO, "HMAC-SHA256 unavailable");
	if ((h = coffer_calloc(1, sizeof(*h))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "HMAC context");
	if ((h->ctx = EVP_MAC_CTX_dup(hmac256)) == NULL) {
		free(h);
		return coffer_errf(COFFER_E_CRYPTO, "HMAC context");
	}
	*out = h;
	return 0;
}

void
coffer_hmac_free(struct coffer_hmac *h)
{
	if (h == NULL)
		return;
	EVP_MAC_CTX_free(h->ctx);  /* OpenSSL wipes the key */
	free(h);
}

int
coffer_hmac_key(struct coffer_hmac *h, const uint8_t *key, size_t keylen)
{
	static const uint8_t empty[1];

	/* A key (OpenSSL refuses a NULL one even when empty) resets the
	 * context: nothing of the previous MAC is left in the result. */
	h->keyed = h->started = 0;
	if (EVP_MAC_init(h->ctx, keylen > 0 ? key : empty, keylen, NULL) != 1)
		return coffer_errf(COFFER_E_CRYPTO, "HMAC-SHA256 key setup failed");
	h->keyed = h->started = 1;
	return 0;
}

/* Start the next message under the same key: OpenSSL copies the keyed
 * inner state instead of hashing the padded key again. */
static int
hmac_start(struct coffer_hmac *h)
{
	if (!h->keyed)
		return coffer_errf(COFFER_E_STATE, "HMAC context has no key");
	if (!h->started) {
		if (EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1) {
			h->keyed = 0;
			return coffer_errf(COFFER_E_CRYPTO, "HMAC-SHA256 failed");
		}
		h->started = 1;
	}
	return 0;
}

int
coffer_hmac_update(struct coffer_hmac *h, const void *p, size_t n)
{
	int r;

	if ((r = hmac_start(h)) != 0)
		return r;
	if (n > 0 && EVP_MAC_update(h->ctx, p, n) != 1) {
		h->keyed = 0;
		return coffer_errf(COFFER_E_CRYPTO, "HMAC-SHA256 failed");
	}
	return 0;
}

int
coffer_hmac_final(struct coffer_hmac *h, uint8_t out[COFFER_SHA256_LEN])
{
	size_t len = 0;
	int r;

	if ((r = hmac_start(h)) != 0)
		return r;
	h->started = 0;
	if (EVP_MAC_final(h->ctx, out, &len, COFFER_SHA256_LEN) != 1 ||
	    len != COFFER_SHA256_LEN) {
		h->keyed = 0;
		return coffer_errf(COFFER_E_CRYPTO, "HMAC-SHA256 failed");
	}
	return 0;
}

struct coffer_hmac *
coffer_hmac_thread(void)
{
	struct coffer_hmac *h;

	pthread_once(&fetch_once, fetch);
	if (!hmac_key_ok)
		return NULL;
	if ((h = pthread_getspecific(hmac_key)) != NULL)
		return h;
	if (coffer_hmac_new(&h) != 0)
		return NULL;
	if (pthread_setspecific(hmac_key, h) != 0) {
		coffer_hmac_free(h);
		return NULL;
	}
	return h;
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
	struct coffer_hmac *h = coffer_hmac_thread();

	if (h == NULL || coffer_hmac_key(h, key, keylen) != 0 ||
	    coffer_hmac_update(h, p, n) != 0 || coffer_hmac_final(h, out) != 0)
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
