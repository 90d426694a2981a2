// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the sealed state's log and headers
// (src/coordinator/sealstore.c, doc/format/sealed-state.md sections 4 and
// 6): any bytes are read as a log header and records, which must parse or
// be refused cleanly. With the first byte odd, the harness first writes
// the correct MAC into every record it can delimit, so that the checks
// behind the MAC (counters, page order, growth) are reached too.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/sealstore.h"
#include "crypto/pagecrypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENTRY (4 + SEALSTORE_SLOT)

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = "coffer fuzz state key..........";
	static const uint8_t sid[16] = "fuzz state id..";
	struct sealstore_record prev, rec;
	struct coffer_pagecrypt pc;
	uint8_t *p, leaves[32 * 300], root[32];
	size_t len, off;
	int fix;

	if (size < 1 || coffer_pagecrypt_init(&pc, key, sid) != 0)
		return 0;
	fix = data[0] & 1;
	len = size - 1;
	if ((p = malloc(len + 1)) == NULL)
		return 0;
	memcpy(p, data + 1, len);
	if (fix && len >= SEALSTORE_HEADER) {
		memcpy(p + 16, sid, 16);
		(void)coffer_pagecrypt_mac(&pc, "coffer/state/log-header/v1", p, 32, p + 32);
		for (off = SEALSTORE_HEADER; len - off >= 24;) {
			uint32_t count = get32(p + off + 4);
			size_t body;

			if (count > SEALSTORE_MAX_COMMIT)
				break;
			body = 24 + (size_t)count * ENTRY;
			if (len - off < body + 64)
				break;
			(void)coffer_pagecrypt_mac(&pc, "coffer/state/record/v1", p + off,
			    body + 32, p + off + body + 32);
			off += body + 64;
		}
	}
	(void)sealstore_header_check(&pc, p, len, "CFSD", "coffer/state/db-header/v1",
	    "fuzz");
	if (sealstore_header_check(&pc, p, len, "CFSL", "coffer/state/log-header/v1",
	    "fuzz") == 0 && sealstore_record_parse(&pc, p + SEALSTORE_HEADER,
	    len - SEALSTORE_HEADER, NULL, &prev) == 0) {
		off = SEALSTORE_HEADER + prev.len;
		while (off < len && sealstore_record_parse(&pc, p + off, len - off,
		    &prev, &rec) == 0) {
			/* A valid record lies within the input and after its
			 * predecessor. */
			if (rec.len > len - off || rec.counter != prev.counter + 1)
				__builtin_trap();
			off += rec.len;
			prev = rec;
		}
	}
	/* The root of up to 300 leaves taken from the input. */
	memset(leaves, 0, sizeof(leaves));
	memcpy(leaves, p, len < sizeof(leaves) ? len : sizeof(leaves));
	(void)sealstore_root(leaves, len % 301, root);
	coffer_pagecrypt_wipe(&pc);
	free(p);
	return 0;
}
