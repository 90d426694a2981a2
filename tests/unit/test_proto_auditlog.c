// SPDX-License-Identifier: Apache-2.0
// Unit tests for the audit log and its Merkle tree (src/proto/merkle*.c,
// auditlog*.c) against every vector of tests/vectors/proto/auditlog.json
// (doc/format/audit-log.md): hashes, roots, every inclusion and
// consistency proof of trees up to 20 entries (generated and verified),
// each invalid proof, every entry, tree heads, and the client rule.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "crypto/hash.h"
#include "lib/mem.h"
#include "proto/auditlog.h"
#include "proto/merkle.h"
#include "test_proto_common.h"

static json_t *doc;
static coffer_merkle_hash leaves[20];
static size_t nleaves;

static int
setup(void **state)
{
	const json_t *lh;
	json_t *v;
	size_t i;

	(void)state;
	if ((doc = tp_load("auditlog.json")) == NULL)
		return 1;
	lh = json_object_get(doc, "leaf_hashes");
	json_array_foreach(lh, i, v) {
		size_t got;

		if (i >= 20 || coffer_hex_decode(json_string_value(v), 64, leaves[i], 32,
		    &got) != 0)
			return 1;
		nleaves++;
	}
	return nleaves != 20;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(doc);
	return 0;
}

/* A JSON array of hex hashes into path; returns its length. */
static size_t
hashes(const json_t *a, coffer_merkle_hash *path, size_t max)
{
	json_t *v;
	size_t i;

	assert_true(json_array_size(a) <= max);
	json_array_foreach(a, i, v)
		tp_unhex(json_string_value(v), path[i], 32);
	return json_array_size(a);
}

static void
test_merkle__leaf_node_and_roots_match_the_vector(void **state)
{
	const json_t *entries = json_object_get(doc, "entries"), *roots;
	const json_t *node = json_object_get(doc, "node");
	struct coffer_merkle_stream s;
	coffer_merkle_hash h, want, l, r;
	json_t *e;
	size_t i;

	(void)state;
	json_array_foreach(entries, i, e) {
		assert_int_equal(coffer_merkle_leaf(json_string_value(e),
		    json_string_length(e), h), 0);
		assert_memory_equal(h, leaves[i], 32);
	}
	tp_hexmember(node, "left", l, 32);
	tp_hexmember(node, "right", r, 32);
	tp_hexmember(node, "hash", want, 32);
	assert_int_equal(coffer_merkle_node(l, r, h), 0);
	assert_memory_equal(h, want, 32);
	/* MTH of every prefix, recursively and streaming. */
	roots = json_object_get(doc, "roots");
	coffer_merkle_stream_init(&s);
	for (size_t n = 0; n <= 20; n++) {
		tp_unhex(json_string_value(json_array_get(roots, n)), want, 32);
		assert_int_equal(coffer_merkle_root((const coffer_merkle_hash *)leaves, n, h), 0);
		assert_memory_equal(h, want, 32);
		assert_int_equal(coffer_merkle_stream_root(&s, h), 0);
		assert_memory_equal(h, want, 32);
		if (n < 20)
			assert_int_equal(coffer_merkle_stream_add(&s, leaves[n]), 0);
	}
}

static void
root_of(size_t n, coffer_merkle_hash out)
{
	assert_int_equal(coffer_merkle_root((const coffer_merkle_hash *)leaves, n, out), 0);
}

/* Every inclusion proof: the generated path is the vector's, it verifies. */
static void
test_merkle__every_inclusion_proof_generates_and_verifies(void **state)
{
	const json_t *inc = json_object_get(doc, "inclusion"), *c;
	coffer_merkle_hash want[64], got[64], root;
	size_t i, count = 0;

	(void)state;
	json_array_foreach(inc, i, c) {
		size_t idx = (size_t)json_integer_value(json_object_get(c, "index"));
		size_t n = (size_t)json_integer_value(json_object_get(c, "size"));
		size_t wl = hashes(json_object_get(c, "path"), want, 64), gl;

		assert_int_equal(coffer_merkle_path((const coffer_merkle_hash *)leaves, n,
		    idx, got, &gl), 0);
		assert_int_equal(gl, wl);
		assert_memory_equal(got, want, 32 * wl);
		root_of(n, root);
		if (coffer_merkle_verify_inclusion(leaves[idx], idx, n,
		    (const coffer_merkle_hash *)want, wl, root) != 0)
			fail_msg("inclusion %zu of %zu: %s", idx, n, coffer_errdetail());
		count++;
	}
	assert_int_equal(count, 210);
}

