// SPDX-License-Identifier: Apache-2.0
// Unit tests for the Redis work queue (src/queue/), against a real
// redis-server started for this file. Time is never waited for: lease
// expiry and retry due times are simulated by editing the keys the
// scripts read (doc/queue.md section 2).
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "queue/queue.h"
#include "queue/redis_url.h"
#include "queue/scripts.h"
#include "../support/redis_server.h"

static struct test_redis R;

static int
group_setup(void **state)
{
	(void)state;
	test_redis_start(&R);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	test_redis_stop(&R);
	return 0;
}

static int
flush(void **state)
{
	(void)state;
	freeReplyObject(test_redis_cmd(&R, "FLUSHALL"));
	return 0;
}

static struct coffer_queue *
open_q(const char *job, const char *worker, int lease_ms, int max_attempts)
{
	struct coffer_queue_opts o = { 0 };
	struct coffer_queue *q = NULL;
	int r;

	o.redis_url = R.url;
	o.job = job;
	o.worker_id = worker;
	o.lease_ms = lease_ms;
	o.max_attempts = max_attempts;
	o.backoff_ms = 100;
	r = coffer_queue_open(&o, &q);
	if (r != 0)
		fail_msg("open: %s: %s", coffer_strerror(r), coffer_errdetail());
	return q;
}

static void
check_stats(struct coffer_queue *q, int64_t total, int64_t done, int64_t failed,
    int64_t in_flight, int64_t queued)
{
	struct coffer_queue_stats s;

	assert_int_equal(coffer_queue_stats(q, &s), 0);
	assert_int_equal(s.total, total);
	assert_int_equal(s.done, done);
	assert_int_equal(s.failed, failed);
	assert_int_equal(s.in_flight, in_flight);
	assert_int_equal(s.queued, queued);
	/* The partition invariant of doc/queue.md section 5. */
	assert_int_equal(s.total, s.done + s.failed + s.in_flight + s.queued);
}

static void
load(struct coffer_queue *q, const char *const *items, size_t n)
{
	int r = coffer_queue_load(q, items, n);

	if (r != 0)
		fail_msg("load: %s: %s", coffer_strerror(r), coffer_errdetail());
}

static void
take(struct coffer_queue *q, struct coffer_queue_item *it)
{
	int r = coffer_queue_take(q, 100, it);

	if (r != 0)
		fail_msg("take: %s: %s", coffer_strerror(r), coffer_errdetail());
}

/* Make the item's lease vanish and its orphan mark look a full grace old,
 * as if its worker died long ago. */
static void
expire_lease(const char *job, const char *item)
{
	freeReplyObject(test_redis_cmd(&R, "DEL coffer:{%s}:lease:%s", job, item));
	freeReplyObject(test_redis_cmd(&R, "HSET coffer:{%s}:orphans %s 0", job, item));
}

/* ---------------------------------------------------------------------- */

static void
test_url__parses_the_accepted_forms(void **state)
{
	struct coffer_redis_url u;

	(void)state;
	assert_int_equal(coffer_redis_url_parse("redis://127.0.0.1:7000/3", &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 7000);
	assert_int_equal(u.db, 3);
	assert_null(u.password);
	coffer_redis_url_release(&u);
	assert_int_equal(coffer_redis_url_parse("redis://:p%40ss@h", &u), 0);
	assert_string_equal(u.host, "h");
	assert_int_equal(u.port, 6379);
	assert_string_equal(u.password, "p@ss");
	assert_null(u.user);
	coffer_redis_url_release(&u);
	assert_int_equal(coffer_redis_url_parse("redis://bob:pw@[::1]:6380", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.user, "bob");
	assert_int_equal(u.port, 6380);
	coffer_redis_url_release(&u);
	assert_int_equal(coffer_redis_url_parse("unix:///run/redis.sock?db=2", &u), 0);
	assert_string_equal(u.path, "/run/redis.sock");
	assert_int_equal(u.db, 2);
	coffer_redis_url_release(&u);
}

static void
test_url__rejects_malformed_urls(void **state)
{
	static const char *const bad[] = {
		"", "http://h", "redis://", "redis://:6379", "redis://h:0",
		"redis://h:65536", "redis://h:12x", "redis://h/db", "redis://h/70000",
		"redis://h h", "redis://u@h", "redis://:%zz@h", "redis://:%00@h",
		"redis://[::1", "redis://[]:1", "redis://[::1]x", "unix://relative",
		"unix:///s?x=1", "redis://h\n", "redis://h:1:2",
	};
	struct coffer_redis_url u;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = coffer_redis_url_parse(bad[i], &u);

		if (r != COFFER_E_FORMAT)
			fail_msg("'%s' gave %d, not COFFER_E_FORMAT", bad[i], r);
	}
}

static void
test_queue__validates_job_and_item_ids(void **state)
{
	char big[COFFER_QUEUE_ITEM_MAX + 2];

	(void)state;
	assert_int_equal(coffer_queue_check_job("job-1.a_b"), 0);
	assert_int_equal(coffer_queue_check_job(""), COFFER_E_FORMAT);
	assert_int_equal(coffer_queue_check_job("a:b"), COFFER_E_FORMAT);
	assert_int_equal(coffer_queue_check_job("a{b}"), COFFER_E_FORMAT);
	assert_int_equal(coffer_queue_check_item("in/a.dcm", 8), 0);
	assert_int_equal(coffer_queue_check_item("a b", 3), COFFER_E_FORMAT);
	assert_int_equal(coffer_queue_check_item("a\0b", 3), COFFER_E_FORMAT);
	assert_int_equal(coffer_queue_check_item("\xc3\xa9", 2), COFFER_E_FORMAT);
	memset(big, 'x', sizeof(big));
	assert_int_equal(coffer_queue_check_item(big, COFFER_QUEUE_ITEM_MAX), 0);
	assert_int_equal(coffer_queue_check_item(big, COFFER_QUEUE_ITEM_MAX + 1),
	    COFFER_E_FORMAT);
}

static void
test_queue__open_rejects_bad_options(void **state)
{
	struct coffer_queue_opts o = { 0 };
	struct coffer_queue *q = NULL;

	(void)state;
	o.redis_url = R.url;
	o.job = "bad job";
	assert_int_equal(coffer_queue_open(&o, &q), COFFER_E_INVAL);
	o.job = "j";
	o.worker_id = "w 1";
	assert_int_equal(coffer_queue_open(&o, &q), COFFER_E_INVAL);
	o.worker_id = NULL;
	o.lease_ms = -5;
	assert_int_equal(coffer_queue_open(&o, &q), COFFER_E_INVAL);
	o.lease_ms = 0;
	o.redis_url = "redis://127.0.0.1:1";
	assert_int_equal(coffer_queue_open(&o, &q), COFFER_E_CONNECT);
	assert_non_null(strstr(coffer_errdetail(), "127.0.0.1:1"));
	assert_null(q);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/* A signal caught while hiredis waits for the connection in poll(2) (the
 * manager's SIGCHLD, doc/manager.md section 3) interrupts it whatever
 * SA_RESTART says; the connection is tried again, not refused. A server
 * whose accept queue is full (backlog 0, one connection waiting) drops
 * the SYN, so the wait lasts until the connect timeout; a one-shot timer
 * interrupts it before that. Without the retry the error would be the
 * interruption; with it, the timeout of the attempt after. */
static void
test_queue__a_connection_interrupted_by_a_signal_is_tried_again(void **state)
{
	struct coffer_queue_opts o = { 0 };
	struct coffer_queue *q = NULL;
	struct sockaddr_in a;
	struct sigaction sa, old;
	struct itimerval it;
	socklen_t alen = sizeof(a);
	char url[64];
	int lfd, cfd;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	assert_true((cfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%u", ntohs(a.sin_port));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 100 * 1000;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	o.redis_url = url;
	o.job = "j";
	o.connect_timeout_ms = 600;
	assert_int_equal(coffer_queue_open(&o, &q), COFFER_E_CONNECT);
	if (strstr(coffer_errdetail(), strerror(EINTR)) != NULL)
		fail_msg("the interrupted connection was not tried again: %s",
		    coffer_errdetail());
	assert_non_null(strstr(coffer_errdetail(), strerror(ETIMEDOUT)));
	assert_null(q);
	memset(&it, 0, sizeof(it));
	(void)setitimer(ITIMER_REAL, &it, NULL);
	(void)sigaction(SIGALRM, &old, NULL);
	close(cfd);
	close(lfd);
}

static void
test_queue__load_is_once_and_checks_every_id_first(void **state)
{
	static const char *const items[] = { "a", "b", "c" };
	static const char *const dup[] = { "a", "b", "a" };
	static const char *const badid[] = { "ok", "not ok" };
	struct coffer_queue *q = open_q("load", NULL, 0, 0);

	(void)state;
	assert_int_equal(coffer_queue_load(q, dup, 3), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "twice"));
	assert_int_equal(coffer_queue_load(q, badid, 2), COFFER_E_FORMAT);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{load}:meta"), 0);
	load(q, items, 3);
	check_stats(q, 3, 0, 0, 0, 3);
	assert_int_equal(coffer_queue_load(q, items, 3), COFFER_E_EXISTS);
	check_stats(q, 3, 0, 0, 0, 3);
	coffer_queue_close(q);
}

static void
test_queue__load_handles_many_items_in_batches(void **state)
{
	enum { N = 2345 };
	char (*ids)[16] = calloc(N, 16);
	const char **items = calloc(N, sizeof(*items));
	struct coffer_queue *q = open_q("many", NULL, 0, 0);

	(void)state;
	assert_non_null(ids);
	assert_non_null(items);
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], 16, "item-%05d", i);
		items[i] = ids[i];
	}
	load(q, items, N);
	check_stats(q, N, 0, 0, 0, N);
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{many}:queue"), N);
	coffer_queue_close(q);
	free(ids);
	free(items);
}

