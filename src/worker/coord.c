// SPDX-License-Identifier: Apache-2.0
// The worker's exchanges with the coordinator (worker/coord.h,
// doc/worker.md section 9.3). Every answer is bounded, parsed strictly,
// and believed only as far as a key the worker checked vouches for it:
// the coordinator's evidence for its identity, its X25519 key for the
// release answer (W2), the session key for proof answers (WA1).
#include <string.h>

#include <jansson.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "http/client.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/coord_identity.h"
#include "proto/merkle.h"
#include "proto/receipt.h"
#include "proto/standby.h"
#include "worker/coord.h"

#define EVIDENCE_MAX ((size_t)1 << 20)
/* The nonce answer (key-release.md section 9): 3 MiB; a standby's 2. */
#define HELLO_MAX ((size_t)3 << 20)
#define STANDBY_HELLO_MAX ((size_t)2 << 20)
#define ERROR_MAX ((size_t)16 << 10)
/* The answer's own JSON around its blobs (key-release.md section 9). */
#define RELEASE_ANSWER_MAX (3 * COFFER_RELEASE_PAYLOAD_MAX)
/* 127-byte entries, base64url and quoted, for a policy's 10000 objects. */
#define LEAVES_MAX ((size_t)COFFER_POLICY_MAX_OBJECTS * 180 + 4096)
/* 80-byte answers back to back (a refusal's JSON error is smaller). */
#define ACKS_MAX (COFFER_ITEMPROOF_BATCH_MAX * COFFER_ITEMACK_LEN + 4096)

int
coord_http_request(void *arg, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, size_t max, int *status,
    struct coffer_buf *reply)
{
	return http_client_request_type(arg, method, path, ctype, body, len, max,
	    status, reply);
}

/*
 * An answer other than the expected status: a refusal with its reason
 * name (doc/protocol/key-release.md section 3: {"error": {"code", "message"}})
 * is COFFER_E_POLICY "<code>: <message>"; anything else COFFER_E_PROTO.
 */
static int
refusal(const char *what, int status, const struct coffer_buf *reply)
{
	json_t *root = NULL, *e;
	const char *code = NULL, *msg = NULL;
	int r;

	if (coffer_json_parse((const char *)reply->data, reply->len, ERROR_MAX, 4,
	    &root) == 0 && (e = json_object_get(root, "error")) != NULL &&
	    json_is_object(e) && coffer_json_get_str(e, "error", "code", 1, &code) == 0 &&
	    coffer_json_get_str(e, "error", "message", 0, &msg) == 0 && code != NULL) {
		for (const char *c = code; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || *c == '.' || *c == '_')) {
				code = NULL;
				break;
			}
	}
	if (code != NULL && status >= 400 && status < 500)
		r = coffer_errf(COFFER_E_POLICY, "%.64s: %s: %.300s", code, what,
		    msg ? msg : "(no message)");
	else
		r = coffer_errf(COFFER_E_PROTO, "%s: HTTP %d%s%.64s", what, status,
		    code ? " " : "", code ? code : "");
	json_decref(root);
	return r;
}

/* A request expected to answer 200, its body left in reply; ctype as
 * the transport's (NULL: JSON). */
static int
call_type(const struct coord_transport *t, const char *what, const char *method,
    const char *path, const char *ctype, const void *body, size_t len,
    size_t max, struct coffer_buf *reply)
{
	int status = 0, r;

	if ((r = t->request(t->arg, method, path, ctype, body, len, max, &status,
	    reply)) != 0)
		return coffer_errctx(r, "%s", what);
	if (status != 200)
		return refusal(what, status, reply);
	return 0;
}

static int
call(const struct coord_transport *t, const char *what, const char *method,
    const char *path, const void *body, size_t len, size_t max,
    struct coffer_buf *reply)
{
	return call_type(t, what, method, path, NULL, body, len, max, reply);
}

/* ---- The nonce answer: nonce, identity, evidence, policy text
 * (doc/protocol/key-release.md 6.2, N1 to N4) ---- */

