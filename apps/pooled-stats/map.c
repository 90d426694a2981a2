// SPDX-License-Identifier: Apache-2.0
// pooled-stats, map stage: one owner's CSV file (RFC 4180, doc section 4)
// checked cell by cell against the schema and written in the binary form
// of section 5. A bad cell refuses the whole file with its line and
// column; messages never quote a cell (an error leaves the app, and in a
// confidential job the app's errors are seen by the operator): the owner
// has the file and the line number.
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"

#define FLUSH_AT 65536

struct field {
	const char *s;              /* in the input, or in scratch if quoted */
	size_t len;
	size_t off;                 /* quoted: where in scratch */
	int quoted;
	uint64_t line;              /* where the field starts (quoted fields span lines) */
};

struct csv {
	const uint8_t *p, *end;
	uint8_t delim;
	uint64_t line;              /* the current line, 1-based */
	char *scratch;              /* quoted fields of the record, unquoted */
	size_t scap;
	struct field *f;
	int nf, fcap;
};

static int
scratch_put(struct csv *r, size_t *len, uint8_t c)
{
	if (*len + 1 > r->scap) {
		size_t cap = r->scap ? r->scap * 2 : 4096;
		char *p = realloc(r->scratch, cap);

		if (p == NULL)
			return COFFER_E_NOMEM;
		r->scratch = p;
		r->scap = cap;
	}
	r->scratch[(*len)++] = (char)c;
	return 0;
}

/* A quoted field, r->p just after its opening quote, into scratch. */
static int
quoted(struct csv *r, struct field *f, size_t *slen, const char *id, char *err,
    size_t errlen)
{
	f->quoted = 1;
	f->off = *slen;
	for (;;) {
		if (r->p >= r->end)
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line %llu,"
			    " column %d: a quoted field is not closed", id,
			    (unsigned long long)f->line, r->nf);
		if (*r->p == '"') {
			if (r->p + 1 >= r->end || r->p[1] != '"') {
				r->p++;
				break;
			}
			r->p++; /* "" is one quote */
		} else if (*r->p == '\n') {
			r->line++;
		}
		if (*slen - f->off >= PS_MAX_FIELD)
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line %llu,"
			    " column %d: a field longer than %d bytes", id,
			    (unsigned long long)f->line, r->nf, PS_MAX_FIELD);
		if (scratch_put(r, slen, *r->p++) != 0)
			return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
	}
	f->len = *slen - f->off;
	while (r->p < r->end && *r->p == ' ')
		r->p++;
	if (r->p < r->end && *r->p != r->delim && *r->p != '\n' && *r->p != '\r')
		return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line %llu, column"
		    " %d: text after the closing quote", id,
		    (unsigned long long)r->line, r->nf);
	return 0;
}

/*
 * The next record's fields into r->f[0..nf) (section 4.1). Returns 1 with
 * a record, 0 at the end of the input, or an error. Empty lines are
 * skipped. *start gets the record's first line. Unquoted fields point
 * into the input (most fields: no copy).
 */
