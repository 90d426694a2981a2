// SPDX-License-Identifier: Apache-2.0
// Attested key release (doc/protocol/key-release.md section 6): the nonce,
// then the release request checked by rules KR1 to KR12 in the order of
// the table, each refusal answered with its reason name. Cheap checks of
// the coordinator's own state come before the evidence is verified, so a
// worker that will be refused anyway costs no signature verification.
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/coord.h"
#include "coordinator/jobkeys.h"
#include "coordinator/release_int.h"
#include "crypto/hash.h"
#include "crypto/wrap.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "proto/keyrelease.h"
#include "proto/signed.h"
#include "proto/standby.h"

/* The nonce answer's size bound (key-release.md section 9): the evidence
 * (1 MiB decoded, base64url), the policy (1 MiB) and the rest. */
#define NONCE_ANSWER_MAX ((size_t)3 << 20)

/*
 * POST /v1/jobs/{job}/nonce (key-release.md 6.2): the nonce, and what a
 * starting worker needs besides (N1): this coordinator's identity line
 * and evidence (base64url of exactly the bytes GET /v1/evidence serves)
 * in a head of one line, then LF and the job's policy text, exactly the
 * canonical bytes the book keeps and GET /v1/policies/{hash} serves, not
 * encoded (N4). The head is written by hand, with no LF in it: the blob
 * needs no escaping, nor does an identity line (doc/format/identity.md
 * section 2: base64url and A-Z a-z 0-9 . _ @ + -).
 */