static void
test_queue__take_leases_counts_and_ack_is_idempotent(void **state)
{
	static const char *const items[] = { "x1", "x2" };
	struct coffer_queue *w = open_q("ack", "w1", 5000, 3);
	struct coffer_queue_item it = { 0 };
	long long ttl;
	redisReply *rep;

	(void)state;
	load(w, items, 2);
	take(w, &it);
	assert_string_equal(it.id, "x1");
	assert_int_equal(it.attempt, 1);
	rep = test_redis_cmd(&R, "GET coffer:{ack}:lease:x1");
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	assert_string_equal(rep->str, "w1");
	freeReplyObject(rep);
	ttl = test_redis_int(&R, "PTTL coffer:{ack}:lease:x1");
	assert_true(ttl > 0 && ttl <= 5000);
	check_stats(w, 2, 0, 0, 1, 1);
	assert_int_equal(coffer_queue_renew(w, &it, NULL), 0);
	assert_int_equal(coffer_queue_ack(w, &it), 0);
	check_stats(w, 2, 1, 0, 0, 1);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{ack}:lease:x1"), 0);
	/* Again, and again: still done once. */
	assert_int_equal(coffer_queue_ack(w, &it), 0);
	assert_int_equal(coffer_queue_ack(w, &it), 0);
	check_stats(w, 2, 1, 0, 0, 1);
	coffer_queue_item_release(&it);
	take(w, &it);
	assert_string_equal(it.id, "x2");
	assert_int_equal(coffer_queue_ack(w, &it), 0);
	coffer_queue_item_release(&it);
	check_stats(w, 2, 2, 0, 0, 0);
	assert_int_equal(coffer_queue_take(w, 20, &it), COFFER_E_TIMEOUT);
	assert_null(it.id);
	coffer_queue_close(w);
	/* A worker leaving with nothing in flight unregisters. */
	assert_int_equal(test_redis_int(&R, "ZCARD coffer:{ack}:workers"), 0);
}

static void
test_queue__ack_take_acks_a_batch_and_takes_a_fair_share(void **state)
{
	static const char *const items[] = { "t1", "t2", "t3", "t4", "t5", "t6",
		"t7", "t8", "t9", "t10" };
	struct coffer_queue *w = open_q("bat", "w1", 5000, 3);
	struct coffer_queue *w2 = open_q("bat", "w2", 5000, 3);
	struct coffer_queue_item it[8] = { 0 }, nx[8] = { 0 }, bogus = { "t99", 1, 0 };
	struct coffer_queue_counters c0, c1;
	size_t got = 0;
	int res[8];

	(void)state;
	load(w, items, 10);
	take(w, &it[0]);
	/* Alone: as many as asked (non-blocking), garbage dead-lettered. */
	freeReplyObject(test_redis_cmd(&R, "LPUSH coffer:{bat}:queue %s", "bad\x7f"));
	assert_int_equal(coffer_queue_ack_take(w, NULL, 0, NULL, 3, &it[1], &got), 0);
	assert_int_equal(got, 2);
	assert_string_equal(it[1].id, "t2");
	assert_string_equal(it[2].id, "t3");
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{bat}:dead"), 1);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{bat}:lease:t3"), 1);
	/* A second registered worker: at most half of the 7 waiting. */
	take(w2, &nx[0]);
	coffer_queue_item_release(&nx[0]);
	coffer_queue_counters(w, &c0);
	assert_int_equal(coffer_queue_ack_take(w, it, 3, res, 8, nx, &got), 0);
	coffer_queue_counters(w, &c1);
	/* Three acks and the take: one round trip. */
	assert_int_equal(c1.round_trips - c0.round_trips, 1);
	assert_int_equal(res[0] | res[1] | res[2], 0);
	assert_int_equal(got, 3);
	assert_string_equal(nx[0].id, "t5");
	assert_int_equal(nx[2].attempt, 1);
	assert_int_equal(test_redis_int(&R, "SCARD coffer:{bat}:done"), 3);
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{bat}:inflight:w1"), 3);
	for (int i = 0; i < 3; i++)
		coffer_queue_item_release(&it[i]);
	/* An item never leased is refused, the others acked; nothing taken. */
	it[0] = nx[0];
	it[1] = bogus;
	assert_int_equal(coffer_queue_ack_take(w, it, 2, res, 0, nx + 3, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], COFFER_E_NOTFOUND);
	assert_int_equal(test_redis_int(&R, "SCARD coffer:{bat}:done"), 4);
	/* Forgotten scripts: each runs again alone. Three waiting for two
	 * workers: one for w1. */
	freeReplyObject(test_redis_cmd(&R, "SCRIPT FLUSH"));
	assert_int_equal(coffer_queue_ack_take(w, nx + 1, 2, res, 8, it + 2, &got), 0);
	assert_int_equal(res[0] | res[1], 0);
	assert_int_equal(got, 1);
	assert_string_equal(it[2].id, "t8");
	assert_int_equal(test_redis_int(&R, "SCARD coffer:{bat}:done"), 6);
	for (int i = 0; i < 3; i++)
		coffer_queue_item_release(&nx[i]);
	coffer_queue_item_release(&it[2]);
	coffer_queue_close(w);
	coffer_queue_close(w2);
}

