// SPDX-License-Identifier: Apache-2.0
// Unit tests for receipts (src/proto/receipt.c) against every vector of
// tests/vectors/proto/receipt.json (doc/format/receipt.md): the trees'
// entries and roots, the signed receipt byte for byte, the bundle, and
// each verification case with its class (exit code) and rule.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "crypto/jcs.h"
#include "proto/receipt.h"
#include "test_proto_common.h"

static json_t *doc, *pdoc;
static struct coffer_policy *policy;
static struct coffer_identity_public pinned;
static struct coffer_buf evidence = COFFER_BUF_INIT(1024);
static uint8_t report_data[64];

static int
setup(void **state)
{
	const json_t *pin;
	const char *t;

	(void)state;
	if ((doc = tp_load("receipt.json")) == NULL ||
	    (pdoc = tp_load("policy.json")) == NULL)
		return 1;
	t = json_string_value(json_object_get(doc, "policy_text"));
	if (coffer_policy_parse(t, strlen(t), &policy) != 0)
		return 1;
	pin = json_object_get(doc, "pin");
	t = json_string_value(json_object_get(pin, "identity"));
	if (coffer_identity_parse_public(t, strlen(t), &pinned) != 0)
		return 1;
	t = json_string_value(json_object_get(pin, "evidence"));
	if (coffer_b64url_decode_buf(t, strlen(t), &evidence) != 0)
		return 1;
	t = json_string_value(json_object_get(pin, "report_data"));
	{
		size_t got;

		return coffer_hex_decode(t, 128, report_data, 64, &got) != 0;
	}
}

static int
teardown(void **state)
{
	(void)state;
	coffer_policy_free(policy);
	coffer_buf_release(&evidence);
	json_decref(doc);
	json_decref(pdoc);
	return 0;
}

/* The pinned coordinator's evidence: stands in for src/tee, which has its
 * own tests; here only the bytes and the report data it is asked about. */
static int
check_evidence(void *arg, const uint8_t *ev, size_t n, const uint8_t rd[64])
{
	(void)arg;
	if (n != evidence.len || memcmp(ev, evidence.data, n) != 0)
		return coffer_errf(COFFER_E_UNTRUSTED, "not the pinned evidence");
	if (memcmp(rd, report_data, 64) != 0)
		return coffer_errf(COFFER_E_POLICY, "report data");
	return 0;
}

/* Section 2.1 */
static void
test_receipt__input_entries_and_root_match_the_vector(void **state)
{
	const struct coffer_policy_app *a = coffer_policy_app(policy, "pooled-stats");
	struct coffer_buf e = COFFER_BUF_INIT(1024), want = COFFER_BUF_INIT(1024);
	struct coffer_policy_item *items = NULL;
	coffer_merkle_hash root, wroot;
	uint64_t count;
	size_t n;

	(void)state;
	assert_int_equal(coffer_policy_items(policy, a, &items, &n), 0);
	assert_int_equal(n, json_array_size(json_object_get(doc, "input_entries")));
	for (size_t i = 0; i < n; i++) {
		coffer_buf_reset(&e);
		assert_int_equal(coffer_receipt_input_entry(items[i].index, items[i].digest,
		    items[i].key, &e), 0);
		assert_int_equal(coffer_hex_decode_buf(json_string_value(json_array_get(
		    json_object_get(doc, "input_entries"), i)), 2 * e.len, &want), 0);
		assert_int_equal(want.len, e.len);
		assert_memory_equal(e.data, want.data, e.len);
		coffer_buf_reset(&want);
	}
	assert_int_equal(coffer_receipt_input_root(policy, a, &count, root), 0);
	tp_hexmember(doc, "input_root", wroot, 32);
	assert_int_equal(count, n);
	assert_memory_equal(root, wroot, 32);
	free(items);
	coffer_buf_release(&e);
	coffer_buf_release(&want);
}

