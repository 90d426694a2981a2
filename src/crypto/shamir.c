// SPDX-License-Identifier: Apache-2.0
// Shamir's secret sharing over GF(2^8) (crypto/shamir.h), as in HashiCorp
// Vault's shamir package and SLIP-0039: one polynomial per secret byte,
// evaluated at x = 1..n; Lagrange interpolation at 0 rebuilds it.
// doc/format/recovery.md section 2. Field arithmetic uses no table and no
// branch on secret values, so its timing says nothing about the shares.
#include <string.h>

#include "coffer/error.h"
#include "crypto/shamir.h"
#include "lib/mem.h"
#include "lib/random.h"

/* a * b in GF(2^8) mod x^8 + x^4 + x^3 + x + 1, in constant time. */
static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	uint8_t p = 0;

	for (int i = 0; i < 8; i++) {
		p ^= (uint8_t)(-(b & 1) & a);
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1b));
		b >>= 1;
	}
	return p;
}

/* a^254 = a^-1 (a != 0): a^2 * a^4 * ... * a^128. */
static uint8_t
gf_inv(uint8_t a)
{
	uint8_t r = 1, sq = a;

	for (int i = 1; i < 8; i++) {
		sq = gf_mul(sq, sq);
		r = gf_mul(r, sq);
	}
	return r;
}

int
coffer_shamir_split_with(const uint8_t secret[COFFER_SHAMIR_LEN], unsigned k,
    unsigned n, const uint8_t *coeffs, uint8_t shares[][COFFER_SHAMIR_LEN])
{
	if (k < 1 || n > COFFER_SHAMIR_MAX_SHARES || k > n)
		return coffer_errf(COFFER_E_INVAL, "shamir: threshold %u of %u "
		    "shares (want 1 <= k <= n <= %d)", k, n, COFFER_SHAMIR_MAX_SHARES);
	for (unsigned i = 0; i < n; i++) {
		uint8_t x = (uint8_t)(i + 1);

		for (unsigned j = 0; j < COFFER_SHAMIR_LEN; j++) {
			const uint8_t *a = coeffs + (size_t)j * (k - 1);
			uint8_t y = 0;

			/* Horner: f(x) = (...(a_(k-1) x + a_(k-2)) x + ...) x + S[j]. */
			for (unsigned t = k - 1; t >= 1; t--)
				y = gf_mul((uint8_t)(y ^ a[t - 1]), x);
			shares[i][j] = (uint8_t)(y ^ secret[j]);
		}
	}
	return 0;
}

int
coffer_shamir_split(const uint8_t secret[COFFER_SHAMIR_LEN], unsigned k,
    unsigned n, uint8_t shares[][COFFER_SHAMIR_LEN])
{
	uint8_t coeffs[COFFER_SHAMIR_LEN * (COFFER_SHAMIR_MAX_SHARES - 1)];
	int r;

	if (k < 1 || n > COFFER_SHAMIR_MAX_SHARES || k > n)
		return coffer_errf(COFFER_E_INVAL, "shamir: threshold %u of %u "
		    "shares (want 1 <= k <= n <= %d)", k, n, COFFER_SHAMIR_MAX_SHARES);
	if ((r = coffer_random(coeffs, (size_t)COFFER_SHAMIR_LEN * (k - 1))) == 0)
		r = coffer_shamir_split_with(secret, k, n, coeffs, shares);
	coffer_wipe(coeffs, sizeof(coeffs));
	return r;
}

int
coffer_shamir_combine(const uint8_t *x, const uint8_t (*y)[COFFER_SHAMIR_LEN],
    unsigned k, uint8_t secret[COFFER_SHAMIR_LEN])
{
	uint8_t out[COFFER_SHAMIR_LEN];

	if (k < 1 || k > COFFER_SHAMIR_MAX_SHARES)
		return coffer_errf(COFFER_E_INVAL, "shamir: %u shares", k);
	for (unsigned i = 0; i < k; i++) {
		if (x[i] == 0)
			return coffer_errf(COFFER_E_INVAL, "shamir: x-coordinate 0");
		for (unsigned m = 0; m < i; m++)
			if (x[m] == x[i])
				return coffer_errf(COFFER_E_INVAL, "shamir: x-coordinate "
				    "%u given twice", x[i]);
	}
	memset(out, 0, sizeof(out));
	for (unsigned i = 0; i < k; i++) {
		/* Lagrange basis at 0: prod over m != i of x_m / (x_m + x_i). */
		uint8_t l = 1;

		for (unsigned m = 0; m < k; m++)
			if (m != i)
				l = gf_mul(l, gf_mul(x[m], gf_inv((uint8_t)(x[m] ^ x[i]))));
		for (unsigned j = 0; j < COFFER_SHAMIR_LEN; j++)
			out[j] ^= gf_mul(y[i][j], l);
	}
	memcpy(secret, out, sizeof(out));
	coffer_wipe(out, sizeof(out));
	return 0;
}
