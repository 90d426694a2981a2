// SPDX-License-Identifier: Apache-2.0
// Job receipts (doc/format/receipt.md section 2.2): the result entry, the
// leaf of a result tree, which the coordinator encodes and the worker
// parses (rule RL1).
#include <string.h>

#include "coffer/error.h"
#include "proto/jfield.h"
#include "proto/ledger.h"
#include "proto/receipt.h"

/* ---- Result entries (section 2.2) ---- */

void
coffer_receipt_result_encode(const struct coffer_result_entry *e,
    uint8_t out[COFFER_RESULT_ENTRY_LEN])
{
	out[0] = 0x02;
	out[1] = e->stage;
	coffer_store_u64be(out + 2, e->index);
	out[10] = e->status;
	memcpy(out + 11, e->attempt, 16);
	memcpy(out + 27, e->session, 16);
	memcpy(out + 43, e->input_digest, 32);
	memcpy(out + 75, e->output_digest, 32);
	coffer_store_u64be(out + 107, e->output_size);
	coffer_store_u32be(out + 115, e->error);
	coffer_store_u64be(out + 119, e->log_index);
}

int
coffer_receipt_result_parse(const uint8_t *b, size_t n,
    struct coffer_result_entry *out)
{
	struct coffer_result_entry e;

	/* RL1 */
	if (n < COFFER_RESULT_ENTRY_LEN)
		return coffer_errf(COFFER_E_TRUNCATED, "result entry of %zu bytes, "
		    "expected 127", n);
	if (n > COFFER_RESULT_ENTRY_LEN || b[0] != 0x02 || b[1] > 1 ||
	    b[10] < COFFER_ITEM_OK || b[10] > COFFER_ITEM_ABANDONED)
		return coffer_errf(COFFER_E_FORMAT, "not a result entry (length, tag, "
		    "stage or status)");
	memset(&e, 0, sizeof(e));
	e.stage = b[1];
	e.index = coffer_load_u64be(b + 2);
	e.status = b[10];
	memcpy(e.attempt, b + 11, 16);
	memcpy(e.session, b + 27, 16);
	memcpy(e.input_digest, b + 43, 32);
	memcpy(e.output_digest, b + 75, 32);
	e.output_size = coffer_load_u64be(b + 107);
	e.error = coffer_load_u32be(b + 115);
	e.log_index = coffer_load_u64be(b + 119);
	if ((e.status == COFFER_ITEM_ABANDONED &&
	    (!coffer_jfield_all_zero(e.attempt, 16) || !coffer_jfield_all_zero(e.session, 16) || e.log_index != 0)) ||
	    (e.status != COFFER_ITEM_OK &&
	    (!coffer_jfield_all_zero(e.output_digest, 32) || e.output_size != 0)) ||
	    (e.status != COFFER_ITEM_FAILED && e.error != 0))
		return coffer_errf(COFFER_E_FORMAT, "result entry: a field its status "
		    "says is zero is not");
	*out = e;
	return 0;
}
