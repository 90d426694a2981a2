// SPDX-License-Identifier: Apache-2.0
// pooled-stats: the numerical pieces of the descriptive statistics (doc
// section 6.1): one-pass moments per map output (Welford), merged across
// outputs with the pairwise update of Chan, Golub and LeVeque, so that no
// sum of squares ever cancels; numpy's 'linear' quantile; outward
// rounding for coarsened extremes.
#include <math.h>

#include "ps.h"

/* Welford (1962); West (1979) form. */
void
ps_moments_add(struct ps_moments *m, double x)
{
	double d;

	if (m->n == 0) {
		m->min = m->max = x;
	} else {
		if (x < m->min)
			m->min = x;
		if (x > m->max)
			m->max = x;
	}
	m->n += 1;
	d = x - m->mean;
	m->mean += d / m->n;
	m->m2 += d * (x - m->mean);
}

/* Chan, Golub, LeVeque, "Algorithms for computing the sample variance"
 * (1983), eq. 2.1b: merge two partial (n, mean, M2). */
void
ps_moments_merge(struct ps_moments *into, const struct ps_moments *m)
{
	double n, d;

	if (m->n == 0)
		return;
	if (into->n == 0) {
		*into = *m;
		return;
	}
	n = into->n + m->n;
	d = m->mean - into->mean;
	into->mean += d * (m->n / n);
	into->m2 += m->m2 + d * d * (into->n * m->n / n);
	into->n = n;
	if (m->min < into->min)
		into->min = m->min;
	if (m->max > into->max)
		into->max = m->max;
}

/*
 * numpy.quantile(x, p), method 'linear' (numpy 1.24,
 * lib/function_base.py: _quantile, _get_indexes, _lerp): virtual index
 * h = (n-1) p, neighbours floor(h) and floor(h)+1 (both the last element
 * when h >= n-1), and numpy's lerp, which computes from the upper
 * neighbour when the weight is at least 0.5. Same operations, same
 * double result.
 */
double
ps_quantile_sorted(const double *x, size_t n, double p)
{
	double h = (double)(n - 1) * p, lo = floor(h), g = h - lo, a, b, diff;
	size_t i = (size_t)lo;

	if (h >= (double)(n - 1))
		return x[n - 1];
	a = x[i];
	b = x[i + 1];
	diff = b - a;
	if (g >= 0.5)
		return b - diff * (1 - g);
	return a + diff * g;
}

double
ps_coarsen(double v, int digits, int up)
{
	double e, k, p, r;
	int m;

	if (v == 0 || !isfinite(v))
		return v;
	e = floor(log10(fabs(v)));
	m = digits - 1 - (int)e;            /* v * 10^m has `digits` digits */
	if (m > 300 || m < -300)
		return v;
	p = pow(10, m > 0 ? m : -m);        /* exact up to 10^22 */
	k = m > 0 ? v * p : v / p;
	k = up ? ceil(k) : floor(k);
	r = m > 0 ? k / p : k * p;
	/* The rounding of v * p may have moved k across v: step outward. */
	if (!up && r > v)
		r = m > 0 ? (k - 1) / p : (k - 1) * p;
	if (up && r < v)
		r = m > 0 ? (k + 1) / p : (k + 1) * p;
	return r;
}
