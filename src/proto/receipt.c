// SPDX-License-Identifier: Apache-2.0
// Job receipts (doc/format/receipt.md): the trees' entries, the signed
// statement, the owner's bundle and the verification order RV1 to RV11.
// The order is the contract: cheap and local checks first, each failure
// in exactly one class, so that `coffer receipt verify` exits the same way
// for the same defect whatever else is wrong.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/jcs.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/coord_identity.h"
#include "proto/jfield.h"
#include "proto/keyrelease.h"
#include "proto/ledger.h"
#include "proto/receipt.h"
#include "proto/signed.h"

/* ---- Trees ---- */

int
coffer_receipt_input_entry(uint64_t index, const uint8_t digest[32],
    const char *key, struct coffer_buf *out)
{
	size_t n = strlen(key);
	int r;

	if (n < 1 || n > COFFER_POLICY_KEY_MAX)
		return coffer_errf(COFFER_E_INVAL, "object key of %zu bytes", n);
	if ((r = coffer_buf_put_u8(out, 0x01)) != 0 ||
	    (r = coffer_buf_put_u64be(out, index)) != 0 ||
	    (r = coffer_buf_put(out, digest, 32)) != 0 ||
	    (r = coffer_buf_put_u16be(out, (uint16_t)n)) != 0)
		return r;
	return coffer_buf_put(out, key, n);
}

int
coffer_receipt_input_root(const struct coffer_policy *p,
    const struct coffer_policy_app *a, uint64_t *count, coffer_merkle_hash root)
{
	struct coffer_buf e = COFFER_BUF_INIT(1024);
	struct coffer_merkle_stream s;
	struct coffer_policy_item *items = NULL;
	coffer_merkle_hash leaf;
	size_t n;
	int r;

	if ((r = coffer_policy_items(p, a, &items, &n)) != 0)
		return r;
	coffer_merkle_stream_init(&s);
	for (size_t i = 0; i < n; i++) {
		coffer_buf_reset(&e);
		if ((r = coffer_receipt_input_entry(items[i].index, items[i].digest,
		    items[i].key, &e)) != 0 ||
		    (r = coffer_merkle_leaf(e.data, e.len, leaf)) != 0 ||
		    (r = coffer_merkle_stream_add(&s, leaf)) != 0)
			goto out;
	}
	if ((r = coffer_merkle_stream_root(&s, root)) == 0)
		*count = n;
out:
	free(items);
	coffer_buf_release(&e);
	return r;
}

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

static int
put_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char h[2 * COFFER_POLICY_MEASUREMENT_MAX + 1];

	coffer_hex_encode(p, n, h);
	return json_object_set_new(o, k, json_string(h));
}

static json_t *
receipt_json(const struct coffer_receipt *r)
{
	struct coffer_buf ev = COFFER_BUF_INIT(2 * COFFER_RELEASE_EVIDENCE_MAX);
	struct coffer_buf idl = COFFER_BUF_INIT(COFFER_ID_LINE_MAX + 1);
	json_t *o = json_object(), *st = json_array(), *ms = json_array(), *x;
	int bad = o == NULL || st == NULL || ms == NULL;

	for (size_t i = 0; !bad && i < r->nstages; i++) {
		const struct coffer_receipt_stage *g = &r->stages[i];

		x = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "stage",
		    g->reduce ? "reduce" : "map", "count", (json_int_t)g->count, "ok",
		    (json_int_t)g->ok, "failed", (json_int_t)g->failed, "abandoned",
		    (json_int_t)g->abandoned, "duplicates", (json_int_t)g->duplicates,
		    "disagreements", (json_int_t)g->disagreements);
		bad = x == NULL || put_hex(x, "root", g->root, 32) != 0 ||
		    json_array_append_new(st, x) != 0;
	}
	for (size_t i = 0; !bad && i < r->nmeasurements; i++) {
		const struct coffer_receipt_measurement *m = &r->measurements[i];

		x = json_pack("{s:s, s:I, s:I}", "tee", coffer_tee_type_name(m->m.tee),
		    "sessions", (json_int_t)m->sessions, "items", (json_int_t)m->items);
		bad = x == NULL || put_hex(x, "measurement", m->m.value, m->m.len) != 0 ||
		    json_array_append_new(ms, x) != 0;
	}
	bad = bad || coffer_b64url_put(&ev, r->evidence, r->evidence_len) != 0 ||
	    coffer_identity_format_public(&r->coordinator, &idl) != 0;
	bad = bad || json_object_set_new(o, "type", json_string("coffer-receipt")) != 0 ||
	    json_object_set_new(o, "version", json_integer(1)) != 0 ||
	    put_hex(o, "job", r->job, 16) != 0 ||
	    put_hex(o, "policy", r->policy, 32) != 0 ||
	    json_object_set_new(o, "app", json_string(r->app)) != 0 ||
	    put_hex(o, "app_sha256", r->app_sha256, 32) != 0 ||
	    json_object_set(o, "params", r->params ? r->params : json_object()) != 0 ||
	    json_object_set_new(o, "inputs", json_pack("{s:I}", "count",
	    (json_int_t)r->input_count)) != 0 ||
	    put_hex(json_object_get(o, "inputs"), "root", r->input_root, 32) != 0 ||
	    json_object_set(o, "stages", st) != 0 ||
	    json_object_set(o, "measurements", ms) != 0 ||
	    json_object_set_new(o, "outcome", json_string(r->failed ? "failed" :
	    "completed")) != 0 ||
	    (r->failed && json_object_set_new(o, "reason", json_string(r->reason)) != 0) ||
	    json_object_set_new(o, "log", json_pack("{s:I}", "size",
	    (json_int_t)r->log_size)) != 0 ||
	    put_hex(json_object_get(o, "log"), "root", r->log_root, 32) != 0 ||
	    json_object_set_new(o, "coordinator", json_pack("{s:s, s:s}", "identity",
	    coffer_buf_str(&idl), "evidence", coffer_buf_str(&ev))) != 0 ||
	    json_object_set_new(o, "opened", json_integer((json_int_t)r->opened)) != 0 ||
	    json_object_set_new(o, "closed", json_integer((json_int_t)r->closed)) != 0;
	json_decref(st);
	json_decref(ms);
	coffer_buf_release(&ev);
	coffer_buf_release(&idl);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
