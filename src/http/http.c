// SPDX-License-Identifier: Apache-2.0
// The daemons' HTTP server (http.h). Every reply that Coffer writes is
// JSON, so clients never parse HTML: unknown routes, wrong methods, missing
// tokens and oversized bodies all come back as {"error": {...}}.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "http/http.h"

struct req_count {
	int route;      /* index in the table, -1: unmatched */
	char method[8];
	int code;
	uint64_t n;
};

struct http_server {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	SSL_CTX *ssl;
	int port;
	const struct http_route *routes;
	size_t nroutes;
	int (*auth)(void *ctx, const char *token, enum http_scope *scope);
	void *ctx;
	struct req_count *counts;
	size_t ncounts;
};

static void
count_request(struct http_server *h, const struct http_req *r, int code)
{
	int route = -1;
	struct req_count *c;
	char method[8];

	if (r->match.route != NULL)
		route = (int)(r->match.route - h->routes);
	snprintf(method, sizeof(method), "%s", r->method);
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
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static void
send_reply(struct http_req *r, int status, const char *ctype, const void *p,
    size_t len)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->ev);
	struct evbuffer *b = NULL;

	if (r->replied)
		return;
	r->replied = 1;
	if (ctype != NULL && status != 204)
		evhttp_add_header(out, "Content-Type", ctype);
	evhttp_add_header(out, "Cache-Control", "no-store");
	if (status != 204 && len > 0 && (b = evbuffer_new()) != NULL &&
	    evbuffer_add(b, p, len) != 0) {
		evbuffer_free(b);
		b = NULL;
		status = 500;
	}
	evhttp_send_reply(r->ev, status, reason_phrase(status), b);
	if (b != NULL)
		evbuffer_free(b);
	count_request(r->http, r, status);
	coffer_debug("%s %s -> %d", r->method, r->path, status);
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

const char *
http_req_param(const struct http_req *r, const char *name)
{
	return http_route_param(&r->match, name);
}

int
http_req_query(const struct http_req *r, const char *key, char *out,
    size_t outlen)
{
	struct evkeyvalq q;
	struct evkeyval *kv;
	int found = 0;

	if (r->query == NULL || r->query[0] == '\0')
		return 0;
	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(r->query, &q) != 0)
		return -1;
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, key) != 0)
			continue;
		if (strlen(kv->value) >= outlen) {
			found = -1;
			break;
		}
		memcpy(out, kv->value, strlen(kv->value) + 1);
		found = 1;
		break;
	}
	evhttp_clear_headers(&q);
	return found;
}

int
http_req_json(struct http_req *r, json_t **out)
{
	json_t *v = NULL;
	int e;

	if (r->body_len == 0) {
		http_reply_error(r, 400, "invalid_json", NULL,
		    "the request needs a JSON object body");
		return -1;
	}
	if ((e = coffer_json_parse(r->body, r->body_len, r->match.route->max_body,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &v)) != 0) {
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

static const char *
method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "OTHER";
}

static void
reply_unauthorized(struct http_req *r, int presented)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->ev);

	/* RFC 6750 section 3: a challenge on every 401. */
	evhttp_add_header(out, "WWW-Authenticate", presented ?
	    "Bearer realm=\"coffer\", error=\"invalid_token\"" :
	    "Bearer realm=\"coffer\"");
	if (presented)
		http_reply_error(r, 401, "unauthorized", NULL,
		    "the bearer token is not valid");
	else
		http_reply_error(r, 401, "unauthorized", NULL,
		    "this route needs an 'Authorization: Bearer <token>' header");
}

/* 0: authorised (r->scope set); otherwise the reply was sent. */
static int
check_auth(struct http_server *h, struct http_req *r)
{
	const char *hdr = evhttp_find_header(
	    evhttp_request_get_input_headers(r->ev), "Authorization");
	enum http_scope scope = HTTP_SCOPE_NONE;
	int e;

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
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "WWW-Authenticate",
		    "Bearer realm=\"coffer\", error=\"insufficient_scope\", scope=\"admin\"");
		http_reply_error(r, 403, "forbidden", NULL,
		    "this route needs a token with the admin scope");
		return -1;
	}
	r->scope = scope;
	return 0;
}

