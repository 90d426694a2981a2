/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's audit log (doc/format/audit-log.md): entries in
 * canonical JSON (section 3, rules E1 to E4), signed tree heads (section
 * 4, rule T1) and the client rule that catches a fork or a rollback
 * (section 6.1, rules H1 to H7). The tree itself is proto/merkle.h. */
#ifndef COFFER_PROTO_AUDITLOG_H
#define COFFER_PROTO_AUDITLOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/buf.h"
#include "proto/merkle.h"

#define COFFER_AUDITLOG_ENTRY_MAX ((size_t)2 << 20)
#define COFFER_AUDITLOG_HEAD_MAX 2048 /* a head envelope's text */

/*
 * Check one entry (its bytes as logged): rules E1 to E4. On success
 * *event (may be NULL) points at a static copy of its event name
 * ("proof", "approval", ...). Errors: COFFER_E_LIMIT, COFFER_E_FORMAT
 * naming the member.
 */
int coffer_auditlog_entry_check(const uint8_t *entry, size_t len,
    const char **event) __attribute__((warn_unused_result));

/* Check an event object against section 3's table (E3, E4) and append its
 * canonical bytes (the entry) to out. */
int coffer_auditlog_entry_make(const json_t *event, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/* The entry of a `proof` event, formatted directly (the hot path: no
 * JSON library). outcome: "committed", "failure", "duplicate",
 * "disagreement" or "refused"; reason: a reason name with "refused", else
 * NULL. Appends the canonical bytes to out. */
int coffer_auditlog_entry_proof(const uint8_t job[16], const uint8_t proof[184],
    const char *outcome, const char *reason, uint64_t time,
    struct coffer_buf *out) __attribute__((warn_unused_result));

/* A tree head (section 4). */
struct coffer_tree_head {
	uint64_t size;
	coffer_merkle_hash root;
	uint64_t time;
};

/* Sign head h with the coordinator's Ed25519 key; append the envelope. */
int coffer_auditlog_head_make(const uint8_t sign_sk[32],
    const struct coffer_tree_head *h, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/*
 * Verify a head envelope (text) under the coordinator's key sign_pk:
 * G1 to G5 and T1. Errors: COFFER_E_FORMAT / _VERSION / _LIMIT,
 * COFFER_E_SIGNATURE. out is written only on success.
 */
int coffer_auditlog_head_verify(const char *text, size_t len,
    const uint8_t sign_pk[32], struct coffer_tree_head *out)
	__attribute__((warn_unused_result));

/* The outcomes of the client rule (section 6.1). */
enum coffer_auditlog_outcome {
	COFFER_LOG_FIRST = 0,   /* H2: nothing was kept; keep the new head */
	COFFER_LOG_SAME,        /* H5 */
	COFFER_LOG_ADVANCED,    /* H7: keep the new head */
	COFFER_LOG_BAD_SIGNATURE, /* H1 */
	COFFER_LOG_ROLLBACK,    /* H3 */
	COFFER_LOG_FORK,        /* H4, H6 */
};

/*
 * The client rule: compare the new head (an envelope, verified here under
 * sign_pk) with the kept head (NULL when none), given the consistency
 * proof from the kept size to the new size when the new head is larger
 * (NULL/0 otherwise, which fails H6). Sets *outcome and, when the new
 * head verified, *new_head. Returns 0 whenever the rule could be applied
 * (whatever the outcome); only COFFER_E_NOMEM and internal failures are
 * errors. The detail (coffer_errdetail) says why for a bad outcome.
 */
int coffer_auditlog_client(const struct coffer_tree_head *kept,
    const char *new_text, size_t new_len, const uint8_t sign_pk[32],
    const coffer_merkle_hash *proof, size_t proof_len,
    enum coffer_auditlog_outcome *outcome, struct coffer_tree_head *new_head)
	__attribute__((warn_unused_result));

/*
 * Read a proof answer (section 5): with consistency 0 the inclusion answer
 * {"index": a, "size": b, "path": [hash, ...]} (at most
 * COFFER_MERKLE_MAX_PATH hashes), with 1 the consistency answer {"from": a,
 * "to": b, "path": [...]} (at most COFFER_MERKLE_MAX_CONSISTENCY). Exactly
 * those members. path has room for the maximum; *n gets the count. Errors:
 * COFFER_E_FORMAT naming the member, COFFER_E_LIMIT. The proof itself is
 * checked by coffer_merkle_verify_*.
 */
int coffer_auditlog_proof_parse(const char *text, size_t len, int consistency,
    uint64_t *a, uint64_t *b, coffer_merkle_hash *path, size_t *n)
	__attribute__((warn_unused_result));

/*
 * Read an entries answer (section 5.3): {"start": S, "entries": [blob,
 * ...]}, 1 to 256 entries of at most COFFER_AUDITLOG_ENTRY_MAX bytes, text
 * of at most COFFER_AUDITLOG_ENTRIES_MAX bytes. fn gets each entry's bytes
 * and index in order (its non-zero return stops and is returned). The
 * entries are not checked here (coffer_auditlog_entry_check).
 */
#define COFFER_AUDITLOG_ENTRIES_MAX ((size_t)16 << 20)
int coffer_auditlog_entries_parse(const char *text, size_t len,
    int (*fn)(uint64_t index, const uint8_t *entry, size_t n, void *arg),
    void *arg) __attribute__((warn_unused_result));

/* "first", "same", "advanced", "bad-signature", "rollback", "fork". */
const char *coffer_auditlog_outcome_name(enum coffer_auditlog_outcome o);
/* The `coffer` exit code of an outcome: 0, 4, 10 (rollback), 11 (fork). */
int coffer_auditlog_outcome_exit(enum coffer_auditlog_outcome o);

#endif
