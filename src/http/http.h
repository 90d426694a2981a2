/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP server of Coffer's daemons (manager, coordinator) on libevent's
 * evhttp: routing through the route table, bearer-token checks, body
 * limits, JSON replies and errors, optional TLS, and per-route request
 * counters for /metrics. */
#ifndef COFFER_HTTP_HTTP_H
#define COFFER_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http/router.h"

struct event_base;
struct evhttp_request;
struct http_server;

struct http_server_opts {
	const char *listen;    /* "127.0.0.1:8080", "[::1]:8080"; port 0 picks one */
	const char *tls_cert;  /* PEM certificate chain; NULL: plain HTTP */
	const char *tls_key;   /* PEM private key; required with tls_cert */
	size_t max_body;       /* connection-level cap on a body; above it
	                          libevent itself answers 413 */
	int timeout_s;         /* read/write timeout per connection; 0 = 30 */
	const struct http_route *routes;
	size_t nroutes;
	/*
	 * Check a presented bearer token: 0 and *scope set if it is known,
	 * COFFER_E_AUTH if not, another code on an internal failure (500).
	 */
	int (*auth)(void *ctx, const char *token, enum http_scope *scope);
	void *ctx;             /* given to auth and to handlers as r->ctx */
};

/* Start listening. Errors: COFFER_E_INVAL (bad listen address or TLS
 * options), COFFER_E_IO (bind failed), COFFER_E_CRYPTO (TLS setup). */
int http_server_new(struct event_base *base, const struct http_server_opts *o,
    struct http_server **out) __attribute__((warn_unused_result));
/* Stop listening and free. NULL is a no-op. */
void http_server_free(struct http_server *h);
/* The bound port (useful with port 0). */
int http_server_port(const struct http_server *h);
int http_server_is_tls(const struct http_server *h);
/* The URL clients reach h at ("http://127.0.0.1:8600"), from the listen
 * address it was started with: a wildcard host (0.0.0.0, [::], none)
 * becomes loopback, and the port is the bound one. */
void http_server_url(const struct http_server *h, const char *listen,
    char *out, size_t outlen);

/* Request counters: fn is called once per (route, method, code) seen.
 * route is the matched pattern, or "unmatched". */
void http_server_foreach_count(const struct http_server *h,
    void (*fn)(const char *route, const char *method, int code, uint64_t n,
    void *arg), void *arg);

/* One request, as handlers see it. */
struct http_req {
	struct evhttp_request *ev;
	struct http_server *http;
	void *ctx;                    /* http_server_opts.ctx */
	struct http_route_match match; /* route and path parameters */
	const char *method;
	const char *path;
	const char *query;            /* raw query string or NULL */
	const char *body;             /* NUL-terminated; "" when empty */
	size_t body_len;
	enum http_scope scope;         /* the token's */
	int replied;
};

/* A path parameter ("id"), never NULL for a parameter of the route. */
const char *http_req_param(const struct http_req *r, const char *name);

/* The value of query parameter key, decoded, in out (outlen bytes): 1 if
 * present, 0 if absent, -1 if malformed or too long. */
int http_req_query(const struct http_req *r, const char *key, char *out,
    size_t outlen);

/*
 * Parse the body as a JSON object with the project's strict parser. On
 * failure replies 400 (invalid_json, or bad_request for a non-object) and
 * returns non-zero: the handler just returns.
 */
int http_req_json(struct http_req *r, json_t **out);

/* Reply with body as JSON (the reference is stolen; NULL: empty body). */
void http_reply_json(struct http_req *r, int status, json_t *body);
/* Reply {"error": {"code": code, "message": ..., "field": field}}; field
 * may be NULL. */
void http_reply_error(struct http_req *r, int status, const char *code,
    const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Map a coffer error and its detail to a reply: FORMAT/INVAL -> 400 (with
 * the field named by the detail), NOTFOUND -> 404, POLICY -> 403
 * forbidden (with the field), STATE/EXISTS -> 409,
 * LIMIT -> 413 or 400, others -> 500. */
void http_reply_coffer_err(struct http_req *r, int err);
void http_reply_text(struct http_req *r, int status, const char *content_type,
    const char *text, size_t len);

/*
 * The field a coffer error detail names: "plugin_info.min_rep: expected an
 * integer" -> "plugin_info.min_rep". Writes "" when the detail does not
 * start with a field path.
 */
void http_detail_field(const char *detail, char *field, size_t fieldlen);

#endif
