// SPDX-License-Identifier: Apache-2.0
// The collateral cache (collcache.h, doc/protocol/collateral.md section
// 3). Pushes need no credentials because nothing enters the cache that a
// pinned root did not sign (COFFER_TEE_COLL_STRICT); the cache stays
// bounded because a piece replaces the older piece of its slot and the
// whole is capped; it survives restarts and works offline because it
// lives in the coordinator's durable state and is loaded at start.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "coordinator/audit.h"
#include "coordinator/collcache.h"
#include "coordinator/coord.h"
#include "crypto/hash.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "proto/collpush.h"

/* ------------------------------------------------------------------ */
/* The cache */

/* What the state holds, without the bytes. */
struct held {
	struct coord_coll_row *rows;  /* data NULL */
	size_t n;
};

static int
on_row(const struct coord_coll_row *row, void *arg)
{
	struct held *h = arg;
	struct coord_coll_row *q;

	if ((q = coffer_reallocarray(h->rows, h->n + 1, sizeof(*q))) == NULL)
		return COFFER_E_NOMEM;
	h->rows = q;
	h->rows[h->n] = *row;
	h->rows[h->n].data = NULL;
	h->n++;
	return 0;
}

static int
held_load(struct coord *c, struct held *h)
{
	memset(h, 0, sizeof(*h));
	return coord_state_coll_each(c->st, 0, on_row, h);
}

static void
summarize(const struct held *h, struct coord_coll_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->earliest_expiry = INT64_MAX;
	for (size_t i = 0; i < h->n; i++) {
		s->items++;
		s->bytes += h->rows[i].len;
		if (h->rows[i].kind != COFFER_TEE_COLL_CERTS &&
		    h->rows[i].expires < s->earliest_expiry)
			s->earliest_expiry = h->rows[i].expires;
	}
}

/* Section 3.3: more tcbEvaluationDataNumber, then a later issue date. */
static int
newer(uint32_t ea, int64_t ia, uint32_t eb, int64_t ib)
{
	return ea > eb || (ea == eb && ia > ib);
}

static json_t *
time_json(int64_t t)
{
	char s[32];

	if (t == INT64_MAX || t < 0)
		return json_null();
	coffer_time_format(t, s, sizeof(s));
	return json_string(s);
}

