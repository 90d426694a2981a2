/* SPDX-License-Identifier: Apache-2.0 */
/* Loading Wycheproof and RFC JSON test vectors from tests/vectors/ for the
 * unit tests, and counting what ran so each file can report it. */
#ifndef COFFER_TESTS_VECTORS_H
#define COFFER_TESTS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/buf.h"

/*
 * Load tests/vectors/<rel> (found under $COFFER_SRC when set, else under
 * the current directory or its parents). On success *out is a new
 * reference. Errors: COFFER_E_NOTFOUND, COFFER_E_FORMAT (the detail names
 * the file, line and column).
 */
int vec_load(const char *rel, json_t **out) __attribute__((warn_unused_result));

/* The path of tests/vectors/<rel> into out (found as vec_load does);
 * COFFER_E_NOTFOUND if it is not there. */
int vec_path(const char *rel, char *out, size_t outlen)
	__attribute__((warn_unused_result));

/*
 * Decode the hex string member `field` of obj into b (appended; b is reset
 * first). COFFER_E_FORMAT if missing or not hex.
 */
int vec_hex(const json_t *obj, const char *field, struct coffer_buf *b)
	__attribute__((warn_unused_result));

/* Decode the hex member into a fixed array; exactly n bytes must result. */
int vec_hex_exact(const json_t *obj, const char *field, uint8_t *out, size_t n)
	__attribute__((warn_unused_result));

/* The string member `field`, or "" if absent. */
const char *vec_str(const json_t *obj, const char *field);
/* The integer member `field`, or -1 if absent or not an integer. */
long long vec_int(const json_t *obj, const char *field);
/* 1 if a Wycheproof test has `flag` in its "flags" array. */
int vec_has_flag(const json_t *test, const char *flag);

/*
 * A tally of one vector file: every test is counted exactly once as run or
 * skipped (with a reason), and mismatches are recorded so that one report
 * lists all of them. vec_report prints TAP diagnostic lines ("# ...") and
 * returns the number of failures.
 */
#define VEC_MAX_REASONS 8
struct vec_tally {
	const char *file;
	size_t total;      /* tests seen */
	size_t ran;        /* tests checked */
	size_t failed;     /* checked and wrong */
	size_t skipped;    /* not applicable */
	struct { const char *why; size_t n; } reasons[VEC_MAX_REASONS];
};

void vec_tally_init(struct vec_tally *t, const char *file);
void vec_ran(struct vec_tally *t);
void vec_skip(struct vec_tally *t, const char *why);
/* Count a failure and print "# FAIL <file> <id>: <msg>". */
void vec_fail(struct vec_tally *t, long long id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t vec_report(const struct vec_tally *t);

#endif