void
api_release_nonce(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coord_job j;
	struct coffer_buf b = COFFER_BUF_INIT(NONCE_ANSWER_MAX);
	const struct coffer_policy *p = NULL;
	uint8_t nonce[COORD_NONCE_LEN];
	char hex[2 * COORD_NONCE_LEN + 1];
	int e;

	memset(&j, 0, sizeof(j));
	if (coord_path_job(r, j.id) != 0)
		return;
	/* Only for a job that exists: a typo in the job id is caught here,
	 * before the worker spends an attestation on it. */
	e = coord_state_job_get(c->st, j.id, &j);
	if (e == COFFER_E_NOTFOUND) {
		coord_refuse(r, "job.unknown", "job", "no such job");
		return;
	}
	/* The job's policy is in the book (a job is opened only under one). */
	if (e == 0)
		e = coord_book_get(c->book, j.policy, &p);
	coord_job_release(&j);
	if (e != 0 || (e = coord_nonce_issue(c->nonces, coffer_mono_ms(),
	    nonce)) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	coffer_hex_encode(nonce, sizeof(nonce), hex);
	if ((e = coffer_buf_putf(&b, "{\"nonce\": \"%s\", \"expires\": %llu, "
	    "\"identity\": \"%s\", \"evidence\": \"", hex,
	    (unsigned long long)(coord_now() + (uint64_t)(c->cfg.nonce_ttl_ms /
	    1000)), c->id_line)) != 0 ||
	    (e = coffer_b64url_put(&b, c->evidence, c->evidence_len)) != 0 ||
	    (e = coffer_buf_putf(&b, "\", \"policy_len\": %zu}\n",
	    p->jcs.len)) != 0 ||
	    (e = coffer_buf_put(&b, p->jcs.data, p->jcs.len)) != 0)
		http_reply_coffer_err(r, e);
	else
		http_reply_text(r, 200, "application/octet-stream",
		    coffer_buf_str(&b), b.len);
	coffer_buf_release(&b);
}

/* KR7: the data key of every dataset the app reads, uploaded under the
 * job's policy or a predecessor by the owner that holds the dataset in
 * the job's policy (key-release.md section 4). */
struct keyfind {
	struct coord *c;
	const uint8_t *key_id;
	int found;
	uint8_t key[32];
};

static int
on_upload(const uint8_t policy[32], const char *env, size_t len, void *arg)
{
	struct keyfind *k = arg;
	const struct coffer_policy *under;
	struct coffer_keyupload up;
	int e;

	(void)env;
	(void)len;
	if (k->found)
		return 0;
	if ((e = coord_book_get(k->c->book, policy, &under)) != 0)
		return e;
	if (coord_keycache_get(k->c->keys, k->key_id, k->key)) {
		k->found = 1;
		return 0;
	}
	/* Not unwrapped since the start: do it again, as at upload. */
	memset(&up, 0, sizeof(up));
	if ((e = coffer_keyupload_verify(under, env, len, k->c->id.kx_sk,
	    &up)) != 0)
		return coffer_errctx(e, "state: a stored key upload no longer "
		    "verifies");
	memcpy(k->key, up.key, 32);
	coffer_wipe(up.key, sizeof(up.key));
	k->found = 1;
	return coord_keycache_put(k->c->keys, k->key_id, k->key);
}

/* Is policy `under` the job's policy or one of its predecessors? */
struct chainfind {
	const uint8_t *hash;
};

static int
chain_has(const struct coffer_policy *v, void *arg)
{
	struct chainfind *f = arg;

	return memcmp(v->hash, f->hash, 32) == 0 ? 1 : 0;
}

struct keyfind_chain {
	struct keyfind k;
	struct coord_book *book;
	const struct coffer_policy *job_policy;
	const struct coffer_identity_public *holder; /* the dataset's owner in it */
};

static int
on_upload_in_chain(const uint8_t policy[32], const char *env, size_t len,
    void *arg)
{
	struct keyfind_chain *kc = arg;
	struct chainfind f = { policy };
	const struct coffer_policy *under;
	int e, uploader;

	e = coord_book_chain_each(kc->book, kc->job_policy, chain_has, &f);
	if (e < 0)
		return e;
	if (e == 0)
		return 0; /* uploaded under an unrelated policy */
	/* UP5 took it only from the owner that holds the key id under that
	 * version; a later version that gives the dataset to someone else
	 * does not get the key (it needs that owner's own upload). */
	if ((e = coord_book_get(kc->book, policy, &under)) != 0)
		return e;
	uploader = coffer_policy_key_owner(under, kc->k.key_id);
	if (uploader < 0 || !coffer_policy_same_identity(&under->owners[uploader].id,
	    kc->holder))
		return 0;
	return on_upload(policy, env, len, &kc->k);
}

static int
find_keys(struct coord *c, struct release *x, char *missing, size_t mlen)
{
	struct keyfind_chain kc;
	size_t used = 0;
	int e;

	missing[0] = '\0';
	x->pay.keys = coffer_calloc(x->app->ndatasets, sizeof(*x->pay.keys));
	if (x->pay.keys == NULL)
		return COFFER_E_NOMEM;
	for (size_t i = 0; i < x->app->ndatasets; i++) {
		const struct coffer_policy_dataset *d =
		    &x->p->datasets[x->app->datasets[i]];

		memset(&kc, 0, sizeof(kc));
		kc.k.c = c;
		kc.k.key_id = d->key_id;
		kc.book = c->book;
		kc.job_policy = x->p;
		kc.holder = &x->p->owners[d->owner].id;
		if ((e = coord_state_key_each(c->st, d->key_id, on_upload_in_chain,
		    &kc)) != 0) {
			coffer_wipe(kc.k.key, sizeof(kc.k.key));
			return e;
		}
		if (!kc.k.found) {
			if (used < mlen)
				used += (size_t)snprintf(missing + used, mlen - used,
				    "%s%s", used ? ", " : "", d->name);
			continue;
		}
		memcpy(x->pay.keys[x->pay.nkeys].key_id, d->key_id, 16);
		memcpy(x->pay.keys[x->pay.nkeys].key, kc.k.key, 32);
		x->pay.nkeys++;
		coffer_wipe(kc.k.key, sizeof(kc.k.key));
	}
	return 0;
}

/* KR10: the name of a refusal by the policy's verification object
 * (doc/format/evidence.md section 10.4). */
static const char *
kr10_name(const char *code)
{
	if (strcmp(code, "policy.debug") == 0)
		return "tee.debug";
	if (strcmp(code, "policy.tcb_status") == 0 ||
	    strcmp(code, "policy.tcb_evaluation_number") == 0 ||
	    strcmp(code, "policy.snp_tcb") == 0)
		return "tcb.below_minimum";
	if (strcmp(code, "policy.sim_key") == 0)
		return "sim.key_not_named";
	/* Collateral the object requires and the coordinator lacks: the
	 * operator is to push it (doc/protocol/collateral.md section 3.4). */
	if (strcmp(code, "collateral.missing") == 0 || strcmp(code, "crl.missing") == 0)
		return "collateral.missing";
	return "verification.refused";
}

/* KR8: collateral the coordinator has only outside its validity, or an
 * SNP report's VCEK it lacks, has its own name, so that an operator knows
 * to push collateral rather than distrust the worker. */
const char *
coord_release_kr8_name(const char *code)
{
	if (strcmp(code, "snp.vek_missing") == 0)
		return "collateral.missing";
	if (strcmp(code, "collateral.expired") == 0 ||
	    strcmp(code, "collateral.not_yet_valid") == 0 ||
	    strcmp(code, "crl.expired") == 0)
		return "collateral.expired";
	return "evidence.invalid";
}

/* What a collateral refusal adds to the verifier's text (which names the
 * piece): where to get it. The coordinator never fetches it. */
const char *
coord_release_coll_hint(const char *name)
{
	return strncmp(name, "collateral.", 11) == 0 ? "; push current "
	    "collateral to this coordinator: coffer collateral fetch EVIDENCE "
	    "--push URL (doc/attestation.md)" : "";
}

/* A refusal by the verification object (KR10) rather than of the
 * evidence itself (KR8): its policy.* reasons, and the collateral and
 * CRLs it did not allow to be missing (key-release.md section 6.4). */
static int
by_policy(const char *code)
{
	return strncmp(code, "policy.", 7) == 0 ||
	    strcmp(code, "collateral.missing") == 0 ||
	    strcmp(code, "crl.missing") == 0;
}

/* The first fatal reason of the object (policy 1) or not (policy 0). */
const struct coffer_tee_reason *
coord_release_first_fatal(const struct coffer_tee_claims *c, int policy)
{
	for (size_t i = 0; i < c->n_reasons; i++)
		if (c->reasons[i].fatal && by_policy(c->reasons[i].code) == policy)
			return &c->reasons[i];
	return NULL;
}

/* KR8 to KR12 on the evidence. Returns 0, or replies and returns -1. */
static int
judge_evidence(struct http_req *r, struct release *x)
{
	struct coord *c = r->ctx;
	struct coffer_tee_verify_opts vo;
	const struct coffer_tee_reason *why;
	uint8_t binding[64];
	int e, revoked = 0;

	/* Verified once, under the policy's verification object: its
	 * refusals (policy.*) are KR10's, every other fatal reason KR8's.
	 * The report data is compared here (KR9), not by the verifier. */
	memset(&vo, 0, sizeof(vo));
	vo.policy = &x->p->tee_policy; /* parsed with the policy (rule P13) */
	e = coffer_tee_verify(x->req.evidence.data, x->req.evidence.len,
	    c->anchors, c->collateral, coffer_tee_now(), &vo, &x->claims);
	if (x->claims == NULL) {
		coord_refuse(r, "evidence.invalid", "evidence", "the evidence cannot "
		    "be parsed: %s", coffer_errdetail());
		return -1;
	}
	/* KR8 */
	if (e != 0 && (why = coord_release_first_fatal(x->claims, 0)) != NULL) {
		const char *name = coord_release_kr8_name(why->code);

		coord_refuse(r, name, "evidence", "%s: %s%s", why->code, why->text,
		    coord_release_coll_hint(name));
		return -1;
	}
	/* KR9; for a bind (BD9) the standby binding of 6.7.3, which SB5
	 * checked on these same bytes: it cannot fail here. */
	e = x->bind ? coffer_standby_binding(x->req.nonce, x->req.worker_pk,
	    binding) : coffer_keyrelease_binding(x->job.id, x->req.nonce,
	    x->req.worker_pk, binding);
	if (e != 0) {
		http_reply_coffer_err(r, e);
		return -1;
	}
	if (CRYPTO_memcmp(binding, x->claims->report_data, 64) != 0) {
		coord_refuse(r, "evidence.binding", "evidence", "the evidence's report "
		    "data does not bind %s", x->bind ? "the standby session's nonce "
		    "and worker key" : "this job, nonce and worker key");
		return -1;
	}
	/* KR10 */
	if (x->claims->verdict != COFFER_TEE_OK) {
		why = coord_release_first_fatal(x->claims, 1);
		coord_refuse(r, why != NULL ? kr10_name(why->code) :
		    "verification.refused", "evidence", "%s: %s%s",
		    why != NULL ? why->code : "?", why != NULL ? why->text :
		    "refused by the verification policy",
		    coord_release_coll_hint(why != NULL ? kr10_name(why->code) :
		    ""));
		return -1;
	}
	/* KR11 */
	if ((e = coffer_policy_measurement(x->claims, &x->m)) != 0) {
		coord_refuse(r, "measurement.unapproved", "evidence", "%s",
		    coffer_errdetail());
		return -1;
	}
	if (!coffer_policy_app_allows(x->app, &x->m)) {
		char hex[2 * COFFER_POLICY_MEASUREMENT_MAX + 1];

		coffer_hex_encode(x->m.value, x->m.len, hex);
		coord_refuse(r, "measurement.unapproved", "evidence", "%s measurement "
		    "%s is not approved for app %s", coffer_tee_type_name(x->m.tee),
		    hex, x->app->name);
		return -1;
	}
	/* KR12 */
	if ((e = coord_book_measurement_revoked(c->book, x->p, &x->m,
	    &revoked)) != 0) {
		http_reply_coffer_err(r, e);
		return -1;
	}
	if (revoked) {
		coord_refuse(r, "measurement.revoked", "evidence", "an owner revoked "
		    "this %s measurement under the policy",
		    coffer_tee_type_name(x->m.tee));
		return -1;
	}
	return 0;
}

static int
make_payload(struct coord *c, struct release *x)
{
	uint8_t chain_root[32];
	int e;

	memcpy(x->pay.job, x->job.id, 16);
	memcpy(x->pay.policy, x->p->hash, 32);
	snprintf(x->pay.app, sizeof(x->pay.app), "%s", x->app->name);
	memcpy(x->pay.app_sha256, x->app->sha256, 32);
	x->pay.reduce = x->app->reduce;
	if ((e = coffer_random(x->sess.id, 16)) != 0 ||
	    (e = coffer_random(x->sess.key, 32)) != 0)
		return e;
	memcpy(x->pay.session, x->sess.id, 16);
	memcpy(x->pay.session_key, x->sess.key, 32);
	if ((e = coord_jobkey_derive(c->root, COORD_KEY_OUTPUT, x->p->hash,
	    x->job.id, 16, x->pay.output_key)) != 0)
		return e;
	if (x->app->reduce && (e = coord_jobkey_derive(c->root,
	    COORD_KEY_INTERMEDIATE, x->p->hash, x->job.id, 16,
	    x->pay.intermediate_key)) != 0)
		return e;
	if ((e = coord_book_chain_root(c->book, x->p, chain_root)) != 0 ||
	    (e = coord_jobkey_derive(c->root, COORD_KEY_APP_SECRET, chain_root,
	    x->app->name, strlen(x->app->name), x->pay.app_secret)) != 0)
		return e;
	if ((x->pay.params = json_loads(x->job.params, 0, NULL)) == NULL ||
	    (x->pay.limits = json_object()) == NULL)
		return COFFER_E_NOMEM;
	for (size_t i = 0; i < x->p->nlimits; i++)
		if (json_object_set_new(x->pay.limits, x->p->limits[i].name,
		    json_integer((json_int_t)x->p->limits[i].value)) != 0)
			return COFFER_E_NOMEM;
	return 0;
}

/* The session and its `release` event in one commit, written as sessions
 * are (coord_state_begin_lazy: in the journal before the answer, flushed
 * before the next signed head). */
int
coord_release_store(struct coord *c, const struct release *x)
{
	char job[33], sess[33], meas[2 * COFFER_POLICY_MEASUREMENT_MAX + 1],
	    wpk[65], nonce[65], evh[65];
	uint8_t h[32];
	json_t *ev;
	int e;

	if ((e = coffer_sha256(x->req.evidence.data, x->req.evidence.len, h)) != 0)
		return e;
	coffer_hex_encode(x->job.id, 16, job);
	coffer_hex_encode(x->sess.id, 16, sess);
	coffer_hex_encode(x->sess.measurement, x->sess.measurement_len, meas);
	coffer_hex_encode(x->req.worker_pk, 32, wpk);
	coffer_hex_encode(x->req.nonce, 32, nonce);
	coffer_hex_encode(h, 32, evh);
	if ((ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "event",
	    "release", "job", job, "session", sess, "tee", x->sess.tee,
	    "measurement", meas, "worker_pk", wpk, "nonce", nonce,
	    "evidence_sha256", evh)) == NULL)
		return COFFER_E_NOMEM;
	/* A bind's release names the standby session it rests on (6.7.6). */
	if (x->bind) {
		char sb[33];

		coffer_hex_encode(x->standby, 16, sb);
		if (json_object_set_new(ev, "standby", json_string(sb)) != 0) {
			json_decref(ev);
			return COFFER_E_NOMEM;
		}
	}
	if ((e = coord_state_begin_lazy(c->st)) == 0) {
		if ((e = coord_state_session_put(c->st, &x->sess)) != 0 ||
		    (e = coord_audit_append(c->st, ev, NULL)) != 0 ||
		    (e = coord_state_commit(c->st)) != 0)
			coord_state_rollback(c->st);
	}
	json_decref(ev);
	return e;
}

