/* SPDX-License-Identifier: Apache-2.0 */
/* The reliable work queue of a job, on Redis: items are taken atomically
 * into a worker's in-flight list under a lease, renewed by heartbeat,
 * returned by a reaper when the lease expires, retried with back-off, and
 * dead-lettered after max_attempts. Counters are exact. The key layout and
 * every state transition are specified in doc/queue.md. */
#ifndef COFFER_QUEUE_H
#define COFFER_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* Job ids: 1-64 chars of [A-Za-z0-9_.-]. Item ids: 1-1024 bytes of
 * printable ASCII except space (they are object-store keys). Worker ids:
 * 1-128 chars of [A-Za-z0-9_.-]. */
#define COFFER_QUEUE_JOB_MAX 64
#define COFFER_QUEUE_ITEM_MAX 1024
#define COFFER_QUEUE_WORKER_MAX 128
/* Replica ids in worker ids (below): 1-96 chars of [A-Za-z0-9_.-]. */
#define COFFER_QUEUE_REPLICA_MAX 96

/*
 * Key layouts (doc/queue.md section 2 and section 6):
 *  - COFFER: everything under "coffer:{<job>}:", with leases, attempts,
 *    retries, dead letters and exact counters.
 *  - ASPERATHOS: the literal keys an unmodified Asperathos consumer uses:
 *    the list "<job>" (e.g. "job") and "<job>:processing", plus Coffer's
 *    bookkeeping in "<job>:coffer". Only load, stats, reap (with stale_ms),
 *    dead_letters (always none) and destroy work; take/renew/ack/fail are
 *    COFFER_E_UNSUPPORTED because the consumers are Asperathos's own.
 */
enum coffer_queue_layout {
	COFFER_QUEUE_LAYOUT_COFFER = 0,
	COFFER_QUEUE_LAYOUT_ASPERATHOS = 1,
};

struct coffer_queue_opts {
	const char *redis_url;  /* redis://[[user]:password@]host[:port][/db]
	                           or unix:///path (queue/redis_url.h) */
	const char *job;        /* job id */
	const char *worker_id;  /* unique per worker process; NULL for
	                           loaders, monitors and reapers */
	int lease_ms;           /* lease TTL; 0 = default 30000. For a
	                           reaper: how long an in-flight item may stay
	                           without a lease before it is requeued */
	int max_attempts;       /* 0 = default 3. load() records it in the
	                           job; fail() and reap() use the job's value
	                           and fall back to this one */
	int backoff_ms;         /* first retry delay, doubled per attempt;
	                           0 = default 1000; capped at 60000 */
	int connect_timeout_ms; /* 0 = default 5000; also the reply timeout */
	int layout;             /* enum coffer_queue_layout */
	int stale_ms;           /* ASPERATHOS layout only: reap() requeues an
	                           item seen in "<job>:processing" for longer
	                           than this (0 = never; see doc/queue.md 6.3) */
	/* Appended. */
	const char *owner;      /* ASPERATHOS layout only: the id of the job
	                           that owns the fixed keys (a job id, same
	                           format). load() records it; destroy()
	                           deletes only keys recorded as its (doc/
	                           queue.md 6.4). NULL: none (tools) */
	int settle_own_only;    /* ack() and fail() settle only items in this
	                           worker's in-flight list (no late acks):
	                           for a caller acting on what another process
	                           says it holds, as coffer-worker's supervisor
	                           does for a dead runner (doc/queue.md 4.5) */
};

/* Validation shared with loaders and the CLI: 0 or COFFER_E_FORMAT with a
 * detail saying what is wrong. */
int coffer_queue_check_job(const char *job)
	__attribute__((warn_unused_result));
int coffer_queue_check_item(const char *id, size_t len)
	__attribute__((warn_unused_result));

/*
 * Worker ids of replicas (doc/queue.md section 1). A worker started by an
 * actuator that gave it COFFER_REPLICA_ID = R uses the worker id
 * "R_xxxxxxxx": R, an underscore, and 8 lowercase hex digits (rnd, random
 * per process, so that a replica that runs its worker again gets a new
 * id). The queue's in-flight lists then say which replica holds an item.
 */
