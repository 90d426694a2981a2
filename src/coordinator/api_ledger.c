// SPDX-License-Identifier: Apache-2.0
// The routes of a job's results (doc/format/item-proof.md sections 7 and
// 8, doc/format/receipt.md section 4.1, doc/protocol/key-release.md
// section 7): item proofs, closing, the map results, the receipt, owners'
// bundles and recipients' result keys. Bodies are parsed by src/proto
// (rules B1, B2, CL1); the ledger (ledger.h) decides the rest.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "coordinator/group.h"
#include "coordinator/ledger.h"
#include "coordinator/waiters.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "lib/num.h"
#include "proto/itembatch.h"
#include "proto/receipt.h"
#include "proto/signed.h"

/* 80-byte answers, base64url and quoted, and the object around them. */
#define ACKS_MAX (COFFER_ITEMPROOF_BATCH_MAX * 112 + 64)

/* The answers wait for the commit of the group the request joins
 * (doc/coordinator.md section 10.1, rules G1 to G6). */
void
api_proofs(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_buf out = COFFER_BUF_INIT(ACKS_MAX);
	uint8_t (*parsed)[COFFER_ITEMPROOF_LEN] = NULL;
	const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN];
	uint8_t (*acks)[COFFER_ITEMACK_LEN] = NULL;
	uint64_t outcomes[6] = { 0 };
	uint8_t job[16];
	size_t n = 0;
	int binary, e, wrote = 0;

	if (coord_path_job(r, job) != 0)
		return;
	/* BB1 and B2 (read in place), or B1 and B2 */
	binary = coffer_itemproof_batch_is_binary(http_req_header(r, "Content-Type"));
	if (binary)
		e = coffer_itemproof_batch_parse_binary((const uint8_t *)r->body,
		    r->body_len, &n);
	else
		e = coffer_itemproof_batch_parse(r->body, r->body_len, &parsed, &n);
	if (e != 0) {
		coord_refuse_err(r, e, "request.malformed");
		goto out;
	}
	proofs = binary ? (const uint8_t (*)[COFFER_ITEMPROOF_LEN])r->body :
	    (const uint8_t (*)[COFFER_ITEMPROOF_LEN])parsed;
	if ((acks = coffer_mallocarray(n, sizeof(*acks))) == NULL) {
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		goto out;
	}
	/* G1: into the group's transaction; B3, then every proof */
	if ((e = coord_group_join(c->group)) != 0) {
		coord_refuse_err(r, e, NULL);
		goto out;
	}
	if ((e = coord_ledger_proofs(c->ledger, job, proofs, n, acks, outcomes,
	    &wrote)) != 0) {
		if (wrote)
			coord_group_fail(c->group, r, e);   /* G5 */
		else
			coord_refuse_err(r, e, NULL);       /* G6 */
		goto out;
	}
	/* G4: answered after the group's commit */
	if (binary) {
		coord_group_add(c->group, r, COFFER_ITEMPROOF_BATCH_BINARY, acks,
		    n * COFFER_ITEMACK_LEN, outcomes, n);
		goto out;
	}
	if ((e = coffer_itemack_batch_put((const uint8_t (*)[COFFER_ITEMACK_LEN])acks,
	    n, &out)) != 0) {
		/* An error claims nothing: the worker sends the proofs again
		 * and gets their answers then (C1). */
		http_reply_coffer_err(r, e);
		goto out;
	}
	coord_group_add(c->group, r, "application/json", out.data, out.len,
	    outcomes, n);
out:
	free(parsed);
	free(acks);
	coffer_buf_release(&out);
}

void
api_job_close(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_close_request req;
	json_t *answer = NULL;
	uint8_t job[16];
	int e;

	if (coord_path_job(r, job) != 0)
		return;
	/* CL1, CL2, then the table of section 7.1 */
	if ((e = coffer_close_request_parse(r->body, r->body_len, &req)) != 0) {
		coord_refuse_err(r, e, "request.malformed");
		return;
	}
	if ((e = coord_ledger_close(c->ledger, job, &req, &answer)) != 0) {
		coord_refuse_err(r, e, NULL);
		return;
	}
	http_reply_json(r, 200, answer);
	/* LW3: a stage it closed answers the requests waiting for it. */
	coord_waiters_wake(c->waiters);
}