/* A member of the nonce answer's head holding base64url of at most max
 * bytes decoded, into b. */
static int
get_blob(const json_t *root, const char *key, size_t max, struct coffer_buf *b)
{
	const char *v = NULL;
	int r;

	if ((r = coffer_json_get_str(root, "nonce answer", key, 1, &v)) != 0)
		return r;
	if (strlen(v) > coffer_b64url_len(max) ||
	    coffer_b64url_decode_buf(v, strlen(v), b) != 0)
		return coffer_errf(COFFER_E_FORMAT, "nonce answer: '%s' is not base64url"
		    " of at most %zu bytes", key, max);
	return 0;
}

/* The head's JSON (key-release.md 6.2): small members and the
 * evidence's base64url. */
#define HELLO_HEAD_MAX ((EVIDENCE_MAX + 2) / 3 * 4 + 8192)

/* The answer (N3): a head of JSON members (all required, unknown ones
 * ignored), one LF, then exactly policy_len bytes of policy, kept as
 * they are (N4). A standby nonce answer (key-release.md 6.7.2): the same
 * head without policy_len, and nothing after the LF. */
static int
parse_hello(const struct coffer_buf *b, int standby, struct coord_hello *h,
    struct coffer_identity_public *id, struct coffer_buf *ev)
{
	const uint8_t *lf = b->len > 0 ? memchr(b->data, '\n', b->len) : NULL;
	json_t *root = NULL;
	const char *hex = NULL, *line = NULL;
	size_t got = 0, head;
	int64_t plen = 0, expires;
	int r;

	if (lf == NULL)
		return coffer_errf(COFFER_E_FORMAT, "nonce answer: no line feed after"
		    " its head");
	head = (size_t)(lf - b->data);
	if ((r = coffer_json_parse((const char *)b->data, head, HELLO_HEAD_MAX, 4,
	    &root)) != 0 ||
	    (r = coffer_json_get_str(root, "nonce answer", "nonce", 1, &hex)) != 0)
		goto out;
	if (strlen(hex) != 64 || coffer_hex_decode(hex, 64, h->nonce, 32, &got) != 0 ||
	    got != 32) {
		r = coffer_errf(COFFER_E_FORMAT, "nonce answer: the nonce is not 64 hex"
		    " digits");
		goto out;
	}
	/* N3: every member is there and of its type, this one too, which the
	 * worker does not use (the coordinator judges a nonce's age). */
	if ((r = coffer_json_get_int(root, "nonce answer", "expires", 1, 0,
	    INT64_MAX, &expires)) != 0)
		goto out;
	/* CA1: the identity it presents; CA2: its evidence. */
	if ((r = coffer_json_get_str(root, "nonce answer", "identity", 1,
	    &line)) != 0 || (r = coffer_identity_parse_public(line, strlen(line),
	    id)) != 0) {
		r = coffer_errctx(r, "CA1: the coordinator's identity");
		goto out;
	}
	if ((r = get_blob(root, "evidence", EVIDENCE_MAX, ev)) != 0) {
		r = coffer_errctx(r, "CA2: the coordinator's evidence");
		goto out;
	}
	if (standby) {
		if (b->len != head + 1)
			r = coffer_errf(COFFER_E_FORMAT, "standby nonce answer: %zu"
			    " bytes after its head's line feed, not none",
			    b->len - head - 1);
		goto out;
	}
	if ((r = coffer_json_get_int(root, "nonce answer", "policy_len", 1, 1,
	    (int64_t)COFFER_POLICY_MAX_BYTES, &plen)) != 0)
		goto out;
	if ((size_t)plen != b->len - head - 1) {
		r = coffer_errf(COFFER_E_FORMAT, "nonce answer: %zu bytes of policy"
		    " after its head, not its policy_len %lld", b->len - head - 1,
		    (long long)plen);
		goto out;
	}
	r = coffer_buf_put(&h->policy, lf + 1, (size_t)plen);
out:
	json_decref(root);
	return r;
}

