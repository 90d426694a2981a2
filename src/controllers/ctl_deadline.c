/* SPDX-License-Identifier: Apache-2.0 */
/* "deadline": Coffer's controller. It measures the per-replica service time
 * from the queue's counts, and keeps just enough replicas to finish the
 * remaining items by the deadline, counting the start-up and attestation
 * time a new replica costs. doc/controllers.md explains the algorithm. */
#include <stdlib.h>
#include <string.h>

#include "controllers/builtin.h"
#include "controllers/ctl_common.h"

/*
 * Why it is built this way (the cost model is doc/controllers.md's):
 *
 * A job's cost is the replica-seconds of its replicas: each started replica
 * pays its start-up S, then works while there are items, then idles at the
 * tail. Busy time sums to the work W whatever the replica count, so the
 * money is lost in three places only: replicas started that were not needed
 * (S each), idle replicas at the tail, and items redone after a kill. Hence:
 *  - before any item finished, keep only as many replicas as can still
 *    rescue, at the next tick, the worst job that is plausible (its
 *    deadline min_slack above its fastest completion), starting with a
 *    probe so that items finish early; then top up to what the remaining
 *    work needs. A replica started later costs the same S, so there is no
 *    hurry without evidence (the cold start, doc/controllers.md 6.4);
 *  - never stop a replica while the queue still holds work unless the
 *    excess is large and lasting (stopping saves no busy time, restarting
 *    costs S) and a stop cannot kill an item: an actuator that does not
 *    know which replicas are busy stops the newest, busy or not, and
 *    kills them after a grace period; one that stops idle replicas first
 *    (COFFER_CTL_HOST_STOPS_IDLE_FIRST) kills nothing while enough
 *    replicas are idle or starting;
 *  - when the queue is empty, release the replicas that have nothing to
 *    do, if a mistaken kill is unlikely or the deadline can absorb a redo.
 *
 * The service time m comes from Little's law over the queue's counts:
 * m = integral of in_flight dt / items finished, over an exponentially
 * decaying window (so a slow-down shows within about a window) with the
 * whole-job ratio before the window holds enough items. Items still in
 * flight count with their elapsed time, so the estimate is not biased
 * toward the short items that finish first; early on it errs high, so it
 * is bounded by the larger of the finished items' mean and the age of
 * those in flight (estimate()).
 *
 * Required replicas n: the smallest count whose replica-time before the
 * deadline covers the remaining work with a margin,
 *     sum over replicas of (T - tail - startup left) >= R * m * (1 + eps),
 * with T the time left, R the items left, startup left 0 for ready
 * replicas, what is left of S for starting ones and S for new ones, tail
 * the reserve for the longest of the R items left (the queue must drain
 * that long before the deadline), eps = margin + z * cv / sqrt(R) (the
 * spread of the remaining work), cv from the host's item time variance or
 * cv_prior.
 * Then the rescue check: if m is as bad as its upper bound from the C items
 * seen, m * (1 + z * cv / sqrt(C)), scaling to max at a later tick must
 * still make it; if not, more replicas now.
 */

#define NREQ 32

struct req {
	double t;    /* when the replicas were asked for */
	double n;    /* how many */
};

struct state {
	/* parameters */
	double startup_prior, min_slack, z, margin, cv_prior, window_s;
	double tail_z, down_hysteresis, grace_s, lease_s, redo_z;
	double probe_frac, estimate, estimate_error, tail_p, spread_z;
	long stop_idle_first;
	long down_ticks;
	/* configuration */
	int32_t min_rep, max_rep;
	double deadline, interval;
	/* estimator */
	int has_prev;
	double prev_t;
	int64_t prev_fin, prev_inflight;
	double ec, cc;    /* whole job: exposure (item-seconds), items */
	double ew, cw;    /* decayed */
	double m_last;
	int est_dropped;  /* the job's estimate contradicted by the items */
	int cv_given;     /* cv_prior is the job's own (not the default) */
	/* start-up bookkeeping: recent scale-ups, oldest first */
	struct req req[NREQ];
	size_t nreq;
	long down_streak;
};

