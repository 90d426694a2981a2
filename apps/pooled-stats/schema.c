// SPDX-License-Identifier: Apache-2.0
// pooled-stats: the schema parameter (doc/apps/pooled-stats.md section 2):
// "NAME:TYPE; NAME:TYPE; ..." with TYPE num[LO,HI], int[LO,HI],
// cat{A,B,...} or skip, and its canonical text, which every map output
// carries so that a reduce with another schema refuses it.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF): names and levels appear in the JSON result. */
int
ps_utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], k, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1, min = 0x80, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, min = 0x800, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (unsigned j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Trimmed [p, end) into out; chars in bad refused. Section 2.1. */
static int
take_text(const char *p, const char *end, const char *bad, size_t max,
    const char *what, char *out, char *err, size_t errlen)
{
	size_t n;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	n = (size_t)(end - p);
	if (n == 0)
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: an empty %s",
		    what);
	if (n > max)
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: %s '%.40s...'"
		    " is longer than %zu bytes", what, p, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch < 0x20 || ch == 0x7f || strchr(bad, ch) != NULL)
			return ps_errf(err, errlen, COFFER_E_INVAL, "schema: %s '%.*s'"
			    " holds a character that is not allowed there (%s or a"
			    " control character)", what, (int)n, p, bad);
	}
	if (!ps_utf8_ok((const unsigned char *)p, n))
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: %s is not valid"
		    " UTF-8", what);
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* A bound of a range: empty (none) or a finite decimal number. */
static int
take_bound(const char *p, const char *end, int is_int, int *has, double *v,
    const char *col, char *err, size_t errlen)
{
	char tmp[64], *e;
	size_t n;

	while (p < end && *p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	n = (size_t)(end - p);
	*has = 0;
	if (n == 0)
		return 0;
	if (n >= sizeof(tmp))
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s':"
		    " a range bound is too long", col);
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	*v = strtod(tmp, &e);
	if (*e != '\0' || !isfinite(*v) || strspn(tmp, "+-0123456789.eE") != n)
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s':"
		    " range bound '%s' is not a decimal number", col, tmp);
	if (is_int && (*v != floor(*v) || fabs(*v) > PS_INT_LIMIT))
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s':"
		    " range bound '%s' is not an integer within +-2^53", col, tmp);
	*has = 1;
	return 0;
}

static int
parse_range(const char **pp, struct ps_column *c, char *err, size_t errlen)
{
	const char *p = *pp, *close = strchr(p, ']'), *comma;
	int r;

	/* p is just after '['. */
	if (close == NULL || (comma = memchr(p, ',', (size_t)(close - p))) == NULL)
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s':"
		    " a range is [LO,HI] (either may be empty)", c->name);
	if ((r = take_bound(p, comma, c->type == PS_INT, &c->has_lo, &c->lo,
	    c->name, err, errlen)) != 0 ||
	    (r = take_bound(comma + 1, close, c->type == PS_INT, &c->has_hi, &c->hi,
	    c->name, err, errlen)) != 0)
		return r;
	if (c->has_lo && c->has_hi && c->lo > c->hi)
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s':"
		    " the range's low bound is above its high bound", c->name);
	*pp = close + 1;
	return 0;
}

static int
parse_levels(const char **pp, struct ps_column *c, char *err, size_t errlen)
{
	const char *p = *pp, *close = strchr(p, '}');
	char buf[PS_MAX_LEVEL_LEN + 1];
	int r;

	if (close == NULL)
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s':"
		    " cat{...} is not closed", c->name);
	if ((c->levels = calloc(PS_MAX_LEVELS, sizeof(*c->levels))) == NULL)
		return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
	while (p <= close) {
		const char *e = p;

		while (e < close && *e != ',')
			e++;
		if (c->nlevels == PS_MAX_LEVELS)
			return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s'"
			    " has more than %d levels", c->name, PS_MAX_LEVELS);
		if ((r = take_text(p, e, ",;{}:\"", PS_MAX_LEVEL_LEN, "level", buf,
		    err, errlen)) != 0)
			return r;
		if (ps_level_find(c, buf, strlen(buf)) >= 0)
			return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s':"
			    " level '%s' is listed twice", c->name, buf);
		if ((c->levels[c->nlevels] = strdup(buf)) == NULL)
			return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
		c->nlevels++;
		p = e + 1;
	}
	*pp = close + 1;
	return 0;
}

/* One "NAME:TYPE" in [p, end). */
static int
parse_column(const char *p, const char *end, struct ps_column *c, char *err,
    size_t errlen)
{
	const char *colon = memchr(p, ':', (size_t)(end - p)), *t;
	size_t tn;
	int r;

	if (colon == NULL)
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: '%.*s' is not"
		    " NAME:TYPE", (int)(end - p > 60 ? 60 : end - p), p);
	if ((r = take_text(p, colon, ",;:{}[]\"", PS_MAX_NAME, "column name",
	    c->name, err, errlen)) != 0)
		return r;
	t = skip_ws(colon + 1);
	tn = strspn(t, "abcdefghijklmnopqrstuvwxyz");
	if (tn == 3 && strncmp(t, "num", 3) == 0)
		c->type = PS_NUM;
	else if (tn == 3 && strncmp(t, "int", 3) == 0)
		c->type = PS_INT;
	else if (tn == 3 && strncmp(t, "cat", 3) == 0)
		c->type = PS_CAT;
	else if (tn == 4 && strncmp(t, "skip", 4) == 0)
		c->type = PS_SKIP;
	else
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s': type"
		    " '%.*s' is not num, int, cat{...} or skip", c->name,
		    (int)(end - t > 20 ? 20 : end - t), t);
	t += tn;
	if (*t == '[' && (c->type == PS_NUM || c->type == PS_INT)) {
		t++;
		if ((r = parse_range(&t, c, err, errlen)) != 0)
			return r;
	} else if (c->type == PS_CAT) {
		if (*t != '{')
			return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s':"
			    " cat needs its levels: cat{A,B,...}", c->name);
		t++;
		if ((r = parse_levels(&t, c, err, errlen)) != 0)
			return r;
	}
	t = skip_ws(t);
	if (t != end)
		return ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s':"
		    " unexpected '%.*s' after the type", c->name,
		    (int)(end - t > 20 ? 20 : end - t), t);
	return 0;
}

