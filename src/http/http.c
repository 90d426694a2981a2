// SPDX-License-Identifier: Apache-2.0
// The daemons' HTTP server (http.h, doc/http.md). One connection is a
// bufferevent (plain or OpenSSL) and a small state machine: HEAD (reading
// the request line and header fields, at most 16 KiB, under the header
// deadline), BODY (only after the route, the token and the declared length
// passed, under the whole-body deadline and the server's body budget), then
// the handler runs and its reply is written (under the write deadline).
// Deadlines are absolute: a byte that arrives does not restart them, so a
// client that trickles cannot hold a connection. Every reply Coffer writes
// is JSON, including those for requests refused before routing.
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/num.h"
#include "lib/pct.h"
#include "lib/utf8.h"
#include "http/http.h"

#define REPLY_HEADERS_MAX 8

struct req_count {
	int route;      /* index in the table, -1: unmatched */
	char method[8];
	int code;
	uint64_t n;
};

/* Open connections of one client address. */
struct client {
	struct sockaddr_storage addr;   /* address only, port zeroed */
	int n;
};

enum conn_state { C_HEAD, C_BODY, C_REPLY };

/* A request whose answer a handler deferred (http_req_defer): the copy
 * the handler answers on later. conn, head and query are cleared
 * (detach) when the connection closes first; http is cleared when the
 * server is freed first. */
struct http_defer {
	struct http_req r;        /* first: http_req_done casts back */
	char method[16];
	char *path;
	/* http_req_on_gone: told when the client goes away first. */
	void (*gone)(struct http_req *d, void *arg);
	void *gone_arg;
	int gone_told;            /* gone ran: no answer is owed */
	struct http_defer *prev, *next; /* the server's list, until done */
};

struct http_conn {
	struct http_server *h;
	struct bufferevent *bev;
	struct event *timer;
	struct sockaddr_storage peer;
	enum conn_state state;
	int close_after;          /* close once the reply is written */
	char head_buf[HTTP_HEAD_MAX + 1];
	struct http_head head;
	struct http_route_match match;
	enum http_scope scope;
	int token_presented;
	struct coffer_buf body;
	size_t body_want;         /* Content-Length */
	size_t budget_held;       /* bytes of h->body_budget this body holds */
	/* Extra reply headers. */
	size_t nhdr;
	char hdr[REPLY_HEADERS_MAX][2][256];
	struct http_defer *defer; /* the request waiting for its answer */
	struct event *watch;      /* the peer's close while defer is set */
	struct http_conn *prev, *next;
};

struct http_server {
	struct event_base *base;
	struct evconnlistener *lev;
	const struct http_tls *tls; /* with tls_ctx: HTTPS */
	void *tls_ctx;
	int port;
	const struct http_route *routes;
	size_t nroutes;
	int (*auth)(void *ctx, const char *token, enum http_scope *scope);
	void *ctx;
	void (*before)(struct http_req *r);
	int max_conns, max_per_client;
	int header_ms, body_ms, write_ms;
	size_t body_budget;
	struct http_conn *conns;  /* open connections, a list */
	struct client *clients;
	size_t nclients;
	struct http_server_stats st;
	struct req_count *counts;
	size_t ncounts;
	struct http_defer *defers; /* deferred requests not yet done */
	int freeing;              /* http_server_free: tell no gone callback */
};

static void conn_close(struct http_conn *c);
static void conn_next(struct http_conn *c);
static void set_deadline(struct http_conn *c, int ms);

static void
count_request(struct http_server *h, const struct http_req *r, int code)
{
	int route = -1;
	struct req_count *c;
	char method[8];

	if (r != NULL && r->match.route != NULL)
		route = (int)(r->match.route - h->routes);
	snprintf(method, sizeof(method), "%s", r != NULL ? r->method : "-");
	for (size_t i = 0; i < h->ncounts; i++) {
		c = &h->counts[i];
		if (c->route == route && c->code == code &&
		    strcmp(c->method, method) == 0) {
			c->n++;
			return;
		}
	}
	/* The set is bounded: routes x methods x the codes we send. */
	c = coffer_reallocarray(h->counts, h->ncounts + 1, sizeof(*c));
	if (c == NULL)
		return;
	h->counts = c;
	c = &h->counts[h->ncounts++];
	c->route = route;
	memcpy(c->method, method, sizeof(method));
	c->code = code;
	c->n = 1;
}

