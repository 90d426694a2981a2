/* SPDX-License-Identifier: Apache-2.0 */
/* controllers-sim: the controller benchmark. Sweeps the job families and
 * grid of doc/controllers.md section 7.2 (grid.h) over fixed seeds, drives
 * every controller plugin through the ABI (loaded as .so files through
 * the registry), finds the best fixed count in hindsight for each job, and
 * prints Markdown tables; or simulates one job (--one) for a prediction. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coffer/error.h"
#include "controllers/registry.h"
#include "grid.h"
#include "sim.h"

/* ---- what is swept: grid.h ------------------------------------------ */

/* A controller as benchmarked: its plugin file and parameters. A value of
 * "=max" is replaced with the job's max replicas. */
struct spec {
	const char *label;
	const char *file;
	const char *kv[12];
	int baseline;  /* compared against deadline in the goal check */
};

static const struct spec specs[] = {
	{ "static-min", "static", { "replicas", "min", NULL }, 1 },
	{ "static-max", "static", { "replicas", "max", NULL }, 1 },
	{ "asperathos-default", "asperathos_default", { "trigger_up", "0",
	    "trigger_down", "0", "actuation_size", "1", NULL }, 1 },
	{ "asperathos-pid", "asperathos_pid", { "proportional_gain", "0.1",
	    "integral_gain", "0", "derivative_gain", "0", NULL }, 1 },
	{ "asperathos-pid Kp=max", "asperathos_pid", { "proportional_gain",
	    "=max", "integral_gain", "0", "derivative_gain", "0", NULL }, 1 },
	{ "hpa", "hpa", { NULL }, 1 },
	{ "deadline", "deadline", { NULL }, 0 },
};
#define NSPEC (sizeof(specs) / sizeof(specs[0]))
#define STATIC_MAX 1
#define DEADLINE (NSPEC - 1)

/* The best fixed replica count chosen in hindsight, knowing every item:
 * a column of its own after the controllers. */
#define HINDSIGHT NSPEC
#define NCOL (NSPEC + 1)

struct rec {
	struct sim_cell cell;
	int late_info;  /* S > 5% of D: the first items finish after a hedge
	                   for a just-feasible job must have started every
	                   replica (doc/controllers.md 6.4) */
	int feasible;
	int met;
	double ratio;
	double cost;
	double lateness;
	int churn;
	int64_t interrupted;
	int32_t peak;
};

struct opts {
	const char *plugins;
	int seeds;
	uint64_t seed_base;
	int quick;
	const char *trace_dir;
	const char *only;
	const char *csv;
	const char *deadline_params; /* extra k=v,k=v for the deadline controller */
	int obs_full;                /* exact ready replicas and start-ups */
	int obs_no_times;            /* what-if: no item times from the acks */
	int startup_known;           /* what-if: the host reports S from t = 0 */
	double item_estimate;        /* what-if: the job says item_time_estimate_s,
	                                this factor times the true mean (0: no) */
	int spread_known;            /* what-if: cv_prior is the items' true cv */
	int newest_first;            /* what-if: scale-down without the hint */
	double grace_s;              /* 0: the default (coffer-manager's 10 s) */
};

/* ---- helpers ----------------------------------------------------------- */

struct loaded {
	const struct coffer_controller *def;
	void *dl;
};

static int
load_all(const struct opts *o, struct loaded *l)
{
	char path[1024];
	size_t i;

	for (i = 0; i < NSPEC; i++) {
		snprintf(path, sizeof(path), "%s/%s.so", o->plugins, specs[i].file);
		if (coffer_controller_find(path, &l[i].def, &l[i].dl) != 0) {
			fprintf(stderr, "controllers-sim: %s: %s\n",
			    coffer_strerror(COFFER_E_ABI), coffer_errdetail());
			return -1;
		}
	}
	return 0;
}

/* Parameters of spec i for a job with max replicas max (max_buf holds the
 * text), plus extra "k=v,k=v" (into xbuf) for the deadline controller. */
static size_t
make_params(const struct spec *sp, int32_t max, char *max_buf, size_t mlen,
    const char *extra, char *xbuf, size_t xlen, struct coffer_ctl_param *p,
    size_t cap)
{
	size_t n = 0;
	char *save = NULL, *tok;

	snprintf(max_buf, mlen, "%d", (int)max);
	while (sp->kv[2 * n] != NULL && n < cap) {
		p[n].key = sp->kv[2 * n];
		p[n].value = strcmp(sp->kv[2 * n + 1], "=max") == 0 ? max_buf :
		    sp->kv[2 * n + 1];
		n++;
	}
	if (extra != NULL && *extra != '\0') {
		snprintf(xbuf, xlen, "%s", extra);
		for (tok = strtok_r(xbuf, ",", &save); tok != NULL && n < cap;
		    tok = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(tok, '=');

			if (eq == NULL)
				continue;
			*eq = '\0';
			p[n].key = tok;
			p[n].value = eq + 1;
			n++;
		}
	}
	return n;
}

/* The deadline controller's extra parameters: --deadline-params, and the
 * job's item time estimate when the what-if asks for one. */
