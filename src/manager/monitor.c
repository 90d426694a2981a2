// SPDX-License-Identifier: Apache-2.0
// Monitor arithmetic (monitor.h). Time is a double of seconds since the job
// started, so nothing wraps: Asperathos's monitor took timedelta.seconds,
// which restarts at 0 every 24 hours, and its error jumped back by a day.
#include <math.h>
#include <string.h>

#include "manager/monitor.h"

void
mgr_monitor_init(struct mgr_monitor *m, double tau_s)
{
	memset(m, 0, sizeof(*m));
	m->tau_s = tau_s > 0 ? tau_s : 10;
}

void
mgr_monitor_resume(struct mgr_monitor *m, const struct mgr_sample *last)
{
	m->replica_seconds = last->replica_seconds;
	if (last->throughput > 0) {
		m->throughput = last->throughput;
		m->have_rate = 1;
	}
	/* The next update measures from the stored counts, but not across the
	 * downtime: have_last stays 0 so the gap is not a rate sample. */
}

void
mgr_monitor_update(struct mgr_monitor *m, double t_s, double expected_time_s,
    const struct mgr_counts *c, int replicas, int desired, int reduce,
    struct mgr_sample *out)
{
	int64_t resolved = c->done + c->failed, remaining;
	int ready;

	if (!isfinite(t_s) || t_s < 0)
		t_s = 0;
	if (m->have_last && t_s < m->last_t)
		t_s = m->last_t;
	memset(out, 0, sizeof(*out));
	out->t_s = t_s;
	out->c = *c;
	if (replicas < 0)
		replicas = 0;
	/* A replica is "ready" when it holds an item: each worker leases one
	 * at a time, so the in-flight count bounds the busy replicas. */
	ready = c->in_flight < replicas ? (int)(c->in_flight > 0 ? c->in_flight : 0) :
	    replicas;

	if (m->have_last) {
		double dt = t_s - m->last_t;

		m->replica_seconds += dt * (m->last_ready + m->last_reduce);
		if (dt > 0) {
			double rate = (double)(resolved - m->last_resolved) / dt;
			double alpha = 1 - exp(-dt / m->tau_s);

			if (rate < 0)
				rate = 0; /* a reset queue; do not go negative */
			if (m->have_rate)
				m->throughput += alpha * (rate - m->throughput);
			else
				m->throughput = rate;
			m->have_rate = 1;
		}
	}
	if (m->startup_s == 0 && (c->in_flight > 0 || resolved > 0))
		m->startup_s = t_s > 0 ? t_s : 1e-3;
	m->have_last = 1;
	m->last_t = t_s;
	m->last_resolved = resolved;
	m->last_ready = ready;
	m->last_reduce = reduce > 0 ? reduce : 0;

	out->progress = c->total > 0 ? (double)resolved / (double)c->total : 1.0;
	if (out->progress > 1)
		out->progress = 1;
	out->time_progress = expected_time_s > 0 ? t_s / expected_time_s : 0;
	out->error = out->progress - out->time_progress;
	out->replicas = replicas;
	out->ready = ready;
	out->desired = desired;
	out->throughput = m->throughput;
	out->throughput_per_replica = ready > 0 ? m->throughput / ready : 0;
	out->replica_seconds = m->replica_seconds;

	remaining = c->total - resolved;
	if (remaining <= 0)
		out->eta_s = 0;
	else if (m->throughput > 1e-9)
		out->eta_s = (double)remaining / m->throughput;
	else
		out->eta_s = -1;
	if (out->eta_s >= 0) {
		double late = t_s + out->eta_s - expected_time_s;

		out->lateness_s = late > 0 ? late : 0;
	} else {
		out->lateness_s = -1;
	}
}

void
mgr_monitor_item_time(const struct mgr_counts *c, double *mean, double *var)
{
	double n = (double)c->timed, v;

	*mean = 0;
	*var = 0;
	if (c->timed < 1 || !(c->time_sum_s > 0) || !isfinite(c->time_sum_s) ||
	    !isfinite(c->time_sq_sum_s2))
		return;
	*mean = c->time_sum_s / n;
	if (c->timed < 2)
		return;
	/* sample variance from the sums; double precision is ample for
	 * millisecond times (the queue keeps them exactly) */
	v = (c->time_sq_sum_s2 - c->time_sum_s * *mean) / (n - 1);
	*var = v > 1e-6 / 12 ? v : 1e-6 / 12;
}

void
mgr_monitor_obs(const struct mgr_monitor *m, const struct mgr_sample *s,
    struct coffer_ctl_obs *obs)
{
	int64_t resolved = s->c.done + s->c.failed;
	double mean, var;

	memset(obs, 0, sizeof(*obs));
	obs->size = sizeof(*obs);
	obs->now_s = s->t_s;
	obs->total = s->c.total;
	obs->done = s->c.done;
	obs->failed = s->c.failed;
	obs->in_flight = s->c.in_flight;
	obs->queued = s->c.queued;
	obs->progress = s->progress;
	obs->time_progress = s->time_progress;
	obs->error = s->error;
	obs->replicas = s->replicas;
	obs->replicas_ready = s->ready;
	obs->replicas_desired = s->desired;
	obs->replica_seconds = s->replica_seconds;
	obs->throughput = s->throughput;
	/* Item times as the workers measured them, lease to ack, over the
	 * items done (the simulator's observation is the same); without any
	 * (an Asperathos-layout job), busy replica-seconds per finished item
	 * and no variance. */
	mgr_monitor_item_time(&s->c, &mean, &var);
	if (mean > 0) {
		obs->item_time_mean_s = mean;
		obs->item_time_var_s2 = var;
	} else {
		obs->item_time_mean_s = resolved > 0 && s->replica_seconds > 0 ?
		    s->replica_seconds / (double)resolved : 0;
		obs->item_time_var_s2 = 0;
	}
	obs->startup_s = m->startup_s;
}
