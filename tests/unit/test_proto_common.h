/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the test_proto_* unit tests: loading the vectors of
 * tests/vectors/proto/ (made by gen.py, independently of this code),
 * mapping their error names to Coffer's codes, and rebuilding the
 * vectors' identities. Included by each test file (static functions). */
#ifndef COFFER_TEST_PROTO_COMMON_H
#define COFFER_TEST_PROTO_COMMON_H

#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/identity.h"
#include "crypto/sign.h"
#include "lib/enc.h"
#include "../support/vectors.h"

/* The Coffer error a vector's "error" name stands for. */
static int __attribute__((unused))
tp_err(const char *name)
{
	static const struct { const char *n; int e; } map[] = {
		{ "format", COFFER_E_FORMAT }, { "version", COFFER_E_VERSION },
		{ "limit", COFFER_E_LIMIT }, { "truncated", COFFER_E_TRUNCATED },
		{ "policy", COFFER_E_POLICY }, { "untrusted", COFFER_E_UNTRUSTED },
		{ "signature", COFFER_E_SIGNATURE }, { "expired", COFFER_E_EXPIRED },
		{ "auth", COFFER_E_AUTH }, { "wrong_key", COFFER_E_WRONG_KEY },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].n, name) == 0)
			return map[i].e;
	fail_msg("unknown error name in a vector: %s", name);
	return 0;
}

/* Decode a hex string of exactly n bytes (a test failure otherwise). */
static void __attribute__((unused))
tp_unhex(const char *s, uint8_t *out, size_t n)
{
	size_t got = 0;

	assert_non_null(s);
	assert_int_equal(coffer_hex_decode(s, strlen(s), out, n, &got), 0);
	assert_int_equal(got, n);
}

static void __attribute__((unused))
tp_hexmember(const json_t *o, const char *k, uint8_t *out, size_t n)
{
	tp_unhex(json_string_value(json_object_get(o, k)), out, n);
}

static const char *
tp_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	assert_non_null(s);
	return s;
}

/* An identity from the vectors' {"ed25519_seed", "x25519_secret", "name"}. */
static void __attribute__((unused))
tp_identity(const json_t *o, struct coffer_identity *id)
{
	memset(id, 0, sizeof(*id));
	tp_hexmember(o, "ed25519_seed", id->sign_sk, 32);
	tp_hexmember(o, "x25519_secret", id->kx_sk, 32);
	assert_int_equal(coffer_sign_public(id->sign_sk, id->pub.sign_pk), 0);
	assert_int_equal(coffer_dh_public(id->kx_sk, id->pub.kx_pk), 0);
	snprintf(id->pub.name, sizeof(id->pub.name), "%s", tp_str(o, "name"));
}

static json_t * __attribute__((unused))
tp_load(const char *file)
{
	json_t *doc = NULL;
	char rel[128];

	snprintf(rel, sizeof(rel), "proto/%s", file);
	if (vec_load(rel, &doc) != 0)
		fail_msg("%s", coffer_errdetail());
	return doc;
}

/* Check that r is the error the vector names, with a message that says
 * which vector it was. */
#define tp_expect(r, want, what) do { \
	int r_ = (r), w_ = (want); \
	if (r_ != w_) \
		fail_msg("%s: returned %d (%s: %s), want %d (%s)", (what), r_, \
		    coffer_strerror(r_), coffer_errdetail(), w_, coffer_strerror(w_)); \
} while (0)

#endif
