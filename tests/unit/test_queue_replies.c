// SPDX-License-Identifier: Apache-2.0
// Unit tests for the queue's reply readers (src/queue/replies*.c), fed the
// bytes a server would send through hiredis's own reader: what is not a
// reply the scripts give is refused or read as unknown, never used.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>

#include "coffer/error.h"
#include "queue/replies.h"

/* The one reply in resp (RESP bytes). */
static redisReply *
reply(const char *resp)
{
	redisReader *rd = redisReaderCreate();
	void *rep = NULL;

	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, resp, strlen(resp)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &rep), REDIS_OK);
	assert_non_null(rep);
	redisReaderFree(rd);
	return rep;
}

struct seen {
	size_t n;
	char last[64];
};

static int
malformed(const char *raw, size_t len, void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int)len, raw);
	return COFFER_E_FORMAT;
}

static void
test_replies__take_more_skips_malformed_entries_and_bounds_the_count(void **state)
{
	struct coffer_queue_item next[2];
	struct seen s = { 0, "" };
	redisReply *rep;
	size_t got = 0;

	(void)state;
	memset(next, 0, sizeof(next));
	rep = reply("*6\r\n$2\r\ni1\r\n:1\r\n$4\r\nb d!\r\n:1\r\n$2\r\ni2\r\n:0\r\n");
	assert_int_equal(queue_reply_take_more(rep, "r", 3, next, &got, malformed,
	    &s), 0);
	/* "b d!" is no item id, i2 has no attempt: both dead-lettered. */
	assert_int_equal(got, 1);
	assert_string_equal(next[0].id, "i1");
	assert_int_equal(next[0].attempt, 1);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.last, "i2");
	coffer_queue_item_release(&next[0]);
	/* Three pairs for two wanted: out of format, nothing taken. */
	got = 0;
	assert_int_equal(queue_reply_take_more(rep, "r", 2, next, &got, malformed,
	    &s), COFFER_E_PROTO);
	assert_int_equal(got, 0);
	freeReplyObject(rep);
}

static void
test_replies__ack_next_reads_the_next_item_or_none(void **state)
{
	struct coffer_queue_item next;
	struct seen s = { 0, "" };
	redisReply *rep;
	int refused = 0, got = 0;

	(void)state;
	memset(&next, 0, sizeof(next));
	rep = reply("*4\r\n:1\r\n:1\r\n$2\r\ni3\r\n:2\r\n");
	assert_int_equal(queue_reply_ack_next(rep, "r", &refused, &next, &got,
	    malformed, &s), 0);
	assert_int_equal(got, 1);
	assert_string_equal(next.id, "i3");
	assert_int_equal(next.attempt, 2);
	coffer_queue_item_release(&next);
	freeReplyObject(rep);
	rep = reply("*4\r\n:-1\r\n:0\r\n$-1\r\n:0\r\n");
	assert_int_equal(queue_reply_ack_next(rep, "r", &refused, &next, &got,
	    malformed, &s), 0);
	assert_int_equal(refused, 1);
	assert_int_equal(got, 0);
	freeReplyObject(rep);
	/* An attempt that does not fit: refused, nothing allocated. */
	rep = reply("*4\r\n:1\r\n:1\r\n$2\r\ni3\r\n:4294967296\r\n");
	assert_int_equal(queue_reply_ack_next(rep, "r", &refused, &next, &got,
	    malformed, &s), COFFER_E_PROTO);
	assert_null(next.id);
	freeReplyObject(rep);
	/* Not an array of four. */
	rep = reply("*3\r\n:1\r\n:1\r\n$2\r\ni3\r\n");
	assert_int_equal(queue_reply_ack_next(rep, "r", &refused, &next, &got,
	    malformed, &s), COFFER_E_PROTO);
	freeReplyObject(rep);
	assert_int_equal(s.n, 0);
}

static void
test_replies__script_sha_is_40_hex_digits(void **state)
{
	redisReply *rep;
	char sha[41];

	(void)state;
	rep = reply("$40\r\n0123456789abcdef0123456789abcdef01234567\r\n");
	assert_int_equal(queue_reply_sha(rep, "r", "ack", sha), 0);
	assert_string_equal(sha, "0123456789abcdef0123456789abcdef01234567");
	freeReplyObject(rep);
	rep = reply("$40\r\n0123456789abcdef0123456789abcdef0123456g\r\n");
	assert_int_equal(queue_reply_sha(rep, "r", "ack", sha), COFFER_E_PROTO);
	freeReplyObject(rep);
}