static int
create(const struct coffer_ctl_config *cfg, void **out, char *err,
    size_t errlen)
{
	struct state s;
	struct state *p;
	size_t i;
	int r;

	memset(&s, 0, sizeof(s));
	s.startup_prior = 60;
	s.min_slack = 1.05;
	s.probe_frac = 0.2;
	s.estimate = 0;
	s.estimate_error = 2;
	s.tail_p = 0.01;
	s.spread_z = 2;
	s.z = 2.0;
	s.margin = 0.03;
	s.cv_prior = 1.0;
	s.window_s = 0;
	s.tail_z = 3.0;
	s.down_hysteresis = 0.3;
	s.down_ticks = 3;
	s.grace_s = 10;  /* coffer-manager's default --grace-ms */
	s.lease_s = 30;  /* the queue's default lease */
	s.redo_z = 1;
	if ((r = ctl_check_config(cfg, 1, err, errlen)) != 0 ||
	    (r = ctl_check_param_keys(cfg, err, errlen)) != 0)
		return r;
	/* What the host promises about its stops; the parameter overrides. */
	s.stop_idle_first = (ctl_host_flags(cfg) &
	    COFFER_CTL_HOST_STOPS_IDLE_FIRST) != 0;
	for (i = 0; i < cfg->nparams; i++) {
		const char *k = cfg->params[i].key, *v = cfg->params[i].value;

		if (strcmp(k, "startup_s") == 0)
			r = ctl_parse_num(k, v, 0, 86400, &s.startup_prior, err, errlen);
		else if (strcmp(k, "min_slack") == 0)
			r = ctl_parse_num(k, v, 1, 100, &s.min_slack, err, errlen);
		else if (strcmp(k, "safety_z") == 0)
			r = ctl_parse_num(k, v, 0, 10, &s.z, err, errlen);
		else if (strcmp(k, "margin") == 0)
			r = ctl_parse_num(k, v, 0, 10, &s.margin, err, errlen);
		else if (strcmp(k, "cv_prior") == 0) {
			r = ctl_parse_num(k, v, 0, 100, &s.cv_prior, err, errlen);
			s.cv_given = 1;
		}
		else if (strcmp(k, "window_s") == 0)
			r = ctl_parse_num(k, v, 0, 1e7, &s.window_s, err, errlen);
		else if (strcmp(k, "tail_z") == 0)
			r = ctl_parse_num(k, v, 0, 10, &s.tail_z, err, errlen);
		else if (strcmp(k, "down_hysteresis") == 0)
			r = ctl_parse_num(k, v, 0, 1, &s.down_hysteresis, err, errlen);
		else if (strcmp(k, "down_ticks") == 0)
			r = ctl_parse_int(k, v, 1, 1000000, &s.down_ticks, err, errlen);
		else if (strcmp(k, "probe_frac") == 0)
			r = ctl_parse_num(k, v, 0, 1, &s.probe_frac, err, errlen);
		else if (strcmp(k, "item_time_estimate_s") == 0)
			r = ctl_parse_num(k, v, 0, 1e7, &s.estimate, err, errlen);
		else if (strcmp(k, "tail_p") == 0)
			r = ctl_parse_num(k, v, 1e-9, 0.5, &s.tail_p, err, errlen);
		else if (strcmp(k, "spread_z") == 0)
			r = ctl_parse_num(k, v, 0, 10, &s.spread_z, err, errlen);
		else if (strcmp(k, "estimate_error") == 0)
			r = ctl_parse_num(k, v, 1, 1000, &s.estimate_error, err, errlen);
		else if (strcmp(k, "grace_s") == 0)
			r = ctl_parse_num(k, v, 0, 1e7, &s.grace_s, err, errlen);
		else if (strcmp(k, "lease_s") == 0)
			r = ctl_parse_num(k, v, 0, 1e7, &s.lease_s, err, errlen);
		else if (strcmp(k, "redo_z") == 0)
			r = ctl_parse_num(k, v, -10, 10, &s.redo_z, err, errlen);
		else if (strcmp(k, "stop_idle_first") == 0)
			r = ctl_parse_int(k, v, 0, 1, &s.stop_idle_first, err, errlen);
		else
			r = ctl_fail(err, errlen, "%s: unknown parameter (deadline takes "
			    "startup_s, min_slack, safety_z, margin, cv_prior, window_s, "
			    "tail_z, down_hysteresis, down_ticks, probe_frac, item_time_estimate_s, "
			    "estimate_error, tail_p, spread_z, grace_s, "
			    "lease_s, redo_z, stop_idle_first)", k);
		if (r != 0)
			return r;
	}
	s.min_rep = cfg->min_replicas;
	s.max_rep = cfg->max_replicas;
	s.deadline = cfg->expected_time_s;
	s.interval = cfg->check_interval_s;
	if ((p = malloc(sizeof(*p))) == NULL)
		return COFFER_E_NOMEM;
	*p = s;
	*out = p;
	return 0;
}

