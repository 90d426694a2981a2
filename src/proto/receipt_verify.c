// SPDX-License-Identifier: Apache-2.0
// Job receipts (doc/format/receipt.md), the owner's side: the statement
// read back and the verification order RV1 to RV11 over a bundle.
// The order is the contract: cheap and local checks first, each failure
// in exactly one class, so that `coffer receipt verify` exits the same way
// for the same defect whatever else is wrong.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/coord_identity.h"
#include "proto/jfield.h"
#include "proto/keyrelease.h"
#include "proto/ledger.h"
#include "proto/receipt.h"
#include "proto/signed.h"

/* ---- The statement ---- */

void
coffer_receipt_clear(struct coffer_receipt *r)
{
	json_decref(r->params);
	free(r->measurements);
	free(r->evidence);
	memset(r, 0, sizeof(*r));
}

static int
parse_hashobj(const json_t *st, const char *key, uint64_t *n, uint8_t h[32],
    const char *nname)
{
	static const char *const count_root[] = { "count", "root", NULL };
	static const char *const size_root[] = { "size", "root", NULL };
	const json_t *o = json_object_get(st, key);
	char p[COFFER_JFIELD_PATH_MAX];
	int r;

	coffer_jfield_path(p, "receipt", key);
	if ((r = coffer_jfield_keys(o, p, strcmp(nname, "count") == 0 ? count_root :
	    size_root, NULL)) != 0 ||
	    (r = coffer_jfield_uint(o, p, nname, 0, COFFER_JFIELD_INT_MAX, n)) != 0)
		return r;
	return coffer_jfield_hex(o, p, "root", h, 32);
}

static int
parse_stages(const json_t *st, struct coffer_receipt *r)
{
	static const char *const members[] = { "stage", "count", "root", "ok",
		"failed", "abandoned", "duplicates", "disagreements", NULL };
	const json_t *a = json_object_get(st, "stages");
	char p[COFFER_JFIELD_PATH_MAX];
	const char *name;
	json_t *s;
	size_t i;
	int e;

	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > 2)
		return coffer_errf(COFFER_E_FORMAT, "receipt.stages: expected 1 or 2 "
		    "stages");
	json_array_foreach(a, i, s) {
		struct coffer_receipt_stage *g = &r->stages[i];

		coffer_jfield_index(p, "receipt.stages", i);
		if ((e = coffer_jfield_keys(s, p, members, NULL)) != 0 ||
		    (e = coffer_jfield_str(s, p, "stage", 1, 8, NULL, &name)) != 0 ||
		    (e = coffer_jfield_hex(s, p, "root", g->root, 32)) != 0 ||
		    (e = coffer_jfield_uint(s, p, "count", 0, COFFER_JFIELD_INT_MAX,
		    &g->count)) != 0 ||
		    (e = coffer_jfield_uint(s, p, "ok", 0, COFFER_JFIELD_INT_MAX,
		    &g->ok)) != 0 ||
		    (e = coffer_jfield_uint(s, p, "failed", 0, COFFER_JFIELD_INT_MAX,
		    &g->failed)) != 0 ||
		    (e = coffer_jfield_uint(s, p, "abandoned", 0, COFFER_JFIELD_INT_MAX,
		    &g->abandoned)) != 0 ||
		    (e = coffer_jfield_uint(s, p, "duplicates", 0, COFFER_JFIELD_INT_MAX,
		    &g->duplicates)) != 0 ||
		    (e = coffer_jfield_uint(s, p, "disagreements", 0,
		    COFFER_JFIELD_INT_MAX, &g->disagreements)) != 0)
			return e;
		if (strcmp(name, "map") != 0 && strcmp(name, "reduce") != 0)
			return coffer_errf(COFFER_E_FORMAT, "%s.stage: \"map\" or \"reduce\"", p);
		g->reduce = strcmp(name, "reduce") == 0;
		r->nstages++;
	}
	return 0;
}