coffer_receipt_sign(const struct coffer_receipt *r, const uint8_t sign_sk[32],
    struct coffer_buf *out)
{
	json_t *o = receipt_json(r);
	int e;

	if (o == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory (or a value out of range)");
	e = coffer_signed_make(o, sign_sk, out);
	json_decref(o);
	return e;
}

/* ---- The bundle ---- */

static json_t *
hashes(const coffer_merkle_hash *h, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++) {
		char x[65];

		coffer_hex_encode(h[i], 32, x);
		if (json_array_append_new(a, json_string(x)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
leaves_json(const struct coffer_bundle_leaf *l, size_t n)
{
	struct coffer_buf b = COFFER_BUF_INIT(256);
	json_t *a = json_array(), *x;

	for (size_t i = 0; a != NULL && i < n; i++) {
		coffer_buf_reset(&b);
		x = NULL;
		if (coffer_b64url_put(&b, l[i].entry, COFFER_RESULT_ENTRY_LEN) != 0 ||
		    (x = json_pack("{s:s, s:o}", "entry", coffer_buf_str(&b), "path",
		    hashes(l[i].path, l[i].pathlen))) == NULL ||
		    json_array_append_new(a, x) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	coffer_buf_release(&b);
	return a;
}

int
coffer_receipt_bundle_make(const char *receipt, size_t receipt_len,
    const uint8_t owner[32], const struct coffer_bundle_leaf *map, size_t nmap,
    const struct coffer_bundle_leaf *reduce, uint64_t cons_from, uint64_t cons_to,
    const coffer_merkle_hash *cons, size_t ncons, struct coffer_buf *out)
{
	json_t *env = NULL, *b = NULL, *res;
	char fp[65];
	int r;

	if ((r = coffer_json_parse(receipt, receipt_len, COFFER_SIGNED_RECEIPT_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &env)) != 0)
		return r;
	coffer_hex_encode(owner, 32, fp);
	res = json_array();
	b = json_pack("{s:s, s:i, s:O, s:s, s:o}", "type", "coffer-receipt-bundle",
	    "version", 1, "receipt", env, "owner", fp, "results", res);
	if (b == NULL ||
	    json_array_append_new(res, json_pack("{s:s, s:o}", "stage", "map",
	    "leaves", leaves_json(map, nmap))) != 0 ||
	    (reduce != NULL && json_array_append_new(res, json_pack("{s:s, s:o}",
	    "stage", "reduce", "leaves", leaves_json(reduce, 1))) != 0) ||
	    (cons != NULL && json_object_set_new(b, "consistency",
	    json_pack("{s:I, s:I, s:o}", "from", (json_int_t)cons_from, "to",
	    (json_int_t)cons_to, "path", hashes(cons, ncons))) != 0)) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	r = coffer_jcs_put(b, out);
out:
	json_decref(env);
	json_decref(b);
	return r;
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
