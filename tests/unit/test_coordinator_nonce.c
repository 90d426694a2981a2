// SPDX-License-Identifier: Apache-2.0
// Unit tests for key-release nonces (src/coordinator/nonce.c): accepted
// once within their lifetime, refused by name when replayed, expired,
// forged or from another process; bounded memory.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "coordinator/nonce.h"

static void
test_nonce__is_taken_once(void **state)
{
	struct coord_nonces *n = NULL;
	uint8_t a[COORD_NONCE_LEN], b[COORD_NONCE_LEN];

	(void)state;
	assert_int_equal(coord_nonces_new(1000, 16, &n), 0);
	assert_int_equal(coord_nonce_issue(n, 5000, a), 0);
	assert_int_equal(coord_nonce_issue(n, 5000, b), 0);
	assert_memory_not_equal(a, b, COORD_NONCE_LEN);
	assert_int_equal(coord_nonces_used(n), 0);
	assert_int_equal(coord_nonce_take(n, 5100, a), 0);
	assert_int_equal(coord_nonce_take(n, 5200, a), COFFER_E_STATE);
	assert_non_null(strstr(coffer_errdetail(), "nonce.replayed"));
	assert_int_equal(coord_nonce_take(n, 5200, b), 0);
	assert_int_equal(coord_nonces_used(n), 2);
	coord_nonces_free(n);
}

static void
test_nonce__expires_after_its_lifetime(void **state)
{
	struct coord_nonces *n = NULL;
	uint8_t a[COORD_NONCE_LEN], b[COORD_NONCE_LEN];

	(void)state;
	assert_int_equal(coord_nonces_new(1000, 16, &n), 0);
	assert_int_equal(coord_nonce_issue(n, 5000, a), 0);
	assert_int_equal(coord_nonce_issue(n, 5000, b), 0);
	assert_int_equal(coord_nonce_take(n, 6000, a), COFFER_E_EXPIRED);
	assert_non_null(strstr(coffer_errdetail(), "nonce.expired"));
	assert_int_equal(coord_nonce_take(n, 5999, b), 0);
	/* A clock before the issue time is no excuse either. */
	assert_int_equal(coord_nonce_issue(n, 9000, a), 0);
	assert_int_equal(coord_nonce_take(n, 8000, a), COFFER_E_EXPIRED);
	coord_nonces_free(n);
}

static void
test_nonce__refuses_forged_and_foreign(void **state)
{
	struct coord_nonces *n = NULL, *other = NULL;
	uint8_t a[COORD_NONCE_LEN];

	(void)state;
	assert_int_equal(coord_nonces_new(1000, 16, &n), 0);
	assert_int_equal(coord_nonces_new(1000, 16, &other), 0);
	assert_int_equal(coord_nonce_issue(other, 5000, a), 0);
	assert_int_equal(coord_nonce_take(n, 5001, a), COFFER_E_AUTH);
	assert_non_null(strstr(coffer_errdetail(), "nonce.unknown"));
	assert_int_equal(coord_nonce_issue(n, 5000, a), 0);
	/* Every byte counts: a younger issue time, other random bytes, tag. */
	for (size_t i = 0; i < COORD_NONCE_LEN; i++) {
		a[i] ^= 1;
		assert_int_equal(coord_nonce_take(n, 5001, a), COFFER_E_AUTH);
		a[i] ^= 1;
	}
	assert_int_equal(coord_nonce_take(n, 5001, a), 0);
	coord_nonces_free(n);
	coord_nonces_free(other);
}

static void
test_nonce__memory_is_bounded_and_swept(void **state)
{
	struct coord_nonces *n = NULL;
	uint8_t a[COORD_NONCE_LEN];

	(void)state;
	assert_int_equal(coord_nonces_new(1000, 3000, &n), 0);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(coord_nonce_issue(n, 5000, a), 0);
		assert_int_equal(coord_nonce_take(n, 5000, a), 0);
	}
	assert_int_equal(coord_nonces_used(n), 3000);
	assert_int_equal(coord_nonce_issue(n, 5500, a), 0);
	assert_int_equal(coord_nonce_take(n, 5500, a), COFFER_E_BUSY);
	/* Once the first ones expired, a full table sweeps itself. */
	assert_int_equal(coord_nonce_issue(n, 6000, a), 0);
	assert_int_equal(coord_nonce_take(n, 6000, a), 0);
	assert_int_equal(coord_nonces_used(n), 1);
	coord_nonces_sweep(n, 7000);
	assert_int_equal(coord_nonces_used(n), 0);
	coord_nonces_free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nonce__is_taken_once),
		cmocka_unit_test(test_nonce__expires_after_its_lifetime),
		cmocka_unit_test(test_nonce__refuses_forged_and_foreign),
		cmocka_unit_test(test_nonce__memory_is_bounded_and_swept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