void
http_server_foreach_count(const struct http_server *h,
    void (*fn)(const char *route, const char *method, int code, uint64_t n,
    void *arg), void *arg)
{
	for (size_t i = 0; i < h->ncounts; i++) {
		const struct req_count *c = &h->counts[i];

		fn(c->route >= 0 ? h->routes[c->route].pattern : "unmatched",
		    c->method, c->code, c->n, arg);
	}
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

/* ------------------------------------------------------------------ */
/* Replies */

static void
send_reply(struct http_req *r, int status, const char *ctype, const void *p,
    size_t len)
{
	struct http_conn *c = r->conn;
	struct evbuffer *out;
	int head_only, ok = 1;

	if (r->replied)
		return;
	r->replied = 1;
	if (r->http != NULL)
		count_request(r->http, r, status);
	coffer_debug("%s %s -> %d", r->method, r->path, status);
	if (c == NULL)
		return;
	out = bufferevent_get_output(c->bev);
	head_only = strcmp(r->method, "HEAD") == 0 || status == 204;
	/* Errors found before the body was read end the connection: the
	 * body, if any, is never read, so the next request cannot be found. */
	if (status >= 400 && c->state == C_HEAD)
		c->close_after = 1;
	if (!c->head.keep_alive)
		c->close_after = 1;
	ok &= evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
	    reason_phrase(status)) > 0;
	if (ctype != NULL && status != 204)
		ok &= evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype) > 0;
	if (status != 204)
		ok &= evbuffer_add_printf(out, "Content-Length: %zu\r\n", len) > 0;
	ok &= evbuffer_add_printf(out, "Cache-Control: no-store\r\n") > 0;
	for (size_t i = 0; i < c->nhdr; i++)
		ok &= evbuffer_add_printf(out, "%s: %s\r\n", c->hdr[i][0],
		    c->hdr[i][1]) > 0;
	if (c->close_after)
		ok &= evbuffer_add_printf(out, "Connection: close\r\n") > 0;
	ok &= evbuffer_add(out, "\r\n", 2) == 0;
	if (!head_only && len > 0)
		ok &= evbuffer_add(out, p, len) == 0;
	if (!ok)
		c->close_after = 1;
	c->nhdr = 0;
	if (r->deferred) {
		/* A deferred answer: the connection goes on once it is written
		 * (on_write), and no longer knows this request. */
		c->defer = NULL;
		r->conn = NULL;
		r->head = NULL;
		r->query = NULL;
		if (c->watch != NULL)
			event_del(c->watch);
		set_deadline(c, c->h->write_ms);
	}
}

void
http_reply_header(struct http_req *r, const char *name, const char *value)
{
	struct http_conn *c = r->conn;

	if (c == NULL || r->replied || c->nhdr >= REPLY_HEADERS_MAX)
		return;
	/* A value with a line break would start a header of its own. */
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return;
	snprintf(c->hdr[c->nhdr][0], sizeof(c->hdr[0][0]), "%s", name);
	snprintf(c->hdr[c->nhdr][1], sizeof(c->hdr[0][1]), "%s", value);
	c->nhdr++;
}

void
http_reply_text(struct http_req *r, int status, const char *content_type,
    const char *text, size_t len)
{
	send_reply(r, status, content_type, text, len);
}

void
http_reply_json(struct http_req *r, int status, json_t *body)
{
	static const char e500[] = "{\"error\":{\"code\":\"internal\","
	    "\"message\":\"the reply could not be built\"}}\n";
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_BUF_MAX_DEFAULT);

	if (body == NULL) {
		if (status == 204) {
			send_reply(r, status, NULL, NULL, 0);
			return;
		}
		/* A handler's json_pack() failed (out of memory, or a value
		 * jansson refuses): never an empty 200 that a client would take
		 * for an answer. */
		coffer_error("%s %s: the %d reply could not be built", r->method,
		    r->path, status);
		send_reply(r, 500, "application/json", e500, sizeof(e500) - 1);
		return;
	}
	if (coffer_json_dump(body, &b) != 0 || coffer_buf_puts(&b, "\n") != 0) {
		json_decref(body);
		coffer_buf_release(&b);
		send_reply(r, 500, "application/json",
		    "{\"error\":{\"code\":\"internal\",\"message\":\"reply too large\"}}\n",
		    61);
		return;
	}
	json_decref(body);
	send_reply(r, status, "application/json", b.data, b.len);
	coffer_buf_release(&b);
}

static void
reply_errorv(struct http_req *r, int status, const char *code,
    const char *field, const char *fmt, va_list ap)
{
	char msg[1024];
	json_t *err, *top;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Messages quote request fields and file names, and may have been
	 * cut inside a character. */
	coffer_utf8_sanitize(msg);
	err = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (err != NULL && field != NULL && field[0] != '\0')
		json_object_set_new(err, "field", json_string(field));
	top = err != NULL ? json_pack("{s:o}", "error", err) : NULL;
	if (top == NULL) {
		send_reply(r, 500, "application/json", "{}\n", 3);
		return;
	}
	http_reply_json(r, status, top);
}

void
http_reply_error(struct http_req *r, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_errorv(r, status, code, field, fmt, ap);
	va_end(ap);
}

void
http_detail_field(const char *detail, char *field, size_t fieldlen)
{
	const char *colon = strstr(detail, ": ");
	size_t n;

	field[0] = '\0';
	if (colon == NULL || colon == detail)
		return;
	n = (size_t)(colon - detail);
	if (n >= fieldlen)
		return;
	for (size_t i = 0; i < n; i++) {
		char c = detail[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
		    c == '[' || c == ']'))
			return;
	}
	memcpy(field, detail, n);
	field[n] = '\0';
}

