/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP server of Coffer's daemons (manager, coordinator): a small
 * HTTP/1.1 server on libevent bufferevents (doc/http.md says why not
 * evhttp, with measurements): routing through the route table, bearer
 * tokens checked before a body is read, per-route body limits, connection
 * caps overall and per client address, deadlines for the headers and for
 * the whole body, JSON replies and errors, optional TLS, and per-route
 * request counters for /metrics. */
#ifndef COFFER_HTTP_HTTP_H
#define COFFER_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http/request.h"
#include "http/router.h"

struct bufferevent;
struct event_base;
struct http_server;
struct http_conn;

/* TLS for a listener, given in the options with a certificate: the
 * OpenSSL one is http_tls_openssl (http/tls.c). A table rather than calls
 * so that a binary that serves plain HTTP only (the coordinator) links no
 * TLS code and loads no libssl. setup() makes a context from PEM files
 * (COFFER_E_INVAL naming the file, COFFER_E_CRYPTO); wrap() makes an
 * accepting bufferevent on fd that closes it when freed (NULL on failure,
 * fd left open); free() frees a context. */
struct http_tls {
	int (*setup)(void **ctx, const char *cert, const char *key);
	struct bufferevent *(*wrap)(void *ctx, struct event_base *base, int fd);
	void (*free)(void *ctx);
};
extern const struct http_tls http_tls_openssl;

/* Defaults of the limits below (doc/http.md section 2). */
#define HTTP_DEFAULT_MAX_CONNS 256
#define HTTP_DEFAULT_MAX_CONNS_PER_CLIENT 32
#define HTTP_DEFAULT_HEADER_TIMEOUT_MS 10000
#define HTTP_DEFAULT_BODY_TIMEOUT_MS 30000
#define HTTP_DEFAULT_WRITE_TIMEOUT_MS 30000
#define HTTP_DEFAULT_BODY_BUDGET ((size_t)16 << 20)

struct http_server_opts {
	const char *listen;    /* "127.0.0.1:8080", "[::1]:8080"; port 0 picks one */
	const char *tls_cert;  /* PEM certificate chain; NULL: plain HTTP */
	const char *tls_key;   /* PEM private key; required with tls_cert */
	const struct http_tls *tls; /* required with tls_cert:
	                               &http_tls_openssl */
	size_t max_body;       /* unused (kept for source compatibility): each
	                          route's max_body applies, before any byte of
	                          the body is read */
	int timeout_s;         /* unused (kept for source compatibility) */
	/* Limits; 0 takes the default above. */
	int max_conns;             /* open connections in all */
	int max_conns_per_client;  /* open connections per client address */
	int header_timeout_ms;     /* connect (or end of the previous reply) to
	                              the end of the request's head */
	int body_timeout_ms;       /* end of the head to the end of the body */
	int write_timeout_ms;      /* a reply must be taken within this */
	size_t body_budget;        /* bytes of request bodies being read at
	                              once, over all connections */
	const struct http_route *routes;
	size_t nroutes;
	/*
	 * Check a presented bearer token: 0 and *scope set if it is known,
	 * COFFER_E_AUTH if not, another code on an internal failure (500).
	 * Called once the head has arrived, before the body is read.
	 */
	int (*auth)(void *ctx, const char *token, enum http_scope *scope);
	void *ctx;             /* given to auth and to handlers as r->ctx */
	/* Called before every route's handler, with the request the handler
	 * is given (the coordinator makes pending item proofs durable there
	 * before any other route reads the state); NULL: none. */
	void (*before)(struct http_req *r);
};

/* Start listening. Errors: COFFER_E_INVAL (bad listen address or TLS
 * options), COFFER_E_EXISTS (the address is in use: the detail says so),
 * COFFER_E_IO (another bind or listen failure), COFFER_E_CRYPTO (TLS
 * setup). */
int http_server_new(struct event_base *base, const struct http_server_opts *o,
    struct http_server **out) __attribute__((warn_unused_result));
/* Stop listening, close every connection and free. NULL is a no-op. */
void http_server_free(struct http_server *h);
/*
 * Before http_server_free, when a daemon stops: stop listening, close the
 * connections that have no reply to write (idle, half-read, or a deferred
 * request still unanswered), and run the event loop until the replies
 * already given (a held request's "the daemon is stopping") are written,
 * or ms pass. Without it those replies die in their buffers when the
 * connections are freed, and a client sees the connection close with no
 * answer. Other events of the loop run meanwhile: stop what must not run
 * first. NULL is a no-op.
 */
void http_server_drain(struct http_server *h, int ms);
/* The bound port (useful with port 0). */
int http_server_port(const struct http_server *h);
int http_server_is_tls(const struct http_server *h);
/* The URL clients reach h at ("http://127.0.0.1:8600"), from the listen
 * address it was started with: a wildcard host (0.0.0.0, [::], none)
 * becomes loopback, and the port is the bound one. */
void http_server_url(const struct http_server *h, const char *listen,
    char *out, size_t outlen);

/* Request counters: fn is called once per (route, method, code) seen.
 * route is the matched pattern, or "unmatched" (also for requests refused
 * before routing: malformed, over a cap, timed out). */
void http_server_foreach_count(const struct http_server *h,
    void (*fn)(const char *route, const char *method, int code, uint64_t n,
    void *arg), void *arg);

