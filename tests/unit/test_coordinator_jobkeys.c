// SPDX-License-Identifier: Apache-2.0
// Unit tests for per-job key derivation (src/coordinator/jobkeys.c):
// answers computed independently with Python's cryptography (HKDF-SHA256
// with the documented salt and info), and separation of every input.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "coordinator/jobkeys.h"
#include "lib/enc.h"

static uint8_t root[32], pol[32], job[16];

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++)
		root[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++)
		job[i] = (uint8_t)i;
	memset(pol, 0xaa, sizeof(pol));
	return 0;
}

static void
expect(enum coord_jobkey kind, const void *ctx, size_t len, const char *hex)
{
	uint8_t k[32];
	char got[65];

	assert_int_equal(coord_jobkey_derive(root, kind, pol, ctx, len, k), 0);
	coffer_hex_encode(k, 32, got);
	assert_string_equal(got, hex);
}

/* /usr/bin/python3: HKDF(SHA256, 32, salt=b'coffer/coordinator-keys/v1',
 * info=label + b'\0' + policy + context).derive(root) */
static void
test_jobkeys__match_an_independent_implementation(void **state)
{
	(void)state;
	expect(COORD_KEY_OUTPUT, job, 16,
	    "34f8c823dd8c65e63e6e088a6faed1772625be1de208c927c06aefbb8a4c9a4b");
	expect(COORD_KEY_INTERMEDIATE, job, 16,
	    "f88519c5ee6061000fbe148757998cad9f338e7f629e4d692290a0aacd241903");
	expect(COORD_KEY_APP_SECRET, "pooled-stats", 12,
	    "0a4edae06bc1b3b93d42af158d2fc1d15716a2e3055dde21761412d483f6852b");
}

static void
test_jobkeys__separate_jobs_policies_and_purposes(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, "j1", 2,
	    a), 0);
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, "j2", 2,
	    b), 0);
	assert_memory_not_equal(a, b, 32);
	pol[0] ^= 1;
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, "j1", 2,
	    b), 0);
	pol[0] ^= 1;
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_INTERMEDIATE, pol,
	    "j1", 2, b), 0);
	assert_memory_not_equal(a, b, 32);
}

static void
test_jobkeys__refuse_missing_or_long_context(void **state)
{
	uint8_t k[32];
	char big[COORD_JOB_ID_MAX + 2];

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, "", 0,
	    k), COFFER_E_INVAL);
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, big,
	    COORD_JOB_ID_MAX + 1, k), COFFER_E_INVAL);
	assert_int_equal(coord_jobkey_derive(root, 99, pol, "j", 1, k),
	    COFFER_E_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobkeys__match_an_independent_implementation),
		cmocka_unit_test(test_jobkeys__separate_jobs_policies_and_purposes),
		cmocka_unit_test(test_jobkeys__refuse_missing_or_long_context),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
