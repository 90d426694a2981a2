// SPDX-License-Identifier: Apache-2.0
// Approvals, revocations and the status of a policy (doc/format/policy.md
// sections 7, 8 and 10). Verification is a fixed order of rules so that
// each bad statement is refused with one stable reason.
#include <string.h>

#include <jansson.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/enc.h"
#include "proto/approval.h"
#include "proto/jfield.h"
#include "proto/signed.h"

/* A2, A3 (and RK2, RK3): the policy hash and the signer, after A1/RK1. */
static int
check_policy_and_signer(const struct coffer_policy *p, const json_t *st,
    size_t *owner)
{
	uint8_t h[32], fp[32];
	char hex[65];
	int i, r;

	if ((r = coffer_jfield_hex(st, "statement", "policy", h, 32)) != 0 ||
	    (r = coffer_jfield_hex(st, "statement", "signer", fp, 32)) != 0)
		return r;
	if (memcmp(h, p->hash, 32) != 0) {
		coffer_hex_encode(h, 32, hex);
		return coffer_errf(COFFER_E_POLICY, "statement.policy: signed for "
		    "policy %.16s..., not this one (statement.other_policy)", hex);
	}
	if ((i = coffer_policy_owner_index(p, fp)) < 0) {
		coffer_hex_encode(fp, 32, hex);
		return coffer_errf(COFFER_E_UNTRUSTED, "statement.signer: %.16s... is "
		    "not an owner of this policy (signer.unknown)", hex);
	}
	*owner = (size_t)i;
	return 0;
}

int
coffer_approval_verify(const struct coffer_policy *p, const char *text,
    size_t len, uint64_t now, struct coffer_approval *out)
{
	static const char *const members[] = { "type", "version", "policy",
		"signer", "log", NULL };
	static const char *const lmembers[] = { "size", "root", NULL };
	struct coffer_signed s;
	struct coffer_approval a;
	const json_t *log;
	int r;

	memset(&a, 0, sizeof(a));
	coffer_signed_init(&s);
	/* A1: G1 to G4, then the statement's own members. */
	if ((r = coffer_signed_parse(text, len, COFFER_SIGNED_MAX, "coffer-approval",
	    &s)) != 0 ||
	    (r = coffer_jfield_keys(s.statement, "statement", members, NULL)) != 0 ||
	    (r = coffer_jfield_version(s.statement, "statement")) != 0)
		goto out;
	log = json_object_get(s.statement, "log");
	if ((r = coffer_jfield_keys(log, "statement.log", lmembers, NULL)) != 0 ||
	    (r = coffer_jfield_uint(log, "statement.log", "size", 0,
	    COFFER_JFIELD_INT_MAX, &a.log_size)) != 0 ||
	    (r = coffer_jfield_hex(log, "statement.log", "root", a.log_root, 32)) != 0)
		goto out;
	/* A2, A3 */
	if ((r = check_policy_and_signer(p, s.statement, &a.owner)) != 0)
		goto out;
	/* A4 */
	if ((r = coffer_signed_verify(&s, p->owners[a.owner].id.sign_pk)) != 0)
		goto out;
	/* A5 */
	if (now >= p->expires) {
		r = coffer_errf(COFFER_E_EXPIRED, "the policy expired at %llu "
		    "(policy.expired)", (unsigned long long)p->expires);
		goto out;
	}
	*out = a;
out:
	coffer_signed_release(&s);
	return r != 0 ? coffer_errctx(r, "approval") : 0;
}