static json_t *
item_json(const uint8_t sha[32], const char *name, int kind, const char *slot,
    int64_t issued, int64_t expires, const char *status)
{
	char hex[65];
	json_t *o;

	coffer_hex_encode(sha, 32, hex);
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "name", name, "sha256", hex,
	    "kind", coffer_tee_coll_kind_name((enum coffer_tee_coll_kind)kind),
	    "slot", slot, "issued", time_json(issued), "expires", time_json(expires));
	if (o != NULL && status != NULL &&
	    json_object_set_new(o, "status", json_string(status)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
answer_make(const struct coord_coll_summary *s, json_t *items, json_t **out)
{
	json_t *j;

	if (items == NULL)
		return COFFER_E_NOMEM;
	j = json_pack("{s:s, s:i, s:o, s:{s:I, s:I, s:o}}", "type",
	    "coffer-collateral-result", "version", 1, "items", items, "cache",
	    "items", (json_int_t)s->items, "bytes", (json_int_t)s->bytes,
	    "earliest_expiry", time_json(s->earliest_expiry));
	if (j == NULL)
		return COFFER_E_NOMEM;
	*out = j;
	return 0;
}

/* The order pieces are added in at start: certificates (the chains) first,
 * then CRLs, then what the chains sign. */
static int
rank(int kind)
{
	return kind == COFFER_TEE_COLL_CERTS ? 0 : kind == COFFER_TEE_COLL_CRL ? 1 : 2;
}

struct loader {
	struct coord *c;
	int pass;
	size_t added, skipped;
};

static int
load_row(const struct coord_coll_row *row, void *arg)
{
	struct loader *l = arg;
	struct coffer_tee_collateral_file f;
	int r;

	if (rank(row->kind) != l->pass)
		return 0;
	memset(&f, 0, sizeof(f));
	f.name = row->name;
	f.data = row->data;
	f.len = row->len;
	r = coffer_tee_collateral_add_files(l->c->collateral, &f, 1,
	    COFFER_TEE_COLL_STRICT);
	if (r == COFFER_E_NOMEM)
		return r;
	if (r != 0) {
		coffer_logkv(COFFER_LOG_WARN, "cached collateral skipped", "item",
		    row->name, "error", coffer_errdetail(), NULL);
		l->skipped++;
		return 0;
	}
	l->added++;
	return 0;
}

int
coord_coll_load(struct coord *c)
{
	struct loader l = { c, 0, 0, 0 };
	struct held h;
	char n[24];
	int r;

	for (l.pass = 0; l.pass < 3; l.pass++)
		if ((r = coord_state_coll_each(c->st, 1, load_row, &l)) != 0)
			return r;
	if ((r = held_load(c, &h)) != 0)
		return r;
	summarize(&h, &c->coll);
	free(h.rows);
	snprintf(n, sizeof(n), "%zu", l.added);
	coffer_logkv(COFFER_LOG_INFO, "collateral cache loaded", "items", n, NULL);
	return 0;
}

/* An add_files error as a refusal name (C4 to C6), or NULL (internal). */
static const char *
refusal_of(int err)
{
	switch (err) {
	case COFFER_E_FORMAT:
	case COFFER_E_VERSION:
	case COFFER_E_TRUNCATED:
	case COFFER_E_LIMIT:
	case COFFER_E_UNSUPPORTED:
		return "collateral.malformed";
	case COFFER_E_SIGNATURE:
		return "collateral.signature";
	case COFFER_E_UNTRUSTED:
	case COFFER_E_CERT:
		return "collateral.untrusted";
	default:
		return NULL;
	}
}

/* One item of a push, on its way through section 3.3. */
struct pitem {
	const struct coffer_collpush_item *in;
	uint8_t sha[32];
	const char *status;        /* "unchanged", "added", "replaced", "older" */
	struct coffer_tee_collateral_file f;
	long dup;                  /* an earlier item of the push with these bytes, or -1 */
};

/* Decide each new item's fate against the cache and the rest of the push;
 * mark the cached rows it replaces (drop). */
static void
decide(struct pitem *it, size_t n, struct held *h, int *drop)
{
	for (size_t i = 0; i < n; i++) {
		struct pitem *a = &it[i];

		if (a->status != NULL)
			continue; /* unchanged */
		if (a->f.slot[0] == '\0') {
			a->status = "added";
			continue;
		}
		a->status = "added";
		/* Another item of this push for the slot that is newer, or as
		 * new and earlier in the push: this one is not kept. */
		for (size_t k = 0; k < n; k++) {
			const struct pitem *b = &it[k];

			if (k == i || (b->status != NULL && strcmp(b->status,
			    "unchanged") == 0) || strcmp(b->f.slot, a->f.slot) != 0)
				continue;
			if (newer(b->f.eval_num, b->f.issued, a->f.eval_num, a->f.issued) ||
			    (k < i && !newer(a->f.eval_num, a->f.issued, b->f.eval_num,
			    b->f.issued)))
				a->status = "older";
		}
		for (size_t k = 0; k < h->n; k++) {
			if (strcmp(h->rows[k].slot, a->f.slot) != 0)
				continue;
			if (!newer(a->f.eval_num, a->f.issued, h->rows[k].eval_num,
			    h->rows[k].issued))
				a->status = "older";
		}
		if (strcmp(a->status, "older") == 0)
			continue;
		for (size_t k = 0; k < h->n; k++)
			if (strcmp(h->rows[k].slot, a->f.slot) == 0) {
				drop[k] = 1;
				a->status = "replaced";
			}
	}
}

/* The `collateral` event of an item kept (doc/format/audit-log.md section
 * 3): its hash, kind, slot and status, not its bytes. */
static int
log_kept(struct coord *c, const struct pitem *x)
{
	char hex[65];
	json_t *ev;
	int r;

	coffer_hex_encode(x->sha, 32, hex);
	if ((ev = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "collateral",
	    "sha256", hex, "kind", coffer_tee_coll_kind_name(x->f.kind), "slot",
	    x->f.slot, "status", x->status)) == NULL)
		return COFFER_E_NOMEM;
	r = coord_audit_append(c->st, ev, NULL);
	json_decref(ev);
	return r;
}

/* The rows and their events in one commit (audit.h), before the answer. */
static int
store(struct coord *c, struct pitem *it, size_t n, const struct held *h,
    const int *drop)
{
	int r;

	if ((r = coord_state_begin(c->st)) != 0)
		return r;
	for (size_t k = 0; r == 0 && k < h->n; k++)
		if (drop[k])
			r = coord_state_coll_delete(c->st, h->rows[k].sha256);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct coord_coll_row row;

		if (strcmp(it[i].status, "added") != 0 &&
		    strcmp(it[i].status, "replaced") != 0)
			continue;
		memset(&row, 0, sizeof(row));
		memcpy(row.sha256, it[i].sha, 32);
		snprintf(row.name, sizeof(row.name), "%s", it[i].in->name);
		row.kind = (int)it[i].f.kind;
		snprintf(row.slot, sizeof(row.slot), "%s", it[i].f.slot);
		row.eval_num = it[i].f.eval_num;
		row.issued = it[i].f.issued;
		row.expires = it[i].f.expires;
		row.data = it[i].in->data.data;
		row.len = it[i].in->data.len;
		if ((r = coord_state_coll_put(c->st, &row)) == 0)
			r = log_kept(c, &it[i]);
	}
	if (r == 0 && (r = coord_state_commit(c->st)) == 0)
		return 0;
	coord_state_rollback(c->st);
	return r;
}

