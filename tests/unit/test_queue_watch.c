// SPDX-License-Identifier: Apache-2.0
// Unit tests for the drain signal (doc/queue.md 4.9): which settlements
// publish it (the scripts) and its subscriber (src/queue/watch.c), against
// a real redis-server started for this file. Whether a message was sent is
// decided without waiting: the test publishes a sentinel on the same
// channel after each step, and Redis delivers a channel's messages in
// order, so the sentinel arriving first means nothing was sent before it.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "queue/queue.h"
#include "queue/watch.h"
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
open_q(const char *job, const char *worker)
{
	struct coffer_queue_opts o = { 0 };
	struct coffer_queue *q = NULL;
	int r;

	o.redis_url = R.url;
	o.job = job;
	o.worker_id = worker;
	o.lease_ms = 5000;
	o.max_attempts = 3;
	o.backoff_ms = 100;
	if ((r = coffer_queue_open(&o, &q)) != 0)
		fail_msg("open: %s: %s", coffer_strerror(r), coffer_errdetail());
	return q;
}

static void
take(struct coffer_queue *q, struct coffer_queue_item *it)
{
	int r = coffer_queue_take(q, 100, it);

	if (r != 0)
		fail_msg("take: %s: %s", coffer_strerror(r), coffer_errdetail());
}

/* A plain subscriber to job's channel (its own connection). */
static redisContext *
subscribe(const char *job)
{
	redisContext *s = redisConnect("127.0.0.1", R.port);
	redisReply *rep;

	assert_non_null(s);
	assert_int_equal(s->err, 0);
	rep = redisCommand(s, "SUBSCRIBE coffer:{%s}:drained", job);
	assert_non_null(rep);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_string_equal(rep->element[0]->str, "subscribe");
	freeReplyObject(rep);
	return s;
}

/* The next message on s: its body, into out. */
static void
next_message(redisContext *s, char *out, size_t outlen)
{
	redisReply *rep = NULL;

	assert_int_equal(redisGetReply(s, (void **)&rep), REDIS_OK);
	assert_non_null(rep);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->elements, 3);
	assert_string_equal(rep->element[0]->str, "message");
	snprintf(out, outlen, "%s", rep->element[2]->str);
	freeReplyObject(rep);
}

/* Nothing was published on job's channel since the last message read:
 * a sentinel published now is the next one. */
static void
expect_nothing(redisContext *s, const char *job)
{
	char got[64];

	freeReplyObject(test_redis_cmd(&R, "PUBLISH coffer:{%s}:drained sentinel",
	    job));
	next_message(s, got, sizeof(got));
	assert_string_equal(got, "sentinel");
}

/* The drain signal, with the total as its body, then nothing more. */
static void
expect_drained(redisContext *s, const char *job, const char *total)
{
	char got[64];

	next_message(s, got, sizeof(got));
	assert_string_equal(got, total);
	expect_nothing(s, job);
}

static void
test_queue_watch__only_the_last_settlement_publishes(void **state)
{
	static const char *const items[] = { "x1", "x2", "x3" };
	struct coffer_queue *q = open_q("dr", "w1");
	struct coffer_queue_item it = { 0 }, it2 = { 0 };
	redisContext *s = subscribe("dr");

	(void)state;
	assert_int_equal(coffer_queue_load(q, items, 3), 0);
	take(q, &it);
	assert_int_equal(coffer_queue_ack(q, &it), 0);
	coffer_queue_item_release(&it);
	expect_nothing(s, "dr");
	/* A burial is a settlement (DS1): not the last one yet. */
	take(q, &it);
	assert_int_equal(coffer_queue_bury(q, &it, "bad"), 0);
	coffer_queue_item_release(&it);
	expect_nothing(s, "dr");
	/* A failure that retries settles nothing. */
	take(q, &it);
	assert_int_equal(coffer_queue_fail(q, &it, "again", NULL), 0);
	coffer_queue_item_release(&it);
	expect_nothing(s, "dr");
	freeReplyObject(test_redis_cmd(&R,
	    "ZADD coffer:{dr}:delayed 0 x3"));  /* due now */
	assert_int_equal(coffer_queue_reap(q, NULL), 0);
	take(q, &it);
	assert_string_equal(it.id, "x3");
	/* The last: done 2 + dead 1 = total 3. */
	assert_int_equal(coffer_queue_ack(q, &it), 0);
	expect_drained(s, "dr", "3");
	/* A repeated ack adds nothing and sends nothing again (DS5). */
	assert_int_equal(coffer_queue_ack(q, &it), 0);
	expect_nothing(s, "dr");
	coffer_queue_item_release(&it);
	coffer_queue_close(q);
	redisFree(s);

	/* ack_next's ack, and a burial, as the last settlement. */
	q = open_q("dr2", "w1");
	s = subscribe("dr2");
	assert_int_equal(coffer_queue_load(q, items, 2), 0);
	take(q, &it);
	{
		int got = 0;

		assert_int_equal(coffer_queue_ack_next(q, &it, &it2, &got), 0);
		assert_int_equal(got, 1);
	}
	expect_nothing(s, "dr2");
	assert_int_equal(coffer_queue_bury(q, &it2, "bad"), 0);
	expect_drained(s, "dr2", "2");
	coffer_queue_item_release(&it);
	coffer_queue_item_release(&it2);
	coffer_queue_close(q);
	redisFree(s);

	q = open_q("dr3", "w1");
	s = subscribe("dr3");
	assert_int_equal(coffer_queue_load(q, items, 1), 0);
	take(q, &it);
	{
		int got = 1;

		assert_int_equal(coffer_queue_ack_next(q, &it, &it2, &got), 0);
		assert_int_equal(got, 0);
	}
	expect_drained(s, "dr3", "1");
	coffer_queue_item_release(&it);
	coffer_queue_close(q);
	redisFree(s);
}

