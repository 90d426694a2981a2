// SPDX-License-Identifier: Apache-2.0
// Unit tests for RFC 8785 JCS (src/crypto/jcs.c): the RFC's Appendix B
// number table and its section 3.2.2 / 3.2.3 examples, 3499 numbers checked
// against an ECMAScript engine, rejections, and property tests
// (parse(canon(x)) == x, canon idempotent) over random values.
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/jcs.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "../support/vectors.h"

static double
from_bits(unsigned long long b)
{
	double d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

/* RFC 8785 Appendix B, typed in from the RFC. */
static void
test_jcs__rfc8785_appendix_b_numbers(void **state)
{
	static const struct {
		unsigned long long bits;
		const char *text;
	} v[] = {
		{ 0x0000000000000000ULL, "0" },
		{ 0x8000000000000000ULL, "0" },
		{ 0x0000000000000001ULL, "5e-324" },
		{ 0x8000000000000001ULL, "-5e-324" },
		{ 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
		{ 0xffefffffffffffffULL, "-1.7976931348623157e+308" },
		{ 0x4340000000000000ULL, "9007199254740992" },
		{ 0xc340000000000000ULL, "-9007199254740992" },
		{ 0x4430000000000000ULL, "295147905179352830000" },
		{ 0x44b52d02c7e14af5ULL, "9.999999999999997e+22" },
		{ 0x44b52d02c7e14af6ULL, "1e+23" },
		{ 0x44b52d02c7e14af7ULL, "1.0000000000000001e+23" },
		{ 0x444b1ae4d6e2ef4eULL, "999999999999999700000" },
		{ 0x444b1ae4d6e2ef4fULL, "999999999999999900000" },
		{ 0x444b1ae4d6e2ef50ULL, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7" },
		{ 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
		{ 0x41b3de4355555553ULL, "333333333.3333332" },
		{ 0x41b3de4355555554ULL, "333333333.33333325" },
		{ 0x41b3de4355555555ULL, "333333333.3333333" },
		{ 0x41b3de4355555556ULL, "333333333.3333334" },
		{ 0x41b3de4355555557ULL, "333333333.33333343" },
		{ 0xbecbf647612f3696ULL, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959ULL, "1424953923781206.2" },
	};
	char out[COFFER_JCS_NUMBER_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(coffer_jcs_number(from_bits(v[i].bits), out), 0);
		assert_string_equal(out, v[i].text);
	}
	/* The two non-finite rows: NaN and Infinity are errors. */
	assert_int_equal(coffer_jcs_number(from_bits(0x7fffffffffffffffULL), out),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_jcs_number(from_bits(0x7ff0000000000000ULL), out),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_jcs_number(-INFINITY, out), COFFER_E_FORMAT);
	printf("# RFC 8785 Appendix B: %zu finite numbers and 2 non-finite "
	    "checked\n", sizeof(v) / sizeof(v[0]));
}

/* tests/vectors/jcs/es_numbers.txt, made with and checked against an
 * ECMAScript engine. */
static void
test_jcs__numbers_match_ecmascript(void **state)
{
	char path[4096], line[128], out[COFFER_JCS_NUMBER_MAX];
	struct vec_tally t;
	FILE *f;

	(void)state;
	assert_int_equal(vec_path("jcs/es_numbers.txt", path, sizeof(path)), 0);
	assert_non_null(f = fopen(path, "r"));
	vec_tally_init(&t, "jcs/es_numbers.txt");
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long bits;
		char want[64];

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%llx %63s", &bits, want), 2);
		vec_ran(&t);
		if (coffer_jcs_number(from_bits(bits), out) != 0)
			vec_fail(&t, (long long)t.total, "%016llx: %s", bits,
			    coffer_errdetail());
		else if (strcmp(out, want) != 0)
			vec_fail(&t, (long long)t.total, "%016llx: got %s, want %s",
			    bits, out, want);
		else if (strtod(out, NULL) != from_bits(bits) &&
		    from_bits(bits) != 0)
			vec_fail(&t, (long long)t.total, "%s does not round-trip", out);
	}
	fclose(f);
	assert_int_equal(t.total, 3499);
	assert_int_equal(vec_report(&t), 0);
}

static void
canon_eq(const char *in, const char *want)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);

	if (coffer_jcs_canonicalize(in, strlen(in), &b) != 0)
		fail_msg("canonicalize %s: %s", in, coffer_errdetail());
	assert_string_equal(coffer_buf_str(&b), want);
	coffer_buf_release(&b);
}

/* RFC 8785 section 3.2.2 (input) and 3.2.3 / 3.2.4 (output). */
static void
test_jcs__rfc8785_main_example(void **state)
{
	static const uint8_t want_bytes[] = { /* section 3.2.4, UTF-8 */
		0x7b, 0x22, 0x6c, 0x69, 0x74, 0x65, 0x72, 0x61, 0x6c, 0x73, 0x22,
		0x3a, 0x5b, 0x6e, 0x75, 0x6c, 0x6c, 0x2c, 0x74, 0x72, 0x75, 0x65,
		0x2c, 0x66, 0x61, 0x6c, 0x73, 0x65, 0x5d, 0x2c, 0x22, 0x6e, 0x75,
		0x6d, 0x62, 0x65, 0x72, 0x73, 0x22, 0x3a, 0x5b, 0x33, 0x33, 0x33,
		0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x2e, 0x33, 0x33, 0x33, 0x33,
		0x33, 0x33, 0x33, 0x2c, 0x31, 0x65, 0x2b, 0x33, 0x30, 0x2c, 0x34,
		0x2e, 0x35, 0x2c, 0x30, 0x2e, 0x30, 0x30, 0x32, 0x2c, 0x31, 0x65,
		0x2d, 0x32, 0x37, 0x5d, 0x2c, 0x22, 0x73, 0x74, 0x72, 0x69, 0x6e,
		0x67, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0xac, 0x24, 0x5c, 0x75, 0x30,
		0x30, 0x30, 0x66, 0x5c, 0x6e, 0x41, 0x27, 0x42, 0x5c, 0x22, 0x5c,
		0x5c, 0x5c, 0x5c, 0x5c, 0x22, 0x2f, 0x22, 0x7d,
	};
	const char *in =
	    "{\n"
	    "  \"numbers\": [333333333.33333329, 1E30, 4.50,\n"
	    "              2e-3, 0.000000000000000000000000001],\n"
	    "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
	    "  \"literals\": [null, true, false]\n"
	    "}";
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);

	(void)state;
	canon_eq(in, "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,"
	    "1e+30,4.5,0.002,1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
	assert_int_equal(coffer_jcs_canonicalize(in, strlen(in), &b), 0);
	assert_int_equal(b.len, sizeof(want_bytes));
	assert_memory_equal(b.data, want_bytes, sizeof(want_bytes));
	coffer_buf_release(&b);
}

/* RFC 8785 section 3.2.3: sorting by UTF-16 code units (the emoji's
 * surrogates sort before U+FB33, unlike code point order). */
static void
test_jcs__rfc8785_sorting_example(void **state)
{
	(void)state;
	canon_eq("{\n"
	    "  \"\\u20ac\": \"Euro Sign\",\n"
	    "  \"\\r\": \"Carriage Return\",\n"
	    "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
	    "  \"1\": \"One\",\n"
	    "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
	    "  \"\\u0080\": \"Control\",\n"
	    "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
	    "}",
	    "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
	    "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
	    "\"\xe2\x82\xac\":\"Euro Sign\","
	    "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
	    "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

static void
test_jcs__escapes_and_literals(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024);
	json_t *s;

	(void)state;
	canon_eq("[\"\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\u007f/<>&\\u2028\"]",
	    "[\"\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \x7f/<>&\xe2\x80\xa8\"]");
	canon_eq(" {\"b\" : [ ], \"a\":{}, \"\":0} ", "{\"\":0,\"a\":{},\"b\":[]}");
	canon_eq("[1.0, -0.0, 100, 1e2, -1.5e-7, 123456789012345678901234.0]",
	    "[1,0,100,100,-1.5e-7,1.2345678901234569e+23]");
	/* Canonical text of large doubles reads back as the same doubles. */
	canon_eq("[100000000000000000000, 9007199254740994, 1e20]",
	    "[100000000000000000000,9007199254740994,100000000000000000000]");
	canon_eq("\"plain\"", "\"plain\"");
	canon_eq("9007199254740992", "9007199254740992");
	canon_eq("-9007199254740992", "-9007199254740992");
	/* A NUL inside a string (built directly; the parser refuses it). */
	s = json_stringn("a\0b", 3);
	assert_int_equal(coffer_jcs_put(s, &b), 0);
	assert_string_equal(coffer_buf_str(&b), "\"a\\u0000b\"");
	json_decref(s);
	coffer_buf_release(&b);
}

static int
jcs_err(const json_t *v, const char *detail_has)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	int r;

	assert_int_equal(coffer_buf_puts(&b, "keep"), 0);
	r = coffer_jcs_put(v, &b);
	/* On error nothing is left appended. */
	assert_string_equal(coffer_buf_str(&b), "keep");
	if (detail_has != NULL && strstr(coffer_errdetail(), detail_has) == NULL)
		fail_msg("detail '%s' lacks '%s'", coffer_errdetail(), detail_has);
	coffer_buf_release(&b);
	return r;
}

static void
test_jcs__rejects_what_cannot_be_canonical(void **state)
{
	json_t *v, *deep, *inner;

	(void)state;
	v = json_pack("{s:[i,I]}", "a", 1, (json_int_t)9007199254740993LL);
	assert_int_equal(jcs_err(v, "$.a[1]: integer 9007199254740993"),
	    COFFER_E_FORMAT);
	json_decref(v);
	v = json_pack("{s:I}", "n", (json_int_t)-9007199254740993LL);
	assert_int_equal(jcs_err(v, "beyond"), COFFER_E_FORMAT);
	json_decref(v);
	/* jansson refuses to build NaN reals; check the number function. */
	{
		char out[COFFER_JCS_NUMBER_MAX];

		assert_int_equal(coffer_jcs_number(NAN, out), COFFER_E_FORMAT);
		assert_non_null(strstr(coffer_errdetail(), "NaN"));
	}
	/* Invalid UTF-8 in a value and in a name (nocheck constructors). */
	v = json_object();
	assert_int_equal(json_object_set_new(v, "s",
	    json_stringn_nocheck("\xc3\x28", 2)), 0);
	assert_int_equal(jcs_err(v, "$.s: string is not valid UTF-8"),
	    COFFER_E_FORMAT);
	json_decref(v);
	v = json_object();
	assert_int_equal(json_object_setn_new_nocheck(v, "\xed\xa0\x80", 3,
	    json_true()), 0); /* an encoded surrogate */
	assert_int_equal(jcs_err(v, "member name is not valid UTF-8"),
	    COFFER_E_FORMAT);
	json_decref(v);
	v = json_array();
	assert_int_equal(json_array_append_new(v, json_stringn_nocheck(
	    "\xc0\x80", 2)), 0); /* overlong NUL */
	assert_int_equal(jcs_err(v, "$[0]"), COFFER_E_FORMAT);
	json_decref(v);
	/* Depth. */
	deep = json_array();
	inner = deep;
	for (int i = 0; i < COFFER_JCS_MAX_DEPTH; i++) {
		json_t *n = json_array();

		assert_int_equal(json_array_append_new(inner, n), 0);
		inner = n;
	}
	assert_int_equal(jcs_err(deep, "nested deeper"), COFFER_E_LIMIT);
	json_decref(deep);
	/* Bad text goes through the strict parser. */
	{
		struct coffer_buf b = COFFER_BUF_INIT(1024);

		assert_int_equal(coffer_jcs_canonicalize("{\"a\":1,\"a\":2}", 13, &b),
		    COFFER_E_FORMAT);
		assert_int_equal(coffer_jcs_canonicalize("[1e400]", 7, &b),
		    COFFER_E_FORMAT);
		assert_int_equal(coffer_jcs_canonicalize("{", 1, &b),
		    COFFER_E_FORMAT);
		/* Integer literals a double cannot hold are not rounded. */
		assert_int_equal(coffer_jcs_canonicalize("[9007199254740993]", 18,
		    &b), COFFER_E_FORMAT);
		assert_non_null(strstr(coffer_errdetail(), "9007199254740993"));
		assert_int_equal(coffer_jcs_canonicalize(
		    "{\"a\":123456789012345678901234}", 30, &b), COFFER_E_FORMAT);
		assert_int_equal(coffer_jcs_canonicalize("[\"9007199254740993\"]", 20,
		    &b), 0);
		assert_string_equal(coffer_buf_str(&b), "[\"9007199254740993\"]");
		assert_int_equal(jcs_err(NULL, NULL), COFFER_E_INVAL);
		coffer_buf_release(&b);
	}
	/* The output buffer's limit is respected. */
	{
		struct coffer_buf small = COFFER_BUF_INIT(4);

		assert_int_equal(coffer_jcs_canonicalize("[12345]", 7, &small),
		    COFFER_E_LIMIT);
		assert_int_equal(small.len, 0);
		coffer_buf_release(&small);
	}
}

/* An integer literal a double holds exactly is canonicalized to its
 * ECMAScript form, as RFC 8785 outputs it; one that a double would round
 * is refused (crypto/jcs.h). */
static void
test_jcs__canonicalizes_exact_integer_literals(void **state)
{
	static const char *refused[] = {
		"[9007199254740993]",     /* 2^53 + 1 */
		"[18446744073709551615]", /* 2^64 - 1 */
		"[100000000000000000001]",
		"[-10000000000000000000001]",
	};
	struct coffer_buf b = COFFER_BUF_INIT(1024);

	(void)state;
	canon_eq("[10000000000000000000000]", "[1e+22]");
	canon_eq("[-10000000000000000000000]", "[-1e+22]");
	canon_eq("[18446744073709551616]", "[18446744073709552000]"); /* 2^64 */
	canon_eq("{\"n\":-18446744073709551616}", "{\"n\":-18446744073709552000}");
	canon_eq("[18446744073709552000]", "[18446744073709552000]");
	canon_eq("[9007199254740992]", "[9007199254740992]");
	canon_eq("[1e22]", "[1e+22]");
	/* 2^1023, written out in full. */
	canon_eq("[89884656743115795386465259539451236680898848947115328636715040"
	    "57886633790275048156635423866120376801056005693993569667882939488440"
	    "72083112464237153197370621888839467124327426381511098006230470597265"
	    "41476042502884419075341171231440736956555270413618581675255342293149"
	    "119973622969239858152417678164812112068608]",
	    "[8.98846567431158e+307]");
	/* Canonical output canonicalizes to itself. */
	canon_eq("[1e+22,18446744073709552000]", "[1e+22,18446744073709552000]");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (coffer_jcs_canonicalize(refused[i], strlen(refused[i]), &b) !=
		    COFFER_E_FORMAT)
			fail_msg("%s was not refused", refused[i]);
		assert_non_null(strstr(coffer_errdetail(), "exactly"));
		assert_int_equal(b.len, 0);
	}
	coffer_buf_release(&b);
}

