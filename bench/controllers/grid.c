/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark's sweep (grid.h). Changing it changes every reported
 * figure: it was fixed before the deadline controller was tuned on it. */
#include <stdlib.h>

#include "grid.h"

/* Item times have a mean of 10 s in every family. */
const struct sim_family sim_families[SIM_NFAM] = {
	{ "lognormal 0.25", SIM_LOGNORMAL, 0.25, 1, 0 },
	{ "lognormal 0.5", SIM_LOGNORMAL, 0.5, 1, 0 },
	{ "lognormal 1", SIM_LOGNORMAL, 1.0, 1, 0 },
	{ "lognormal 1.5", SIM_LOGNORMAL, 1.5, 1, 0 },
	{ "lognormal 2", SIM_LOGNORMAL, 2.0, 1, 0 },
	/* 90% short, 10% ten times longer, each mode lognormal 0.25 */
	{ "bimodal", SIM_BIMODAL, 0.25, 1, 0 },
	/* lognormal 0.3; items from N/2 on take twice as long */
	{ "slowdown", SIM_LOGNORMAL, 0.3, 2, 0 },
	/* lognormal 0.3; 5% of the replicas started crash */
	{ "crash", SIM_LOGNORMAL, 0.3, 1, 0.05 },
};
const double sim_startups[SIM_NS] = { 1, 10, 30, 60, 120 };
const double sim_factors[SIM_NF] = { 1.1, 1.25, 1.5, 2, 3, 5 };
const int32_t sim_caps[SIM_NC] = { 8, 32, 128 };
const int64_t sim_sizes[SIM_NN] = { 200, 1000, 5000 };

void
sim_grid_cell(size_t i, struct sim_cell *c)
{
	c->n = (unsigned char)(i % SIM_NN);
	i /= SIM_NN;
	c->c = (unsigned char)(i % SIM_NC);
	i /= SIM_NC;
	c->f = (unsigned char)(i % SIM_NF);
	i /= SIM_NF;
	c->s = (unsigned char)(i % SIM_NS);
	i /= SIM_NS;
	c->fam = (unsigned char)i;
}

int
sim_grid_job(const struct sim_cell *c, uint64_t seed, struct sim_job *j,
    double **work, double *fastest)
{
	const struct sim_family *fm = &sim_families[c->fam];
	/* a different job per cell and seed; the factor does not change the
	 * items, so one realisation is seen at every deadline */
	uint64_t cell = ((((uint64_t)c->fam * SIM_NS + c->s) * SIM_NC + c->c) *
	    SIM_NN + c->n);

	sim_job_defaults(j);
	j->dist = fm->dist;
	j->sigma = fm->sigma;
	j->slowdown = fm->slowdown;
	j->crash_frac = fm->crash;
	j->startup_s = sim_startups[c->s];
	j->max_replicas = sim_caps[c->c];
	j->n_items = sim_sizes[c->n];
	j->seed = seed * 1000003u + cell * 7919u + 17;
	if (sim_items(j, work) != 0)
		return -1;
	*fastest = sim_fastest(j, *work);
	j->deadline_s = sim_factors[c->f] * *fastest;
	return 0;
}
