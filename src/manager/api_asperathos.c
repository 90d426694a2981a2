// SPDX-License-Identifier: Apache-2.0
// Asperathos's manager API on top of Coffer's jobs (doc/api.md section
// "Asperathos submissions"): the same paths, bodies and status codes as
// asperathos-manager's broker/service/api/v10.py, with Coffer's stricter
// validation and bearer tokens.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "manager/api.h"
#include "manager/asperathos.h"
#include "http/jsonout.h"
#include "manager/mgr.h"
#include "manager/policy.h"
#include "queue/queue.h"
#include "queue/redis_url.h"

#define LOG_TAIL_MAX ((size_t)64 << 10)

static struct mgr_job *
path_job(struct http_req *r)
{
	const char *id = http_req_param(r, "id");
	struct mgr_job *j = id != NULL ? mgr_job_find(r->ctx, id) : NULL;

	/* Asperathos's word on its routes; the native one (`coffer job
	 * logs`) says job, as every /v1/jobs route does. */
	if (j == NULL)
		http_reply_error(r, 404, "not_found", "id", "no %s '%s'",
		    strncmp(r->path, "/v1/", 4) == 0 ? "job" : "submission",
		    id != NULL ? id : "");
	return j;
}

/*
 * Asperathos's monitor reports (asperathos-monitor's JobReport and its
 * InfluxDB measurements): per second, the last sample of that second, keyed
 * "YYYY-MM-DDTHH:MM:SSZ"; the simple report's max_error, min_error and
 * final_error are [value, time] with the same keys, so a client can look
 * each up in the detailed one (asperathos-integration-tests does), and
 * final_replicas is the last count above zero (its monitor kept the last
 * active count).
 */
struct report {
	int64_t start_ms;
	json_t *detailed;       /* {time: {job_progress, time_progress, replicas, error}} */
	char key[32];           /* of the last sample taken */
	double max_e, min_e, last_e;
	char max_t[32], min_t[32], last_t[32];
	int have, final_replicas;
};

/* The second rp->key is over: its last error counts for the extremes. */
static void
second_done(struct report *rp)
{
	if (rp->last_e > rp->max_e || rp->max_t[0] == '\0') {
		rp->max_e = rp->last_e;
		snprintf(rp->max_t, sizeof(rp->max_t), "%s", rp->key);
	}
	if (rp->last_e < rp->min_e || rp->min_t[0] == '\0') {
		rp->min_e = rp->last_e;
		snprintf(rp->min_t, sizeof(rp->min_t), "%s", rp->key);
	}
}

static int
report_sample(const struct mgr_sample *s, void *arg)
{
	struct report *rp = arg;
	char key[32];
	int64_t at = rp->start_ms + (int64_t)(s->t_s * 1000);

	coffer_time_format(at / 1000, key, sizeof(key));
	if (json_object_set_new(rp->detailed, key, json_pack("{s:o, s:o, s:i, s:o}",
	    "job_progress", http_json_real(s->progress), "time_progress",
	    http_json_real(s->time_progress), "replicas", s->replicas, "error",
	    http_json_real(s->error))) != 0)
		return COFFER_E_NOMEM;
	if (s->replicas > 0)
		rp->final_replicas = s->replicas;
	/* Extremes over the per-second values: a second's last sample is the
	 * one the detailed report keeps. */
	if (rp->have && strcmp(key, rp->key) != 0)
		second_done(rp);
	rp->have = 1;
	rp->last_e = s->error;
	snprintf(rp->key, sizeof(rp->key), "%s", key);
	return 0;
}

static int
build_report(struct mgr *m, const struct mgr_job *j, struct report *rp)
{
	int r;

	memset(rp, 0, sizeof(*rp));
	rp->start_ms = j->started_ms;
	if ((rp->detailed = json_object()) == NULL)
		return COFFER_E_NOMEM;
	if (j->started_ms == 0)
		return 0;
	if ((r = mgr_db_samples_foreach(m->db, j->id, report_sample, rp)) != 0)
		return r;
	if (rp->have) {
		second_done(rp);
		snprintf(rp->last_t, sizeof(rp->last_t), "%s", rp->key);
	}
	return 0;
}

static json_t *
pair(double v, const char *t)
{
	return t[0] != '\0' ? json_pack("[o, s]", http_json_real(v), t) :
	    json_pack("[n, n]");
}

