/* SPDX-License-Identifier: Apache-2.0 */
/* Key wrapping to an X25519 public key with RFC 9180 HPKE: a small secret
 * (a data key) becomes a self-describing blob only the recipient can open,
 * optionally proving which sender made it. Format: doc/format/wrap.md. */
#ifndef COFFER_CRYPTO_WRAP_H
#define COFFER_CRYPTO_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hpke.h"
#include "lib/buf.h"

#define COFFER_WRAP_HEADER_LEN 12
#define COFFER_WRAP_OVERHEAD (COFFER_WRAP_HEADER_LEN + 32 + 16) /* 60 */
#define COFFER_WRAP_MAX_SECRET 1024

/*
 * Wrap key[0..keylen) (1 to 1024 bytes) to the recipient public key pkR.
 * skS: the sender's X25519 secret key for HPKE auth mode, or NULL (base
 * mode). info and aad (may be NULL/0) must be given again to unwrap. The
 * blob (60 + keylen bytes) is appended to out. Uses AES-256-GCM.
 * Errors: COFFER_E_INVAL (lengths), COFFER_E_FORMAT (pkR of small order).
 */
int coffer_wrap(const uint8_t pkR[32], const uint8_t *skS, const uint8_t *info,
    size_t infolen, const uint8_t *aad, size_t aadlen, const uint8_t *key,
    size_t keylen, struct coffer_buf *out) __attribute__((warn_unused_result));

/* The same with the AEAD chosen (COFFER_HPKE_AES256GCM or
 * COFFER_HPKE_CHACHA20POLY1305; anything else is COFFER_E_UNSUPPORTED). */
int coffer_wrap_with(enum coffer_hpke_aead aead, const uint8_t pkR[32],
    const uint8_t *skS, const uint8_t *info, size_t infolen,
    const uint8_t *aad, size_t aadlen, const uint8_t *key, size_t keylen,
    struct coffer_buf *out) __attribute__((warn_unused_result));

/* coffer_wrap with the sender's key decoded once by the caller
 * (crypto/dh.h; NULL: base mode), for a sender that wraps many times
 * with one key: the coordinator's key release. */
int coffer_wrap_key(const uint8_t pkR[32], const struct coffer_dh_key *S,
    const uint8_t *info, size_t infolen, const uint8_t *aad, size_t aadlen,
    const uint8_t *key, size_t keylen, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/*
 * Open a blob with the recipient secret key skR. pkS: the expected sender's
 * X25519 public key (the blob must then be in auth mode and made by that
 * sender), or NULL (the blob must be in base mode). The secret is appended
 * to key (use a secret buffer) only if everything verifies. Errors, in the
 * order checked: doc/format/wrap.md, "What a reader must reject".
 */
int coffer_unwrap(const uint8_t skR[32], const uint8_t *pkS,
    const uint8_t *info, size_t infolen, const uint8_t *aad, size_t aadlen,
    const uint8_t *blob, size_t bloblen, struct coffer_buf *key)
	__attribute__((warn_unused_result));

#endif
