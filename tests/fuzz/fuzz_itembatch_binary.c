// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the binary item proof batch (doc/format/
// item-proof.md section 8.1, src/proto/itembatch.c): rules BB1 and B2, and
// the Content-Type that selects it. The first byte chooses the parser. A
// body that parses must be whole proofs of one session, and nothing else
// may parse.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/itembatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *body = data + 1;
	size_t len = size - 1, n = 0;
	char *text;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		int ok = len > 0 && len % COFFER_ITEMPROOF_LEN == 0 &&
		    len / COFFER_ITEMPROOF_LEN <= COFFER_ITEMPROOF_BATCH_MAX;

		for (size_t i = 1; ok && i < len / COFFER_ITEMPROOF_LEN; i++)
			ok = memcmp(body + i * COFFER_ITEMPROOF_LEN + 24, body + 24, 16) == 0;
		if ((coffer_itemproof_batch_parse_binary(body, len, &n) == 0) != ok ||
		    (ok && n != len / COFFER_ITEMPROOF_LEN))
			__builtin_trap();
		return 0;
	}
	/* A Content-Type value: a C string. */
	if ((text = malloc(len + 1)) == NULL)
		return 0;
	memcpy(text, body, len);
	text[len] = '\0';
	if (coffer_itemproof_batch_is_binary(text) && strlen(text) <
	    sizeof(COFFER_ITEMPROOF_BATCH_BINARY) - 1)
		__builtin_trap();
	free(text);
	return 0;
}
