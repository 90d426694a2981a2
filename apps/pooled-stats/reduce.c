// SPDX-License-Identifier: Apache-2.0
// pooled-stats, reduce stage: every owner's rows together (doc section 6),
// after the disclosure limits of section 7, into the JSON result of
// section 6.3. Per map output: one pass of moments, merged into the
// pooled ones; the rows are kept for the quantiles and the model.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"

struct owner {
	char name[PS_OWNER_MAX + 1];
	uint64_t rows;
};

struct ps_reduce {
	const struct ps_config *c;
	double *rows;               /* n x nstored, row-major */
	size_t n, cap;
	struct ps_moments *mom;     /* pooled, per stored column */
	uint64_t dropped;
	struct owner *owners;
	int nowners, ocap;
	size_t items, unowned;
	char unowned_id[80];        /* an item without an owner, for errors */
};

int
ps_reduce_new(const struct ps_config *c, struct ps_reduce **out)
{
	struct ps_reduce *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->mom = calloc((size_t)c->schema.nstored,
	    sizeof(*r->mom))) == NULL) {
		free(r);
		return COFFER_E_NOMEM;
	}
	r->c = c;
	*out = r;
	return 0;
}

void
ps_reduce_free(struct ps_reduce *r)
{
	if (r == NULL)
		return;
	free(r->rows);
	free(r->mom);
	free(r->owners);
	free(r);
}

static int
count_owner(struct ps_reduce *r, const char *name, uint64_t rows)
{
	for (int i = 0; i < r->nowners; i++)
		if (strcmp(r->owners[i].name, name) == 0) {
			r->owners[i].rows += rows;
			return 0;
		}
	if (r->nowners == r->ocap) {
		int cap = r->ocap ? r->ocap * 2 : 16;
		struct owner *v = realloc(r->owners, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return COFFER_E_NOMEM;
		r->owners = v;
		r->ocap = cap;
	}
	snprintf(r->owners[r->nowners].name, sizeof(r->owners[0].name), "%s", name);
	r->owners[r->nowners++].rows = rows;
	return 0;
}

int
ps_reduce_add(struct ps_reduce *r, const char *id, const uint8_t *in,
    size_t inlen, char *err, size_t errlen)
{
	const struct ps_config *c = r->c;
	int k = c->schema.nstored, tk = c->target >= 0 ?
	    c->schema.cols[c->target].stored : -1, e;
	struct ps_moments *m = NULL;
	struct ps_item it;
	size_t pos = 0;
	char msg[512];

	if ((e = ps_item_parse(c, in, inlen, &it, msg, sizeof(msg))) != 0)
		goto bad;
	/* The limit bounds memory: 8 bytes per stored cell. */
	if (it.rows > (uint64_t)c->max_rows - r->n)
		return ps_errf(err, errlen, COFFER_E_LIMIT, "more than max_rows=%lld"
		    " rows in all (raise it: the reduce stage holds 8 bytes per cell)",
		    c->max_rows);
	if (r->n + it.rows > r->cap) {
		size_t cap = r->cap ? r->cap : 1024;
		double *v;

		while (cap < r->n + it.rows)
			cap *= 2;
		if ((v = realloc(r->rows, cap * (size_t)k * sizeof(double))) == NULL)
			return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory for"
			    " %zu rows", cap);
		r->rows = v;
		r->cap = cap;
	}
	if ((m = calloc((size_t)k, sizeof(*m))) == NULL)
		return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
	for (uint64_t i = 0; i < it.rows; i++) {
		double *row = r->rows + (r->n + i) * (size_t)k;

		if ((e = ps_item_next_row(c, &it, &pos, row, msg, sizeof(msg))) != 0)
			goto bad;
		if (tk >= 0 && ps_label_of(c, row[tk]) < 0) {
			e = ps_errf(msg, sizeof(msg), COFFER_E_FORMAT, "a target cell"
			    " with neither label (M6)");
			goto bad;
		}
		for (int j = 0; j < k; j++)
			ps_moments_add(&m[j], row[j]);
	}
	if (pos != it.cellslen) {
		e = ps_errf(msg, sizeof(msg), COFFER_E_FORMAT, "%zu bytes after the"
		    " last row (M8)", it.cellslen - pos);
		goto bad;
	}
	if ((e = count_owner(r, it.owner, it.rows)) != 0) {
		free(m);
		return ps_errf(err, errlen, e, "out of memory");
	}
	/* Only now: a refused output leaves the pooled figures as they were. */
	for (int j = 0; j < k; j++)
		ps_moments_merge(&r->mom[j], &m[j]);
	free(m);
	r->n += it.rows;
	r->dropped += it.dropped;
	r->items++;
	if (!it.has_owner && r->unowned++ == 0)
		snprintf(r->unowned_id, sizeof(r->unowned_id), "%s", id);
	return 0;
bad:
	free(m);
	return ps_errf(err, errlen, e, "map output '%s': %s", id, msg);
}

