// SPDX-License-Identifier: Apache-2.0
// Unit tests for Shamir's secret sharing (src/crypto/shamir.c) against the
// independent vectors of tests/vectors/state/shamir.json (log/exp-table
// arithmetic in Python), and every k-subset of random splits.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/shamir.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "../support/vectors.h"

static void
test_shamir__matches_the_vectors(void **state)
{
	uint8_t secret[32], got[32], shares[32][32], want[32][32];
	uint8_t xs[32], ys[32][32];
	struct coffer_buf coeffs = COFFER_BUF_INIT(4096), b = COFFER_BUF_INIT(4096);
	struct vec_tally t;
	json_t *root = NULL, *v, *c, *xa, *sh;
	size_t i, j, m;

	(void)state;
	assert_int_equal(vec_load("state/shamir.json", &root), 0);
	vec_tally_init(&t, "state/shamir.json");
	json_array_foreach(json_object_get(root, "tests"), i, v) {
		unsigned k = (unsigned)vec_int(v, "k"), n = (unsigned)vec_int(v, "n");

		assert_int_equal(vec_hex_exact(v, "secret", secret, 32), 0);
		assert_int_equal(vec_hex(v, "coeffs", &coeffs), 0);
		assert_int_equal(coeffs.len, 32 * (k - 1));
		json_array_foreach(json_object_get(v, "shares"), j, sh) {
			const char *hx = json_string_value(sh);
			size_t got_n = 0;

			assert_int_equal(coffer_hex_decode(hx, strlen(hx), want[j], 32,
			    &got_n), 0);
			assert_int_equal(got_n, 32);
		}
		assert_int_equal(coffer_shamir_split_with(secret, k, n, coeffs.data,
		    shares), 0);
		for (j = 0; j < n; j++)
			if (memcmp(shares[j], want[j], 32) != 0)
				vec_fail(&t, (long long)i, "share %zu differs", j + 1);
		json_array_foreach(json_object_get(v, "combine"), j, c) {
			json_array_foreach(json_object_get(c, "x"), m, xa) {
				xs[m] = (uint8_t)json_integer_value(xa);
				memcpy(ys[m], want[xs[m] - 1], 32);
			}
			assert_int_equal(coffer_shamir_combine(xs, (const uint8_t (*)[32])ys,
			    (unsigned)m, got), 0);
			if (memcmp(got, secret, 32) != 0)
				vec_fail(&t, (long long)i, "combine %zu differs", j);
		}
		if ((c = json_object_get(v, "fewer_than_k")) != NULL && !json_is_null(c)) {
			json_array_foreach(json_object_get(c, "x"), m, xa) {
				xs[m] = (uint8_t)json_integer_value(xa);
				memcpy(ys[m], want[xs[m] - 1], 32);
			}
			assert_int_equal(vec_hex_exact(c, "result", secret, 32), 0);
			assert_int_equal(coffer_shamir_combine(xs, (const uint8_t (*)[32])ys,
			    (unsigned)m, got), 0);
			if (memcmp(got, secret, 32) != 0)
				vec_fail(&t, (long long)i, "k-1 combination differs");
		}
		vec_ran(&t);
	}
	assert_int_equal(t.ran, 8);
	assert_int_equal(vec_report(&t), 0);
	coffer_buf_release(&coeffs);
	coffer_buf_release(&b);
	json_decref(root);
}

/* Every subset of exactly k shares gives the secret back; k - 1 do not. */
static void
test_shamir__every_k_subset_rebuilds_and_fewer_do_not(void **state)
{
	uint8_t secret[32], shares[8][32], got[32], xs[8], ys[8][32];

	(void)state;
	for (unsigned n = 1; n <= 8; n++)
		for (unsigned k = 1; k <= n; k++) {
			for (unsigned b = 0; b < 32; b++)
				secret[b] = (uint8_t)(n * 31 + k * 7 + b);
			assert_int_equal(coffer_shamir_split(secret, k, n, shares), 0);
			for (unsigned mask = 1; mask < (1u << n); mask++) {
				unsigned m = 0;

				for (unsigned i = 0; i < n; i++)
					if (mask & (1u << i)) {
						xs[m] = (uint8_t)(i + 1);
						memcpy(ys[m++], shares[i], 32);
					}
				if (m != k && m != k - 1)
					continue;
				if (m == 0)
					continue;
				assert_int_equal(coffer_shamir_combine(xs,
				    (const uint8_t (*)[32])ys, m, got), 0);
				if (m == k)
					assert_memory_equal(got, secret, 32);
				else
					assert_memory_not_equal(got, secret, 32);
			}
		}
}

static void
test_shamir__refuses_bad_parameters(void **state)
{
	uint8_t secret[32] = { 1 }, shares[33][32], got[32];
	uint8_t xs[3] = { 1, 2, 1 }, ys[3][32] = { { 0 } };

	(void)state;
	assert_int_equal(coffer_shamir_split(secret, 0, 3, shares), COFFER_E_INVAL);
	assert_int_equal(coffer_shamir_split(secret, 4, 3, shares), COFFER_E_INVAL);
	assert_int_equal(coffer_shamir_split(secret, 2, 33, shares), COFFER_E_INVAL);
	assert_int_equal(coffer_shamir_combine(xs, (const uint8_t (*)[32])ys, 3, got),
	    COFFER_E_INVAL);
	xs[2] = 0;
	assert_int_equal(coffer_shamir_combine(xs, (const uint8_t (*)[32])ys, 3, got),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_shamir_combine(xs, (const uint8_t (*)[32])ys, 0, got),
	    COFFER_E_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shamir__matches_the_vectors),
		cmocka_unit_test(test_shamir__every_k_subset_rebuilds_and_fewer_do_not),
		cmocka_unit_test(test_shamir__refuses_bad_parameters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
