// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the identity and data key parsers
// (src/crypto/identity*.c, datakey_file.c). The first byte picks the
// parser. The parsers are strict, so anything they accept must format back
// to exactly the input: a difference is a bug and traps.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/datakey.h"
#include "crypto/identity.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(8192);
	const char *text = (const char *)data + 1;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	switch (data[0] % 3) {
	case 0: {
		struct coffer_identity_public p;

		if (coffer_identity_parse_public(text, len, &p) == 0) {
			if (coffer_identity_format_public(&p, &b) != 0 || b.len != len ||
			    memcmp(b.data, text, len) != 0)
				__builtin_trap();
		}
		break;
	}
	case 1: {
		struct coffer_identity id;

		if (coffer_identity_parse_secret(text, len, &id) == 0) {
			if (coffer_identity_format_secret(&id, &b) != 0 || b.len != len ||
			    memcmp(b.data, text, len) != 0)
				__builtin_trap();
			coffer_identity_wipe(&id);
		}
		break;
	}
	default: {
		uint8_t key[32];

		if (coffer_datakey_parse(text, len, key) == 0) {
			/* The final newline is optional on input. */
			if (coffer_datakey_format(key, &b) != 0 ||
			    (b.len != len && b.len != len + 1) ||
			    memcmp(b.data, text, len) != 0)
				__builtin_trap();
		}
		break;
	}
	}
	coffer_buf_release(&b);
	return 0;
}