/* Section 2.2 and RL1. */
static void
test_receipt__result_entries_round_trip_and_roots_match(void **state)
{
	const json_t *re = json_object_get(doc, "result_entries");
	const char *stage;
	json_t *list;

	(void)state;
	json_object_foreach((json_t *)re, stage, list) {
		coffer_merkle_hash leaves[16], root, want;
		struct coffer_buf b = COFFER_BUF_INIT(256);
		json_t *v;
		size_t i;

		json_array_foreach(list, i, v) {
			struct coffer_result_entry e;
			uint8_t out[COFFER_RESULT_ENTRY_LEN];

			assert_true(i < 16);
			coffer_buf_reset(&b);
			assert_int_equal(coffer_hex_decode_buf(json_string_value(v),
			    json_string_length(v), &b), 0);
			assert_int_equal(coffer_receipt_result_parse(b.data, b.len, &e), 0);
			coffer_receipt_result_encode(&e, out);
			assert_memory_equal(out, b.data, sizeof(out));
			assert_int_equal(coffer_merkle_leaf(b.data, b.len, leaves[i]), 0);
			/* RL1: a byte past the end, a wrong tag, a status 4. */
			assert_int_equal(coffer_receipt_result_parse(b.data, b.len - 1, &e),
			    COFFER_E_TRUNCATED);
			b.data[0] = 0x03;
			assert_int_equal(coffer_receipt_result_parse(b.data, b.len, &e),
			    COFFER_E_FORMAT);
			b.data[0] = 0x02;
			b.data[10] = 4;
			assert_int_equal(coffer_receipt_result_parse(b.data, b.len, &e),
			    COFFER_E_FORMAT);
		}
		assert_int_equal(coffer_merkle_root((const coffer_merkle_hash *)leaves,
		    json_array_size(list), root), 0);
		tp_hexmember(json_object_get(doc, "stage_roots"), stage, want, 32);
		assert_memory_equal(root, want, 32);
		coffer_buf_release(&b);
	}
}

static const json_t *
case_named(const char *name)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(doc, "cases"), i, c)
		if (strcmp(tp_str(c, "name"), name) == 0)
			return c;
	fail_msg("no case %s", name);
	return NULL;
}

static int
run_case(const json_t *c, struct coffer_receipt_report *rep)
{
	const json_t *kept = json_object_get(c, "kept");
	struct coffer_receipt_check in;
	struct coffer_tree_head k;
	const char *b = tp_str(c, "bundle");
	int owner = (int)json_integer_value(json_object_get(c, "owner"));

	memset(&in, 0, sizeof(in));
	in.bundle = b;
	in.bundle_len = strlen(b);
	in.policy = policy;
	memcpy(in.owner, policy->owners[owner].fingerprint, 32);
	in.pinned = &pinned;
	in.check_evidence = check_evidence;
	if (kept != NULL) {
		k.size = (uint64_t)json_integer_value(json_object_get(kept, "size"));
		tp_hexmember(kept, "root", k.root, 32);
		k.time = 0;
		in.kept = &k;
	}
	return coffer_receipt_verify(&in, rep);
}

/* Section 5: every case, its class and its rule. */
static void
test_receipt__every_case_gets_its_class_and_rule(void **state)
{
	const json_t *c;
	size_t i, n = 0;

	(void)state;
	json_array_foreach(json_object_get(doc, "cases"), i, c) {
		struct coffer_receipt_report rep;
		int want = (int)json_integer_value(json_object_get(c, "exit"));
		int r = run_case(c, &rep);

		if ((int)rep.class != want)
			fail_msg("%s: class %d (%s, %s), want %d", tp_str(c, "name"),
			    rep.class, rep.rule ? rep.rule : "-", coffer_errdetail(), want);
		assert_int_equal(r == 0, want == 0);
		if (json_object_get(c, "rule") != NULL) {
			assert_non_null(rep.rule);
			if (strcmp(rep.rule, tp_str(c, "rule")) != 0)
				fail_msg("%s: rule %s, want %s", tp_str(c, "name"), rep.rule,
				    tp_str(c, "rule"));
		}
		coffer_receipt_report_clear(&rep);
		n++;
	}
	assert_true(n >= 30);
}

/* What a valid receipt tells its owner, and RV10 with and without a proof. */
static void
test_receipt__a_valid_bundle_reports_the_owners_items(void **state)
{
	struct coffer_receipt_report rep;

	(void)state;
	assert_int_equal(run_case(case_named("complete, owner 0"), &rep), 0);
	assert_int_equal(rep.nitems, 3);
	assert_string_equal(rep.items[0].key, "a-wdbc/part-0.sealed");
	assert_int_equal(rep.items[2].map.status, 1);
	assert_true(rep.has_reduce);
	assert_false(rep.log_checked);
	assert_int_equal(rep.receipt.stages[0].disagreements, 1);
	coffer_receipt_report_clear(&rep);
	assert_int_equal(run_case(case_named("kept head consistent"), &rep), 0);
	assert_true(rep.log_checked);
	coffer_receipt_report_clear(&rep);
	assert_int_equal(run_case(case_named("kept head without a proof: not checked"),
	    &rep), 0);
	assert_false(rep.log_checked);
	coffer_receipt_report_clear(&rep);
	/* The abandoned item is reported as such. */
	assert_int_equal(run_case(case_named("RV11 an abandoned item, its owner"), &rep),
	    COFFER_E_POLICY);
	assert_int_equal(rep.class, COFFER_RECEIPT_INCOMPLETE);
	assert_int_equal(rep.nitems, 2);
	coffer_receipt_report_clear(&rep);
}