/* A refusal by rules KR2 to KR12 (the one coord_refuse just sent) as a
 * `refusal` event. A failure to log it is logged, not answered: the
 * refusal was sent. */
void
coord_release_log_refusal(struct coord *c, const struct release *x)
{
	char job[33], evh[65];
	uint8_t h[32];
	json_t *ev;
	int e;

	coffer_hex_encode(x->req.job, 16, job);
	ev = json_pack("{s:s, s:s, s:s, s:s}", "event", "refusal", "job", job,
	    "reason", c->last_reason, "detail", c->last_detail);
	if (ev != NULL && x->req.evidence.len > 0 &&
	    coffer_sha256(x->req.evidence.data, x->req.evidence.len, h) == 0) {
		coffer_hex_encode(h, 32, evh);
		(void)json_object_set_new(ev, "evidence_sha256", json_string(evh));
	}
	if (ev == NULL)
		e = COFFER_E_NOMEM;
	else if ((e = coord_state_begin_lazy(c->st)) == 0) {
		if ((e = coord_audit_append(c->st, ev, NULL)) != 0 ||
		    (e = coord_state_commit(c->st)) != 0)
			coord_state_rollback(c->st);
	}
	json_decref(ev);
	if (e != 0)
		coffer_logkv(COFFER_LOG_ERROR, "refusal not logged", "reason",
		    c->last_reason, "error", coffer_errdetail(), NULL);
}

