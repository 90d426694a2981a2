// SPDX-License-Identifier: Apache-2.0
// Unit tests for X25519 (src/crypto/dh.c): every Wycheproof vector. Valid
// and acceptable tests give the stated shared secret, except those whose
// shared secret is all zero, which Coffer's policy rejects (RFC 9180
// section 7.1.4), and coffer_dh_check_public's list of small-order keys
// agrees with each; RFC 7748 section 6.1 Diffie-Hellman example.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "lib/enc.h"
#include "../support/vectors.h"

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void
test_dh__x25519_wycheproof(void **state)
{
	struct vec_tally t;
	json_t *doc = NULL, *g, *tc;
	size_t i, j, zero = 0, acceptable = 0;

	(void)state;
	assert_int_equal(vec_load("crypto/x25519_test.json", &doc), 0);
	vec_tally_init(&t, "x25519_test.json");
	json_array_foreach(json_object_get(doc, "testGroups"), i, g) {
		assert_string_equal(vec_str(g, "curve"), "curve25519");
		json_array_foreach(json_object_get(g, "tests"), j, tc) {
			uint8_t pub[32], priv[32], want[32], got[32];
			long long id = vec_int(tc, "tcId");
			const char *res = vec_str(tc, "result");
			int r;

			assert_int_equal(vec_hex_exact(tc, "public", pub, 32), 0);
			assert_int_equal(vec_hex_exact(tc, "private", priv, 32), 0);
			assert_int_equal(vec_hex_exact(tc, "shared", want, 32), 0);
			/* The file has no "invalid" tests (see its README). */
			assert_true(strcmp(res, "valid") == 0 ||
			    strcmp(res, "acceptable") == 0);
			acceptable += strcmp(res, "acceptable") == 0;
			vec_ran(&t);
			memset(got, 0x55, sizeof(got));
			r = coffer_dh(priv, pub, got);
			if (vec_has_flag(tc, "ZeroSharedSecret")) {
				/* Policy: refused, and the vector agrees it is zero. */
				zero++;
				if (!all_zero(want, 32))
					vec_fail(&t, id, "ZeroSharedSecret test with a "
					    "non-zero shared value");
				if (r != COFFER_E_FORMAT)
					vec_fail(&t, id, "all-zero shared secret accepted "
					    "(returned %d)", r);
				else if (!all_zero(got, 0) && got[0] != 0x55)
					vec_fail(&t, id, "output written on failure");
				/* The list of doc/crypto.md names every one. */
				if (coffer_dh_check_public(pub) != COFFER_E_FORMAT)
					vec_fail(&t, id, "small-order public key not "
					    "in the list");
				continue;
			}
			if (r != 0)
				vec_fail(&t, id, "%s test failed: %s", res,
				    coffer_errdetail());
			else if (memcmp(got, want, 32) != 0)
				vec_fail(&t, id, "shared secret mismatch");
			/* Small-order check agrees with the derivation. */
			if (coffer_dh_check_public(pub) != 0)
				vec_fail(&t, id, "public key wrongly called small-order");
		}
	}
	printf("# x25519_test.json: %zu acceptable tests; %zu with an all-zero "
	    "shared secret rejected by policy (RFC 9180 7.1.4)\n", acceptable,
	    zero);
	assert_int_equal(t.total, vec_int(doc, "numberOfTests"));
	assert_int_equal(zero, 31);
	assert_int_equal(t.skipped, 0);
	assert_int_equal(vec_report(&t), 0);
	json_decref(doc);
}

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t got;

	assert_int_equal(coffer_hex_decode(s, strlen(s), out, n, &got), 0);
	assert_int_equal(got, n);
}

/* RFC 7748 section 6.1: Alice and Bob. */
static void
test_dh__rfc7748_alice_and_bob(void **state)
{
	uint8_t a[32], b[32], apk[32], bpk[32], want_apk[32], want_bpk[32],
	    k1[32], k2[32], want[32];

	(void)state;
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    a, 32);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    want_apk, 32);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    b, 32);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	    want_bpk, 32);
	unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	    want, 32);
	assert_int_equal(coffer_dh_public(a, apk), 0);
	assert_memory_equal(apk, want_apk, 32);
	assert_int_equal(coffer_dh_public(b, bpk), 0);
	assert_memory_equal(bpk, want_bpk, 32);
	assert_int_equal(coffer_dh(a, bpk, k1), 0);
	assert_int_equal(coffer_dh(b, apk, k2), 0);
	assert_memory_equal(k1, want, 32);
	assert_memory_equal(k2, want, 32);
}

static void
test_dh__keygen_agrees_and_small_order_rejected(void **state)
{
	uint8_t a[32], apk[32], b[32], bpk[32], k1[32], k2[32], zero[32] = { 0 },
	    one[32] = { 1 };

	(void)state;
	assert_int_equal(coffer_dh_keygen(a, apk), 0);
	assert_int_equal(coffer_dh_keygen(b, bpk), 0);
	assert_int_equal(coffer_dh(a, bpk, k1), 0);
	assert_int_equal(coffer_dh(b, apk, k2), 0);
	assert_memory_equal(k1, k2, 32);
	assert_int_equal(coffer_dh_check_public(apk), 0);
	assert_int_equal(coffer_dh(a, zero, k1), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "small order"));
	assert_int_equal(coffer_dh_check_public(zero), COFFER_E_FORMAT);
	assert_int_equal(coffer_dh_check_public(one), COFFER_E_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dh__x25519_wycheproof),
		cmocka_unit_test(test_dh__rfc7748_alice_and_bob),
		cmocka_unit_test(test_dh__keygen_agrees_and_small_order_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
