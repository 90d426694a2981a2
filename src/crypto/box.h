/* SPDX-License-Identifier: Apache-2.0 */
/* A box: one small message sealed under a 256-bit symmetric key with
 * AES-256-GCM and a random 96-bit nonce. Layout: nonce (12) || ct || tag
 * (16). doc/crypto.md, "Box". For data, use the sealed format instead. */
#ifndef COFFER_CRYPTO_BOX_H
#define COFFER_CRYPTO_BOX_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define COFFER_BOX_KEY_LEN 32
#define COFFER_BOX_NONCE_LEN 12
#define COFFER_BOX_OVERHEAD 28 /* nonce + tag */
#define COFFER_BOX_MAX_MSG ((size_t)16 << 20)

/*
 * Append nonce || ct || tag (n + 28 bytes) to out. aad (may be NULL/0) is
 * authenticated, not stored: give it again to open. n at most 16 MiB
 * (COFFER_E_LIMIT). With random nonces a key must seal at most 2^32 boxes
 * (NIST SP 800-38D section 8.3); give each purpose its own key.
 */
int coffer_box_seal(const uint8_t key[32], const uint8_t *aad, size_t aadlen,
    const uint8_t *msg, size_t n, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/*
 * Verify and decrypt a box; append the message to out (use a secret buffer)
 * only if it authenticates. COFFER_E_TRUNCATED if shorter than 28 bytes,
 * COFFER_E_AUTH if the key, aad or box is wrong; out unchanged then.
 */
int coffer_box_open(const uint8_t key[32], const uint8_t *aad, size_t aadlen,
    const uint8_t *box, size_t n, struct coffer_buf *out)
	__attribute__((warn_unused_result));

#endif
