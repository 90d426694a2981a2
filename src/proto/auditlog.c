// SPDX-License-Identifier: Apache-2.0
// The audit log's entries and signed tree heads (doc/format/audit-log.md
// sections 3 and 4), the coordinator's side. Entries are checked against
// one table, so the list of events and their members exists once. The
// client rule (section 6.1) and what only clients read are auditlog_client.c.
#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/jcs.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "proto/auditlog.h"
#include "proto/jfield.h"
#include "proto/policy.h"
#include "proto/signed.h"

enum mtype {
	T_HASH, T_ID16, T_KEY32, T_KEYID, T_INT, T_IDENTITY, T_POLICY,
	T_APPROVAL, T_REVOCATION, T_HEAD, T_PARAMS, T_APP, T_TEE, T_MEAS,
	T_REASON, T_DETAIL, T_PROOF, T_PROOF_OUTCOME, T_STAGE, T_STAGES,
	T_JOB_OUTCOME, T_COLL_KIND, T_COLL_SLOT, T_COLL_STATUS,
};

struct member {
	const char *name;
	enum mtype type;
	int optional;
};

#define M(n, t) { n, t, 0 }
#define OPT(n, t) { n, t, 1 }
#define END { NULL, T_INT, 0 }

/* Section 3's table; "event" and "time" are in every entry. */
static const struct {
	const char *event;
	struct member m[11];
} events[] = {
	{ "start", { M("identity", T_IDENTITY), M("evidence_sha256", T_HASH), END } },
	{ "policy", { M("hash", T_HASH), M("policy", T_POLICY), END } },
	{ "approval", { M("policy", T_HASH), M("signed", T_APPROVAL), END } },
	{ "revocation", { M("policy", T_HASH), M("signed", T_REVOCATION), END } },
	{ "key-upload", { M("policy", T_HASH), M("signer", T_HASH),
	    M("key_id", T_KEYID), M("wrapped_sha256", T_HASH), END } },
	{ "job-open", { M("job", T_ID16), M("policy", T_HASH), M("app", T_APP),
	    M("params", T_PARAMS), M("items", T_INT), M("input_root", T_HASH),
	    M("stages", T_STAGES), END } },
	{ "release", { M("job", T_ID16), M("session", T_ID16), M("tee", T_TEE),
	    M("measurement", T_MEAS), M("worker_pk", T_KEY32), M("nonce", T_KEY32),
	    M("evidence_sha256", T_HASH), OPT("standby", T_ID16), END } },
	{ "refusal", { M("job", T_ID16), M("reason", T_REASON),
	    M("detail", T_DETAIL), OPT("evidence_sha256", T_HASH), END } },
	{ "proof", { M("job", T_ID16), M("proof", T_PROOF),
	    M("outcome", T_PROOF_OUTCOME), OPT("reason", T_REASON), END } },
	{ "stage-close", { M("job", T_ID16), M("stage", T_STAGE), M("count", T_INT),
	    M("root", T_HASH), M("ok", T_INT), M("failed", T_INT),
	    M("abandoned", T_INT), M("duplicates", T_INT),
	    M("disagreements", T_INT), END } },
	{ "job-close", { M("job", T_ID16), M("outcome", T_JOB_OUTCOME),
	    OPT("reason", T_REASON), END } },
	{ "receipt", { M("job", T_ID16), M("receipt_sha256", T_HASH), END } },
	{ "rollback", { M("presented", T_HEAD), M("size", T_INT), END } },
	{ "collateral", { M("sha256", T_HASH), M("kind", T_COLL_KIND),
	    M("slot", T_COLL_SLOT), M("status", T_COLL_STATUS), END } },
};
#define NEVENTS (sizeof(events) / sizeof(events[0]))

static int
one_of(const json_t *v, const char *path, const char *const *allowed)
{
	const char *s;
	int r;

	if ((r = coffer_jfield_strval(v, path, 1, 32, NULL, &s)) != 0)
		return r;
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(s, allowed[i]) == 0)
			return 0;
	return coffer_errf(COFFER_E_FORMAT, "%s: \"%s\" is not one of the allowed "
	    "values", path, s);
}