static void
test_queue__ack_next_acks_and_takes_in_one_step(void **state)
{
	static const char *const items[] = { "n1", "n2", "n3", "n4" };
	struct coffer_queue *w = open_q("next", "w1", 5000, 3);
	struct coffer_queue_item it = { 0 }, nx = { 0 };
	struct coffer_queue_counters c0, c1;
	int got = -1;

	(void)state;
	load(w, items, 4);
	take(w, &it);
	assert_string_equal(it.id, "n1");
	/* n2 was done by someone else already: skipped; garbage after it is
	 * dead-lettered. */
	freeReplyObject(test_redis_cmd(&R, "SADD coffer:{next}:done n2"));
	coffer_queue_counters(w, &c0);
	assert_int_equal(coffer_queue_ack_next(w, &it, &nx, &got), 0);
	coffer_queue_counters(w, &c1);
	assert_int_equal(c1.round_trips - c0.round_trips, 1);
	assert_int_equal(got, 1);
	assert_string_equal(nx.id, "n3");
	assert_int_equal(nx.attempt, 1);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{next}:lease:n3"), 1);
	assert_int_equal(test_redis_int(&R, "SISMEMBER coffer:{next}:done n1"), 1);
	coffer_queue_item_release(&it);
	freeReplyObject(test_redis_cmd(&R, "LPUSH coffer:{next}:queue %s", "bad\x7f"));
	assert_int_equal(coffer_queue_ack_next(w, &nx, &it, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{next}:dead"), 1);
	coffer_queue_item_release(&nx);
	take(w, &it);
	assert_string_equal(it.id, "n4");
	assert_int_equal(coffer_queue_ack_next(w, &it, &nx, &got), 0);
	assert_int_equal(got, 0);
	assert_null(nx.id);
	assert_int_equal(test_redis_int(&R, "SCARD coffer:{next}:done"), 4);
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{next}:inflight:w1"), 0);
	coffer_queue_item_release(&it);
	coffer_queue_close(w);
}

static void
test_queue__failure_retries_with_backoff_then_dead_letters(void **state)
{
	static const char *const items[] = { "f1" };
	struct coffer_queue *w = open_q("fail", "w1", 5000, 2);
	struct coffer_queue_item it = { 0 };
	size_t moved = 0;
	int dead = -1;
	long long due;

	(void)state;
	load(w, items, 1);
	take(w, &it);
	assert_int_equal(coffer_queue_fail(w, &it, "boom\nline two", &dead), 0);
	assert_int_equal(dead, 0);
	coffer_queue_item_release(&it);
	check_stats(w, 1, 0, 0, 0, 1);
	/* Not due yet: it sits in the delayed set, not in the queue. */
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{fail}:queue"), 0);
	due = test_redis_int(&R, "ZSCORE coffer:{fail}:delayed f1");
	assert_true(due > 0);
	/* Make it due now, then the reaper promotes it. */
	freeReplyObject(test_redis_cmd(&R, "ZADD coffer:{fail}:delayed 1 f1"));
	assert_int_equal(coffer_queue_reap(w, &moved), 0);
	assert_int_equal(moved, 1);
	take(w, &it);
	assert_int_equal(it.attempt, 2);
	assert_int_equal(coffer_queue_fail(w, &it, "boom again", &dead), 0);
	assert_int_equal(dead, 1);
	coffer_queue_item_release(&it);
	check_stats(w, 1, 0, 1, 0, 0);
	coffer_queue_close(w);
}

struct dead_seen {
	int n;
	char id[64];
	uint32_t attempts;
	char error[256];
};

static void
on_dead(const char *id, uint32_t attempts, const char *error, void *arg)
{
	struct dead_seen *d = arg;

	d->n++;
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->attempts = attempts;
	snprintf(d->error, sizeof(d->error), "%s", error);
}

static void
test_queue__dead_letters_keep_the_last_error(void **state)
{
	static const char *const items[] = { "d1", "d2" };
	struct coffer_queue *w = open_q("dead", "w1", 5000, 1);
	struct coffer_queue_item it = { 0 };
	struct dead_seen d = { 0 };
	int dead = 0;

	(void)state;
	load(w, items, 2);
	take(w, &it);
	assert_int_equal(coffer_queue_fail(w, &it, "exit status 3:\tbad\x01 input", &dead), 0);
	assert_int_equal(dead, 1);
	coffer_queue_item_release(&it);
	assert_int_equal(coffer_queue_dead_letters(w, on_dead, &d), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.id, "d1");
	assert_int_equal(d.attempts, 1);
	/* Control characters are blanked before they reach Redis. */
	assert_string_equal(d.error, "exit status 3: bad  input");
	/* bury() dead-letters at once, on the first attempt. */
	take(w, &it);
	assert_int_equal(coffer_queue_bury(w, &it, "no such object"), 0);
	coffer_queue_item_release(&it);
	check_stats(w, 2, 0, 2, 0, 0);
	coffer_queue_close(w);
}

static void
test_queue__reaper_requeues_only_after_a_full_grace_without_lease(void **state)
{
	static const char *const items[] = { "r1" };
	struct coffer_queue *w = open_q("reap", "w1", 60000, 3);
	struct coffer_queue *reaper = open_q("reap", NULL, 60000, 3);
	struct coffer_queue_item it = { 0 }, it2 = { 0 };
	struct coffer_queue_counters c0, c1;
	struct coffer_queue_stats st;
	size_t moved = 99;

	(void)state;
	load(w, items, 1);
	take(w, &it);
	/* Lease alive: nothing moves. */
	assert_int_equal(coffer_queue_reap(reaper, &moved), 0);
	assert_int_equal(moved, 0);
	/* No lease (the worker may be about to set it): first only marked. */
	freeReplyObject(test_redis_cmd(&R, "DEL coffer:{reap}:lease:r1"));
	assert_int_equal(coffer_queue_reap(reaper, &moved), 0);
	assert_int_equal(moved, 0);
	assert_true(test_redis_int(&R, "HGET coffer:{reap}:orphans r1") > 0);
	assert_int_equal(coffer_queue_reap(reaper, &moved), 0);
	assert_int_equal(moved, 0);
	check_stats(reaper, 1, 0, 0, 1, 0);
	/* Still lease-less a full grace later: back to the queue's head.
	 * Reaped with the stats in one round trip (4.8a): the stats see
	 * what the reap moved. */
	freeReplyObject(test_redis_cmd(&R, "HSET coffer:{reap}:orphans r1 0"));
	coffer_queue_counters(reaper, &c0);
	assert_int_equal(coffer_queue_reap_stats(reaper, &moved, &st), 0);
	coffer_queue_counters(reaper, &c1);
	assert_int_equal(c1.round_trips - c0.round_trips, 1);
	assert_int_equal(moved, 1);
	assert_int_equal(st.total, 1);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.queued, 1);
	check_stats(reaper, 1, 0, 0, 0, 1);
	/* Scripts forgotten (a Redis restart): reloaded, steps one by one. */
	freeReplyObject(test_redis_cmd(&R, "SCRIPT FLUSH"));
	moved = 99;
	assert_int_equal(coffer_queue_reap_stats(reaper, &moved, &st), 0);
	assert_int_equal(moved, 0);
	assert_int_equal(st.queued, 1);
	assert_int_equal(coffer_queue_reap_stats(reaper, &moved, &st), 0);
	assert_int_equal(st.queued, 1);
	assert_int_equal(test_redis_int(&R, "HEXISTS coffer:{reap}:orphans r1"), 0);
	/* The old holder's heartbeat now says the lease is lost. */
	assert_int_equal(coffer_queue_renew(w, &it, NULL), COFFER_E_STATE);
	/* Leased again, with the attempt counted. */
	take(w, &it2);
	assert_string_equal(it2.id, "r1");
	assert_int_equal(it2.attempt, 2);
	assert_int_equal(coffer_queue_ack(w, &it2), 0);
	check_stats(reaper, 1, 1, 0, 0, 0);
	coffer_queue_item_release(&it);
	coffer_queue_item_release(&it2);
	coffer_queue_close(w);
	coffer_queue_close(reaper);
}

static void
test_queue__renew_takes_back_an_expired_lease_not_yet_reaped(void **state)
{
	static const char *const items[] = { "e1" };
	struct coffer_queue *w = open_q("renew", "w1", 60000, 3);
	struct coffer_queue_item it = { 0 };

	(void)state;
	load(w, items, 1);
	take(w, &it);
	freeReplyObject(test_redis_cmd(&R, "DEL coffer:{renew}:lease:e1"));
	assert_int_equal(coffer_queue_renew(w, &it, NULL), 0);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{renew}:lease:e1"), 1);
	/* Another worker holding the lease: lost. */
	freeReplyObject(test_redis_cmd(&R, "SET coffer:{renew}:lease:e1 other"));
	assert_int_equal(coffer_queue_renew(w, &it, NULL), COFFER_E_STATE);
	coffer_queue_item_release(&it);
	coffer_queue_close(w);
}

static void
test_queue__late_ack_counts_once_and_cleans_the_duplicate(void **state)
{
	static const char *const items[] = { "L" };
	struct coffer_queue *a = open_q("late", "wa", 60000, 3);
	struct coffer_queue *b = open_q("late", "wb", 60000, 3);
	struct coffer_queue_item ia = { 0 }, ib = { 0 };
	size_t moved = 0;
	int dead = 0, done = -1;

	(void)state;
	load(a, items, 1);
	take(a, &ia);
	expire_lease("late", "L");
	assert_int_equal(coffer_queue_reap(a, &moved), 0);
	assert_int_equal(moved, 1);
	take(b, &ib);
	assert_int_equal(ib.attempt, 2);
	check_stats(a, 1, 0, 0, 1, 0);
	/* a finishes late: done once, and b's copy leaves its in-flight list. */
	assert_int_equal(coffer_queue_ack(a, &ia), 0);
	check_stats(a, 1, 1, 0, 0, 0);
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{late}:inflight:wb"), 0);
	/* b's renewal: not held any more, because the item is done. */
	assert_int_equal(coffer_queue_renew(b, &ib, &done), COFFER_E_STATE);
	assert_int_equal(done, 1);
	/* b completing too changes nothing; b failing neither. */
	assert_int_equal(coffer_queue_ack(b, &ib), 0);
	assert_int_equal(coffer_queue_fail(b, &ib, "late failure", &dead), 0);
	assert_int_equal(dead, 0);
	check_stats(a, 1, 1, 0, 0, 0);
	coffer_queue_item_release(&ia);
	coffer_queue_item_release(&ib);
	coffer_queue_close(a);
	coffer_queue_close(b);
}

static void
test_queue__late_ack_rescues_a_dead_lettered_item(void **state)
{
	static const char *const items[] = { "Z" };
	struct coffer_queue *a = open_q("rescue", "wa", 60000, 1);
	struct coffer_queue_item ia = { 0 };
	size_t moved = 0;

	(void)state;
	load(a, items, 1);
	take(a, &ia);
	/* Lease lost on the last attempt: the reaper dead-letters it. */
	expire_lease("rescue", "Z");
	assert_int_equal(coffer_queue_reap(a, &moved), 0);
	check_stats(a, 1, 0, 1, 0, 0);
	{
		redisReply *e = test_redis_cmd(&R, "HGET coffer:{rescue}:errors Z");

		assert_int_equal(e->type, REDIS_REPLY_STRING);
		assert_non_null(strstr(e->str, "lease expired on attempt 1"));
		freeReplyObject(e);
	}
	/* ...then its worker finishes after all: done, no longer dead. */
	assert_int_equal(coffer_queue_ack(a, &ia), 0);
	check_stats(a, 1, 1, 0, 0, 0);
	coffer_queue_item_release(&ia);
	coffer_queue_close(a);
}

static void
test_queue__take_drops_items_already_done(void **state)
{
	static const char *const items[] = { "d", "e" };
	struct coffer_queue *w = open_q("dup", "w1", 60000, 3);
	struct coffer_queue_item it = { 0 };

	(void)state;
	load(w, items, 2);
	/* A stray duplicate of an item already done, ahead in the queue. */
	freeReplyObject(test_redis_cmd(&R, "SADD coffer:{dup}:done d"));
	take(w, &it);
	assert_string_equal(it.id, "e");
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{dup}:inflight:w1"), 1);
	coffer_queue_item_release(&it);
	coffer_queue_close(w);
}

static void
test_queue__malformed_entries_are_dead_lettered_not_served(void **state)
{
	static const char *const items[] = { "good" };
	struct coffer_queue *w = open_q("mal", "w1", 60000, 3);
	struct coffer_queue_item it = { 0 };

	(void)state;
	load(w, items, 1);
	freeReplyObject(test_redis_cmd(&R, "LPUSH coffer:{mal}:queue %b", "x\0y", (size_t)3));
	freeReplyObject(test_redis_cmd(&R, "LPUSH coffer:{mal}:queue %s", "has space"));
	assert_int_equal(coffer_queue_take(w, 100, &it), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "malformed item"));
	assert_int_equal(coffer_queue_take(w, 100, &it), COFFER_E_FORMAT);
	take(w, &it);
	assert_string_equal(it.id, "good");
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{mal}:dead"), 2);
	assert_int_equal(coffer_queue_ack(w, &it), 0);
	coffer_queue_item_release(&it);
	coffer_queue_close(w);
}

