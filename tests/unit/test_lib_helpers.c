// SPDX-License-Identifier: Apache-2.0
// The small helpers every part shares (src/lib): checked integers,
// percent-decoding with its one rule for %00, "did you mean", PATH lookup
// and sleeping.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/num.h"
#include "lib/pct.h"
#include "lib/suggest.h"

static void
test_num__accepts_plain_decimals_in_range(void **state)
{
	int64_t v = 0;
	int i = 0;

	(void)state;
	assert_int_equal(coffer_parse_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(coffer_parse_i64("-7", -10, 10, &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(coffer_parse_i64("9223372036854775807", 0, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(coffer_parse_int("0", 0, 0, &i), 0);
}

static void
test_num__rejects_everything_else_without_writing(void **state)
{
	static const char *const bad[] = { "", " 1", "1 ", "+1", "1x", "0x10",
		"--1", "-", "1e3", "9223372036854775808", "101", "-1" };
	int64_t v = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(coffer_parse_i64(bad[i], 0, 100, &v), COFFER_E_FORMAT);
		assert_int_equal(v, 99);
	}
	assert_non_null(strstr(coffer_errdetail(), "[0, 100]"));
	assert_int_equal(coffer_parse_i64(NULL, 0, 1, &v), COFFER_E_FORMAT);
}

static void
test_pct__decodes_escapes_and_plus_only_when_asked(void **state)
{
	char out[32];
	size_t n = 0;

	(void)state;
	assert_int_equal(coffer_pct_decode("a%2Fb%2fc+d", 11, 0, out, sizeof(out),
	    &n), 0);
	assert_string_equal(out, "a/b/c+d");
	assert_int_equal(n, 7);
	assert_int_equal(coffer_pct_decode("c+d%20e", 7, 1, out, sizeof(out), &n), 0);
	assert_string_equal(out, "c d e");
	assert_int_equal(coffer_pct_decode("", 0, 0, out, sizeof(out), &n), 0);
	assert_string_equal(out, "");
}

static void
test_pct__refuses_nul_and_bad_escapes_leaving_out_untouched(void **state)
{
	static const char *const bad[] = { "%00", "a%00b", "%", "%4", "%zz", "%4g",
		"ab%" };
	char out[16] = "keep";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(coffer_pct_decode(bad[i], strlen(bad[i]), 0, out,
		    sizeof(out), NULL), COFFER_E_FORMAT);
		assert_string_equal(out, "keep");
	}
	/* Too small for the result. */
	assert_int_equal(coffer_pct_decode("abcd", 4, 0, out, 4, NULL), COFFER_E_LIMIT);
	assert_int_equal(coffer_pct_decode("ab%41", 5, 0, out, 4, NULL), 0);
	assert_string_equal(out, "abA");
}

static void
test_suggest__finds_typos_and_only_typos(void **state)
{
	static const char *const params[] = { "sleep_ms", "slow_ms", "fail",
		"crash", "flaky_times" };
	static const char *const ctls[] = { "asperathos-default",
		"asperathos-pid", "deadline", "hpa", "static" };

	(void)state;
	assert_string_equal(coffer_suggest("sleep_msec", params, 5), "sleep_ms");
	assert_string_equal(coffer_suggest("sleep_sm", params, 5), "sleep_ms");
	assert_string_equal(coffer_suggest("fial", params, 5), "fail");
	assert_string_equal(coffer_suggest("deadlien", ctls, 5), "deadline");
	assert_string_equal(coffer_suggest("ne", ctls, 5) == NULL ? "-" : "x", "-");
	assert_null(coffer_suggest("colour", params, 5));
	assert_null(coffer_suggest("", params, 5));
	assert_int_equal(coffer_edit_distance("abc", "abc"), 0);
	assert_int_equal(coffer_edit_distance("abc", "acb"), 1);
	assert_int_equal(coffer_edit_distance("", "abc"), 3);
}

static void
test_path__looks_up_programs_like_execvp(void **state)
{
	char *p;
	char dir[4096];

	(void)state;
	setenv("PATH", "/nonexistent::/bin:/usr/bin", 1);
	p = coffer_path_lookup("sh");
	assert_non_null(p);
	assert_true(strcmp(p, "/bin/sh") == 0 || strcmp(p, "/usr/bin/sh") == 0);
	free(p);
	assert_null(coffer_path_lookup("no-such-program-anywhere"));
	assert_null(coffer_path_lookup("/etc/passwd"));
	assert_null(coffer_path_lookup(""));
	p = coffer_path_lookup("/bin/sh");
	assert_string_equal(p, "/bin/sh");
	free(p);
	assert_int_equal(coffer_exe_dir(dir, sizeof(dir)), 0);
	assert_true(dir[0] == '/');
}

static void
test_clock__sleeps_at_least_as_asked(void **state)
{
	int64_t t0 = coffer_mono_ms();

	(void)state;
	coffer_sleep_ms(20);
	assert_true(coffer_mono_ms() - t0 >= 20);
	coffer_sleep_ms(0);
	coffer_sleep_ms(-5);
	assert_int_equal(coffer_nap_ms(1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_num__accepts_plain_decimals_in_range),
		cmocka_unit_test(test_num__rejects_everything_else_without_writing),
		cmocka_unit_test(test_pct__decodes_escapes_and_plus_only_when_asked),
		cmocka_unit_test(test_pct__refuses_nul_and_bad_escapes_leaving_out_untouched),
		cmocka_unit_test(test_suggest__finds_typos_and_only_typos),
		cmocka_unit_test(test_path__looks_up_programs_like_execvp),
		cmocka_unit_test(test_clock__sleeps_at_least_as_asked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
