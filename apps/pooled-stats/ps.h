/* SPDX-License-Identifier: Apache-2.0 */
/* pooled-stats: what its files share. The app is specified in
 * doc/apps/pooled-stats.md (parameters, schema, the map output format
 * of section 5, the statistics and the disclosure limits); files cite
 * its sections. Every function returns 0 or a negative coffer error code
 * and then has written a message to err (never a cell's value). */
#ifndef PS_H
#define PS_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/app.h"
#include "coffer/error.h"

#define PS_VERSION "1.0"

/* Limits (doc section 3). */
#define PS_MAX_COLS 1024
#define PS_MAX_NAME 128
#define PS_MAX_LEVELS 256
#define PS_MAX_LEVEL_LEN 128
#define PS_MAX_QUANTILES 32
#define PS_MAX_FEATURES 1024       /* the Hessian is (p+1)^2 doubles */
#define PS_MAX_NA 16
#define PS_MAX_FIELD 4096
#define PS_INT_LIMIT 9007199254740992.0 /* 2^53: ints stay exact as doubles */

/* Write a message to err (truncated to errlen) and return code. */
int ps_errf(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* For "did you mean": the candidate closest to s[0..n) in edit distance,
 * if it is at most 2 edits away (and s is not a single character), else
 * NULL. cand(i, arg) gives the i-th of ncand candidates. */
const char *ps_closest(const char *s, size_t n,
    const char *(*cand)(int i, const void *arg), int ncand, const void *arg);

/* ---- A bounded growable byte buffer (map output, JSON) ---- */
struct ps_buf {
	uint8_t *p;
	size_t len, cap, max;
};
int ps_buf_put(struct ps_buf *b, const void *p, size_t n);
int ps_buf_printf(struct ps_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ps_buf_free(struct ps_buf *b);

/* ---- Schema (doc section 2) ---- */
enum ps_type { PS_NUM = 1, PS_INT = 2, PS_CAT = 3, PS_SKIP = 4 };

struct ps_column {
	char name[PS_MAX_NAME + 1];
	enum ps_type type;
	int has_lo, has_hi;
	double lo, hi;              /* inclusive bounds (num, int) */
	char **levels;              /* cat: allowed values, in schema order */
	int nlevels;
	int stored;                 /* index among stored columns, or -1 (skip) */
};

struct ps_schema {
	struct ps_column *cols;
	int ncols;
	int nstored;                /* columns that are not skip */
	int *stored_to_col;         /* stored index -> column index */
	char *canon;                /* canonical text (doc section 2.3) */
	size_t canonlen;
};

int ps_schema_parse(const char *text, struct ps_schema *s, char *err,
    size_t errlen);
void ps_schema_free(struct ps_schema *s);
int ps_schema_find(const struct ps_schema *s, const char *name);
/* Well-formed UTF-8 (RFC 3629). */
int ps_utf8_ok(const unsigned char *s, size_t n);
/* Column i's name; arg is the schema (for ps_closest). */
const char *ps_column_name(int i, const void *arg);
/* Level index of value[0..n) in a cat column, or -1. */
int ps_level_find(const struct ps_column *c, const char *v, size_t n);

/* ---- Parameters (doc section 3; params.c holds the one table) ---- */
enum ps_ptype { PT_STRING, PT_INT, PT_REAL, PT_ENUM, PT_LIST };

struct ps_param_def {
	const char *name;
	enum ps_ptype type;
	const char *def;            /* default, as text */
	double min, max;            /* INT, REAL: value range; STRING, LIST: max length */
	const char *choices;        /* ENUM: "a|b|c" */
	const char *help;
};
extern const struct ps_param_def ps_params[];
extern const size_t ps_nparams;
#define PS_NPARAMS 21               /* rows of ps_params */
/* The table as the app ABI's declarations (doc/format/app-abi.md
 * section 5), into out[PS_NPARAMS]. */
void ps_param_decls(struct coffer_app_param_decl *out);

enum ps_missing { PS_MISSING_REFUSE, PS_MISSING_DROP };
enum ps_small { PS_SMALL_SUPPRESS, PS_SMALL_COARSEN };
enum ps_delim { PS_DELIM_COMMA, PS_DELIM_SEMICOLON, PS_DELIM_TAB };

/* One regression feature: a num/int column, or one level of a cat
 * column as a 0/1 indicator (doc section 6.1). */
struct ps_feature {
	int col;                    /* schema column */
	int level;                  /* cat: the level coded 1; else -1 */
	char name[PS_MAX_NAME + PS_MAX_LEVEL_LEN + 2];
};

struct ps_config {
	struct ps_schema schema;
	int header;
	enum ps_delim delim;
	char *na[PS_MAX_NA];
	int nna;
	enum ps_missing missing;
	double quantiles[PS_MAX_QUANTILES];
	int nquantiles;
	/* The model (target < 0: none). */
	int target;                 /* schema column */
	char *positive, *negative;  /* label coding, as given */
	double pos_value, neg_value; /* num/int target: the values coded 1 / 0 */
	int pos_level, neg_level;   /* cat target: levels coded 1 / 0 (-1: any other) */
	struct ps_feature *features;
	int nfeatures;
	int penalty;                /* 1: L2, 0: none */
	double C, tol;
	int max_iter;
	/* Disclosure limits (doc section 7). */
	long long min_owners, min_rows_per_owner, min_cell_count, minmax_min_n;
	enum ps_small minmax_small;
	int coarsen_digits;
	long long max_rows;
};

int ps_config_parse(const struct coffer_app_param *params, size_t nparams,
    struct ps_config *c, char *err, size_t errlen);
void ps_config_free(struct ps_config *c);
/* The label of a target value: 1 positive, 0 negative, -1 neither.
 * value: the stored cell (a number, or a cat level index). */
int ps_label_of(const struct ps_config *c, double value);

/* ---- Map (map.c): CSV -> the binary form of doc section 5 ---- */
int ps_map(const struct ps_config *c, const char *item_id, const char *owner,
    const uint8_t *in, size_t inlen, struct coffer_app_writer *out, char *err,
    size_t errlen);

/* ---- The map output format (mapfmt.c, doc section 5) ---- */
#define PS_MAGIC "PSTATS01"
#define PS_MAGIC_LEN 8
#define PS_OWNER_MAX 128

void ps_put_u16(uint8_t *p, uint16_t v);
void ps_put_u32(uint8_t *p, uint32_t v);
void ps_put_u64(uint8_t *p, uint64_t v);
int ps_put_f64(struct ps_buf *b, double v);
int ps_put_varint(struct ps_buf *b, uint64_t v);
/* m * 10^e for |m| <= 2^53, |e| <= 22: correctly rounded (section 5.1). */
double ps_decimal_value(int64_t m, int e);

/* A decoded map output: rows as doubles, row-major, nstored per row. */
struct ps_item {
	char owner[PS_OWNER_MAX + 1];
	int has_owner;
	uint64_t rows, dropped;
	const uint8_t *cells;       /* the encoded rows, for ps_item_next_row */
	size_t cellslen;
};
int ps_item_parse(const struct ps_config *c, const uint8_t *in, size_t inlen,
    struct ps_item *it, char *err, size_t errlen);
/* Decode the next row into row[nstored]; *pos walks it->cells. */
int ps_item_next_row(const struct ps_config *c, const struct ps_item *it,
    size_t *pos, double *row, char *err, size_t errlen);

/* ---- Descriptive statistics (describe.c, doc section 6) ---- */
struct ps_moments {
	double n, mean, m2, min, max;
};
void ps_moments_add(struct ps_moments *m, double x);
void ps_moments_merge(struct ps_moments *into, const struct ps_moments *m);
/* numpy.quantile(x, p) with method 'linear', x sorted ascending. */
double ps_quantile_sorted(const double *x, size_t n, double p);
/* Round outward to digits significant digits: down for a minimum
 * (up = 0), up for a maximum (up = 1). */
double ps_coarsen(double v, int digits, int up);

/* ---- The model (logreg.c, doc section 6.2) ---- */
enum ps_fit_status {
	PS_FIT_CONVERGED = 0,
	PS_FIT_MAX_ITER,            /* not converged within max_iter */
	PS_FIT_SEPARATED,           /* a linear rule separates the classes */
	PS_FIT_SINGULAR,            /* the Hessian is not positive definite */
};
struct ps_fit {
	enum ps_fit_status status;
	double *w;                  /* p standardised coefficients */
	double b;                   /* intercept */
	int iterations;
	double accuracy, log_loss, grad_max;
};
/* Fit on z (n x p, row-major, standardised) with labels y (0/1). */
int ps_logreg_fit(const double *z, const uint8_t *y, size_t n, int p,
    int penalty, double C, double tol, int max_iter, struct ps_fit *f,
    char *err, size_t errlen);
void ps_fit_free(struct ps_fit *f);

/* ---- JSON output (jsonw.c) ---- */
struct ps_json {
	struct ps_buf *b;
	int depth;
	int first[32];              /* no member written yet at this depth */
	int r;                      /* first error, sticky */
};
void ps_json_init(struct ps_json *j, struct ps_buf *b);
void ps_json_open(struct ps_json *j, const char *key, char kind);
void ps_json_close(struct ps_json *j, char kind);
void ps_json_str(struct ps_json *j, const char *key, const char *v);
void ps_json_strn(struct ps_json *j, const char *key, const char *v, size_t n);
void ps_json_num(struct ps_json *j, const char *key, double v); /* null if not finite */
void ps_json_int(struct ps_json *j, const char *key, long long v);
void ps_json_bool(struct ps_json *j, const char *key, int v);
void ps_json_null(struct ps_json *j, const char *key);
/* Shortest %.Ng text that reads back as v (N = 1..17). */
void ps_fmt_double(char *out, size_t outlen, double v);

/* ---- Reduce (reduce.c) ---- */
struct ps_reduce;
int ps_reduce_new(const struct ps_config *c, struct ps_reduce **out);
int ps_reduce_add(struct ps_reduce *r, const char *item_id, const uint8_t *in,
    size_t inlen, char *err, size_t errlen);
int ps_reduce_finish(struct ps_reduce *r, struct ps_buf *out, char *err,
    size_t errlen);
void ps_reduce_free(struct ps_reduce *r);

#endif
