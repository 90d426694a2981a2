/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's durable state behind one small interface: its
 * identity, and (added as the protocol needs them) policies, approvals,
 * revocations and wrapped data keys. Backed by SQLite in DIR/state.db
 * (doc/coordinator.md section 4), sealed to the TEE
 * (doc/format/sealed-state.md). Rollback detection and the audit log
 * (issue 12) go under this interface, not around it: every write goes
 * through a function here. */
#ifndef COFFER_COORDINATOR_STATE_H
#define COFFER_COORDINATOR_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/buf.h"

#define COORD_STATE_SCHEMA_VERSION 3

struct coord_state;

/*
 * Open (creating if needed) the sealed state in directory dir with its
 * state key and id (statekey.h, doc/format/sealed-state.md). Errors: those
 * of sealstore_open (a state changed or of another key, named by rule),
 * COFFER_E_DB, COFFER_E_VERSION (written by a newer coordinator).
 */
int coord_state_open(const char *dir, const uint8_t key[32],
    const uint8_t state_id[16], struct coord_state **out)
	__attribute__((warn_unused_result));

/* The state's version: the counter of its last commit (grows by one per
 * commit), for the rollback check of the audit log. */
uint64_t coord_state_version(const struct coord_state *st);

/* The recovery record's envelope (doc/format/recovery.md), appended to
 * out; COFFER_E_NOTFOUND if none. Put: COFFER_E_EXISTS if one is. */
int coord_state_recovery_get(struct coord_state *st, struct coffer_buf *out)
	__attribute__((warn_unused_result));
int coord_state_recovery_put(struct coord_state *st, const char *env,
    size_t len) __attribute__((warn_unused_result));
/* Close. NULL is a no-op. */
void coord_state_close(struct coord_state *st);

/*
 * Group several writes into one durable commit: begin, the writes, then
 * commit, or rollback on any error (rollback after a failed commit is
 * allowed). Writes outside a transaction commit one by one.
 */
int coord_state_begin(struct coord_state *st) __attribute__((warn_unused_result));
int coord_state_commit(struct coord_state *st) __attribute__((warn_unused_result));
void coord_state_rollback(struct coord_state *st);
/* A transaction whose commit is in the state's journal when it returns (a
 * kill -9 loses nothing) but not flushed to the disk (a power failure may
 * lose it): key releases and refusals, whose cost is per worker. */
int coord_state_begin_lazy(struct coord_state *st)
	__attribute__((warn_unused_result));
/* 1 inside a transaction. */
int coord_state_in_tx(const struct coord_state *st);
/* A counter that changes whenever what a policy's status reads may have
 * changed: a policy, an approval, a revocation or a rollback record
 * stored (or tried), a transaction rolled back. The ledger reads a
 * policy's status and its measurements' revocations (IP15 to IP17) again
 * only then (doc/coordinator.md section 10.1, G6). */
uint64_t coord_state_book_serial(const struct coord_state *st);
/* Make every commit so far durable (after lazy ones): the coordinator does
 * it before it signs a tree head, so that no head it signed names entries
 * a power failure could take back. */
int coord_state_sync(struct coord_state *st) __attribute__((warn_unused_result));

/* The coordinator's identity: COFFER_E_NOTFOUND before the first start
 * stored one. id is wiped by the caller (coffer_identity_wipe). */
int coord_state_identity_get(struct coord_state *st, struct coffer_identity *id)
	__attribute__((warn_unused_result));
/* Store the identity; COFFER_E_EXISTS if one is already stored (it never
 * changes: owners pinned it). */
int coord_state_identity_put(struct coord_state *st,
    const struct coffer_identity *id) __attribute__((warn_unused_result));

/* The coordinator's root secret (32 bytes), from which the keys it hands
 * out per job are derived (jobkeys.h): made with the identity at the first
 * start, never changed. COFFER_E_NOTFOUND before. */
