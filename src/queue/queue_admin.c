// SPDX-License-Identifier: Apache-2.0
// The work queue's control-plane steps (queue/queue.h; doc/queue.md): load
// a job's items, read its meta, holders and dead letters, destroy it. The
// manager and the CLI run them; the worker never does, so they are apart
// from queue.c and the worker does not link them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "coffer/error.h"
#include "lib/mem.h"
#include "queue/queue.h"
#include "queue/queue_int.h"
#include "queue/replies.h"
#include "queue/scripts.h"

/* Items per RPUSH when loading, and RPUSHes per pipeline. */
#define LOAD_BATCH 500
#define LOAD_PIPELINE 32
#define DEAD_PAGE 500

/* ---------------------------------------------------------------------- */
/* Load */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
check_items(const char *const *items, size_t n)
{
	const char **sorted = NULL;
	int r = 0;

	for (size_t i = 0; i < n; i++)
		if ((r = coffer_queue_check_item(items[i], items[i] ?
		    strnlen(items[i], COFFER_QUEUE_ITEM_MAX + 1) : 0)) != 0)
			return coffer_errctx(r, "item %zu", i + 1);
	if (n < 2)
		return 0;
	if ((sorted = coffer_mallocarray(n, sizeof(*sorted))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "load");
	memcpy(sorted, items, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			r = coffer_errf(COFFER_E_FORMAT, "item id '%s' appears twice",
			    sorted[i]);
			break;
		}
	free(sorted);
	return r;
}

/* RPUSH the items in batches, LOAD_PIPELINE commands per round trip. */
static int
push_items(struct coffer_queue *q, const char *const *items, size_t n)
{
	const char **args = NULL;
	size_t *lens = NULL;
	int argc[LOAD_PIPELINE];
	const char **argvs[LOAD_PIPELINE];
	const size_t *lensp[LOAD_PIPELINE];
	redisReply *rep[LOAD_PIPELINE];
	size_t per = LOAD_BATCH + 2, done = 0;
	int r = 0;

	args = coffer_mallocarray((size_t)LOAD_PIPELINE * per, sizeof(*args));
	lens = coffer_mallocarray((size_t)LOAD_PIPELINE * per, sizeof(*lens));
	if (args == NULL || lens == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "load");
		goto out;
	}
	while (done < n && r == 0) {
		int k = 0;

		for (; k < LOAD_PIPELINE && done < n; k++) {
			const char **a = args + (size_t)k * per;
			size_t *l = lens + (size_t)k * per;
			size_t m = n - done < LOAD_BATCH ? n - done : LOAD_BATCH;

			a[0] = "RPUSH";
			l[0] = 5;
			a[1] = q->key_queue;
			l[1] = strlen(q->key_queue);
			for (size_t i = 0; i < m; i++) {
				a[2 + i] = items[done + i];
				l[2 + i] = strlen(items[done + i]);
			}
			argc[k] = (int)(m + 2);
			argvs[k] = a;
			lensp[k] = l;
			done += m;
		}
		if ((r = queue_connect(q)) != 0 ||
		    (r = queue_pipeline(q, k, argc, argvs, lensp, rep, "RPUSH")) != 0)
			break;
		for (int i = 0; i < k; i++) {
			if (r == 0 && rep[i]->type == REDIS_REPLY_ERROR)
				r = queue_reply_error(q, rep[i], "RPUSH");
			freeReplyObject(rep[i]);
		}
	}
out:
	free(args);
	free(lens);
	return r;
}

