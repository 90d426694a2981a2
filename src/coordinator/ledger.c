// SPDX-License-Identifier: Apache-2.0
// The ledger of item proofs (ledger.h; doc/format/item-proof.md sections 5
// to 8). A request's proofs are checked in the order of the rules and
// applied one at a time, in log order, inside the state transaction of
// the group of requests they joined (group.c), committed durably before
// any answer of the group goes out (doc/coordinator.md section 10.1,
// rules G1 to G6). Each logged proof is appended to
// the audit log and recorded with its outcome; a job's ledger in memory is
// exactly what applying those records in order gives, which is how it is
// read back after a restart, and how an auditor replaying the log gets the
// same results.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/ledger_int.h"
#include "crypto/hash.h"
#include "lib/enc.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "proto/auditlog.h"

int
coord_ledger_new(struct coord *c, struct coord_ledger **out)
{
	struct coord_ledger *l;
	int r;

	if ((l = coffer_calloc(1, sizeof(*l))) == NULL)
		return COFFER_E_NOMEM;
	l->c = c;
	coffer_buf_init(&l->entry, COFFER_AUDITLOG_ENTRY_MAX);
	if ((r = coffer_hmac_new(&l->mac)) != 0) {
		free(l);
		return r;
	}
	if ((r = coord_state_ledger_open(c->st, &l->ls)) != 0) {
		coffer_hmac_free(l->mac);
		free(l);
		return r;
	}
	*out = l;
	return 0;
}

static void
job_free(struct ljob *j)
{
	if (j == NULL)
		return;
	coord_job_release(&j->row);
	free(j->receipt);
	free(j->items);
	for (size_t i = 0; i < j->nstages; i++)
		free(j->st[i].items);
	if (j->sess != NULL)
		coffer_wipe(j->sess, j->capsess * sizeof(*j->sess));
	free(j->sess);
	free(j->meas);
	free(j->seqs);
	free(j);
}

void
coord_ledger_free(struct coord_ledger *l)
{
	struct ljob *j, *next;

	if (l == NULL)
		return;
	for (j = l->jobs; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	coord_state_ledger_close(l->ls);
	coffer_buf_release(&l->entry);
	coffer_hmac_free(l->mac);  /* wipes the last session key */
	free(l);
}

void
coord_ledger_stats(const struct coord_ledger *l, struct coord_ledger_stats *out)
{
	*out = l->stats;
	out->open_jobs = 0;
	for (const struct ljob *j = l->jobs; j != NULL; j = j->next)
		out->open_jobs += !j->closed;
}

/* ---- (session, seq): rules C1 and IP10 ---- */

static size_t
seq_slot(const struct ljob *j, const uint8_t session[16], uint64_t seq)
{
	/* Session ids are random (the coordinator's), so their bytes hash
	 * well; only proofs with a valid MAC are ever recorded. */
	uint64_t h = coffer_load_u64be(session) ^ (seq * 0x9e3779b97f4a7c15ULL);

	return (size_t)(h ^ (h >> 29)) & (j->capseq - 1);
}

static struct lseq *
seq_find(const struct ljob *j, const uint8_t session[16], uint64_t seq)
{
	size_t i;

	if (j->capseq == 0)
		return NULL;
	for (i = seq_slot(j, session, seq); j->seqs[i].used;
	    i = (i + 1) & (j->capseq - 1))
		if (j->seqs[i].seq == seq && memcmp(j->seqs[i].session, session, 16) == 0)
			return &j->seqs[i];
	return NULL;
}

static int
seq_add(struct ljob *j, const struct lseq *x)
{
	struct lseq *old = j->seqs;
	size_t oldcap = j->capseq, i;

	if (2 * (j->nseq + 1) > j->capseq) {
		size_t cap = oldcap ? 2 * oldcap : 256;

		if ((j->seqs = coffer_calloc(cap, sizeof(*j->seqs))) == NULL) {
			j->seqs = old;
			return COFFER_E_NOMEM;
		}
		j->capseq = cap;
		j->nseq = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].used && seq_add(j, &old[i]) != 0)
				return COFFER_E_INTERNAL; /* cannot: room was made */
		free(old);
	}
	for (i = seq_slot(j, x->session, x->seq); j->seqs[i].used;
	    i = (i + 1) & (j->capseq - 1))
		;
	j->seqs[i] = *x;
	j->seqs[i].used = 1;
	j->nseq++;
	return 0;
}

