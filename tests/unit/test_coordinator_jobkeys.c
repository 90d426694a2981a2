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

static uint8_t root[32], pol[32], wpk[32];

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++)
		root[i] = (uint8_t)i;
	memset(pol, 0xaa, sizeof(pol));
	memset(wpk, 0x11, sizeof(wpk));
	return 0;
}

static void
expect(enum coord_jobkey kind, const char *job, const uint8_t *w,
    const char *hex)
{
	uint8_t k[32];
	char got[65];

	assert_int_equal(coord_jobkey_derive(root, kind, pol, job,
	    job ? strlen(job) : 0, w, k), 0);
	coffer_hex_encode(k, 32, got);
	assert_string_equal(got, hex);
}

/* /usr/bin/python3: HKDF(SHA256, 32, salt=b'coffer/coordinator-keys/v1',
 * info=label + b'\0' + policy + context).derive(root) */
static void
test_jobkeys__match_an_independent_implementation(void **state)
{
	(void)state;
	expect(COORD_KEY_OUTPUT, "job-1", NULL,
	    "47c2c8b8150e2928e57bd07ea4be5f49a39415332ee4cfd6c2bbc2ea88c815a5");
	expect(COORD_KEY_INTERMEDIATE, "job-1", NULL,
	    "a0cb96910782b423944e44e8112a329b2ddc4eb5e788cfc11658aeb0b712bb2e");
	expect(COORD_KEY_PROOF, "job-1", wpk,
	    "f3bdc2ee95d6fd3b6aa65608d3f3dbef681bf7d2ba5d90eff89c6cbad554e03c");
	expect(COORD_KEY_APP_SECRET, NULL, NULL,
	    "ceefe6a3b198cc4d48ca34e00fa4ba114cecb71133c9ee261a436c54deb83656");
}

static void
test_jobkeys__separate_jobs_policies_and_workers(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, "j1", 2,
	    NULL, a), 0);
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, "j2", 2,
	    NULL, b), 0);
	assert_memory_not_equal(a, b, 32);
	pol[0] ^= 1;
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, "j1", 2,
	    NULL, b), 0);
	pol[0] ^= 1;
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_PROOF, pol, "j1", 2,
	    wpk, a), 0);
	wpk[31] ^= 1;
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_PROOF, pol, "j1", 2,
	    wpk, b), 0);
	wpk[31] ^= 1;
	assert_memory_not_equal(a, b, 32);
}

static void
test_jobkeys__refuse_missing_or_extra_inputs(void **state)
{
	uint8_t k[32];
	char big[COORD_JOB_ID_MAX + 2];

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, "", 0,
	    NULL, k), COFFER_E_INVAL);
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, big,
	    COORD_JOB_ID_MAX + 1, NULL, k), COFFER_E_INVAL);
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_PROOF, pol, "j", 1,
	    NULL, k), COFFER_E_INVAL);
	assert_int_equal(coord_jobkey_derive(root, COORD_KEY_OUTPUT, pol, "j", 1,
	    wpk, k), COFFER_E_INVAL);
	assert_int_equal(coord_jobkey_derive(root, 99, pol, "j", 1, NULL, k),
	    COFFER_E_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobkeys__match_an_independent_implementation),
		cmocka_unit_test(test_jobkeys__separate_jobs_policies_and_workers),
		cmocka_unit_test(test_jobkeys__refuse_missing_or_extra_inputs),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
