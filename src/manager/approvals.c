// SPDX-License-Identifier: Apache-2.0
// A confidential job's policy approvals as the coordinator reports them
// (approvals.h, doc/manager.md section 9.5). Once per job the policy
// (GET /v1/policies/{hash}, checked against its hash) for its owners'
// names, then its status (GET /v1/policies/{hash}/status) every few
// seconds while anyone may look. Both on the manager's event loop: a tick
// starts a request, the answer's callback keeps it; nothing waits. A
// failure keeps the last answer and says why it is not newer.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "http/client.h"
#include "http/jsonout.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "manager/approvals.h"
#include "manager/conf.h"
#include "manager/mgr.h"
#include "proto/policy.h"

#define STATUS_MAX ((size_t)256 << 10)
#define POLICY_MAX (COFFER_POLICY_MAX_BYTES + 4096)

enum asking { ASK_NONE, ASK_POLICY, ASK_STATUS };

struct mgr_approvals {
	struct http_client *http;
	struct coffer_buf reply;
	enum asking asking;       /* the request in flight */
	int64_t next_ms;          /* no request before (monotonic) */
	int64_t viewed_ms;        /* last shown (monotonic); 0 never */
	json_t *owners;           /* from the policy; NULL until read */
	json_t *view;             /* the last answer's; NULL before */
	int64_t answered_ms;      /* when it came (wall clock) */
	char error[600];          /* why the last request failed; "" if not */
};

/* ------------------------------------------------------------------ */
/* The parsers */

int
mgr_approvals_owners_of(const struct coffer_policy *p, json_t **owners)
{
	char hex[65];
	json_t *a;

	*owners = NULL;
	if ((a = json_array()) == NULL)
		return COFFER_E_NOMEM;
	for (size_t i = 0; i < p->nowners; i++) {
		coffer_hex_encode(p->owners[i].fingerprint, 32, hex);
		if (json_array_append_new(a, json_pack("{s:o, s:s}", "name",
		    http_json_str(p->owners[i].id.name), "fingerprint", hex)) != 0) {
			json_decref(a);
			return COFFER_E_NOMEM;
		}
	}
	*owners = a;
	return 0;
}

int
mgr_approvals_owners(const char *text, size_t len, const char *policy_hex,
    json_t **owners)
{
	struct coffer_policy *p = NULL;
	char hex[65];
	int r;

	*owners = NULL;
	if ((r = coffer_policy_parse(text, len, &p)) != 0)
		return coffer_errctx(r == COFFER_E_NOMEM ? r : COFFER_E_PROTO,
		    "the policy does not parse");
	coffer_policy_hash_hex(p, hex);
	if (strcmp(hex, policy_hex) != 0) {
		coffer_policy_free(p);
		return coffer_errf(COFFER_E_PROTO, "the policy's hash is %s, not "
		    "the job's", hex);
	}
	r = mgr_approvals_owners_of(p, owners);
	coffer_policy_free(p);
	return r;
}

/* 1 if the array a (of the status member key) lists fingerprint fp;
 * COFFER_E_PROTO if it is not an array of 64 hex digits each. */
static int
lists(const json_t *st, const char *key, const char *fp)
{
	const json_t *a = json_object_get(st, key), *v;
	int found = 0;
	size_t i;

	if (!json_is_array(a))
		return coffer_errf(COFFER_E_PROTO, "status.%s: not an array", key);
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL || strlen(s) != 64 ||
		    strspn(s, "0123456789abcdef") != 64)
			return coffer_errf(COFFER_E_PROTO, "status.%s[%zu]: not a "
			    "fingerprint", key, i);
		found |= strcmp(s, fp) == 0;
	}
	return found;
}

