/* SPDX-License-Identifier: Apache-2.0 */
/* The controller benchmark's sweep, fixed before any tuning (issue 17,
 * doc/controllers.md section 7.2): the job families and the grid of
 * start-up, deadline factor, max replicas and item count, and how a cell
 * and a seed make one job. Shared by controllers-sim and the unit tests. */
#ifndef COFFER_BENCH_SIM_GRID_H
#define COFFER_BENCH_SIM_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

/* A family of jobs: how item times are drawn, slow-downs and crashes. */
struct sim_family {
	const char *name;
	enum sim_dist dist;
	double sigma, slowdown, crash;
};

extern const struct sim_family sim_families[];
extern const double sim_startups[];
extern const double sim_factors[];
extern const int32_t sim_caps[];
extern const int64_t sim_sizes[];

enum {
	SIM_NFAM = 8,  /* lognormal sigma 0.25, 0.5, 1, 1.5, 2; bimodal;
	                  slowdown; crash */
	SIM_NS = 5,    /* start-up 1, 10, 30, 60, 120 s */
	SIM_NF = 6,    /* deadline 1.1, 1.25, 1.5, 2, 3, 5 x the fastest */
	SIM_NC = 3,    /* max replicas 8, 32, 128 */
	SIM_NN = 3,    /* items 200, 1000, 5000 */
};

/* One cell of the grid (indexes into the arrays above). */
struct sim_cell {
	unsigned char fam, s, f, c, n;
};

/* The cells in sweep order, cell i for i in [0, SIM_NCELLS). */
#define SIM_NCELLS (SIM_NFAM * SIM_NS * SIM_NF * SIM_NC * SIM_NN)
void sim_grid_cell(size_t i, struct sim_cell *c);

/*
 * The job of a cell and a seed: *j filled (the deadline is the cell's
 * factor times the fastest completion at max), *work its items (the caller
 * frees it), *fastest that completion. The items and crashes depend on
 * the cell and the seed only. Returns 0 or -1 (allocation).
 */
int sim_grid_job(const struct sim_cell *c, uint64_t seed, struct sim_job *j,
    double **work, double *fastest);

#endif
