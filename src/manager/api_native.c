// SPDX-License-Identifier: Apache-2.0
// Handlers of the native API: /healthz, /metrics, /v1/controllers and
// /v1/jobs (doc/api.md).
#include <stdlib.h>
#include <string.h>


#include "coffer/error.h"
#include "controllers/registry.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "manager/api.h"
#include "manager/approvals.h"
#include "manager/conf.h"
#include "http/jsonout.h"
#include "http/metrics.h"
#include "manager/mgr.h"
#include "manager/policy.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "0.0.0-dev"
#endif

#define TIMELINE_LIMIT_MAX 10000

int
api_query_force(const struct http_req *r)
{
	char v[16];

	return http_req_query(r, "force", v, sizeof(v)) > 0 &&
	    (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0);
}

/* ?view=full (the default) or ?view=status (doc/api.md section 4): 1 for
 * the full form, 0 for the light one (no spec), -1 after a 400 reply. */
static int
query_view(struct http_req *r)
{
	char v[16];
	int q = http_req_query(r, "view", v, sizeof(v));

	if (q == 0 || (q > 0 && strcmp(v, "full") == 0))
		return 1;
	if (q > 0 && strcmp(v, "status") == 0)
		return 0;
	http_reply_error(r, 400, "bad_request", "view", "view: expected 'full' "
	    "or 'status'");
	return -1;
}

void
api_healthz(struct http_req *r)
{
	struct mgr *m = r->ctx;

	http_reply_json(r, 200, json_pack("{s:s, s:s, s:b}", "status", "ok",
	    "version", COFFER_VERSION, "stopping", m->stopping));
}

void
api_metrics(struct http_req *r)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_BUF_MAX_DEFAULT);
	int e;

	if ((e = mgr_metrics_render(r->ctx, &b)) != 0) {
		coffer_buf_release(&b);
		http_reply_coffer_err(r, e);
		return;
	}
	http_reply_text(r, 200, HTTP_METRICS_CONTENT_TYPE, coffer_buf_str(&b), b.len);
	coffer_buf_release(&b);
}

void
api_controllers(struct http_req *r)
{
	const struct coffer_controller *def = NULL;
	json_t *arr = json_array();
	size_t n = coffer_controller_builtin(0, &def);

	for (size_t i = 0; arr != NULL && i < n; i++)
		if ((def = NULL, coffer_controller_builtin(i, &def)) > i && def != NULL)
			json_array_append_new(arr, json_pack("{s:s, s:s}", "name",
			    def->name, "summary", def->summary ? def->summary : ""));
	http_reply_json(r, 200, json_pack("{s:o}", "controllers", arr));
}

/* The job named by the path, or a 404 reply and NULL. */
static struct mgr_job *
path_job(struct http_req *r)
{
	const char *id = http_req_param(r, "id");
	struct mgr_job *j = id != NULL ? mgr_job_find(r->ctx, id) : NULL;

	if (j == NULL)
		http_reply_error(r, 404, "not_found", "id", "no job '%s'",
		    id != NULL ? id : "");
	return j;
}

/* A submission whose answer waits for the coordinator (a confidential
 * job, doc/manager.md section 9.2): its request is deferred while the
 * manager's loop goes on. */
struct submission {
	struct http_req *r;          /* deferred (http_req_defer) */
	int full;                    /* the answer's form (query_view) */
	struct mgr_jobspec spec;
	json_t *errs, *warns;
};

/* The end of a submission: its mistakes (e: COFFER_E_FORMAT with errs),
 * its error, or the job stored and started. A job opened at a coordinator
 * that is not stored after all is closed there (mgr_conf_abandon). */
