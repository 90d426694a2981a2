// SPDX-License-Identifier: Apache-2.0
// Recovery of the coordinator's state key (proto/recovery.h),
// doc/format/recovery.md. The record is a signed statement, so an owner
// sees who holds shares under the key it pinned; each share is wrapped in
// HPKE auth mode, so it is the pinned coordinator's; a share travels to a
// recovering coordinator only wrapped to the session key its evidence
// binds. Commitments name a wrong share; the key check confirms the key.
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/pagecrypt.h"
#include "crypto/wrap.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/jfield.h"
#include "proto/recovery.h"
#include "proto/signed.h"

#define LABEL_SHARE "coffer/recovery-share/v1"
#define LABEL_SUBMIT "coffer/recovery-submit/v1"
#define LABEL_BINDING "coffer/coordinator-recovery/v1"
#define SUBMIT_MAX 4096

/* label || 0x00 || parts: an info string or a hash input. */
struct msg {
	uint8_t b[160];
	size_t n;
};

static void
msg_start(struct msg *m, const char *label)
{
	m->n = strlen(label);
	memcpy(m->b, label, m->n);
	m->b[m->n++] = 0;
}

static void
msg_add(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void
msg_byte(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

int
coffer_recovery_commitment(const uint8_t state_id[16], unsigned x,
    const uint8_t y[32], uint8_t out[32])
{
	struct msg m;

	msg_start(&m, LABEL_SHARE);
	msg_add(&m, state_id, 16);
	msg_byte(&m, x);
	msg_add(&m, y, 32);
	return coffer_sha256(m.b, m.n, out);
}

/* Section 4: info of the wrap to owner x. */
static void
share_info(const uint8_t state_id[16], unsigned k, unsigned n, unsigned x,
    struct msg *m)
{
	msg_start(m, LABEL_SHARE);
	msg_add(m, state_id, 16);
	msg_byte(m, k);
	msg_byte(m, n);
	msg_byte(m, x);
}

/* Section 5: info of the wrap to a session. */
static void
submit_info(const uint8_t state_id[16], const uint8_t session_pk[32],
    unsigned x, struct msg *m)
{
	msg_start(m, LABEL_SUBMIT);
	msg_add(m, state_id, 16);
	msg_add(m, session_pk, 32);
	msg_byte(m, x);
}

int
coffer_recovery_report_data(const uint8_t state_id[16],
    const uint8_t session_pk[32], uint8_t out[64])
{
	struct msg m;

	msg_start(&m, LABEL_BINDING);
	msg_add(&m, state_id, 16);
	msg_add(&m, session_pk, 32);
	return coffer_sha512(m.b, m.n, out);
}

static int
same_identity(const struct coffer_identity_public *a,
    const struct coffer_identity_public *b)
{
	return memcmp(a->sign_pk, b->sign_pk, 32) == 0 &&
	    memcmp(a->kx_pk, b->kx_pk, 32) == 0;
}

/* ------------------------------------------------------------------
 * Making the record (sections 2 to 4)
 */

static int
set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char hex[129];

	coffer_hex_encode(p, n, hex);
	return json_object_set_new(o, k, json_string(hex)) == 0 ? 0 : COFFER_E_NOMEM;
}

static int
set_line(json_t *o, const char *k, const struct coffer_identity_public *id)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_ID_LINE_MAX + 1);
	int r;

	if ((r = coffer_identity_format_public(id, &b)) == 0 &&
	    json_object_set_new(o, k, json_string((const char *)b.data)) != 0)
		r = COFFER_E_NOMEM;
	coffer_buf_release(&b);
	return r;
}