/* Write "R_xxxxxxxx" to out. COFFER_E_INVAL if R is not a replica id,
 * COFFER_E_LIMIT if outlen is too small. */
int coffer_queue_replica_worker_id(const char *replica_id, uint32_t rnd,
    char *out, size_t outlen) __attribute__((warn_unused_result));
/* The replica id in a worker id of that form, into out: 0, or
 * COFFER_E_NOTFOUND if the worker id is not of that form (e.g.
 * coffer-worker's default "<host>-<pid>-<8 hex>"), COFFER_E_LIMIT if
 * outlen is too small. */
int coffer_queue_worker_replica(const char *worker_id, char *out,
    size_t outlen) __attribute__((warn_unused_result));

struct coffer_queue;

/* Connect and validate the options. Does not touch the job's keys.
 * Errors: COFFER_E_INVAL (options), COFFER_E_FORMAT (URL), COFFER_E_CONNECT
 * (server unreachable; the detail names it), COFFER_E_REDIS (AUTH/SELECT
 * refused). Every later call reconnects by itself after a lost connection;
 * a call that fails with COFFER_E_CONNECT or COFFER_E_BUSY (server still
 * loading its data) may be retried: each is safe to repeat
 * (doc/queue.md section 4). */
int coffer_queue_open(const struct coffer_queue_opts *o,
    struct coffer_queue **out) __attribute__((warn_unused_result));
/* Disconnect and free. A worker whose in-flight list is empty also
 * unregisters itself (best effort). NULL is a no-op. */
void coffer_queue_close(struct coffer_queue *q);

/*
 * Load a job's items (once): fails with COFFER_E_EXISTS if the job already
 * has items, so a restarted loader cannot double a job. Items are pushed in
 * batches; the total is recorded first so progress never exceeds 100%.
 * Every id must pass coffer_queue_check_item() and be unique
 * (COFFER_E_FORMAT otherwise, before anything is written). n may be 0.
 */
int coffer_queue_load(struct coffer_queue *q, const char *const *items,
    size_t n) __attribute__((warn_unused_result));

/* A leased item. id is owned by the struct; release it when done
 * (releasing a zeroed struct is a no-op). */
struct coffer_queue_item {
	char *id;
	uint32_t attempt; /* 1 on the first try */
	/* Appended: when this process took the lease (coffer_mono_ms(), set
	 * by take() and ack_next()); 0 if unknown. ack() and ack_next()
	 * report the time since then as the item's processing time. */
	int64_t leased_ms;
};
void coffer_queue_item_release(struct coffer_queue_item *it);

/*
 * Take the next item into this worker's in-flight list (BLMOVE), set its
 * lease and count the attempt. Waits up to timeout_ms (clamped to
 * [10 ms, 30 s]); COFFER_E_TIMEOUT if nothing came.
 * Requires worker_id. Items already done (a late duplicate) are dropped
 * silently. A queue entry that is not a valid item id is dead-lettered at
 * once and reported as COFFER_E_FORMAT (the detail names it): the caller
 * logs it and takes again. *it is written only on success.
 */
int coffer_queue_take(struct coffer_queue *q, int timeout_ms,
    struct coffer_queue_item *it) __attribute__((warn_unused_result));

/*
 * Extend the lease (heartbeat). COFFER_E_STATE if this worker does not
 * hold it: the lease was lost (it expired and the reaper returned the
 * item, or another worker has it), or the item is already done. *done
 * (if not NULL) is set to 1 in the second case, 0 otherwise. A done item
 * was acked either by this worker a moment ago (its ack raced the
 * heartbeat: nothing to abandon) or by another worker's late ack (this
 * worker's result is no longer needed): only the caller can tell which
 * (doc/worker.md 4.2).
 */
int coffer_queue_renew(struct coffer_queue *q, const struct coffer_queue_item *it,
    int *done) __attribute__((warn_unused_result));