/* The simple report's fields, merged into o. */
static int
add_simple_report(struct mgr *m, const struct mgr_job *j, json_t *o)
{
	struct report rp;
	int r;

	if ((r = build_report(m, j, &rp)) != 0) {
		json_decref(rp.detailed);
		return r;
	}
	json_object_set_new(o, "max_error", pair(rp.max_e, rp.max_t));
	json_object_set_new(o, "min_error", pair(rp.min_e, rp.min_t));
	/* Asperathos's final error exists once the job is over. */
	json_object_set_new(o, "final_error", mgr_state_terminal(j->state) ?
	    pair(rp.last_e, rp.last_t) : json_pack("[n, n]"));
	json_object_set_new(o, "final_replicas", mgr_state_terminal(j->state) &&
	    rp.have ? json_integer(rp.final_replicas) : json_null());
	json_object_set_new(o, "scaling_strategy", json_string(
	    strcmp(j->spec.controller, "asperathos-pid") == 0 ? "pid" : "default"));
	if (strcmp(j->spec.controller, "asperathos-pid") == 0) {
		json_t *h = json_object();

		for (size_t i = 0; h != NULL && i < j->spec.nctl_params; i++)
			json_object_set_new(h, j->spec.ctl_params[i].key, json_real(
			    strtod(j->spec.ctl_params[i].value, NULL)));
		json_object_set_new(o, "heuristic_options", h);
	} else {
		json_object_set_new(o, "heuristic_options", json_null());
	}
	json_decref(rp.detailed);
	return 0;
}

void
api_sub_report(struct http_req *r)
{
	struct mgr_job *j = path_job(r);
	struct report rp;
	int e;

	if (j == NULL)
		return;
	if ((e = build_report(r->ctx, j, &rp)) != 0) {
		json_decref(rp.detailed);
		http_reply_coffer_err(r, e);
		return;
	}
	http_reply_json(r, 200, rp.detailed);
}

/* Native jobs' failed items are the queue's dead letters (api_deadletters.c);
 * Asperathos's consumers keep their errors to themselves: an empty list. */
void
api_sub_errors(struct http_req *r)
{
	struct mgr_job *j = path_job(r);
	json_t *arr = NULL;
	int e, truncated;

	if (j == NULL)
		return;
	if ((e = mgr_job_dead_letters(j, &arr, &truncated)) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	http_reply_json(r, 200, arr != NULL ? arr : json_array());
}

void
api_sub_delete_all(struct http_req *r)
{
	struct mgr *m = r->ctx;
	size_t i = 0;
	int e;

	/* Asperathos deletes the finished ones; running ones stay. */
	while (i < m->njobs) {
		struct mgr_job *j = m->jobs[i];

		if (!mgr_state_terminal(j->state)) {
			i++;
			continue;
		}
		/* Replicas still exiting: that one stays, like a running one. */
		if ((e = mgr_job_delete(m, j, api_query_force(r))) == COFFER_E_BUSY) {
			coffer_errclear();
			i++;
			continue;
		}
		if (e != 0) {
			http_reply_coffer_err(r, e);
			return;
		}
	}
	http_reply_json(r, 204, NULL);
}

void
api_sub_submit(struct http_req *r)
{
	struct mgr_asperathos a;
	json_t *body = NULL, *notes = NULL;
	char id[65];
	int e;

	memset(&a, 0, sizeof(a));
	if (http_req_json(r, &body) != 0)
		return;
	e = mgr_asperathos_parse(body, &a);
	json_decref(body);
	if (e == 0 && (e = mgr_policy_check_spec(mgr_policy_get(), &a.spec,
	    1)) != 0)
		mgr_asperathos_release(&a);
	if (e != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	notes = json_pack("{s:O, s:O}", "ignored", a.ignored, "stored", a.stored);
	if (notes == NULL) {
		mgr_asperathos_release(&a);
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		return;
	}
	e = mgr_job_submit(r->ctx, "asperathos", &a.spec, notes,
	    "plugin_info.control_parameters", id);
	if (e != 0) {
		json_decref(notes);
		mgr_asperathos_release(&a);
		http_reply_coffer_err(r, e);
		return;
	}
	/* Asperathos answers 202 {"job_id": ...}; the lists are ours. */
	http_reply_json(r, 202, json_pack("{s:s, s:O, s:O}", "job_id", id,
	    "ignored", a.ignored, "stored", a.stored));
	json_decref(notes);
	mgr_asperathos_release(&a);
}

void
api_sub_list(struct http_req *r)
{
	struct mgr *m = r->ctx;
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < m->njobs; i++)
		json_object_set_new(o, m->jobs[i]->id, json_pack("{s:s}", "status",
		    mgr_asperathos_status(mgr_state_name(m->jobs[i]->state))));
	http_reply_json(r, 200, o);
}

void
api_sub_show(struct http_req *r)
{
	struct mgr_job *j = path_job(r);
	json_t *o;
	char start[32];

	if (j == NULL)
		return;
	o = mgr_job_json(r->ctx, j, 1);
	if (o == NULL) {
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		return;
	}
	/* Asperathos's fields: its manager's (status, app_id, starting_time,
	 * start_time, execution_time, redis_ip, redis_port, visualizer_url)
	 * and its monitor's simple report (max_error, min_error,
	 * final_error, final_replicas, scaling_strategy, heuristic_options),
	 * next to the native job's. */
	json_object_set_new(o, "status", json_string(mgr_asperathos_status(
	    mgr_state_name(j->state))));
	json_object_set_new(o, "job_id", json_string(j->id));
	json_object_set_new(o, "app_id", json_string(j->id));
	if (j->started_ms != 0) {
		struct tm tm;
		time_t t = (time_t)(j->started_ms / 1000);
		char st2[64];

		coffer_time_format(j->started_ms / 1000, start, sizeof(start));
		gmtime_r(&t, &tm);
		snprintf(st2, sizeof(st2), "%04d-%02d-%02dT%02d:%02d:%02d.%06dGMT",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)(j->started_ms % 1000) * 1000);
		json_object_set_new(o, "execution_time",
		    json_integer((json_int_t)mgr_job_elapsed(j)));
		json_object_set_new(o, "start_time", json_string(start));
		json_object_set_new(o, "starting_time", json_string(st2));
	} else {
		json_object_set_new(o, "execution_time",
		    json_string("Job is not running yet!"));
		json_object_set_new(o, "start_time",
		    json_string("Job is not running yet!"));
		json_object_set_new(o, "starting_time",
		    json_string("Job is not running yet!"));
	}
	{
		struct coffer_redis_url u;

		memset(&u, 0, sizeof(u));
		if (coffer_redis_url_parse(j->redis_url, &u) == 0 && u.host != NULL) {
			json_object_set_new(o, "redis_ip", json_string(u.host));
			json_object_set_new(o, "redis_port", json_integer(u.port));
		}
		coffer_redis_url_release(&u);
		coffer_errclear();
	}
	json_object_set_new(o, "visualizer_url", json_string("URL not generated!"));
	if (add_simple_report(r->ctx, j, o) != 0) {
		json_decref(o);
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		return;
	}
	http_reply_json(r, 200, o);
}