/* ---- Property tests over random values (fixed seed: reproducible) ---- */

static uint64_t rng = 0x8785c0ffee5eedULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
rand_string(char *s, size_t max, size_t *len)
{
	static const char *const pieces[] = { "a", "Z", "0", " ", "\"", "\\", "/",
		"\n", "\x01", "\x1f", "\x7f", "\xc3\xb6", "\xe2\x82\xac",
		"\xef\xac\xb3", "\xf0\x9f\x98\x80", "\xc2\x80", "\xe2\x80\xa8" };
	size_t n = next() % 8, o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(p);

		if (o + l >= max)
			break;
		memcpy(s + o, p, l);
		o += l;
	}
	s[o] = '\0';
	*len = o;
}

static json_t *
rand_value(int depth)
{
	char s[64];
	size_t len;

	switch (next() % (depth > 4 ? 6 : 8)) {
	case 0: return json_null();
	case 1: return json_boolean(next() & 1);
	case 2: return json_integer((json_int_t)(next() % (2 * COFFER_JCS_INT_MAX + 1)) -
		    COFFER_JCS_INT_MAX);
	case 3: {
		double d;

		do {
			uint64_t b = next();

			memcpy(&d, &b, sizeof(d));
		} while (!isfinite(d));
		return json_real(d);
	}
	case 4: return json_real((double)(int64_t)(next() % 2000001) / 1000.0);
	case 5:
		rand_string(s, sizeof(s), &len);
		return json_stringn(s, len);
	case 6: {
		json_t *a = json_array();
		size_t n = next() % 5;

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, rand_value(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		size_t n = next() % 5;

		for (size_t i = 0; i < n; i++) {
			rand_string(s, sizeof(s), &len);
			json_object_setn_new(o, s, len, rand_value(depth + 1));
		}
		return o;
	}
	}
}

/* Equality of the JSON data model: numbers compare as doubles (JCS turns
 * 1.0 into 1, which jansson then reads as an integer). */
static int
same(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a)) {
		const char *k;
		size_t kl;
		json_t *v;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_keylen_foreach((json_t *)a, k, kl, v) {
			json_t *w = json_object_getn(b, k, kl);

			if (w == NULL || !same(v, w))
				return 0;
		}
		return 1;
	}
	return json_equal(a, b);
}

