// SPDX-License-Identifier: Apache-2.0
// pooled-stats: its job parameters, in one table (name, type, default,
// range, help) that doc/apps/pooled-stats.md section 3 lists and that the
// app ABI's parameter declarations (issue 15) can be filled from; then
// the checks that need several parameters at once (target, coding,
// features).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"

#define BIG 1e15

const struct ps_param_def ps_params[] = {
	{ "schema", PT_STRING, "", 0, 4096, NULL,
	  "the columns: NAME:TYPE;... with TYPE num[LO,HI], int[LO,HI],"
	  " cat{A,B,...} or skip (required)" },
	{ "header", PT_ENUM, "yes", 0, 0, "yes|no",
	  "yes: the first line names the columns (any order); no: columns in"
	  " schema order" },
	{ "delimiter", PT_ENUM, "comma", 0, 0, "comma|semicolon|tab",
	  "the field separator" },
	{ "na", PT_LIST, "NA", 0, 512, NULL,
	  "values that mean missing, besides an empty field (comma-separated)" },
	{ "missing", PT_ENUM, "refuse", 0, 0, "refuse|drop",
	  "a row with a missing value: refuse the file, or drop the row" },
	{ "quantiles", PT_LIST, "0.25,0.5,0.75", 0, 512, NULL,
	  "probabilities in (0,1) of the quantiles to report" },
	{ "target", PT_STRING, "", 0, PS_MAX_NAME, NULL,
	  "the label column of the logistic regression (empty: no model)" },
	{ "positive", PT_STRING, "", 0, PS_MAX_LEVEL_LEN, NULL,
	  "the target value coded 1 (required with target)" },
	{ "negative", PT_STRING, "", 0, PS_MAX_LEVEL_LEN, NULL,
	  "the target value coded 0 (default for a cat target: every other"
	  " level; required for num and int targets)" },
	{ "features", PT_LIST, "", 0, 4096, NULL,
	  "the model's features, comma-separated (default: every num and int"
	  " column but the target); a cat column adds one 0/1 feature per"
	  " level but its first" },
	{ "penalty", PT_ENUM, "l2", 0, 0, "l2|none",
	  "l2: minimise C * sum of log-losses + |w|^2/2; none: the plain"
	  " maximum-likelihood fit" },
	{ "C", PT_REAL, "1", 1e-12, 1e12, NULL,
	  "inverse regularisation strength (penalty=l2)" },
	{ "tol", PT_REAL, "1e-10", 1e-15, 1e-2, NULL,
	  "stop when max |gradient| and half the Newton decrement of the"
	  " objective / (C n) are both at most tol" },
	{ "max_iter", PT_INT, "100", 1, 10000, NULL,
	  "most Newton iterations" },
	{ "min_owners", PT_INT, "3", 1, 100000, NULL,
	  "refuse to release anything with fewer data owners" },
	{ "min_rows_per_owner", PT_INT, "10", 1, BIG, NULL,
	  "refuse to release anything if an owner has fewer usable rows" },
	{ "min_cell_count", PT_INT, "5", 1, BIG, NULL,
	  "category counts from 1 to this minus 1 are suppressed; the model"
	  " needs this many rows in each class" },
	{ "minmax_min_n", PT_INT, "50", 1, BIG, NULL,
	  "with fewer rows, min, max and quantiles are suppressed or"
	  " coarsened" },
	{ "minmax_small", PT_ENUM, "suppress", 0, 0, "suppress|coarsen",
	  "what min, max and quantiles become below minmax_min_n rows" },
	{ "coarsen_digits", PT_INT, "1", 1, 15, NULL,
	  "significant digits kept by minmax_small=coarsen (rounded outward)" },
	{ "max_rows", PT_INT, "10000000", 1, 1e9, NULL,
	  "most rows the reduce stage holds (8 bytes per stored cell)" },
};
const size_t ps_nparams = sizeof(ps_params) / sizeof(ps_params[0]);
_Static_assert(sizeof(ps_params) / sizeof(ps_params[0]) == PS_NPARAMS, "PS_NPARAMS");

