// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the audit log's readers (src/proto/auditlog*.c,
// merkle*.c): entries (E1-E4), and inclusion and consistency proofs (N1-N4,
// Q1-Q6) decoded from the input. The first byte picks which. An accepted
// entry must be canonical; a proof that verifies against the tree of the
// input's leaves must be the one the generator makes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "proto/auditlog.h"
#include "proto/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Proof input: size (u8, 1..64), index or first (u8), then 32-byte hashes:
 * the first `size` are the leaves, the rest the proof. */
static void
proofs(const uint8_t *d, size_t n, int consistency)
{
	coffer_merkle_hash leaves[64], root, root2, path[66], gen[66];
	size_t size, at, np, gl;

	if (n < 2)
		return;
	size = (size_t)(d[0] % 64) + 1;
	at = d[1];
	d += 2;
	n -= 2;
	if (n / 32 < size)
		return;
	memcpy(leaves, d, 32 * size);
	np = n / 32 - size;
	if (np > 66)
		np = 66;
	memcpy(path, d + 32 * size, 32 * np);
	if (coffer_merkle_root((const coffer_merkle_hash *)leaves, size, root) != 0)
		return;
	if (!consistency) {
		if (at >= size)
			at %= size;
		if (coffer_merkle_verify_inclusion(leaves[at], at, size,
		    (const coffer_merkle_hash *)path, np, root) == 0) {
			if (coffer_merkle_path((const coffer_merkle_hash *)leaves, size, at,
			    gen, &gl) != 0 || gl != np || memcmp(gen, path, 32 * np) != 0)
				__builtin_trap();
		}
		return;
	}
	at %= size + 1;
	if (coffer_merkle_root((const coffer_merkle_hash *)leaves, at, root2) != 0)
		return;
	if (coffer_merkle_verify_consistency(at, size, root2, root,
	    (const coffer_merkle_hash *)path, np) == 0 && at > 0 && at < size) {
		if (coffer_merkle_consistency((const coffer_merkle_hash *)leaves, size, at,
		    gen, &gl) != 0 || gl != np || memcmp(gen, path, 32 * np) != 0)
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		const char *ev = NULL;

		(void)coffer_auditlog_entry_check(data + 1, size - 1, &ev);
		break;
	}
	case 1:
		proofs(data + 1, size - 1, 0);
		break;
	default:
		proofs(data + 1, size - 1, 1);
		break;
	}
	return 0;
}
