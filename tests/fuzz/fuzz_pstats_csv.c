// SPDX-License-Identifier: Apache-2.0
// Fuzz pooled-stats' map stage (apps/pooled-stats/map.c: the CSV reader
// and the cell checks of doc/apps/pooled-stats.md section 4) through the
// app's own entry point. The first byte picks the dialect. Invariant
// beyond "no crash": a file the map accepts gives an output the reduce
// stage accepts (section 5.2), and the reduce either releases a result or
// refuses with a named error.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/app.h"
#include "coffer/error.h"

const struct coffer_app *coffer_app_entry_v1(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	struct coffer_app_writer w;
	uint8_t *p;
	size_t len;
};

static int
out_write(struct coffer_app_writer *w, const void *p, size_t n)
{
	struct out *o = (struct out *)w;
	uint8_t *q;

	if (o->len + n > ((size_t)1 << 24))
		return COFFER_E_LIMIT;
	if ((q = realloc(o->p, o->len + n + 1)) == NULL)
		return COFFER_E_NOMEM;
	o->p = q;
	memcpy(o->p + o->len, p, n);
	o->len += n;
	return 0;
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "%s: %s\n", what, err);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct coffer_app *a = coffer_app_entry_v1();
	struct coffer_app_param params[] = {
		{ "schema", "id:skip; age:int[0,120]; sex:cat{F,M,x y}; bmi:num[10,];"
		    " score:num; y:cat{no,yes}" },
		{ "target", "y" }, { "positive", "yes" }, { "features", "age,sex,bmi,score" },
		{ "min_owners", "1" }, { "min_rows_per_owner", "1" },
		{ "min_cell_count", "1" }, { "minmax_min_n", "3" },
		{ "minmax_small", "coarsen" }, { "missing", "drop" },
		{ "header", "yes" }, { "delimiter", "comma" }, { "max_iter", "20" },
	};
	struct coffer_app_item item = { sizeof(item), "fuzz.csv", 1, "owner" };
	struct out o = { { out_write, NULL }, NULL, 0 };
	struct out res = { { out_write, NULL }, NULL, 0 };
	void *st = NULL;
	char err[1024];
	int r;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		params[10].value = "no";
	if (data[0] & 2)
		params[11].value = data[0] & 4 ? "tab" : "semicolon";
	if (a->init(params, sizeof(params) / sizeof(params[0]), &st, err,
	    sizeof(err)) != 0)
		die("init", err);
	r = a->process(st, &item, data + 1, size - 1, &o.w, err, sizeof(err));
	if (r == 0) {
		if (a->reduce_add(st, "fuzz.csv", o.p, o.len, err, sizeof(err)) != 0)
			die("the reduce refused what the map wrote", err);
		r = a->reduce_finish(st, &res.w, err, sizeof(err));
		if (r != 0 && r != COFFER_E_POLICY && r != COFFER_E_INVAL)
			die("reduce_finish", err);
	}
	a->fini(st);
	free(o.p);
	free(res.p);
	return 0;
}
