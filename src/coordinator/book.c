// SPDX-License-Identifier: Apache-2.0
// The policy book (book.h). A policy is parsed and validated once, when it
// is submitted or first loaded from the state, and kept: key release
// evaluates its status from the approvals and revocations in the state at
// every request, so that a revocation stops the very next release.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/book.h"
#include "lib/enc.h"
#include "lib/mem.h"

/* Longer chains are refused rather than walked: a policy updated this
 * often should start again. */
#define CHAIN_MAX 256

struct coord_book {
	struct coord_state *st;
	struct coffer_policy **v;
	size_t n, cap;
};

int
coord_book_new(struct coord_state *st, struct coord_book **out)
{
	struct coord_book *b;

	if ((b = coffer_calloc(1, sizeof(*b))) == NULL)
		return COFFER_E_NOMEM;
	b->st = st;
	*out = b;
	return 0;
}

void
coord_book_free(struct coord_book *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		coffer_policy_free(b->v[i]);
	free(b->v);
	free(b);
}

static const struct coffer_policy *
find(const struct coord_book *b, const uint8_t hash[32])
{
	for (size_t i = 0; i < b->n; i++)
		if (memcmp(b->v[i]->hash, hash, 32) == 0)
			return b->v[i];
	return NULL;
}

static int
keep(struct coord_book *b, struct coffer_policy *p)
{
	struct coffer_policy **v;

	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;

		if ((v = coffer_reallocarray(b->v, cap, sizeof(*v))) == NULL)
			return COFFER_E_NOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = p;
	return 0;
}

