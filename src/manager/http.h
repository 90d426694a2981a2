/* SPDX-License-Identifier: Apache-2.0 */
/* The manager's HTTP server on libevent's evhttp: routing through the route
 * table, bearer-token checks, body limits, JSON replies and errors, optional
 * TLS, and per-route request counters for /metrics. */
#ifndef COFFER_MANAGER_HTTP_H
#define COFFER_MANAGER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "manager/router.h"

struct event_base;
struct evhttp_request;
struct mgr_http;

struct mgr_http_opts {
	const char *listen;    /* "127.0.0.1:8080", "[::1]:8080"; port 0 picks one */
	const char *tls_cert;  /* PEM certificate chain; NULL: plain HTTP */
	const char *tls_key;   /* PEM private key; required with tls_cert */
	size_t max_body;       /* connection-level cap on a body; above it
	                          libevent itself answers 413 */
	int timeout_s;         /* read/write timeout per connection; 0 = 30 */
	const struct mgr_route *routes;
	size_t nroutes;
	/*
	 * Check a presented bearer token: 0 and *scope set if it is known,
	 * COFFER_E_AUTH if not, another code on an internal failure (500).
	 */
	int (*auth)(void *ctx, const char *token, enum mgr_scope *scope);
	void *ctx;             /* given to auth and to handlers as r->ctx */
};

/* Start listening. Errors: COFFER_E_INVAL (bad listen address or TLS
 * options), COFFER_E_IO (bind failed), COFFER_E_CRYPTO (TLS setup). */
int mgr_http_new(struct event_base *base, const struct mgr_http_opts *o,
    struct mgr_http **out) __attribute__((warn_unused_result));
/* Stop listening and free. NULL is a no-op. */
void mgr_http_free(struct mgr_http *h);
/* The bound port (useful with port 0). */
int mgr_http_port(const struct mgr_http *h);
int mgr_http_is_tls(const struct mgr_http *h);

/* Request counters: fn is called once per (route, method, code) seen.
 * route is the matched pattern, or "unmatched". */
void mgr_http_foreach_count(const struct mgr_http *h,
    void (*fn)(const char *route, const char *method, int code, uint64_t n,
    void *arg), void *arg);

/* One request, as handlers see it. */
struct mgr_req {
	struct evhttp_request *ev;
	struct mgr_http *http;
	void *ctx;                    /* mgr_http_opts.ctx */
	struct mgr_route_match match; /* route and path parameters */
	const char *method;
	const char *path;
	const char *query;            /* raw query string or NULL */
	const char *body;             /* NUL-terminated; "" when empty */
	size_t body_len;
	enum mgr_scope scope;         /* the token's */
	int replied;
};

/* A path parameter ("id"), never NULL for a parameter of the route. */
const char *mgr_req_param(const struct mgr_req *r, const char *name);

/* The value of query parameter key, decoded, in out (outlen bytes): 1 if
 * present, 0 if absent, -1 if malformed or too long. */
int mgr_req_query(const struct mgr_req *r, const char *key, char *out,
    size_t outlen);

/*
 * Parse the body as a JSON object with the project's strict parser. On
 * failure replies 400 (invalid_json, or bad_request for a non-object) and
 * returns non-zero: the handler just returns.
 */
int mgr_req_json(struct mgr_req *r, json_t **out);

/* Reply with body as JSON (the reference is stolen; NULL: empty body). */
void mgr_reply_json(struct mgr_req *r, int status, json_t *body);
/* Reply {"error": {"code": code, "message": ..., "field": field}}; field
 * may be NULL. */
void mgr_reply_error(struct mgr_req *r, int status, const char *code,
    const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Map a coffer error and its detail to a reply: FORMAT/INVAL -> 400 (with
 * the field named by the detail), NOTFOUND -> 404, POLICY -> 403
 * forbidden (with the field), STATE/EXISTS -> 409,
 * LIMIT -> 413 or 400, others -> 500. */
void mgr_reply_coffer_err(struct mgr_req *r, int err);
void mgr_reply_text(struct mgr_req *r, int status, const char *content_type,
    const char *text, size_t len);

/*
 * The field a coffer error detail names: "plugin_info.min_rep: expected an
 * integer" -> "plugin_info.min_rep". Writes "" when the detail does not
 * start with a field path.
 */
void mgr_detail_field(const char *detail, char *field, size_t fieldlen);

#endif
