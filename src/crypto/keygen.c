// SPDX-License-Identifier: Apache-2.0
// Random 32-byte secret keys and their public keys (crypto/keygen.h), for
// X25519 (RFC 7748 section 6.1) and Ed25519 (RFC 8032 section 5.1.5).
#include <string.h>

#include "coffer/error.h"
#include "crypto/keygen.h"
#include "lib/mem.h"
#include "lib/random.h"

int
coffer_keygen32(int (*public_of)(const uint8_t sk[32], uint8_t pk[32]),
    uint8_t sk[32], uint8_t pk[32])
{
	uint8_t s[32], p[32];
	int r;

	if ((r = coffer_random(s, sizeof(s))) != 0)
		goto out;
	if ((r = public_of(s, p)) != 0)
		goto out;
	memcpy(sk, s, sizeof(s));
	memcpy(pk, p, sizeof(p));
out:
	coffer_wipe(s, sizeof(s));
	return r;
}