void
http_reply_coffer_err(struct http_req *r, int err)
{
	const char *d = coffer_errdetail();
	char field[128];

	http_detail_field(d, field, sizeof(field));
	if (d[0] == '\0')
		d = coffer_strerror(err);
	switch (err) {
	case COFFER_E_FORMAT:
	case COFFER_E_INVAL:
	case COFFER_E_VERSION:
	case COFFER_E_TRUNCATED:
		http_reply_error(r, 400, "bad_request", field, "%s", d);
		break;
	case COFFER_E_UNSUPPORTED:
		http_reply_error(r, 400, "unsupported", field, "%s", d);
		break;
	case COFFER_E_LIMIT:
		http_reply_error(r, 400, "limit_exceeded", field, "%s", d);
		break;
	case COFFER_E_NOTFOUND:
		http_reply_error(r, 404, "not_found", field, "%s", d);
		break;
	case COFFER_E_POLICY:
		/* The operator's configuration refuses it (policy.h). */
		http_reply_error(r, 403, "forbidden", field, "%s", d);
		break;
	case COFFER_E_STATE:
	case COFFER_E_EXISTS:
		http_reply_error(r, 409, "conflict", field, "%s", d);
		break;
	case COFFER_E_BUSY:
		/* Allowed soon, without anything else changing (a stopped
		 * job's replicas still exiting): the client may retry. */
		http_reply_error(r, 409, "busy", field, "%s", d);
		break;
	case COFFER_E_CONNECT:
	case COFFER_E_TIMEOUT:
	case COFFER_E_REDIS:
		http_reply_error(r, 503, "unavailable", NULL, "%s", d);
		break;
	default:
		coffer_error("%s %s: %s: %s", r->method, r->path,
		    coffer_strerror(err), d);
		http_reply_error(r, 500, "internal", NULL, "%s: %s",
		    coffer_strerror(err), d);
		break;
	}
}

void
http_reply_errors(struct http_req *r, int status, const char *code,
    json_t *errors)
{
	json_t *first = json_array_get(errors, 0), *err;
	const char *msg = json_string_value(json_object_get(first, "message"));
	const char *field = json_string_value(json_object_get(first, "field"));

	err = json_pack("{s:s, s:s, s:o}", "code", code, "message",
	    msg != NULL ? msg : "bad request", "errors", errors);
	if (err != NULL && field != NULL && field[0] != '\0')
		json_object_set_new(err, "field", json_string(field));
	http_reply_json(r, status, err != NULL ? json_pack("{s:o}", "error", err) :
	    NULL);
}

const char *
http_req_param(const struct http_req *r, const char *name)
{
	return http_route_param(&r->match, name);
}

const char *
http_req_header(const struct http_req *r, const char *name)
{
	return r->head != NULL ? http_head_get(r->head, name) : NULL;
}