/* Section 7: owners and rows per owner. Names only in errors, no counts. */
static int
check_owners(const struct ps_reduce *r, char *err, size_t errlen)
{
	const struct ps_config *c = r->c;
	char names[400] = "";
	size_t used = 0;
	int bad = 0;

	if (r->items == 0)
		return ps_errf(err, errlen, COFFER_E_NOTFOUND, "no map output to"
		    " reduce");
	if (r->unowned > 0 && r->unowned < r->items)
		return ps_errf(err, errlen, COFFER_E_POLICY, "map output '%s' has no"
		    " owner while others have one: every input needs an owner (under"
		    " coffer run: --owner PREFIX=NAME)", r->unowned_id);
	if ((long long)r->nowners < c->min_owners) {
		if (r->unowned > 0)
			return ps_errf(err, errlen, COFFER_E_POLICY, "the inputs have no"
			    " owners, and min_owners=%lld (under coffer run, name each"
			    " owner's inputs with --owner PREFIX=NAME)", c->min_owners);
		return ps_errf(err, errlen, COFFER_E_POLICY, "%d data owner%s, fewer"
		    " than min_owners=%lld: nothing is released", r->nowners,
		    r->nowners == 1 ? "" : "s", c->min_owners);
	}
	if (r->unowned > 0 && (long long)r->owners[0].rows < c->min_rows_per_owner)
		return ps_errf(err, errlen, COFFER_E_POLICY, "the inputs (they have no"
		    " owner) have fewer than min_rows_per_owner=%lld usable rows:"
		    " nothing is released", c->min_rows_per_owner);
	for (int i = 0; i < r->nowners; i++) {
		if ((long long)r->owners[i].rows >= c->min_rows_per_owner)
			continue;
		if (bad++ < 8 && used < sizeof(names) - 2) {
			int w = snprintf(names + used, sizeof(names) - used, "%s'%s'",
			    used ? ", " : "", r->owners[i].name);

			if (w > 0)
				used += (size_t)w;
		}
	}
	if (bad > 0)
		return ps_errf(err, errlen, COFFER_E_POLICY, "owner%s %s%s ha%s fewer"
		    " than min_rows_per_owner=%lld usable rows: nothing is released",
		    bad > 1 ? "s" : "", names, bad > 8 ? ", ..." : "",
		    bad > 1 ? "ve" : "s", c->min_rows_per_owner);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_owner(const void *a, const void *b)
{
	return strcmp(((const struct owner *)a)->name, ((const struct owner *)b)->name);
}

/* A count, or null when small cell suppression hides it (section 7). */
static void
json_count(struct ps_json *j, const char *key, uint64_t v, int hidden)
{
	if (hidden)
		ps_json_null(j, key);
	else
		ps_json_int(j, key, (long long)v);
}

/* Section 7, rule 3: counts 1..k-1 hidden; one hidden count is not left
 * alone (the total would give it away). */
static void
suppress_counts(const uint64_t *cnt, int n, long long k, int *hide)
{
	int hidden = 0, other = -1;

	for (int i = 0; i < n; i++) {
		hide[i] = cnt[i] > 0 && (long long)cnt[i] < k;
		hidden += hide[i];
	}
	if (hidden != 1)
		return;
	for (int i = 0; i < n; i++)
		if (!hide[i] && cnt[i] > 0 && (other < 0 || cnt[i] < cnt[other]))
			other = i;
	if (other >= 0)
		hide[other] = 1;
	else
		for (int i = 0; i < n; i++)
			hide[i] = 1;
}

/* An order statistic under section 7, rule 4. */
static void
json_extreme(struct ps_json *j, const char *key, double v, int small, int digits,
    int dir)
{
	char t[40];

	if (!small) {
		ps_json_num(j, key, v);
	} else if (digits == 0) {
		ps_json_null(j, key);
	} else if (dir != 0) {
		ps_json_num(j, key, ps_coarsen(v, digits, dir > 0));
	} else {
		snprintf(t, sizeof(t), "%.*g", digits, v);
		ps_json_num(j, key, strtod(t, NULL));
	}
}

static int
describe(struct ps_reduce *r, struct ps_json *j, char *err, size_t errlen)
{
	const struct ps_config *c = r->c;
	const struct ps_schema *s = &c->schema;
	int k = s->nstored, small = (long long)r->n < c->minmax_min_n;
	int digits = !small ? 0 : c->minmax_small == PS_SMALL_COARSEN ?
	    c->coarsen_digits : 0;
	double *x = malloc((r->n ? r->n : 1) * sizeof(double));
	uint64_t *cnt = calloc(PS_MAX_LEVELS, sizeof(uint64_t));
	int hide[PS_MAX_LEVELS];

	if (x == NULL || cnt == NULL) {
		free(x);
		free(cnt);
		return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
	}
	ps_json_open(j, "columns", '[');
	for (int sk = 0; sk < k; sk++) {
		const struct ps_column *col = &s->cols[s->stored_to_col[sk]];
		const struct ps_moments *m = &r->mom[sk];

		ps_json_open(j, NULL, '{');
		ps_json_str(j, "name", col->name);
		ps_json_str(j, "type", col->type == PS_NUM ? "num" : col->type == PS_INT ?
		    "int" : "cat");
		ps_json_int(j, "n", (long long)r->n);
		if (col->type == PS_CAT) {
			memset(cnt, 0, PS_MAX_LEVELS * sizeof(uint64_t));
			for (size_t i = 0; i < r->n; i++)
				cnt[(int)r->rows[i * (size_t)k + sk]]++;
			suppress_counts(cnt, col->nlevels, c->min_cell_count, hide);
			ps_json_open(j, "counts", '{');
			for (int l = 0; l < col->nlevels; l++)
				json_count(j, col->levels[l], cnt[l], hide[l]);
			ps_json_close(j, '}');
			ps_json_close(j, '}');
			continue;
		}
		ps_json_num(j, "mean", m->mean);
		if (r->n >= 2)
			ps_json_num(j, "sd", sqrt(m->m2 / (double)(r->n - 1)));
		else
			ps_json_null(j, "sd");
		json_extreme(j, "min", m->min, small, digits, -1);
		json_extreme(j, "max", m->max, small, digits, 1);
		ps_json_open(j, "quantiles", '{');
		for (size_t i = 0; i < r->n; i++)
			x[i] = r->rows[i * (size_t)k + sk];
		qsort(x, r->n, sizeof(double), cmp_double);
		for (int q = 0; q < c->nquantiles; q++) {
			char key[40];

			ps_fmt_double(key, sizeof(key), c->quantiles[q]);
			json_extreme(j, key, ps_quantile_sorted(x, r->n, c->quantiles[q]),
			    small, digits, 0);
		}
		ps_json_close(j, '}');
		ps_json_str(j, "order_statistics", !small ? "exact" : digits ?
		    "coarsened" : "suppressed");
		ps_json_close(j, '}');
	}
	ps_json_close(j, ']');
	free(x);
	free(cnt);
	return 0;
}

static const char *
status_text(enum ps_fit_status st)
{
	switch (st) {
	case PS_FIT_CONVERGED: return "converged";
	case PS_FIT_MAX_ITER: return "max_iter";
	case PS_FIT_SEPARATED: return "separated";
	case PS_FIT_SINGULAR: return "singular";
	}
	return "?";
}

/* Section 6.2. */
static int
model(struct ps_reduce *r, struct ps_json *j, char *err, size_t errlen)
{
	const struct ps_config *c = r->c;
	const struct ps_schema *s = &c->schema;
	int k = s->nstored, p = c->nfeatures, e = 0, finite;
	int tk = s->cols[c->target].stored;
	size_t n = r->n, npos = 0;
	double *z = malloc(n * (size_t)p * sizeof(double) + 1);
	double *mean = calloc((size_t)p, sizeof(double));
	double *scale = calloc((size_t)p, sizeof(double));
	uint8_t *y = malloc(n + 1);
	struct ps_fit fit = { 0 };
	const char *msg = NULL;
	char why[300];

	if (z == NULL || mean == NULL || scale == NULL || y == NULL) {
		e = ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory for the model");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		npos += (y[i] = (uint8_t)ps_label_of(c, r->rows[i * (size_t)k + tk])) == 1;
	if ((long long)npos < c->min_cell_count || (long long)(n - npos) < c->min_cell_count) {
		e = ps_errf(err, errlen, COFFER_E_POLICY, "the %s class has fewer than"
		    " min_cell_count=%lld rows: no model is released",
		    (long long)npos < c->min_cell_count ? "positive" : "negative",
		    c->min_cell_count);
		goto out;
	}
	/* Standardise with the pooled mean and population SD (StandardScaler). */
	for (int f = 0; f < p; f++) {
		const struct ps_feature *ft = &c->features[f];
		int sk = s->cols[ft->col].stored;

		if (ft->level < 0) {
			mean[f] = r->mom[sk].mean;
			scale[f] = sqrt(r->mom[sk].m2 / (double)n);
		} else {
			size_t cnt = 0;

			for (size_t i = 0; i < n; i++)
				cnt += (int)r->rows[i * (size_t)k + sk] == ft->level;
			/* Its mean is a count: section 7, rules 3 and 5. */
			if ((cnt > 0 && (long long)cnt < c->min_cell_count) ||
			    (n - cnt > 0 && (long long)(n - cnt) < c->min_cell_count)) {
				e = ps_errf(err, errlen, COFFER_E_POLICY, "feature '%s' has"
				    " fewer than min_cell_count=%lld rows on one side: no"
				    " model is released", ft->name, c->min_cell_count);
				goto out;
			}
			mean[f] = (double)cnt / (double)n;
			scale[f] = sqrt((double)cnt * (double)(n - cnt)) / (double)n;
		}
		if (!(scale[f] > 0)) {
			e = ps_errf(err, errlen, COFFER_E_INVAL, "feature '%s' has the same"
			    " value in every row: it cannot be standardised (leave it out"
			    " of parameter features)", ft->name);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			double v = r->rows[i * (size_t)k + sk];

			if (ft->level >= 0)
				v = (int)v == ft->level;
			z[i * (size_t)p + f] = (v - mean[f]) / scale[f];
		}
	}
	if ((e = ps_logreg_fit(z, y, n, p, c->penalty, c->C, c->tol, c->max_iter,
	    &fit, err, errlen)) != 0)
		goto out;
	/* Coefficients only where they mean something (section 6.2.3). */
	finite = fit.status == PS_FIT_CONVERGED ||
	    (fit.status == PS_FIT_MAX_ITER && c->penalty);
	switch (fit.status) {
	case PS_FIT_CONVERGED:
		break;
	case PS_FIT_MAX_ITER:
		snprintf(why, sizeof(why), "not converged after max_iter=%d Newton"
		    " iterations%s", c->max_iter, c->penalty ? "; the coefficients are"
		    " the last iterate (raise max_iter)" : "; without a penalty the"
		    " maximum-likelihood estimate may not exist (quasi-separation):"
		    " use penalty=l2");
		msg = why;
		break;
	case PS_FIT_SEPARATED:
		msg = "no finite solution: a linear rule puts every row on the side of"
		    " its class (complete separation), so the log-likelihood keeps"
		    " rising as the coefficients grow without bound; use penalty=l2"
		    " with a finite C";
		break;
	case PS_FIT_SINGULAR:
		msg = "no unique finite solution: the Hessian became singular"
		    " (quasi-complete separation, or features that are exact linear"
		    " combinations of others); use penalty=l2 or leave features out";
		break;
	}
	ps_json_open(j, "model", '{');
	ps_json_str(j, "kind", "logistic_regression");
	ps_json_str(j, "target", s->cols[c->target].name);
	ps_json_str(j, "positive", c->positive);
	if (c->negative[0])
		ps_json_str(j, "negative", c->negative);
	else
		ps_json_str(j, "negative", "(every other level)");
	ps_json_str(j, "penalty", c->penalty ? "l2" : "none");
	if (c->penalty)
		ps_json_num(j, "C", c->C);
	ps_json_num(j, "tol", c->tol);
	ps_json_str(j, "status", status_text(fit.status));
	ps_json_bool(j, "converged", fit.status == PS_FIT_CONVERGED);
	if (fit.status == PS_FIT_MAX_ITER && !c->penalty)
		ps_json_null(j, "finite_solution");
	else
		ps_json_bool(j, "finite_solution", finite);
	if (msg != NULL)
		ps_json_str(j, "message", msg);
	ps_json_int(j, "iterations", fit.iterations);
	ps_json_num(j, "gradient_max", fit.grad_max);
	ps_json_int(j, "rows", (long long)n);
	ps_json_int(j, "positives", (long long)npos);
	ps_json_int(j, "negatives", (long long)(n - npos));
	ps_json_num(j, "training_accuracy", fit.accuracy);
	if (finite)
		ps_json_num(j, "log_loss", fit.log_loss);
	ps_json_open(j, "features", '[');
	{
		double b0 = fit.b;

		for (int f = 0; f < p; f++) {
			ps_json_open(j, NULL, '{');
			ps_json_str(j, "name", c->features[f].name);
			ps_json_num(j, "mean", mean[f]);
			ps_json_num(j, "scale", scale[f]);
			if (finite) {
				ps_json_num(j, "coef", fit.w[f]);
				ps_json_num(j, "coef_unscaled", fit.w[f] / scale[f]);
				b0 -= fit.w[f] * mean[f] / scale[f];
			} else {
				ps_json_null(j, "coef");
				ps_json_null(j, "coef_unscaled");
			}
			ps_json_close(j, '}');
		}
		ps_json_close(j, ']');
		if (finite) {
			ps_json_num(j, "intercept", fit.b);
			ps_json_num(j, "intercept_unscaled", b0);
		} else {
			ps_json_null(j, "intercept");
			ps_json_null(j, "intercept_unscaled");
		}
	}
	ps_json_close(j, '}');
out:
	ps_fit_free(&fit);
	free(z);
	free(mean);
	free(scale);
	free(y);
	return e;
}

int
ps_reduce_finish(struct ps_reduce *r, struct ps_buf *out, char *err,
    size_t errlen)
{
	const struct ps_config *c = r->c;
	struct ps_json j;
	int e;

	if ((e = check_owners(r, err, errlen)) != 0)
		return e;
	qsort(r->owners, (size_t)r->nowners, sizeof(*r->owners), cmp_owner);
	ps_json_init(&j, out);
	ps_json_open(&j, NULL, '{');
	ps_json_str(&j, "app", "pooled-stats");
	ps_json_str(&j, "version", PS_VERSION);
	ps_json_int(&j, "owners", r->nowners);
	ps_json_open(&j, "owner_names", '[');
	for (int i = 0; i < r->nowners && !r->unowned; i++)
		ps_json_str(&j, NULL, r->owners[i].name);
	ps_json_close(&j, ']');
	ps_json_int(&j, "rows", (long long)r->n);
	json_count(&j, "rows_dropped_missing", r->dropped, r->dropped > 0 &&
	    (long long)r->dropped < c->min_cell_count);
	ps_json_open(&j, "limits", '{');
	ps_json_int(&j, "min_owners", c->min_owners);
	ps_json_int(&j, "min_rows_per_owner", c->min_rows_per_owner);
	ps_json_int(&j, "min_cell_count", c->min_cell_count);
	ps_json_int(&j, "minmax_min_n", c->minmax_min_n);
	ps_json_str(&j, "minmax_small", c->minmax_small == PS_SMALL_COARSEN ?
	    "coarsen" : "suppress");
	ps_json_close(&j, '}');
	if ((e = describe(r, &j, err, errlen)) != 0)
		return e;
	if (c->target >= 0 && (e = model(r, &j, err, errlen)) != 0)
		return e;
	ps_json_close(&j, '}');
	if (j.r != 0)
		return ps_errf(err, errlen, j.r, "%s", j.r == COFFER_E_NOMEM ?
		    "out of memory" : "writing the result failed");
	return 0;
}
