// SPDX-License-Identifier: Apache-2.0
// RFC 8785 JSON Canonicalization Scheme over jansson values (crypto/jcs.h).
// Numbers follow ECMA-262 Number::toString: the shortest decimal digits
// that read back as the same double, laid out by the ECMAScript rules.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/jcs.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "lib/utf8.h"

/* ---- Numbers: RFC 8785 section 3.2.2.3 ---- */

/* Split "%.*e" output ("d.ddde+XX" or "de-XX") into digits and exponent. */
static void
split_sci(const char *s, char *dig, int *k, int *e)
{
	int n = 0;

	dig[n++] = *s++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			dig[n++] = *s;
	dig[n] = '\0';
	*k = n;
	*e = (int)strtol(s + 1, NULL, 10); /* s points at 'e' */
}

/* Add delta (+1 or -1) in the last place of the k digits; may change k and
 * e when a carry or borrow crosses the leading digit. */
static void
step_digits(char *dig, int *k, int *e, int delta)
{
	int i;

	if (delta > 0) {
		for (i = *k - 1; i >= 0 && dig[i] == '9'; i--)
			dig[i] = '0';
		if (i >= 0) {
			dig[i]++;
		} else {
			/* 99..9 + 1 = 100..0: one more digit, drop the last. */
			memmove(dig + 1, dig, (size_t)*k);
			dig[0] = '1';
			dig[*k] = '\0';
			(*e)++;
		}
	} else {
		for (i = *k - 1; i >= 0 && dig[i] == '0'; i--)
			dig[i] = '9';
		dig[i]--; /* i >= 0: the leading digit is never 0 */
		if (dig[0] == '0') {
			/* 10..0 - 1 = 09..9: shift out the leading zero. */
			memmove(dig, dig + 1, (size_t)*k);
			(*k)--;
			(*e)--;
		}
	}
}

static double
value_of(const char *dig, int k, int e)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%c.%se%d", dig[0], k > 1 ? dig + 1 : "", e);
	return strtod(buf, NULL);
}

/*
 * The shortest digits s (k of them) and exponent e with x = s[0].s[1..] *
 * 10^e. For each precision p from 1 up, printf's correctly rounded p-digit
 * value is the p-digit decimal closest to x; if it does not read back as x
 * the only other p-digit candidate that can is its neighbour on the other
 * side of x (the rounding interval of a double is asymmetric at powers of
 * two). p = 17 always round-trips. C locale assumed (Coffer never calls
 * setlocale).
 */
static void
shortest(double x, char dig[24], int *k, int *e)
{
	char buf[48];

	for (int p = 1; p <= 17; p++) {
		double c;

		snprintf(buf, sizeof(buf), "%.*e", p - 1, x);
		split_sci(buf, dig, k, e);
		c = strtod(buf, NULL);
		if (c == x)
			break;
		step_digits(dig, k, e, c < x ? 1 : -1);
		if (*k == p && value_of(dig, *k, *e) == x)
			break;
		if (p == 17) { /* unreachable for IEEE doubles; keep the 17 digits */
			snprintf(buf, sizeof(buf), "%.16e", x);
			split_sci(buf, dig, k, e);
		}
	}
	while (*k > 1 && dig[*k - 1] == '0')
		dig[--(*k)] = '\0';
}

int
coffer_jcs_number(double d, char out[COFFER_JCS_NUMBER_MAX])
{
	char dig[24], *o = out;
	int k, e, n;

	if (!isfinite(d))
		return coffer_errf(COFFER_E_FORMAT, "%s cannot be represented in JSON "
		    "(RFC 8785 section 3.2.2.3)", isnan(d) ? "NaN" : "an infinity");
	if (d == 0) { /* +0 and -0 */
		memcpy(out, "0", 2);
		return 0;
	}
	if (d < 0) {
		*o++ = '-';
		d = -d;
	}
	shortest(d, dig, &k, &e);
	/* ECMA-262 Number::toString: x = s * 10^(n - k), s has k digits. */
	n = e + 1;
	if (k <= n && n <= 21) {
		memcpy(o, dig, (size_t)k);
		o += k;
		for (int i = 0; i < n - k; i++)
			*o++ = '0';
	} else if (0 < n && n <= 21) {
		memcpy(o, dig, (size_t)n);
		o += n;
		*o++ = '.';
		memcpy(o, dig + n, (size_t)(k - n));
		o += k - n;
	} else if (-6 < n && n <= 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -n; i++)
			*o++ = '0';
		memcpy(o, dig, (size_t)k);
		o += k;
	} else {
		*o++ = dig[0];
		if (k > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)(k - 1));
			o += k - 1;
		}
		o += snprintf(o, 8, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	*o = '\0';
	return 0;
}

