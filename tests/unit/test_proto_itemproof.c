// SPDX-License-Identifier: Apache-2.0
// Unit tests for item proofs, their answers and the commit rule
// (src/proto/itemproof.c, ledger.c) against every vector of
// tests/vectors/proto/itemproof.json (doc/format/item-proof.md).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "crypto/hash.h"
#include "crypto/sealed.h"
#include "proto/itembatch.h"
#include "proto/itemproof.h"
#include "proto/ledger.h"
#include "test_proto_common.h"

static json_t *doc;
static uint8_t key[32];

static int
setup(void **state)
{
	size_t got;

	(void)state;
	if ((doc = tp_load("itemproof.json")) == NULL)
		return 1;
	return coffer_hex_decode(json_string_value(json_object_get(doc, "session_key")),
	    64, key, 32, &got) != 0;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(doc);
	return 0;
}

/* Hex of a vector into b (reset first). */
static void
bytes(const json_t *o, const char *k, struct coffer_buf *b)
{
	assert_int_equal(vec_hex(o, k, b), 0);
}

static uint64_t
num(const json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

/* Sections 2 and 3: parse gives the fields, encode gives the bytes. */
static void
test_itemproof__vectors_parse_verify_and_encode_byte_for_byte(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024);
	struct coffer_hmac *h, *other;
	uint8_t wrong[32] = { 1 };
	const json_t *c;
	size_t i;

	(void)state;
	/* A context keyed once verifies every proof in turn (the
	 * coordinator's, one per request); one under another key none. */
	assert_int_equal(coffer_hmac_new(&h), 0);
	assert_int_equal(coffer_hmac_key(h, key, 32), 0);
	assert_int_equal(coffer_hmac_new(&other), 0);
	assert_int_equal(coffer_hmac_key(other, wrong, 32), 0);
	json_array_foreach(json_object_get(doc, "proofs"), i, c) {
		const json_t *f = json_object_get(c, "fields");
		struct coffer_itemproof p, q;
		uint8_t out[COFFER_ITEMPROOF_LEN], x[32];

		bytes(c, "bytes", &b);
		assert_int_equal(b.len, COFFER_ITEMPROOF_LEN);
		tp_expect(coffer_itemproof_parse(b.data, b.len, &p), 0, tp_str(c, "name"));
		tp_expect(coffer_itemproof_verify_mac(b.data, key), 0, tp_str(c, "name"));
		tp_expect(coffer_itemproof_verify_mac_with(b.data, h), 0, tp_str(c, "name"));
		assert_int_equal(coffer_itemproof_verify_mac_with(b.data, other),
		    COFFER_E_AUTH);
		assert_int_equal(p.stage, num(f, "stage"));
		assert_int_equal(p.result, num(f, "result"));
		assert_int_equal(p.seq, num(f, "seq"));
		assert_int_equal(p.item, num(f, "item"));
		assert_int_equal(p.output_size, num(f, "output_size"));
		assert_int_equal(p.error, num(f, "error"));
		tp_hexmember(f, "job", x, 16);
		assert_memory_equal(p.job, x, 16);
		tp_hexmember(f, "session", x, 16);
		assert_memory_equal(p.session, x, 16);
		tp_hexmember(f, "attempt", x, 16);
		assert_memory_equal(p.attempt, x, 16);
		tp_hexmember(f, "input_digest", x, 32);
		assert_memory_equal(p.input_digest, x, 32);
		tp_hexmember(f, "output_digest", x, 32);
		assert_memory_equal(p.output_digest, x, 32);
		tp_hexmember(f, "mac", x, 32);
		assert_memory_equal(p.mac, x, 32);
		/* Encoding the parsed fields gives the same 184 bytes. */
		q = p;
		memset(q.mac, 0, 32);
		assert_int_equal(coffer_itemproof_encode(&q, key, out), 0);
		assert_memory_equal(out, b.data, COFFER_ITEMPROOF_LEN);
		assert_memory_equal(q.mac, p.mac, 32);
		/* The same from the context keyed once (the worker's, one per
		 * job), and none under another key. */
		memset(q.mac, 0, 32);
		memset(out, 0, sizeof(out));
		assert_int_equal(coffer_itemproof_encode_with(&q, h, out), 0);
		assert_memory_equal(out, b.data, COFFER_ITEMPROOF_LEN);
		assert_memory_equal(q.mac, p.mac, 32);
		assert_int_equal(coffer_itemproof_encode_with(&q, other, out), 0);
		assert_memory_not_equal(out, b.data, COFFER_ITEMPROOF_LEN);
	}
	coffer_hmac_free(h);
	coffer_hmac_free(other);
	coffer_buf_release(&b);
}