void
api_receipt(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_buf out = COFFER_BUF_INIT(COFFER_SIGNED_RECEIPT_MAX);
	uint8_t job[16];
	int e;

	if (coord_path_job(r, job) != 0)
		return;
	if ((e = coord_ledger_receipt(c->ledger, job, &out)) != 0)
		coord_refuse_err(r, e, NULL);
	else
		http_reply_text(r, 200, "application/json", coffer_buf_str(&out),
		    out.len);
	coffer_buf_release(&out);
}

/* LW1: ?wait=S holds a stage.open answer up to S seconds (waiters.h). */
void
api_stage_leaves(struct http_req *r)
{
	struct coord *c = r->ctx;
	const char *stage = http_req_param(r, "stage");
	uint8_t job[16];
	int64_t wait = 0;

	if (coord_path_job(r, job) != 0)
		return;
	if (http_req_query_int(r, "wait", 1, COORD_LEAVES_WAIT_MAX_S, &wait) < 0) {
		coord_refuse(r, "request.malformed", "wait", "wait: seconds to wait "
		    "for the stage to close, an integer from 1 to %d",
		    COORD_LEAVES_WAIT_MAX_S);
		return;
	}
	if (strcmp(stage, "map") != 0 && strcmp(stage, "reduce") != 0) {
		coord_refuse(r, "stage.unknown", "stage", "a stage is map or reduce");
		return;
	}
	coord_waiters_leaves(c->waiters, r, job, strcmp(stage, "reduce") == 0,
	    (int)wait);
}

/* {fingerprint}: 64 lower-case hex digits, else the route's not-found. */
static int
path_fingerprint(struct http_req *r, const char *reason, uint8_t fp[32])
{
	const char *s = http_req_param(r, "fingerprint");
	size_t n;

	if (s == NULL || strlen(s) != 64 || strspn(s, "0123456789abcdef") != 64 ||
	    coffer_hex_decode(s, 64, fp, 32, &n) != 0) {
		coord_refuse(r, reason, "fingerprint", "a fingerprint is 64 lower-case "
		    "hex digits");
		return -1;
	}
	return 0;
}

void
api_bundle(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_buf out = COFFER_BUF_INIT(COFFER_RECEIPT_BUNDLE_MAX);
	uint8_t job[16], owner[32];
	char v[24];
	int64_t kept = 0;
	int e, q;

	if (coord_path_job(r, job) != 0 ||
	    path_fingerprint(r, "owner.unknown", owner) != 0)
		goto out;
	q = http_req_query(r, "kept", v, sizeof(v));
	if (q < 0 || (q == 1 && coffer_parse_i64(v, 0, INT64_MAX, &kept) != 0)) {
		coord_refuse(r, "request.malformed", "kept", "kept: the size of a log "
		    "head, a non-negative integer");
		goto out;
	}
	if ((e = coord_ledger_bundle(c->ledger, job, owner, (uint64_t)kept,
	    &out)) != 0)
		coord_refuse_err(r, e, NULL);
	else
		http_reply_text(r, 200, "application/json", coffer_buf_str(&out),
		    out.len);
out:
	coffer_buf_release(&out);
}

void
api_result_key(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_buf out = COFFER_BUF_INIT(4096);
	uint8_t job[16], who[32];
	int e;

	if (coord_path_job(r, job) != 0 ||
	    path_fingerprint(r, "recipient.unknown", who) != 0)
		goto out;
	if ((e = coord_ledger_result_key(c->ledger, job, who, &out)) != 0)
		coord_refuse_err(r, e, NULL);
	else
		http_reply_text(r, 200, "application/json", coffer_buf_str(&out),
		    out.len);
out:
	coffer_buf_release(&out);
}
