/* SPDX-License-Identifier: Apache-2.0 */
/* Merkle trees as RFC 9162 section 2.1 defines them (doc/format/audit-log.md
 * sections 2 and 5): leaf and node hashes, the tree hash, inclusion and
 * consistency proofs (generation and verification, rules N1 to N4 and Q1
 * to Q6), and a streaming root over leaves given in order. Used by the
 * audit log and by receipts' input and result trees. */
#ifndef COFFER_PROTO_MERKLE_H
#define COFFER_PROTO_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define COFFER_MERKLE_HASH_LEN 32
#define COFFER_MERKLE_MAX_PATH 64        /* inclusion: N1 */
#define COFFER_MERKLE_MAX_CONSISTENCY 65 /* consistency: Q1 */

typedef uint8_t coffer_merkle_hash[COFFER_MERKLE_HASH_LEN];

/* SHA-256(0x00 || entry): the leaf hash of an entry. */
int coffer_merkle_leaf(const void *entry, size_t n, coffer_merkle_hash out)
	__attribute__((warn_unused_result));
/* SHA-256(0x01 || left || right). */
int coffer_merkle_node(const coffer_merkle_hash left,
    const coffer_merkle_hash right, coffer_merkle_hash out)
	__attribute__((warn_unused_result));

/* MTH of the n leaf hashes (SHA-256("") for n = 0). */
int coffer_merkle_root(const coffer_merkle_hash *leaves, size_t n,
    coffer_merkle_hash out) __attribute__((warn_unused_result));

/* PATH(index, leaves[0..n)) into path (room for COFFER_MERKLE_MAX_PATH);
 * *len gets its length. COFFER_E_INVAL if index >= n. */
int coffer_merkle_path(const coffer_merkle_hash *leaves, size_t n, size_t index,
    coffer_merkle_hash *path, size_t *len) __attribute__((warn_unused_result));

/* PROOF(m, leaves[0..n)) for 0 < m < n; empty for m == 0 or m == n. path
 * has room for COFFER_MERKLE_MAX_CONSISTENCY. COFFER_E_INVAL if m > n. */
int coffer_merkle_consistency(const coffer_merkle_hash *leaves, size_t n,
    size_t m, coffer_merkle_hash *path, size_t *len)
	__attribute__((warn_unused_result));

/*
 * 0 if path proves that leaf is at index in the tree of size with root
 * (RFC 9162 section 2.1.3.2). COFFER_E_FORMAT for N1 (a path over 64
 * hashes) and N2 (index >= size); COFFER_E_AUTH for N3 and N4.
 */
int coffer_merkle_verify_inclusion(const coffer_merkle_hash leaf,
    uint64_t index, uint64_t size, const coffer_merkle_hash *path, size_t len,
    const coffer_merkle_hash root) __attribute__((warn_unused_result));

/*
 * 0 if path proves that the tree (first, first_root) is a prefix of the
 * tree (second, second_root) (RFC 9162 section 2.1.4.2, with the edge
 * cases of rules Q1 to Q3). COFFER_E_FORMAT for Q1, the path in Q2 and
 * Q3; COFFER_E_AUTH for the rest.
 */
int coffer_merkle_verify_consistency(uint64_t first, uint64_t second,
    const coffer_merkle_hash first_root, const coffer_merkle_hash second_root,
    const coffer_merkle_hash *path, size_t len)
	__attribute__((warn_unused_result));

/*
 * The root of leaves appended one at a time (RFC 9162's "root from
 * entries"), in O(log n) memory: what a coordinator keeps for its log,
 * and what an auditor replaying a log or a result table uses. Zero it or
 * init it; add leaf hashes in order; root at any time.
 */
struct coffer_merkle_stream {
	uint64_t n;
	coffer_merkle_hash stack[64]; /* stack[i]: a perfect subtree, bit i of n */
};
void coffer_merkle_stream_init(struct coffer_merkle_stream *s);
int coffer_merkle_stream_add(struct coffer_merkle_stream *s,
    const coffer_merkle_hash leaf) __attribute__((warn_unused_result));
int coffer_merkle_stream_root(const struct coffer_merkle_stream *s,
    coffer_merkle_hash out) __attribute__((warn_unused_result));

#endif