static void
test_queue__survives_script_flush_and_server_restart(void **state)
{
	static const char *const items[] = { "s1", "s2" };
	struct coffer_queue *w = open_q("restart", "w1", 60000, 3);
	struct coffer_queue_item it = { 0 };
	struct coffer_queue_stats s;
	int r = -1;

	(void)state;
	load(w, items, 2);
	freeReplyObject(test_redis_cmd(&R, "SCRIPT FLUSH"));
	take(w, &it); /* EVALSHA -> NOSCRIPT -> EVAL */
	test_redis_restart(&R);
	/* The first call after the restart may see the dead connection; a
	 * retry reconnects. Everything survived through the AOF. */
	for (int i = 0; i < 50 && r != 0; i++)
		r = coffer_queue_ack(w, &it);
	assert_int_equal(r, 0);
	check_stats(w, 2, 1, 0, 0, 1);
	assert_int_equal(coffer_queue_stats(w, &s), 0);
	coffer_queue_item_release(&it);
	coffer_queue_close(w);
}

static void
test_queue__forgets_silent_workers_with_nothing_in_flight(void **state)
{
	struct coffer_queue *q = open_q("gone", NULL, 1000, 3);
	static const char *const items[] = { "i" };
	size_t moved;

	(void)state;
	load(q, items, 1);
	freeReplyObject(test_redis_cmd(&R, "ZADD coffer:{gone}:workers 1 old"));
	freeReplyObject(test_redis_cmd(&R, "ZADD coffer:{gone}:workers 1 busy"));
	freeReplyObject(test_redis_cmd(&R, "RPUSH coffer:{gone}:inflight:busy i"));
	freeReplyObject(test_redis_cmd(&R, "LPOP coffer:{gone}:queue"));
	assert_int_equal(coffer_queue_reap(q, &moved), 0);
	assert_int_equal(test_redis_int(&R, "ZSCORE coffer:{gone}:workers old"), -1);
	assert_int_equal(test_redis_int(&R, "ZSCORE coffer:{gone}:workers busy"), 1);
	coffer_queue_close(q);
}