/* Rules IP1 to IP7, and IP8 for every field changed after the MAC. */
static void
test_itemproof__every_invalid_proof_is_refused_by_its_rule(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024);
	struct coffer_itemproof p;
	const json_t *c;
	size_t i, n = 0;

	(void)state;
	json_array_foreach(json_object_get(doc, "invalid"), i, c) {
		char what[96];

		bytes(c, "bytes", &b);
		snprintf(what, sizeof(what), "%s %s", tp_str(c, "rule"), tp_str(c, "name"));
		tp_expect(coffer_itemproof_parse(b.data, b.len, &p),
		    tp_err(tp_str(c, "error")), what);
		n++;
	}
	assert_int_equal(n, 14);
	json_array_foreach(json_object_get(doc, "bad_mac"), i, c) {
		bytes(c, "bytes", &b);
		tp_expect(coffer_itemproof_parse(b.data, b.len, &p), 0, tp_str(c, "field"));
		tp_expect(coffer_itemproof_verify_mac(b.data, key), COFFER_E_AUTH,
		    tp_str(c, "field"));
	}
	/* A worker cannot encode what the coordinator must refuse. */
	memset(&p, 0, sizeof(p));
	p.stage = 1;
	p.result = COFFER_RESULT_OK;
	p.item = 3;
	{
		uint8_t out[COFFER_ITEMPROOF_LEN];

		assert_int_equal(coffer_itemproof_encode(&p, key, out), COFFER_E_INVAL);
		p.item = 0;
		p.result = COFFER_RESULT_FAILED;
		assert_int_equal(coffer_itemproof_encode(&p, key, out), COFFER_E_INVAL);
	}
	coffer_buf_release(&b);
}

