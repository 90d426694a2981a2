// SPDX-License-Identifier: Apache-2.0
// Policies, approvals and revocations over HTTP (doc/api-coordinator.md
// section 4; doc/format/policy.md). The checks of a statement are
// src/proto's (rules A1 to A5, RK1 to RK5); this file applies the ones that
// need the coordinator's state (A6, A7, policy.fork) and stores what it
// accepted, each in one commit before the answer.
#include <string.h>

#include <jansson.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/coord.h"
#include "crypto/hash.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/log.h"
#include "proto/signed.h"

static json_t *
hexj(const uint8_t *p, size_t n)
{
	char hex[2 * 240 + 1];

	coffer_hex_encode(p, n, hex);
	return json_string(hex);
}

static json_t *
owner_list(const struct coffer_policy *p, uint64_t bits)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < p->nowners; i++)
		if ((bits >> i) & 1)
			json_array_append_new(a, hexj(p->owners[i].fingerprint, 32));
	return a;
}

static const char *
state_name(const struct coord_status *st)
{
	switch (st->s.state) {
	case COFFER_POLICY_APPROVED_ALL: return "approved";
	case COFFER_POLICY_APPROVED_KOFN: return "approved-k-of-n";
	case COFFER_POLICY_REVOKED: return "revoked";
	default: return "pending";
	}
}

static int
on_mrev(const struct coord_revocation *rv, void *arg)
{
	json_t *a = arg, *o;

	if (rv->tee == NULL)
		return 0;
	o = json_pack("{s:s, s:o, s:o}", "tee", rv->tee, "value",
	    hexj(rv->measurement, rv->measurement_len), "by", hexj(rv->signer, 32));
	return o == NULL || json_array_append_new(a, o) != 0 ? COFFER_E_NOMEM : 0;
}

/* The status member of answers (doc/api-coordinator.md section 4.2). */
json_t *
coord_status_json(struct coord *c, const struct coffer_policy *p,
    const struct coord_status *st)
{
	json_t *j, *mrev = json_array();

	j = json_pack("{s:o, s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:b}",
	    "policy", hexj(p->hash, 32), "name", p->name, "state", state_name(st),
	    "active", st->active, "approved_by", owner_list(p, st->approved),
	    "missing", owner_list(p, st->s.missing & ~st->approved),
	    "revoked_by", owner_list(p, st->revoked), "expires",
	    (json_int_t)p->expires, "insecure", coffer_policy_insecure(p));
	if (j == NULL || mrev == NULL)
		goto fail;
	if (st->reason != NULL &&
	    json_object_set_new(j, "reason", json_string(st->reason)) != 0)
		goto fail;
	if (st->s.reason != NULL && strcmp(st->s.reason,
	    "update.field_not_listed") == 0 &&
	    json_object_set_new(j, "field_not_listed",
	    json_string(coffer_policy_field_name(st->s.field))) != 0)
		goto fail;
	if (st->s.needed > 0 &&
	    json_object_set_new(j, "needed", json_integer((json_int_t)st->s.needed)) != 0)
		goto fail;
	if (p->has_previous &&
	    json_object_set_new(j, "previous", hexj(p->previous, 32)) != 0)
		goto fail;
	if (st->superseded &&
	    json_object_set_new(j, "superseded_by", hexj(st->superseded_by, 32)) != 0)
		goto fail;
	if (coord_state_revocation_each(c->st, p->hash, on_mrev, mrev) != 0 ||
	    json_object_set_new(j, "revoked_measurements", mrev) != 0) {
		mrev = NULL;
		goto fail;
	}
	return j;
fail:
	json_decref(mrev);
	json_decref(j);
	return NULL;
}

/* Reply 200/201 with {"policy", ..., "status"} and extra members. */
static void
reply_with_status(struct http_req *r, int code, const struct coffer_policy *p,
    json_t *extra)
{
	struct coord *c = r->ctx;
	struct coord_status st;
	json_t *sj;
	int e;

	if ((e = coord_book_status(c->book, p, coord_now(), &st)) != 0) {
		json_decref(extra);
		http_reply_coffer_err(r, e);
		return;
	}
	sj = coord_status_json(c, p, &st);
	if (extra == NULL || sj == NULL ||
	    json_object_set_new(extra, "status", sj) != 0) {
		json_decref(extra);
		http_reply_json(r, code, NULL);
		return;
	}
	http_reply_json(r, code, extra);
}

