// SPDX-License-Identifier: Apache-2.0
// Unit tests for the Prometheus text writer (src/http/metrics.c) and the
// job state machine (src/manager/jobstate.c).
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "manager/jobstate.h"
#include "http/metrics.h"

static void
test_metrics__families_and_samples(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	const char *l[] = { "job_id", "j1", "state", "done", NULL };

	(void)state;
	assert_int_equal(http_metrics_family(&b, "coffer_job_items", "gauge",
	    "Items\\by state\nsecond line"), 0);
	assert_int_equal(http_metrics_sample(&b, "coffer_job_items", l, 42), 0);
	assert_int_equal(http_metrics_sample(&b, "coffer_x", NULL, 0.25), 0);
	assert_int_equal(http_metrics_sample(&b, "coffer_x", NULL, NAN), 0);
	assert_int_equal(http_metrics_sample(&b, "coffer_x", NULL, INFINITY), 0);
	assert_int_equal(http_metrics_sample(&b, "coffer_x", NULL, -INFINITY), 0);
	assert_int_equal(http_metrics_sample(&b, "coffer_x", NULL, -3), 0);
	assert_string_equal(coffer_buf_str(&b),
	    "# HELP coffer_job_items Items\\\\by state\\nsecond line\n"
	    "# TYPE coffer_job_items gauge\n"
	    "coffer_job_items{job_id=\"j1\",state=\"done\"} 42\n"
	    "coffer_x 0.25\n"
	    "coffer_x NaN\n"
	    "coffer_x +Inf\n"
	    "coffer_x -Inf\n"
	    "coffer_x -3\n");
	coffer_buf_release(&b);
}

static void
test_metrics__label_values_are_escaped(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	const char *l[] = { "route", "a\"b\\c\nd", NULL };

	(void)state;
	assert_int_equal(http_metrics_sample(&b, "m", l, 1), 0);
	assert_string_equal(coffer_buf_str(&b), "m{route=\"a\\\"b\\\\c\\nd\"} 1\n");
	coffer_buf_release(&b);
}

static void
test_metrics__buffer_limit_is_an_error(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(16);

	(void)state;
	assert_int_equal(http_metrics_sample(&b, "coffer_a_rather_long_name", NULL,
	    1), COFFER_E_LIMIT);
	coffer_buf_release(&b);
}

static void
test_jobstate__transitions_follow_the_table(void **state)
{
	enum mgr_state n = MGR_PENDING;

	(void)state;
	assert_int_equal(mgr_state_next(MGR_PENDING, MGR_EV_START, &n), 0);
	assert_int_equal(n, MGR_RUNNING);
	assert_int_equal(mgr_state_next(MGR_PENDING, MGR_EV_FAIL, &n), 0);
	assert_int_equal(n, MGR_FAILED);
	assert_int_equal(mgr_state_next(MGR_PENDING, MGR_EV_STOP, &n), 0);
	assert_int_equal(n, MGR_STOPPED);
	assert_int_equal(mgr_state_next(MGR_RUNNING, MGR_EV_COMPLETE, &n), 0);
	assert_int_equal(n, MGR_COMPLETED);
	assert_int_equal(mgr_state_next(MGR_RUNNING, MGR_EV_STOP, &n), 0);
	assert_int_equal(n, MGR_STOPPED);
	assert_int_equal(mgr_state_next(MGR_COMPLETED, MGR_EV_DELETE, &n), 0);
	assert_int_equal(n, MGR_COMPLETED);
	/* Refused: with a detail saying why. */
	assert_int_equal(mgr_state_next(MGR_PENDING, MGR_EV_COMPLETE, &n),
	    COFFER_E_STATE);
	assert_int_equal(mgr_state_next(MGR_RUNNING, MGR_EV_START, &n),
	    COFFER_E_STATE);
	assert_int_equal(mgr_state_next(MGR_COMPLETED, MGR_EV_STOP, &n),
	    COFFER_E_STATE);
	assert_string_equal(coffer_errdetail(), "the job has already ended: it is completed, there is nothing to stop");
	assert_int_equal(mgr_state_next(MGR_RUNNING, MGR_EV_DELETE, &n),
	    COFFER_E_STATE);
	assert_int_equal(mgr_state_next(MGR_PENDING, MGR_EV_DELETE, &n),
	    COFFER_E_STATE);
	assert_int_equal(mgr_state_next(MGR_STOPPED, MGR_EV_FAIL, &n),
	    COFFER_E_STATE);
}

static void
test_jobstate__names_round_trip(void **state)
{
	enum mgr_state s;

	(void)state;
	for (int i = MGR_PENDING; i <= MGR_STOPPED; i++) {
		assert_int_equal(mgr_state_parse(mgr_state_name((enum mgr_state)i),
		    &s), 0);
		assert_int_equal((int)s, i);
	}
	assert_int_equal(mgr_state_parse("ongoing", &s), COFFER_E_FORMAT);
	assert_true(mgr_state_terminal(MGR_FAILED));
	assert_false(mgr_state_terminal(MGR_RUNNING));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics__families_and_samples),
		cmocka_unit_test(test_metrics__label_values_are_escaped),
		cmocka_unit_test(test_metrics__buffer_limit_is_an_error),
		cmocka_unit_test(test_jobstate__transitions_follow_the_table),
		cmocka_unit_test(test_jobstate__names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
