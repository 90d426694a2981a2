// SPDX-License-Identifier: Apache-2.0
// GET /metrics: the manager's state in the Prometheus text format (names
// and labels in doc/manager.md section 11). Job metrics use the label
// job_id, not job: Prometheus attaches its own "job" label (the scrape
// job) to every series, and a clash would rename ours to exported_job.
// Where one family has a label, its series partition one quantity (the
// items by state add up to the job's total), so that sum() means
// something; quantities that do not add up (replicas desired, running,
// ready) are families of their own.
#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "http/metrics.h"
#include "manager/mgr.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "0.0.0-dev"
#endif

struct fam {
	const char *name;
	const char *type;
	const char *help;
};

/* Per-job gauges, in output order. */
enum {
	F_ITEMS, F_REPLICAS_DESIRED, F_REPLICAS_RUNNING, F_REPLICAS_READY,
	F_REPLICAS_MIN, F_REPLICAS_MAX, F_PROGRESS, F_TIME_PROGRESS, F_ERROR, F_THROUGHPUT,
	F_THROUGHPUT_REPLICA, F_ETA, F_LATENESS, F_ELAPSED, F_EXPECTED,
	F_REPLICA_SECONDS, F_DECISIONS, F_STATE, F_NFAM
};

static const struct fam fams[F_NFAM] = {
	{ "coffer_job_items", "gauge", "Items of a job by state (done, failed, in_flight, queued); their sum is the job's total." },
	{ "coffer_job_replicas_desired", "gauge", "Replicas of a job last asked of the actuator (0 once it is over)." },
	{ "coffer_job_replicas_running", "gauge", "Replicas of a job running now." },
	{ "coffer_job_replicas_ready", "gauge", "Replicas of a job holding an item." },
	{ "coffer_job_replicas_min", "gauge", "The job's lower replica bound." },
	{ "coffer_job_replicas_max", "gauge", "The job's upper replica bound." },
	{ "coffer_job_progress_ratio", "gauge", "Job progress p = (done + failed) / total." },
	{ "coffer_job_time_progress_ratio", "gauge", "Time progress r = elapsed / expected time." },
	{ "coffer_job_progress_error_ratio", "gauge", "Asperathos's progress error e = p - r (negative: behind schedule)." },
	{ "coffer_job_throughput_items_per_second", "gauge", "Smoothed (EWMA) items finished per second, whole job." },
	{ "coffer_job_throughput_per_replica_items_per_second", "gauge", "Smoothed items per second per ready replica." },
	{ "coffer_job_eta_seconds", "gauge", "Estimated seconds to finish (remaining / throughput); absent when unknown." },
	{ "coffer_job_predicted_lateness_seconds", "gauge", "max(0, elapsed + ETA - expected time); absent when unknown." },
	{ "coffer_job_elapsed_seconds", "gauge", "Seconds since the job started." },
	{ "coffer_job_expected_seconds", "gauge", "The job's expected time (its deadline after the start)." },
	{ "coffer_job_replica_seconds_total", "counter", "Integral of ready replicas over time." },
	{ "coffer_job_controller_decisions_total", "counter", "Controller decisions taken for the job." },
	{ "coffer_job_state", "gauge", "1 for the job's current state." },
};

static int
job_samples(struct coffer_buf *b, int f, const struct mgr_job *j)
{
	static const char *const states[] = { "pending", "running", "completed",
		"failed", "stopped" };
	const struct mgr_sample *s = &j->last;
	const char *id = j->id;
	const char *l1[] = { "job_id", id, NULL };
	int live = j->state == MGR_RUNNING;
	int r = 0;

	switch (f) {
	case F_ITEMS: {
		const char *k[] = { "done", "failed", "in_flight", "queued" };
		double v[] = { (double)s->c.done, (double)s->c.failed,
			(double)s->c.in_flight, (double)s->c.queued };

		for (size_t i = 0; i < 4 && r == 0; i++) {
			const char *l[] = { "job_id", id, "state", k[i], NULL };

			r = http_metrics_sample(b, fams[f].name, l, v[i]);
		}
		return r;
	}
	case F_REPLICAS_DESIRED:
		return http_metrics_sample(b, fams[f].name, l1, live ? j->desired : 0);
	case F_REPLICAS_RUNNING:
		return http_metrics_sample(b, fams[f].name, l1, live ? s->replicas : 0);
	case F_REPLICAS_READY:
		return http_metrics_sample(b, fams[f].name, l1, live ? s->ready : 0);
	case F_REPLICAS_MIN:
		return http_metrics_sample(b, fams[f].name, l1, j->spec.min_replicas);
	case F_REPLICAS_MAX:
		return http_metrics_sample(b, fams[f].name, l1, j->spec.max_replicas);
	case F_PROGRESS:
		return http_metrics_sample(b, fams[f].name, l1, s->progress);
	case F_TIME_PROGRESS:
		return http_metrics_sample(b, fams[f].name, l1, s->time_progress);
	case F_ERROR:
		return http_metrics_sample(b, fams[f].name, l1, s->error);
	case F_THROUGHPUT:
		return http_metrics_sample(b, fams[f].name, l1, s->throughput);
	case F_THROUGHPUT_REPLICA:
		return http_metrics_sample(b, fams[f].name, l1,
		    s->throughput_per_replica);
	case F_ETA:
		if (j->state != MGR_RUNNING || s->eta_s < 0)
			return 0;
		return http_metrics_sample(b, fams[f].name, l1, s->eta_s);
	case F_LATENESS:
		if (j->state != MGR_RUNNING || s->lateness_s < 0)
			return 0;
		return http_metrics_sample(b, fams[f].name, l1, s->lateness_s);
	case F_ELAPSED:
		return http_metrics_sample(b, fams[f].name, l1, mgr_job_elapsed(j));
	case F_EXPECTED:
		return http_metrics_sample(b, fams[f].name, l1,
		    j->spec.expected_time_s);
	case F_REPLICA_SECONDS:
		return http_metrics_sample(b, fams[f].name, l1, s->replica_seconds);
	case F_DECISIONS:
		return http_metrics_sample(b, fams[f].name, l1,
		    (double)j->decision_seq);
	case F_STATE:
		for (size_t i = 0; i < 5 && r == 0; i++) {
			const char *l[] = { "job_id", id, "state", states[i], NULL };

			r = http_metrics_sample(b, fams[f].name, l,
			    (int)j->state == (int)i ? 1 : 0);
		}
		return r;
	}
	return 0;
}