static int
path_hash(struct http_req *r, uint8_t h[32])
{
	const char *s = http_req_param(r, "hash");
	size_t hexlen;

	if (s == NULL || strlen(s) != 64 ||
	    strspn(s, "0123456789abcdef") != 64 ||
	    coffer_hex_decode(s, 64, h, 32, &hexlen) != 0) {
		coord_refuse(r, "policy.unknown", "hash", "a policy hash is 64 "
		    "lower-case hex digits");
		return -1;
	}
	return 0;
}

/* The policy of the path's {hash}, or a refusal sent and -1. */
static int
path_policy(struct http_req *r, const struct coffer_policy **p)
{
	struct coord *c = r->ctx;
	uint8_t h[32];
	int e;

	if (path_hash(r, h) != 0)
		return -1;
	if ((e = coord_book_get(c->book, h, p)) != 0) {
		coord_refuse_err(r, e, NULL);
		return -1;
	}
	return 0;
}

void
api_policy_submit(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_policy *p = NULL;
	const struct coffer_policy *kept, *prev;
	int e, added = 0;

	if (coord_seen_head(r, NULL) != 0)
		return;
	/* Rules P1 to P17. */
	if ((e = coffer_policy_parse(r->body, r->body_len, &p)) != 0) {
		coord_refuse_err(r, e, "request.malformed");
		return;
	}
	/* A policy for another coordinator is of no use here, and an
	 * approval of it could not be carried to this one (policy.md 11). */
	if (memcmp(p->coordinator.sign_pk, c->id.pub.sign_pk, 32) != 0 ||
	    memcmp(p->coordinator.kx_pk, c->id.pub.kx_pk, 32) != 0) {
		coffer_policy_free(p);
		coord_refuse(r, "policy.other_coordinator", "coordinator", "the "
		    "policy names another coordinator; this one is %s",
		    c->fingerprint);
		return;
	}
	/* Its predecessor must be here: the update rule is judged against it. */
	if (p->has_previous &&
	    (e = coord_book_get(c->book, p->previous, &prev)) != 0) {
		coffer_policy_free(p);
		coord_refuse_err(r, e, NULL);
		return;
	}
	if ((e = coord_book_add(c->book, p, &kept, &added)) != 0) {
		coord_refuse_err(r, e, NULL);
		return;
	}
	if (added) {
		char hex[65];

		coffer_policy_hash_hex(kept, hex);
		coffer_logkv(COFFER_LOG_INFO, "policy stored", "policy", hex,
		    "name", kept->name, NULL);
	}
	reply_with_status(r, added ? 201 : 200, kept,
	    json_pack("{s:o, s:b}", "policy", hexj(kept->hash, 32), "created",
	    added));
}

struct listing {
	struct coord *c;
	json_t *a;
};

static int
on_listed(const uint8_t hash[32], void *arg)
{
	struct listing *l = arg;
	const struct coffer_policy *p;
	struct coord_status st;
	json_t *o;
	int e;

	if ((e = coord_book_get(l->c->book, hash, &p)) != 0 ||
	    (e = coord_book_status(l->c->book, p, coord_now(), &st)) != 0)
		return e;
	o = json_pack("{s:o, s:s, s:s, s:b}", "policy", hexj(hash, 32), "name",
	    p->name, "state", state_name(&st), "active", st.active);
	return o == NULL || json_array_append_new(l->a, o) != 0 ?
	    COFFER_E_NOMEM : 0;
}

void
api_policy_list(struct http_req *r)
{
	struct listing l = { r->ctx, NULL };
	int e;

	if (coord_seen_head(r, NULL) != 0)
		return;
	l.a = json_array();
	if (l.a == NULL) {
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		return;
	}
	if ((e = coord_state_policy_each(l.c->st, on_listed, &l)) != 0) {
		json_decref(l.a);
		http_reply_coffer_err(r, e);
		return;
	}
	http_reply_json(r, 200, json_pack("{s:o}", "policies", l.a));
}

void
api_policy_show(struct http_req *r)
{
	const struct coffer_policy *p;

	if (coord_seen_head(r, NULL) != 0 || path_policy(r, &p) != 0)
		return;
	/* The canonical text, byte for byte what is hashed: a client hashes
	 * the answer and compares (protocol/key-release.md section 3). */
	http_reply_text(r, 200, "application/json", coffer_buf_str(&p->jcs),
	    p->jcs.len);
}

