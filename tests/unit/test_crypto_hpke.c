// SPDX-License-Identifier: Apache-2.0
// Unit tests for RFC 9180 HPKE (src/crypto/hpke.c): every test case of the
// RFC's DHKEM(X25519, HKDF-SHA256) vectors (all four modes, AEADs 1, 2 and
// 3) with every key schedule value, every encryption and every export;
// then the contract: roles, sequence numbers, tampering, bad inputs.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/hpke.h"
#include "crypto/hpke_internal.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "../support/vectors.h"

struct hv {
	struct coffer_buf info, ikmE, ikmR, ikmS, psk, psk_id;
	uint8_t skEm[32], pkEm[32], skRm[32], pkRm[32], skSm[32], pkSm[32],
	    enc[32], shared[32], ksc[65], secret[32], key[32], base_nonce[12],
	    exp[32];
	size_t nk;
};

static void
hv_release(struct hv *v)
{
	coffer_buf_release(&v->info);
	coffer_buf_release(&v->ikmE);
	coffer_buf_release(&v->ikmR);
	coffer_buf_release(&v->ikmS);
	coffer_buf_release(&v->psk);
	coffer_buf_release(&v->psk_id);
}

#define CHECK(t, id, cond, ...) do { \
	if (!(cond)) { vec_fail((t), (id), __VA_ARGS__); ok = 0; } \
} while (0)

static int
trace_matches(struct vec_tally *t, long long id, const char *who,
    const struct coffer_hpke_trace *tr, const struct hv *v, int mode)
{
	int ok = 1;

	CHECK(t, id, (int)tr->mode == mode, "%s: mode %d", who, tr->mode);
	CHECK(t, id, memcmp(tr->shared_secret, v->shared, 32) == 0,
	    "%s: shared_secret", who);
	CHECK(t, id, memcmp(tr->key_schedule_context, v->ksc, 65) == 0,
	    "%s: key_schedule_context", who);
	CHECK(t, id, memcmp(tr->secret, v->secret, 32) == 0, "%s: secret", who);
	CHECK(t, id, tr->key_len == v->nk && memcmp(tr->key, v->key, v->nk) == 0,
	    "%s: key", who);
	CHECK(t, id, memcmp(tr->base_nonce, v->base_nonce, 12) == 0,
	    "%s: base_nonce", who);
	CHECK(t, id, memcmp(tr->exporter_secret, v->exp, 32) == 0,
	    "%s: exporter_secret", who);
	return ok;
}