int coord_state_root_get(struct coord_state *st, uint8_t out[32])
	__attribute__((warn_unused_result));
/* COFFER_E_EXISTS if one is stored. */
int coord_state_root_put(struct coord_state *st, const uint8_t root[32])
	__attribute__((warn_unused_result));

/* ------------------------------------------------------------------
 * Policies, approvals, revocations (doc/format/policy.md). Hashes and
 * fingerprints are 32 raw bytes; texts are stored as received (policies
 * in their canonical form), so that what was signed can be shown again.
 */

/* Store a policy's JCS text under its hash. COFFER_E_EXISTS if known. */
int coord_state_policy_put(struct coord_state *st, const uint8_t hash[32],
    const uint8_t *previous, const char *jcs, size_t len)
	__attribute__((warn_unused_result));
/* The JCS text of a policy (appended to out); COFFER_E_NOTFOUND. */
int coord_state_policy_get(struct coord_state *st, const uint8_t hash[32],
    struct coffer_buf *out) __attribute__((warn_unused_result));
/* Every policy hash, oldest first (fn's non-zero return stops and is
 * returned). */
int coord_state_policy_each(struct coord_state *st,
    int (*fn)(const uint8_t hash[32], void *arg), void *arg)
	__attribute__((warn_unused_result));
/* The hashes of the policies that name `previous` as theirs and that
 * one of the signers (fingerprints) has an approval of, counted or not,
 * oldest first, each once. With the owners of `previous` as the signers
 * this is every successor that is or was approved (doc/format/policy.md
 * 9.1: a version keeps its predecessor's owners, and S2 and S3 need one
 * of them at least), whatever the number of others (doc/coordinator.md
 * 6). */
int coord_state_policy_successors(struct coord_state *st,
    const uint8_t previous[32], const uint8_t (*signers)[32], size_t nsigners,
    int (*fn)(const uint8_t hash[32], void *arg), void *arg)
	__attribute__((warn_unused_result));

/* Record a counted approval naming log head size log_size. COFFER_E_EXISTS
 * if this signer already has one for this policy with a log_size of at
 * least min_size (the same signer counts once); one below min_size (made
 * before a rollback, doc/format/policy.md section 10.3) is replaced. */
int coord_state_approval_put(struct coord_state *st, const uint8_t policy[32],
    const uint8_t signer[32], uint64_t log_size, uint64_t min_size,
    const char *envelope, size_t len) __attribute__((warn_unused_result));
/* The signers of the approvals of a policy whose log_size is at least
 * min_size (0: all). */
int coord_state_approval_each(struct coord_state *st, const uint8_t policy[32],
    uint64_t min_size, int (*fn)(const uint8_t signer[32], void *arg),
    void *arg) __attribute__((warn_unused_result));

/* A revocation: of the approval (tee NULL) or of one measurement.
 * COFFER_E_EXISTS if the same revocation is stored. */
struct coord_revocation {
	uint8_t policy[32];
	uint8_t signer[32];
	const char *tee;       /* NULL: the approval */
	const uint8_t *measurement;
	size_t measurement_len;
};
int coord_state_revocation_put(struct coord_state *st,
    const struct coord_revocation *rv, const char *envelope, size_t len)
	__attribute__((warn_unused_result));
int coord_state_revocation_each(struct coord_state *st, const uint8_t policy[32],
    int (*fn)(const struct coord_revocation *rv, void *arg), void *arg)
	__attribute__((warn_unused_result));

/* ------------------------------------------------------------------
 * Data keys (doc/protocol/key-release.md section 4): the upload envelope
 * as received, which holds the key wrapped to the coordinator.
 */
int coord_state_key_put(struct coord_state *st, const uint8_t key_id[16],
    const uint8_t policy[32], const uint8_t signer[32], const char *envelope,
    size_t len) __attribute__((warn_unused_result));
/* The uploads of key_id, under any policy: fn gets the policy and the
 * envelope text. */
