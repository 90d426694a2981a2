// SPDX-License-Identifier: Apache-2.0
// Unit tests for ECDSA P-256/P-384 (src/crypto/ecdsa.c): every Wycheproof
// vector of the four ECDSA files (raw P1363 and DER signatures), and the
// sign / key-encoding paths the sim backend uses.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/x509.h>

#include "coffer/error.h"
#include "crypto/ecdsa.h"
#include "lib/buf.h"
#include "../support/vectors.h"

/*
 * Run one Wycheproof ECDSA file. Every test is run: "valid" must verify,
 * "invalid" must not (there are no "acceptable" ones in these files; one
 * would fail the test so a new vector file is looked at). The group key is
 * loaded both from the uncompressed point and from publicKeyDer, and the
 * two keys must agree on every test.
 */
static void
run_file(const char *file, enum coffer_ecdsa_curve curve, enum coffer_ecdsa_sigfmt fmt)
{
	json_t *doc = NULL, *groups, *g, *tests, *t;
	struct coffer_buf pub = COFFER_BUF_INIT(1024), msg = COFFER_BUF_INIT(1 << 16),
	    sig = COFFER_BUF_INIT(1 << 16), der = COFFER_BUF_INIT(1024);
	struct vec_tally tally;
	size_t gi, ti;
	long long declared;

	assert_int_equal(vec_load(file, &doc), 0);
	vec_tally_init(&tally, file);
	declared = vec_int(doc, "numberOfTests");
	groups = json_object_get(doc, "testGroups");
	assert_true(json_array_size(groups) > 0);
	json_array_foreach(groups, gi, g) {
		struct coffer_ecdsa_key *k = NULL, *k2 = NULL;
		EVP_PKEY *pk;
		const uint8_t *dp;

		assert_int_equal(vec_hex(json_object_get(g, "publicKey"), "uncompressed", &pub), 0);
		assert_int_equal(coffer_ecdsa_pub_from_raw(curve, pub.data, pub.len, &k), 0);
		assert_int_equal(vec_hex(g, "publicKeyDer", &der), 0);
		dp = der.data;
		assert_non_null(pk = d2i_PUBKEY(NULL, &dp, (long)der.len));
		assert_int_equal(coffer_ecdsa_pub_from_pkey(pk, &k2), 0);
		EVP_PKEY_free(pk);
		assert_int_equal(coffer_ecdsa_key_curve(k2), curve);
		tests = json_object_get(g, "tests");
		json_array_foreach(tests, ti, t) {
			const char *result = vec_str(t, "result");
			int r1, r2;

			assert_int_equal(vec_hex(t, "msg", &msg), 0);
			assert_int_equal(vec_hex(t, "sig", &sig), 0);
			r1 = coffer_ecdsa_verify(k, msg.data, msg.len, sig.data, sig.len, fmt);
			r2 = coffer_ecdsa_verify(k2, msg.data, msg.len, sig.data, sig.len, fmt);
			vec_ran(&tally);
			if (r1 != r2)
				vec_fail(&tally, vec_int(t, "tcId"),
				    "raw-point key says %d, DER key says %d", r1, r2);
			if (strcmp(result, "valid") == 0 && r1 != 0)
				vec_fail(&tally, vec_int(t, "tcId"), "valid signature "
				    "rejected (%s): %s", vec_str(t, "comment"), coffer_errdetail());
			else if (strcmp(result, "invalid") == 0 && r1 != COFFER_E_SIGNATURE)
				vec_fail(&tally, vec_int(t, "tcId"), "invalid signature "
				    "gave %d (%s)", r1, vec_str(t, "comment"));
			else if (strcmp(result, "valid") != 0 && strcmp(result, "invalid") != 0)
				vec_fail(&tally, vec_int(t, "tcId"), "unexpected result "
				    "kind %s", result);
		}
		coffer_ecdsa_key_free(k);
		coffer_ecdsa_key_free(k2);
	}
	assert_int_equal(vec_report(&tally), 0);
	assert_int_equal((long long)tally.ran, declared);
	assert_int_equal(tally.skipped, 0);
	json_decref(doc);
	coffer_buf_release(&pub);
	coffer_buf_release(&msg);
	coffer_buf_release(&sig);
	coffer_buf_release(&der);
}

