// SPDX-License-Identifier: Apache-2.0
// CPU of reading an approved policy (doc/format/policy.md 4.1) by its
// number of objects: the one-pass reader every worker start and every
// confidential submission runs, against the jansson tree reader it
// replaced and the full parse (P1 to P17), measured in one process, in
// turn. Usage: policy_read VECTORS_POLICY_JSON [N ...] (run by
// bench/policyread.sh).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "coffer/error.h"
#include "crypto/jcs.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/json.h"
#include "proto/policy.h"

#define RUNS 15

static double
cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum what { ONE_PASS, TREE, FULL };

/* Median CPU ms of RUNS reads of text for app. */
static double
median(enum what w, const char *text, size_t len, const uint8_t h[32],
    const char *app)
{
	double v[RUNS];

	for (int i = 0; i < RUNS; i++) {
		struct coffer_policy *p = NULL;
		double t0 = cpu_ms();
		int r = w == ONE_PASS ?
		    coffer_policy_read_approved(text, len, h, app, &p) :
		    w == TREE ?
		    coffer_policy_read_approved_tree(text, len, h, app, &p) :
		    coffer_policy_parse(text, len, &p);

		v[i] = cpu_ms() - t0;
		if (r != 0) {
			fprintf(stderr, "policy_read: %s\n", coffer_errdetail());
			exit(1);
		}
		coffer_policy_free(p);
	}
	qsort(v, RUNS, sizeof(v[0]), cmp_double);
	return v[RUNS / 2];
}

int
main(int argc, char **argv)
{
	struct coffer_buf file = COFFER_BUF_INIT((size_t)4 << 20);
	json_t *doc = NULL;

	if (argc < 3) {
		fprintf(stderr, "usage: policy_read POLICY_JSON N...\n");
		return 2;
	}
	if (coffer_file_read(argv[1], file.max, &file) != 0 ||
	    coffer_json_parse(coffer_buf_str(&file), file.len, file.max, 32,
	    &doc) != 0) {
		fprintf(stderr, "policy_read: %s: %s\n", argv[1], coffer_errdetail());
		return 1;
	}
	printf("| objects | canonical text (KB) | tree reader (ms) | one-pass reader "
	    "(ms) | tree / one-pass | full parse P1-P17 (ms) |\n");
	printf("|---:|---:|---:|---:|---:|---:|\n");
	for (int a = 2; a < argc; a++) {
		long n = strtol(argv[a], NULL, 10);
		const char *jcs = json_string_value(json_object_get(json_object_get(doc,
		    "policy"), "jcs"));
		json_t *root = jcs ? json_loads(jcs, 0, NULL) : NULL, *objs;
		struct coffer_buf t = COFFER_BUF_INIT((size_t)2 << 20);
		uint8_t h[32];
		double tree, one, full;

		if (root == NULL || n < 1 || n > 9992) {
			fprintf(stderr, "policy_read: N from 1 to 9992\n");
			return 2;
		}
		/* owners[0].datasets[1] is a-dicom, the app dicom-deid's. */
		objs = json_object_get(json_array_get(json_object_get(json_array_get(
		    json_object_get(root, "owners"), 0), "datasets"), 1), "objects");
		json_array_clear(objs);
		for (long i = 0; i < n; i++) {
			char key[64], dg[72];

			/* Keys as coffer seal names them; shorter above 5000
			 * objects, to stay under 1 MiB. */
			if (n <= 5000)
				snprintf(key, sizeof(key), "a/dicom-0/%05ld-CT_small.dcm", i);
			else
				snprintf(key, sizeof(key), "d/%05ld", i);
			snprintf(dg, sizeof(dg), "sha256:%064lx", i * 2654435761UL);
			json_array_append_new(objs, json_pack("{s:s, s:s}", "key", key,
			    "digest", dg));
		}
		if (coffer_jcs_put(root, &t) != 0 ||
		    coffer_policy_hash_text(coffer_buf_str(&t), t.len, h) != 0) {
			fprintf(stderr, "policy_read: %s\n", coffer_errdetail());
			return 1;
		}
		tree = median(TREE, coffer_buf_str(&t), t.len, h, "dicom-deid");
		one = median(ONE_PASS, coffer_buf_str(&t), t.len, h, "dicom-deid");
		full = median(FULL, coffer_buf_str(&t), t.len, h, "dicom-deid");
		printf("| %ld | %zu | %.2f | %.2f | %.1f | %.2f |\n", n, t.len / 1000,
		    tree, one, one > 0 ? tree / one : 0.0, full);
		json_decref(root);
		coffer_buf_release(&t);
	}
	json_decref(doc);
	coffer_buf_release(&file);
	return 0;
}
