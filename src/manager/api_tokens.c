// SPDX-License-Identifier: Apache-2.0
// Handlers of /v1/tokens (doc/api.md section 8): list, create and revoke
// the manager's bearer tokens over the API, as `coffer token` does. A
// revoked token is refused from the next request on (every request looks
// the token up in the store).
#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/num.h"
#include "http/jsonout.h"
#include "manager/api.h"
#include "manager/mgr.h"
#include "manager/tokens.h"

static void
add_token(int64_t id, const char *name, const char *scope, int64_t created_ms,
    void *arg)
{
	json_t *arr = arg;
	char t[32];

	coffer_time_format(created_ms / 1000, t, sizeof(t));
	json_array_append_new(arr, json_pack("{s:I, s:o, s:s, s:s}", "id",
	    (json_int_t)id, "name", http_json_str(name), "scope", scope,
	    "created_at", t));
}

void
api_token_list(struct http_req *r)
{
	struct mgr *m = r->ctx;
	json_t *arr = json_array();
	int e;

	if (arr == NULL || (e = mgr_db_token_list(m->db, add_token, arr)) != 0) {
		json_decref(arr);
		http_reply_coffer_err(r, arr == NULL ? COFFER_E_NOMEM : e);
		return;
	}
	http_reply_json(r, 200, json_pack("{s:o}", "tokens", arr));
}

void
api_token_create(struct http_req *r)
{
	static const char *const keys[] = { "name", "scope", NULL };
	struct mgr *m = r->ctx;
	json_t *body = NULL, *reply;
	const char *name = "token", *scope = "read";
	char tok[MGR_TOKEN_STR_LEN];
	int64_t id = 0;
	enum http_scope sc;
	int e;

	if (http_req_json(r, &body) != 0)
		return;
	if ((e = coffer_json_check_keys(body, NULL, keys)) != 0 ||
	    (e = coffer_json_get_str(body, NULL, "name", 0, &name)) != 0 ||
	    (e = coffer_json_get_str(body, NULL, "scope", 0, &scope)) != 0)
		goto fail;
	if (strcmp(scope, "admin") != 0 && strcmp(scope, "read") != 0) {
		e = coffer_errf(COFFER_E_FORMAT, "scope: '%s' is not admin or read",
		    scope);
		goto fail;
	}
	if (name[0] == '\0' || strlen(name) > 128) {
		e = coffer_errf(COFFER_E_FORMAT, "name: 1 to 128 characters");
		goto fail;
	}
	sc = strcmp(scope, "admin") == 0 ? HTTP_SCOPE_ADMIN : HTTP_SCOPE_READ;
	if ((e = mgr_token_create(m->db, name, sc, tok)) != 0 ||
	    (e = mgr_token_find(m->db, tok, &id, NULL, 0, &sc)) != 0)
		goto fail;
	/* Shown once: only its digest is kept. */
	reply = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "name",
	    name, "scope", scope, "token", tok);
	explicit_bzero(tok, sizeof(tok));
	json_decref(body);
	http_reply_json(r, 201, reply);
	return;
fail:
	json_decref(body);
	http_reply_coffer_err(r, e);
}

void
api_token_revoke(struct http_req *r)
{
	struct mgr *m = r->ctx;
	int64_t id = 0;
	int e;

	if (coffer_parse_i64(http_req_param(r, "id"), 1, INT64_MAX, &id) != 0) {
		http_reply_error(r, 404, "not_found", "id", "no token '%s'",
		    http_req_param(r, "id"));
		return;
	}
	if ((e = mgr_db_token_revoke(m->db, id)) != 0) {
		if (e == COFFER_E_NOTFOUND)
			http_reply_error(r, 404, "not_found", "id", "no token %lld",
			    (long long)id);
		else
			http_reply_coffer_err(r, e);
		return;
	}
	http_reply_json(r, 204, NULL);
}