static void
test_merkle__every_consistency_proof_generates_and_verifies(void **state)
{
	const json_t *con = json_object_get(doc, "consistency"), *c;
	coffer_merkle_hash want[65], got[65], r1, r2;
	size_t i, count = 0;

	(void)state;
	json_array_foreach(con, i, c) {
		size_t m = (size_t)json_integer_value(json_object_get(c, "from"));
		size_t n = (size_t)json_integer_value(json_object_get(c, "to"));
		size_t wl = hashes(json_object_get(c, "path"), want, 65), gl;

		assert_int_equal(coffer_merkle_consistency(
		    (const coffer_merkle_hash *)leaves, n, m, got, &gl), 0);
		assert_int_equal(gl, wl);
		assert_memory_equal(got, want, 32 * wl);
		root_of(m, r1);
		root_of(n, r2);
		if (coffer_merkle_verify_consistency(m, n, r1, r2,
		    (const coffer_merkle_hash *)want, wl) != 0)
			fail_msg("consistency %zu to %zu: %s", m, n, coffer_errdetail());
		count++;
	}
	assert_int_equal(count, 230);
}

/* Rules N1 to N4 and Q1 to Q6. */
static void
test_merkle__every_invalid_proof_is_refused(void **state)
{
	const json_t *bi = json_object_get(doc, "bad_inclusion");
	const json_t *bc = json_object_get(doc, "bad_consistency"), *c;
	coffer_merkle_hash p[80], a, b;
	size_t i;

	(void)state;
	json_array_foreach(bi, i, c) {
		size_t n = hashes(json_object_get(c, "path"), p, 80);

		tp_hexmember(c, "leaf", a, 32);
		tp_hexmember(c, "root", b, 32);
		tp_expect(coffer_merkle_verify_inclusion(a,
		    (uint64_t)json_integer_value(json_object_get(c, "index")),
		    (uint64_t)json_integer_value(json_object_get(c, "size")),
		    (const coffer_merkle_hash *)p, n, b), tp_err(tp_str(c, "error")),
		    tp_str(c, "name"));
	}
	json_array_foreach(bc, i, c) {
		size_t n = hashes(json_object_get(c, "path"), p, 80);

		tp_hexmember(c, "first", a, 32);
		tp_hexmember(c, "second", b, 32);
		tp_expect(coffer_merkle_verify_consistency(
		    (uint64_t)json_integer_value(json_object_get(c, "from")),
		    (uint64_t)json_integer_value(json_object_get(c, "to")), a, b,
		    (const coffer_merkle_hash *)p, n), tp_err(tp_str(c, "error")),
		    tp_str(c, "name"));
	}
}

