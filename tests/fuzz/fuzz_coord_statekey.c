// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for state.key (src/coordinator/statekey.c,
// doc/format/sealed-state.md section 9): any bytes are opened or refused
// cleanly. With the first byte odd, the clear fields are set to what the
// reader expects, so that the box itself (rule K7) is reached.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "coordinator/statekey.h"
#include "crypto/kdf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_tee_sealing s;
	uint8_t f[STATEKEY_LEN + 64], id[16], key[32];
	size_t len;

	if (size < 1)
		return 0;
	memset(&s, 0, sizeof(s));
	s.backend = COFFER_TEE_BACKEND_SIM;
	memset(s.key, 0x5a, sizeof(s.key));
	memset(s.measurement, 0x11, sizeof(s.measurement));
	memset(s.platform, 0x22, sizeof(s.platform));
	len = size - 1 < sizeof(f) ? size - 1 : sizeof(f);
	memcpy(f, data + 1, len);
	if ((data[0] & 1) && len >= STATEKEY_LEN) {
		memcpy(f, "CFSK\x01\x01\x00\x00", 8);
		memcpy(f + 24, s.measurement, 48);
		memcpy(f + 72, s.platform, 32);
		(void)coffer_hkdf_sha256(NULL, 0, s.key, 32,
		    (const uint8_t *)"coffer/state/seal-key-id/v1", 27, f + 104, 16);
	}
	(void)statekey_peek(f, len, id);
	if (statekey_open(f, len, &s, id, key) == 0 && len != STATEKEY_LEN)
		__builtin_trap();
	return 0;
}