static int
csv_next(struct csv *r, const char *id, uint64_t *start, char *err, size_t errlen)
{
	size_t slen = 0;
	int r2;

	while (r->p < r->end && (*r->p == '\n' || (*r->p == '\r' &&
	    r->p + 1 < r->end && r->p[1] == '\n'))) {
		r->p += *r->p == '\r' ? 2 : 1;
		r->line++;
	}
	if (r->p >= r->end)
		return 0;
	*start = r->line;
	r->nf = 0;
	for (;;) {
		struct field *f;

		if (r->nf == PS_MAX_COLS + 1)
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line %llu: more"
			    " than %d fields", id, (unsigned long long)*start, PS_MAX_COLS);
		if (r->nf == r->fcap) {
			int cap = r->fcap ? r->fcap * 2 : 64;
			struct field *v = realloc(r->f, (size_t)cap * sizeof(*v));

			if (v == NULL)
				return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
			r->f = v;
			r->fcap = cap;
		}
		f = &r->f[r->nf++];
		f->line = r->line;
		f->quoted = 0;
		if (r->p < r->end && *r->p == '"') {
			r->p++;
			if ((r2 = quoted(r, f, &slen, id, err, errlen)) != 0)
				return r2;
		} else {
			const uint8_t *b = r->p;

			while (r->p < r->end && *r->p != r->delim && *r->p != '\n' &&
			    *r->p != '\r')
				r->p++;
			f->s = (const char *)b;
			f->len = (size_t)(r->p - b);
			if (f->len > PS_MAX_FIELD)
				return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line"
				    " %llu, column %d: a field longer than %d bytes", id,
				    (unsigned long long)f->line, r->nf, PS_MAX_FIELD);
		}
		if (r->p < r->end && *r->p == r->delim) {
			r->p++;
			continue;
		}
		if (r->p < r->end) {
			if (*r->p == '\r') {
				if (r->p + 1 >= r->end || r->p[1] != '\n')
					return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line"
					    " %llu: a carriage return not followed by a line"
					    " feed", id, (unsigned long long)r->line);
				r->p++;
			}
			r->p++; /* '\n' */
			r->line++;
		}
		break;
	}
	/* Scratch no longer moves: point quoted fields into it. */
	for (int i = 0; i < r->nf; i++)
		if (r->f[i].quoted)
			r->f[i].s = r->scratch ? r->scratch + r->f[i].off : "";
	return 1;
}

/* Section 4.2: strip spaces (and tabs unless they separate fields). */
static const char *
trim(const struct csv *r, const struct field *f, size_t *n)
{
	const char *s = f->s;
	size_t len = f->len;

	while (len > 0 && (*s == ' ' || (*s == '\t' && r->delim != '\t'))) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || (s[len - 1] == '\t' && r->delim != '\t')))
		len--;
	*n = len;
	return s;
}

/* Section 4.3: [+-]? (D+ (. D*)? | . D+) ([eE] [+-]? D+)? */
static int
is_decimal(const char *s, size_t n)
{
	size_t i = 0, d = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, d++;
	}
	if (d == 0)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, e++;
		if (e == 0)
			return 0;
	}
	return i == n;
}

/*
 * Section 5.1: a num cell as mantissa m and exponent e (v = m * 10^e)
 * when |m| <= 2^53 and |e| <= 22: then m * 10^e (or m / 10^-e) is one
 * correctly rounded operation on exact operands, the double strtod gives
 * (the caller checks that it is). -1 when the text does not fit.
 */
static int
decimal_parts(const char *s, size_t n, int64_t *mant, int *exp10)
{
	uint64_t m = 0;
	size_t i = 0;
	int neg = 0, e = 0, digits = 0, frac = 0;

	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	for (; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); i++) {
		if (s[i] == '.') {
			frac = 1;
			continue;
		}
		if (m == 0 && s[i] == '0') {
			e -= frac;
			continue;
		}
		if (++digits > 16)
			return -1;
		m = m * 10 + (uint64_t)(s[i] - '0');
		e -= frac;
	}
	if (i < n) { /* [eE][+-]?D+, already checked */
		int eneg = 0, x = 0;

		if (s[++i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < n; i++) {
			if (x > 400)
				return -1;
			x = x * 10 + (s[i] - '0');
		}
		e += eneg ? -x : x;
	}
	while (m != 0 && m % 10 == 0) {
		m /= 10;
		e++;
	}
	if (m == 0)
		e = 0;
	if (m > ((uint64_t)1 << 53) || e < -22 || e > 22)
		return -1;
	*mant = neg ? -(int64_t)m : (int64_t)m;
	*exp10 = e;
	return 0;
}

