// SPDX-License-Identifier: Apache-2.0
// Held requests (doc/manager.md section 7.1): GET /v1/jobs/{id}?wait_s=N
// answers once the job has ended, or after N seconds, whichever is first,
// so that a client waiting for a job's end asks once instead of polling.
// The request is deferred (http_req_defer); each waiter has a timer on the
// manager's loop, set to its deadline, and moved to "now" when its job
// reaches a terminal state or is deleted (mgr_waiters_wake): the answer is
// then written on the loop's next turn, after the tick or the handler that
// ended the job has finished with it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "coffer/error.h"
#include "lib/log.h"
#include "manager/approvals.h"
#include "manager/mgr.h"

struct mgr_waiter {
	struct mgr *m;
	struct http_req *d;          /* deferred */
	char job[65];
	int full;                    /* the answer's form (mgr_job_json) */
	struct event *ev;            /* the deadline, or "now" */
	struct mgr_waiter *next;
};

static void
unlink_waiter(struct mgr_waiter *w)
{
	struct mgr_waiter **p = &w->m->waiters;

	while (*p != NULL && *p != w)
		p = &(*p)->next;
	if (*p == w)
		*p = w->next;
	event_free(w->ev);
	free(w);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct mgr_waiter *w = arg;
	struct mgr_job *j = mgr_job_find(w->m, w->job);

	(void)fd;
	(void)what;
	if (j == NULL) {
		http_reply_error(w->d, 404, "not_found", "id",
		    "no job '%s' (deleted while the request waited)", w->job);
	} else {
		mgr_approvals_viewed(j);
		http_reply_json(w->d, 200, mgr_job_json(w->m, j, w->full));
	}
	http_req_done(w->d);
	unlink_waiter(w);
}

/* Its client went away: nobody to answer, the slot is free again. */
static void
on_gone(struct http_req *d, void *arg)
{
	http_req_done(d);
	unlink_waiter(arg);
}

int
mgr_waiters_add(struct mgr *m, struct http_req *r, const struct mgr_job *j,
    int wait_s, int full)
{
	struct timeval tv = { .tv_sec = wait_s, .tv_usec = 0 };
	struct mgr_waiter *w;
	size_t n = 0;

	/* Bounded, whatever the connection caps; a client that goes away
	 * frees its waiter (on_gone). */
	for (w = m->waiters; w != NULL; w = w->next)
		n++;
	if (n >= MGR_WAITERS_MAX)
		return coffer_errf(COFFER_E_BUSY, "%zu requests are held already",
		    n);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	w->m = m;
	w->full = full;
	snprintf(w->job, sizeof(w->job), "%s", j->id);
	if ((w->ev = event_new(m->base, -1, 0, on_wake, w)) == NULL ||
	    event_add(w->ev, &tv) != 0) {
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
		return coffer_errf(COFFER_E_NOMEM, "event_new failed");
	}
	if ((w->d = http_req_defer(r)) == NULL) {
		event_free(w->ev);
		free(w);
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	}
	http_req_on_gone(w->d, on_gone, w);
	w->next = m->waiters;
	m->waiters = w;
	return 0;
}

void
mgr_waiters_wake(struct mgr *m, const char *id)
{
	struct timeval now = { 0, 0 };

	for (struct mgr_waiter *w = m->waiters; w != NULL; w = w->next)
		if (strcmp(w->job, id) == 0 && event_add(w->ev, &now) != 0)
			coffer_warn("job %s: a held request could not be woken", id);
}

void
mgr_waiters_shutdown(struct mgr *m)
{
	while (m->waiters != NULL) {
		struct mgr_waiter *w = m->waiters;

		http_reply_error(w->d, 503, "unavailable", NULL,
		    "the manager is stopping");
		http_req_done(w->d);
		unlink_waiter(w);
	}
}
