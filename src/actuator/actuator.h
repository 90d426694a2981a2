/* SPDX-License-Identifier: Apache-2.0 */
/* Actuators start and stop worker replicas to reach a desired count. The
 * local backend runs processes on this machine; Kubernetes and Slurm
 * backends implement the same operations later. */
#ifndef COFFER_ACTUATOR_H
#define COFFER_ACTUATOR_H

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
 *    (its whole process group) after grace_ms.
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

static inline int
coffer_actuator_set_replicas(struct coffer_actuator *a, int n)
{ return a->ops->set_replicas(a->impl, n); }
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