/* ---- Sessions ---- */

static int
session_add(struct ljob *j, const struct coord_session *s)
{
	struct lsession *x;
	char hex[2 * COFFER_POLICY_MEASUREMENT_MAX + 1];
	size_t m;
	int r;

	if (j->nsess == j->capsess) {
		size_t cap = j->capsess ? 2 * j->capsess : 8;
		struct lsession *v = coffer_calloc(cap, sizeof(*v));

		if (v == NULL)
			return COFFER_E_NOMEM;
		if (j->sess != NULL) {
			memcpy(v, j->sess, j->nsess * sizeof(*v));
			coffer_wipe(j->sess, j->capsess * sizeof(*j->sess));
			free(j->sess);
		}
		j->sess = v;
		j->capsess = cap;
	}
	x = &j->sess[j->nsess];
	x->s = *s;
	coffer_hex_encode(s->measurement, s->measurement_len, hex);
	if ((r = coffer_policy_measurement_parse(s->tee, hex, "session",
	    &x->m)) != 0)
		return coffer_errctx(r, "state: a session's measurement");
	for (m = 0; m < j->nmeas; m++)
		if (j->meas[m].m.tee == x->m.tee && j->meas[m].m.len == x->m.len &&
		    memcmp(j->meas[m].m.value, x->m.value, x->m.len) == 0)
			break;
	if (m == j->nmeas) {
		if (j->nmeas == j->capmeas) {
			size_t cap = j->capmeas ? 2 * j->capmeas : 4;
			struct lmeas *v = coffer_reallocarray(j->meas, cap, sizeof(*v));

			if (v == NULL)
				return COFFER_E_NOMEM;
			j->meas = v;
			j->capmeas = cap;
		}
		memset(&j->meas[m], 0, sizeof(j->meas[m]));
		j->meas[m].m = x->m;
		j->nmeas++;
	}
	j->meas[m].sessions++;
	x->meas = m;
	j->nsess++;
	return 0;
}

static int
on_session(const struct coord_session *s, void *arg)
{
	return session_add(arg, s);
}

/* The job's session with this id: released before the job was read, or
 * since (then read from the state). B3. */
static int
session_find(struct coord_ledger *l, struct ljob *j, const uint8_t id[16],
    struct lsession **out)
{
	struct coord_session s;
	int r;

	for (size_t i = 0; i < j->nsess; i++)
		if (memcmp(j->sess[i].s.id, id, 16) == 0) {
			*out = &j->sess[i];
			return 0;
		}
	r = coord_state_session_get(l->ls, id, &s);
	if (r == 0 && memcmp(s.job, j->row.id, 16) != 0)
		r = COFFER_E_NOTFOUND;
	if (r == 0 && (r = session_add(j, &s)) == 0)
		*out = &j->sess[j->nsess - 1];
	coffer_wipe(&s, sizeof(s));
	if (r == COFFER_E_NOTFOUND)
		return coffer_errf(COFFER_E_POLICY, "session.unknown: no session with "
		    "this id in this job (release the keys again)");
	return r;
}

/* ---- Reading a job ---- */

/* Apply a recorded proof again (the commit rule is a function of the
 * order): the outcome must be the one that was answered. */