static void
test_queue__destroy_removes_every_key(void **state)
{
	static const char *const items[] = { "a", "b", "c" };
	struct coffer_queue *w = open_q("gone2", "w1", 60000, 1);
	struct coffer_queue_item it = { 0 };

	(void)state;
	load(w, items, 3);
	take(w, &it);
	assert_int_equal(coffer_queue_ack(w, &it), 0);
	coffer_queue_item_release(&it);
	take(w, &it);
	assert_int_equal(coffer_queue_bury(w, &it, "x"), 0);
	coffer_queue_item_release(&it);
	take(w, &it);
	assert_true(test_redis_int(&R, "DBSIZE") > 0);
	assert_int_equal(coffer_queue_destroy(w), 0);
	assert_int_equal(test_redis_int(&R, "DBSIZE"), 0);
	coffer_queue_item_release(&it);
	coffer_queue_close(w);
}

static void
test_queue__first_acks_add_their_item_times_to_the_job(void **state)
{
	static const char *const items[] = { "t1", "t2", "t3", "t4" };
	struct coffer_queue *w = open_q("times", "w1", 5000, 3);
	struct coffer_queue_item it = { 0 }, nx = { 0 };
	struct coffer_queue_stats s;
	double mean, var;
	int got = 0;

	(void)state;
	load(w, items, 4);
	assert_int_equal(coffer_queue_stats(w, &s), 0);
	assert_int_equal(s.timed, 0);
	take(w, &it);
	assert_true(it.leased_ms > 0);
	/* As if t1 had taken 1.5 s (nothing waits; the bounds only allow for
	 * a slow machine between the two lines). */
	it.leased_ms -= 1500;
	assert_int_equal(coffer_queue_ack_next(w, &it, &nx, &got), 0);
	assert_int_equal(got, 1);
	assert_string_equal(nx.id, "t2");
	assert_true(nx.leased_ms > 0);
	assert_int_equal(coffer_queue_stats(w, &s), 0);
	assert_int_equal(s.timed, 1);
	assert_true(s.time_sum_s >= 1.5 && s.time_sum_s < 60);
	/* A repeated ack of a done item adds nothing. */
	assert_int_equal(coffer_queue_ack(w, &it), 0);
	assert_int_equal(coffer_queue_stats(w, &s), 0);
	assert_int_equal(s.timed, 1);
	coffer_queue_item_release(&it);
	nx.leased_ms -= 500;
	assert_int_equal(coffer_queue_ack(w, &nx), 0);
	coffer_queue_item_release(&nx);
	assert_int_equal(coffer_queue_stats(w, &s), 0);
	assert_int_equal(s.timed, 2);
	assert_true(s.time_sum_s >= 2.0 && s.time_sum_s < 60);
	mean = s.time_sum_s / 2;
	var = (s.time_sq_sum_s2 - s.time_sum_s * s.time_sum_s / 2) / 1;
	assert_true(mean >= 1.0);
	/* 1.5 s and 0.5 s, give or take the same delay: variance 0.5 s^2 */
	assert_true(var > 0.3 && var < 0.7);
	/* The sums are in the meta hash (doc/queue.md section 2). */
	assert_int_equal(test_redis_int(&R, "HEXISTS coffer:{times}:meta item_n"), 1);
	assert_int_equal(test_redis_int(&R, "HEXISTS coffer:{times}:meta item_ms_sum"), 1);
	assert_int_equal(test_redis_int(&R, "HEXISTS coffer:{times}:meta item_ms_sq_sum"), 1);
	/* An item whose lease time is unknown (acked for a dead runner) is
	 * done but not timed. */
	take(w, &it);
	it.leased_ms = 0;
	assert_int_equal(coffer_queue_ack(w, &it), 0);
	coffer_queue_item_release(&it);
	assert_int_equal(coffer_queue_stats(w, &s), 0);
	assert_int_equal(s.done, 3);
	assert_int_equal(s.timed, 2);
	/* Garbage in Redis reads as unknown, never as a time. */
	freeReplyObject(test_redis_cmd(&R, "HSET coffer:{times}:meta item_ms_sq_sum x"));
	assert_int_equal(coffer_queue_stats(w, &s), 0);
	assert_int_equal(s.timed, 0);
	assert_true(s.time_sum_s == 0 && s.time_sq_sum_s2 == 0);
	freeReplyObject(test_redis_cmd(&R, "HSET coffer:{times}:meta item_ms_sq_sum 1"));
	assert_int_equal(coffer_queue_stats(w, &s), 0);
	assert_int_equal(s.timed, 0); /* below (sum)^2 / n: impossible */
	/* An ack after the job is destroyed brings back neither its meta
	 * nor any other key: the item is unknown to the job now. */
	take(w, &it);
	assert_int_equal(coffer_queue_destroy(w), 0);
	assert_int_equal(coffer_queue_ack(w, &it), COFFER_E_NOTFOUND);
	coffer_queue_item_release(&it);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{times}:meta"), 0);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{times}:done"), 0);
	coffer_queue_close(w);
}

static void
test_queue__replica_worker_ids_name_their_replica(void **state)
{
	char w[COFFER_QUEUE_WORKER_MAX + 1], r[COFFER_QUEUE_REPLICA_MAX + 1];
	char longid[COFFER_QUEUE_REPLICA_MAX + 2];

	(void)state;
	assert_int_equal(coffer_queue_replica_worker_id("l0a1b2c3d-7", 0xdeadbeefu,
	    w, sizeof(w)), 0);
	assert_string_equal(w, "l0a1b2c3d-7_deadbeef");
	assert_int_equal(coffer_queue_worker_replica(w, r, sizeof(r)), 0);
	assert_string_equal(r, "l0a1b2c3d-7");
	/* a pod name, a Slurm array task */
	assert_int_equal(coffer_queue_replica_worker_id("job-x.pod-4", 1, w, sizeof(w)), 0);
	assert_string_equal(w, "job-x.pod-4_00000001");
	assert_int_equal(coffer_queue_worker_replica("1234_7_00ff00ff", r, sizeof(r)), 0);
	assert_string_equal(r, "1234_7");
	/* coffer-worker's default ids and others name no replica */
	assert_int_equal(coffer_queue_worker_replica("host-123-0a0b0c0d", r, sizeof(r)),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_worker_replica("_deadbeef", r, sizeof(r)),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_worker_replica("x_DEADBEEF", r, sizeof(r)),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_worker_replica("x_deadbee", r, sizeof(r)),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_worker_replica("a b_deadbeef", r, sizeof(r)),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_worker_replica("w1", r, sizeof(r)),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_worker_replica("abc_deadbeef", r, 3),
	    COFFER_E_LIMIT);
	/* what is not a replica id */
	assert_int_equal(coffer_queue_replica_worker_id("", 1, w, sizeof(w)),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_queue_replica_worker_id("a/b", 1, w, sizeof(w)),
	    COFFER_E_INVAL);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(coffer_queue_replica_worker_id(longid, 1, w, sizeof(w)),
	    COFFER_E_INVAL);
	longid[COFFER_QUEUE_REPLICA_MAX] = '\0';
	assert_int_equal(coffer_queue_replica_worker_id(longid, 1, w, sizeof(w)), 0);
	assert_true(strlen(w) <= COFFER_QUEUE_WORKER_MAX);
	assert_int_equal(coffer_queue_replica_worker_id("abc", 1, w, 12),
	    COFFER_E_LIMIT);
	/* and the queue accepts the ids it makes */
	coffer_queue_close(open_q("ids", "l0a1b2c3d-7_deadbeef", 5000, 3));
}

static int
cmp_holder(const void *a, const void *b)
{
	return strcmp(((const struct coffer_queue_holder *)a)->worker,
	    ((const struct coffer_queue_holder *)b)->worker);
}