/* Run one RFC test case; returns counts of encryptions and exports. */
static void
run_case(struct vec_tally *t, long long id, const json_t *c, size_t *nenc,
    size_t *nexp)
{
	struct hv v = {
		COFFER_BUF_INIT(4096), COFFER_BUF_INIT(4096), COFFER_BUF_INIT(4096),
		COFFER_BUF_INIT(4096), COFFER_BUF_INIT(4096), COFFER_BUF_INIT(4096),
		{ 0 }, { 0 }, { 0 }, { 0 }, { 0 }, { 0 }, { 0 }, { 0 }, { 0 },
		{ 0 }, { 0 }, { 0 }, { 0 }, 0 };
	struct coffer_buf aad = COFFER_BUF_INIT(4096), pt = COFFER_BUF_INIT(4096),
	    ct = COFFER_BUF_INIT(4096), nonce = COFFER_BUF_INIT(64),
	    got = COFFER_BUF_INIT(8192), ectx = COFFER_BUF_INIT(4096),
	    want = COFFER_BUF_INIT(4096);
	struct coffer_hpke *s = NULL, *r = NULL;
	struct coffer_hpke_trace ts, tr;
	struct coffer_hpke_params p;
	uint8_t sk[32], pk[32], enc[32];
	int mode = (int)vec_int(c, "mode"), aead = (int)vec_int(c, "aead_id");
	int auth = mode == 2 || mode == 3, psk = mode == 1 || mode == 3, ok = 1;
	json_t *e;
	size_t i;

	vec_ran(t);
	assert_int_equal(vec_int(c, "kem_id"), COFFER_HPKE_KEM_X25519_SHA256);
	assert_int_equal(vec_int(c, "kdf_id"), COFFER_HPKE_KDF_HKDF_SHA256);
	v.nk = aead == 1 ? 16 : 32;
	assert_int_equal(vec_hex(c, "info", &v.info), 0);
	assert_int_equal(vec_hex(c, "ikmE", &v.ikmE), 0);
	assert_int_equal(vec_hex(c, "ikmR", &v.ikmR), 0);
	assert_int_equal(vec_hex_exact(c, "skEm", v.skEm, 32), 0);
	assert_int_equal(vec_hex_exact(c, "pkEm", v.pkEm, 32), 0);
	assert_int_equal(vec_hex_exact(c, "skRm", v.skRm, 32), 0);
	assert_int_equal(vec_hex_exact(c, "pkRm", v.pkRm, 32), 0);
	assert_int_equal(vec_hex_exact(c, "enc", v.enc, 32), 0);
	assert_int_equal(vec_hex_exact(c, "shared_secret", v.shared, 32), 0);
	assert_int_equal(vec_hex_exact(c, "key_schedule_context", v.ksc, 65), 0);
	assert_int_equal(vec_hex_exact(c, "secret", v.secret, 32), 0);
	assert_int_equal(vec_hex_exact(c, "key", v.key, v.nk), 0);
	assert_int_equal(vec_hex_exact(c, "base_nonce", v.base_nonce, 12), 0);
	assert_int_equal(vec_hex_exact(c, "exporter_secret", v.exp, 32), 0);
	if (auth) {
		assert_int_equal(vec_hex(c, "ikmS", &v.ikmS), 0);
		assert_int_equal(vec_hex_exact(c, "skSm", v.skSm, 32), 0);
		assert_int_equal(vec_hex_exact(c, "pkSm", v.pkSm, 32), 0);
	}
	if (psk) {
		assert_int_equal(vec_hex(c, "psk", &v.psk), 0);
		assert_int_equal(vec_hex(c, "psk_id", &v.psk_id), 0);
	}
	memset(&p, 0, sizeof(p));
	p.aead = (enum coffer_hpke_aead)aead;
	p.info = v.info.data;
	p.info_len = v.info.len;
	if (psk) {
		p.psk = v.psk.data;
		p.psk_len = v.psk.len;
		p.psk_id = v.psk_id.data;
		p.psk_id_len = v.psk_id.len;
	}

	/* DeriveKeyPair for every key in the case. */
	assert_int_equal(coffer_hpke_derive_keypair(v.ikmE.data, v.ikmE.len, sk,
	    pk), 0);
	CHECK(t, id, memcmp(sk, v.skEm, 32) == 0 && memcmp(pk, v.pkEm, 32) == 0,
	    "DeriveKeyPair(ikmE)");
	assert_int_equal(coffer_hpke_derive_keypair(v.ikmR.data, v.ikmR.len, sk,
	    pk), 0);
	CHECK(t, id, memcmp(sk, v.skRm, 32) == 0 && memcmp(pk, v.pkRm, 32) == 0,
	    "DeriveKeyPair(ikmR)");
	if (auth) {
		assert_int_equal(coffer_hpke_derive_keypair(v.ikmS.data, v.ikmS.len,
		    sk, pk), 0);
		CHECK(t, id, memcmp(sk, v.skSm, 32) == 0 &&
		    memcmp(pk, v.pkSm, 32) == 0, "DeriveKeyPair(ikmS)");
	}

	/* Both setups, with every key schedule value. */
	if (coffer_hpke__setup_sender(&p, v.pkRm, auth ? v.skSm : NULL, v.skEm,
	    enc, &s, &ts) != 0) {
		vec_fail(t, id, "sender setup: %s", coffer_errdetail());
		goto out;
	}
	CHECK(t, id, memcmp(enc, v.enc, 32) == 0, "enc");
	trace_matches(t, id, "sender", &ts, &v, mode);
	if (coffer_hpke__setup_receiver(&p, v.enc, v.skRm, auth ? v.pkSm : NULL,
	    &r, &tr) != 0) {
		vec_fail(t, id, "receiver setup: %s", coffer_errdetail());
		goto out;
	}
	trace_matches(t, id, "receiver", &tr, &v, mode);

	/* Every encryption, in order: sequence number i. */
	json_array_foreach(json_object_get(c, "encryptions"), i, e) {
		uint8_t n[12];

		assert_int_equal(vec_hex(e, "aad", &aad), 0);
		assert_int_equal(vec_hex(e, "pt", &pt), 0);
		assert_int_equal(vec_hex(e, "ct", &ct), 0);
		assert_int_equal(vec_hex(e, "nonce", &nonce), 0);
		(*nenc)++;
		memcpy(n, v.base_nonce, 12);
		for (int k = 0; k < 8; k++)
			n[11 - k] ^= (uint8_t)((uint64_t)i >> (8 * k));
		CHECK(t, id, nonce.len == 12 && memcmp(n, nonce.data, 12) == 0,
		    "encryption %zu: nonce", i);
		coffer_buf_reset(&got);
		if (coffer_hpke_seal(s, aad.data, aad.len, pt.data, pt.len, &got) != 0)
			vec_fail(t, id, "encryption %zu: seal: %s", i,
			    coffer_errdetail());
		else
			CHECK(t, id, got.len == ct.len &&
			    memcmp(got.data, ct.data, ct.len) == 0,
			    "encryption %zu: ct", i);
		coffer_buf_reset(&got);
		if (coffer_hpke_open(r, aad.data, aad.len, ct.data, ct.len, &got) != 0)
			vec_fail(t, id, "encryption %zu: open: %s", i,
			    coffer_errdetail());
		else
			CHECK(t, id, got.len == pt.len &&
			    memcmp(got.data, pt.data, pt.len) == 0,
			    "encryption %zu: pt", i);
	}

	/* Every export, from both contexts. */
	json_array_foreach(json_object_get(c, "exports"), i, e) {
		long long L = vec_int(e, "L");
		uint8_t out1[512], out2[512];

		assert_int_equal(vec_hex(e, "exporter_context", &ectx), 0);
		assert_int_equal(vec_hex(e, "exported_value", &want), 0);
		assert_true(L > 0 && L <= 512 && (size_t)L == want.len);
		(*nexp)++;
		if (coffer_hpke_export(s, ectx.data, ectx.len, out1, (size_t)L) != 0 ||
		    coffer_hpke_export(r, ectx.data, ectx.len, out2, (size_t)L) != 0)
			vec_fail(t, id, "export %zu: %s", i, coffer_errdetail());
		else
			CHECK(t, id, memcmp(out1, want.data, want.len) == 0 &&
			    memcmp(out2, want.data, want.len) == 0,
			    "export %zu: value", i);
	}
	(void)ok;
out:
	coffer_hpke_free(s);
	coffer_hpke_free(r);
	hv_release(&v);
	coffer_buf_release(&aad);
	coffer_buf_release(&pt);
	coffer_buf_release(&ct);
	coffer_buf_release(&nonce);
	coffer_buf_release(&got);
	coffer_buf_release(&ectx);
	coffer_buf_release(&want);
}

