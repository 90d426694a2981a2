// SPDX-License-Identifier: Apache-2.0
// Unit tests for the coordinator's audit log on its state
// (src/coordinator/audit.c): roots and proofs read from the stored
// subtrees are exactly those src/proto/merkle.c computes from all the
// leaves (itself checked against the Python vectors), for every size up
// to 70 and every index and pair of sizes; appends happen only inside a
// transaction, a rolled-back transaction leaves no entry, events are
// checked, and the log reads back the same after the state is reopened.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/state.h"
#include "crypto/sign.h"
#include "../support/tmpdir.h"

#define N 70

static char dir[64];
/* The state is sealed (sealvfs.h); its key and id, fixed here. */
static const uint8_t skey[32] = { 5 }, sid[16] = { 6 };

static int
setup(void **state)
{
	(void)state;
	return test_tmpdir("audit-test", dir, sizeof(dir));
}

static int
teardown(void **state)
{
	(void)state;
	return test_rm_rf(dir);
}

/* Entry i: a canonical job-close event, the same every run. */
static void
entry(int i, char *out, size_t outlen)
{
	snprintf(out, outlen, "{\"event\":\"job-close\",\"job\":\"%032x\","
	    "\"outcome\":\"completed\",\"time\":%d}", i, 1000 + i);
}

static void
append_all(struct coord_state *st, coffer_merkle_hash *leaves)
{
	char e[160];
	uint64_t idx;

	for (int i = 0; i < N; i++) {
		entry(i, e, sizeof(e));
		assert_int_equal(coffer_merkle_leaf(e, strlen(e), leaves[i]), 0);
		assert_int_equal(coord_state_begin(st), 0);
		assert_int_equal(coord_audit_append_entry(st, (const uint8_t *)e,
		    strlen(e), &idx), 0);
		assert_int_equal(coord_state_commit(st), 0);
		assert_int_equal(idx, (uint64_t)i);
	}
}

static void
test_audit__proofs_match_merkle_for_every_size(void **state)
{
	struct coord_state *st = NULL;
	coffer_merkle_hash leaves[N], a, b, pa[66], pb[66];
	size_t la, lb;
	uint64_t n;

	(void)state;
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	append_all(st, leaves);
	assert_int_equal(coord_audit_size(st, &n), 0);
	assert_int_equal(n, N);
	for (size_t size = 0; size <= N; size++) {
		assert_int_equal(coord_audit_root(st, size, a), 0);
		assert_int_equal(coffer_merkle_root((const coffer_merkle_hash *)leaves,
		    size, b), 0);
		assert_memory_equal(a, b, 32);
		for (size_t i = 0; i < size; i++) {
			assert_int_equal(coord_audit_inclusion(st, i, size, pa, &la), 0);
			assert_int_equal(coffer_merkle_path((const coffer_merkle_hash *)leaves,
			    size, i, pb, &lb), 0);
			assert_int_equal(la, lb);
			assert_memory_equal(pa, pb, 32 * la);
			assert_int_equal(coffer_merkle_verify_inclusion(leaves[i], i, size,
			    (const coffer_merkle_hash *)pa, la, a), 0);
		}
		for (size_t m = 1; m < size; m++) {
			assert_int_equal(coord_audit_consistency(st, m, size, pa, &la), 0);
			assert_int_equal(coffer_merkle_consistency(
			    (const coffer_merkle_hash *)leaves, size, m, pb, &lb), 0);
			assert_int_equal(la, lb);
			assert_memory_equal(pa, pb, 32 * la);
		}
	}
	/* Out of range: an index at the size, a size past the log. */
	assert_int_equal(coord_audit_inclusion(st, 5, 5, pa, &la), COFFER_E_INVAL);
	assert_int_equal(coord_audit_inclusion(st, 0, N + 1, pa, &la), COFFER_E_INVAL);
	assert_int_equal(coord_audit_consistency(st, 6, 5, pa, &la), COFFER_E_INVAL);
	assert_int_equal(coord_audit_root(st, N + 1, a), COFFER_E_INVAL);
	/* Reopened: the same log. */
	assert_int_equal(coord_audit_root(st, N, a), 0);
	coord_state_close(st);
	st = NULL;
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(coord_audit_root(st, N, b), 0);
	assert_memory_equal(a, b, 32);
	coord_state_close(st);
}

