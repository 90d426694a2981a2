// SPDX-License-Identifier: Apache-2.0
// Matching a request against the route table (router.h). Kept free of
// libevent so it can be unit-tested and fuzzed on its own.
#include <string.h>

#include "http/router.h"

int
http_route_valid_param(const char *s, size_t len)
{
	if (len == 0 || len > HTTP_ROUTE_PARAM_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	/* "." and ".." are segments with a meaning of their own. */
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	return 1;
}

/*
 * Match path against pattern segment by segment. Returns 1 and fills m's
 * parameters on a match. Both start with '/'; "" segments (a trailing or
 * doubled slash) only match "" literals, so "/v1/jobs/" is not "/v1/jobs".
 */
static int
match(const char *pattern, const char *path, struct http_route_match *m)
{
	const char *p = pattern, *q = path;

	m->nparams = 0;
	if (*p != '/' || *q != '/')
		return 0;
	while (*p == '/' && *q == '/') {
		const char *pe, *qe;
		size_t pl, ql;

		p++;
		q++;
		pe = strchr(p, '/');
		qe = strchr(q, '/');
		pl = pe != NULL ? (size_t)(pe - p) : strlen(p);
		ql = qe != NULL ? (size_t)(qe - q) : strlen(q);
		if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
			size_t nl = pl - 2;

			if (!http_route_valid_param(q, ql))
				return 0;
			if (m->nparams >= HTTP_ROUTE_MAX_PARAMS ||
			    nl >= sizeof(m->params[0].name))
				return 0;
			memcpy(m->params[m->nparams].name, p + 1, nl);
			m->params[m->nparams].name[nl] = '\0';
			memcpy(m->params[m->nparams].value, q, ql);
			m->params[m->nparams].value[ql] = '\0';
			m->nparams++;
		} else if (pl != ql || memcmp(p, q, pl) != 0) {
			return 0;
		}
		p += pl;
		q += ql;
	}
	return *p == '\0' && *q == '\0';
}

static void
allow_add(char *allow, size_t allowlen, const char *method)
{
	size_t used = strlen(allow);

	/* A path can be listed twice for one method only by a table bug; skip
	 * duplicates so the header stays clean anyway. */
	if (strstr(allow, method) != NULL)
		return;
	if (used > 0 && used + 2 < allowlen) {
		memcpy(allow + used, ", ", 3);
		used += 2;
	}
	if (used + strlen(method) < allowlen)
		memcpy(allow + used, method, strlen(method) + 1);
}

enum http_route_result
http_route_find(const struct http_route *table, size_t n, const char *method,
    const char *path, struct http_route_match *m, char *allow, size_t allowlen)
{
	struct http_route_match tmp;
	int path_known = 0;
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;

	if (allow != NULL && allowlen > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!match(table[i].pattern, path, &tmp))
			continue;
		if (strcmp(table[i].method, want) == 0) {
			tmp.route = &table[i];
			*m = tmp;
			return HTTP_ROUTE_FOUND;
		}
		path_known = 1;
		if (allow != NULL && allowlen > 0)
			allow_add(allow, allowlen, table[i].method);
	}
	return path_known ? HTTP_ROUTE_BAD_METHOD : HTTP_ROUTE_NOT_FOUND;
}

const char *
http_route_param(const struct http_route_match *m, const char *name)
{
	for (size_t i = 0; i < m->nparams; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return m->params[i].value;
	return NULL;
}