static void
test_ecdsa__wycheproof_p256_p1363(void **state)
{
	(void)state;
	run_file("crypto/ecdsa_secp256r1_sha256_p1363_test.json", COFFER_ECDSA_P256,
	    COFFER_ECDSA_SIG_RAW);
}

static void
test_ecdsa__wycheproof_p384_p1363(void **state)
{
	(void)state;
	run_file("crypto/ecdsa_secp384r1_sha384_p1363_test.json", COFFER_ECDSA_P384,
	    COFFER_ECDSA_SIG_RAW);
}

static void
test_ecdsa__wycheproof_p256_der(void **state)
{
	(void)state;
	run_file("crypto/ecdsa_secp256r1_sha256_test.json", COFFER_ECDSA_P256,
	    COFFER_ECDSA_SIG_DER);
}

static void
test_ecdsa__wycheproof_p384_der(void **state)
{
	(void)state;
	run_file("crypto/ecdsa_secp384r1_sha384_test.json", COFFER_ECDSA_P384,
	    COFFER_ECDSA_SIG_DER);
}

static void
test_ecdsa__sign_verify_round_trip_and_tamper(void **state)
{
	enum coffer_ecdsa_curve curves[] = { COFFER_ECDSA_P256, COFFER_ECDSA_P384 };

	(void)state;
	for (size_t c = 0; c < 2; c++) {
		struct coffer_ecdsa_key *k = NULL, *pub = NULL;
		uint8_t sig[96], point[97];
		size_t fl = coffer_ecdsa_field_len(curves[c]);
		const char *msg = "attested by nobody";

		assert_int_equal(coffer_ecdsa_generate(curves[c], &k), 0);
		assert_int_equal(coffer_ecdsa_sign(k, msg, strlen(msg), sig, 2 * fl), 0);
		assert_int_equal(coffer_ecdsa_verify(k, msg, strlen(msg), sig, 2 * fl,
		    COFFER_ECDSA_SIG_RAW), 0);
		assert_int_equal(coffer_ecdsa_pub_raw(k, point, 1 + 2 * fl), 0);
		assert_int_equal(point[0], 0x04);
		/* x||y without the 0x04 prefix is accepted too. */
		assert_int_equal(coffer_ecdsa_pub_from_raw(curves[c], point + 1, 2 * fl, &pub), 0);
		assert_int_equal(coffer_ecdsa_verify(pub, msg, strlen(msg), sig, 2 * fl,
		    COFFER_ECDSA_SIG_RAW), 0);
		assert_int_equal(coffer_ecdsa_verify(pub, "attested by nobodY",
		    strlen(msg), sig, 2 * fl, COFFER_ECDSA_SIG_RAW), COFFER_E_SIGNATURE);
		sig[5] ^= 1;
		assert_int_equal(coffer_ecdsa_verify(pub, msg, strlen(msg), sig, 2 * fl,
		    COFFER_ECDSA_SIG_RAW), COFFER_E_SIGNATURE);
		sig[5] ^= 1;
		assert_int_equal(coffer_ecdsa_verify(pub, msg, strlen(msg), sig, 2 * fl - 1,
		    COFFER_ECDSA_SIG_RAW), COFFER_E_SIGNATURE);
		/* A public key can not sign. */
		assert_int_equal(coffer_ecdsa_sign(pub, msg, strlen(msg), sig, 2 * fl),
		    COFFER_E_INVAL);
		coffer_ecdsa_key_free(pub);
		coffer_ecdsa_key_free(k);
	}
}

