// SPDX-License-Identifier: Apache-2.0
// Unit tests for standby and bind (src/proto/standby*.c) against every
// vector of tests/vectors/proto/standby.json (doc/protocol/key-release.md
// section 6.7): the standby binding against the release's, the wrap of S
// the generator's own HPKE made (WS1, WS2), the bind MAC, the bind answer
// it sealed (WB1 to WB3), each refusal, and the makers' round trips.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/mem.h"
#include "proto/keyrelease.h"
#include "proto/standby.h"
#include "test_proto_common.h"

static json_t *doc;
static struct coffer_identity coord;

static int
setup(void **state)
{
	(void)state;
	if ((doc = tp_load("standby.json")) == NULL)
		return 1;
	tp_identity(json_object_get(doc, "coordinator"), &coord);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	coffer_identity_wipe(&coord);
	json_decref(doc);
	return 0;
}

static void
inputs(uint8_t job[16], uint8_t nonce[32], uint8_t wsk[32], uint8_t s[64],
    uint8_t sid[16])
{
	const json_t *b = json_object_get(doc, "binding");
	const json_t *st = json_object_get(doc, "standby");

	tp_hexmember(b, "job", job, 16);
	tp_hexmember(b, "nonce", nonce, 32);
	tp_hexmember(st, "worker_sk", wsk, 32);
	tp_hexmember(st, "secret", s, 64);
	tp_hexmember(st, "standby", sid, 16);
}

/* 6.7.3: the vector's binding, and never the release's (6.3) for the
 * same nonce and key. */
static void
test_standby__binding_matches_the_vector_and_differs_from_release(void **state)
{
	const json_t *b = json_object_get(doc, "binding");
	uint8_t got[64], want[64], rel[64], job[16], nonce[32], wpk[32];

	(void)state;
	tp_hexmember(b, "job", job, 16);
	tp_hexmember(b, "nonce", nonce, 32);
	tp_hexmember(b, "worker_pk", wpk, 32);
	tp_hexmember(b, "report_data", want, 64);
	tp_hexmember(b, "release_report_data", rel, 64);
	assert_int_equal(coffer_standby_binding(nonce, wpk, got), 0);
	assert_memory_equal(got, want, 64);
	assert_int_equal(coffer_keyrelease_binding(job, nonce, wpk, got), 0);
	assert_memory_equal(got, rel, 64);
	assert_memory_not_equal(want, rel, 64);
	wpk[31] ^= 1;
	assert_int_equal(coffer_standby_binding(nonce, wpk, got), 0);
	assert_memory_not_equal(got, want, 64);
}

/* 6.7.4, WS1 and WS2: the generator's answer gives S and the id. */
static void
test_standby__answer_opens_and_gives_the_secret(void **state)
{
	const char *ans = tp_str(json_object_get(doc, "standby"), "answer");
	uint8_t job[16], nonce[32], wsk[32], s[64], sid[16], gs[64], gid[16];

	(void)state;
	inputs(job, nonce, wsk, s, sid);
	if (coffer_standby_answer_open(ans, strlen(ans), nonce, wsk, coord.pub.kx_pk,
	    gid, gs) != 0)
		fail_msg("%s", coffer_errdetail());
	assert_memory_equal(gs, s, 64);
	assert_memory_equal(gid, sid, 16);
	/* Another nonce, another worker key: not this answer. */
	nonce[1] ^= 1;
	assert_int_equal(coffer_standby_answer_open(ans, strlen(ans), nonce, wsk,
	    coord.pub.kx_pk, gid, gs), COFFER_E_AUTH);
	nonce[1] ^= 1;
	wsk[2] ^= 1;
	assert_int_equal(coffer_standby_answer_open(ans, strlen(ans), nonce, wsk,
	    coord.pub.kx_pk, gid, gs), COFFER_E_AUTH);
	coffer_wipe(wsk, sizeof(wsk));
	coffer_wipe(s, sizeof(s));
	coffer_wipe(gs, sizeof(gs));
}

