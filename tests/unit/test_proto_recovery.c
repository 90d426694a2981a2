// SPDX-License-Identifier: Apache-2.0
// Recovery of the state key (src/proto/recovery.c) against the independent
// vectors of tests/vectors/state/recovery.json: the record and every
// invalid one by its rule, each owner's share, the submissions to a
// recovering coordinator and every refused one, the rebuild from k shares
// and its refusal with fewer; then a record made here, end to end.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/pagecrypt.h"
#include "lib/enc.h"
#include "proto/recovery.h"
#include "../support/vectors.h"

static json_t *root;

static int
setup(void **state)
{
	(void)state;
	return vec_load("state/recovery.json", &root) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(root);
	return 0;
}

/* Identity i of the vectors: 0 the coordinator, 1-3 the keepers, 4 an
 * outsider. */
static void
identity(size_t i, struct coffer_identity *id)
{
	json_t *v = json_array_get(json_object_get(root, "identities"), i);
	const char *line = vec_str(v, "line");

	assert_non_null(v);
	memset(id, 0, sizeof(*id));
	assert_int_equal(coffer_identity_parse_public(line, strlen(line), &id->pub), 0);
	assert_int_equal(vec_hex_exact(v, "ed25519_seed", id->sign_sk, 32), 0);
	assert_int_equal(vec_hex_exact(v, "x25519_secret", id->kx_sk, 32), 0);
}

static void
load_record(const char *field, struct coffer_recovery_record *rec)
{
	const char *text = vec_str(root, field);

	assert_int_equal(coffer_recovery_parse(text, strlen(text), rec), 0);
}

static int
err_of(const char *name)
{
	if (strcmp(name, "FORMAT") == 0) return COFFER_E_FORMAT;
	if (strcmp(name, "VERSION") == 0) return COFFER_E_VERSION;
	if (strcmp(name, "SIGNATURE") == 0) return COFFER_E_SIGNATURE;
	if (strcmp(name, "NOTFOUND") == 0) return COFFER_E_NOTFOUND;
	if (strcmp(name, "AUTH") == 0) return COFFER_E_AUTH;
	fail_msg("unknown error %s", name);
	return 0;
}

static void
test_recovery__record_and_every_owners_share(void **state)
{
	struct coffer_recovery_record rec;
	struct coffer_identity me;
	uint8_t y[32], want[32], sid[16];
	unsigned x;

	(void)state;
	load_record("record", &rec);
	assert_int_equal(rec.threshold, 2);
	assert_int_equal(rec.n, 3);
	assert_int_equal(vec_hex_exact(root, "state_id", sid, 16), 0);
	assert_memory_equal(rec.state_id, sid, 16);
	for (size_t i = 1; i <= 3; i++) {
		identity(i, &me);
		assert_int_equal(coffer_recovery_owner_share(&rec, &me, &x, y), 0);
		assert_int_equal(x, i);
		assert_int_equal(coffer_hex_decode(json_string_value(json_array_get(
		    json_object_get(root, "share_values"), i - 1)), 64, want, 32,
		    &(size_t){ 0 }), 0);
		assert_memory_equal(y, want, 32);
		coffer_identity_wipe(&me);
	}
	identity(4, &me);
	assert_int_equal(coffer_recovery_owner_share(&rec, &me, &x, y), COFFER_E_NOTFOUND);
	/* The coordinator itself holds no share either. */
	identity(0, &me);
	assert_int_equal(coffer_recovery_owner_share(&rec, &me, &x, y), COFFER_E_NOTFOUND);
}

