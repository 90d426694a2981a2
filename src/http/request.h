/* SPDX-License-Identifier: Apache-2.0 */
/* The head of an HTTP/1.x request (request line and header fields), parsed
 * in place by a small, strict reader: doc/http.md section 3 lists its
 * rules (H1-H9), which the code cites. No libevent here, so it is
 * unit-tested and fuzzed on its own (tests/fuzz/fuzz_http_head.c). */
#ifndef COFFER_HTTP_REQUEST_H
#define COFFER_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX (16 * 1024)   /* request line + header fields */
#define HTTP_HEADERS_MAX 64

struct http_head {
	char method[16];       /* "GET", "POST", ... */
	char *path;            /* "/v1/jobs/x", raw (not decoded) */
	char *query;           /* after '?', raw; NULL when there is none */
	int minor;             /* HTTP/1.<minor>: 0 or 1 */
	size_t nheaders;
	struct {
		char *name;    /* as sent; compare without case */
		char *value;   /* surrounding spaces and tabs removed */
	} h[HTTP_HEADERS_MAX];
	int64_t content_length; /* -1 when absent */
	int chunked;           /* Transfer-Encoding was present */
	int expect_continue;   /* Expect: 100-continue */
	int keep_alive;        /* the connection may carry another request */
};

/*
 * Length of the head at the start of p[0..n): up to and including the
 * empty line that ends it ("\r\n\r\n", or "\n\n" from lax clients); 0 if
 * it is not complete yet.
 */
size_t http_head_end(const char *p, size_t n);

/*
 * Parse the head buf[0..len) (len from http_head_end; buf is modified:
 * names and values are NUL-terminated in place and point into it).
 * 0 on success; otherwise the HTTP status to answer: 400 (malformed, rules
 * H1-H8), 417 (an Expect other than 100-continue), 431 (too many header
 * fields), 505 (an HTTP version other than 1.0 and 1.1). *h is always
 * initialised.
 */
int http_head_parse(char *buf, size_t len, struct http_head *h);

/* The value of header name (case-insensitive), or NULL. */
const char *http_head_get(const struct http_head *h, const char *name);

#endif
