/* SPDX-License-Identifier: Apache-2.0 */
/* Key pairs whose secret key is 32 random bytes (X25519, Ed25519): one
 * place that draws the secret, derives the public key and wipes. */
#ifndef COFFER_CRYPTO_KEYGEN_H
#define COFFER_CRYPTO_KEYGEN_H

#include <stdint.h>

/*
 * sk = 32 bytes from coffer_random(), pk = public_of(sk). sk and pk are written
 * only on success; the local copy of the secret is wiped. Errors:
 * COFFER_E_CRYPTO if coffer_random() fails, else whatever public_of returns.
 */
int coffer_keygen32(int (*public_of)(const uint8_t sk[32], uint8_t pk[32]),
    uint8_t sk[32], uint8_t pk[32]) __attribute__((warn_unused_result));

#endif
