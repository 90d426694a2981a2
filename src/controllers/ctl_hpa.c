/* SPDX-License-Identifier: Apache-2.0 */
/* "hpa": KEDA's queue-length scaler driving the Kubernetes Horizontal Pod
 * Autoscaler, with the HPA's defaults (v2 behaviour): the baseline for
 * "autoscale on the queue" systems. */
#include <stdlib.h>
#include <string.h>

#include "controllers/builtin.h"
#include "controllers/ctl_common.h"

/*
 * What runs, per HPA sync (every sync_period_s, 15 s by default):
 *
 * 1. KEDA's Redis list scaler exposes the list's length (the items waiting,
 *    not those in flight) as an External metric with an AverageValue target
 *    of listLength (5 by default).
 * 2. The replica calculator (GetExternalPerPodMetricReplicas): with the
 *    replicas in the scale target's status, usageRatio = metric / (target *
 *    status); if |1 - usageRatio| <= tolerance (0.1) the recommendation is
 *    the status count, otherwise ceil(metric / target).
 * 3. Stabilisation (stabilizeRecommendationWithBehaviors): the result is
 *    the current spec count moved toward the recommendation but no higher
 *    than the lowest recommendation of the scale-up window (0 s by
 *    default) and no lower than the highest of the scale-down window
 *    (300 s by default). Every raw recommendation is recorded.
 * 4. Rate limits (convertDesiredReplicasWithBehaviorRate): up, the larger
 *    of +100% and +4 pods over the replicas at the start of the 15 s
 *    period (selectPolicy Max); down, -100% per 15 s. Then [min, max].
 *
 * The spec count is the host's replicas_desired, the status count its
 * replicas. Between syncs the count is kept.
 */

struct rec {
	double t;
	int32_t v;
};

struct state {
	/* parameters */
	double target, tolerance, sync_s;
	double up_window_s, down_window_s;
	double up_period_s, up_percent, up_pods;
	double down_period_s, down_percent;
	int use_remaining;
	int32_t min_rep, max_rep;
	/* recommendations and scale events, oldest first, bounded */
	struct rec *recs;
	size_t nrecs, caprecs;
	struct rec *events; /* v = signed change */
	size_t nevents, capevents;
	double last_sync;
	int synced;
};

static void
ring_push(struct rec *a, size_t *n, size_t cap, double t, int32_t v)
{
	if (*n == cap) {
		memmove(a, a + 1, (cap - 1) * sizeof(*a));
		(*n)--;
	}
	a[*n].t = t;
	a[*n].v = v;
	(*n)++;
}

/* Drop entries older than keep_s before now (or from the future, if the
 * host's clock went backwards). */
static void
ring_trim(struct rec *a, size_t *n, double now, double keep_s)
{
	size_t i, j = 0;

	for (i = 0; i < *n; i++)
		if (a[i].t > now - keep_s && a[i].t <= now)
			a[j++] = a[i];
	*n = j;
}

