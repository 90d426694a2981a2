// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for item proofs and answers (src/proto/itemproof.c,
// ledger.c): the input is a fail_after byte and a stream of 184-byte
// proofs. Each is parsed (IP1-IP7) and MAC-checked under the vector
// session key; those that pass go through the commit rule, whose
// invariants are checked: a result never changes once committed, and
// counts only grow. The input is also read as an 80-byte answer.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/itemproof.h"
#include "proto/ledger.h"
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t key[32];
	static int have_key;
	struct coffer_ledger_item it;
	struct coffer_itemack a;
	unsigned fail_after;

	if (!have_key) {
		fz_seed("session-key", key);
		have_key = 1;
	}
	if (size < 1)
		return 0;
	(void)coffer_itemack_open(data + 1, size - 1, key, &a);
	fail_after = (unsigned)(data[0] % 16) + 1;
	memset(&it, 0, sizeof(it));
	for (size_t off = 1; off + COFFER_ITEMPROOF_LEN <= size;
	    off += COFFER_ITEMPROOF_LEN) {
		struct coffer_itemproof p;
		uint8_t before = it.status, outcome;
		uint64_t dups = it.duplicates;

		if (coffer_itemproof_parse(data + off, COFFER_ITEMPROOF_LEN, &p) != 0)
			continue;
		if (coffer_itemproof_verify_mac(data + off, key) != 0)
			continue;
		if (coffer_ledger_apply(&it, &p, fail_after, off, &outcome) != 0)
			__builtin_trap();
		if (before != COFFER_ITEM_PENDING &&
		    (it.status != before || it.duplicates != dups + 1))
			__builtin_trap();
		if (it.disagreements > it.duplicates)
			__builtin_trap();
	}
	return 0;
}
