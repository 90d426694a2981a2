// SPDX-License-Identifier: Apache-2.0
// Unit tests for key upload, jobs and key release (src/proto/keyrelease.c,
// coord_identity.c) against every vector of
// tests/vectors/proto/keyrelease.json (doc/protocol/key-release.md): the
// two report-data bindings, uploads wrapped by the generator's own HPKE,
// a release answer it sealed, and each refusal.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "crypto/datakey.h"
#include "crypto/dh.h"
#include "lib/mem.h"
#include "proto/coord_identity.h"
#include "proto/keyrelease.h"
#include "proto/signed.h"
#include "test_proto_common.h"

static json_t *doc;
static struct coffer_policy *policy;
static struct coffer_identity coord;

static int
setup(void **state)
{
	json_t *pdoc;
	const char *text;

	(void)state;
	if ((doc = tp_load("keyrelease.json")) == NULL ||
	    (pdoc = tp_load("policy.json")) == NULL)
		return 1;
	text = json_string_value(json_object_get(json_object_get(pdoc, "policy"), "text"));
	if (coffer_policy_parse(text, strlen(text), &policy) != 0)
		return 1;
	json_decref(pdoc);
	tp_identity(json_object_get(doc, "coordinator"), &coord);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	coffer_identity_wipe(&coord);
	coffer_policy_free(policy);
	json_decref(doc);
	return 0;
}

/* Sections 2.1 and 6.3. */
static void
test_keyrelease__report_data_bindings_match_the_vector(void **state)
{
	const json_t *c = json_object_get(doc, "coordinator");
	const json_t *b = json_object_get(doc, "binding");
	uint8_t got[64], want[64], job[16], nonce[32], wpk[32];

	(void)state;
	tp_hexmember(c, "report_data", want, 64);
	assert_int_equal(coffer_coord_identity_report_data(coord.pub.sign_pk,
	    coord.pub.kx_pk, got), 0);
	assert_memory_equal(got, want, 64);
	tp_hexmember(b, "job", job, 16);
	tp_hexmember(b, "nonce", nonce, 32);
	tp_hexmember(b, "worker_pk", wpk, 32);
	tp_hexmember(b, "report_data", want, 64);
	assert_int_equal(coffer_keyrelease_binding(job, nonce, wpk, got), 0);
	assert_memory_equal(got, want, 64);
	/* Every input counts. */
	job[0] ^= 1;
	assert_int_equal(coffer_keyrelease_binding(job, nonce, wpk, got), 0);
	assert_memory_not_equal(got, want, 64);
}

/* Section 4, rules UP1 to UP7. */
static void
test_keyrelease__uploads_valid_and_each_rule(void **state)
{
	const json_t *c;
	size_t i, valid = 0;

	(void)state;
	json_array_foreach(json_object_get(doc, "uploads"), i, c) {
		const char *env = tp_str(c, "envelope");
		struct coffer_keyupload u;
		int r = coffer_keyupload_verify(policy, env, strlen(env), coord.kx_sk, &u);

		if (json_object_get(c, "rule") != NULL) {
			tp_expect(r, tp_err(tp_str(c, "error")), tp_str(c, "name"));
			continue;
		}
		tp_expect(r, 0, tp_str(c, "name"));
		{
			uint8_t key[32];

			tp_hexmember(c, "key", key, 32);
			assert_memory_equal(u.key, key, 32);
			assert_int_equal(u.owner, json_integer_value(json_object_get(c, "owner")));
			coffer_wipe(key, 32);
		}
		coffer_wipe(&u, sizeof(u));
		valid++;
	}
	assert_int_equal(valid, 2);
}

