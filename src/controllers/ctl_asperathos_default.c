/* SPDX-License-Identifier: Apache-2.0 */
/* "asperathos-default": Asperathos's default (bang-bang) scheduler, rule for
 * rule: one step of actuation_size replicas down when the job is ahead by at
 * least trigger_down, up when it is behind by at least trigger_up. */
#include <stdlib.h>
#include <string.h>

#include "controllers/builtin.h"
#include "controllers/ctl_common.h"

/*
 * Asperathos (asperathos-controller, plugins/scheduler/default) reads the
 * progress error e = job progress - time progress published by its monitor
 * and the Job's current parallelism (spec.parallelism, i.e. the count it
 * last asked for), then:
 *   e > 0 and e >= trigger_down       -> max(r - actuation_size, min_rep)
 *   e < 0 and |e| >= trigger_up       -> min(r + actuation_size, max_rep)
 *   otherwise                         -> no action
 * With the tutorial's triggers of 0 it reacts to any non-zero error, and
 * e == 0 exactly is "no action". We reproduce that; the host's
 * replicas_desired plays the role of spec.parallelism.
 */

struct state {
	double trigger_up;
	double trigger_down;
	int32_t actuation_size;
	int32_t min_rep;
	int32_t max_rep;
};

static int
create(const struct coffer_ctl_config *cfg, void **out, char *err,
    size_t errlen)
{
	struct state s = { 0.0, 0.0, 1, 0, 0 };
	struct state *p;
	size_t i;
	long l = 0;
	int r;

	if ((r = ctl_check_config(cfg, 0, err, errlen)) != 0 ||
	    (r = ctl_check_param_keys(cfg, err, errlen)) != 0)
		return r;
	for (i = 0; i < cfg->nparams; i++) {
		const char *k = cfg->params[i].key, *v = cfg->params[i].value;

		if (strcmp(k, "trigger_up") == 0)
			r = ctl_parse_num(k, v, 0, 1e9, &s.trigger_up, err, errlen);
		else if (strcmp(k, "trigger_down") == 0)
			r = ctl_parse_num(k, v, 0, 1e9, &s.trigger_down, err, errlen);
		else if (strcmp(k, "actuation_size") == 0) {
			r = ctl_parse_int(k, v, 1, 100000, &l, err, errlen);
			if (r == 0)
				s.actuation_size = (int32_t)l;
		} else
			r = ctl_fail(err, errlen, "%s: unknown parameter (asperathos-default "
			    "takes trigger_up, trigger_down, actuation_size)", k);
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
	const struct state *s = state;
	struct coffer_ctl_obs o;
	int32_t r, n;
	double e;

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
	e = o.error;
	if (!isfinite(obs->error)) {
		out->replicas = r;
		ctl_reason(out, "e is not a number: keep %d", (int)r);
		return 0;
	}
	if (e > 0 && e >= s->trigger_down) {
		n = r - s->actuation_size < s->min_rep ? s->min_rep :
		    r - s->actuation_size;
		ctl_reason(out, "e=%+.4f >= trigger_down=%g: %d -> %d", e,
		    s->trigger_down, (int)r, (int)n);
	} else if (e < 0 && -e >= s->trigger_up) {
		n = r > s->max_rep - s->actuation_size ? s->max_rep :
		    r + s->actuation_size;
		ctl_reason(out, "e=%+.4f <= -trigger_up=-%g: %d -> %d", e,
		    s->trigger_up, (int)r, (int)n);
	} else {
		n = r;
		ctl_reason(out, "e=%+.4f within triggers (-%g, %g): keep %d", e,
		    s->trigger_up, s->trigger_down, (int)r);
	}
	out->replicas = n;
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
	.name = "asperathos-default",
	.summary = "Asperathos's default scheduler: +/- actuation_size when the "
	    "progress error crosses trigger_up/trigger_down",
	.create = create,
	.decide = decide,
	.destroy = destroy,
};

CTL_DEFINE(coffer_ctl_asperathos_default, def)
