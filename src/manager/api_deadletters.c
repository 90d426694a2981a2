// SPDX-License-Identifier: Apache-2.0
// GET /v1/jobs/{id}/dead_letters: the items that failed at every attempt,
// with the error of the last one (doc/api.md section 5.1). The dashboard's
// "failures" panel reads it; `failed` in the job's counts says how many.
#include <string.h>

#include "coffer/error.h"
#include "http/jsonout.h"
#include "manager/api.h"
#include "manager/job_int.h"
#include "manager/mgr.h"
#include "queue/queue.h"

/* The answer stays small whatever the queue holds. */
#define DEAD_LETTERS_MAX 1000

struct dead_ctx {
	json_t *arr;
	size_t seen;
};

static void
add_dead(const char *id, uint32_t attempts, const char *error, void *arg)
{
	struct dead_ctx *c = arg;

	c->seen++;
	if (json_array_size(c->arr) < DEAD_LETTERS_MAX)
		json_array_append_new(c->arr, json_pack("{s:o, s:I, s:o}", "item",
		    http_json_str(id), "attempts", (json_int_t)attempts, "error",
		    http_json_str(error != NULL ? error : "")));
}

/* The job's queue: its own handle while it runs, else (a finished job's
 * handle is closed) a short-lived one, as DELETE opens. */
static int
open_queue(const struct mgr_job *j, struct coffer_queue **tmp,
    struct coffer_queue **q)
{
	struct coffer_queue_opts o;
	int r;

	*q = j->q;
	if (*q != NULL || !j->loaded)
		return 0;
	memset(&o, 0, sizeof(o));
	o.redis_url = j->redis_url;
	o.job = mgr_job_queue_name(j);
	o.layout = COFFER_QUEUE_LAYOUT_COFFER;
	o.connect_timeout_ms = 1000;
	if ((r = coffer_queue_open(&o, tmp)) == 0)
		*q = *tmp;
	return r;
}

void
api_job_dead_letters(struct http_req *r)
{
	const char *id = http_req_param(r, "id");
	struct mgr_job *j = id != NULL ? mgr_job_find(r->ctx, id) : NULL;
	struct coffer_queue *tmp = NULL, *q = NULL;
	struct dead_ctx c = { NULL, 0 };
	int e;

	if (j == NULL) {
		http_reply_error(r, 404, "not_found", "id", "no job '%s'",
		    id != NULL ? id : "");
		return;
	}
	if (j->spec.queue_layout == MGR_QUEUE_COFFER &&
	    (e = open_queue(j, &tmp, &q)) != 0) {
		http_reply_error(r, 503, "unavailable", NULL, "the queue of job %s "
		    "cannot be read: %s", j->id, coffer_errdetail());
		return;
	}
	/* Asperathos-layout consumers never dead-letter through Coffer, and a
	 * job not loaded yet has no list: null says "none to read", and the
	 * job's items.failed says how many failed. */
	if (q == NULL) {
		http_reply_json(r, 200, json_pack("{s:s, s:n, s:b}", "job_id", j->id,
		    "dead_letters", "truncated", 0));
		return;
	}
	if ((c.arr = json_array()) == NULL)
		e = COFFER_E_NOMEM;
	else
		e = coffer_queue_dead_letters(q, add_dead, &c);
	coffer_queue_close(tmp);
	if (e != 0) {
		json_decref(c.arr);
		http_reply_coffer_err(r, e);
		return;
	}
	http_reply_json(r, 200, json_pack("{s:s, s:o, s:b}", "job_id", j->id,
	    "dead_letters", c.arr, "truncated", c.seen > DEAD_LETTERS_MAX));
}