/* WS1, WS2: each bad answer refused with its error, outputs untouched. */
static void
test_standby__bad_answers_are_refused(void **state)
{
	const json_t *c;
	uint8_t job[16], nonce[32], wsk[32], s[64], sid[16], gs[64], gid[16];
	size_t i;

	(void)state;
	inputs(job, nonce, wsk, s, sid);
	json_array_foreach(json_object_get(doc, "bad_standby_answers"), i, c) {
		const char *ans = tp_str(c, "answer");

		memset(gs, 0xa5, sizeof(gs));
		tp_expect(coffer_standby_answer_open(ans, strlen(ans), nonce, wsk,
		    coord.pub.kx_pk, gid, gs), tp_err(tp_str(c, "error")),
		    tp_str(c, "name"));
		assert_int_equal(gs[0], 0xa5);
	}
	assert_true(i >= 9);
	coffer_wipe(wsk, sizeof(wsk));
}

/* The coordinator's answer maker and the worker's opener agree. */
static void
test_standby__made_answer_round_trips(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_STANDBY_ANSWER_MAX);
	uint8_t job[16], nonce[32], wsk[32], wpk[32], s[64], sid[16], gs[64],
	    gid[16];

	(void)state;
	inputs(job, nonce, wsk, s, sid);
	assert_int_equal(coffer_dh_public(wsk, wpk), 0);
	assert_int_equal(coffer_standby_answer_make(sid, s, nonce, wpk, coord.kx_sk,
	    &b), 0);
	assert_int_equal(coffer_standby_answer_open((const char *)b.data, b.len,
	    nonce, wsk, coord.pub.kx_pk, gid, gs), 0);
	assert_memory_equal(gs, s, 64);
	assert_memory_equal(gid, sid, 16);
	coffer_wipe(wsk, sizeof(wsk));
	coffer_buf_release(&b);
}

/* SB1: the request the worker makes parses; the vector's too. */
static void
test_standby__request_made_and_parsed(void **state)
{
	const char *vec = tp_str(json_object_get(doc, "standby"), "request");
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_STANDBY_REQ_MAX);
	struct coffer_standby_request q;
	uint8_t job[16], nonce[32], wsk[32], wpk[32], s[64], sid[16];
	static const uint8_t ev[] = "some evidence bytes";

	(void)state;
	inputs(job, nonce, wsk, s, sid);
	assert_int_equal(coffer_dh_public(wsk, wpk), 0);
	coffer_standby_request_init(&q);
	assert_int_equal(coffer_standby_request_parse(vec, strlen(vec), &q), 0);
	assert_memory_equal(q.nonce, nonce, 32);
	assert_memory_equal(q.worker_pk, wpk, 32);
	assert_int_equal(q.evidence.len, strlen("opaque evidence"));
	coffer_standby_request_release(&q);
	assert_int_equal(coffer_standby_request_make(nonce, wpk, ev, sizeof(ev),
	    &b), 0);
	coffer_standby_request_init(&q);
	assert_int_equal(coffer_standby_request_parse((const char *)b.data, b.len,
	    &q), 0);
	assert_memory_equal(q.evidence.data, ev, sizeof(ev));
	coffer_standby_request_release(&q);
	/* A release request is not a standby request; a small-order key is
	 * refused. */
	coffer_standby_request_init(&q);
	assert_int_equal(coffer_standby_request_parse("{\"type\": "
	    "\"coffer-release-request\", \"version\": 1}", 43, &q), COFFER_E_FORMAT);
	coffer_standby_request_release(&q);
	memset(wpk, 0, sizeof(wpk));
	coffer_buf_reset(&b);
	assert_int_equal(coffer_standby_request_make(nonce, wpk, ev, sizeof(ev),
	    &b), 0);
	coffer_standby_request_init(&q);
	assert_int_equal(coffer_standby_request_parse((const char *)b.data, b.len,
	    &q), COFFER_E_FORMAT);
	coffer_standby_request_release(&q);
	coffer_wipe(wsk, sizeof(wsk));
	coffer_buf_release(&b);
}

