// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: dicom-deid's Part 10 reader and walker
// (apps/dicom-deid/read.c) on any bytes, with small limits so that deep
// nesting, many elements and deflate bombs are reached. Every element the
// walker hands out must lie inside the data set.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dicom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct bounds {
	const uint8_t *lo, *hi;
};

static int
on_element(void *arg, const struct dcm_el *e)
{
	const struct bounds *b = arg;

	if (e->val != NULL && (e->val < b->lo || e->val + e->len > b->hi))
		abort();
	if (e->encapsulated && (e->raw < b->lo || e->raw + e->rawlen > b->hi))
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dcm_limits lim = { 16, 20000, 1 << 20 };
	struct dcm_file f;
	struct dcm_err err;
	struct bounds b;
	struct dcm_visitor v = { on_element, NULL, NULL, NULL, NULL, &b };

	if (dcm_open(data, size, &lim, &f, &err) == 0) {
		b.lo = f.ds;
		b.hi = f.ds + f.dslen;
		(void)dcm_walk(&f, &lim, &v, &err);
	}
	dcm_file_release(&f);
	return 0;
}