static int
check_member(const json_t *obj, const struct member *m)
{
	static const char *const proof_outcomes[] = { "committed", "failure",
		"duplicate", "disagreement", "refused", NULL };
	static const char *const stages[] = { "map", "reduce", NULL };
	static const char *const job_outcomes[] = { "completed", "failed", NULL };
	static const char *const tees[] = { "sgx", "tdx", "sev-snp", "sim", NULL };
	static const char *const coll_kinds[] = { "certificates", "tcb-info",
		"identity", "crl", NULL };
	static const char *const coll_statuses[] = { "added", "replaced", NULL };
	const json_t *v = json_object_get(obj, m->name);
	struct coffer_identity_public id;
	struct coffer_policy *pol = NULL;
	struct coffer_buf b = COFFER_BUF_INIT(256);
	struct coffer_signed s;
	const char *str, *k;
	uint8_t x[32];
	uint64_t u;
	json_t *e;
	int r = 0;

	switch (m->type) {
	case T_HASH:
		return coffer_jfield_hex(obj, NULL, m->name, x, 32);
	case T_ID16:
	case T_KEYID:
		return coffer_jfield_hex(obj, NULL, m->name, x, 16);
	case T_KEY32:
		return coffer_jfield_hex(obj, NULL, m->name, x, 32);
	case T_INT:
		return coffer_jfield_uint(obj, NULL, m->name, 0, COFFER_JFIELD_INT_MAX, &u);
	case T_IDENTITY:
		return coffer_jfield_identity(obj, NULL, m->name, &id);
	case T_POLICY: {
		struct coffer_buf t = COFFER_BUF_INIT(2 * COFFER_POLICY_MAX_BYTES);

		/* The embedded policy must itself be well-formed. */
		if ((r = coffer_jcs_put(v, &t)) == 0 &&
		    (r = coffer_policy_parse((const char *)t.data, t.len, &pol)) == 0)
			coffer_policy_free(pol);
		coffer_buf_release(&t);
		return r != 0 ? coffer_errctx(r, "policy") : 0;
	}
	case T_APPROVAL:
	case T_REVOCATION:
	case T_HEAD:
		/* E4: an envelope of the right statement type. */
		coffer_signed_init(&s);
		r = coffer_signed_from_json(v, m->type == T_APPROVAL ? "coffer-approval" :
		    m->type == T_REVOCATION ? "coffer-revocation" : "coffer-tree-head", &s);
		coffer_signed_release(&s);
		return r != 0 ? coffer_errctx(r, "%s", m->name) : 0;
	case T_PARAMS:
		if (!json_is_object(v))
			return coffer_errf(COFFER_E_FORMAT, "%s: expected an object", m->name);
		json_object_foreach((json_t *)v, k, e)
			if (!json_is_string(e))
				return coffer_errf(COFFER_E_FORMAT, "%s.%s: expected a string",
				    m->name, k);
		return 0;
	case T_APP:
		return coffer_jfield_str(obj, NULL, m->name, 1, COFFER_POLICY_NAME_MAX,
		    COFFER_JFIELD_LOWER_NAME, &str);
	case T_TEE:
		return one_of(v, m->name, tees);
	case T_MEAS:
		if ((r = coffer_jfield_str(obj, NULL, m->name, 1, 480, NULL, &str)) != 0)
			return r;
		if (!coffer_jfield_is_lower_hex(str, strlen(str)) ||
		    (strlen(str) != 64 && strlen(str) != 96 && strlen(str) != 480))
			return coffer_errf(COFFER_E_FORMAT, "%s: expected the lower-case hex "
			    "of a measurement", m->name);
		return 0;
	case T_REASON:
		return coffer_jfield_str(obj, NULL, m->name, 1, 64,
		    "abcdefghijklmnopqrstuvwxyz0123456789._", &str);
	case T_DETAIL:
		return coffer_jfield_str(obj, NULL, m->name, 0, 512, NULL, &str);
	case T_PROOF:
		/* E4: exactly one item proof. */
		r = coffer_jfield_blob(obj, NULL, m->name, 184, &b);
		if (r == 0 && b.len != 184)
			r = coffer_errf(COFFER_E_FORMAT, "%s: %zu bytes, an item proof is "
			    "184", m->name, b.len);
		coffer_buf_release(&b);
		return r;
	case T_PROOF_OUTCOME:
		return one_of(v, m->name, proof_outcomes);
	case T_STAGE:
		return one_of(v, m->name, stages);
	case T_STAGES:
		if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 2 ||
		    !json_is_string(json_array_get(v, 0)) ||
		    strcmp(json_string_value(json_array_get(v, 0)), "map") != 0 ||
		    (json_array_size(v) == 2 &&
		    (!json_is_string(json_array_get(v, 1)) ||
		    strcmp(json_string_value(json_array_get(v, 1)), "reduce") != 0)))
			return coffer_errf(COFFER_E_FORMAT, "%s: expected [\"map\"] or "
			    "[\"map\", \"reduce\"]", m->name);
		return 0;
	case T_JOB_OUTCOME:
		return one_of(v, m->name, job_outcomes);
	case T_COLL_KIND:
		return one_of(v, m->name, coll_kinds);
	case T_COLL_SLOT:
		return coffer_jfield_str(obj, NULL, m->name, 0, 63,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-",
		    &str);
	case T_COLL_STATUS:
		return one_of(v, m->name, coll_statuses);
	}
	return coffer_errf(COFFER_E_INTERNAL, "member type");
}