static void
test_hpke__rfc9180_vectors(void **state)
{
	struct vec_tally t;
	json_t *doc = NULL, *c;
	size_t i, nenc = 0, nexp = 0, per_aead[4] = { 0 }, per_mode[4] = { 0 };

	(void)state;
	assert_int_equal(vec_load("crypto/hpke/rfc9180_x25519_sha256.json", &doc),
	    0);
	assert_true(json_is_array(doc));
	vec_tally_init(&t, "rfc9180_x25519_sha256.json");
	json_array_foreach(doc, i, c) {
		long long a = vec_int(c, "aead_id"), m = vec_int(c, "mode");

		assert_true(a >= 1 && a <= 3 && m >= 0 && m <= 3);
		per_aead[a]++;
		per_mode[m]++;
		run_case(&t, (long long)i, c, &nenc, &nexp);
	}
	printf("# rfc9180_x25519_sha256.json: %zu test cases (aead 1: %zu, 2: %zu, "
	    "3: %zu; modes base %zu, psk %zu, auth %zu, auth_psk %zu), %zu "
	    "encryptions, %zu exports, each checked on both sides\n", t.total,
	    per_aead[1], per_aead[2], per_aead[3], per_mode[0], per_mode[1],
	    per_mode[2], per_mode[3], nenc, nexp);
	assert_int_equal(t.total, 12);
	assert_int_equal(nenc, 12 * 257);
	assert_int_equal(nexp, 12 * 3);
	assert_int_equal(vec_report(&t), 0);
	json_decref(doc);
}

static void
setup_pair(enum coffer_hpke_aead aead, const uint8_t *skS, const uint8_t *pkS,
    struct coffer_hpke **s, struct coffer_hpke **r, uint8_t skR[32],
    uint8_t pkR[32])
{
	struct coffer_hpke_params p = { aead, (const uint8_t *)"ctx", 3, NULL, 0,
	    NULL, 0 };
	uint8_t enc[32];

	assert_int_equal(coffer_hpke_keygen(skR, pkR), 0);
	assert_int_equal(coffer_hpke_setup_sender(&p, pkR, skS, enc, s), 0);
	assert_int_equal(coffer_hpke_setup_receiver(&p, enc, skR, pkS, r), 0);
}