int
coffer_queue_load(struct coffer_queue *q, const char *const *items, size_t n)
{
	char total[32], maxa[16], lease[16], backoff[16];
	const char *a[4] = { total, maxa, lease, backoff };
	const char *aa[2] = { total, q->owner };
	redisReply *rep = NULL;
	long long v = 0;
	int r;

	if ((r = check_items(items, n)) != 0)
		return r;
	snprintf(total, sizeof(total), "%zu", n);
	snprintf(maxa, sizeof(maxa), "%d", q->max_attempts);
	snprintf(lease, sizeof(lease), "%d", q->lease_ms);
	snprintf(backoff, sizeof(backoff), "%d", q->backoff_ms);
	if (q->layout == COFFER_QUEUE_LAYOUT_COFFER)
		r = queue_run_script(q, QS_LOAD_BEGIN, 4, a, NULL, &rep);
	else
		r = queue_run_script(q, QS_ASP_LOAD_BEGIN, 2, aa, NULL, &rep);
	if (r != 0)
		return r;
	r = queue_reply_int(rep, q->redacted, "load", &v);
	freeReplyObject(rep);
	if (r != 0)
		return r;
	if (v != 1)
		return coffer_errf(COFFER_E_EXISTS, "job '%s' already exists on %s",
		    q->job, q->redacted);
	if ((r = push_items(q, items, n)) != 0)
		return coffer_errctx(r, "loading job '%s' (partly loaded: state"
		    " stays 'loading')", q->job);
	{
		const char *h[4] = { "HSET", q->key_meta, "state", "loaded" };

		if ((r = queue_connect(q)) != 0 ||
		    (r = queue_simple(q, "HSET", 4, h)) != 0)
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Inspect and destroy */

int
coffer_queue_meta(struct coffer_queue *q, struct coffer_queue_meta *m)
{
	const char *a[1] = { q->layout == COFFER_QUEUE_LAYOUT_ASPERATHOS ?
		"asp" : "coffer" };
	redisReply *rep = NULL;
	int r;

	if ((r = queue_run_script(q, QS_META, 1, a, NULL, &rep)) != 0)
		return r;
	r = queue_reply_meta(rep, q->redacted, m);
	freeReplyObject(rep);
	return r;
}

void
coffer_queue_holders_free(struct coffer_queue_holder *h, size_t n)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(h[i].worker);
		free(h[i].item);
	}
	free(h);
}

int
coffer_queue_holders(struct coffer_queue *q, struct coffer_queue_holder **out,
    size_t *n)
{
	redisReply *rep = NULL;
	int r;

	if ((r = queue_need_coffer_layout(q, "holders")) != 0)
		return r;
	if ((r = queue_run_script(q, QS_HOLDERS, 0, NULL, NULL, &rep)) != 0)
		return r;
	r = queue_reply_holders(rep, q->redacted, out, n);
	freeReplyObject(rep);
	return r;
}

int
coffer_queue_dead_letters(struct coffer_queue *q,
    void (*fn)(const char *id, uint32_t attempts, const char *error, void *arg),
    void *arg)
{
	size_t start = 0;
	int r;

	if (q->layout != COFFER_QUEUE_LAYOUT_COFFER)
		return 0; /* Asperathos jobs have no dead letters */
	for (;;) {
		char s[32], c[16];
		const char *a[2] = { s, c };
		redisReply *rep = NULL;
		size_t n;

		snprintf(s, sizeof(s), "%zu", start);
		snprintf(c, sizeof(c), "%d", DEAD_PAGE);
		if ((r = queue_run_script(q, QS_DEAD_PAGE, 2, a, NULL, &rep)) != 0)
			return r;
		r = queue_reply_dead_page(rep, q->redacted, fn, arg, &n);
		freeReplyObject(rep);
		if (r != 0)
			return r;
		if (n < DEAD_PAGE)
			return 0;
		start += n;
	}
}

int
coffer_queue_destroy(struct coffer_queue *q)
{
	const char *a[1] = { q->owner };
	redisReply *rep = NULL;
	int r, asp = q->layout == COFFER_QUEUE_LAYOUT_ASPERATHOS;

	r = queue_run_script(q, asp ? QS_ASP_DESTROY : QS_DESTROY, asp ? 1 : 0, a,
	    NULL, &rep);
	if (r != 0)
		return r;
	if (asp && rep->type == REDIS_REPLY_INTEGER && rep->integer < 0)
		r = coffer_errf(COFFER_E_STATE, "the keys '%s', '%s:processing' and"
		    " '%s:coffer' on %s belong to another job than %s (see the owner"
		    " in '%s:coffer'): not deleted", q->job, q->job, q->job,
		    q->redacted, q->owner, q->job);
	freeReplyObject(rep);
	return r;
}
