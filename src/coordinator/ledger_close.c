// SPDX-License-Identifier: Apache-2.0
// The end of a job (doc/format/item-proof.md section 7, doc/format/
// receipt.md): stages close into result trees, the job closes, and the
// coordinator signs one receipt, all in the transaction of what closed it
// (a proof, a refusal under IP15 to IP17, or a close request), so that a
// job is closed and its receipt signed exactly once; afterwards the
// receipt, the owners' bundles and the recipients' result keys are read
// from what that commit recorded.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/jobkeys.h"
#include "coordinator/ledger_int.h"
#include "coordinator/rtree.h"
#include "crypto/hash.h"
#include "lib/enc.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "proto/keyrelease.h"
#include "proto/signed.h"

/* ---- Result entries (receipt.md section 2.2) ---- */

int
ledger_stage_entries(const struct ljob *j, size_t s,
    struct coffer_result_entry **out)
{
	const struct lstage *g = &j->st[s];
	struct coffer_result_entry *e;

	if ((e = coffer_calloc(g->count, sizeof(*e))) == NULL)
		return COFFER_E_NOMEM;
	for (uint64_t i = 0; i < g->count; i++) {
		const struct coffer_ledger_item *it = &g->items[i];

		e[i].stage = (uint8_t)s;
		e[i].index = s == 0 ? j->items[i].index : 0;
		memcpy(e[i].input_digest, s == 0 ? j->items[i].digest : j->st[0].root,
		    32);
		if (it->status != COFFER_ITEM_OK && it->status != COFFER_ITEM_FAILED) {
			/* No result when its stage closed. */
			e[i].status = COFFER_ITEM_ABANDONED;
			continue;
		}
		e[i].status = it->status;
		memcpy(e[i].attempt, it->winner.attempt, 16);
		memcpy(e[i].session, it->winner.session, 16);
		e[i].log_index = it->winner_log_index;
		if (it->status == COFFER_ITEM_OK) {
			memcpy(e[i].output_digest, it->winner.output_digest, 32);
			e[i].output_size = it->winner.output_size;
		} else {
			e[i].error = it->winner.error;
		}
	}
	*out = e;
	return 0;
}

/* The stage's tree over its entries: raw entries (may be NULL) and the
 * tree by levels. */
static int
stage_tree(const struct ljob *j, size_t s,
    uint8_t (**raw)[COFFER_RESULT_ENTRY_LEN], struct rtree *t)
{
	struct coffer_result_entry *e = NULL;
	uint8_t (*b)[COFFER_RESULT_ENTRY_LEN] = NULL;
	coffer_merkle_hash *h = NULL;
	uint64_t n = j->st[s].count;
	int r;

	if ((r = ledger_stage_entries(j, s, &e)) != 0)
		return r;
	if ((b = coffer_mallocarray(n, sizeof(*b))) == NULL ||
	    (h = coffer_mallocarray(n, sizeof(*h))) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < n; i++) {
		coffer_receipt_result_encode(&e[i], b[i]);
		if ((r = coffer_merkle_leaf(b[i], COFFER_RESULT_ENTRY_LEN, h[i])) != 0)
			goto out;
	}
	if ((r = rtree_build(h, n, t)) != 0)
		goto out;
	if (raw != NULL) {
		*raw = b;
		b = NULL;
	}
out:
	free(e);
	free(b);
	free(h);
	return r;
}

static void
stage_counts(const struct ljob *j, size_t s, struct coffer_receipt_stage *g)
{
	const struct lstage *x = &j->st[s];

	memset(g, 0, sizeof(*g));
	g->reduce = s == 1;
	g->count = x->count;
	for (uint64_t i = 0; i < x->count; i++) {
		const struct coffer_ledger_item *it = &x->items[i];

		if (it->status == COFFER_ITEM_OK)
			g->ok++;
		else if (it->status == COFFER_ITEM_FAILED)
			g->failed++;
		else
			g->abandoned++;
		g->duplicates += it->duplicates;
		g->disagreements += it->disagreements;
	}
	memcpy(g->root, x->root, 32);
}