static void
test_recovery__every_invalid_record_by_its_rule(void **state)
{
	struct coffer_recovery_record rec;
	struct vec_tally t;
	json_t *c;
	size_t i;
	int r;

	(void)state;
	vec_tally_init(&t, "state/recovery.json invalid_records");
	json_array_foreach(json_object_get(root, "invalid_records"), i, c) {
		const char *text = vec_str(c, "text");

		r = coffer_recovery_parse(text, strlen(text), &rec);
		if (r != err_of(vec_str(c, "error")))
			vec_fail(&t, (long long)i, "%s (%s): got %s: %s", vec_str(c, "note"),
			    vec_str(c, "rule"), coffer_strerror(r), coffer_errdetail());
		vec_ran(&t);
	}
	assert_true(t.ran >= 15);
	assert_int_equal(vec_report(&t), 0);
}

static void
test_recovery__submissions_open_or_are_refused_by_rule(void **state)
{
	struct coffer_recovery_record rec;
	uint8_t sk[32], pk[32], y[32], want[32], rd[64], rdw[64];
	struct vec_tally t;
	unsigned index;
	json_t *c;
	size_t i;
	int r;

	(void)state;
	load_record("record", &rec);
	assert_int_equal(vec_hex_exact(root, "session_secret", sk, 32), 0);
	assert_int_equal(coffer_dh_public(sk, pk), 0);
	assert_int_equal(coffer_recovery_report_data(rec.state_id, pk, rd), 0);
	assert_int_equal(vec_hex_exact(root, "report_data", rdw, 64), 0);
	assert_memory_equal(rd, rdw, 64);
	json_array_foreach(json_object_get(root, "submissions"), i, c) {
		const char *body = vec_str(c, "body");
		long long o = vec_int(c, "owner");

		assert_int_equal(coffer_recovery_submit_open(&rec, body, strlen(body),
		    sk, pk, &index, y), 0);
		assert_int_equal(index, (unsigned)(o - 1));
		assert_int_equal(coffer_hex_decode(json_string_value(json_array_get(
		    json_object_get(root, "share_values"), (size_t)(o - 1))), 64, want,
		    32, &(size_t){ 0 }), 0);
		assert_memory_equal(y, want, 32);
	}
	assert_int_equal(i, 3);
	vec_tally_init(&t, "state/recovery.json invalid_submissions");
	json_array_foreach(json_object_get(root, "invalid_submissions"), i, c) {
		const char *body = vec_str(c, "body");

		r = coffer_recovery_submit_open(&rec, body, strlen(body), sk, pk, &index, y);
		if (r != err_of(vec_str(c, "error")))
			vec_fail(&t, (long long)i, "%s (%s): got %s: %s", vec_str(c, "note"),
			    vec_str(c, "rule"), coffer_strerror(r), coffer_errdetail());
		else if (strcmp(vec_str(c, "rule"), "RS4") == 0)
			assert_non_null(strstr(coffer_errdetail(), "commitment"));
		vec_ran(&t);
	}
	assert_int_equal(t.ran, 7);
	assert_int_equal(vec_report(&t), 0);
}