/* CA3 to CA5 for evidence ev of the coordinator presenting id. */
static int
check_coordinator(const struct coffer_buf *ev,
    const struct coffer_identity_public *id, const struct measured_config *mc,
    const struct coffer_tee_anchors *anchors,
    const struct coffer_tee_collateral *coll, int64_t at, struct coord_peer *out)
{
	struct coffer_tee_claims *claims = NULL;
	struct coffer_tee_verify_opts vo;
	const struct coffer_tee_reason *why;
	uint8_t rd[64];
	int r;

	if ((r = coffer_coord_identity_report_data(id->sign_pk, id->kx_pk, rd)) != 0)
		return r;
	/* CA3: the evidence verifies under the pinned verification policy and
	 * binds exactly those two keys (a relay presenting its own keys with
	 * another coordinator's evidence fails here). */
	memset(&vo, 0, sizeof(vo));
	vo.expected_report_data = rd;
	vo.policy = &mc->verification;
	r = coffer_tee_verify(ev->data, ev->len, anchors, coll, at, &vo, &claims);
	/* Evidence of another TEE type than the pinned one fails CA3 when
	 * the anchors hold only the pinned type's roots: named CA4 all the
	 * same (refused for good). */
	if (r != 0 && claims != NULL && claims->tee != COFFER_TEE_UNKNOWN &&
	    claims->tee != mc->coord.tee) {
		r = measured_coordinator_check(mc, claims);
		goto out;
	}
	if (r != 0) {
		why = claims ? coffer_tee_claims_first_fatal(claims) : NULL;
		r = why ? coffer_errf(r, "CA3: the coordinator's evidence is refused:"
		    " [%s] %s", why->code, why->text) :
		    coffer_errctx(r, "CA3: the coordinator's evidence");
		goto out;
	}
	/* CA4, CA5: the TEE type and measurement the configuration pins. */
	if ((r = measured_coordinator_check(mc, claims)) != 0)
		goto out;
	memset(out, 0, sizeof(*out));
	out->id = *id;
	out->tee = claims->tee;
out:
	coffer_tee_claims_free(claims);
	return r;
}

int
coord_hello(const struct coord_transport *t, const uint8_t job[16],
    const struct measured_config *mc, const struct coffer_tee_anchors *anchors,
    const struct coffer_tee_collateral *coll, int64_t at, struct coord_hello *out)
{
	struct coffer_buf b = COFFER_BUF_INIT(HELLO_MAX);
	struct coffer_buf ev = COFFER_BUF_INIT(EVIDENCE_MAX);
	struct coffer_identity_public id;
	char jobhex[33], path[80];
	int r;

	memset(out, 0, sizeof(*out));
	coffer_buf_init(&out->policy, COFFER_POLICY_MAX_BYTES);
	coffer_hex_encode(job, 16, jobhex);
	snprintf(path, sizeof(path), "/v1/jobs/%s/nonce", jobhex);
	/* N2: the request carries the job id only. */
	if ((r = call(t, "release nonce", "POST", path, NULL, 0, HELLO_MAX,
	    &b)) != 0 || (r = parse_hello(&b, 0, out, &id, &ev)) != 0 ||
	    (r = check_coordinator(&ev, &id, mc, anchors, coll, at,
	    &out->peer)) != 0)
		coord_hello_clear(out);
	coffer_buf_release(&ev);
	coffer_buf_release(&b);
	return r;
}

