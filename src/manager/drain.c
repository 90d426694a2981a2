// SPDX-License-Identifier: Apache-2.0
// The drain signal (doc/manager.md section 3, doc/queue.md 4.9): a running
// native job's queue says when its last item is settled, and the manager
// ticks at once instead of at its next tick. Only a wake-up: the counts
// the tick reads decide, as before, and a lost signal costs one tick.
#include <stdlib.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "manager/job_int.h"
#include "manager/mgr.h"
#include "queue/watch.h"

/* The most often a job's messages wake the manager. */
#define WAKE_MIN_MS 100

struct mgr_drain {
	struct mgr *m;
	struct mgr_job *j;
	struct coffer_queue_watch *w;
};

static void
on_watch(enum coffer_queue_watch_event ev, void *arg)
{
	struct mgr_drain *d = arg;
	struct mgr_job *j = d->j;

	/* During the shutdown's drain of HTTP answers the tick events are
	 * gone: nothing to wake. */
	if (d->m->stopping || j->state != MGR_RUNNING)
		return;
	if (ev == COFFER_QUEUE_WATCH_DRAINED) {
		int64_t now = coffer_mono_ms();

		/* Anyone may publish on the channel (DS3): a message that
		 * came early must not silence the real one, and a flood must
		 * not become a tick per message. So each one wakes the job,
		 * but at most one in WAKE_MIN_MS. */
		if (j->drain_signal_ms != 0 &&
		    now - j->drain_signal_ms < WAKE_MIN_MS)
			return;
		if (j->drain_signal_ms == 0)
			coffer_logkv(COFFER_LOG_INFO, "the queue says the job "
			    "drained", "job", j->id, NULL);
		j->drain_signal_ms = now;
	}
	/* Subscribed (again): a drain meanwhile was unheard (DS4), so the
	 * counts are read now as well. */
	mgr_tick_soon(d->m);
}

void
mgr_drain_watch(struct mgr *m, struct mgr_job *j)
{
	struct mgr_drain *d;

	if (j->drain != NULL || j->spec.queue_layout != MGR_QUEUE_COFFER)
		return;
	if ((d = coffer_calloc(1, sizeof(*d))) == NULL)
		return;
	d->m = m;
	d->j = j;
	if (coffer_queue_watch_new(m->base, j->redis_url, mgr_job_queue_name(j),
	    on_watch, d, &d->w) != 0) {
		/* A URL the queue itself opened cannot be bad; if it were,
		 * the job still ends at its ticks. Not tried again (d->w
		 * stays NULL): one warning, not one per tick. */
		coffer_warn("job %s: no drain signal: %s", j->id,
		    coffer_errdetail());
		coffer_errclear();
	}
	j->drain = d;
}

void
mgr_drain_watch_free(struct mgr_job *j)
{
	if (j->drain == NULL)
		return;
	coffer_queue_watch_free(j->drain->w);
	free(j->drain);
	j->drain = NULL;
}