static int
create(const struct coffer_ctl_config *cfg, void **out, char *err,
    size_t errlen)
{
	struct state s;
	struct state *p = NULL;
	double keep, step;
	size_t i;
	int r;

	memset(&s, 0, sizeof(s));
	s.target = 5;
	s.tolerance = 0.1;
	s.sync_s = 15;
	s.up_window_s = 0;
	s.down_window_s = 300;
	s.up_period_s = 15;
	s.up_percent = 100;
	s.up_pods = 4;
	s.down_period_s = 15;
	s.down_percent = 100;
	if ((r = ctl_check_config(cfg, 0, err, errlen)) != 0 ||
	    (r = ctl_check_param_keys(cfg, err, errlen)) != 0)
		return r;
	for (i = 0; i < cfg->nparams; i++) {
		const char *k = cfg->params[i].key, *v = cfg->params[i].value;

		if (strcmp(k, "target") == 0)
			r = ctl_parse_num(k, v, 1e-6, 1e9, &s.target, err, errlen);
		else if (strcmp(k, "tolerance") == 0)
			r = ctl_parse_num(k, v, 0, 10, &s.tolerance, err, errlen);
		else if (strcmp(k, "sync_period_s") == 0)
			r = ctl_parse_num(k, v, 0, 86400, &s.sync_s, err, errlen);
		else if (strcmp(k, "scale_up_window_s") == 0)
			r = ctl_parse_num(k, v, 0, 3600, &s.up_window_s, err, errlen);
		else if (strcmp(k, "scale_down_window_s") == 0)
			r = ctl_parse_num(k, v, 0, 3600, &s.down_window_s, err, errlen);
		else if (strcmp(k, "scale_up_period_s") == 0)
			r = ctl_parse_num(k, v, 1, 1800, &s.up_period_s, err, errlen);
		else if (strcmp(k, "scale_up_percent") == 0)
			r = ctl_parse_num(k, v, 0, 1e6, &s.up_percent, err, errlen);
		else if (strcmp(k, "scale_up_pods") == 0)
			r = ctl_parse_num(k, v, 0, 1e6, &s.up_pods, err, errlen);
		else if (strcmp(k, "scale_down_period_s") == 0)
			r = ctl_parse_num(k, v, 1, 1800, &s.down_period_s, err, errlen);
		else if (strcmp(k, "scale_down_percent") == 0)
			r = ctl_parse_num(k, v, 0, 100, &s.down_percent, err, errlen);
		else if (strcmp(k, "metric") == 0) {
			if (v != NULL && strcmp(v, "queued") == 0)
				s.use_remaining = 0;
			else if (v != NULL && strcmp(v, "remaining") == 0)
				s.use_remaining = 1;
			else
				r = ctl_fail(err, errlen, "metric: expected queued or remaining");
		} else
			r = ctl_fail(err, errlen, "%s: unknown parameter (hpa takes target, "
			    "metric, tolerance, sync_period_s, scale_up_window_s, "
			    "scale_down_window_s, scale_up_period_s, scale_up_percent, "
			    "scale_up_pods, scale_down_period_s, scale_down_percent)", k);
		if (r != 0)
			return r;
	}
	if (s.up_percent == 0 && s.up_pods == 0)
		return ctl_fail(err, errlen, "scale_up_pods: scale_up_percent and "
		    "scale_up_pods cannot both be 0");
	s.min_rep = cfg->min_replicas;
	s.max_rep = cfg->max_replicas;
	/* One recommendation per sync at most; bounded whatever the clock. */
	step = s.sync_s > cfg->check_interval_s ? s.sync_s : cfg->check_interval_s;
	keep = s.up_window_s > s.down_window_s ? s.up_window_s : s.down_window_s;
	s.caprecs = (size_t)(keep / step) + 4;
	if (s.caprecs > 4096)
		s.caprecs = 4096;
	keep = s.up_period_s > s.down_period_s ? s.up_period_s : s.down_period_s;
	s.capevents = (size_t)(keep / step) + 4;
	if (s.capevents > 4096)
		s.capevents = 4096;
	if ((p = malloc(sizeof(*p))) == NULL ||
	    (s.recs = calloc(s.caprecs, sizeof(*s.recs))) == NULL ||
	    (s.events = calloc(s.capevents, sizeof(*s.events))) == NULL) {
		free(s.recs);
		free(p);
		return COFFER_E_NOMEM;
	}
	*p = s;
	*out = p;
	return 0;
}

/* Signed sum of the changes of the given sign within period_s before now. */
static double
changes(const struct state *s, double now, double period_s, int sign)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < s->nevents; i++)
		if (s->events[i].t > now - period_s &&
		    (sign > 0 ? s->events[i].v > 0 : s->events[i].v < 0))
			sum += s->events[i].v > 0 ? s->events[i].v : -(double)s->events[i].v;
	return sum;
}

