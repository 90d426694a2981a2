// SPDX-License-Identifier: Apache-2.0
// POST /v1/jobs and GET /v1/jobs/{job} (doc/protocol/key-release.md
// section 5, rules J1 to J5, JW1 to JW5). A job is one run of one app of an active
// policy with parameters the policy allows; its inputs are fixed by the
// policy, so anyone may open one.
#include <string.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/coord.h"
#include "coordinator/waiters.h"
#include "crypto/jcs.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/log.h"
#include "lib/random.h"
#include "proto/keyrelease.h"
#include "proto/receipt.h"

static json_t *
job_json(const struct coord_job *j, int reduce)
{
	char id[33], ph[65], root[65];

	coffer_hex_encode(j->id, 16, id);
	coffer_hex_encode(j->policy, 32, ph);
	coffer_hex_encode(j->input_root, 32, root);
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:[s*s*], s:b}", "job", id,
	    "policy", ph, "app", j->app, "items", (json_int_t)j->items,
	    "input_root", root, "stages", "map", reduce ? "reduce" : NULL,
	    "closed", j->closed);
}

/* The job's id from the path: 32 lower-case hex digits, else job.unknown. */
int
coord_path_job(struct http_req *r, uint8_t id[16])
{
	const char *s = http_req_param(r, "job");
	size_t hexlen;

	if (s == NULL || strlen(s) != 32 || strspn(s, "0123456789abcdef") != 32 ||
	    coffer_hex_decode(s, 32, id, 16, &hexlen) != 0) {
		coord_refuse(r, "job.unknown", "job", "a job id is 32 lower-case "
		    "hex digits");
		return -1;
	}
	return 0;
}

/* The `job-open` event (doc/format/audit-log.md section 3). */
static int
log_job(struct coord_state *st, const struct coord_job *j,
    const struct coffer_policy_app *a, const json_t *params)
{
	char id[33], ph[65], root[65];
	json_t *ev;
	int e;

	coffer_hex_encode(j->id, 16, id);
	coffer_hex_encode(j->policy, 32, ph);
	coffer_hex_encode(j->input_root, 32, root);
	if ((ev = json_pack("{s:s, s:s, s:s, s:s, s:O, s:I, s:s, s:[s*s*]}",
	    "event", "job-open", "job", id, "policy", ph, "app", a->name,
	    "params", params, "items", (json_int_t)j->items, "input_root", root,
	    "stages", "map", a->reduce ? "reduce" : NULL)) == NULL)
		return COFFER_E_NOMEM;
	e = coord_audit_append(st, ev, NULL);
	json_decref(ev);
	return e;
}

void
api_job_open(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_job_request req;
	struct coffer_buf params = COFFER_BUF_INIT(COFFER_JOBREQ_MAX);
	const struct coffer_policy *p;
	const struct coffer_policy_app *a;
	struct coord_status st;
	struct coord_job j;
	char id[33], ph[65];
	int e;

	memset(&req, 0, sizeof(req));
	memset(&j, 0, sizeof(j));
	/* J1 */
	if ((e = coffer_job_request_parse(r->body, r->body_len, &req)) != 0) {
		coord_refuse_err(r, e, "request.malformed");
		goto out;
	}
	/* J2, J3 */
	if ((e = coord_book_get(c->book, req.policy, &p)) != 0) {
		coord_refuse_err(r, e, NULL);
		goto out;
	}
	if ((e = coord_book_status(c->book, p, coord_now(), &st)) != 0) {
		http_reply_coffer_err(r, e);
		goto out;
	}
	if (!st.active) {
		coord_refuse(r, st.reason, "policy", "the policy is not active (%s)",
		    st.reason);
		goto out;
	}
	/* J4, J5 */
	if ((a = coffer_policy_app(p, req.app)) == NULL) {
		coord_refuse(r, "job.unknown_app", "app", "the policy has no app "
		    "named '%s'", req.app);
		goto out;
	}
	if ((e = coffer_policy_check_params(a, req.params)) != 0) {
		coord_refuse_err(r, e, "job.bad_params");
		goto out;
	}
	memcpy(j.policy, p->hash, 32);
	snprintf(j.app, sizeof(j.app), "%s", a->name);
	j.created_ms = coffer_wall_ms();
	if ((e = coffer_random(j.id, sizeof(j.id))) != 0 ||
	    (e = coffer_jcs_put(req.params, &params)) != 0 ||
	    (e = coffer_receipt_input_root(p, a, &j.items, j.input_root)) != 0) {
		http_reply_coffer_err(r, e);
		goto out;
	}
	j.params = (char *)coffer_buf_str(&params);
	if ((e = coord_state_begin(c->st)) == 0) {
		if ((e = coord_state_job_put(c->st, &j)) != 0 ||
		    (e = log_job(c->st, &j, a, req.params)) != 0 ||
		    (e = coord_state_commit(c->st)) != 0)
			coord_state_rollback(c->st);
	}
	if (e != 0) {
		j.params = NULL;
		http_reply_coffer_err(r, e);
		goto out;
	}
	coffer_hex_encode(j.id, 16, id);
	coffer_hex_encode(p->hash, 32, ph);
	coffer_logkv(COFFER_LOG_INFO, "job opened", "job", id, "policy", ph, "app",
	    a->name, NULL);
	http_reply_json(r, 201, job_json(&j, a->reduce));
	j.params = NULL;
out:
	coffer_buf_release(&params);
	coffer_job_request_release(&req);
}

/* GET /v1/jobs/{job}'s answer for job id, now (1), unless hold is set and
 * the job is still open (0: nothing answered; JW3). */
int
coord_job_answer(struct coord *c, struct http_req *r, const uint8_t id[16],
    int hold)
{
	const struct coffer_policy *p;
	const struct coffer_policy_app *a;
	struct coord_job j;
	json_t *o;
	int e;

	memset(&j, 0, sizeof(j));
	memcpy(j.id, id, 16);
	e = coord_state_job_get(c->st, j.id, &j);
	if (e == COFFER_E_NOTFOUND) {
		coord_refuse(r, "job.unknown", "job", "no such job");
		return 1;
	}
	/* JW3: checked after every commit while held, so before the rest. */
	if (e == 0 && hold && !j.closed) {
		coord_job_release(&j);
		return 0;
	}
	if (e != 0 || (e = coord_book_get(c->book, j.policy, &p)) != 0) {
		coord_job_release(&j);
		http_reply_coffer_err(r, e);
		return 1;
	}
	a = coffer_policy_app(p, j.app);
	o = job_json(&j, a != NULL && a->reduce);
	if (o != NULL) {
		json_t *params = json_loads(j.params, 0, NULL);

		if (params == NULL || json_object_set_new(o, "params", params) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	coord_job_release(&j);
	http_reply_json(r, 200, o);
	return 1;
}

/* JW1: ?wait=S holds an open job's answer up to S seconds (waiters.h). */
void
api_job_show(struct http_req *r)
{
	struct coord *c = r->ctx;
	uint8_t id[16];
	int64_t wait = 0;

	if (coord_path_job(r, id) != 0)
		return;
	if (http_req_query_int(r, "wait", 1, COORD_LEAVES_WAIT_MAX_S, &wait) < 0) {
		coord_refuse(r, "request.malformed", "wait", "wait: seconds to wait "
		    "for the job to close, an integer from 1 to %d",
		    COORD_LEAVES_WAIT_MAX_S);
		return;
	}
	coord_waiters_job(c->waiters, r, id, (int)wait);
}