/* Fold the counts since the last tick into the estimator. */
static void
observe(struct state *s, const struct coffer_ctl_obs *o)
{
	int64_t fin = ctl_finished(o);
	double dt, tau, w, de, dc;

	if (s->has_prev && o->now_s > s->prev_t) {
		dt = o->now_s - s->prev_t;
		de = 0.5 * ((double)s->prev_inflight + (double)o->in_flight) * dt;
		dc = fin > s->prev_fin ? (double)(fin - s->prev_fin) : 0.0;
		if (s->window_s > 0)
			tau = s->window_s;
		else {
			/* long enough for ~30 items and a few item times */
			tau = 60;
			if (4 * s->m_last > tau)
				tau = 4 * s->m_last;
			if (o->in_flight > 0 &&
			    30 * s->m_last / (double)o->in_flight > tau)
				tau = 30 * s->m_last / (double)o->in_flight;
		}
		w = exp(-dt / tau);
		s->ec += de;
		s->cc += dc;
		s->ew = s->ew * w + de;
		s->cw = s->cw * w + dc;
	}
	if (!s->has_prev || o->now_s >= s->prev_t) {
		s->has_prev = 1;
		s->prev_t = o->now_s;
		s->prev_fin = fin;
		s->prev_inflight = o->in_flight;
	}
}

/*
 * The service time estimate m and the number of items it rests on (0 if
 * there is none yet).
 */
static double
estimate(const struct state *s, const struct coffer_ctl_obs *o, double *items)
{
	double m;

	if (s->cw >= 20 && s->ew > 0) {
		*items = s->cw;
		return s->ew / s->cw;
	}
	if (s->cc >= 1 && s->ec > 0) {
		*items = s->cc;
		m = s->ec / s->cc;
		/*
		 * Early on, the replicas started together and every item in
		 * flight has run since then: exposure / items counts all of that
		 * against the few that finished, and errs high by up to
		 * in_flight / finished times (the estimator is right for
		 * memoryless items, not for items of similar lengths). When the
		 * host reports the finished items' mean, an item still in flight
		 * is evidence of a longer mean only by as much as its age exceeds
		 * that mean: bound the estimate by the larger of the finished
		 * items' mean and the average age of those in flight.
		 */
		if (o->item_time_mean_s > 0 && o->in_flight > 0 &&
		    (double)o->done >= 1) {
			double fin = o->item_time_mean_s * (double)o->done;
			double age = (s->ec - fin) / (double)o->in_flight;
			double b = age > o->item_time_mean_s ? age :
			    o->item_time_mean_s;

			if (b < m)
				m = b;
		}
		return m;
	}
	if (o->item_time_mean_s > 0) { /* the host's prior, e.g. a past run */
		*items = 3;
		return o->item_time_mean_s;
	}
	if (s->estimate > 0) {
		/* the job's estimate, worth as many items as make its upper
		 * bound (section 6.3's rescue check) estimate_error times it */
		double k = s->z * s->cv_prior / (s->estimate_error - 1);

		k *= k;
		*items = k < 1 ? 1 : k > 1000 ? 1000 : k;
		return s->estimate;
	}
	*items = 0;
	return 0;
}

/* Remember a scale-up, so that later ticks know how far along the starting
 * replicas are. */
static void
note_request(struct state *s, double now, double n)
{
	if (s->nreq == NREQ) {
		/* merge the two oldest, keeping the later time (conservative) */
		s->req[1].n += s->req[0].n;
		memmove(s->req, s->req + 1, (NREQ - 1) * sizeof(s->req[0]));
		s->nreq--;
	}
	s->req[s->nreq].t = now;
	s->req[s->nreq].n = n;
	s->nreq++;
}

/*
 * The replicas we have or could have, best first, as groups of (count,
 * useful seconds each before the deadline): ready ones get teff, starting
 * ones (the most recent requests, oldest first) teff minus what is left of
 * their start-up, new ones teff - S (an unbounded last group).
 */
struct groups {
	double n[NREQ + 3], c[NREQ + 3];
	size_t len;
};

static void
make_groups(const struct state *s, const struct coffer_ctl_obs *o,
    double teff, double S, struct groups *g)
{
	double starting, assigned = 0;
	size_t i, j;

	g->len = 0;
	g->n[g->len] = (double)o->replicas_ready;
	g->c[g->len++] = teff;
	starting = (double)o->replicas - (double)o->replicas_ready;
	for (i = s->nreq; i > 0 && assigned < starting; i--)
		assigned += s->req[i - 1].n;
	for (j = i; j < s->nreq; j++) {
		double cnt = s->req[j].n, rem;

		if (j == i && assigned > starting)
			cnt -= assigned - starting;
		rem = S - (o->now_s - s->req[j].t);
		g->n[g->len] = cnt;
		g->c[g->len++] = teff - (rem > 0 ? rem : 0);
	}
	if (assigned < starting) { /* restarted by the host: assume just begun */
		g->n[g->len] = starting - assigned;
		g->c[g->len++] = teff - S;
	}
	g->n[g->len] = INFINITY;
	g->c[g->len++] = teff - S;
}