/* A made upload verifies; under another policy it is policy.unknown. */
static void
test_keyrelease__made_upload_round_trips(void **state)
{
	json_t *pdoc = tp_load("policy.json");
	struct coffer_buf b = COFFER_BUF_INIT(8192);
	struct coffer_identity owner;
	struct coffer_keyupload u;
	uint8_t key[32], id[16], other[32];

	(void)state;
	tp_identity(json_array_get(json_object_get(pdoc, "identities"), 1), &owner);
	tp_hexmember(json_array_get(json_object_get(doc, "uploads"), 0), "key", key, 32);
	/* owner 1 (hospital-b) holds b-wdbc; use its key id with a fresh key
	 * file of that id: the vector's a-wdbc key is owner 0's. */
	assert_int_equal(coffer_datakey_generate(key), 0);
	assert_int_equal(coffer_datakey_id(key, id), 0);
	assert_int_equal(coffer_keyupload_make(&owner, policy->hash, id, key,
	    coord.pub.kx_pk, &b), 0);
	/* A key id not in the policy: not this owner's dataset. */
	assert_int_equal(coffer_keyupload_verify(policy, (const char *)b.data, b.len,
	    coord.kx_sk, &u), COFFER_E_POLICY);
	coffer_buf_reset(&b);
	memcpy(id, policy->datasets[2].key_id, 16); /* b-wdbc */
	assert_int_equal(coffer_keyupload_make(&owner, policy->hash, id, key,
	    coord.pub.kx_pk, &b), 0);
	/* The right dataset, but a key whose id is not its id: UP7. */
	assert_int_equal(coffer_keyupload_verify(policy, (const char *)b.data, b.len,
	    coord.kx_sk, &u), COFFER_E_WRONG_KEY);
	/* Another policy hash: UP2. */
	coffer_buf_reset(&b);
	memset(other, 9, sizeof(other));
	assert_int_equal(coffer_keyupload_make(&owner, other, id, key, coord.pub.kx_pk,
	    &b), 0);
	assert_int_equal(coffer_keyupload_verify(policy, (const char *)b.data, b.len,
	    coord.kx_sk, &u), COFFER_E_NOTFOUND);
	/* No policy known (NULL): UP2 for a well-formed upload, UP1 first. */
	assert_int_equal(coffer_keyupload_verify(NULL, (const char *)b.data, b.len,
	    coord.kx_sk, &u), COFFER_E_NOTFOUND);
	assert_int_equal(coffer_keyupload_verify(NULL, (const char *)b.data,
	    b.len - 1, coord.kx_sk, &u), COFFER_E_FORMAT); /* no closing brace */
	coffer_identity_wipe(&owner);
	coffer_wipe(key, sizeof(key));
	coffer_buf_release(&b);
	json_decref(pdoc);
}

static void
worker_inputs(uint8_t job[16], uint8_t nonce[32], uint8_t wsk[32])
{
	const json_t *b = json_object_get(doc, "binding");

	tp_hexmember(b, "job", job, 16);
	tp_hexmember(b, "nonce", nonce, 32);
	tp_hexmember(json_object_get(doc, "release"), "worker_sk", wsk, 32);
}

/* Section 6.5 and W1 to W4: the generator's answer opens. */
static void
test_keyrelease__answer_opens_and_gives_the_payload(void **state)
{
	const json_t *rel = json_object_get(doc, "release");
	const char *ans = tp_str(rel, "answer");
	struct coffer_release_payload p;
	uint8_t job[16], nonce[32], wsk[32], x[32];

	(void)state;
	worker_inputs(job, nonce, wsk);
	memset(&p, 0, sizeof(p));
	if (coffer_release_answer_open(ans, strlen(ans), job, nonce, wsk,
	    coord.pub.kx_pk, &p) != 0)
		fail_msg("%s", coffer_errdetail());
	assert_memory_equal(p.job, job, 16);
	assert_memory_equal(p.policy, policy->hash, 32);
	assert_string_equal(p.app, "pooled-stats");
	assert_memory_equal(p.app_sha256, policy->apps[0].sha256, 32);
	assert_true(p.reduce);
	assert_int_equal(p.nkeys, 3);
	/* The data keys are the ones the owners uploaded (the vector's). */
	tp_hexmember(json_array_get(json_object_get(doc, "uploads"), 0), "key", x, 32);
	assert_memory_equal(p.keys[0].key, x, 32);
	assert_memory_equal(p.keys[0].key_id, policy->datasets[0].key_id, 16);
	assert_string_equal(json_string_value(json_object_get(p.params, "alpha")), "0.05");
	assert_int_equal(json_integer_value(json_object_get(p.limits, "min_owners")), 2);
	tp_hexmember(rel, "answer_key", x, 32);
	assert_memory_not_equal(p.session_key, x, 32);
	coffer_release_payload_clear(&p);
	coffer_wipe(wsk, sizeof(wsk));
}

