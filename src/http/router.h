/* SPDX-License-Identifier: Apache-2.0 */
/* Routes as data: a table of {method, path pattern, handler, scope, max
 * body} rows and the matcher that picks a row for a request (doc/api.md). */
#ifndef COFFER_HTTP_ROUTER_H
#define COFFER_HTTP_ROUTER_H

#include <stddef.h>

/* What a bearer token may do. A route needs at least its scope. */
enum http_scope {
	HTTP_SCOPE_NONE = 0,  /* no token needed (only /healthz) */
	HTTP_SCOPE_READ = 1,  /* GET routes, /metrics */
	HTTP_SCOPE_ADMIN = 2, /* submit, stop, delete */
};

struct http_req;
typedef void (*http_handler_fn)(struct http_req *r);

/*
 * One route. pattern is an absolute path whose segments are literals or
 * "{name}" parameters; a parameter matches one non-empty segment of
 * [A-Za-z0-9_.-] (job ids), so no decoding is ever needed.
 */
struct http_route {
	const char *method;   /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern;  /* "/v1/jobs/{id}/timeline" */
	http_handler_fn handler;
	enum http_scope scope;
	size_t max_body;      /* bytes; 0: no body allowed */
};

#define HTTP_ROUTE_MAX_PARAMS 4
#define HTTP_ROUTE_PARAM_MAX 64

struct http_route_match {
	const struct http_route *route;
	size_t nparams;
	struct {
		char name[32];
		char value[HTTP_ROUTE_PARAM_MAX + 1];
	} params[HTTP_ROUTE_MAX_PARAMS];
};

enum http_route_result {
	HTTP_ROUTE_FOUND = 0,
	HTTP_ROUTE_NOT_FOUND = 1,   /* no pattern matches the path: 404 */
	HTTP_ROUTE_BAD_METHOD = 2,  /* a pattern matches, not the method: 405 */
};

/*
 * Find the route for method and path (path without the query string) in
 * table[0..n). On HTTP_ROUTE_FOUND *m is filled. On HTTP_ROUTE_BAD_METHOD,
 * allow gets the comma-separated methods the path supports ("GET, DELETE")
 * for the Allow header. HEAD matches a GET route.
 */
enum http_route_result http_route_find(const struct http_route *table, size_t n,
    const char *method, const char *path, struct http_route_match *m,
    char *allow, size_t allowlen);

/* The value of parameter name in m, or NULL. */
const char *http_route_param(const struct http_route_match *m, const char *name);

/* 1 if s is a valid path parameter value (1-64 chars of [A-Za-z0-9_.-]). */
int http_route_valid_param(const char *s, size_t len);

#endif
