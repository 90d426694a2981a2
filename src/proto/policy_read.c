// SPDX-License-Identifier: Apache-2.0
// The reader of an approved policy (doc/format/policy.md section 4.1,
// rules PA1 to PA6) in one pass over its canonical text, building no JSON
// tree: every starting worker and every confidential submission reads the
// policy, and with thousands of objects jansson's tree of the whole text
// was most of that work (BENCHMARKS.md "The policy's size").
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "proto/jfield.h"
#include "proto/policy.h"

/* The reader: text s[0..n), position i, container depth; decoded strings
 * (each NUL-terminated) are appended to st, which the policy keeps. */
struct rd {
	const char *s;
	size_t n, i;
	int depth;
	char *st;
	size_t used, cap;
};

/* PA2: the error at byte off. */
static int
bad(const struct rd *r, size_t off, const char *what)
{
	return coffer_errf(COFFER_E_FORMAT, "PA2: byte %zu: %s (the text of an "
	    "approved policy is its canonical form, section 5)", off, what);
}

static int
peek(const struct rd *r)
{
	return r->i < r->n ? (unsigned char)r->s[r->i] : -1;
}

static int
expect(struct rd *r, char c, const char *what)
{
	if (peek(r) != (unsigned char)c)
		return bad(r, r->i, what);
	r->i++;
	return 0;
}

