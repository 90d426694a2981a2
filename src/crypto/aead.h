/* SPDX-License-Identifier: Apache-2.0 */
/* Keyed AEAD contexts (AES-256-GCM, ChaCha20-Poly1305) with explicit
 * nonces. INTERNAL to src/crypto: only constructions (the sealed format,
 * HPKE, box) call this, because they own nonce uniqueness. Everything else
 * uses a construction. A context is keyed once and reused for every
 * message, which keeps per-chunk cost at one IV set. */
#ifndef COFFER_CRYPTO_AEAD_H
#define COFFER_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define COFFER_AEAD_KEY_LEN 32 /* AES-256-GCM, ChaCha20-Poly1305 */
#define COFFER_AEAD_KEY_LEN_MAX 32
#define COFFER_AEAD_NONCE_LEN 12
#define COFFER_AEAD_TAG_LEN 16

enum coffer_aead_alg {
	COFFER_AEAD_AES256GCM = 1,
	COFFER_AEAD_CHACHA20POLY1305 = 2,
	/* Only for HPKE's AES-128-GCM suite (aead_id 1) and its test vectors;
	 * Coffer's own formats use 256-bit keys. */
	COFFER_AEAD_AES128GCM = 3,
};

/* The key length of alg in bytes, or 0 for an unknown alg. */
size_t coffer_aead_key_len(enum coffer_aead_alg alg);

struct coffer_aead;

/* Key a new context; the key is copied into OpenSSL's context only.
 * keylen must be coffer_aead_key_len(alg) (else COFFER_E_INVAL). */
int coffer_aead_new(enum coffer_aead_alg alg, const uint8_t *key,
    size_t keylen, struct coffer_aead **out) __attribute__((warn_unused_result));

/* Which directions a context is keyed for (coffer_aead_new_dir). */
#define COFFER_AEAD_ENCRYPT 1
#define COFFER_AEAD_DECRYPT 2
#define COFFER_AEAD_BOTH 3

/* The same for only the directions dirs needs (a sealed-format writer
 * only encrypts, a reader only decrypts): half the key setup of
 * coffer_aead_new for one. The other direction fails with
 * COFFER_E_STATE. */
int coffer_aead_new_dir(enum coffer_aead_alg alg, int dirs,
    const uint8_t *key, size_t keylen, struct coffer_aead **out)
	__attribute__((warn_unused_result));

/* Key a's directions again, under alg (which may differ from the last),
 * with another key: no allocation and no fetch (a sealed-format writer
 * or reader kept from file to file, crypto/sealed.h). The old key
 * schedule is overwritten. On failure a must be keyed again before use. */
int coffer_aead_rekey(struct coffer_aead *a, enum coffer_aead_alg alg,
    const uint8_t *key, size_t keylen) __attribute__((warn_unused_result));

/* ct gets n bytes (ct may equal pt), tag gets COFFER_AEAD_TAG_LEN. */
int coffer_aead_encrypt(struct coffer_aead *a,
    const uint8_t nonce[COFFER_AEAD_NONCE_LEN], const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t n, uint8_t *ct,
    uint8_t tag[COFFER_AEAD_TAG_LEN]) __attribute__((warn_unused_result));

/* pt gets n bytes (pt may equal ct). COFFER_E_AUTH if the tag does not
 * verify; pt's contents are then wiped and must not be used. */
int coffer_aead_decrypt(struct coffer_aead *a,
    const uint8_t nonce[COFFER_AEAD_NONCE_LEN], const uint8_t *aad,
    size_t aadlen, const uint8_t *ct, size_t n,
    const uint8_t tag[COFFER_AEAD_TAG_LEN], uint8_t *pt)
	__attribute__((warn_unused_result));

/* Free (OpenSSL wipes the key schedule). NULL is a no-op. */
void coffer_aead_free(struct coffer_aead *a);

#endif