static int
one_share(const struct coffer_identity *coord, const uint8_t state_id[16],
    unsigned k, unsigned n, unsigned x, const struct coffer_identity_public *owner,
    const uint8_t y[32], json_t *shares)
{
	struct coffer_buf w = COFFER_BUF_INIT(256), b64 = COFFER_BUF_INIT(256);
	uint8_t c[32];
	json_t *o = json_object();
	struct msg info;
	int r;

	if (o == NULL || json_array_append_new(shares, o) != 0)
		return COFFER_E_NOMEM;
	share_info(state_id, k, n, x, &info);
	if ((r = coffer_recovery_commitment(state_id, x, y, c)) != 0 ||
	    (r = coffer_wrap(owner->kx_pk, coord->kx_sk, info.b, info.n, NULL, 0,
	    y, 32, &w)) != 0 ||
	    (r = coffer_b64url_put(&b64, w.data, w.len)) != 0 ||
	    (r = set_line(o, "owner", owner)) != 0 ||
	    (r = set_hex(o, "commitment", c, 32)) != 0)
		goto out;
	if (json_object_set_new(o, "x", json_integer((json_int_t)x)) != 0 ||
	    json_object_set_new(o, "wrapped", json_string((const char *)b64.data)) != 0)
		r = COFFER_E_NOMEM;
out:
	coffer_buf_release(&w);
	coffer_buf_release(&b64);
	return r;
}

int
coffer_recovery_make(const struct coffer_identity *coord,
    const uint8_t state_id[16], const uint8_t key[32],
    const uint8_t key_check[32], unsigned k,
    const struct coffer_identity_public *owners, unsigned n,
    struct coffer_buf *out)
{
	uint8_t y[COFFER_RECOVERY_MAX_OWNERS][32];
	json_t *st = NULL, *shares = NULL;
	int r;

	if (n < 1 || n > COFFER_RECOVERY_MAX_OWNERS || k < 1 || k > n)
		return coffer_errf(COFFER_E_INVAL, "recovery: a threshold of %u of %u "
		    "owners (want 1 <= k <= n <= %d)", k, n, COFFER_RECOVERY_MAX_OWNERS);
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < i; j++)
			if (same_identity(&owners[i], &owners[j]))
				return coffer_errf(COFFER_E_INVAL, "recovery owner %u is "
				    "owner %u again", i + 1, j + 1);
	if ((r = coffer_shamir_split(key, k, n, y)) != 0)
		goto out;
	if ((st = json_object()) == NULL || (shares = json_array()) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	if (json_object_set_new(st, "type", json_string(COFFER_RECOVERY_TYPE)) != 0 ||
	    json_object_set_new(st, "version", json_integer(1)) != 0 ||
	    json_object_set_new(st, "threshold", json_integer((json_int_t)k)) != 0 ||
	    json_object_set(st, "shares", shares) != 0) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	if ((r = set_line(st, "coordinator", &coord->pub)) != 0 ||
	    (r = set_hex(st, "state", state_id, 16)) != 0 ||
	    (r = set_hex(st, "key_check", key_check, 32)) != 0)
		goto out;
	for (unsigned i = 0; i < n; i++)
		if ((r = one_share(coord, state_id, k, n, i + 1, &owners[i], y[i],
		    shares)) != 0)
			goto out;
	r = coffer_signed_make(st, coord->sign_sk, out);
out:
	coffer_wipe(y, sizeof(y));
	json_decref(shares);
	json_decref(st);
	return r;
}

/* ------------------------------------------------------------------
 * Reading the record (section 3, RR1 to RR4)
 */

static int
parse_share(const json_t *v, size_t i, const uint8_t state_id[16],
    struct coffer_recovery_share *s)
{
	static const char *const keys[] = { "owner", "x", "commitment", "wrapped", NULL };
	struct coffer_buf w = COFFER_BUF_INIT(256);
	char ctx[COFFER_JFIELD_PATH_MAX];
	uint64_t x;
	int r;

