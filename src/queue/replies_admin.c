// SPDX-License-Identifier: Apache-2.0
// The replies of the queue's control-plane steps (queue_admin.c) read into
// its structures (queue/replies.h): a job's meta, holders and dead
// letters. Untrusted as every reply (replies.c); the worker does not link
// this file.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/mem.h"
#include "queue/replies.h"

int
queue_reply_meta(const redisReply *rep, const char *where,
    struct coffer_queue_meta *m)
{
	redisReply **e;
	char num[32], *end = NULL;
	long long t;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 4 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER)
		return queue_reply_unexpected(where, "meta");
	e = rep->element;
	for (int i = 1; i < 4; i++)
		if (e[i]->type != REDIS_REPLY_STRING)
			return queue_reply_unexpected(where, "meta");
	memset(m, 0, sizeof(*m));
	m->exists = e[0]->integer < 0 ? 0 : e[0]->integer > 3 ? 3 :
	    (int)e[0]->integer;
	/* Whatever Redis holds is untrusted: anything that is not a job id
	 * (or a state this code writes) reads as "?", which matches none. */
	if (e[1]->len > 0) {
		if (e[1]->len <= COFFER_QUEUE_JOB_MAX && strlen(e[1]->str) == e[1]->len &&
		    coffer_queue_check_job(e[1]->str) == 0)
			memcpy(m->owner, e[1]->str, e[1]->len + 1);
		else
			snprintf(m->owner, sizeof(m->owner), "?");
	}
	if (e[2]->len > 0)
		snprintf(m->state, sizeof(m->state), "%s",
		    strcmp(e[2]->str, "loading") == 0 ? "loading" :
		    strcmp(e[2]->str, "loaded") == 0 ? "loaded" : "?");
	m->total = -1;
	if (e[3]->len > 0 && e[3]->len < sizeof(num)) {
		memcpy(num, e[3]->str, e[3]->len);
		num[e[3]->len] = '\0';
		errno = 0;
		t = strtoll(num, &end, 10);
		if (errno == 0 && end != num && *end == '\0' && t >= 0)
			m->total = t;
	}
	coffer_errclear();
	return 0;
}

int
queue_reply_holders(const redisReply *rep, const char *where,
    struct coffer_queue_holder **out, size_t *n)
{
	struct coffer_queue_holder *h = NULL;
	size_t k = 0, m;
	int r = 0;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 3 != 0)
		return queue_reply_unexpected(where, "holders");
	m = rep->elements / 3;
	if (m > 0 && (h = coffer_calloc(m, sizeof(*h))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "holders");
	for (k = 0; k < m; k++) {
		redisReply **e = rep->element + 3 * k;

		if (e[0]->type != REDIS_REPLY_STRING || e[1]->type != REDIS_REPLY_STRING ||
		    e[2]->type != REDIS_REPLY_INTEGER || e[2]->integer < 1 ||
		    strlen(e[0]->str) != e[0]->len || queue_check_worker(e[0]->str) != 0 ||
		    coffer_queue_check_item(e[1]->str, e[1]->len) != 0) {
			r = coffer_errf(COFFER_E_PROTO, "redis %s: holders: entry %zu is"
			    " not a worker id, an item id and a count", where, k + 1);
			goto out;
		}
		h[k].items = e[2]->integer;
		if ((h[k].worker = coffer_strndup(e[0]->str, e[0]->len)) == NULL ||
		    (h[k].item = coffer_strndup(e[1]->str, e[1]->len)) == NULL) {
			k++;
			r = coffer_errf(COFFER_E_NOMEM, "holders");
			goto out;
		}
	}
	*out = h;
	*n = m;
	h = NULL;
out:
	coffer_queue_holders_free(h, k);
	return r;
}

/* Decimal digits only: strtoull alone also takes a sign, blanks, and
 * stops at a NUL inside the string. */
static int
parse_u32(const redisReply *e, uint32_t *out)
{
	unsigned long long v;

	if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > 10 ||
	    strspn(e->str, "0123456789") != e->len)
		return -1;
	v = strtoull(e->str, NULL, 10);
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
queue_reply_dead_page(const redisReply *rep, const char *where,
    void (*fn)(const char *id, uint32_t attempts, const char *error, void *arg),
    void *arg, size_t *n)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 3 != 0)
		return queue_reply_unexpected(where, "dead letters");
	for (size_t i = 0; i < rep->elements / 3; i++) {
		redisReply **e = rep->element + 3 * i;
		uint32_t att = 0;

		if (e[0]->type != REDIS_REPLY_STRING ||
		    e[2]->type != REDIS_REPLY_STRING || parse_u32(e[1], &att) != 0)
			return coffer_errf(COFFER_E_PROTO, "redis %s: dead letters:"
			    " unexpected entry", where);
		fn(e[0]->str, att, e[2]->str, arg);
	}
	*n = rep->elements / 3;
	return 0;
}