static void
test_hpke__open_failure_keeps_sequence_and_output(void **state)
{
	struct coffer_hpke *s = NULL, *r = NULL;
	struct coffer_buf c1 = COFFER_BUF_INIT(1024), c2 = COFFER_BUF_INIT(1024),
	    pt = COFFER_BUF_INIT_SECRET(1024);
	uint8_t skR[32], pkR[32];

	(void)state;
	setup_pair(COFFER_HPKE_CHACHA20POLY1305, NULL, NULL, &s, &r, skR, pkR);
	assert_int_equal(coffer_hpke_seal(s, NULL, 0, (const uint8_t *)"one", 3,
	    &c1), 0);
	assert_int_equal(coffer_hpke_seal(s, NULL, 0, (const uint8_t *)"two", 3,
	    &c2), 0);
	/* Out of order: message 2 under sequence number 0 fails, and then
	 * message 1 still opens (the failure did not advance the sequence). */
	assert_int_equal(coffer_hpke_open(r, NULL, 0, c2.data, c2.len, &pt),
	    COFFER_E_AUTH);
	assert_int_equal(pt.len, 0);
	c1.data[0] ^= 1;
	assert_int_equal(coffer_hpke_open(r, NULL, 0, c1.data, c1.len, &pt),
	    COFFER_E_AUTH);
	c1.data[0] ^= 1;
	assert_int_equal(coffer_hpke_open(r, (const uint8_t *)"x", 1, c1.data,
	    c1.len, &pt), COFFER_E_AUTH);
	assert_int_equal(coffer_hpke_open(r, NULL, 0, c1.data, 15, &pt),
	    COFFER_E_TRUNCATED);
	assert_int_equal(coffer_hpke_open(r, NULL, 0, c1.data, c1.len, &pt), 0);
	assert_int_equal(coffer_hpke_open(r, NULL, 0, c2.data, c2.len, &pt), 0);
	assert_int_equal(pt.len, 6);
	assert_memory_equal(pt.data, "onetwo", 6);
	/* Replaying message 1 at sequence 2 fails. */
	assert_int_equal(coffer_hpke_open(r, NULL, 0, c1.data, c1.len, &pt),
	    COFFER_E_AUTH);
	/* Roles are enforced. */
	assert_int_equal(coffer_hpke_open(s, NULL, 0, c1.data, c1.len, &pt),
	    COFFER_E_STATE);
	assert_int_equal(coffer_hpke_seal(r, NULL, 0, pt.data, 1, &c1),
	    COFFER_E_STATE);
	coffer_hpke_free(s);
	coffer_hpke_free(r);
	coffer_buf_release(&c1);
	coffer_buf_release(&c2);
	coffer_buf_release(&pt);
}

static void
test_hpke__sequence_exhaustion_is_an_error(void **state)
{
	struct coffer_hpke *s = NULL, *r = NULL;
	struct coffer_buf c1 = COFFER_BUF_INIT(1024), pt = COFFER_BUF_INIT(1024);
	uint8_t skR[32], pkR[32];

	(void)state;
	setup_pair(COFFER_HPKE_AES256GCM, NULL, NULL, &s, &r, skR, pkR);
	coffer_hpke__set_seq(s, UINT64_MAX);
	coffer_hpke__set_seq(r, UINT64_MAX);
	assert_int_equal(coffer_hpke_seal(s, NULL, 0, (const uint8_t *)"z", 1,
	    &c1), 0);
	assert_int_equal(coffer_hpke_open(r, NULL, 0, c1.data, c1.len, &pt), 0);
	assert_int_equal(coffer_hpke_seal(s, NULL, 0, (const uint8_t *)"z", 1,
	    &c1), COFFER_E_LIMIT);
	assert_int_equal(coffer_hpke_open(r, NULL, 0, c1.data, c1.len, &pt),
	    COFFER_E_LIMIT);
	coffer_hpke_free(s);
	coffer_hpke_free(r);
	coffer_buf_release(&c1);
	coffer_buf_release(&pt);
}

