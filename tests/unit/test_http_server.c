// SPDX-License-Identifier: Apache-2.0
// The HTTP server's deferred answers (src/http/http.c, doc/http.md
// section 5): a real server on a loopback port and a plain socket as the
// client, in one thread (the test turns the event loop itself).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/event.h>

#include "http/http.h"

static struct http_req *held;   /* the deferred request */
static int before_calls, handled;

static void
h_defer(struct http_req *r)
{
	handled++;
	held = http_req_defer(r);
	assert_non_null(held);
	/* A second defer of the same request is refused. */
	assert_null(http_req_defer(r));
}

static void
h_now(struct http_req *r)
{
	handled++;
	http_reply_text(r, 200, "text/plain", "now", 3);
}

static void
on_before(struct http_req *r)
{
	(void)r;
	before_calls++;
}

static const struct http_route routes[] = {
	{ "POST", "/defer/{x}", h_defer, HTTP_SCOPE_NONE, 1024 },
	{ "GET", "/now", h_now, HTTP_SCOPE_NONE, 0 },
};

struct fixture {
	struct event_base *base;
	struct http_server *h;
	int fd;
};

static int
setup(void **state)
{
	static struct fixture f;
	struct http_server_opts o;
	struct sockaddr_in a;

	memset(&o, 0, sizeof(o));
	o.listen = "127.0.0.1:0";
	o.routes = routes;
	o.nroutes = sizeof(routes) / sizeof(routes[0]);
	o.before = on_before;
	held = NULL;
	before_calls = handled = 0;
	if ((f.base = event_base_new()) == NULL ||
	    http_server_new(f.base, &o, &f.h) != 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)http_server_port(f.h));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((f.fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(f.fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    fcntl(f.fd, F_SETFL, O_NONBLOCK) != 0)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->fd >= 0)
		close(f->fd);
	http_server_free(f->h);
	http_req_done(held);
	held = NULL;
	event_base_free(f->base);
	return 0;
}

/* Turn the loop until cond() or about 5 s of idle turns. */
static void
spin(struct fixture *f, int (*cond)(struct fixture *f))
{
	for (int i = 0; i < 5000 && !cond(f); i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (!cond(f))
			usleep(1000);
	}
}

static int
was_handled(struct fixture *f)
{
	(void)f;
	return handled > 0;
}

static int
none_open(struct fixture *f)
{
	struct http_server_stats st;

	http_server_stats(f->h, &st);
	return st.open == 0;
}

static char answer[4096];
static size_t answer_len;

static int
answered(struct fixture *f)
{
	ssize_t n = recv(f->fd, answer + answer_len, sizeof(answer) - 1 - answer_len, 0);

	if (n > 0)
		answer_len += (size_t)n;
	answer[answer_len] = '\0';
	/* Every answer here has a short body after the head. */
	return strstr(answer, "\r\n\r\n") != NULL &&
	    strlen(strstr(answer, "\r\n\r\n")) > 4;
}

static void
send_str(struct fixture *f, const char *s)
{
	assert_int_equal(send(f->fd, s, strlen(s), 0), (ssize_t)strlen(s));
}