/* DS2: a server that refuses the PUBLISH (here an ACL without channels)
 * loses the signal and nothing else. */
static void
test_queue_watch__a_refused_publish_loses_only_the_signal(void **state)
{
	static const char *const items[] = { "y1" };
	struct coffer_queue *q = open_q("refused", "w1");
	struct coffer_queue_item it = { 0 };
	struct coffer_queue_stats st;
	int r;

	(void)state;
	assert_int_equal(coffer_queue_load(q, items, 1), 0);
	take(q, &it);
	freeReplyObject(test_redis_cmd(&R, "ACL SETUSER default resetchannels"));
	r = coffer_queue_ack(q, &it);
	freeReplyObject(test_redis_cmd(&R, "ACL SETUSER default allchannels"));
	if (r != 0)
		fail_msg("ack: %s: %s", coffer_strerror(r), coffer_errdetail());
	assert_int_equal(coffer_queue_stats(q, &st), 0);
	assert_int_equal(st.done, 1);
	assert_true(coffer_queue_stats_finished(&st));
	coffer_queue_item_release(&it);
	coffer_queue_close(q);
}

struct events {
	int subscribed, drained;
};

static void
on_event(enum coffer_queue_watch_event ev, void *arg)
{
	struct events *e = arg;

	if (ev == COFFER_QUEUE_WATCH_SUBSCRIBED)
		e->subscribed++;
	else if (ev == COFFER_QUEUE_WATCH_DRAINED)
		e->drained++;
}

/* Run the loop until *count reaches want (20 s at most: a test that
 * hangs is a failure, not a wait). */
static void
loop_until(struct event_base *base, const int *count, int want)
{
	int64_t end = coffer_mono_ms() + 20000;
	struct timeval tick = { 0, 50000 };

	while (*count < want) {
		if (coffer_mono_ms() > end)
			fail_msg("the watch's event did not come (%d of %d)", *count,
			    want);
		(void)event_base_loopexit(base, &tick);
		(void)event_base_dispatch(base);
	}
}

static void
test_queue_watch__wakes_at_the_drain_and_subscribes_again(void **state)
{
	static const char *const items[] = { "z1" };
	struct event_base *base = event_base_new();
	struct coffer_queue_watch *w = NULL;
	struct coffer_queue *q = open_q("wt", "w1");
	struct coffer_queue_item it = { 0 };
	struct events e = { 0, 0 };

	(void)state;
	assert_non_null(base);
	assert_int_equal(coffer_queue_watch_new(base, R.url, "wt", on_event, &e,
	    &w), 0);
	loop_until(base, &e.subscribed, 1);
	assert_int_equal(e.drained, 0);
	assert_int_equal(coffer_queue_load(q, items, 1), 0);
	take(q, &it);
	assert_int_equal(coffer_queue_ack(q, &it), 0);
	loop_until(base, &e.drained, 1);
	assert_int_equal(coffer_queue_watch_messages(w), 1);
	/* The connection lost (as when Redis restarts): subscribed again,
	 * and reported, so the caller reads the counts (DS4). */
	freeReplyObject(test_redis_cmd(&R, "CLIENT KILL TYPE pubsub"));
	loop_until(base, &e.subscribed, 2);
	freeReplyObject(test_redis_cmd(&R, "PUBLISH coffer:{wt}:drained 1"));
	loop_until(base, &e.drained, 2);
	/* Another job's channel is not this watch's. */
	freeReplyObject(test_redis_cmd(&R, "PUBLISH coffer:{other}:drained 1"));
	freeReplyObject(test_redis_cmd(&R, "PUBLISH coffer:{wt}:drained 1"));
	loop_until(base, &e.drained, 3);
	assert_int_equal(coffer_queue_watch_messages(w), 3);
	coffer_queue_watch_free(w);
	coffer_queue_item_release(&it);
	coffer_queue_close(q);
	event_base_free(base);
}

static void
test_queue_watch__rejects_a_bad_job_or_url(void **state)
{
	struct event_base *base = event_base_new();
	struct coffer_queue_watch *w = NULL;
	struct events e = { 0, 0 };

	(void)state;
	assert_int_equal(coffer_queue_watch_new(base, R.url, "bad job", on_event,
	    &e, &w), COFFER_E_FORMAT);
	assert_int_equal(coffer_queue_watch_new(base, "http://x", "j", on_event,
	    &e, &w), COFFER_E_FORMAT);
	assert_null(w);
	coffer_queue_watch_free(NULL);
	event_base_free(base);
}

/* A server that is not there: no event, and freeing it while it retries
 * is clean (ASan checks). */
static void
test_queue_watch__a_missing_server_is_retried_quietly(void **state)
{
	struct event_base *base = event_base_new();
	struct coffer_queue_watch *w = NULL;
	struct events e = { 0, 0 };
	struct timeval t = { 0, 200000 };

	(void)state;
	assert_int_equal(coffer_queue_watch_new(base, "redis://127.0.0.1:1", "j",
	    on_event, &e, &w), 0);
	(void)event_base_loopexit(base, &t);
	(void)event_base_dispatch(base);
	assert_int_equal(e.subscribed + e.drained, 0);
	coffer_queue_watch_free(w);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_queue_watch__only_the_last_settlement_publishes, flush),
		cmocka_unit_test_setup(test_queue_watch__a_refused_publish_loses_only_the_signal, flush),
		cmocka_unit_test_setup(test_queue_watch__wakes_at_the_drain_and_subscribes_again, flush),
		cmocka_unit_test(test_queue_watch__rejects_a_bad_job_or_url),
		cmocka_unit_test(test_queue_watch__a_missing_server_is_retried_quietly),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