static void
test_audit__appends_only_inside_a_transaction(void **state)
{
	struct coord_state *st = NULL;
	json_t *ev;
	uint64_t n, idx;

	(void)state;
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	ev = json_pack("{s:s, s:s, s:s}", "event", "receipt", "job",
	    "00112233445566778899aabbccddeeff", "receipt_sha256",
	    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_non_null(ev);
	/* Outside a transaction: refused, nothing written. */
	assert_int_equal(coord_audit_append(st, ev, &idx), COFFER_E_INTERNAL);
	assert_int_equal(coord_audit_size(st, &n), 0);
	assert_int_equal(n, 0);
	/* A transaction rolled back takes its entry with it. */
	assert_int_equal(coord_state_begin(st), 0);
	assert_int_equal(coord_audit_append(st, ev, &idx), 0);
	coord_state_rollback(st);
	assert_int_equal(coord_audit_size(st, &n), 0);
	assert_int_equal(n, 0);
	/* Committed: index 0. A lazy commit counts too. */
	assert_int_equal(coord_state_begin_lazy(st), 0);
	assert_int_equal(coord_audit_append(st, ev, &idx), 0);
	assert_int_equal(coord_state_commit(st), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(coord_state_sync(st), 0);
	/* An event with a member of another type is refused (E3). */
	assert_int_equal(json_object_set_new(ev, "job", json_integer(7)), 0);
	assert_int_equal(coord_state_begin(st), 0);
	assert_int_equal(coord_audit_append(st, ev, &idx), COFFER_E_FORMAT);
	coord_state_rollback(st);
	assert_int_equal(coord_audit_size(st, &n), 0);
	assert_int_equal(n, 1);
	/* The size is kept from commit to commit (state.c): the next append
	 * is index 1, and an append rolled back after it does not move the
	 * one after. */
	assert_int_equal(json_object_set_new(ev, "job",
	    json_string("00112233445566778899aabbccddeeff")), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(coord_state_begin(st), 0);
		assert_int_equal(coord_audit_append(st, ev, &idx), 0);
		assert_int_equal(idx, i == 2 ? 2 : i + 1);
		if (i == 1)
			coord_state_rollback(st);
		else
			assert_int_equal(coord_state_commit(st), 0);
	}
	assert_int_equal(coord_audit_size(st, &n), 0);
	assert_int_equal(n, 3);
	json_decref(ev);
	coord_state_close(st);
}

static void
test_audit__signed_head_verifies(void **state)
{
	struct coord_state *st = NULL;
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_AUDITLOG_HEAD_MAX);
	struct coffer_tree_head h, v;
	coffer_merkle_hash leaves[N];
	uint8_t sk[32], pk[32];
	uint64_t min;

	(void)state;
	memset(sk, 7, sizeof(sk));
	assert_int_equal(coffer_sign_public(sk, pk), 0);
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	append_all(st, leaves);
	assert_int_equal(coord_audit_head(st, sk, &b, &h), 0);
	assert_int_equal(coffer_auditlog_head_verify(coffer_buf_str(&b), b.len, pk,
	    &v), 0);
	assert_int_equal(v.size, N);
	assert_memory_equal(v.root, h.root, 32);
	/* No rollback: every approval counts; after one at 12, from 13. */
	assert_int_equal(coord_audit_min_approval(st, &min), 0);
	assert_int_equal(min, 0);
	assert_int_equal(coord_state_log_rollback_put(st, 80, h.root, 12), 0);
	assert_int_equal(coord_state_log_rollback_put(st, 80, h.root, 13),
	    COFFER_E_EXISTS);
	assert_int_equal(coord_audit_min_approval(st, &min), 0);
	assert_int_equal(min, 13);
	coffer_buf_release(&b);
	coord_state_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit__proofs_match_merkle_for_every_size,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit__appends_only_inside_a_transaction,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit__signed_head_verifies,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
