// SPDX-License-Identifier: Apache-2.0
// Unit tests for text that ends up in JSON and logs: UTF-8 checks, trimming
// and sanitising (src/lib/utf8.c), error details cut at their size limit
// (src/lib/err.c), and URL redaction (src/lib/redact.c).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "coffer/error.h"
#include "lib/redact.h"
#include "lib/utf8.h"

static void
test_utf8__accepts_well_formed_and_rejects_the_rest(void **state)
{
	static const char *const bad[] = {
		"\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
		"\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
		"\xff", "\xc3", "a\xe2\x82", NULL,
	};

	(void)state;
	assert_true(coffer_utf8_valid("", 0));
	assert_true(coffer_utf8_valid("plain ASCII", 11));
	assert_true(coffer_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
	assert_true(coffer_utf8_valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
	for (size_t i = 0; bad[i] != NULL; i++)
		assert_false(coffer_utf8_valid(bad[i], strlen(bad[i])));
	assert_int_equal(coffer_utf8_seq("\xe2\x82\xac", 3), 3);
	assert_int_equal(coffer_utf8_seq("\xe2\x82\xac", 2), 0);
}

static void
test_utf8__trim_cuts_only_a_trailing_partial_character(void **state)
{
	(void)state;
	assert_int_equal(coffer_utf8_trim("ab\xc3\xa9", 4), 4);
	assert_int_equal(coffer_utf8_trim("ab\xc3\xa9", 3), 2);
	assert_int_equal(coffer_utf8_trim("ab\xf0\x9f\x98", 5), 2);
	assert_int_equal(coffer_utf8_trim("ab\xf0\x9f", 4), 2);
	assert_int_equal(coffer_utf8_trim("ab\xf0", 3), 2);
	/* Invalid, not incomplete: left for sanitize. */
	assert_int_equal(coffer_utf8_trim("ab\x80", 3), 3);
	assert_int_equal(coffer_utf8_trim("ab\xc0", 3), 3);
	assert_int_equal(coffer_utf8_trim("", 0), 0);
}

static void
test_utf8__sanitize_makes_any_bytes_valid(void **state)
{
	char s[64];

	(void)state;
	snprintf(s, sizeof(s), "caf\xc3\xa9 ok");
	assert_int_equal(coffer_utf8_sanitize(s), 8);
	assert_string_equal(s, "caf\xc3\xa9 ok");
	snprintf(s, sizeof(s), "a\xff" "b\xed\xa0\x80" "c");
	coffer_utf8_sanitize(s);
	assert_string_equal(s, "a?b???c");
	snprintf(s, sizeof(s), "cut \xc3\xa9\xc3");
	assert_int_equal(coffer_utf8_sanitize(s), 6);
	assert_string_equal(s, "cut \xc3\xa9");
	for (int i = 0; i < 256; i++) {
		json_t *j;

		snprintf(s, sizeof(s), "x%c\xe2\x82%cy", i == 0 ? 1 : i, 0x80 + i % 64);
		coffer_utf8_sanitize(s);
		assert_non_null(j = json_string(s));
		json_decref(j);
	}
}

static void
test_err__a_detail_cut_at_its_limit_stays_valid_utf8(void **state)
{
	char big[3000];
	size_t n = 0;
	json_t *j;

	(void)state;
	/* 700 x "é": 1400 bytes, more than the detail holds; the cut falls
	 * inside a character for some prefix lengths. */
	for (int prefix = 0; prefix < 4; prefix++) {
		n = 0;
		for (int i = 0; i < prefix; i++)
			big[n++] = 'p';
		for (int i = 0; i < 700; i++) {
			big[n++] = '\xc3';
			big[n++] = '\xa9';
		}
		big[n] = '\0';
		coffer_errf(COFFER_E_IO, "workload file %s", big);
		assert_true(coffer_utf8_valid(coffer_errdetail(),
		    strlen(coffer_errdetail())));
		assert_true(strlen(coffer_errdetail()) >= 1020);
		assert_non_null(j = json_string(coffer_errdetail()));
		json_decref(j);
		coffer_errctx(COFFER_E_IO, "%s", big + prefix);
		assert_non_null(j = json_string(coffer_errdetail()));
		json_decref(j);
	}
}

static void
test_redact__hides_the_password_of_a_url(void **state)
{
	char out[256];

	(void)state;
	coffer_redact_url("redis://:s3cretpw@127.0.0.1:6379/0", out, sizeof(out));
	assert_string_equal(out, "redis://:***@127.0.0.1:6379/0");
	coffer_redact_url("redis://alice:pw@host", out, sizeof(out));
	assert_string_equal(out, "redis://alice:***@host");
	coffer_redact_url("redis://:p@ss@host:1/2", out, sizeof(out));
	assert_string_equal(out, "redis://:***@host:1/2");
	coffer_redact_url("https://u:p@example.org/a@b", out, sizeof(out));
	assert_string_equal(out, "https://u:***@example.org/a@b");
	coffer_redact_url("redis://127.0.0.1:6379", out, sizeof(out));
	assert_string_equal(out, "redis://127.0.0.1:6379");
	coffer_redact_url("redis://user@host", out, sizeof(out));
	assert_string_equal(out, "redis://user@host");
	coffer_redact_url("unix:///run/redis.sock?db=2", out, sizeof(out));
	assert_string_equal(out, "unix:///run/redis.sock?db=2");
	coffer_redact_url("not a url", out, sizeof(out));
	assert_string_equal(out, "not a url");
	coffer_redact_url("redis://:s3cretpw@h", out, 12);
	assert_string_equal(out, "redis://:**");
	assert_null(strstr(out, "s3c"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8__accepts_well_formed_and_rejects_the_rest),
		cmocka_unit_test(test_utf8__trim_cuts_only_a_trailing_partial_character),
		cmocka_unit_test(test_utf8__sanitize_makes_any_bytes_valid),
		cmocka_unit_test(test_err__a_detail_cut_at_its_limit_stays_valid_utf8),
		cmocka_unit_test(test_redact__hides_the_password_of_a_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