/* ---- Strings: RFC 8785 section 3.2.2.2 ---- */

struct ctx {
	struct coffer_buf *out;
	char path[256];
	size_t plen;
};

static int
path_err(struct ctx *c, int err, const char *what)
{
	return coffer_errf(err, "%s%s: %s", c->path,
	    c->plen >= sizeof(c->path) - 1 ? "..." : "", what);
}

static int
put_string(struct ctx *c, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run;
	int r;

	if ((r = coffer_buf_put(c->out, "\"", 1)) != 0)
		return r;
	while (i < len) {
		size_t n;

		/* Copy runs of characters that need no escape in one go. */
		for (run = i; run < len && p[run] >= 0x20 && p[run] < 0x80 &&
		    p[run] != '"' && p[run] != '\\'; run++)
			;
		if (run > i) {
			if ((r = coffer_buf_put(c->out, p + i, run - i)) != 0)
				return r;
			i = run;
			continue;
		}
		if (p[i] >= 0x80) {
			if ((n = coffer_utf8_seq(s + i, len - i)) == 0)
				return path_err(c, COFFER_E_FORMAT, "string is not valid "
				    "UTF-8 (I-JSON, RFC 8785 section 3.1)");
			if ((r = coffer_buf_put(c->out, p + i, n)) != 0)
				return r;
			i += n;
			continue;
		}
		{
			char esc[7] = { '\\', 0 };
			size_t elen = 2;

			switch (p[i]) {
			case '"': esc[1] = '"'; break;
			case '\\': esc[1] = '\\'; break;
			case '\b': esc[1] = 'b'; break;
			case '\t': esc[1] = 't'; break;
			case '\n': esc[1] = 'n'; break;
			case '\f': esc[1] = 'f'; break;
			case '\r': esc[1] = 'r'; break;
			default: /* other control characters: \u00xx, lower case */
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[p[i] >> 4];
				esc[5] = hex[p[i] & 15];
				elen = 6;
			}
			if ((r = coffer_buf_put(c->out, esc, elen)) != 0)
				return r;
			i++;
		}
	}
	return coffer_buf_put(c->out, "\"", 1);
}

/* ---- Objects: RFC 8785 section 3.2.3 ---- */

struct member {
	const char *name;
	size_t len;
	uint16_t *u16; /* the name in UTF-16 code units, for sorting */
	size_t n16;
	json_t *value;
};

