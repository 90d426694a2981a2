/* SPDX-License-Identifier: Apache-2.0 */
/* "static": a fixed replica count (min, max, or a number) for the whole
 * job; the baseline that every adaptive controller must beat. */
#include <stdlib.h>
#include <string.h>

#include "controllers/builtin.h"
#include "controllers/ctl_common.h"

struct state {
	int32_t n;
	char what[16];
};

static int
create(const struct coffer_ctl_config *cfg, void **out, char *err,
    size_t errlen)
{
	struct state s;
	struct state *p;
	size_t i;
	long l = 0;
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = ctl_check_config(cfg, 0, err, errlen)) != 0 ||
	    (r = ctl_check_param_keys(cfg, err, errlen)) != 0)
		return r;
	s.n = cfg->max_replicas;
	snprintf(s.what, sizeof(s.what), "max");
	for (i = 0; i < cfg->nparams; i++) {
		const char *k = cfg->params[i].key, *v = cfg->params[i].value;

		if (strcmp(k, "replicas") != 0)
			return ctl_fail(err, errlen, "%s: unknown parameter (static takes "
			    "replicas: min, max or a number)", k);
		if (v != NULL && strcmp(v, "max") == 0) {
			s.n = cfg->max_replicas;
			snprintf(s.what, sizeof(s.what), "max");
		} else if (v != NULL && strcmp(v, "min") == 0) {
			s.n = cfg->min_replicas;
			snprintf(s.what, sizeof(s.what), "min");
		} else {
			if ((r = ctl_parse_int(k, v, cfg->min_replicas,
			    cfg->max_replicas, &l, err, errlen)) != 0)
				return ctl_fail(err, errlen, "replicas: expected min, max or a "
				    "whole number in [%d, %d]", (int)cfg->min_replicas,
				    (int)cfg->max_replicas);
			s.n = (int32_t)l;
			snprintf(s.what, sizeof(s.what), "fixed");
		}
	}
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

	if (out == NULL)
		return COFFER_E_INVAL;
	memset(out, 0, sizeof(*out));
	if (s == NULL) {
		ctl_reason(out, "no state");
		return COFFER_E_INVAL;
	}
	out->replicas = s->n;
	if (ctl_read_obs(obs, &o) != 0) {
		ctl_reason(out, "observation too small for ABI v1: static %d",
		    (int)s->n);
		return COFFER_E_ABI;
	}
	ctl_reason(out, "static (%s): %d", s->what, (int)s->n);
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
	.name = "static",
	.summary = "a fixed replica count: replicas=min, max (default) or a number",
	.create = create,
	.decide = decide,
	.destroy = destroy,
};

CTL_DEFINE(coffer_ctl_static, def)