struct http_ctx {
	struct coffer_buf *b;
	int r;
};

static void
http_count(const char *route, const char *method, int code, uint64_t n,
    void *arg)
{
	struct http_ctx *c = arg;
	char cs[16];
	const char *l[] = { "route", route, "method", method, "code", cs, NULL };

	snprintf(cs, sizeof(cs), "%d", code);
	if (c->r == 0)
		c->r = http_metrics_sample(c->b, "coffer_http_requests_total", l,
		    (double)n);
}

int
mgr_metrics_render(struct mgr *m, struct coffer_buf *b)
{
	static const char *const states[] = { "pending", "running", "completed",
		"failed", "stopped" };
	struct http_ctx hc = { b, 0 };
	const char *vl[] = { "version", COFFER_VERSION, NULL };
	int r;

	for (int f = 0; f < F_NFAM; f++) {
		if ((r = http_metrics_family(b, fams[f].name, fams[f].type,
		    fams[f].help)) != 0)
			return r;
		for (size_t i = 0; i < m->njobs; i++)
			if ((r = job_samples(b, f, m->jobs[i])) != 0)
				return r;
	}
	if ((r = http_metrics_family(b, "coffer_jobs", "gauge",
	    "Jobs known to the manager, by state.")) != 0)
		return r;
	for (size_t s = 0; s < 5; s++) {
		const char *l[] = { "state", states[s], NULL };
		size_t n = 0;

		for (size_t i = 0; i < m->njobs; i++)
			n += (size_t)m->jobs[i]->state == s;
		if ((r = http_metrics_sample(b, "coffer_jobs", l, (double)n)) != 0)
			return r;
	}
	if ((r = http_metrics_family(b, "coffer_controller_decisions_total",
	    "counter", "Controller decisions since the manager started.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_controller_decisions_total", NULL,
	    (double)m->decisions_total)) != 0 ||
	    (r = http_metrics_family(b, "coffer_http_requests_total", "counter",
	    "HTTP requests answered, by route pattern, method and status code.")) != 0)
		return r;
	http_server_foreach_count(m->http, http_count, &hc);
	if (hc.r != 0)
		return hc.r;
	{
		struct http_server_stats st;
		const char *lh[] = { "phase", "header", NULL };
		const char *lb[] = { "phase", "body", NULL };
		const char *lw[] = { "phase", "write", NULL };

		http_server_stats(m->http, &st);
		if ((r = http_metrics_family(b, "coffer_http_connections", "gauge",
		    "HTTP connections open now.")) != 0 ||
		    (r = http_metrics_sample(b, "coffer_http_connections", NULL,
		    (double)st.open)) != 0 ||
		    (r = http_metrics_family(b, "coffer_http_connections_refused_total",
		    "counter", "Connections refused (503) at a connection cap.")) != 0 ||
		    (r = http_metrics_sample(b, "coffer_http_connections_refused_total",
		    NULL, (double)st.refused_cap)) != 0 ||
		    (r = http_metrics_family(b, "coffer_http_timeouts_total", "counter",
		    "Connections closed at a deadline: the head, the body, or a reply "
		    "the client did not take.")) != 0 ||
		    (r = http_metrics_sample(b, "coffer_http_timeouts_total", lh,
		    (double)st.header_timeouts)) != 0 ||
		    (r = http_metrics_sample(b, "coffer_http_timeouts_total", lb,
		    (double)st.body_timeouts)) != 0 ||
		    (r = http_metrics_sample(b, "coffer_http_timeouts_total", lw,
		    (double)st.write_timeouts)) != 0)
			return r;
	}
	if ((r = mgr_standby_metrics(m, b)) != 0)
		return r;
	if ((r = http_metrics_family(b, "coffer_manager_start_time_seconds", "gauge",
	    "When this manager started, Unix seconds.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_manager_start_time_seconds", NULL,
	    (double)(m->start_ms / 1000))) != 0 ||
	    (r = http_metrics_family(b, "coffer_build_info", "gauge",
	    "Always 1; the label gives the version.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_build_info", vl, 1)) != 0)
		return r;
	return 0;
}
