/* SPDX-License-Identifier: Apache-2.0 */
/* A deterministic discrete-event simulator of one Coffer job: a queue of
 * items, replicas that start after a start-up latency, process items, may
 * crash, and are stopped gracefully or killed, driven by a replica
 * controller through the controller ABI (include/coffer/controller.h) in
 * simulated time. The model is doc/controllers.md's "Simulator". */
#ifndef COFFER_BENCH_SIM_H
#define COFFER_BENCH_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/controller.h"

/* Item time distributions. */
enum sim_dist {
	SIM_CONST = 0,     /* every item takes item_mean_s */
	SIM_LOGNORMAL = 1, /* lognormal with mean item_mean_s and sigma */
	SIM_BIMODAL = 2,   /* a mix: each item is long with probability
	                      long_frac and then long_ratio times longer than a
	                      short one; each mode lognormal with sigma; the
	                      mean of the mix is item_mean_s */
};

/* One job. Items and crash draws depend only on seed, never on the
 * controller, so every controller sees the same job. */
struct sim_job {
	int64_t n_items;
	enum sim_dist dist;
	double item_mean_s;
	double sigma;          /* lognormal shape */
	double long_frac;      /* SIM_BIMODAL: share of long items (0.1) */
	double long_ratio;     /* SIM_BIMODAL: long / short (10) */
	double slowdown;       /* items from n_items/2 on take this factor longer (1: none) */
	double crash_frac;     /* probability that a started replica crashes */
	double startup_s;      /* start-up + attestation latency of a replica */
	double deadline_s;     /* after the job's start */
	int32_t min_replicas, max_replicas, init_replicas;
	double check_interval_s;
	double grace_s;        /* SIGTERM to SIGKILL on scale-down */
	double lease_s;        /* an item of a dead replica returns after this */
	int idle_first;        /* 1 (the default): scale-down stops starting,
	                          then idle replicas, then busy ones with the
	                          most recent item first, as the local actuator
	                          with coffer-manager's hint does, and the
	                          controller is told so (host_flags); 0 (a
	                          what-if: the actuator without a hint): the
	                          newest replicas, busy or not */
	int obs_full;          /* 0: fill the observation as coffer-manager's
	                          monitor does; 1: also ready = past start-up,
	                          exact replica-seconds, measured start-ups */
	int obs_no_times;      /* what-if (coffer-manager before item times):
	                          mean from replica-seconds, no variance */
	int obs_startup_known; /* what-if: the host knows the start-up from
	                          earlier jobs and reports it from t = 0 */
	uint64_t seed;
};

/* Fill a job with the benchmark's fixed parts (interval 5 s, grace 10 s as
 * coffer-manager's default, lease 30 s as the queue's, min 1, init 1, mean
 * item time 10 s, no crashes). */
void sim_job_defaults(struct sim_job *j);

/* The job's items: work[i] seconds for item i (queue order). The caller
 * frees *work. Returns 0 or -1 (allocation). */
int sim_items(const struct sim_job *j, double **work);

/*
 * The fastest completion with max_replicas from time 0 and no crashes:
 * start-up plus the greedy list schedule of the items, in queue order, on
 * max_replicas workers (what a static-max run achieves without crashes).
 */
double sim_fastest(const struct sim_job *j, const double *work);

/* W, the total work. */
double sim_total_work(const struct sim_job *j, const double *work);

/* The oracle lower bound on cost, R_LB = W + S * ceil(W / (D - S));
 * INFINITY when D <= S. */
double sim_oracle_cost(double work, double startup_s, double deadline_s);

/* One sample of the job's course, at each controller tick. */
struct sim_sample {
	double t;
	int32_t alive;      /* replicas costing money (starting, working, stopping) */
	int32_t ready;      /* working or idle, not stopping */
	int32_t desired;    /* the count in force after this tick's decision */
	double progress;    /* done / total */
	int64_t queued, in_flight;
	uint32_t flags;     /* the decision's flags */
};

typedef void (*sim_trace_fn)(const struct sim_sample *s, const char *reason,
    void *arg);

struct sim_result {
	int finished;          /* all items done before the simulation's horizon */
	double finish_s;
	int met;               /* finished by the deadline */
	double lateness_s;     /* max(0, finish - deadline) */
	double cost_rs;        /* replica-seconds, start request to exit */
	double work_s;         /* busy replica-seconds (W plus redone work) */
	double idle_s;         /* ready replicas without an item */
	double starting_s;     /* replicas starting (cost = starting + work + idle) */
	int32_t peak;          /* most replicas alive at once */
	int scale_events;      /* ticks that changed the desired count */
	int64_t interrupted;   /* items whose replica was killed by a scale-down */
	int64_t crashes;
	int64_t starts;        /* replicas started */
	int infeasible_ticks;  /* decisions flagged COFFER_CTL_INFEASIBLE */
	int decide_errors;     /* decide() returned an error */
	int64_t events;
};

/*
 * Run job j under controller def, created with params. work is from
 * sim_items(). trace (may be NULL) is called at every tick. Returns 0,
 * or -1 with a message in err (create() refused, allocation).
 */
int sim_run(const struct sim_job *j, const double *work,
    const struct coffer_controller *def, const struct coffer_ctl_param *params,
    size_t nparams, sim_trace_fn trace, void *trace_arg,
    struct sim_result *res, char *err, size_t errlen);

#endif