int coord_state_key_each(struct coord_state *st, const uint8_t key_id[16],
    int (*fn)(const uint8_t policy[32], const char *envelope, size_t len,
    void *arg), void *arg) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------
 * Jobs and release sessions (doc/protocol/key-release.md sections 5, 6).
 */
struct coord_job {
	uint8_t id[16];
	uint8_t policy[32];
	char app[65];
	char *params;          /* JCS of the params object (owned) */
	uint64_t items;
	uint8_t input_root[32];
	int closed;
	int64_t created_ms;
};
void coord_job_release(struct coord_job *j);
int coord_state_job_put(struct coord_state *st, const struct coord_job *j)
	__attribute__((warn_unused_result));
/* COFFER_E_NOTFOUND; release *out. */
int coord_state_job_get(struct coord_state *st, const uint8_t id[16],
    struct coord_job *out) __attribute__((warn_unused_result));

struct coord_session {
	uint8_t id[16];
	uint8_t job[16];
	char tee[16];
	uint8_t measurement[240];
	size_t measurement_len;
	uint8_t worker_pk[32];
	uint8_t key[32];       /* the session key: secret */
};
int coord_state_session_put(struct coord_state *st,
    const struct coord_session *s) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------
 * The audit log's storage: entries by index, and the hash of every
 * complete perfect subtree of two entries or more by (level, position),
 * level >= 1 (a leaf's hash is its entry's, computed when needed). audit.h
 * is the interface the rest of the coordinator uses.
 */
/* The log's right edge, kept by audit.c as transactions append: hash[L]
 * is the perfect subtree of 2^L entries in the log of `size` entries, for
 * every bit L set in size (RFC 9162's compact range). Valid only while
 * `valid`: a rollback or a failed commit clears it (the next append reads
 * it from the table), a commit keeps it. */
struct coord_log_frontier {
	int valid;
	uint64_t size;
	uint8_t hash[64][32];
};
struct coord_log_frontier *coord_state_log_frontier(struct coord_state *st);
int coord_state_log_size(struct coord_state *st, uint64_t *n)
	__attribute__((warn_unused_result));
int coord_state_log_entry_put(struct coord_state *st, uint64_t idx,
    const uint8_t *entry, size_t len) __attribute__((warn_unused_result));
/* Appends the entry's bytes to out; COFFER_E_NOTFOUND. */
int coord_state_log_entry_get(struct coord_state *st, uint64_t idx,
    struct coffer_buf *out) __attribute__((warn_unused_result));
int coord_state_log_node_put(struct coord_state *st, unsigned level,
    uint64_t pos, const uint8_t hash[32]) __attribute__((warn_unused_result));
int coord_state_log_node_get(struct coord_state *st, unsigned level,
    uint64_t pos, uint8_t out[32]) __attribute__((warn_unused_result));
/* A head (size, root) an owner presented that the log does not contain,
 * recorded by the rollback event at idx (doc/format/audit-log.md 6.2). */
int coord_state_log_rollback_put(struct coord_state *st, uint64_t size,
    const uint8_t root[32], uint64_t idx) __attribute__((warn_unused_result));
/* The index of the rollback event of (size, root), or with root NULL of
 * the last one; COFFER_E_NOTFOUND if none. */
int coord_state_log_rollback_get(struct coord_state *st, uint64_t size,
    const uint8_t *root, uint64_t *idx) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------
 * Collateral pushed to the coordinator (doc/protocol/collateral.md
 * section 3.3): each item as received, with what the verifier said of it.
 */
struct coord_coll_row {
	uint8_t sha256[32];       /* of data: the item's identity */
	char name[101];
	int kind;                 /* enum coffer_tee_coll_kind */
	char slot[64];            /* "" for certificates */
	uint32_t eval_num;
	int64_t issued, expires;  /* unix seconds; expires INT64_MAX: none */
	int64_t created_ms;
	const uint8_t *data;      /* each: valid during the callback only */
	size_t len;
};
/* Store an item; COFFER_E_EXISTS if one with its sha256 is stored. */
int coord_state_coll_put(struct coord_state *st, const struct coord_coll_row *row)
	__attribute__((warn_unused_result));