/* The coordinator's signer makes the vector's receipt byte for byte, and
 * its bundle maker the vector's bundle. */
static void
test_receipt__signing_and_bundling_reproduce_the_vector(void **state)
{
	const json_t *rv = json_object_get(doc, "receipt"), *c;
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20), want = COFFER_BUF_INIT(1 << 20);
	struct coffer_receipt_report rep;
	struct coffer_identity coord;
	json_t *bundle, *res, *l;
	struct coffer_bundle_leaf map[8];
	uint8_t entries[8][COFFER_RESULT_ENTRY_LEN], rentry[COFFER_RESULT_ENTRY_LEN];
	coffer_merkle_hash paths[8][64];
	size_t i;

	(void)state;
	tp_identity(json_array_get(json_object_get(pdoc, "identities"), 4), &coord);
	assert_string_equal(coord.pub.name, "coordinator");
	c = case_named("complete, owner 0");
	assert_int_equal(run_case(c, &rep), 0);
	assert_int_equal(coffer_receipt_sign(&rep.receipt, coord.sign_sk, &b), 0);
	assert_int_equal(coffer_jcs_canonicalize(tp_str(rv, "envelope"),
	    strlen(tp_str(rv, "envelope")), &want), 0);
	assert_int_equal(b.len, want.len);
	assert_memory_equal(b.data, want.data, b.len);
	/* The bundle from its parts. */
	bundle = json_loads(tp_str(c, "bundle"), 0, NULL);
	res = json_object_get(bundle, "results");
	json_array_foreach(json_object_get(json_array_get(res, 0), "leaves"), i, l) {
		struct coffer_buf e = COFFER_BUF_INIT(256);
		json_t *h;
		size_t j;

		assert_true(i < 8);
		assert_int_equal(coffer_b64url_decode_buf(tp_str(l, "entry"),
		    strlen(tp_str(l, "entry")), &e), 0);
		memcpy(entries[i], e.data, COFFER_RESULT_ENTRY_LEN);
		json_array_foreach(json_object_get(l, "path"), j, h)
			tp_unhex(json_string_value(h), paths[i][j], 32);
		map[i].entry = entries[i];
		map[i].path = (const coffer_merkle_hash *)paths[i];
		map[i].pathlen = json_array_size(json_object_get(l, "path"));
		coffer_buf_release(&e);
	}
	{
		struct coffer_buf e = COFFER_BUF_INIT(256);
		struct coffer_bundle_leaf red;
		const char *s = tp_str(json_array_get(json_object_get(json_array_get(res, 1),
		    "leaves"), 0), "entry");

		assert_int_equal(coffer_b64url_decode_buf(s, strlen(s), &e), 0);
		memcpy(rentry, e.data, sizeof(rentry));
		red.entry = rentry;
		red.path = NULL;
		red.pathlen = 0;
		coffer_buf_reset(&b);
		assert_int_equal(coffer_receipt_bundle_make(tp_str(rv, "envelope"),
		    strlen(tp_str(rv, "envelope")), policy->owners[0].fingerprint, map, i,
		    &red, 0, 0, NULL, 0, &b), 0);
		coffer_buf_release(&e);
	}
	coffer_buf_reset(&want);
	assert_int_equal(coffer_jcs_canonicalize(tp_str(c, "bundle"),
	    strlen(tp_str(c, "bundle")), &want), 0);
	assert_int_equal(b.len, want.len);
	assert_memory_equal(b.data, want.data, b.len);
	json_decref(bundle);
	coffer_receipt_report_clear(&rep);
	coffer_identity_wipe(&coord);
	coffer_buf_release(&b);
	coffer_buf_release(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receipt__input_entries_and_root_match_the_vector),
		cmocka_unit_test(test_receipt__result_entries_round_trip_and_roots_match),
		cmocka_unit_test(test_receipt__every_case_gets_its_class_and_rule),
		cmocka_unit_test(test_receipt__a_valid_bundle_reports_the_owners_items),
		cmocka_unit_test(test_receipt__signing_and_bundling_reproduce_the_vector),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
