// SPDX-License-Identifier: Apache-2.0
// Asperathos's manager API on top of Coffer's jobs (doc/api.md section
// "Asperathos submissions"): the same paths, bodies and status codes as
// asperathos-manager's broker/service/api/v10.py, with Coffer's stricter
// validation and bearer tokens.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "manager/api.h"
#include "manager/asperathos.h"
#include "http/jsonout.h"
#include "manager/mgr.h"
#include "manager/policy.h"

#define LOG_TAIL_MAX ((size_t)64 << 10)

static struct mgr_job *
path_job(struct http_req *r)
{
	const char *id = http_req_param(r, "id");
	struct mgr_job *j = id != NULL ? mgr_job_find(r->ctx, id) : NULL;

	if (j == NULL)
		http_reply_error(r, 404, "not_found", "id", "no submission '%s'",
		    id != NULL ? id : "");
	return j;
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
	/* Asperathos's fields first: status, execution_time, start_time. */
	json_object_set_new(o, "status", json_string(mgr_asperathos_status(
	    mgr_state_name(j->state))));
	json_object_set_new(o, "job_id", json_string(j->id));
	if (j->started_ms != 0) {
		coffer_time_format(j->started_ms / 1000, start, sizeof(start));
		json_object_set_new(o, "execution_time",
		    http_json_real(mgr_job_elapsed(j)));
		json_object_set_new(o, "start_time", json_string(start));
	} else {
		json_object_set_new(o, "execution_time",
		    json_string("Job is not running yet!"));
		json_object_set_new(o, "start_time",
		    json_string("Job is not running yet!"));
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