/* Section 8: answers. */
static void
test_itemproof__answers_encode_open_and_refuse_tampering(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024);
	struct coffer_itemack a, got;
	struct coffer_hmac *h;
	const json_t *c;
	size_t i;

	(void)state;
	assert_int_equal(coffer_hmac_new(&h), 0);
	assert_int_equal(coffer_hmac_key(h, key, 32), 0);
	json_array_foreach(json_object_get(doc, "acks"), i, c) {
		uint8_t out[COFFER_ITEMACK_LEN], kept[COFFER_ITEMACK_LEN];

		a.outcome = (uint8_t)num(c, "outcome");
		a.reason = (uint16_t)num(c, "reason");
		/* -1 in the vector stands for 2^64 - 1, "not logged". */
		a.log_index = json_integer_value(json_object_get(c, "log_index")) < 0 ?
		    COFFER_ITEMACK_NOT_LOGGED : num(c, "log_index");
		tp_hexmember(c, "proof_mac", a.proof_mac, 32);
		bytes(c, "bytes", &b);
		assert_int_equal(coffer_itemack_encode(&a, key, out), 0);
		assert_memory_equal(out, b.data, COFFER_ITEMACK_LEN);
		/* The same bytes from a context keyed once for every answer. */
		assert_int_equal(coffer_itemack_encode_with(&a, h, kept), 0);
		assert_memory_equal(kept, b.data, COFFER_ITEMACK_LEN);
		assert_int_equal(coffer_itemack_open(b.data, b.len, key, &got), 0);
		assert_int_equal(got.outcome, a.outcome);
		assert_int_equal(got.reason, a.reason);
		assert_int_equal(got.log_index, a.log_index);
		assert_memory_equal(got.proof_mac, a.proof_mac, 32);
		/* And opened by a context keyed once (the worker's, one per
		 * request). */
		memset(&got, 0, sizeof(got));
		assert_int_equal(coffer_itemack_open_with(b.data, b.len, h, &got), 0);
		assert_int_equal(got.outcome, a.outcome);
		assert_int_equal(got.log_index, a.log_index);
		assert_memory_equal(got.proof_mac, a.proof_mac, 32);
	}
	json_array_foreach(json_object_get(doc, "bad_acks"), i, c) {
		bytes(c, "bytes", &b);
		tp_expect(coffer_itemack_open(b.data, b.len, key, &got),
		    tp_err(tp_str(c, "error")), tp_str(c, "name"));
		/* The kept context refuses them alike and stays usable. */
		tp_expect(coffer_itemack_open_with(b.data, b.len, h, &got),
		    tp_err(tp_str(c, "error")), tp_str(c, "name"));
	}
	c = json_array_get(json_object_get(doc, "acks"), 0);
	bytes(c, "bytes", &b);
	assert_int_equal(coffer_itemack_open_with(b.data, b.len, h, &got), 0);
	/* Reasons: every code has a name and back. */
	for (uint16_t code = 1; code <= 14; code++) {
		const char *name = coffer_itemproof_reason_name(code);

		assert_non_null(name);
		assert_int_equal(coffer_itemproof_reason_code(name), code);
	}
	assert_null(coffer_itemproof_reason_name(15));
	assert_int_equal(coffer_itemproof_reason_code("no.such"), 0);
	coffer_hmac_free(h);
	coffer_buf_release(&b);
}

/* Section 6: C2 to C5 over each vector sequence. */
static void
test_ledger__commit_rule_sequences_match_the_vector(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024);
	const json_t *c, *s, *fin;
	size_t i, j;

	(void)state;
	json_array_foreach(json_object_get(doc, "ledger"), i, c) {
		struct coffer_ledger_item it;
		uint8_t want_attempt[16];

		memset(&it, 0, sizeof(it));
		json_array_foreach(json_object_get(c, "steps"), j, s) {
			struct coffer_itemproof p;
			uint8_t outcome = 0;

			bytes(s, "proof", &b);
			assert_int_equal(coffer_itemproof_parse(b.data, b.len, &p), 0);
			assert_int_equal(coffer_ledger_apply(&it, &p,
			    (unsigned)num(c, "fail_after"), 100 + j, &outcome), 0);
			if (strcmp(coffer_itemack_outcome_name(outcome), tp_str(s, "outcome")) != 0)
				fail_msg("%s, step %zu: %s, want %s", tp_str(c, "name"), j,
				    coffer_itemack_outcome_name(outcome), tp_str(s, "outcome"));
		}
		fin = json_object_get(c, "final");
		assert_int_equal(it.status, strcmp(tp_str(fin, "status"), "ok") == 0 ?
		    COFFER_ITEM_OK : COFFER_ITEM_FAILED);
		tp_hexmember(fin, "attempt", want_attempt, 16);
		assert_memory_equal(it.winner.attempt, want_attempt, 16);
		assert_int_equal(it.duplicates, num(fin, "duplicates"));
		assert_int_equal(it.disagreements, num(fin, "disagreements"));
	}
	coffer_buf_release(&b);
}

/* Section 9: the salt of each vector, and the same output sealed twice
 * gives the same bytes (so C5 compares outputs), another output not. */
