// SPDX-License-Identifier: Apache-2.0
// The asynchronous HTTP client (src/http/client.c) when libevent fails a
// request inside evhttp_make_request: a connect(2) that fails at once
// (here EMFILE: every descriptor the limit allows is taken, and the
// address is loopback's, as every test's must be) makes libevent 2.1 run
// the request's callback before http_client_start has returned. The
// caller's callback must still run, exactly once, and the client must not
// break the caller's event loop (a manager's: it would stop serving).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/resource.h>
#include <unistd.h>
#include <event2/event.h>

#include "coffer/error.h"
#include "http/client.h"
#include "lib/buf.h"

static int calls, last_r;

static void
done(int r, int status, void *arg)
{
	(void)status;
	(void)arg;
	calls++;
	last_r = r;
}

static void
t_sync_failure(void **state)
{
	struct event_base *base = event_base_new();
	struct http_client *c = NULL;
	struct coffer_buf reply = COFFER_BUF_INIT(4096);
	struct rlimit old, lim;
	int fds[64], nfds = 0, r;

	(void)state;
	assert_non_null(base);
	calls = 0;
	assert_int_equal(http_client_new_on(base, "http://127.0.0.1:9",
	    2000, &c), 0);
	/* No descriptor left for the connection's socket: EMFILE. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	lim.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	while (nfds < 64 && (fds[nfds] = dup(0)) >= 0)
		nfds++;
	r = http_client_start(c, "GET", "/", NULL, 0, 4096, &reply, done, NULL);
	while (nfds > 0)
		close(fds[--nfds]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	if (r == 0) {
		for (int i = 0; i < 20 && calls == 0; i++)
			(void)event_base_loop(base, EVLOOP_NONBLOCK);
		/* The answer (a failure) came to the callback, once. */
		assert_int_equal(calls, 1);
		assert_int_not_equal(last_r, 0);
	} else {
		/* Or the start itself failed, and no callback runs. */
		(void)event_base_loop(base, EVLOOP_NONBLOCK);
		assert_int_equal(calls, 0);
	}
	/* Never the caller's loop broken by the client. */
	assert_int_equal(event_base_got_break(base), 0);
	/* And the client takes the next request. */
	calls = 0;
	r = http_client_start(c, "GET", "/", NULL, 0, 4096, &reply, done, NULL);
	if (r == 0) {
		for (int i = 0; i < 20 && calls == 0; i++)
			(void)event_base_loop(base, EVLOOP_NONBLOCK);
		assert_int_equal(calls, 1);
	}
	assert_int_equal(event_base_got_break(base), 0);
	coffer_errclear();
	coffer_buf_release(&reply);
	http_client_free(c);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_sync_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
