// SPDX-License-Identifier: Apache-2.0
// Held requests (src/coordinator/waiters.c) against the group commit
// (group.c): a held request is answered only with what is durable
// (doc/protocol/key-release.md JW3, JW4; doc/format/item-proof.md LW3,
// LW4), even when its wait ends while a group of proofs is still open.
// A real coordinator (tests/fuzz/coord_harness.h) and a real connection.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>

#include "../fuzz/coord_harness.h"
#include "coordinator/group.h"
#include "coordinator/waiters.h"
#include "http/http.h"

static int
connect_coord(void)
{
	struct sockaddr_in a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)http_server_port(H_c->http));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Another open job of the harness's policy, id all `fill`, hex in hex. */
static void
open_job(uint8_t fill, uint8_t id[16], char hex[33])
{
	struct coord_job job;

	memset(&job, 0, sizeof(job));
	memset(id, fill, 16);
	memcpy(job.id, id, 16);
	memcpy(job.policy, H_policy->hash, 32);
	snprintf(job.app, sizeof(job.app), "stats");
	job.params = "{\"alpha\":\"0.05\"}";
	assert_int_equal(coffer_receipt_input_root(H_policy, &H_policy->apps[0],
	    &job.items, job.input_root), 0);
	assert_int_equal(coord_state_job_put(H_c->st, &job), 0);
	coffer_hex_encode(id, 16, hex);
}

static void
send_get(int fd, const char *path)
{
	char req[300];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
	    path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
}

/* Run what is ready now, a few times (the server's reads and writes). */
static void
spin(void)
{
	for (int i = 0; i < 20; i++)
		event_base_loop(H_c->base, EVLOOP_NONBLOCK);
}

/* Run the server until n requests of either kind are held (about 10 s
 * at most). */
static void
until_held(size_t n)
{
	for (int i = 0; i < 1000 && coord_waiters_count(H_c->waiters) +
	    coord_waiters_count_jobs(H_c->waiters) != n; i++) {
		spin();
		(void)poll(NULL, 0, 10);
	}
	assert_int_equal(coord_waiters_count(H_c->waiters) +
	    coord_waiters_count_jobs(H_c->waiters), n);
}