static void
test_itemproof__output_salts_make_sealed_outputs_deterministic(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024), s1 = COFFER_BUF_INIT(4096),
	    s2 = COFFER_BUF_INIT(4096);
	uint8_t k[32], job[16], want[32], salt[32], d[32];
	struct coffer_hmac *h = NULL;
	const json_t *c;
	size_t i;

	(void)state;
	assert_int_equal(coffer_hmac_new(&h), 0);
	assert_true(json_array_size(json_object_get(doc, "output_salts")) >= 2);
	json_array_foreach(json_object_get(doc, "output_salts"), i, c) {
		tp_hexmember(c, "key", k, 32);
		tp_hexmember(c, "job", job, 16);
		tp_hexmember(c, "salt", want, 32);
		bytes(c, "plaintext", &b);
		assert_int_equal(coffer_sha256(b.data ? b.data : (const uint8_t *)"",
		    b.len, d), 0);
		assert_int_equal(coffer_itemproof_output_salt(k, job,
		    (uint8_t)num(c, "stage"), num(c, "item"), d, salt), 0);
		assert_memory_equal(salt, want, 32);
		/* A context keyed once gives the same salt, also the second
		 * time (the worker's kept one). */
		assert_int_equal(coffer_hmac_key(h, k, 32), 0);
		for (int t = 0; t < 2; t++) {
			memset(salt, 0, sizeof(salt));
			assert_int_equal(coffer_itemproof_output_salt_with(h, job,
			    (uint8_t)num(c, "stage"), num(c, "item"), d, salt), 0);
			assert_memory_equal(salt, want, 32);
		}
	}
	coffer_hmac_free(h);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_buf_puts(&b, "an output"), 0);
	assert_int_equal(coffer_sealed_seal_mem_salted(k, NULL, salt, b.data, b.len,
	    &s1, NULL), 0);
	assert_int_equal(coffer_sealed_seal_mem_salted(k, NULL, salt, b.data, b.len,
	    &s2, NULL), 0);
	assert_int_equal(s1.len, s2.len);
	assert_memory_equal(s1.data, s2.data, s1.len);
	coffer_buf_reset(&s2);
	assert_int_equal(coffer_sealed_seal_mem(k, NULL, b.data, b.len, &s2, NULL), 0);
	assert_memory_not_equal(s1.data, s2.data, s1.len);
	coffer_buf_release(&b);
	coffer_buf_release(&s1);
	coffer_buf_release(&s2);
}