static int
put_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char h[65];

	coffer_hex_encode(p, n, h);
	return json_object_set_new(o, k, json_string(h));
}

/* Append an event built by the caller (consumed). */
static int
append(struct coord_ledger *l, json_t *ev, uint64_t *idx)
{
	int r;

	if (ev == NULL)
		return COFFER_E_NOMEM;
	r = coord_audit_append(l->c->st, ev, idx);
	json_decref(ev);
	return r;
}

int
ledger_close_stage(struct coord_ledger *l, struct ljob *j, size_t s,
    int job_closing)
{
	struct coffer_receipt_stage g;
	struct rtree t;
	json_t *ev;
	int r;

	if ((r = stage_tree(j, s, NULL, &t)) != 0)
		return r;
	r = rtree_root(&t, j->st[s].root);
	rtree_release(&t);
	if (r != 0)
		return r;
	j->st[s].state = LSTAGE_CLOSED;
	stage_counts(j, s, &g);
	ev = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "event",
	    "stage-close", "stage", s == 0 ? "map" : "reduce", "count",
	    (json_int_t)g.count, "ok", (json_int_t)g.ok, "failed",
	    (json_int_t)g.failed, "abandoned", (json_int_t)g.abandoned,
	    "duplicates", (json_int_t)g.duplicates, "disagreements",
	    (json_int_t)g.disagreements);
	if (ev != NULL && (put_hex(ev, "job", j->row.id, 16) != 0 ||
	    put_hex(ev, "root", g.root, 32) != 0)) {
		json_decref(ev);
		ev = NULL;
	}
	if ((r = append(l, ev, NULL)) != 0)
		return r;
	/* The map stage's root is the reduce item's pinned input: the reduce
	 * stage opens now, unless the job ends with this close. */
	if (s == 0 && j->nstages == 2 && !job_closing) {
		j->st[1].state = LSTAGE_OPEN;
		return coord_state_job_map_closed(l->ls, j->row.id);
	}
	return 0;
}

/* ---- The receipt (receipt.md section 3) ---- */

static int
cmp_meas(const void *x, const void *y)
{
	const struct coffer_receipt_measurement *a = x, *b = y;
	int c = strcmp(coffer_tee_type_name(a->m.tee), coffer_tee_type_name(b->m.tee));

	if (c != 0)
		return c;
	/* One TEE type, one length: bytes in order are hex in order. */
	return memcmp(a->m.value, b->m.value, a->m.len < b->m.len ? a->m.len :
	    b->m.len);
}

/* The measurements that received the job's keys: sessions and results. */
static int
receipt_measurements(const struct ljob *j, struct coffer_receipt *rc)
{
	struct coffer_receipt_measurement *m;

	if (j->nmeas > COFFER_RECEIPT_MAX_MEASUREMENTS)
		return coffer_errf(COFFER_E_LIMIT, "more than %d measurements ran "
		    "this job", COFFER_RECEIPT_MAX_MEASUREMENTS);
	if ((m = coffer_calloc(j->nmeas ? j->nmeas : 1, sizeof(*m))) == NULL)
		return COFFER_E_NOMEM;
	for (size_t i = 0; i < j->nmeas; i++) {
		m[i].m = j->meas[i].m;
		m[i].sessions = j->meas[i].sessions;
	}
	for (size_t s = 0; s < j->nstages; s++)
		for (uint64_t i = 0; i < j->st[s].count; i++) {
			const struct coffer_ledger_item *it = &j->st[s].items[i];
			size_t k;

			if (it->status != COFFER_ITEM_OK && it->status != COFFER_ITEM_FAILED)
				continue;
			for (k = 0; k < j->nsess; k++)
				if (memcmp(j->sess[k].s.id, it->winner.session, 16) == 0)
					break;
			if (k == j->nsess) {
				free(m);
				return coffer_errf(COFFER_E_INTERNAL, "a result of a session "
				    "the job does not have");
			}
			m[j->sess[k].meas].items++;
		}
	qsort(m, j->nmeas, sizeof(*m), cmp_meas);
	rc->measurements = m;
	rc->nmeasurements = j->nmeas;
	return 0;
}