int
http_req_query(const struct http_req *r, const char *key, char *out,
    size_t outlen)
{
	const char *p = r->query;
	char name[256];

	if (p == NULL)
		return 0;
	while (*p != '\0') {
		size_t n = strcspn(p, "&"), kn;
		const char *eq = memchr(p, '=', n);

		kn = eq != NULL ? (size_t)(eq - p) : n;
		if (n > 0) {
			if (coffer_pct_decode(p, kn, 1, name, sizeof(name), NULL) != 0)
				return -1;
			if (strcmp(name, key) == 0) {
				const char *v = eq != NULL ? eq + 1 : p + n;
				size_t vn = eq != NULL ? n - kn - 1 : 0;

				if (coffer_pct_decode(v, vn, 1, out, outlen, NULL) != 0)
					return -1;
				return 1;
			}
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return 0;
}

int
http_req_query_int(const struct http_req *r, const char *key, int64_t min,
    int64_t max, int64_t *out)
{
	char v[24];
	int64_t n;
	int q = http_req_query(r, key, v, sizeof(v));

	if (q <= 0)
		return q;
	/* coffer_parse_i64 takes "-0" and "007"; neither is spelled so here. */
	if (v[0] < '0' || v[0] > '9' || (v[0] == '0' && v[1] != '\0') ||
	    coffer_parse_i64(v, min, max, &n) != 0) {
		coffer_errclear();
		return -1;
	}
	*out = n;
	return 1;
}

/* "application/json", "application/json; charset=utf-8", or a "+json"
 * type ("application/merge-patch+json"). */
static int
is_json_type(const char *ct)
{
	size_t n = strcspn(ct, "; \t");

	if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return 1;
	return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	    strncasecmp(ct + n - 5, "+json", 5) == 0;
}

int
http_req_json(struct http_req *r, json_t **out)
{
	const char *ct = http_req_header(r, "Content-Type");
	json_t *v = NULL;

	/* No Content-Type is taken as JSON (what Asperathos's manager did);
	 * another one is a client that meant something else. */
	if (ct != NULL && !is_json_type(ct)) {
		http_reply_error(r, 415, "unsupported_media_type", NULL,
		    "the body must be JSON (Content-Type: application/json), "
		    "not '%.100s'", ct);
		return -1;
	}
	if (r->body_len == 0) {
		http_reply_error(r, 400, "invalid_json", NULL,
		    "the request needs a JSON object body");
		return -1;
	}
	if (coffer_json_parse(r->body, r->body_len, r->match.route->max_body,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &v) != 0) {
		http_reply_error(r, 400, "invalid_json", NULL, "%s",
		    coffer_errdetail());
		return -1;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		http_reply_error(r, 400, "bad_request", NULL,
		    "the body must be a JSON object");
		return -1;
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Deferred answers */

struct http_req *
http_req_defer(struct http_req *r)
{
	struct http_conn *c = r->conn;
	struct http_defer *d;

	if (c == NULL || r->replied || r->deferred || c->defer != NULL)
		return NULL;
	if ((d = coffer_calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->path = coffer_strdup(r->path)) == NULL) {
		free(d);
		return NULL;
	}
	d->r = *r;
	snprintf(d->method, sizeof(d->method), "%s", r->method);
	d->r.method = d->method;
	d->r.path = d->path;
	d->r.body = "";
	d->r.body_len = 0;
	d->r.deferred = 1;
	d->next = c->h->defers;
	if (d->next != NULL)
		d->next->prev = d;
	c->h->defers = d;
	c->defer = d;
	r->deferred = 1;
	return &d->r;
}

void
http_req_done(struct http_req *dr)
{
	struct http_defer *d = (struct http_defer *)dr;

	if (d == NULL)
		return;
	if (!d->r.replied && !d->gone_told) {
		coffer_error("%s %s: deferred request sent no reply", d->r.method,
		    d->r.path);
		http_reply_error(&d->r, 500, "internal", NULL, "no reply");
	}
	if (d->r.http != NULL) {
		if (d->prev != NULL)
			d->prev->next = d->next;
		else
			d->r.http->defers = d->next;
		if (d->next != NULL)
			d->next->prev = d->prev;
	}
	free(d->path);
	free(d);
}

void
http_req_on_gone(struct http_req *dr, void (*fn)(struct http_req *d, void *arg),
    void *arg)
{
	struct http_defer *d = (struct http_defer *)dr;

	d->gone = fn;
	d->gone_arg = arg;
}

/* ------------------------------------------------------------------ */
/* Connections */

static void
addr_only(const struct sockaddr_storage *in, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	out->ss_family = in->ss_family;
	if (in->ss_family == AF_INET6)
		memcpy(&((struct sockaddr_in6 *)out)->sin6_addr,
		    &((const struct sockaddr_in6 *)in)->sin6_addr,
		    sizeof(struct in6_addr));
	else if (in->ss_family == AF_INET)
		memcpy(&((struct sockaddr_in *)out)->sin_addr,
		    &((const struct sockaddr_in *)in)->sin_addr,
		    sizeof(struct in_addr));
}

static struct client *
client_find(struct http_server *h, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage a;

	addr_only(peer, &a);
	for (size_t i = 0; i < h->nclients; i++)
		if (memcmp(&h->clients[i].addr, &a, sizeof(a)) == 0)
			return &h->clients[i];
	return NULL;
}

/* Count a connection of peer; -1 if the table cannot grow. */
static int
client_add(struct http_server *h, const struct sockaddr_storage *peer)
{
	struct client *c = client_find(h, peer), *p;

	if (c != NULL) {
		c->n++;
		return 0;
	}
	if ((p = coffer_reallocarray(h->clients, h->nclients + 1,
	    sizeof(*p))) == NULL)
		return -1;
	h->clients = p;
	addr_only(peer, &p[h->nclients].addr);
	p[h->nclients].n = 1;
	h->nclients++;
	return 0;
}

static void
client_remove(struct http_server *h, const struct sockaddr_storage *peer)
{
	struct client *c = client_find(h, peer);

	if (c == NULL)
		return;
	if (--c->n <= 0)
		*c = h->clients[--h->nclients];
}

static void
set_deadline(struct http_conn *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_del(c->timer);
	evtimer_add(c->timer, &tv);
}

static void
release_body(struct http_conn *c)
{
	c->h->st.body_bytes_now -= c->budget_held;
	c->budget_held = 0;
	coffer_buf_release(&c->body);
	coffer_buf_init(&c->body, COFFER_BUF_MAX_DEFAULT);
}

static void
conn_close(struct http_conn *c)
{
	struct http_server *h = c->h;
	struct http_defer *d = c->defer;

	/* A deferred answer given later is dropped (send_reply). */
	if (d != NULL) {
		d->r.conn = NULL;
		d->r.head = NULL;
		d->r.query = NULL;
		c->defer = NULL;
	}
	release_body(c);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->watch != NULL)
		event_free(c->watch);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	client_remove(h, &c->peer);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	h->st.open--;
	free(c);
	/* Last: the owner may free d (http_req_done) in its callback. */
	if (d != NULL && d->gone != NULL && !h->freeing) {
		d->gone_told = 1;
		d->gone(&d->r, d->gone_arg);
	}
}

/* The client of a deferred request went away: nobody is left to answer,
 * and the daemon frees what it held for the request (http_req_on_gone). */
static void
on_peer_gone(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_close(arg);
}

/*
 * While an answer is deferred the connection reads nothing (a pipelined
 * request waits its turn), so its bufferevent would see no EOF: watch the
 * socket for the peer's close alone (EV_CLOSED, EPOLLRDHUP), which pending
 * bytes do not wake. A backend without it (not epoll) notices the close
 * only when the answer is written, as before.
 */
static void
watch_peer(struct http_conn *c)
{
	if (!(event_base_get_features(c->h->base) & EV_FEATURE_EARLY_CLOSE))
		return;
	if (c->watch == NULL && (c->watch = event_new(c->h->base,
	    bufferevent_getfd(c->bev), EV_CLOSED | EV_PERSIST, on_peer_gone,
	    c)) == NULL)
		return;
	if (event_add(c->watch, NULL) != 0)
		coffer_debug("a deferred request's connection is not watched");
}

/* A reply for a request that never got as far as a handler. */
static void
early_reply(struct http_conn *c, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
early_reply(struct http_conn *c, int status, const char *code,
    const char *fmt, ...)
{
	struct http_req r;
	char msg[512];
	va_list ap;

	memset(&r, 0, sizeof(r));
	r.conn = c;
	r.http = c->h;
	r.method = c->head.method[0] != '\0' ? c->head.method : "-";
	r.path = c->head.path != NULL ? c->head.path : "-";
	r.head = &c->head;
	c->close_after = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_reply_error(&r, status, code, NULL, "%s", msg);
	c->state = C_REPLY;
	bufferevent_disable(c->bev, EV_READ);
	set_deadline(c, c->h->write_ms);
}

static void
reply_unauthorized(struct http_req *r, int presented)
{
	/* RFC 6750 section 3: a challenge on every 401. */
	http_reply_header(r, "WWW-Authenticate", presented ?
	    "Bearer realm=\"coffer\", error=\"invalid_token\"" :
	    "Bearer realm=\"coffer\"");
	if (presented)
		http_reply_error(r, 401, "unauthorized", NULL,
		    "the bearer token is not valid");
	else
		http_reply_error(r, 401, "unauthorized", NULL,
		    "this route needs an 'Authorization: Bearer <token>' header");
}

/* 0: authorised (r->scope set); otherwise the reply was sent. Before the
 * body is read: an unknown client never makes the server buffer a byte. */
static int
check_auth(struct http_server *h, struct http_req *r)
{
	const char *hdr = http_req_header(r, "Authorization");
	enum http_scope scope = HTTP_SCOPE_NONE;
	int e;

	r->token_presented = hdr != NULL;
	if (r->match.route->scope == HTTP_SCOPE_NONE)
		return 0;
	if (hdr == NULL) {
		reply_unauthorized(r, 0);
		return -1;
	}
	if (strncasecmp(hdr, "Bearer ", 7) != 0) {
		reply_unauthorized(r, 1);
		return -1;
	}
	hdr += 7;
	while (*hdr == ' ')
		hdr++;
	if (h->auth == NULL) {
		http_reply_error(r, 500, "internal", NULL, "no token store");
		return -1;
	}
	if ((e = h->auth(h->ctx, hdr, &scope)) != 0) {
		if (e == COFFER_E_AUTH)
			reply_unauthorized(r, 1);
		else
			http_reply_coffer_err(r, e);
		return -1;
	}
	if (scope < r->match.route->scope) {
		http_reply_header(r, "WWW-Authenticate",
		    "Bearer realm=\"coffer\", error=\"insufficient_scope\", scope=\"admin\"");
		http_reply_error(r, 403, "forbidden", NULL,
		    "this route needs a token with the admin scope");
		return -1;
	}
	r->scope = scope;
	return 0;
}

static void
init_req(struct http_conn *c, struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	r->conn = c;
	r->http = c->h;
	r->ctx = c->h->ctx;
	r->head = &c->head;
	r->method = c->head.method;
	r->path = c->head.path;
	r->query = c->head.query;
	r->match = c->match;
	r->scope = c->scope;
	r->token_presented = c->token_presented;
	r->body = "";
}

/* The whole request is here: run the handler. */
static void
dispatch(struct http_conn *c)
{
	struct http_req r;

	init_req(c, &r);
	if (c->body.len > 0) {
		r.body = coffer_buf_str(&c->body);
		r.body_len = c->body.len;
	}
	c->state = C_REPLY;
	bufferevent_disable(c->bev, EV_READ);
	if (c->h->before != NULL)
		c->h->before(&r);
	r.match.route->handler(&r);
	if (r.deferred) {
		/* Its answer comes later (http_req_defer); none yet: no
		 * deadline while the daemon works on it. */
		release_body(c);
		if (c->defer != NULL) {
			evtimer_del(c->timer);
			watch_peer(c);
		}
		return;
	}
	if (!r.replied) {
		coffer_error("%s %s: handler sent no reply", r.method, r.path);
		http_reply_error(&r, 500, "internal", NULL, "no reply");
	}
	release_body(c);
	set_deadline(c, c->h->write_ms);
}

/* The head is complete in head_buf: parse, route, authorise, size. */
static void
on_head(struct http_conn *c, size_t len)
{
	struct http_server *h = c->h;
	struct http_req r;
	char allow[64];
	int st;

	if ((st = http_head_parse(c->head_buf, len, &c->head)) != 0) {
		early_reply(c, st, st == 431 ? "headers_too_large" :
		    st == 505 ? "http_version" : st == 417 ?
		    "expectation_failed" : "bad_request",
		    "malformed request (doc/http.md section 3)");
		return;
	}
	init_req(c, &r);
	switch (http_route_find(h->routes, h->nroutes, c->head.method,
	    c->head.path, &c->match, allow, sizeof(allow))) {
	case HTTP_ROUTE_FOUND:
		break;
	case HTTP_ROUTE_BAD_METHOD:
		c->close_after = c->head.content_length > 0 || c->head.chunked;
		http_reply_header(&r, "Allow", allow);
		http_reply_error(&r, 405, "method_not_allowed", NULL,
		    "%s is not allowed on %s (allowed: %s)", r.method, r.path,
		    allow);
		goto replied;
	default:
		c->close_after = c->head.content_length > 0 || c->head.chunked;
		http_reply_error(&r, 404, "not_found", NULL, "no route %s %s",
		    r.method, r.path);
		goto replied;
	}
	r.match = c->match;
	if (check_auth(h, &r) != 0)
		goto replied;
	c->scope = r.scope;
	c->token_presented = r.token_presented;
	if (c->head.chunked) {
		early_reply(c, 411, "length_required", "send the body with a "
		    "Content-Length (Transfer-Encoding is not supported)");
		return;
	}
	if (c->head.content_length > 0 &&
	    (uint64_t)c->head.content_length > c->match.route->max_body) {
		http_reply_error(&r, 413, "payload_too_large", NULL,
		    "the body of %lld bytes exceeds this route's limit of %zu",
		    (long long)c->head.content_length, c->match.route->max_body);
		goto replied;
	}
	if (c->head.content_length <= 0) {
		dispatch(c);
		return;
	}
	/* Memory is bounded whatever clients do: the bodies being read at
	 * once share one budget. */
	if (h->st.body_bytes_now + (size_t)c->head.content_length > h->body_budget) {
		http_reply_error(&r, 503, "unavailable", NULL, "too many request "
		    "bodies are being received at once; retry");
		goto replied;
	}
	c->body_want = (size_t)c->head.content_length;
	c->budget_held = c->body_want;
	h->st.body_bytes_now += c->budget_held;
	coffer_buf_init(&c->body, c->body_want);
	if (c->head.expect_continue)
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "HTTP/1.1 100 Continue\r\n\r\n");
	c->state = C_BODY;
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->body_want);
	set_deadline(c, h->body_ms);
	return;
replied:
	c->close_after = 1;
	c->state = C_REPLY;
	bufferevent_disable(c->bev, EV_READ);
	set_deadline(c, h->write_ms);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (c->state == C_HEAD) {
		size_t n = evbuffer_get_length(in), got, end;

		if (n > HTTP_HEAD_MAX)
			n = HTTP_HEAD_MAX;
		got = (size_t)evbuffer_copyout(in, c->head_buf, n);
		c->head_buf[got] = '\0';
		if ((end = http_head_end(c->head_buf, got)) == 0) {
			if (got >= HTTP_HEAD_MAX)
				early_reply(c, 431, "headers_too_large", "the request "
				    "line and headers exceed %d bytes", HTTP_HEAD_MAX);
			return;
		}
		evbuffer_drain(in, end);
		on_head(c, end);
		/* A body that came with the head is in the input already. */
		if (c->state != C_BODY)
			return;
	}
	if (c->state == C_BODY) {
		size_t n = evbuffer_get_length(in), need = c->body_want - c->body.len;
		uint8_t *p = NULL;

		if (n > need)
			n = need;
		if (n > 0 && coffer_buf_reserve(&c->body, n, &p) == 0) {
			evbuffer_remove(in, p, n);
			coffer_buf_commit(&c->body, n);
		}
		if (c->body.len == c->body_want) {
			bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_HEAD_MAX + 1);
			dispatch(c);
		}
	}
}

/* The reply is written: close, or wait for the next request. */
static void
on_write(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;

	if (c->state != C_REPLY || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->close_after) {
		conn_close(c);
		return;
	}
	conn_next(c);
}

static void
conn_next(struct http_conn *c)
{
	memset(&c->head, 0, sizeof(c->head));
	memset(&c->match, 0, sizeof(c->match));
	c->scope = HTTP_SCOPE_NONE;
	c->token_presented = 0;
	c->body_want = 0;
	c->nhdr = 0;
	c->state = C_HEAD;
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_HEAD_MAX + 1);
	bufferevent_enable(c->bev, EV_READ);
	set_deadline(c, c->h->header_ms);
	/* A pipelined request may already be waiting. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		on_read(c->bev, c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)bev;
	/* EOF, a socket error or a TLS error (plain HTTP on a TLS port). */
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_close(c);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	struct http_server *h = c->h;

	(void)fd;
	(void)what;
	switch (c->state) {
	case C_HEAD:
		h->st.header_timeouts++;
		/* Nothing was sent on an idle keep-alive connection: just close.
		 * A partial head gets a 408 it may or may not read. */
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
			conn_close(c);
			return;
		}
		early_reply(c, 408, "timeout", "the request's head did not arrive "
		    "within %d ms", h->header_ms);
		/* The client may not read either: the write deadline closes it. */
		return;
	case C_BODY:
		h->st.body_timeouts++;
		release_body(c);
		early_reply(c, 408, "timeout", "the request's body did not arrive "
		    "within %d ms", h->body_ms);
		return;
	case C_REPLY:
		h->st.write_timeouts++;
		conn_close(c);
		return;
	}
}

