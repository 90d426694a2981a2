// SPDX-License-Identifier: Apache-2.0
// Job receipts (doc/format/receipt.md), the coordinator's side: the input
// tree, the signed statement and the owner's bundle. The result entry is
// receipt_result.c (the worker reads it too), the verification order
// receipt_verify.c (the owner's CLI), so that neither trusted binary links
// what only the other side needs.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/jcs.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/keyrelease.h"
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

/* ---- The statement ---- */

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