int64_t
coord_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Rules KR2 and KR3 (BD2, BD3): the job, into x->job. 0, or replied
 * and -1. */
int
coord_release_job(struct http_req *r, struct release *x, const uint8_t id[16])
{
	struct coord *c = r->ctx;
	int e = coord_state_job_get(c->st, id, &x->job);

	if (e == COFFER_E_NOTFOUND) {
		coord_refuse(r, "job.unknown", "job", "no such job");
		return -1;
	}
	if (e != 0) {
		http_reply_coffer_err(r, e);
		return -1;
	}
	if (x->job.closed) {
		coord_refuse(r, "job.closed", "job", "the job is closed");
		return -1;
	}
	return 0;
}

int
coord_release_decide(struct http_req *r, struct release *x)
{
	struct coord *c = r->ctx;
	struct coord_status st;
	char missing[512];
	int e;

	/* KR5 and KR6: the policy's status says coordinator.rolled_back
	 * while its owners have not approved again after a rollback
	 * (coord_book_status, policy.md 10.3). */
	if ((e = coord_book_get(c->book, x->job.policy, &x->p)) != 0 ||
	    (e = coord_book_status(c->book, x->p, coord_now(), &st)) != 0) {
		http_reply_coffer_err(r, e);
		return -1;
	}
	if (!st.active) {
		coord_refuse(r, st.reason, "policy", "the job's policy is not active "
		    "(%s)", st.reason);
		return -1;
	}
	if ((x->app = coffer_policy_app(x->p, x->job.app)) == NULL) {
		http_reply_coffer_err(r, coffer_errf(COFFER_E_INTERNAL, "the job's "
		    "app is not in its policy"));
		return -1;
	}
	/* KR7 */
	if ((e = find_keys(c, x, missing, sizeof(missing))) != 0) {
		http_reply_coffer_err(r, e);
		return -1;
	}
	if (missing[0] != '\0') {
		coord_refuse(r, "keys.missing", "policy", "no data key uploaded for "
		    "dataset(s) %s", missing);
		return -1;
	}
	/* KR8 to KR12 */
	if (judge_evidence(r, x) != 0)
		return -1;
	/* Release: the payload and its session (stored by the caller with
	 * its answer). */
	if ((e = make_payload(c, x)) != 0) {
		http_reply_coffer_err(r, e);
		return -1;
	}
	memcpy(x->sess.job, x->job.id, 16);
	snprintf(x->sess.tee, sizeof(x->sess.tee), "%s",
	    coffer_tee_type_name(x->m.tee));
	memcpy(x->sess.measurement, x->m.value, x->m.len);
	x->sess.measurement_len = x->m.len;
	memcpy(x->sess.worker_pk, x->req.worker_pk, 32);
	return 0;
}