static const char *
deadline_extra(const struct opts *o, const struct sim_job *j, const double *work,
    char *buf, size_t len)
{
	size_t n = 0;

	if (o->item_estimate <= 0 && !o->spread_known)
		return o->deadline_params;
	buf[0] = '\0';
	if (o->deadline_params != NULL)
		n += (size_t)snprintf(buf, len, "%s", o->deadline_params);
	if (o->item_estimate > 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%sitem_time_estimate_s=%g",
		    n ? "," : "", o->item_estimate * sim_total_work(j, work) /
		    (double)(j->n_items > 0 ? j->n_items : 1));
	if (o->spread_known && n < len && j->n_items > 1) {
		double mean = sim_total_work(j, work) / (double)j->n_items, v = 0;

		for (int64_t i = 0; i < j->n_items; i++)
			v += (work[i] - mean) * (work[i] - mean);
		v /= (double)(j->n_items - 1);
		(void)snprintf(buf + n, len - n, "%scv_prior=%g", n ? "," : "",
		    sqrt(v) / mean);
	}
	return buf;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of v[0..n) (sorted in place). */
static double
pct(double *v, size_t n, double q)
{
	size_t k;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	k = (size_t)ceil(q * (double)n);
	if (k < 1)
		k = 1;
	return v[k - 1];
}

/* What one controller did over a set of runs. ratios15 holds the cost
 * ratios of the runs at deadline factors of 1.5 and more (the cost goals'
 * scope). */
struct agg {
	size_t runs, met, inf_runs, inf_met;
	double churn, interrupted, peak;
	double *ratios, *ratios15;
	size_t nratios, nratios15;
	double *late;   /* lateness of the feasible runs that missed */
	size_t nlate;
};

static int
agg_init(struct agg *a, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->ratios = calloc(cap + 1, sizeof(double));
	a->ratios15 = calloc(cap + 1, sizeof(double));
	a->late = calloc(cap + 1, sizeof(double));
	return a->ratios != NULL && a->ratios15 != NULL && a->late != NULL ? 0 : -1;
}

static void
agg_reset(struct agg *a)
{
	double *r = a->ratios, *r15 = a->ratios15, *l = a->late;

	memset(a, 0, sizeof(*a));
	a->ratios = r;
	a->ratios15 = r15;
	a->late = l;
}

static void
agg_release(struct agg *a)
{
	free(a->ratios);
	free(a->ratios15);
	free(a->late);
}

static void
agg_add(struct agg *a, const struct rec *r)
{
	if (!r->feasible) {
		a->inf_runs++;
		a->inf_met += r->met;
		return;
	}
	a->runs++;
	a->met += r->met;
	a->churn += r->churn;
	a->interrupted += (double)r->interrupted;
	a->peak += r->peak;
	a->ratios[a->nratios++] = r->ratio;
	if (sim_factors[r->cell.f] >= 1.5)
		a->ratios15[a->nratios15++] = r->ratio;
	if (!r->met)
		a->late[a->nlate++] = r->lateness;
}

static double
agg_met(const struct agg *a)
{
	return a->runs ? 100.0 * (double)a->met / (double)a->runs : 0;
}

#define AGG_HEAD "| runs | met | cost/oracle median | p95 | median, factor >= 1.5 | " \
    "p95, factor >= 1.5 | peak replicas (mean) | churn (scale events/run) | " \
    "items interrupted/run | lateness of misses, median (s) | infeasible runs |\n"
#define AGG_RULE "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"

static void
agg_row(const char *name, struct agg *a)
{
	double med = pct(a->ratios, a->nratios, 0.5);
	double p95 = pct(a->ratios, a->nratios, 0.95);
	double med15 = pct(a->ratios15, a->nratios15, 0.5);
	double p9515 = pct(a->ratios15, a->nratios15, 0.95);
	double late = pct(a->late, a->nlate, 0.5);

	printf("| %s | %zu | %.2f%% | %.3f | %.3f | %.3f | %.3f | %.1f | %.1f | "
	    "%.2f |", name, a->runs, agg_met(a), med, p95, med15, p9515,
	    a->runs ? a->peak / (double)a->runs : 0,
	    a->runs ? a->churn / (double)a->runs : 0,
	    a->runs ? a->interrupted / (double)a->runs : 0);
	if (a->nlate)
		printf(" %.0f |", late);
	else
		printf(" - |");
	if (a->inf_runs)
		printf(" %zu (%.0f%% met) |\n", a->inf_runs,
		    100.0 * (double)a->inf_met / (double)a->inf_runs);
	else
		printf(" 0 |\n");
}

static void
trace_write(const struct sim_sample *s, const char *reason, void *arg)
{
	FILE *f = arg;

	(void)reason;
	fprintf(f, "%.1f %d %d %d %.5f %lld %lld %u\n", s->t, (int)s->alive,
	    (int)s->ready, (int)s->desired, s->progress * 100,
	    (long long)s->queued, (long long)s->in_flight, (unsigned)s->flags);
}

/* ---- the sweep --------------------------------------------------------- */

static void
apply_opts(const struct opts *o, struct sim_job *j)
{
	j->obs_full = o->obs_full;
	j->obs_no_times = o->obs_no_times;
	j->obs_startup_known = o->startup_known;
	j->idle_first = !o->newest_first;
	if (o->grace_s > 0)
		j->grace_s = o->grace_s;
}

static const char *
label_of(size_t i)
{
	return i == HINDSIGHT ? "best fixed count (hindsight)" : specs[i].label;
}

/* A label as a file name: spaces, '=' and '(' ')' become '-'. */
static void
file_name(const char *label, char *out, size_t len)
{
	size_t k;

	snprintf(out, len, "%s", label);
	for (k = 0; out[k]; k++)
		if (out[k] == ' ' || out[k] == '=' || out[k] == '(' || out[k] == ')')
			out[k] = '-';
}

/* One representative job per family (S = 30 s, deadline 2 x the fastest,
 * max 32, 1000 items, seed 1), plus the previous benchmark's (lognormal 1,
 * 1.5 x, 2000 items) under every controller. */
static int
write_trace(const struct opts *o, const struct loaded *l, size_t i,
    const struct sim_job *j, const double *work, const char *tag)
{
	struct coffer_ctl_param params[16];
	char path[1024], name[96], maxb[16], xbuf[512], ebuf[512], err[256];
	struct sim_result res;
	size_t np;
	FILE *f;

	file_name(tag, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/ctl-trace-%s.dat", o->trace_dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "controllers-sim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	np = make_params(&specs[i], j->max_replicas, maxb, sizeof(maxb),
	    i == DEADLINE ? deadline_extra(o, j, work, ebuf, sizeof(ebuf)) : NULL,
	    xbuf,
	    sizeof(xbuf), params, 16);
	fprintf(f, "# %s; deadline %.1f s; oracle %.0f replica-s; max %d\n",
	    tag, j->deadline_s, sim_oracle_cost(sim_total_work(j, work),
	    j->startup_s, j->deadline_s), (int)j->max_replicas);
	fprintf(f, "# t alive ready desired progress%% queued in_flight flags\n");
	if (sim_run(j, work, l[i].def, params, np, trace_write, f, &res, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "controllers-sim: %s: %s\n", specs[i].label, err);
		fclose(f);
		return -1;
	}
	fprintf(f, "# finished %.1f met %d cost %.0f\n", res.finish_s, res.met,
	    res.cost_rs);
	fclose(f);
	return 0;
}

static int
write_traces(const struct opts *o, const struct loaded *l)
{
	struct sim_cell c;
	struct sim_job j;
	double *work = NULL, fast;
	char tag[128];
	size_t i;

	/* the previous benchmark's representative job, every controller */
	memset(&c, 0, sizeof(c));
	c.fam = 2;    /* lognormal 1 */
	c.s = 2;      /* 30 s */
	c.f = 2;      /* 1.5 */
	c.c = 1;      /* 32 */
	c.n = 1;      /* 1000 */
	if (sim_grid_job(&c, 1, &j, &work, &fast) != 0)
		return -1;
	apply_opts(o, &j);
	for (i = 0; i < NSPEC; i++)
		if (write_trace(o, l, i, &j, work, specs[i].label) != 0) {
			free(work);
			return -1;
		}
	free(work);
	/* deadline on one job of each family, S = 60 s, 2 x the fastest */
	for (c.fam = 0; c.fam < SIM_NFAM; c.fam++) {
		c.s = 3;
		c.f = 3;
		if (sim_grid_job(&c, 1, &j, &work, &fast) != 0)
			return -1;
		apply_opts(o, &j);
		snprintf(tag, sizeof(tag), "family %s", sim_families[c.fam].name);
		if (write_trace(o, l, DEADLINE, &j, work, tag) != 0) {
			free(work);
			return -1;
		}
		free(work);
	}
	printf("Traces in %s/ctl-trace-*.dat: every controller on lognormal 1, "
	    "S = 30 s, D = 1.5 x fastest, max 32, 1000 items, seed 1; deadline on "
	    "each family at S = 60 s, D = 2 x fastest, max 32, 1000 items, seed "
	    "1.\n\n", o->trace_dir);
	return 0;
}

/*
 * The cheapest fixed replica count that meets the deadline, chosen knowing
 * the job: what no controller can do, shown next to them. Without crashes
 * a fixed count k starts every replica at t = 0, finishes at S plus the
 * list schedule of the items on k replicas, and costs k times that (the
 * simulator's own accounting; test_sim checks it); with crashes the count
 * is simulated. The search: the smallest k that meets (by bisection: a
 * larger count finishes no later, up to list-scheduling anomalies), then
 * every k up to 6 above it and 2 below, for the cheapest that meets.
 */
static int
hindsight_eval(const struct sim_job *j0, const double *work,
    const struct loaded *l, int32_t k, struct sim_result *res)
{
	struct coffer_ctl_param p = { "replicas", NULL };
	struct sim_job j = *j0;
	char kb[16], err[256];

	if (j.crash_frac <= 0) {
		memset(res, 0, sizeof(*res));
		j.max_replicas = k;
		res->finish_s = sim_fastest(&j, work);
		res->finished = 1;
		res->met = res->finish_s <= j.deadline_s + 1e-9;
		res->lateness_s = res->met ? 0 : res->finish_s - j.deadline_s;
		res->cost_rs = (double)k * res->finish_s;
		res->peak = k;
		res->scale_events = k > 1;
		return 0;
	}
	snprintf(kb, sizeof(kb), "%d", (int)k);
	p.value = kb;
	if (sim_run(&j, work, l[STATIC_MAX].def, &p, 1, NULL, NULL, res, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "controllers-sim: hindsight: %s\n", err);
		return -1;
	}
	return 0;
}

static int
hindsight(const struct sim_job *j, const double *work, const struct loaded *l,
    struct sim_result *best)
{
	struct sim_result r;
	int32_t lo = 0, hi = j->max_replicas, k, from, to;
	int have = 0;

	/* invariant: hi meets (the job is feasible), lo does not */
	while (hi - lo > 1) {
		int32_t mid = lo + (hi - lo) / 2;

		if (hindsight_eval(j, work, l, mid, &r) != 0)
			return -1;
		if (r.met)
			hi = mid;
		else
			lo = mid;
	}
	from = hi - 2 < 1 ? 1 : hi - 2;
	to = hi + 6 > j->max_replicas ? j->max_replicas : hi + 6;
	for (k = from; k <= to; k++) {
		if (hindsight_eval(j, work, l, k, &r) != 0)
			return -1;
		if (r.met && (!have || r.cost_rs < best->cost_rs)) {
			*best = r;
			have = 1;
		}
	}
	if (!have && hindsight_eval(j, work, l, j->max_replicas, best) != 0)
		return -1;
	return 0;
}

static int
in_quick(const struct sim_cell *c)
{
	/* a quarter-size slice: start-up 1, 30, 120 s; factors 1.1, 1.5, 3;
	 * max 8 and 128; 200 and 5000 items */
	return c->s % 2 == 0 && c->f % 2 == 0 && c->c != 1 && c->n != 1;
}

static void
print_dim_tables(const struct rec *recs, size_t nrec, struct agg *a,
    struct agg *h)
{
	static const char *const dims[] = { "family", "start-up S (s)",
	    "deadline / fastest", "max replicas", "items", "start-up / deadline" };
	size_t dim, v, k;

	printf("### deadline by dimension (feasible runs), next to the best "
	    "fixed count in hindsight\n\n");
	printf("| dimension | value | runs | met | cost/oracle median | p95 | "
	    "median, factor >= 1.5 | p95, factor >= 1.5 | hindsight median | "
	    "hindsight p95 |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (dim = 0; dim < 6; dim++) {
		size_t nv = dim == 0 ? SIM_NFAM : dim == 1 ? SIM_NS : dim == 2 ?
		    SIM_NF : dim == 3 ? SIM_NC : dim == 4 ? SIM_NN : 2;

		for (v = 0; v < nv; v++) {
			char val[64];

			agg_reset(a);
			agg_reset(h);
			for (k = 0; k < nrec; k++) {
				const struct sim_cell *c = &recs[k * NCOL].cell;
				size_t x = dim == 0 ? c->fam : dim == 1 ? c->s : dim == 2 ?
				    c->f : dim == 3 ? c->c : dim == 4 ? c->n :
				    (size_t)recs[k * NCOL].late_info;

				if (x != v)
					continue;
				agg_add(a, &recs[k * NCOL + DEADLINE]);
				agg_add(h, &recs[k * NCOL + HINDSIGHT]);
			}
			if (a->runs == 0)
				continue;
			if (dim == 0)
				snprintf(val, sizeof(val), "%s", sim_families[v].name);
			else if (dim == 5)
				snprintf(val, sizeof(val), "%s", v ? "> 5% (the first items "
				    "come too late)" : "<= 5%");
			else
				snprintf(val, sizeof(val), "%g", dim == 1 ? sim_startups[v] :
				    dim == 2 ? sim_factors[v] : dim == 3 ?
				    (double)sim_caps[v] : (double)sim_sizes[v]);
			printf("| %s | %s | %zu | %.2f%% | %.3f | %.3f |", dims[dim], val,
			    a->runs, agg_met(a), pct(a->ratios, a->nratios, 0.5),
			    pct(a->ratios, a->nratios, 0.95));
			if (a->nratios15)
				printf(" %.3f | %.3f |", pct(a->ratios15, a->nratios15, 0.5),
				    pct(a->ratios15, a->nratios15, 0.95));
			else
				printf(" - | - |");
			printf(" %.3f | %.3f |\n", pct(h->ratios, h->nratios, 0.5),
			    pct(h->ratios, h->nratios, 0.95));
		}
	}
	printf("\n");
}

/*
 * The goals of issue 17 over the widened sweep: >= 99% of feasible
 * deadlines met; at deadline factors of 1.5 and more, median cost / oracle
 * <= 1.10 and p95 <= 1.30; and better than every baseline that meets at
 * least as many feasible deadlines (its median cost / oracle is higher).
 */
static void
print_goals(const struct opts *o, const struct rec *recs, size_t nrec,
    struct agg *a, struct agg *b)
{
	size_t i, k, nbase = 0, nbeaten = 0;
	double med15, p9515, med;
	int g1, g2, g3, g4;

	agg_reset(a);
	for (k = 0; k < nrec; k++)
		agg_add(a, &recs[k * NCOL + DEADLINE]);
	med = pct(a->ratios, a->nratios, 0.5);
	med15 = pct(a->ratios15, a->nratios15, 0.5);
	p9515 = pct(a->ratios15, a->nratios15, 0.95);
	g1 = a->runs > 0 && (double)a->met >= 0.99 * (double)a->runs;
	g2 = a->nratios15 > 0 && med15 <= 1.10;
	g3 = a->nratios15 > 0 && p9515 <= 1.30;
	printf("### Goal check for deadline\n\n");
	printf("1. feasible deadlines met: %.2f%% of %zu (goal >= 99%%): **%s**\n",
	    agg_met(a), a->runs, g1 ? "holds" : "does NOT hold");
	printf("2. median cost / oracle at deadline factors >= 1.5: %.3f (goal "
	    "<= 1.10): **%s**\n", med15, g2 ? "holds" : "does NOT hold");
	printf("3. p95 cost / oracle at deadline factors >= 1.5: %.3f (goal "
	    "<= 1.30): **%s**\n", p9515, g3 ? "holds" : "does NOT hold");
	{
		size_t k2, n15 = 0, n15l = 0;

		agg_reset(b);
		for (k2 = 0; k2 < nrec; k2++)
			if (!recs[k2 * NCOL + DEADLINE].late_info)
				agg_add(b, &recs[k2 * NCOL + DEADLINE]);
		n15 = b->nratios15;
		for (k2 = 0; k2 < nrec; k2++)
			n15l += recs[k2 * NCOL + DEADLINE].late_info &&
			    recs[k2 * NCOL + DEADLINE].feasible &&
			    sim_factors[recs[k2 * NCOL].cell.f] >= 1.5;
		printf("   (2 and 3 on the %zu jobs at factors >= 1.5 whose start-up "
		    "is at most 5%% of the deadline: median %.3f, p95 %.3f; the %zu "
		    "others are decided before any item can finish, section 6.4 of "
		    "doc/controllers.md)\n", n15, pct(b->ratios15, b->nratios15, 0.5),
		    pct(b->ratios15, b->nratios15, 0.95), n15l);
	}
	printf("4. better than every baseline that meets at least as many "
	    "feasible deadlines (its median cost / oracle over the feasible runs "
	    "is higher than deadline's, %.3f):\n\n", med);
	if (o->only != NULL) {
		printf("(not checked: --only leaves the baselines out)\n\n");
		printf("Goal: **NOT checked** (%d of 3 goals checked hold).\n\n",
		    g1 + g2 + g3);
		return;
	}
	printf("| baseline | deadlines met: baseline / deadline | median "
	    "cost/oracle: baseline / deadline | compared | holds |\n");
	printf("|---|---:|---:|---|---|\n");
	for (i = 0; i < NSPEC; i++) {
		double bmed;
		int cmp;

		if (!specs[i].baseline)
			continue;
		agg_reset(b);
		for (k = 0; k < nrec; k++)
			agg_add(b, &recs[k * NCOL + i]);
		bmed = pct(b->ratios, b->nratios, 0.5);
		cmp = b->met >= a->met;
		printf("| %s | %.2f%% / %.2f%% | %.3f / %.3f | %s | ", specs[i].label,
		    agg_met(b), agg_met(a), bmed, med, cmp ? "yes" :
		    "no: it meets fewer deadlines");
		if (!cmp) {
			printf("- |\n");
			continue;
		}
		nbase++;
		if (med < bmed) {
			printf("yes |\n");
			nbeaten++;
		} else
			printf("**no**: it is as cheap or cheaper |\n");
	}
	g4 = nbeaten == nbase;
	printf("\n   Goal 4: **%s** (%zu of %zu baselines that meet at least as "
	    "many deadlines).\n\n", g4 ? "holds" : "does NOT hold", nbeaten, nbase);
	printf("Goal: **%s** (%d of 4 goals hold).\n\n",
	    g1 && g2 && g3 && g4 ? "met" : "NOT met", g1 + g2 + g3 + g4);
}

/* One table row per controller (and the hindsight count) over the runs
 * of family fam, or of every family if fam == SIM_NFAM. */
static void
print_rows(const struct opts *o, const struct rec *recs, size_t nrec,
    size_t fam, struct agg *a, int do_hind)
{
	char name[160];
	size_t i, k;

	for (i = 0; i < NCOL; i++) {
		if ((i == HINDSIGHT && !do_hind) || (o->only != NULL &&
		    i != STATIC_MAX && i != HINDSIGHT &&
		    strcmp(o->only, specs[i].label) != 0))
			continue;
		agg_reset(a);
		for (k = 0; k < nrec; k++)
			if (fam == SIM_NFAM || recs[k * NCOL].cell.fam == fam)
				agg_add(a, &recs[k * NCOL + i]);
		snprintf(name, sizeof(name), "%s%s%s%s%s",
		    fam == SIM_NFAM ? "" : sim_families[fam].name,
		    fam == SIM_NFAM ? "" : " / ", i == DEADLINE ? "**" : "",
		    label_of(i), i == DEADLINE ? "**" : "");
		agg_row(name, a);
	}
}

static int
sweep(const struct opts *o, const struct loaded *l)
{
	size_t nscen = SIM_NCELLS * (size_t)o->seeds, nrec = 0;
	struct rec *recs = NULL;
	struct coffer_ctl_param params[16];
	char maxb[16], xbuf[512], ebuf[512], err[256];
	struct agg a, b;
	size_t ci, i, k;
	int64_t events = 0;
	int seed, rc = -1, do_hind = o->only == NULL;
	clock_t t0 = clock();
	FILE *csv = NULL;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if ((recs = calloc(nscen * NCOL, sizeof(*recs))) == NULL ||
	    agg_init(&a, nscen) != 0 || agg_init(&b, nscen) != 0)
		goto out;
	if (o->csv != NULL) {
		if ((csv = fopen(o->csv, "w")) == NULL) {
			fprintf(stderr, "controllers-sim: %s: %s\n", o->csv, strerror(errno));
			goto out;
		}
		fprintf(csv, "family,startup_s,factor,max,items,seed,controller,"
		    "deadline_s,fastest_s,oracle_rs,feasible,met,finish_s,cost_rs,"
		    "ratio,peak,scale_events,interrupted,crashes,late_info\n");
	}
	for (ci = 0; ci < SIM_NCELLS; ci++)
	for (seed = 0; seed < o->seeds; seed++) {
		struct sim_cell cell;
		struct sim_job j;
		struct sim_result res[NCOL];
		double *work = NULL, fast, oracle;
		uint64_t sd = o->seed_base + (uint64_t)seed;
		int feasible;

		sim_grid_cell(ci, &cell);
		if (o->quick && !in_quick(&cell))
			continue;
		if (sim_grid_job(&cell, sd, &j, &work, &fast) != 0)
			goto out;
		apply_opts(o, &j);
		oracle = sim_oracle_cost(sim_total_work(&j, work), j.startup_s,
		    j.deadline_s);
		memset(res, 0, sizeof(res));
		/* static-max first: its result defines feasibility */
		for (k = 0; k < NSPEC; k++) {
			size_t np;

			i = k == 0 ? STATIC_MAX : k == STATIC_MAX ? 0 : k;
			if (o->only != NULL && i != STATIC_MAX &&
			    strcmp(o->only, specs[i].label) != 0)
				continue;
			np = make_params(&specs[i], j.max_replicas, maxb, sizeof(maxb),
			    i == DEADLINE ? deadline_extra(o, &j, work, ebuf,
			    sizeof(ebuf)) : NULL, xbuf, sizeof(xbuf), params, 16);
			if (sim_run(&j, work, l[i].def, params, np, NULL, NULL, &res[i],
			    err, sizeof(err)) != 0) {
				fprintf(stderr, "controllers-sim: %s: %s\n", specs[i].label,
				    err);
				free(work);
				goto out;
			}
			events += res[i].events;
		}
		feasible = res[STATIC_MAX].met;
		if (do_hind && feasible &&
		    hindsight(&j, work, l, &res[HINDSIGHT]) != 0) {
			free(work);
			goto out;
		}
		for (i = 0; i < NCOL; i++) {
			struct rec *r = &recs[nrec * NCOL + i];

			r->cell = cell;
			r->late_info = j.startup_s > 0.05 * j.deadline_s;
			r->feasible = feasible;
			if ((o->only != NULL && i != STATIC_MAX && (i == HINDSIGHT ||
			    strcmp(o->only, specs[i].label) != 0)) ||
			    (i == HINDSIGHT && !feasible))
				continue;
			r->met = res[i].met;
			r->cost = res[i].cost_rs;
			r->ratio = res[i].cost_rs / oracle;
			r->lateness = res[i].lateness_s;
			r->churn = res[i].scale_events;
			r->interrupted = res[i].interrupted;
			r->peak = res[i].peak;
			if (csv != NULL)
				fprintf(csv, "%s,%g,%g,%d,%lld,%llu,%s,%.2f,%.2f,%.1f,%d,%d,"
				    "%.2f,%.1f,%.4f,%d,%d,%lld,%lld,%d\n",
				    sim_families[cell.fam].name, sim_startups[cell.s],
				    sim_factors[cell.f], (int)sim_caps[cell.c],
				    (long long)sim_sizes[cell.n], (unsigned long long)sd,
				    i == HINDSIGHT ? "hindsight" : specs[i].label,
				    j.deadline_s, fast, oracle, feasible, r->met,
				    res[i].finish_s, res[i].cost_rs, r->ratio,
				    (int)res[i].peak, res[i].scale_events,
				    (long long)res[i].interrupted, (long long)res[i].crashes,
				    r->late_info);
		}
		nrec++;
		free(work);
	}
	printf("Sweep: %zu jobs x %zu controllers%s, %lld simulated events, "
	    "%.1f s of CPU; seeds %llu..%llu.\n\n", nrec, NSPEC,
	    do_hind ? " and the best fixed count in hindsight" : "",
	    (long long)events, (double)(clock() - t0) / CLOCKS_PER_SEC,
	    (unsigned long long)o->seed_base,
	    (unsigned long long)(o->seed_base + (uint64_t)o->seeds - 1));
	{
		size_t feas = 0, fam;

		for (k = 0; k < nrec; k++)
			feas += recs[k * NCOL + STATIC_MAX].feasible != 0;
		printf("Feasible jobs (static-max meets the deadline): %zu of %zu; "
		    "the %zu others are reported apart.\n\n", feas, nrec, nrec - feas);
		printf("### Overall\n\n| controller " AGG_HEAD "|---" AGG_RULE);
		print_rows(o, recs, nrec, SIM_NFAM, &a, do_hind);
		printf("\n### Per family\n\n| family / controller " AGG_HEAD "|---"
		    AGG_RULE);
		for (fam = 0; fam < SIM_NFAM; fam++)
			print_rows(o, recs, nrec, fam, &a, do_hind);
		printf("\n");
	}
	if (do_hind)
		print_dim_tables(recs, nrec, &a, &b);
	if (o->only == NULL) {
		/* head to head on the runs both met */
		printf("### Head to head with deadline (feasible runs both met)\n\n");
		printf("| other | runs both met | its cost / deadline's, median | p5 | "
		    "p95 | deadline cheaper in |\n");
		printf("|---|---:|---:|---:|---:|---:|\n");
		for (i = 0; i < NCOL; i++) {
			size_t nb = 0, cheaper = 0;

			if (i == DEADLINE)
				continue;
			for (k = 0; k < nrec; k++) {
				const struct rec *x = &recs[k * NCOL + i];
				const struct rec *d = &recs[k * NCOL + DEADLINE];

				if (!x->feasible || !x->met || !d->met)
					continue;
				a.ratios[nb++] = x->cost / d->cost;
				cheaper += d->cost < x->cost;
			}
			if (nb == 0) {
				printf("| %s | 0 | - | - | - | - |\n", label_of(i));
				continue;
			}
			printf("| %s | %zu | %.3f | %.3f | %.3f | %.1f%% |\n", label_of(i),
			    nb, pct(a.ratios, nb, 0.5), pct(a.ratios, nb, 0.05),
			    pct(a.ratios, nb, 0.95),
			    100.0 * (double)cheaper / (double)nb);
		}
		printf("\n");
	}
	print_goals(o, recs, nrec, &a, &b);
	rc = 0;
out:
	if (csv != NULL)
		fclose(csv);
	agg_release(&a);
	agg_release(&b);
	free(recs);
	return rc;
}

/* ---- one job ----------------------------------------------------------- */

static void
trace_print(const struct sim_sample *s, const char *reason, void *arg)
{
	(void)arg;
	printf("t=%7.1f alive=%3d ready=%3d desired=%3d progress=%6.2f%% "
	    "queued=%lld in_flight=%lld | %s\n", s->t, (int)s->alive,
	    (int)s->ready, (int)s->desired, s->progress * 100,
	    (long long)s->queued, (long long)s->in_flight, reason);
}

static int
parse_d(const char *s, double *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtod(s, &end);
	return (end == s || *end != '\0' || errno != 0 || !isfinite(*out)) ? -1 : 0;
}

static int
one(int argc, char **argv)
{
	const char *ctl = "deadline", *extra = NULL, *plugin = NULL, *tpath = NULL;
	FILE *tf = NULL;
	struct coffer_ctl_param params[16];
	const struct coffer_controller *def;
	char xbuf[512], maxb[16], err[256];
	struct sim_result res;
	struct sim_job j;
	double *work = NULL, v, fast;
	int verbose = 0, bimodal = 0, i, rc = 1;
	void *dl = NULL;
	size_t np;
	struct spec sp;

	sim_job_defaults(&j);
	j.deadline_s = 0;
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (strcmp(a, "--obs-full") == 0) {
			j.obs_full = 1;
			continue;
		}
		if (strcmp(a, "--idle-first") == 0) {
			j.idle_first = 1;
			continue;
		}
		if (strcmp(a, "--newest-first") == 0) {
			j.idle_first = 0;
			continue;
		}
		if (strcmp(a, "--no-item-times") == 0) {
			j.obs_no_times = 1;
			continue;
		}
		if (strcmp(a, "--startup-known") == 0) {
			j.obs_startup_known = 1;
			continue;
		}
		if (strcmp(a, "--bimodal") == 0) {
			bimodal = 1;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, "controllers-sim --one: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--controller") == 0)
			ctl = val;
		else if (strcmp(a, "--plugin") == 0)
			plugin = val;
		else if (strcmp(a, "--params") == 0)
			extra = val;
		else if (strcmp(a, "--trace") == 0)
			tpath = val;
		else if (parse_d(val, &v) != 0) {
			fprintf(stderr, "controllers-sim --one: %s: not a number: %s\n", a,
			    val);
			return 2;
		} else if (strcmp(a, "--items") == 0)
			j.n_items = (int64_t)v;
		else if (strcmp(a, "--item-time") == 0)
			j.item_mean_s = v;
		else if (strcmp(a, "--sigma") == 0) {
			j.sigma = v;
			j.dist = v > 0 ? SIM_LOGNORMAL : SIM_CONST;
		} else if (strcmp(a, "--slowdown") == 0)
			j.slowdown = v;
		else if (strcmp(a, "--crash") == 0)
			j.crash_frac = v;
		else if (strcmp(a, "--startup") == 0)
			j.startup_s = v;
		else if (strcmp(a, "--deadline") == 0)
			j.deadline_s = v;
		else if (strcmp(a, "--deadline-factor") == 0)
			j.deadline_s = -v;
		else if (strcmp(a, "--max") == 0)
			j.max_replicas = (int32_t)v;
		else if (strcmp(a, "--min") == 0)
			j.min_replicas = (int32_t)v;
		else if (strcmp(a, "--init") == 0)
			j.init_replicas = (int32_t)v;
		else if (strcmp(a, "--interval") == 0)
			j.check_interval_s = v;
		else if (strcmp(a, "--grace") == 0)
			j.grace_s = v;
		else if (strcmp(a, "--lease") == 0)
			j.lease_s = v;
		else if (strcmp(a, "--seed") == 0)
			j.seed = (uint64_t)v;
		else {
			fprintf(stderr, "controllers-sim --one: unknown option %s\n", a);
			return 2;
		}
	}
	if (bimodal) {
		j.dist = SIM_BIMODAL;
		if (j.sigma == 1) /* not given: the sweep's */
			j.sigma = 0.25;
	}
	if (j.n_items < 0 || j.max_replicas < 1 || j.item_mean_s <= 0) {
		fprintf(stderr, "controllers-sim --one: bad job\n");
		return 2;
	}
	if (coffer_controller_find(plugin != NULL ? plugin : ctl, &def, &dl) != 0) {
		fprintf(stderr, "controllers-sim: %s\n", coffer_errdetail());
		return 1;
	}
	if (sim_items(&j, &work) != 0)
		goto out;
	fast = sim_fastest(&j, work);
	if (j.deadline_s < 0)
		j.deadline_s = -j.deadline_s * fast;
	else if (j.deadline_s == 0)
		j.deadline_s = 1.5 * fast;
	memset(&sp, 0, sizeof(sp));
	sp.label = ctl;
	np = make_params(&sp, j.max_replicas, maxb, sizeof(maxb), extra, xbuf,
	    sizeof(xbuf), params, 16);
	if (tpath != NULL) {
		if ((tf = fopen(tpath, "w")) == NULL) {
			fprintf(stderr, "controllers-sim: %s: %s\n", tpath, strerror(errno));
			goto out;
		}
		fprintf(tf, "# simulated %s; deadline %.1f s\n"
		    "# t alive ready desired progress%% queued in_flight flags\n",
		    def->name, j.deadline_s);
	}
	if (sim_run(&j, work, def, params, np, verbose ? trace_print :
	    tf != NULL ? trace_write : NULL, tf, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "controllers-sim: %s\n", err);
		goto out;
	}
	printf("controller=%s items=%lld work=%.1f fastest=%.1f deadline=%.1f "
	    "oracle=%.1f finish=%.1f met=%d cost=%.1f ratio=%.3f peak=%d "
	    "scale_events=%d interrupted=%lld crashes=%lld starts=%lld "
	    "starting_s=%.0f work_s=%.0f idle_s=%.0f\n",
	    def->name, (long long)j.n_items, sim_total_work(&j, work), fast,
	    j.deadline_s, sim_oracle_cost(sim_total_work(&j, work), j.startup_s,
	    j.deadline_s), res.finish_s, res.met, res.cost_rs, res.cost_rs /
	    sim_oracle_cost(sim_total_work(&j, work), j.startup_s, j.deadline_s),
	    (int)res.peak, res.scale_events, (long long)res.interrupted,
	    (long long)res.crashes, (long long)res.starts, res.starting_s,
	    res.work_s, res.idle_s);
	rc = 0;
out:
	if (tf != NULL)
		fclose(tf);
	free(work);
	coffer_controller_unload(dl);
	return rc;
}