void
ps_param_decls(struct coffer_app_param_decl *out)
{
	for (size_t i = 0; i < ps_nparams; i++) {
		const struct ps_param_def *d = &ps_params[i];

		memset(&out[i], 0, sizeof(out[i]));
		out[i].name = d->name;
		out[i].type = d->type == PT_INT ? COFFER_APP_PARAM_INT :
		    d->type == PT_REAL ? COFFER_APP_PARAM_NUMBER : COFFER_APP_PARAM_STRING;
		out[i].required = strcmp(d->name, "schema") == 0; /* no default */
		out[i].min = d->min;     /* STRING, LIST: 0 to the longest */
		out[i].max = d->max;
		out[i].values = d->choices;
		out[i].help = d->help;
	}
}

static const char *
param_name(int i, const void *arg)
{
	(void)arg;
	return ps_params[i].name;
}

/* The value of every parameter, given or default, by table index. */
struct values {
	const char *v[sizeof(ps_params) / sizeof(ps_params[0])];
};

static const char *
get(const struct values *vals, const char *name)
{
	for (size_t i = 0; i < ps_nparams; i++)
		if (strcmp(ps_params[i].name, name) == 0)
			return vals->v[i];
	return NULL; /* not reached: callers name table rows */
}

static int
parse_real(const char *s, double *out)
{
	char *e;

	errno = 0;
	*out = strtod(s, &e);
	return s[0] != '\0' && *e == '\0' && errno == 0 && isfinite(*out) &&
	    strspn(s, "+-0123456789.eE") == strlen(s) ? 0 : -1;
}

/* Type and range of one value (table row d). */
static int
check_value(const struct ps_param_def *d, const char *v, char *err, size_t errlen)
{
	double x;

	switch (d->type) {
	case PT_STRING:
	case PT_LIST:
		if (strlen(v) > (size_t)d->max)
			return ps_errf(err, errlen, COFFER_E_INVAL, "parameter %s: longer"
			    " than %.0f bytes", d->name, d->max);
		return 0;
	case PT_ENUM: {
		const char *p = d->choices;
		size_t n = strlen(v);

		while (*p) {
			size_t k = strcspn(p, "|");

			if (k == n && strncmp(p, v, n) == 0)
				return 0;
			p += k + (p[k] == '|');
		}
		return ps_errf(err, errlen, COFFER_E_INVAL, "parameter %s: '%s' is not"
		    " one of %s", d->name, v, d->choices);
	}
	case PT_INT:
	case PT_REAL:
		if (parse_real(v, &x) != 0 || (d->type == PT_INT &&
		    strspn(v, "+-0123456789") != strlen(v)))
			return ps_errf(err, errlen, COFFER_E_INVAL, "parameter %s: '%s' is"
			    " not %s", d->name, v, d->type == PT_INT ? "an integer" :
			    "a number");
		if (x < d->min || x > d->max)
			return ps_errf(err, errlen, COFFER_E_INVAL, "parameter %s: %s is"
			    " out of its range [%g, %g]", d->name, v, d->min, d->max);
		return 0;
	}
	return COFFER_E_INTERNAL;
}

/* "a,b,c" -> up to max trimmed, non-empty strings. */
static int
split_list(const char *s, char **out, int max, int *n, const char *what,
    char *err, size_t errlen)
{
	*n = 0;
	while (*s) {
		size_t k = strcspn(s, ","), a = 0, b = k;

		while (a < b && s[a] == ' ')
			a++;
		while (b > a && s[b - 1] == ' ')
			b--;
		if (b == a)
			return ps_errf(err, errlen, COFFER_E_INVAL, "parameter %s: an empty"
			    " entry", what);
		if (*n == max)
			return ps_errf(err, errlen, COFFER_E_INVAL, "parameter %s: more than"
			    " %d entries", what, max);
		if ((out[*n] = strndup(s + a, b - a)) == NULL)
			return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
		(*n)++;
		s += k + (s[k] == ',');
	}
	return 0;
}

