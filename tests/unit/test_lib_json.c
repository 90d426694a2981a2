// SPDX-License-Identifier: Apache-2.0
// Unit tests for the strict JSON layer (src/lib/json.c): limits, duplicate
// keys, trailing data, and typed getters whose errors name the field.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/json.h"

static int
parse(const char *s, json_t **out)
{
	return coffer_json_parse(s, strlen(s), 1024, 8, out);
}

static void
test_json__parses_one_value(void **state)
{
	json_t *v = NULL;

	(void)state;
	assert_int_equal(parse(" {\"a\": [1, 2.5, \"x\", null, true]} \n", &v), 0);
	assert_true(json_is_object(v));
	json_decref(v);
	assert_int_equal(parse("42", &v), 0);
	assert_int_equal(json_integer_value(v), 42);
	json_decref(v);
}

static void
test_json__rejects_malformed_duplicates_and_trailing(void **state)
{
	static const char *bad[] = {
		"", "{", "{\"a\":1,}", "{\"a\":1}{}", "{\"a\":1} x", "[1 2]",
		"{\"a\":1,\"a\":2}", "\"\\u0000\"", "'a'", "{a:1}", "[\"\xff\"]",
		"01", "NaN", "[1,]",
	};
	json_t *v = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &v), COFFER_E_FORMAT);
		assert_null(v);
	}
	/* A raw NUL byte inside the document. */
	assert_int_equal(coffer_json_parse("[1]\0", 4, 1024, 8, &v), COFFER_E_FORMAT);
	assert_null(v);
}

static void
test_json__enforces_size_and_depth(void **state)
{
	json_t *v = NULL;
	char deep[64];

	(void)state;
	memset(deep, '[', 9);
	memset(deep + 9, ']', 9);
	deep[18] = '\0';
	assert_int_equal(parse(deep, &v), COFFER_E_LIMIT);
	assert_non_null(strstr(coffer_errdetail(), "deeper than 8"));
	deep[8] = ']';
	memmove(deep + 8, deep + 10, 9);
	assert_int_equal(parse("[[[[[[[[1]]]]]]]]", &v), 0);
	json_decref(v);
	/* Brackets inside strings do not count. */
	assert_int_equal(parse("[\"[[[[[[[[[[[[[[[[\\\"[[[[[\"]", &v), 0);
	json_decref(v);
	assert_int_equal(coffer_json_parse("[1]", 3, 2, 8, &v), COFFER_E_LIMIT);
}

static void
test_json__getters_name_the_field(void **state)
{
	json_t *v = NULL, *o = NULL;
	const char *s = NULL;
	int64_t i = -1;
	double d = -1;
	int b = -1;

	(void)state;
	assert_int_equal(parse("{\"n\":3,\"r\":3.0,\"f\":0.5,\"s\":\"x\",\"b\":true,"
	    "\"o\":{\"k\":\"v\"},\"z\":null}", &v), 0);
	assert_int_equal(coffer_json_get_int(v, NULL, "n", 1, 0, 10, &i), 0);
	assert_int_equal(i, 3);
	assert_int_equal(coffer_json_get_int(v, NULL, "r", 1, 0, 10, &i), 0);
	assert_int_equal(coffer_json_get_int(v, "plugin_info", "f", 1, 0, 10, &i),
	    COFFER_E_FORMAT);
	assert_string_equal(coffer_errdetail(), "plugin_info.f: expected an integer");
	assert_int_equal(coffer_json_get_int(v, "c", "n", 1, 4, 10, &i), COFFER_E_FORMAT);
	assert_string_equal(coffer_errdetail(), "c.n: 3 is out of range [4, 10]");
	assert_int_equal(coffer_json_get_num(v, NULL, "f", 1, 0, 1, &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(coffer_json_get_str(v, NULL, "s", 1, &s), 0);
	assert_string_equal(s, "x");
	assert_int_equal(coffer_json_get_str(v, NULL, "n", 1, &s), COFFER_E_FORMAT);
	assert_int_equal(coffer_json_get_bool(v, NULL, "b", 1, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(coffer_json_get_obj(v, NULL, "o", 1, &o), 0);
	assert_int_equal(coffer_json_get_str(o, "o", "k", 1, &s), 0);
	assert_string_equal(s, "v");
	/* Missing: an error when required, untouched otherwise; null == missing. */
	i = 77;
	assert_int_equal(coffer_json_get_int(v, NULL, "missing", 0, 0, 1, &i), 0);
	assert_int_equal(coffer_json_get_int(v, NULL, "z", 0, 0, 1, &i), 0);
	assert_int_equal(i, 77);
	assert_int_equal(coffer_json_get_int(v, "x", "missing", 1, 0, 1, &i),
	    COFFER_E_FORMAT);
	assert_string_equal(coffer_errdetail(), "x.missing: missing");
	json_decref(v);
}

static void
test_json__check_keys_names_unknown_field(void **state)
{
	static const char *const allowed[] = { "a", "b", NULL };
	json_t *v = NULL;

	(void)state;
	assert_int_equal(parse("{\"a\":1,\"b\":2}", &v), 0);
	assert_int_equal(coffer_json_check_keys(v, "job", allowed), 0);
	json_decref(v);
	assert_int_equal(parse("{\"a\":1,\"c\":2}", &v), 0);
	assert_int_equal(coffer_json_check_keys(v, "job", allowed), COFFER_E_FORMAT);
	assert_string_equal(coffer_errdetail(), "job.c: unknown field (did you mean 'a'?)");
	json_decref(v);
	assert_int_equal(parse("{\"a\":1,\"xyz\":2}", &v), 0);
	assert_int_equal(coffer_json_check_keys(v, "job", allowed), COFFER_E_FORMAT);
	assert_string_equal(coffer_errdetail(), "job.xyz: unknown field");
	json_decref(v);
}

static void
test_json__dump_is_compact_and_sorted(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024);
	json_t *v = NULL;

	(void)state;
	assert_int_equal(parse("{\"b\": 1, \"a\": [true, \"x\"]}", &v), 0);
	assert_int_equal(coffer_json_dump(v, &b), 0);
	assert_string_equal(coffer_buf_str(&b), "{\"a\":[true,\"x\"],\"b\":1}");
	json_decref(v);
	coffer_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json__parses_one_value),
		cmocka_unit_test(test_json__rejects_malformed_duplicates_and_trailing),
		cmocka_unit_test(test_json__enforces_size_and_depth),
		cmocka_unit_test(test_json__getters_name_the_field),
		cmocka_unit_test(test_json__check_keys_names_unknown_field),
		cmocka_unit_test(test_json__dump_is_compact_and_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
