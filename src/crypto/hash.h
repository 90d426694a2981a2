/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256, SHA-384 and HMAC-SHA256, one-shot and streaming. */
#ifndef COFFER_CRYPTO_HASH_H
#define COFFER_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define COFFER_SHA256_LEN 32
#define COFFER_SHA384_LEN 48
#define COFFER_SHA512_LEN 64

enum coffer_hash_alg {
	COFFER_HASH_SHA256 = 1,
	COFFER_HASH_SHA384 = 2,
};

int coffer_sha256(const void *p, size_t n, uint8_t out[COFFER_SHA256_LEN])
	__attribute__((warn_unused_result));
int coffer_sha384(const void *p, size_t n, uint8_t out[COFFER_SHA384_LEN])
	__attribute__((warn_unused_result));
/* SHA-512 (report data bindings: doc/format/evidence.md, PLAN-fixed
 * coordinator identity binding). */
int coffer_sha512(const void *p, size_t n, uint8_t out[COFFER_SHA512_LEN])
	__attribute__((warn_unused_result));
int coffer_hmac_sha256(const uint8_t *key, size_t keylen, const void *p,
    size_t n, uint8_t out[COFFER_SHA256_LEN]) __attribute__((warn_unused_result));

/*
 * HMAC-SHA-256 keyed once for many messages: _key starts a message under
 * a new key, _update adds to it, _final ends it; the next _update or
 * _final starts the next message under the same key from its keyed state
 * (no hashing of the padded key again: HKDF-Expand's blocks, kdf.h).
 * Errors: COFFER_E_STATE (no key yet, or a failure since the last key),
 * COFFER_E_NOMEM, COFFER_E_CRYPTO. _free wipes.
 */
struct coffer_hmac;
int coffer_hmac_new(struct coffer_hmac **out) __attribute__((warn_unused_result));
int coffer_hmac_key(struct coffer_hmac *h, const uint8_t *key, size_t keylen)
	__attribute__((warn_unused_result));
int coffer_hmac_update(struct coffer_hmac *h, const void *p, size_t n)
	__attribute__((warn_unused_result));
int coffer_hmac_final(struct coffer_hmac *h, uint8_t out[COFFER_SHA256_LEN])
	__attribute__((warn_unused_result));
void coffer_hmac_free(struct coffer_hmac *h);
/* For src/crypto's one-shot functions only (coffer_hmac_sha256, HKDF):
 * this thread's context, which each of them keys again; a caller must
 * not hold it across any of them. NULL on failure. */
struct coffer_hmac *coffer_hmac_thread(void);

/* Streaming: new, update any number of times, final once, free. */
struct coffer_hash;
int coffer_hash_new(enum coffer_hash_alg alg, struct coffer_hash **out)
	__attribute__((warn_unused_result));
int coffer_hash_update(struct coffer_hash *h, const void *p, size_t n)
	__attribute__((warn_unused_result));
/* outlen must be the algorithm's digest length. */
int coffer_hash_final(struct coffer_hash *h, uint8_t *out, size_t outlen)
	__attribute__((warn_unused_result));
void coffer_hash_free(struct coffer_hash *h);
/* Start h again (after a final, or to drop what was hashed): a context
 * kept for many messages costs no allocation or fetch per message. */
int coffer_hash_reset(struct coffer_hash *h) __attribute__((warn_unused_result));
/* Reset, update with p[0..n), final: the one-shot digest on a kept
 * context (the same bytes as coffer_sha256). */
int coffer_hash_once(struct coffer_hash *h, const void *p, size_t n,
    uint8_t *out, size_t outlen) __attribute__((warn_unused_result));
size_t coffer_hash_len(enum coffer_hash_alg alg);

#endif
