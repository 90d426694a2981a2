/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's ledger of item proofs, and what ends a job: its
 * stages' close, its receipt, its owners' bundles, its recipients' result
 * keys (doc/format/item-proof.md, doc/format/receipt.md,
 * doc/protocol/key-release.md section 7, doc/coordinator.md section 10).
 *
 * The ledger of an open job lives in memory and is rebuilt, when first
 * needed after a start, from the proofs its state recorded (state.h), so
 * that every answer after a restart is the one a client was given before.
 * Item proofs are applied in the state transaction of a group of
 * requests, committed durably before any of their answers is sent
 * (group.h): a proof that was answered is on disk, with its audit log
 * entry. Errors carry the reason name first in their detail
 * ("job.unknown: ...") for coord_refuse_err. */
#ifndef COFFER_COORDINATOR_LEDGER_H
#define COFFER_COORDINATOR_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/buf.h"
#include "proto/itembatch.h"
#include "proto/itemproof.h"

struct coord;
struct coord_ledger;

int coord_ledger_new(struct coord *c, struct coord_ledger **out)
	__attribute__((warn_unused_result));
/* Wipes the session keys it holds. NULL is a no-op. */
void coord_ledger_free(struct coord_ledger *l);

/*
 * A batch of n proofs of one session (rules B3, IP1 to IP17, C1 to C5),
 * applied inside the caller's open state transaction (the group of
 * doc/coordinator.md section 10.1, group.h), which the caller commits
 * durably before it sends any answer: acks[i] gets the answer to
 * proofs[i] (MAC'd), outcomes[o] is increased by the number of answers
 * with outcome o. *wrote is 1 once the state or the memory may have
 * changed. Errors, nothing answered: COFFER_E_NOTFOUND "job.unknown",
 * COFFER_E_POLICY "session.unknown" (*wrote 0), COFFER_E_DB and others
 * from the state (with *wrote 1 the transaction must be rolled back and
 * coord_ledger_forget called: rule G5).
 */
int coord_ledger_proofs(struct coord_ledger *l, const uint8_t job[16],
    const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN], size_t n,
    uint8_t (*acks)[COFFER_ITEMACK_LEN], uint64_t outcomes[6], int *wrote)
	__attribute__((warn_unused_result));
/* Forget every job's ledger in memory (after a rolled-back transaction:
 * each is read again from the state when next named). */
void coord_ledger_forget(struct coord_ledger *l);
/* Count answers sent, by outcome, for /metrics. */
void coord_ledger_count(struct coord_ledger *l, const uint64_t outcomes[6]);

/* POST /v1/jobs/{job}/close (doc/format/item-proof.md 7.1): *answer gets
 * the answer object. */
int coord_ledger_close(struct coord_ledger *l, const uint8_t job[16],
    const struct coffer_close_request *req, json_t **answer)
	__attribute__((warn_unused_result));

/* GET .../stages/{map|reduce}/leaves (stage 0 or 1): {"count", "leaves"}
 * into out; COFFER_E_STATE "stage.open" before the stage closed,
 * COFFER_E_NOTFOUND "stage.unknown" for a reduce stage the job has not. */
int coord_ledger_leaves(struct coord_ledger *l, const uint8_t job[16],
    size_t stage, struct coffer_buf *out) __attribute__((warn_unused_result));

/* GET .../receipt: the envelope's text into out, or COFFER_E_STATE
 * "job.open". */
int coord_ledger_receipt(struct coord_ledger *l, const uint8_t job[16],
    struct coffer_buf *out) __attribute__((warn_unused_result));

/* GET .../bundle/{fingerprint}[?kept=M] (doc/format/receipt.md 4.1):
 * kept is 0 when not given. COFFER_E_NOTFOUND "owner.unknown". */
int coord_ledger_bundle(struct coord_ledger *l, const uint8_t job[16],
    const uint8_t owner[32], uint64_t kept, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/* GET .../result-key/{fingerprint} (key-release.md section 7).
 * COFFER_E_NOTFOUND "recipient.unknown". */
int coord_ledger_result_key(struct coord_ledger *l, const uint8_t job[16],
    const uint8_t recipient[32], struct coffer_buf *out)
	__attribute__((warn_unused_result));

/* Counts for /metrics: proofs answered by outcome (index 1 to 5), jobs
 * closed, receipts signed. */
struct coord_ledger_stats {
	uint64_t proofs[6];
	uint64_t receipts;
	uint64_t open_jobs;      /* ledgers in memory */
};
void coord_ledger_stats(const struct coord_ledger *l,
    struct coord_ledger_stats *out);

#endif
