// SPDX-License-Identifier: Apache-2.0
// Test and benchmark tool: run an app plugin's stages in this process,
// without Redis or workers, through the ABI a worker uses
// (include/coffer/app.h): init with the parameters, process() per file
// (item id = the file's base name, owner from --owner as the worker's
// owner map gives it), then the reduce stage over the map outputs in
// ascending item-id order, its result on stdout. Lets tests try many
// inputs quickly; `coffer run` tests cover the real worker path.
//   apprun --app X.so [--param K=V]... [--owner PREFIX=NAME]...
//          [--map-only DIR] [--reduce-only] [--repeat N] [--time] FILE...
// --map-only DIR: write each map output to DIR/<item id>, no reduce.
// --reduce-only: the FILEs are map outputs: reduce them.
// --repeat N: run the map N times over the files (the last outputs are
// kept), for benchmarks. --time: print "map: R rows/s ..." (R from the
// app-neutral count of input lines) and "reduce: S s" (reduce_finish) to
// stderr, in CPU time.
// Exit 0, or 1 with "apprun: <stage> '<item>': <app's message>" on stderr.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/file.h"

#define MAX_LIST 256

struct out {
	struct coffer_app_writer w; /* first */
	struct coffer_buf b;
};

static int
out_write(struct coffer_app_writer *w, const void *p, size_t n)
{
	struct out *o = (struct out *)w;

	return coffer_buf_put(&o->b, p, n) == 0 ? 0 : COFFER_E_LIMIT;
}

struct item {
	const char *path, *id, *owner;
	struct coffer_buf in;
	struct out out;
};

static int
cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->id, ((const struct item *)b)->id);
}