	(void)state_id;
	coffer_jfield_index(ctx, "shares", i);
	if ((r = coffer_jfield_keys(v, ctx, keys, NULL)) != 0 ||
	    (r = coffer_jfield_identity(v, ctx, "owner", &s->owner)) != 0 ||
	    (r = coffer_jfield_uint(v, ctx, "x", i + 1, i + 1, &x)) != 0 ||
	    (r = coffer_jfield_hex(v, ctx, "commitment", s->commitment, 32)) != 0 ||
	    (r = coffer_jfield_blob(v, ctx, "wrapped", COFFER_RECOVERY_WRAPPED_LEN,
	    &w)) != 0)
		goto out;
	if (w.len != COFFER_RECOVERY_WRAPPED_LEN) {                   /* RR3 */
		r = coffer_errf(COFFER_E_FORMAT, "%s.wrapped: %zu bytes, want %d", ctx,
		    w.len, COFFER_RECOVERY_WRAPPED_LEN);
		goto out;
	}
	s->x = (unsigned)x;
	memcpy(s->wrapped, w.data, w.len);
out:
	coffer_buf_release(&w);
	return r;
}

static int
from_signed(const struct coffer_signed *sg, struct coffer_recovery_record *out)
{
	static const char *const keys[] = { "type", "version", "coordinator",
	    "state", "threshold", "key_check", "shares", NULL };
	struct coffer_recovery_record rec;
	const json_t *st = sg->statement, *shares, *v;
	uint64_t k;
	size_t i;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = coffer_jfield_keys(st, "statement", keys, NULL)) != 0 ||  /* RR2 */
	    (r = coffer_jfield_version(st, "statement")) != 0 ||
	    (r = coffer_jfield_identity(st, "statement", "coordinator",
	    &rec.coordinator)) != 0 ||
	    (r = coffer_jfield_hex(st, "statement", "state", rec.state_id, 16)) != 0 ||
	    (r = coffer_jfield_uint(st, "statement", "threshold", 1,
	    COFFER_RECOVERY_MAX_OWNERS, &k)) != 0 ||
	    (r = coffer_jfield_hex(st, "statement", "key_check", rec.key_check,
	    32)) != 0)
		return r;
	shares = json_object_get(st, "shares");
	if (!json_is_array(shares) || json_array_size(shares) < 1 ||  /* RR3 */
	    json_array_size(shares) > COFFER_RECOVERY_MAX_OWNERS)
		return coffer_errf(COFFER_E_FORMAT, "statement.shares: expected an "
		    "array of 1 to %d shares", COFFER_RECOVERY_MAX_OWNERS);
	json_array_foreach(shares, i, v) {
		if ((r = parse_share(v, i, rec.state_id, &rec.shares[i])) != 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (same_identity(&rec.shares[i].owner, &rec.shares[j].owner))
				return coffer_errf(COFFER_E_FORMAT, "statement.shares[%zu]: "
				    "the owner of shares[%zu] again", i, j);
	}
	rec.n = (unsigned)json_array_size(shares);
	rec.threshold = (unsigned)k;
	if (rec.threshold > rec.n)
		return coffer_errf(COFFER_E_FORMAT, "statement.threshold: %u of %u "
		    "shares", rec.threshold, rec.n);
	if ((r = coffer_signed_verify(sg, rec.coordinator.sign_pk)) != 0) /* RR4 */
		return coffer_errf(r, "the recovery record's signature does not verify "
		    "under the coordinator it names");
	*out = rec;
	return 0;
}

int
coffer_recovery_parse(const char *text, size_t len,
    struct coffer_recovery_record *out)
{
	struct coffer_signed sg;
	int r;

	coffer_signed_init(&sg);
	if ((r = coffer_signed_parse(text, len, COFFER_SIGNED_MAX,      /* RR1 */
	    COFFER_RECOVERY_TYPE, &sg)) == 0)
		r = from_signed(&sg, out);
	coffer_signed_release(&sg);
	return r;
}

int
coffer_recovery_from_json(const json_t *env, struct coffer_recovery_record *out)
{
	struct coffer_signed sg;
	int r;

	coffer_signed_init(&sg);
	if ((r = coffer_signed_from_json(env, COFFER_RECOVERY_TYPE, &sg)) == 0)
		r = from_signed(&sg, out);
	coffer_signed_release(&sg);
	return r;
}

