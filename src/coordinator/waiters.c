// SPDX-License-Identifier: Apache-2.0
// Held requests of a stage's results (waiters.h; doc/format/item-proof.md
// 7.2, LW1 to LW5) and of a job's state (doc/protocol/key-release.md
// section 5, JW1 to JW5). A reduce worker started while the map stage runs
// asks once and is answered at the commit that closes the stage; the
// coordinator re-reads nothing but the stage's state of the few held
// requests after each commit. The answer is the one the request would
// get at that moment: waiting changes when, never what.
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "coordinator/group.h"
#include "coordinator/ledger.h"
#include "coordinator/waiters.h"
#include "lib/mem.h"

#define LEAVES_ANSWER_MAX ((size_t)COFFER_POLICY_MAX_OBJECTS * 180 + 4096)

struct waiter {
	struct coord_waiters *w;
	struct http_req *r;       /* deferred (http_req_defer) */
	uint8_t job[16];
	size_t stage;
	int whole_job;            /* GET /v1/jobs/{job} (JW), else the leaves */
	struct event *timer;      /* LW4 */
	struct waiter *prev, *next;
};

struct coord_waiters {
	struct coord *c;
	struct waiter *first;
	size_t n;
	size_t njobs;             /* of n, GET /v1/jobs/{job} */
};

int
coord_waiters_new(struct coord *c, struct coord_waiters **out)
{
	struct coord_waiters *w;

	if ((w = coffer_calloc(1, sizeof(*w))) == NULL)
		return COFFER_E_NOMEM;
	w->c = c;
	*out = w;
	return 0;
}

/* The stage still open: "stage.open", the one answer that is held. */
static int
still_open(int e)
{
	return e == COFFER_E_STATE &&
	    strncmp(coffer_errdetail(), "stage.open:", 11) == 0;
}

/* LW2, LW3: answer r from the ledger now, unless the stage is still open
 * and hold is set (then 0: nothing answered). 1 once answered. */
static int
answer_leaves(struct coord *c, struct http_req *r, const uint8_t job[16],
    size_t stage, int hold)
{
	struct coffer_buf out = COFFER_BUF_INIT(LEAVES_ANSWER_MAX);
	int e, held = 0;

	e = coord_ledger_leaves(c->ledger, job, stage, &out);
	if (e == 0)
		http_reply_text(r, 200, "application/json", coffer_buf_str(&out),
		    out.len);
	else if ((held = hold && still_open(e)) != 0)
		coffer_errclear();
	else
		coord_refuse_err(r, e, NULL);
	coffer_buf_release(&out);
	return !held;
}

/* The answer of x's kind: a stage's leaves (LW2, LW3) or the job (JW2,
 * JW3). */
static int
answer(struct coord *c, const struct waiter *x, int hold)
{
	if (x->whole_job)
		return coord_job_answer(c, x->r, x->job, hold);
	return answer_leaves(c, x->r, x->job, x->stage, hold);
}

/* Out of the list; its request is still to be answered. */
static void
unlink_waiter(struct waiter *x)
{
	struct coord_waiters *w = x->w;

	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		w->first = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
	w->n--;
	if (x->whole_job)
		w->njobs--;
}

/* Once answered, out of the list. */
static void
waiter_free(struct waiter *x)
{
	if (x->timer != NULL)
		event_free(x->timer);
	http_req_done(x->r);
	free(x);
}

static void
unlink_free(struct waiter *x)
{
	unlink_waiter(x);
	waiter_free(x);
}

/*
 * LW4, JW4: the wait is over, the stage or job still open: the answer as
 * without a wait (409 stage.open; the job with closed false). A request
 * without a wait is read after the pending group of proofs is committed
 * (doc/coordinator.md 10.1, G3); so is this one. The timer can end the
 * wait in a loop pass where a group is open (its commit waits for an
 * idle loop, G2), and the ledger and the state already hold what the
 * group applied: read then, a close not yet durable would be told, and
 * stay told if the commit failed (G5), against LW3 and JW3. x leaves the
 * list first, so that the commit's wake does not answer it too.
 */
static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *x = arg;
	struct coord *c = x->w->c;

	(void)fd;
	(void)what;
	unlink_waiter(x);
	if (c->group != NULL)
		coord_group_flush(c->group);
	(void)answer(c, x, 0);
	waiter_free(x);
}

/* LW5, JW5: its client went away; nobody to answer, the slot is free
 * again. */
static void
on_gone(struct http_req *r, void *arg)
{
	(void)r;
	unlink_free(arg);
}

static void
hold(struct coord_waiters *w, struct http_req *r, const uint8_t job[16],
    size_t stage, int whole_job, int wait_s)
{
	struct timeval tv = { wait_s, 0 };
	struct waiter probe, *x;

	memset(&probe, 0, sizeof(probe));
	probe.r = r;
	memcpy(probe.job, job, 16);
	probe.stage = stage;
	probe.whole_job = whole_job;
	/* LW2, JW2, and LW5, JW5: beyond the bound, answered as without a
	 * wait. */
	if (answer(r->ctx, &probe, wait_s > 0 && w != NULL &&
	    w->n < COORD_LEAVES_WAITERS_MAX))
		return;
	if ((x = coffer_calloc(1, sizeof(*x))) == NULL ||
	    (x->timer = evtimer_new(w->c->base, on_timeout, x)) == NULL ||
	    evtimer_add(x->timer, &tv) != 0 ||
	    (x->r = http_req_defer(r)) == NULL) {
		/* Cannot hold it: the answer it would get after the wait. */
		if (x != NULL && x->timer != NULL)
			event_free(x->timer);
		free(x);
		(void)answer(r->ctx, &probe, 0);
		return;
	}
	x->w = w;
	http_req_on_gone(x->r, on_gone, x);
	memcpy(x->job, job, 16);
	x->stage = stage;
	x->whole_job = whole_job;
	x->next = w->first;
	if (x->next != NULL)
		x->next->prev = x;
	w->first = x;
	w->n++;
	if (whole_job)
		w->njobs++;
}

void
coord_waiters_leaves(struct coord_waiters *w, struct http_req *r,
    const uint8_t job[16], size_t stage, int wait_s)
{
	hold(w, r, job, stage, 0, wait_s);
}

void
coord_waiters_job(struct coord_waiters *w, struct http_req *r,
    const uint8_t job[16], int wait_s)
{
	hold(w, r, job, 0, 1, wait_s);
}

void
coord_waiters_wake(struct coord_waiters *w)
{
	struct waiter *x, *next;

	if (w == NULL)
		return;
	for (x = w->first; x != NULL; x = next) {
		next = x->next;
		if (answer(w->c, x, 1))
			unlink_free(x);
	}
}

size_t
coord_waiters_count(const struct coord_waiters *w)
{
	return w != NULL ? w->n - w->njobs : 0;
}

size_t
coord_waiters_count_jobs(const struct coord_waiters *w)
{
	return w != NULL ? w->njobs : 0;
}

void
coord_waiters_free(struct coord_waiters *w)
{
	if (w == NULL)
		return;
	/* LW5, JW5 as LW4 says: after the pending group's commit (which
	 * answers those whose stage or job it closed), as on_timeout. */
	if (w->c->group != NULL)
		coord_group_flush(w->c->group);
	while (w->first != NULL) {
		(void)answer(w->c, w->first, 0);
		unlink_free(w->first);
	}
	free(w);
}