static int
on_proof(const struct coord_proof_rec *rec, void *arg)
{
	struct ljob *j = arg;
	struct coffer_itemproof p;
	struct lseq x;
	uint8_t outcome;
	int r;

	if ((r = coffer_itemproof_parse(rec->proof, sizeof(rec->proof), &p)) != 0)
		return coffer_errctx(r, "state: a recorded proof");
	memset(&x, 0, sizeof(x));
	memcpy(x.session, p.session, 16);
	x.seq = p.seq;
	memcpy(x.mac, p.mac, 32);
	x.outcome = rec->outcome;
	x.reason = rec->reason;
	x.log_index = rec->log_index;
	/* A proof refused as a repeat (IP10) does not replace the first. */
	if (seq_find(j, p.session, p.seq) == NULL && (r = seq_add(j, &x)) != 0)
		return r;
	if (rec->outcome == COFFER_ACK_REFUSED)
		return 0;
	if (p.stage >= j->nstages || p.item >= j->st[p.stage].count)
		return coffer_errf(COFFER_E_FORMAT, "state: a recorded proof is not "
		    "of this job's items");
	if ((r = coffer_ledger_apply(&j->st[p.stage].items[p.item], &p,
	    (unsigned)j->p->fail_after, rec->log_index, &outcome)) != 0)
		return r;
	if (outcome != rec->outcome)
		return coffer_errf(COFFER_E_FORMAT, "state: the ledger does not replay: "
		    "proof at log index %llu was answered %s, now %s",
		    (unsigned long long)rec->log_index,
		    coffer_itemack_outcome_name(rec->outcome),
		    coffer_itemack_outcome_name(outcome));
	if (outcome == COFFER_ACK_COMMITTED)
		j->st[p.stage].done++;
	return 0;
}

static int
stage_init(struct lstage *s, uint64_t count, enum lstage_state state)
{
	s->count = count;
	s->state = state;
	if ((s->items = coffer_calloc(count, sizeof(*s->items))) == NULL)
		return COFFER_E_NOMEM;
	return 0;
}

static int
job_load(struct coord_ledger *l, const uint8_t id[16], struct ljob **out)
{
	struct coord *c = l->c;
	struct coord_job_close cl;
	struct coffer_result_entry *e = NULL;
	coffer_merkle_hash *h = NULL;
	struct ljob *j;
	int r;

	memset(&cl, 0, sizeof(cl));
	if ((j = coffer_calloc(1, sizeof(*j))) == NULL)
		return COFFER_E_NOMEM;
	r = coord_state_job_get(c->st, id, &j->row);
	if (r == COFFER_E_NOTFOUND) {
		r = coffer_errf(COFFER_E_NOTFOUND, "job.unknown: no such job");
		goto out;
	}
	if (r != 0 || (r = coord_book_get(c->book, j->row.policy, &j->p)) != 0)
		goto out;
	if ((j->a = coffer_policy_app(j->p, j->row.app)) == NULL) {
		r = coffer_errf(COFFER_E_INTERNAL, "the job's app is not in its policy");
		goto out;
	}
	if ((r = coffer_policy_items(j->p, j->a, &j->items, &j->nitems)) != 0 ||
	    (r = coord_state_job_close_get(l->ls, id, &cl)) != 0)
		goto out;
	j->nstages = j->a->reduce ? 2 : 1;
	if ((r = stage_init(&j->st[0], j->nitems, LSTAGE_OPEN)) != 0 ||
	    (j->a->reduce && (r = stage_init(&j->st[1], 1, LSTAGE_WAITING)) != 0) ||
	    (r = coord_state_session_each(l->ls, id, on_session, j)) != 0 ||
	    (r = coord_state_proof_each(l->ls, id, on_proof, j)) != 0)
		goto out;
	/* The stages' states and roots as they closed. The map stage's root
	 * is the reduce item's pinned input (IP14). */
	if (cl.map_closed || cl.closed) {
		j->st[0].state = LSTAGE_CLOSED;
		if (j->a->reduce)
			j->st[1].state = cl.closed ? LSTAGE_CLOSED : LSTAGE_OPEN;
	}
	for (size_t s = 0; s < j->nstages; s++) {
		if (j->st[s].state != LSTAGE_CLOSED)
			continue;
		if ((r = ledger_stage_entries(j, s, &e)) != 0 ||
		    (h = coffer_mallocarray(j->st[s].count, sizeof(*h))) == NULL) {
			r = r ? r : COFFER_E_NOMEM;
			goto out;
		}
		for (size_t i = 0; i < j->st[s].count && r == 0; i++) {
			uint8_t b[COFFER_RESULT_ENTRY_LEN];

			coffer_receipt_result_encode(&e[i], b);
			r = coffer_merkle_leaf(b, sizeof(b), h[i]);
		}
		if (r != 0 || (r = coffer_merkle_root(h, j->st[s].count,
		    j->st[s].root)) != 0)
			goto out;
		free(e);
		free(h);
		e = NULL;
		h = NULL;
	}
	j->closed = cl.closed;
	j->failed = cl.failed;
	memcpy(j->reason, cl.reason, sizeof(j->reason));
	j->receipt = cl.receipt;
	j->receipt_len = cl.receipt_len;
	cl.receipt = NULL;
	*out = j;
	j = NULL;
out:
	free(e);
	free(h);
	coord_job_close_release(&cl);
	job_free(j);
	return r;
}

