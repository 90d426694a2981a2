// SPDX-License-Identifier: Apache-2.0
// Unit tests for the controller simulator (bench/controllers/): exact
// accounting on hand-checkable jobs, determinism, graceful stops and kills,
// crashes, and the observation it hands to controllers.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/controller.h"
#include "coffer/error.h"
#include "controllers/registry.h"
#include "grid.h"
#include "sim.h"

/* ---- a scripted controller that also checks every observation --------- */

struct script {
	/* replicas asked for from time at[i] on */
	double at[8];
	int32_t n[8];
	int steps;
	/* what it saw */
	int ticks;
	int bad;
	char why[256];
	double first_startup_seen;
	double last_mean;
	double max_var;
	int64_t total;
	uint32_t host_flags;
};

static struct script *the_script;

static int
script_create(const struct coffer_ctl_config *cfg, void **st, char *err,
    size_t errlen)
{
	(void)err;
	(void)errlen;
	the_script->host_flags = cfg->host_flags;
	*st = the_script;
	return 0;
}

static int
script_decide(void *st, const struct coffer_ctl_obs *o,
    struct coffer_ctl_decision *d)
{
	struct script *s = st;
	int i;

	s->ticks++;
	if (o->size != sizeof(*o) || o->done + o->failed + o->in_flight +
	    o->queued != o->total || o->replicas_ready > o->replicas ||
	    o->replicas < 0 || o->in_flight < 0 || o->queued < 0 ||
	    o->throughput < 0 || !isfinite(o->error) ||
	    fabs(o->progress - (double)o->done / (double)o->total) > 1e-12) {
		if (!s->bad)
			snprintf(s->why, sizeof(s->why), "t=%g done=%lld in_flight=%lld "
			    "queued=%lld total=%lld replicas=%d ready=%d", o->now_s,
			    (long long)o->done, (long long)o->in_flight,
			    (long long)o->queued, (long long)o->total, o->replicas,
			    o->replicas_ready);
		s->bad = 1;
	}
	if (o->startup_s > 0 && s->first_startup_seen == 0)
		s->first_startup_seen = o->startup_s;
	s->last_mean = o->item_time_mean_s;
	if (o->item_time_var_s2 > s->max_var)
		s->max_var = o->item_time_var_s2;
	s->total = o->total;
	d->replicas = s->n[0];
	for (i = 0; i < s->steps; i++)
		if (o->now_s >= s->at[i])
			d->replicas = s->n[i];
	snprintf(d->reason, sizeof(d->reason), "script: %d", d->replicas);
	return 0;
}

static void
script_destroy(void *st)
{
	(void)st;
}

static const struct coffer_controller script_def = {
	sizeof(struct coffer_controller), COFFER_CONTROLLER_ABI_VERSION, "script",
	"test", script_create, script_decide, script_destroy,
};

static void
job(struct sim_job *j, int64_t n, double item, double startup, int32_t max)
{
	sim_job_defaults(j);
	j->n_items = n;
	j->dist = SIM_CONST;
	j->item_mean_s = item;
	j->startup_s = startup;
	j->max_replicas = max;
	j->deadline_s = 1000;
	j->seed = 7;
}