int
mgr_approvals_view(const json_t *owners, const char *text, size_t len,
    const char *policy_hex, json_t **view)
{
	static const char *const states[] = { "pending", "approved",
		"approved-k-of-n", "revoked", NULL };
	json_t *root = NULL, *st = NULL, *v = NULL, *list = NULL, *o;
	const char *state = NULL, *pol = NULL, *reason = NULL;
	int active = 0, r, known = 0;
	int64_t needed = -1;
	size_t i;

	*view = NULL;
	if ((r = coffer_json_parse(text, len, STATUS_MAX, 8, &root)) != 0 ||
	    (r = coffer_json_get_obj(root, NULL, "status", 1, &st)) != 0 ||
	    (r = coffer_json_get_str(st, "status", "policy", 1, &pol)) != 0 ||
	    (r = coffer_json_get_str(st, "status", "state", 1, &state)) != 0 ||
	    (r = coffer_json_get_bool(st, "status", "active", 1, &active)) != 0 ||
	    (r = coffer_json_get_str(st, "status", "reason", 0, &reason)) != 0 ||
	    (r = coffer_json_get_int(st, "status", "needed", 0, 0, 64,
	    &needed)) != 0) {
		if (r != COFFER_E_NOMEM)
			r = COFFER_E_PROTO;
		goto out;
	}
	if (strcmp(pol, policy_hex) != 0) {
		r = coffer_errf(COFFER_E_PROTO, "the status of policy %.64s, not "
		    "the job's", pol);
		goto out;
	}
	for (i = 0; states[i] != NULL; i++)
		known |= strcmp(states[i], state) == 0;
	if (!known) {
		r = coffer_errf(COFFER_E_PROTO, "status.state: '%.40s' is not a "
		    "state", state);
		goto out;
	}
	if ((list = json_array()) == NULL || (v = json_pack("{s:s, s:b}", "state",
	    state, "active", active)) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	json_array_foreach(owners, i, o) {
		const char *fp = json_string_value(json_object_get(o, "fingerprint"));
		int approved, revoked;

		/* An owner in none of the lists (k of n were enough) has not
		 * approved: missing. */
		if (fp == NULL)
			continue;
		approved = lists(st, "approved_by", fp);
		revoked = approved < 0 ? approved : lists(st, "revoked_by", fp);
		if ((r = revoked < 0 ? revoked : lists(st, "missing", fp)) < 0)
			goto out;
		if (json_array_append_new(list, json_pack("{s:O, s:s, s:s}", "name",
		    json_object_get(o, "name"), "fingerprint", fp, "approval",
		    revoked ? "revoked" : approved ? "approved" : "missing")) != 0) {
			r = COFFER_E_NOMEM;
			goto out;
		}
	}
	if ((reason != NULL && json_object_set_new(v, "reason",
	    http_json_str(reason)) != 0) || (needed >= 0 &&
	    json_object_set_new(v, "needed", json_integer(needed)) != 0) ||
	    json_object_set(v, "owners", list) != 0) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	*view = v;
	v = NULL;
	r = 0;
out:
	json_decref(list);
	json_decref(v);
	json_decref(root);
	return r;
}

/* ------------------------------------------------------------------ */
/* Asking, on the event loop */

static void
failed(struct mgr_approvals *a, const char *what, const char *detail)
{
	snprintf(a->error, sizeof(a->error), "%s: %s", what, detail);
}

static void
on_answer(int r, int status, void *arg)
{
	struct mgr_job *j = arg;
	struct mgr_approvals *a = j->approvals;
	enum asking was = a->asking;
	json_t *got = NULL;
	char code[80], msg[400], field[128];

	a->asking = ASK_NONE;
	if (r != 0) {
		failed(a, r == COFFER_E_CONNECT ? "coordinator unreachable" :
		    "the coordinator's answer is not one", coffer_errdetail());
	} else if (status != 200) {
		mgr_conf_refusal(&a->reply, status, code, sizeof(code), msg,
		    sizeof(msg), field, sizeof(field));
		snprintf(a->error, sizeof(a->error), "the coordinator refused: %s%s%s",
		    code, msg[0] ? ": " : "", msg);
	} else if ((r = was == ASK_POLICY ?
	    mgr_approvals_owners(coffer_buf_str(&a->reply), a->reply.len,
	    j->spec.tee_policy, &got) :
	    mgr_approvals_view(a->owners, coffer_buf_str(&a->reply), a->reply.len,
	    j->spec.tee_policy, &got)) != 0) {
		failed(a, "the coordinator's answer is not one", coffer_errdetail());
	} else if (was == ASK_POLICY) {
		/* The status at once, on the next tick. */
		a->owners = got;
		a->next_ms = 0;
	} else {
		json_decref(a->view);
		a->view = got;
		a->answered_ms = coffer_wall_ms();
		a->error[0] = '\0';
	}
	coffer_errclear();
	coffer_buf_release(&a->reply);
}

void
mgr_approvals_tick(struct mgr *m, struct mgr_job *j)
{
	struct mgr_approvals *a = j->approvals;
	int64_t now = coffer_mono_ms();
	char path[128];
	int r;

	if (j->spec.tee_policy == NULL || j->spec.coordinator == NULL)
		return;
	if (a == NULL) {
		if ((a = coffer_calloc(1, sizeof(*a))) == NULL)
			return;
		j->approvals = a;
		/* The owners the submission read from the policy (checked
		 * against its hash there): no second fetch of a policy that
		 * lists every item (doc/manager.md 9.5). */
		a->owners = j->spec.tee_owners;
		j->spec.tee_owners = NULL;
	}
	if (a->asking != ASK_NONE || now < a->next_ms ||
	    (mgr_state_terminal(j->state) && (a->viewed_ms == 0 ||
	    now - a->viewed_ms > MGR_APPROVALS_VIEWED_MS)))
		return;
	a->next_ms = now + MGR_APPROVALS_REFRESH_MS;
	if (a->http == NULL && (r = http_client_new_on(m->base,
	    j->spec.coordinator, m->cfg.coordinator_timeout_ms <
	    MGR_APPROVALS_TIMEOUT_MS ? m->cfg.coordinator_timeout_ms :
	    MGR_APPROVALS_TIMEOUT_MS, &a->http)) != 0) {
		failed(a, "coordinator unreachable", coffer_errdetail());
		coffer_errclear();
		return;
	}
	snprintf(path, sizeof(path), "/v1/policies/%s%s", j->spec.tee_policy,
	    a->owners == NULL ? "" : "/status");
	coffer_buf_init(&a->reply, a->owners == NULL ? POLICY_MAX : STATUS_MAX);
	if ((r = http_client_start(a->http, "GET", path, NULL, 0, a->reply.max,
	    &a->reply, on_answer, j)) != 0) {
		failed(a, "coordinator unreachable", coffer_errdetail());
		coffer_errclear();
		return;
	}
	a->asking = a->owners == NULL ? ASK_POLICY : ASK_STATUS;
}

void
mgr_approvals_viewed(struct mgr_job *j)
{
	if (j->approvals != NULL)
		j->approvals->viewed_ms = coffer_mono_ms();
}

json_t *
mgr_approvals_json(const struct mgr_job *j)
{
	const struct mgr_approvals *a = j->approvals;
	json_t *o;
	char t[32];

	if (a == NULL || a->view == NULL)
		o = json_pack("{s:n}", "answered_at");
	else {
		coffer_time_format(a->answered_ms / 1000, t, sizeof(t));
		o = json_pack("{s:s}", "answered_at", t);
		if (o != NULL && json_object_update(o, a->view) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	if (o != NULL && a != NULL && a->error[0] != '\0' &&
	    json_object_set_new(o, "error", http_json_str(a->error)) != 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

void
mgr_approvals_free(struct mgr_job *j)
{
	struct mgr_approvals *a = j->approvals;

	if (a == NULL)
		return;
	http_client_free(a->http);
	coffer_buf_release(&a->reply);
	json_decref(a->owners);
	json_decref(a->view);
	free(a);
	j->approvals = NULL;
}