static void
free_list(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
}

static int
parse_quantiles(struct ps_config *c, const char *s, char *err, size_t errlen)
{
	char *v[PS_MAX_QUANTILES];
	int n, r;

	if ((r = split_list(s, v, PS_MAX_QUANTILES, &n, "quantiles", err,
	    errlen)) != 0) {
		free_list(v, n);
		return r;
	}
	for (int i = 0; i < n && r == 0; i++) {
		double p;

		if (parse_real(v[i], &p) != 0 || !(p > 0 && p < 1))
			r = ps_errf(err, errlen, COFFER_E_INVAL, "parameter quantiles: '%s'"
			    " is not a probability strictly between 0 and 1 (min and max"
			    " are reported on their own)", v[i]);
		for (int k = 0; k < i && r == 0; k++)
			if (c->quantiles[k] == p)
				r = ps_errf(err, errlen, COFFER_E_INVAL, "parameter quantiles:"
				    " %s is listed twice", v[i]);
		c->quantiles[i] = p;
	}
	c->nquantiles = n;
	free_list(v, n);
	return r;
}

/* A target value given as text -> its stored form (section 6.2). */
static int
coding(const struct ps_column *t, const char *what, const char *v, double *num,
    int *level, char *err, size_t errlen)
{
	if (t->type == PS_CAT) {
		if ((*level = ps_level_find(t, v, strlen(v))) < 0)
			return ps_errf(err, errlen, COFFER_E_INVAL, "parameter %s: '%s' is"
			    " not a level of the target column '%s'", what, v, t->name);
		return 0;
	}
	if (parse_real(v, num) != 0 || (t->type == PS_INT && *num != floor(*num)))
		return ps_errf(err, errlen, COFFER_E_INVAL, "parameter %s: '%s' is not"
		    " a value of the %s target column '%s'", what, v,
		    t->type == PS_INT ? "int" : "num", t->name);
	return 0;
}

static int
add_feature(struct ps_config *c, int col, int level, char *err, size_t errlen)
{
	struct ps_feature *f;
	const struct ps_column *k = &c->schema.cols[col];

	if (c->nfeatures == PS_MAX_FEATURES)
		return ps_errf(err, errlen, COFFER_E_INVAL, "parameter features: more"
		    " than %d features (a cat column adds one per level but its"
		    " first)", PS_MAX_FEATURES);
	if (c->nfeatures % 64 == 0) {
		struct ps_feature *v = realloc(c->features,
		    (size_t)(c->nfeatures + 64) * sizeof(*v));

		if (v == NULL)
			return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
		c->features = v;
	}
	f = &c->features[c->nfeatures++];
	f->col = col;
	f->level = level;
	if (level >= 0)
		snprintf(f->name, sizeof(f->name), "%s=%s", k->name, k->levels[level]);
	else
		snprintf(f->name, sizeof(f->name), "%s", k->name);
	return 0;
}