/*
 * The smallest replica count whose time before the deadline covers work
 * (item-seconds), counting replicas best first. Returns a count > cap if
 * even cap replicas are not enough.
 */
static double
need_for(const struct state *s, const struct coffer_ctl_obs *o, double teff,
    double S, double work, double cap)
{
	struct groups g;
	double left = work, n = 0, k;
	size_t i;

	if (work <= 0)
		return 0;
	make_groups(s, o, teff, S, &g);
	for (i = 0; i < g.len; i++) {
		if (g.n[i] <= 0 || g.c[i] <= 0)
			continue;
		k = ceil(left / g.c[i] - 1e-9);
		if (k <= g.n[i])
			return n + k;
		n += g.n[i];
		left -= g.n[i] * g.c[i];
		if (n > cap)
			break;
	}
	return cap + 1;
}

/*
 * What the best n replicas can do before the deadline if the rest, up to
 * max, are asked for `later` seconds from now: seconds of work (m <= 0),
 * or whole items of m seconds (a replica with a window of w does
 * floor(w / m) of them, which matters when each does only a few).
 */
static double
capacity_with_rescue(const struct state *s, const struct coffer_ctl_obs *o,
    double teff, double S, double n, double later, double m)
{
	struct groups g;
	double sum = 0, left = n, k, rescue;
	size_t i;

	make_groups(s, o, teff, S, &g);
	for (i = 0; i < g.len && left > 0; i++) {
		k = g.n[i] < left ? g.n[i] : left;
		if (g.c[i] > 0)
			sum += k * (m > 0 ? floor(g.c[i] / m) : g.c[i]);
		left -= k;
	}
	rescue = teff - later - S;
	if (rescue > 0 && (double)s->max_rep > n)
		sum += ((double)s->max_rep - n) * (m > 0 ? floor(rescue / m) : rescue);
	return sum;
}

/*
 * How long the last items may take: a high quantile of the item time,
 * modelled as lognormal with the measured mean and spread (heavy enough
 * for real tails; m itself for constant items). The queue must drain this
 * long before the deadline.
 */
/*
 * z such that P(N(0,1) > z) = p, for 0 < p < 0.5 (Abramowitz and Stegun
 * 26.2.23, error below 5e-4).
 */