/* Over a cap: a short 503 written straight to the socket, then close. */
static void
refuse(struct http_server *h, evutil_socket_t fd, const char *why)
{
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg), "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n{\"error\":{\"code\":\"unavailable\","
	    "\"message\":\"%s\"}}\n", strlen(why) + 50, why);
	if (n > 0)
		(void)!send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	evutil_closesocket(fd);
	h->st.refused_cap++;
	count_request(h, NULL, 503);
}

static void
on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct http_server *h = arg;
	struct http_conn *c = NULL;
	struct client *cl;

	(void)lev;
	if (h->st.open >= (uint64_t)h->max_conns) {
		refuse(h, fd, "too many connections");
		return;
	}
	if (salen > 0 && (size_t)salen <= sizeof(struct sockaddr_storage)) {
		struct sockaddr_storage peer;

		memset(&peer, 0, sizeof(peer));
		memcpy(&peer, sa, (size_t)salen);
		cl = client_find(h, &peer);
		if (cl != NULL && cl->n >= h->max_per_client) {
			refuse(h, fd, "too many connections from this address");
			return;
		}
	}
	/* An answer goes out as it is written: with Nagle's algorithm its
	 * last partial segment would wait for the peer's delayed ACK (40 ms
	 * on Linux) whenever it does not fit one segment. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if ((c = coffer_calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->h = h;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer))
		memcpy(&c->peer, sa, (size_t)salen);
	coffer_buf_init(&c->body, COFFER_BUF_MAX_DEFAULT);
	if (h->tls_ctx != NULL)
		c->bev = h->tls->wrap(h->tls_ctx, h->base, fd);
	else
		c->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		goto fail;
	fd = -1;
	if ((c->timer = evtimer_new(h->base, on_deadline, c)) == NULL ||
	    client_add(h, &c->peer) != 0) {
		if (c->timer != NULL)
			event_free(c->timer);
		bufferevent_free(c->bev);
		free(c);
		return;
	}
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	h->st.open++;
	h->st.accepted++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	c->state = C_HEAD;
	c->head.keep_alive = 1;
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_HEAD_MAX + 1);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	set_deadline(c, h->header_ms);
	return;
fail:
	if (fd >= 0)
		evutil_closesocket(fd);
	free(c);
}

void
http_server_stats(const struct http_server *h, struct http_server_stats *st)
{
	*st = h->st;
}

/* ------------------------------------------------------------------ */
/* Listening */