/* ------------------------------------------------------------------
 * The owner (sections 4, 5, 7)
 */

int
coffer_recovery_owner_share(const struct coffer_recovery_record *rec,
    const struct coffer_identity *me, unsigned *x, uint8_t y[32])
{
	struct coffer_buf v = COFFER_BUF_INIT_SECRET(64);
	const struct coffer_recovery_share *s = NULL;
	uint8_t c[32];
	struct msg info;
	int r;

	for (unsigned i = 0; i < rec->n; i++)
		if (same_identity(&rec->shares[i].owner, &me->pub))
			s = &rec->shares[i];
	if (s == NULL)                                                 /* RO6 */
		return coffer_errf(COFFER_E_NOTFOUND, "the recovery record holds no "
		    "share for this identity");
	share_info(rec->state_id, rec->threshold, rec->n, s->x, &info);
	if ((r = coffer_unwrap(me->kx_sk, rec->coordinator.kx_pk, info.b, info.n,
	    NULL, 0, s->wrapped, sizeof(s->wrapped), &v)) != 0 ||       /* RO7 */
	    v.len != 32) {
		r = coffer_errf(COFFER_E_AUTH, "the share does not open with this "
		    "identity and the coordinator's key as its sender");
		goto out;
	}
	if ((r = coffer_recovery_commitment(rec->state_id, s->x, v.data, c)) != 0)
		goto out;
	if (memcmp(c, s->commitment, 32) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "the share does not match its commitment");
		goto out;
	}
	*x = s->x;
	memcpy(y, v.data, 32);
out:
	coffer_buf_release_secret(&v);
	return r;
}

int
coffer_recovery_submit_wrap(const struct coffer_recovery_record *rec,
    const struct coffer_identity *me, unsigned x, const uint8_t y[32],
    const uint8_t session_pk[32], uint8_t out[COFFER_RECOVERY_WRAPPED_LEN])
{
	struct coffer_buf w = COFFER_BUF_INIT(256);
	struct msg info;
	int r;

	submit_info(rec->state_id, session_pk, x, &info);
	if ((r = coffer_wrap(session_pk, me->kx_sk, info.b, info.n, NULL, 0, y, 32,
	    &w)) == 0)
		memcpy(out, w.data, COFFER_RECOVERY_WRAPPED_LEN);
	coffer_buf_release(&w);
	return r;
}

int
coffer_recovery_submit_json(const struct coffer_identity_public *me, unsigned x,
    const uint8_t share[COFFER_RECOVERY_WRAPPED_LEN], struct coffer_buf *out)
{
	char fp[COFFER_ID_FINGERPRINT_HEX], num[16];
	int r;

	snprintf(num, sizeof(num), "%u", x);
	if ((r = coffer_identity_fingerprint(me, fp)) != 0 ||
	    (r = coffer_buf_puts(out, "{\"owner\":\"")) != 0 ||
	    (r = coffer_buf_puts(out, fp)) != 0 ||
	    (r = coffer_buf_puts(out, "\",\"share\":\"")) != 0 ||
	    (r = coffer_b64url_put(out, share, COFFER_RECOVERY_WRAPPED_LEN)) != 0 ||
	    (r = coffer_buf_puts(out, "\",\"x\":")) != 0 ||
	    (r = coffer_buf_puts(out, num)) != 0)
		return r;
	return coffer_buf_puts(out, "}");
}

/* ------------------------------------------------------------------
 * The recovering coordinator (section 6)
 */