int
coord_standby_hello(const struct coord_transport *t,
    const struct measured_config *mc, const struct coffer_tee_anchors *anchors,
    const struct coffer_tee_collateral *coll, int64_t at, struct coord_hello *out)
{
	struct coffer_buf b = COFFER_BUF_INIT(STANDBY_HELLO_MAX);
	struct coffer_buf ev = COFFER_BUF_INIT(EVIDENCE_MAX);
	struct coffer_identity_public id;
	int r;

	memset(out, 0, sizeof(*out));
	coffer_buf_init(&out->policy, COFFER_POLICY_MAX_BYTES);
	/* 6.7.2: no job, no body; CA1 to CA5 as for a release's nonce. */
	if ((r = call(t, "standby nonce", "POST", "/v1/standby/nonce", NULL, 0,
	    STANDBY_HELLO_MAX, &b)) != 0 ||
	    (r = parse_hello(&b, 1, out, &id, &ev)) != 0 ||
	    (r = check_coordinator(&ev, &id, mc, anchors, coll, at,
	    &out->peer)) != 0)
		coord_hello_clear(out);
	coffer_buf_release(&ev);
	coffer_buf_release(&b);
	return r;
}

void
coord_hello_clear(struct coord_hello *h)
{
	coffer_buf_release(&h->policy);
	memset(h, 0, sizeof(*h));
}

/* ---- Key release (doc/protocol/key-release.md section 6) ---- */

int
coord_release(const struct coord_transport *t, const struct coord_hello *h,
    const uint8_t job[16], const struct coord_attester *att,
    struct coffer_release_payload *out)
{
	struct coffer_buf req = COFFER_BUF_INIT(COFFER_RELEASE_REQ_MAX);
	struct coffer_buf ans = COFFER_BUF_INIT(RELEASE_ANSWER_MAX);
	uint8_t w_sk[32], w_pk[32], rd[64], *ev = NULL;
	char jobhex[33], path[80];
	size_t evlen = 0;
	int r;

	coffer_hex_encode(job, 16, jobhex);
	snprintf(path, sizeof(path), "/v1/jobs/%s/release", jobhex);
	/* 6.1: the nonce of the hello; a key made here (in the TEE);
	 * evidence binding both and the job (6.3). */
	if ((r = coffer_dh_keygen(w_sk, w_pk)) != 0 ||
	    (r = coffer_keyrelease_binding(job, h->nonce, w_pk, rd)) != 0)
		goto out;
	if ((r = coffer_tee_evidence_get(att->backend, rd, att->opts, &ev,
	    &evlen)) != 0) {
		r = coffer_errctx(r, "evidence from the %s backend",
		    coffer_tee_backend_name(att->backend));
		goto out;
	}
	if ((r = coffer_release_request_make(job, h->nonce, w_pk, ev, evlen,
	    &req)) != 0 ||
	    (r = call(t, "key release", "POST", path, req.data, req.len,
	    RELEASE_ANSWER_MAX, &ans)) != 0)
		goto out;
	/* W1 to W4, W2 against the key of the coordinator authenticated. */
	r = coffer_release_answer_open((const char *)ans.data, ans.len, job,
	    h->nonce, w_sk, h->peer.id.kx_pk, out);
out:
	coffer_wipe(w_sk, sizeof(w_sk));
	free(ev);
	coffer_buf_release(&req);
	coffer_buf_release(&ans);
	return r;
}

/* ---- Standby and bind (doc/protocol/key-release.md 6.7) ---- */

int
coord_standby(const struct coord_transport *t, const struct coord_hello *h,
    const struct coord_attester *att, uint8_t standby[16],
    uint8_t s[COFFER_STANDBY_SECRET_LEN])
{
	struct coffer_buf req = COFFER_BUF_INIT(COFFER_STANDBY_REQ_MAX);
	struct coffer_buf ans = COFFER_BUF_INIT(COFFER_STANDBY_ANSWER_MAX);
	uint8_t w_sk[32], w_pk[32], rd[64], *ev = NULL;
	size_t evlen = 0;
	int r;

	/* 6.7.1: a key made here (in the TEE), evidence binding it and the
	 * standby nonce under the standby label (6.7.3). */
	if ((r = coffer_dh_keygen(w_sk, w_pk)) != 0 ||
	    (r = coffer_standby_binding(h->nonce, w_pk, rd)) != 0)
		goto out;
	if ((r = coffer_tee_evidence_get(att->backend, rd, att->opts, &ev,
	    &evlen)) != 0) {
		r = coffer_errctx(r, "evidence from the %s backend",
		    coffer_tee_backend_name(att->backend));
		goto out;
	}
	if ((r = coffer_standby_request_make(h->nonce, w_pk, ev, evlen,
	    &req)) != 0 ||
	    (r = call(t, "standby", "POST", "/v1/standby", req.data, req.len,
	    COFFER_STANDBY_ANSWER_MAX, &ans)) != 0)
		goto out;
	/* WS1, WS2: S unwraps only from the coordinator authenticated. */
	r = coffer_standby_answer_open((const char *)ans.data, ans.len, h->nonce,
	    w_sk, h->peer.id.kx_pk, standby, s);
out:
	/* WS3 */
	coffer_wipe(w_sk, sizeof(w_sk));
	free(ev);
	coffer_buf_release(&req);
	coffer_buf_release(&ans);
	return r;
}

