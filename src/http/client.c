// SPDX-License-Identifier: Apache-2.0
// The HTTP client of http/client.h: libevent parses the answers (the same
// evhttp code the daemons' server runs). A blocking client has a private
// event base, so it never touches a caller's loop, and turns the answer's
// callback into a return value; an asynchronous one (http_client_new_on)
// runs on the caller's base and hands the answer to the caller's callback.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "coffer/error.h"
#include "http/client.h"
#include "lib/mem.h"

/* What the callbacks found of the request in flight. */
struct exchange {
	size_t max_reply;
	struct coffer_buf *reply;
	int done, status, r;
	enum evhttp_request_error why;
	int failed;
	int starting;               /* inside evhttp_make_request */
	http_client_done_fn fn;     /* asynchronous: the caller's callback */
	void *arg;
};

struct http_client {
	struct event_base *base;
	int own_base;               /* the blocking client's private base */
	struct evhttp_connection *conn;
	int stale;                  /* the last request failed: a fresh
	                               connection for the next one */
	char host[256];
	unsigned port;
	int timeout_ms;
	struct exchange x;          /* one request at a time */
};

static int
parse_url(const char *url, char *host, size_t hostlen, unsigned *port)
{
	const char *p, *end;
	size_t n;

	if (strncmp(url, "http://", 7) != 0)
		return coffer_errf(COFFER_E_INVAL, "coordinator URL '%.200s': only"
		    " http://HOST[:PORT]", url);
	p = url + 7;
	n = strcspn(p, ":/");
	if (n == 0 || n >= hostlen)
		return coffer_errf(COFFER_E_INVAL, "coordinator URL '%.200s': no host",
		    url);
	memcpy(host, p, n);
	host[n] = '\0';
	p += n;
	*port = 80;
	if (*p == ':') {
		unsigned long v = strtoul(p + 1, (char **)&end, 10);

		if (end == p + 1 || v == 0 || v > 65535 || p[1] < '0' || p[1] > '9')
			return coffer_errf(COFFER_E_INVAL, "coordinator URL '%.200s': bad"
			    " port", url);
		*port = (unsigned)v;
		p = end;
	}
	if (!(p[0] == '\0' || (p[0] == '/' && p[1] == '\0')))
		return coffer_errf(COFFER_E_INVAL, "coordinator URL '%.200s': nothing"
		    " may follow the host and port", url);
	for (const char *h = host; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		    (*h >= '0' && *h <= '9') || *h == '.' || *h == '-'))
			return coffer_errf(COFFER_E_INVAL, "coordinator URL '%.200s': bad"
			    " host", url);
	return 0;
}

/* A client on base, or on a private base of its own when base is NULL. */
static int
client_new(struct event_base *base, const char *url, int timeout_ms,
    struct http_client **out)
{
	struct http_client *c = coffer_calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return coffer_errf(COFFER_E_NOMEM, "http client");
	if ((r = parse_url(url, c->host, sizeof(c->host), &c->port)) != 0) {
		free(c);
		return r;
	}
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	c->own_base = base == NULL;
	if ((c->base = base != NULL ? base : event_base_new()) == NULL) {
		free(c);
		return coffer_errf(COFFER_E_NOMEM, "http client: event base");
	}
	*out = c;
	return 0;
}

int
http_client_new(const char *url, int timeout_ms, struct http_client **out)
{
	return client_new(NULL, url, timeout_ms, out);
}

int
http_client_new_on(struct event_base *base, const char *url, int timeout_ms,
    struct http_client **out)
{
	return client_new(base, url, timeout_ms, out);
}

void
http_client_set_timeout(struct http_client *c, int timeout_ms)
{
	struct timeval tv;

	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	if (c->conn != NULL)
		evhttp_connection_set_timeout_tv(c->conn, &tv);
}

/* Not called for a refused connection (evhttp then calls on_done only):
 * x.failed tells a timeout (why 0) from that. */
static void
on_error(enum evhttp_request_error why, void *arg)
{
	struct http_client *c = arg;

	c->x.failed = 1;
	c->x.why = why;
}

/* The answer (or its failure) into c->x. */
static int
take_answer(struct http_client *c, struct evhttp_request *req)
{
	struct exchange *x = &c->x;
	struct evbuffer *in;
	size_t n;

	if (req == NULL || x->failed || evhttp_request_get_response_code(req) == 0)
		return x->why == EVREQ_HTTP_DATA_TOO_LONG ?
		    coffer_errf(COFFER_E_LIMIT, "http://%s:%u: the answer is larger"
		    " than %zu bytes", c->host, c->port, x->max_reply) :
		    x->why == EVREQ_HTTP_INVALID_HEADER ?
		    coffer_errf(COFFER_E_PROTO, "http://%s:%u: not an HTTP answer",
		    c->host, c->port) :
		    coffer_errf(COFFER_E_CONNECT, "http://%s:%u: %s", c->host,
		    c->port, x->failed && x->why == EVREQ_HTTP_TIMEOUT ?
		    "timed out" : "connection failed or closed");
	x->status = evhttp_request_get_response_code(req);
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	if (n > x->max_reply)
		return coffer_errf(COFFER_E_LIMIT, "http://%s:%u: the answer is "
		    "larger than %zu bytes", c->host, c->port, x->max_reply);
	if (n > 0) {
		uint8_t *p;
		int r;

		if ((r = coffer_buf_reserve(x->reply, n, &p)) != 0)
			return r;
		if (evbuffer_remove(in, p, n) != (int)n)
			return coffer_errf(COFFER_E_PROTO, "http client: short body");
		coffer_buf_commit(x->reply, n);
	}
	return 0;
}