/* Remove an item (no error if absent). */
int coord_state_coll_delete(struct coord_state *st, const uint8_t sha256[32])
	__attribute__((warn_unused_result));
/* Every stored item, in the order stored (fn's non-zero return stops and
 * is returned); without with_data, row->data is NULL (len is set). */
int coord_state_coll_each(struct coord_state *st, int with_data,
    int (*fn)(const struct coord_coll_row *row, void *arg), void *arg)
	__attribute__((warn_unused_result));

/* ------------------------------------------------------------------
 * The ledger of item proofs (doc/format/item-proof.md, doc/coordinator.md
 * section 10), implemented by state_ledger.c: every logged proof of a job
 * with its outcome (in log order: the ledger in memory is rebuilt from
 * them), what closed when, the receipt, and the job's sessions. Proofs
 * are the hot path, so its statements are prepared once, in a handle
 * opened after the state and closed before it.
 */
struct coord_state_ledger;
int coord_state_ledger_open(struct coord_state *st,
    struct coord_state_ledger **out) __attribute__((warn_unused_result));
/* NULL is a no-op. */
void coord_state_ledger_close(struct coord_state_ledger *ls);

/* A proof the log records (outcome: enum coffer_itemack_outcome; reason:
 * the code of a refusal, else 0). Put records the outcome and reason of
 * the `proof` entry at log_index, appended in the same transaction (its
 * proof member is not stored again); each reads the proof back from that
 * entry (COFFER_E_FORMAT if it is not a proof of the job). */
struct coord_proof_rec {
	uint64_t log_index;
	uint8_t proof[184];
	uint8_t outcome;
	uint16_t reason;
};
int coord_state_proof_put(struct coord_state_ledger *ls, const uint8_t job[16],
    const struct coord_proof_rec *p) __attribute__((warn_unused_result));
/* The proofs of job in log order; fn's non-zero return stops and is
 * returned. */
int coord_state_proof_each(struct coord_state_ledger *ls, const uint8_t job[16],
    int (*fn)(const struct coord_proof_rec *p, void *arg), void *arg)
	__attribute__((warn_unused_result));

/* What closed of a job. receipt (NULL until the job is closed) is owned:
 * coord_job_close_release. */
struct coord_job_close {
	int map_closed;     /* the map stage closed (a job with a reduce stage) */
	int closed;         /* the job closed: its receipt is signed */
	int failed;
	char reason[48];    /* with failed */
	char *receipt;      /* the receipt envelope's text */
	size_t receipt_len;
};
void coord_job_close_release(struct coord_job_close *c);
/* Zeroes (nothing closed) for a job with no record yet. */
int coord_state_job_close_get(struct coord_state_ledger *ls,
    const uint8_t job[16], struct coord_job_close *out)
	__attribute__((warn_unused_result));
int coord_state_job_map_closed(struct coord_state_ledger *ls,
    const uint8_t job[16]) __attribute__((warn_unused_result));
/* Record the close and the receipt, and mark the job closed (KR3). */
int coord_state_job_closed(struct coord_state_ledger *ls, const uint8_t job[16],
    int failed, const char *reason, const char *receipt, size_t len)
	__attribute__((warn_unused_result));

/* A session by id (COFFER_E_NOTFOUND), and every session of a job in the
 * order they were made. The key is secret: wipe what you get. */
int coord_state_session_get(struct coord_state_ledger *ls, const uint8_t id[16],
    struct coord_session *out) __attribute__((warn_unused_result));
int coord_state_session_each(struct coord_state_ledger *ls,
    const uint8_t job[16], int (*fn)(const struct coord_session *s, void *arg),
    void *arg) __attribute__((warn_unused_result));

#endif
