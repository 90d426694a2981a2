// SPDX-License-Identifier: Apache-2.0
// The fake coordinator of fake_coord.h: the routes a worker uses, each a
// few lines over src/proto and src/tee, in the order
// doc/protocol/key-release.md and doc/format/item-proof.md give.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "fake_coord.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/random.h"
#include "proto/keyrelease.h"
#include "proto/ledger.h"
#include "proto/merkle.h"
#include "proto/receipt.h"
#include "proto/standby.h"

int
fake_coord_init(struct fake_coord *fc)
{
	int r;

	if ((r = coffer_random(fc->session, 16)) != 0 ||
	    (r = coffer_random(fc->session_key, 32)) != 0 ||
	    (r = coffer_random(fc->output_key, 32)) != 0 ||
	    (r = coffer_random(fc->intermediate_key, 32)) != 0 ||
	    (r = coffer_random(fc->app_secret, 32)) != 0)
		return r;
	return 0;
}

static int
answer(struct coffer_buf *reply, int *status, int code, const char *text)
{
	*status = code;
	return coffer_buf_puts(reply, text);
}

static int
refuse(struct coffer_buf *reply, int *status, int code, const char *name,
    const char *why)
{
	*status = code;
	return coffer_buf_putf(reply, "{\"error\": {\"code\": \"%s\", \"message\":"
	    " \"fake coordinator: %s\"}}", name, why);
}

static int
bad(struct fake_coord *fc, struct coffer_buf *reply, int *status, const char *what)
{
	snprintf(fc->last_error, sizeof(fc->last_error), "%s: %s", what,
	    coffer_errdetail());
	return refuse(reply, status, 400, "request.malformed", "malformed");
}

static void fill_payload(const struct fake_coord *fc,
    struct coffer_release_payload *pl, struct coffer_release_key *keys);

static int
release(struct fake_coord *fc, const void *body, size_t len, int *status,
    struct coffer_buf *reply)
{
	struct coffer_release_request rq;
	struct coffer_release_payload pl;
	struct coffer_release_key keys[FAKE_COORD_MAX_KEYS];
	struct coffer_tee_anchors *anchors = NULL;
	struct coffer_tee_claims *claims = NULL;
	struct coffer_tee_verify_opts vo;
	struct coffer_policy_measurement m;
	const struct coffer_policy_app *a = coffer_policy_app(fc->policy, fc->app);
	uint8_t rd[64];
	char jh[33];
	int r, vr;

	fc->releases++;
	coffer_hex_encode(fc->job, 16, jh);
	coffer_release_request_init(&rq);
	/* KR1 */
	if (coffer_release_request_parse(body, len, jh, &rq) != 0 ||
	    coffer_keyrelease_binding(rq.job, rq.nonce, rq.worker_pk, rd) != 0) {
		coffer_release_request_release(&rq);
		return bad(fc, reply, status, "release request");
	}
	if (fc->refuse_release != NULL) {
		coffer_release_request_release(&rq);
		return refuse(reply, status, 403, fc->refuse_release, "as asked");
	}
	/* KR8 to KR11: the evidence, bound to this request, under the
	 * policy's verification object, with a measurement the app lists. */
	if ((r = coffer_tee_anchors_new_default(&anchors)) != 0) {
		coffer_release_request_release(&rq);
		return r;
	}
	memset(&vo, 0, sizeof(vo));
	vo.expected_report_data = rd;
	vo.policy = &fc->policy->tee_policy;
	vr = coffer_tee_verify(rq.evidence.data, rq.evidence.len, anchors, NULL,
	    coffer_tee_now(), &vo, &claims);
	coffer_tee_anchors_free(anchors);
	if (vr != 0 || coffer_policy_measurement(claims, &m) != 0 ||
	    !coffer_policy_app_allows(a, &m)) {
		coffer_tee_claims_free(claims);
		coffer_release_request_release(&rq);
		return refuse(reply, status, 403, vr != 0 ? "evidence.invalid" :
		    "measurement.unapproved", "not this worker");
	}
	coffer_tee_claims_free(claims);
	fill_payload(fc, &pl, keys);
	*status = 200;
	r = coffer_release_answer_make(&pl, rq.nonce, rq.worker_pk,
	    (fc->answer_as ? fc->answer_as : fc->id)->kx_sk, reply);
	coffer_release_request_release(&rq);
	return r;
}