/* CPU time of this (single-threaded) process: what other load on the
 * machine does not change. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
usage(void)
{
	fprintf(stderr, "usage: apprun --app X.so [--param K=V]... [--owner"
	    " PREFIX=NAME]... [--map-only DIR] [--reduce-only] [--repeat N]"
	    " [--time] FILE...\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct coffer_app_param params[MAX_LIST];
	const char *owners[MAX_LIST], *app_path = NULL, *map_dir = NULL;
	struct item *items;
	size_t np = 0, no = 0, ni = 0;
	int reduce_only = 0, repeat = 1, timing = 0, r, rc = 0;
	const struct coffer_app *app;
	coffer_app_entry_fn entry;
	void *dl, *state = NULL;
	char err[1024] = "";
	double t0, secs;
	size_t lines = 0;

	if ((items = calloc((size_t)argc, sizeof(*items))) == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--app") == 0 && v) {
			app_path = v;
			i++;
		} else if (strcmp(a, "--param") == 0 && v && strchr(v, '=') && np < MAX_LIST) {
			char *k = strdup(v);

			if (k == NULL)
				return 1;
			*strchr(k, '=') = '\0';
			params[np].key = k;
			params[np++].value = k + strlen(k) + 1;
			i++;
		} else if (strcmp(a, "--owner") == 0 && v && strchr(v, '=') && no < MAX_LIST) {
			owners[no++] = v;
			i++;
		} else if (strcmp(a, "--map-only") == 0 && v) {
			map_dir = v;
			i++;
		} else if (strcmp(a, "--reduce-only") == 0) {
			reduce_only = 1;
		} else if (strcmp(a, "--time") == 0) {
			timing = 1;
		} else if (strcmp(a, "--repeat") == 0 && v) {
			repeat = (int)strtol(v, NULL, 10);
			if (repeat < 1 || repeat > 1000000)
				return usage();
			i++;
		} else if (a[0] == '-') {
			return usage();
		} else {
			const char *slash = strrchr(a, '/');

			items[ni].path = a;
			items[ni].id = slash ? slash + 1 : a;
			ni++;
		}
	}
	if (app_path == NULL || ni == 0)
		return usage();
	if ((dl = dlopen(app_path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "apprun: %s\n", dlerror());
		return 1;
	}
	*(void **)&entry = dlsym(dl, COFFER_APP_ENTRY_SYMBOL);
	if (entry == NULL || (app = entry()) == NULL ||
	    app->abi_version != COFFER_APP_ABI_VERSION) {
		fprintf(stderr, "apprun: %s is not an app plugin of ABI version %u\n",
		    app_path, COFFER_APP_ABI_VERSION);
		return 1;
	}
	if (app->init != NULL &&
	    (r = app->init(params, np, &state, err, sizeof(err))) != 0) {
		fprintf(stderr, "apprun: init: %s\n", err);
		rc = 1;
		goto release;
	}
	for (size_t i = 0; i < ni; i++) {
		size_t best = 0;

		coffer_buf_init(&items[i].in, (size_t)1 << 34);
		coffer_buf_init(&items[i].out.b, (size_t)1 << 34);
		items[i].out.w.write = out_write;
		if ((r = coffer_file_read(items[i].path, (size_t)1 << 34,
		    &items[i].in)) != 0) {
			fprintf(stderr, "apprun: %s: %s\n", items[i].path, coffer_errdetail());
			goto fail;
		}
		for (size_t k = 0; k < items[i].in.len; k++)
			lines += items[i].in.data[k] == '\n';
		for (size_t k = 0; k < no; k++) {
			size_t pn = (size_t)(strchr(owners[k], '=') - owners[k]);

			if (strncmp(items[i].id, owners[k], pn) == 0 &&
			    (items[i].owner == NULL || pn > best)) {
				items[i].owner = owners[k] + pn + 1;
				best = pn;
			}
		}
	}
	qsort(items, ni, sizeof(*items), cmp_item);
	if (!reduce_only) {
		t0 = now_s();
		for (int rep = 0; rep < repeat; rep++)
			for (size_t i = 0; i < ni; i++) {
				struct coffer_app_item it = { sizeof(it), items[i].id, 1,
				    items[i].owner };

				coffer_buf_reset(&items[i].out.b);
				if ((r = app->process(state, &it, items[i].in.data ?
				    items[i].in.data : (const uint8_t *)"", items[i].in.len,
				    &items[i].out.w, err, sizeof(err))) != 0) {
					fprintf(stderr, "apprun: map '%s': %s\n", items[i].id, err);
					goto fail;
				}
			}
		secs = now_s() - t0;
		if (timing)
			fprintf(stderr, "map: %.0f rows/s (%zu lines x %d in %.3f s CPU)\n",
			    (double)lines * repeat / secs, lines, repeat, secs);
	}
	if (map_dir != NULL) {
		for (size_t i = 0; i < ni; i++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", map_dir, items[i].id);
			if (coffer_file_write_atomic(path, items[i].out.b.data,
			    items[i].out.b.len, 0600, 0) != 0) {
				fprintf(stderr, "apprun: %s: %s\n", path, coffer_errdetail());
				goto fail;
			}
		}
		goto out;
	}
	if (app->reduce_add == NULL) {
		fprintf(stderr, "apprun: the app has no reduce stage\n");
		goto fail;
	}
	for (size_t i = 0; i < ni; i++) {
		const struct coffer_buf *b = reduce_only ? &items[i].in : &items[i].out.b;

		if ((r = app->reduce_add(state, items[i].id, b->data ? b->data :
		    (const uint8_t *)"", b->len, err, sizeof(err))) != 0) {
			fprintf(stderr, "apprun: reduce '%s': %s\n", items[i].id, err);
			goto fail;
		}
	}
	{
		struct out o = { { out_write, NULL }, COFFER_BUF_INIT((size_t)1 << 34) };

		t0 = now_s();
		if ((r = app->reduce_finish(state, &o.w, err, sizeof(err))) != 0) {
			fprintf(stderr, "apprun: reduce: %s\n", err);
			coffer_buf_release(&o.b);
			goto fail;
		}
		if (timing)
			fprintf(stderr, "reduce: %.6f s\n", now_s() - t0);
		fwrite(o.b.data ? (const char *)o.b.data : "", 1, o.b.len, stdout);
		coffer_buf_release(&o.b);
	}
	goto out;
fail:
	rc = 1;
out:
	/* Also after a failure, so that a sanitizer's leak report never
	 * mixes into the error a test reads. */
	if (app->fini != NULL)
		app->fini(state);
release:
	for (size_t i = 0; i < ni; i++) {
		coffer_buf_release(&items[i].in);
		coffer_buf_release(&items[i].out.b);
	}
	for (size_t i = 0; i < np; i++)
		free((char *)params[i].key);
	free(items);
	return rc;
}
