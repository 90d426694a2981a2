// SPDX-License-Identifier: Apache-2.0
// pooled-stats: error messages and the bounded output buffer.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"

int
ps_errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Levenshtein distance, capped: names are short (<= 128 bytes). */
static size_t
distance(const char *a, size_t n, const char *b)
{
	size_t m = strlen(b), row[PS_MAX_NAME + 2];

	if (n > PS_MAX_NAME || m > PS_MAX_NAME)
		return (size_t)-1;
	for (size_t j = 0; j <= m; j++)
		row[j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[m];
}

const char *
ps_closest(const char *s, size_t n,
    const char *(*cand)(int i, const void *arg), int ncand, const void *arg)
{
	const char *best = NULL;
	size_t bd = 3;

	if (n < 2)
		return NULL;
	for (int i = 0; i < ncand; i++) {
		size_t d = distance(s, n, cand(i, arg));

		if (d < bd) {
			bd = d;
			best = cand(i, arg);
		}
	}
	return best;
}

int
ps_buf_put(struct ps_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (n > b->max - b->len)
		return COFFER_E_LIMIT;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *q;

		while (cap < b->len + n)
			cap = cap > b->max / 2 ? b->max : cap * 2;
		if ((q = realloc(b->p, cap)) == NULL)
			return COFFER_E_NOMEM;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int
ps_buf_printf(struct ps_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return COFFER_E_INTERNAL; /* callers print short pieces only */
	return ps_buf_put(b, tmp, (size_t)n);
}

void
ps_buf_free(struct ps_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
