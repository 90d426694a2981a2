// SPDX-License-Identifier: Apache-2.0
// coffer-worker --describe-app: what an app is and which parameters it
// takes (doc/format/app-abi.md section 5), for the manager and `coffer
// run` to check a job before anything runs. A plugin is loaded and its
// entry point called, nothing else (no init()); an executable's
// declarations are in its manifest, <executable>.params.json. One JSON
// object on standard output.
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "lib/appparams.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/json.h"
#include "worker/worker.h"

#define V1_SIZE (offsetof(struct coffer_app, fini) + sizeof(void (*)(void *)))
#define PARAMS_END (offsetof(struct coffer_app, nparams) + sizeof(size_t))
#define MANIFEST_MAX (64 * 1024)

static int
describe_plugin(const char *path, json_t *o)
{
	const struct coffer_app *a;
	coffer_app_entry_fn entry;
	void *dl;
	json_t *decls;

	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return coffer_errf(COFFER_E_ABI, "cannot load plugin: %s", dlerror());
	*(void **)&entry = dlsym(dl, COFFER_APP_ENTRY_SYMBOL);
	if (entry == NULL || (a = entry()) == NULL ||
	    a->abi_version != COFFER_APP_ABI_VERSION || a->size < V1_SIZE)
		return coffer_errf(COFFER_E_ABI, "%s is not a Coffer app plugin of ABI "
		    "version %u (coffer-worker --check-app says why)", path,
		    COFFER_APP_ABI_VERSION);
	json_object_set_new(o, "name", json_string(a->name != NULL ? a->name : ""));
	json_object_set_new(o, "version", json_string(a->version != NULL ?
	    a->version : ""));
	json_object_set_new(o, "reduce", json_boolean(a->reduce_add != NULL &&
	    a->reduce_finish != NULL));
	if (a->size >= PARAMS_END && a->params != NULL && a->nparams > 0) {
		if ((decls = coffer_app_decls_json(a->params, a->nparams)) == NULL)
			return COFFER_E_NOMEM;
		if (coffer_app_decls_check(decls) != 0) {
			json_decref(decls);
			return coffer_errctx(COFFER_E_ABI, "%s", path);
		}
		json_object_set_new(o, "params", decls);
	} else {
		json_object_set_new(o, "params", json_null());
	}
	/* The handle stays open: the strings above may live in it. */
	return 0;
}

static int
describe_exec(const char *path, json_t *o)
{
	struct coffer_buf b = COFFER_BUF_INIT(MANIFEST_MAX);
	char mpath[4200];
	json_t *m = NULL, *decls;
	int r;

	if (access(path, X_OK) != 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_PERM,
		    "%s: %s", path, strerror(errno));
	json_object_set_new(o, "reduce", json_false());
	json_object_set_new(o, "params", json_null());
	snprintf(mpath, sizeof(mpath), "%s.params.json", path);
	if ((r = coffer_file_read(mpath, MANIFEST_MAX, &b)) != 0) {
		coffer_buf_release(&b);
		coffer_errclear();
		return r == COFFER_E_NOTFOUND ? 0 : coffer_errf(r, "%s", mpath);
	}
	r = coffer_json_parse(coffer_buf_str(&b), b.len, MANIFEST_MAX, 8, &m);
	coffer_buf_release(&b);
	if (r != 0)
		return coffer_errctx(r, "%s", mpath);
	decls = json_object_get(m, "params");
	if (json_is_string(json_object_get(m, "name")))
		json_object_set(o, "name", json_object_get(m, "name"));
	if (json_is_string(json_object_get(m, "version")))
		json_object_set(o, "version", json_object_get(m, "version"));
	if ((r = coffer_app_decls_check(decls)) != 0) {
		json_decref(m);
		return coffer_errctx(r, "%s", mpath);
	}
	json_object_set(o, "params", decls);
	json_decref(m);
	return 0;
}

int
worker_describe_app(const struct worker_config *cfg)
{
	json_t *o = json_object();
	char *text;
	int r;

	if (o == NULL)
		return 1;
	json_object_set_new(o, "kind", json_string(cfg->app_kind == APP_KIND_PLUGIN ?
	    "plugin" : "exec"));
	r = cfg->app_kind == APP_KIND_PLUGIN ? describe_plugin(cfg->app, o) :
	    describe_exec(cfg->app, o);
	if (r != 0) {
		json_decref(o);
		fprintf(stderr, "coffer-worker: app: %s: %s\n", coffer_strerror(r),
		    coffer_errdetail());
		return 1;
	}
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		return 1;
	puts(text);
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}
