/* SPDX-License-Identifier: Apache-2.0 */
/* A whole Merkle tree kept by levels, for a job's result trees
 * (doc/format/receipt.md section 2.2): built once, then a root and any
 * inclusion path in O(log n), where proto/merkle.h's coffer_merkle_path
 * costs O(n) per path. The tree is RFC 9162's: level 0 holds the leaf
 * hashes, a node of level k + 1 hashes two of level k, and the last node
 * of a level with an odd count moves up as it is, which gives the same
 * root and paths as the recursive definition (the unit test checks). */
#ifndef COFFER_COORDINATOR_RTREE_H
#define COFFER_COORDINATOR_RTREE_H

#include <stddef.h>

#include "proto/merkle.h"

struct rtree {
	size_t nlevels;
	size_t width[COFFER_MERKLE_MAX_PATH + 1];
	coffer_merkle_hash *level[COFFER_MERKLE_MAX_PATH + 1];
};

/* Build from n leaf hashes (n may be 0). Release with rtree_release. */
int rtree_build(const coffer_merkle_hash *leaves, size_t n, struct rtree *t)
	__attribute__((warn_unused_result));
void rtree_release(struct rtree *t);
/* MTH (SHA-256("") for an empty tree). */
int rtree_root(const struct rtree *t, coffer_merkle_hash out)
	__attribute__((warn_unused_result));
/* PATH(index) into path (room for COFFER_MERKLE_MAX_PATH); COFFER_E_INVAL
 * for an index out of the tree. */
int rtree_path(const struct rtree *t, size_t index, coffer_merkle_hash *path,
    size_t *len) __attribute__((warn_unused_result));

#endif
