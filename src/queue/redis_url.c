// SPDX-License-Identifier: Apache-2.0
// Redis URL parsing (queue/redis_url.h). The accepted grammar is small on
// purpose: what redis-cli -u and the common client libraries accept, and
// nothing that would need guessing.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "lib/pct.h"
#include "queue/redis_url.h"

void
coffer_redis_url_release(struct coffer_redis_url *u)
{
	if (u == NULL)
		return;
	free(u->host);
	free(u->path);
	free(u->user);
	if (u->password != NULL)
		coffer_free_secret(u->password, strlen(u->password));
	memset(u, 0, sizeof(*u));
}

/* Decode p[0..n) with %XX escapes (lib/pct.h: a bad escape and %00 are
 * refused) into a new string. */
static int
pct_decode(const char *p, size_t n, const char *what, char **out)
{
	char *s = coffer_malloc(n + 1);

	if (s == NULL)
		return coffer_errf(COFFER_E_NOMEM, "redis URL");
	if (coffer_pct_decode(p, n, 0, s, n + 1, NULL) != 0) {
		coffer_free_secret(s, n + 1);
		return coffer_errf(COFFER_E_FORMAT,
		    "redis URL: bad %%-escape in the %s", what);
	}
	*out = s;
	return 0;
}

static int
parse_uint(const char *p, size_t n, long max, const char *what, long *out)
{
	long v = 0;

	if (n == 0 || n > 6)
		return coffer_errf(COFFER_E_FORMAT, "redis URL: bad %s", what);
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return coffer_errf(COFFER_E_FORMAT, "redis URL: bad %s '%.*s'",
			    what, (int)n, p);
		v = v * 10 + (p[i] - '0');
	}
	if (v > max)
		return coffer_errf(COFFER_E_FORMAT, "redis URL: %s %ld out of range",
		    what, v);
	*out = v;
	return 0;
}

static int
check_chars(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return coffer_errf(COFFER_E_FORMAT,
			    "redis URL: control character or space at offset %zu",
			    (size_t)(p - (const unsigned char *)s));
	return 0;
}