static int
lower_hex_digit(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int
hex_value(int c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Exactly 2 * n lower-case hex digits at s into out[n], checked and
 * decoded in one loop (a digest per object: checking with
 * coffer_jfield_is_lower_hex, then coffer_hex_decode, which checks
 * again, was a third of the pass). 0, or -1 with out undefined. */
static int
lower_hex_decode(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned a = (unsigned char)s[2 * i], b = (unsigned char)s[2 * i + 1];
		unsigned hi = a - '0' < 10 ? a - '0' : a - 'a' < 6 ? a - 'a' + 10 : 16;
		unsigned lo = b - '0' < 10 ? b - '0' : b - 'a' < 6 ? b - 'a' + 10 : 16;

		if ((hi | lo) > 15)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * The string at the position, in the form RFC 8785 section 3.2.2.2 gives
 * it (coffer_jcs_put): raw UTF-8 but for '"', '\\' and the control
 * characters, which are \" \\ \b \t \n \f \r or \u00xx in lower case.
 * Any other escape, or a control character as is, is not canonical (and
 * \u0000, a NUL, no string of ours may hold: jansson refuses it too).
 * keep: decode into st and return it in *out, *olen.
 */
static int
rd_str(struct rd *r, int keep, const char **out, size_t *olen)
{
	const unsigned char *s = (const unsigned char *)r->s;
	size_t i = r->i, o = r->used, run, k;
	unsigned char c;
	int v;

	if (i >= r->n || s[i] != '"')
		return bad(r, i, "expected a string");
	/* What is decoded is never longer than the rest of the text. */
	if (keep && r->cap - r->used < r->n - i)
		return coffer_errf(COFFER_E_INTERNAL, "PA2: byte %zu: no room for "
		    "the decoded strings", i);
	i++;
	for (;;) {
		for (run = i; run < r->n && s[run] >= 0x20 && s[run] < 0x80 &&
		    s[run] != '"' && s[run] != '\\'; run++)
			;
		if (keep && run > i) {
			memcpy(r->st + o, s + i, run - i);
			o += run - i;
		}
		i = run;
		if (i >= r->n)
			return bad(r, i, "the string does not end");
		c = s[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return bad(r, i, "a control character in a string");
		if (c >= 0x80) {
			if ((k = coffer_utf8_seq(r->s + i, r->n - i)) == 0)
				return bad(r, i, "a string is not UTF-8");
			if (keep) {
				memcpy(r->st + o, s + i, k);
				o += k;
			}
			i += k;
			continue;
		}
		/* '\\' */
		if (i + 1 >= r->n)
			return bad(r, i, "the string does not end");
		switch (s[i + 1]) {
		case '"': v = '"'; break;
		case '\\': v = '\\'; break;
		case 'b': v = '\b'; break;
		case 't': v = '\t'; break;
		case 'n': v = '\n'; break;
		case 'f': v = '\f'; break;
		case 'r': v = '\r'; break;
		case 'u':
			if (i + 6 > r->n || s[i + 2] != '0' || s[i + 3] != '0' ||
			    (s[i + 4] != '0' && s[i + 4] != '1') ||
			    !lower_hex_digit(s[i + 5]))
				return bad(r, i, "an escape that is not canonical");
			v = (s[i + 4] - '0') << 4 | hex_value(s[i + 5]);
			if (v == 0)
				return bad(r, i, "a NUL character in a string");
			if (v == '\b' || v == '\t' || v == '\n' || v == '\f' ||
			    v == '\r')
				return bad(r, i, "an escape that is not canonical");
			i += 4;
			break;
		default:
			return bad(r, i, "an escape that is not canonical");
		}
		if (keep)
			r->st[o++] = (char)v;
		i += 2;
	}
	r->i = i + 1;
	if (keep) {
		r->st[o] = '\0';
		*out = r->st + r->used;
		*olen = o - r->used;
		r->used = o + 1;
	}
	return 0;
}

/*
 * A JSON number (RFC 8259 section 6). Only skipped members hold numbers;
 * the range checks are jansson's, so that the reader refuses no number
 * coffer_json_parse takes: an integer must fit in a long long, a real
 * must not overflow a double.
 */
static int
rd_number(struct rd *r)
{
	const char *s = r->s;
	size_t i = r->i, start = r->i, len;
	char small[64], *tok = small, *end;
	int real = 0, bad_range;

#define DIGIT(k) ((k) < r->n && s[k] >= '0' && s[k] <= '9')
	if (i < r->n && s[i] == '-')
		i++;
	if (i < r->n && s[i] == '0')
		i++;
	else if (DIGIT(i))
		while (DIGIT(i))
			i++;
	else
		return bad(r, i, "expected a value");
	if (i < r->n && s[i] == '.') {
		real = 1;
		if (!DIGIT(i + 1))
			return bad(r, i, "a number without digits after its point");
		for (i++; DIGIT(i); i++)
			;
	}
	if (i < r->n && (s[i] == 'e' || s[i] == 'E')) {
		real = 1;
		i++;
		if (i < r->n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!DIGIT(i))
			return bad(r, i, "a number without digits in its exponent");
		while (DIGIT(i))
			i++;
	}
#undef DIGIT
	len = i - start;
	if (len >= sizeof(small) && (tok = coffer_malloc(len + 1)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	memcpy(tok, s + start, len);
	tok[len] = '\0';
	errno = 0;
	if (!real) {
		(void)strtoll(tok, &end, 10);
		bad_range = errno == ERANGE;
	} else {
		double d = strtod(tok, &end);

		bad_range = (d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE;
	}
	if (tok != small)
		free(tok);
	if (bad_range)
		return bad(r, start, real ? "a real number that overflows" :
		    "an integer out of range");
	r->i = i;
	return 0;
}

static int
rd_literal(struct rd *r, const char *lit)
{
	size_t n = strlen(lit);

	if (r->n - r->i < n || memcmp(r->s + r->i, lit, n) != 0)
		return bad(r, r->i, "expected a value");
	r->i += n;
	return 0;
}

/* Enter the container at the position ('{' or '['): nesting is limited
 * as coffer_json_parse limits it. */
static int
rd_enter(struct rd *r)
{
	if (++r->depth > COFFER_JSON_MAX_DEPTH_DEFAULT)
		return coffer_errf(COFFER_E_LIMIT, "PA2: byte %zu: JSON nested "
		    "deeper than %d levels", r->i, COFFER_JSON_MAX_DEPTH_DEFAULT);
	r->i++;
	return 0;
}

/*
 * The order of RFC 8785 section 3.2.3: member names compared as UTF-16
 * code units. <0, 0, >0. Both are valid UTF-8 (rd_str checked them).
 */
static int
cmp_names(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	while (i < an && j < bn) {
		uint32_t x, y;
		size_t k, l;

		if ((unsigned char)a[i] < 0x80 && (unsigned char)b[j] < 0x80) {
			if (a[i] != b[j])
				return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
			i++;
			j++;
			continue;
		}
		k = coffer_utf8_decode(a + i, an - i, &x);
		l = coffer_utf8_decode(b + j, bn - j, &y);
		if (k == 0 || l == 0) /* never: rd_str checked them */
			return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
		if (x != y) {
			/* Above U+FFFF a code point is a high surrogate first
			 * (0xd800 to 0xdbff), which no code point below U+10000
			 * in valid UTF-8 equals. */
			uint32_t ux = x >= 0x10000 ? 0xd800 | (x - 0x10000) >> 10 : x;
			uint32_t uy = y >= 0x10000 ? 0xd800 | (y - 0x10000) >> 10 : y;

			if (ux != uy)
				return ux < uy ? -1 : 1;
			return x < y ? -1 : 1; /* both above U+FFFF */
		}
		i += k;
		j += l;
	}
	return an - i < bn - j ? -1 : an - i > bn - j;
}

/* The members of one object, in order. */
struct members {
	const char *prev;
	size_t prevlen, count;
};

/*
 * The next member of the object entered: 1 with its name in *k (the
 * position at its value), 0 at the end (consumed). Names must come in the
 * canonical order, so no name comes twice.
 */
static int
rd_member(struct rd *r, struct members *m, const char **k, size_t *kl)
{
	size_t at;
	int c, e;

	if (peek(r) == '}') {
		r->i++;
		r->depth--;
		return 0;
	}
	if (m->count > 0 && (e = expect(r, ',', "expected ',' or '}'")) != 0)
		return e;
	at = r->i;
	if ((e = rd_str(r, 1, k, kl)) != 0)
		return e;
	if (m->count > 0 && (c = cmp_names(m->prev, m->prevlen, *k, *kl)) >= 0)
		return bad(r, at, c == 0 ? "a member name used twice in an object" :
		    "members not in the canonical order");
	if ((e = expect(r, ':', "expected ':'")) != 0)
		return e;
	m->prev = *k;
	m->prevlen = *kl;
	m->count++;
	return 1;
}

/* The next element of the array entered: 1 (the position at it), 0 at the
 * end (consumed). *count counts them. */
static int
rd_element(struct rd *r, size_t *count)
{
	int e;

	if (peek(r) == ']') {
		r->i++;
		r->depth--;
		return 0;
	}
	if (*count > 0 && (e = expect(r, ',', "expected ',' or ']'")) != 0)
		return e;
	(*count)++;
	return 1;
}

/* Check and pass over one value. */
static int
rd_skip(struct rd *r)
{
	struct members m = { NULL, 0, 0 };
	const char *k;
	size_t kl, count = 0;
	int e;

	switch (peek(r)) {
	case '"':
		return rd_str(r, 0, NULL, NULL);
	case 't':
		return rd_literal(r, "true");
	case 'f':
		return rd_literal(r, "false");
	case 'n':
		return rd_literal(r, "null");
	case '{':
		if ((e = rd_enter(r)) != 0)
			return e;
		while ((e = rd_member(r, &m, &k, &kl)) == 1)
			if ((e = rd_skip(r)) != 0)
				return e;
		return e;
	case '[':
		if ((e = rd_enter(r)) != 0)
			return e;
		while ((e = rd_element(r, &count)) == 1)
			if ((e = rd_skip(r)) != 0)
				return e;
		return e;
	default:
		return rd_number(r);
	}
}

/* ------------------------------------------------------------------ */
/* Typed values, with the messages of src/proto/jfield.c */

/* A string of minlen to maxlen bytes, each in charset (NULL: any). */
static int
get_str(struct rd *r, const char *path, size_t minlen, size_t maxlen,
    const char *charset, const char **out, size_t *olen)
{
	const char *s;
	size_t n, i;
	int e;

	if (peek(r) != '"') {
		if ((e = rd_skip(r)) != 0)
			return e;
		return coffer_errf(COFFER_E_FORMAT, "%s: expected a string", path);
	}
	if ((e = rd_str(r, 1, &s, &n)) != 0)
		return e;
	if (n < minlen || n > maxlen)
		return coffer_errf(COFFER_E_FORMAT, "%s: %zu bytes, expected %zu to %zu",
		    path, n, minlen, maxlen);
	if (charset != NULL && (i = strspn(s, charset)) != n)
		return coffer_errf(COFFER_E_FORMAT,
		    "%s: byte %zu (0x%02x) is not allowed here", path, i,
		    (unsigned char)s[i]);
	*out = s;
	if (olen != NULL)
		*olen = n;
	return 0;
}

/* Exactly 2 * n lower-case hex digits into out[n]. */
static int
get_hex(struct rd *r, const char *path, uint8_t *out, size_t n)
{
	const char *s;
	size_t len;
	int e;

	if (peek(r) == '"') {
		if ((e = rd_str(r, 1, &s, &len)) != 0)
			return e;
		if (len == 2 * n && lower_hex_decode(s, out, n) == 0)
			return 0;
	} else if ((e = rd_skip(r)) != 0) {
		return e;
	}
	return coffer_errf(COFFER_E_FORMAT, "%s: expected %zu lower-case hex "
	    "digits", path, 2 * n);
}

static int
get_identity(struct rd *r, const char *path, struct coffer_identity_public *out)
{
	const char *s;
	size_t len;
	int e;

	if (peek(r) != '"') {
		if ((e = rd_skip(r)) != 0)
			return e;
		len = COFFER_ID_LINE_MAX + 1;
		s = NULL;
	} else if ((e = rd_str(r, 1, &s, &len)) != 0) {
		return e;
	}
	if (len > COFFER_ID_LINE_MAX)
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an identity line "
		    "(coffer-id1:...)", path);
	if (coffer_identity_parse_public(s, len, out) != 0)
		return coffer_errctx(COFFER_E_FORMAT, "%s", path);
	return 0;
}

/* The array at the position, entered; COFFER_E_FORMAT if it is another
 * value (checked and passed over first). */
static int
get_array(struct rd *r, const char *path)
{
	int e;

	if (peek(r) == '[')
		return rd_enter(r);
	if ((e = rd_skip(r)) != 0)
		return e;
	return coffer_errf(COFFER_E_FORMAT, "%s: expected an array", path);
}

static int
get_object(struct rd *r, const char *path)
{
	int e;

	if (peek(r) == '{')
		return rd_enter(r);
	if ((e = rd_skip(r)) != 0)
		return e;
	return coffer_errf(COFFER_E_FORMAT, "%s: expected an object", path);
}

/* ------------------------------------------------------------------ */
/* PA3 to PA6 */

/* The app asked for: where its members' values are, read once the whole
 * app object is known to be that app (PA5; its name comes after
 * `datasets` and `measurements` in the canonical order). */
enum { A_DATASETS, A_MEASUREMENTS, A_NAME, A_PARAMS, A_REDUCE, A_SHA256, A_N };
static const char *const app_members[A_N] = { "datasets", "measurements",
	"name", "params", "reduce", "sha256" };

struct want {
	const char *app;          /* the name asked for */
	int found;
	const char *dnames[64];   /* its datasets, as named */
	int dindex[64];           /* resolved: the first dataset of the name */
	size_t total;             /* PA6: objects read */
};

/* Read the value at offset off (depth as at the app's members). */
static void
seek(struct rd *r, size_t off, int depth)
{
	r->i = off;
	r->depth = depth;
}

/* P11 (PA5) */
static int
read_measurements(struct rd *r, struct coffer_policy_app *a, const char *ap)
{
	char path[COFFER_JFIELD_PATH_MAX], ep[COFFER_JFIELD_PATH_MAX];
	size_t count = 0, kl;
	const char *k;
	int e;

	coffer_jfield_path(path, ap, "measurements");
	if ((e = get_array(r, path)) != 0)
		return e;
	if ((a->measurements = coffer_calloc(64, sizeof(*a->measurements))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	while ((e = rd_element(r, &count)) == 1) {
		struct members m = { NULL, 0, 0 };
		const char *tee = NULL, *value = NULL;
		struct coffer_policy_measurement *pm;

		coffer_jfield_index(ep, path, count - 1);
		if (count > 64)
			return coffer_errf(COFFER_E_FORMAT, "%s: more than 64 elements, "
			    "expected 1 to 64", path);
		if ((e = get_object(r, ep)) != 0)
			return e;
		while ((e = rd_member(r, &m, &k, &kl)) == 1) {
			char fp[COFFER_JFIELD_PATH_MAX];

			coffer_jfield_path(fp, ep, k);
			if (strcmp(k, "tee") == 0)
				e = get_str(r, fp, 1, 16, NULL, &tee, NULL);
			else if (strcmp(k, "value") == 0)
				e = get_str(r, fp, 1, 2 * COFFER_POLICY_MEASUREMENT_MAX,
				    NULL, &value, NULL);
			else
				e = coffer_errf(COFFER_E_FORMAT, "%s: unknown member", fp);
			if (e != 0)
				return e;
		}
		if (e < 0)
			return e;
		if (tee == NULL || value == NULL)
			return coffer_errf(COFFER_E_FORMAT, "%s.%s: missing", ep,
			    tee == NULL ? "tee" : "value");
		pm = &a->measurements[count - 1];
		if ((e = coffer_policy_measurement_parse(tee, value, ep, pm)) != 0)
			return e;
		for (size_t j = 0; j + 1 < count; j++)
			if (a->measurements[j].tee == pm->tee &&
			    a->measurements[j].len == pm->len &&
			    memcmp(a->measurements[j].value, pm->value, pm->len) == 0)
				return coffer_errf(COFFER_E_FORMAT, "%s: the same as "
				    "measurements[%zu]", ep, j);
		a->nmeasurements = count;
	}
	if (e < 0)
		return e;
	if (count == 0)
		return coffer_errf(COFFER_E_FORMAT, "%s: 0 elements, expected 1 to 64",
		    path);
	return 0;
}

static int
param_name_ok(const char *k, size_t n)
{
	if (n < 1 || n > 64 || strncmp(k, "coffer.", 7) == 0)
		return 0;
	return strspn(k, COFFER_JFIELD_NAME) == n;
}

/* P12 (PA5) */
static int
read_params(struct rd *r, struct coffer_policy_app *a, const char *ap)
{
	char path[COFFER_JFIELD_PATH_MAX], pp[COFFER_JFIELD_PATH_MAX],
	    vp[COFFER_JFIELD_PATH_MAX];
	struct members m = { NULL, 0, 0 };
	const char *k;
	size_t kl;
	int e;

	coffer_jfield_path(path, ap, "params");
	if (peek(r) != '{') {
		if ((e = rd_skip(r)) != 0)
			return e;
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an object of at "
		    "most 64 parameters", path);
	}
	if ((e = rd_enter(r)) != 0)
		return e;
	if ((a->params = coffer_calloc(64, sizeof(*a->params))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	while ((e = rd_member(r, &m, &k, &kl)) == 1) {
		struct coffer_policy_param *pa;
		size_t count = 0;

		if (m.count > 64)
			return coffer_errf(COFFER_E_FORMAT, "%s: expected an object of "
			    "at most 64 parameters", path);
		pa = &a->params[m.count - 1];
		coffer_jfield_path(pp, path, k);
		if (!param_name_ok(k, kl))
			return coffer_errf(COFFER_E_FORMAT, "%s: a parameter name is 1 to 64 "
			    "of A-Z a-z 0-9 _ . - and never starts with \"coffer.\"", pp);
		if (peek(r) != '[') {
			if ((e = rd_skip(r)) != 0)
				return e;
			return coffer_errf(COFFER_E_FORMAT, "%s: expected an array of 1 "
			    "to 64 allowed values", pp);
		}
		if ((e = rd_enter(r)) != 0)
			return e;
		pa->name = k;
		if ((pa->values = coffer_calloc(64, sizeof(char *))) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "out of memory");
		a->nparams = m.count;
		while ((e = rd_element(r, &count)) == 1) {
			if (count > 64)
				return coffer_errf(COFFER_E_FORMAT, "%s: expected an array of "
				    "1 to 64 allowed values", pp);
			coffer_jfield_index(vp, pp, count - 1);
			if ((e = get_str(r, vp, 0, COFFER_POLICY_VALUE_MAX, NULL,
			    &pa->values[count - 1], NULL)) != 0)
				return e;
			for (size_t j = 0; j + 1 < count; j++)
				if (strcmp(pa->values[j], pa->values[count - 1]) == 0)
					return coffer_errf(COFFER_E_FORMAT, "%s: the same value "
					    "as [%zu]", vp, j);
			pa->nvalues = count;
		}
		if (e < 0)
			return e;
		if (count == 0)
			return coffer_errf(COFFER_E_FORMAT, "%s: expected an array of 1 "
			    "to 64 allowed values", pp);
	}
	return e;
}

/* P10 (PA5): the names only; they are resolved once the owners are read
 * (they come after `apps`). */
static int
read_app_datasets(struct rd *r, struct want *w, struct coffer_policy_app *a,
    const char *ap)
{
	char path[COFFER_JFIELD_PATH_MAX], ep[COFFER_JFIELD_PATH_MAX];
	size_t count = 0;
	int e;

	coffer_jfield_path(path, ap, "datasets");
	if ((e = get_array(r, path)) != 0)
		return e;
	if ((a->datasets = coffer_calloc(64, sizeof(size_t))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	while ((e = rd_element(r, &count)) == 1) {
		const char *dn;

		coffer_jfield_index(ep, path, count - 1);
		if (count > 64)
			return coffer_errf(COFFER_E_FORMAT, "%s: more than 64 elements, "
			    "expected 1 to 64", path);
		if ((e = get_str(r, ep, 1, COFFER_POLICY_NAME_MAX, NULL, &dn,
		    NULL)) != 0)
			return e;
		for (size_t j = 0; j + 1 < count; j++)
			if (strcmp(w->dnames[j], dn) == 0)
				return coffer_errf(COFFER_E_FORMAT, "%s: \"%s\" is listed "
				    "twice", ep, dn);
		w->dnames[count - 1] = dn;
		w->dindex[count - 1] = -1;
		a->ndatasets = count;
	}
	if (e < 0)
		return e;
	if (count == 0)
		return coffer_errf(COFFER_E_FORMAT, "%s: 0 elements, expected 1 to 64",
		    path);
	return 0;
}

/* P9 to P12 (PA5) for the app asked for, its members at off[]. */
static int
read_app(struct rd *r, struct coffer_policy *p, struct want *w,
    const size_t off[A_N], int depth, const char *ap)
{
	struct coffer_policy_app *a;
	char path[COFFER_JFIELD_PATH_MAX];
	const char *n;
	int e;

	if ((p->apps = coffer_calloc(1, sizeof(*p->apps))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	p->napps = 1;
	a = &p->apps[0];
	for (int k = 0; k < A_N; k++)
		if (off[k] == 0) {
			coffer_jfield_path(path, ap, app_members[k]);
			return coffer_errf(COFFER_E_FORMAT, "%s: missing", path);
		}
	seek(r, off[A_NAME], depth);
	coffer_jfield_path(path, ap, "name");
	if ((e = get_str(r, path, 1, COFFER_POLICY_NAME_MAX,
	    COFFER_JFIELD_LOWER_NAME, &n, NULL)) != 0)
		return e;
	a->name = n;
	seek(r, off[A_SHA256], depth);
	coffer_jfield_path(path, ap, "sha256");
	if ((e = get_hex(r, path, a->sha256, 32)) != 0)
		return e;
	seek(r, off[A_REDUCE], depth);
	if (rd_literal(r, "true") == 0)
		a->reduce = 1;
	else if (rd_literal(r, "false") == 0)
		a->reduce = 0;
	else {
		coffer_errclear();
		coffer_jfield_path(path, ap, "reduce");
		return coffer_errf(COFFER_E_FORMAT, "%s: expected true or false",
		    path);
	}
	seek(r, off[A_DATASETS], depth);
	if ((e = read_app_datasets(r, w, a, ap)) != 0)
		return e;
	seek(r, off[A_MEASUREMENTS], depth);
	if ((e = read_measurements(r, a, ap)) != 0)
		return e;
	seek(r, off[A_PARAMS], depth);
	return read_params(r, a, ap);
}

/* PA5: the apps, each an object with a valid name; the first of the name
 * asked for read whole. */
static int
read_apps(struct rd *r, struct coffer_policy *p, struct want *w)
{
	char ap[COFFER_JFIELD_PATH_MAX], path[COFFER_JFIELD_PATH_MAX];
	size_t count = 0, kl;
	const char *k;
	int e;

	if ((e = get_array(r, "apps")) != 0)
		return e;
	while ((e = rd_element(r, &count)) == 1) {
		struct members m = { NULL, 0, 0 };
		size_t off[A_N] = { 0 }, end;
		const char *unknown = NULL, *n;
		int depth;

		coffer_jfield_index(ap, "apps", count - 1);
		if (count > COFFER_POLICY_MAX_APPS)
			return coffer_errf(COFFER_E_FORMAT, "apps: more than %d "
			    "elements, expected 1 to %d", COFFER_POLICY_MAX_APPS,
			    COFFER_POLICY_MAX_APPS);
		if ((e = get_object(r, ap)) != 0)
			return e;
		depth = r->depth;
		while ((e = rd_member(r, &m, &k, &kl)) == 1) {
			int x = -1;

			for (int j = 0; j < A_N; j++)
				if (strcmp(k, app_members[j]) == 0)
					x = j;
			if (x >= 0)
				off[x] = r->i;
			else if (unknown == NULL)
				unknown = k;
			if ((e = rd_skip(r)) != 0)
				return e;
		}
		if (e < 0)
			return e;
		end = r->i;
		coffer_jfield_path(path, ap, "name");
		if (off[A_NAME] == 0)
			return coffer_errf(COFFER_E_FORMAT, "%s: missing", path);
		seek(r, off[A_NAME], depth);
		if ((e = get_str(r, path, 1, COFFER_POLICY_NAME_MAX,
		    COFFER_JFIELD_LOWER_NAME, &n, NULL)) != 0)
			return e;
		if (strcmp(n, w->app) == 0 && !w->found) {
			w->found = 1;
			/* P9: exactly the six members. */
			if (unknown != NULL) {
				coffer_jfield_path(path, ap, unknown);
				return coffer_errf(COFFER_E_FORMAT, "%s: unknown member",
				    path);
			}
			if ((e = read_app(r, p, w, off, depth, ap)) != 0)
				return e;
		}
		seek(r, end, depth - 1);
	}
	if (e < 0)
		return e;
	if (count == 0)
		return coffer_errf(COFFER_E_FORMAT, "apps: 0 elements, expected 1 to "
		    "%d", COFFER_POLICY_MAX_APPS);
	return 0;
}

/* PA6 (P8): the objects of dataset d. */
static int
read_objects(struct rd *r, struct coffer_policy_dataset *d, const char *dp,
    size_t *total)
{
	char path[COFFER_JFIELD_PATH_MAX];
	size_t count = 0, cap = 0, kl;
	const char *k;
	int e;

	coffer_jfield_path(path, dp, "objects");
	if ((e = get_array(r, path)) != 0)
		return e;
	while ((e = rd_element(r, &count)) == 1) {
		struct members m = { NULL, 0, 0 };
		struct coffer_policy_object *o;
		int has_key = 0, has_digest = 0;

		if (count > COFFER_POLICY_MAX_OBJECTS)
			return coffer_errf(COFFER_E_FORMAT, "%s: more than %d elements, "
			    "expected 1 to %d", path, COFFER_POLICY_MAX_OBJECTS,
			    COFFER_POLICY_MAX_OBJECTS);
		if (*total + 1 > COFFER_POLICY_MAX_OBJECTS)
			return coffer_errf(COFFER_E_FORMAT, "%s: more than %d objects "
			    "in the policy", dp, COFFER_POLICY_MAX_OBJECTS);
		if (count > cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct coffer_policy_object *v;

			if (nc > COFFER_POLICY_MAX_OBJECTS)
				nc = COFFER_POLICY_MAX_OBJECTS;
			if ((v = coffer_reallocarray(d->objects, nc, sizeof(*v))) == NULL)
				return coffer_errf(COFFER_E_NOMEM, "out of memory");
			d->objects = v;
			cap = nc;
		}
		o = &d->objects[count - 1];
		if (peek(r) != '{') {
			char ep[COFFER_JFIELD_PATH_MAX];

			coffer_jfield_index(ep, path, count - 1);
			return get_object(r, ep);
		}
		if ((e = rd_enter(r)) != 0)
			return e;
		/* Canonical order: "digest", then "key". */
		while ((e = rd_member(r, &m, &k, &kl)) == 1) {
			const char *s;
			size_t n;

			if (strcmp(k, "digest") == 0) {
				if (peek(r) != '"')
					goto bad_digest;
				if ((e = rd_str(r, 1, &s, &n)) != 0)
					return e;
				if (n != 7 + 64 || memcmp(s, "sha256:", 7) != 0 ||
				    lower_hex_decode(s + 7, o->digest, 32) != 0)
					goto bad_digest;
				has_digest = 1;
			} else if (strcmp(k, "key") == 0) {
				if (peek(r) != '"')
					goto bad_key;
				if ((e = rd_str(r, 1, &s, &n)) != 0)
					return e;
				if (n < 1 || n > COFFER_POLICY_KEY_MAX)
					goto bad_key;
				for (size_t j = 0; j < n; j++)
					if ((unsigned char)s[j] < 0x21 ||
					    (unsigned char)s[j] > 0x7e)
						goto bad_key;
				o->key = s;
				has_key = 1;
			} else {
				return coffer_errf(COFFER_E_FORMAT, "%s[%zu].%s: unknown "
				    "member", path, count - 1, k);
			}
		}
		if (e < 0)
			return e;
		if (!has_key || !has_digest)
			return coffer_errf(COFFER_E_FORMAT, "%s[%zu].%s: missing", path,
			    count - 1, has_key ? "digest" : "key");
		d->nobjects = count;
		(*total)++;
	}
	if (e < 0)
		return e;
	if (count == 0)
		return coffer_errf(COFFER_E_FORMAT, "%s: 0 elements, expected 1 to %d",
		    path, COFFER_POLICY_MAX_OBJECTS);
	return 0;
bad_digest:
	return coffer_errf(COFFER_E_FORMAT, "%s[%zu].digest: expected \"sha256:\" "
	    "and 64 lower-case hex digits (the sealed file's content digest)", path,
	    count - 1);
bad_key:
	return coffer_errf(COFFER_E_FORMAT, "%s[%zu].key: 1 to %d bytes of 0x21 to "
	    "0x7e expected", path, count - 1, COFFER_POLICY_KEY_MAX);
}

/* The app's datasets that name d (its first of that name): 1 if the app
 * reads it. */
static int
wanted(struct want *w, const struct coffer_policy *p, size_t d)
{
	int hit = 0;

	for (size_t j = 0; w->found && p->napps == 1 && j < p->apps[0].ndatasets; j++)
		if (w->dindex[j] < 0 && strcmp(w->dnames[j], p->datasets[d].name) == 0) {
			w->dindex[j] = (int)d;
			hit = 1;
		}
	return hit;
}

/* P7 for one dataset's members (PA4), and its objects when the app
 * reads it (PA6). */
static int
read_dataset_members(struct rd *r, struct coffer_policy *p, struct want *w,
    struct coffer_policy_dataset *d, const char *dp)
{
	struct members m = { NULL, 0, 0 };
	char path[COFFER_JFIELD_PATH_MAX];
	int has_name = 0, has_key_id = 0, has_objects = 0, e;
	const char *k;
	size_t kl;

	/* Canonical order: key_id, name, objects. */
	while ((e = rd_member(r, &m, &k, &kl)) == 1) {
		coffer_jfield_path(path, dp, k);
		if (strcmp(k, "key_id") == 0) {
			e = get_hex(r, path, d->key_id, 16);
			has_key_id = 1;
		} else if (strcmp(k, "name") == 0) {
			e = get_str(r, path, 1, COFFER_POLICY_NAME_MAX,
			    COFFER_JFIELD_NAME, &d->name, NULL);
			has_name = 1;
		} else if (strcmp(k, "objects") == 0) {
			has_objects = 1;
			if (has_name && wanted(w, p, p->ndatasets))
				e = read_objects(r, d, dp, &w->total);
			else
				e = rd_skip(r);
		} else {
			e = coffer_errf(COFFER_E_FORMAT, "%s: unknown member", path);
		}
		if (e != 0)
			return e;
	}
	if (e < 0)
		return e;
	if (!has_name || !has_key_id || !has_objects)
		return coffer_errf(COFFER_E_FORMAT, "%s.%s: missing", dp,
		    !has_name ? "name" : !has_key_id ? "key_id" : "objects");
	return 0;
}

/* One dataset (PA4, PA6), counted in ndatasets once read. */
static int
read_dataset(struct rd *r, struct coffer_policy *p, struct want *w,
    size_t owner, const char *dp)
{
	struct coffer_policy_dataset *d = &p->datasets[p->ndatasets];
	int e;

	if ((e = get_object(r, dp)) != 0)
		return e;
	d->owner = owner;
	if ((e = read_dataset_members(r, p, w, d, dp)) != 0) {
		/* Not yet counted in ndatasets: coffer_policy_free would miss it. */
		free(d->objects);
		d->objects = NULL;
		return e;
	}
	p->ndatasets++;
	return 0;
}

/* PA4 (P6, P7 each dataset alone) and PA6. */
static int
read_owners(struct rd *r, struct coffer_policy *p, struct want *w)
{
	char op[COFFER_JFIELD_PATH_MAX], path[COFFER_JFIELD_PATH_MAX],
	    dp[COFFER_JFIELD_PATH_MAX];
	size_t count = 0, kl;
	const char *k;
	int e;

	if ((e = get_array(r, "owners")) != 0)
		return e;
	p->owners = coffer_calloc(COFFER_POLICY_MAX_OWNERS, sizeof(*p->owners));
	if (p->owners == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	while ((e = rd_element(r, &count)) == 1) {
		struct coffer_policy_owner *ow;
		struct members m = { NULL, 0, 0 };
		int has_id = 0, has_datasets = 0;

		coffer_jfield_index(op, "owners", count - 1);
		if (count > COFFER_POLICY_MAX_OWNERS)
			return coffer_errf(COFFER_E_FORMAT, "owners: more than %d "
			    "elements, expected 1 to %d", COFFER_POLICY_MAX_OWNERS,
			    COFFER_POLICY_MAX_OWNERS);
		ow = &p->owners[count - 1];
		ow->first_dataset = p->ndatasets;
		if ((e = get_object(r, op)) != 0)
			return e;
		/* Canonical order: datasets, then id. */
		while ((e = rd_member(r, &m, &k, &kl)) == 1) {
			coffer_jfield_path(path, op, k);
			if (strcmp(k, "datasets") == 0) {
				size_t nd = 0;

				has_datasets = 1;
				if ((e = get_array(r, path)) != 0)
					return e;
				while ((e = rd_element(r, &nd)) == 1) {
					struct coffer_policy_dataset *v;

					if (nd > 64)
						return coffer_errf(COFFER_E_FORMAT, "%s: more than "
						    "64 elements, expected 0 to 64", path);
					v = coffer_reallocarray(p->datasets, p->ndatasets + 1,
					    sizeof(*v));
					if (v == NULL)
						return coffer_errf(COFFER_E_NOMEM, "out of memory");
					p->datasets = v;
					memset(&v[p->ndatasets], 0, sizeof(*v));
					coffer_jfield_index(dp, path, nd - 1);
					if ((e = read_dataset(r, p, w, count - 1, dp)) != 0)
						return e;
					ow->ndatasets++;
				}
			} else if (strcmp(k, "id") == 0) {
				has_id = 1;
				e = get_identity(r, path, &ow->id);
			} else {
				e = coffer_errf(COFFER_E_FORMAT, "%s: unknown member", path);
			}
			if (e != 0)
				return e;
		}
		if (e < 0)
			return e;
		if (!has_id || !has_datasets)
			return coffer_errf(COFFER_E_FORMAT, "%s.%s: missing", op,
			    has_id ? "datasets" : "id");
		if ((e = coffer_sha256(ow->id.sign_pk, 64, ow->fingerprint)) != 0)
			return e;
		for (size_t j = 0; j + 1 < count; j++)
			if (coffer_policy_same_identity(&p->owners[j].id, &ow->id))
				return coffer_errf(COFFER_E_FORMAT, "%s.id: the same keys as "
				    "owners[%zu] (one owner listed twice)", op, j);
		p->nowners = count;
	}
	if (e < 0)
		return e;
	if (count == 0)
		return coffer_errf(COFFER_E_FORMAT, "owners: 0 elements, expected 1 "
		    "to %d", COFFER_POLICY_MAX_OWNERS);
	return 0;
}

/* PA2 to PA6 over the whole text, root object first. */
static int
read_root(struct rd *r, struct coffer_policy *p, struct want *w)
{
	struct members m = { NULL, 0, 0 };
	int has_apps = 0, has_coordinator = 0, has_owners = 0, e;
	const char *k;
	size_t kl;

	if (peek(r) != '{')
		return bad(r, 0, "policy: expected an object");
	if ((e = rd_enter(r)) != 0)
		return e;
	/* Canonical order: apps, coordinator, ..., owners, ... */
	while ((e = rd_member(r, &m, &k, &kl)) == 1) {
		if (strcmp(k, "apps") == 0) {
			has_apps = 1;
			e = read_apps(r, p, w);
		} else if (strcmp(k, "coordinator") == 0) {
			has_coordinator = 1;
			e = get_identity(r, "coordinator", &p->coordinator);
		} else if (strcmp(k, "owners") == 0) {
			has_owners = 1;
			e = read_owners(r, p, w);
		} else {
			e = rd_skip(r);
		}
		if (e != 0)
			return e;
	}
	if (e < 0)
		return e;
	if (r->i != r->n)
		return bad(r, r->i, "text after the policy object");
	if (!has_coordinator)
		return coffer_errf(COFFER_E_FORMAT, "coordinator: missing");
	if (!has_owners)
		return coffer_errf(COFFER_E_FORMAT, "owners: expected an array");
	if (!has_apps)
		return coffer_errf(COFFER_E_FORMAT, "apps: expected an array");
	/* PA5: the app's datasets are datasets of PA4. */
	for (size_t j = 0; p->napps == 1 && j < p->apps[0].ndatasets; j++) {
		if (w->dindex[j] < 0)
			return coffer_errf(COFFER_E_FORMAT, "apps: \"%s\": no dataset "
			    "named \"%s\" in the policy", p->apps[0].name, w->dnames[j]);
		p->apps[0].datasets[j] = (size_t)w->dindex[j];
	}
	return 0;
}

int
coffer_policy_read_approved(const char *text, size_t len,
    const uint8_t hash[32], const char *app, struct coffer_policy **out)
{
	struct coffer_policy *p = NULL;
	struct want w;
	struct rd r;
	uint8_t got[32];
	char gh[65], wh[65];
	int e;

	/* PA1: nothing is parsed before the bytes are the approved ones. */
	if (len > COFFER_POLICY_MAX_BYTES)
		return coffer_errf(COFFER_E_LIMIT, "PA1: the policy is %zu bytes, more"
		    " than %zu", len, COFFER_POLICY_MAX_BYTES);
	if ((e = coffer_policy_hash_text(text, len, got)) != 0)
		return e;
	if (memcmp(got, hash, 32) != 0) {
		coffer_hex_encode(got, 32, gh);
		coffer_hex_encode(hash, 32, wh);
		return coffer_errf(COFFER_E_AUTH, "PA1: the policy text is the policy"
		    " %s, not %s", gh, wh);
	}
	/* PA2 to PA6 */
	if ((p = coffer_calloc(1, sizeof(*p))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	p->partial = 1;
	memcpy(p->hash, hash, 32);
	memset(&w, 0, sizeof(w));
	w.app = app;
	memset(&r, 0, sizeof(r));
	r.s = text;
	r.n = len;
	/* Each byte of text is decoded at most once in the pass, and the
	 * app's members once more (read_app): 2 * len bytes hold all, and
	 * rd_str asks for the rest of the text free besides. */
	r.cap = 3 * len + 3;
	if ((p->strings = coffer_malloc(r.cap)) == NULL) {
		e = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	r.st = p->strings;
	if ((e = read_root(&r, p, &w)) != 0)
		goto out;
	if (p->datasets == NULL &&
	    (p->datasets = coffer_calloc(1, sizeof(*p->datasets))) == NULL) {
		e = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	*out = p;
	p = NULL;
out:
	coffer_policy_free(p);
	return e != 0 ? coffer_errctx(e, "policy") : 0;
}
