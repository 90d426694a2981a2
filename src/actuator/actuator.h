/* SPDX-License-Identifier: Apache-2.0 */
/* Actuators start and stop worker replicas to reach a desired count. The
 * local backend runs processes on this machine; Kubernetes and Slurm
 * backends implement the same operations later. */
#ifndef COFFER_ACTUATOR_H
#define COFFER_ACTUATOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What every replica of a job runs. */
struct coffer_replica_spec {
	char *const *argv;     /* program and arguments, NULL-terminated */
	char *const *env;      /* "KEY=VALUE" added to the inherited
	                          environment (COFFER_JOB, REDIS_HOST,
	                          REDIS_PORT, COFFER_TEE, ...), NULL-terminated;
	                          may be NULL */
	const char *workdir;   /* NULL: the current directory */
	const char *log_path;  /* replicas' stdout+stderr appended here; NULL:
	                          inherited */
	int grace_ms;          /* SIGTERM to SIGKILL on scale-down; 0 = 30000 */
	int restart_crashed;   /* replace replicas that die unasked */
};

/*
 * Replica lifecycle (all backends):
 *  - a replica that exits unasked with status 0 has *completed* (a worker
 *    started with --exit-when-done found its job finished, like a pod of a
 *    Kubernetes work-queue Job): it is not replaced, and from then on no
 *    new replica is started, whatever set_replicas() asks;
 *  - a replica that exits unasked otherwise (non-zero status, signal) has
 *    *crashed*: with restart_crashed it is replaced on a later tick, after
 *    a back-off that grows while replicas keep crashing right after start
 *    (100 ms doubling to 5 s; reset by a replica that lived 10 s);
 *  - scale-down picks the newest replicas first, sends SIGTERM (a worker
 *    finishes its current item), and SIGKILLs what is left of the replica
 *    (its whole process group) after grace_ms. With set_replicas_hint()
 *    (below) the caller says which replicas are busy, and idle ones go
 *    first;
 *  - every replica gets a replica id, unique among the replicas of every
 *    actuator (local backend: "l<8 hex>-<n>", 8 random hex digits per
 *    actuator and the start number n), in its environment as
 *    COFFER_REPLICA_ID; coffer-worker puts it in its worker id
 *    (doc/queue.md section 1), so the queue tells which replica holds an
 *    item.
 */

struct coffer_actuator_status {
	int desired;            /* the last count asked for */
	int running;            /* replicas alive and not asked to stop */
	int stopping;           /* asked to stop, not yet exited */
	int64_t started_total;  /* replicas ever started */
	int64_t crashed_total;  /* replicas that failed unasked (status != 0, signal) */
	int64_t killed_total;   /* replicas SIGKILLed after the grace period */
	int64_t completed_total;/* replicas that exited 0 unasked (appended) */
};

/* The longest replica id a backend may give (COFFER_REPLICA_ID), without
 * the terminating NUL; ids are 1 to this many characters of
 * [A-Za-z0-9_.-] (a Kubernetes pod name, a Slurm job or step id fit). */
#define COFFER_REPLICA_ID_MAX 96

/*
 * A replica the caller knows to be busy: it holds an item (coffer-manager
 * reads this from the queue's per-worker in-flight lists, doc/manager.md
 * section 5). Every replica not named is taken to be idle or starting.
 */
struct coffer_replica_hint {
	const char *replica_id; /* its COFFER_REPLICA_ID; unknown ids are ignored */
	double busy_s;          /* how long it has been on its current item,
	                           seconds; < 0 (or NaN) if unknown */
};