/* E3, E4 over a parsed entry. */
static int
check_event(const json_t *obj, const char **event)
{
	const char *req[14], *opt[4], *ev;
	size_t nr = 0, no = 0, i;
	uint64_t t;
	int r;

	if (!json_is_object(obj))
		return coffer_errf(COFFER_E_FORMAT, "entry: expected an object");
	if ((r = coffer_jfield_str(obj, NULL, "event", 1, 32, NULL, &ev)) != 0)
		return r;
	for (i = 0; i < NEVENTS; i++)
		if (strcmp(ev, events[i].event) == 0)
			break;
	if (i == NEVENTS)
		return coffer_errf(COFFER_E_FORMAT, "event: unknown event \"%s\"", ev);
	req[nr++] = "event";
	req[nr++] = "time";
	for (const struct member *m = events[i].m; m->name != NULL; m++) {
		if (m->optional)
			opt[no++] = m->name;
		else
			req[nr++] = m->name;
	}
	req[nr] = NULL;
	opt[no] = NULL;
	if ((r = coffer_jfield_keys(obj, "entry", req, opt)) != 0 ||
	    (r = coffer_jfield_uint(obj, NULL, "time", 0, COFFER_JFIELD_INT_MAX,
	    &t)) != 0)
		return r;
	for (const struct member *m = events[i].m; m->name != NULL; m++)
		if (json_object_get(obj, m->name) != NULL &&
		    (r = check_member(obj, m)) != 0)
			return coffer_errctx(r, "%s entry", ev);
	/* A reason exactly with a refused proof and with a failed job. */
	if (strcmp(ev, "proof") == 0 || strcmp(ev, "job-close") == 0) {
		const char *o = json_string_value(json_object_get(obj, "outcome"));
		int want = strcmp(o, "refused") == 0 || strcmp(o, "failed") == 0;

		if (want != (json_object_get(obj, "reason") != NULL))
			return coffer_errf(COFFER_E_FORMAT, "%s entry: reason is present "
			    "exactly when the outcome is %s", ev,
			    strcmp(ev, "proof") == 0 ? "refused" : "failed");
	}
	if (event != NULL)
		*event = events[i].event;
	return 0;
}

int
coffer_auditlog_entry_check(const uint8_t *entry, size_t len, const char **event)
{
	struct coffer_buf c = COFFER_BUF_INIT(2 * COFFER_AUDITLOG_ENTRY_MAX);
	json_t *obj = NULL;
	int r;

	/* E1: one policy of depth 32 nests one level deeper in its entry. */
	if ((r = coffer_json_parse((const char *)entry, len, COFFER_AUDITLOG_ENTRY_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT + 1, &obj)) != 0)
		return coffer_errctx(r, "log entry");
	/* E2: exactly the canonical bytes. */
	if ((r = coffer_jcs_put(obj, &c)) != 0)
		goto out;
	if (c.len != len || memcmp(c.data, entry, len) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "log entry: not in canonical (RFC 8785) "
		    "form");
		goto out;
	}
	/* E3, E4 */
	r = check_event(obj, event);
out:
	json_decref(obj);
	coffer_buf_release(&c);
	return r;
}

int
coffer_auditlog_entry_make(const json_t *event, struct coffer_buf *out)
{
	int r;

	if ((r = check_event(event, NULL)) != 0)
		return r;
	return coffer_jcs_put(event, out);
}