int
coord_bind(const struct coord_transport *t, const uint8_t job[16],
    const uint8_t standby[16], const uint8_t s[COFFER_STANDBY_SECRET_LEN],
    struct coffer_release_payload *out, struct coffer_buf *policy)
{
	struct coffer_buf req = COFFER_BUF_INIT(COFFER_BIND_REQ_MAX);
	struct coffer_buf ans = COFFER_BUF_INIT(COFFER_BIND_ANSWER_MAX);
	char jobhex[33], path[80];
	int r;

	coffer_hex_encode(job, 16, jobhex);
	snprintf(path, sizeof(path), "/v1/jobs/%s/bind", jobhex);
	if ((r = coffer_bind_request_make(job, standby, s, &req)) != 0 ||
	    (r = call(t, "bind", "POST", path, req.data, req.len,
	    COFFER_BIND_ANSWER_MAX, &ans)) != 0)
		goto out;
	/* WB1 to WB3; WB4 and WB5 are the caller's (W5, W6). */
	r = coffer_bind_answer_open(ans.data, ans.len, job, standby, s, out,
	    policy);
out:
	coffer_buf_release(&req);
	coffer_buf_release(&ans);
	return r;
}

int
coord_policy_check(const struct coord_hello *h, const uint8_t hash[32],
    const char *app, struct coffer_policy **out)
{
	char hex[65];
	int r;

	/* W5's first half: the bytes the nonce answer carried, as they came,
	 * are the policy the release names (N1, N4), read for the app only
	 * (doc/format/policy.md 4.1, PA1 to PA6). */
	coffer_hex_encode(hash, 32, hex);
	if ((r = coffer_policy_read_approved((const char *)h->policy.data,
	    h->policy.len, hash, app, out)) != 0)
		return coffer_errctx(r, "W5: the policy %s", hex);
	return 0;
}

/* ---- Item proofs (doc/format/item-proof.md section 8) ---- */

/* WA1 for one answer: well-formed, MAC'd with the session key (h keyed
 * with it), naming this proof (its MAC, bytes 152 to 184 of the proof). */
static int
check_ack(const uint8_t *b, const uint8_t proof[COFFER_ITEMPROOF_LEN],
    struct coffer_hmac *h, struct coffer_itemack *ack)
{
	return coffer_itemack_open_with(b, COFFER_ITEMACK_LEN, h, ack) == 0 &&
	    memcmp(ack->proof_mac, proof + 152, 32) == 0;
}