static void
submit_end(struct http_req *r, struct mgr_jobspec *spec, json_t *errs,
    json_t *warns, int full, int e)
{
	struct mgr *m = r->ctx;
	struct mgr_job *j;
	json_t *notes = NULL, *o;
	char id[65], loc[128], coordinator[512] = "", tee_job[33] = "", why[600];

	if (e != 0 && e != COFFER_E_FORMAT)
		goto fail;
	if (json_array_size(errs) > 0) {
		http_reply_errors(r, 400, "bad_request", json_incref(errs));
		goto out;
	}
	if (json_array_size(warns) > 0 &&
	    (notes = json_pack("{s:O}", "warnings", warns)) == NULL) {
		e = COFFER_E_NOMEM;
		goto fail;
	}
	/* mgr_job_submit may take the spec even when it fails. */
	if (spec->tee_job != NULL) {
		snprintf(coordinator, sizeof(coordinator), "%s", spec->coordinator);
		snprintf(tee_job, sizeof(tee_job), "%s", spec->tee_job);
	}
	e = mgr_job_submit(m, "native", spec, notes, "controller.params", id);
	if (e != 0) {
		snprintf(why, sizeof(why), "%s", coffer_errdetail());
		mgr_conf_abandon(m, coordinator, tee_job, why);
		(void)coffer_errf(e, "%s", why);
		goto fail;
	}
	snprintf(loc, sizeof(loc), "/v1/jobs/%s", id);
	http_reply_header(r, "Location", loc);
	j = mgr_job_find(m, id);
	o = j != NULL ? mgr_job_json(m, j, full) : json_pack("{s:s}", "id", id);
	http_reply_json(r, 201, o);
	goto out;
fail:
	http_reply_coffer_err(r, e);
out:
	json_decref(notes);
}

static void
submit_prepared(int e, void *arg)
{
	struct submission *sub = arg;

	submit_end(sub->r, &sub->spec, sub->errs, sub->warns, sub->full, e);
	http_req_done(sub->r);
	mgr_jobspec_release(&sub->spec);
	json_decref(sub->errs);
	json_decref(sub->warns);
	free(sub);
}

void
api_job_submit(struct http_req *r)
{
	struct mgr *m = r->ctx;
	struct submission *sub = NULL;
	json_t *body = NULL;
	int e, full;

	if ((full = query_view(r)) < 0 || http_req_json(r, &body) != 0)
		return;
	if ((sub = coffer_calloc(1, sizeof(*sub))) == NULL ||
	    (sub->errs = json_array()) == NULL ||
	    (sub->warns = json_array()) == NULL) {
		e = COFFER_E_NOMEM;
		goto fail;
	}
	sub->full = full;
	/* Every field error of the body at once (doc/api.md section 1), then
	 * what the job names outside itself (submit.c). */
	e = mgr_jobspec_parse_all(body, coffer_wall_ms() / 1000, &sub->spec,
	    sub->errs);
	if (e == COFFER_E_NOMEM)
		goto fail;
	(void)mgr_job_check(m, &sub->spec, -1, sub->errs, sub->warns);
	/* Before mgr_job_submit(), which may already load a controller, and
	 * before a confidential job is opened at its coordinator. */
	if (json_array_size(sub->errs) == 0 &&
	    (e = mgr_policy_check_spec(mgr_policy_get(), &sub->spec, 0)) != 0)
		goto fail;
	/* A confidential job: its items from its policy, and its job opened
	 * at the coordinator (doc/manager.md section 9), once the rest is
	 * known to be right; answered when the coordinator has answered. */
	e = 0;
	if (json_array_size(sub->errs) == 0 && sub->spec.tee_policy != NULL) {
		if ((sub->r = http_req_defer(r)) == NULL) {
			e = COFFER_E_NOMEM;
			goto fail;
		}
		if ((e = mgr_conf_prepare(m, &sub->spec, sub->errs, sub->warns,
		    submit_prepared, sub)) != 0)
			submit_prepared(e, sub);
		json_decref(body);
		return;
	}
	submit_end(r, &sub->spec, sub->errs, sub->warns, full, e);
	goto out;
fail:
	http_reply_coffer_err(r, e);
out:
	if (sub != NULL) {
		mgr_jobspec_release(&sub->spec);
		json_decref(sub->errs);
		json_decref(sub->warns);
		free(sub);
	}
	json_decref(body);
}

