/* SPDX-License-Identifier: Apache-2.0 */
/* An HTTP/1.1 client on libevent's evhttp, for the worker's calls to the
 * coordinator (doc/worker.md section 9), blocking, and the manager's,
 * blocking or on its event loop. Plain HTTP only: what matters is
 * protected at the application layer (wrapped keys, MACs, evidence), not
 * by the channel. One connection, kept alive between a blocking client's
 * requests; every answer is bounded in size and time. */
#ifndef COFFER_HTTP_CLIENT_H
#define COFFER_HTTP_CLIENT_H

#include <stddef.h>

#include "lib/buf.h"

struct event_base;
struct http_client;

/*
 * A client for url, "http://HOST[:PORT]" (port 80 by default; a trailing
 * '/' is allowed, nothing else after the authority). timeout_ms bounds each
 * request (connect, send, answer). Errors: COFFER_E_INVAL (not such a
 * URL), COFFER_E_NOMEM.
 */
int http_client_new(const char *url, int timeout_ms, struct http_client **out)
	__attribute__((warn_unused_result));

/* Change the bound of the next requests (and of the kept connection):
 * the worker's start waits less than its proofs (doc/worker.md 9.3).
 * timeout_ms <= 0 is 30 s. */
void http_client_set_timeout(struct http_client *c, int timeout_ms);

/*
 * One request: method "GET" or "POST", path starting with '/', a JSON body
 * (NULL, 0 for none). The answer's body is appended to reply (at most
 * max_reply bytes) and its status written to *status, whatever the status.
 * Errors: COFFER_E_CONNECT (cannot connect, connection lost, timed out),
 * COFFER_E_LIMIT (an answer over max_reply), COFFER_E_PROTO (not HTTP),
 * COFFER_E_NOMEM. The connection is re-established by the next request
 * after a failure.
 */
int http_client_request(struct http_client *c, const char *method,
    const char *path, const void *body, size_t len, size_t max_reply,
    int *status, struct coffer_buf *reply) __attribute__((warn_unused_result));
/* The same with the body's Content-Type (NULL: application/json), e.g.
 * "application/octet-stream" for a binary proof batch. */
int http_client_request_type(struct http_client *c, const char *method,
    const char *path, const char *ctype, const void *body, size_t len,
    size_t max_reply, int *status, struct coffer_buf *reply)
	__attribute__((warn_unused_result));

/*
 * An asynchronous client for url (as http_client_new) whose requests run on
 * base, the caller's loop: http_client_start returns at once and done is
 * called from that loop. Each request on a connection of its own
 * (Connection: close): no idle connection is held at the server between
 * requests made seconds apart.
 */
int http_client_new_on(struct event_base *base, const char *url,
    int timeout_ms, struct http_client **out) __attribute__((warn_unused_result));

/* The end of an asynchronous request: r and status as http_client_request
 * returns them (the body is in the reply given to http_client_start; the
 * error's detail in coffer_errdetail()). It must neither free the client
 * nor start a request on it. */
typedef void (*http_client_done_fn)(int r, int status, void *arg);

/*
 * Send one request on an asynchronous client, one at a time; reply must
 * live until done is called. An error returned here means done will not be
 * called. http_client_free cancels a request in flight (done is not
 * called).
 */
int http_client_start(struct http_client *c, const char *method,
    const char *path, const void *body, size_t len, size_t max_reply,
    struct coffer_buf *reply, http_client_done_fn done, void *arg)
	__attribute__((warn_unused_result));

/* NULL is a no-op. */
void http_client_free(struct http_client *c);

#endif
