// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for what `coffer audit` and every owner command read
// from a coordinator about its log (src/proto/auditlog.c): proof answers
// (inclusion and consistency), entries answers, and a tree head put
// through the client rule (H1 to H7) against a fixed kept head, with the
// proof decoded from the input. The first byte picks which. A head the
// rule accepts as extending the kept one must verify under the key.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/auditlog.h"
#include "proto/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
on_entry(uint64_t index, const uint8_t *e, size_t n, void *arg)
{
	(void)index;
	(void)arg;
	if (n == 0 || e == NULL)
		__builtin_trap(); /* the parser never hands out an empty entry */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pk[32] = { 0x3b, 0x6a, 0x27, 0xbc }; /* no one's */
	coffer_merkle_hash path[COFFER_MERKLE_MAX_CONSISTENCY];
	struct coffer_tree_head kept, now;
	enum coffer_auditlog_outcome out;
	uint64_t a, b;
	size_t n = 0;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
	case 1:
		if (coffer_auditlog_proof_parse((const char *)data + 1, size - 1,
		    data[0] % 4, &a, &b, path, &n) == 0 &&
		    n > (data[0] % 4 ? COFFER_MERKLE_MAX_CONSISTENCY :
		    COFFER_MERKLE_MAX_PATH))
			__builtin_trap();
		break;
	case 2:
		(void)coffer_auditlog_entries_parse((const char *)data + 1, size - 1,
		    on_entry, NULL);
		break;
	default:
		/* A head text after a proof of data[1] % 66 hashes. */
		if (size < 2)
			return 0;
		n = data[1] % 66;
		if (size - 2 < 32 * n)
			n = (size - 2) / 32;
		memcpy(path, data + 2, 32 * n);
		memset(&kept, 0, sizeof(kept));
		kept.size = 3;
		memset(kept.root, 0xab, 32);
		if (coffer_auditlog_client(&kept, (const char *)data + 2 + 32 * n,
		    size - 2 - 32 * n, pk, (const coffer_merkle_hash *)path, n, &out,
		    &now) == 0 && (out == COFFER_LOG_ADVANCED || out == COFFER_LOG_SAME ||
		    out == COFFER_LOG_FIRST))
			__builtin_trap(); /* nobody holds that key's secret */
		break;
	}
	return 0;
}
