/* SPDX-License-Identifier: Apache-2.0 */
/* Actuators start and stop worker replicas to reach a desired count, on
 * one backend chosen by name: "local" (processes on this machine), "slurm"
 * (Slurm batch jobs), "kubernetes" (a Job's or a Deployment's pods). This
 * header is what every backend offers; calls of one backend only are in
 * its own header (actuator/local.h). doc/manager.md section 5. */
#ifndef COFFER_ACTUATOR_H
#define COFFER_ACTUATOR_H

#include <stddef.h>
#include <stdint.h>

/* What a replica may ask of the backend; 0 everywhere: the backend's
 * defaults. Backends that cannot express one ignore it (the local one
 * ignores them all) and say so in doc/manager.md section 5. */
struct coffer_replica_resources {
	int cpu_milli;            /* CPU, thousandths of a core */
	int64_t memory_bytes;     /* memory */
	int64_t tee_memory_bytes; /* TEE memory: the SGX enclave page cache
	                             (EPC) of an SGX replica */
};

/* What every replica of a job runs. */
struct coffer_replica_spec {
	char *const *argv;     /* program and arguments, NULL-terminated (in
	                          a container: a path inside the image) */
	char *const *env;      /* "KEY=VALUE" for the replica (COFFER_JOB,
	                          REDIS_HOST, ...), NULL-terminated; may be
	                          NULL. Process backends (local, slurm) add
	                          them to the caller's own environment; a
	                          container gets these only */
	const char *workdir;   /* NULL: the current directory (local, slurm);
	                          the image's (kubernetes) */
	const char *log_path;  /* replicas' stdout+stderr appended here
	                          (local, slurm: a path every node sees); NULL:
	                          inherited (local), the backend's (others) */
	int grace_ms;          /* SIGTERM to SIGKILL on scale-down; 0 = 30000 */
	int restart_crashed;   /* replace replicas that die unasked */
	/* Appended: what a non-local backend needs to place replicas. */
	const char *name;      /* the job's name for the backend's objects (a
	                          Slurm job name, the Kubernetes Job or
	                          Deployment): 1-52 of [a-z0-9-], starting
	                          and ending alphanumeric; NULL: "coffer" */
	char *const *labels;   /* "key=value", NULL-terminated, may be NULL:
	                          they tell this job's replicas from all others
	                          on the backend (Kubernetes labels, the Slurm
	                          job comment); keys and values as Kubernetes
	                          label names and values (1-63 of [A-Za-z0-9_.-],
	                          alphanumeric at both ends) */
	const char *image;     /* container image (kubernetes; NULL: the
	                          backend's image option); ignored by process
	                          backends */
	const char *tee;       /* TEE the replica needs: NULL or "none",
	                          "sim", "sgx", "tdx", "snp" */
	struct coffer_replica_resources res;
};

/*
 * Replica lifecycle (all backends):
 *  - a replica that exits unasked with status 0 has *completed* (a worker
 *    started with --exit-when-done found its job finished, like a pod of a
 *    Kubernetes work-queue Job): it is not replaced, and from then on no
 *    new replica is started, whatever set_replicas() asks;
 *  - a replica that exits unasked otherwise (non-zero status, signal, a
 *    Slurm job cancelled, preempted, timed out or lost with its node, a
 *    pod that fails or is evicted) has *crashed*: with restart_crashed it is
 *    replaced on a later tick, after a back-off that grows while replicas
 *    keep crashing right after start (100 ms doubling to 5 s; reset by a
 *    replica that lived 10 s);
 *  - scale-down sends SIGTERM to the replica's worker (it finishes its
 *    current item, then exits) and SIGKILLs what is left of the replica
 *    after grace_ms. Replicas not running yet (a pending Slurm job, a pod
 *    not started) are withdrawn first, then the newest. With
 *    set_replicas_hint() (below) the caller says which replicas are busy,
 *    and idle ones go before them;
 *  - every replica gets a replica id, unique among the replicas of every
 *    actuator, in its environment as COFFER_REPLICA_ID (local:
 *    "l<8 hex>-<n>", 8 random hex digits per actuator and the start
 *    number n; slurm: "s<job id>_<array index>"; kubernetes: the pod's
 *    name); coffer-worker puts it in its worker id (doc/queue.md section
 *    1), so the queue tells which replica holds an item;
 *  - a new actuator *adopts* the live replicas that the backend lists
 *    under the spec's name and labels (a restarted manager's Slurm jobs,
 *    its Kubernetes Job): it counts them as its own and starts only what
 *    is missing, so no replica runs twice. It starts nothing before it has
 *    read that list once, and stops none before set_replicas() is
 *    called. An adopted Slurm replica that exits 0 counts as stopped, not
 *    completed (the earlier actuator may have asked it to stop; a
 *    Kubernetes worker stopped exits 143, so there a 0 is a completion).
 *    The local backend adopts nothing: it cannot wait for processes it
 *    did not start (coffer-manager stops those, orphans.c).
 */

