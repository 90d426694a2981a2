// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the JSON around item proofs and for what a
// recipient reads (src/proto/itembatch.c, keyrelease.c): a proof batch
// (rules B1, B2), a close request (CL1) and a result-key answer (RR1 to
// RR4, `coffer results fetch`). The first byte chooses the parser; a
// batch that parses must re-encode to a batch that parses to the same
// proofs.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "proto/itembatch.h"
#include "proto/keyrelease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t job[16] = { 1 }, policy[32] = { 2 }, fp[32] = { 3 },
	    sk[32] = { 4 }, pk[32] = { 9 };
	uint8_t (*p)[COFFER_ITEMPROOF_LEN] = NULL, (*q)[COFFER_ITEMPROOF_LEN] = NULL;
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_ITEMPROOF_BATCH_BYTES * 2);
	struct coffer_close_request cr;
	uint8_t key[32];
	size_t n = 0, m = 0;
	char *text;

	if (size < 1 || (text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		if (coffer_itemproof_batch_parse(text, size - 1, &p, &n) != 0)
			break;
		if (n < 1 || n > COFFER_ITEMPROOF_BATCH_MAX ||
		    coffer_itemproof_batch_put((const uint8_t (*)[COFFER_ITEMPROOF_LEN])p,
		    n, &b) != 0 ||
		    coffer_itemproof_batch_parse(coffer_buf_str(&b), b.len, &q, &m) != 0 ||
		    m != n || memcmp(p, q, n * COFFER_ITEMPROOF_LEN) != 0)
			__builtin_trap();
		break;
	case 1:
		if (coffer_close_request_parse(text, size - 1, &cr) == 0 &&
		    cr.cancelled && cr.map_only)
			__builtin_trap(); /* CL1: "stage" only with "done" */
		break;
	default:
		(void)coffer_resultkey_answer_open(text, size - 1, job, policy, fp, sk,
		    pk, key);
		break;
	}
	free(p);
	free(q);
	free(text);
	coffer_buf_release(&b);
	return 0;
}