static int
decide(void *state, const struct coffer_ctl_obs *obs,
    struct coffer_ctl_decision *out)
{
	struct state *s = state;
	struct coffer_ctl_obs o;
	double metric, ratio, raw, up_rec, down_rec, stab, start, lim, pct, n;
	int32_t cur, status, result;
	size_t i;

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
	cur = o.replicas_desired;
	status = o.replicas;
	if (s->synced && o.now_s >= s->last_sync &&
	    o.now_s - s->last_sync < s->sync_s) {
		out->replicas = ctl_clamp_count(cur, s->min_rep, s->max_rep);
		ctl_reason(out, "between HPA syncs (%.0fs): keep %d", s->sync_s,
		    (int)out->replicas);
		return 0;
	}
	s->synced = 1;
	s->last_sync = o.now_s;

	/* 1-2: the replica calculator. 0/0 is NaN and, as in Go, NaN > tol is
	 * false: no change. */
	metric = (double)o.queued + (s->use_remaining ? (double)o.in_flight : 0);
	ratio = metric / (s->target * (double)status);
	if (fabs(1.0 - ratio) > s->tolerance)
		raw = ceil(metric / s->target);
	else
		raw = status;
	if (raw > INT32_MAX)
		raw = INT32_MAX;

	/* 3: stabilisation over the recorded recommendations. */
	ring_trim(s->recs, &s->nrecs, o.now_s,
	    s->up_window_s > s->down_window_s ? s->up_window_s : s->down_window_s);
	up_rec = raw;
	down_rec = raw;
	for (i = 0; i < s->nrecs; i++) {
		if (s->recs[i].t > o.now_s - s->up_window_s && s->recs[i].v < up_rec)
			up_rec = s->recs[i].v;
		if (s->recs[i].t > o.now_s - s->down_window_s && s->recs[i].v > down_rec)
			down_rec = s->recs[i].v;
	}
	ring_push(s->recs, &s->nrecs, s->caprecs, o.now_s, (int32_t)raw);
	stab = cur;
	if (stab < up_rec)
		stab = up_rec;
	if (stab > down_rec)
		stab = down_rec;

	/* 4: rate limits, from the replicas at the start of each period. */
	ring_trim(s->events, &s->nevents, o.now_s,
	    s->up_period_s > s->down_period_s ? s->up_period_s : s->down_period_s);
	n = stab;
	if (stab > cur) {
		start = cur - changes(s, o.now_s, s->up_period_s, +1) +
		    changes(s, o.now_s, s->up_period_s, -1);
		pct = ceil(start * (1 + s->up_percent / 100));
		lim = start + s->up_pods;
		if (pct > lim)
			lim = pct;
		if (lim < cur)
			lim = cur;
		if (lim > s->max_rep)
			lim = s->max_rep;
		if (n > lim)
			n = lim;
	} else if (stab < cur) {
		start = cur - changes(s, o.now_s, s->down_period_s, +1) +
		    changes(s, o.now_s, s->down_period_s, -1);
		lim = trunc(start * (1 - s->down_percent / 100));
		if (lim > cur)
			lim = cur;
		if (lim < s->min_rep)
			lim = s->min_rep;
		if (n < lim)
			n = lim;
	}
	result = ctl_clamp_count(n, s->min_rep, s->max_rep);
	if (result != cur)
		ring_push(s->events, &s->nevents, s->capevents, o.now_s,
		    (int32_t)((int64_t)result - cur));
	out->replicas = result;
	ctl_reason(out, "queue=%.0f target=%g status=%d: calculator %.0f, "
	    "stabilised %.0f (window max %.0f), rate-limited %.0f: %d -> %d",
	    metric, s->target, (int)status, raw, stab, down_rec, n, (int)cur,
	    (int)result);
	return 0;
}

static void
destroy(void *state)
{
	struct state *s = state;

	if (s == NULL)
		return;
	free(s->recs);
	free(s->events);
	free(s);
}

static const struct coffer_controller def = {
	.size = sizeof(struct coffer_controller),
	.abi_version = COFFER_CONTROLLER_ABI_VERSION,
	.name = "hpa",
	.summary = "KEDA queue-length scaling through the Kubernetes HPA's "
	    "defaults (tolerance 0.1, 300 s down-stabilisation, max(2x, +4)/15 s up)",
	.create = create,
	.decide = decide,
	.destroy = destroy,
};

CTL_DEFINE(coffer_ctl_hpa, def)