static int
to_utf16(const char *s, size_t len, uint16_t **out, size_t *n16)
{
	uint16_t *u;
	size_t i = 0, n = 0;

	if ((u = coffer_mallocarray(len + 1, sizeof(*u))) == NULL)
		return COFFER_E_NOMEM;
	while (i < len) {
		uint32_t cp;
		size_t k = coffer_utf8_decode(s + i, len - i, &cp);

		if (k == 0) {
			free(u);
			return COFFER_E_FORMAT;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u[n++] = (uint16_t)(0xd800 | cp >> 10);
			u[n++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			u[n++] = (uint16_t)cp;
		}
		i += k;
	}
	*out = u;
	*n16 = n;
	return 0;
}

static int
cmp_members(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	size_t n = x->n16 < y->n16 ? x->n16 : y->n16;

	for (size_t i = 0; i < n; i++)
		if (x->u16[i] != y->u16[i])
			return x->u16[i] < y->u16[i] ? -1 : 1;
	return x->n16 < y->n16 ? -1 : x->n16 > y->n16;
}

static int put_value(struct ctx *c, const json_t *v, int depth);

/* Append ".name" (at most 64 bytes of it) or "[i]" to the path for error
 * messages; each returns the old length for path_pop. */
static size_t
path_add(struct ctx *c, int w)
{
	size_t old = c->plen;

	c->plen += w < 0 ? 0 : (size_t)w;
	if (c->plen > sizeof(c->path) - 1)
		c->plen = sizeof(c->path) - 1;
	return old;
}

static size_t
path_push_name(struct ctx *c, const char *name, size_t n)
{
	return path_add(c, snprintf(c->path + c->plen, sizeof(c->path) - c->plen,
	    ".%.*s", (int)(n > 64 ? 64 : n), name));
}

static size_t
path_push_index(struct ctx *c, size_t i)
{
	return path_add(c, snprintf(c->path + c->plen, sizeof(c->path) - c->plen,
	    "[%zu]", i));
}

static void
path_pop(struct ctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static int
put_object(struct ctx *c, const json_t *obj, int depth)
{
	struct member *m = NULL;
	size_t n = json_object_size(obj), nalloc = n, i = 0, klen;
	const char *key;
	json_t *val;
	int r = 0;

	if ((m = coffer_calloc(n, sizeof(*m))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "JCS: %zu members", n);
	json_object_keylen_foreach((json_t *)obj, key, klen, val) {
		if (i == n)
			break;
		m[i].name = key;
		m[i].len = klen;
		m[i].value = val;
		if ((r = to_utf16(key, klen, &m[i].u16, &m[i].n16)) != 0) {
			size_t old = path_push_name(c, key, klen);

			r = r == COFFER_E_NOMEM ? coffer_errf(r, "JCS: member name") :
			    path_err(c, r, "member name is not valid UTF-8");
			path_pop(c, old);
			goto out;
		}
		i++;
	}
	n = i;
	qsort(m, n, sizeof(*m), cmp_members);
	if ((r = coffer_buf_put(c->out, "{", 1)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		size_t old;

		if ((i > 0 && (r = coffer_buf_put(c->out, ",", 1)) != 0) ||
		    (r = put_string(c, m[i].name, m[i].len)) != 0 ||
		    (r = coffer_buf_put(c->out, ":", 1)) != 0)
			goto out;
		old = path_push_name(c, m[i].name, m[i].len);
		r = put_value(c, m[i].value, depth + 1);
		path_pop(c, old);
		if (r != 0)
			goto out;
	}
	r = coffer_buf_put(c->out, "}", 1);
out:
	for (i = 0; m != NULL && i < nalloc; i++)
		free(m[i].u16);
	free(m);
	return r;
}

static int
put_value(struct ctx *c, const json_t *v, int depth)
{
	char num[COFFER_JCS_NUMBER_MAX];
	int r;

	if (depth > COFFER_JCS_MAX_DEPTH) {
		char what[64];

		snprintf(what, sizeof(what), "nested deeper than %d levels",
		    COFFER_JCS_MAX_DEPTH);
		return path_err(c, COFFER_E_LIMIT, what);
	}
	switch (json_typeof(v)) {
	case JSON_NULL:
		return coffer_buf_put(c->out, "null", 4);
	case JSON_TRUE:
		return coffer_buf_put(c->out, "true", 4);
	case JSON_FALSE:
		return coffer_buf_put(c->out, "false", 5);
	case JSON_STRING:
		return put_string(c, json_string_value(v), json_string_length(v));
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(v);

		/* RFC 8785 section 3.2.2.3: numbers are IEEE 754 doubles. */
		if (i > COFFER_JCS_INT_MAX || i < -COFFER_JCS_INT_MAX) {
			char what[96];

			snprintf(what, sizeof(what), "integer %lld is beyond +-2^53 and "
			    "cannot be canonicalized exactly", (long long)i);
			return path_err(c, COFFER_E_FORMAT, what);
		}
		return coffer_buf_putf(c->out, "%lld", (long long)i);
	}
	case JSON_REAL:
		if ((r = coffer_jcs_number(json_real_value(v), num)) != 0) {
			char what[128];

			snprintf(what, sizeof(what), "%s", coffer_errdetail());
			return path_err(c, r, what);
		}
		return coffer_buf_puts(c->out, num);
	case JSON_ARRAY: {
		size_t i;
		json_t *e;

		if ((r = coffer_buf_put(c->out, "[", 1)) != 0)
			return r;
		json_array_foreach((json_t *)v, i, e) {
			size_t old;

			if (i > 0 && (r = coffer_buf_put(c->out, ",", 1)) != 0)
				return r;
			old = path_push_index(c, i);
			r = put_value(c, e, depth + 1);
			path_pop(c, old);
			if (r != 0)
				return r;
		}
		return coffer_buf_put(c->out, "]", 1);
	}
	case JSON_OBJECT:
		return put_object(c, v, depth);
	}
	return path_err(c, COFFER_E_INTERNAL, "unknown jansson type");
}

int
coffer_jcs_put(const json_t *v, struct coffer_buf *out)
{
	struct ctx c;
	size_t start = out->len;
	int r;

	c.out = out;
	c.path[0] = '$';
	c.path[1] = '\0';
	c.plen = 1;
	if (v == NULL)
		return coffer_errf(COFFER_E_INVAL, "JCS: no value");
	if ((r = put_value(&c, v, 1)) != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	return r;
}

/*
 * Text input: every number is read as a double, as RFC 8785 section 3.2.2.3
 * says, and written back in its ECMAScript form. An integer literal is
 * accepted when reading it as a double loses nothing: either the double is
 * exactly the literal's integer (10000000000000000000000 is 1e22, which
 * canonicalizes to "1e+22"; 18446744073709551616 is 2^64), or the literal
 * already is the canonical text of the double it reads as (the canonical
 * form of 2^64, "18446744073709552000", reads back as 2^64, so canonical
 * text always canonicalizes to itself). Any other integer literal
 * (9007199254740993) would silently change value, so it is rejected; so is
 * nesting beyond the default JSON depth. Fractions and exponents are
 * inexact by nature in decimal and are rounded as the RFC says. This scan
 * runs before jansson and needs to understand only strings, brackets and
 * number tokens (coffer_json_scan): jansson validates everything else.
 */
/* 1 if the integer literal tok[0..len) ("-"? digits) reads as a double
 * without losing anything (see above). */
static int
exact_integer(const char *tok, size_t len)
{
	char t[400], exact[400], num[COFFER_JCS_NUMBER_MAX];
	double d;
	int n;

	if (len >= sizeof(t))
		return 0; /* beyond DBL_MAX (309 digits): infinite */
	memcpy(t, tok, len);
	t[len] = '\0';
	d = strtod(t, NULL);
	if (coffer_jcs_number(d, num) != 0)
		return 0; /* overflowed to infinity */
	if (strcmp(num, t) == 0)
		return 1;
	/* glibc prints the exact decimal value of a double with %.0f (an
	 * integral double has no fraction to round). */
	n = snprintf(exact, sizeof(exact), "%.0f", d);
	return n > 0 && (size_t)n < sizeof(exact) && strcmp(exact, t) == 0;
}

/* coffer_json_scan() callback: refuse an integer literal that a double
 * cannot hold (see above). */
static int
check_number(const char *tok, size_t len, size_t off, void *arg)
{
	size_t sign = tok[0] == '-', i;

	for (i = sign; i < len && tok[i] >= '0' && tok[i] <= '9'; i++)
		;
	/* Below 10^15 every integer is exact (2^53 > 9 * 10^15). */
	if (i == len && len - sign > 15 && !exact_integer(tok, len))
		return coffer_errf(COFFER_E_FORMAT, "JSON integer %.*s%s at "
		    "offset %zu cannot be represented exactly as an IEEE 754 "
		    "double (RFC 8785 section 3.2.2.3); write it as a string",
		    (int)(len > 40 ? 40 : len), tok, len > 40 ? "..." : "", off);
	return 0;
}

int
coffer_jcs_canonicalize(const char *text, size_t len, struct coffer_buf *out)
{
	json_error_t jerr;
	json_t *v = NULL;
	int r;

	if (len > COFFER_JSON_MAX_BYTES_DEFAULT)
		return coffer_errf(COFFER_E_LIMIT, "JSON document of %zu bytes exceeds "
		    "the limit of %zu", len, (size_t)COFFER_JSON_MAX_BYTES_DEFAULT);
	if ((r = coffer_json_scan(text, len, COFFER_JSON_MAX_DEPTH_DEFAULT,
	    check_number, NULL)) != 0)
		return r;
	/* The flags of coffer_json_parse, numbers as doubles, and any JSON
	 * text (RFC 8259 allows a scalar at the top). */
	if ((v = json_loadb(text, len, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &jerr)) == NULL)
		return coffer_errf(COFFER_E_FORMAT, "JSON line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
	r = coffer_jcs_put(v, out);
	json_decref(v);
	return r;
}
