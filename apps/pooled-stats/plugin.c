// SPDX-License-Identifier: Apache-2.0
// pooled-stats: statistics over several data owners' tables, the
// multi-hospital study (doc/apps/pooled-stats.md). Map: one owner's CSV,
// checked against the schema, to a compact binary form. Reduce: all the
// owners' rows together: descriptive statistics and a logistic
// regression, released only within the disclosure limits.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"

struct state {
	struct ps_config cfg;
	struct ps_reduce *red;      /* created at the first reduce_add */
};

static int
ps_app_init(const struct coffer_app_param *params, size_t nparams,
    void **state, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof(*s));
	int r;

	if (s == NULL)
		return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
	if ((r = ps_config_parse(params, nparams, &s->cfg, err, errlen)) != 0) {
		free(s);
		return r;
	}
	*state = s;
	return 0;
}

static int
ps_app_process(void *state, const struct coffer_app_item *item,
    const uint8_t *in, size_t inlen, struct coffer_app_writer *out, char *err,
    size_t errlen)
{
	struct state *s = state;
	const char *owner = COFFER_APP_ITEM_HAS(item, owner) ? item->owner : NULL;

	return ps_map(&s->cfg, item->id, owner, in, inlen, out, err, errlen);
}

static int
ps_app_reduce_add(void *state, const char *item_id, const uint8_t *in,
    size_t inlen, char *err, size_t errlen)
{
	struct state *s = state;

	if (s->red == NULL && ps_reduce_new(&s->cfg, &s->red) != 0)
		return ps_errf(err, errlen, COFFER_E_NOMEM, "out of memory");
	return ps_reduce_add(s->red, item_id, in, inlen, err, errlen);
}

static int
ps_app_reduce_finish(void *state, struct coffer_app_writer *out, char *err,
    size_t errlen)
{
	struct state *s = state;
	struct ps_buf b = { NULL, 0, 0, (size_t)1 << 30 };
	int r;

	if (s->red == NULL)
		return ps_errf(err, errlen, COFFER_E_NOTFOUND, "no map output to"
		    " reduce");
	if ((r = ps_reduce_finish(s->red, &b, err, errlen)) == 0 &&
	    (r = out->write(out, b.p, b.len)) != 0)
		ps_errf(err, errlen, r, "writing the result failed");
	ps_buf_free(&b);
	return r;
}

static void
ps_app_fini(void *state)
{
	struct state *s = state;

	if (s == NULL)
		return;
	ps_reduce_free(s->red);
	ps_config_free(&s->cfg);
	free(s);
}

/* Filled from ps_params by the entry point, before it returns. */
static struct coffer_app_param_decl ps_decls[PS_NPARAMS];

static const struct coffer_app pooled_stats_app = {
	.size = sizeof(struct coffer_app),
	.abi_version = COFFER_APP_ABI_VERSION,
	.name = "pooled-stats",
	.version = PS_VERSION,
	.init = ps_app_init,
	.process = ps_app_process,
	.reduce_add = ps_app_reduce_add,
	.reduce_finish = ps_app_reduce_finish,
	.fini = ps_app_fini,
	.params = ps_decls,
	.nparams = PS_NPARAMS,
};

/* COFFER_APP_EXPORT's entry, which also fills the declarations from the
 * one parameter table (params.c): the worker calls it once. */
__attribute__((visibility("default"))) const struct coffer_app *coffer_app_entry_v1(void);
__attribute__((visibility("default"))) const struct coffer_app *
coffer_app_entry_v1(void)
{
	ps_param_decls(ps_decls);
	return &pooled_stats_app;
}
