/* SPDX-License-Identifier: Apache-2.0 */
/* Requests of a stage's results held until the stage closes
 * (GET .../stages/{stage}/leaves?wait=S, doc/format/item-proof.md 7.2,
 * rules LW1 to LW5): a reduce worker started while the map stage runs
 * gets the map results at the commit that closes it, with no polling.
 * Likewise a job's state until the job closes (GET /v1/jobs/{job}?wait=S,
 * doc/protocol/key-release.md section 5, JW1 to JW5): the manager learns
 * of a job that closed itself at its last proof without polling. */
#ifndef COFFER_COORDINATOR_WAITERS_H
#define COFFER_COORDINATOR_WAITERS_H

#include <stddef.h>
#include <stdint.h>

struct coord;
struct http_req;
struct coord_waiters;

/* LW1: the longest wait a request may ask for, in seconds. */
#define COORD_LEAVES_WAIT_MAX_S 30
/* LW5: requests held at once; one more is answered at once. */
#define COORD_LEAVES_WAITERS_MAX 256

/* After c->base exists. */
int coord_waiters_new(struct coord *c, struct coord_waiters **out)
	__attribute__((warn_unused_result));
/* LW5: every held request is answered 409 stage.open (dropped if its
 * client or the server is gone) and freed. NULL is a no-op. */
void coord_waiters_free(struct coord_waiters *w);

/*
 * LW2 to LW4: answer r (the leaves of stage 0 or 1 of job) now if the
 * stage is closed or the request is refused, else hold it (deferred)
 * until the stage closes or wait_s seconds pass. w may be NULL (nothing
 * is held: answered at once).
 */
void coord_waiters_leaves(struct coord_waiters *w, struct http_req *r,
    const uint8_t job[16], size_t stage, int wait_s);

/*
 * JW2 to JW4 (doc/protocol/key-release.md section 5): GET /v1/jobs/{job}
 * answered now if the job is closed, unknown or wait_s is 0, else held
 * until it closes or wait_s seconds pass. Counted in the bound of LW5.
 */
void coord_waiters_job(struct coord_waiters *w, struct http_req *r,
    const uint8_t job[16], int wait_s);

/* Requests of a stage's leaves held now (for /metrics). NULL: 0. */
size_t coord_waiters_count(const struct coord_waiters *w);
/* Requests of a job held now (for /metrics). NULL: 0. */
size_t coord_waiters_count_jobs(const struct coord_waiters *w);

/* LW3: after a durable commit that may have closed a stage, answer every
 * held request whose stage is closed now. NULL is a no-op. */
void coord_waiters_wake(struct coord_waiters *w);

#endif