/* Mark done, exactly once whatever the number of calls or workers. A late
 * ack (the lease was lost and the item requeued, retried or dead-lettered)
 * still counts it done once and removes it from wherever it is. The first
 * ack of an item with a known leased_ms also adds its processing time
 * (now - leased_ms) to the job's item time sums (stats(), below).
 * COFFER_E_NOTFOUND, changing nothing, for an item that is not in this
 * worker's in-flight list and was never leased (unknown to the job), or,
 * with settle_own_only, for any item not in this worker's list (an item
 * already done is then a no-op, 0). */
int coffer_queue_ack(struct coffer_queue *q, const struct coffer_queue_item *it)
	__attribute__((warn_unused_result));

/*
 * ack(), then in the same round trip take the next item if one is waiting
 * (without blocking): the worker's steady state costs one round trip per
 * item. Returns what ack() returns; on success *got is 1 and *next holds
 * a leased item (as from take()), or *got is 0 and the caller should call
 * take() to wait. A malformed queue entry met on the way is dead-lettered
 * (*got = 0). On COFFER_E_CONNECT the caller retries with ack(): an item
 * that may have been taken meanwhile is returned by the reaper after its
 * lease expires (doc/queue.md section 7).
 */
int coffer_queue_ack_next(struct coffer_queue *q,
    const struct coffer_queue_item *done, struct coffer_queue_item *next,
    int *got) __attribute__((warn_unused_result));

/*
 * A worker that holds several items (doc/queue.md 4.3a): acknowledge the
 * n items done[] (each as ack(); res[i] = 0, or COFFER_E_NOTFOUND for one
 * refused) and, in the same round trip, lease up to `want` items waiting
 * now (never blocking; at most the waiting items divided by the
 * registered workers, at least 1): *got of them in next[], as from
 * take(). n and want at most COFFER_QUEUE_BATCH_MAX; either may be 0.
 * One ack and want 1 is ack_next(). Errors (transport, protocol): nothing
 * is known of the acks (the caller acks them again one by one) and
 * nothing is taken (what may have moved is reaped after its lease).
 */
#define COFFER_QUEUE_BATCH_MAX 64
int coffer_queue_ack_take(struct coffer_queue *q,
    const struct coffer_queue_item *done, size_t n, int *res, size_t want,
    struct coffer_queue_item *next, size_t *got) __attribute__((warn_unused_result));

/*
 * Record a failed attempt with its error text. Below max_attempts the item
 * is retried after back-off; at max_attempts it goes to the dead-letter
 * list with the error, and *dead (if not NULL) is set to 1. Refused like
 * ack() (COFFER_E_NOTFOUND, nothing recorded) for an item unknown to the
 * job, or with settle_own_only not in this worker's list.
 */
int coffer_queue_fail(struct coffer_queue *q, const struct coffer_queue_item *it,
    const char *error, int *dead) __attribute__((warn_unused_result));

/* Dead-letter the item now, whatever its attempt count: for failures that
 * no retry can fix (an id the object store rejects, an input larger than
 * the job's limit). Same effects as fail() otherwise. */
int coffer_queue_bury(struct coffer_queue *q, const struct coffer_queue_item *it,
    const char *error) __attribute__((warn_unused_result));

/*
 * Return to the queue the in-flight items whose lease expired (their worker
 * died), and move due retries back to the queue. Safe to run from several
 * processes at once. *requeued (if not NULL) gets how many items moved.
 */
int coffer_queue_reap(struct coffer_queue *q, size_t *requeued)
	__attribute__((warn_unused_result));

struct coffer_queue_stats {
	int64_t total;     /* items loaded */
	int64_t done;      /* acknowledged */
	int64_t failed;    /* dead-lettered */
	int64_t in_flight; /* leased now */
	int64_t queued;    /* waiting, including retries not yet due */
	/* Appended: the processing times of done items, as their first acks
	 * reported them (lease to ack, measured by the worker; doc/queue.md
	 * 4.5); 0 when unknown. */
	int64_t timed;         /* items with a time */
	double time_sum_s;     /* sum of their times, seconds */
	double time_sq_sum_s2; /* sum of their squares, s^2 */
};
/* Exact counts, read in one atomic step: total == done + failed +
 * in_flight + queued always holds in the COFFER layout (doc/queue.md 5).
 * A job that does not exist reads as all zeros. In the ASPERATHOS layout
 * done = total - queued - in_flight (Asperathos's own formula) and failed
 * is 0, and no times are known. Time sums that Redis returns malformed
 * (negative, not numbers) read as 0: they are estimates, not counts. */
