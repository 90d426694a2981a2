/* SPDX-License-Identifier: Apache-2.0 */
/* The drain signal's subscriber (doc/queue.md 4.9): one asynchronous
 * hiredis connection on a libevent loop, subscribed to a job's channel
 * "coffer:{<job>}:drained", reconnected whenever it is lost. */
#ifndef COFFER_QUEUE_WATCH_H
#define COFFER_QUEUE_WATCH_H

struct event_base;
struct coffer_queue_watch;

enum coffer_queue_watch_event {
	/* A SUBSCRIBE was confirmed (the first, or after a reconnection):
	 * a drain while not subscribed went unheard (rule DS4), so the
	 * caller reads the counts now. */
	COFFER_QUEUE_WATCH_SUBSCRIBED = 1,
	/* A message on the channel: read the counts now. A hint only (DS3):
	 * anyone may publish there. */
	COFFER_QUEUE_WATCH_DRAINED = 2,
};

/* Called on the loop, never from inside coffer_queue_watch_new or _free.
 * It may not free the watch. */
typedef void (*coffer_queue_watch_fn)(enum coffer_queue_watch_event ev,
    void *arg);

/*
 * Watch job `job`'s drain signal on the Redis at `url` (redis:// or unix:,
 * queue/redis_url.h; its user and password are sent with AUTH). Returns 0
 * and *out, which works on `base` until coffer_queue_watch_free; the
 * connection is made on the loop, and every failure (connect, AUTH,
 * SUBSCRIBE, a lost connection) is retried there with back-off (1 s,
 * doubling to 30 s), logged (a warning for the first failure after a
 * subscription or the start, debug after), never reported: a watch that
 * never connects costs the caller only the signal. COFFER_E_FORMAT for a
 * bad job id or URL, COFFER_E_NOMEM.
 */
int coffer_queue_watch_new(struct event_base *base, const char *url,
    const char *job, coffer_queue_watch_fn fn, void *arg,
    struct coffer_queue_watch **out) __attribute__((warn_unused_result));

/* Messages received since the watch was made (for tests and logs). */
unsigned long coffer_queue_watch_messages(const struct coffer_queue_watch *w);

/* Close the connection and free. NULL is a no-op. fn is not called again. */
void coffer_queue_watch_free(struct coffer_queue_watch *w);

#endif