/* Sign the receipt of j with the log head (size, root). */
static int
make_receipt(struct coord_ledger *l, const struct ljob *j, uint64_t size,
    const coffer_merkle_hash root, struct coffer_buf *out)
{
	struct coord *c = l->c;
	struct coffer_receipt rc;
	int r;

	memset(&rc, 0, sizeof(rc));
	memcpy(rc.job, j->row.id, 16);
	memcpy(rc.policy, j->row.policy, 32);
	snprintf(rc.app, sizeof(rc.app), "%s", j->a->name);
	memcpy(rc.app_sha256, j->a->sha256, 32);
	if ((rc.params = json_loads(j->row.params, 0, NULL)) == NULL)
		return coffer_errf(COFFER_E_FORMAT, "state: the job's params");
	rc.input_count = j->row.items;
	memcpy(rc.input_root, j->row.input_root, 32);
	rc.nstages = j->nstages;
	for (size_t s = 0; s < j->nstages; s++)
		stage_counts(j, s, &rc.stages[s]);
	if ((r = receipt_measurements(j, &rc)) != 0)
		goto out;
	rc.failed = j->failed;
	snprintf(rc.reason, sizeof(rc.reason), "%s", j->failed ? j->reason : "");
	rc.log_size = size;
	memcpy(rc.log_root, root, 32);
	rc.coordinator = c->id.pub;
	rc.evidence = c->evidence;   /* borrowed: not cleared below */
	rc.evidence_len = c->evidence_len;
	rc.opened = (uint64_t)(j->row.created_ms / 1000);
	rc.closed = coord_now();
	r = coffer_receipt_sign(&rc, c->id.sign_sk, out);
out:
	json_decref(rc.params);
	free(rc.measurements);
	return r;
}

/* doc/format/receipt.md section 3.3: the reason a job that was not failed
 * fails at its close (a stage beyond the policy's tolerance), or NULL. */
static const char *
beyond_tolerance(const struct ljob *j)
{
	struct coffer_receipt_stage g[2];

	for (size_t s = 0; s < j->nstages; s++)
		stage_counts(j, s, &g[s]);
	for (size_t s = 0; s < j->nstages; s++)
		if (g[s].failed > j->p->max_failed)
			return "tolerance.failed";
	for (size_t s = 0; s < j->nstages; s++)
		if (g[s].abandoned > j->p->max_abandoned)
			return "tolerance.abandoned";
	return NULL;
}

int
ledger_close_job(struct coord_ledger *l, struct ljob *j, const char *reason)
{
	struct coord *c = l->c;
	struct coffer_buf text = COFFER_BUF_INIT(COFFER_SIGNED_RECEIPT_MAX);
	struct coffer_signed sig;
	coffer_merkle_hash root;
	uint8_t digest[32];
	uint64_t size, idx;
	json_t *ev;
	char hex[33];
	int r;

	coffer_signed_init(&sig);
	/* The open stages close first: their items without a result are
	 * ABANDONED; a reduce stage that never opened closes with the map
	 * stage's root as its pinned input. */
	for (size_t s = 0; s < j->nstages; s++)
		if (j->st[s].state != LSTAGE_CLOSED &&
		    (r = ledger_close_stage(l, j, s, 1)) != 0)
			goto out;
	if (reason == NULL)
		reason = beyond_tolerance(j);
	j->failed = reason != NULL;
	snprintf(j->reason, sizeof(j->reason), "%s", reason ? reason : "");
	ev = json_pack("{s:s, s:s}", "event", "job-close", "outcome",
	    j->failed ? "failed" : "completed");
	if (ev != NULL && (put_hex(ev, "job", j->row.id, 16) != 0 ||
	    (j->failed && json_object_set_new(ev, "reason",
	    json_string(j->reason)) != 0))) {
		json_decref(ev);
		ev = NULL;
	}
	/* The receipt names the log head right after job-close: every event
	 * of the job is in it (receipt.md section 1, item 5). */
	if ((r = append(l, ev, &idx)) != 0 ||
	    (r = coord_audit_size(c->st, &size)) != 0 ||
	    (r = coord_audit_root(c->st, size, root)) != 0 ||
	    (r = make_receipt(l, j, size, root, &text)) != 0 ||
	    (r = coffer_signed_parse(coffer_buf_str(&text), text.len,
	    COFFER_SIGNED_RECEIPT_MAX, "coffer-receipt", &sig)) != 0 ||
	    (r = coffer_sha256(sig.jcs.data, sig.jcs.len, digest)) != 0)
		goto out;
	ev = json_pack("{s:s}", "event", "receipt");
	if (ev != NULL && (put_hex(ev, "job", j->row.id, 16) != 0 ||
	    put_hex(ev, "receipt_sha256", digest, 32) != 0)) {
		json_decref(ev);
		ev = NULL;
	}
	if ((r = append(l, ev, NULL)) != 0 ||
	    (r = coord_state_job_closed(l->ls, j->row.id, j->failed, j->reason,
	    coffer_buf_str(&text), text.len)) != 0)
		goto out;
	free(j->receipt);
	if ((r = coffer_buf_detach(&text, (uint8_t **)&j->receipt,
	    &j->receipt_len)) != 0)
		goto out;
	j->closed = 1;
	l->stats.receipts++;
	coffer_hex_encode(j->row.id, 16, hex);
	coffer_logkv(COFFER_LOG_INFO, "job closed", "job", hex, "outcome",
	    j->failed ? "failed" : "completed", "reason", j->failed ? j->reason : "-",
	    NULL);
out:
	coffer_signed_release(&sig);
	coffer_buf_release(&text);
	return r;
}

