// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the Redis replies the queue reads (src/queue/replies*.c:
// claim, renew, ack, ack_next, take_more, fail, stats, meta, holders, dead
// letters, SCRIPT LOAD). The input is the bytes a server would send: it
// goes through hiredis's own reader (redisReaderFeed), as on a real
// connection, and every reply it yields is given to every reader. What a
// reader accepts must be what the queue may use: item ids that are ids,
// attempts from 1, counts within what was asked for, NUL-terminated
// strings.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "coffer/error.h"
#include "queue/replies.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WANT 8

static int
malformed(const char *raw, size_t len, void *arg)
{
	(void)raw;
	(void)len;
	(*(size_t *)arg)++;
	return COFFER_E_FORMAT;
}

static void
dead(const char *id, uint32_t attempts, const char *error, void *arg)
{
	(void)attempts;
	/* NUL-terminated, readable. */
	*(size_t *)arg += strlen(id) + strlen(error);
}

static void
check_item(const struct coffer_queue_item *it)
{
	if (it->id == NULL || it->attempt < 1 ||
	    coffer_queue_check_item(it->id, strlen(it->id)) != 0)
		abort();
}

static void
every_reader(const redisReply *rep)
{
	struct coffer_queue_item next[WANT], one;
	struct coffer_queue_stats st;
	struct coffer_queue_meta m;
	struct coffer_queue_holder *h = NULL;
	long long v[5];
	char sha[41];
	size_t got = 0, bad = 0, n = 0, sum = 0;
	uint32_t attempt = 0;
	int claimed = 0, refused = 0, g = 0, d = 0;

	(void)!queue_reply_int(rep, "fuzz", "int", v);
	(void)!queue_reply_ints(rep, "fuzz", "ints", v, 2);
	(void)!queue_reply_ints(rep, "fuzz", "ints", v, 5);
	if (queue_reply_sha(rep, "fuzz", "sha", sha) == 0 && strlen(sha) != 40)
		abort();
	if (queue_reply_claim(rep, "fuzz", &claimed, &attempt) == 0 && claimed &&
	    attempt < 1)
		abort();
	memset(&one, 0, sizeof(one));
	if (queue_reply_ack_next(rep, "fuzz", &refused, &one, &g, malformed,
	    &bad) == 0 && g) {
		if (refused)
			abort();
		check_item(&one);
	}
	coffer_queue_item_release(&one);
	memset(next, 0, sizeof(next));
	if (queue_reply_take_more(rep, "fuzz", WANT, next, &got, malformed,
	    &bad) == 0) {
		if (got > WANT)
			abort();
		for (size_t i = 0; i < got; i++)
			check_item(&next[i]);
	}
	for (size_t i = 0; i < got; i++)
		coffer_queue_item_release(&next[i]);
	(void)!queue_reply_fail(rep, "fuzz", &refused, &d);
	for (int coffer = 0; coffer < 2; coffer++)
		if (queue_reply_stats(rep, "fuzz", coffer, &st) == 0 &&
		    (st.timed < 0 || st.time_sum_s < 0 || st.time_sq_sum_s2 < 0))
			abort();
	if (queue_reply_meta(rep, "fuzz", &m) == 0) {
		if (m.exists < 0 || m.exists > 3 || m.total < -1)
			abort();
		if (m.owner[0] != '\0' && strcmp(m.owner, "?") != 0 &&
		    coffer_queue_check_job(m.owner) != 0)
			abort();
	}
	if (queue_reply_holders(rep, "fuzz", &h, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (h[i].items < 1 || h[i].worker == NULL ||
			    queue_check_worker(h[i].worker) != 0 ||
			    coffer_queue_check_item(h[i].item, strlen(h[i].item)) != 0)
				abort();
		coffer_queue_holders_free(h, n);
	}
	(void)!queue_reply_dead_page(rep, "fuzz", dead, &sum, &n);
	coffer_errclear();
}

/*
 * The reader is capped as the queue's connections are (queue_reader_cap:
 * hiredis 0.14 would calloc a declared array whole, 8 GB for
 * "*999999999"), so inputs that declare huge arrays test the cap.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *rd = NULL;
	void *rep = NULL;

	if ((rd = redisReaderCreate()) == NULL)
		return 0;
	queue_reader_cap(rd);
	if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK) {
		/* Every complete reply in the input, as a pipeline reads them. */
		for (int i = 0; i < 64; i++) {
			rep = NULL;
			if (redisReaderGetReply(rd, &rep) != REDIS_OK || rep == NULL) {
				(void)queue_reader_refused();
				break;
			}
			every_reader(rep);
			freeReplyObject(rep);
		}
	}
	redisReaderFree(rd);
	return 0;
}