static int
parse_measurements(const json_t *st, struct coffer_receipt *r)
{
	static const char *const members[] = { "tee", "measurement", "sessions",
		"items", NULL };
	const json_t *a = json_object_get(st, "measurements");
	char p[COFFER_JFIELD_PATH_MAX];
	const char *tee, *hex;
	json_t *m;
	size_t i;
	int e;

	if (!json_is_array(a) || json_array_size(a) > COFFER_RECEIPT_MAX_MEASUREMENTS)
		return coffer_errf(COFFER_E_FORMAT, "receipt.measurements: expected an "
		    "array of at most %d", COFFER_RECEIPT_MAX_MEASUREMENTS);
	r->measurements = coffer_calloc(json_array_size(a) ? json_array_size(a) : 1,
	    sizeof(*r->measurements));
	if (r->measurements == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	json_array_foreach(a, i, m) {
		struct coffer_receipt_measurement *x = &r->measurements[i];

		coffer_jfield_index(p, "receipt.measurements", i);
		if ((e = coffer_jfield_keys(m, p, members, NULL)) != 0 ||
		    (e = coffer_jfield_str(m, p, "tee", 1, 16, NULL, &tee)) != 0 ||
		    (e = coffer_jfield_str(m, p, "measurement", 1,
		    2 * COFFER_POLICY_MEASUREMENT_MAX, NULL, &hex)) != 0 ||
		    (e = coffer_policy_measurement_parse(tee, hex, p, &x->m)) != 0 ||
		    (e = coffer_jfield_uint(m, p, "sessions", 0, COFFER_JFIELD_INT_MAX,
		    &x->sessions)) != 0 ||
		    (e = coffer_jfield_uint(m, p, "items", 0, COFFER_JFIELD_INT_MAX,
		    &x->items)) != 0)
			return e;
		r->nmeasurements++;
	}
	return 0;
}

/* RV1 for the statement: members and types only; meaning is RV2 on. */
static int
parse_receipt(const json_t *st, struct coffer_receipt *r)
{
	static const char *const members[] = { "type", "version", "job", "policy",
		"app", "app_sha256", "params", "inputs", "stages", "measurements",
		"outcome", "log", "coordinator", "opened", "closed", NULL };
	static const char *const optional[] = { "reason", NULL };
	static const char *const cmembers[] = { "identity", "evidence", NULL };
	struct coffer_buf ev = COFFER_BUF_INIT(COFFER_RELEASE_EVIDENCE_MAX + 1);
	const json_t *c = json_object_get(st, "coordinator");
	const char *app, *outcome, *reason, *k;
	json_t *v, *pv;
	int e;

	if ((e = coffer_jfield_keys(st, "receipt", members, optional)) != 0 ||
	    (e = coffer_jfield_version(st, "receipt")) != 0 ||
	    (e = coffer_jfield_hex(st, "receipt", "job", r->job, 16)) != 0 ||
	    (e = coffer_jfield_hex(st, "receipt", "policy", r->policy, 32)) != 0 ||
	    (e = coffer_jfield_str(st, "receipt", "app", 1, COFFER_POLICY_NAME_MAX,
	    COFFER_JFIELD_LOWER_NAME, &app)) != 0 ||
	    (e = coffer_jfield_hex(st, "receipt", "app_sha256", r->app_sha256, 32)) != 0 ||
	    (e = parse_hashobj(st, "inputs", &r->input_count, r->input_root,
	    "count")) != 0 ||
	    (e = parse_stages(st, r)) != 0 ||
	    (e = parse_measurements(st, r)) != 0 ||
	    (e = coffer_jfield_str(st, "receipt", "outcome", 1, 16, NULL,
	    &outcome)) != 0 ||
	    (e = parse_hashobj(st, "log", &r->log_size, r->log_root, "size")) != 0 ||
	    (e = coffer_jfield_keys(c, "receipt.coordinator", cmembers, NULL)) != 0 ||
	    (e = coffer_jfield_identity(c, "receipt.coordinator", "identity",
	    &r->coordinator)) != 0 ||
	    (e = coffer_jfield_blob(c, "receipt.coordinator", "evidence",
	    COFFER_RELEASE_EVIDENCE_MAX, &ev)) != 0 ||
	    (e = coffer_jfield_uint(st, "receipt", "opened", 0, COFFER_JFIELD_INT_MAX,
	    &r->opened)) != 0 ||
	    (e = coffer_jfield_uint(st, "receipt", "closed", 0, COFFER_JFIELD_INT_MAX,
	    &r->closed)) != 0)
		goto out;
	memcpy(r->app, app, strlen(app) + 1);
	if (strcmp(outcome, "completed") != 0 && strcmp(outcome, "failed") != 0) {
		e = coffer_errf(COFFER_E_FORMAT, "receipt.outcome: \"completed\" or "
		    "\"failed\"");
		goto out;
	}
	r->failed = strcmp(outcome, "failed") == 0;
	if (json_object_get(st, "reason") != NULL) {
		if ((e = coffer_jfield_str(st, "receipt", "reason", 1, 64,
		    "abcdefghijklmnopqrstuvwxyz0123456789._", &reason)) != 0)
			goto out;
		memcpy(r->reason, reason, strlen(reason) + 1);
	}
	v = json_object_get(st, "params");
	if (!json_is_object(v) || json_object_size(v) > 64) {
		e = coffer_errf(COFFER_E_FORMAT, "receipt.params: expected an object");
		goto out;
	}
	json_object_foreach(v, k, pv)
		if (!json_is_string(pv)) {
			e = coffer_errf(COFFER_E_FORMAT, "receipt.params.%s: expected a "
			    "string", k);
			goto out;
		}
	r->params = json_incref(v);
	if (coffer_buf_detach(&ev, &r->evidence, &r->evidence_len) != 0)
		e = coffer_errf(COFFER_E_NOMEM, "out of memory");
out:
	coffer_buf_release(&ev);
	return e;
}

/* ---- Verification ---- */

struct leaf {
	struct coffer_result_entry e;
	uint8_t raw[COFFER_RESULT_ENTRY_LEN];
	size_t pathlen;
	coffer_merkle_hash path[COFFER_MERKLE_MAX_PATH];
};

struct parsed {
	json_t *root;
	struct coffer_signed sig;
	size_t nstages;
	size_t nleaves[2];
	struct leaf *leaves[2];
	int stage_reduce[2];
	int has_cons;
	uint64_t cons_from, cons_to;
	size_t ncons;
	coffer_merkle_hash cons[COFFER_MERKLE_MAX_CONSISTENCY];
};

static void
parsed_release(struct parsed *b)
{
	json_decref(b->root);
	coffer_signed_release(&b->sig);
	free(b->leaves[0]);
	free(b->leaves[1]);
}

static int
parse_path(const json_t *a, const char *ctx, size_t max, coffer_merkle_hash *out,
    size_t *n)
{
	char p[COFFER_JFIELD_PATH_MAX];
	json_t *h;
	size_t i;
	int r;

	if (!json_is_array(a) || json_array_size(a) > max)
		return coffer_errf(COFFER_E_FORMAT, "%s: expected at most %zu hashes",
		    ctx, max);
	json_array_foreach(a, i, h) {
		coffer_jfield_index(p, ctx, i);
		if ((r = coffer_jfield_hexval(h, p, out[i], 32)) != 0)
			return r;
	}
	*n = json_array_size(a);
	return 0;
}

/* RV1 over the bundle (the statement is parse_receipt's). */
static int
parse_bundle(const struct coffer_receipt_check *in, struct parsed *b,
    struct coffer_receipt *rc)
{
	static const char *const members[] = { "type", "version", "receipt", "owner",
		"results", NULL };
	static const char *const optional[] = { "consistency", NULL };
	static const char *const smembers[] = { "stage", "leaves", NULL };
	static const char *const lmembers[] = { "entry", "path", NULL };
	static const char *const cmembers[] = { "from", "to", "path", NULL };
	struct coffer_buf blob = COFFER_BUF_INIT(256);
	char p[COFFER_JFIELD_PATH_MAX], lp[COFFER_JFIELD_PATH_MAX],
	    xp[COFFER_JFIELD_PATH_MAX];
	const json_t *res, *cons;
	const char *name;
	uint8_t owner[32];
	json_t *s, *l;
	size_t i, j;
	int r;

	if ((r = coffer_json_parse(in->bundle, in->bundle_len,
	    COFFER_RECEIPT_BUNDLE_MAX, COFFER_JSON_MAX_DEPTH_DEFAULT, &b->root)) != 0 ||
	    (r = coffer_jfield_keys(b->root, "bundle", members, optional)) != 0 ||
	    (r = coffer_jfield_type(b->root, "bundle", "coffer-receipt-bundle")) != 0 ||
	    (r = coffer_jfield_version(b->root, "bundle")) != 0 ||
	    (r = coffer_jfield_hex(b->root, "bundle", "owner", owner, 32)) != 0 ||
	    (r = coffer_signed_from_json(json_object_get(b->root, "receipt"),
	    "coffer-receipt", &b->sig)) != 0 ||
	    (r = parse_receipt(b->sig.statement, rc)) != 0)
		goto out;
	if (memcmp(owner, in->owner, 32) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "bundle.owner: this bundle is for "
		    "another owner");
		goto out;
	}
	res = json_object_get(b->root, "results");
	if (!json_is_array(res) || json_array_size(res) < 1 || json_array_size(res) > 2) {
		r = coffer_errf(COFFER_E_FORMAT, "bundle.results: expected 1 or 2 stages");
		goto out;
	}
	json_array_foreach(res, i, s) {
		const json_t *ls;

		coffer_jfield_index(p, "bundle.results", i);
		if ((r = coffer_jfield_keys(s, p, smembers, NULL)) != 0 ||
		    (r = coffer_jfield_str(s, p, "stage", 1, 8, NULL, &name)) != 0)
			goto out;
		if (strcmp(name, "map") != 0 && strcmp(name, "reduce") != 0) {
			r = coffer_errf(COFFER_E_FORMAT, "%s.stage: \"map\" or \"reduce\"", p);
			goto out;
		}
		b->stage_reduce[i] = strcmp(name, "reduce") == 0;
		ls = json_object_get(s, "leaves");
		coffer_jfield_path(lp, p, "leaves");
		if (!json_is_array(ls) || json_array_size(ls) > COFFER_POLICY_MAX_OBJECTS) {
			r = coffer_errf(COFFER_E_FORMAT, "%s: expected at most %d leaves",
			    lp, COFFER_POLICY_MAX_OBJECTS);
			goto out;
		}
		b->leaves[i] = coffer_calloc(json_array_size(ls) ? json_array_size(ls) : 1,
		    sizeof(struct leaf));
		if (b->leaves[i] == NULL) {
			r = coffer_errf(COFFER_E_NOMEM, "out of memory");
			goto out;
		}
		b->nstages++;
		json_array_foreach(ls, j, l) {
			struct leaf *x = &b->leaves[i][j];

			coffer_jfield_index(xp, lp, j);
			if ((r = coffer_jfield_keys(l, xp, lmembers, NULL)) != 0 ||
			    (r = coffer_jfield_blob(l, xp, "entry", 256, &blob)) != 0 ||
			    (r = coffer_receipt_result_parse(blob.data, blob.len, &x->e)) != 0)
				goto out;
			memcpy(x->raw, blob.data, COFFER_RESULT_ENTRY_LEN);
			coffer_jfield_path(p, xp, "path");
			if ((r = parse_path(json_object_get(l, "path"), p,
			    COFFER_MERKLE_MAX_PATH, x->path, &x->pathlen)) != 0)
				goto out;
			b->nleaves[i]++;
		}
		coffer_jfield_index(p, "bundle.results", i);
	}
	if ((cons = json_object_get(b->root, "consistency")) != NULL) {
		if ((r = coffer_jfield_keys(cons, "bundle.consistency", cmembers,
		    NULL)) != 0 ||
		    (r = coffer_jfield_uint(cons, "bundle.consistency", "from", 0,
		    COFFER_JFIELD_INT_MAX, &b->cons_from)) != 0 ||
		    (r = coffer_jfield_uint(cons, "bundle.consistency", "to", 0,
		    COFFER_JFIELD_INT_MAX, &b->cons_to)) != 0 ||
		    (r = parse_path(json_object_get(cons, "path"),
		    "bundle.consistency.path", COFFER_MERKLE_MAX_CONSISTENCY, b->cons,
		    &b->ncons)) != 0)
			goto out;
		b->has_cons = 1;
	}
out:
	coffer_buf_release(&blob);
	return r;
}