/* ---- Requests ---- */

static json_t *
close_answer(const struct ljob *j, int now)
{
	json_t *o, *rec;
	char hex[33];

	coffer_hex_encode(j->row.id, 16, hex);
	if ((rec = json_loadb(j->receipt, j->receipt_len, 0, NULL)) == NULL)
		return NULL;
	o = json_pack("{s:s, s:b, s:s, s:o}", "job", hex, "closed_now", now,
	    "outcome", j->failed ? "failed" : "completed", "receipt", rec);
	if (o != NULL && j->failed &&
	    json_object_set_new(o, "reason", json_string(j->reason)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
map_answer(const struct ljob *j, int now)
{
	struct coffer_receipt_stage g;
	json_t *o;
	char hex[33];

	stage_counts(j, 0, &g);
	coffer_hex_encode(j->row.id, 16, hex);
	o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "job", hex, "stage", "map",
	    "closed_now", now, "ok", (json_int_t)g.ok, "failed",
	    (json_int_t)g.failed, "abandoned", (json_int_t)g.abandoned);
	if (o != NULL && put_hex(o, "root", g.root, 32) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
coord_ledger_close(struct coord_ledger *l, const uint8_t job[16],
    const struct coffer_close_request *req, json_t **answer)
{
	struct coord *c = l->c;
	struct ljob *j = NULL;
	int r, tx = 0, dirty = 0, now = 0, map;

	if ((r = ledger_get(l, job, &j)) != 0)
		return r;
	map = req->map_only && j->nstages == 2 && !j->closed;
	if (!j->closed && (!map || j->st[0].state == LSTAGE_OPEN)) {
		if ((r = coord_state_begin(c->st)) != 0)
			goto out;
		tx = dirty = 1;
		if (map)
			r = ledger_close_stage(l, j, 0, 0);
		else
			r = ledger_close_job(l, j, req->cancelled ? "job.cancelled" : NULL);
		if (r != 0 || (r = coord_state_commit(c->st)) != 0)
			goto out;
		tx = 0;
		now = 1;
	}
	*answer = map ? map_answer(j, now) : close_answer(j, now);
	if (*answer == NULL)
		r = COFFER_E_NOMEM;
out:
	if (tx)
		coord_state_rollback(c->st);
	/* After a failed transaction the memory is ahead of the state. */
	ledger_put(l, j, r != 0 && dirty);
	return r;
}

int
coord_ledger_leaves(struct coord_ledger *l, const uint8_t job[16], size_t s,
    struct coffer_buf *out)
{
	struct coffer_result_entry *e = NULL;
	struct ljob *j;
	int r;

	if ((r = ledger_get(l, job, &j)) != 0)
		return r;
	if (s >= j->nstages) {
		r = coffer_errf(COFFER_E_NOTFOUND, "stage.unknown: the job's app has no "
		    "reduce stage");
		goto out;
	}
	if (j->st[s].state != LSTAGE_CLOSED) {
		r = coffer_errf(COFFER_E_STATE, "stage.open: the %s stage is not "
		    "closed yet", s == 0 ? "map" : "reduce");
		goto out;
	}
	if ((r = ledger_stage_entries(j, s, &e)) != 0 ||
	    (r = coffer_buf_putf(out, "{\"count\":%llu,\"leaves\":[",
	    (unsigned long long)j->st[s].count)) != 0)
		goto out;
	for (uint64_t i = 0; i < j->st[s].count; i++) {
		uint8_t b[COFFER_RESULT_ENTRY_LEN];

		coffer_receipt_result_encode(&e[i], b);
		if ((r = coffer_buf_puts(out, i ? ",\"" : "\"")) != 0 ||
		    (r = coffer_b64url_put(out, b, sizeof(b))) != 0 ||
		    (r = coffer_buf_puts(out, "\"")) != 0)
			goto out;
	}
	r = coffer_buf_puts(out, "]}");
out:
	free(e);
	ledger_put(l, j, 0);
	return r;
}

static int
need_closed(const struct ljob *j)
{
	if (!j->closed)
		return coffer_errf(COFFER_E_STATE, "job.open: the job is not closed "
		    "yet: no receipt");
	return 0;
}

int
coord_ledger_receipt(struct coord_ledger *l, const uint8_t job[16],
    struct coffer_buf *out)
{
	struct ljob *j;
	int r;

	if ((r = ledger_get(l, job, &j)) != 0)
		return r;
	if ((r = need_closed(j)) == 0)
		r = coffer_buf_put(out, j->receipt, j->receipt_len);
	ledger_put(l, j, 0);
	return r;
}

/* The receipt's log size (its statement's log.size). */
static int
receipt_log_size(const struct ljob *j, uint64_t *size)
{
	struct coffer_signed sig;
	json_t *n;
	int r;

	coffer_signed_init(&sig);
	if ((r = coffer_signed_parse(j->receipt, j->receipt_len,
	    COFFER_SIGNED_RECEIPT_MAX, "coffer-receipt", &sig)) == 0) {
		n = json_object_get(json_object_get(sig.statement, "log"), "size");
		if (json_is_integer(n) && json_integer_value(n) >= 0)
			*size = (uint64_t)json_integer_value(n);
		else
			r = coffer_errf(COFFER_E_FORMAT, "state: the receipt's log.size");
	}
	coffer_signed_release(&sig);
	return r;
}

/* Leaves of stage s for the items of owner (all when owner < 0). */
struct leaves {
	uint8_t (*raw)[COFFER_RESULT_ENTRY_LEN];
	coffer_merkle_hash *paths;  /* n * depth */
	struct coffer_bundle_leaf *v;
	size_t n;
	struct rtree t;
};

static void
leaves_release(struct leaves *x)
{
	free(x->raw);
	free(x->paths);
	free(x->v);
	rtree_release(&x->t);
}

static int
owner_leaves(const struct ljob *j, size_t s, int owner, struct leaves *x)
{
	size_t depth, k = 0;
	int r;

	memset(x, 0, sizeof(*x));
	if ((r = stage_tree(j, s, &x->raw, &x->t)) != 0)
		return r;
	depth = x->t.nlevels ? x->t.nlevels - 1 : 0;
	for (uint64_t i = 0; i < j->st[s].count; i++)
		if (s == 1 || (int)j->items[i].owner == owner)
			x->n++;
	if ((x->v = coffer_calloc(x->n ? x->n : 1, sizeof(*x->v))) == NULL ||
	    (x->paths = coffer_calloc(x->n * depth + 1, sizeof(*x->paths))) == NULL)
		return COFFER_E_NOMEM;
	for (uint64_t i = 0; i < j->st[s].count; i++) {
		if (s == 0 && (int)j->items[i].owner != owner)
			continue;
		x->v[k].entry = x->raw[i];
		x->v[k].path = &x->paths[k * depth];
		if ((r = rtree_path(&x->t, i, &x->paths[k * depth],
		    &x->v[k].pathlen)) != 0)
			return r;
		k++;
	}
	return 0;
}

int
coord_ledger_bundle(struct coord_ledger *l, const uint8_t job[16],
    const uint8_t owner[32], uint64_t kept, struct coffer_buf *out)
{
	struct coord *c = l->c;
	struct leaves map, red;
	coffer_merkle_hash cons[COFFER_MERKLE_MAX_CONSISTENCY];
	uint64_t size = 0, now = 0, from = 0, to = 0;
	size_t ncons = 0;
	struct ljob *j;
	int r, oi, have_cons = 0;

	memset(&map, 0, sizeof(map));
	memset(&red, 0, sizeof(red));
	if ((r = ledger_get(l, job, &j)) != 0)
		return r;
	if ((r = need_closed(j)) != 0)
		goto out;
	if ((oi = coffer_policy_owner_index(j->p, owner)) < 0) {
		r = coffer_errf(COFFER_E_NOTFOUND, "owner.unknown: not an owner of "
		    "the job's policy");
		goto out;
	}
	if ((r = owner_leaves(j, 0, oi, &map)) != 0 ||
	    (j->nstages == 2 && (r = owner_leaves(j, 1, oi, &red)) != 0) ||
	    (r = receipt_log_size(j, &size)) != 0 ||
	    (r = coord_audit_size(c->st, &now)) != 0)
		goto out;
	/* A consistency proof between the owner's kept head and the
	 * receipt's, when both are heads of this log (receipt.md 4.1). */
	if (kept > 0 && kept != size && kept <= now) {
		from = kept < size ? kept : size;
		to = kept < size ? size : kept;
		if ((r = coord_audit_consistency(c->st, from, to, cons, &ncons)) != 0)
			goto out;
		have_cons = 1;
	}
	r = coffer_receipt_bundle_make(j->receipt, j->receipt_len, owner, map.v,
	    map.n, j->nstages == 2 ? red.v : NULL, from, to,
	    have_cons ? (const coffer_merkle_hash *)cons : NULL, ncons, out);
out:
	leaves_release(&map);
	leaves_release(&red);
	ledger_put(l, j, 0);
	return r;
}

int
coord_ledger_result_key(struct coord_ledger *l, const uint8_t job[16],
    const uint8_t recipient[32], struct coffer_buf *out)
{
	struct coord *c = l->c;
	const struct coffer_identity_public *who = NULL;
	char want[65], fp[COFFER_ID_FINGERPRINT_HEX];
	uint8_t key[32];
	struct ljob *j;
	int r;

	if ((r = ledger_get(l, job, &j)) != 0)
		return r;
	if ((r = need_closed(j)) != 0)
		goto out;
	coffer_hex_encode(recipient, 32, want);
	for (size_t i = 0; i < j->p->nrecipients && who == NULL; i++) {
		if ((r = coffer_identity_fingerprint(&j->p->recipients[i], fp)) != 0)
			goto out;
		if (strcmp(fp, want) == 0)
			who = &j->p->recipients[i];
	}
	if (who == NULL) {
		r = coffer_errf(COFFER_E_NOTFOUND, "recipient.unknown: not a recipient "
		    "the job's policy names");
		goto out;
	}
	/* Only the output key, ever (key-release.md section 7). */
	if ((r = coord_jobkey_derive(c->root, COORD_KEY_OUTPUT, j->row.policy,
	    j->row.id, 16, key)) == 0)
		r = coffer_resultkey_answer_make(who->kx_pk, recipient, c->id.kx_sk,
		    j->row.id, j->row.policy, key, out);
	coffer_wipe(key, sizeof(key));
out:
	ledger_put(l, j, 0);
	return r;
}