static void
test_ecdsa__rejects_point_off_curve_and_bad_lengths(void **state)
{
	struct coffer_ecdsa_key *k = NULL, *pub = NULL;
	uint8_t point[65];

	(void)state;
	assert_int_equal(coffer_ecdsa_generate(COFFER_ECDSA_P256, &k), 0);
	assert_int_equal(coffer_ecdsa_pub_raw(k, point, sizeof(point)), 0);
	point[64] ^= 1; /* y changed: not on the curve any more */
	assert_int_equal(coffer_ecdsa_pub_from_raw(COFFER_ECDSA_P256, point, 65, &pub),
	    COFFER_E_FORMAT);
	assert_null(pub);
	assert_int_equal(coffer_ecdsa_pub_from_raw(COFFER_ECDSA_P256, point, 63, &pub),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_ecdsa_pub_from_raw(COFFER_ECDSA_P384, point, 65, &pub),
	    COFFER_E_FORMAT);
	coffer_ecdsa_key_free(k);
}

static void
test_ecdsa__pem_round_trips(void **state)
{
	struct coffer_ecdsa_key *k = NULL, *k2 = NULL, *pub = NULL;
	struct coffer_buf priv = COFFER_BUF_INIT_SECRET(8192), pubpem = COFFER_BUF_INIT(8192);
	static const char sec1[] =
	    "-----BEGIN EC PRIVATE KEY-----\n"
	    "MIGkAgEBBDAJu/5UlCxHXFTQ1JNmG3J+uErknazXlP5dcd7ed+bEHieBFXO7GqkY\n"
	    "zrcaWNuZe/SgBwYFK4EEACKhZANiAARLJ2ZcIowcvBgt8XjqP1TxCovcvlVnIwhN\n"
	    "hCwSa32COfEMJ+nb3M2iFkoxMoI5f+AGkZb3milFRFKDkcYt6MTJRemNl/6r2H3W\n"
	    "lI/zSfAm3EfjuL8wZwe8kZHfpr87qCs=\n"
	    "-----END EC PRIVATE KEY-----\n";
	uint8_t sig[96];

	(void)state;
	assert_int_equal(coffer_ecdsa_generate(COFFER_ECDSA_P384, &k), 0);
	assert_int_equal(coffer_ecdsa_priv_pem(k, &priv), 0);
	assert_non_null(strstr(coffer_buf_str(&priv), "BEGIN PRIVATE KEY"));
	assert_int_equal(coffer_ecdsa_priv_from_pem((char *)priv.data, priv.len, &k2), 0);
	assert_int_equal(coffer_ecdsa_sign(k2, "m", 1, sig, sizeof(sig)), 0);
	assert_int_equal(coffer_ecdsa_pub_pem(k, &pubpem), 0);
	assert_int_equal(coffer_ecdsa_pub_from_pem((char *)pubpem.data, pubpem.len, &pub), 0);
	assert_int_equal(coffer_ecdsa_verify(pub, "m", 1, sig, sizeof(sig),
	    COFFER_ECDSA_SIG_RAW), 0);
	/* A SEC1 "EC PRIVATE KEY" reads too (not PKCS#8: the general reader). */
	coffer_ecdsa_key_free(k2);
	k2 = NULL;
	assert_int_equal(coffer_ecdsa_priv_from_pem(sec1, strlen(sec1), &k2), 0);
	assert_int_equal(coffer_ecdsa_key_curve(k2), COFFER_ECDSA_P384);
	coffer_ecdsa_key_free(k2);
	k2 = NULL;
	assert_int_equal(coffer_ecdsa_priv_from_pem("junk", 4, &k2), COFFER_E_FORMAT);
	assert_int_equal(coffer_ecdsa_pub_from_pem((char *)priv.data, priv.len, &k2),
	    COFFER_E_FORMAT);
	coffer_ecdsa_key_free(k);
	coffer_ecdsa_key_free(k2);
	coffer_ecdsa_key_free(pub);
	coffer_buf_release(&priv);
	coffer_buf_release(&pubpem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecdsa__wycheproof_p256_p1363),
		cmocka_unit_test(test_ecdsa__wycheproof_p384_p1363),
		cmocka_unit_test(test_ecdsa__wycheproof_p256_der),
		cmocka_unit_test(test_ecdsa__wycheproof_p384_der),
		cmocka_unit_test(test_ecdsa__sign_verify_round_trip_and_tamper),
		cmocka_unit_test(test_ecdsa__rejects_point_off_curve_and_bad_lengths),
		cmocka_unit_test(test_ecdsa__pem_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