/* ---- main -------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: controllers-sim [--plugins DIR] [--seeds N] [--seed-base N]\n"
	    "           [--quick] [--traces DIR] [--csv FILE] [--only LABEL]\n"
	    "           [--deadline-params k=v,...] [--obs-full] [--grace S]\n"
	    "           [--newest-first] [--no-item-times] [--startup-known]\n"
	    "           [--item-estimate F] [--spread-known]\n"
	    "       controllers-sim --one [--controller NAME | --plugin PATH]\n"
	    "           [--params k=v,...] [--items N] [--item-time S] [--sigma X]\n"
	    "           [--bimodal]\n"
	    "           [--slowdown X] [--crash P] [--startup S] [--deadline S |\n"
	    "           --deadline-factor F] [--max N] [--min N] [--init N]\n"
	    "           [--interval S] [--grace S] [--lease S] [--seed N]\n"
	    "           [--obs-full] [--newest-first] [--no-item-times]\n"
	    "           [--startup-known] [--trace FILE] [-v]\n"
	    "--newest-first: the actuator stops the newest replicas, busy or not\n"
	    "  (coffer-manager's stops idle ones first: the default).\n"
	    "--no-item-times: the observation without the acks' item times (the\n"
	    "  mean from replica-seconds, no variance).\n"
	    "--obs-full: exact ready replicas, replica-seconds and start-ups.\n"
	    "--startup-known: the host reports the start-up time from t = 0 (as\n"
	    "  measured on earlier jobs).\n"
	    "--item-estimate F: every job gives deadline item_time_estimate_s =\n"
	    "  F x the true mean item time (the mean of its items).\n"
	    "--spread-known: every job gives deadline cv_prior = the true\n"
	    "  coefficient of variation of its items.\n"
	    "--bimodal: 90%% short items, 10%% ten times longer (each mode\n"
	    "  lognormal, --sigma, 0.25 by default), mean --item-time.\n"
	    "The sweep: doc/controllers.md section 7.2; seeds 1-6 are reported,\n"
	    "1000 and up are for tuning.\n");
}

int
main(int argc, char **argv)
{
	struct loaded l[NSPEC];
	struct opts o;
	const char *b = getenv("COFFER_BUILD");
	char plugins[1024];
	int i, rc;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		usage();
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--one") == 0)
		return one(argc, argv);
	memset(&o, 0, sizeof(o));
	snprintf(plugins, sizeof(plugins), "%s/controllers",
	    b != NULL && *b ? b : "build");
	o.plugins = plugins;
	o.seeds = 4;
	o.seed_base = 1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (strcmp(a, "--quick") == 0) {
			o.quick = 1;
			continue;
		}
		if (strcmp(a, "--obs-full") == 0) {
			o.obs_full = 1;
			continue;
		}
		if (strcmp(a, "--idle-first") == 0) { /* the default */
			o.newest_first = 0;
			continue;
		}
		if (strcmp(a, "--newest-first") == 0) {
			o.newest_first = 1;
			continue;
		}
		if (strcmp(a, "--no-item-times") == 0) {
			o.obs_no_times = 1;
			continue;
		}
		if (strcmp(a, "--startup-known") == 0) {
			o.startup_known = 1;
			continue;
		}
		if (strcmp(a, "--spread-known") == 0) {
			o.spread_known = 1;
			continue;
		}
		if (val == NULL) {
			usage();
			return 2;
		}
		i++;
		if (strcmp(a, "--plugins") == 0)
			o.plugins = val;
		else if (strcmp(a, "--seeds") == 0) {
			o.seeds = (int)strtol(val, &end, 10);
			if (*end != '\0' || o.seeds < 1 || o.seeds > 1000) {
				usage();
				return 2;
			}
		} else if (strcmp(a, "--seed-base") == 0) {
			o.seed_base = strtoull(val, &end, 10);
			if (*end != '\0') {
				usage();
				return 2;
			}
		} else if (strcmp(a, "--traces") == 0)
			o.trace_dir = val;
		else if (strcmp(a, "--csv") == 0)
			o.csv = val;
		else if (strcmp(a, "--only") == 0)
			o.only = val;
		else if (strcmp(a, "--deadline-params") == 0)
			o.deadline_params = val;
		else if (strcmp(a, "--item-estimate") == 0) {
			o.item_estimate = strtod(val, &end);
			if (*end != '\0' || !(o.item_estimate > 0)) {
				usage();
				return 2;
			}
		}
		else if (strcmp(a, "--grace") == 0) {
			o.grace_s = strtod(val, &end);
			if (*end != '\0' || !(o.grace_s > 0)) {
				usage();
				return 2;
			}
		}
		else {
			usage();
			return 2;
		}
	}
	memset(l, 0, sizeof(l));
	if (load_all(&o, l) != 0)
		return 1;
	rc = 0;
	if (o.trace_dir != NULL && write_traces(&o, l) != 0)
		rc = 1;
	if (rc == 0 && sweep(&o, l) != 0)
		rc = 1;
	for (i = 0; i < (int)NSPEC; i++)
		coffer_controller_unload(l[i].dl);
	return rc;
}