static void
test_hpke__auth_mode_binds_the_sender(void **state)
{
	struct coffer_hpke_params p = { COFFER_HPKE_AES256GCM, NULL, 0, NULL, 0,
	    NULL, 0 };
	struct coffer_buf ct = COFFER_BUF_INIT(1024), pt = COFFER_BUF_INIT(1024);
	uint8_t skR[32], pkR[32], skS[32], pkS[32], skX[32], pkX[32], enc[32];

	(void)state;
	assert_int_equal(coffer_hpke_keygen(skR, pkR), 0);
	assert_int_equal(coffer_hpke_keygen(skS, pkS), 0);
	assert_int_equal(coffer_hpke_keygen(skX, pkX), 0);
	assert_int_equal(coffer_hpke_seal_once(&p, pkR, skS, NULL, 0,
	    (const uint8_t *)"key", 3, enc, &ct), 0);
	assert_int_equal(ct.len, 3 + 16);
	assert_int_equal(coffer_hpke_open_once(&p, enc, skR, pkX, NULL, 0, ct.data,
	    ct.len, &pt), COFFER_E_AUTH);
	assert_int_equal(coffer_hpke_open_once(&p, enc, skR, NULL, NULL, 0,
	    ct.data, ct.len, &pt), COFFER_E_AUTH);
	assert_int_equal(coffer_hpke_open_once(&p, enc, skX, pkS, NULL, 0,
	    ct.data, ct.len, &pt), COFFER_E_AUTH);
	assert_int_equal(pt.len, 0);
	assert_int_equal(coffer_hpke_open_once(&p, enc, skR, pkS, NULL, 0,
	    ct.data, ct.len, &pt), 0);
	assert_memory_equal(pt.data, "key", 3);
	coffer_buf_release(&ct);
	coffer_buf_release(&pt);
}

static void
test_hpke__rejects_bad_parameters(void **state)
{
	struct coffer_hpke_params p = { COFFER_HPKE_AES256GCM, NULL, 0, NULL, 0,
	    NULL, 0 };
	struct coffer_hpke *h = NULL;
	uint8_t skR[32], pkR[32], enc[32], zero[32] = { 0 }, psk[32] = { 7 },
	    ikm[31] = { 0 };

	(void)state;
	assert_int_equal(coffer_hpke_keygen(skR, pkR), 0);
	p.aead = (enum coffer_hpke_aead)0xffff;
	assert_int_equal(coffer_hpke_setup_sender(&p, pkR, NULL, enc, &h),
	    COFFER_E_UNSUPPORTED);
	p.aead = COFFER_HPKE_AES256GCM;
	p.psk = psk;
	p.psk_len = sizeof(psk);
	assert_int_equal(coffer_hpke_setup_sender(&p, pkR, NULL, enc, &h),
	    COFFER_E_INVAL); /* PSK without id */
	p.psk_id = (const uint8_t *)"id";
	p.psk_id_len = 2;
	p.psk_len = 31;
	assert_int_equal(coffer_hpke_setup_sender(&p, pkR, NULL, enc, &h),
	    COFFER_E_INVAL); /* short PSK */
	p.psk = NULL;
	p.psk_len = 0;
	assert_int_equal(coffer_hpke_setup_receiver(&p, enc, skR, NULL, &h),
	    COFFER_E_INVAL); /* id without PSK */
	p.psk_id = NULL;
	p.psk_id_len = 0;
	/* Small-order recipient key or enc: RFC 9180 section 7.1.4. */
	assert_int_equal(coffer_hpke_setup_sender(&p, zero, NULL, enc, &h),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_hpke_setup_receiver(&p, zero, skR, NULL, &h),
	    COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "decapsulation"));
	assert_null(h);
	assert_int_equal(coffer_hpke_derive_keypair(ikm, sizeof(ikm), skR, pkR),
	    COFFER_E_INVAL);
	/* Export length limit. */
	{
		struct coffer_hpke *s = NULL;
		uint8_t *big;

		assert_int_equal(coffer_hpke_keygen(skR, pkR), 0);
		assert_int_equal(coffer_hpke_setup_sender(&p, pkR, NULL, enc, &s), 0);
		assert_non_null(big = coffer_malloc(255 * 32 + 1));
		assert_int_equal(coffer_hpke_export(s, NULL, 0, big, 255 * 32), 0);
		assert_int_equal(coffer_hpke_export(s, NULL, 0, big, 255 * 32 + 1),
		    COFFER_E_INVAL);
		free(big);
		coffer_hpke_free(s);
	}
	coffer_hpke_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hpke__rfc9180_vectors),
		cmocka_unit_test(test_hpke__open_failure_keeps_sequence_and_output),
		cmocka_unit_test(test_hpke__sequence_exhaustion_is_an_error),
		cmocka_unit_test(test_hpke__auth_mode_binds_the_sender),
		cmocka_unit_test(test_hpke__rejects_bad_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