/* W1 to W4: each tampered answer is refused. */
static void
test_keyrelease__tampered_answers_are_refused(void **state)
{
	const json_t *c;
	uint8_t job[16], nonce[32], wsk[32];
	size_t i;

	(void)state;
	worker_inputs(job, nonce, wsk);
	json_array_foreach(json_object_get(doc, "bad_answers"), i, c) {
		const char *ans = tp_str(c, "answer");
		struct coffer_release_payload p;

		memset(&p, 0, sizeof(p));
		tp_expect(coffer_release_answer_open(ans, strlen(ans), job, nonce, wsk,
		    coord.pub.kx_pk, &p), tp_err(tp_str(c, "error")), tp_str(c, "name"));
	}
	/* The right answer with another nonce, or opened as another worker. */
	{
		const char *ans = tp_str(json_object_get(doc, "release"), "answer");
		struct coffer_release_payload p;

		memset(&p, 0, sizeof(p));
		nonce[0] ^= 1;
		assert_int_equal(coffer_release_answer_open(ans, strlen(ans), job, nonce,
		    wsk, coord.pub.kx_pk, &p), COFFER_E_AUTH);
		nonce[0] ^= 1;
		wsk[3] ^= 1;
		assert_int_equal(coffer_release_answer_open(ans, strlen(ans), job, nonce,
		    wsk, coord.pub.kx_pk, &p), COFFER_E_AUTH);
	}
	coffer_wipe(wsk, sizeof(wsk));
}

/* The coordinator's maker and the worker's opener agree. */
static void
test_keyrelease__made_answer_round_trips(void **state)
{
	const json_t *rel = json_object_get(doc, "release");
	const char *ans = tp_str(rel, "answer");
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	struct coffer_release_payload p, q;
	struct coffer_dh_key *kx = NULL;
	uint8_t job[16], nonce[32], wsk[32], wpk[32];

	(void)state;
	worker_inputs(job, nonce, wsk);
	assert_int_equal(coffer_dh_public(wsk, wpk), 0);
	assert_int_equal(coffer_dh_key_new(coord.kx_sk, &kx), 0);
	memset(&p, 0, sizeof(p));
	assert_int_equal(coffer_release_answer_open(ans, strlen(ans), job, nonce, wsk,
	    coord.pub.kx_pk, &p), 0);
	assert_int_equal(coffer_release_answer_make(&p, nonce, wpk, kx, &b), 0);
	memset(&q, 0, sizeof(q));
	assert_int_equal(coffer_release_answer_open((const char *)b.data, b.len, job,
	    nonce, wsk, coord.pub.kx_pk, &q), 0);
	assert_memory_equal(q.session_key, p.session_key, 32);
	assert_memory_equal(q.intermediate_key, p.intermediate_key, 32);
	assert_memory_equal(q.app_secret, p.app_secret, 32);
	assert_int_equal(q.nkeys, p.nkeys);
	assert_memory_equal(q.keys, p.keys, p.nkeys * sizeof(*p.keys));
	assert_true(json_equal(q.params, p.params));
	coffer_release_payload_clear(&q);
	/* A job without a reduce stage carries no intermediate key. */
	p.reduce = 0;
	coffer_buf_reset(&b);
	assert_int_equal(coffer_release_answer_make(&p, nonce, wpk, kx, &b), 0);
	assert_null(strstr((const char *)b.data, "intermediate"));
	memset(&q, 0, sizeof(q));
	assert_int_equal(coffer_release_answer_open((const char *)b.data, b.len, job,
	    nonce, wsk, coord.pub.kx_pk, &q), 0);
	assert_false(q.reduce);
	coffer_release_payload_clear(&q);
	coffer_release_payload_clear(&p);
	coffer_dh_key_free(kx);
	coffer_wipe(wsk, sizeof(wsk));
	coffer_buf_release(&b);
}