static void
test_queue__holders_are_the_workers_with_items_in_flight(void **state)
{
	static const char *const items[] = { "h1", "h2", "h3", "h4" };
	struct coffer_queue *w1 = open_q("hold", "w1", 5000, 3);
	struct coffer_queue *w2 = open_q("hold", "w2", 5000, 3);
	struct coffer_queue *w3 = open_q("hold", "w3", 5000, 3);
	struct coffer_queue *mon = open_q("hold", NULL, 5000, 3);
	struct coffer_queue_item a = { 0 }, b = { 0 }, c = { 0 };
	struct coffer_queue_holder *h = NULL;
	struct coffer_queue_counters c0, c1;
	struct coffer_queue_opts o = { 0 };
	struct coffer_queue *asp = NULL;
	size_t n = 99;

	(void)state;
	load(mon, items, 4);
	assert_int_equal(coffer_queue_holders(mon, &h, &n), 0);
	assert_int_equal(n, 0);
	assert_null(h);
	take(w1, &a);
	take(w2, &b);
	take(w3, &c);
	assert_int_equal(coffer_queue_ack(w3, &c), 0); /* w3: registered, idle */
	coffer_queue_counters(mon, &c0);
	assert_int_equal(coffer_queue_holders(mon, &h, &n), 0);
	coffer_queue_counters(mon, &c1);
	assert_int_equal(c1.round_trips - c0.round_trips, 1);
	assert_int_equal(n, 2);
	qsort(h, n, sizeof(*h), cmp_holder);
	assert_string_equal(h[0].worker, "w1");
	assert_string_equal(h[0].item, a.id);
	assert_int_equal(h[0].items, 1);
	assert_string_equal(h[1].worker, "w2");
	assert_string_equal(h[1].item, b.id);
	coffer_queue_holders_free(h, n);
	/* A worker id that is not one is Redis misbehaving. */
	freeReplyObject(test_redis_cmd(&R, "ZADD coffer:{hold}:workers 0 %s", "a b"));
	freeReplyObject(test_redis_cmd(&R, "RPUSH %s x", "coffer:{hold}:inflight:a b"));
	h = NULL;
	assert_int_equal(coffer_queue_holders(mon, &h, &n), COFFER_E_PROTO);
	assert_null(h);
	/* The Asperathos layout has no workers to name. */
	o.redis_url = R.url;
	o.job = "job";
	o.layout = COFFER_QUEUE_LAYOUT_ASPERATHOS;
	assert_int_equal(coffer_queue_open(&o, &asp), 0);
	assert_int_equal(coffer_queue_holders(asp, &h, &n), COFFER_E_UNSUPPORTED);
	coffer_queue_close(asp);
	coffer_queue_item_release(&a);
	coffer_queue_item_release(&b);
	coffer_queue_item_release(&c);
	coffer_queue_close(w1);
	coffer_queue_close(w2);
	coffer_queue_close(w3);
	coffer_queue_close(mon);
}

static void
test_queue__asperathos_layout_matches_a_consumer(void **state)
{
	static const char *const items[] = { "u1", "u2", "u3" };
	struct coffer_queue_opts o = { 0 };
	struct coffer_queue *q = NULL;
	struct coffer_queue_item it = { 0 };
	struct coffer_queue_stats s;
	redisReply *rep;
	size_t moved = 0;

	(void)state;
	o.redis_url = R.url;
	o.job = "job";
	o.layout = COFFER_QUEUE_LAYOUT_ASPERATHOS;
	o.stale_ms = 60000;
	assert_int_equal(coffer_queue_open(&o, &q), 0);
	load(q, items, 3);
	assert_int_equal(coffer_queue_load(q, items, 3), COFFER_E_EXISTS);
	assert_int_equal(test_redis_int(&R, "LLEN job"), 3);
	/* What an Asperathos consumer does. */
	rep = test_redis_cmd(&R, "RPOPLPUSH job job:processing");
	assert_string_equal(rep->str, "u3");
	freeReplyObject(rep);
	assert_int_equal(coffer_queue_stats(q, &s), 0);
	assert_int_equal(s.total, 3);
	assert_int_equal(s.in_flight, 1);
	assert_int_equal(s.queued, 2);
	assert_int_equal(s.done, 0);
	assert_int_equal(test_redis_int(&R, "LREM job:processing 1 u3"), 1);
	assert_int_equal(coffer_queue_stats(q, &s), 0);
	assert_int_equal(s.done, 1);
	/* Coffer's own worker calls are refused for this layout. */
	assert_int_equal(coffer_queue_take(q, 10, &it), COFFER_E_UNSUPPORTED);
	/* A consumer dies holding u2: after stale_ms it is offered again. */
	freeReplyObject(test_redis_cmd(&R, "RPOPLPUSH job job:processing"));
	assert_int_equal(coffer_queue_reap(q, &moved), 0);
	assert_int_equal(moved, 0);
	freeReplyObject(test_redis_cmd(&R, "HSET job:coffer:seen u2 0"));
	/* The Asperathos layout's reap rides with its stats too (4.8a). */
	assert_int_equal(coffer_queue_reap_stats(q, &moved, &s), 0);
	assert_int_equal(moved, 1);
	assert_int_equal(s.in_flight, 0);
	assert_int_equal(s.queued, 2);
	assert_int_equal(test_redis_int(&R, "LLEN job:processing"), 0);
	assert_int_equal(test_redis_int(&R, "LLEN job"), 2);
	assert_int_equal(test_redis_int(&R, "HLEN job:coffer:seen"), 0);
	assert_int_equal(coffer_queue_destroy(q), 0);
	assert_int_equal(test_redis_int(&R, "DBSIZE"), 0);
	coffer_queue_close(q);
}

static void
test_queue__counters_stay_exact_through_mixed_outcomes(void **state)
{
	enum { N = 60 };
	char ids[N][8];
	const char *items[N];
	struct coffer_queue *w = open_q("mix", "w1", 60000, 2);
	struct coffer_queue_item it = { 0 };
	size_t moved;
	int n = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "m%02d", i);
		items[i] = ids[i];
	}
	load(w, items, N);
	while (coffer_queue_take(w, 20, &it) == 0) {
		int k = (int)strtol(it.id + 1, NULL, 10);

		if (k % 3 == 0)
			assert_int_equal(coffer_queue_ack(w, &it), 0);
		else if (k % 3 == 1)
			assert_int_equal(coffer_queue_fail(w, &it, "odd", NULL), 0);
		else
			assert_int_equal(coffer_queue_bury(w, &it, "never"), 0);
		coffer_queue_item_release(&it);
		if (++n % 7 == 0) {
			freeReplyObject(test_redis_cmd(&R,
			    "ZUNIONSTORE coffer:{mix}:delayed 1 coffer:{mix}:delayed WEIGHTS 0"));
			assert_int_equal(coffer_queue_reap(w, &moved), 0);
		}
		check_stats(w, N, test_redis_int(&R, "SCARD coffer:{mix}:done"),
		    test_redis_int(&R, "LLEN coffer:{mix}:dead"), 0,
		    N - test_redis_int(&R, "SCARD coffer:{mix}:done") -
		    test_redis_int(&R, "LLEN coffer:{mix}:dead"));
	}
	freeReplyObject(test_redis_cmd(&R,
	    "ZUNIONSTORE coffer:{mix}:delayed 1 coffer:{mix}:delayed WEIGHTS 0"));
	assert_int_equal(coffer_queue_reap(w, &moved), 0);
	while (coffer_queue_take(w, 20, &it) == 0) {
		assert_int_equal(coffer_queue_fail(w, &it, "odd again", NULL), 0);
		coffer_queue_item_release(&it);
	}
	check_stats(w, N, 20, 40, 0, 0);
	coffer_queue_close(w);
}

