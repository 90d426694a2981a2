/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the attestation unit tests (test_tee_*.c): reading the
 * evidence vectors of tests/vectors/attestation, times, hex comparison,
 * collateral sets. Included after <cmocka.h>; static, one copy per test. */
#ifndef COFFER_TEST_TEE_COMMON_H
#define COFFER_TEST_TEE_COMMON_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"

#define ATT "attestation/"

static inline void
tt_path(const char *rel, char *out, size_t outlen)
{
	const char *src = getenv("COFFER_SRC");
	char prefix[PATH_MAX] = "";

	if (src != NULL && src[0] != '\0') {
		snprintf(out, outlen, "%s/tests/vectors/%s", src, rel);
		return;
	}
	for (int up = 0; up < 4; up++) {
		snprintf(out, outlen, "%stests/vectors/%s", prefix, rel);
		if (access(out, R_OK) == 0)
			return;
		snprintf(prefix + strlen(prefix), sizeof(prefix) - strlen(prefix), "../");
	}
}

/* Read a vector file into b (reset first); fails the test if absent. */
static inline void
tt_read(const char *rel, struct coffer_buf *b)
{
	char path[PATH_MAX];

	tt_path(rel, path, sizeof(path));
	coffer_buf_reset(b);
	if (coffer_file_read(path, b->max, b) != 0)
		fail_msg("cannot read %s: %s", path, coffer_errdetail());
}

static inline int64_t
tt_time(const char *s)
{
	int64_t t = 0;

	if (coffer_time_parse(s, &t) != 0)
		fail_msg("bad time %s", s);
	return t;
}

/* Compare n bytes with a hex string. */
#define tt_hex_eq(p, n, hex) do { \
	char h_[2 * 256 + 1]; \
	assert_true((n) <= 256); \
	coffer_hex_encode((p), (n), h_); \
	assert_string_equal(h_, (hex)); \
} while (0)

/* A collateral set from files or directories under tests/vectors (NULL
 * terminated); fails the test if any does not load. */
static inline struct coffer_tee_collateral *
tt_coll(const struct coffer_tee_anchors *a, const char *const *rels)
{
	struct coffer_tee_collateral *c = NULL;
	char path[PATH_MAX];

	if (coffer_tee_collateral_new(a, &c) != 0)
		fail_msg("collateral_new: %s", coffer_errdetail());
	for (; rels != NULL && *rels != NULL; rels++) {
		tt_path(*rels, path, sizeof(path));
		if (coffer_tee_collateral_add_path(c, path) != 0)
			fail_msg("collateral %s: %s", *rels, coffer_errdetail());
	}
	return c;
}

/* Verify the vector rel with collateral files coll (NULL: none) at time
 * at; *rc gets the return value. Claims are returned (NULL only when the
 * evidence did not parse). */
static inline struct coffer_tee_claims *
tt_verify(const struct coffer_tee_anchors *a, const char *rel,
    const char *const *coll, const char *at, const struct coffer_tee_verify_opts *o,
    int *rc)
{
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)8 << 20);
	struct coffer_tee_collateral *c = coll != NULL ? tt_coll(a, coll) : NULL;
	struct coffer_tee_claims *claims = NULL;

	tt_read(rel, &ev);
	*rc = coffer_tee_verify(ev.data, ev.len, a, c, tt_time(at), o, &claims);
	coffer_tee_collateral_free(c);
	coffer_buf_release(&ev);
	return claims;
}

/* Print the reasons (TAP comments) to explain a failing assertion. */
static inline void
tt_dump(const struct coffer_tee_claims *c)
{
	for (size_t i = 0; c != NULL && i < c->n_reasons; i++)
		printf("# %s %s: %s\n", c->reasons[i].fatal ? "reject" : "note",
		    c->reasons[i].code, c->reasons[i].text);
}

/* Only these codes are fatal (space-separated list, "" for none). */
static inline int
tt_fatal_are(const struct coffer_tee_claims *c, const char *codes)
{
	for (size_t i = 0; i < c->n_reasons; i++) {
		char pat[64];

		if (!c->reasons[i].fatal)
			continue;
		snprintf(pat, sizeof(pat), "%s", c->reasons[i].code);
		if (strstr(codes, pat) == NULL) {
			tt_dump(c);
			return 0;
		}
	}
	return 1;
}

#endif