int
coord_book_get(struct coord_book *b, const uint8_t hash[32],
    const struct coffer_policy **out)
{
	struct coffer_buf text = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES);
	struct coffer_policy *p = NULL;
	const struct coffer_policy *known;
	char hex[65];
	int r;

	if ((known = find(b, hash)) != NULL) {
		*out = known;
		return 0;
	}
	coffer_hex_encode(hash, 32, hex);
	r = coord_state_policy_get(b->st, hash, &text);
	if (r == COFFER_E_NOTFOUND) {
		r = coffer_errf(COFFER_E_NOTFOUND, "policy %s is not known to this "
		    "coordinator (policy.unknown)", hex);
		goto out;
	}
	if (r != 0)
		goto out;
	/* Stored texts were valid when stored; a failure now is damage. */
	if ((r = coffer_policy_parse(coffer_buf_str(&text), text.len, &p)) != 0) {
		r = coffer_errctx(r, "state: stored policy %s", hex);
		goto out;
	}
	if (memcmp(p->hash, hash, 32) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "state: stored policy %s has another "
		    "hash", hex);
		goto out;
	}
	if ((r = keep(b, p)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	coffer_policy_free(p);
	coffer_buf_release(&text);
	return r;
}

/* The `policy` event (doc/format/audit-log.md section 3). */
static int
log_policy(struct coord_state *st, const struct coffer_policy *p)
{
	char hex[65];
	json_t *ev, *pj;
	int r;

	coffer_hex_encode(p->hash, 32, hex);
	if ((pj = json_loadb((const char *)p->jcs.data, p->jcs.len, 0, NULL)) == NULL)
		return coffer_errf(COFFER_E_INTERNAL, "policy text");
	if ((ev = json_pack("{s:s, s:s, s:o}", "event", "policy", "hash", hex,
	    "policy", pj)) == NULL)
		return COFFER_E_NOMEM;
	r = coord_audit_append(st, ev, NULL);
	json_decref(ev);
	return r;
}

int
coord_book_add(struct coord_book *b, struct coffer_policy *p,
    const struct coffer_policy **out, int *added)
{
	const struct coffer_policy *known;
	int r;

	r = coord_book_get(b, p->hash, &known);
	if (r == 0) {
		coffer_policy_free(p);
		*out = known;
		*added = 0;
		return 0;
	}
	if (r != COFFER_E_NOTFOUND)
		goto fail;
	/* Stored and logged in one commit; kept in memory only once both
	 * are on disk. */
	if ((r = coord_state_begin(b->st)) != 0)
		goto fail;
	if ((r = coord_state_policy_put(b->st, p->hash,
	    p->has_previous ? p->previous : NULL, coffer_buf_str(&p->jcs),
	    p->jcs.len)) != 0 || (r = log_policy(b->st, p)) != 0 ||
	    (r = coord_state_commit(b->st)) != 0) {
		coord_state_rollback(b->st);
		goto fail;
	}
	if ((r = keep(b, p)) != 0)
		goto fail;
	*out = p;
	*added = 1;
	return 0;
fail:
	coffer_policy_free(p);
	return r;
}

/* Bits over p's owners of the signers fn's rows name. */
struct bits {
	const struct coffer_policy *p;
	uint64_t approved, revoked;
};

static int
on_approval(const uint8_t signer[32], void *arg)
{
	struct bits *x = arg;
	int i = coffer_policy_owner_index(x->p, signer);

	if (i >= 0)
		x->approved |= (uint64_t)1 << i;
	return 0;
}

static int
on_revocation(const struct coord_revocation *rv, void *arg)
{
	struct bits *x = arg;
	int i = coffer_policy_owner_index(x->p, rv->signer);

	if (i >= 0 && rv->tee == NULL)
		x->revoked |= (uint64_t)1 << i;
	return 0;
}

/* S1 to S4 for p, counting the approvals that name a log head of at least
 * min entries (0 but after a rollback: policy.md 10.3); its predecessor
 * prev (NULL: not known) was judged already: prev_counts is 1 if it is
 * approved and not a fork (S3). */
static int
judge(struct coord_book *b, const struct coffer_policy *p, uint64_t min,
    const struct coffer_policy *prev, int prev_counts, struct coord_status *out)
{
	struct coffer_policy_status s;
	struct bits x = { p, 0, 0 };
	int r;

	if ((r = coord_state_approval_each(b->st, p->hash, min, on_approval,
	    &x)) != 0 ||
	    (r = coord_state_revocation_each(b->st, p->hash, on_revocation,
	    &x)) != 0)
		return r;
	memset(out, 0, sizeof(*out));
	if ((r = coffer_policy_status(p, x.approved, x.revoked, prev, prev_counts,
	    &out->s)) != 0)
		return r;
	out->approved = x.approved;
	out->revoked = x.revoked;
	out->approved_any = out->s.state == COFFER_POLICY_APPROVED_ALL ||
	    out->s.state == COFFER_POLICY_APPROVED_KOFN;
	out->approved_once = out->approved_any;
	if (out->s.state == COFFER_POLICY_REVOKED) {
		/* Approvals are never withdrawn and none counts after its
		 * signer's revocation (A6): the approvals there are, without
		 * the revocations, say whether it was approved. */
		if ((r = coffer_policy_status(p, x.approved, 0, prev, prev_counts,
		    &s)) != 0)
			return r;
		out->approved_once = s.state == COFFER_POLICY_APPROVED_ALL ||
		    s.state == COFFER_POLICY_APPROVED_KOFN;
	}
	return 0;
}

/* The walk over p's successors that can be or have been approved:
 * those with an approval by one of p's owners (state.h). */
static int
successors(struct coord_book *b, const struct coffer_policy *p,
    int (*fn)(const uint8_t hash[32], void *arg), void *arg)
{
	uint8_t fps[64][32];
	size_t n = p->nowners < 64 ? p->nowners : 64;

	for (size_t i = 0; i < n; i++)
		memcpy(fps[i], p->owners[i].fingerprint, 32);
	return coord_state_policy_successors(b->st, p->hash,
	    (const uint8_t (*)[32])fps, n, fn, arg);
}

/* Is a sibling of self stored before it, and approved (now or before a
 * revocation)? The siblings share
 * self's predecessor, so they are judged with its verdict, not by a walk
 * up the chain each. */
struct earlier {
	struct coord_book *b;
	uint64_t min;
	const uint8_t *self;
	const struct coffer_policy *prev;
	int prev_counts;
	int found;
};

static int
on_earlier(const uint8_t hash[32], void *arg)
{
	struct earlier *e = arg;
	const struct coffer_policy *v;
	struct coord_status st;
	int r;

	if (memcmp(hash, e->self, 32) == 0)
		return 1; /* the rest were stored after self */
	if ((r = coord_book_get(e->b, hash, &v)) != 0 ||
	    (r = judge(e->b, v, e->min, e->prev, e->prev_counts, &st)) != 0)
		return r;
	/* Approved, or approved when it was revoked: revoking the winner
	 * does not make a fork of it the winner (policy.md 8). */
	e->found = st.approved_once;
	return e->found;
}

/* S1 to S4 for p (approvals as judge counts them, min) and whether it is
 * a fork (section 9.1: approved, but a sibling stored before it is
 * approved too). A fork approves nothing after it (section 10.2): S3
 * does not count it as an approved predecessor. depth guards the walk up
 * the chain. */
static int
approval_state(struct coord_book *b, const struct coffer_policy *p,
    uint64_t min, int depth, struct coord_status *out)
{
	struct coord_status prev_st;
	const struct coffer_policy *prev = NULL;
	struct earlier e;
	int r, prev_counts = 0;

	if (depth > CHAIN_MAX)
		return coffer_errf(COFFER_E_LIMIT, "policy chain longer than %d "
		    "versions", CHAIN_MAX);
	if (p->has_previous) {
		r = coord_book_get(b, p->previous, &prev);
		if (r == 0) {
			if ((r = approval_state(b, prev, min, depth + 1,
			    &prev_st)) != 0)
				return r;
			prev_counts = prev_st.approved_any && !prev_st.forked;
		} else if (r == COFFER_E_NOTFOUND) {
			prev = NULL;
		} else {
			return r;
		}
	}
	if ((r = judge(b, p, min, prev, prev_counts, out)) != 0)
		return r;
	if (!out->approved_any || prev == NULL)
		return 0;
	memset(&e, 0, sizeof(e));
	e.b = b;
	e.min = min;
	e.self = p->hash;
	e.prev = prev;
	e.prev_counts = prev_counts;
	if ((r = successors(b, prev, on_earlier, &e)) < 0)
		return r;
	out->forked = e.found;
	return 0;
}

struct siblings {
	struct coord_book *b;
	uint64_t min;         /* approval_state's */
	const uint8_t *self;
	int approved_other;   /* any sibling but self approved (now or before
	                         a revocation) */
	uint8_t first[32];
};

static int
on_sibling(const uint8_t hash[32], void *arg)
{
	struct siblings *s = arg;
	const struct coffer_policy *v;
	struct coord_status st;
	int r;

	if (s->self != NULL && memcmp(hash, s->self, 32) == 0)
		return 0;
	if ((r = coord_book_get(s->b, hash, &v)) != 0 ||
	    (r = approval_state(s->b, v, s->min, 0, &st)) != 0)
		return r;
	/* Approved, or approved when it was revoked (policy.md 8). */
	if (!st.approved_once)
		return 0;
	if (!s->approved_other)
		memcpy(s->first, hash, 32);
	s->approved_other = 1;
	return 0;
}

int
coord_book_would_fork(struct coord_book *b, const struct coffer_policy *p,
    int *fork)
{
	const struct coffer_policy *prev;
	struct siblings s;
	int r;

	*fork = 0;
	if (!p->has_previous)
		return 0;
	/* A version whose predecessor is not stored is never approved (rule
	 * S2's and S3's judgement needs it): no sibling can win. */
	if ((r = coord_book_get(b, p->previous, &prev)) == COFFER_E_NOTFOUND)
		return 0;
	if (r != 0)
		return r;
	memset(&s, 0, sizeof(s));
	s.b = b;
	s.self = p->hash;
	if ((r = coord_audit_min_approval(b->st, &s.min)) != 0 ||
	    (r = successors(b, prev, on_sibling, &s)) != 0)
		return r;
	*fork = s.approved_other;
	return 0;
}

int
coord_book_status(struct coord_book *b, const struct coffer_policy *p,
    uint64_t now, struct coord_status *out)
{
	struct coord_status before;
	struct siblings s;
	uint64_t min;
	int r, rolled_back = 0;

	if ((r = coord_audit_min_approval(b->st, &min)) != 0 ||
	    (r = approval_state(b, p, min, 0, out)) != 0)
		return r;
	/* After a rollback, a policy that was approved before it and not
	 * since waits for its owners (coordinator.rolled_back). */
	if (min > 0 && !out->approved_any) {
		if ((r = approval_state(b, p, 0, 0, &before)) != 0)
			return r;
		rolled_back = before.approved_any;
	}
	/* Two versions with one predecessor can both reach approval (their
	 * predecessor's last approval lands after theirs): the first stored
	 * wins, the other is a fork (out->forked) and never active. */
	/* Superseded: a later version of this one is approved, or was when
	 * an owner revoked it: a revocation only takes rights away (policy.md
	 * 8), it never gives the old version back. */
	memset(&s, 0, sizeof(s));
	s.b = b;
	s.min = min;
	if ((r = successors(b, p, on_sibling, &s)) != 0)
		return r;
	if (s.approved_other) {
		out->superseded = 1;
		memcpy(out->superseded_by, s.first, 32);
	}
	out->expired = now >= p->expires;
	/* S5, in the order of the refusal names. */
	if (out->s.state == COFFER_POLICY_REVOKED)
		out->reason = "policy.revoked";
	else if (!out->approved_any && rolled_back)
		out->reason = "coordinator.rolled_back";
	else if (!out->approved_any)
		out->reason = "policy.unapproved";
	else if (out->forked)
		out->reason = "policy.fork";
	else if (out->superseded)
		out->reason = "policy.superseded";
	else if (out->expired)
		out->reason = "policy.expired";
	out->active = out->reason == NULL;
	return 0;
}

int
coord_book_chain_each(struct coord_book *b, const struct coffer_policy *p,
    int (*fn)(const struct coffer_policy *v, void *arg), void *arg)
{
	const struct coffer_policy *v = p;
	int r;

	for (int depth = 0; depth <= CHAIN_MAX; depth++) {
		if ((r = fn(v, arg)) != 0)
			return r;
		if (!v->has_previous)
			return 0;
		r = coord_book_get(b, v->previous, &v);
		if (r == COFFER_E_NOTFOUND)
			return 0; /* the chain starts before what this coordinator knows */
		if (r != 0)
			return r;
	}
	return coffer_errf(COFFER_E_LIMIT, "policy chain longer than %d versions",
	    CHAIN_MAX);
}

struct mrev {
	const struct coffer_policy_measurement *m;
	int found;
};

static int
on_mrev(const struct coord_revocation *rv, void *arg)
{
	struct mrev *x = arg;

	if (rv->tee != NULL &&
	    strcmp(rv->tee, coffer_tee_type_name(x->m->tee)) == 0 &&
	    rv->measurement_len == x->m->len &&
	    memcmp(rv->measurement, x->m->value, x->m->len) == 0)
		x->found = 1;
	return 0;
}

struct mrev_walk {
	struct mrev m;
	struct coord_book *b;
};

static int
mrev_each(const struct coffer_policy *v, void *arg)
{
	struct mrev_walk *w = arg;
	int r;

	if ((r = coord_state_revocation_each(w->b->st, v->hash, on_mrev,
	    &w->m)) != 0)
		return r;
	return w->m.found ? 1 : 0;
}

int
coord_book_measurement_revoked(struct coord_book *b,
    const struct coffer_policy *p, const struct coffer_policy_measurement *m,
    int *revoked)
{
	struct mrev_walk w;
	int r;

	memset(&w, 0, sizeof(w));
	w.m.m = m;
	w.b = b;
	r = coord_book_chain_each(b, p, mrev_each, &w);
	if (r < 0)
		return r;
	*revoked = w.m.found;
	return 0;
}

static int
root_each(const struct coffer_policy *v, void *arg)
{
	memcpy(arg, v->hash, 32);
	return 0;
}

int
coord_book_chain_root(struct coord_book *b, const struct coffer_policy *p,
    uint8_t out[32])
{
	return coord_book_chain_each(b, p, root_each, out);
}