/* E1 to E4 over every entry, and the makers give the same bytes. */
static void
test_auditlog__entries_check_and_are_made_byte_for_byte(void **state)
{
	const json_t *entries = json_object_get(doc, "entries"), *bad, *c;
	struct coffer_buf b = COFFER_BUF_INIT(4 << 20);
	json_t *e;
	size_t i, proofs = 0;

	(void)state;
	json_array_foreach(entries, i, e) {
		const uint8_t *bytes = (const uint8_t *)json_string_value(e);
		size_t len = json_string_length(e);
		const char *ev = NULL;
		json_t *obj;

		if (coffer_auditlog_entry_check(bytes, len, &ev) != 0)
			fail_msg("entry %zu: %s", i, coffer_errdetail());
		obj = json_loadb((const char *)bytes, len, 0, NULL);
		assert_non_null(obj);
		assert_string_equal(ev, json_string_value(json_object_get(obj, "event")));
		coffer_buf_reset(&b);
		assert_int_equal(coffer_auditlog_entry_make(obj, &b), 0);
		assert_int_equal(b.len, len);
		assert_memory_equal(b.data, bytes, len);
		if (strcmp(ev, "proof") == 0) {
			struct coffer_buf pr = COFFER_BUF_INIT(256);
			uint8_t job[16];
			json_t *reason = json_object_get(obj, "reason");

			tp_hexmember(obj, "job", job, 16);
			assert_int_equal(coffer_b64url_decode_buf(tp_str(obj, "proof"),
			    strlen(tp_str(obj, "proof")), &pr), 0);
			assert_int_equal(pr.len, 184);
			coffer_buf_reset(&b);
			assert_int_equal(coffer_auditlog_entry_proof(job, pr.data,
			    tp_str(obj, "outcome"), reason ? json_string_value(reason) : NULL,
			    (uint64_t)json_integer_value(json_object_get(obj, "time")), &b), 0);
			assert_int_equal(b.len, len);
			assert_memory_equal(b.data, bytes, len);
			coffer_buf_release(&pr);
			proofs++;
		}
		json_decref(obj);
	}
	assert_int_equal(proofs, 5);
	/* Events not in the vector's log (its roots stay): collateral. */
	json_array_foreach(json_object_get(doc, "more_entries"), i, e) {
		const char *t = json_string_value(e), *ev = NULL;
		json_t *obj;

		if (coffer_auditlog_entry_check((const uint8_t *)t, strlen(t), &ev) != 0)
			fail_msg("more_entries %zu: %s", i, coffer_errdetail());
		assert_string_equal(ev, "collateral");
		assert_non_null(obj = json_loads(t, 0, NULL));
		coffer_buf_reset(&b);
		assert_int_equal(coffer_auditlog_entry_make(obj, &b), 0);
		assert_int_equal(b.len, strlen(t));
		assert_memory_equal(b.data, t, b.len);
		json_decref(obj);
	}
	assert_int_equal(i, 2);
	bad = json_object_get(doc, "bad_entries");
	json_array_foreach(bad, i, c) {
		const char *t = tp_str(c, "text");

		tp_expect(coffer_auditlog_entry_check((const uint8_t *)t, strlen(t), NULL),
		    tp_err(tp_str(c, "error")), tp_str(c, "name"));
	}
	/* The fast path refuses what the table refuses. */
	{
		uint8_t job[16] = { 0 }, proof[184] = { 0 };

		coffer_buf_reset(&b);
		assert_int_equal(coffer_auditlog_entry_proof(job, proof, "committed",
		    "input.mismatch", 1, &b), COFFER_E_INVAL);
		assert_int_equal(coffer_auditlog_entry_proof(job, proof, "refused", NULL,
		    1, &b), COFFER_E_INVAL);
		assert_int_equal(coffer_auditlog_entry_proof(job, proof, "won", NULL, 1,
		    &b), COFFER_E_INVAL);
		assert_int_equal(b.len, 0);
	}
	coffer_buf_release(&b);
}

static void
coordinator_key(uint8_t pk[32])
{
	tp_hexmember(doc, "coordinator_sign_pk", pk, 32);
}

/* Section 4, T1, and the head maker. */
static void
test_auditlog__tree_heads_verify_and_tampering_is_refused(void **state)
{
	const json_t *heads = json_object_get(doc, "tree_heads"), *c;
	struct coffer_tree_head h;
	uint8_t pk[32];
	json_t *v;
	size_t i;

	(void)state;
	coordinator_key(pk);
	json_array_foreach(json_object_get(heads, "valid"), i, v) {
		if (coffer_auditlog_head_verify(json_string_value(v), json_string_length(v),
		    pk, &h) != 0)
			fail_msg("valid head %zu: %s", i, coffer_errdetail());
	}
	json_array_foreach(json_object_get(heads, "invalid"), i, c) {
		const char *t = tp_str(c, "envelope");

		tp_expect(coffer_auditlog_head_verify(t, strlen(t), pk, &h),
		    tp_err(tp_str(c, "error")), tp_str(c, "name"));
	}
}

static void
test_auditlog__made_heads_verify_under_their_key_only(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(4096);
	struct coffer_tree_head h, got;
	uint8_t sk[32], pk[32], other[32];

	(void)state;
	memset(sk, 0x42, sizeof(sk));
	assert_int_equal(coffer_sign_public(sk, pk), 0);
	coordinator_key(other);
	h.size = 20;
	root_of(20, h.root);
	h.time = 1800000000;
	assert_int_equal(coffer_auditlog_head_make(sk, &h, &b), 0);
	assert_int_equal(coffer_auditlog_head_verify((const char *)b.data, b.len, pk,
	    &got), 0);
	assert_int_equal(got.size, 20);
	assert_memory_equal(got.root, h.root, 32);
	assert_int_equal(coffer_auditlog_head_verify((const char *)b.data, b.len, other,
	    &got), COFFER_E_SIGNATURE);
	coffer_wipe(sk, sizeof(sk));
	coffer_buf_release(&b);
}

