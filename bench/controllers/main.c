/* SPDX-License-Identifier: Apache-2.0 */
/* controllers-sim: the controller benchmark. Sweeps the workloads of
 * doc/controllers.md over fixed seeds, drives every controller plugin
 * through the ABI (loaded as .so files through the registry), and prints
 * Markdown tables; or simulates one job (--one) for a prediction. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coffer/error.h"
#include "controllers/registry.h"
#include "sim.h"

/* ---- what is swept ----------------------------------------------------- */

struct workload {
	const char *name;
	enum sim_dist dist;
	double sigma, slowdown, crash;
};

static const struct workload workloads[] = {
	{ "constant", SIM_CONST, 0, 1, 0 },
	{ "lognormal", SIM_LOGNORMAL, 1.0, 1, 0 },
	{ "slowdown", SIM_LOGNORMAL, 0.3, 2, 0 },
	{ "crash", SIM_LOGNORMAL, 0.3, 1, 0.05 },
};
#define NWL (sizeof(workloads) / sizeof(workloads[0]))

static const double startups[] = { 5, 30, 60 };
static const double factors[] = { 1.1, 1.25, 1.5, 2, 3 };
static const int32_t caps[] = { 4, 8, 16, 32, 64 };
static const int64_t sizes[] = { 500, 2000 };
#define NS (sizeof(startups) / sizeof(startups[0]))
#define NF (sizeof(factors) / sizeof(factors[0]))
#define NC (sizeof(caps) / sizeof(caps[0]))
#define NN (sizeof(sizes) / sizeof(sizes[0]))

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

struct rec {
	unsigned char wl, s, f, c, n;
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

struct agg {
	size_t runs, met, inf_runs, inf_met;
	double churn, interrupted, peak;
	double *ratios;
	size_t nratios;
	double *late;   /* lateness of the feasible runs that missed */
	size_t nlate;
};

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
	if (!r->met)
		a->late[a->nlate++] = r->lateness;
}