static void
on_request(struct evhttp_request *ev, void *arg)
{
	struct http_server *h = arg;
	struct http_req r;
	struct coffer_buf body = COFFER_BUF_INIT(SIZE_MAX);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	struct evbuffer *in = evhttp_request_get_input_buffer(ev);
	char allow[64];
	size_t len;

	memset(&r, 0, sizeof(r));
	r.ev = ev;
	r.http = h;
	r.ctx = h->ctx;
	r.method = method_name(evhttp_request_get_command(ev));
	r.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (r.path == NULL || r.path[0] == '\0')
		r.path = "/";
	r.query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	r.body = "";

	switch (http_route_find(h->routes, h->nroutes, r.method, r.path, &r.match,
	    allow, sizeof(allow))) {
	case HTTP_ROUTE_FOUND:
		break;
	case HTTP_ROUTE_BAD_METHOD:
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Allow",
		    allow);
		http_reply_error(&r, 405, "method_not_allowed", NULL,
		    "%s is not allowed on %s (allowed: %s)", r.method, r.path,
		    allow);
		return;
	default:
		http_reply_error(&r, 404, "not_found", NULL, "no route %s %s",
		    r.method, r.path);
		return;
	}
	if (check_auth(h, &r) != 0)
		return;
	len = evbuffer_get_length(in);
	if (len > r.match.route->max_body) {
		http_reply_error(&r, 413, "payload_too_large", NULL,
		    "the body of %zu bytes exceeds this route's limit of %zu",
		    len, r.match.route->max_body);
		return;
	}
	if (len > 0) {
		uint8_t *p = NULL;

		if (coffer_buf_reserve(&body, len, &p) != 0 ||
		    evbuffer_copyout(in, p, len) != (ev_ssize_t)len) {
			coffer_buf_release(&body);
			http_reply_error(&r, 500, "internal", NULL,
			    "cannot buffer the body");
			return;
		}
		coffer_buf_commit(&body, len);
		r.body = coffer_buf_str(&body);
		r.body_len = len;
	}
	r.match.route->handler(&r);
	if (!r.replied) {
		coffer_error("%s %s: handler sent no reply", r.method, r.path);
		http_reply_error(&r, 500, "internal", NULL, "no reply");
	}
	coffer_buf_release(&body);
}

static struct bufferevent *
tls_bevcb(struct event_base *base, void *arg)
{
	struct http_server *h = arg;
	SSL *ssl = SSL_new(h->ssl);

	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static int
tls_setup(struct http_server *h, const char *cert, const char *key)
{
	unsigned long e;

	if ((h->ssl = SSL_CTX_new(TLS_server_method())) == NULL)
		return coffer_errf(COFFER_E_CRYPTO, "SSL_CTX_new failed");
	if (SSL_CTX_set_min_proto_version(h->ssl, TLS1_2_VERSION) != 1)
		return coffer_errf(COFFER_E_CRYPTO, "cannot require TLS 1.2");
	SSL_CTX_set_options(h->ssl, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(h->ssl, cert) != 1) {
		e = ERR_get_error();
		return coffer_errf(COFFER_E_INVAL, "TLS certificate %s: %s", cert,
		    ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unreadable");
	}
	if (SSL_CTX_use_PrivateKey_file(h->ssl, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(h->ssl) != 1) {
		e = ERR_get_error();
		return coffer_errf(COFFER_E_INVAL, "TLS key %s: %s", key,
		    ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unreadable");
	}
	return 0;
}

/* "host:port" or "[v6]:port" into host and port. */
static int
split_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon;
	char *end = NULL;
	long p;
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
	p = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
		return coffer_errf(COFFER_E_INVAL, "listen: bad port in '%s'", s);
	*port = (int)p;
	return 0;
}

int
http_server_new(struct event_base *base, const struct http_server_opts *o,
    struct http_server **out)
{
	struct http_server *h = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256];
	int port = 0, r;

	if ((r = split_listen(o->listen, host, sizeof(host), &port)) != 0)
		return r;
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		return coffer_errf(COFFER_E_INVAL,
		    "TLS needs both a certificate and a key");
	if ((h = coffer_calloc(1, sizeof(*h))) == NULL)
		return COFFER_E_NOMEM;
	h->base = base;
	h->routes = o->routes;
	h->nroutes = o->nroutes;
	h->auth = o->auth;
	h->ctx = o->ctx;
	if ((h->http = evhttp_new(base)) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "evhttp_new failed");
		goto out;
	}
	/* Every method reaches the router, which answers 405 in JSON. */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(h->http, (ev_ssize_t)o->max_body);
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_timeout(h->http, o->timeout_s > 0 ? o->timeout_s : 30);
	evhttp_set_default_content_type(h->http, NULL);
	evhttp_set_gencb(h->http, on_request, h);
	if (o->tls_cert != NULL) {
		if ((r = tls_setup(h, o->tls_cert, o->tls_key)) != 0)
			goto out;
		evhttp_set_bevcb(h->http, tls_bevcb, h);
	}
	h->sock = evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
	if (h->sock == NULL) {
		r = coffer_errf(COFFER_E_IO, "cannot listen on %s", o->listen);
		goto out;
	}
	if (getsockname(evhttp_bound_socket_get_fd(h->sock),
	    (struct sockaddr *)&ss, &sl) != 0) {
		r = coffer_errf(COFFER_E_IO, "getsockname failed");
		goto out;
	}
	h->port = ss.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	*out = h;
	h = NULL;
	r = 0;
out:
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
	return h->ssl != NULL;
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
	snprintf(out, outlen, "%s://%s:%d", h->ssl != NULL ? "https" : "http",
	    host, h->port);
}

void
http_server_free(struct http_server *h)
{
	if (h == NULL)
		return;
	if (h->http != NULL)
		evhttp_free(h->http);
	if (h->ssl != NULL)
		SSL_CTX_free(h->ssl);
	free(h->counts);
	free(h);
}