int
coord_send_proofs(const struct coord_transport *t, const uint8_t job[16],
    const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN], size_t n,
    const uint8_t session_key[32], struct coffer_itemack *acks, int *ok)
{
	struct coffer_buf ans = COFFER_BUF_INIT(ACKS_MAX);
	struct coffer_hmac *h = NULL;
	char jobhex[33], path[80];
	int r;

	if (n == 0 || n > COFFER_ITEMPROOF_BATCH_MAX)
		return coffer_errf(COFFER_E_INVAL, "%zu proofs in one request", n);
	for (size_t i = 0; i < n; i++)
		ok[i] = 0;
	coffer_hex_encode(job, 16, jobhex);
	snprintf(path, sizeof(path), "/v1/jobs/%s/proofs", jobhex);
	/* A binary batch (item-proof.md 8.1, BB1): the proofs back to back. */
	if ((r = call_type(t, "item proofs", "POST", path,
	    "application/octet-stream", proofs, n * COFFER_ITEMPROOF_LEN, ACKS_MAX,
	    &ans)) != 0)
		goto out;
	/* WA1: one answer per proof (n * 80 bytes), else none counts. */
	if (ans.len != n * COFFER_ITEMACK_LEN)
		goto out;
	/* The session key keyed once for all the answers (crypto/hash.h). */
	if ((r = coffer_hmac_new(&h)) != 0 ||
	    (r = coffer_hmac_key(h, session_key, 32)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		ok[i] = check_ack(ans.data + i * COFFER_ITEMACK_LEN, proofs[i], h,
		    &acks[i]);
out:
	coffer_hmac_free(h);
	coffer_buf_release(&ans);
	return r;
}

/* ---- The map stage's results, for the reduce stage ---- */

int
coord_map_leaves(const struct coord_transport *t, const uint8_t job[16],
    int wait_s, size_t count, struct coffer_result_entry **out,
    uint8_t root[32])
{
	static const char *const members[] = { "count", "leaves", NULL };
	struct coffer_buf b = COFFER_BUF_INIT(LEAVES_MAX);
	struct coffer_result_entry *e = NULL;
	coffer_merkle_hash *h = NULL;
	json_t *res = NULL, *arr;
	uint8_t raw[COFFER_RESULT_ENTRY_LEN];
	char jobhex[33], path[100];
	int64_t n = 0;
	int r;

	coffer_hex_encode(job, 16, jobhex);
	if (wait_s > 0)
		snprintf(path, sizeof(path), "/v1/jobs/%s/stages/map/leaves?wait=%d",
		    jobhex, wait_s);
	else
		snprintf(path, sizeof(path), "/v1/jobs/%s/stages/map/leaves", jobhex);
	if ((r = call(t, "map results", "GET", path, NULL, 0, LEAVES_MAX, &b)) != 0 ||
	    (r = coffer_json_parse((const char *)b.data, b.len, LEAVES_MAX, 4,
	    &res)) != 0 ||
	    (r = coffer_json_check_keys(res, "map results", members)) != 0 ||
	    (r = coffer_json_get_int(res, "map results", "count", 1, 0,
	    COFFER_POLICY_MAX_OBJECTS, &n)) != 0 ||
	    (r = coffer_json_get_arr(res, "map results", "leaves", 1, &arr)) != 0)
		goto out;
	/* One entry per item of the policy, no more, no fewer. */
	if ((size_t)n != count || json_array_size(arr) != count) {
		r = coffer_errf(COFFER_E_FORMAT, "map results: %zu entries for the"
		    " %zu items of the job", json_array_size(arr), count);
		goto out;
	}
	if ((e = coffer_calloc(count ? count : 1, sizeof(*e))) == NULL ||
	    (h = coffer_calloc(count ? count : 1, sizeof(*h))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "map results");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		json_t *v = json_array_get(arr, i);

		if (!json_is_string(v) || coffer_b64url_decode_exact(json_string_value(v),
		    json_string_length(v), raw, sizeof(raw)) != 0 ||
		    coffer_receipt_result_parse(raw, sizeof(raw), &e[i]) != 0 ||
		    e[i].stage != 0 || e[i].index != i) {
			r = coffer_errf(COFFER_E_FORMAT, "map results: entry %zu is not the"
			    " map result of item %zu", i, i);
			goto out;
		}
		if ((r = coffer_merkle_leaf(raw, sizeof(raw), h[i])) != 0)
			goto out;
	}
	if ((r = coffer_merkle_root(h, count, root)) != 0)
		goto out;
	*out = e;
	e = NULL;
out:
	free(e);
	free(h);
	json_decref(res);
	coffer_buf_release(&b);
	return r;
}
