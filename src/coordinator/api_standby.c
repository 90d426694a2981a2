// SPDX-License-Identifier: Apache-2.0
// Standby and bind (doc/protocol/key-release.md section 6.7): a worker
// attests before it has a job (the standby nonce, then the standby request
// checked by SB1 to SB5), and a job binds it later with one symmetric
// round trip (BD1 to BD11). The bind runs the release's own KR5 to KR12
// (release_int.h) on the evidence kept from the standby, verified again
// under the job's policy now, and stores the same session and `release`
// event: proofs, the ledger and the receipt do not know the difference.
#include <string.h>

#include <openssl/crypto.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "coordinator/release_int.h"
#include "coordinator/standby.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "proto/policy.h"
#include "proto/standby.h"

/* The standby nonce answer's bound (6.7.2, section 9). */
#define STANDBY_NONCE_ANSWER_MAX ((size_t)2 << 20)

/*
 * POST /v1/standby/nonce (6.7.2): 6.2's head without policy_len, and
 * nothing after its LF. The nonce is from the release's pool: one
 * mechanism, one lifetime, forgotten at a restart.
 */
void
api_standby_nonce(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_buf b = COFFER_BUF_INIT(STANDBY_NONCE_ANSWER_MAX);
	uint8_t nonce[COORD_NONCE_LEN];
	char hex[2 * COORD_NONCE_LEN + 1];
	int e;

	if ((e = coord_nonce_issue(c->nonces, coffer_mono_ms(), nonce)) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	coffer_hex_encode(nonce, sizeof(nonce), hex);
	if ((e = coffer_buf_putf(&b, "{\"nonce\": \"%s\", \"expires\": %llu, "
	    "\"identity\": \"%s\", \"evidence\": \"", hex,
	    (unsigned long long)(coord_now() + (uint64_t)(c->cfg.nonce_ttl_ms /
	    1000)), c->id_line)) != 0 ||
	    (e = coffer_b64url_put(&b, c->evidence, c->evidence_len)) != 0 ||
	    (e = coffer_buf_puts(&b, "\"}\n")) != 0)
		http_reply_coffer_err(r, e);
	else
		http_reply_text(r, 200, "application/octet-stream",
		    coffer_buf_str(&b), b.len);
	coffer_buf_release(&b);
}

/* SB4: the evidence verifies as evidence, no verification object, missing
 * collateral and CRLs allowed; which sim platform keys are trusted is the
 * policy's choice (P9), made at bind (BD9). 0, or refused and -1. */
static int
sb4(struct http_req *r, const struct coffer_standby_request *q,
    struct coffer_tee_claims **claims)
{
	struct coord *c = r->ctx;
	struct coffer_tee_verify_opts vo;
	const char *name;
	int e, ignored = 0;

	memset(&vo, 0, sizeof(vo));
	vo.flags = COFFER_TEE_ALLOW_NO_COLLATERAL | COFFER_TEE_ALLOW_NO_CRL;
	/* Its verdict counts one reason this check ignores: the reasons are
	 * read one by one below. */
	e = coffer_tee_verify(q->evidence.data, q->evidence.len, c->anchors,
	    c->collateral, coffer_tee_now(), &vo, claims);
	if (*claims == NULL) {
		if (e == COFFER_E_NOMEM || e == COFFER_E_INVAL) {
			http_reply_coffer_err(r, e);
			return -1;
		}
		coord_refuse(r, "evidence.invalid", "evidence", "the evidence cannot "
		    "be parsed: %s", coffer_errdetail());
		return -1;
	}
	for (size_t i = 0; i < (*claims)->n_reasons; i++) {
		const struct coffer_tee_reason *why = &(*claims)->reasons[i];

		if (!why->fatal)
			continue;
		if (strcmp(why->code, "sim.untrusted_key") == 0) {
			ignored = 1;
			continue;
		}
		name = coord_release_kr8_name(why->code);
		coord_refuse(r, name, "evidence", "%s: %s%s", why->code, why->text,
		    coord_release_coll_hint(name));
		return -1;
	}
	/* A refusal without a fatal reason, or with one this check did not
	 * ignore, is not evidence that verifies as such. */
	if (e != 0 && !ignored) {
		coord_refuse(r, "evidence.invalid", "evidence", "the evidence does "
		    "not verify: %s", coffer_errdetail());
		return -1;
	}
	return 0;
}

/* POST /v1/standby (6.7.4): SB1 to SB5, then a standby session. */
void
api_standby(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_standby_request q;
	struct coffer_tee_claims *claims = NULL;
	struct coffer_buf ans = COFFER_BUF_INIT(COFFER_STANDBY_ANSWER_MAX);
	uint8_t rd[64], id[16], s[COFFER_STANDBY_SECRET_LEN];
	int64_t t0 = coord_mono_us();
	char ms[32], idh[33];
	int e;

	coffer_standby_request_init(&q);
	memset(s, 0, sizeof(s));
	/* SB1 */
	if ((e = coffer_standby_request_parse(r->body, r->body_len, &q)) != 0) {
		coord_refuse_err(r, e, "request.malformed");
		goto out;
	}
	/* SB2 */
	if ((e = coord_nonce_take(c->nonces, coffer_mono_ms(), q.nonce)) != 0) {
		coord_refuse_err(r, e, NULL);
		goto out;
	}
	/* SB3, before any verification costs anything */
	if ((e = coord_standby_room(c->standbys, coffer_mono_ms(),
	    q.evidence.len)) != 0) {
		coord_refuse(r, "standby.full", NULL, "%s", coffer_errdetail());
		goto out;
	}
	/* SB4 */
	if (sb4(r, &q, &claims) != 0)
		goto out;
	/* SB5 */
	if ((e = coffer_standby_binding(q.nonce, q.worker_pk, rd)) != 0) {
		http_reply_coffer_err(r, e);
		goto out;
	}
	if (CRYPTO_memcmp(rd, claims->report_data, 64) != 0) {
		coord_refuse(r, "evidence.binding", "evidence", "the evidence's report "
		    "data does not bind this nonce and worker key for a standby "
		    "session");
		goto out;
	}
	/* The session, then its answer: S wrapped to the key SB5 bound. */
	if ((e = coord_standby_add(c->standbys, coffer_mono_ms(), q.nonce,
	    q.worker_pk, q.evidence.data, q.evidence.len, id, s)) != 0) {
		if (e == COFFER_E_BUSY)
			coord_refuse(r, "standby.full", NULL, "%s", coffer_errdetail());
		else
			http_reply_coffer_err(r, e);
		goto out;
	}
	if ((e = coffer_standby_answer_make(id, s, q.nonce, q.worker_pk,
	    c->id.kx_sk, &ans)) != 0) {
		/* Nobody can hold this S: the session goes at once. */
		coord_standby_forget(c->standbys, id);
		http_reply_coffer_err(r, e);
		goto out;
	}
	coffer_hex_encode(id, 16, idh);
	snprintf(ms, sizeof(ms), "%.1f", (double)(coord_mono_us() - t0) / 1000.0);
	coffer_logkv(COFFER_LOG_INFO, "standby session made", "standby", idh, "tee",
	    coffer_tee_type_name(claims->tee), "ms", ms, NULL);
	c->standbys_made++;
	http_reply_text(r, 200, "application/json", (const char *)ans.data, ans.len);
out:
	coffer_wipe(s, sizeof(s));
	coffer_tee_claims_free(claims);
	coffer_standby_request_release(&q);
	coffer_buf_release(&ans);
}

/* BD5 */
static int
check_mac(const uint8_t s[COFFER_STANDBY_SECRET_LEN], void *arg)
{
	return coffer_bind_request_check_mac(arg, s);
}

/* POST /v1/jobs/{job}/bind (6.7.5, 6.7.6). */
void
api_bind(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_bind_request q;
	struct coord_standby_taken tk;
	struct release *x;
	int e, logged = 0;

	memset(&tk, 0, sizeof(tk));
	if ((x = coord_release_new()) == NULL) {
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		return;
	}
	x->bind = 1;
	/* BD1 */
	if ((e = coffer_bind_request_parse(r->body, r->body_len,
	    http_req_param(r, "job"), &q)) != 0) {
		coord_refuse_err(r, e, "request.malformed");
		goto out;
	}
	/* From here on every refusal is logged, as the release's. */
	memcpy(x->req.job, q.job, 16);
	memcpy(x->standby, q.standby, 16);
	c->last_reason[0] = '\0';
	logged = 1;
	/* BD2, BD3 */
	if (coord_release_job(r, x, q.job) != 0)
		goto out;
	/* BD4, BD5; past BD5 the session is consumed. */
	if ((e = coord_standby_take(c->standbys, coffer_mono_ms(), q.standby,
	    check_mac, &q, &tk)) != 0) {
		if (e == COFFER_E_AUTH)
			coord_refuse(r, "standby.auth", "mac", "the MAC is not the "
			    "standby session's for this job");
		else
			coord_refuse_err(r, e, NULL);
		goto out;
	}
	memcpy(x->req.nonce, tk.nonce, 32);
	memcpy(x->req.worker_pk, tk.worker_pk, 32);
	if ((e = coffer_buf_put(&x->req.evidence, tk.evidence,
	    tk.evidence_len)) != 0) {
		http_reply_coffer_err(r, e);
		goto out;
	}
	/* BD6 to BD11: the release's own KR5 to KR12, now, on the job's
	 * policy; then its payload and session. */
	if (coord_release_decide(r, x) != 0)
		goto out;
	if ((e = coffer_bind_answer_make(&x->pay, q.standby, tk.s, x->p->jcs.data,
	    x->p->jcs.len, &x->answer)) != 0 ||
	    (e = coord_release_store(c, x)) != 0) {
		http_reply_coffer_err(r, e);
		goto out;
	}
	coord_release_log_granted(c, x, "keys released");
	c->binds++;
	http_reply_text(r, 200, "application/octet-stream",
	    (const char *)x->answer.data, x->answer.len);
out:
	if (logged && c->last_reason[0] != '\0')
		coord_release_log_refusal(c, x);
	coord_standby_taken_clear(&tk);
	coord_release_free(x);
}