static int
is_integer(const char *s, size_t n)
{
	size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;

	if (i == n || n > 20)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static void
describe_range(const struct ps_column *c, char *out, size_t outlen)
{
	char lo[40] = "", hi[40] = "";

	if (c->has_lo)
		ps_fmt_double(lo, sizeof(lo), c->lo);
	if (c->has_hi)
		ps_fmt_double(hi, sizeof(hi), c->hi);
	snprintf(out, outlen, "[%s, %s]", c->has_lo ? lo : "-inf",
	    c->has_hi ? hi : "inf");
}

static void
describe_levels(const struct ps_column *c, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	for (int k = 0; k < c->nlevels && n + 8 < outlen; k++) {
		int w = snprintf(out + n, outlen - n, "%s%s", k ? ", " : "", c->levels[k]);

		if (w < 0 || (size_t)w >= outlen - n) {
			snprintf(out + n, outlen - n, "...");
			break;
		}
		n += (size_t)w;
	}
}

struct mapper {
	const struct ps_config *c;
	const char *id;
	struct csv r;
	int *fcol;                  /* file field -> schema column */
	int nfile;                  /* fields per record */
	int *col_field;             /* schema column -> file field */
	double *row;                /* stored cells of the current row */
	int64_t *mant;              /* num cells: decimal form, if dexp <= 22 */
	int *dexp;
};

/* "line L, column C", for error messages only. */
static const char *
where(char *buf, size_t len, uint64_t line, int field)
{
	snprintf(buf, len, "line %llu, column %d", (unsigned long long)line,
	    field + 1);
	return buf;
}

/* Section 4.3: a num cell's value. The decimal form, when the text has
 * one, is exact (decimal_parts); otherwise, and to check the fast path
 * when fuzzing, strtod (correctly rounded in glibc, as Python's float()). */
static double
num_value(struct mapper *m, const struct ps_column *col, const char *s, size_t n)
{
	int k = col->stored;
	char tmp[128];
	double v;

	m->dexp[k] = 99;
#if FLT_EVAL_METHOD == 0
	if (decimal_parts(s, n, &m->mant[k], &m->dexp[k]) == 0) {
		v = ps_decimal_value(m->mant[k], m->dexp[k]);
#ifdef COFFER_FUZZING
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (v != strtod(tmp, NULL))
			abort();
#endif
		return v;
	}
#endif
	memcpy(tmp, s, n); /* n < sizeof(tmp): checked by the caller */
	tmp[n] = '\0';
	return strtod(tmp, NULL);
}

/* Section 4.3: one cell into m->row; 1 if it is missing. */
static int
cell(struct mapper *m, int field, uint64_t line, char *err, size_t errlen)
{
	const struct ps_config *c = m->c;
	const struct ps_column *col = &c->schema.cols[m->fcol[field]];
	char at[64];
	size_t n;
	const char *s = trim(&m->r, &m->r.f[field], &n);
	double v;

	if (n == 0)
		goto missing;
	for (int i = 0; i < c->nna; i++)
		if (strlen(c->na[i]) == n && memcmp(c->na[i], s, n) == 0)
			goto missing;
	if (col->type == PS_CAT) {
		int l = ps_level_find(col, s, n);
		char levels[200];

		if (l < 0) {
			describe_levels(col, levels, sizeof(levels));
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' %s (%s): not one"
			    " of the levels %s", m->id, where(at, sizeof(at), line, field),
			    col->name, levels);
		}
		v = l;
	} else {
		char range[100], tmp[32];

		if (n >= 128 ||
		    !(col->type == PS_INT ? is_integer(s, n) : is_decimal(s, n)))
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' %s (%s): not %s",
			    m->id, where(at, sizeof(at), line, field), col->name,
			    col->type == PS_INT ? "an integer" : "a decimal number");
		if (col->type == PS_NUM) {
			v = num_value(m, col, s, n);
		} else {
			memcpy(tmp, s, n); /* n <= 20 (is_integer) */
			tmp[n] = '\0';
			v = strtod(tmp, NULL);
		}
		if (!isfinite(v) || (col->type == PS_INT && fabs(v) > PS_INT_LIMIT))
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' %s (%s): beyond"
			    " the range of %s", m->id, where(at, sizeof(at), line, field),
			    col->name, col->type == PS_INT ? "exact integers (+-2^53)" :
			    "a double");
		if ((col->has_lo && v < col->lo) || (col->has_hi && v > col->hi)) {
			describe_range(col, range, sizeof(range));
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' %s (%s): outside"
			    " the allowed range %s", m->id, where(at, sizeof(at), line,
			    field), col->name, range);
		}
		if (v == 0)
			v = 0; /* -0 is 0 */
	}
	m->row[col->stored] = v;
	if (m->fcol[field] == c->target && ps_label_of(c, v) < 0)
		return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' %s (%s): neither the"
		    " positive (%s) nor the negative (%s) label", m->id,
		    where(at, sizeof(at), line, field), col->name, c->positive,
		    c->negative);
	return 0;
