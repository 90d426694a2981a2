// SPDX-License-Identifier: Apache-2.0
// The drain signal's subscriber (queue/watch.h; doc/queue.md 4.9): a
// hiredis asynchronous connection on the caller's libevent loop, so that
// a manager waiting for the signal takes no thread and no poll.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "coffer/error.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "queue/queue.h"
#include "queue/redis_url.h"
#include "queue/replies.h"
#include "queue/watch.h"

/* A SUBSCRIBE not confirmed this long after the connection began is given
 * up (hiredis 0.14 has no connect timeout of its own). */
#define CONFIRM_MS 5000
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000

struct coffer_queue_watch {
	struct event_base *base;
	struct coffer_redis_url url;
	char channel[COFFER_QUEUE_JOB_MAX + 32];
	coffer_queue_watch_fn fn;
	void *arg;
	redisAsyncContext *ac;  /* NULL between connections */
	struct event *timer;    /* confirm timeout, or the next connection */
	int retry_ms;           /* the next back-off */
	int warned;             /* a failure was logged as a warning */
	unsigned long messages;
};

static void arm(struct coffer_queue_watch *w, int ms);

/* A failure: say it (a warning the first time: an operator should learn
 * that the signal does not work, e.g. an ACL without channels), then try
 * again after the back-off. */
static void
retry_later(struct coffer_queue_watch *w, const char *what)
{
	coffer_log(w->warned ? COFFER_LOG_DEBUG : COFFER_LOG_WARN,
	    "queue watch %s: %s: no drain signal until it "
	    "works; trying again in %d ms", w->channel, what, w->retry_ms);
	w->warned = 1;
	arm(w, w->retry_ms);
	w->retry_ms = w->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
	    w->retry_ms * 2;
}

/* Close the connection from our side. Every callback hiredis still makes
 * for it (pending replies with NULL, the disconnect) sees data NULL and
 * does nothing. */
static void
drop(struct coffer_queue_watch *w, const char *what)
{
	redisAsyncContext *ac = w->ac;

	w->ac = NULL;
	if (ac != NULL) {
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	retry_later(w, what);
}

static void
on_auth(redisAsyncContext *ac, void *reply, void *priv)
{
	struct coffer_queue_watch *w = ac->data;
	redisReply *rep = reply;
	char what[200];

	(void)priv;
	if (w == NULL || rep == NULL)
		return;
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(what, sizeof(what), "AUTH refused: %.*s",
		    rep->len > 150 ? 150 : (int)rep->len, rep->str);
		drop(w, what);
	}
}

static int
is_str(const redisReply *r, const char *s)
{
	return r->type == REDIS_REPLY_STRING && r->len == strlen(s) &&
	    memcmp(r->str, s, r->len) == 0;
}

/* Every reply to SUBSCRIBE: its confirmation, then each message. Redis is
 * untrusted (DS3): anything but these two shapes on our channel closes the
 * connection; a message only wakes the caller. */
static void
on_sub(redisAsyncContext *ac, void *reply, void *priv)
{
	struct coffer_queue_watch *w = ac->data;
	redisReply *rep = reply;
	char what[200];

	(void)priv;
	if (w == NULL || rep == NULL)
		return;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
	    is_str(rep->element[1], w->channel)) {
		if (is_str(rep->element[0], "message")) {
			w->messages++;
			w->fn(COFFER_QUEUE_WATCH_DRAINED, w->arg);
			return;
		}
		if (is_str(rep->element[0], "subscribe")) {
			evtimer_del(w->timer);
			w->retry_ms = RETRY_MIN_MS;
			if (w->warned)
				coffer_info("queue watch %s: subscribed again",
				    w->channel);
			w->warned = 0;
			w->fn(COFFER_QUEUE_WATCH_SUBSCRIBED, w->arg);
			return;
		}
	}
	if (rep->type == REDIS_REPLY_ERROR)
		snprintf(what, sizeof(what), "SUBSCRIBE refused: %.*s",
		    rep->len > 150 ? 150 : (int)rep->len, rep->str);
	else
		snprintf(what, sizeof(what), "an unexpected reply (type %d)",
		    rep->type);
	drop(w, what);
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct coffer_queue_watch *w = ac->data;

	if (w == NULL || status == REDIS_OK)
		return;
	/* hiredis frees the context after this callback. */
	w->ac = NULL;
	retry_later(w, ac->errstr[0] ? ac->errstr : "cannot connect");
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct coffer_queue_watch *w = ac->data;

	(void)status;
	if (w == NULL)
		return;
	/* hiredis frees the context after this callback. */
	w->ac = NULL;
	retry_later(w, ac->errstr[0] ? ac->errstr : "connection closed");
}