static void
test_server__answers_a_deferred_request_after_its_handler_returned(void **state)
{
	struct fixture *f = *state;

	answer_len = 0;
	send_str(f, "POST /defer/a1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "X-Tag: t7\r\n\r\nhello");
	spin(f, was_handled);
	assert_int_equal(handled, 1);
	assert_int_equal(before_calls, 1);
	assert_non_null(held);
	/* What the deferred request keeps after its handler returned. */
	assert_string_equal(held->method, "POST");
	assert_string_equal(held->path, "/defer/a1");
	assert_string_equal(http_req_param(held, "x"), "a1");
	assert_string_equal(http_req_header(held, "X-Tag"), "t7");
	assert_int_equal(held->body_len, 0);
	/* Nothing is answered until the daemon answers. */
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_false(answered(f));
	http_reply_text(held, 200, "text/plain", "later", 5);
	http_req_done(held);
	held = NULL;
	spin(f, answered);
	assert_non_null(strstr(answer, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(answer, "\r\n\r\nlater"));
	/* The connection goes on: the next request on it is served. */
	answer_len = 0;
	send_str(f, "GET /now HTTP/1.1\r\nHost: x\r\n\r\n");
	spin(f, answered);
	assert_non_null(strstr(answer, "\r\n\r\nnow"));
	assert_int_equal(before_calls, 2);
}

static void
test_server__drops_the_answer_of_a_client_that_went_away(void **state)
{
	struct fixture *f = *state;

	send_str(f, "POST /defer/b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	spin(f, was_handled);
	assert_non_null(held);
	close(f->fd);
	f->fd = -1;
	http_reply_text(held, 200, "text/plain", "nobody", 6);
	http_req_done(held);
	held = NULL;
	/* Writing to the gone client closes the connection: nothing leaks
	 * (the ASan build checks) and the server serves on. */
	spin(f, none_open);
	assert_true(none_open(f));
}

static int gone_calls;

/* What a daemon does when told (http_req_on_gone): frees its request. */
static void
on_gone(struct http_req *d, void *arg)
{
	assert_ptr_equal(d, held);
	assert_ptr_equal(arg, &gone_calls);
	gone_calls++;
	http_req_done(d);
	held = NULL;
}

static int
was_gone(struct fixture *f)
{
	(void)f;
	return gone_calls > 0;
}

/* A client that goes away while its answer is deferred is noticed at once
 * (not when the answer is written): the daemon frees its request then. */
static void
test_server__tells_the_daemon_when_a_deferred_requests_client_goes_away(
    void **state)
{
	struct fixture *f = *state;

	gone_calls = 0;
	send_str(f, "POST /defer/g HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	spin(f, was_handled);
	assert_non_null(held);
	http_req_on_gone(held, on_gone, &gone_calls);
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(gone_calls, 0);
	close(f->fd);
	f->fd = -1;
	spin(f, was_gone);
	assert_int_equal(gone_calls, 1);
	assert_null(held);
	assert_true(none_open(f));
}

static void
test_server__drops_an_answer_given_after_the_connection_closed(void **state)
{
	struct fixture *f = *state;
	struct http_server_stats st;

	send_str(f, "POST /defer/c HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	spin(f, was_handled);
	assert_non_null(held);
	/* The server is freed with the request deferred (a daemon stopping):
	 * the late answer touches nothing that is gone. */
	http_server_stats(f->h, &st);
	assert_int_equal(st.open, 1);
	gone_calls = 0;
	http_req_on_gone(held, on_gone, &gone_calls);
	http_server_free(f->h);
	f->h = NULL;
	/* Not told: the daemon answers what it holds as it stops. */
	assert_int_equal(gone_calls, 0);
	http_reply_text(held, 200, "text/plain", "late", 4);
	assert_null(held->conn);
	http_req_done(held);
	held = NULL;
}

static void
test_server__answers_500_for_a_deferred_request_done_unanswered(void **state)
{
	struct fixture *f = *state;

	answer_len = 0;
	send_str(f, "POST /defer/d HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	spin(f, was_handled);
	assert_non_null(held);
	http_req_done(held);
	held = NULL;
	spin(f, answered);
	assert_non_null(strstr(answer, "HTTP/1.1 500 "));
}

static void
test_server__holds_a_pipelined_request_until_the_deferred_answer(void **state)
{
	struct fixture *f = *state;
	char *first, *second;

	answer_len = 0;
	send_str(f, "POST /defer/p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
	    "GET /now HTTP/1.1\r\nHost: x\r\n\r\n");
	spin(f, was_handled);
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	/* The second request waits: answers go out in order. */
	assert_int_equal(handled, 1);
	assert_non_null(held);
	http_reply_text(held, 202, "text/plain", "first", 5);
	http_req_done(held);
	held = NULL;
	for (int i = 0; i < 5000 && (strstr(answer, "\r\n\r\nnow") == NULL); i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		(void)answered(f);
		usleep(1000);
	}
	assert_int_equal(handled, 2);
	first = strstr(answer, "HTTP/1.1 202 ");
	second = strstr(answer, "\r\n\r\nnow");
	assert_non_null(first);
	assert_non_null(second);
	assert_true(first < second);
	assert_non_null(strstr(answer, "\r\n\r\nfirst"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_server__answers_a_deferred_request_after_its_handler_returned,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_server__drops_the_answer_of_a_client_that_went_away,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_server__tells_the_daemon_when_a_deferred_requests_client_goes_away,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_server__drops_an_answer_given_after_the_connection_closed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_server__answers_500_for_a_deferred_request_done_unanswered,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_server__holds_a_pipelined_request_until_the_deferred_answer,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
