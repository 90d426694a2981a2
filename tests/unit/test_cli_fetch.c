// SPDX-License-Identifier: Apache-2.0
// The pure parts of the CLI's fetching (src/cli/fetch_http.c,
// doc/protocol/collateral.md section 2.3): which statuses are retried,
// the back-off schedule and its cap, Retry-After in both forms, and the
// percent-decoding of Intel's issuer-chain headers.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cli/fetch_http.h"
#include "coffer/error.h"
#include "lib/buf.h"

static void
test_fetch__retries_429_and_5xx_only(void **state)
{
	(void)state;
	assert_true(cli_fetch_status_retryable(429));
	assert_true(cli_fetch_status_retryable(500));
	assert_true(cli_fetch_status_retryable(502));
	assert_true(cli_fetch_status_retryable(503));
	assert_true(cli_fetch_status_retryable(504));
	assert_false(cli_fetch_status_retryable(200));
	assert_false(cli_fetch_status_retryable(400));
	assert_false(cli_fetch_status_retryable(404));
	assert_false(cli_fetch_status_retryable(501));
}

static void
test_fetch__backoff_doubles_is_capped_and_jitters_a_quarter(void **state)
{
	(void)state;
	assert_int_equal(cli_fetch_backoff_ms(1000, 1, 0), 1000);
	assert_int_equal(cli_fetch_backoff_ms(1000, 2, 0), 2000);
	assert_int_equal(cli_fetch_backoff_ms(1000, 3, 0), 4000);
	/* jitter: rnd modulo (quarter + 1) */
	assert_int_equal(cli_fetch_backoff_ms(1000, 1, 250), 1250);
	assert_int_equal(cli_fetch_backoff_ms(1000, 1, 251), 1000);
	assert_int_equal(cli_fetch_backoff_ms(1000, 3, 1000), 5000);
	assert_int_equal(cli_fetch_backoff_ms(1000, 3, 1001), 4000);
	/* 60 s at most, before jitter; no overflow however many attempts */
	assert_int_equal(cli_fetch_backoff_ms(1000, 7, 0), 60000);
	assert_int_equal(cli_fetch_backoff_ms(1000, 60, 0), 60000);
	assert_int_equal(cli_fetch_backoff_ms(1000, 60, 15000), 75000);
	assert_int_equal(cli_fetch_backoff_ms(0, 3, 7), 0);
	assert_int_equal(cli_fetch_backoff_ms(100, 2, 0), 200);
}

static void
test_fetch__retry_after_takes_seconds_and_dates(void **state)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
	const int64_t t = 784111777;

	(void)state;
	assert_int_equal(cli_fetch_retry_after("120", t), 120);
	assert_int_equal(cli_fetch_retry_after(" 0 ", t), 0);
	assert_int_equal(cli_fetch_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 30), 30);
	assert_int_equal(cli_fetch_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 5), 0);
	assert_int_equal(cli_fetch_retry_after("-1", t), -1);
	assert_int_equal(cli_fetch_retry_after("12s", t), -1);
	assert_int_equal(cli_fetch_retry_after("", t), -1);
	assert_int_equal(cli_fetch_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", t), -1);
	assert_int_equal(cli_fetch_retry_after("99999999999999999999999", t), -1);
}

static void
test_fetch__url_decode_is_percent_only(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(4096);

	(void)state;
	assert_int_equal(cli_fetch_url_decode("-----BEGIN%20CERTIFICATE-----%0AMII%2B%2f+x", &b), 0);
	assert_string_equal(coffer_buf_str(&b), "-----BEGIN CERTIFICATE-----\nMII+/+x");
	coffer_buf_reset(&b);
	assert_int_equal(cli_fetch_url_decode("abc%zz", &b), COFFER_E_FORMAT);
	coffer_buf_reset(&b);
	assert_int_equal(cli_fetch_url_decode("abc%4", &b), COFFER_E_FORMAT);
	coffer_buf_reset(&b);
	assert_int_equal(cli_fetch_url_decode("abc%", &b), COFFER_E_FORMAT);
	coffer_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch__retries_429_and_5xx_only),
		cmocka_unit_test(test_fetch__backoff_doubles_is_capped_and_jitters_a_quarter),
		cmocka_unit_test(test_fetch__retry_after_takes_seconds_and_dates),
		cmocka_unit_test(test_fetch__url_decode_is_percent_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