missing:
	if (c->missing == PS_MISSING_REFUSE)
		return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' %s (%s): a missing"
		    " value (give missing=drop to leave such rows out)", m->id,
		    where(at, sizeof(at), line, field), col->name);
	return 1;
}

/* Section 4.1: the header names the file's columns. */
static int
header(struct mapper *m, uint64_t line, char *err, size_t errlen)
{
	const struct ps_schema *s = &m->c->schema;

	m->nfile = m->r.nf;
	for (int i = 0; i < m->nfile; i++) {
		size_t n;
		const char *name = trim(&m->r, &m->r.f[i], &n);
		int col = -1;

		for (int k = 0; k < s->ncols && col < 0; k++)
			if (strlen(s->cols[k].name) == n && memcmp(s->cols[k].name, name, n) == 0)
				col = k;
		if (col < 0) {
			const char *near = ps_closest(name, n, ps_column_name, s->ncols, s);

			if (n > 64)
				n = 64;
			while (n > 0 && !ps_utf8_ok((const unsigned char *)name, n))
				n--; /* not cut inside a character; nothing that is not text */

			if (near != NULL)
				return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line %llu,"
				    " column %d: '%.*s' is not a column of the schema (did"
				    " you mean '%s'?)", m->id, (unsigned long long)line,
				    i + 1, (int)n, name, near);
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line %llu, column"
			    " %d: '%.*s' is not a column of the schema (declare it"
			    " NAME:skip to leave it out)", m->id, (unsigned long long)line,
			    i + 1, (int)n, name);
		}
		if (m->col_field[col] >= 0)
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line %llu: columns"
			    " %d and %d are both named '%s'", m->id, (unsigned long long)line,
			    m->col_field[col] + 1, i + 1, s->cols[col].name);
		m->col_field[col] = i;
		m->fcol[i] = col;
	}
	for (int k = 0; k < s->ncols; k++)
		if (m->col_field[k] < 0)
			return ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line %llu: no"
			    " column '%s' (the schema declares it)", m->id,
			    (unsigned long long)line, s->cols[k].name);
	return 0;
}

static uint64_t
zigzag(int64_t x)
{
	return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
}

/* Section 5.1: the cells of one row. */
static int
encode_row(const struct mapper *m, struct ps_buf *b)
{
	const struct ps_schema *s = &m->c->schema;
	const double *row = m->row;
	int r = 0;

	for (int k = 0; k < s->nstored && r == 0; k++) {
		const struct ps_column *col = &s->cols[s->stored_to_col[k]];

		if (col->type == PS_NUM && m->dexp[k] <= 22) {
			if ((r = ps_put_varint(b, zigzag(m->dexp[k]) + 1)) == 0)
				r = ps_put_varint(b, zigzag(m->mant[k]));
		} else if (col->type == PS_NUM) {
			if ((r = ps_put_varint(b, 0)) == 0)
				r = ps_put_f64(b, row[k]);
		} else if (col->type == PS_CAT) {
			r = ps_put_varint(b, (uint64_t)row[k]);
		} else {
			r = ps_put_varint(b, zigzag((int64_t)row[k]));
		}
	}
	return r;
}

static int
flush(struct ps_buf *b, struct coffer_app_writer *out)
{
	int r = out->write(out, b->p, b->len);

	b->len = 0;
	return r;
}

