/* SPDX-License-Identifier: Apache-2.0 */
/* The commit rule of doc/format/item-proof.md section 6 (rules C2 to C5)
 * over one item's record: the first committed proof wins; FAILED needs
 * `fail_after` distinct attempts; later proofs are duplicates, flagged
 * when they disagree. C1 (replays) and IP10 need the coordinator's table
 * of (session, seq) and are its to apply, before this. */
#ifndef COFFER_PROTO_LEDGER_H
#define COFFER_PROTO_LEDGER_H

#include <stdint.h>

#include "proto/itemproof.h"

#define COFFER_LEDGER_MAX_FAIL 16 /* tolerance.fail_after is at most 16 */

enum coffer_ledger_status {
	COFFER_ITEM_PENDING = 0,  /* no result yet (ABANDONED if the stage closes) */
	COFFER_ITEM_OK = 1,
	COFFER_ITEM_FAILED = 2,
	COFFER_ITEM_ABANDONED = 3,
};

/* One item of one stage. Zero it to start. */
struct coffer_ledger_item {
	uint8_t status;                /* enum coffer_ledger_status */
	struct coffer_itemproof winner; /* the committed proof */
	uint64_t winner_log_index;
	uint8_t nfailed;               /* distinct failed attempts so far */
	uint8_t failed[COFFER_LEDGER_MAX_FAIL][16];
	uint64_t duplicates, disagreements;
};

/*
 * Apply proof p (already checked: IP1 to IP17) with the policy's
 * fail_after (1 to 16) and the log index of the entry that records it.
 * *outcome gets COFFER_ACK_COMMITTED, _FAILURE, _DUPLICATE or
 * _DISAGREEMENT. Errors: COFFER_E_INVAL (fail_after out of range).
 */
int coffer_ledger_apply(struct coffer_ledger_item *it,
    const struct coffer_itemproof *p, unsigned fail_after, uint64_t log_index,
    uint8_t *outcome) __attribute__((warn_unused_result));

#endif