int
coord_coll_apply(struct coord *c, const struct coffer_collpush *p,
    const char **reason, json_t **answer)
{
	struct coffer_tee_collateral_file *files = NULL;
	struct pitem *it = NULL;
	struct held h = { NULL, 0 };
	struct coord_coll_summary sum;
	json_t *items = NULL;
	int *drop = NULL, r;
	size_t nf = 0, count, bytes;
	size_t max_items = c->cfg.coll_max_items ? c->cfg.coll_max_items :
	    COORD_COLL_MAX_ITEMS;
	size_t max_bytes = c->cfg.coll_max_bytes ? c->cfg.coll_max_bytes :
	    COORD_COLL_MAX_BYTES;

	*reason = NULL;
	if ((r = held_load(c, &h)) != 0)
		goto out;
	if ((it = coffer_calloc(p->n, sizeof(*it))) == NULL ||
	    (files = coffer_calloc(p->n, sizeof(*files))) == NULL ||
	    (drop = coffer_calloc(h.n + 1, sizeof(*drop))) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	/* What is new: the cache and the push itself may hold the bytes. */
	for (size_t i = 0; i < p->n; i++) {
		it[i].in = &p->items[i];
		it[i].dup = -1;
		if ((r = coffer_sha256(p->items[i].data.data, p->items[i].data.len,
		    it[i].sha)) != 0)
			goto out;
		for (size_t k = 0; k < h.n; k++)
			if (memcmp(h.rows[k].sha256, it[i].sha, 32) == 0)
				it[i].status = "unchanged";
		for (size_t k = 0; it[i].status == NULL && k < i; k++)
			if (memcmp(it[k].sha, it[i].sha, 32) == 0) {
				it[i].status = "unchanged";
				it[i].dup = (long)k;
			}
		if (it[i].status != NULL)
			continue;
		files[nf].name = p->items[i].name;
		files[nf].data = p->items[i].data.data;
		files[nf].len = p->items[i].data.len;
		nf++;
	}
	/* C4 to C6, against what the coordinator holds, all of the push
	 * together; nothing kept yet. */
	if (nf > 0 && (r = coffer_tee_collateral_add_files(c->collateral, files, nf,
	    COFFER_TEE_COLL_STRICT | COFFER_TEE_COLL_DRY_RUN)) != 0) {
		*reason = refusal_of(r);
		goto out;
	}
	for (size_t i = 0, k = 0; i < p->n; i++) {
		if (it[i].status != NULL) {
			if (it[i].dup >= 0)
				it[i].f = it[it[i].dup].f;
			continue;
		}
		it[i].f = files[k++];
		if (it[i].f.kind == COFFER_TEE_COLL_MIXED) {
			*reason = "collateral.malformed";
			r = coffer_errf(COFFER_E_FORMAT, "%s: more than one TCB Info, "
			    "identity or CRL, or one with certificates: push one piece "
			    "per item (the files `coffer collateral fetch` writes)",
			    it[i].in->name);
			goto out;
		}
	}
	decide(it, p->n, &h, drop);
	/* C7 */
	count = h.n;
	bytes = 0;
	for (size_t k = 0; k < h.n; k++) {
		bytes += h.rows[k].len;
		if (drop[k]) {
			count--;
			bytes -= h.rows[k].len;
		}
	}
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(it[i].status, "added") == 0 || strcmp(it[i].status, "replaced") == 0) {
			count++;
			bytes += it[i].in->data.len;
		}
	if (count > max_items || bytes > max_bytes) {
		*reason = "collateral.full";
		r = coffer_errf(COFFER_E_LIMIT, "the collateral cache would hold %zu "
		    "items and %zu bytes, more than %zu or %zu: nothing of this push "
		    "is kept", count, bytes, max_items, max_bytes);
		goto out;
	}
	/* Durable first: the answer says what is kept. */
	if ((r = store(c, it, p->n, &h, drop)) != 0)
		goto out;
	/* Then the collateral releases verify with: what is now in the state
	 * (checked by the dry run above, so this fails only for memory). */
	nf = 0;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(it[i].status, "added") == 0 || strcmp(it[i].status, "replaced") == 0)
			files[nf++] = it[i].f;
	if (nf > 0 && (r = coffer_tee_collateral_add_files(c->collateral, files, nf,
	    COFFER_TEE_COLL_STRICT)) != 0) {
		coffer_logkv(COFFER_LOG_WARN, "pushed collateral stored but not in use "
		    "until the next start", "error", coffer_errdetail(), NULL);
		goto out;
	}
	free(h.rows);
	memset(&h, 0, sizeof(h));
	if ((r = held_load(c, &h)) != 0)
		goto out;
	summarize(&h, &sum);
	c->coll = sum;
	if ((items = json_array()) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct pitem *x = &it[i];
		int kind = x->f.kind;
		const char *slot = x->f.slot;
		int64_t issued = x->f.issued, expires = x->f.expires;

		/* An unchanged item is described by the cache. */
		for (size_t k = 0; strcmp(x->status, "unchanged") == 0 && k < h.n; k++)
			if (memcmp(h.rows[k].sha256, x->sha, 32) == 0) {
				kind = h.rows[k].kind;
				slot = h.rows[k].slot;
				issued = h.rows[k].issued;
				expires = h.rows[k].expires;
			}
		if (json_array_append_new(items, item_json(x->sha, x->in->name, kind,
		    slot, issued, expires, x->status)) != 0) {
			r = COFFER_E_NOMEM;
			goto out;
		}
	}
	r = answer_make(&sum, items, answer);
	items = NULL;
	if (r == 0) {
		char n[24];

		snprintf(n, sizeof(n), "%zu", sum.items);
		coffer_logkv(COFFER_LOG_INFO, "collateral pushed", "cached_items", n, NULL);
	}
out:
	json_decref(items);
	free(drop);
	free(files);
	free(it);
	free(h.rows);
	return r;
}

int
coord_coll_list(struct coord *c, json_t **answer)
{
	struct coord_coll_summary sum;
	struct held h;
	json_t *items;
	int r;

	if ((r = held_load(c, &h)) != 0)
		return r;
	summarize(&h, &sum);
	if ((items = json_array()) == NULL) {
		free(h.rows);
		return COFFER_E_NOMEM;
	}
	for (size_t k = 0; k < h.n; k++) {
		const struct coord_coll_row *w = &h.rows[k];

		if (json_array_append_new(items, item_json(w->sha256, w->name, w->kind,
		    w->slot, w->issued, w->expires, NULL)) != 0) {
			json_decref(items);
			free(h.rows);
			return COFFER_E_NOMEM;
		}
	}
	free(h.rows);
	return answer_make(&sum, items, answer);
}