void
api_sub_stop(struct http_req *r)
{
	struct mgr_job *j = path_job(r);
	int e;

	if (j == NULL)
		return;
	/* The body may carry Asperathos's username/password; tokens
	 * replace them, so it is not read. */
	if ((e = mgr_job_stop(r->ctx, j, "stopped on request")) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	http_reply_json(r, 204, NULL);
}

void
api_sub_delete(struct http_req *r)
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

/* The last LOG_TAIL_MAX bytes of the replicas' log ("" if none). */
static int
log_tail(const char *path, struct coffer_buf *b)
{
	struct stat st;
	uint8_t *p = NULL;
	off_t from;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	from = st.st_size > (off_t)LOG_TAIL_MAX ? st.st_size - (off_t)LOG_TAIL_MAX : 0;
	if ((r = coffer_buf_reserve(b, LOG_TAIL_MAX, &p)) == 0) {
		n = pread(fd, p, LOG_TAIL_MAX, from);
		if (n > 0)
			coffer_buf_commit(b, (size_t)n);
	}
	close(fd);
	return r;
}

void
api_sub_log(struct http_req *r)
{
	struct mgr_job *j = path_job(r);
	struct coffer_buf b = COFFER_BUF_INIT(LOG_TAIL_MAX + 1);
	json_t *text;

	if (j == NULL)
		return;
	if (log_tail(j->log_path, &b) != 0) {
		coffer_buf_release(&b);
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		return;
	}
	/* Logs are bytes; JSON strings are UTF-8: keep ASCII text only. */
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] >= 0x80 || (b.data[i] < 0x20 && b.data[i] != '\n' &&
		    b.data[i] != '\t'))
			b.data[i] = '?';
	text = json_stringn(coffer_buf_str(&b), b.len);
	http_reply_json(r, 200, json_pack("{s:s, s:o, s:s}", "execution",
	    mgr_asperathos_status(mgr_state_name(j->state)),
	    "stdout", text != NULL ? text : json_string(""), "stderr", ""));
	coffer_buf_release(&b);
}

void
api_job_log(struct http_req *r)
{
	struct mgr_job *j = path_job(r);
	struct coffer_buf b = COFFER_BUF_INIT(LOG_TAIL_MAX + 1);

	if (j == NULL)
		return;
	if (log_tail(j->log_path, &b) != 0) {
		coffer_buf_release(&b);
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		return;
	}
	http_reply_text(r, 200, "text/plain; charset=utf-8", coffer_buf_str(&b),
	    b.len);
	coffer_buf_release(&b);
}
