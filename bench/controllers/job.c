/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated job's fixed parts: its items, the fastest completion at max
 * replicas (which defines the deadlines) and the oracle cost bound. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "sim.h"

void
sim_job_defaults(struct sim_job *j)
{
	memset(j, 0, sizeof(*j));
	j->n_items = 1000;
	j->dist = SIM_CONST;
	j->item_mean_s = 10;
	j->sigma = 1;
	j->long_frac = 0.1;
	j->long_ratio = 10;
	j->slowdown = 1;
	j->crash_frac = 0;
	j->startup_s = 30;
	j->deadline_s = 1000;
	j->min_replicas = 1;
	j->max_replicas = 16;
	j->init_replicas = 1;
	j->check_interval_s = 5;
	j->grace_s = 10;  /* coffer-manager's default --grace-ms */
	j->lease_s = 30;
	j->idle_first = 1; /* coffer-manager's local actuator, with its hint */
	j->seed = 1;
}

int
sim_items(const struct sim_job *j, double **work)
{
	struct sim_rng rng;
	double *w, mu, shrt = j->item_mean_s;
	int64_t i;

	if (j->n_items < 0 ||
	    (w = malloc(((size_t)j->n_items + 1) * sizeof(*w))) == NULL)
		return -1;
	sim_rng_seed(&rng, j->seed, 1);
	/* lognormal with the given mean: mu = ln(mean) - sigma^2 / 2 */
	mu = log(j->item_mean_s) - j->sigma * j->sigma / 2;
	if (j->dist == SIM_BIMODAL) {
		/* short s and long r * s with mean (1 - f) s + f r s = mean */
		shrt = j->item_mean_s / (1 - j->long_frac + j->long_frac * j->long_ratio);
		mu = log(shrt) - j->sigma * j->sigma / 2;
	}
	for (i = 0; i < j->n_items; i++) {
		if (j->dist == SIM_LOGNORMAL)
			w[i] = exp(mu + j->sigma * sim_rng_normal(&rng));
		else if (j->dist == SIM_BIMODAL) {
			w[i] = exp(mu + j->sigma * sim_rng_normal(&rng));
			if (sim_rng_unif(&rng) < j->long_frac)
				w[i] *= j->long_ratio;
		} else
			w[i] = j->item_mean_s;
		if (i >= j->n_items / 2)
			w[i] *= j->slowdown;
	}
	*work = w;
	return 0;
}

double
sim_total_work(const struct sim_job *j, const double *work)
{
	double w = 0;
	int64_t i;

	for (i = 0; i < j->n_items; i++)
		w += work[i];
	return w;
}

double
sim_fastest(const struct sim_job *j, const double *work)
{
	double *free_at, end = 0;
	int32_t m = j->max_replicas, k;
	int64_t i;

	if (m < 1 || (free_at = calloc((size_t)m, sizeof(*free_at))) == NULL)
		return INFINITY;
	/* a min-heap of the workers' free times; item i goes to the first free */
	for (i = 0; i < j->n_items; i++) {
		double t = free_at[0] + work[i];

		k = 0;
		for (;;) {
			int32_t c = 2 * k + 1;

			if (c >= m)
				break;
			if (c + 1 < m && free_at[c + 1] < free_at[c])
				c++;
			if (t <= free_at[c])
				break;
			free_at[k] = free_at[c];
			k = c;
		}
		free_at[k] = t;
		if (t > end)
			end = t;
	}
	free(free_at);
	return j->startup_s + end;
}

double
sim_oracle_cost(double work, double startup_s, double deadline_s)
{
	if (deadline_s <= startup_s)
		return INFINITY;
	return work + startup_s * ceil(work / (deadline_s - startup_s));
}
