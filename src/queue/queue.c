// SPDX-License-Identifier: Apache-2.0
// The reliable work queue on Redis (queue/queue.h; doc/queue.md is the
// specification this file implements). One hiredis connection per handle,
// reconnected on demand; multi-key steps are the Lua scripts of scripts.c,
// called with EVALSHA and an EVAL fallback when the server has forgotten
// them (NOSCRIPT after a restart or a SCRIPT FLUSH). What only the
// control plane does (load, inspect, destroy a job) is queue_admin.c, so
// that the worker does not link it.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/mem.h"
#include "queue/queue.h"
#include "queue/queue_int.h"
#include "queue/redis_url.h"
#include "queue/replies.h"
#include "queue/scripts.h"

#define DEFAULT_LEASE_MS 30000
#define DEFAULT_MAX_ATTEMPTS 3
#define DEFAULT_BACKOFF_MS 1000
#define DEFAULT_CONNECT_MS 5000
/* A registered worker with nothing in flight is forgotten after this long
 * without a word (doc/queue.md 4.7); it must exceed any BLMOVE wait. */
#define WORKER_TTL_MIN_MS 60000
#define TAKE_MAX_MS 30000

/* ---------------------------------------------------------------------- */
/* Validation */

static int
id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int
queue_check_worker(const char *w)
{
	size_t n = strnlen(w, COFFER_QUEUE_WORKER_MAX + 1);

	if (n == 0 || n > COFFER_QUEUE_WORKER_MAX)
		return coffer_errf(COFFER_E_INVAL, "worker id must be 1-%d chars",
		    COFFER_QUEUE_WORKER_MAX);
	for (size_t i = 0; i < n; i++)
		if (!id_char(w[i]))
			return coffer_errf(COFFER_E_INVAL,
			    "worker id '%s': character %zu is not one of [A-Za-z0-9_.-]",
			    w, i + 1);
	return 0;
}

int
coffer_queue_check_job(const char *job)
{
	size_t n;

	if (job == NULL || (n = strnlen(job, COFFER_QUEUE_JOB_MAX + 1)) == 0)
		return coffer_errf(COFFER_E_FORMAT, "job id is empty");
	if (n > COFFER_QUEUE_JOB_MAX)
		return coffer_errf(COFFER_E_FORMAT, "job id is longer than %d chars",
		    COFFER_QUEUE_JOB_MAX);
	for (size_t i = 0; i < n; i++)
		if (!id_char(job[i]))
			return coffer_errf(COFFER_E_FORMAT,
			    "job id '%s': character %zu is not one of [A-Za-z0-9_.-]",
			    job, i + 1);
	return 0;
}

/* Section 1: "<replica id>_<8 lowercase hex>". */
#define REPLICA_SUFFIX 9

int
coffer_queue_replica_worker_id(const char *replica_id, uint32_t rnd,
    char *out, size_t outlen)
{
	size_t n = replica_id != NULL ?
	    strnlen(replica_id, COFFER_QUEUE_REPLICA_MAX + 1) : 0;

	if (n == 0 || n > COFFER_QUEUE_REPLICA_MAX)
		return coffer_errf(COFFER_E_INVAL, "replica id must be 1-%d chars",
		    COFFER_QUEUE_REPLICA_MAX);
	for (size_t i = 0; i < n; i++)
		if (!id_char(replica_id[i]))
			return coffer_errf(COFFER_E_INVAL, "replica id '%s': character"
			    " %zu is not one of [A-Za-z0-9_.-]", replica_id, i + 1);
	if (outlen < n + REPLICA_SUFFIX + 1)
		return coffer_errf(COFFER_E_LIMIT, "worker id: buffer of %zu bytes",
		    outlen);
	snprintf(out, outlen, "%s_%08x", replica_id, (unsigned)rnd);
	return 0;
}

int
coffer_queue_worker_replica(const char *worker_id, char *out, size_t outlen)
{
	size_t n = worker_id != NULL ?
	    strnlen(worker_id, COFFER_QUEUE_WORKER_MAX + 1) : 0;
	const char *sfx;

	if (n <= REPLICA_SUFFIX || n > COFFER_QUEUE_WORKER_MAX ||
	    n - REPLICA_SUFFIX > COFFER_QUEUE_REPLICA_MAX)
		return coffer_errf(COFFER_E_NOTFOUND, "worker id names no replica");
	sfx = worker_id + n - REPLICA_SUFFIX;
	if (sfx[0] != '_')
		return coffer_errf(COFFER_E_NOTFOUND, "worker id names no replica");
	for (size_t i = 1; i < REPLICA_SUFFIX; i++)
		if (!((sfx[i] >= '0' && sfx[i] <= '9') || (sfx[i] >= 'a' && sfx[i] <= 'f')))
			return coffer_errf(COFFER_E_NOTFOUND, "worker id names no replica");
	for (size_t i = 0; i < n - REPLICA_SUFFIX; i++)
		if (!id_char(worker_id[i]))
			return coffer_errf(COFFER_E_NOTFOUND, "worker id names no replica");
	if (outlen < n - REPLICA_SUFFIX + 1)
		return coffer_errf(COFFER_E_LIMIT, "replica id: buffer of %zu bytes",
		    outlen);
	memcpy(out, worker_id, n - REPLICA_SUFFIX);
	out[n - REPLICA_SUFFIX] = '\0';
	return 0;
}