int
ps_map(const struct ps_config *c, const char *id, const char *owner,
    const uint8_t *in, size_t inlen, struct coffer_app_writer *out, char *err,
    size_t errlen)
{
	const struct ps_schema *s = &c->schema;
	struct mapper m;
	struct ps_buf b = { NULL, 0, 0, (size_t)1 << 40 }; /* flushed at FLUSH_AT */
	uint64_t rows = 0, dropped = 0, line;
	uint8_t tail[16];
	size_t olen = owner ? strlen(owner) : 0;
	int r, got;

	memset(&m, 0, sizeof(m));
	m.c = c;
	m.id = id;
	m.r.p = in;
	m.r.end = in + inlen;
	m.r.delim = c->delim == PS_DELIM_TAB ? '\t' : c->delim == PS_DELIM_SEMICOLON ?
	    ';' : ',';
	m.r.line = 1;
	if (inlen >= 3 && in[0] == 0xef && in[1] == 0xbb && in[2] == 0xbf)
		m.r.p += 3; /* a UTF-8 byte order mark, as spreadsheets write */
	if (olen > PS_OWNER_MAX) {
		r = ps_errf(err, errlen, COFFER_E_INVAL, "owner name longer than %d"
		    " bytes", PS_OWNER_MAX);
		goto out;
	}
	m.fcol = calloc(PS_MAX_COLS + 1, sizeof(int));
	m.col_field = malloc((size_t)s->ncols * sizeof(int));
	m.row = calloc((size_t)s->nstored, sizeof(double));
	m.mant = calloc((size_t)s->nstored, sizeof(int64_t));
	m.dexp = calloc((size_t)s->nstored, sizeof(int));
	if (m.fcol == NULL || m.col_field == NULL || m.row == NULL ||
	    m.mant == NULL || m.dexp == NULL) {
		r = ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	for (int k = 0; k < s->ncols; k++)
		m.col_field[k] = c->header ? -1 : k;
	for (int k = 0; k < s->ncols; k++)
		m.fcol[k] = k;
	m.nfile = s->ncols;
	/* Section 5.1: magic, schema, owner; rows; counts. */
	{
		uint8_t hdr[PS_MAGIC_LEN + 4];

		memcpy(hdr, PS_MAGIC, PS_MAGIC_LEN);
		ps_put_u32(hdr + PS_MAGIC_LEN, (uint32_t)s->canonlen);
		if ((r = ps_buf_put(&b, hdr, sizeof(hdr))) != 0 ||
		    (r = ps_buf_put(&b, s->canon, s->canonlen)) != 0 ||
		    (r = ps_buf_put(&b, &(uint8_t){ (uint8_t)olen }, 1)) != 0 ||
		    (r = ps_buf_put(&b, owner ? owner : "", olen)) != 0)
			goto nospace;
	}
	if (c->header) {
		if ((got = csv_next(&m.r, id, &line, err, errlen)) < 0) {
			r = got;
			goto out;
		}
		if (got == 0) {
			r = ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' is empty (no"
			    " header line)", id);
			goto out;
		}
		if ((r = header(&m, line, err, errlen)) != 0)
			goto out;
	}
	while ((got = csv_next(&m.r, id, &line, err, errlen)) > 0) {
		int missing = 0;

		if (m.r.nf != m.nfile) {
			r = ps_errf(err, errlen, COFFER_E_FORMAT, "'%s' line %llu: %d"
			    " fields, %s %d", id, (unsigned long long)line, m.r.nf,
			    c->header ? "the header has" : "the schema has", m.nfile);
			goto out;
		}
		for (int i = 0; i < m.nfile; i++) {
			if (s->cols[m.fcol[i]].type == PS_SKIP)
				continue;
			if ((r = cell(&m, i, m.r.f[i].line, err, errlen)) < 0)
				goto out;
			missing |= r;
		}
		if (missing) {
			dropped++;
			continue;
		}
		if ((r = encode_row(&m, &b)) != 0)
			goto nospace;
		rows++;
		if (b.len >= FLUSH_AT && (r = flush(&b, out)) != 0)
			goto nospace;
	}
	if (got < 0) {
		r = got;
		goto out;
	}
	ps_put_u64(tail, rows);
	ps_put_u64(tail + 8, dropped);
	if ((r = ps_buf_put(&b, tail, sizeof(tail))) != 0 || (r = flush(&b, out)) != 0)
		goto nospace;
	r = 0;
	goto out;
nospace:
	r = ps_errf(err, errlen, r, "%s", r == COFFER_E_NOMEM ? "out of memory" :
	    "the map output is larger than the job's item limit");
out:
	ps_buf_free(&b);
	free(m.r.scratch);
	free(m.r.f);
	free(m.fcol);
	free(m.col_field);
	free(m.row);
	free(m.mant);
	free(m.dexp);
	return r;
}
