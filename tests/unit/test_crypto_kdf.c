// SPDX-License-Identifier: Apache-2.0
// Unit tests for HKDF-SHA256 (src/crypto/kdf.c): all Wycheproof vectors
// and RFC 5869 test case 1 for extract and expand separately.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "../support/vectors.h"

static void
test_kdf__hkdf_sha256_wycheproof(void **state)
{
	struct coffer_buf ikm = COFFER_BUF_INIT(1 << 16),
	    salt = COFFER_BUF_INIT(1 << 16), info = COFFER_BUF_INIT(1 << 16),
	    okm = COFFER_BUF_INIT(1 << 16);
	struct vec_tally t;
	json_t *doc = NULL, *g, *tc;
	size_t i, j, too_large = 0;

	(void)state;
	assert_int_equal(vec_load("crypto/hkdf_sha256_test.json", &doc), 0);
	vec_tally_init(&t, "hkdf_sha256_test.json");
	json_array_foreach(json_object_get(doc, "testGroups"), i, g) {
		json_array_foreach(json_object_get(g, "tests"), j, tc) {
			long long id = vec_int(tc, "tcId"), size = vec_int(tc, "size");
			int valid = strcmp(vec_str(tc, "result"), "valid") == 0, r;
			uint8_t *out;

			assert_true(size >= 0);
			assert_int_equal(vec_hex(tc, "ikm", &ikm), 0);
			assert_int_equal(vec_hex(tc, "salt", &salt), 0);
			assert_int_equal(vec_hex(tc, "info", &info), 0);
			assert_int_equal(vec_hex(tc, "okm", &okm), 0);
			assert_non_null(out = coffer_malloc((size_t)size));
			vec_ran(&t);
			r = coffer_hkdf_sha256(salt.data, salt.len, ikm.data, ikm.len,
			    info.data, info.len, out, (size_t)size);
			if (valid) {
				if (r != 0)
					vec_fail(&t, id, "failed: %s", coffer_errdetail());
				else if (okm.len != (size_t)size ||
				    memcmp(out, okm.data, okm.len) != 0)
					vec_fail(&t, id, "okm mismatch");
			} else {
				assert_true(vec_has_flag(tc, "SizeTooLarge"));
				too_large++;
				if (r != COFFER_E_INVAL)
					vec_fail(&t, id, "size %lld: returned %d, want "
					    "COFFER_E_INVAL", size, r);
			}
			free(out);
		}
	}
	printf("# hkdf_sha256_test.json: %zu SizeTooLarge tests rejected\n",
	    too_large);
	assert_int_equal(t.total, vec_int(doc, "numberOfTests"));
	assert_int_equal(t.total, 86);
	assert_int_equal(too_large, 3);
	assert_int_equal(vec_report(&t), 0);
	json_decref(doc);
	coffer_buf_release(&ikm);
	coffer_buf_release(&salt);
	coffer_buf_release(&info);
	coffer_buf_release(&okm);
}

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t got;

	assert_int_equal(coffer_hex_decode(s, strlen(s), out, n, &got), 0);
	assert_int_equal(got, n);
}

/* RFC 5869 appendix A.1. */
static void
test_kdf__rfc5869_case1_extract_then_expand(void **state)
{
	uint8_t ikm[22], salt[13], info[10], prk[32], okm[42], want_prk[32],
	    want_okm[42], one[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	unhex("000102030405060708090a0b0c", salt, sizeof(salt));
	unhex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info));
	unhex("077709362c2e32df0ddc3f0dc47bba63"
	    "90b6c73bb50f9c3122ec844ad7c2b3e5", want_prk, sizeof(want_prk));
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	    "34007208d5b887185865", want_okm, sizeof(want_okm));
	assert_int_equal(coffer_hkdf_sha256_extract(salt, sizeof(salt), ikm,
	    sizeof(ikm), prk), 0);
	assert_memory_equal(prk, want_prk, sizeof(prk));
	assert_int_equal(coffer_hkdf_sha256_expand(prk, sizeof(prk), info,
	    sizeof(info), okm, sizeof(okm)), 0);
	assert_memory_equal(okm, want_okm, sizeof(okm));
	assert_int_equal(coffer_hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm),
	    info, sizeof(info), one, sizeof(one)), 0);
	assert_memory_equal(one, want_okm, sizeof(one));
	/* Two expansions from one keying of the PRK: the same each time. */
	{
		struct coffer_hmac *h = NULL;

		assert_int_equal(coffer_hmac_new(&h), 0);
		assert_int_equal(coffer_hmac_key(h, prk, sizeof(prk)), 0);
		for (int i = 0; i < 2; i++) {
			memset(okm, 0, sizeof(okm));
			assert_int_equal(coffer_hkdf_sha256_expand_with(h, info,
			    sizeof(info), okm, sizeof(okm)), 0);
			assert_memory_equal(okm, want_okm, sizeof(okm));
		}
		coffer_hmac_free(h);
	}
}

static void
test_kdf__expand_limits(void **state)
{
	uint8_t prk[32] = { 1 }, *out;

	(void)state;
	assert_non_null(out = coffer_malloc(COFFER_HKDF_SHA256_MAX_OUT + 1));
	assert_int_equal(coffer_hkdf_sha256_expand(prk, sizeof(prk), NULL, 0, out,
	    COFFER_HKDF_SHA256_MAX_OUT), 0);
	assert_int_equal(coffer_hkdf_sha256_expand(prk, sizeof(prk), NULL, 0, out,
	    COFFER_HKDF_SHA256_MAX_OUT + 1), COFFER_E_INVAL);
	assert_non_null(strstr(coffer_errdetail(), "255"));
	assert_int_equal(coffer_hkdf_sha256_expand(prk, sizeof(prk), NULL, 0, out,
	    0), 0);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdf__hkdf_sha256_wycheproof),
		cmocka_unit_test(test_kdf__rfc5869_case1_extract_then_expand),
		cmocka_unit_test(test_kdf__expand_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