int coffer_queue_stats(struct coffer_queue *q, struct coffer_queue_stats *s)
	__attribute__((warn_unused_result));
/* reap() then stats() in one round trip (two scripts in one pipeline,
 * doc/queue.md 4.8a): for a caller that does both, as the manager's tick
 * does. The same results and errors as the two calls; on an error nothing
 * is known of either (both are safe to repeat). */
int coffer_queue_reap_stats(struct coffer_queue *q, size_t *requeued,
    struct coffer_queue_stats *s) __attribute__((warn_unused_result));
/* 1 if the counts say the job is finished: total > 0, nothing in flight
 * or queued, and total == done + failed + in_flight + queued (so done +
 * failed == total). Counts that do not add up (Redis is untrusted, or
 * something outside the queue's scripts wrote to it) are never finished.
 * Every "is the job over?" test uses this one (doc/queue.md 5). */
int coffer_queue_stats_finished(const struct coffer_queue_stats *s);

/* Who holds a job's keys (doc/queue.md 4.8, 6.4). */
struct coffer_queue_meta {
	int exists;            /* how many of the job's keys exist: COFFER
	                          layout its meta hash (0 or 1); ASPERATHOS
	                          "<job>:coffer", "<job>", "<job>:processing"
	                          (0 to 3) */
	char owner[COFFER_QUEUE_JOB_MAX + 1]; /* the recorded owner; "" if
	                          none, "?" if what is stored is not a job id */
	char state[16];        /* "loading", "loaded", "" if absent, "?" if
	                          anything else */
	int64_t total;         /* -1 if absent or not a number */
};
int coffer_queue_meta(struct coffer_queue *q, struct coffer_queue_meta *m)
	__attribute__((warn_unused_result));

/* A worker that holds items now (its in-flight list is not empty). */
struct coffer_queue_holder {
	char *worker;   /* its worker id */
	char *item;     /* the oldest item it holds */
	int64_t items;  /* how many it holds (normally 1) */
};
/*
 * The registered workers that hold items, in one round trip (one script:
 * a consistent snapshot). *out is an array of *n holders (NULL when none),
 * freed with coffer_queue_holders_free(). COFFER layout only
 * (COFFER_E_UNSUPPORTED otherwise: Asperathos consumers share one list).
 * A worker id or item id from Redis that is not well formed is
 * COFFER_E_PROTO.
 */
int coffer_queue_holders(struct coffer_queue *q, struct coffer_queue_holder **out,
    size_t *n) __attribute__((warn_unused_result));
void coffer_queue_holders_free(struct coffer_queue_holder *h, size_t n);

/* Dead letters: calls fn(id, attempts, error, arg) for each. */
int coffer_queue_dead_letters(struct coffer_queue *q,
    void (*fn)(const char *id, uint32_t attempts, const char *error, void *arg),
    void *arg) __attribute__((warn_unused_result));

/* Delete every key of the job. ASPERATHOS layout with an owner (opts):
 * only keys recorded as that owner's, or recorded without an owner (by a
 * Coffer that did not record owners); COFFER_E_STATE, deleting nothing,
 * if they are another job's; 0 with nothing deleted if Coffer recorded
 * nothing (no "<job>:coffer": lists there are not Coffer's). */
int coffer_queue_destroy(struct coffer_queue *q)
	__attribute__((warn_unused_result));

/* What this handle cost so far: requests sent and round trips waited for
 * (a pipeline of several requests is one round trip). For benchmarks. */
struct coffer_queue_counters {
	uint64_t round_trips;
	uint64_t requests;
	uint64_t reconnects;
};
void coffer_queue_counters(const struct coffer_queue *q,
    struct coffer_queue_counters *c);

#endif