static int
cmp_measurement(const struct coffer_policy_measurement *a,
    const struct coffer_policy_measurement *b)
{
	int c = strcmp(coffer_tee_type_name(a->tee), coffer_tee_type_name(b->tee));
	char x[2 * COFFER_POLICY_MEASUREMENT_MAX + 1], y[sizeof(x)];

	if (c != 0)
		return c;
	coffer_hex_encode(a->value, a->len, x);
	coffer_hex_encode(b->value, b->len, y);
	return strcmp(x, y);
}

/* RV7 */
static int
check_stages(const struct coffer_receipt *rc, const struct coffer_policy_app *a)
{
	if (rc->nstages != (a->reduce ? 2u : 1u) || rc->stages[0].reduce ||
	    (a->reduce && !rc->stages[1].reduce))
		return coffer_errf(COFFER_E_POLICY, "receipt.stages: the app has %s",
		    a->reduce ? "a map and a reduce stage" : "a map stage only");
	if (rc->stages[0].count != rc->input_count ||
	    (a->reduce && rc->stages[1].count != 1))
		return coffer_errf(COFFER_E_POLICY, "receipt.stages: a stage's count is "
		    "not its number of items");
	for (size_t i = 0; i < rc->nstages; i++) {
		const struct coffer_receipt_stage *g = &rc->stages[i];

		if (g->ok > g->count || g->failed > g->count - g->ok ||
		    g->ok + g->failed + g->abandoned != g->count)
			return coffer_errf(COFFER_E_POLICY, "receipt.stages[%zu]: ok + "
			    "failed + abandoned is not count", i);
		if (g->disagreements > g->duplicates)
			return coffer_errf(COFFER_E_POLICY, "receipt.stages[%zu]: more "
			    "disagreements than duplicates", i);
	}
	if (rc->failed != (rc->reason[0] != '\0'))
		return coffer_errf(COFFER_E_POLICY, "receipt.reason: present exactly "
		    "when the outcome is failed");
	return 0;
}

