// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the whole of dicom-deid (parser, profile, writer) on
// any bytes, with every option on. Whatever it accepts, it must write a
// file that its own reader accepts again, and the second pass must succeed
// too (the writer never emits what the reader refuses).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/app.h"
#include "deid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	struct coffer_app_writer w;
	uint8_t *p;
	size_t n;
};

static int
sink_write(struct coffer_app_writer *w, const void *p, size_t n)
{
	struct sink *s = (struct sink *)w;
	uint8_t *np;

	if (s->n + n > (8u << 20))
		return -10; /* COFFER_E_LIMIT */
	if ((np = realloc(s->p, s->n + n + 1)) == NULL)
		return -2;
	memcpy(np + s->n, p, n);
	s->p = np;
	s->n += n;
	return 0;
}

/* second: the limits for reading our own output (a few elements more). */
static struct deid_config *
config(int second)
{
	static struct deid_config c[2];
	static int done;
	static struct coffer_app_param p[] = {
		{ "coffer.app_secret", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" },
		{ "burned_in_annotation", "accept" },
		{ "retain_dates", "modified" },
		{ "clean_descriptors", "yes" },
		{ "clean_structured_content", "yes" },
		{ "clean_graphics", "yes" },
		{ "retain_safe_private", "0009,xx=GEMS_IDEN_01;0019,10=X" },
		{ "max_depth", "16" },
		{ "max_elements", "20000" },
		{ "max_inflate_bytes", "1048576" },
	};
	char err[512];
	size_t n = sizeof(p) / sizeof(p[0]);

	if (!done) {
		if (deid_config_init(&c[0], p, n, err, sizeof(err)) != 0)
			abort();
		p[n - 2].value = "100000";
		p[n - 1].value = "16777216";
		if (deid_config_init(&c[1], p, n, err, sizeof(err)) != 0)
			abort();
		done = 1;
	}
	return &c[second];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink a = { { sink_write, NULL }, NULL, 0 }, b = { { sink_write, NULL }, NULL, 0 };
	char err[512];

	if (deid_process(config(0), data, size, &a.w, err, sizeof(err)) == 0 &&
	    deid_process(config(1), a.p, a.n, &b.w, err, sizeof(err)) != 0 &&
	    strstr(err, "refused") == NULL)
		abort(); /* our own output did not parse */
	free(a.p);
	free(b.p);
	return 0;
}
