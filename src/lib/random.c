// SPDX-License-Identifier: Apache-2.0
// The one caller of RAND_bytes (lib/random.h); scripts/check-banned refuses
// any other, and any other source of randomness.
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "coffer/error.h"
#include "lib/random.h"

int
coffer_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t left = n;

	while (left > 0) {
		int k = left > INT_MAX ? INT_MAX : (int)left;

		if (RAND_bytes(p, k) != 1) {
			unsigned long e = ERR_get_error();
			const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
			int r = coffer_errf(COFFER_E_CRYPTO, "random bytes: RAND_bytes failed: %s",
			    why != NULL ? why : "no reason given");

			ERR_clear_error();
			memset(buf, 0, n);
			return r;
		}
		p += k;
		left -= (size_t)k;
	}
	return 0;
}
