// SPDX-License-Identifier: Apache-2.0
// pooled-stats: a small JSON writer for the result (doc section 6.3):
// two-space indentation, members in the order written, strings escaped
// per RFC 8259, numbers in the shortest form that reads back to the same
// double, null for anything not finite. Errors are sticky (j->r).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"

void
ps_fmt_double(char *out, size_t outlen, double v)
{
	/* Integers as integers: 2501, not 2.501e+03. */
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(out, outlen, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

void
ps_json_init(struct ps_json *j, struct ps_buf *b)
{
	memset(j, 0, sizeof(*j));
	j->b = b;
	j->first[0] = 1;
}

static void
put(struct ps_json *j, const char *s, size_t n)
{
	if (j->r == 0)
		j->r = ps_buf_put(j->b, s, n);
}

static void
put_str(struct ps_json *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	put(j, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\') {
			put(j, "\\", 1);
			put(j, (const char *)&s[i], 1);
		} else if (c < 0x20 || c == 0x7f) {
			put(j, e, 6);
		} else {
			put(j, (const char *)&s[i], 1);
		}
	}
	put(j, "\"", 1);
}

/* Separator, newline, indentation and "key": before a value. */
static void
member(struct ps_json *j, const char *key)
{
	if (j->depth > 0) {
		put(j, j->first[j->depth] ? "\n" : ",\n", j->first[j->depth] ? 1 : 2);
		for (int i = 0; i < j->depth; i++)
			put(j, "  ", 2);
	}
	j->first[j->depth] = 0;
	if (key != NULL) {
		put_str(j, key, strlen(key));
		put(j, ": ", 2);
	}
}

void
ps_json_open(struct ps_json *j, const char *key, char kind)
{
	member(j, key);
	put(j, kind == '[' ? "[" : "{", 1);
	if (j->depth + 1 >= (int)(sizeof(j->first) / sizeof(j->first[0]))) {
		j->r = COFFER_E_INTERNAL;
		return;
	}
	j->first[++j->depth] = 1;
}

void
ps_json_close(struct ps_json *j, char kind)
{
	int empty = j->first[j->depth];

	j->depth--;
	if (!empty) {
		put(j, "\n", 1);
		for (int i = 0; i < j->depth; i++)
			put(j, "  ", 2);
	}
	put(j, kind == ']' ? "]" : "}", 1);
	if (j->depth == 0)
		put(j, "\n", 1);
}

void
ps_json_strn(struct ps_json *j, const char *key, const char *v, size_t n)
{
	member(j, key);
	put_str(j, v, n);
}

void
ps_json_str(struct ps_json *j, const char *key, const char *v)
{
	ps_json_strn(j, key, v, strlen(v));
}

void
ps_json_num(struct ps_json *j, const char *key, double v)
{
	char t[40];

	if (!isfinite(v)) {
		ps_json_null(j, key);
		return;
	}
	member(j, key);
	ps_fmt_double(t, sizeof(t), v == 0 ? 0 : v);
	put(j, t, strlen(t));
}

void
ps_json_int(struct ps_json *j, const char *key, long long v)
{
	char t[32];

	member(j, key);
	snprintf(t, sizeof(t), "%lld", v);
	put(j, t, strlen(t));
}

void
ps_json_bool(struct ps_json *j, const char *key, int v)
{
	member(j, key);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void
ps_json_null(struct ps_json *j, const char *key)
{
	member(j, key);
	put(j, "null", 4);
}
