// SPDX-License-Identifier: Apache-2.0
// Unit tests for page sealing (src/crypto/pagecrypt.c) against the
// independent vectors of tests/vectors/state/sealed-state.json, and its
// refusals: another page number, another state, any changed byte.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/pagecrypt.h"
#include "lib/mem.h"
#include "../support/vectors.h"

#define P 4096

/* gen.py's page_text(): "name " repeated, zero padded to P bytes. */
static void
page_text(const char *name, uint8_t *out)
{
	size_t l = strlen(name) + 1, n = P / l, i;

	memset(out, 0, P);
	for (i = 0; i < n; i++) {
		memcpy(out + i * l, name, l - 1);
		out[i * l + l - 1] = ' ';
	}
}

static void
load_keys(json_t **root, struct coffer_pagecrypt *pc)
{
	uint8_t key[32], sid[16];
	json_t *keys;

	assert_int_equal(vec_load("state/sealed-state.json", root), 0);
	keys = json_object_get(*root, "keys");
	assert_non_null(keys);
	assert_int_equal(vec_hex_exact(keys, "state_key", key, 32), 0);
	assert_int_equal(vec_hex_exact(keys, "state_id", sid, 16), 0);
	assert_int_equal(coffer_pagecrypt_init(pc, key, sid), 0);
}

static void
test_pagecrypt__keys_match_the_vectors(void **state)
{
	struct coffer_pagecrypt pc;
	uint8_t want[32], check[32];
	json_t *root = NULL, *keys;

	(void)state;
	load_keys(&root, &pc);
	keys = json_object_get(root, "keys");
	assert_int_equal(vec_hex_exact(keys, "k_page", want, 32), 0);
	assert_memory_equal(pc.page_key, want, 32);
	assert_int_equal(vec_hex_exact(keys, "k_mac", want, 32), 0);
	assert_memory_equal(pc.mac_key, want, 32);
	assert_int_equal(vec_hex_exact(keys, "key_check", want, 32), 0);
	assert_int_equal(coffer_pagecrypt_key_check(&pc, check), 0);
	assert_memory_equal(check, want, 32);
	coffer_pagecrypt_wipe(&pc);
	json_decref(root);
}

static void
test_pagecrypt__pages_match_the_vectors(void **state)
{
	struct coffer_pagecrypt pc;
	struct vec_tally t;
	uint8_t salt[16], pt[P], got[P], slot[32 + P], want[32 + P], h[32], wh[32];
	json_t *root = NULL, *v;
	size_t i;

	(void)state;
	load_keys(&root, &pc);
	vec_tally_init(&t, "state/sealed-state.json pages");
	json_array_foreach(json_object_get(root, "pages"), i, v) {
		uint64_t pgno = (uint64_t)json_integer_value(json_object_get(v, "pgno"));

		assert_int_equal(vec_hex_exact(v, "salt", salt, 16), 0);
		assert_int_equal(vec_hex_exact(v, "slot", want, sizeof(want)), 0);
		assert_int_equal(vec_hex_exact(v, "pt_sha256", wh, 32), 0);
		page_text(vec_str(v, "pt_name"), pt);
		assert_int_equal(coffer_sha256(pt, P, h), 0);
		assert_memory_equal(h, wh, 32);
		assert_int_equal(coffer_pagecrypt_seal_salted(&pc, pgno, salt, pt, P,
		    slot), 0);
		if (memcmp(slot, want, sizeof(slot)) != 0)
			vec_fail(&t, (long long)i, "sealed slot differs");
		assert_int_equal(coffer_pagecrypt_open(&pc, pgno, want, P, got), 0);
		if (memcmp(got, pt, P) != 0)
			vec_fail(&t, (long long)i, "opened page differs");
		vec_ran(&t);
	}
	assert_int_equal(t.ran, 4);
	assert_int_equal(vec_report(&t), 0);
	coffer_pagecrypt_wipe(&pc);
	json_decref(root);
}

static void
test_pagecrypt__refuses_another_page_state_or_any_changed_byte(void **state)
{
	struct coffer_pagecrypt pc, other;
	uint8_t key[32] = { 1 }, sid[16] = { 2 }, sid2[16] = { 3 };
	uint8_t pt[P], got[P], slot[32 + P];
	const size_t where[] = { 0, 15, 16, 31, 32, 100, 32 + P - 1 };

	(void)state;
	memset(pt, 'x', sizeof(pt));
	assert_int_equal(coffer_pagecrypt_init(&pc, key, sid), 0);
	assert_int_equal(coffer_pagecrypt_init(&other, key, sid2), 0);
	assert_int_equal(coffer_pagecrypt_seal(&pc, 7, pt, P, slot), 0);
	assert_int_equal(coffer_pagecrypt_open(&pc, 7, slot, P, got), 0);
	assert_memory_equal(got, pt, P);
	assert_int_equal(coffer_pagecrypt_open(&pc, 8, slot, P, got), COFFER_E_AUTH);
	assert_int_equal(coffer_pagecrypt_open(&other, 7, slot, P, got), COFFER_E_AUTH);
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		slot[where[i]] ^= 0x01;
		memset(got, 0x55, sizeof(got));
		assert_int_equal(coffer_pagecrypt_open(&pc, 7, slot, P, got),
		    COFFER_E_AUTH);
		/* Nothing of the page is left behind. */
		for (size_t j = 0; j < P; j++)
			assert_int_equal(got[j], 0);
		slot[where[i]] ^= 0x01;
	}
	/* The contexts are kept from call to call (round six): a refused
	 * page leaves them fit for the next, whose key is its own. */
	assert_int_equal(coffer_pagecrypt_open(&pc, 7, slot, P, got), 0);
	assert_memory_equal(got, pt, P);
	assert_int_equal(coffer_pagecrypt_open(&other, 7, slot, P, got), COFFER_E_AUTH);
	assert_int_equal(coffer_pagecrypt_seal(&other, 7, pt, P, slot), 0);
	assert_int_equal(coffer_pagecrypt_open(&other, 7, slot, P, got), 0);
	assert_memory_equal(got, pt, P);
	coffer_pagecrypt_wipe(&pc);
	coffer_pagecrypt_wipe(&other);
}

static void
test_pagecrypt__every_write_takes_a_new_salt(void **state)
{
	struct coffer_pagecrypt pc;
	uint8_t key[32] = { 1 }, sid[16] = { 2 }, pt[P] = { 0 };
	uint8_t a[32 + P], b[32 + P];

	(void)state;
	assert_int_equal(coffer_pagecrypt_init(&pc, key, sid), 0);
	assert_int_equal(coffer_pagecrypt_seal(&pc, 1, pt, P, a), 0);
	assert_int_equal(coffer_pagecrypt_seal(&pc, 1, pt, P, b), 0);
	assert_memory_not_equal(a, b, 16);
	assert_memory_not_equal(a + 32, b + 32, P);
	assert_int_equal(coffer_pagecrypt_seal(&pc, 1, pt, 0, a), COFFER_E_INVAL);
	coffer_pagecrypt_wipe(&pc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pagecrypt__keys_match_the_vectors),
		cmocka_unit_test(test_pagecrypt__pages_match_the_vectors),
		cmocka_unit_test(test_pagecrypt__refuses_another_page_state_or_any_changed_byte),
		cmocka_unit_test(test_pagecrypt__every_write_takes_a_new_salt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