/* 6.5's payload for the job (keys: FAKE_COORD_MAX_KEYS entries). */
static void
fill_payload(const struct fake_coord *fc, struct coffer_release_payload *pl0,
    struct coffer_release_key *keys)
{
	const struct coffer_policy_app *a = coffer_policy_app(fc->policy, fc->app);
	struct coffer_release_payload pl;

	memset(&pl, 0, sizeof(pl));
	memcpy(pl.job, fc->job, 16);
	memcpy(pl.policy, fc->policy->hash, 32);
	snprintf(pl.app, sizeof(pl.app), "%s", fc->app);
	memcpy(pl.app_sha256, a->sha256, 32);
	pl.reduce = a->reduce;
	memcpy(pl.session, fc->session, 16);
	memcpy(pl.session_key, fc->session_key, 32);
	for (size_t i = 0; i < fc->nkeys; i++) {
		memcpy(keys[i].key_id, fc->key_ids[i], 16);
		memcpy(keys[i].key, fc->keys[i], 32);
	}
	pl.keys = keys;
	pl.nkeys = fc->nkeys;
	memcpy(pl.output_key, fc->output_key, 32);
	memcpy(pl.intermediate_key, fc->intermediate_key, 32);
	memcpy(pl.app_secret, fc->app_secret, 32);
	pl.params = fc->params;
	pl.limits = fc->limits;
	*pl0 = pl;
}

/* The evidence ev bound to rd, under the policy's verification object,
 * with a measurement the app lists: NULL, or the reason name. */
static const char *
judge(const struct fake_coord *fc, const struct coffer_buf *ev,
    const uint8_t rd[64])
{
	const struct coffer_policy_app *a = coffer_policy_app(fc->policy, fc->app);
	struct coffer_tee_anchors *anchors = NULL;
	struct coffer_tee_claims *claims = NULL;
	struct coffer_tee_verify_opts vo;
	struct coffer_policy_measurement m;
	const char *why = NULL;
	int vr;

	if (coffer_tee_anchors_new_default(&anchors) != 0)
		return "evidence.invalid";
	memset(&vo, 0, sizeof(vo));
	vo.expected_report_data = rd;
	vo.policy = &fc->policy->tee_policy;
	vr = coffer_tee_verify(ev->data, ev->len, anchors, NULL, coffer_tee_now(),
	    &vo, &claims);
	coffer_tee_anchors_free(anchors);
	if (vr != 0)
		why = "evidence.invalid";
	else if (coffer_policy_measurement(claims, &m) != 0 ||
	    !coffer_policy_app_allows(a, &m))
		why = "measurement.unapproved";
	coffer_tee_claims_free(claims);
	return why;
}

/* POST /v1/standby/nonce (key-release.md 6.7.2): 6.2's head without
 * policy_len, LF, nothing after it. */
static int
standby_nonce(struct fake_coord *fc, int *status, struct coffer_buf *reply)
{
	struct coffer_buf line = COFFER_BUF_INIT(4096);
	uint8_t n[32];
	char nh[65];
	int r;

	fc->standby_nonces++;
	if ((r = coffer_random(n, 32)) != 0)
		return r;
	coffer_hex_encode(n, 32, nh);
	if ((r = coffer_identity_format_public(&fc->id->pub, &line)) == 0 &&
	    (r = coffer_buf_putf(reply, "{\"nonce\": \"%s\", \"expires\": 1, "
	    "\"identity\": \"%s\", \"evidence\": \"", nh, line.data)) == 0 &&
	    (r = coffer_b64url_put(reply, fc->evidence, fc->evidence_len)) == 0 &&
	    (r = coffer_buf_puts(reply, "\"}\n")) == 0)
		*status = 200;
	coffer_buf_release(&line);
	return r;
}