static void
test_queue__renew_says_done_when_the_ack_came_first(void **state)
{
	static const char *const items[] = { "r1", "r2" };
	struct coffer_queue *w = open_q("rdone", "w1", 5000, 3);
	struct coffer_queue_item it = { 0 }, nx = { 0 };
	int got = 0, done = -1;

	(void)state;
	load(w, items, 2);
	take(w, &it);
	assert_int_equal(coffer_queue_renew(w, &it, &done), 0);
	assert_int_equal(done, 0);
	/* The runner acks r1 (and takes r2) before the supervisor's renewal
	 * of r1 arrives: the item is done, not lost, and gets no lease. */
	assert_int_equal(coffer_queue_ack_next(w, &it, &nx, &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(coffer_queue_renew(w, &it, &done), COFFER_E_STATE);
	assert_int_equal(done, 1);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{rdone}:lease:r1"), 0);
	/* A lease that is really lost still says so. */
	freeReplyObject(test_redis_cmd(&R, "SET coffer:{rdone}:lease:r2 other"));
	assert_int_equal(coffer_queue_renew(w, &nx, &done), COFFER_E_STATE);
	assert_int_equal(done, 0);
	check_stats(w, 2, 1, 0, 1, 0);
	coffer_queue_item_release(&it);
	coffer_queue_item_release(&nx);
	coffer_queue_close(w);
}

static void
test_queue__a_forgotten_worker_that_moves_an_item_is_registered_again(void **state)
{
	static const char *const items[] = { "a", "b", "c" };
	struct coffer_queue *w = open_q("m2", "w1", 5000, 3);
	struct coffer_queue *reaper = open_q("m2", NULL, 5000, 3);
	struct coffer_queue_item it = { 0 }, nx = { 0 };
	size_t moved = 0;
	int got = 0;
	redisReply *rep;

	(void)state;
	load(w, items, 3);
	take(w, &it);
	/* w1 stalls: its lease of a expires, the reaper returns a, and w1,
	 * silent with an empty list for longer than the worker TTL, is
	 * forgotten. */
	expire_lease("m2", "a");
	assert_int_equal(coffer_queue_reap(reaper, &moved), 0);
	assert_int_equal(moved, 1);
	freeReplyObject(test_redis_cmd(&R, "ZADD coffer:{m2}:workers 1 w1"));
	assert_int_equal(coffer_queue_reap(reaper, &moved), 0);
	assert_int_equal(test_redis_int(&R, "ZSCORE coffer:{m2}:workers w1"), -1);
	/* Then w1 comes back: a late ack of a, taking b in the same step.
	 * b is in w1's list: w1 must be registered, or b is neither counted
	 * nor ever reaped. */
	assert_int_equal(coffer_queue_ack_next(w, &it, &nx, &got), 0);
	assert_int_equal(got, 1);
	assert_string_equal(nx.id, "b");
	assert_true(test_redis_int(&R, "ZSCORE coffer:{m2}:workers w1") > 1);
	check_stats(reaper, 3, 1, 0, 1, 1);
	/* And reaped if w1 dies now. */
	freeReplyObject(test_redis_cmd(&R, "ZADD coffer:{m2}:workers 1 w1"));
	expire_lease("m2", "b");
	assert_int_equal(coffer_queue_reap(reaper, &moved), 0);
	assert_int_equal(moved, 1);
	check_stats(reaper, 3, 1, 0, 0, 2);
	/* claim registers too (an item moved by a BLMOVE of a worker the
	 * reaper dropped between its touch and the BLMOVE). */
	freeReplyObject(test_redis_cmd(&R, "LMOVE coffer:{m2}:queue"
	    " coffer:{m2}:inflight:w9 LEFT RIGHT"));
	rep = test_redis_cmd(&R, "EVAL %s 1 coffer:{m2}: w9 b 5000",
	    queue_scripts[QS_CLAIM].src);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->element[0]->integer, 1);
	freeReplyObject(rep);
	assert_true(test_redis_int(&R, "ZSCORE coffer:{m2}:workers w9") > 1);
	check_stats(reaper, 3, 1, 0, 1, 1);
	coffer_queue_item_release(&it);
	coffer_queue_item_release(&nx);
	coffer_queue_close(w);
	coffer_queue_close(reaper);
}

static void
test_queue__acks_and_fails_refuse_ids_unknown_to_the_job(void **state)
{
	static const char *const items[] = { "k1", "k2" };
	struct coffer_queue *w = open_q("unk", "w1", 5000, 3);
	struct coffer_queue_item it = { 0 }, nx = { 0 };
	struct coffer_queue_item never = { (char *)"k2", 1, 0 };
	struct coffer_queue_item bogus = { (char *)"not-an-item", 1, 0 };
	int got = -1, dead = -1;

	(void)state;
	load(w, items, 2);
	take(w, &it);
	/* k2 is waiting, never leased; not-an-item is no item at all. */
	assert_int_equal(coffer_queue_ack(w, &never), COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_ack(w, &bogus), COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_fail(w, &never, "x", &dead), COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_ack_next(w, &bogus, &nx, &got), COFFER_E_NOTFOUND);
	assert_int_equal(got, 0);
	assert_null(nx.id);
	assert_int_equal(test_redis_int(&R, "SCARD coffer:{unk}:done"), 0);
	assert_int_equal(test_redis_int(&R, "HEXISTS coffer:{unk}:errors k2"), 0);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{unk}:meta"), 1);
	check_stats(w, 2, 0, 0, 1, 1);
	/* The leased item settles as before. */
	assert_int_equal(coffer_queue_ack(w, &it), 0);
	check_stats(w, 2, 1, 0, 0, 1);
	coffer_queue_item_release(&it);
	coffer_queue_close(w);
}

static void
test_queue__an_own_only_handle_settles_only_its_workers_items(void **state)
{
	static const char *const items[] = { "o1", "o2", "o3" };
	struct coffer_queue_opts o = { 0 };
	struct coffer_queue *w1 = open_q("own", "w1", 5000, 3);
	struct coffer_queue *w2 = open_q("own", "w2", 5000, 3);
	struct coffer_queue *sup = NULL;
	struct coffer_queue_item a = { 0 }, b = { 0 };
	int dead = -1;

	(void)state;
	o.redis_url = R.url;
	o.job = "own";
	o.worker_id = "w1";
	o.settle_own_only = 1;
	assert_int_equal(coffer_queue_open(&o, &sup), 0);
	load(w1, items, 3);
	take(w1, &a);
	take(w2, &b);
	/* w1's supervisor, told (by a page a plugin wrote) that w1 holds o2:
	 * o2 is w2's, so nothing happens. */
	assert_int_equal(coffer_queue_ack(sup, &b), COFFER_E_NOTFOUND);
	assert_int_equal(coffer_queue_fail(sup, &b, "crashed", &dead), COFFER_E_NOTFOUND);
	assert_int_equal(test_redis_int(&R, "LLEN coffer:{own}:inflight:w2"), 1);
	assert_int_equal(test_redis_int(&R, "EXISTS coffer:{own}:lease:o2"), 1);
	assert_int_equal(test_redis_int(&R, "HEXISTS coffer:{own}:errors o2"), 0);
	check_stats(sup, 3, 0, 0, 2, 1);
	/* What w1 really holds, it settles; again: a no-op. */
	assert_int_equal(coffer_queue_ack(sup, &a), 0);
	assert_int_equal(coffer_queue_ack(sup, &a), 0);
	check_stats(sup, 3, 1, 0, 1, 1);
	/* w1's own handle keeps late acks (doc/queue.md 4.5 step 3). */
	assert_int_equal(coffer_queue_ack(w1, &b), 0);
	check_stats(sup, 3, 2, 0, 0, 1);
	coffer_queue_item_release(&a);
	coffer_queue_item_release(&b);
	coffer_queue_close(sup);
	coffer_queue_close(w1);
	coffer_queue_close(w2);
}

static void
test_queue__finished_needs_the_whole_identity(void **state)
{
	struct coffer_queue_stats s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_false(coffer_queue_stats_finished(&s)); /* no job */
	s.total = 5;
	s.done = 4;
	s.failed = 1;
	assert_true(coffer_queue_stats_finished(&s));
	/* done + failed == total, but an item is still in flight: the sum
	 * is 6, so something that is not the job's was counted. */
	s.in_flight = 1;
	assert_false(coffer_queue_stats_finished(&s));
	s.in_flight = 0;
	s.queued = 1;
	assert_false(coffer_queue_stats_finished(&s));
	s.queued = 0;
	s.done = 5;
	assert_false(coffer_queue_stats_finished(&s)); /* 6 != 5 */
}

static struct coffer_queue *
open_asp(const char *owner)
{
	struct coffer_queue_opts o = { 0 };
	struct coffer_queue *q = NULL;

	o.redis_url = R.url;
	o.job = "job";
	o.layout = COFFER_QUEUE_LAYOUT_ASPERATHOS;
	o.owner = owner;
	assert_int_equal(coffer_queue_open(&o, &q), 0);
	return q;
}

static void
test_queue__asperathos_keys_record_their_owner(void **state)
{
	static const char *const items[] = { "u1", "u2", "u3" };
	struct coffer_queue *a = open_asp("kj-aaa"), *b = open_asp("kj-bbb");
	struct coffer_queue *tool = open_asp(NULL);
	struct coffer_queue_meta m;
	struct coffer_queue_opts o = { 0 };
	struct coffer_queue *bad = NULL;

	(void)state;
	assert_int_equal(coffer_queue_meta(a, &m), 0);
	assert_int_equal(m.exists, 0);
	assert_string_equal(m.owner, "");
	load(a, items, 3);
	assert_int_equal(coffer_queue_meta(b, &m), 0);
	assert_int_equal(m.exists, 2);
	assert_string_equal(m.owner, "kj-aaa");
	assert_string_equal(m.state, "loaded");
	assert_int_equal(m.total, 3);
	/* Another job cannot load over them, nor delete them. */
	assert_int_equal(coffer_queue_load(b, items, 1), COFFER_E_EXISTS);
	assert_int_equal(coffer_queue_destroy(b), COFFER_E_STATE);
	assert_int_equal(test_redis_int(&R, "LLEN job"), 3);
	/* The owner can. */
	assert_int_equal(coffer_queue_destroy(a), 0);
	assert_int_equal(test_redis_int(&R, "DBSIZE"), 0);
	/* Lists Coffer did not record are not its to delete... */
	freeReplyObject(test_redis_cmd(&R, "RPUSH job x"));
	assert_int_equal(coffer_queue_meta(a, &m), 0);
	assert_int_equal(m.exists, 1);
	assert_string_equal(m.owner, "");
	assert_int_equal(coffer_queue_destroy(a), 0);
	assert_int_equal(test_redis_int(&R, "LLEN job"), 1);
	/* ...keys recorded before owners were (no owner field) are, and so
	 * is everything for a handle without an owner (tools). */
	freeReplyObject(test_redis_cmd(&R, "HSET job:coffer state loaded total 1"));
	assert_int_equal(coffer_queue_destroy(a), 0);
	assert_int_equal(test_redis_int(&R, "DBSIZE"), 0);
	freeReplyObject(test_redis_cmd(&R, "RPUSH job x"));
	assert_int_equal(coffer_queue_destroy(tool), 0);
	assert_int_equal(test_redis_int(&R, "DBSIZE"), 0);
	/* What Redis holds is untrusted: an owner that is no job id. */
	freeReplyObject(test_redis_cmd(&R, "HSET job:coffer owner %s state %s",
	    "a b", "weird"));
	assert_int_equal(coffer_queue_meta(a, &m), 0);
	assert_string_equal(m.owner, "?");
	assert_string_equal(m.state, "?");
	assert_int_equal(m.total, -1);
	/* An owner must itself be a job id. */
	o.redis_url = R.url;
	o.job = "job";
	o.layout = COFFER_QUEUE_LAYOUT_ASPERATHOS;
	o.owner = "no way";
	assert_int_equal(coffer_queue_open(&o, &bad), COFFER_E_INVAL);
	coffer_queue_close(a);
	coffer_queue_close(b);
	coffer_queue_close(tool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url__parses_the_accepted_forms),
		cmocka_unit_test(test_url__rejects_malformed_urls),
		cmocka_unit_test(test_queue__validates_job_and_item_ids),
		cmocka_unit_test_setup(test_queue__open_rejects_bad_options, flush),
		cmocka_unit_test(test_queue__a_connection_interrupted_by_a_signal_is_tried_again),
		cmocka_unit_test_setup(test_queue__load_is_once_and_checks_every_id_first, flush),
		cmocka_unit_test_setup(test_queue__load_handles_many_items_in_batches, flush),
		cmocka_unit_test_setup(test_queue__take_leases_counts_and_ack_is_idempotent, flush),
		cmocka_unit_test_setup(test_queue__ack_next_acks_and_takes_in_one_step, flush),
		cmocka_unit_test_setup(test_queue__ack_take_acks_a_batch_and_takes_a_fair_share, flush),
		cmocka_unit_test_setup(test_queue__failure_retries_with_backoff_then_dead_letters, flush),
		cmocka_unit_test_setup(test_queue__dead_letters_keep_the_last_error, flush),
		cmocka_unit_test_setup(test_queue__reaper_requeues_only_after_a_full_grace_without_lease, flush),
		cmocka_unit_test_setup(test_queue__renew_takes_back_an_expired_lease_not_yet_reaped, flush),
		cmocka_unit_test_setup(test_queue__late_ack_counts_once_and_cleans_the_duplicate, flush),
		cmocka_unit_test_setup(test_queue__late_ack_rescues_a_dead_lettered_item, flush),
		cmocka_unit_test_setup(test_queue__take_drops_items_already_done, flush),
		cmocka_unit_test_setup(test_queue__malformed_entries_are_dead_lettered_not_served, flush),
		cmocka_unit_test_setup(test_queue__survives_script_flush_and_server_restart, flush),
		cmocka_unit_test_setup(test_queue__forgets_silent_workers_with_nothing_in_flight, flush),
		cmocka_unit_test_setup(test_queue__destroy_removes_every_key, flush),
		cmocka_unit_test_setup(test_queue__asperathos_layout_matches_a_consumer, flush),
		cmocka_unit_test_setup(test_queue__counters_stay_exact_through_mixed_outcomes, flush),
		cmocka_unit_test_setup(test_queue__first_acks_add_their_item_times_to_the_job, flush),
		cmocka_unit_test_setup(test_queue__replica_worker_ids_name_their_replica, flush),
		cmocka_unit_test_setup(test_queue__holders_are_the_workers_with_items_in_flight, flush),
		cmocka_unit_test_setup(test_queue__renew_says_done_when_the_ack_came_first, flush),
		cmocka_unit_test_setup(test_queue__a_forgotten_worker_that_moves_an_item_is_registered_again, flush),
		cmocka_unit_test_setup(test_queue__acks_and_fails_refuse_ids_unknown_to_the_job, flush),
		cmocka_unit_test_setup(test_queue__an_own_only_handle_settles_only_its_workers_items, flush),
		cmocka_unit_test(test_queue__finished_needs_the_whole_identity),
		cmocka_unit_test_setup(test_queue__asperathos_keys_record_their_owner, flush),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
