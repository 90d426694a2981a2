// SPDX-License-Identifier: Apache-2.0
// pooled-stats: L2-regularised logistic regression by Newton's method
// with a Cholesky solve (doc/apps/pooled-stats.md section 6.2).
//
//   minimise  f(w, b) = C * sum_i logloss(y_i, z_i . w + b) + |w|^2 / 2
//
// (penalty=none: C = 1 and no |w|^2 term), the intercept b unpenalised,
// which is scikit-learn's LogisticRegression objective. Its newton-cholesky
// solver's stopping rule is used on the same scale (f / (C n)): max
// |gradient| <= tol and half the Newton decrement <= tol. A fit that has
// no finite solution says so: without a penalty, an iterate that puts
// every row on its own side of the boundary proves the classes separable
// (the loss can be driven to 0 by scaling it up), and a Hessian that
// stops being positive definite means no unique finite solution.
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"

/* log(1 + e^x) without overflow or cancellation. */
static double
log1pexp(double x)
{
	return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double
sigmoid(double x)
{
	double e;

	if (x >= 0)
		return 1 / (1 + exp(-x));
	e = exp(x);
	return e / (1 + e);
}

struct problem {
	const double *z;
	const uint8_t *y;
	size_t n;
	int p, q;                   /* q = p + 1: the intercept is last */
	double cw, reg;             /* loss weight C (or 1), penalty 1 (or 0) */
};

/* The objective at theta. */
static double
objective(const struct problem *P, const double *th)
{
	double loss = 0, pen = 0;

	for (size_t i = 0; i < P->n; i++) {
		const double *zi = P->z + i * (size_t)P->p;
		double eta = th[P->p];

		for (int j = 0; j < P->p; j++)
			eta += th[j] * zi[j];
		loss += P->y[i] ? log1pexp(-eta) : log1pexp(eta);
	}
	for (int j = 0; j < P->p; j++)
		pen += th[j] * th[j];
	return P->cw * loss + P->reg * pen / 2;
}

struct pass {
	double loss;                /* sum of log-losses */
	size_t correct;
	int separated;              /* every row strictly on its side */
};

/* One pass: gradient g, Hessian H (q x q), and what the pass saw. */
static void
derivatives(const struct problem *P, const double *th, double *g, double *H,
    struct pass *out)
{
	int p = P->p, q = P->q;
	double loss = 0;
	size_t correct = 0;
	int separated = 1;

	memset(g, 0, (size_t)q * sizeof(*g));
	memset(H, 0, (size_t)q * (size_t)q * sizeof(*H));
	for (size_t i = 0; i < P->n; i++) {
		const double *zi = P->z + i * (size_t)p;
		double eta = th[p], mag = fabs(th[p]), pr, r, h;

		for (int j = 0; j < p; j++) {
			eta += th[j] * zi[j];
			mag += fabs(th[j] * zi[j]);
		}
		pr = sigmoid(eta);
		loss += P->y[i] ? log1pexp(-eta) : log1pexp(eta);
		correct += (eta > 0) == (P->y[i] != 0);
		/* On its side by more than the rounding error of eta. */
		if ((P->y[i] ? eta : -eta) <= 64.0 * q * DBL_EPSILON * mag)
			separated = 0;
		r = P->cw * (pr - P->y[i]);
		h = P->cw * pr * (1 - pr);
		for (int j = 0; j < p; j++) {
			double hz = h * zi[j];

			g[j] += r * zi[j];
			for (int k = j; k < p; k++)
				H[(size_t)j * q + k] += hz * zi[k];
			H[(size_t)j * q + p] += hz;
		}
		g[p] += r;
		H[(size_t)p * q + p] += h;
	}
	for (int j = 0; j < p; j++) {
		g[j] += P->reg * th[j];
		H[(size_t)j * q + j] += P->reg;
	}
	for (int j = 0; j < q; j++)
		for (int k = 0; k < j; k++)
			H[(size_t)j * q + k] = H[(size_t)k * q + j];
	out->loss = loss;
	out->correct = correct;
	out->separated = separated;
}

/* In place: H = L L^T (lower triangle). -1 when H is not numerically
 * positive definite (a pivot below 1e-13 of its diagonal entry). */
static int
cholesky(double *H, int q)
{
	for (int j = 0; j < q; j++) {
		double s = H[(size_t)j * q + j], d0 = s;

		for (int k = 0; k < j; k++)
			s -= H[(size_t)j * q + k] * H[(size_t)j * q + k];
		if (!(s > 1e-13 * d0) || !isfinite(s))
			return -1;
		s = sqrt(s);
		H[(size_t)j * q + j] = s;
		for (int i = j + 1; i < q; i++) {
			double t = H[(size_t)i * q + j];

			for (int k = 0; k < j; k++)
				t -= H[(size_t)i * q + k] * H[(size_t)j * q + k];
			H[(size_t)i * q + j] = t / s;
		}
	}
	return 0;
}

/* Solve L L^T d = g. */
static void
solve(const double *L, int q, const double *g, double *d)
{
	for (int i = 0; i < q; i++) {
		double t = g[i];

		for (int k = 0; k < i; k++)
			t -= L[(size_t)i * q + k] * d[k];
		d[i] = t / L[(size_t)i * q + i];
	}
	for (int i = q - 1; i >= 0; i--) {
		double t = d[i];

		for (int k = i + 1; k < q; k++)
			t -= L[(size_t)k * q + i] * d[k];
		d[i] = t / L[(size_t)i * q + i];
	}
}

int
ps_logreg_fit(const double *z, const uint8_t *y, size_t n, int p, int penalty,
    double C, double tol, int max_iter, struct ps_fit *f, char *err,
    size_t errlen)
{
	struct problem P = { z, y, n, p, p + 1, penalty ? C : 1, penalty ? 1 : 0 };
	int q = p + 1;
	double *th = calloc((size_t)q, sizeof(double));
	double *th2 = calloc((size_t)q, sizeof(double));
	double *g = calloc((size_t)q, sizeof(double));
	double *d = calloc((size_t)q, sizeof(double));
	double *H = calloc((size_t)q * (size_t)q, sizeof(double));
	double scale = P.cw * (double)n;    /* f / (C n): the mean log-loss scale */
	struct pass ps;
	int r = 0;

	memset(f, 0, sizeof(*f));
	if (th == NULL || th2 == NULL || g == NULL || d == NULL || H == NULL) {
		r = ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	for (int it = 0, done = 0;; it++) {
		double gmax = 0, dg = 0, f0, t;
		int k;

		derivatives(&P, th, g, H, &ps);
		f->iterations = it;
		f->accuracy = (double)ps.correct / (double)n;
		f->log_loss = ps.loss / (double)n;
		for (int j = 0; j < q; j++)
			if (fabs(g[j]) / scale > gmax)
				gmax = fabs(g[j]) / scale;
		f->grad_max = gmax;
		if (done)
			break;
		if (!penalty && it > 0 && ps.separated) {
			f->status = PS_FIT_SEPARATED;
			break;
		}
		if (cholesky(H, q) != 0) {
			f->status = PS_FIT_SINGULAR;
			break;
		}
		solve(H, q, g, d);
		for (int j = 0; j < q; j++)
			dg += d[j] * g[j];      /* = d' H d, the Newton decrement^2 */
		if (gmax <= tol && 0.5 * dg / scale <= tol) {
			/* Converged. The step in hand is a full Newton step from
			 * within its quadratic region: take it, so the reported
			 * point does not sit at the edge of the tolerance. */
			f->status = PS_FIT_CONVERGED;
			for (int j = 0; j < q; j++)
				th[j] -= d[j];
			done = 1;
			continue;
		}
		if (it == max_iter) {
			f->status = PS_FIT_MAX_ITER;
			break;
		}
		/* Backtracking (Armijo) along the Newton direction. Once the
		 * decrease it promises is below what f can resolve (its rounding,
		 * about eps |f|), the test says nothing: take the full step. */
		f0 = P.cw * ps.loss;
		for (int j = 0; j < p; j++)
			f0 += P.reg * th[j] * th[j] / 2;
		for (k = 0, t = 1; k < 60; k++, t /= 2) {
			for (int j = 0; j < q; j++)
				th2[j] = th[j] - t * d[j];
			if (0.5 * dg <= 1024 * DBL_EPSILON * fabs(f0) ||
			    objective(&P, th2) <= f0 - 1e-4 * t * dg)
				break;
		}
		if (k == 60) {
			/* No decrease left within rounding: as good as it gets. */
			f->status = gmax <= tol ? PS_FIT_CONVERGED : PS_FIT_MAX_ITER;
			break;
		}
		memcpy(th, th2, (size_t)q * sizeof(double));
	}
	f->w = th;
	f->b = th[p];
	th = NULL;
out:
	free(th);
	free(th2);
	free(g);
	free(d);
	free(H);
	return r;
}

void
ps_fit_free(struct ps_fit *f)
{
	free(f->w);
	memset(f, 0, sizeof(*f));
}