static int
parse_unix(const char *path, struct coffer_redis_url *u)
{
	const char *q = strchr(path, '?');
	size_t n = q ? (size_t)(q - path) : strlen(path);
	long db = 0;
	int r;

	if (n < 2 || path[0] != '/')
		return coffer_errf(COFFER_E_FORMAT,
		    "redis URL: unix socket path must be absolute");
	if (q != NULL) {
		if (strncmp(q, "?db=", 4) != 0)
			return coffer_errf(COFFER_E_FORMAT,
			    "redis URL: only ?db=N may follow a socket path");
		if ((r = parse_uint(q + 4, strlen(q + 4), 65535, "database", &db)) != 0)
			return r;
	}
	if ((u->path = coffer_strndup(path, n)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "redis URL");
	u->db = (int)db;
	return 0;
}

static int
parse_tcp(const char *s, struct coffer_redis_url *u)
{
	const char *at, *hp, *he, *slash, *portp = NULL;
	size_t hn;
	long port = COFFER_REDIS_DEFAULT_PORT, db = 0;
	int r;

	slash = strchr(s, '/');
	he = slash ? slash : s + strlen(s);
	/* Credentials end at the last '@' before the path. */
	at = NULL;
	for (const char *p = s; p < he; p++)
		if (*p == '@')
			at = p;
	hp = s;
	if (at != NULL) {
		const char *colon = memchr(s, ':', (size_t)(at - s));

		if (colon == NULL)
			return coffer_errf(COFFER_E_FORMAT,
			    "redis URL: credentials must be [user]:password@");
		if (colon > s &&
		    (r = pct_decode(s, (size_t)(colon - s), "user", &u->user)) != 0)
			return r;
		if ((r = pct_decode(colon + 1, (size_t)(at - colon - 1), "password",
		    &u->password)) != 0)
			return r;
		hp = at + 1;
	}
	if (hp < he && *hp == '[') {
		const char *rb = memchr(hp, ']', (size_t)(he - hp));

		if (rb == NULL || rb == hp + 1)
			return coffer_errf(COFFER_E_FORMAT, "redis URL: bad [IPv6] host");
		for (const char *p = hp + 1; p < rb; p++)
			if (!(coffer_hex_digit(*p) >= 0 || *p == ':' || *p == '.'))
				return coffer_errf(COFFER_E_FORMAT,
				    "redis URL: bad [IPv6] host");
		if ((u->host = coffer_strndup(hp + 1, (size_t)(rb - hp - 1))) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "redis URL");
		if (rb + 1 < he) {
			if (rb[1] != ':')
				return coffer_errf(COFFER_E_FORMAT,
				    "redis URL: garbage after [IPv6] host");
			portp = rb + 2;
		}
	} else {
		const char *colon = memchr(hp, ':', (size_t)(he - hp));

		hn = colon ? (size_t)(colon - hp) : (size_t)(he - hp);
		if (hn == 0)
			return coffer_errf(COFFER_E_FORMAT, "redis URL: empty host");
		for (size_t i = 0; i < hn; i++) {
			char c = hp[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
				return coffer_errf(COFFER_E_FORMAT,
				    "redis URL: bad character '%c' in host", c);
		}
		if ((u->host = coffer_strndup(hp, hn)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "redis URL");
		if (colon != NULL)
			portp = colon + 1;
	}
	if (portp != NULL) {
		if ((r = parse_uint(portp, (size_t)(he - portp), 65535, "port", &port)) != 0)
			return r;
		if (port == 0)
			return coffer_errf(COFFER_E_FORMAT, "redis URL: port 0");
	}
	if (slash != NULL && slash[1] != '\0' &&
	    (r = parse_uint(slash + 1, strlen(slash + 1), 65535, "database", &db)) != 0)
		return r;
	u->port = (int)port;
	u->db = (int)db;
	return 0;
}

int
coffer_redis_url_parse(const char *s, struct coffer_redis_url *out)
{
	struct coffer_redis_url u;
	int r;

	memset(&u, 0, sizeof(u));
	if (s == NULL || s[0] == '\0')
		return coffer_errf(COFFER_E_FORMAT, "redis URL: empty");
	if (strnlen(s, COFFER_REDIS_URL_MAX + 1) > COFFER_REDIS_URL_MAX)
		return coffer_errf(COFFER_E_FORMAT, "redis URL: longer than %d bytes",
		    COFFER_REDIS_URL_MAX);
	if ((r = check_chars(s)) != 0)
		return r;
	if (strncmp(s, "redis://", 8) == 0)
		r = parse_tcp(s + 8, &u);
	else if (strncmp(s, "unix://", 7) == 0)
		r = parse_unix(s + 7, &u);
	else if (s[0] == '/')
		r = parse_unix(s, &u);
	else
		r = coffer_errf(COFFER_E_FORMAT,
		    "redis URL: expected redis://host[:port][/db] or unix:///path, got '%.40s'",
		    s);
	if (r != 0) {
		coffer_redis_url_release(&u);
		return r;
	}
	*out = u;
	return 0;
}

int
coffer_redis_url_from_env(char *out, size_t outlen)
{
	return coffer_redis_url_from_host_port(getenv("REDIS_HOST"),
	    getenv("REDIS_PORT"), out, outlen);
}

int
coffer_redis_url_from_host_port(const char *h, const char *p, char *out,
    size_t outlen)
{
	struct coffer_redis_url u;
	char buf[COFFER_REDIS_URL_MAX + 16];
	int r;

	if (h == NULL || h[0] == '\0')
		return coffer_errf(COFFER_E_NOTFOUND, "REDIS_HOST is not set");
	if (p == NULL || p[0] == '\0')
		p = "6379";
	if (strchr(h, ':') != NULL && h[0] != '[')
		snprintf(buf, sizeof(buf), "redis://[%s]:%s", h, p);
	else
		snprintf(buf, sizeof(buf), "redis://%s:%s", h, p);
	if ((r = coffer_redis_url_parse(buf, &u)) != 0)
		return coffer_errctx(r, "REDIS_HOST/REDIS_PORT");
	coffer_redis_url_release(&u);
	if (strlen(buf) >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "REDIS_HOST too long");
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

void
coffer_redis_url_redacted(const struct coffer_redis_url *u, char *out,
    size_t outlen)
{
	if (u->path != NULL)
		snprintf(out, outlen, "unix://%s?db=%d", u->path, u->db);
	else if (strchr(u->host, ':') != NULL)
		snprintf(out, outlen, "redis://[%s]:%d/%d", u->host, u->port, u->db);
	else
		snprintf(out, outlen, "redis://%s:%d/%d", u->host, u->port, u->db);
}