/* Section 8 (B1, B2) and 7.1 (CL1): the JSON around proofs. */
static void
test_itembatch__batches_and_close_requests_parse_strictly(void **state)
{
	struct coffer_buf body = COFFER_BUF_INIT(1 << 20);
	uint8_t p[3][COFFER_ITEMPROOF_LEN], (*got)[COFFER_ITEMPROOF_LEN] = NULL;
	struct coffer_close_request cr;
	size_t n = 0;
	static const char *const bad_close[] = { "{}", "{\"reason\":\"later\"}",
		"{\"reason\":\"done\",\"stage\":\"reduce\"}",
		"{\"reason\":\"cancelled\",\"stage\":\"map\"}",
		"{\"reason\":\"done\",\"x\":1}", "[]", "{\"reason\":1}" };

	(void)state;
	memset(p, 7, sizeof(p));
	assert_int_equal(coffer_itemproof_batch_put((const uint8_t (*)[
	    COFFER_ITEMPROOF_LEN])p, 3, &body), 0);
	assert_int_equal(coffer_itemproof_batch_parse(coffer_buf_str(&body), body.len,
	    &got, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(got, p, sizeof(p));
	free(got);
	/* B2: one session per request. */
	p[2][30] ^= 1;
	coffer_buf_reset(&body);
	assert_int_equal(coffer_itemproof_batch_put((const uint8_t (*)[
	    COFFER_ITEMPROOF_LEN])p, 3, &body), 0);
	assert_int_equal(coffer_itemproof_batch_parse(coffer_buf_str(&body), body.len,
	    &got, &n), COFFER_E_FORMAT);
	/* B1 */
	assert_int_equal(coffer_itemproof_batch_parse("{\"proofs\":[]}", 13, &got,
	    &n), COFFER_E_FORMAT);
	assert_int_equal(coffer_itemproof_batch_parse("{\"proofs\":[\"AAAA\"]}", 19,
	    &got, &n), COFFER_E_FORMAT);
	assert_int_equal(coffer_itemproof_batch_parse("{\"acks\":[]}", 11, &got, &n),
	    COFFER_E_FORMAT);
	/* 8.1: BB1 and B2 on a binary batch; its media type. */
	p[2][30] ^= 1;
	assert_int_equal(coffer_itemproof_batch_parse_binary(p[0], sizeof(p), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(coffer_itemproof_batch_parse_binary(p[0],
	    COFFER_ITEMPROOF_LEN, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(coffer_itemproof_batch_parse_binary(p[0], 0, &n),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_itemproof_batch_parse_binary(p[0], sizeof(p) - 1,
	    &n), COFFER_E_FORMAT);
	assert_int_equal(coffer_itemproof_batch_parse_binary(p[0],
	    (COFFER_ITEMPROOF_BATCH_MAX + 1) * (size_t)COFFER_ITEMPROOF_LEN, &n),
	    COFFER_E_FORMAT);
	p[1][39] ^= 1;
	assert_int_equal(coffer_itemproof_batch_parse_binary(p[0], sizeof(p), &n),
	    COFFER_E_FORMAT);
	assert_true(coffer_itemproof_batch_is_binary("application/octet-stream"));
	assert_true(coffer_itemproof_batch_is_binary(" Application/Octet-Stream ; x=1"));
	assert_false(coffer_itemproof_batch_is_binary(NULL));
	assert_false(coffer_itemproof_batch_is_binary("application/json"));
	assert_false(coffer_itemproof_batch_is_binary("application/octet-streamx"));
	assert_int_equal(coffer_close_request_parse("{\"reason\":\"done\"}", 17,
	    &cr), 0);
	assert_false(cr.cancelled || cr.map_only);
	assert_int_equal(coffer_close_request_parse("{\"stage\":\"map\",\"reason\":"
	    "\"done\"}", 31, &cr), 0);
	assert_true(cr.map_only);
	assert_int_equal(coffer_close_request_parse("{\"reason\":\"cancelled\"}",
	    22, &cr), 0);
	assert_true(cr.cancelled);
	for (size_t i = 0; i < sizeof(bad_close) / sizeof(bad_close[0]); i++)
		assert_int_not_equal(coffer_close_request_parse(bad_close[i],
		    strlen(bad_close[i]), &cr), 0);
	coffer_buf_release(&body);
}

static void
test_ledger__refuses_a_fail_after_out_of_range(void **state)
{
	struct coffer_ledger_item it;
	struct coffer_itemproof p;
	uint8_t o;

	(void)state;
	memset(&it, 0, sizeof(it));
	memset(&p, 0, sizeof(p));
	p.result = COFFER_RESULT_FAILED;
	p.error = 1;
	assert_int_equal(coffer_ledger_apply(&it, &p, 0, 1, &o), COFFER_E_INVAL);
	assert_int_equal(coffer_ledger_apply(&it, &p, 17, 1, &o), COFFER_E_INVAL);
	assert_int_equal(coffer_ledger_apply(&it, &p, 16, 1, &o), 0);
	assert_int_equal(o, COFFER_ACK_FAILURE);
	it.status = COFFER_ITEM_ABANDONED;
	assert_int_equal(coffer_ledger_apply(&it, &p, 16, 1, &o), COFFER_E_STATE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_itemproof__vectors_parse_verify_and_encode_byte_for_byte),
		cmocka_unit_test(test_itemproof__every_invalid_proof_is_refused_by_its_rule),
		cmocka_unit_test(test_itemproof__answers_encode_open_and_refuse_tampering),
		cmocka_unit_test(test_itemproof__output_salts_make_sealed_outputs_deterministic),
		cmocka_unit_test(test_itembatch__batches_and_close_requests_parse_strictly),
		cmocka_unit_test(test_ledger__commit_rule_sequences_match_the_vector),
		cmocka_unit_test(test_ledger__refuses_a_fail_after_out_of_range),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
