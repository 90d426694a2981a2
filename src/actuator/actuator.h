/* SPDX-License-Identifier: Apache-2.0 */
/* Actuators start and stop worker replicas to reach a desired count. The
 * local backend runs processes on this machine; Kubernetes and Slurm
 * backends implement the same operations later. */
#ifndef COFFER_ACTUATOR_H
#define COFFER_ACTUATOR_H

#include <stdint.h>

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

struct coffer_actuator_status {
	int desired;            /* the last count asked for */
	int running;            /* replicas alive and not asked to stop */
	int stopping;           /* asked to stop, not yet exited */
	int64_t started_total;  /* replicas ever started */
	int64_t crashed_total;  /* replicas that exited unasked */
	int64_t killed_total;   /* replicas SIGKILLed after the grace period */
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

/* The local-process backend. The spec is copied. */
int coffer_actuator_local_new(const struct coffer_replica_spec *spec,
    struct coffer_actuator **out) __attribute__((warn_unused_result));

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