/* Rules H1 to H7. */
static void
test_auditlog__client_rule_catches_rollback_and_fork(void **state)
{
	const json_t *cl = json_object_get(doc, "client"), *c;
	uint8_t pk[32];
	size_t i;

	(void)state;
	coordinator_key(pk);
	json_array_foreach(cl, i, c) {
		const json_t *kept = json_object_get(c, "kept"), *proof;
		struct coffer_tree_head k, n;
		coffer_merkle_hash p[65];
		enum coffer_auditlog_outcome o;
		size_t plen = 0;
		char what[64];

		if (json_is_string(kept))
			assert_int_equal(coffer_auditlog_head_verify(json_string_value(kept),
			    json_string_length(kept), pk, &k), 0);
		proof = json_object_get(c, "proof");
		if (json_is_array(proof))
			plen = hashes(proof, p, 65);
		assert_int_equal(coffer_auditlog_client(json_is_string(kept) ? &k : NULL,
		    tp_str(c, "new"), strlen(tp_str(c, "new")), pk,
		    json_is_array(proof) ? (const coffer_merkle_hash *)p : NULL, plen, &o,
		    &n), 0);
		snprintf(what, sizeof(what), "%s (case %zu)", tp_str(c, "rule"), i);
		if (strcmp(coffer_auditlog_outcome_name(o), tp_str(c, "outcome")) != 0)
			fail_msg("%s: outcome %s, want %s", what,
			    coffer_auditlog_outcome_name(o), tp_str(c, "outcome"));
	}
	assert_int_equal(coffer_auditlog_outcome_exit(COFFER_LOG_ROLLBACK), 10);
	assert_int_equal(coffer_auditlog_outcome_exit(COFFER_LOG_FORK), 11);
	assert_int_equal(coffer_auditlog_outcome_exit(COFFER_LOG_ADVANCED), 0);
}

/* audit-log.md section 3: a bind's release event names its standby
 * session (key-release.md 6.7.6), an id16 like the others; a cold
 * release's has none. */
static void
test_auditlog__release_event_may_name_a_standby_session(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	const char *ev = NULL;
	char h16[33], h32[65], h48[97];
	json_t *o;

	(void)state;
	memset(h16, 'a', 32);
	h16[32] = '\0';
	memset(h32, 'b', 64);
	h32[64] = '\0';
	memset(h48, 'c', 96);
	h48[96] = '\0';
	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "event",
	    "release", "time", 1, "job", h16, "session", h16, "tee", "sim",
	    "measurement", h48, "worker_pk", h32, "nonce", h32, "evidence_sha256",
	    h32);
	assert_non_null(o);
	assert_int_equal(coffer_auditlog_entry_make(o, &b), 0);
	assert_int_equal(json_object_set_new(o, "standby", json_string(h16)), 0);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_auditlog_entry_make(o, &b), 0);
	assert_int_equal(coffer_auditlog_entry_check(b.data, b.len, &ev), 0);
	assert_string_equal(ev, "release");
	assert_int_equal(json_object_set_new(o, "standby", json_string("zz")), 0);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_auditlog_entry_make(o, &b), COFFER_E_FORMAT);
	json_decref(o);
	coffer_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auditlog__release_event_may_name_a_standby_session),
		cmocka_unit_test(test_merkle__leaf_node_and_roots_match_the_vector),
		cmocka_unit_test(test_merkle__every_inclusion_proof_generates_and_verifies),
		cmocka_unit_test(test_merkle__every_consistency_proof_generates_and_verifies),
		cmocka_unit_test(test_merkle__every_invalid_proof_is_refused),
		cmocka_unit_test(test_auditlog__entries_check_and_are_made_byte_for_byte),
		cmocka_unit_test(test_auditlog__tree_heads_verify_and_tampering_is_refused),
		cmocka_unit_test(test_auditlog__made_heads_verify_under_their_key_only),
		cmocka_unit_test(test_auditlog__client_rule_catches_rollback_and_fork),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