static void
test_jcs__property_parse_of_canon_is_identity_and_idempotent(void **state)
{
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct coffer_buf c1 = COFFER_BUF_INIT(1 << 20),
		    c2 = COFFER_BUF_INIT(1 << 20);
		json_t *x = rand_value(0), *y = NULL;

		json_error_t e;

		assert_int_equal(coffer_jcs_put(x, &c1), 0);
		/* Read back as RFC 8785 says: numbers as doubles. */
		if ((y = json_loadb((const char *)c1.data, c1.len,
		    JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &e)) == NULL)
			fail_msg("canonical text does not parse: %s: %s",
			    coffer_buf_str(&c1), e.text);
		if (!same(x, y))
			fail_msg("parse(canon(x)) != x for %s", coffer_buf_str(&c1));
		/* canon(parse(canon(x))) == canon(x), through the text API. */
		if (coffer_jcs_canonicalize((const char *)c1.data, c1.len, &c2) != 0)
			fail_msg("re-canonicalizing %s: %s", coffer_buf_str(&c1),
			    coffer_errdetail());
		if (c1.len != c2.len || memcmp(c1.data, c2.data, c1.len) != 0)
			fail_msg("canon not idempotent: %s vs %s", coffer_buf_str(&c1),
			    coffer_buf_str(&c2));
		coffer_buf_reset(&c2);
		assert_int_equal(coffer_jcs_put(y, &c2), 0);
		assert_memory_equal(c1.data, c2.data, c1.len);
		n++;
		json_decref(x);
		json_decref(y);
		coffer_buf_release(&c1);
		coffer_buf_release(&c2);
	}
	printf("# JCS property tests: %zu random values\n", n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jcs__rfc8785_appendix_b_numbers),
		cmocka_unit_test(test_jcs__numbers_match_ecmascript),
		cmocka_unit_test(test_jcs__rfc8785_main_example),
		cmocka_unit_test(test_jcs__rfc8785_sorting_example),
		cmocka_unit_test(test_jcs__escapes_and_literals),
		cmocka_unit_test(test_jcs__rejects_what_cannot_be_canonical),
		cmocka_unit_test(test_jcs__canonicalizes_exact_integer_literals),
		cmocka_unit_test(test_jcs__property_parse_of_canon_is_identity_and_idempotent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
