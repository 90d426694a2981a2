// SPDX-License-Identifier: Apache-2.0
// The HTTP request-head reader (src/http/request.c): rules H1-H8 of
// doc/http.md section 3, each with a head that breaks it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "coffer/error.h"
#include "http/http.h"
#include "http/request.h"

static int
parse(const char *text, struct http_head *h, char *buf)
{
	size_t n = strlen(text), end;

	memcpy(buf, text, n + 1);
	end = http_head_end(buf, n);
	if (end == 0)
		return -1;
	return http_head_parse(buf, end, h);
}

static void
test_head__reads_what_clients_send(void **state)
{
	struct http_head h;
	char buf[1024];

	(void)state;
	assert_int_equal(parse("POST /v1/jobs?state=running HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type:  application/json \r\nContent-Length: 12\r\n"
	    "Expect: 100-continue\r\n\r\n{\"a\":1}", &h, buf), 0);
	assert_string_equal(h.method, "POST");
	assert_string_equal(h.path, "/v1/jobs");
	assert_string_equal(h.query, "state=running");
	assert_int_equal(h.content_length, 12);
	assert_true(h.expect_continue);
	assert_true(h.keep_alive);
	assert_string_equal(http_head_get(&h, "content-type"), "application/json");
	assert_int_equal(parse("GET / HTTP/1.0\n\n", &h, buf), 0);
	assert_false(h.keep_alive);
	assert_null(h.query);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    &h, buf), 0);
	assert_false(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n", &h, buf), -1);
}

static void
test_head__refuses_each_rule(void **state)
{
	static const struct {
		const char *head;
		int status;
	} bad[] = {
		{ "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400 },          /* H1 */
		{ "get / HTTP/1.1\r\nHost: x\r\n\r\n", 400 },           /* H1 */
		{ "GET http://a/ HTTP/1.1\r\nHost: x\r\n\r\n", 400 },   /* H2 */
		{ "GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", 400 },        /* H2 */
		{ "GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400 },       /* H2 */
		{ "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505 },           /* H3 */
		{ "GET / FTP/1.1\r\nHost: x\r\n\r\n", 400 },            /* H3 */
		{ "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400 }, /* H4 */
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400 },          /* H5 */
		{ "GET / HTTP/1.1\r\nHo(st: x\r\n\r\n", 400 },          /* H5 */
		{ "GET / HTTP/1.1\r\nHost: x\x01y\r\n\r\n", 400 },      /* H5 */
		{ "GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400 },     /* H5 */
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n\r\n", 400 },                       /* H7 */
		{ "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400 }, /* H7 */
		{ "GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417 }, /* H8 */
	};
	struct http_head h;
	char buf[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = parse(bad[i].head, &h, buf);

		if (st != bad[i].status)
			fail_msg("head %zu: %d, want %d", i, st, bad[i].status);
	}
}

static void
test_head__caps_the_number_of_fields(void **state)
{
	static char text[HTTP_HEAD_MAX], buf[HTTP_HEAD_MAX];
	struct http_head h;
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < HTTP_HEADERS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "X-%d: y\r\n", i);
	snprintf(text + n, sizeof(text) - n, "\r\n");
	assert_int_equal(parse(text, &h, buf), 431);
}

/* http_req_query_int (doc/http.md section 3): digits, no sign, no
 * leading zero, in range; *out written only when taken. */
static void
test_head__an_integer_query_value_has_one_spelling(void **state)
{
	static const struct { const char *q; int want; int64_t v; } cases[] = {
		{ "wait=5", 1, 5 }, { "a=1&wait=30", 1, 30 }, { "wait=0", 1, 0 },
		{ "x=1", 0, -7 }, { "wait=05", -1, -7 }, { "wait=00", -1, -7 },
		{ "wait=%35", 1, 5 }, { "wait=%30%35", -1, -7 }, { "wait=+5", -1, -7 },
		{ "wait=-0", -1, -7 }, { "wait=-5", -1, -7 }, { "wait=5+", -1, -7 },
		{ "wait=", -1, -7 }, { "wait", -1, -7 }, { "wait=31", -1, -7 },
		{ "wait=0x1", -1, -7 }, { "wait=99999999999999999999", -1, -7 },
	};
	struct http_req r;
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.query = cases[i].q;
		v = -7;
		if (http_req_query_int(&r, "wait", 0, 30, &v) != cases[i].want ||
		    v != cases[i].v)
			fail_msg("%s: got %lld", cases[i].q, (long long)v);
	}
	assert_string_equal(coffer_errdetail(), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head__reads_what_clients_send),
		cmocka_unit_test(test_head__refuses_each_rule),
		cmocka_unit_test(test_head__caps_the_number_of_fields),
		cmocka_unit_test(test_head__an_integer_query_value_has_one_spelling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