int
coffer_auditlog_entry_proof(const uint8_t job[16], const uint8_t proof[184],
    const char *outcome, const char *reason, uint64_t time, struct coffer_buf *out)
{
	static const char *const outcomes[] = { "committed", "failure", "duplicate",
		"disagreement", "refused" };
	char jh[33];
	int ok = 0, r;
	size_t mark = out->len;

	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (strcmp(outcome, outcomes[i]) == 0)
			ok = 1;
	if (!ok || (strcmp(outcome, "refused") == 0) != (reason != NULL) ||
	    (reason != NULL && (strlen(reason) < 1 || strlen(reason) > 64 ||
	    strspn(reason, "abcdefghijklmnopqrstuvwxyz0123456789._") != strlen(reason))) ||
	    time > COFFER_JFIELD_INT_MAX)
		return coffer_errf(COFFER_E_INVAL, "proof entry: bad outcome or reason");
	coffer_hex_encode(job, 16, jh);
	/* Members in canonical order: event, job, outcome, proof, reason, time.
	 * Every value is ASCII that JCS does not escape. */
	if ((r = coffer_buf_putf(out, "{\"event\":\"proof\",\"job\":\"%s\","
	    "\"outcome\":\"%s\",\"proof\":\"", jh, outcome)) != 0 ||
	    (r = coffer_b64url_put(out, proof, 184)) != 0 ||
	    (reason != NULL && (r = coffer_buf_putf(out, "\",\"reason\":\"%s",
	    reason)) != 0) ||
	    (r = coffer_buf_putf(out, "\",\"time\":%llu}",
	    (unsigned long long)time)) != 0) {
		out->len = mark;
		if (out->data != NULL)
			out->data[mark] = 0;
		return r;
	}
	return 0;
}

int
coffer_auditlog_head_make(const uint8_t sign_sk[32],
    const struct coffer_tree_head *h, struct coffer_buf *out)
{
	char root[65];
	json_t *st;
	int r;

	if (h->size > COFFER_JFIELD_INT_MAX || h->time > COFFER_JFIELD_INT_MAX)
		return coffer_errf(COFFER_E_INVAL, "tree head out of range");
	coffer_hex_encode(h->root, 32, root);
	st = json_pack("{s:s, s:i, s:I, s:s, s:I}", "type", "coffer-tree-head",
	    "version", 1, "size", (json_int_t)h->size, "root", root, "time",
	    (json_int_t)h->time);
	if (st == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	r = coffer_signed_make(st, sign_sk, out);
	json_decref(st);
	return r;
}

int
coffer_auditlog_head_verify(const char *text, size_t len,
    const uint8_t sign_pk[32], struct coffer_tree_head *out)
{
	static const char *const members[] = { "type", "version", "size", "root",
		"time", NULL };
	struct coffer_tree_head h;
	struct coffer_signed s;
	uint8_t empty[32];
	int r;

	coffer_signed_init(&s);
	if ((r = coffer_signed_parse(text, len, COFFER_AUDITLOG_HEAD_MAX,
	    "coffer-tree-head", &s)) != 0 ||
	    (r = coffer_jfield_keys(s.statement, "statement", members, NULL)) != 0 ||
	    (r = coffer_jfield_version(s.statement, "statement")) != 0 ||
	    (r = coffer_jfield_uint(s.statement, "statement", "size", 0,
	    COFFER_JFIELD_INT_MAX, &h.size)) != 0 ||
	    (r = coffer_jfield_hex(s.statement, "statement", "root", h.root, 32)) != 0 ||
	    (r = coffer_jfield_uint(s.statement, "statement", "time", 0,
	    COFFER_JFIELD_INT_MAX, &h.time)) != 0)
		goto out;
	/* T1 */
	if ((r = coffer_sha256("", 0, empty)) != 0)
		goto out;
	if (h.size == 0 && memcmp(h.root, empty, 32) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "statement.root: an empty log has the "
		    "root SHA-256(\"\")");
		goto out;
	}
	/* G5 */
	if ((r = coffer_signed_verify(&s, sign_pk)) != 0)
		goto out;
	*out = h;
out:
	coffer_signed_release(&s);
	return r != 0 ? coffer_errctx(r, "tree head") : 0;
}