struct release *
coord_release_new(void)
{
	struct release *x = coffer_calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	coffer_release_request_init(&x->req);
	coffer_buf_init(&x->answer, COFFER_RELEASE_PAYLOAD_MAX * 3);
	x->t0_us = coord_mono_us();
	return x;
}

void
coord_release_free(struct release *x)
{
	if (x == NULL)
		return;
	coffer_release_request_release(&x->req);
	coord_job_release(&x->job);
	coffer_tee_claims_free(x->claims);
	coffer_release_payload_clear(&x->pay);
	coffer_buf_release(&x->answer);
	coffer_wipe(&x->sess, sizeof(x->sess));
	free(x);
}

void
coord_release_log_granted(struct coord *c, const struct release *x,
    const char *what)
{
	char job[33], meas[2 * COFFER_POLICY_MEASUREMENT_MAX + 1], ms[32],
	    sb[33];

	coffer_hex_encode(x->job.id, 16, job);
	coffer_hex_encode(x->m.value, x->m.len, meas);
	snprintf(ms, sizeof(ms), "%.1f", (double)(coord_mono_us() - x->t0_us) /
	    1000.0);
	if (x->bind) {
		coffer_hex_encode(x->standby, 16, sb);
		coffer_logkv(COFFER_LOG_INFO, what, "job", job, "tee", x->sess.tee,
		    "measurement", meas, "standby", sb, "ms", ms, NULL);
	} else {
		coffer_logkv(COFFER_LOG_INFO, what, "job", job, "tee", x->sess.tee,
		    "measurement", meas, "ms", ms, NULL);
	}
	c->releases++;
}