int
coffer_recovery_submit_open(const struct coffer_recovery_record *rec,
    const char *body, size_t len, const uint8_t session_sk[32],
    const uint8_t session_pk[32], unsigned *index, uint8_t y[32])
{
	static const char *const keys[] = { "owner", "x", "share", NULL };
	struct coffer_buf w = COFFER_BUF_INIT(256), v = COFFER_BUF_INIT_SECRET(64);
	char fp[COFFER_ID_FINGERPRINT_HEX];
	uint8_t want[32], c[32];
	json_t *o = NULL;
	struct msg info;
	unsigned i;
	uint64_t x;
	int r;

	if ((r = coffer_json_parse(body, len, SUBMIT_MAX, 4, &o)) != 0 || /* RS1 */
	    (r = coffer_jfield_keys(o, "body", keys, NULL)) != 0 ||
	    (r = coffer_jfield_hex(o, "body", "owner", want, 32)) != 0 ||
	    (r = coffer_jfield_uint(o, "body", "x", 1, COFFER_RECOVERY_MAX_OWNERS,
	    &x)) != 0 ||
	    (r = coffer_jfield_blob(o, "body", "share", COFFER_RECOVERY_WRAPPED_LEN,
	    &w)) != 0)
		goto out;
	if (w.len != COFFER_RECOVERY_WRAPPED_LEN) {
		r = coffer_errf(COFFER_E_FORMAT, "body.share: %zu bytes, want %d",
		    w.len, COFFER_RECOVERY_WRAPPED_LEN);
		goto out;
	}
	for (i = 0; i < rec->n; i++) {                                 /* RS2 */
		uint8_t have[32];
		size_t got;

		if ((r = coffer_identity_fingerprint(&rec->shares[i].owner, fp)) != 0 ||
		    (r = coffer_hex_decode(fp, 64, have, 32, &got)) != 0)
			goto out;
		if (memcmp(have, want, 32) == 0 && rec->shares[i].x == x)
			break;
	}
	if (i == rec->n) {
		r = coffer_errf(COFFER_E_NOTFOUND, "no recovery share of owner %.16s... "
		    "at position %llu", json_string_value(json_object_get(o, "owner")),
		    (unsigned long long)x);
		goto out;
	}
	submit_info(rec->state_id, session_pk, (unsigned)x, &info);
	if (coffer_unwrap(session_sk, rec->shares[i].owner.kx_pk, info.b, info.n,
	    NULL, 0, w.data, w.len, &v) != 0 || v.len != 32) {          /* RS3 */
		r = coffer_errf(COFFER_E_AUTH, "the share of %s does not open with this "
		    "session's key and that owner as its sender", rec->shares[i].owner.name);
		goto out;
	}
	if ((r = coffer_recovery_commitment(rec->state_id, (unsigned)x, v.data, c)) != 0)
		goto out;
	if (memcmp(c, rec->shares[i].commitment, 32) != 0) {           /* RS4 */
		r = coffer_errf(COFFER_E_AUTH, "the share of %s does not match its "
		    "commitment: not the share it was given", rec->shares[i].owner.name);
		goto out;
	}
	*index = i;
	memcpy(y, v.data, 32);
out:
	json_decref(o);
	coffer_buf_release(&w);
	coffer_buf_release_secret(&v);
	return r;
}

int
coffer_recovery_combine(const struct coffer_recovery_record *rec,
    const uint8_t *x, const uint8_t (*y)[32], unsigned m, uint8_t key[32])
{
	struct coffer_pagecrypt pc;
	uint8_t k[32];
	int r;

	if (m < rec->threshold)
		return coffer_errf(COFFER_E_STATE, "%u of the %u shares needed", m,
		    rec->threshold);
	if ((r = coffer_shamir_combine(x, y, m, k)) != 0 ||
	    (r = coffer_pagecrypt_init(&pc, k, rec->state_id)) != 0)
		goto out;
	r = coffer_pagecrypt_mac_check(&pc, "coffer/state/key-check/v1",   /* RS5 */
	    rec->state_id, 16, rec->key_check);
	coffer_pagecrypt_wipe(&pc);
	if (r == COFFER_E_AUTH)
		r = coffer_errf(COFFER_E_AUTH, "the shares rebuild a key that is not "
		    "this state's (its key check differs)");
	if (r == 0)
		memcpy(key, k, 32);
out:
	coffer_wipe(k, sizeof(k));
	return r;
}