static double
z_upper(double p)
{
	double t;

	if (p >= 0.5)
		return 0;
	if (p < 1e-300)
		p = 1e-300;
	t = sqrt(-2 * log(p));
	return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
	    (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
}

static double
tail_time(double m, double cv, double z)
{
	double sl = sqrt(log1p(cv * cv));

	return m * exp(z * sl - sl * sl / 2);
}

/* E[(L - g)+] for L lognormal of mean m and spread cv (g > 0). */
static double
excess(double m, double cv, double g)
{
	double sl = sqrt(log1p(cv * cv)), mu, d1, d2, e;

	if (g <= 0)
		return m - g;
	mu = log(m) - sl * sl / 2;
	d1 = (mu + sl * sl - log(g)) / sl;
	d2 = d1 - sl;
	e = m * 0.5 * erfc(-d1 / M_SQRT2) - g * 0.5 * erfc(-d2 / M_SQRT2);
	return e < 0 ? 0 : e;
}

/*
 * The reserve when the job gave its item time (doc/controllers.md 6.3):
 * the R items left start spread over the drain window [t0, T - r], not
 * all at its end, so the expected number that end after T is
 *     R / (T - t0 - r) * integral over u in [r, T - t0] of P(L > u) du
 *   = R * (E[(L - r)+] - E[(L - (T - t0))+]) / (T - t0 - r),
 * which falls as r grows, to R * P(L > T - t0) (all started at once: the
 * part of the risk no replica count removes). The reserve is the
 * smallest r that keeps it within the larger of 0.3 tail_p (the items
 * do not start quite evenly) and 1.25 times that floor (when the floor
 * is larger, even max would not do much better). Tuned on seeds 1000
 * and 1001 (doc/controllers.md 6.6).
 */
static double
reserve_spread(double m, double cv, double R, double T, double t0,
    double tail_p)
{
	double tw = T - t0, lo, hi, target, fl;
	int i;

	if (tw <= m)
		return m;
	fl = R * (excess(m, cv, tw * (1 - 1e-6)) - excess(m, cv, tw)) /
	    (tw * 1e-6);
	target = 0.3 * tail_p > 1.25 * fl ? 0.3 * tail_p : 1.25 * fl;
	lo = m;
	hi = tw;
	if (R * (excess(m, cv, lo) - excess(m, cv, tw)) / (tw - lo) <= target)
		return lo;
	for (i = 0; i < 40; i++) {
		double mid = (lo + hi) / 2;

		if (R * (excess(m, cv, mid) - excess(m, cv, tw)) / (tw - mid) <=
		    target)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/*
 * The chance that a replica stopped in the middle of an item is killed: the
 * item's remaining time exceeds the grace period. For an item in progress
 * (length-biased, residual density P(L > x) / m), P(R > G) = E[(L - G)+] / m,
 * with L lognormal of mean m and spread cv.
 */
static double
kill_prob(double m, double cv, double g)
{
	double sl = sqrt(log1p(cv * cv)), mu, d1, d2, e;

	if (m <= 0)
		return 0;
	if (g <= 0)
		return 1;
	mu = log(m) - sl * sl / 2;
	d1 = (mu + sl * sl - log(g)) / sl;
	d2 = d1 - sl;
	e = m * 0.5 * erfc(-d1 / M_SQRT2) - g * 0.5 * erfc(-d2 / M_SQRT2);
	e /= m;
	return e < 0 ? 0 : e > 1 ? 1 : e;
}

/*
 * Cold start: no item has finished, so the service time is unknown. The
 * worst job still plausible is one whose deadline is only min_slack above
 * its fastest completion at max: items of mw = (D / min_slack - S) /
 * ceil(N / max) seconds (the fastest completion is S plus at least
 * ceil(N / max) item times), or the job's item_time_estimate_s times
 * estimate_error if that is smaller. Rather than start what that job
 * needs at once, keep the smallest count from which it can still be
 * rescued by going to max at the next tick: replicas asked for later pay
 * the same start-up, and when the first items finish (usually long before
 * mw) the service time is known and the hedge stops. A probe of
 * probe_frac * max replicas starts at once so that items finish early.
 * doc/controllers.md section 6.4.
 */
static double
cold_start(const struct state *s, const struct coffer_ctl_obs *o, double S,
    double T, double R, double cap, double *mw_out)
{
	double rounds, mw, items, lo, hi, probe;

	rounds = ceil((double)o->total / (double)s->max_rep);
	if (rounds < 1)
		rounds = 1;
	mw = (s->deadline / s->min_slack - S) / rounds;
	if (s->estimate > 0 && s->estimate * s->estimate_error < mw)
		mw = s->estimate * s->estimate_error;
	*mw_out = mw;
	probe = ceil(s->probe_frac * (double)s->max_rep);
	if (probe < 1)
		probe = 1;
	if (probe > cap)
		probe = cap;
	if (mw <= 0)
		return cap; /* tighter than assumed: everything now */
	items = R * (1 + s->margin);
	if (capacity_with_rescue(s, o, T, S, probe, s->interval, mw) >= items)
		return probe;
	if (capacity_with_rescue(s, o, T, S, cap, s->interval, mw) < items)
		return cap;
	lo = probe;
	hi = cap;
	while (hi - lo > 1) {
		double mid = floor((lo + hi) / 2);

		if (capacity_with_rescue(s, o, T, S, mid, s->interval, mw) >= items)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

static int
decide(void *state, const struct coffer_ctl_obs *obs,
    struct coffer_ctl_decision *out)
{
	struct state *s = state;
	struct coffer_ctl_obs o;
	double S, T, m, items, cv, R, eps, tail, need, need0, cap, useful;
	double n, cur, down, pkill;
	int stop_ok;
	int32_t result;

	if (out == NULL)
		return COFFER_E_INVAL;
	memset(out, 0, sizeof(*out));
	if (s == NULL) {
		ctl_reason(out, "no state");
		return COFFER_E_INVAL;
	}
	if (ctl_read_obs(obs, &o) != 0) {
		out->replicas = obs != NULL && obs->replicas_desired > 0 ?
		    obs->replicas_desired : s->min_rep;
		ctl_reason(out, "observation too small for ABI v1: keep");
		return COFFER_E_ABI;
	}
	observe(s, &o);
	cur = o.replicas_desired;
	R = (double)ctl_remaining(&o);
	if (o.total == 0 || R <= 0) {
		out->replicas = s->min_rep;
		s->down_streak = 0;
		ctl_reason(out, o.total == 0 ? "no items: %d" :
		    "all items finished: %d", (int)s->min_rep);
		return 0;
	}
	S = o.startup_s > 0 ? o.startup_s : s->startup_prior;
	T = s->deadline - o.now_s;
	/* replicas beyond queued + in flight would find nothing to do */
	useful = (double)o.queued + (double)o.in_flight;
	if (useful < 1)
		useful = 1;
	cap = s->max_rep < useful ? s->max_rep : useful;

	if (T <= 0) {
		result = ctl_clamp_count(cap, s->min_rep, s->max_rep);
		out->flags |= COFFER_CTL_INFEASIBLE;
		ctl_reason(out, "deadline passed %.0fs ago with %.0f items left: "
		    "finish as fast as possible at %d", -T, R, (int)result);
		goto done;
	}

	m = estimate(s, &o, &items);
	s->m_last = m;
	/* The host's spread is over completed items, short ones first: trust
	 * it below the prior only once enough items are in. A variance of 0
	 * means the host does not know it (controller.h). */
	cv = s->cv_prior;
	if (o.item_time_mean_s > 0 && o.item_time_var_s2 > 0 && o.done >= 2) {
		double c = sqrt(o.item_time_var_s2) / o.item_time_mean_s;
		double nd = (double)o.done;

		/* a larger spread than the prior is believed at once; a smaller
		 * one as the items come in (as if the prior were 10 items) */
		cv = c > cv ? c : (nd * c + 10 * cv) / (nd + 10);
	}
	if (cv < 0.05)
		cv = 0.05;
	/*
	 * The job's estimate, while the items do not contradict it, stays a
	 * prior of k items next to the measured ones (section 6.2): the few
	 * first items of a spread job say less about the mean than an
	 * estimate within estimate_error does. Contradicted (the measured
	 * bounds outside the estimate's band, judged on whichever of the
	 * exposure estimate and the finished items' mean is nearer the band,
	 * as early on one errs high and the other low), it is dropped for
	 * good. Without an estimate nothing here changes.
	 */
	if (s->estimate > 0 && !s->est_dropped && s->cc >= 1 && items > 0) {
		double k = s->z * s->cv_prior / (s->estimate_error - 1);
		double hiB = s->estimate * s->estimate_error;
		double loB = s->estimate / s->estimate_error;
		double f = 1 + s->z * cv / sqrt(items), lo = m, hi = m;

		k *= k;
		k = k < 1 ? 1 : k > 1000 ? 1000 : k;
		if (o.item_time_mean_s > 0) {
			if (o.item_time_mean_s < lo)
				lo = o.item_time_mean_s;
			if (o.item_time_mean_s > hi)
				hi = o.item_time_mean_s;
		}
		if (lo / f > hiB || hi * f < loB)
			s->est_dropped = 1;
		else {
			m = (k * s->estimate + items * m) / (k + items);
			items += k;
		}
	}

	if (items <= 0) {
		/* Cold start, and a floor from the items in flight: none has
		 * finished, so the mean is likely above their average age. Before
		 * the host has measured a start-up, it is at least the time
		 * waited so far. */
		double age = o.in_flight > 0 ? s->ec / (double)o.in_flight : 0;
		double Sc = o.startup_s > 0 ? S : S > o.now_s ? S : o.now_s;
		double mw, n0, nfloor = 0;

		n0 = cold_start(s, &o, Sc, T, R, cap, &mw);
		/* Before the host has measured it, the start-up may also be
		 * shorter than assumed: then a just-feasible job has longer items
		 * (and its rescue comes sooner). Hedge for a few such start-ups
		 * too, down to the time waited so far. */
		if (o.startup_s <= 0) {
			for (int k = 1; k <= 3; k++) {
				double Sk = Sc * (double)k / 4, mk, nk;

				if (Sk <= o.now_s)
					continue;
				nk = cold_start(s, &o, Sk, T, R, cap, &mk);
				if (nk > n0) {
					n0 = nk;
					mw = mk;
				}
			}
		}
		if (age > 0)
			nfloor = need_for(s, &o, T - age, Sc, R * age, cap);
		n = n0 > nfloor ? n0 : nfloor;
		if (n < cur)
			n = cur;
		if (n > cap)
			n = cap;
		result = ctl_clamp_count(n, s->min_rep, s->max_rep);
		if (nfloor > s->max_rep)
			out->flags |= COFFER_CTL_INFEASIBLE;
		ctl_reason(out, "no item finished yet: cold start %.0f (S=%.0fs, "
		    "deadline %.0fs, %lld items, items of up to %.1fs), in-flight "
		    "floor %.0f (age %.1fs): %.0f -> %d%s", n0, Sc, s->deadline,
		    (long long)o.total, mw, nfloor, age, cur, (int)result,
		    nfloor > s->max_rep ? "; cannot make the deadline even at max" : "");
		goto done;
	}

	/*
	 * Provision for the point estimate with the spread of the remaining
	 * work (eps), and make sure that if the service time is as bad as its
	 * upper confidence bound (from the items seen), scaling to max at a
	 * later tick still makes it: more replicas now only when waiting for
	 * evidence would be too late. A replica started later costs the same.
	 */
	eps = s->margin + s->z * cv * sqrt(1.0 / R);
	/*
	 * The reserve before the deadline: any of the R items left may be the
	 * longest and may be taken last, so allow for the longest of R with
	 * probability 1 - tail_p under a lognormal of the measured mean and
	 * an upper bound of the spread (a spread measured on few items of a
	 * heavy tail is too small); but no longer than the deadline allows
	 * an item to be if it is at least min_slack over the fastest
	 * completion (that item runs after a start-up).
	 */
	{
		double nd = o.done > 1 ? (double)o.done : 1;
		double sl = sqrt(log1p(cv * cv)), cvu;
		double cap_l = s->deadline / s->min_slack - S;

		if (cv > s->cv_prior) /* a heavy tail seen on nd items */
			sl += s->spread_z / sqrt(nd);
		cvu = sqrt(expm1(sl * sl));
		if (s->estimate > 0 && s->cv_given && !s->est_dropped) {
			double t0 = 0;

			if (o.replicas_ready <= 0) {
				t0 = s->nreq > 0 ? S - (o.now_s - s->req[0].t) : S;
				if (t0 < 0)
					t0 = 0;
			}
			tail = reserve_spread(m, cvu, R, T, t0, s->tail_p);
		} else
			tail = tail_time(m, cvu, z_upper(s->tail_p /
			    (R > 1 ? R : 1)));
		if (cap_l > m && tail > cap_l)
			tail = cap_l;
		if (tail < m)
			tail = m;
	}
	/*
	 * With the job's estimate and a start-up the host measured, a replica
	 * asked for now that would be ready too late to do an item can do
	 * nothing: do not ask for it (need_for and the rescue search would
	 * otherwise go to cap when the replicas there fall short). Too late
	 * is after T - m; with the job's spread too (its reserve is then
	 * trusted), after the queue must drain, T - tail. Without an
	 * estimate this stays as benchmarked.
	 */
	if (s->estimate > 0 && o.startup_s > 0 &&
	    T - (s->cv_given ? tail : m) - S <= 0) {
		double have = (double)o.replicas > cur ? (double)o.replicas : cur;

		if (have < 1)
			have = 1;
		if (have < cap)
			cap = have;
	}
	need = need_for(s, &o, T - tail, S, R * m * (1 + eps), cap);
	{
		double mhi = m * (1 + s->z * cv * sqrt(1.0 / items));
		double whi = R * mhi * (1 + eps), later = s->interval;
		double thi = T - tail, lo, hi;

		if (later < m)
			later = m;
		/* On the job's estimate alone (no item finished yet), the rescue
		 * comes only with evidence: when the first items finish, after
		 * what is left of the first replicas' start-up and an item. */
		if (s->estimate > 0 && s->cc < 1) {
			double wait = m;

			if (o.replicas_ready <= 0)
				wait += s->nreq > 0 ? S - (o.now_s - s->req[0].t) : S;
			if (later < wait)
				later = wait;
		}
		if (need < cap && capacity_with_rescue(s, &o, thi, S, need, later, 0) < whi) {
			/* the smallest n in (need, cap] that keeps a rescue */
			lo = need;
			hi = cap;
			while (hi - lo > 1) {
				double mid = floor((lo + hi) / 2);

				if (capacity_with_rescue(s, &o, thi, S, mid, later, 0) >= whi)
					hi = mid;
				else
					lo = mid;
			}
			need = hi;
		}
	}
	need0 = need_for(s, &o, T - m, S, R * m, (double)s->max_rep);

	/* An empty queue is not a capacity problem: nothing to add. The flag
	 * waits for an estimate from enough items to be believed. */
	if (need0 > s->max_rep && o.queued > 0) {
		n = cap;
		if (items >= 20)
			out->flags |= COFFER_CTL_INFEASIBLE;
		result = ctl_clamp_count(n, s->min_rep, s->max_rep);
		ctl_reason(out, "%s the deadline even at max %d: %.0f items "
		    "x %.2fs (%.0f seen) left in %.0fs needs %.0f (S=%.0fs): run at %d",
		    items >= 20 ? "cannot make" : "may not make", (int)s->max_rep, R, m,
		    items, T, need0, S, (int)result);
		s->down_streak = 0;
		goto done;
	}
	if (need > cap)
		need = cap;
	if (need >= cur) {
		n = need;
		s->down_streak = 0;
		result = ctl_clamp_count(n, s->min_rep, s->max_rep);
		ctl_reason(out, "need %.0f: %.0f items x %.2fs (cv %.2f, %.0f seen) in "
		    "%.0fs, S=%.0fs, margin %.0f%%: %.0f -> %d", need, R, m, cv, items,
		    T, S, eps * 100, cur, (int)result);
		goto done;
	}
	/*
	 * Stopping: an actuator that does not know which replicas are busy
	 * picks the newest, busy or not, and kills a busy one whose item
	 * outlasts the grace period; the item comes back when its lease
	 * expires and starts over. Stop only if that is unlikely, or if the
	 * deadline could absorb it. One that stops idle (and starting)
	 * replicas first kills nothing while it stops no more than those.
	 */
	pkill = kill_prob(m, cv, s->grace_s);
	/* a killed item is likely a long one: allow for a redo of a very long
	 * item after the grace period and the lease */
	stop_ok = pkill <= 0.02 || T - (s->grace_s + s->lease_s +
	    tail_time(m, cv, s->tail_z + s->redo_z)) >= 0;
	if (o.queued == 0) {
		/* The tail: release replicas with nothing to do. */
		n = need > (double)o.in_flight ? need : (double)o.in_flight;
		if (n > cur)
			n = cur;
		s->down_streak = 0;
		/* an actuator that stops idle replicas first kills nobody here */
		if (s->stop_idle_first && cur - n <=
		    (double)o.replicas - (double)o.in_flight)
			stop_ok = 1;
		if (n < cur && !stop_ok) {
			result = ctl_clamp_count(cur, s->min_rep, s->max_rep);
			ctl_reason(out, "queue empty, %lld in flight: keep %.0f (a stop "
			    "would kill a busy replica with p=%.2f and %.0fs left cannot "
			    "absorb a redo)", (long long)o.in_flight, cur, pkill, T);
			goto done;
		}
		result = ctl_clamp_count(n, s->min_rep, s->max_rep);
		ctl_reason(out, "queue empty, %lld in flight: release idle replicas: "
		    "%.0f -> %d", (long long)o.in_flight, cur, (int)result);
		goto done;
	}
	/* More than needed while work is queued: stop some only if the excess
	 * is large and lasts (stopping saves no busy time; restarting costs S)
	 * and a kill is unlikely (every ready replica is busy here: only
	 * starting ones hold no item). */
	/* ...and holds even if m is at its upper bound from the items seen:
	 * a replica stopped while starting and asked for again pays its
	 * start-up twice. */
	{
		double f = 1 + eps + s->down_hysteresis;
		double fhi = (1 + s->z * cv / sqrt(items)) * (1 + eps);

		down = need_for(s, &o, T - tail, S, R * m * (f > fhi ? f : fhi), cap);
	}
	if (s->stop_idle_first && down < cur && cur - down <=
	    (double)o.replicas - (double)o.in_flight)
		pkill = 0; /* only starting or idle replicas would stop */
	else {
		/* A busy replica would get SIGTERM and finish its item, unless
		 * the item outlasts the grace. Stopping it saves little (its
		 * start-up is paid, its items move to others), and early on the
		 * spread is uncertain (a mix whose long items have not finished
		 * yet looks narrow): judge the kill on the spread's upper bound,
		 * and not before 30 items. */
		double sl = sqrt(log1p(cv * cv)) + s->spread_z /
		    sqrt(items > 1 ? items : 1);
		double pk = kill_prob(m, sqrt(expm1(sl * sl)), s->grace_s);

		if (items < 30)
			pk = 1;
		if (pk > pkill)
			pkill = pk;
	}
	if (pkill <= 0.02 && down <= cur - 1 &&
	    down <= (1 - s->down_hysteresis) * cur) {
		s->down_streak++;
		if (s->down_streak >= s->down_ticks) {
			n = down;
			s->down_streak = 0;
			result = ctl_clamp_count(n, s->min_rep, s->max_rep);
			ctl_reason(out, "need only %.0f (%.0f with hysteresis) for %ld ticks: "
			    "%.0f items x %.2fs in %.0fs: %.0f -> %d", need, down,
			    s->down_ticks, R, m, T, cur, (int)result);
			goto done;
		}
	} else
		s->down_streak = 0;
	result = ctl_clamp_count(cur, s->min_rep, s->max_rep);
	ctl_reason(out, "need %.0f <= %.0f: keep (%.0f items x %.2fs in %.0fs, "
	    "margin %.0f%%)", need, cur, R, m, T, eps * 100);
done:
	if ((double)result > cur)
		note_request(s, o.now_s, (double)result - cur);
	out->replicas = result;
	return 0;
}

static void
destroy(void *state)
{
	free(state);
}

static const struct coffer_controller def = {
	.size = sizeof(struct coffer_controller),
	.abi_version = COFFER_CONTROLLER_ABI_VERSION,
	.name = "deadline",
	.summary = "Coffer's deadline controller: just enough replicas to finish "
	    "by the deadline, start-up aware, from measured service times",
	.create = create,
	.decide = decide,
	.destroy = destroy,
};

CTL_DEFINE(coffer_ctl_deadline, def)
