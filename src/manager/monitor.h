/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's arithmetic, free of I/O: from exact queue counts and the
 * replica count at each tick, the progress p, time progress r, Asperathos's
 * error e = p - r, smoothed throughput (job and per replica), ETA and
 * predicted lateness (doc/manager.md section "Monitor"). */
#ifndef COFFER_MANAGER_MONITOR_H
#define COFFER_MANAGER_MONITOR_H

#include <stdint.h>

#include "coffer/controller.h"

/* Counts read from the queue at one tick, and the item times the workers
 * reported with their acks (doc/queue.md 4.5; 0 when unknown). */
struct mgr_counts {
	int64_t total, done, failed, in_flight, queued;
	int64_t timed;            /* done items with a time */
	double time_sum_s;        /* their sum */
	double time_sq_sum_s2;    /* the sum of their squares */
};

/* One monitor sample: a row of the job's timeline. Unknown estimates are
 * negative (-1). */
struct mgr_sample {
	double t_s;                /* seconds since the job started */
	struct mgr_counts c;
	double progress;           /* p = (done + failed) / total; 1 if total 0 */
	double time_progress;      /* r = t_s / expected_time_s */
	double error;              /* e = p - r */
	int replicas;              /* running */
	int ready;                 /* running replicas holding an item */
	int desired;
	double throughput;         /* items/s, EWMA */
	double throughput_per_replica;
	double replica_seconds;    /* integral of ready replicas */
	double eta_s;              /* remaining / throughput; -1 unknown */
	double lateness_s;         /* max(0, t + eta - expected); -1 unknown */
};

/* The monitor's memory between ticks. Zero-initialised by init. */
struct mgr_monitor {
	double tau_s;              /* EWMA time constant */
	int have_last;
	double last_t;
	int64_t last_resolved;     /* done + failed at last_t */
	int last_ready;
	int last_reduce;            /* reduce-stage replicas at the last sample */
	int have_rate;
	double throughput;
	double replica_seconds;
	double startup_s;          /* t of the first item taken or finished;
	                              0 until then */
};

void mgr_monitor_init(struct mgr_monitor *m, double tau_s);

/*
 * Resume after a restart: the last stored sample gives the replica-second
 * integral and the throughput estimate back, so ETA is known at once.
 */
void mgr_monitor_resume(struct mgr_monitor *m, const struct mgr_sample *last);

/*
 * Take one sample at t_s (non-decreasing across calls; an earlier t is
 * treated as no time passing). expected_time_s > 0. replicas: running
 * item workers; desired: the count last asked of the actuator; reduce:
 * replicas of the reduce stage running (the one started early included),
 * which hold no item but are paid for: counted whole in replica_seconds
 * (doc/manager.md sections 3 and 9.4), not in ready.
 */
void mgr_monitor_update(struct mgr_monitor *m, double t_s,
    double expected_time_s, const struct mgr_counts *c, int replicas,
    int desired, int reduce, struct mgr_sample *out);

/*
 * The mean and variance of the item times in c: 0 if unknown (fewer than
 * 1, resp. 2, timed items). The variance is never below that of the
 * times' 1 ms resolution (1/12 ms^2), so that "0" keeps meaning unknown
 * (controller.h) when every item took the same time.
 */
void mgr_monitor_item_time(const struct mgr_counts *c, double *mean,
    double *var);

/* Fill the controller's observation (ABI v1) from a sample. */
void mgr_monitor_obs(const struct mgr_monitor *m, const struct mgr_sample *s,
    struct coffer_ctl_obs *obs);

#endif