static void
on_done(struct evhttp_request *req, void *arg)
{
	struct http_client *c = arg;
	struct exchange *x = &c->x;

	x->done = 1;
	x->r = take_answer(c, req);
	/* Never freed here: evhttp still uses the connection after this
	 * callback. The next request starts from a fresh one. */
	c->stale = x->r != 0;
	/* Failed inside evhttp_make_request (libevent 2.1 runs the callback
	 * there when connect(2) fails at once: EMFILE, EADDRNOTAVAIL,
	 * ENETUNREACH): start() returns the error; no callback, and never a
	 * break of a loop this client does not own. */
	if (x->starting)
		return;
	if (x->fn != NULL)
		x->fn(x->r, x->status, x->arg);
	else
		event_base_loopbreak(c->base);
}

static int
connect_once(struct http_client *c)
{
	struct timeval tv = { c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000 };

	if (c->conn != NULL && c->stale) {
		evhttp_connection_free(c->conn);
		c->conn = NULL;
	}
	c->stale = 0;
	if (c->conn != NULL)
		return 0;
	c->conn = evhttp_connection_base_new(c->base, NULL, c->host,
	    (unsigned short)c->port);
	if (c->conn == NULL)
		return coffer_errf(COFFER_E_NOMEM, "http client: connection");
	evhttp_connection_set_timeout_tv(c->conn, &tv);
	evhttp_connection_set_retries(c->conn, 0);
	return 0;
}

/* Send one request; its answer comes to on_done. */
static int
start(struct http_client *c, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, size_t max_reply,
    struct coffer_buf *reply)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;
	char hostport[300];
	int r;

	memset(&c->x, 0, sizeof(c->x));
	c->x.max_reply = max_reply;
	c->x.reply = reply;
	if ((r = connect_once(c)) != 0)
		return r;
	evhttp_connection_set_max_body_size(c->conn, (ev_ssize_t)max_reply);
	if ((req = evhttp_request_new(on_done, c)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "http client: request");
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	snprintf(hostport, sizeof(hostport), "%s:%u", c->host, c->port);
	if (evhttp_add_header(h, "Host", hostport) != 0 ||
	    (!c->own_base && evhttp_add_header(h, "Connection", "close") != 0) ||
	    (body != NULL && (evhttp_add_header(h, "Content-Type",
	    ctype != NULL ? ctype : "application/json") != 0 || evbuffer_add(
	    evhttp_request_get_output_buffer(req), body, len) != 0))) {
		evhttp_request_free(req);
		return coffer_errf(COFFER_E_NOMEM, "http client: request");
	}
	/* evhttp owns req from here (and adds Content-Length to a POST); it
	 * frees it after on_done. */
	c->x.starting = 1;
	r = evhttp_make_request(c->conn, req, strcmp(method, "POST") == 0 ?
	    EVHTTP_REQ_POST : EVHTTP_REQ_GET, path);
	c->x.starting = 0;
	if (r != 0) {
		evhttp_connection_free(c->conn);
		c->conn = NULL;
		return coffer_errf(COFFER_E_CONNECT, "http://%s:%u: cannot send the"
		    " request", c->host, c->port);
	}
	if (c->x.done) {
		/* Already failed (on_done): the next request gets a fresh
		 * connection (c->stale). */
		c->stale = 1;
		return c->x.r != 0 ? c->x.r : coffer_errf(COFFER_E_CONNECT,
		    "http://%s:%u: the request failed before it was sent",
		    c->host, c->port);
	}
	return 0;
}

int
http_client_request(struct http_client *c, const char *method, const char *path,
    const void *body, size_t len, size_t max_reply, int *status,
    struct coffer_buf *reply)
{
	return http_client_request_type(c, method, path, NULL, body, len,
	    max_reply, status, reply);
}

int
http_client_request_type(struct http_client *c, const char *method,
    const char *path, const char *ctype, const void *body, size_t len,
    size_t max_reply, int *status, struct coffer_buf *reply)
{
	int r;

	if (!c->own_base)
		return coffer_errf(COFFER_E_INTERNAL, "http client: an asynchronous "
		    "client cannot block");
	if ((r = start(c, method, path, ctype, body, len, max_reply, reply)) != 0)
		return r;
	while (!c->x.done)
		if (event_base_dispatch(c->base) < 0)
			break;
	if (!c->x.done) {
		c->stale = 1;
		return coffer_errf(COFFER_E_INTERNAL, "http client: event loop ended");
	}
	if (c->x.r != 0)
		return c->x.r;
	*status = c->x.status;
	return 0;
}

int
http_client_start(struct http_client *c, const char *method, const char *path,
    const void *body, size_t len, size_t max_reply, struct coffer_buf *reply,
    http_client_done_fn done, void *arg)
{
	int r;

	if (c->own_base || done == NULL || (c->x.fn != NULL && !c->x.done))
		return coffer_errf(COFFER_E_INTERNAL, "http client: a blocking "
		    "client, no callback, or a request in flight");
	if ((r = start(c, method, path, NULL, body, len, max_reply, reply)) != 0)
		return r;
	c->x.fn = done;
	c->x.arg = arg;
	return 0;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	if (c->conn != NULL)
		evhttp_connection_free(c->conn);
	if (c->own_base)
		event_base_free(c->base);
	free(c);
}