int
coffer_queue_check_item(const char *id, size_t len)
{
	if (id == NULL || len == 0)
		return coffer_errf(COFFER_E_FORMAT, "item id is empty");
	if (len > COFFER_QUEUE_ITEM_MAX)
		return coffer_errf(COFFER_E_FORMAT,
		    "item id is %zu bytes, more than %d", len, COFFER_QUEUE_ITEM_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (c <= 0x20 || c >= 0x7f)
			return coffer_errf(COFFER_E_FORMAT,
			    "item id of %zu bytes: byte %zu is 0x%02x, not printable"
			    " ASCII without space", len, i + 1, c);
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Connection */

static void
drop(struct coffer_queue *q)
{
	if (q->c != NULL)
		redisFree(q->c);
	q->c = NULL;
}

static struct timeval
tv_ms(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

/* Turn an error reply into a coffer error. LOADING (a restarted server
 * reading its AOF) and BUSY (a script running too long) are transient. */
int
queue_reply_error(struct coffer_queue *q, const redisReply *r, const char *what)
{
	if (strncmp(r->str, "LOADING", 7) == 0 || strncmp(r->str, "BUSY", 4) == 0 ||
	    strncmp(r->str, "TRYAGAIN", 8) == 0 || strncmp(r->str, "MASTERDOWN", 10) == 0)
		return coffer_errf(COFFER_E_BUSY, "redis %s: %s: %s", q->redacted,
		    what, r->str);
	return coffer_errf(COFFER_E_REDIS, "redis %s: %s: %s", q->redacted, what,
	    r->str);
}

static int
io_error(struct coffer_queue *q, const char *what)
{
	long long big = queue_reader_refused();
	int r;

	if (big > 0)
		r = coffer_errf(COFFER_E_PROTO, "redis %s: %s: the reply declares an"
		    " array of %lld elements (at most %d): refused", q->redacted,
		    what, big, QUEUE_REPLY_ARRAY_MAX);
	else
		r = coffer_errf(COFFER_E_CONNECT, "redis %s: %s: %s", q->redacted,
		    what, q->c && q->c->errstr[0] ? q->c->errstr : "connection lost");

	drop(q);
	return r;
}

static int
set_timeout(struct coffer_queue *q, int ms)
{
	if (q->timeout_ms == ms)
		return 0;
	if (redisSetTimeout(q->c, tv_ms(ms)) != REDIS_OK)
		return io_error(q, "setting the reply timeout");
	q->timeout_ms = ms;
	return 0;
}

/* Send n commands in one round trip; replies[i] gets each reply (the
 * caller frees them). On an I/O error nothing is returned. */
int
queue_pipeline(struct coffer_queue *q, int n, const int *argc,
    const char **const *argv, const size_t *const *lens, redisReply **replies,
    const char *what)
{
	int i, r;

	for (i = 0; i < n; i++)
		if (redisAppendCommandArgv(q->c, argc[i], (const char **)argv[i],
		    lens[i]) != REDIS_OK)
			return io_error(q, what);
	q->n.requests += (uint64_t)n;
	q->n.round_trips++;
	for (i = 0; i < n; i++) {
		void *rep = NULL;

		if (redisGetReply(q->c, &rep) != REDIS_OK || rep == NULL) {
			r = io_error(q, what);
			while (i-- > 0) {
				freeReplyObject(replies[i]);
				replies[i] = NULL;
			}
			return r;
		}
		replies[i] = rep;
	}
	return 0;
}

static int
command(struct coffer_queue *q, int argc, const char **argv, const size_t *lens,
    redisReply **out, const char *what)
{
	return queue_pipeline(q, 1, &argc, &argv, &lens, out, what);
}

static int
load_scripts(struct coffer_queue *q)
{
	redisReply *rep[QS_COUNT] = { 0 };
	int argc[QS_COUNT];
	const char *args[QS_COUNT][3];
	size_t lens[QS_COUNT][3];
	const char **argv[QS_COUNT];
	const size_t *lensp[QS_COUNT];
	int r = 0;

	for (int i = 0; i < QS_COUNT; i++) {
		argc[i] = 3;
		args[i][0] = "SCRIPT";
		args[i][1] = "LOAD";
		args[i][2] = queue_scripts[i].src;
		lens[i][0] = 6;
		lens[i][1] = 4;
		lens[i][2] = strlen(queue_scripts[i].src);
		argv[i] = args[i];
		lensp[i] = lens[i];
	}
	if ((r = queue_pipeline(q, QS_COUNT, argc, argv, lensp, rep, "SCRIPT LOAD")) != 0)
		return r;
	for (int i = 0; i < QS_COUNT; i++) {
		if (r != 0)
			continue;
		if (rep[i]->type == REDIS_REPLY_ERROR)
			r = queue_reply_error(q, rep[i], queue_scripts[i].name);
		else
			r = queue_reply_sha(rep[i], q->redacted,
			    queue_scripts[i].name, q->sha[i]);
	}
	for (int i = 0; i < QS_COUNT; i++)
		freeReplyObject(rep[i]);
	return r;
}

int
queue_simple(struct coffer_queue *q, const char *what, int argc, const char **argv)
{
	size_t lens[4];
	redisReply *rep = NULL;
	int r;

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if ((r = command(q, argc, argv, lens, &rep, what)) != 0)
		return r;
	if (rep->type == REDIS_REPLY_ERROR)
		r = queue_reply_error(q, rep, what);
	freeReplyObject(rep);
	return r;
}

int
queue_connect(struct coffer_queue *q)
{
	struct timeval tv = tv_ms(q->connect_ms);
	char db[16];
	int r;

	if (q->c != NULL && q->c->err == 0)
		return 0;
	drop(q);
	q->n.reconnects++;
	/* hiredis waits for the connection in poll(2), which a caught
	 * signal interrupts whatever SA_RESTART says (signal(7)): the
	 * manager's SIGCHLD at each replica's exit (doc/manager.md section
	 * 3). A connection interrupted so is tried again at once. */
	for (int tries = 0;; tries++) {
		if (q->url.path != NULL)
			q->c = redisConnectUnixWithTimeout(q->url.path, tv);
		else
			q->c = redisConnectWithTimeout(q->url.host, q->url.port, tv);
		if (q->c == NULL || q->c->err != REDIS_ERR_IO || tries == 3 ||
		    strstr(q->c->errstr, strerror(EINTR)) == NULL)
			break;
		drop(q);
	}
	if (q->c == NULL)
		return coffer_errf(COFFER_E_NOMEM, "redis context");
	if (q->c->err != 0) {
		r = coffer_errf(COFFER_E_CONNECT, "redis %s: %s", q->redacted,
		    q->c->errstr);
		drop(q);
		return r;
	}
	/* hiredis does not open its socket with SOCK_CLOEXEC: workers started
	 * by this process must not inherit it. */
	(void)fcntl(q->c->fd, F_SETFD, FD_CLOEXEC);
	queue_reader_cap(q->c->reader);
	(void)redisEnableKeepAlive(q->c);
	q->timeout_ms = -1;
	if ((r = set_timeout(q, q->connect_ms + 1000)) != 0)
		return r;
	if (q->url.password != NULL) {
		const char *a[3] = { "AUTH", q->url.user, q->url.password };

		if (q->url.user == NULL) {
			a[1] = q->url.password;
			r = queue_simple(q, "AUTH", 2, a);
		} else {
			r = queue_simple(q, "AUTH", 3, a);
		}
		if (r != 0)
			goto fail;
	}
	if (q->url.db != 0) {
		const char *a[2] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", q->url.db);
		if ((r = queue_simple(q, "SELECT", 2, a)) != 0)
			goto fail;
	}
	if ((r = load_scripts(q)) != 0)
		goto fail;
	q->need_touch = 1;
	return 0;
fail:
	drop(q);
	return r;
}

/*
 * Run a script: EVALSHA, and EVAL when the server does not know the SHA
 * (which also caches it again). args are ARGV; KEYS[1] is the prefix.
 */
int
queue_run_script(struct coffer_queue *q, enum queue_script s, int nargs,
    const char **args, const size_t *arglens, redisReply **out)
{
	const char *argv[16];
	size_t lens[16];
	redisReply *rep = NULL;
	int r;

	if (nargs > 12)
		return coffer_errf(COFFER_E_INTERNAL, "script %s: too many args",
		    queue_scripts[s].name);
	if ((r = queue_connect(q)) != 0)
		return r;
	argv[0] = "EVALSHA";
	lens[0] = 7;
	argv[1] = q->sha[s];
	lens[1] = 40;
	argv[2] = "1";
	lens[2] = 1;
	argv[3] = q->prefix;
	lens[3] = strlen(q->prefix);
	for (int i = 0; i < nargs; i++) {
		argv[4 + i] = args[i];
		lens[4 + i] = arglens ? arglens[i] : strlen(args[i]);
	}
	if ((r = command(q, 4 + nargs, argv, lens, &rep, queue_scripts[s].name)) != 0)
		return r;
	if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(rep);
		rep = NULL;
		argv[0] = "EVAL";
		lens[0] = 4;
		argv[1] = queue_scripts[s].src;
		lens[1] = strlen(queue_scripts[s].src);
		if ((r = command(q, 4 + nargs, argv, lens, &rep,
		    queue_scripts[s].name)) != 0)
			return r;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		r = queue_reply_error(q, rep, queue_scripts[s].name);
		freeReplyObject(rep);
		return r;
	}
	*out = rep;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Open and close */

static int
positive_or(int v, int def, int max, const char *what, int *out)
{
	if (v < 0 || v > max)
		return coffer_errf(COFFER_E_INVAL, "%s %d out of range [0, %d]", what,
		    v, max);
	*out = v == 0 ? def : v;
	return 0;
}

int
coffer_queue_open(const struct coffer_queue_opts *o, struct coffer_queue **out)
{
	struct coffer_queue *q = NULL;
	int r;

	if (o == NULL || o->redis_url == NULL)
		return coffer_errf(COFFER_E_INVAL, "queue: no Redis URL");
	if ((r = coffer_queue_check_job(o->job)) != 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", coffer_errdetail());
		return coffer_errf(COFFER_E_INVAL, "%s", why);
	}
	if (o->layout != COFFER_QUEUE_LAYOUT_COFFER &&
	    o->layout != COFFER_QUEUE_LAYOUT_ASPERATHOS)
		return coffer_errf(COFFER_E_INVAL, "queue: unknown layout %d", o->layout);
	if (o->worker_id != NULL && (r = queue_check_worker(o->worker_id)) != 0)
		return r;
	if (o->owner != NULL && coffer_queue_check_job(o->owner) != 0) {
		char why[256];

		snprintf(why, sizeof(why), "owner: %s", coffer_errdetail());
		return coffer_errf(COFFER_E_INVAL, "%s", why);
	}
	if ((q = coffer_calloc(1, sizeof(*q))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "queue");
	if ((r = positive_or(o->lease_ms, DEFAULT_LEASE_MS, 86400000, "lease_ms",
	    &q->lease_ms)) != 0 ||
	    (r = positive_or(o->max_attempts, DEFAULT_MAX_ATTEMPTS, 1000000,
	    "max_attempts", &q->max_attempts)) != 0 ||
	    (r = positive_or(o->backoff_ms, DEFAULT_BACKOFF_MS, 3600000,
	    "backoff_ms", &q->backoff_ms)) != 0 ||
	    (r = positive_or(o->connect_timeout_ms, DEFAULT_CONNECT_MS, 600000,
	    "connect_timeout_ms", &q->connect_ms)) != 0 ||
	    (r = positive_or(o->stale_ms, 0, 86400000 * 7, "stale_ms",
	    &q->stale_ms)) != 0)
		goto fail;
	if (q->lease_ms < 100) {
		r = coffer_errf(COFFER_E_INVAL, "lease_ms %d is below 100", q->lease_ms);
		goto fail;
	}
	if ((r = coffer_redis_url_parse(o->redis_url, &q->url)) != 0)
		goto fail;
	coffer_redis_url_redacted(&q->url, q->redacted, sizeof(q->redacted));
	snprintf(q->job, sizeof(q->job), "%s", o->job);
	q->layout = o->layout;
	if (o->owner != NULL)
		snprintf(q->owner, sizeof(q->owner), "%s", o->owner);
	q->own_only = o->settle_own_only != 0;
	if (o->worker_id != NULL) {
		snprintf(q->worker, sizeof(q->worker), "%s", o->worker_id);
		q->has_worker = 1;
	}
	if (q->layout == COFFER_QUEUE_LAYOUT_COFFER) {
		snprintf(q->prefix, sizeof(q->prefix), "coffer:{%s}:", q->job);
		snprintf(q->key_queue, sizeof(q->key_queue), "%squeue", q->prefix);
		snprintf(q->key_meta, sizeof(q->key_meta), "%smeta", q->prefix);
		snprintf(q->key_inflight, sizeof(q->key_inflight), "%sinflight:%s",
		    q->prefix, q->worker);
	} else {
		snprintf(q->prefix, sizeof(q->prefix), "%s", q->job);
		snprintf(q->key_queue, sizeof(q->key_queue), "%s", q->job);
		snprintf(q->key_meta, sizeof(q->key_meta), "%s:coffer", q->job);
		snprintf(q->key_inflight, sizeof(q->key_inflight), "%s:processing",
		    q->job);
	}
	if ((r = queue_connect(q)) != 0)
		goto fail;
	*out = q;
	return 0;
fail:
	coffer_redis_url_release(&q->url);
	drop(q);
	free(q);
	return r;
}

void
coffer_queue_close(struct coffer_queue *q)
{
	if (q == NULL)
		return;
	if (q->has_worker && q->layout == COFFER_QUEUE_LAYOUT_COFFER &&
	    q->c != NULL && q->c->err == 0) {
		const char *a[1] = { q->worker };
		redisReply *rep = NULL;

		if (queue_run_script(q, QS_LEAVE, 1, a, NULL, &rep) == 0)
			freeReplyObject(rep);
		coffer_errclear();
	}
	drop(q);
	coffer_redis_url_release(&q->url);
	free(q);
}

void
coffer_queue_counters(const struct coffer_queue *q, struct coffer_queue_counters *c)
{
	*c = q->n;
}

void
coffer_queue_item_release(struct coffer_queue_item *it)
{
	if (it == NULL)
		return;
	free(it->id);
	it->id = NULL;
	it->attempt = 0;
	it->leased_ms = 0;
}

/* The processing time an ack reports: since the lease, or -1. */
static void
item_time_arg(const struct coffer_queue_item *it, char *out, size_t outlen)
{
	int64_t now = coffer_mono_ms();

	if (it->leased_ms > 0 && now >= it->leased_ms)
		snprintf(out, outlen, "%lld", (long long)(now - it->leased_ms));
	else
		snprintf(out, outlen, "-1");
}

int
queue_need_coffer_layout(const struct coffer_queue *q, const char *what)
{
	if (q->layout != COFFER_QUEUE_LAYOUT_COFFER)
		return coffer_errf(COFFER_E_UNSUPPORTED, "%s: job '%s' uses the"
		    " Asperathos layout, whose items are served by Asperathos"
		    " consumers", what, q->job);
	return 0;
}

static int
need_worker(const struct coffer_queue *q, const char *what)
{
	int r;

	if ((r = queue_need_coffer_layout(q, what)) != 0)
		return r;
	if (!q->has_worker)
		return coffer_errf(COFFER_E_INVAL, "%s needs a worker id", what);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Worker steps */

/* Dead-letter a malformed entry found in this worker's in-flight list. */
static int
bury_malformed(struct coffer_queue *q, const char *raw, size_t rawlen)
{
	char msg[1200];
	const char *fa[7];
	size_t fal[7];
	redisReply *frep = NULL;
	int r;

	if (coffer_queue_check_item(raw, rawlen) == 0)
		return coffer_errf(COFFER_E_INTERNAL, "bury_malformed: a valid id");
	snprintf(msg, sizeof(msg), "malformed item: %s", coffer_errdetail());
	fa[0] = q->worker;
	fa[1] = raw;
	fa[2] = msg;
	fa[3] = "1";
	fa[4] = "1";
	fa[5] = "1";
	fa[6] = "0";
	fal[0] = strlen(q->worker);
	fal[1] = rawlen;
	fal[2] = strlen(msg);
	fal[3] = fal[4] = fal[5] = fal[6] = 1;
	if ((r = queue_run_script(q, QS_FAIL, 7, fa, fal, &frep)) != 0)
		return coffer_errctx(r, "dead-lettering a malformed item");
	freeReplyObject(frep);
	return coffer_errf(COFFER_E_FORMAT, "%s (dead-lettered)", msg);
}

/* Section 4.2: [touch +] BLMOVE, then claim. */
int
coffer_queue_take(struct coffer_queue *q, int timeout_ms,
    struct coffer_queue_item *it)
{
	char secs[32], lease[16];
	const char *bl[6] = { "BLMOVE", q->key_queue, q->key_inflight, "LEFT",
		"RIGHT", secs };
	size_t bll[6];
	const char *tc[5] = { "EVALSHA", q->sha[QS_TOUCH], "1", q->prefix, q->worker };
	size_t tcl[5];
	int argc[2];
	const char **argv[2];
	const size_t *lens[2];
	redisReply *rep[2] = { NULL, NULL };
	int r, nc, wait;

	if ((r = need_worker(q, "take")) != 0)
		return r;
	if (timeout_ms < 10)
		timeout_ms = 10;
	if (timeout_ms > TAKE_MAX_MS)
		timeout_ms = TAKE_MAX_MS;
	wait = timeout_ms;
	snprintf(lease, sizeof(lease), "%d", q->lease_ms);
	for (;;) {
		redisReply *moved;
		int claimed = 0;
		uint32_t attempt = 0;
		const char *ca[3];
		size_t cal[3];
		redisReply *crep = NULL;

		if ((r = queue_connect(q)) != 0)
			return r;
		/* BLMOVE's timeout is in seconds, with decimals since 6.0. */
		snprintf(secs, sizeof(secs), "%d.%03d", wait / 1000, wait % 1000);
		/* The reply may take the whole wait; keep one timeout for the
		 * usual short waits to spare a system call per take. */
		if ((r = set_timeout(q, q->connect_ms + (wait > 1000 ? wait : 1000))) != 0)
			return r;
		nc = 0;
		for (int i = 0; i < 6; i++)
			bll[i] = strlen(bl[i]);
		if (q->need_touch) {
			for (int i = 0; i < 5; i++)
				tcl[i] = strlen(tc[i]);
			argc[nc] = 5;
			argv[nc] = tc;
			lens[nc] = tcl;
			nc++;
		}
		argc[nc] = 6;
		argv[nc] = bl;
		lens[nc] = bll;
		nc++;
		if ((r = queue_pipeline(q, nc, argc, argv, lens, rep, "BLMOVE")) != 0)
			return r;
		if (nc == 2) {
			/* A failed registration (NOSCRIPT after a SCRIPT FLUSH) is
			 * retried with the next take; the scripts are reloaded on
			 * the next connection. */
			if (rep[0]->type == REDIS_REPLY_ERROR) {
				if (strncmp(rep[0]->str, "NOSCRIPT", 8) == 0)
					(void)load_scripts(q);
			} else {
				q->need_touch = 0;
			}
			freeReplyObject(rep[0]);
		}
		moved = rep[nc - 1];
		rep[0] = rep[1] = NULL;
		if (moved->type == REDIS_REPLY_NIL) {
			freeReplyObject(moved);
			q->need_touch = 1;
			return coffer_errf(COFFER_E_TIMEOUT, "no item within %d ms",
			    timeout_ms);
		}
		if (moved->type == REDIS_REPLY_ERROR) {
			r = queue_reply_error(q, moved, "BLMOVE");
			freeReplyObject(moved);
			return r;
		}
		if (moved->type != REDIS_REPLY_STRING) {
			freeReplyObject(moved);
			return coffer_errf(COFFER_E_PROTO, "redis %s: BLMOVE: unexpected"
			    " reply", q->redacted);
		}
		if (coffer_queue_check_item(moved->str, moved->len) != 0) {
			/* Not an item id: dead-letter it at once (retrying cannot
			 * help), so the queue keeps moving. */
			r = bury_malformed(q, moved->str, moved->len);
			freeReplyObject(moved);
			return r;
		}
		ca[0] = q->worker;
		cal[0] = strlen(q->worker);
		ca[1] = moved->str;
		cal[1] = moved->len;
		ca[2] = lease;
		cal[2] = strlen(lease);
		r = queue_run_script(q, QS_CLAIM, 3, ca, cal, &crep);
		if (r == 0) {
			r = queue_reply_claim(crep, q->redacted, &claimed, &attempt);
			freeReplyObject(crep);
		}
		if (r != 0) {
			freeReplyObject(moved);
			return r;
		}
		if (claimed) {
			char *id = coffer_strndup(moved->str, moved->len);

			freeReplyObject(moved);
			if (id == NULL)
				return coffer_errf(COFFER_E_NOMEM, "item id");
			it->id = id;
			it->attempt = attempt;
			it->leased_ms = coffer_mono_ms();
			return 0;
		}
		/* Already done, or taken back by a reaper: take the next one,
		 * without blocking again for the whole timeout. */
		freeReplyObject(moved);
		wait = 10;
	}
}

static int
item_script(struct coffer_queue *q, enum queue_script s,
    const struct coffer_queue_item *it, int nextra, const char **extra,
    redisReply **out)
{
	const char *a[8];
	size_t l[8];

	a[0] = q->worker;
	a[1] = it->id;
	for (int i = 0; i < nextra; i++)
		a[2 + i] = extra[i];
	for (int i = 0; i < 2 + nextra; i++)
		l[i] = strlen(a[i]);
	return queue_run_script(q, s, 2 + nextra, a, l, out);
}

int
coffer_queue_renew(struct coffer_queue *q, const struct coffer_queue_item *it,
    int *done)
{
	char lease[16];
	const char *x[1] = { lease };
	redisReply *rep = NULL;
	long long v = 0;
	int r;

	if (done != NULL)
		*done = 0;
	if ((r = need_worker(q, "renew")) != 0)
		return r;
	snprintf(lease, sizeof(lease), "%d", q->lease_ms);
	if ((r = item_script(q, QS_RENEW, it, 1, x, &rep)) != 0)
		return r;
	r = queue_reply_int(rep, q->redacted, "renew", &v);
	freeReplyObject(rep);
	if (r != 0)
		return r;
	if (v == 2) {
		if (done != NULL)
			*done = 1;
		return coffer_errf(COFFER_E_STATE, "item '%s' is already done",
		    it->id);
	}
	if (v != 1)
		return coffer_errf(COFFER_E_STATE, "lease of item '%s' lost (expired"
		    " and returned to the queue)", it->id);
	return 0;
}

/* An ack or fail the scripts refused (SETTLE_CHECK in scripts.c). */
static int
refused(const struct coffer_queue *q, const char *what,
    const struct coffer_queue_item *it)
{
	return coffer_errf(COFFER_E_NOTFOUND, "%s of item '%.100s%s' refused: it"
	    " is not in worker %s's in-flight list%s", what, it->id,
	    strlen(it->id) > 100 ? "..." : "", q->worker, q->own_only ? "" :
	    " and was never leased in this job");
}

int
coffer_queue_ack(struct coffer_queue *q, const struct coffer_queue_item *it)
{
	char ms[32];
	const char *x[2] = { ms, "0" };
	redisReply *rep = NULL;
	long long v[2] = { 0, 0 };
	int r;

	if ((r = need_worker(q, "ack")) != 0)
		return r;
	q->need_touch = 1;
	item_time_arg(it, ms, sizeof(ms));
	x[1] = q->own_only ? "1" : "0";
	if ((r = item_script(q, QS_ACK, it, 2, x, &rep)) != 0)
		return r;
	r = queue_reply_ints(rep, q->redacted, "ack", v, 2);
	freeReplyObject(rep);
	if (r == 0 && v[0] < 0)
		return refused(q, "ack", it);
	return r;
}

/* A malformed entry met by ack_next or take_more: dead-lettered. */
static int
bury_cb(const char *raw, size_t len, void *arg)
{
	return bury_malformed(arg, raw, len);
}

int
coffer_queue_ack_next(struct coffer_queue *q, const struct coffer_queue_item *done,
    struct coffer_queue_item *next, int *got)
{
	char lease[16], ms[32];
	const char *x[2] = { lease, ms };
	redisReply *rep = NULL;
	int r, refused_ack = 0;

	*got = 0;
	if ((r = need_worker(q, "ack")) != 0)
		return r;
	snprintf(lease, sizeof(lease), "%d", q->lease_ms);
	item_time_arg(done, ms, sizeof(ms));
	q->need_touch = 1;
	if ((r = item_script(q, QS_ACK_NEXT, done, 2, x, &rep)) != 0)
		return r;
	r = queue_reply_ack_next(rep, q->redacted, &refused_ack, next, got,
	    bury_cb, q);
	freeReplyObject(rep);
	if (r == 0 && refused_ack)
		return refused(q, "ack", done);
	/* Holding an item: the list is not empty, no registration due. */
	if (r == 0 && *got)
		q->need_touch = 0;
	return r;
}

/* One ack's reply (4.5), as coffer_queue_ack reads it. */
static int
ack_reply(struct coffer_queue *q, const redisReply *rep,
    const struct coffer_queue_item *it)
{
	long long v[2] = { 0, 0 };
	int r;

	if ((r = queue_reply_ints(rep, q->redacted, "ack", v, 2)) != 0)
		return r;
	return v[0] < 0 ? refused(q, "ack", it) : 0;
}

/* Section 4.3a: n acks and a take_more in one round trip. */
int
coffer_queue_ack_take(struct coffer_queue *q, const struct coffer_queue_item *done,
    size_t n, int *res, size_t want, struct coffer_queue_item *next, size_t *got)
{
	const char *argv[COFFER_QUEUE_BATCH_MAX + 1][8];
	size_t lens[COFFER_QUEUE_BATCH_MAX + 1][8];
	char ms[COFFER_QUEUE_BATCH_MAX][32], lease[16], wants[16];
	int argc[COFFER_QUEUE_BATCH_MAX + 1];
	const char **argvp[COFFER_QUEUE_BATCH_MAX + 1];
	const size_t *lensp[COFFER_QUEUE_BATCH_MAX + 1];
	redisReply *rep[COFFER_QUEUE_BATCH_MAX + 1] = { 0 };
	size_t k = 0;
	int r;

	*got = 0;
	if ((r = need_worker(q, "ack")) != 0)
		return r;
	if (n > COFFER_QUEUE_BATCH_MAX || want > COFFER_QUEUE_BATCH_MAX)
		return coffer_errf(COFFER_E_INVAL, "ack_take: %zu acks, %zu wanted", n,
		    want);
	for (size_t i = 0; i < n; i++)
		res[i] = 0;
	if (n == 1 && want == 1) {
		/* The steady state of one item at a time: ack_next (4.3). */
		int g = 0;

		r = coffer_queue_ack_next(q, done, next, &g);
		*got = (size_t)g;
		if (r == COFFER_E_NOTFOUND) {
			res[0] = r;
			r = 0;
		}
		return r;
	}
	if (n == 0 && want == 0)
		return 0;
	snprintf(lease, sizeof(lease), "%d", q->lease_ms);
	snprintf(wants, sizeof(wants), "%zu", want);
	for (size_t i = 0; i <= n; i++) {
		const char **a = argv[k];

		if (i == n && want == 0)
			break;
		a[0] = "EVALSHA";
		a[1] = q->sha[i < n ? QS_ACK : QS_TAKE_MORE];
		a[2] = "1";
		a[3] = q->prefix;
		a[4] = q->worker;
		if (i < n) {
			item_time_arg(&done[i], ms[i], sizeof(ms[i]));
			a[5] = done[i].id;
			a[6] = ms[i];
			a[7] = q->own_only ? "1" : "0";
			argc[k] = 8;
		} else {
			a[5] = lease;
			a[6] = wants;
			argc[k] = 7;
		}
		for (int j = 0; j < argc[k]; j++)
			lens[k][j] = strlen(a[j]);
		argvp[k] = a;
		lensp[k] = lens[k];
		k++;
	}
	q->need_touch = 1;
	if ((r = queue_connect(q)) != 0 ||
	    (r = queue_pipeline(q, (int)k, argc, argvp, lensp, rep, "ack_take")) != 0)
		return r;
	for (size_t i = 0; i < k; i++) {
		redisReply *one = rep[i];
		enum queue_script s = i < n ? QS_ACK : QS_TAKE_MORE;
		int e = 0;

		if (r != 0) {
			freeReplyObject(one);
			continue;
		}
		if (one->type == REDIS_REPLY_ERROR &&
		    strncmp(one->str, "NOSCRIPT", 8) == 0) {
			/* Forgotten scripts (a restart, SCRIPT FLUSH): run this one
			 * again alone, with queue_run_script()'s EVAL fallback. */
			one = NULL;
			e = queue_run_script(q, s, argc[i] - 4, argvp[i] + 4,
			    lensp[i] + 4, &one);
		} else if (one->type == REDIS_REPLY_ERROR) {
			e = queue_reply_error(q, one, queue_scripts[s].name);
		}
		if (e == 0)
			e = i < n ? ack_reply(q, one, &done[i]) :
			    queue_reply_take_more(one, q->redacted, want, next, got,
			    bury_cb, q);
		if (i < n && e == COFFER_E_NOTFOUND)
			res[i] = e;
		else if (e != 0)
			r = e;
		if (one != rep[i])
			freeReplyObject(one);
		freeReplyObject(rep[i]);
	}
	if (*got > 0)
		q->need_touch = 0;
	if (r != 0) {
		for (size_t i = 0; i < *got; i++)
			coffer_queue_item_release(&next[i]);
		*got = 0;
	}
	return r;
}

static int
fail_common(struct coffer_queue *q, const struct coffer_queue_item *it,
    const char *error, int permanent, int *dead)
{
	char maxa[16], backoff[16], err[1024];
	const char *x[5] = { err, maxa, backoff, permanent ? "1" : "0",
		q->own_only ? "1" : "0" };
	redisReply *rep = NULL;
	int r, no = 0, d = 0;

	if ((r = need_worker(q, "fail")) != 0)
		return r;
	q->need_touch = 1;
	/* Errors are stored in Redis and shown to users: bound them and keep
	 * them printable. */
	snprintf(err, sizeof(err), "%s", error && error[0] ? error : "unknown error");
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	snprintf(maxa, sizeof(maxa), "%d", q->max_attempts);
	snprintf(backoff, sizeof(backoff), "%d", q->backoff_ms);
	if ((r = item_script(q, QS_FAIL, it, 5, x, &rep)) != 0)
		return r;
	r = queue_reply_fail(rep, q->redacted, &no, &d);
	freeReplyObject(rep);
	if (r != 0)
		return r;
	if (no)
		return refused(q, "fail", it);
	if (dead != NULL)
		*dead = d;
	return 0;
}

int
coffer_queue_fail(struct coffer_queue *q, const struct coffer_queue_item *it,
    const char *error, int *dead)
{
	return fail_common(q, it, error, 0, dead);
}

int
coffer_queue_bury(struct coffer_queue *q, const struct coffer_queue_item *it,
    const char *error)
{
	return fail_common(q, it, error, 1, NULL);
}

/* ---------------------------------------------------------------------- */
/* Reaper, monitor, admin */

/* The reap script of the handle's layout and its arguments (doc/queue.md
 * 4.7, 6.3) into a[] (room for 3 of 16 bytes); -1 when there is nothing to
 * reap (the Asperathos layout without stale_ms). */
static int
reap_args(const struct coffer_queue *q, char a[3][16], int *nargs)
{
	int wttl;

	if (q->layout == COFFER_QUEUE_LAYOUT_ASPERATHOS) {
		if (q->stale_ms == 0)
			return -1;
		snprintf(a[0], 16, "%d", q->stale_ms);
		*nargs = 1;
		return QS_ASP_REAP;
	}
	wttl = q->lease_ms * 10 > WORKER_TTL_MIN_MS ? q->lease_ms * 10 :
	    WORKER_TTL_MIN_MS;
	snprintf(a[0], 16, "%d", q->lease_ms);
	snprintf(a[1], 16, "%d", q->max_attempts);
	snprintf(a[2], 16, "%d", wttl);
	*nargs = 3;
	return QS_REAP;
}

static int
reap_reply(struct coffer_queue *q, const redisReply *rep, size_t *requeued)
{
	long long v = 0;
	int r;

	if ((r = queue_reply_int(rep, q->redacted, "reap", &v)) != 0)
		return r;
	if (requeued != NULL)
		*requeued = v < 0 ? 0 : (size_t)v;
	return 0;
}

int
coffer_queue_reap(struct coffer_queue *q, size_t *requeued)
{
	char a[3][16];
	const char *av[3] = { a[0], a[1], a[2] };
	redisReply *rep = NULL;
	int r, s, nargs = 0;

	if ((s = reap_args(q, a, &nargs)) < 0) {
		if (requeued != NULL)
			*requeued = 0;
		return 0;
	}
	if ((r = queue_run_script(q, (enum queue_script)s, nargs, av, NULL,
	    &rep)) != 0)
		return r;
	r = reap_reply(q, rep, requeued);
	freeReplyObject(rep);
	return r;
}

int
coffer_queue_stats(struct coffer_queue *q, struct coffer_queue_stats *s)
{
	redisReply *rep = NULL;
	int r, coffer = q->layout == COFFER_QUEUE_LAYOUT_COFFER;

	r = queue_run_script(q, coffer ? QS_STATS : QS_ASP_STATS, 0, NULL, NULL,
	    &rep);
	if (r != 0)
		return r;
	r = queue_reply_stats(rep, q->redacted, coffer, s);
	freeReplyObject(rep);
	return r;
}

/* reap() then stats() as two EVALSHAs in one pipeline: one round trip
 * (doc/queue.md 4.8a). A script the server has forgotten (NOSCRIPT) makes
 * this call reload the scripts and run the two steps one by one, each
 * with its EVAL fallback; both steps are safe to repeat. */
int
coffer_queue_reap_stats(struct coffer_queue *q, size_t *requeued,
    struct coffer_queue_stats *st)
{
	char a[3][16];
	const char *rv[7], *sv[4];
	size_t rl[7], sl[4];
	const char **argv[2];
	const size_t *lens[2];
	int argc[2], nargs = 0, rs, r, noscript = 0,
	    coffer = q->layout == COFFER_QUEUE_LAYOUT_COFFER;
	enum queue_script ss = coffer ? QS_STATS : QS_ASP_STATS;
	redisReply *rep[2] = { NULL, NULL };

	if ((rs = reap_args(q, a, &nargs)) < 0) {
		if (requeued != NULL)
			*requeued = 0;
		return coffer_queue_stats(q, st);
	}
	if ((r = queue_connect(q)) != 0)
		return r;
	rv[0] = sv[0] = "EVALSHA";
	rv[1] = q->sha[rs];
	sv[1] = q->sha[ss];
	rv[2] = sv[2] = "1";
	rv[3] = sv[3] = q->prefix;
	for (int i = 0; i < nargs; i++)
		rv[4 + i] = a[i];
	for (int i = 0; i < 4 + nargs; i++)
		rl[i] = strlen(rv[i]);
	for (int i = 0; i < 4; i++)
		sl[i] = strlen(sv[i]);
	argc[0] = 4 + nargs;
	argc[1] = 4;
	argv[0] = rv;
	argv[1] = sv;
	lens[0] = rl;
	lens[1] = sl;
	if ((r = queue_pipeline(q, 2, argc, argv, lens, rep, "reap+stats")) != 0)
		return r;
	for (int i = 0; i < 2; i++)
		if (rep[i]->type == REDIS_REPLY_ERROR &&
		    strncmp(rep[i]->str, "NOSCRIPT", 8) == 0)
			noscript = 1;
	if (noscript) {
		freeReplyObject(rep[0]);
		freeReplyObject(rep[1]);
		(void)load_scripts(q);
		if ((r = coffer_queue_reap(q, requeued)) != 0)
			return r;
		return coffer_queue_stats(q, st);
	}
	r = rep[0]->type == REDIS_REPLY_ERROR ?
	    queue_reply_error(q, rep[0], queue_scripts[rs].name) :
	    reap_reply(q, rep[0], requeued);
	if (r == 0)
		r = rep[1]->type == REDIS_REPLY_ERROR ?
		    queue_reply_error(q, rep[1], queue_scripts[ss].name) :
		    queue_reply_stats(rep[1], q->redacted, coffer, st);
	freeReplyObject(rep[0]);
	freeReplyObject(rep[1]);
	return r;
}

int
coffer_queue_stats_finished(const struct coffer_queue_stats *s)
{
	return s->total > 0 && s->in_flight == 0 && s->queued == 0 &&
	    s->done >= 0 && s->failed >= 0 &&
	    s->total == s->done + s->failed + s->in_flight + s->queued;
}