/* "host:port" or "[v6]:port" into host and port. */
static int
split_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon;
	size_t n;

	if (s == NULL || s[0] == '\0')
		return coffer_errf(COFFER_E_INVAL, "listen: empty address");
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return coffer_errf(COFFER_E_INVAL,
			    "listen: '%s' is not [address]:port", s);
		n = (size_t)(rb - s - 1);
		colon = rb + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return coffer_errf(COFFER_E_INVAL,
			    "listen: '%s' is not host:port", s);
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= hostlen)
		return coffer_errf(COFFER_E_INVAL, "listen: bad host in '%s'", s);
	memcpy(host, s, n);
	host[n] = '\0';
	if (coffer_parse_int(colon + 1, 0, 65535, port) != 0)
		return coffer_errf(COFFER_E_INVAL, "listen: bad port in '%s'", s);
	return 0;
}

/* A listening socket on host:port; the detail of an error names the
 * address, and "in use" when it is. */
static int
listen_on(const char *addr, const char *host, int port, evutil_socket_t *out)
{
	struct addrinfo hints, *ai = NULL;
	char ps[16];
	int fd = -1, one = 1, e, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((e = getaddrinfo(host, ps, &hints, &ai)) != 0)
		return coffer_errf(COFFER_E_INVAL, "listen: %s: %s", addr,
		    gai_strerror(e));
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0) {
		r = coffer_errf(COFFER_E_IO, "listen: socket: %s", strerror(errno));
		goto out;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		e = errno;
		r = coffer_errf(e == EADDRINUSE ? COFFER_E_EXISTS : COFFER_E_IO,
		    "cannot listen on %s: %s%s", addr, strerror(e),
		    e == EADDRINUSE ? " (another program listens on that port)" : "");
		goto out;
	}
	if (listen(fd, 128) != 0) {
		r = coffer_errf(COFFER_E_IO, "cannot listen on %s: %s", addr,
		    strerror(errno));
		goto out;
	}
	*out = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