static void
test_recovery__k_shares_rebuild_the_key_and_fewer_do_not(void **state)
{
	struct coffer_recovery_record rec, other;
	uint8_t xs[3] = { 1, 2, 3 }, ys[3][32], key[32], want[32];

	(void)state;
	load_record("record", &rec);
	load_record("record_other_key_check", &other);
	assert_int_equal(vec_hex_exact(root, "state_key", want, 32), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(coffer_hex_decode(json_string_value(json_array_get(
		    json_object_get(root, "share_values"), i)), 64, ys[i], 32,
		    &(size_t){ 0 }), 0);
	assert_int_equal(coffer_recovery_combine(&rec, xs, (const uint8_t (*)[32])ys,
	    2, key), 0);
	assert_memory_equal(key, want, 32);
	assert_int_equal(coffer_recovery_combine(&rec, xs + 1,
	    (const uint8_t (*)[32])ys + 1, 2, key), 0);
	assert_memory_equal(key, want, 32);
	assert_int_equal(coffer_recovery_combine(&rec, xs, (const uint8_t (*)[32])ys,
	    1, key), COFFER_E_STATE);
	/* A share of another value: the key check says so. */
	ys[1][0] ^= 1;
	assert_int_equal(coffer_recovery_combine(&rec, xs, (const uint8_t (*)[32])ys,
	    2, key), COFFER_E_AUTH);
	ys[1][0] ^= 1;
	assert_int_equal(coffer_recovery_combine(&other, xs, (const uint8_t (*)[32])ys,
	    2, key), COFFER_E_AUTH);
}

/* Made here, with fresh identities: set-up, owner, submission, rebuild. */
static void
test_recovery__a_record_made_here_goes_round(void **state)
{
	struct coffer_identity coord, owners[4];
	struct coffer_identity_public pubs[4];
	struct coffer_recovery_record rec;
	struct coffer_buf env = COFFER_BUF_INIT(65536), body = COFFER_BUF_INIT(4096);
	struct coffer_pagecrypt pc;
	uint8_t key[32] = { 42 }, sid[16] = { 9 }, check[32], sk[32], pk[32];
	uint8_t y[32], got[32], blob[COFFER_RECOVERY_WRAPPED_LEN], xs[4], ys[4][32];
	unsigned x, index;

	(void)state;
	assert_int_equal(coffer_identity_generate("coordinator", &coord), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(coffer_identity_generate("keeper", &owners[i]), 0);
		pubs[i] = owners[i].pub;
	}
	assert_int_equal(coffer_pagecrypt_init(&pc, key, sid), 0);
	assert_int_equal(coffer_pagecrypt_key_check(&pc, check), 0);
	assert_int_equal(coffer_recovery_make(&coord, sid, key, check, 3, pubs, 4,
	    &env), 0);
	assert_int_equal(coffer_recovery_parse((const char *)env.data, env.len, &rec), 0);
	assert_int_equal(coffer_dh_keygen(sk, pk), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(coffer_recovery_owner_share(&rec, &owners[i + 1], &x, y), 0);
		assert_int_equal(coffer_recovery_submit_wrap(&rec, &owners[i + 1], x, y,
		    pk, blob), 0);
		coffer_buf_reset(&body);
		assert_int_equal(coffer_recovery_submit_json(&owners[i + 1].pub, x, blob,
		    &body), 0);
		assert_int_equal(coffer_recovery_submit_open(&rec, (const char *)body.data,
		    body.len, sk, pk, &index, got), 0);
		assert_int_equal(index, i + 1);
		xs[i] = (uint8_t)x;
		memcpy(ys[i], got, 32);
	}
	assert_int_equal(coffer_recovery_combine(&rec, xs, (const uint8_t (*)[32])ys,
	    2, got), COFFER_E_STATE);
	assert_int_equal(coffer_recovery_combine(&rec, xs, (const uint8_t (*)[32])ys,
	    3, got), 0);
	assert_memory_equal(got, key, 32);
	/* Set-up refusals: an owner twice, a threshold above n. */
	pubs[3] = pubs[0];
	coffer_buf_reset(&env);
	assert_int_equal(coffer_recovery_make(&coord, sid, key, check, 2, pubs, 4,
	    &env), COFFER_E_INVAL);
	assert_int_equal(coffer_recovery_make(&coord, sid, key, check, 4, pubs, 3,
	    &env), COFFER_E_INVAL);
	coffer_pagecrypt_wipe(&pc);
	coffer_identity_wipe(&coord);
	for (int i = 0; i < 4; i++)
		coffer_identity_wipe(&owners[i]);
	coffer_buf_release(&env);
	coffer_buf_release(&body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recovery__record_and_every_owners_share),
		cmocka_unit_test(test_recovery__every_invalid_record_by_its_rule),
		cmocka_unit_test(test_recovery__submissions_open_or_are_refused_by_rule),
		cmocka_unit_test(test_recovery__k_shares_rebuild_the_key_and_fewer_do_not),
		cmocka_unit_test(test_recovery__a_record_made_here_goes_round),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