void
api_release(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct release *x;
	const char *path_job = http_req_param(r, "job");
	int e, logged = 0;

	if ((x = coord_release_new()) == NULL) {
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		return;
	}
	/* KR1 */
	if ((e = coffer_release_request_parse(r->body, r->body_len, path_job,
	    &x->req)) != 0) {
		coord_refuse_err(r, e, "request.malformed");
		goto out;
	}
	/* From here on every refusal is logged (audit-log.md section 3). */
	c->last_reason[0] = '\0';
	logged = 1;
	/* KR2, KR3 */
	if (coord_release_job(r, x, x->req.job) != 0)
		goto out;
	/* KR4 */
	if ((e = coord_nonce_take(c->nonces, coffer_mono_ms(), x->req.nonce)) != 0) {
		coord_refuse_err(r, e, NULL);
		goto out;
	}
	/* KR5 to KR12, the payload and session */
	if (coord_release_decide(r, x) != 0)
		goto out;
	if ((e = coffer_release_answer_make(&x->pay, x->req.nonce, x->req.worker_pk,
	    c->kx, &x->answer)) != 0 ||
	    (e = coord_release_store(c, x)) != 0) {
		http_reply_coffer_err(r, e);
		goto out;
	}
	coord_release_log_granted(c, x, "keys released");
	http_reply_text(r, 200, "application/json", (const char *)x->answer.data,
	    x->answer.len);
out:
	if (logged && c->last_reason[0] != '\0')
		coord_release_log_refusal(c, x);
	coord_release_free(x);
}