static void
connect_now(struct coffer_queue_watch *w)
{
	redisAsyncContext *ac;
	const char *argv[3];
	size_t lens[3];
	int n = 0;

	if (w->url.path != NULL)
		ac = redisAsyncConnectUnix(w->url.path);
	else
		ac = redisAsyncConnect(w->url.host, w->url.port);
	if (ac == NULL) {
		retry_later(w, "out of memory");
		return;
	}
	if (ac->err != 0) {
		char what[200];

		snprintf(what, sizeof(what), "%s", ac->errstr);
		redisAsyncFree(ac);
		retry_later(w, what);
		return;
	}
	/* Replicas this process starts must not inherit the socket. */
	(void)fcntl(ac->c.fd, F_SETFD, FD_CLOEXEC);
	queue_reader_cap(ac->c.reader);
	ac->data = w;
	w->ac = ac;
	if (redisLibeventAttach(ac, w->base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK) {
		drop(w, "cannot attach to the event loop");
		return;
	}
	if (w->url.password != NULL) {
		argv[n] = "AUTH";
		lens[n++] = 4;
		if (w->url.user != NULL) {
			argv[n] = w->url.user;
			lens[n++] = strlen(w->url.user);
		}
		argv[n] = w->url.password;
		lens[n++] = strlen(w->url.password);
		if (redisAsyncCommandArgv(ac, on_auth, NULL, n, argv, lens) !=
		    REDIS_OK) {
			drop(w, "cannot send AUTH");
			return;
		}
	}
	argv[0] = "SUBSCRIBE";
	lens[0] = 9;
	argv[1] = w->channel;
	lens[1] = strlen(w->channel);
	if (redisAsyncCommandArgv(ac, on_sub, NULL, 2, argv, lens) != REDIS_OK) {
		drop(w, "cannot send SUBSCRIBE");
		return;
	}
	arm(w, CONFIRM_MS);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct coffer_queue_watch *w = arg;

	(void)fd;
	(void)what;
	if (w->ac != NULL)
		drop(w, "no subscription confirmed in time");
	else
		connect_now(w);
}

static void
arm(struct coffer_queue_watch *w, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_del(w->timer);
	(void)evtimer_add(w->timer, &tv);
}

int
coffer_queue_watch_new(struct event_base *base, const char *url,
    const char *job, coffer_queue_watch_fn fn, void *arg,
    struct coffer_queue_watch **out)
{
	struct coffer_queue_watch *w = NULL;
	int r;

	if ((r = coffer_queue_check_job(job)) != 0)
		return r;
	if ((w = coffer_calloc(1, sizeof(*w))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "queue watch");
	if ((r = coffer_redis_url_parse(url, &w->url)) != 0) {
		free(w);
		return r;
	}
	w->base = base;
	w->fn = fn;
	w->arg = arg;
	w->retry_ms = RETRY_MIN_MS;
	snprintf(w->channel, sizeof(w->channel), "coffer:{%s}:drained", job);
	if ((w->timer = evtimer_new(base, on_timer, w)) == NULL) {
		coffer_redis_url_release(&w->url);
		free(w);
		return coffer_errf(COFFER_E_NOMEM, "queue watch: evtimer_new");
	}
	connect_now(w);
	*out = w;
	return 0;
}

unsigned long
coffer_queue_watch_messages(const struct coffer_queue_watch *w)
{
	return w != NULL ? w->messages : 0;
}

void
coffer_queue_watch_free(struct coffer_queue_watch *w)
{
	redisAsyncContext *ac;

	if (w == NULL)
		return;
	if ((ac = w->ac) != NULL) {
		w->ac = NULL;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	event_free(w->timer);
	coffer_redis_url_release(&w->url);
	free(w);
}