static void
agg_row(const char *name, struct agg *a)
{
	double med = pct(a->ratios, a->nratios, 0.5);
	double p95 = pct(a->ratios, a->nratios, 0.95);

	double late = pct(a->late, a->nlate, 0.5);

	printf("| %s | %zu | %.2f%% | %.3f | %.3f | %.1f | %.1f | %.2f |", name,
	    a->runs, a->runs ? 100.0 * (double)a->met / (double)a->runs : 0, med,
	    p95, a->runs ? a->peak / (double)a->runs : 0,
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
fill_job(struct sim_job *j, size_t w, size_t s, size_t c, size_t n,
    uint64_t seed)
{
	sim_job_defaults(j);
	j->dist = workloads[w].dist;
	j->sigma = workloads[w].sigma;
	j->slowdown = workloads[w].slowdown;
	j->crash_frac = workloads[w].crash;
	j->startup_s = startups[s];
	j->max_replicas = caps[c];
	j->n_items = sizes[n];
	/* a different job per cell and seed */
	j->seed = seed * 1000003u + (((w * NS + s) * NC + c) * NN + n) * 7919u;
}

static void
apply_opts(const struct opts *o, struct sim_job *j)
{
	j->obs_full = o->obs_full;
	j->obs_no_times = o->obs_no_times;
	j->idle_first = !o->newest_first;
	if (o->grace_s > 0)
		j->grace_s = o->grace_s;
}

static int
write_traces(const struct opts *o, const struct loaded *l)
{
	struct coffer_ctl_param params[16];
	char path[1024], maxb[16], xbuf[512], err[256];
	struct sim_result res;
	struct sim_job j;
	double *work = NULL, fast;
	size_t i, np;
	FILE *f;

	/* the representative job: lognormal items, S = 30 s, D = 1.5 x the
	 * fastest, 32 replicas at most, 2000 items, seed 1 */
	fill_job(&j, 1, 1, 3, 1, 1);
	apply_opts(o, &j);
	if (sim_items(&j, &work) != 0)
		return -1;
	fast = sim_fastest(&j, work);
	j.deadline_s = 1.5 * fast;
	for (i = 0; i < NSPEC; i++) {
		char name[64];
		size_t k;

		snprintf(name, sizeof(name), "%s", specs[i].label);
		for (k = 0; name[k]; k++)
			if (name[k] == ' ' || name[k] == '=')
				name[k] = '-';
		snprintf(path, sizeof(path), "%s/ctl-trace-%s.dat", o->trace_dir, name);
		if ((f = fopen(path, "w")) == NULL) {
			fprintf(stderr, "controllers-sim: %s: %s\n", path, strerror(errno));
			free(work);
			return -1;
		}
		np = make_params(&specs[i], j.max_replicas, maxb, sizeof(maxb),
		    i == DEADLINE ? o->deadline_params : NULL, xbuf, sizeof(xbuf),
		    params, 16);
		fprintf(f, "# %s; deadline %.1f s; oracle %.0f replica-s\n",
		    specs[i].label, j.deadline_s, sim_oracle_cost(
		    sim_total_work(&j, work), j.startup_s, j.deadline_s));
		fprintf(f, "# t alive ready desired progress%% queued in_flight flags\n");
		if (sim_run(&j, work, l[i].def, params, np, trace_write, f, &res, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "controllers-sim: %s: %s\n", specs[i].label, err);
			fclose(f);
			free(work);
			return -1;
		}
		fprintf(f, "# finished %.1f met %d cost %.0f\n", res.finish_s, res.met,
		    res.cost_rs);
		fclose(f);
	}
	printf("Traces of the representative job (lognormal, S = 30 s, D = 1.5 x "
	    "fastest = %.0f s, max 32, 2000 items, seed 1) in %s/ctl-trace-*.dat.\n\n",
	    j.deadline_s, o->trace_dir);
	free(work);
	return 0;
}

static int
sweep(const struct opts *o, const struct loaded *l)
{
	size_t nscen = NWL * NS * NF * NC * NN * (size_t)o->seeds, nrec = 0;
	struct rec *recs = NULL;
	struct coffer_ctl_param params[16];
	char maxb[16], xbuf[512], err[256];
	size_t w, s, f, c, n, i, k;
	int64_t events = 0;
	int seed, rc = -1;
	clock_t t0 = clock();
	FILE *csv = NULL;

	if ((recs = calloc(nscen * NSPEC, sizeof(*recs))) == NULL)
		return -1;
	if (o->csv != NULL) {
		if ((csv = fopen(o->csv, "w")) == NULL) {
			fprintf(stderr, "controllers-sim: %s: %s\n", o->csv, strerror(errno));
			goto out;
		}
		fprintf(csv, "workload,startup_s,factor,max,items,seed,controller,"
		    "deadline_s,fastest_s,oracle_rs,feasible,met,finish_s,cost_rs,"
		    "ratio,peak,scale_events,interrupted,crashes\n");
	}
	for (w = 0; w < NWL; w++)
	for (s = 0; s < NS; s++)
	for (f = 0; f < NF; f++)
	for (c = 0; c < NC; c++)
	for (n = 0; n < NN; n++)
	for (seed = 0; seed < o->seeds; seed++) {
		struct sim_job j;
		struct sim_result res[NSPEC];
		double *work = NULL, fast, wsum, oracle;
		int feasible;

		if (o->quick && (c % 2 == 1 || f % 2 == 1 || s == 1))
			continue;
		fill_job(&j, w, s, c, n, o->seed_base + (uint64_t)seed);
		apply_opts(o, &j);
		if (sim_items(&j, &work) != 0)
			goto out;
		fast = sim_fastest(&j, work);
		j.deadline_s = factors[f] * fast;
		wsum = sim_total_work(&j, work);
		oracle = sim_oracle_cost(wsum, j.startup_s, j.deadline_s);
		memset(res, 0, sizeof(res));
		/* static-max first: its result defines feasibility */
		for (k = 0; k < NSPEC; k++) {
			i = k == 0 ? STATIC_MAX : k == STATIC_MAX ? 0 : k;
			if (o->only != NULL && i != STATIC_MAX &&
			    strcmp(o->only, specs[i].label) != 0)
				continue;
			size_t np = make_params(&specs[i], j.max_replicas, maxb,
			    sizeof(maxb), i == DEADLINE ? o->deadline_params : NULL, xbuf,
			    sizeof(xbuf), params, 16);

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
		for (i = 0; i < NSPEC; i++) {
			struct rec *r = &recs[nrec * NSPEC + i];

			if (o->only != NULL && i != STATIC_MAX &&
			    strcmp(o->only, specs[i].label) != 0)
				continue;
			r->wl = (unsigned char)w;
			r->s = (unsigned char)s;
			r->f = (unsigned char)f;
			r->c = (unsigned char)c;
			r->n = (unsigned char)n;
			r->feasible = feasible;
			r->met = res[i].met;
			r->cost = res[i].cost_rs;
			r->ratio = res[i].cost_rs / oracle;
			r->lateness = res[i].lateness_s;
			r->churn = res[i].scale_events;
			r->interrupted = res[i].interrupted;
			r->peak = res[i].peak;
			if (csv != NULL)
				fprintf(csv, "%s,%g,%g,%d,%lld,%llu,%s,%.2f,%.2f,%.1f,%d,%d,"
				    "%.2f,%.1f,%.4f,%d,%d,%lld,%lld\n", workloads[w].name,
				    startups[s], factors[f], (int)caps[c],
				    (long long)sizes[n], (unsigned long long)(o->seed_base +
				    (uint64_t)seed), specs[i].label, j.deadline_s, fast,
				    oracle, feasible, r->met, res[i].finish_s,
				    res[i].cost_rs, r->ratio, (int)res[i].peak,
				    res[i].scale_events, (long long)res[i].interrupted,
				    (long long)res[i].crashes);
		}
		nrec++;
		free(work);
	}
	rc = 0;
	{
		double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;

		printf("Sweep: %zu jobs x %zu controllers, %lld simulated events, "
		    "%.1f s of CPU; seeds %llu..%llu.\n\n", nrec, NSPEC,
		    (long long)events, secs, (unsigned long long)o->seed_base,
		    (unsigned long long)(o->seed_base + (uint64_t)o->seeds - 1));
	}

	/* ---- tables ---- */
	{
		struct agg a;
		double *buf = calloc(nrec + 1, sizeof(double));
		double *lbuf = calloc(nrec + 1, sizeof(double));
		size_t feas = 0, infeas = 0;

		if (buf == NULL || lbuf == NULL) {
			free(buf);
			free(lbuf);
			goto out;
		}
		for (k = 0; k < nrec; k++) {
			if (recs[k * NSPEC + STATIC_MAX].feasible)
				feas++;
			else
				infeas++;
		}
		printf("Feasible jobs (static-max meets the deadline): %zu of %zu; "
		    "the %zu others are reported apart.\n\n", feas, nrec, infeas);
		printf("### Per workload\n\n");
		printf("| workload / controller | feasible runs | deadline met | "
		    "cost/oracle median | p95 | peak replicas (mean) | churn "
		    "(scale events/run) | items interrupted/run | lateness of "
		    "misses, median (s) | infeasible runs |\n");
		printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
		for (w = 0; w <= NWL; w++) {
			for (i = 0; i < NSPEC; i++) {
				char name[128];

				if (o->only != NULL && i != STATIC_MAX &&
				    strcmp(o->only, specs[i].label) != 0)
					continue;
				memset(&a, 0, sizeof(a));
				a.ratios = buf;
				a.late = lbuf;
				for (k = 0; k < nrec; k++)
					if (w == NWL || recs[k * NSPEC + i].wl == w)
						agg_add(&a, &recs[k * NSPEC + i]);
				snprintf(name, sizeof(name), "%s%s / %s", w == NWL ? "**" : "",
				    w == NWL ? "overall" : workloads[w].name, specs[i].label);
				if (w == NWL)
					snprintf(name, sizeof(name), "**overall** / %s",
					    specs[i].label);
				agg_row(name, &a);
			}
		}
		printf("\n");

		/* where deadline stands, by dimension */
		printf("### deadline by dimension (feasible runs)\n\n");
		printf("| dimension | value | runs | met | cost/oracle median | p95 |\n");
		printf("|---|---|---:|---:|---:|---:|\n");
		for (int dim = 0; dim < 4; dim++) {
			size_t nv = dim == 0 ? NS : dim == 1 ? NF : dim == 2 ? NC : NN, v;

			for (v = 0; v < nv; v++) {
				size_t runs = 0, met = 0, nr = 0;

				for (k = 0; k < nrec; k++) {
					const struct rec *r = &recs[k * NSPEC + DEADLINE];
					size_t val = dim == 0 ? r->s : dim == 1 ? r->f :
					    dim == 2 ? r->c : r->n;

					if (val != v || !r->feasible)
						continue;
					runs++;
					met += r->met;
					buf[nr++] = r->ratio;
				}
				if (runs == 0)
					continue;
				printf("| %s | %g | %zu | %.2f%% | %.3f | %.3f |\n",
				    dim == 0 ? "start-up S (s)" : dim == 1 ?
				    "deadline / fastest" : dim == 2 ? "max replicas" : "items",
				    dim == 0 ? startups[v] : dim == 1 ? factors[v] :
				    dim == 2 ? (double)caps[v] : (double)sizes[v], runs,
				    100.0 * (double)met / (double)runs, pct(buf, nr, 0.5),
				    pct(buf, nr, 0.95));
			}
		}
		printf("\n");

		/* head to head on the runs both met */
		if (o->only == NULL) {
			printf("### Head to head with deadline (feasible runs both met)\n\n");
			printf("| baseline | runs both met | baseline cost / deadline cost, "
			    "median | p5 | deadline cheaper in |\n");
			printf("|---|---:|---:|---:|---:|\n");
			for (i = 0; i < NSPEC; i++) {
				size_t nb = 0, cheaper = 0;

				if (i == DEADLINE)
					continue;
				for (k = 0; k < nrec; k++) {
					const struct rec *b = &recs[k * NSPEC + i];
					const struct rec *d = &recs[k * NSPEC + DEADLINE];

					if (!b->feasible || !b->met || !d->met)
						continue;
					buf[nb++] = b->cost / d->cost;
					cheaper += d->cost < b->cost;
				}
				if (nb == 0) {
					printf("| %s | 0 | - | - | - |\n", specs[i].label);
					continue;
				}
				printf("| %s | %zu | %.3f | %.3f | %.1f%% |\n", specs[i].label,
				    nb, pct(buf, nb, 0.5), pct(buf, nb, 0.05),
				    100.0 * (double)cheaper / (double)nb);
			}
			printf("\n");
		}

		/* the goals, each on its own, and the baselines one by one */
		{
			size_t runs = 0, met = 0, nr = 0, nbase = 0, nbeaten = 0;
			double med, p95;
			int g1, g2, g3, g4;

			for (k = 0; k < nrec; k++) {
				const struct rec *r = &recs[k * NSPEC + DEADLINE];

				if (!r->feasible)
					continue;
				runs++;
				met += r->met;
				buf[nr++] = r->ratio;
			}
			med = pct(buf, nr, 0.5);
			p95 = pct(buf, nr, 0.95);
			g1 = runs > 0 && (double)met >= 0.99 * (double)runs;
			g2 = runs > 0 && med <= 1.15;
			g3 = runs > 0 && p95 <= 1.4;
			printf("### Goal check for deadline\n\n");
			printf("1. feasible deadlines met: %.2f%% (goal >= 99%%): **%s**\n",
			    runs ? 100.0 * (double)met / (double)runs : 0,
			    g1 ? "holds" : "does NOT hold");
			printf("2. median cost / oracle: %.3f (goal <= 1.15): **%s**\n",
			    med, g2 ? "holds" : "does NOT hold");
			printf("3. p95 cost / oracle: %.3f (goal <= 1.4): **%s**\n", p95,
			    g3 ? "holds" : "does NOT hold");
			printf("4. beats every baseline on cost at an equal or better "
			    "deadline-met rate (per baseline: deadline meets at least "
			    "as many feasible deadlines, and its median cost / oracle "
			    "is lower):\n\n");
			if (o->only == NULL) {
				printf("| baseline | deadlines met: baseline / deadline | "
				    "median cost/oracle: baseline / deadline | holds |\n");
				printf("|---|---:|---:|---|\n");
			}
			for (i = 0; i < NSPEC && o->only == NULL; i++) {
				size_t bm = 0, bruns = 0, nb = 0;
				double bmed;

				if (!specs[i].baseline)
					continue;
				for (k = 0; k < nrec; k++) {
					const struct rec *b = &recs[k * NSPEC + i];

					if (!b->feasible)
						continue;
					bruns++;
					bm += b->met;
					buf[nb++] = b->ratio;
				}
				bmed = pct(buf, nb, 0.5);
				nbase++;
				printf("| %s | %.2f%% / %.2f%% | %.3f / %.3f | ", specs[i].label,
				    bruns ? 100.0 * (double)bm / (double)bruns : 0,
				    runs ? 100.0 * (double)met / (double)runs : 0, bmed, med);
				if (bm > met) {
					printf("**no**: it meets more deadlines |\n");
				} else if (!(med < bmed)) {
					printf("**no**: it is cheaper%s |\n", bm < met ?
					    " (and meets fewer deadlines)" : "");
				} else {
					printf("yes |\n");
					nbeaten++;
				}
			}
			g4 = o->only == NULL && nbase > 0 && nbeaten == nbase;
			if (o->only != NULL)
				printf("(not checked: --only leaves the baselines out)\n");
			printf("\n   Goal 4: **%s** (%zu of %zu baselines).\n\n",
			    g4 ? "holds" : "does NOT hold", nbeaten, nbase);
			printf("Goal: **%s** (%d of 4 goals hold).\n\n",
			    g1 && g2 && g3 && g4 ? "met" : "NOT met", g1 + g2 + g3 + g4);
		}
		free(buf);
		free(lbuf);
	}
out:
	if (csv != NULL)
		fclose(csv);
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
	int verbose = 0, i, rc = 1;
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
	    "           [--newest-first] [--no-item-times]\n"
	    "       controllers-sim --one [--controller NAME | --plugin PATH]\n"
	    "           [--params k=v,...] [--items N] [--item-time S] [--sigma X]\n"
	    "           [--slowdown X] [--crash P] [--startup S] [--deadline S |\n"
	    "           --deadline-factor F] [--max N] [--min N] [--init N]\n"
	    "           [--interval S] [--grace S] [--lease S] [--seed N]\n"
	    "           [--obs-full] [--newest-first] [--no-item-times]\n"
	    "           [--trace FILE] [-v]\n"
	    "--newest-first: the actuator stops the newest replicas, busy or not\n"
	    "  (coffer-manager's stops idle ones first: the default).\n"
	    "--no-item-times: the observation without the acks' item times (the\n"
	    "  mean from replica-seconds, no variance).\n"
	    "--obs-full: exact ready replicas, replica-seconds and start-ups.\n");
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
