/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit of item proofs (doc/coordinator.md section 10.1, rules G1
 * to G6): requests of POST /v1/jobs/{job}/proofs that arrive while a
 * commit is pending are applied in one open state transaction and
 * answered together, after its one durable commit. */
#ifndef COFFER_COORDINATOR_GROUP_H
#define COFFER_COORDINATOR_GROUP_H

#include <stddef.h>
#include <stdint.h>

struct coord;
struct http_req;
struct coord_group;

/* The bounds of a group (G2): it is committed once it holds this many
 * proofs, or once its first request was applied this long ago, even if
 * the loop is never idle. */
#define COORD_GROUP_MAX_PROOFS 1024
#define COORD_GROUP_MAX_US 2000
/* The event loop's priorities: handlers and timers run at the default
 * (1), the group's commit at 2, when nothing else is ready (G2). */
#define COORD_PRIORITIES 3

/* After c->base, c->st and c->ledger exist. */
int coord_group_new(struct coord *c, struct coord_group **out)
	__attribute__((warn_unused_result));
/* Commits what is pending first (coord_group_flush). NULL is a no-op. */
void coord_group_free(struct coord_group *g);

/* G1: the open transaction the next request's proofs go into (begun if
 * none is). Errors: those of coord_state_begin. */
int coord_group_join(struct coord_group *g) __attribute__((warn_unused_result));
/*
 * G1, G4: hold r's answer (200, content type ctype, body of len bytes,
 * copied) until the group's commit; outcomes (by outcome, for /metrics)
 * and nproofs count in the group. r is deferred (http_req_defer): the
 * handler returns without replying. If that is not possible (no memory)
 * the group is committed at once and r answered before this returns.
 */
void coord_group_add(struct coord_group *g, struct http_req *r,
    const char *ctype, const void *body, size_t len,
    const uint64_t outcomes[6], size_t nproofs);
/* G5: a request failed after it wrote (err, with its detail): roll back,
 * forget the ledgers in memory, answer every held request with the error
 * (r too, if not NULL). */
void coord_group_fail(struct coord_group *g, struct http_req *r, int err);
/* G2, G3: commit the pending group durably and send its answers (or, if
 * the commit fails, G5). Nothing pending: nothing happens. */
void coord_group_flush(struct coord_group *g);

/* For /metrics: groups committed and the requests they answered (their
 * ratio is the requests per disk flush), groups rolled back. */
struct coord_group_stats {
	uint64_t commits, requests, failures;
};
void coord_group_stats(const struct coord_group *g,
    struct coord_group_stats *out);

#endif
