// SPDX-License-Identifier: Apache-2.0
// state.key (src/coordinator/statekey.c): every vector of the independent
// generator opens or is refused by its rule K1 to K7, with the message a
// coordinator shows; a new state makes its key once and finds it again.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "coordinator/statekey.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "../support/tmpdir.h"
#include "../support/vectors.h"

static int
err_of(const char *name)
{
	if (strcmp(name, "AUTH") == 0) return COFFER_E_AUTH;
	if (strcmp(name, "FORMAT") == 0) return COFFER_E_FORMAT;
	if (strcmp(name, "TRUNCATED") == 0) return COFFER_E_TRUNCATED;
	if (strcmp(name, "VERSION") == 0) return COFFER_E_VERSION;
	if (strcmp(name, "WRONG_KEY") == 0) return COFFER_E_WRONG_KEY;
	fail_msg("unknown error %s", name);
	return 0;
}

static void
test_statekey__opens_or_refuses_every_vector_by_its_rule(void **state)
{
	struct coffer_buf f = COFFER_BUF_INIT(1024);
	uint8_t want_key[32], want_id[16], key[32], id[16];
	struct coffer_tee_sealing s;
	json_t *root = NULL, *v, *c, *rd;
	struct vec_tally t;
	size_t i;
	int r;

	(void)state;
	assert_int_equal(vec_load("state/sealed-state.json", &root), 0);
	v = json_object_get(root, "state_key_file");
	assert_int_equal(vec_hex_exact(v, "state_key", want_key, 32), 0);
	assert_int_equal(vec_hex_exact(v, "state_id", want_id, 16), 0);
	vec_tally_init(&t, "state/sealed-state.json state_key_file");
	json_array_foreach(json_object_get(v, "cases"), i, c) {
		rd = json_object_get(c, "reader");
		memset(&s, 0, sizeof(s));
		s.backend = (enum coffer_tee_backend)vec_int(rd, "backend");
		assert_int_equal(vec_hex_exact(rd, "sealing_key", s.key, 32), 0);
		assert_int_equal(vec_hex_exact(rd, "measurement", s.measurement, 48), 0);
		assert_int_equal(vec_hex_exact(rd, "platform", s.platform, 32), 0);
		assert_int_equal(vec_hex(c, "file", &f), 0);
		r = statekey_open(f.data, f.len, &s, id, key);
		if (json_object_get(c, "error") == NULL) {
			if (r != 0 || memcmp(key, want_key, 32) != 0 ||
			    memcmp(id, want_id, 16) != 0)
				vec_fail(&t, (long long)i, "%s: %s", vec_str(c, "name"),
				    coffer_errdetail());
		} else if (r != err_of(vec_str(c, "error"))) {
			vec_fail(&t, (long long)i, "%s (%s): got %s: %s", vec_str(c, "name"),
			    vec_str(c, "rule"), coffer_strerror(r), coffer_errdetail());
		} else if (r == COFFER_E_WRONG_KEY) {
			/* Every refusal of another platform says how to recover. */
			assert_non_null(strstr(coffer_errdetail(), "--recover"));
			assert_non_null(strstr(coffer_errdetail(), vec_str(c, "rule")));
		}
		vec_ran(&t);
	}
	assert_int_equal(t.ran, 13);
	assert_int_equal(vec_report(&t), 0);
	coffer_buf_release(&f);
	json_decref(root);
}

static void
test_statekey__a_new_state_seals_its_key_once(void **state)
{
	uint8_t k1[32], k2[32], id1[16], id2[16], f[STATEKEY_LEN];
	struct coffer_tee_sealing s, other;
	char dir[64], path[100];
	int created;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.backend = COFFER_TEE_BACKEND_SIM;
	s.key[0] = 1;
	s.measurement[0] = 2;
	other = s;
	other.measurement[0] = 3;
	assert_int_equal(test_tmpdir("statekey", dir, sizeof(dir)), 0);
	assert_int_equal(statekey_load(dir, &s, id1, k1, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(statekey_load(dir, &s, id2, k2, &created), 0);
	assert_int_equal(created, 0);
	assert_memory_equal(k1, k2, 32);
	assert_memory_equal(id1, id2, 16);
	/* Another build is told which measurements differ. */
	assert_int_equal(statekey_load(dir, &other, id2, k2, &created),
	    COFFER_E_WRONG_KEY);
	assert_non_null(strstr(coffer_errdetail(), "another build"));
	/* After a recovery, the key is sealed to the new platform. */
	assert_int_equal(statekey_store(dir, &other, id1, k1, 0), 0);
	assert_int_equal(statekey_load(dir, &other, id2, k2, &created), 0);
	assert_memory_equal(k1, k2, 32);
	assert_int_equal(statekey_peek(f, 10, id2), COFFER_E_TRUNCATED);
	/* A state without its key file is not silently made anew. */
	snprintf(path, sizeof(path), "%s/state.key", dir);
	assert_int_equal(remove(path), 0);
	snprintf(path, sizeof(path), "%s/state.log", dir);
	assert_int_equal(coffer_file_write_atomic(path, "x", 1, 0600, 1), 0);
	assert_int_equal(statekey_load(dir, &s, id2, k2, &created), COFFER_E_NOTFOUND);
	assert_non_null(strstr(coffer_errdetail(), "--recover"));
	assert_int_equal(test_rm_rf(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statekey__opens_or_refuses_every_vector_by_its_rule),
		cmocka_unit_test(test_statekey__a_new_state_seals_its_key_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