/* RV9 for one leaf: content (7), then path (4). */
static int
check_leaf(const struct leaf *x, int reduce, uint64_t index, const uint8_t din[32],
    const struct coffer_receipt_stage *g, int *tampered)
{
	coffer_merkle_hash h;
	int r;

	if (x->e.stage != (reduce ? 1 : 0) || x->e.index != index ||
	    memcmp(x->e.input_digest, din, 32) != 0)
		return coffer_errf(COFFER_E_POLICY, "%s leaf %llu: not the entry of "
		    "that item with its pinned input digest", reduce ? "reduce" : "map",
		    (unsigned long long)index);
	if ((r = coffer_merkle_leaf(x->raw, sizeof(x->raw), h)) != 0)
		return r;
	if ((r = coffer_merkle_verify_inclusion(h, index, g->count, x->path,
	    x->pathlen, g->root)) != 0) {
		*tampered = 1;
		return coffer_errctx(r, "%s leaf %llu", reduce ? "reduce" : "map",
		    (unsigned long long)index);
	}
	return 0;
}

void
coffer_receipt_report_clear(struct coffer_receipt_report *rep)
{
	coffer_receipt_clear(&rep->receipt);
	free(rep->items);
	memset(rep, 0, sizeof(*rep));
}

#define FAIL(cls, rule_) do { rep->class = (cls); rep->rule = (rule_); goto out; } while (0)