/* Section 7. */
static void
test_keyrelease__result_key_opens_for_its_recipient_only(void **state)
{
	const json_t *rk = json_object_get(doc, "result_key");
	struct coffer_buf blob = COFFER_BUF_INIT(256), b2 = COFFER_BUF_INIT(256);
	struct coffer_identity rcpt;
	uint8_t job[16], nonce[32], wsk[32], key[32], want[32];

	(void)state;
	worker_inputs(job, nonce, wsk);
	tp_identity(json_object_get(rk, "recipient"), &rcpt);
	assert_int_equal(vec_hex(rk, "wrapped", &blob), 0);
	tp_hexmember(rk, "output_key", want, 32);
	assert_int_equal(coffer_resultkey_unwrap(rcpt.kx_sk, coord.pub.kx_pk, job,
	    policy->hash, blob.data, blob.len, key), 0);
	assert_memory_equal(key, want, 32);
	/* Another recipient (the coordinator's own key here), another job. */
	assert_int_equal(coffer_resultkey_unwrap(coord.kx_sk, coord.pub.kx_pk, job,
	    policy->hash, blob.data, blob.len, key), COFFER_E_AUTH);
	job[5] ^= 1;
	assert_int_equal(coffer_resultkey_unwrap(rcpt.kx_sk, coord.pub.kx_pk, job,
	    policy->hash, blob.data, blob.len, key), COFFER_E_AUTH);
	job[5] ^= 1;
	/* Round trip. */
	assert_int_equal(coffer_resultkey_wrap(rcpt.pub.kx_pk, coord.kx_sk, job,
	    policy->hash, want, &b2), 0);
	assert_int_equal(coffer_resultkey_unwrap(rcpt.kx_sk, coord.pub.kx_pk, job,
	    policy->hash, b2.data, b2.len, key), 0);
	assert_memory_equal(key, want, 32);
	coffer_identity_wipe(&rcpt);
	coffer_buf_release(&blob);
	coffer_buf_release(&b2);
}

/* KR1 and J1. */
static void
test_keyrelease__requests_parse_strictly(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	struct coffer_release_request rq;
	struct coffer_job_request jr;
	uint8_t job[16], nonce[32], wsk[32], wpk[32], zero[32] = { 0 };
	const uint8_t ev[] = "evidence bytes";
	char jh[33];
	const char *jt;

	(void)state;
	worker_inputs(job, nonce, wsk);
	assert_int_equal(coffer_dh_public(wsk, wpk), 0);
	assert_int_equal(coffer_release_request_make(job, nonce, wpk, ev, sizeof(ev),
	    &b), 0);
	coffer_hex_encode(job, 16, jh);
	coffer_release_request_init(&rq);
	assert_int_equal(coffer_release_request_parse((const char *)b.data, b.len, jh,
	    &rq), 0);
	assert_memory_equal(rq.job, job, 16);
	assert_memory_equal(rq.worker_pk, wpk, 32);
	assert_int_equal(rq.evidence.len, sizeof(ev));
	assert_int_equal(coffer_release_request_parse((const char *)b.data, b.len,
	    "00000000000000000000000000000000", &rq), COFFER_E_FORMAT);
	coffer_buf_reset(&b);
	/* A worker key of small order (zero) is malformed. */
	assert_int_equal(coffer_release_request_make(job, nonce, zero, ev, sizeof(ev),
	    &b), 0);
	assert_int_equal(coffer_release_request_parse((const char *)b.data, b.len, NULL,
	    &rq), COFFER_E_FORMAT);
	coffer_release_request_release(&rq);
	/* A job request. */
	jt = "{\"type\":\"coffer-job\",\"version\":1,\"policy\":\"00112233445566778899"
	    "aabbccddeeff00112233445566778899aabbccddeeff\",\"app\":\"pooled-stats\","
	    "\"params\":{\"alpha\":\"0.05\"}}";
	assert_int_equal(coffer_job_request_parse(jt, strlen(jt), &jr), 0);
	assert_string_equal(jr.app, "pooled-stats");
	coffer_job_request_release(&jr);
	jt = "{\"type\":\"coffer-job\",\"version\":1,\"policy\":\"00\",\"app\":\"x\","
	    "\"params\":{}}";
	assert_int_equal(coffer_job_request_parse(jt, strlen(jt), &jr), COFFER_E_FORMAT);
	jt = "{\"type\":\"coffer-job\",\"version\":2,\"policy\":\"00112233445566778899"
	    "aabbccddeeff00112233445566778899aabbccddeeff\",\"app\":\"x\",\"params\":{}}";
	assert_int_equal(coffer_job_request_parse(jt, strlen(jt), &jr), COFFER_E_VERSION);
	coffer_wipe(wsk, sizeof(wsk));
	coffer_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyrelease__report_data_bindings_match_the_vector),
		cmocka_unit_test(test_keyrelease__uploads_valid_and_each_rule),
		cmocka_unit_test(test_keyrelease__made_upload_round_trips),
		cmocka_unit_test(test_keyrelease__answer_opens_and_gives_the_payload),
		cmocka_unit_test(test_keyrelease__tampered_answers_are_refused),
		cmocka_unit_test(test_keyrelease__made_answer_round_trips),
		cmocka_unit_test(test_keyrelease__result_key_opens_for_its_recipient_only),
		cmocka_unit_test(test_keyrelease__requests_parse_strictly),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