/* Connection figures, for /metrics. */
struct http_server_stats {
	uint64_t open;              /* connections open now */
	uint64_t accepted;          /* since start */
	uint64_t refused_cap;       /* refused (503): a connection cap was reached */
	uint64_t header_timeouts;   /* closed: the head did not arrive in time */
	uint64_t body_timeouts;     /* closed: the body did not arrive in time */
	uint64_t write_timeouts;    /* closed: the client did not take a reply */
	uint64_t body_bytes_now;    /* bytes of bodies being read now */
};
void http_server_stats(const struct http_server *h, struct http_server_stats *st);

/* One request, as handlers see it. */
struct http_req {
	struct http_conn *conn;       /* the server's */
	struct http_server *http;
	void *ctx;                    /* http_server_opts.ctx */
	struct http_route_match match; /* route and path parameters */
	const struct http_head *head;  /* method, path, headers */
	const char *method;
	const char *path;
	const char *query;            /* raw query string or NULL */
	const char *body;             /* NUL-terminated; "" when empty */
	size_t body_len;
	enum http_scope scope;         /* the token's (NONE on open routes) */
	int token_presented;          /* an Authorization header was sent */
	int replied;
	int deferred;                 /* http_req_defer() was called */
};

/* A path parameter ("id"), never NULL for a parameter of the route. */
const char *http_req_param(const struct http_req *r, const char *name);

/* A request header (case-insensitive name), or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);

/* The value of query parameter key, percent-decoded ('+' is a space; %00
 * and bad escapes are malformed, lib/pct.h), in out (outlen bytes): 1 if
 * present, 0 if absent, -1 if malformed or too long. */
int http_req_query(const struct http_req *r, const char *key, char *out,
    size_t outlen);
/* Query parameter key as a decimal integer in [min, max] (0 <= min): ASCII
 * digits only, no sign, no space, no leading zero ("0" alone is zero), so
 * that each value has one spelling (doc/http.md section 3). 1 and
 * *out if present and valid; 0 if absent (*out untouched); -1 if
 * malformed, out of range or over 19 digits. */
int http_req_query_int(const struct http_req *r, const char *key,
    int64_t min, int64_t max, int64_t *out);

/*
 * Parse the body as a JSON object with the project's strict parser. On
 * failure replies (415 unsupported_media_type when the request names a
 * Content-Type other than JSON; 400 invalid_json, or bad_request for a
 * non-object) and returns non-zero: the handler just returns.
 */
int http_req_json(struct http_req *r, json_t **out);

/* Add a header to the reply (before the reply is sent): Location,
 * WWW-Authenticate, Allow, ... At most 8; name and value are copied. */
void http_reply_header(struct http_req *r, const char *name, const char *value);
/* Reply with body as JSON (the reference is stolen; NULL: empty body). */
void http_reply_json(struct http_req *r, int status, json_t *body);
/* Reply {"error": {"code": code, "message": ..., "field": field}}; field
 * may be NULL. */
void http_reply_error(struct http_req *r, int status, const char *code,
    const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/*
 * Reply 400 with every error of a request body at once:
 * {"error": {"code": code, "message": <the first>, "field": <the first's>,
 *  "errors": [{"field": ..., "message": ...}, ...]}}. errors is a JSON
 * array of such objects (stolen); it must not be empty.
 */
void http_reply_errors(struct http_req *r, int status, const char *code,
    json_t *errors);
/* Map a coffer error and its detail to a reply: FORMAT/INVAL -> 400 (with
 * the field named by the detail), NOTFOUND -> 404, POLICY -> 403
 * forbidden (with the field), STATE/EXISTS -> 409,
 * LIMIT -> 413 or 400, others -> 500. */
void http_reply_coffer_err(struct http_req *r, int err);
void http_reply_text(struct http_req *r, int status, const char *content_type,
    const char *text, size_t len);

/*
 * Deferred answers (doc/http.md section 5): a handler that can answer only
 * later (the coordinator's item proofs wait for a disk flush shared with
 * other requests) calls http_req_defer(r) and returns without replying.
 * The request it returns outlives the handler: answer it later with
 * exactly one http_reply_* call, then free it with http_req_done(). Until
 * then its connection reads nothing more and has no deadline. It keeps
 * the method, the path, the route's parameters, the scope and ctx; the
 * body is gone (body "", body_len 0), and the head (headers, query) only
 * lasts while the client is connected. If the client went away or the
 * server was freed in between, the answer is dropped and both calls
 * still free what they must. Returns NULL if out of memory (r is then
 * still the handler's to answer) or if r was answered or deferred.
 */
struct http_req *http_req_defer(struct http_req *r)
	__attribute__((warn_unused_result));
/* Free a deferred request; one that was not answered is answered 500
 * first (not one whose client went away: see below). NULL is a no-op. */
void http_req_done(struct http_req *d);
/*
 * Have fn(d, arg) called, once, if d's client goes away (its connection
 * closes) before d is answered, so that the daemon frees what it holds
 * for d at once instead of at its deadline. fn owns d then: it answers
 * nothing (nobody is left to read it) and must end with http_req_done(d).
 * Not called when the server is freed (http_server_free), nor on a
 * libevent backend without EV_FEATURE_EARLY_CLOSE (epoll has it): the
 * client's leaving is then noticed only when the answer is written.
 */
void http_req_on_gone(struct http_req *d,
    void (*fn)(struct http_req *d, void *arg), void *arg);

/*
 * The field a coffer error detail names: "plugin_info.min_rep: expected an
 * integer" -> "plugin_info.min_rep". Writes "" when the detail does not
 * start with a field path.
 */
void http_detail_field(const char *detail, char *field, size_t fieldlen);

#endif
