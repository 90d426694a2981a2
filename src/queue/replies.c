// SPDX-License-Identifier: Apache-2.0
// The queue's replies read into its structures (queue/replies.h), apart
// from the connection so that tests/fuzz/fuzz_queue_replies.c can feed
// them every reply tree a server could send. A reply is untrusted: types,
// counts, lengths and ranges are checked before anything is used, and an
// array's elements may be of any type, nested or not.
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/mem.h"
#include "queue/replies.h"

int
queue_reply_unexpected(const char *where, const char *what)
{
	return coffer_errf(COFFER_E_PROTO, "redis %s: %s: unexpected reply", where,
	    what);
}

/* hiredis's own functions (every reader starts with the same table),
 * copied once from a reader made for the purpose. */
static redisReplyObjectFunctions hiredis_fn;
static redisReplyObjectFunctions capped_fn;
static pthread_once_t capped_once = PTHREAD_ONCE_INIT;
static _Thread_local long long refused_elements;

static void *
capped_array(const redisReadTask *task, int elements)
{
	if (elements > QUEUE_REPLY_ARRAY_MAX) {
		refused_elements = elements;
		return NULL;
	}
	return hiredis_fn.createArray(task, elements);
}

static void
capped_init(void)
{
	redisReader *r = redisReaderCreate();

	if (r == NULL || r->fn == NULL || r->fn->createArray == NULL)
		abort(); /* hiredis without its own functions: not a hiredis */
	hiredis_fn = *r->fn;
	capped_fn = hiredis_fn;
	capped_fn.createArray = capped_array;
	redisReaderFree(r);
}

void
queue_reader_cap(redisReader *r)
{
	(void)pthread_once(&capped_once, capped_init);
	if (r != NULL)
		r->fn = &capped_fn;
}

long long
queue_reader_refused(void)
{
	long long n = refused_elements;

	refused_elements = 0;
	return n;
}

int
queue_reply_int(const redisReply *rep, const char *where, const char *what,
    long long *v)
{
	if (rep->type != REDIS_REPLY_INTEGER)
		return coffer_errf(COFFER_E_PROTO, "redis %s: %s: expected an integer"
		    " reply", where, what);
	*v = rep->integer;
	return 0;
}

int
queue_reply_ints(const redisReply *rep, const char *where, const char *what,
    long long *v, size_t n)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n)
		return coffer_errf(COFFER_E_PROTO, "redis %s: %s: expected %zu"
		    " integers", where, what, n);
	for (size_t i = 0; i < n; i++)
		if (queue_reply_int(rep->element[i], where, what, &v[i]) != 0)
			return COFFER_E_PROTO;
	return 0;
}

int
queue_reply_sha(const redisReply *rep, const char *where, const char *what,
    char sha[41])
{
	if (rep->type != REDIS_REPLY_STRING || rep->len != 40 ||
	    strspn(rep->str, "0123456789abcdef") != 40)
		return coffer_errf(COFFER_E_PROTO, "redis %s: SCRIPT LOAD %s:"
		    " unexpected reply", where, what);
	memcpy(sha, rep->str, 41);
	return 0;
}

int
queue_reply_claim(const redisReply *rep, const char *where, int *claimed,
    uint32_t *attempt)
{
	long long v[2];
	int r;

	if ((r = queue_reply_ints(rep, where, "claim", v, 2)) != 0)
		return r;
	*claimed = v[0] == 1;
	if (*claimed && (v[1] < 1 || v[1] > UINT32_MAX))
		return coffer_errf(COFFER_E_PROTO, "claim: attempt %lld", v[1]);
	if (*claimed)
		*attempt = (uint32_t)v[1];
	return 0;
}

