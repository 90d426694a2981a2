/* SPDX-License-Identifier: Apache-2.0 */
/* "asperathos-pid": Asperathos's PID scheduler, reproduced with its quirks
 * (no time step, no anti-windup, the action truncated toward zero) so that
 * the benchmark compares against what Asperathos really does. */
#include <stdlib.h>
#include <string.h>

#include "controllers/builtin.h"
#include "controllers/ctl_common.h"

/*
 * asperathos-controller, plugins/scheduler/pid, at every new measurement of
 * the progress error e (job progress - time progress) and the Job's
 * parallelism r:
 *   P = -Kp * e
 *   D = -Kd * (e - e_prev), 0 at the first call
 *   sum += e (before I is computed, so the current error counts)
 *   I = -Ki * sum
 *   r' = clamp(r + int(P + D + I), min_rep, max_rep)
 * Python's int() truncates toward zero: with the tutorial's Kp = 0.1 and
 * |e| < 10 the action is always 0. We keep that (see doc/controllers.md).
 * A NaN error would raise in Python; we keep the count and leave the state
 * untouched instead.
 */

struct state {
	double kp, ki, kd;
	double last_error;
	int has_last;
	double integrated;
	int32_t min_rep, max_rep;
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
	s.kp = 0.1; /* the ISSRE 2019 tutorial's gains */
	if ((r = ctl_check_config(cfg, 0, err, errlen)) != 0 ||
	    (r = ctl_check_param_keys(cfg, err, errlen)) != 0)
		return r;
	for (i = 0; i < cfg->nparams; i++) {
		const char *k = cfg->params[i].key, *v = cfg->params[i].value;

		if (strcmp(k, "proportional_gain") == 0)
			r = ctl_parse_num(k, v, -1e6, 1e6, &s.kp, err, errlen);
		else if (strcmp(k, "integral_gain") == 0)
			r = ctl_parse_num(k, v, -1e6, 1e6, &s.ki, err, errlen);
		else if (strcmp(k, "derivative_gain") == 0)
			r = ctl_parse_num(k, v, -1e6, 1e6, &s.kd, err, errlen);
		else
			r = ctl_fail(err, errlen, "%s: unknown parameter (asperathos-pid "
			    "takes proportional_gain, integral_gain, derivative_gain)", k);
		if (r != 0)
			return r;
	}
	s.min_rep = cfg->min_replicas;
	s.max_rep = cfg->max_replicas;
	if ((p = malloc(sizeof(*p))) == NULL)
		return COFFER_E_NOMEM;
	*p = s;
	*out = p;
	return 0;
}

static int
decide(void *state, const struct coffer_ctl_obs *obs,
    struct coffer_ctl_decision *out)
{
	struct state *s = state;
	struct coffer_ctl_obs o;
	double e, pc, dc, ic, action, total;
	int32_t r, n;

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
	r = o.replicas_desired;
	if (!isfinite(obs->error)) {
		out->replicas = r < s->min_rep ? s->min_rep : r > s->max_rep ?
		    s->max_rep : r;
		ctl_reason(out, "e is not a number: keep %d", (int)r);
		return 0;
	}
	e = o.error;
	pc = -s->kp * e;
	dc = s->has_last ? -s->kd * (e - s->last_error) : 0.0;
	s->integrated += e;
	ic = -s->ki * s->integrated;
	action = pc + dc + ic;
	if (isnan(action))
		action = 0; /* inf - inf from an overflowed sum */
	action = trunc(action);
	total = (double)r + action;
	n = ctl_clamp_count(total, s->min_rep, s->max_rep);
	s->last_error = e;
	s->has_last = 1;
	out->replicas = n;
	ctl_reason(out, "e=%+.4f P=%+.3f I=%+.3f D=%+.3f action=int(%+.3f)=%+.0f: "
	    "%d -> %d", e, pc, ic, dc, pc + dc + ic, action, (int)r, (int)n);
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
	.name = "asperathos-pid",
	.summary = "Asperathos's PID scheduler on the progress error, as "
	    "Asperathos runs it (no dt, no anti-windup, int() truncation)",
	.create = create,
	.decide = decide,
	.destroy = destroy,
};

CTL_DEFINE(coffer_ctl_asperathos_pid, def)
