// SPDX-License-Identifier: Apache-2.0
// A strict reader for HTTP/1.x request heads (request.h, doc/http.md
// section 3). It accepts what curl, Python's http.client/requests and Go's
// net/http send, and refuses the ambiguous forms that let two parsers see
// two different requests (RFC 9112 sections 2.2, 3, 5 and 6.3): whitespace
// before a colon, folded lines, conflicting lengths, a length together
// with Transfer-Encoding.
#include <string.h>
#include <strings.h>

#include "http/request.h"

/* RFC 9110 section 5.6.2: tchar. */
static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

size_t
http_head_end(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Next line of buf[*pos..len): NUL-terminated in place without its CR LF
 * (or LF); NULL at the end. A CR anywhere else is an error (*bad). */
static char *
next_line(char *buf, size_t len, size_t *pos, int *bad)
{
	size_t start = *pos, i;

	for (i = start; i < len && buf[i] != '\n'; i++)
		;
	if (i >= len)
		return NULL;
	*pos = i + 1;
	if (i > start && buf[i - 1] == '\r')
		i--;
	buf[i] = '\0';
	if (memchr(buf + start, '\r', i - start) != NULL)
		*bad = 1;
	return buf + start;
}

/* A whole token list member of a comma-separated value. */
static int
has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok);

	while (*v != '\0') {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		if (strncasecmp(v, tok, n) == 0 && (v[n] == '\0' || v[n] == ',' ||
		    v[n] == ' ' || v[n] == '\t'))
			return 1;
		while (*v != '\0' && *v != ',')
			v++;
	}
	return 0;
}

static int
parse_request_line(char *line, struct http_head *h)
{
	char *sp1, *sp2, *target, *q;
	size_t mlen;

	/* H1: method SP request-target SP HTTP-version, single spaces. */
	if ((sp1 = strchr(line, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL || strchr(sp2 + 1, ' ') != NULL)
		return 400;
	mlen = (size_t)(sp1 - line);
	if (mlen == 0 || mlen >= sizeof(h->method))
		return 400;
	for (size_t i = 0; i < mlen; i++)
		if (line[i] < 'A' || line[i] > 'Z')
			return 400;
	memcpy(h->method, line, mlen);
	h->method[mlen] = '\0';
	/* H2: origin-form only ("/path?query"); no fragment, no control
	 * characters, no spaces (the split above), no bytes above 0x7e. */
	target = sp1 + 1;
	*sp2 = '\0';
	if (target[0] != '/')
		return 400;
	for (const char *p = target; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
			return 400;
	if ((q = strchr(target, '?')) != NULL) {
		*q = '\0';
		h->query = q + 1;
	}
	h->path = target;
	/* H3: HTTP/1.0 or HTTP/1.1. */
	if (strncmp(sp2 + 1, "HTTP/", 5) != 0)
		return 400;
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		h->minor = 1;
	else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		h->minor = 0;
	else
		return 505;
	return 0;
}

static int
parse_length(const char *v, int64_t *out)
{
	int64_t n = 0;

	/* H6: digits only; at most 2^53 (larger bodies are refused by the
	 * route limits anyway, this only keeps the arithmetic exact). */
	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9' || n > ((int64_t)1 << 53) / 10)
			return -1;
		n = n * 10 + (*v - '0');
	}
	*out = n;
	return 0;
}

int
http_head_parse(char *buf, size_t len, struct http_head *h)
{
	size_t pos = 0;
	int bad = 0, r, have_host = 0;
	char *line;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	if ((line = next_line(buf, len, &pos, &bad)) == NULL || bad)
		return 400;
	if ((r = parse_request_line(line, h)) != 0)
		return r;
	h->keep_alive = h->minor == 1;
	while ((line = next_line(buf, len, &pos, &bad)) != NULL && line[0] != '\0') {
		char *colon, *v, *end;

		if (bad)
			return 400;
		/* H4: no obsolete line folding. */
		if (line[0] == ' ' || line[0] == '\t')
			return 400;
		/* H5: field-name ":" OWS value OWS; a name of tchars, nothing
		 * between it and the colon. */
		if ((colon = strchr(line, ':')) == NULL || colon == line)
			return 400;
		for (char *p = line; p < colon; p++)
			if (!tchar((unsigned char)*p))
				return 400;
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		for (const char *p = v; *p != '\0'; p++)
			if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
				return 400;
		if (h->nheaders == HTTP_HEADERS_MAX)
			return 431;
		h->h[h->nheaders].name = line;
		h->h[h->nheaders].value = v;
		h->nheaders++;
		if (strcasecmp(line, "Content-Length") == 0) {
			/* H6: one Content-Length, a plain number. */
			if (h->content_length >= 0 || parse_length(v, &h->content_length) != 0)
				return 400;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			h->chunked = 1;
		} else if (strcasecmp(line, "Host") == 0) {
			if (have_host++)
				return 400;
		} else if (strcasecmp(line, "Connection") == 0) {
			if (has_token(v, "close"))
				h->keep_alive = 0;
			else if (has_token(v, "keep-alive"))
				h->keep_alive = 1;
		} else if (strcasecmp(line, "Expect") == 0) {
			/* H8 */
			if (strcasecmp(v, "100-continue") != 0)
				return 417;
			h->expect_continue = 1;
		}
	}
	if (bad)
		return 400;
	/* H7: a length and a transfer coding together are how requests are
	 * smuggled past a proxy; HTTP/1.1 needs exactly one Host. */
	if (h->chunked && h->content_length >= 0)
		return 400;
	if (h->minor == 1 && !have_host)
		return 400;
	return 0;
}

const char *
http_head_get(const struct http_head *h, const char *name)
{
	for (size_t i = 0; i < h->nheaders; i++)
		if (strcasecmp(h->h[i].name, name) == 0)
			return h->h[i].value;
	return NULL;
}
