/* SPDX-License-Identifier: Apache-2.0 */
/* Routes as data: a table of {method, path pattern, handler, scope, max
 * body} rows and the matcher that picks a row for a request (doc/api.md). */
#ifndef COFFER_MANAGER_ROUTER_H
#define COFFER_MANAGER_ROUTER_H

#include <stddef.h>

/* What a bearer token may do. A route needs at least its scope. */
enum mgr_scope {
	MGR_SCOPE_NONE = 0,  /* no token needed (only /healthz) */
	MGR_SCOPE_READ = 1,  /* GET routes, /metrics */
	MGR_SCOPE_ADMIN = 2, /* submit, stop, delete */
};

struct mgr_req;
typedef void (*mgr_handler_fn)(struct mgr_req *r);

/*
 * One route. pattern is an absolute path whose segments are literals or
 * "{name}" parameters; a parameter matches one non-empty segment of
 * [A-Za-z0-9_.-] (job ids), so no decoding is ever needed.
 */
struct mgr_route {
	const char *method;   /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern;  /* "/v1/jobs/{id}/timeline" */
	mgr_handler_fn handler;
	enum mgr_scope scope;
	size_t max_body;      /* bytes; 0: no body allowed */
};

#define MGR_ROUTE_MAX_PARAMS 4
#define MGR_ROUTE_PARAM_MAX 64

struct mgr_route_match {
	const struct mgr_route *route;
	size_t nparams;
	struct {
		char name[32];
		char value[MGR_ROUTE_PARAM_MAX + 1];
	} params[MGR_ROUTE_MAX_PARAMS];
};

enum mgr_route_result {
	MGR_ROUTE_FOUND = 0,
	MGR_ROUTE_NOT_FOUND = 1,   /* no pattern matches the path: 404 */
	MGR_ROUTE_BAD_METHOD = 2,  /* a pattern matches, not the method: 405 */
};

/*
 * Find the route for method and path (path without the query string) in
 * table[0..n). On MGR_ROUTE_FOUND *m is filled. On MGR_ROUTE_BAD_METHOD,
 * allow gets the comma-separated methods the path supports ("GET, DELETE")
 * for the Allow header. HEAD matches a GET route.
 */
enum mgr_route_result mgr_route_find(const struct mgr_route *table, size_t n,
    const char *method, const char *path, struct mgr_route_match *m,
    char *allow, size_t allowlen);

/* The value of parameter name in m, or NULL. */
const char *mgr_route_param(const struct mgr_route_match *m, const char *name);

/* 1 if s is a valid path parameter value (1-64 chars of [A-Za-z0-9_.-]). */
int mgr_route_valid_param(const char *s, size_t len);

#endif
