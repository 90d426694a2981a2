// SPDX-License-Identifier: Apache-2.0
// Unit tests for Ed25519 (src/crypto/sign.c): every Wycheproof vector
// (valid ones verify, invalid ones, including S >= L malleability, are
// rejected), the RFC 8032 signing vectors, and labelled signatures.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/sign.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "../support/vectors.h"

static void
test_sign__ed25519_wycheproof(void **state)
{
	struct coffer_buf msg = COFFER_BUF_INIT(1 << 20),
	    sig = COFFER_BUF_INIT(1 << 10);
	struct vec_tally t;
	json_t *doc = NULL, *g, *tc;
	size_t i, j, malleable = 0, nvalid = 0, ninvalid = 0;

	(void)state;
	assert_int_equal(vec_load("crypto/ed25519_test.json", &doc), 0);
	vec_tally_init(&t, "ed25519_test.json");
	json_array_foreach(json_object_get(doc, "testGroups"), i, g) {
		uint8_t pk[32];

		assert_int_equal(vec_hex_exact(json_object_get(g, "publicKey"), "pk",
		    pk, sizeof(pk)), 0);
		json_array_foreach(json_object_get(g, "tests"), j, tc) {
			long long id = vec_int(tc, "tcId");
			const char *res = vec_str(tc, "result");
			int r;

			assert_int_equal(vec_hex(tc, "msg", &msg), 0);
			assert_int_equal(vec_hex(tc, "sig", &sig), 0);
			vec_ran(&t);
			r = coffer_sign_verify(pk, msg.data, msg.len, sig.data, sig.len);
			if (strcmp(res, "valid") == 0) {
				nvalid++;
				if (r != 0)
					vec_fail(&t, id, "valid signature rejected: %s",
					    coffer_errdetail());
			} else {
				assert_string_equal(res, "invalid");
				ninvalid++;
				if (vec_has_flag(tc, "SignatureMalleability"))
					malleable++;
				if (r != COFFER_E_SIGNATURE)
					vec_fail(&t, id, "invalid signature (%s): returned "
					    "%d, want COFFER_E_SIGNATURE",
					    vec_str(tc, "comment"), r);
			}
		}
	}
	printf("# ed25519_test.json: %zu valid accepted, %zu invalid rejected "
	    "(%zu SignatureMalleability)\n", nvalid, ninvalid, malleable);
	assert_int_equal(t.total, vec_int(doc, "numberOfTests"));
	assert_int_equal(t.skipped, 0);
	assert_true(malleable > 0);
	assert_int_equal(vec_report(&t), 0);
	json_decref(doc);
	coffer_buf_release(&msg);
	coffer_buf_release(&sig);
}

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t got;

	assert_int_equal(coffer_hex_decode(s, strlen(s), out, n, &got), 0);
	assert_int_equal(got, n);
}

/* RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte). */
static void
test_sign__rfc8032_signing_vectors(void **state)
{
	static const struct {
		const char *sk, *pk, *msg, *sig;
	} v[] = {
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		  "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		  "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
		  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t sk[32], pk[32], want_pk[32], sig[64], want_sig[64], m[1];
		size_t mlen = strlen(v[i].msg) / 2;

		unhex(v[i].sk, sk, 32);
		unhex(v[i].pk, want_pk, 32);
		unhex(v[i].sig, want_sig, 64);
		if (mlen > 0)
			unhex(v[i].msg, m, mlen);
		assert_int_equal(coffer_sign_public(sk, pk), 0);
		assert_memory_equal(pk, want_pk, 32);
		assert_int_equal(coffer_sign(sk, m, mlen, sig), 0);
		assert_memory_equal(sig, want_sig, 64);
		assert_int_equal(coffer_sign_verify(pk, m, mlen, sig, 64), 0);
	}
}

