// SPDX-License-Identifier: Apache-2.0
// Plugin apps, loaded into the runner process (doc/format/app-abi.md):
// dlopen, the ABI checks of section 3, init with the job's parameters,
// then process/reduce calls through a bounded writer. The runner is a
// child of the supervisor (worker/supervisor.c), so a plugin that crashes
// or hangs costs the runner, never the item's lease or the worker.
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/appparams.h"
#include "lib/mem.h"
#include "worker/app.h"

/* The size of version 1's struct: the fields up to fini. Later versions
 * append fields, so this stays fixed. */
#define APP_V1_SIZE (offsetof(struct coffer_app, fini) + sizeof(void (*)(void *)))

struct plugin {
	const struct worker_config *cfg;
	struct coffer_app app; /* the fields this worker knows, copied */
	void *state;
};

struct writer {
	struct coffer_app_writer w; /* first: the app gets &w */
	struct coffer_buf *out;
	int overflow;
};

static int
plugin_write(struct coffer_app_writer *w, const void *p, size_t n)
{
	struct writer *wr = (struct writer *)w;

	if (wr == NULL || (p == NULL && n > 0))
		return COFFER_E_INVAL;
	if (wr->overflow)
		return COFFER_E_LIMIT;
	if (coffer_buf_put(wr->out, p, n) != 0) {
		wr->overflow = 1;
		return COFFER_E_LIMIT;
	}
	return 0;
}