/* POST /v1/standby (6.7.4): SB1, SB5 and the evidence judged now as the
 * release's (the real coordinator leaves the policy to the bind); one
 * session is kept (a new standby replaces it). */
static int
standby(struct fake_coord *fc, const void *body, size_t len, int *status,
    struct coffer_buf *reply)
{
	struct coffer_standby_request rq;
	uint8_t rd[64];
	int r;

	fc->standbys++;
	coffer_standby_request_init(&rq);
	if (coffer_standby_request_parse(body, len, &rq) != 0 ||
	    coffer_standby_binding(rq.nonce, rq.worker_pk, rd) != 0) {
		coffer_standby_request_release(&rq);
		return bad(fc, reply, status, "standby request");
	}
	coffer_buf_release(&fc->standby_evidence);
	coffer_buf_init(&fc->standby_evidence, COFFER_STANDBY_EVIDENCE_MAX);
	if ((r = coffer_buf_put(&fc->standby_evidence, rq.evidence.data,
	    rq.evidence.len)) != 0 ||
	    (r = coffer_random(fc->standby_id, 16)) != 0 ||
	    (r = coffer_random(fc->standby_secret, 64)) != 0) {
		coffer_standby_request_release(&rq);
		return r;
	}
	memcpy(fc->standby_rd, rd, 64);
	fc->standby_used = 0;
	*status = 200;
	r = coffer_standby_answer_make(fc->standby_id, fc->standby_secret,
	    rq.nonce, rq.worker_pk, fc->id->kx_sk, reply);
	coffer_standby_request_release(&rq);
	return r;
}

/* POST /v1/jobs/{job}/bind (6.7.5, 6.7.6): BD1, BD4, BD5, then
 * refuse_bind or the stored evidence judged under the policy (BD9 to
 * BD11), the session consumed past BD5. */
static int
bind(struct fake_coord *fc, const void *body, size_t len, int *status,
    struct coffer_buf *reply)
{
	struct coffer_bind_request rq;
	struct coffer_release_payload pl;
	struct coffer_release_key keys[FAKE_COORD_MAX_KEYS];
	const char *why;
	char jh[33];

	fc->binds++;
	coffer_hex_encode(fc->job, 16, jh);
	if (coffer_bind_request_parse(body, len, jh, &rq) != 0)
		return bad(fc, reply, status, "bind request");
	if (fc->forget_standby || fc->standby_evidence.len == 0 ||
	    memcmp(rq.standby, fc->standby_id, 16) != 0)
		return refuse(reply, status, 403, "standby.unknown", "no such session");
	if (fc->standby_used)
		return refuse(reply, status, 403, "standby.used", "bound before");
	if (coffer_bind_request_check_mac(&rq, fc->standby_secret) != 0)
		return refuse(reply, status, 403, "standby.auth", "wrong MAC");
	fc->standby_used = 1;
	if (fc->refuse_bind != NULL)
		return refuse(reply, status, 403, fc->refuse_bind, "as asked");
	if ((why = judge(fc, &fc->standby_evidence, fc->standby_rd)) != NULL)
		return refuse(reply, status, 403, why, "not this worker");
	fill_payload(fc, &pl, keys);
	*status = 200;
	return coffer_bind_answer_make(&pl, fc->standby_id, fc->standby_secret,
	    fc->policy->jcs.data, fc->policy->jcs.len, reply);
}

/* The commit rule in small (C2 to C5): the first committed proof of an
 * item wins; FAILED commits only with commit_failed. */
static uint8_t
commit(struct fake_coord *fc, const struct coffer_itemproof *p)
{
	struct fake_coord_rec *rec = &fc->ledger[p->stage][p->item % 64];

	if (rec->have)
		return rec->p.result != p->result || memcmp(rec->p.output_digest,
		    p->output_digest, 32) != 0 ? COFFER_ACK_DISAGREEMENT :
		    COFFER_ACK_DUPLICATE;
	if (p->result == COFFER_RESULT_FAILED && !fc->commit_failed &&
	    p->error != COFFER_ITEMPROOF_ERROR_INPUT_REFUSED)
		return COFFER_ACK_FAILURE;
	rec->have = 1;
	rec->p = *p;
	rec->log_index = (uint64_t)fc->proofs;
	return COFFER_ACK_COMMITTED;
}