int
http_server_new(struct event_base *base, const struct http_server_opts *o,
    struct http_server **out)
{
	struct http_server *h = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = -1;
	char host[256];
	int port = 0, r;

	if ((r = split_listen(o->listen, host, sizeof(host), &port)) != 0)
		return r;
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		return coffer_errf(COFFER_E_INVAL,
		    "TLS needs both a certificate and a key");
	if (o->tls_cert != NULL && o->tls == NULL)
		return coffer_errf(COFFER_E_UNSUPPORTED,
		    "this program serves plain HTTP only (no TLS)");
	if ((h = coffer_calloc(1, sizeof(*h))) == NULL)
		return COFFER_E_NOMEM;
	h->base = base;
	h->routes = o->routes;
	h->nroutes = o->nroutes;
	h->auth = o->auth;
	h->ctx = o->ctx;
	h->before = o->before;
	h->max_conns = o->max_conns > 0 ? o->max_conns : HTTP_DEFAULT_MAX_CONNS;
	h->max_per_client = o->max_conns_per_client > 0 ?
	    o->max_conns_per_client : HTTP_DEFAULT_MAX_CONNS_PER_CLIENT;
	h->header_ms = o->header_timeout_ms > 0 ? o->header_timeout_ms :
	    HTTP_DEFAULT_HEADER_TIMEOUT_MS;
	h->body_ms = o->body_timeout_ms > 0 ? o->body_timeout_ms :
	    HTTP_DEFAULT_BODY_TIMEOUT_MS;
	h->write_ms = o->write_timeout_ms > 0 ? o->write_timeout_ms :
	    HTTP_DEFAULT_WRITE_TIMEOUT_MS;
	h->body_budget = o->body_budget > 0 ? o->body_budget :
	    HTTP_DEFAULT_BODY_BUDGET;
	if (o->tls_cert != NULL) {
		if ((r = o->tls->setup(&h->tls_ctx, o->tls_cert, o->tls_key)) != 0)
			goto out;
		h->tls = o->tls;
	}
	if ((r = listen_on(o->listen, host, port, &fd)) != 0)
		goto out;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		r = coffer_errf(COFFER_E_IO, "getsockname failed");
		goto out;
	}
	h->port = ss.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if ((h->lev = evconnlistener_new(base, on_accept, h,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd)) == NULL) {
		r = coffer_errf(COFFER_E_IO, "evconnlistener_new failed");
		goto out;
	}
	fd = -1;
	*out = h;
	h = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	http_server_free(h);
	return r;
}