/* 6.7.5, BD1 and BD5: the vector's MAC, the maker's request, the path. */
static void
test_standby__bind_request_mac_and_path(void **state)
{
	const json_t *bd = json_object_get(doc, "bind");
	const char *vec = tp_str(bd, "request");
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_BIND_REQ_MAX);
	struct coffer_bind_request q;
	uint8_t job[16], nonce[32], wsk[32], s[64], sid[16], mac[32], want[32];
	char jh[33];
	const json_t *c;
	size_t i;

	(void)state;
	inputs(job, nonce, wsk, s, sid);
	coffer_hex_encode(job, 16, jh);
	tp_hexmember(bd, "mac", want, 32);
	assert_int_equal(coffer_bind_mac(s, job, sid, mac), 0);
	assert_memory_equal(mac, want, 32);
	/* S_box is not the MAC key. */
	tp_hexmember(bd, "mac_under_s_box", want, 32);
	assert_memory_not_equal(mac, want, 32);
	assert_int_equal(coffer_bind_request_parse(vec, strlen(vec), jh, &q), 0);
	assert_memory_equal(q.standby, sid, 16);
	assert_int_equal(coffer_bind_request_check_mac(&q, s), 0);
	s[0] ^= 1;
	assert_int_equal(coffer_bind_request_check_mac(&q, s), COFFER_E_AUTH);
	s[0] ^= 1;
	s[40] ^= 1; /* S_box does not enter the MAC */
	assert_int_equal(coffer_bind_request_check_mac(&q, s), 0);
	s[40] ^= 1;
	/* The maker's request is the vector's, byte for byte (JCS). */
	assert_int_equal(coffer_bind_request_make(job, sid, s, &b), 0);
	assert_int_equal(b.len, strlen(tp_str(bd, "request_jcs")));
	assert_memory_equal(b.data, tp_str(bd, "request_jcs"), b.len);
	assert_int_equal(coffer_bind_request_parse((const char *)b.data, b.len, jh,
	    &q), 0);
	assert_int_equal(coffer_bind_request_check_mac(&q, s), 0);
	/* Another job in the URL (BD1), or for another job: the MAC. */
	jh[0] = jh[0] == '0' ? '1' : '0';
	assert_int_equal(coffer_bind_request_parse(vec, strlen(vec), jh, &q),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_bind_request_parse(vec, strlen(vec), NULL, &q), 0);
	q.job[0] ^= 1;
	assert_int_equal(coffer_bind_request_check_mac(&q, s), COFFER_E_AUTH);
	json_array_foreach(json_object_get(doc, "bad_bind_requests"), i, c) {
		const char *t = tp_str(c, "request");

		tp_expect(coffer_bind_request_parse(t, strlen(t), NULL, &q),
		    tp_err(tp_str(c, "error")), tp_str(c, "name"));
	}
	coffer_wipe(s, sizeof(s));
	coffer_wipe(wsk, sizeof(wsk));
	coffer_buf_release(&b);
}

/* 6.7.6, WB1 to WB3: the generator's bind answer opens. */
static void
test_standby__bind_answer_opens(void **state)
{
	const json_t *ba = json_object_get(doc, "bind_answer");
	const char *ans = tp_str(ba, "answer"), *pol = tp_str(ba, "policy");
	struct coffer_buf policy = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES);
	struct coffer_release_payload p;
	uint8_t job[16], nonce[32], wsk[32], s[64], sid[16];

	(void)state;
	inputs(job, nonce, wsk, s, sid);
	memset(&p, 0, sizeof(p));
	if (coffer_bind_answer_open((const uint8_t *)ans, strlen(ans), job, sid, s,
	    &p, &policy) != 0)
		fail_msg("%s", coffer_errdetail());
	assert_memory_equal(p.job, job, 16);
	assert_string_equal(p.app, "pooled-stats");
	assert_int_equal(p.nkeys, 3);
	assert_true(p.reduce);
	assert_int_equal(policy.len, strlen(pol));
	assert_memory_equal(policy.data, pol, policy.len);
	coffer_release_payload_clear(&p);
	/* For another standby session, or under another S. */
	coffer_buf_reset(&policy);
	sid[0] ^= 1;
	assert_int_equal(coffer_bind_answer_open((const uint8_t *)ans, strlen(ans),
	    job, sid, s, &p, &policy), COFFER_E_AUTH);
	sid[0] ^= 1;
	s[63] ^= 1;
	assert_int_equal(coffer_bind_answer_open((const uint8_t *)ans, strlen(ans),
	    job, sid, s, &p, &policy), COFFER_E_AUTH);
	assert_int_equal(policy.len, 0);
	coffer_wipe(s, sizeof(s));
	coffer_wipe(wsk, sizeof(wsk));
	coffer_buf_release(&policy);
}