/* One proof of a batch: checked, applied, its answer appended (80 bytes,
 * or base64url and quoted when json). -1: not a proof. */
static int
one_proof(struct fake_coord *fc, const uint8_t *b, int json, int first,
    struct coffer_buf *reply)
{
	struct coffer_itemproof p;
	struct coffer_itemack a;
	uint8_t ab[COFFER_ITEMACK_LEN], wrong[32];
	int r;

	if (coffer_itemproof_parse(b, COFFER_ITEMPROOF_LEN, &p) != 0 ||
	    coffer_itemproof_verify_mac(b, fc->session_key) != 0)
		return -1;
	memset(wrong, 0x5a, sizeof(wrong));
	fc->proofs++;
	memcpy(fc->last_proof, b, COFFER_ITEMPROOF_LEN);
	fc->last = p;
	memset(&a, 0, sizeof(a));
	memcpy(a.proof_mac, p.mac, 32);
	a.log_index = (uint64_t)fc->proofs;
	if (fc->refuse_proofs) {
		a.outcome = COFFER_ACK_REFUSED;
		a.reason = fc->refuse_proofs;
	} else if (fc->answers != NULL && fc->nanswers > 0) {
		/* Scripted answers, in turn (the tests' mixed batches). */
		a.outcome = fc->answers[0].outcome;
		a.reason = fc->answers[0].reason;
		fc->answers++;
		fc->nanswers--;
		if (a.outcome != COFFER_ACK_REFUSED)
			(void)commit(fc, &p);
	} else {
		a.outcome = commit(fc, &p);
	}
	if ((r = coffer_itemack_encode(&a, fc->bad_ack_mac ? wrong :
	    fc->session_key, ab)) != 0)
		return r;
	if (!json)
		return coffer_buf_put(reply, ab, sizeof(ab));
	if ((r = coffer_buf_puts(reply, first ? "\"" : ",\"")) == 0 &&
	    (r = coffer_b64url_put(reply, ab, sizeof(ab))) == 0)
		r = coffer_buf_puts(reply, "\"");
	return r;
}

/* A JSON batch ({"proofs": [...]}) or, with ctype
 * application/octet-stream, a binary one (item-proof.md 8.1). */
static int
proofs(struct fake_coord *fc, const char *ctype, const void *body, size_t len,
    int *status, struct coffer_buf *reply)
{
	json_t *root = NULL, *arr;
	uint8_t b[COFFER_ITEMPROOF_LEN];
	int r = 0, bin = ctype != NULL &&
	    strcmp(ctype, "application/octet-stream") == 0;

	fc->proof_requests++;
	if (fc->fail_requests > 0) {
		fc->fail_requests--;
		return coffer_errf(COFFER_E_CONNECT, "fake coordinator: connection reset");
	}
	fc->last_batch = bin ? len / COFFER_ITEMPROOF_LEN : 0;
	coffer_buf_reset(reply);
	if (bin) {
		/* BB1. */
		if (len == 0 || len % COFFER_ITEMPROOF_LEN != 0 ||
		    len / COFFER_ITEMPROOF_LEN > COFFER_ITEMPROOF_BATCH_MAX)
			return bad(fc, reply, status, "proofs");
		for (size_t i = 0; i < len / COFFER_ITEMPROOF_LEN && r == 0; i++)
			if ((r = one_proof(fc, (const uint8_t *)body +
			    i * COFFER_ITEMPROOF_LEN, 0, i == 0, reply)) < 0) {
				coffer_buf_reset(reply);
				return bad(fc, reply, status, "a proof");
			}
		*status = 200;
		return r;
	}
	if (coffer_json_parse(body, len, 1 << 20, 4, &root) != 0 ||
	    !json_is_array(arr = json_object_get(root, "proofs"))) {
		json_decref(root);
		return bad(fc, reply, status, "proofs");
	}
	r = coffer_buf_puts(reply, "{\"acks\": [");
	for (size_t i = 0; i < json_array_size(arr) && r == 0; i++) {
		const char *s = json_string_value(json_array_get(arr, i));

		if (s == NULL || coffer_b64url_decode_exact(s, strlen(s), b,
		    sizeof(b)) != 0 || (r = one_proof(fc, b, 1, i == 0, reply)) < 0) {
			json_decref(root);
			coffer_buf_reset(reply);
			return bad(fc, reply, status, "a proof");
		}
	}
	if (r == 0)
		r = coffer_buf_puts(reply, "]}");
	json_decref(root);
	*status = 200;
	return r;
}

