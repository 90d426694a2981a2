// SPDX-License-Identifier: Apache-2.0
// bench/dicom.sh's driver: loads the dicom-deid plugin through the app ABI
// (as coffer-worker does) and de-identifies files to files in one process
// on one thread, like gdcmanon -i DIR -o DIR does, so that the two are
// compared on the same work: read each file, de-identify it, write it.
//   dicom_deid PLUGIN SECRET_HEX OUTDIR FILE...
// Prints "files N bytes B cpu_s C wall_s W".
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "coffer/app.h"

static int
file_write(struct coffer_app_writer *w, const void *p, size_t n)
{
	return fwrite(p, 1, n, w->opaque) == n ? 0 : -1;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	void *h;
	const struct coffer_app *app;
	coffer_app_entry_fn entry;
	struct coffer_app_param p[2] = { { "coffer.app_secret", NULL },
		{ "burned_in_annotation", "accept" } };
	void *state = NULL;
	char err[1024];
	double c0, w0;
	unsigned long long bytes = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: dicom_deid PLUGIN SECRET_HEX OUTDIR FILE...\n");
		return 2;
	}
	if ((h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (entry = (coffer_app_entry_fn)dlsym(h, COFFER_APP_ENTRY_SYMBOL)) == NULL ||
	    (app = entry()) == NULL) {
		fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
		return 1;
	}
	p[0].value = argv[2];
	if (app->init(p, 2, &state, err, sizeof(err)) != 0) {
		fprintf(stderr, "init: %s\n", err);
		return 1;
	}
	c0 = cpu_s();
	w0 = wall_s();
	for (int i = 4; i < argc; i++) {
		FILE *in = fopen(argv[i], "rb"), *out;
		const char *base = strrchr(argv[i], '/');
		char path[4096];
		struct coffer_app_item item = { sizeof(item), argv[i], 1, NULL };
		struct coffer_app_writer w = { file_write, NULL };
		unsigned char *buf;
		long n;

		if (in == NULL || fseek(in, 0, SEEK_END) != 0 || (n = ftell(in)) < 0 ||
		    fseek(in, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL ||
		    fread(buf, 1, (size_t)n, in) != (size_t)n) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			return 1;
		}
		fclose(in);
		snprintf(path, sizeof(path), "%s/%s", argv[3], base ? base + 1 : argv[i]);
		if ((out = fopen(path, "wb")) == NULL) {
			fprintf(stderr, "%s: cannot write\n", path);
			return 1;
		}
		w.opaque = out;
		if (app->process(state, &item, buf, (size_t)n, &w, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], err);
			return 1;
		}
		if (fclose(out) != 0)
			return 1;
		free(buf);
		bytes += (unsigned long long)n;
	}
	printf("files %d bytes %llu cpu_s %.4f wall_s %.4f\n", argc - 4, bytes,
	    cpu_s() - c0, wall_s() - w0);
	if (app->fini != NULL)
		app->fini(state);
	return 0;
}