static void
test_sign__keygen_sign_verify_and_reject_tampering(void **state)
{
	uint8_t sk[32], pk[32], sk2[32], pk2[32], sig[64];
	const char msg[] = "approve policy 7";

	(void)state;
	assert_int_equal(coffer_sign_keygen(sk, pk), 0);
	assert_int_equal(coffer_sign_keygen(sk2, pk2), 0);
	assert_memory_not_equal(sk, sk2, 32);
	assert_int_equal(coffer_sign(sk, msg, sizeof(msg), sig), 0);
	assert_int_equal(coffer_sign_verify(pk, msg, sizeof(msg), sig, 64), 0);
	assert_int_equal(coffer_sign_verify(pk2, msg, sizeof(msg), sig, 64),
	    COFFER_E_SIGNATURE);
	assert_int_equal(coffer_sign_verify(pk, msg, sizeof(msg) - 1, sig, 64),
	    COFFER_E_SIGNATURE);
	assert_int_equal(coffer_sign_verify(pk, msg, sizeof(msg), sig, 63),
	    COFFER_E_SIGNATURE);
	assert_non_null(strstr(coffer_errdetail(), "63 bytes"));
	for (int bit = 0; bit < 512; bit += 37) {
		sig[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		assert_int_equal(coffer_sign_verify(pk, msg, sizeof(msg), sig, 64),
		    COFFER_E_SIGNATURE);
		sig[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	/* S + L verifies mathematically but is not canonical: rejected. */
	{
		static const uint8_t l[32] = {
			0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c,
			0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0x10 };
		uint8_t m[64];
		unsigned carry = 0;

		memcpy(m, sig, 64);
		for (int i = 0; i < 32; i++) {
			unsigned s = (unsigned)m[32 + i] + l[i] + carry;

			m[32 + i] = (uint8_t)s;
			carry = s >> 8;
		}
		if (carry == 0 && (m[63] & 0xe0) == 0) {
			assert_int_equal(coffer_sign_verify(pk, msg, sizeof(msg), m,
			    64), COFFER_E_SIGNATURE);
			assert_non_null(strstr(coffer_errdetail(), "S >= L"));
		}
	}
	assert_int_equal(coffer_sign_verify(pk, msg, sizeof(msg), sig, 64), 0);
}

static void
test_sign__labels_separate_purposes(void **state)
{
	uint8_t sk[32], pk[32], sig[64], plain[64];
	const char msg[] = "{\"job\":1}";

	(void)state;
	assert_int_equal(coffer_sign_keygen(sk, pk), 0);
	assert_int_equal(coffer_sign_labeled(sk, "policy", msg, strlen(msg), sig),
	    0);
	assert_int_equal(coffer_sign_verify_labeled(pk, "policy", msg,
	    strlen(msg), sig, 64), 0);
	assert_int_equal(coffer_sign_verify_labeled(pk, "receipt", msg,
	    strlen(msg), sig, 64), COFFER_E_SIGNATURE);
	assert_int_equal(coffer_sign_verify(pk, msg, strlen(msg), sig, 64),
	    COFFER_E_SIGNATURE);
	/* The documented encoding: "coffer-sig-v1" 0 label 0 msg. */
	{
		char m[64];
		size_t n = 0;

		memcpy(m, "coffer-sig-v1", 14);
		n = 14;
		memcpy(m + n, "policy", 7);
		n += 7;
		memcpy(m + n, msg, strlen(msg));
		n += strlen(msg);
		assert_int_equal(coffer_sign(sk, m, n, plain), 0);
		assert_memory_equal(plain, sig, 64);
	}
	assert_int_equal(coffer_sign_labeled(sk, "", msg, 1, sig), COFFER_E_INVAL);
	assert_int_equal(coffer_sign_labeled(sk, "Policy", msg, 1, sig),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_sign_labeled(sk, "a\nb", msg, 1, sig),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_sign_labeled(sk,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    msg, 1, sig), COFFER_E_INVAL);
	assert_int_equal(coffer_sign_labeled(sk, "x", NULL, 0, sig), 0);
	assert_int_equal(coffer_sign_verify_labeled(pk, "x", NULL, 0, sig, 64), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign__ed25519_wycheproof),
		cmocka_unit_test(test_sign__rfc8032_signing_vectors),
		cmocka_unit_test(test_sign__keygen_sign_verify_and_reject_tampering),
		cmocka_unit_test(test_sign__labels_separate_purposes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