/* The map stage's result entries (doc/format/receipt.md 2.2), one per
 * item of the app in index order, from the ledger: the committed proof's,
 * or ABANDONED. */
static int
leaves(struct fake_coord *fc, int *status, struct coffer_buf *reply)
{
	const struct coffer_policy_app *a = coffer_policy_app(fc->policy, fc->app);
	struct coffer_policy_item *items = NULL;
	coffer_merkle_hash *h = NULL;
	size_t n = 0;
	int r;

	if (fc->refuse_leaves != NULL)
		return refuse(reply, status, 403, fc->refuse_leaves, "as asked");
	if ((r = coffer_policy_items(fc->policy, a, &items, &n)) != 0)
		return r;
	if ((h = calloc(n + 1, sizeof(*h))) == NULL) {
		free(items);
		return COFFER_E_NOMEM;
	}
	r = coffer_buf_putf(reply, "{\"count\": %zu, \"leaves\": [", n);
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct fake_coord_rec *rec = &fc->ledger[0][i % 64];
		struct coffer_result_entry e;
		uint8_t b[COFFER_RESULT_ENTRY_LEN];

		memset(&e, 0, sizeof(e));
		e.stage = 0;
		e.index = i;
		memcpy(e.input_digest, items[i].digest, 32);
		if (rec->have && i < 64) {
			e.status = rec->p.result;
			memcpy(e.attempt, rec->p.attempt, 16);
			memcpy(e.session, rec->p.session, 16);
			memcpy(e.output_digest, rec->p.output_digest, 32);
			e.output_size = rec->p.output_size;
			e.error = rec->p.error;
			e.log_index = rec->log_index;
		} else {
			e.status = COFFER_ITEM_ABANDONED;
		}
		coffer_receipt_result_encode(&e, b);
		if ((r = coffer_merkle_leaf(b, sizeof(b), h[i])) == 0 &&
		    (r = coffer_buf_puts(reply, i ? ",\"" : "\"")) == 0 &&
		    (r = coffer_b64url_put(reply, b, sizeof(b))) == 0)
			r = coffer_buf_puts(reply, "\"");
	}
	if (r == 0 && (r = coffer_buf_puts(reply, "]}")) == 0)
		r = coffer_merkle_root(h, n, fc->map_root);
	free(h);
	free(items);
	*status = 200;
	return r;
}

/* The policy text the nonce answer carries: the job's canonical form, or
 * with serve_other_policy another policy's (the expiry's first digit
 * changed, so its hash differs). */
static int
policy_text(const struct fake_coord *fc, struct coffer_buf *out)
{
	char *t = strndup((const char *)fc->policy->jcs.data, fc->policy->jcs.len), *e;
	int r;

	if (t == NULL)
		return COFFER_E_NOMEM;
	if (fc->serve_other_policy && (e = strstr(t, "\"expires\":")) != NULL) {
		e += 10;
		while (*e == ' ')
			e++;
		*e = *e == '9' ? '8' : (char)(*e + 1);
	}
	r = coffer_buf_puts(out, t);
	free(t);
	return r;
}

