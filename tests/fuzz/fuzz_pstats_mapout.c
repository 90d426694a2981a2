// SPDX-License-Identifier: Apache-2.0
// Fuzz pooled-stats' reader of map outputs (apps/pooled-stats/mapfmt.c,
// reject rules M1-M8 of doc/apps/pooled-stats.md section 5.2) and the
// reduce stage behind it: any bytes, as a map output of the schema below.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/app.h"
#include "coffer/error.h"

const struct coffer_app *coffer_app_entry_v1(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
out_write(struct coffer_app_writer *w, const void *p, size_t n)
{
	(void)w;
	(void)p;
	(void)n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct coffer_app *a = coffer_app_entry_v1();
	static const struct coffer_app_param params[] = {
		{ "schema", "a:int[-5,5];b:cat{p,q};c:num" },
		{ "target", "b" }, { "positive", "q" }, { "min_owners", "1" },
		{ "min_rows_per_owner", "1" }, { "min_cell_count", "1" },
		{ "max_rows", "100000" }, { "max_iter", "20" },
	};
	struct coffer_app_writer w = { out_write, NULL };
	void *st = NULL;
	char err[1024];

	if (a->init(params, sizeof(params) / sizeof(params[0]), &st, err,
	    sizeof(err)) != 0)
		abort();
	if (a->reduce_add(st, "x", data, size, err, sizeof(err)) == 0)
		(void)a->reduce_finish(st, &w, err, sizeof(err));
	a->fini(st);
	return 0;
}
