// SPDX-License-Identifier: Apache-2.0
// The commit rule (doc/format/item-proof.md section 6). A pure function of
// the item's record and the proof, so that an auditor replaying the log
// with the same rule derives the same winners as the coordinator did.
#include <string.h>

#include "coffer/error.h"
#include "proto/ledger.h"

/* C5: does a later proof agree with the result? Same kind and, for OK, the
 * same output. */
static int
agrees(const struct coffer_itemproof *w, const struct coffer_itemproof *p)
{
	if (w->result != p->result)
		return 0;
	return p->result != COFFER_RESULT_OK ||
	    memcmp(w->output_digest, p->output_digest, 32) == 0;
}

int
coffer_ledger_apply(struct coffer_ledger_item *it, const struct coffer_itemproof *p,
    unsigned fail_after, uint64_t log_index, uint8_t *outcome)
{
	int seen = 0;

	if (fail_after < 1 || fail_after > COFFER_LEDGER_MAX_FAIL)
		return coffer_errf(COFFER_E_INVAL, "fail_after %u is out of [1, 16]",
		    fail_after);
	/* C5 */
	if (it->status == COFFER_ITEM_OK || it->status == COFFER_ITEM_FAILED) {
		it->duplicates++;
		if (agrees(&it->winner, p)) {
			*outcome = COFFER_ACK_DUPLICATE;
		} else {
			it->disagreements++;
			*outcome = COFFER_ACK_DISAGREEMENT;
		}
		return 0;
	}
	if (it->status != COFFER_ITEM_PENDING)
		return coffer_errf(COFFER_E_STATE, "the item's stage is closed");
	/* C2 */
	if (p->result == COFFER_RESULT_OK) {
		it->status = COFFER_ITEM_OK;
		it->winner = *p;
		it->winner_log_index = log_index;
		*outcome = COFFER_ACK_COMMITTED;
		return 0;
	}
	/* C3, C4: count each attempt once. */
	for (unsigned i = 0; i < it->nfailed; i++)
		if (memcmp(it->failed[i], p->attempt, 16) == 0)
			seen = 1;
	if (!seen && it->nfailed < COFFER_LEDGER_MAX_FAIL)
		memcpy(it->failed[it->nfailed++], p->attempt, 16);
	if (it->nfailed >= fail_after) {
		it->status = COFFER_ITEM_FAILED;
		it->winner = *p;
		it->winner_log_index = log_index;
		*outcome = COFFER_ACK_COMMITTED;
		return 0;
	}
	*outcome = COFFER_ACK_FAILURE;
	return 0;
}