void
api_policy_status(struct http_req *r)
{
	const struct coffer_policy *p;

	if (coord_seen_head(r, NULL) != 0 || path_policy(r, &p) != 0)
		return;
	reply_with_status(r, 200, p, json_pack("{s:o}", "policy", hexj(p->hash,
	    32)));
}

/* A7: the head the approval names is a head of this log: no larger, and
 * the same root at its size (the empty tree always is). */
static int
check_log_head(struct coord *c, const struct coffer_approval *a)
{
	coffer_merkle_hash root;
	uint64_t n;
	int e;

	if ((e = coord_audit_size(c->st, &n)) != 0)
		return e;
	if (a->log_size > n)
		return coffer_errf(COFFER_E_POLICY, "statement.log: names a head of "
		    "%llu entries; this log has %llu (log.unknown_head)",
		    (unsigned long long)a->log_size, (unsigned long long)n);
	if ((e = coord_audit_root(c->st, a->log_size, root)) != 0)
		return e;
	if (memcmp(root, a->log_root, 32) != 0)
		return coffer_errf(COFFER_E_POLICY, "statement.log: names a root this "
		    "log never had at %llu entries (log.unknown_head)",
		    (unsigned long long)a->log_size);
	return 0;
}

/* Store a statement and log its event in one commit. put's EXISTS (a
 * repeat) commits nothing and is returned as is. */
static int
store_logged(struct coord *c, const char *event, const uint8_t policy[32],
    const char *body, size_t len, int (*put)(struct coord *c, void *arg),
    void *arg)
{
	char hex[65];
	json_t *ev = NULL, *env;
	int e;

	coffer_hex_encode(policy, 32, hex);
	if ((env = json_loadb(body, len, 0, NULL)) == NULL ||
	    (ev = json_pack("{s:s, s:s, s:o}", "event", event, "policy", hex,
	    "signed", env)) == NULL)
		return COFFER_E_NOMEM;
	if ((e = coord_state_begin(c->st)) == 0) {
		if ((e = put(c, arg)) != 0 ||
		    (e = coord_audit_append(c->st, ev, NULL)) != 0 ||
		    (e = coord_state_commit(c->st)) != 0)
			coord_state_rollback(c->st);
	}
	json_decref(ev);
	return e;
}

struct approval_put {
	const struct coffer_policy *p;
	const uint8_t *fp;
	const struct coffer_approval *a;
	uint64_t min;
	const char *body;
	size_t len;
};

static int
put_approval(struct coord *c, void *arg)
{
	struct approval_put *x = arg;

	return coord_state_approval_put(c->st, x->p->hash, x->fp, x->a->log_size,
	    x->min, x->body, x->len);
}