int
ledger_get(struct coord_ledger *l, const uint8_t id[16], struct ljob **out)
{
	struct ljob *j;
	int r;

	for (j = l->jobs; j != NULL; j = j->next)
		if (memcmp(j->row.id, id, 16) == 0) {
			*out = j;
			return 0;
		}
	if ((r = job_load(l, id, &j)) != 0)
		return r;
	j->next = l->jobs;
	l->jobs = j;
	*out = j;
	return 0;
}

/* Take j out of the jobs in memory. */
static void
job_unlink(struct coord_ledger *l, struct ljob *j)
{
	for (struct ljob **pp = &l->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
}

void
ledger_put(struct coord_ledger *l, struct ljob *j, int drop)
{
	struct ljob **pp, *k;
	size_t kept = 1;

	if (j == NULL || (!j->closed && !drop))
		return;
	job_unlink(l, j);
	if (drop) {
		job_free(j);
		return;
	}
	/* A job just closed is asked for next: its close, its receipt, its
	 * owners' bundles (doc/coordinator.md section 10.2). It goes first,
	 * and only the LEDGER_CLOSED_KEPT closed jobs named last stay. */
	j->next = l->jobs;
	l->jobs = j;
	for (pp = &j->next; (k = *pp) != NULL;) {
		if (k->closed && ++kept > LEDGER_CLOSED_KEPT) {
			*pp = k->next;
			job_free(k);
		} else {
			pp = &k->next;
		}
	}
}

/* ---- Item proofs ---- */

/* What one request decides once, for every proof in it. */
struct batch {
	struct coord_ledger *l;
	struct ljob *j;
	struct lsession *s;
	const char *inactive;   /* IP15, IP16: the policy's reason, or NULL */
	int meas_revoked;       /* IP17 */
	uint64_t now;
};

/* Append the proof's log entry and record it: its index in *idx. */
static int
log_proof(struct batch *b, const uint8_t proof[COFFER_ITEMPROOF_LEN],
    uint8_t outcome, uint16_t reason, uint64_t *idx)
{
	struct coord_ledger *l = b->l;
	struct coord_proof_rec rec;
	struct lseq x;
	int r;

	coffer_buf_reset(&l->entry);
	if ((r = coffer_auditlog_entry_proof(b->j->row.id, proof,
	    coffer_itemack_outcome_name(outcome),
	    reason ? coffer_itemproof_reason_name(reason) : NULL, b->now,
	    &l->entry)) != 0 ||
	    (r = coord_audit_append_entry(l->c->st, l->entry.data, l->entry.len,
	    idx)) != 0)
		return r;
	memset(&rec, 0, sizeof(rec));
	rec.log_index = *idx;
	memcpy(rec.proof, proof, COFFER_ITEMPROOF_LEN);
	rec.outcome = outcome;
	rec.reason = reason;
	if ((r = coord_state_proof_put(l->ls, b->j->row.id, &rec)) != 0)
		return r;
	/* The first record of a (session, seq) is the one C1 answers. */
	if (seq_find(b->j, proof + 24, coffer_load_u64be(proof + 40)) != NULL)
		return 0;
	memset(&x, 0, sizeof(x));
	memcpy(x.session, proof + 24, 16);
	x.seq = coffer_load_u64be(proof + 40);
	memcpy(x.mac, proof + 152, 32);
	x.outcome = outcome;
	x.reason = reason;
	x.log_index = *idx;
	return seq_add(b->j, &x);
}

/* The input digest a proof must name (IP14). */
static const uint8_t *
pinned(const struct ljob *j, const struct coffer_itemproof *p)
{
	return p->stage == COFFER_STAGE_MAP ? j->items[p->item].digest :
	    j->st[0].root;
}

/* A map proof FAILED with the worker's own "input refused": committed at
 * once, whatever fail_after (doc/format/item-proof.md sections 5, 6). */
static int
input_refused(const struct coffer_itemproof *p)
{
	return p->stage == COFFER_STAGE_MAP && p->result == COFFER_RESULT_FAILED &&
	    p->error == COFFER_ITEMPROOF_ERROR_INPUT_REFUSED;
}

/* IP12 to IP17 for a proof of an open job: the refusal's code, or 0. */
static uint16_t
rules_12_to_17(const struct batch *b, const struct coffer_itemproof *p)
{
	const struct ljob *j = b->j;

	/* IP12 */
	if (p->stage >= j->nstages || j->st[p->stage].state != LSTAGE_OPEN)
		return coffer_itemproof_reason_code("stage.closed");
	/* IP13 */
	if (p->item >= j->st[p->stage].count)
		return coffer_itemproof_reason_code("item.unknown");
	/* IP14; a worker's refusal of its input names the digest it found,
	 * which is not the pinned one. */
	if ((memcmp(p->input_digest, pinned(j, p), 32) != 0) != input_refused(p))
		return coffer_itemproof_reason_code("input.mismatch");
	/* IP15, IP16 */
	if (b->inactive != NULL)
		return coffer_itemproof_reason_code(b->inactive);
	/* IP17 */
	if (b->meas_revoked)
		return coffer_itemproof_reason_code("measurement.revoked");
	return 0;
}

/*
 * Rules IP1 to IP17 and C1 to C5 for one proof (doc/format/item-proof.md
 * sections 5 and 6), in their order; the answer in *a. Returns non-zero
 * only when the state fails (the request is then answered 500).
 */
static int
one_proof(struct batch *b, const uint8_t raw[COFFER_ITEMPROOF_LEN],
    struct coffer_itemack *a)
{
	struct ljob *j = b->j;
	struct coffer_itemproof p;
	const struct lseq *seen;
	uint16_t refuse = 0;
	uint8_t outcome;
	uint64_t idx;
	int r;

	memset(a, 0, sizeof(*a));
	memcpy(a->proof_mac, raw + 152, 32);
	a->log_index = COFFER_ITEMACK_NOT_LOGGED;
	a->outcome = COFFER_ACK_REFUSED;
	/* IP1 to IP7, IP8: not logged (anyone can send bytes). */
	if (coffer_itemproof_parse(raw, COFFER_ITEMPROOF_LEN, &p) != 0) {
		a->reason = coffer_itemproof_reason_code("proof.malformed");
		return 0;
	}
	if (coffer_itemproof_verify_mac_with(raw, b->l->mac) != 0) {
		a->reason = coffer_itemproof_reason_code("proof.bad_mac");
		return 0;
	}
	/* IP9 */
	if (memcmp(p.job, j->row.id, 16) != 0)
		refuse = coffer_itemproof_reason_code("proof.job_mismatch");
	/* IP10, C1 */
	else if ((seen = seq_find(j, p.session, p.seq)) != NULL) {
		if (memcmp(seen->mac, p.mac, 32) != 0) {
			refuse = coffer_itemproof_reason_code("proof.seq_reused");
		} else {
			a->outcome = seen->outcome;
			a->reason = seen->reason;
			a->log_index = seen->log_index;
			return 0;
		}
	}
	/* IP11. Nothing of a closed job is logged (its receipt's log head is
	 * final): not this refusal, nor one of IP9 or IP10 above. */
	if (j->closed) {
		a->reason = refuse ? refuse : coffer_itemproof_reason_code("job.closed");
		return 0;
	}
	if (refuse == 0)
		refuse = rules_12_to_17(b, &p);
	if (refuse != 0) {
		a->reason = refuse;
		if ((r = log_proof(b, raw, COFFER_ACK_REFUSED, refuse, &idx)) != 0)
			return r;
		a->log_index = idx;
		/* IP15 to IP17 (codes 8 to 13) fail the job: this is how a
		 * revocation takes effect at the next item proof. */
		if (refuse >= 8 && refuse <= 13)
			return ledger_close_job(b->l, j,
			    coffer_itemproof_reason_name(refuse));
		return 0;
	}
	/* C2 to C5 */
	{
		struct coffer_ledger_item *it = &j->st[p.stage].items[p.item];

		if ((r = coffer_ledger_apply(it, &p, input_refused(&p) ? 1 :
		    (unsigned)j->p->fail_after, 0, &outcome)) != 0 ||
		    (r = log_proof(b, raw, outcome, 0, &idx)) != 0)
			return r;
		a->outcome = outcome;
		a->log_index = idx;
		if (outcome != COFFER_ACK_COMMITTED)
			return 0;
		it->winner_log_index = idx;
		j->st[p.stage].done++;
	}
	/* A stage whose every item has a result closes; the last one closes
	 * the job, in this same commit. */
	if (j->st[p.stage].done < j->st[p.stage].count)
		return 0;
	if ((size_t)p.stage + 1 == j->nstages)
		return ledger_close_job(b->l, j, NULL);
	return ledger_close_stage(b->l, j, p.stage, 0);
}

void
coord_ledger_forget(struct coord_ledger *l)
{
	struct ljob *j, *next;

	for (j = l->jobs; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	l->jobs = NULL;
}

void
coord_ledger_count(struct coord_ledger *l, const uint64_t outcomes[6])
{
	for (size_t i = 0; i < 6; i++)
		l->stats.proofs[i] += outcomes[i];
}

int
coord_ledger_proofs(struct coord_ledger *l, const uint8_t job[16],
    const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN], size_t n,
    uint8_t (*acks)[COFFER_ITEMACK_LEN], uint64_t outcomes[6], int *wrote)
{
	struct coord *c = l->c;
	struct coffer_itemack *a = NULL;
	struct coord_status st;
	struct batch b;
	uint64_t serial;
	int r;

	*wrote = 0;
	memset(&b, 0, sizeof(b));
	b.l = l;
	b.now = coord_now();
	if (!coord_state_in_tx(c->st))
		return coffer_errf(COFFER_E_INTERNAL, "proofs outside a transaction");
	if ((r = ledger_get(l, job, &b.j)) != 0)
		return r;
	/* B3, then the session key into the kept context, once for the
	 * batch's MACs (IP8) and answers. */
	if ((r = session_find(l, b.j, proofs[0] + 24, &b.s)) != 0 ||
	    (r = coffer_hmac_key(l->mac, b.s->s.key, 32)) != 0)
		goto out;
	/* IP15 to IP17 are read again only when the state may have changed
	 * what they read (rule G6: a policy, an approval, a revocation or a
	 * rollback record stored, a transaction rolled back) or, for an
	 * active policy, once its expiry has passed; a group's proofs are
	 * judged at one time, as a batch's are at its request's. */
	serial = coord_state_book_serial(c->st);
	if (!b.j->closed && (b.j->status_serial != serial ||
	    (b.j->inactive == NULL && b.now >= b.j->p->expires))) {
		if ((r = coord_book_status(c->book, b.j->p, b.now, &st)) != 0)
			goto out;
		b.j->inactive = st.active ? NULL :
		    coffer_itemproof_reason_code(st.reason) ? st.reason :
		    "policy.unapproved";
		b.j->status_serial = serial;
	}
	if (!b.j->closed && b.s->revoked_serial != serial) {
		if ((r = coord_book_measurement_revoked(c->book, b.j->p, &b.s->m,
		    &b.s->revoked)) != 0)
			goto out;
		b.s->revoked_serial = serial;
	}
	b.inactive = b.j->inactive;
	b.meas_revoked = b.s->revoked;
	if ((a = coffer_calloc(n, sizeof(*a))) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	/* From here the state and the memory change: an error leaves the
	 * group's transaction to be rolled back (G5). The answers are made
	 * now, while the session is at hand, and sent after the commit. */
	*wrote = 1;
	for (size_t i = 0; i < n; i++)
		if ((r = one_proof(&b, proofs[i], &a[i])) != 0)
			goto out;
	for (size_t i = 0; i < n; i++) {
		if ((r = coffer_itemack_encode_with(&a[i], l->mac, acks[i])) != 0)
			goto out;
		outcomes[a[i].outcome]++;
	}
out:
	/* After an error that wrote, the memory is ahead of the state: this
	 * job is dropped here, and the caller forgets the others the group
	 * touched (G5); each is read again from the state when next named. */
	ledger_put(l, b.j, r != 0 && *wrote);
	free(a);
	return r;
}
