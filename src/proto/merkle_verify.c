// SPDX-License-Identifier: Apache-2.0
// RFC 9162 section 2.1 Merkle proofs verified (merkle.h): the RFC's
// iterative algorithms step by step, as doc/format/audit-log.md quotes
// them. Only the owners' side verifies proofs (audit log client, receipt
// bundles), so neither daemon links this file.
#include <string.h>

#include "coffer/error.h"
#include "proto/merkle.h"

/* RFC 9162 2.1.3.2 step 4.b.ii and 2.1.4.2 step 6.b.iii: "right-shift
 * both fn and sn equally until either LSB(fn) is set or fn is 0". Called
 * with fn even and non-zero, so it shifts at least once. */
static void
shift_to_odd(uint64_t *fn, uint64_t *sn)
{
	do {
		*fn >>= 1;
		*sn >>= 1;
	} while (!(*fn & 1) && *fn != 0);
}

int
coffer_merkle_verify_inclusion(const coffer_merkle_hash leaf, uint64_t index,
    uint64_t size, const coffer_merkle_hash *path, size_t len,
    const coffer_merkle_hash root)
{
	coffer_merkle_hash r;
	uint64_t fn, sn;
	int e;

	/* N1, N2 */
	if (len > COFFER_MERKLE_MAX_PATH)
		return coffer_errf(COFFER_E_FORMAT, "inclusion proof of %zu hashes "
		    "(at most %d)", len, COFFER_MERKLE_MAX_PATH);
	if (index >= size)
		return coffer_errf(COFFER_E_FORMAT, "inclusion proof for leaf %llu of "
		    "a tree of %llu", (unsigned long long)index, (unsigned long long)size);
	/* RFC 9162 section 2.1.3.2, steps 2 to 5. */
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, 32);
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return coffer_errf(COFFER_E_AUTH, "inclusion proof: hashes left "
			    "over (N3)");
		if ((fn & 1) || fn == sn) {
			if ((e = coffer_merkle_node(path[i], r, r)) != 0)
				return e;
			if (!(fn & 1))
				shift_to_odd(&fn, &sn);
		} else if ((e = coffer_merkle_node(r, path[i], r)) != 0) {
			return e;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, root, 32) != 0)
		return coffer_errf(COFFER_E_AUTH, "inclusion proof does not verify (N4)");
	return 0;
}

int
coffer_merkle_verify_consistency(uint64_t first, uint64_t second,
    const coffer_merkle_hash first_root, const coffer_merkle_hash second_root,
    const coffer_merkle_hash *path, size_t len)
{
	coffer_merkle_hash fr, sr;
	uint64_t fn, sn;
	size_t i;
	int e;

	/* Q1 */
	if (len > COFFER_MERKLE_MAX_CONSISTENCY || first > second)
		return coffer_errf(COFFER_E_FORMAT, "consistency proof from %llu to "
		    "%llu of %zu hashes", (unsigned long long)first,
		    (unsigned long long)second, len);
	/* Q2 */
	if (first == second) {
		if (len != 0)
			return coffer_errf(COFFER_E_FORMAT, "consistency proof between "
			    "equal sizes must be empty");
		if (memcmp(first_root, second_root, 32) != 0)
			return coffer_errf(COFFER_E_AUTH, "two different roots for a tree "
			    "of %llu entries", (unsigned long long)first);
		return 0;
	}
	/* Q3 */
	if (first == 0)
		return len == 0 ? 0 : coffer_errf(COFFER_E_FORMAT, "consistency proof "
		    "from an empty tree must be empty");
	/* Q4 */
	if (len == 0)
		return coffer_errf(COFFER_E_AUTH, "empty consistency proof (Q4)");
	/* RFC 9162 section 2.1.4.2, steps 2 to 7. A power-of-two first tree
	 * is its own first proof element (prepended). */
	i = 0;
	if ((first & (first - 1)) == 0) {
		memcpy(fr, first_root, 32);
	} else {
		memcpy(fr, path[0], 32);
		i = 1;
	}
	memcpy(sr, fr, 32);
	fn = first - 1;
	sn = second - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < len; i++) {
		if (sn == 0)
			return coffer_errf(COFFER_E_AUTH, "consistency proof: hashes left "
			    "over (Q5)");
		if ((fn & 1) || fn == sn) {
			if ((e = coffer_merkle_node(path[i], fr, fr)) != 0 ||
			    (e = coffer_merkle_node(path[i], sr, sr)) != 0)
				return e;
			if (!(fn & 1))
				shift_to_odd(&fn, &sn);
		} else if ((e = coffer_merkle_node(sr, path[i], sr)) != 0) {
			return e;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (memcmp(fr, first_root, 32) != 0 || memcmp(sr, second_root, 32) != 0 ||
	    sn != 0)
		return coffer_errf(COFFER_E_AUTH, "consistency proof does not verify (Q6)");
	return 0;
}