static void
copy_name(char *dst, size_t dstlen, const char *src)
{
	if (src == NULL || strnlen(src, 64) >= 64) {
		snprintf(dst, dstlen, "?");
		return;
	}
	snprintf(dst, dstlen, "%s", src);
	for (char *c = dst; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

static void
first_param_error(void *arg, const char *name, const char *message)
{
	char *err = arg;

	if (err[0] == '\0')
		snprintf(err, 1024, "%s: %s", name, message);
}

/* Checks 4 to 6 of doc/format/app-abi.md section 3 on the struct the
 * entry point returned, then init() with the job's parameters. */
int
plugin_from_def(const struct worker_config *cfg, const struct coffer_app *a,
    const struct coffer_app_param *params, size_t nparams, struct plugin **out,
    struct app_info *info)
{
	struct plugin *p = NULL;
	char err[1024] = "";
	int r;

	if (a->abi_version != COFFER_APP_ABI_VERSION)
		return coffer_errf(COFFER_E_ABI, "plugin ABI version %u; this worker"
		    " supports version %u", a->abi_version, COFFER_APP_ABI_VERSION);
	if (a->size < APP_V1_SIZE)
		return coffer_errf(COFFER_E_ABI, "plugin struct is %u bytes; ABI"
		    " version 1 needs at least %zu", a->size, (size_t)APP_V1_SIZE);
	if ((p = coffer_calloc(1, sizeof(*p))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "plugin");
	p->cfg = cfg;
	/* Copy what this worker knows; fields appended later are ignored. */
	memcpy(&p->app, a, sizeof(p->app) < a->size ? sizeof(p->app) : a->size);
	if (p->app.process == NULL) {
		r = coffer_errf(COFFER_E_ABI, "plugin has no process function");
		goto fail;
	}
	if ((p->app.reduce_add == NULL) != (p->app.reduce_finish == NULL)) {
		r = coffer_errf(COFFER_E_ABI, "plugin has only one of reduce_add and"
		    " reduce_finish");
		goto fail;
	}
	/* Declared parameters (app-abi.md section 5) are checked before
	 * init() sees them; the manager and `coffer run` checked them too. */
	if (p->app.nparams > 0 && p->app.params != NULL) {
		json_t *decls = coffer_app_decls_json(p->app.params, p->app.nparams);
		const char *keys[APP_MAX_PARAMS], *vals[APP_MAX_PARAMS];
		size_t n = 0;

		for (size_t i = 0; i < nparams && n < APP_MAX_PARAMS; i++)
			if (!coffer_app_param_reserved(params[i].key)) {
				keys[n] = params[i].key;
				vals[n++] = params[i].value;
			}
		err[0] = '\0';
		if (decls == NULL) {
			r = coffer_errf(COFFER_E_NOMEM, "plugin");
			goto fail;
		}
		n = coffer_app_params_check(decls, keys, vals, n, first_param_error,
		    err);
		json_decref(decls);
		if (n > 0) {
			r = coffer_errf(COFFER_E_APP, "app parameters refused: %s", err);
			goto fail;
		}
	}
	if (p->app.init != NULL) {
		r = p->app.init(params, nparams, &p->state, err, sizeof(err));
		err[sizeof(err) - 1] = '\0';
		if (r != 0) {
			r = coffer_errf(COFFER_E_APP, "app init failed: %s", err[0] ? err :
			    coffer_strerror(r));
			goto fail;
		}
	}
	memset(info, 0, sizeof(*info));
	copy_name(info->name, sizeof(info->name), p->app.name);
	copy_name(info->version, sizeof(info->version), p->app.version);
	info->kind = APP_KIND_PLUGIN;
	info->has_reduce = p->app.reduce_add != NULL;
	*out = p;
	return 0;
fail:
	/* Not dlclose(): a half-initialised plugin may have left threads or
	 * handlers behind; the process is about to report and exit anyway. */
	free(p);
	return r;
}

/* Checks 1 to 3 (dlopen, the entry point), then plugin_from_def. */
int
plugin_load(const struct worker_config *cfg, const struct coffer_app_param *params,
    size_t nparams, struct plugin **out, struct app_info *info)
{
	const struct coffer_app *a;
	coffer_app_entry_fn entry;
	void *dl;

	if (access(cfg->app, R_OK) != 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_PERM,
		    "plugin %s: %s", cfg->app, strerror(errno));
	if ((dl = dlopen(cfg->app, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *e = dlerror();

		return coffer_errf(COFFER_E_ABI, "cannot load plugin: %s", e ? e :
		    cfg->app);
	}
	*(void **)&entry = dlsym(dl, COFFER_APP_ENTRY_SYMBOL);
	if (entry == NULL)
		return coffer_errf(COFFER_E_ABI, "%s does not export %s (build it with"
		    " COFFER_APP_EXPORT from coffer/app.h)", cfg->app,
		    COFFER_APP_ENTRY_SYMBOL);
	if ((a = entry()) == NULL)
		return coffer_errf(COFFER_E_ABI, "%s() returned NULL",
		    COFFER_APP_ENTRY_SYMBOL);
	return plugin_from_def(cfg, a, params, nparams, out, info);
}

int
plugin_call(struct plugin *p, int type, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, struct coffer_buf *out,
    char *err, size_t errlen)
{
	struct writer wr;
	size_t start = out ? out->len : 0;
	char e[1024] = "";
	int r;

	memset(&wr, 0, sizeof(wr));
	wr.w.write = plugin_write;
	wr.out = out;
	if (in == NULL)
		in = (const uint8_t *)"";
	if (type == PLUGIN_PROCESS) {
		struct coffer_app_item item = { sizeof(item), id, attempt, owner };

		r = p->app.process(p->state, &item, in, inlen, &wr.w, e, sizeof(e));
	} else if (type == PLUGIN_REDUCE_ADD && p->app.reduce_add != NULL) {
		r = p->app.reduce_add(p->state, id, in, inlen, e, sizeof(e));
	} else if (type == PLUGIN_REDUCE_FINISH && p->app.reduce_finish != NULL) {
		r = p->app.reduce_finish(p->state, &wr.w, e, sizeof(e));
	} else {
		snprintf(err, errlen, "the app has no reduce stage");
		return COFFER_E_UNSUPPORTED;
	}
	e[sizeof(e) - 1] = '\0';
	for (char *c = e; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	if (r > 0) {
		snprintf(err, errlen, "the app returned an invalid status %d", r);
		r = COFFER_E_APP;
	} else if (r < 0) {
		snprintf(err, errlen, "%s", e[0] ? e : coffer_strerror(r));
	}
	if (wr.overflow) {
		snprintf(err, errlen, "output larger than the limit of %zu bytes",
		    p->cfg->max_item_bytes);
		r = COFFER_E_LIMIT;
	}
	if (r != 0 && out != NULL && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}

void
plugin_unload(struct plugin *p)
{
	if (p == NULL)
		return;
	if (p->app.fini != NULL)
		p->app.fini(p->state);
	/* Not dlclose(): the plugin may have registered atexit handlers or
	 * started threads; unloading its code under them would crash. */
	free(p);
}