/* POST /v1/jobs/{job}/nonce (key-release.md 6.2): a head with a nonce,
 * the identity (or `present`), the evidence (and a member the worker
 * ignores), LF and the policy text. */
static int
nonce(struct fake_coord *fc, int *status, struct coffer_buf *reply)
{
	struct coffer_buf line = COFFER_BUF_INIT(4096);
	struct coffer_buf text = COFFER_BUF_INIT((size_t)1 << 20);
	uint8_t n[32];
	char nh[65];
	int r;

	fc->nonces++;
	if ((r = coffer_random(n, 32)) != 0)
		return r;
	coffer_hex_encode(n, 32, nh);
	if ((r = coffer_identity_format_public(&(fc->present ? fc->present :
	    fc->id)->pub, &line)) == 0 && (r = policy_text(fc, &text)) == 0 &&
	    (r = coffer_buf_putf(reply, "{\"nonce\": \"%s\", %s"
	    "\"identity\": \"%s\", \"evidence\": \"", nh, fc->expires_member ?
	    fc->expires_member : "\"expires\": 1, ", line.data)) == 0 &&
	    (r = coffer_b64url_put(reply, fc->evidence, fc->evidence_len)) == 0 &&
	    (r = coffer_buf_putf(reply, "\", \"unknown\": 1, \"policy_len\": %lld}%s",
	    (long long)text.len + fc->policy_len_delta, fc->nonce_no_lf ? "" :
	    "\n")) == 0 &&
	    (fc->nonce_no_lf || (r = coffer_buf_put(reply, text.data,
	    text.len)) == 0))
		*status = 200;
	coffer_buf_release(&line);
	coffer_buf_release(&text);
	return r;
}

int
fake_coord_request(void *arg, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, size_t max, int *status,
    struct coffer_buf *reply)
{
	struct fake_coord *fc = arg;
	char jh[33], pre[64];
	const char *rest;

	(void)max;
	coffer_hex_encode(fc->job, 16, jh);
	snprintf(pre, sizeof(pre), "/v1/jobs/%s/", jh);
	if (fc->refuse_after > 0)
		fc->refuse_after--;
	else if (fc->refuse_connections > 0) {
		fc->refuse_connections--;
		return coffer_errf(COFFER_E_CONNECT, "fake coordinator: connection"
		    " refused");
	}
	if (strcmp(method, "GET") == 0 && strncmp(path, pre, strlen(pre)) == 0 &&
	    strncmp(path + strlen(pre), "stages/map/leaves", 17) == 0 &&
	    strchr("?", path[strlen(pre) + 17]) != NULL) {
		fc->leaves_requests++;
		snprintf(fc->leaves_query, sizeof(fc->leaves_query), "%s",
		    path + strlen(pre) + 17);
		if (fc->open_leaves > 0) {
			fc->open_leaves--;
			return refuse(reply, status, 409, "stage.open", "not yet");
		}
		return leaves(fc, status, reply);
	}
	if (strcmp(method, "POST") == 0 && strcmp(path, "/v1/standby/nonce") == 0)
		return standby_nonce(fc, status, reply);
	if (strcmp(method, "POST") == 0 && strcmp(path, "/v1/standby") == 0)
		return standby(fc, body, len, status, reply);
	if (strcmp(method, "POST") != 0 || strncmp(path, pre, strlen(pre)) != 0)
		return answer(reply, status, 404, "{\"error\": {\"code\":"
		    " \"route.unknown\", \"message\": \"fake coordinator\"}}");
	rest = path + strlen(pre);
	if (strcmp(rest, "nonce") == 0)
		return nonce(fc, status, reply);
	if (strcmp(rest, "release") == 0)
		return release(fc, body, len, status, reply);
	if (strcmp(rest, "bind") == 0)
		return bind(fc, body, len, status, reply);
	if (strcmp(rest, "proofs") == 0)
		return proofs(fc, ctype, body, len, status, reply);
	return answer(reply, status, 404, "{\"error\": {\"code\": \"route.unknown\","
	    " \"message\": \"fake coordinator\"}}");
}