struct coffer_actuator_ops {
	const char *name; /* "local", "k8s", "slurm" */
	/* Ask for n replicas; takes effect now and on later ticks. */
	int (*set_replicas)(void *impl, int n);
	/* Reap exited replicas, replace crashed ones, escalate to SIGKILL
	 * after the grace period. Call at least once a second. Never blocks. */
	int (*tick)(void *impl);
	int (*status)(void *impl, struct coffer_actuator_status *st);
	/* Stop everything gracefully, waiting up to the grace period, then
	 * kill what is left. Blocks. */
	int (*stop_all)(void *impl);
	void (*free)(void *impl);
	/* Appended: set_replicas() with a scale-down hint (see
	 * coffer_actuator_set_replicas_hint). NULL: the backend takes no hint
	 * and set_replicas() is called instead. */
	int (*set_replicas_hint)(void *impl, int n,
	    const struct coffer_replica_hint *busy, size_t nbusy);
};

struct coffer_actuator {
	const struct coffer_actuator_ops *ops;
	void *impl;
};

/*
 * The local-process backend. The spec is copied. Each replica is a child
 * process in its own process group (a terminal's Ctrl-C reaches only the
 * caller), with stdin on /dev/null, no inherited descriptor above 2, and
 * PR_SET_PDEATHSIG = SIGTERM (if the caller dies, replicas finish their
 * item and exit). Children are reaped with waitpid() on their own PIDs
 * only, so the caller may have other children (a redis-server). Nothing
 * is asynchronous: no SIGCHLD handler; tick() does the work.
 */
int coffer_actuator_local_new(const struct coffer_replica_spec *spec,
    struct coffer_actuator **out) __attribute__((warn_unused_result));

/* Local backend only: the PIDs of the running (not stopping) replicas,
 * oldest first; returns how many (at most max were written). */
int coffer_actuator_local_pids(struct coffer_actuator *a, pid_t *out, int max);

/* Local backend only (appended): the replica id (COFFER_REPLICA_ID) of
 * the replica with this PID, copied into out (NUL-terminated). 0, or
 * COFFER_E_NOTFOUND (no such replica), COFFER_E_LIMIT (outlen too small). */
int coffer_actuator_local_replica_id(struct coffer_actuator *a, pid_t pid,
    char *out, size_t outlen);

static inline int
coffer_actuator_set_replicas(struct coffer_actuator *a, int n)
{ return a->ops->set_replicas(a->impl, n); }

/*
 * Ask for n replicas as set_replicas() does; if some must stop, the
 * backend stops, in this order:
 *  1. replicas not named in busy[] (starting or idle: nothing to lose),
 *     newest first;
 *  2. then busy ones (each gets SIGTERM, finishes its item, or is killed
 *     after the grace period), the one that started its item most
 *     recently first (smallest busy_s: the least work is lost if it is
 *     killed), unknown busy_s last; ties newest first.
 * The hint describes the replicas at the time of the call and is not kept
 * for later calls. busy may be NULL when nbusy is 0 (no replica is busy).
 * Backends: local (this order, exactly); Kubernetes (later: the order as
 * each pod's controller.kubernetes.io/pod-deletion-cost, idle pods lowest,
 * before lowering the count); Slurm (later: scancel of the chosen steps).
 * A backend without the operation falls back to set_replicas().
 */
static inline int
coffer_actuator_set_replicas_hint(struct coffer_actuator *a, int n,
    const struct coffer_replica_hint *busy, size_t nbusy)
{
	if (a->ops->set_replicas_hint == NULL)
		return a->ops->set_replicas(a->impl, n);
	return a->ops->set_replicas_hint(a->impl, n, busy, nbusy);
}
static inline int
coffer_actuator_tick(struct coffer_actuator *a)
{ return a->ops->tick(a->impl); }
static inline int
coffer_actuator_status(struct coffer_actuator *a, struct coffer_actuator_status *st)
{ return a->ops->status(a->impl, st); }
static inline int
coffer_actuator_stop_all(struct coffer_actuator *a)
{ return a->ops->stop_all(a->impl); }
/* Free the handle (after stop_all). NULL is a no-op. */
void coffer_actuator_free(struct coffer_actuator *a);

#endif
