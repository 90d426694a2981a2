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
 * printable ASCII except space (they are object-store keys). */
#define COFFER_QUEUE_JOB_MAX 64
#define COFFER_QUEUE_ITEM_MAX 1024

struct coffer_queue_opts {
	const char *redis_url;  /* redis://[:password@]host[:port][/db] */
	const char *job;        /* job id */
	const char *worker_id;  /* unique per worker process; NULL for
	                           loaders, monitors and reapers */
	int lease_ms;           /* lease TTL; 0 = default 30000 */
	int max_attempts;       /* 0 = default 3 */
	int backoff_ms;         /* first retry delay, doubled per attempt;
	                           0 = default 1000; capped at 60000 */
	int connect_timeout_ms; /* 0 = default 5000 */
};

struct coffer_queue;

/* Connect and validate the options. Does not touch the job's keys. */
int coffer_queue_open(const struct coffer_queue_opts *o,
    struct coffer_queue **out) __attribute__((warn_unused_result));
void coffer_queue_close(struct coffer_queue *q);

/*
 * Load a job's items (once): fails with COFFER_E_EXISTS if the job already
 * has items, so a restarted loader cannot double a job. Items are pushed in
 * batches; the total is recorded first so progress never exceeds 100%.
 */
int coffer_queue_load(struct coffer_queue *q, const char *const *items,
    size_t n) __attribute__((warn_unused_result));

/* A leased item. id is owned by the struct; release it when done. */
struct coffer_queue_item {
	char *id;
	uint32_t attempt; /* 1 on the first try */
};
void coffer_queue_item_release(struct coffer_queue_item *it);

/*
 * Take the next item into this worker's in-flight list (BLMOVE), set its
 * lease and count the attempt. Waits up to timeout_ms; COFFER_E_TIMEOUT if
 * nothing came. Requires worker_id.
 */
int coffer_queue_take(struct coffer_queue *q, int timeout_ms,
    struct coffer_queue_item *it) __attribute__((warn_unused_result));

/* Extend the lease (heartbeat). COFFER_E_STATE if the lease was lost (it
 * expired and the reaper returned the item): the worker should abandon
 * the item's result. */
int coffer_queue_renew(struct coffer_queue *q, const struct coffer_queue_item *it)
	__attribute__((warn_unused_result));

/* Mark done, exactly once whatever the number of calls or workers. */
int coffer_queue_ack(struct coffer_queue *q, const struct coffer_queue_item *it)
	__attribute__((warn_unused_result));

/*
 * Record a failed attempt with its error text. Below max_attempts the item
 * is retried after back-off; at max_attempts it goes to the dead-letter
 * list with the error, and *dead (if not NULL) is set to 1.
 */
int coffer_queue_fail(struct coffer_queue *q, const struct coffer_queue_item *it,
    const char *error, int *dead) __attribute__((warn_unused_result));

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
};
/* Exact counts, read in one atomic step. */
int coffer_queue_stats(struct coffer_queue *q, struct coffer_queue_stats *s)
	__attribute__((warn_unused_result));

/* Dead letters: calls fn(id, attempts, error, arg) for each. */
int coffer_queue_dead_letters(struct coffer_queue *q,
    void (*fn)(const char *id, uint32_t attempts, const char *error, void *arg),
    void *arg) __attribute__((warn_unused_result));

/* Delete every key of the job. */
int coffer_queue_destroy(struct coffer_queue *q)
	__attribute__((warn_unused_result));

#endif