static int
parse_model(struct ps_config *c, const struct values *vals, char *err,
    size_t errlen)
{
	const char *target = get(vals, "target"), *pos = get(vals, "positive");
	const char *neg = get(vals, "negative"), *feat = get(vals, "features");
	const struct ps_column *t;
	char *names[PS_MAX_COLS];
	int n = 0, r;

	c->target = -1;
	c->pos_level = c->neg_level = -1;
	if (target[0] == '\0') {
		if (pos[0] || neg[0] || feat[0])
			return ps_errf(err, errlen, COFFER_E_INVAL, "parameters positive,"
			    " negative and features need target");
		return 0;
	}
	if ((c->target = ps_schema_find(&c->schema, target)) < 0) {
		const char *near = ps_closest(target, strlen(target), ps_column_name,
		    c->schema.ncols, &c->schema);

		return ps_errf(err, errlen, COFFER_E_INVAL, "parameter target: no"
		    " column '%s' in the schema%s%s%s", target,
		    near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	}
	t = &c->schema.cols[c->target];
	if (t->type == PS_SKIP)
		return ps_errf(err, errlen, COFFER_E_INVAL, "parameter target: column"
		    " '%s' is skip", target);
	if (pos[0] == '\0')
		return ps_errf(err, errlen, COFFER_E_INVAL, "parameter positive: give"
		    " the target value coded 1");
	if (neg[0] == '\0' && t->type != PS_CAT)
		return ps_errf(err, errlen, COFFER_E_INVAL, "parameter negative: give"
		    " the target value coded 0 (the target column '%s' is not cat)",
		    target);
	if ((r = coding(t, "positive", pos, &c->pos_value, &c->pos_level, err,
	    errlen)) != 0)
		return r;
	if (neg[0] != '\0' && (r = coding(t, "negative", neg, &c->neg_value,
	    &c->neg_level, err, errlen)) != 0)
		return r;
	if (neg[0] != '\0' && (t->type == PS_CAT ? c->pos_level == c->neg_level :
	    c->pos_value == c->neg_value))
		return ps_errf(err, errlen, COFFER_E_INVAL, "parameters positive and"
		    " negative name the same value");
	if (t->type == PS_CAT && neg[0] == '\0' && t->nlevels < 2)
		return ps_errf(err, errlen, COFFER_E_INVAL, "parameter target: column"
		    " '%s' has one level only", target);
	if ((c->positive = strdup(pos)) == NULL || (c->negative = strdup(neg)) == NULL)
		return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
	if (feat[0] == '\0') {
		for (int i = 0; i < c->schema.ncols; i++)
			if (i != c->target && (c->schema.cols[i].type == PS_NUM ||
			    c->schema.cols[i].type == PS_INT) &&
			    (r = add_feature(c, i, -1, err, errlen)) != 0)
				return r;
		if (c->nfeatures == 0)
			return ps_errf(err, errlen, COFFER_E_INVAL, "no feature: the schema"
			    " has no num or int column besides the target (name cat"
			    " columns in parameter features)");
		return 0;
	}
	if ((r = split_list(feat, names, PS_MAX_COLS, &n, "features", err,
	    errlen)) != 0)
		goto out;
	for (int i = 0; i < n && r == 0; i++) {
		int col = ps_schema_find(&c->schema, names[i]);
		const struct ps_column *k = col >= 0 ? &c->schema.cols[col] : NULL;
		const char *near = NULL;

		for (int f = 0; k != NULL && f < c->nfeatures && r == 0; f++)
			if (c->features[f].col == col)
				r = ps_errf(err, errlen, COFFER_E_INVAL, "parameter"
				    " features: column '%s' is listed twice", k->name);
		if (r != 0)
			break;
		if (k == NULL) {
			near = ps_closest(names[i], strlen(names[i]), ps_column_name,
			    c->schema.ncols, &c->schema);
			r = ps_errf(err, errlen, COFFER_E_INVAL, "parameter features: no"
			    " column '%s' in the schema%s%s%s", names[i],
			    near ? " (did you mean '" : "", near ? near : "",
			    near ? "'?)" : "");
		}
		else if (col == c->target || k->type == PS_SKIP)
			r = ps_errf(err, errlen, COFFER_E_INVAL, "parameter features: '%s'"
			    " is the %s", names[i], col == c->target ? "target" :
			    "a skip column");
		else if (k->type == PS_CAT)
			/* Treatment coding: the first level is the reference. */
			for (int l = 1; l < k->nlevels && r == 0; l++)
				r = add_feature(c, col, l, err, errlen);
		else
			r = add_feature(c, col, -1, err, errlen);
	}
out:
	free_list(names, n);
	return r;
}

int
ps_config_parse(const struct coffer_app_param *params, size_t nparams,
    struct ps_config *c, char *err, size_t errlen)
{
	struct values vals;
	const char *s;
	int r;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < ps_nparams; i++)
		vals.v[i] = ps_params[i].def;
	for (size_t k = 0; k < nparams; k++) {
		size_t i;

		for (i = 0; i < ps_nparams; i++)
			if (strcmp(ps_params[i].name, params[k].key) == 0)
				break;
		if (i == ps_nparams) {
			const char *near;

			/* The worker's reserved parameters are not ours to refuse. */
			if (strncmp(params[k].key, "coffer.", 7) == 0)
				continue;
			near = ps_closest(params[k].key, strlen(params[k].key), param_name,
			    (int)ps_nparams, NULL);
			return ps_errf(err, errlen, COFFER_E_INVAL, "unknown parameter"
			    " '%s'%s%s%s (the parameters are in doc/apps/pooled-stats.md"
			    " section 3)", params[k].key, near ? " (did you mean '" : "",
			    near ? near : "", near ? "'?)" : "");
		}
		if ((r = check_value(&ps_params[i], params[k].value, err, errlen)) != 0)
			return r;
		vals.v[i] = params[k].value;
	}
	s = get(&vals, "schema");
	if (s[0] == '\0')
		return ps_errf(err, errlen, COFFER_E_INVAL, "parameter schema is"
		    " required: NAME:TYPE;... (doc/apps/pooled-stats.md section 2)");
	if ((r = ps_schema_parse(s, &c->schema, err, errlen)) != 0)
		goto fail;
	c->header = strcmp(get(&vals, "header"), "yes") == 0;
	s = get(&vals, "delimiter");
	c->delim = strcmp(s, "tab") == 0 ? PS_DELIM_TAB : strcmp(s, "semicolon") == 0 ?
	    PS_DELIM_SEMICOLON : PS_DELIM_COMMA;
	if ((r = split_list(get(&vals, "na"), c->na, PS_MAX_NA, &c->nna, "na", err,
	    errlen)) != 0)
		goto fail;
	c->missing = strcmp(get(&vals, "missing"), "drop") == 0 ? PS_MISSING_DROP :
	    PS_MISSING_REFUSE;
	if ((r = parse_quantiles(c, get(&vals, "quantiles"), err, errlen)) != 0)
		goto fail;
	c->penalty = strcmp(get(&vals, "penalty"), "l2") == 0;
	c->C = strtod(get(&vals, "C"), NULL);
	c->tol = strtod(get(&vals, "tol"), NULL);
	c->max_iter = (int)strtol(get(&vals, "max_iter"), NULL, 10);
	c->min_owners = strtoll(get(&vals, "min_owners"), NULL, 10);
	c->min_rows_per_owner = strtoll(get(&vals, "min_rows_per_owner"), NULL, 10);
	c->min_cell_count = strtoll(get(&vals, "min_cell_count"), NULL, 10);
	c->minmax_min_n = strtoll(get(&vals, "minmax_min_n"), NULL, 10);
	c->minmax_small = strcmp(get(&vals, "minmax_small"), "coarsen") == 0 ?
	    PS_SMALL_COARSEN : PS_SMALL_SUPPRESS;
	c->coarsen_digits = (int)strtol(get(&vals, "coarsen_digits"), NULL, 10);
	c->max_rows = strtoll(get(&vals, "max_rows"), NULL, 10);
	if ((r = parse_model(c, &vals, err, errlen)) != 0)
		goto fail;
	return 0;
fail:
	ps_config_free(c);
	return r;
}

void
ps_config_free(struct ps_config *c)
{
	ps_schema_free(&c->schema);
	free_list(c->na, c->nna);
	free(c->positive);
	free(c->negative);
	free(c->features);
	memset(c, 0, sizeof(*c));
}

int
ps_label_of(const struct ps_config *c, double value)
{
	const struct ps_column *t = &c->schema.cols[c->target];

	if (t->type == PS_CAT) {
		int level = (int)value;

		if (level == c->pos_level)
			return 1;
		return c->neg_level < 0 || level == c->neg_level ? 0 : -1;
	}
	if (value == c->pos_value)
		return 1;
	return value == c->neg_value ? 0 : -1;
}
