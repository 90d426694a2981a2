// SPDX-License-Identifier: Apache-2.0
// A job's dead letters: the items that failed at every attempt, with the
// error of the last one (doc/api.md section 5.1). GET
// /v1/jobs/{id}/dead_letters answers them for the dashboard's "failures"
// panel; GET /submissions/{id}/errors, Asperathos's form, is the same list.
#include <string.h>

#include "coffer/error.h"
#include "http/jsonout.h"
#include "manager/api.h"
#include "manager/job_int.h"
#include "manager/mgr.h"
#include "queue/queue.h"

struct dead_ctx {
	json_t *arr;
	size_t seen;
};

static void
add_dead(const char *id, uint32_t attempts, const char *error, void *arg)
{
	struct dead_ctx *c = arg;

	c->seen++;
	if (json_array_size(c->arr) < MGR_DEAD_LETTERS_MAX)
		json_array_append_new(c->arr, json_pack("{s:o, s:I, s:o}", "item",
		    http_json_str(id), "attempts", (json_int_t)attempts, "error",
		    http_json_str(error != NULL ? error : "")));
}

int
mgr_job_dead_letters(const struct mgr_job *j, json_t **out, int *truncated)
{
	struct coffer_queue_opts o;
	struct coffer_queue *tmp = NULL, *q = j->q;
	struct dead_ctx c = { NULL, 0 };
	int r;

	*out = NULL;
	*truncated = 0;
	/* Asperathos-layout consumers never dead-letter through Coffer, and a
	 * job not loaded yet has no list. */
	if (j->spec.queue_layout != MGR_QUEUE_COFFER || (q == NULL && !j->loaded))
		return 0;
	/* A finished job's handle is closed: a short-lived one, as DELETE
	 * opens, reads the list that stays until the job is deleted. */
	if (q == NULL) {
		memset(&o, 0, sizeof(o));
		o.redis_url = j->redis_url;
		o.job = mgr_job_queue_name(j);
		o.layout = COFFER_QUEUE_LAYOUT_COFFER;
		o.connect_timeout_ms = 1000;
		if ((r = coffer_queue_open(&o, &tmp)) != 0)
			return coffer_errctx(r, "reading the dead letters of job %s",
			    j->id);
		q = tmp;
	}
	if ((c.arr = json_array()) == NULL)
		r = COFFER_E_NOMEM;
	else
		r = coffer_queue_dead_letters(q, add_dead, &c);
	coffer_queue_close(tmp);
	if (r != 0) {
		json_decref(c.arr);
		return r;
	}
	*out = c.arr;
	*truncated = c.seen > MGR_DEAD_LETTERS_MAX;
	return 0;
}

void
api_job_dead_letters(struct http_req *r)
{
	const char *id = http_req_param(r, "id");
	struct mgr_job *j = id != NULL ? mgr_job_find(r->ctx, id) : NULL;
	json_t *arr = NULL;
	int e, truncated;

	if (j == NULL) {
		http_reply_error(r, 404, "not_found", "id", "no job '%s'",
		    id != NULL ? id : "");
		return;
	}
	if ((e = mgr_job_dead_letters(j, &arr, &truncated)) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	/* null: no list to read (the job's items.failed says how many). */
	http_reply_json(r, 200, json_pack("{s:s, s:o?, s:b}", "job_id", j->id,
	    "dead_letters", arr, "truncated", truncated));
}