int
http_server_port(const struct http_server *h)
{
	return h->port;
}

int
http_server_is_tls(const struct http_server *h)
{
	return h->tls_ctx != NULL;
}

void
http_server_url(const struct http_server *h, const char *listen, char *out,
    size_t outlen)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	size_t n = colon != NULL ? (size_t)(colon - listen) : 0;

	if (n >= sizeof(host))
		n = sizeof(host) - 1;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "[::]") == 0)
		snprintf(host, sizeof(host), "[::1]");
	snprintf(out, outlen, "%s://%s:%d", h->tls_ctx != NULL ? "https" :
	    "http",
	    host, h->port);
}

void
http_server_drain(struct http_server *h, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int64_t end = coffer_mono_ms() + ms;

	if (h == NULL)
		return;
	if (h->lev != NULL)
		evconnlistener_disable(h->lev);
	for (struct http_conn *c = h->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->state == C_REPLY && c->defer == NULL &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			c->close_after = 1; /* on_write closes it once written */
		else
			conn_close(c);
	}
	if (h->conns == NULL)
		return;
	event_base_loopexit(h->base, &tv);
	while (h->conns != NULL && coffer_mono_ms() < end)
		if (event_base_loop(h->base, EVLOOP_ONCE) != 0 ||
		    event_base_got_exit(h->base))
			break;
}

void
http_server_free(struct http_server *h)
{
	if (h == NULL)
		return;
	if (h->lev != NULL)
		evconnlistener_free(h->lev);
	h->freeing = 1;
	while (h->conns != NULL)
		conn_close(h->conns);
	/* Deferred requests outlive the server until http_req_done. */
	for (struct http_defer *d = h->defers; d != NULL; d = d->next)
		d->r.http = NULL;
	if (h->tls_ctx != NULL)
		h->tls->free(h->tls_ctx);
	free(h->clients);
	free(h->counts);
	free(h);
}