static void
on_break(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* The body of the reply on fd (a JSON object and a line feed), read
 * while the server runs (at most about 10 s); NULL if none came. */
static json_t *
read_reply(int fd, char *out, size_t cap)
{
	size_t n = 0;
	char *body;

	for (int i = 0; i < 1000; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;

		if ((body = strstr(out, "\r\n\r\n")) != NULL &&
		    strchr(body + 4, '\n') != NULL)
			return json_loads(body + 4, 0, NULL);
		spin();
		if (poll(&p, 1, 10) == 1) {
			if ((k = read(fd, out + n, cap - 1 - n)) <= 0)
				break;
			n += (size_t)k;
			out[n] = '\0';
		}
	}
	return NULL;
}

/*
 * JW3, JW4: the wait of a held GET /v1/jobs/{job}?wait=1 ends in the loop
 * pass where the group holding the job's close is still open (its last
 * proof applied, the commit not yet run: the commit waits for an idle
 * loop, G2). Whatever the request is told must be durable: the group is
 * rolled back right after that pass (G5, a failed commit), and a request
 * told "closed": true must find the job closed in the state.
 */
static void
test_waiters__a_held_job_request_timing_out_is_told_only_what_is_durable(
    void **state)
{
	struct coord_state_ledger *ls = NULL;
	struct coord_job j;
	struct event *brk;
	struct timeval later = { 1, 500000 };
	char path[100], reply[8192] = "";
	uint8_t id[16];
	char hex[33];
	json_t *body;
	int fd, told_closed;

	(void)state;
	open_job(0x22, id, hex);
	fd = connect_coord();
	snprintf(path, sizeof(path), "/v1/jobs/%s?wait=1", hex);
	send_get(fd, path);
	until_held(1);
	assert_int_equal(coord_waiters_count_jobs(H_c->waiters), 1);
	/* A timer due after the request's (same priority): it ends the loop
	 * pass in which the request's wait ends, before the group's commit
	 * (the lowest priority) can run. */
	assert_non_null(brk = evtimer_new(H_c->base, on_break, H_c->base));
	assert_int_equal(evtimer_add(brk, &later), 0);
	(void)poll(NULL, 0, 1700);
	/* What the proof that closes a job does in its group. */
	assert_int_equal(coord_group_join(H_c->group), 0);
	assert_int_equal(coord_state_ledger_open(H_c->st, &ls), 0);
	assert_int_equal(coord_state_job_closed(ls, id, 0, "", "{}", 2), 0);
	coord_state_ledger_close(ls);
	event_base_loop(H_c->base, 0);
	event_free(brk);
	assert_int_equal(coord_waiters_count_jobs(H_c->waiters), 0);
	/* The group's commit fails now (G5): what it held is undone. */
	coord_group_fail(H_c->group, NULL, COFFER_E_IO);
	coffer_errclear();
	body = read_reply(fd, reply, sizeof(reply));
	close(fd);
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	assert_non_null(body);
	assert_true(json_is_boolean(json_object_get(body, "closed")));
	told_closed = json_is_true(json_object_get(body, "closed"));
	json_decref(body);
	memset(&j, 0, sizeof(j));
	assert_int_equal(coord_state_job_get(H_c->st, id, &j), 0);
	if (told_closed && !j.closed)
		fail_msg("the held request was told the job closed by a group "
		    "that was then rolled back (JW3: after the commit is durable)");
	coord_job_release(&j);
}

/*
 * JW5 (and LW5): at most 256 held requests of either kind; one more is
 * answered at once, as without a wait (closed false), and is not held.
 * A held request whose client goes away frees its place at once (not
 * at the end of its wait): the route needs no token, and anyone could
 * otherwise keep the places full by connecting and leaving.
 */
static void
test_waiters__a_request_over_the_bound_is_answered_at_once(void **state)
{
	enum { N = COORD_LEAVES_WAITERS_MAX };
	static int fds[N];
	char path[120], reply[8192] = "";
	uint8_t id[16];
	char hex[33];
	json_t *body;
	int fd;

	(void)state;
	open_job(0x33, id, hex);
	/* One of a stage's leaves, the rest of the job. */
	fds[0] = connect_coord();
	snprintf(path, sizeof(path), "/v1/jobs/%s/stages/map/leaves?wait=30", hex);
	send_get(fds[0], path);
	until_held(1);
	assert_int_equal(coord_waiters_count(H_c->waiters), 1);
	snprintf(path, sizeof(path), "/v1/jobs/%s?wait=30", hex);
	for (int i = 1; i < N; i++) {
		fds[i] = connect_coord();
		send_get(fds[i], path);
		if (i % 32 == 0)
			spin();
	}
	until_held(N);
	fd = connect_coord();
	send_get(fd, path);
	body = read_reply(fd, reply, sizeof(reply));
	close(fd);
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	assert_non_null(body);
	assert_true(json_is_false(json_object_get(body, "closed")));
	json_decref(body);
	assert_int_equal(coord_waiters_count(H_c->waiters), 1);
	assert_int_equal(coord_waiters_count_jobs(H_c->waiters), N - 1);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	until_held(0);
	/* The next request is held again, not answered at once. */
	fd = connect_coord();
	send_get(fd, path);
	until_held(1);
	assert_int_equal(coord_waiters_count_jobs(H_c->waiters), 1);
	spin();
	{
		struct pollfd p = { fd, POLLIN, 0 };

		assert_int_equal(poll(&p, 1, 0), 0);
	}
	close(fd);
	until_held(0);
}

static int
setup(void **state)
{
	(void)state;
	(void)h_release;
	h_world();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_waiters__a_held_job_request_timing_out_is_told_only_what_is_durable),
		cmocka_unit_test(test_waiters__a_request_over_the_bound_is_answered_at_once),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
