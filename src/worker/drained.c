// SPDX-License-Identifier: Apache-2.0
// --reduce KEY --after-drain (doc/worker.md section 2): a plaintext job's
// reduce replica, started while the map stage runs, waits here for the
// job's queue to drain, woken by the drain signal (doc/queue.md 4.9).
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "queue/watch.h"
#include "worker/worker.h"

/* The counts are read at each signal, and at least this often (a signal
 * is only a hint and may be lost, DS4); a stop is seen within STEP_MS. */
#define READ_EVERY_MS 1000
#define STEP_MS 200
/* As long as a confidential reduce replica waits for its map stage
 * (reduce.c). */
#define DRAIN_WAIT_MAX_MS (600 * 1000)

struct wait {
	struct event_base *base;
	int woken;
};

/* A message or a (new) subscription: read the counts now (DS3, DS4). */
static void
on_watch(enum coffer_queue_watch_event ev, void *arg)
{
	struct wait *c = arg;

	(void)ev;
	c->woken = 1;
	event_base_loopbreak(c->base);
}

/* Only there to make a loop round end within STEP_MS. */
static void
on_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

int
worker_wait_drained(struct worker *w, struct coffer_queue_stats *st)
{
	const struct worker_config *cfg = w->cfg;
	struct coffer_queue_watch *watch = NULL;
	struct event *step = NULL;
	struct wait c = { NULL, 0 };
	struct timeval tv = { 0, STEP_MS * 1000 };
	int64_t t0 = coffer_mono_ms(), next, last_warn = 0;
	char ms[24], done[24], failed[24];
	int r;

	if (w->q == NULL && (r = worker_open_queue(cfg, w->stop, 0, &w->q)) != 0)
		return r;
	coffer_logkv(COFFER_LOG_INFO, "waiting for the queue to drain", "job",
	    cfg->job, NULL);
	for (;;) {
		if (*w->stop) {
			r = coffer_errf(COFFER_E_CANCELLED, "stopped while waiting "
			    "for the queue to drain");
			break;
		}
		if ((r = coffer_queue_stats(w->q, st)) == 0 &&
		    coffer_queue_stats_finished(st))
			break;
		if (r != 0 && coffer_mono_ms() - last_warn > 10000) {
			/* Redis away: read again, as the signal's watch
			 * connects again. */
			coffer_logkv(COFFER_LOG_WARN, "cannot read the queue's counts,"
			    " retrying", "error", coffer_errdetail(), NULL);
			last_warn = coffer_mono_ms();
		}
		if (coffer_mono_ms() - t0 > DRAIN_WAIT_MAX_MS) {
			r = coffer_errf(COFFER_E_TIMEOUT, "the queue is still not "
			    "drained after %d s of waiting", DRAIN_WAIT_MAX_MS / 1000);
			break;
		}
		/* Subscribed only when the first read says there is something
		 * to wait for: a replica started after the drain costs one
		 * read. */
		if (c.base == NULL) {
			if ((c.base = event_base_new()) == NULL ||
			    (step = event_new(c.base, -1, EV_PERSIST, on_step,
			    NULL)) == NULL || event_add(step, &tv) != 0) {
				r = coffer_errf(COFFER_E_NOMEM, "event loop");
				break;
			}
			if (coffer_queue_watch_new(c.base, cfg->redis_url, cfg->job,
			    on_watch, &c, &watch) != 0) {
				/* The counts are still read every second. */
				coffer_logkv(COFFER_LOG_WARN, "no drain signal",
				    "error", coffer_errdetail(), NULL);
				coffer_errclear();
			}
		}
		c.woken = 0;
		next = coffer_mono_ms() + READ_EVERY_MS;
		while (!c.woken && !*w->stop && coffer_mono_ms() < next)
			(void)event_base_loop(c.base, EVLOOP_ONCE);
	}
	coffer_queue_watch_free(watch);
	if (step != NULL)
		event_free(step);
	if (c.base != NULL)
		event_base_free(c.base);
	if (r != 0)
		return r;
	snprintf(ms, sizeof(ms), "%lld", (long long)(coffer_mono_ms() - t0));
	snprintf(done, sizeof(done), "%lld", (long long)st->done);
	snprintf(failed, sizeof(failed), "%lld", (long long)st->failed);
	coffer_logkv(COFFER_LOG_INFO, "the queue drained", "job", cfg->job,
	    "waited_ms", ms, "done", done, "failed", failed, NULL);
	return 0;
}
