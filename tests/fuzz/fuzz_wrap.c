// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the wrapped key reader (src/crypto/wrap.c): any
// blob must be opened or refused cleanly. The recipient and sender keys
// are fixed (derived from constants), so seeds made with them (see
// tests/fuzz/corpus/wrap/) reach the HPKE and AEAD code.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/hpke.h"
#include "crypto/wrap.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ikm_r[32] = "coffer fuzz recipient key ikm..";
	static const uint8_t ikm_s[32] = "coffer fuzz sender key ikm.....";
	struct coffer_buf key = COFFER_BUF_INIT_SECRET(2048);
	uint8_t skR[32], pkR[32], skS[32], pkS[32];

	if (size < 1 || coffer_hpke_derive_keypair(ikm_r, 32, skR, pkR) != 0 ||
	    coffer_hpke_derive_keypair(ikm_s, 32, skS, pkS) != 0)
		return 0;
	/* The first byte: expect a sender (auth mode) or not. */
	if (coffer_unwrap(skR, (data[0] & 1) ? pkS : NULL,
	    (const uint8_t *)"fuzz", 4, NULL, 0, data + 1, size - 1, &key) == 0 &&
	    key.len == 0)
		__builtin_trap();
	coffer_buf_release(&key);
	return 0;
}