void
api_job_list(struct http_req *r)
{
	struct mgr *m = r->ctx;
	char state[32];
	enum mgr_state want = MGR_PENDING;
	json_t *arr = json_array();
	int filter;

	filter = http_req_query(r, "state", state, sizeof(state));
	if (filter < 0 || (filter > 0 && mgr_state_parse(state, &want) != 0)) {
		json_decref(arr);
		http_reply_error(r, 400, "bad_request", "state",
		    "state: expected pending, running, completed, failed or stopped");
		return;
	}
	for (size_t i = 0; arr != NULL && i < m->njobs; i++) {
		json_t *o;

		if (filter && m->jobs[i]->state != want)
			continue;
		/* A job that cannot be shown is an error, not a shorter list. */
		if ((o = mgr_job_json(m, m->jobs[i], 0)) == NULL ||
		    json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			coffer_error("GET /v1/jobs: job %s cannot be shown",
			    m->jobs[i]->id);
			http_reply_error(r, 500, "internal", NULL,
			    "job %s cannot be shown", m->jobs[i]->id);
			return;
		}
	}
	http_reply_json(r, 200, json_pack("{s:o}", "jobs", arr));
}

static long long query_num(struct http_req *r, const char *key,
    long long def, long long max);

void
api_job_show(struct http_req *r)
{
	struct mgr_job *j = path_job(r);
	long long wait_s;
	int full;

	if (j == NULL || (wait_s = query_num(r, "wait_s", 0, MGR_WAIT_MAX_S)) < 0 ||
	    (full = query_view(r)) < 0)
		return;
	/* A held request (doc/manager.md 7.1): answered when the job ends. */
	if (wait_s > 0 && !mgr_state_terminal(j->state)) {
		int e = mgr_waiters_add(r->ctx, r, j, (int)wait_s, full);

		if (e == COFFER_E_BUSY)
			http_reply_error(r, 503, "unavailable", "wait_s", "%s; ask "
			    "without wait_s, or later", coffer_errdetail());
		else if (e != 0)
			http_reply_coffer_err(r, e);
		return;
	}
	mgr_approvals_viewed(j);
	http_reply_json(r, 200, mgr_job_json(r->ctx, j, full));
}

/* A non-negative integer query parameter (digits, no leading zero:
 * http_req_query_int); def if absent. -1 after a 400 reply. */
static long long
query_num(struct http_req *r, const char *key, long long def, long long max)
{
	int64_t n = -1;
	int q = http_req_query_int(r, key, 0, max, &n);

	if (q == 0)
		return def;
	if (q < 0) {
		http_reply_error(r, 400, "bad_request", key,
		    "%s: expected an integer in [0, %lld]", key, max);
		return -1;
	}
	return n;
}

void
api_job_timeline(struct http_req *r)
{
	struct mgr *m = r->ctx;
	struct mgr_job *j = path_job(r);
	json_t *samples = NULL, *decisions = NULL;
	long long since, dsince, limit;
	int e;

	if (j == NULL)
		return;
	if ((since = query_num(r, "since", 0, INT64_MAX)) < 0 ||
	    (dsince = query_num(r, "decisions_since", 0, INT64_MAX)) < 0 ||
	    (limit = query_num(r, "limit", TIMELINE_LIMIT_MAX,
	    TIMELINE_LIMIT_MAX)) < 0)
		return;
	samples = json_array();
	decisions = json_array();
	if (samples == NULL || decisions == NULL) {
		e = COFFER_E_NOMEM;
		goto fail;
	}
	if ((e = mgr_db_samples_json(m->db, j->id, since, (int)limit,
	    samples)) != 0 ||
	    (e = mgr_db_decisions_json(m->db, j->id, dsince, (int)limit,
	    decisions)) != 0)
		goto fail;
	http_reply_json(r, 200, json_pack("{s:s, s:s, s:o, s:o, s:o}",
	    "job_id", j->id, "state", mgr_state_name(j->state),
	    "expected_time_s", http_json_real(j->spec.expected_time_s),
	    "samples", samples, "decisions", decisions));
	return;
fail:
	json_decref(samples);
	json_decref(decisions);
	http_reply_coffer_err(r, e);
}

void
api_job_stop(struct http_req *r)
{
	struct mgr_job *j = path_job(r);
	int e;

	if (j == NULL)
		return;
	if ((e = mgr_job_stop(r->ctx, j, "stopped on request")) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	http_reply_json(r, 200, mgr_job_json(r->ctx, j, 0));
}

void
api_job_delete(struct http_req *r)
{
	struct mgr_job *j = path_job(r);
	int e;

	if (j == NULL)
		return;
	if ((e = mgr_job_delete(r->ctx, j, api_query_force(r))) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	http_reply_json(r, 204, NULL);
}