/* Section 2.3: the canonical text. */
static int
canonical(struct ps_schema *s, char *err, size_t errlen)
{
	struct ps_buf b = { NULL, 0, 0, (size_t)1 << 20 };
	static const char *tn[] = { "", "num", "int", "cat", "skip" };
	char lo[40], hi[40];
	int r = 0;

	for (int i = 0; i < s->ncols && r == 0; i++) {
		const struct ps_column *c = &s->cols[i];

		r = ps_buf_printf(&b, "%s%s:%s", i ? ";" : "", c->name, tn[c->type]);
		if (r == 0 && (c->has_lo || c->has_hi)) {
			lo[0] = hi[0] = '\0';
			if (c->has_lo)
				ps_fmt_double(lo, sizeof(lo), c->lo);
			if (c->has_hi)
				ps_fmt_double(hi, sizeof(hi), c->hi);
			r = ps_buf_printf(&b, "[%s,%s]", lo, hi);
		}
		for (int k = 0; r == 0 && k < c->nlevels; k++)
			r = ps_buf_printf(&b, "%s%s", k ? "," : "{", c->levels[k]);
		if (r == 0 && c->type == PS_CAT)
			r = ps_buf_put(&b, "}", 1);
	}
	if (r == 0)
		r = ps_buf_put(&b, "", 1);
	if (r != 0) {
		ps_buf_free(&b);
		return ps_errf(err, errlen, r, "schema: out of memory");
	}
	s->canon = (char *)b.p;
	s->canonlen = b.len - 1;
	return 0;
}

int
ps_schema_parse(const char *text, struct ps_schema *s, char *err, size_t errlen)
{
	const char *p = text;
	int r = 0;

	memset(s, 0, sizeof(*s));
	if ((s->cols = calloc(PS_MAX_COLS, sizeof(*s->cols))) == NULL ||
	    (s->stored_to_col = calloc(PS_MAX_COLS, sizeof(int))) == NULL) {
		r = ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
		goto fail;
	}
	for (;;) {
		const char *end;
		struct ps_column *c;

		p = skip_ws(p);
		if (*p == '\0')
			break;
		/* A ';' inside cat{...} cannot occur (levels refuse it). */
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if (s->ncols == PS_MAX_COLS) {
			r = ps_errf(err, errlen, COFFER_E_INVAL, "schema: more than %d"
			    " columns", PS_MAX_COLS);
			goto fail;
		}
		c = &s->cols[s->ncols];
		if ((r = parse_column(p, end, c, err, errlen)) != 0) {
			s->ncols++; /* free its levels */
			goto fail;
		}
		s->ncols++;
		if (ps_schema_find(s, c->name) != s->ncols - 1) {
			r = ps_errf(err, errlen, COFFER_E_INVAL, "schema: column '%s' is"
			    " declared twice", c->name);
			goto fail;
		}
		c->stored = -1;
		if (c->type != PS_SKIP) {
			c->stored = s->nstored;
			s->stored_to_col[s->nstored++] = s->ncols - 1;
		}
		p = *end ? end + 1 : end;
	}
	if (s->nstored == 0) {
		r = ps_errf(err, errlen, COFFER_E_INVAL, "schema: no column to analyse"
		    " (give NAME:TYPE; ... with at least one column that is not skip)");
		goto fail;
	}
	if ((r = canonical(s, err, errlen)) != 0)
		goto fail;
	return 0;
fail:
	ps_schema_free(s);
	return r;
}

void
ps_schema_free(struct ps_schema *s)
{
	if (s->cols != NULL)
		for (int i = 0; i < s->ncols; i++) {
			for (int k = 0; k < s->cols[i].nlevels; k++)
				free(s->cols[i].levels[k]);
			free(s->cols[i].levels);
		}
	free(s->cols);
	free(s->stored_to_col);
	free(s->canon);
	memset(s, 0, sizeof(*s));
}

int
ps_schema_find(const struct ps_schema *s, const char *name)
{
	for (int i = 0; i < s->ncols; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return i;
	return -1;
}

const char *
ps_column_name(int i, const void *arg)
{
	return ((const struct ps_schema *)arg)->cols[i].name;
}

int
ps_level_find(const struct ps_column *c, const char *v, size_t n)
{
	for (int k = 0; k < c->nlevels; k++)
		if (strlen(c->levels[k]) == n && memcmp(c->levels[k], v, n) == 0)
			return k;
	return -1;
}
