/* SPDX-License-Identifier: Apache-2.0 */
/* Shamir's secret sharing of a 32-byte secret over GF(2^8) (polynomial
 * 0x11B), byte-wise, with x-coordinates 1..n: any k shares rebuild the
 * secret, fewer say nothing about it. doc/format/recovery.md section 2. */
#ifndef COFFER_CRYPTO_SHAMIR_H
#define COFFER_CRYPTO_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#define COFFER_SHAMIR_LEN 32         /* secret and share value length */
#define COFFER_SHAMIR_MAX_SHARES 32

/*
 * Split secret into n shares (1 <= k <= n <= 32): shares[i] is the value
 * of x = i + 1. Random coefficients come from coffer_random. The caller
 * wipes secret and shares. Errors: COFFER_E_INVAL, COFFER_E_CRYPTO.
 */
int coffer_shamir_split(const uint8_t secret[COFFER_SHAMIR_LEN], unsigned k,
    unsigned n, uint8_t shares[][COFFER_SHAMIR_LEN])
	__attribute__((warn_unused_result));

/*
 * Rebuild the secret from k shares: x[i] (1..255, distinct) and y[i].
 * With fewer than the threshold, or a wrong share, the result is simply
 * another value: check it (doc/format/recovery.md, key check).
 * COFFER_E_INVAL for k outside 1..32, or an x of 0 or repeated.
 */
int coffer_shamir_combine(const uint8_t *x, const uint8_t (*y)[COFFER_SHAMIR_LEN],
    unsigned k, uint8_t secret[COFFER_SHAMIR_LEN])
	__attribute__((warn_unused_result));

/* Test-only: split with the given coefficients, coeffs[j * (k - 1) + t - 1]
 * = a_(j,t) of doc/format/recovery.md section 2, so that the vectors can
 * be reproduced. */
int coffer_shamir_split_with(const uint8_t secret[COFFER_SHAMIR_LEN],
    unsigned k, unsigned n, const uint8_t *coeffs,
    uint8_t shares[][COFFER_SHAMIR_LEN]) __attribute__((warn_unused_result));

#endif
