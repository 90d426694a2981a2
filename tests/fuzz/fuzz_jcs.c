// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for RFC 8785 canonicalization (src/crypto/jcs.c): any
// input must be canonicalized or refused cleanly, and the canonical form
// of anything accepted must canonicalize to itself (else trap).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/jcs.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_buf a = COFFER_BUF_INIT(1 << 22), b = COFFER_BUF_INIT(1 << 22);

	if (coffer_jcs_canonicalize((const char *)data, size, &a) == 0) {
		if (coffer_jcs_canonicalize((const char *)a.data, a.len, &b) != 0 ||
		    a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			__builtin_trap();
	}
	coffer_buf_release(&a);
	coffer_buf_release(&b);
	return 0;
}
