// SPDX-License-Identifier: Apache-2.0
// Group commit of item proofs (group.h; doc/coordinator.md section 10.1).
// One request of proofs cost a durable commit of its own, most of its
// CPU and a disk flush; requests that arrive while a commit is pending
// now share the next one. Proofs are applied at once (so the commit
// rule sees them in arrival order), their answers are held, and one
// commit makes the whole group durable before any of its answers is sent.
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "coordinator/group.h"
#include "coordinator/waiters.h"
#include "lib/log.h"
#include "lib/mem.h"

/* A request whose answer waits for the commit. */
struct held {
	struct http_req *r;       /* deferred (http_req_defer) */
	const char *ctype;        /* static */
	void *body;
	size_t len;
	struct held *next;
};

struct coord_group {
	struct coord *c;
	struct event *commit_ev;  /* at the lowest priority: the loop is idle */
	int open;                 /* a transaction is open for the group */
	struct held *first, **last;
	size_t proofs;
	uint64_t outcomes[6];
	int64_t since_us;         /* when the group's first request joined */
	char msg[600];            /* the last failure's message */
	size_t held;              /* requests held */
	struct coord_group_stats stats;
};

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
on_commit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	coord_group_flush(arg);
}

int
coord_group_new(struct coord *c, struct coord_group **out)
{
	struct coord_group *g;

	if ((g = coffer_calloc(1, sizeof(*g))) == NULL)
		return COFFER_E_NOMEM;
	g->c = c;
	g->last = &g->first;
	if ((g->commit_ev = event_new(c->base, -1, 0, on_commit, g)) == NULL ||
	    event_priority_set(g->commit_ev, COORD_PRIORITIES - 1) != 0) {
		if (g->commit_ev != NULL)
			event_free(g->commit_ev);
		free(g);
		return coffer_errf(COFFER_E_INTERNAL, "the group commit's event");
	}
	*out = g;
	return 0;
}

void
coord_group_free(struct coord_group *g)
{
	if (g == NULL)
		return;
	coord_group_flush(g);
	event_free(g->commit_ev);
	free(g);
}

int
coord_group_join(struct coord_group *g)
{
	int r;

	if (g->open)
		return 0;
	if ((r = coord_state_begin(g->c->st)) != 0)
		return r;
	g->open = 1;
	g->since_us = mono_us();
	/* G2: committed when the loop has nothing else to do. */
	event_active(g->commit_ev, EV_TIMEOUT, 0);
	return 0;
}

/* Answer every held request: 200 with its answers, or the error. */
static void
answer_all(struct coord_group *g, int err, const char *msg)
{
	struct held *h, *next;

	for (h = g->first; h != NULL; h = next) {
		next = h->next;
		if (err == 0)
			http_reply_text(h->r, 200, h->ctype, h->body, h->len);
		else
			http_reply_error(h->r, 500, "internal", NULL, "%s", msg);
		http_req_done(h->r);
		free(h->body);
		free(h);
	}
	g->first = NULL;
	g->last = &g->first;
	g->held = 0;
	g->proofs = 0;
	memset(g->outcomes, 0, sizeof(g->outcomes));
}

void
coord_group_fail(struct coord_group *g, struct http_req *r, int err)
{
	/* G5: nothing of the group is durable; the memory must not be
	 * ahead of the state either. */
	snprintf(g->msg, sizeof(g->msg), "%s: %s", coffer_strerror(err),
	    coffer_errdetail());
	coffer_error("item proofs: a group of %zu proofs rolled back: %s",
	    g->proofs, g->msg);
	event_del(g->commit_ev);
	if (g->open)
		coord_state_rollback(g->c->st);
	g->open = 0;
	g->stats.failures++;
	coord_ledger_forget(g->c->ledger);
	answer_all(g, err, g->msg);
	if (r != NULL)
		http_reply_error(r, 500, "internal", NULL, "%s", g->msg);
}

/* G2, G4: 0 once committed and answered, or the error after G5. */
static int
commit(struct coord_group *g)
{
	int r;

	event_del(g->commit_ev);
	if (!g->open)
		return 0;
	/* One durable commit (a disk flush) for the whole group. */
	if ((r = coord_state_commit(g->c->st)) != 0) {
		coord_group_fail(g, NULL, r);
		return r;
	}
	g->open = 0;
	if (g->held > 0) {
		g->stats.commits++;
		g->stats.requests += g->held;
	}
	/* Only now is any of its answers sent. */
	coord_ledger_count(g->c->ledger, g->outcomes);
	answer_all(g, 0, NULL);
	/* A stage this group closed answers the requests waiting for it
	 * (doc/format/item-proof.md 7.2, LW3). */
	coord_waiters_wake(g->c->waiters);
	return 0;
}

void
coord_group_flush(struct coord_group *g)
{
	(void)commit(g);
}

void
coord_group_stats(const struct coord_group *g, struct coord_group_stats *out)
{
	*out = g->stats;
}

void
coord_group_add(struct coord_group *g, struct http_req *r, const char *ctype,
    const void *body, size_t len, const uint64_t outcomes[6], size_t nproofs)
{
	struct http_req *d = NULL;
	struct held *h;

	if ((h = coffer_calloc(1, sizeof(*h))) == NULL ||
	    (h->body = coffer_malloc(len > 0 ? len : 1)) == NULL ||
	    (d = http_req_defer(r)) == NULL) {
		/* Cannot hold it: commit now and answer it directly. */
		if (h != NULL)
			free(h->body);
		free(h);
		if (commit(g) != 0) {
			http_reply_error(r, 500, "internal", NULL, "%s", g->msg);
			return;
		}
		http_reply_text(r, 200, ctype, body, len);
		coord_ledger_count(g->c->ledger, outcomes);
		return;
	}
	memcpy(h->body, body, len);
	h->len = len;
	h->ctype = ctype;
	h->r = d;
	*g->last = h;
	g->last = &h->next;
	g->held++;
	g->proofs += nproofs;
	for (size_t i = 0; i < 6; i++)
		g->outcomes[i] += outcomes[i];
	/* G2: a group stays bounded even when the loop is never idle. */
	if (g->proofs >= COORD_GROUP_MAX_PROOFS ||
	    mono_us() - g->since_us >= COORD_GROUP_MAX_US)
		coord_group_flush(g);
}