void
api_policy_approve(struct http_req *r)
{
	struct coord *c = r->ctx;
	const struct coffer_policy *p;
	struct coffer_approval a;
	struct coord_status st;
	struct approval_put ap;
	const uint8_t *fp;
	uint64_t min;
	int e, fork = 0, counted = 1;

	if (coord_seen_head(r, NULL) != 0 || path_policy(r, &p) != 0)
		return;
	/* A1 to A5 */
	if ((e = coffer_approval_verify(p, r->body, r->body_len, coord_now(),
	    &a)) != 0) {
		coord_refuse_err(r, e, e == COFFER_E_FORMAT || e == COFFER_E_VERSION ||
		    e == COFFER_E_LIMIT ? "request.malformed" :
		    e == COFFER_E_UNTRUSTED ? "signer.unknown" :
		    e == COFFER_E_SIGNATURE ? "signature.invalid" :
		    e == COFFER_E_EXPIRED ? "policy.expired" : NULL);
		return;
	}
	fp = p->owners[a.owner].fingerprint;
	/* A6: a revoked approval is final (policy.md section 8). */
	if ((e = coord_book_status(c->book, p, coord_now(), &st)) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	if ((st.revoked >> a.owner) & 1) {
		coord_refuse(r, "signer.revoked", "statement.signer", "this owner "
		    "revoked its approval of the policy; approvals of it never count "
		    "again (make a new version)");
		return;
	}
	/* A7 */
	if ((e = check_log_head(c, &a)) != 0) {
		coord_refuse_err(r, e, e == COFFER_E_POLICY ? "log.unknown_head" :
		    NULL);
		return;
	}
	/* After a rollback at index D, only approvals naming a later head
	 * count (policy.md 10.3). */
	if ((e = coord_audit_min_approval(c->st, &min)) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	if (a.log_size < min) {
		coord_refuse(r, "coordinator.rolled_back", "statement.log", "this "
		    "coordinator was rolled back at log index %llu; an approval counts "
		    "only if it names a later head (run 'coffer audit accept', then "
		    "approve again)", (unsigned long long)(min - 1));
		return;
	}
	if ((e = coord_book_would_fork(c->book, p, &fork)) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	if (fork && !st.approved_any) {
		coord_refuse(r, "policy.fork", "policy", "another version with the "
		    "same predecessor is already approved");
		return;
	}
	ap.p = p;
	ap.fp = fp;
	ap.a = &a;
	ap.min = min;
	ap.body = r->body;
	ap.len = r->body_len;
	e = store_logged(c, "approval", p->hash, r->body, r->body_len,
	    put_approval, &ap);
	if (e == COFFER_E_EXISTS) {
		counted = 0; /* the same signer counts once */
	} else if (e != 0) {
		http_reply_coffer_err(r, e);
		return;
	} else {
		char ph[65], sh[65];

		coffer_hex_encode(p->hash, 32, ph);
		coffer_hex_encode(fp, 32, sh);
		coffer_logkv(COFFER_LOG_INFO, "approval counted", "policy", ph,
		    "signer", sh, NULL);
	}
	reply_with_status(r, counted ? 201 : 200, p, json_pack("{s:o, s:o, s:b}",
	    "policy", hexj(p->hash, 32), "signer", hexj(fp, 32), "counted",
	    counted));
}

struct revocation_put {
	const struct coord_revocation *rv;
	const char *body;
	size_t len;
};

static int
put_revocation(struct coord *c, void *arg)
{
	struct revocation_put *x = arg;

	return coord_state_revocation_put(c->st, x->rv, x->body, x->len);
}

void
api_policy_revoke(struct http_req *r)
{
	struct coord *c = r->ctx;
	const struct coffer_policy *p;
	struct coffer_revocation v;
	struct coord_revocation rv;
	int e, stored = 1, rolled_back = 0;

	/* A revocation is served even by a rolled-back coordinator (it only
	 * takes rights away), but the head is still checked: the rollback is
	 * recorded, and the answer tells the owner. */
	if (coord_seen_head(r, &rolled_back) != 0 || path_policy(r, &p) != 0)
		return;
	/* RK1 to RK5; a revocation is never refused for expiry or a rollback. */
	if ((e = coffer_revocation_verify(p, r->body, r->body_len, &v)) != 0) {
		coord_refuse_err(r, e, e == COFFER_E_FORMAT || e == COFFER_E_VERSION ||
		    e == COFFER_E_LIMIT ? "request.malformed" :
		    e == COFFER_E_UNTRUSTED ? "signer.unknown" :
		    e == COFFER_E_SIGNATURE ? "signature.invalid" : NULL);
		return;
	}
	memset(&rv, 0, sizeof(rv));
	memcpy(rv.policy, p->hash, 32);
	memcpy(rv.signer, p->owners[v.owner].fingerprint, 32);
	if (v.is_measurement) {
		rv.tee = coffer_tee_type_name(v.m.tee);
		rv.measurement = v.m.value;
		rv.measurement_len = v.m.len;
	}
	e = store_logged(c, "revocation", p->hash, r->body, r->body_len,
	    put_revocation, (void *)&(struct revocation_put){ &rv, r->body,
	    r->body_len });
	if (e == COFFER_E_EXISTS) {
		stored = 0;
	} else if (e != 0) {
		http_reply_coffer_err(r, e);
		return;
	} else {
		char ph[65], sh[65];

		coffer_hex_encode(p->hash, 32, ph);
		coffer_hex_encode(rv.signer, 32, sh);
		coffer_logkv(COFFER_LOG_INFO, "revocation stored", "policy", ph,
		    "signer", sh, "what", v.is_measurement ? "measurement" :
		    "approval", NULL);
	}
	reply_with_status(r, stored ? 201 : 200, p, json_pack("{s:o, s:o, s:s, s:b, "
	    "s:b}", "policy", hexj(p->hash, 32), "signer", hexj(rv.signer, 32),
	    "what", v.is_measurement ? "measurement" : "approval", "stored", stored,
	    "rolled_back", rolled_back));
}
