// SPDX-License-Identifier: Apache-2.0
// A job as the API shows it (doc/api.md section 4).
#include <math.h>
#include <string.h>

#include "lib/clock.h"
#include "manager/approvals.h"
#include "manager/job_int.h"
#include "http/jsonout.h"
#include "manager/mgr.h"

/* ------------------------------------------------------------------ */
/* The API's view */

static json_t *
time_or_null(int64_t ms)
{
	char b[32];

	if (ms <= 0)
		return json_null();
	coffer_time_format(ms / 1000, b, sizeof(b));
	return json_string(b);
}

json_t *
mgr_job_json(struct mgr *m, const struct mgr_job *j, int full)
{
	const struct mgr_sample *s = &j->last;
	struct coffer_actuator_status as;
	json_t *o, *on_track;
	double t = mgr_job_elapsed(j);
	int64_t start = j->started_ms != 0 ? j->started_ms : j->submitted_ms;
	int64_t deadline_ms = start + (int64_t)llround(j->spec.expected_time_s * 1000);
	/* What is true now, or unknown: replicas from the actuator (none when
	 * this incarnation has none, whatever the last sample said), counts
	 * only once this incarnation has read them from the queue. */
	int running = 0, ready = 0;
	int known = j->counts_fresh || mgr_state_terminal(j->state);

	memset(&as, 0, sizeof(as));
	if (j->act != NULL && coffer_actuator_status(j->act, &as) == 0)
		running = as.running;
	/* The reduce replica started early is running too (doc/manager.md
	 * 9.4), although it holds no item. */
	if (j->ract != NULL && coffer_actuator_status(j->ract, &as) == 0)
		running += as.running;
	if (j->act != NULL && j->counts_fresh)
		ready = s->ready < running ? s->ready : running;
	/* Past the deadline is late whatever the estimates say; before the
	 * first item is finished nothing says whether the job is late. */
	if (j->state == MGR_COMPLETED)
		on_track = json_boolean(j->finished_ms <= deadline_ms);
	else if (j->state == MGR_RUNNING && t > j->spec.expected_time_s)
		on_track = json_false();
	else if (j->state == MGR_RUNNING && j->have_last && s->lateness_s >= 0)
		on_track = json_boolean(s->lateness_s <= 0);
	else if (j->state == MGR_RUNNING && j->have_last &&
	    s->c.done + s->c.failed > 0)
		on_track = json_boolean(s->error >= 0);
	else
		on_track = json_null();
	/* Every number is checked for finiteness and every free text made
	 * valid UTF-8 (jsonout.h): a value jansson refuses would make the
	 * whole object NULL, and the job would vanish from the API. */
	o = json_pack("{s:s, s:s, s:o*, s:s, s:o*, s:o, s:o, s:o, s:o, s:o, s:o,"
	    " s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o, s:o,"
	    " s:{s:i, s:i, s:i, s:i, s:i},"
	    " s:{s:o, s:o}, s:o, s:o, s:o, s:o,"
	    " s:{s:o, s:o, s:I}, s:{s:o, s:s}, s:{s:s, s:s}}",
	    "id", j->id,
	    "kind", j->kind,
	    "name", j->spec.name != NULL ? http_json_str(j->spec.name) : NULL,
	    "state", mgr_state_name(j->state),
	    "reason", j->reason != NULL ? http_json_str(j->reason) : NULL,
	    "submitted_at", time_or_null(j->submitted_ms),
	    "started_at", time_or_null(j->started_ms),
	    "finished_at", time_or_null(j->finished_ms),
	    "deadline", time_or_null(deadline_ms),
	    "expected_time_s", http_json_real(j->spec.expected_time_s),
	    "elapsed_s", http_json_real(t),
	    "items",
	    "total", (json_int_t)s->c.total, "done", (json_int_t)s->c.done,
	    "failed", (json_int_t)s->c.failed,
	    "in_flight", (json_int_t)s->c.in_flight,
	    "queued", (json_int_t)s->c.queued,
	    "progress", http_json_real(s->progress),
	    "time_progress", http_json_real(j->state == MGR_RUNNING ?
	    t / j->spec.expected_time_s : s->time_progress),
	    "error", http_json_real(s->error),
	    "replicas",
	    "desired", j->state == MGR_RUNNING ? j->desired : 0,
	    "running", running, "ready", ready,
	    "min", j->spec.min_replicas, "max", j->spec.max_replicas,
	    "throughput",
	    "items_per_s", http_json_real(s->throughput),
	    "per_replica_items_per_s", http_json_real(s->throughput_per_replica),
	    "eta_s", j->state == MGR_RUNNING ? http_json_real_or_null(s->eta_s) :
	    json_null(),
	    "predicted_lateness_s", j->state == MGR_RUNNING ?
	    http_json_real_or_null(s->lateness_s) : json_null(),
	    "on_track", on_track,
	    "replica_seconds", http_json_real(s->replica_seconds),
	    "controller",
	    "name", http_json_str(j->spec.controller),
	    "check_interval_s", http_json_real(j->spec.check_interval_s),
	    "decisions", (json_int_t)j->decision_seq,
	    "actuator",
	    "requested", http_json_str(j->spec.actuator), "used", m->cfg.actuator,
	    "queue",
	    "layout", j->spec.queue_layout == MGR_QUEUE_ASPERATHOS ?
	    "asperathos" : "coffer",
	    "name", mgr_job_queue_name(j));
	if (o == NULL)
		return NULL;
	/* With a standby pool (doc/manager.md 5.4): replicas that were
	 * standby workers, of every replica the job started. */
	if (m->standby != NULL) {
		int64_t warm = j->warm_base;

		if (j->act != NULL && coffer_actuator_status(j->act, &as) == 0)
			warm += as.warm_total;
		if (j->ract != NULL && coffer_actuator_status(j->ract, &as) == 0)
			warm += as.warm_total;
		json_object_set_new(json_object_get(o, "replicas"), "warm",
		    json_integer((json_int_t)warm));
	}
	/* A confidential job: where its receipt is (doc/manager.md section
	 * 9). What the coordinator answered is shown, not vouched for. */
	if (j->spec.tee_job != NULL) {
		static const char *const stages[] = { "map", "reduce", "close" };

		json_object_set_new(o, "confidential", json_pack("{s:o, s:o, s:o, "
		    "s:s, s:o*, s:o*, s:o}", "coordinator",
		    http_json_str(j->spec.coordinator),
		    "policy", http_json_str(j->spec.tee_policy),
		    "job", http_json_str(j->spec.tee_job),
		    "stage", stages[j->stage >= 0 && j->stage <= 2 ? j->stage : 0],
		    "outcome", j->conf_outcome[0] ? http_json_str(j->conf_outcome) : NULL,
		    "outcome_reason", j->conf_reason[0] ? http_json_str(j->conf_reason) :
		    NULL, "approvals", mgr_approvals_json(j)));
	}
	if (!known && (j->state == MGR_RUNNING || j->loaded)) {
		/* Not read since this incarnation started, or the queue stopped
		 * answering: the last stored sample may be wrong (Redis lost
		 * acks, or this is a restart), so say "unknown". */
		json_object_set_new(o, "items", json_pack("{s:n, s:n, s:n, s:n, s:n}",
		    "total", "done", "failed", "in_flight", "queued"));
		json_object_set_new(o, "progress", json_null());
		json_object_set_new(o, "error", json_null());
		json_object_set_new(o, "eta_s", json_null());
		json_object_set_new(o, "predicted_lateness_s", json_null());
		json_object_set_new(o, "on_track", json_null());
		json_object_set_new(o, "throughput", json_pack("{s:n, s:n}",
		    "items_per_s", "per_replica_items_per_s"));
	}
	json_object_set_new(o, "counts_known", json_boolean(known));
	if ((j->notes != NULL && json_array_size(json_object_get(j->notes,
	    "warnings")) > 0) || (j->state == MGR_RUNNING && j->late_warning[0])) {
		json_t *w = json_array();

		if (j->notes != NULL)
			json_array_extend(w, json_object_get(j->notes, "warnings"));
		if (j->state == MGR_RUNNING && j->late_warning[0])
			json_array_append_new(w, json_pack("{s:s, s:s}", "field",
			    "expected_time_s", "message", j->late_warning));
		json_object_set_new(o, "warnings", w);
	}
	json_object_set_new(o, "deadline_met", j->state == MGR_COMPLETED ?
	    json_boolean(j->finished_ms <= deadline_ms) : j->state == MGR_RUNNING &&
	    t > j->spec.expected_time_s ? json_false() : json_null());
	if (full) {
		json_t *sj = mgr_jobspec_to_json(&j->spec);

		if (sj != NULL)
			json_object_set_new(o, "spec", sj);
		if (j->notes != NULL) {
			json_t *v;

			if ((v = json_object_get(j->notes, "ignored")) != NULL)
				json_object_set(o, "ignored", v);
			if ((v = json_object_get(j->notes, "stored")) != NULL)
				json_object_set(o, "stored", v);
		}
		if (j->log_path[0] != '\0')
			json_object_set_new(o, "log", http_json_str(j->log_path));
	}
	return o;
}