struct coffer_actuator_status {
	int desired;            /* the last count asked for */
	int running;            /* replicas alive and not asked to stop
	                           (starting ones included) */
	int stopping;           /* asked to stop, not yet exited */
	int64_t started_total;  /* replicas ever started */
	int64_t crashed_total;  /* replicas that failed unasked (status != 0, signal) */
	int64_t killed_total;   /* replicas SIGKILLed after the grace period */
	int64_t completed_total;/* replicas that exited 0 unasked (appended) */
	/* Appended. */
	int starting;           /* of running: asked for, not running yet
	                           (pending in a queue, being placed) */
	int64_t adopted_total;  /* replicas adopted from the backend */
	double startup_s;       /* replica start-up as the backend shows it,
	                           from the request to the replica running: a
	                           moving average (the newest weighs 1/4);
	                           0 before the first */
	int64_t startups;       /* start-ups measured */
	char error[160];        /* the backend's last error ("" if the last
	                           call worked): an unreachable API server,
	                           a refused submission */	/* Appended. */
	int64_t warm_total;     /* replicas that were standby workers given
	                           their assignment (local, doc/manager.md
	                           section 5.4), of started_total */
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

/* A replica as the backend sees it (list()). */
enum coffer_replica_phase {
	COFFER_REPLICA_STARTING = 0, /* asked for, not running yet */
	COFFER_REPLICA_RUNNING = 1,
	COFFER_REPLICA_STOPPING = 2, /* asked to stop, not exited yet */
};

struct coffer_replica_info {
	char id[COFFER_REPLICA_ID_MAX + 1]; /* COFFER_REPLICA_ID */
	char handle[64];     /* the backend's own name for it: a PID, a Slurm
	                        job id ("123_4"), a pod name */
	char node[64];       /* where it runs ("" if not placed or unknown) */
	int phase;           /* enum coffer_replica_phase */
	int adopted;         /* started by an earlier actuator */
	double age_s;        /* since it was asked for (adopted: since the
	                        backend says it was) */
	double startup_s;    /* request to running; < 0 while starting or
	                        unknown */
};

struct coffer_actuator_ops {
	const char *name; /* "local", "slurm", "kubernetes" */
	/* Ask for n replicas; takes effect now and on later ticks. */
	int (*set_replicas)(void *impl, int n);
	/* Reap exited replicas, replace crashed ones, escalate to SIGKILL
	 * after the grace period, read the backend's view. Call at least
	 * once a second. Never waits for the backend: commands and requests
	 * run in the background and are read on later ticks. */
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
	/* Appended: the live replicas (coffer_actuator_list). */
	int (*list)(void *impl, struct coffer_replica_info **out, size_t *n);
	/* Appended: coffer_actuator_detach; NULL: the backend cannot. */
	int (*detach)(void *impl);
};

struct coffer_actuator {
	const struct coffer_actuator_ops *ops;
	void *impl;
};

struct coffer_curl_api; /* actuator/curl_api.h */

/* Which backend, and its options. */
struct coffer_actuator_config {
	const char *backend;        /* "local" (also NULL), "slurm", "kubernetes" */
	char *const *options;       /* "key=value", NULL-terminated, may be
	                               NULL: the backend's options
	                               (doc/manager.md section 5) */
	const struct coffer_curl_api *curl; /* libcurl's functions, for
	                               kubernetes (the caller links or loads
	                               libcurl); NULL: kubernetes refused */
};

/*
 * A new actuator of the backend cfg->backend for spec (copied). Errors:
 * COFFER_E_INVAL (unknown backend, an unknown option or a bad value, a
 * bad spec: the detail names it), COFFER_E_UNSUPPORTED (kubernetes
 * without cfg->curl), COFFER_E_IO (a kubeconfig or token that cannot be
 * read). Nothing is started and no backend is contacted before
 * set_replicas() and tick().
 */
int coffer_actuator_new(const struct coffer_actuator_config *cfg,
    const struct coffer_replica_spec *spec, struct coffer_actuator **out)
	__attribute__((warn_unused_result));

/* Check cfg as coffer_actuator_new() would, without a spec: the backend
 * name, every option's name and value, the files they name. For a daemon
 * to refuse a typo when it starts rather than when a job does. */
int coffer_actuator_check(const struct coffer_actuator_config *cfg)
	__attribute__((warn_unused_result));

/* "local, slurm, kubernetes": the backends, for messages. */
const char *coffer_actuator_backends(void);

/* A name for the backend's objects made from any string: lower case,
 * [a-z0-9-], at most 52 characters, starting with a letter; if s had to
 * change, a hash of s keeps names of different strings different.
 * outlen >= 53. */
void coffer_actuator_name_from(const char *prefix, const char *s, char *out,
    size_t outlen);

static inline int
coffer_actuator_set_replicas(struct coffer_actuator *a, int n)
{ return a->ops->set_replicas(a->impl, n); }

/*
 * Ask for n replicas as set_replicas() does; if some must stop, the
 * backend stops, in this order:
 *  0. replicas not running yet (starting), newest first;
 *  1. replicas not named in busy[] (idle: nothing to lose), newest first;
 *  2. then busy ones (each gets SIGTERM, finishes its item, or is killed
 *     after the grace period), the one that started its item most
 *     recently first (smallest busy_s: the least work is lost if it is
 *     killed), unknown busy_s last; ties newest first.
 * The hint describes the replicas at the time of the call and is not kept
 * for later calls. busy may be NULL when nbusy is 0 (no replica is busy).
 * Backends: local and slurm (this order, exactly: the local backend
 * signals the processes, the Slurm one the chosen jobs); kubernetes
 * (Deployment: the order as each pod's
 * controller.kubernetes.io/pod-deletion-cost before the count is lowered;
 * Job: the chosen pods are deleted, then parallelism lowered).
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

/*
 * The job's live replicas as the backend last saw them (local: its child
 * processes; slurm: the last squeue; kubernetes: the pods of the last
 * list and watch events), starting ones included, stopping ones marked.
 * *out is an array of *n (NULL when none), freed with free(). Replicas
 * that exited are not listed. COFFER_E_NOMEM.
 */
int coffer_actuator_list(struct coffer_actuator *a,
    struct coffer_replica_info **out, size_t *n)
	__attribute__((warn_unused_result));

/*
 * Leave the replicas running and forget them: free() then stops nothing,
 * and the next actuator with the same name and labels adopts them (a
 * manager that restarts leaves its Slurm jobs and pods alone). 0, or
 * COFFER_E_UNSUPPORTED for a backend whose replicas cannot outlive the
 * caller (local).
 */
int coffer_actuator_detach(struct coffer_actuator *a);

/* Free the handle (after stop_all or detach; else the backend stops what
 * is left, without a grace period). NULL is a no-op. */
void coffer_actuator_free(struct coffer_actuator *a);

#endif