static void
count_dead(const char *id, uint32_t attempts, const char *error, void *arg)
{
	(void)id;
	(void)error;
	*(uint32_t *)arg += attempts;
}

static void
test_replies__dead_letter_attempts_are_decimal_digits(void **state)
{
	const char *bad[] = { "+3", " 3", "-1", "4294967296", "3x", "" };
	char resp[128];
	redisReply *rep;
	uint32_t sum = 0;
	size_t n = 0;

	(void)state;
	rep = reply("*6\r\n$2\r\ni1\r\n$1\r\n3\r\n$4\r\nboom\r\n"
	    "$2\r\ni2\r\n$10\r\n4294967295\r\n$0\r\n\r\n");
	assert_int_equal(queue_reply_dead_page(rep, "r", count_dead, &sum, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sum, 2); /* 3 + 4294967295, modulo 2^32 */
	freeReplyObject(rep);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(resp, sizeof(resp), "*3\r\n$2\r\ni1\r\n$%zu\r\n%s\r\n$1\r\nx\r\n",
		    strlen(bad[i]), bad[i]);
		rep = reply(resp);
		assert_int_equal(queue_reply_dead_page(rep, "r", count_dead, &sum, &n),
		    COFFER_E_PROTO);
		freeReplyObject(rep);
	}
}

static void
test_replies__meta_reads_what_is_not_ours_as_unknown(void **state)
{
	struct coffer_queue_meta m;
	redisReply *rep;

	(void)state;
	rep = reply("*4\r\n:7\r\n$4\r\nj/..\r\n$4\r\nmine\r\n$3\r\n12x\r\n");
	assert_int_equal(queue_reply_meta(rep, "r", &m), 0);
	assert_int_equal(m.exists, 3);
	assert_string_equal(m.owner, "?");
	assert_string_equal(m.state, "?");
	assert_int_equal(m.total, -1);
	freeReplyObject(rep);
	rep = reply("*4\r\n:1\r\n$5\r\njob-1\r\n$6\r\nloaded\r\n$2\r\n12\r\n");
	assert_int_equal(queue_reply_meta(rep, "r", &m), 0);
	assert_string_equal(m.owner, "job-1");
	assert_string_equal(m.state, "loaded");
	assert_int_equal(m.total, 12);
	freeReplyObject(rep);
}

static void
test_replies__a_declared_array_over_the_cap_is_refused_before_allocation(void **state)
{
	char big[64], nested[64];
	const char *ok = "*1048576\r\n:1\r\n";
	redisReader *rd;
	void *rep = NULL;

	(void)state;
	snprintf(big, sizeof(big), "*%d\r\n", QUEUE_REPLY_ARRAY_MAX + 1);
	snprintf(nested, sizeof(nested), "*2\r\n:1\r\n*999999999\r\n");
	(void)queue_reader_refused();

	/* Uncapped, hiredis would take the header (and calloc it). */
	rd = redisReaderCreate();
	assert_non_null(rd);
	queue_reader_cap(rd);
	queue_reader_cap(rd); /* twice is once */
	assert_int_equal(redisReaderFeed(rd, big, strlen(big)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &rep), REDIS_ERR);
	assert_null(rep);
	assert_int_equal(queue_reader_refused(), QUEUE_REPLY_ARRAY_MAX + 1);
	assert_int_equal(queue_reader_refused(), 0);
	redisReaderFree(rd);

	/* Nested, after other elements. */
	rd = redisReaderCreate();
	queue_reader_cap(rd);
	assert_int_equal(redisReaderFeed(rd, nested, strlen(nested)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &rep), REDIS_ERR);
	assert_int_equal(queue_reader_refused(), 999999999);
	redisReaderFree(rd);

	/* At the cap: taken, and waits for its elements. */
	rd = redisReaderCreate();
	queue_reader_cap(rd);
	assert_int_equal(redisReaderFeed(rd, ok, strlen(ok)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &rep), REDIS_OK);
	assert_null(rep);
	assert_int_equal(queue_reader_refused(), 0);
	redisReaderFree(rd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies__take_more_skips_malformed_entries_and_bounds_the_count),
		cmocka_unit_test(test_replies__ack_next_reads_the_next_item_or_none),
		cmocka_unit_test(test_replies__script_sha_is_40_hex_digits),
		cmocka_unit_test(test_replies__dead_letter_attempts_are_decimal_digits),
		cmocka_unit_test(test_replies__meta_reads_what_is_not_ours_as_unknown),
		cmocka_unit_test(test_replies__a_declared_array_over_the_cap_is_refused_before_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
