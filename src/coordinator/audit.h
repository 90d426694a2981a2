/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's audit log (doc/format/audit-log.md): the one way an
 * event enters it, and its heads and proofs. The log lives in the state
 * (state.h): an event is appended inside the same state transaction as
 * the change it records, so both are committed or neither is.
 *
 * Storage: every entry, and the hash of every complete perfect subtree
 * (level 0: the leaf hashes; about 2n hashes in all). A root, an
 * inclusion proof or a consistency proof is then O(log n) lookups (at
 * most about 64 + 64 * 64 in theory, a few dozen in practice), never a
 * pass over the leaves; an append writes the entry, its leaf and the
 * subtrees it completes (two rows on average). */
#ifndef COFFER_COORDINATOR_AUDIT_H
#define COFFER_COORDINATOR_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "coordinator/state.h"
#include "lib/buf.h"
#include "proto/auditlog.h"
#include "proto/merkle.h"

/*
 * Append one event: an object with "event" and that event's members
 * (audit-log.md section 3); "time" is set here (the coordinator's clock).
 * Must be called inside a state transaction (COFFER_E_INTERNAL if not);
 * the entry is checked (E1 to E4) and stored in canonical form. *index
 * (may be NULL) gets its index.
 */
int coord_audit_append(struct coord_state *st, json_t *event, uint64_t *index)
	__attribute__((warn_unused_result));

/* The same for an entry already in canonical form (the hot path of item
 * proofs: coffer_auditlog_entry_proof), not checked again. */
int coord_audit_append_entry(struct coord_state *st, const uint8_t *entry,
    size_t len, uint64_t *index) __attribute__((warn_unused_result));

/* The number of entries. */
int coord_audit_size(struct coord_state *st, uint64_t *n)
	__attribute__((warn_unused_result));

/* MTH of the first size entries (size <= the log's size, else
 * COFFER_E_INVAL). */
int coord_audit_root(struct coord_state *st, uint64_t size,
    coffer_merkle_hash out) __attribute__((warn_unused_result));

/* The inclusion proof of entry index in the tree of the first size
 * entries (audit-log.md 5.1); path has room for COFFER_MERKLE_MAX_PATH.
 * COFFER_E_INVAL unless index < size <= the log's size. */
int coord_audit_inclusion(struct coord_state *st, uint64_t index,
    uint64_t size, coffer_merkle_hash *path, size_t *len)
	__attribute__((warn_unused_result));

/* The consistency proof from size m to size n (5.2): empty when m is 0 or
 * m == n; room for COFFER_MERKLE_MAX_CONSISTENCY. COFFER_E_INVAL unless
 * m <= n <= the log's size. */
int coord_audit_consistency(struct coord_state *st, uint64_t m, uint64_t n,
    coffer_merkle_hash *path, size_t *len) __attribute__((warn_unused_result));

/* Sign the current head with sign_sk (section 4) after making every
 * commit durable (coord_state_sync): appends the envelope text to out;
 * h (may be NULL) gets the head. */
int coord_audit_head(struct coord_state *st, const uint8_t sign_sk[32],
    struct coffer_buf *out, struct coffer_tree_head *h)
	__attribute__((warn_unused_result));

/* The smallest `log.size` an approval must name to count: 0, or D + 1
 * after a rollback event at index D (doc/format/policy.md section 10.3). */
int coord_audit_min_approval(struct coord_state *st, uint64_t *min)
	__attribute__((warn_unused_result));

#endif
