// SPDX-License-Identifier: Apache-2.0
// RFC 9162 section 2.1 Merkle trees (merkle.h). Generation follows the
// RFC's recursive definitions literally (MTH, PATH, SUBPROOF): O(n) per
// proof, which a coordinator that keeps its leaf hashes can afford, and
// easy to check against the text. Verification is merkle_verify.c.
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "proto/merkle.h"

int
coffer_merkle_leaf(const void *entry, size_t n, coffer_merkle_hash out)
{
	struct coffer_hash *h = NULL;
	static const uint8_t zero = 0x00;
	int r;

	if ((r = coffer_hash_new(COFFER_HASH_SHA256, &h)) != 0)
		return r;
	if ((r = coffer_hash_update(h, &zero, 1)) == 0 &&
	    (r = coffer_hash_update(h, entry, n)) == 0)
		r = coffer_hash_final(h, out, 32);
	coffer_hash_free(h);
	return r;
}

int
coffer_merkle_node(const coffer_merkle_hash left, const coffer_merkle_hash right,
    coffer_merkle_hash out)
{
	uint8_t m[65];

	m[0] = 0x01;
	memcpy(m + 1, left, 32);
	memcpy(m + 33, right, 32);
	return coffer_sha256(m, sizeof(m), out);
}

/* The largest power of two smaller than n (n >= 2). */
static size_t
split(size_t n)
{
	size_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

int
coffer_merkle_root(const coffer_merkle_hash *leaves, size_t n,
    coffer_merkle_hash out)
{
	coffer_merkle_hash l, r;
	size_t k;
	int e;

	if (n == 0)
		return coffer_sha256("", 0, out);
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return 0;
	}
	k = split(n);
	if ((e = coffer_merkle_root(leaves, k, l)) != 0 ||
	    (e = coffer_merkle_root(leaves + k, n - k, r)) != 0)
		return e;
	return coffer_merkle_node(l, r, out);
}

/* PATH(m, D[n]) appended at path[*len]. */
static int
path_rec(const coffer_merkle_hash *leaves, size_t n, size_t m,
    coffer_merkle_hash *path, size_t *len)
{
	size_t k;
	int r;

	if (n <= 1)
		return 0;
	k = split(n);
	if (m < k) {
		if ((r = path_rec(leaves, k, m, path, len)) != 0)
			return r;
		r = coffer_merkle_root(leaves + k, n - k, path[*len]);
	} else {
		if ((r = path_rec(leaves + k, n - k, m - k, path, len)) != 0)
			return r;
		r = coffer_merkle_root(leaves, k, path[*len]);
	}
	if (r == 0)
		(*len)++;
	return r;
}

int
coffer_merkle_path(const coffer_merkle_hash *leaves, size_t n, size_t index,
    coffer_merkle_hash *path, size_t *len)
{
	size_t l = 0;
	int r;

	if (index >= n)
		return coffer_errf(COFFER_E_INVAL, "leaf %zu of a tree of %zu", index, n);
	if ((r = path_rec(leaves, n, index, path, &l)) != 0)
		return r;
	*len = l;
	return 0;
}

/* SUBPROOF(m, D[n], b) appended at path[*len]. */
static int
subproof(const coffer_merkle_hash *leaves, size_t n, size_t m, int b,
    coffer_merkle_hash *path, size_t *len)
{
	size_t k;
	int r;

	if (m == n) {
		if (b)
			return 0;
		if ((r = coffer_merkle_root(leaves, n, path[*len])) == 0)
			(*len)++;
		return r;
	}
	k = split(n);
	if (m <= k) {
		if ((r = subproof(leaves, k, m, b, path, len)) != 0)
			return r;
		r = coffer_merkle_root(leaves + k, n - k, path[*len]);
	} else {
		if ((r = subproof(leaves + k, n - k, m - k, 0, path, len)) != 0)
			return r;
		r = coffer_merkle_root(leaves, k, path[*len]);
	}
	if (r == 0)
		(*len)++;
	return r;
}

int
coffer_merkle_consistency(const coffer_merkle_hash *leaves, size_t n, size_t m,
    coffer_merkle_hash *path, size_t *len)
{
	size_t l = 0;
	int r;

	if (m > n)
		return coffer_errf(COFFER_E_INVAL, "consistency from %zu to %zu", m, n);
	if (m > 0 && m < n && (r = subproof(leaves, n, m, 1, path, &l)) != 0)
		return r;
	*len = l;
	return 0;
}

void
coffer_merkle_stream_init(struct coffer_merkle_stream *s)
{
	memset(s, 0, sizeof(*s));
}

int
coffer_merkle_stream_add(struct coffer_merkle_stream *s,
    const coffer_merkle_hash leaf)
{
	coffer_merkle_hash h;
	int i = 0, r;

	if (s->n == UINT64_MAX)
		return coffer_errf(COFFER_E_LIMIT, "Merkle tree full");
	/* A binary counter: merge equal-size subtrees while the bit carries. */
	memcpy(h, leaf, 32);
	while (s->n & ((uint64_t)1 << i)) {
		if ((r = coffer_merkle_node(s->stack[i], h, h)) != 0)
			return r;
		i++;
	}
	memcpy(s->stack[i], h, 32);
	s->n++;
	return 0;
}

int
coffer_merkle_stream_root(const struct coffer_merkle_stream *s,
    coffer_merkle_hash out)
{
	coffer_merkle_hash h;
	int have = 0, r;

	if (s->n == 0)
		return coffer_sha256("", 0, out);
	/* The perfect subtrees, smallest (rightmost) first, folded leftwards:
	 * exactly MTH's left-balanced shape. */
	for (int i = 0; i < 64; i++) {
		if (!(s->n & ((uint64_t)1 << i)))
			continue;
		if (!have) {
			memcpy(h, s->stack[i], 32);
			have = 1;
		} else if ((r = coffer_merkle_node(s->stack[i], h, h)) != 0) {
			return r;
		}
	}
	memcpy(out, h, 32);
	return 0;
}