int
queue_reply_ack_next(const redisReply *rep, const char *where, int *refused,
    struct coffer_queue_item *next, int *got, queue_malformed_fn malformed,
    void *arg)
{
	const redisReply *e;
	long long v[2] = { 0, 0 }, attempt;
	int r;

	*refused = *got = 0;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 4 ||
	    queue_reply_int(rep->element[0], where, "ack", &v[0]) != 0 ||
	    queue_reply_int(rep->element[1], where, "ack", &v[1]) != 0 ||
	    rep->element[3]->type != REDIS_REPLY_INTEGER)
		return queue_reply_unexpected(where, "ack_next");
	if (v[0] < 0) {
		*refused = 1;
		return 0;
	}
	e = rep->element[2];
	if (e->type != REDIS_REPLY_STRING)
		return 0;
	attempt = rep->element[3]->integer;
	if (attempt == 0 || coffer_queue_check_item(e->str, e->len) != 0) {
		/* The ack is done; the entry behind it is garbage. */
		r = malformed(e->str, e->len, arg);
		return r == COFFER_E_FORMAT ? 0 : r;
	}
	if (attempt < 1 || attempt > UINT32_MAX)
		return coffer_errf(COFFER_E_PROTO, "ack_next: bad attempt");
	if ((next->id = coffer_strndup(e->str, e->len)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "item id");
	next->attempt = (uint32_t)attempt;
	next->leased_ms = coffer_mono_ms();
	*got = 1;
	return 0;
}

int
queue_reply_take_more(const redisReply *rep, const char *where, size_t want,
    struct coffer_queue_item *next, size_t *got, queue_malformed_fn malformed,
    void *arg)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0 ||
	    rep->elements > 2 * want)
		return queue_reply_unexpected(where, "take_more");
	for (size_t i = 0; i < rep->elements; i += 2) {
		const redisReply *e = rep->element[i], *a = rep->element[i + 1];

		if (e->type != REDIS_REPLY_STRING || a->type != REDIS_REPLY_INTEGER ||
		    a->integer < 0 || a->integer > UINT32_MAX)
			return queue_reply_unexpected(where, "take_more");
		if (a->integer == 0 || coffer_queue_check_item(e->str, e->len) != 0) {
			/* Garbage behind the acks: dead-letter it, go on. */
			(void)malformed(e->str, e->len, arg);
			coffer_errclear();
			continue;
		}
		if ((next[*got].id = coffer_strndup(e->str, e->len)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "item id");
		next[*got].attempt = (uint32_t)a->integer;
		next[*got].leased_ms = coffer_mono_ms();
		(*got)++;
	}
	return 0;
}

int
queue_reply_fail(const redisReply *rep, const char *where, int *refused,
    int *dead)
{
	if (rep->type != REDIS_REPLY_STRING && rep->type != REDIS_REPLY_STATUS)
		return queue_reply_unexpected(where, "fail");
	*refused = strcmp(rep->str, "refused") == 0;
	*dead = strcmp(rep->str, "dead") == 0;
	return 0;
}

/* A number stored by HINCRBY/HINCRBYFLOAT, finite and >= 0; -1 if not. */
static double
stored_number(const redisReply *e)
{
	char buf[64], *end = NULL;
	double v;

	if (e->type == REDIS_REPLY_INTEGER)
		return e->integer >= 0 ? (double)e->integer : -1;
	if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len >= sizeof(buf))
		return -1;
	memcpy(buf, e->str, e->len);
	buf[e->len] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (end == buf || *end != '\0' || errno != 0 || !isfinite(v) || v < 0)
		return -1;
	return v;
}

int
queue_reply_stats(const redisReply *rep, const char *where, int coffer,
    struct coffer_queue_stats *s)
{
	long long v[5] = { 0 };
	double t[3] = { 0, 0, 0 };
	int r = 0;

	if (coffer && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 8))
		return coffer_errf(COFFER_E_PROTO, "redis %s: stats: expected 8"
		    " elements", where);
	if (coffer) {
		for (int i = 0; i < 5 && r == 0; i++)
			r = queue_reply_int(rep->element[i], where, "stats", &v[i]);
		for (int i = 0; i < 3; i++)
			t[i] = stored_number(rep->element[5 + i]);
	} else {
		r = queue_reply_ints(rep, where, "stats", v, 5);
	}
	if (r != 0)
		return r;
	s->total = v[0];
	s->done = v[1];
	s->failed = v[2];
	s->in_flight = v[3];
	s->queued = v[4];
	/* Estimates only: anything malformed (or an impossible sum of
	 * squares, below the square of the sum over n) reads as unknown. */
	if (t[0] < 1 || t[0] > 9e15 || t[1] < 0 || t[2] < 0 ||
	    t[2] * t[0] < t[1] * t[1] * (1 - 1e-9)) {
		t[0] = t[1] = t[2] = 0;
	}
	s->timed = (int64_t)t[0];
	s->time_sum_s = t[1] / 1e3;
	s->time_sq_sum_s2 = t[2] / 1e6;
	return 0;
}