int
coffer_approval_make(const struct coffer_identity *id, const uint8_t h[32],
    uint64_t log_size, const uint8_t log_root[32], struct coffer_buf *out)
{
	char hh[65], fp[COFFER_ID_FINGERPRINT_HEX], root[65];
	json_t *st;
	int r;

	if ((r = coffer_identity_fingerprint(&id->pub, fp)) != 0)
		return r;
	coffer_hex_encode(h, 32, hh);
	coffer_hex_encode(log_root, 32, root);
	st = json_pack("{s:s, s:i, s:s, s:s, s:{s:I, s:s}}", "type",
	    "coffer-approval", "version", 1, "policy", hh, "signer", fp, "log",
	    "size", (json_int_t)log_size, "root", root);
	if (st == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	r = coffer_signed_make(st, id->sign_sk, out);
	json_decref(st);
	return r;
}

int
coffer_revocation_verify(const struct coffer_policy *p, const char *text,
    size_t len, struct coffer_revocation *out)
{
	static const char *const amembers[] = { "type", "version", "policy",
		"signer", "what", NULL };
	static const char *const mmembers[] = { "type", "version", "policy",
		"signer", "what", "tee", "measurement", NULL };
	struct coffer_signed s;
	struct coffer_revocation v;
	const char *what, *tee = "", *hex;
	int r;

	memset(&v, 0, sizeof(v));
	coffer_signed_init(&s);
	/* RK1 */
	if ((r = coffer_signed_parse(text, len, COFFER_SIGNED_MAX,
	    "coffer-revocation", &s)) != 0 ||
	    (r = coffer_jfield_str(s.statement, "statement", "what", 1, 16, NULL,
	    &what)) != 0)
		goto out;
	if (strcmp(what, "approval") == 0) {
		r = coffer_jfield_keys(s.statement, "statement", amembers, NULL);
	} else if (strcmp(what, "measurement") == 0) {
		v.is_measurement = 1;
		if ((r = coffer_jfield_keys(s.statement, "statement", mmembers,
		    NULL)) == 0 &&
		    (r = coffer_jfield_str(s.statement, "statement", "tee", 1, 16, NULL,
		    &tee)) == 0 &&
		    (r = coffer_jfield_str(s.statement, "statement", "measurement", 1,
		    2 * COFFER_POLICY_MEASUREMENT_MAX, NULL, &hex)) == 0)
			r = coffer_policy_measurement_parse(tee, hex,
			    "statement.measurement", &v.m);
	} else {
		r = coffer_errf(COFFER_E_FORMAT, "statement.what: \"%s\", expected "
		    "\"approval\" or \"measurement\"", what);
	}
	if (r != 0 || (r = coffer_jfield_version(s.statement, "statement")) != 0)
		goto out;
	/* RK2, RK3 */
	if ((r = check_policy_and_signer(p, s.statement, &v.owner)) != 0)
		goto out;
	/* RK4 */
	if ((r = coffer_signed_verify(&s, p->owners[v.owner].id.sign_pk)) != 0)
		goto out;
	/* RK5 */
	if (v.is_measurement && !coffer_policy_lists_measurement(p, &v.m)) {
		r = coffer_errf(COFFER_E_POLICY, "statement.measurement: no app of the "
		    "policy lists this %s measurement (measurement.unknown)", tee);
		goto out;
	}
	*out = v;
out:
	coffer_signed_release(&s);
	return r != 0 ? coffer_errctx(r, "revocation") : 0;
}

int
coffer_revocation_make(const struct coffer_identity *id, const uint8_t h[32],
    const struct coffer_policy_measurement *m, struct coffer_buf *out)
{
	char hh[65], fp[COFFER_ID_FINGERPRINT_HEX];
	char mh[2 * COFFER_POLICY_MEASUREMENT_MAX + 1];
	json_t *st;
	int r;

	if ((r = coffer_identity_fingerprint(&id->pub, fp)) != 0)
		return r;
	coffer_hex_encode(h, 32, hh);
	if (m == NULL) {
		st = json_pack("{s:s, s:i, s:s, s:s, s:s}", "type", "coffer-revocation",
		    "version", 1, "policy", hh, "signer", fp, "what", "approval");
	} else {
		if (m->len > COFFER_POLICY_MEASUREMENT_MAX)
			return coffer_errf(COFFER_E_INVAL, "measurement too long");
		coffer_hex_encode(m->value, m->len, mh);
		st = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "type",
		    "coffer-revocation", "version", 1, "policy", hh, "signer", fp,
		    "what", "measurement", "tee", coffer_tee_type_name(m->tee),
		    "measurement", mh);
	}
	if (st == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	r = coffer_signed_make(st, id->sign_sk, out);
	json_decref(st);
	return r;
}

const char *
coffer_policy_state_name(enum coffer_policy_state s)
{
	switch (s) {
	case COFFER_POLICY_APPROVED_ALL: return "approved (every owner)";
	case COFFER_POLICY_APPROVED_KOFN: return "approved (k of n)";
	case COFFER_POLICY_REVOKED: return "revoked";
	default: return "pending";
	}
}

static size_t
popcount64(uint64_t x)
{
	size_t n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

/* Section 9.1: every owner of prev (by keys) is an owner of v. */
static int
keeps_owners(const struct coffer_policy *v, const struct coffer_policy *prev)
{
	for (size_t i = 0; i < prev->nowners; i++) {
		int found = 0;

		for (size_t j = 0; j < v->nowners && !found; j++)
			found = coffer_policy_same_identity(&prev->owners[i].id,
			    &v->owners[j].id);
		if (!found)
			return 0;
	}
	return 1;
}

int
coffer_policy_status(const struct coffer_policy *v, uint64_t approved,
    uint64_t revoked, const struct coffer_policy *prev, int prev_approved,
    struct coffer_policy_status *out)
{
	struct coffer_policy_status s;
	uint64_t all;
	unsigned changed, bad;
	int r;

	if (v->nowners == 0 || v->nowners > 64)
		return coffer_errf(COFFER_E_INVAL, "a policy has 1 to 64 owners");
	all = v->nowners == 64 ? ~(uint64_t)0 : ((uint64_t)1 << v->nowners) - 1;
	approved &= all;
	revoked &= all;
	memset(&s, 0, sizeof(s));
	s.missing = all & ~approved;
	/* S1: any owner's revocation of this version ends it. */
	if (revoked != 0) {
		s.state = COFFER_POLICY_REVOKED;
		s.reason = "policy.revoked";
		goto done;
	}
	/* Section 9.1: a version is judged against its predecessor, and is
	 * never approved if it drops one of its owners: it would inherit
	 * their uploaded keys, their app secrets and supersede their policy
	 * without their approval. */
	if (v->has_previous &&
	    (prev == NULL || memcmp(v->previous, prev->hash, 32) != 0)) {
		s.reason = "policy.unapproved";
		goto done;
	}
	if (v->has_previous && !keeps_owners(v, prev)) {
		s.reason = "update.owner_removed";
		goto done;
	}
	/* S2 */
	if (approved == all) {
		s.state = COFFER_POLICY_APPROVED_ALL;
		goto done;
	}
	s.reason = "policy.unapproved";
	/* S3: k distinct owners of the predecessor, listed fields only. The
	 * owners cannot change under S3 (owners is never listable), so the
	 * bits over v's owners are the predecessor's owners. */
	if (!v->has_previous || !prev->has_update)
		goto done;
	if ((r = coffer_policy_changed(prev, v, &changed)) != 0)
		return r;
	bad = changed & ~prev->update_fields;
	if (bad != 0) {
		s.reason = "update.field_not_listed";
		s.field = bad & (~bad + 1);
		goto done;
	}
	if (!prev_approved)
		goto done;
	if (popcount64(approved) >= prev->update_k) {
		s.state = COFFER_POLICY_APPROVED_KOFN;
		s.reason = NULL;
		goto done;
	}
	s.needed = prev->update_k - popcount64(approved);
done:
	/* S4: pending otherwise. */
	*out = s;
	return 0;
}