static void
test_standby__bad_bind_answers_are_refused(void **state)
{
	struct coffer_buf policy = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES);
	uint8_t job[16], nonce[32], wsk[32], s[64], sid[16];
	const json_t *c;
	size_t i;

	(void)state;
	inputs(job, nonce, wsk, s, sid);
	json_array_foreach(json_object_get(doc, "bad_bind_answers"), i, c) {
		const char *ans = tp_str(c, "answer");
		struct coffer_release_payload p;

		memset(&p, 0, sizeof(p));
		tp_expect(coffer_bind_answer_open((const uint8_t *)ans, strlen(ans), job,
		    sid, s, &p, &policy), tp_err(tp_str(c, "error")), tp_str(c, "name"));
		assert_int_equal(policy.len, 0);
	}
	assert_true(i >= 11);
	coffer_wipe(s, sizeof(s));
	coffer_wipe(wsk, sizeof(wsk));
	coffer_buf_release(&policy);
}

/* The coordinator's bind answer and the worker's opener agree. */
static void
test_standby__made_bind_answer_round_trips(void **state)
{
	const json_t *ba = json_object_get(doc, "bind_answer");
	const char *ans = tp_str(ba, "answer");
	struct coffer_buf policy = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES);
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_BIND_ANSWER_MAX);
	struct coffer_release_payload p, q;
	uint8_t job[16], nonce[32], wsk[32], s[64], sid[16];
	static const char pol[] = "{\"a\":1}";

	(void)state;
	inputs(job, nonce, wsk, s, sid);
	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	assert_int_equal(coffer_bind_answer_open((const uint8_t *)ans, strlen(ans),
	    job, sid, s, &p, &policy), 0);
	assert_int_equal(coffer_bind_answer_make(&p, sid, s, (const uint8_t *)pol,
	    strlen(pol), &b), 0);
	coffer_buf_reset(&policy);
	assert_int_equal(coffer_bind_answer_open(b.data, b.len, job, sid, s, &q,
	    &policy), 0);
	assert_memory_equal(q.session_key, p.session_key, 32);
	assert_memory_equal(q.keys, p.keys, p.nkeys * sizeof(*p.keys));
	assert_int_equal(policy.len, strlen(pol));
	assert_memory_equal(policy.data, pol, policy.len);
	/* No policy is not an answer. */
	coffer_buf_reset(&b);
	assert_int_equal(coffer_bind_answer_make(&p, sid, s, (const uint8_t *)pol, 0,
	    &b), COFFER_E_INVAL);
	coffer_release_payload_clear(&p);
	coffer_release_payload_clear(&q);
	coffer_wipe(s, sizeof(s));
	coffer_wipe(wsk, sizeof(wsk));
	coffer_buf_release(&policy);
	coffer_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standby__binding_matches_the_vector_and_differs_from_release),
		cmocka_unit_test(test_standby__answer_opens_and_gives_the_secret),
		cmocka_unit_test(test_standby__bad_answers_are_refused),
		cmocka_unit_test(test_standby__made_answer_round_trips),
		cmocka_unit_test(test_standby__request_made_and_parsed),
		cmocka_unit_test(test_standby__bind_request_mac_and_path),
		cmocka_unit_test(test_standby__bind_answer_opens),
		cmocka_unit_test(test_standby__bad_bind_answers_are_refused),
		cmocka_unit_test(test_standby__made_bind_answer_round_trips),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
