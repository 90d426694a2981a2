/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the fuzz targets of src/proto (fuzz_policy, fuzz_statement,
 * fuzz_auditlog, fuzz_itemproof, fuzz_keyrelease, fuzz_receipt): the
 * vector world of tests/vectors/proto/ (its policy, its coordinator's
 * keys), so that seeds made from the vectors reach past the signature and
 * MAC checks. tests/fuzz/run starts targets from the repository root. */
#ifndef COFFER_FUZZ_PROTO_H
#define COFFER_FUZZ_PROTO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/sign.h"
#include "proto/policy.h"

/* gen.py's seed(name): SHA-256("coffer-test-vector/" || name || 0x00). */
static void __attribute__((unused))
fz_seed(const char *name, uint8_t out[32])
{
	char m[128];
	int n = snprintf(m, sizeof(m), "coffer-test-vector/%s", name);

	m[n] = 0;
	if (coffer_sha256(m, (size_t)n + 1, out) != 0)
		abort();
}

/* A vector file, or abort: the fuzzers are useless without it. */
static json_t * __attribute__((unused))
fz_load(const char *file)
{
	char path[256];
	json_t *v;

	snprintf(path, sizeof(path), "tests/vectors/proto/%s", file);
	if ((v = json_load_file(path, 0, NULL)) == NULL) {
		fprintf(stderr, "cannot load %s (run from the repository root)\n", path);
		abort();
	}
	return v;
}

/* The vector policy. */
static struct coffer_policy * __attribute__((unused))
fz_policy(void)
{
	json_t *doc = fz_load("policy.json");
	const char *t = json_string_value(json_object_get(json_object_get(doc,
	    "policy"), "text"));
	struct coffer_policy *p = NULL;

	if (t == NULL || coffer_policy_parse(t, strlen(t), &p) != 0)
		abort();
	json_decref(doc);
	return p;
}

#endif
