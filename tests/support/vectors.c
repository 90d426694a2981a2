// SPDX-License-Identifier: Apache-2.0
// Test vector loading and tallies (tests/support/vectors.h). Shared by the
// unit tests that run Wycheproof and RFC vectors.
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "vectors.h"

static int
find_path(const char *rel, char *out, size_t outlen)
{
	const char *src = getenv("COFFER_SRC");
	char prefix[PATH_MAX] = "";

	if (src != NULL && src[0] != '\0') {
		snprintf(out, outlen, "%s/tests/vectors/%s", src, rel);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	/* Run by hand from the tree or from a build directory below it. */
	for (int up = 0; up < 4; up++) {
		snprintf(out, outlen, "%stests/vectors/%s", prefix, rel);
		if (access(out, R_OK) == 0)
			return 0;
		snprintf(prefix + strlen(prefix), sizeof(prefix) - strlen(prefix),
		    "../");
	}
	return -1;
}

int
vec_path(const char *rel, char *out, size_t outlen)
{
	if (find_path(rel, out, outlen) != 0)
		return coffer_errf(COFFER_E_NOTFOUND,
		    "test vectors tests/vectors/%s not found (set COFFER_SRC)", rel);
	return 0;
}

int
vec_load(const char *rel, json_t **out)
{
	char path[PATH_MAX];
	json_error_t e;
	json_t *v;
	int r;

	if ((r = vec_path(rel, path, sizeof(path))) != 0)
		return r;
	if ((v = json_load_file(path, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return coffer_errf(COFFER_E_FORMAT, "%s: line %d column %d: %s",
		    path, e.line, e.column, e.text);
	*out = v;
	return 0;
}

int
vec_hex(const json_t *obj, const char *field, struct coffer_buf *b)
{
	json_t *v = json_object_get(obj, field);

	coffer_buf_reset(b);
	if (!json_is_string(v))
		return coffer_errf(COFFER_E_FORMAT, "vector field %s: missing", field);
	return coffer_hex_decode_buf(json_string_value(v), json_string_length(v),
	    b);
}

int
vec_hex_exact(const json_t *obj, const char *field, uint8_t *out, size_t n)
{
	json_t *v = json_object_get(obj, field);
	size_t got;
	int r;

	if (!json_is_string(v))
		return coffer_errf(COFFER_E_FORMAT, "vector field %s: missing", field);
	if (json_string_length(v) != 2 * n)
		return coffer_errf(COFFER_E_FORMAT, "vector field %s: %zu hex digits, "
		    "want %zu", field, json_string_length(v), 2 * n);
	if ((r = coffer_hex_decode(json_string_value(v), 2 * n, out, n, &got)) != 0)
		return r;
	return 0;
}

const char *
vec_str(const json_t *obj, const char *field)
{
	const char *s = json_string_value(json_object_get(obj, field));

	return s != NULL ? s : "";
}

long long
vec_int(const json_t *obj, const char *field)
{
	json_t *v = json_object_get(obj, field);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

int
vec_has_flag(const json_t *test, const char *flag)
{
	json_t *flags = json_object_get(test, "flags"), *f;
	size_t i;

	json_array_foreach(flags, i, f) {
		if (json_is_string(f) && strcmp(json_string_value(f), flag) == 0)
			return 1;
	}
	return 0;
}

void
vec_tally_init(struct vec_tally *t, const char *file)
{
	memset(t, 0, sizeof(*t));
	t->file = file;
}

void
vec_ran(struct vec_tally *t)
{
	t->total++;
	t->ran++;
}

void
vec_skip(struct vec_tally *t, const char *why)
{
	int i;

	t->total++;
	t->skipped++;
	for (i = 0; i < VEC_MAX_REASONS && t->reasons[i].why != NULL; i++) {
		if (strcmp(t->reasons[i].why, why) == 0) {
			t->reasons[i].n++;
			return;
		}
	}
	if (i < VEC_MAX_REASONS) {
		t->reasons[i].why = why;
		t->reasons[i].n = 1;
	}
}

void
vec_fail(struct vec_tally *t, long long id, const char *fmt, ...)
{
	va_list ap;

	t->failed++;
	printf("# FAIL %s test %lld: ", t->file, id);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

size_t
vec_report(const struct vec_tally *t)
{
	printf("# vectors %s: %zu tests, %zu ran, %zu failed, %zu skipped\n",
	    t->file, t->total, t->ran, t->failed, t->skipped);
	for (int i = 0; i < VEC_MAX_REASONS && t->reasons[i].why != NULL; i++)
		printf("#   skipped %zu: %s\n", t->reasons[i].n, t->reasons[i].why);
	fflush(stdout);
	return t->failed;
}