int
coffer_receipt_verify(const struct coffer_receipt_check *in,
    struct coffer_receipt_report *rep)
{
	const struct coffer_policy *pol = in->policy;
	struct coffer_receipt *rc = &rep->receipt;
	struct coffer_policy_item *items = NULL;
	const struct coffer_policy_app *app;
	struct parsed b;
	coffer_merkle_hash iroot;
	uint8_t rd[64];
	uint64_t icount;
	size_t nitems = 0, mine = 0, k;
	int owner, tampered = 0, r;

	memset(rep, 0, sizeof(*rep));
	memset(&b, 0, sizeof(b));
	coffer_signed_init(&b.sig);
	/* RV1 */
	if ((r = parse_bundle(in, &b, rc)) != 0)
		FAIL(COFFER_RECEIPT_MALFORMED, "RV1");
	/* RV2: our coordinator, and the policy's. */
	if (!coffer_policy_same_identity(&rc->coordinator, in->pinned) ||
	    !coffer_policy_same_identity(&rc->coordinator, &pol->coordinator)) {
		r = coffer_errf(COFFER_E_UNTRUSTED, "receipt.coordinator: not the pinned "
		    "coordinator of this policy (a receipt from another coordinator)");
		FAIL(COFFER_RECEIPT_REJECTED, "RV2");
	}
	/* RV3 */
	if ((r = coffer_signed_verify(&b.sig, rc->coordinator.sign_pk)) != 0)
		FAIL(COFFER_RECEIPT_TAMPERED, "RV3");
	/* RV4 */
	if ((r = coffer_coord_identity_report_data(rc->coordinator.sign_pk,
	    rc->coordinator.kx_pk, rd)) != 0)
		goto out;
	if (in->check_evidence == NULL ||
	    (r = in->check_evidence(in->arg, rc->evidence, rc->evidence_len, rd)) != 0) {
		r = coffer_errctx(r != 0 ? r : COFFER_E_UNTRUSTED,
		    "receipt.coordinator.evidence");
		FAIL(COFFER_RECEIPT_REJECTED, "RV4");
	}
	/* RV5 */
	if (memcmp(rc->policy, pol->hash, 32) != 0) {
		r = coffer_errf(COFFER_E_POLICY, "receipt.policy: not the policy given");
		FAIL(COFFER_RECEIPT_REJECTED, "RV5");
	}
	if ((app = coffer_policy_app(pol, rc->app)) == NULL ||
	    memcmp(app->sha256, rc->app_sha256, 32) != 0) {
		r = coffer_errf(COFFER_E_POLICY, "receipt.app: not an app of the policy "
		    "with that SHA-256");
		FAIL(COFFER_RECEIPT_REJECTED, "RV5");
	}
	if ((r = coffer_policy_check_params(app, rc->params)) != 0)
		FAIL(COFFER_RECEIPT_REJECTED, "RV5");
	/* RV6 */
	if ((r = coffer_receipt_input_root(pol, app, &icount, iroot)) != 0)
		goto out;
	if (icount != rc->input_count || memcmp(iroot, rc->input_root, 32) != 0) {
		r = coffer_errf(COFFER_E_POLICY, "receipt.inputs: not the items the "
		    "policy fixes for app %s", app->name);
		FAIL(COFFER_RECEIPT_REJECTED, "RV6");
	}
	/* RV7 */
	if ((r = check_stages(rc, app)) != 0)
		FAIL(COFFER_RECEIPT_REJECTED, "RV7");
	/* RV8 */
	for (size_t i = 0; i < rc->nmeasurements; i++) {
		if (!coffer_policy_app_allows(app, &rc->measurements[i].m)) {
			r = coffer_errf(COFFER_E_POLICY, "receipt.measurements[%zu]: not "
			    "approved for app %s", i, app->name);
			FAIL(COFFER_RECEIPT_REJECTED, "RV8");
		}
		if (i > 0 && cmp_measurement(&rc->measurements[i - 1].m,
		    &rc->measurements[i].m) >= 0) {
			r = coffer_errf(COFFER_E_POLICY, "receipt.measurements: not sorted, "
			    "or one listed twice");
			FAIL(COFFER_RECEIPT_REJECTED, "RV8");
		}
	}
	/* RV9 */
	if (b.nstages != rc->nstages || b.stage_reduce[0] ||
	    (b.nstages == 2 && !b.stage_reduce[1])) {
		r = coffer_errf(COFFER_E_POLICY, "bundle.results: not one element per "
		    "stage of the receipt");
		FAIL(COFFER_RECEIPT_REJECTED, "RV9");
	}
	if ((r = coffer_policy_items(pol, app, &items, &nitems)) != 0)
		goto out;
	owner = coffer_policy_owner_index(pol, in->owner);
	for (size_t i = 0; i < nitems; i++)
		if ((int)items[i].owner == owner)
			mine++;
	if (b.nleaves[0] != mine) {
		r = coffer_errf(COFFER_E_POLICY, "bundle.results[0]: %zu leaves for %zu "
		    "items of this owner", b.nleaves[0], mine);
		FAIL(COFFER_RECEIPT_REJECTED, "RV9");
	}
	rep->items = coffer_calloc(mine ? mine : 1, sizeof(*rep->items));
	if (rep->items == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	k = 0;
	for (size_t i = 0; i < nitems; i++) {
		if ((int)items[i].owner != owner)
			continue;
		if ((r = check_leaf(&b.leaves[0][k], 0, items[i].index, items[i].digest,
		    &rc->stages[0], &tampered)) != 0)
			FAIL(tampered ? COFFER_RECEIPT_TAMPERED : COFFER_RECEIPT_REJECTED,
			    "RV9");
		rep->items[k].index = items[i].index;
		rep->items[k].key = items[i].key;
		rep->items[k].map = b.leaves[0][k].e;
		rep->nitems = ++k;
	}
	if (rc->nstages == 2) {
		if (b.nleaves[1] != 1) {
			r = coffer_errf(COFFER_E_POLICY, "bundle.results[1]: expected the "
			    "one reduce leaf");
			FAIL(COFFER_RECEIPT_REJECTED, "RV9");
		}
		if ((r = check_leaf(&b.leaves[1][0], 1, 0, rc->stages[0].root,
		    &rc->stages[1], &tampered)) != 0)
			FAIL(tampered ? COFFER_RECEIPT_TAMPERED : COFFER_RECEIPT_REJECTED,
			    "RV9");
		rep->has_reduce = 1;
		rep->reduce = b.leaves[1][0].e;
	}
	/* RV10 */
	if (in->kept != NULL && in->kept->size == rc->log_size) {
		if (memcmp(in->kept->root, rc->log_root, 32) != 0) {
			r = coffer_errf(COFFER_E_POLICY, "receipt.log: another root for the "
			    "log of %llu entries than the kept head: the log forked",
			    (unsigned long long)rc->log_size);
			FAIL(COFFER_RECEIPT_FORK, "RV10");
		}
		rep->log_checked = 1;
	} else if (in->kept != NULL && b.has_cons) {
		int up = in->kept->size < rc->log_size;
		uint64_t f = up ? in->kept->size : rc->log_size;
		uint64_t t = up ? rc->log_size : in->kept->size;

		if (b.cons_from == f && b.cons_to == t) {
			if ((r = coffer_merkle_verify_consistency(f, t,
			    up ? in->kept->root : rc->log_root,
			    up ? rc->log_root : in->kept->root, b.cons, b.ncons)) != 0) {
				r = coffer_errctx(r, "receipt.log and the kept head: the log "
				    "forked");
				FAIL(COFFER_RECEIPT_FORK, "RV10");
			}
			rep->log_checked = 1;
		}
	}
	/* RV11 */
	if (rc->failed) {
		r = coffer_errf(COFFER_E_POLICY, "the job failed: %s", rc->reason);
		FAIL(COFFER_RECEIPT_INCOMPLETE, "RV11");
	}
	for (size_t i = 0; i < rc->nstages; i++)
		if (rc->stages[i].failed > pol->max_failed ||
		    rc->stages[i].abandoned > pol->max_abandoned) {
			r = coffer_errf(COFFER_E_POLICY, "the %s stage has %llu FAILED and "
			    "%llu ABANDONED items, beyond the policy's tolerance",
			    rc->stages[i].reduce ? "reduce" : "map",
			    (unsigned long long)rc->stages[i].failed,
			    (unsigned long long)rc->stages[i].abandoned);
			FAIL(COFFER_RECEIPT_INCOMPLETE, "RV11");
		}
	for (size_t i = 0; i < rep->nitems; i++)
		if (rep->items[i].map.status != COFFER_ITEM_OK) {
			r = coffer_errf(COFFER_E_POLICY, "item %s is %s", rep->items[i].key,
			    rep->items[i].map.status == COFFER_ITEM_FAILED ? "FAILED" :
			    "ABANDONED");
			FAIL(COFFER_RECEIPT_INCOMPLETE, "RV11");
		}
	if (rep->has_reduce && rep->reduce.status != COFFER_ITEM_OK) {
		r = coffer_errf(COFFER_E_POLICY, "the reduce stage did not complete");
		FAIL(COFFER_RECEIPT_INCOMPLETE, "RV11");
	}
	rep->class = COFFER_RECEIPT_VALID;
	rep->rule = NULL;
out:
	free(items);
	parsed_release(&b);
	if (r != 0 && rep->rule == NULL) {
		/* An internal failure (memory): not a verdict on the receipt. */
		rep->class = COFFER_RECEIPT_MALFORMED;
		rep->rule = "internal";
	}
	return r;
}