static struct sim_result
run_script(const struct sim_job *j, struct script *sc)
{
	struct sim_result res;
	char err[256];
	double *work = NULL;

	the_script = sc;
	assert_int_equal(sim_items(j, &work), 0);
	assert_int_equal(sim_run(j, work, &script_def, NULL, 0, NULL, NULL, &res,
	    err, sizeof(err)), 0);
	free(work);
	if (sc->bad)
		fail_msg("inconsistent observation: %s", sc->why);
	return res;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_sim__static_job_costs_exactly_what_it_should(void **state)
{
	struct script sc = { .at = { 0 }, .n = { 10 }, .steps = 1 };
	struct sim_result r;
	struct sim_job j;

	(void)state;
	/* 100 items of 10 s on 10 replicas ready at 5 s: ten rounds */
	job(&j, 100, 10, 5, 10);
	j.obs_full = 1;
	r = run_script(&j, &sc);
	assert_true(r.finished);
	assert_true(fabs(r.finish_s - 105) < 1e-9);
	assert_true(fabs(r.cost_rs - 10 * 105) < 1e-6);
	assert_true(fabs(r.work_s - 1000) < 1e-6);
	assert_int_equal(r.peak, 10);
	assert_int_equal(r.starts, 10);
	assert_int_equal(r.interrupted, 0);
	assert_int_equal(r.scale_events, 1); /* 1 (init) -> 10 */
	assert_true(r.met);
	assert_true(fabs(sc.first_startup_seen - 5) < 1e-9);
	assert_true(fabs(sc.last_mean - 10) < 1e-9);
}

static void
test_sim__observation_as_the_manager_fills_it(void **state)
{
	struct script sc = { .at = { 0 }, .n = { 10 }, .steps = 1 };
	struct sim_job j;

	(void)state;
	/* 60 items of 10 s on 10 replicas: ready = holding an item, the mean
	 * and variance of the completed items' times (the acks'), the
	 * variance of equal times that of the millisecond resolution */
	job(&j, 60, 10, 5, 10);
	(void)run_script(&j, &sc);
	assert_true(fabs(sc.first_startup_seen - 5) < 1e-9);
	assert_true(fabs(sc.last_mean - 10) < 1e-9);
	assert_true(sc.max_var > 0 && sc.max_var < 1e-6);
	/* the host promises idle-first stops (coffer-manager's) */
	assert_int_equal(sc.host_flags, COFFER_CTL_HOST_STOPS_IDLE_FIRST);
	/* heavy-tailed items: the variance is measured */
	memset(&sc, 0, sizeof(sc));
	sc.n[0] = 10;
	sc.steps = 1;
	j.dist = SIM_LOGNORMAL;
	j.sigma = 1;
	j.n_items = 2000;
	(void)run_script(&j, &sc);
	if (sc.max_var < 50 || sc.max_var > 400)
		fail_msg("variance %g, expected about 172 (cv 1.31)", sc.max_var);
	/* the monitor before item times: replica-seconds per item, no
	 * variance; and the actuator without a hint promises nothing */
	memset(&sc, 0, sizeof(sc));
	sc.n[0] = 10;
	sc.steps = 1;
	job(&j, 60, 10, 5, 10);
	j.obs_no_times = 1;
	j.idle_first = 0;
	(void)run_script(&j, &sc);
	if (fabs(sc.last_mean - 10) > 1.0)
		fail_msg("mean item time %g, expected about 10", sc.last_mean);
	assert_true(sc.max_var == 0);
	assert_int_equal(sc.host_flags, 0);
}

static void
test_sim__idle_first_stops_an_idle_replica_not_the_busy_newest(void **state)
{
	/* 4 replicas ready at 5 s take items in start order: the newest takes
	 * the 40 s item (index 3), the others the 1 s items, done by ~15 s.
	 * At 20 s the script asks for 1: newest-first stops the busy newest
	 * (killed after the grace, its item redone after the lease); idle-
	 * first stops the three idle ones. */
	struct script sc = { .at = { 0, 20 }, .n = { 4, 1 }, .steps = 2 };
	struct sim_result r;
	struct sim_job j;
	double work[33], wsum = 0;
	char err[256];
	int i;

	(void)state;
	job(&j, 33, 1, 5, 4);
	for (i = 0; i < 33; i++)
		wsum += work[i] = i == 3 ? 40 : 1;
	the_script = &sc;
	assert_int_equal(sim_run(&j, work, &script_def, NULL, 0, NULL, NULL, &r,
	    err, sizeof(err)), 0);
	assert_false(sc.bad);
	assert_true(r.finished);
	assert_int_equal(r.interrupted, 0);
	assert_true(fabs(r.work_s - wsum) < 1e-6);
	assert_true(fabs(r.finish_s - 45) < 1e-9);
	memset(&sc, 0, sizeof(sc));
	sc.at[1] = 20;
	sc.n[0] = 4;
	sc.n[1] = 1;
	sc.steps = 2;
	j.idle_first = 0;
	assert_int_equal(sim_run(&j, work, &script_def, NULL, 0, NULL, NULL, &r,
	    err, sizeof(err)), 0);
	assert_true(r.finished);
	assert_int_equal(r.interrupted, 1);
	assert_true(r.finish_s > 45 + 30);
}

static void
test_sim__fastest_is_the_list_schedule(void **state)
{
	struct sim_job j;
	double w[3] = { 5, 3, 2 };

	(void)state;
	job(&j, 3, 1, 1, 2);
	/* 5 on A; 3 on B, then 2 on B at 3: all done at 5, plus start-up 1 */
	assert_true(fabs(sim_fastest(&j, w) - 6) < 1e-12);
	j.max_replicas = 1;
	assert_true(fabs(sim_fastest(&j, w) - 11) < 1e-12);
	assert_true(fabs(sim_total_work(&j, w) - 10) < 1e-12);
}

static void
test_sim__static_max_finishes_at_the_fastest_time(void **state)
{
	struct script sc = { .at = { 0 }, .n = { 16 }, .steps = 1 };
	struct sim_result r;
	struct sim_job j;
	double *work = NULL, fast;

	(void)state;
	job(&j, 800, 10, 30, 16);
	j.dist = SIM_LOGNORMAL;
	j.sigma = 1;
	assert_int_equal(sim_items(&j, &work), 0);
	fast = sim_fastest(&j, work);
	free(work);
	r = run_script(&j, &sc);
	assert_true(fabs(r.finish_s - fast) < 1e-6);
}

static void
test_sim__oracle_bound_formula(void **state)
{
	(void)state;
	/* W + S * ceil(W / (D - S)) */
	assert_true(fabs(sim_oracle_cost(1000, 10, 110) - 1100) < 1e-9);
	assert_true(fabs(sim_oracle_cost(1000, 10, 109) - 1110) < 1e-9);
	assert_true(isinf(sim_oracle_cost(1000, 10, 10)));
}

static void
test_sim__is_deterministic(void **state)
{
	const struct coffer_controller *def;
	struct sim_result a, b;
	struct sim_job j;
	double *work = NULL;
	char err[256];
	void *dl = NULL;

	(void)state;
	assert_int_equal(coffer_controller_find("deadline", &def, &dl), 0);
	job(&j, 1500, 10, 30, 32);
	j.dist = SIM_LOGNORMAL;
	j.sigma = 1;
	j.crash_frac = 0.05;
	j.deadline_s = 900;
	assert_int_equal(sim_items(&j, &work), 0);
	assert_int_equal(sim_run(&j, work, def, NULL, 0, NULL, NULL, &a, err,
	    sizeof(err)), 0);
	assert_int_equal(sim_run(&j, work, def, NULL, 0, NULL, NULL, &b, err,
	    sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	free(work);
	/* another seed is another job */
	j.seed = 8;
	assert_int_equal(sim_items(&j, &work), 0);
	assert_int_equal(sim_run(&j, work, def, NULL, 0, NULL, NULL, &b, err,
	    sizeof(err)), 0);
	assert_true(a.cost_rs != b.cost_rs);
	free(work);
}

static void
test_sim__graceful_stop_lets_short_items_finish(void **state)
{
	/* 10 replicas, then 2 from t=50: items of 8 s (< 10 s grace) finish */
	struct script sc = { .at = { 0, 50 }, .n = { 10, 2 }, .steps = 2 };
	struct sim_result r;
	struct sim_job j;

	(void)state;
	job(&j, 200, 8, 5, 10);
	r = run_script(&j, &sc);
	assert_true(r.finished);
	assert_int_equal(r.interrupted, 0);
	assert_true(fabs(r.work_s - 1600) < 1e-6); /* nothing redone */
	assert_int_equal(r.scale_events, 2);
}

static void
test_sim__stop_kills_long_items_after_grace(void **state)
{
	/* items of 40 s outlast the 10 s grace: stopped busy replicas are
	 * killed (every replica is busy: idle-first cannot help), their items
	 * come back after the lease and are redone */
	struct script sc = { .at = { 0, 50 }, .n = { 10, 2 }, .steps = 2 };
	struct sim_result r;
	struct sim_job j;

	(void)state;
	job(&j, 40, 40, 5, 10);
	r = run_script(&j, &sc);
	assert_true(r.finished);
	assert_int_equal(r.interrupted, 8);
	/* 8 items lost 10 s + (50 - 45) s of work each before the kill */
	assert_true(fabs(r.work_s - (1600 + 8 * 15)) < 1e-6);
	assert_int_equal(sc.total, 40);
}

static void
test_sim__crashed_items_come_back_and_are_done_once(void **state)
{
	struct script sc = { .at = { 0 }, .n = { 8 }, .steps = 1 };
	struct sim_result r;
	struct sim_job j;

	(void)state;
	job(&j, 400, 10, 5, 8);
	j.crash_frac = 0.5;
	r = run_script(&j, &sc);
	assert_true(r.finished);
	assert_true(r.crashes > 0);
	assert_true(r.starts >= 8 + r.crashes - 1); /* replaced */
	assert_true(r.work_s >= 4000 - 1e-6);
}

static void
test_sim__lognormal_items_have_the_asked_mean(void **state)
{
	struct sim_job j;
	double *work = NULL, sum = 0, lsum = 0, lsq = 0, mu, sd;
	int64_t i;

	(void)state;
	job(&j, 200000, 10, 5, 4);
	j.dist = SIM_LOGNORMAL;
	j.sigma = 1;
	assert_int_equal(sim_items(&j, &work), 0);
	for (i = 0; i < j.n_items; i++) {
		sum += work[i];
		lsum += log(work[i]);
		lsq += log(work[i]) * log(work[i]);
	}
	mu = lsum / (double)j.n_items;
	sd = sqrt(lsq / (double)j.n_items - mu * mu);
	assert_true(fabs(sum / (double)j.n_items - 10) < 0.2);
	assert_true(fabs(sd - 1) < 0.02);
	free(work);
	/* the slow-down doubles the second half */
	job(&j, 10, 10, 5, 4);
	j.slowdown = 2;
	assert_int_equal(sim_items(&j, &work), 0);
	assert_true(work[4] == 10 && work[5] == 20 && work[9] == 20);
	free(work);
}

static void
test_sim__bimodal_items_mix_short_and_ten_times_longer(void **state)
{
	struct sim_job j;
	double *work = NULL, sum = 0, shrt = 0, lng = 0;
	int64_t i, nlong = 0;

	(void)state;
	job(&j, 100000, 10, 5, 4);
	j.dist = SIM_BIMODAL;
	j.sigma = 0.25;
	assert_int_equal(sim_items(&j, &work), 0);
	/* short ones have mean 10 / 1.9; long ones ten times that */
	for (i = 0; i < j.n_items; i++) {
		sum += work[i];
		if (work[i] > 10 / 1.9 * 3.5) {
			nlong++;
			lng += work[i];
		} else
			shrt += work[i];
	}
	assert_true(fabs(sum / (double)j.n_items - 10) < 0.2);
	assert_true(fabs((double)nlong / (double)j.n_items - 0.1) < 0.01);
	assert_true(fabs(lng / (double)nlong / (shrt / (double)(j.n_items -
	    nlong)) - 10) < 0.3);
	free(work);
}

static void
test_sim__grid_makes_each_cell_its_own_job(void **state)
{
	struct sim_cell c, c2;
	struct sim_job j, j2;
	double *w = NULL, *w2 = NULL, fast, fast2;
	size_t i, seen = 0;

	(void)state;
	/* the cells enumerate the product, each once */
	for (i = 0; i < SIM_NCELLS; i++) {
		sim_grid_cell(i, &c);
		assert_true(c.fam < SIM_NFAM && c.s < SIM_NS && c.f < SIM_NF &&
		    c.c < SIM_NC && c.n < SIM_NN);
		if (c.fam == 7 && c.s == 4 && c.f == 5 && c.c == 2 && c.n == 2)
			seen++;
	}
	assert_int_equal(seen, 1);
	assert_int_equal(SIM_NCELLS, 2160);
	/* the deadline is the factor times the fastest; the factor changes
	 * the deadline but not the items */
	sim_grid_cell(123, &c);
	c.f = 0;
	c2 = c;
	c2.f = 5;
	assert_int_equal(sim_grid_job(&c, 1, &j, &w, &fast), 0);
	assert_int_equal(sim_grid_job(&c2, 1, &j2, &w2, &fast2), 0);
	assert_true(fabs(j.deadline_s - 1.1 * fast) < 1e-9);
	assert_true(fabs(j2.deadline_s - 5 * fast2) < 1e-9);
	assert_true(fast == fast2);
	assert_memory_equal(w, w2, (size_t)j.n_items * sizeof(*w));
	free(w2);
	/* another seed is another job */
	assert_int_equal(sim_grid_job(&c, 2, &j2, &w2, &fast2), 0);
	assert_true(w[0] != w2[0]);
	free(w);
	free(w2);
}

static void
test_sim__deadline_meets_a_slice_of_the_sweep_cheaper_than_static_max(void **state)
{
	/* A slice of the benchmark's sweep (grid.c) on a tuning seed: heavy
	 * tails, a bimodal mix and crashes, a short and a long start-up, a
	 * tight and a loose deadline. Every job static-max meets, deadline
	 * meets too; with a loose deadline it costs less. */
	const unsigned char fams[] = { 2, 4, 5, 7 }, ss[] = { 1, 3 },
	    fs[] = { 1, 4 };
	const struct coffer_controller *dl, *st;
	struct coffer_ctl_param pmax = { "replicas", "max" };
	void *h1 = NULL, *h2 = NULL;
	char err[256];
	int runs = 0;

	(void)state;
	assert_int_equal(coffer_controller_find("deadline", &dl, &h1), 0);
	assert_int_equal(coffer_controller_find("static", &st, &h2), 0);
	for (size_t a = 0; a < sizeof(fams); a++)
	for (size_t b = 0; b < sizeof(ss); b++)
	for (size_t f = 0; f < sizeof(fs); f++) {
		struct sim_cell c = { fams[a], ss[b], fs[f], 1, 1 };
		struct sim_result rd, rm;
		struct sim_job j;
		double *w = NULL, fast;

		assert_int_equal(sim_grid_job(&c, 1000, &j, &w, &fast), 0);
		assert_int_equal(sim_run(&j, w, st, &pmax, 1, NULL, NULL, &rm, err,
		    sizeof(err)), 0);
		assert_int_equal(sim_run(&j, w, dl, NULL, 0, NULL, NULL, &rd, err,
		    sizeof(err)), 0);
		free(w);
		if (!rm.met)
			continue;
		runs++;
		if (!rd.met)
			fail_msg("%s, S %g, factor %g: missed by %.0f s",
			    sim_families[c.fam].name, sim_startups[c.s],
			    sim_factors[c.f], rd.lateness_s);
		if (sim_factors[c.f] >= 3 && !(rd.cost_rs < rm.cost_rs))
			fail_msg("%s, S %g, factor %g: cost %.0f, static-max %.0f",
			    sim_families[c.fam].name, sim_startups[c.s],
			    sim_factors[c.f], rd.cost_rs, rm.cost_rs);
	}
	assert_true(runs >= 14);
}

static void
test_sim__refuses_a_controller_that_refuses_its_config(void **state)
{
	const struct coffer_controller *def;
	struct coffer_ctl_param p = { "bogus", "1" };
	struct sim_result r;
	struct sim_job j;
	double *work = NULL;
	char err[256];
	void *dl = NULL;

	(void)state;
	assert_int_equal(coffer_controller_find("deadline", &def, &dl), 0);
	job(&j, 10, 1, 1, 2);
	assert_int_equal(sim_items(&j, &work), 0);
	assert_int_equal(sim_run(&j, work, def, &p, 1, NULL, NULL, &r, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "bogus"));
	free(work);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim__static_job_costs_exactly_what_it_should),
		cmocka_unit_test(test_sim__observation_as_the_manager_fills_it),
		cmocka_unit_test(test_sim__idle_first_stops_an_idle_replica_not_the_busy_newest),
		cmocka_unit_test(test_sim__fastest_is_the_list_schedule),
		cmocka_unit_test(test_sim__static_max_finishes_at_the_fastest_time),
		cmocka_unit_test(test_sim__oracle_bound_formula),
		cmocka_unit_test(test_sim__is_deterministic),
		cmocka_unit_test(test_sim__graceful_stop_lets_short_items_finish),
		cmocka_unit_test(test_sim__stop_kills_long_items_after_grace),
		cmocka_unit_test(test_sim__crashed_items_come_back_and_are_done_once),
		cmocka_unit_test(test_sim__lognormal_items_have_the_asked_mean),
		cmocka_unit_test(test_sim__bimodal_items_mix_short_and_ten_times_longer),
		cmocka_unit_test(test_sim__grid_makes_each_cell_its_own_job),
		cmocka_unit_test(test_sim__deadline_meets_a_slice_of_the_sweep_cheaper_than_static_max),
		cmocka_unit_test(test_sim__refuses_a_controller_that_refuses_its_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
