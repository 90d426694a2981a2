// SPDX-License-Identifier: Apache-2.0
// Unit tests for the manager's JSON output (src/http/jsonout.c,
// job_json.c, db.c's samples): a job whose numbers are not finite, or
// whose reason is not valid UTF-8 (cut inside a character), is still
// shown, with null for what cannot be a number.
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/utf8.h"
#include "http/jsonout.h"
#include "manager/mgr.h"

static void
test_json__helpers_never_fail_on_odd_values(void **state)
{
	json_t *j;

	(void)state;
	/* (json_is_*() evaluate their argument twice: no calls inside.) */
	assert_true(json_is_null(http_json_real(INFINITY)));
	assert_true(json_is_null(http_json_real(-INFINITY)));
	assert_true(json_is_null(http_json_real(NAN)));
	j = http_json_real(2.5);
	assert_true(json_is_real(j));
	assert_true(json_real_value(j) == 2.5);
	json_decref(j);
	assert_true(json_is_null(http_json_real_or_null(-1)));
	assert_true(json_is_null(http_json_real_or_null(INFINITY)));
	assert_true(json_is_null(http_json_str(NULL)));
	assert_non_null(j = http_json_str("caf\xc3\xa9 \xc3"));
	assert_string_equal(json_string_value(j), "caf\xc3\xa9 ");
	json_decref(j);
	assert_non_null(j = http_json_str("a\xff" "b"));
	assert_string_equal(json_string_value(j), "a?b");
	json_decref(j);
}

/* What the reviewer's reproductions left behind: expected_time_s of
 * 5e-324 (time progress +Inf), and a failure reason cut inside an "é". */
static void
test_json__a_job_with_infinite_estimates_and_a_cut_reason_is_shown(void **state)
{
	struct mgr m;
	struct mgr_job j;
	char reason[1024];
	json_t *o, *v;
	size_t n = 0;

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(&j, 0, sizeof(j));
	m.cfg.actuator = "local";
	snprintf(j.id, sizeof(j.id), "job-000000000001");
	snprintf(j.kind, sizeof(j.kind), "native");
	j.state = MGR_FAILED;
	j.spec.expected_time_s = 5e-324;
	j.spec.check_interval_s = 1;
	j.spec.controller = "static";
	j.spec.actuator = "local";
	j.spec.name = "bad\xc3";
	j.submitted_ms = 1800000000000LL;
	j.started_ms = 1800000000000LL;
	j.finished_ms = 1800000001000LL;
	j.have_last = 1;
	j.last.time_progress = INFINITY;
	j.last.error = -INFINITY;
	j.last.progress = NAN;
	j.last.throughput = INFINITY;
	n = (size_t)snprintf(reason, sizeof(reason), "cannot start: workload file /x/");
	while (n + 2 < sizeof(reason)) {
		reason[n++] = '\xc3';
		reason[n++] = '\xa9';
	}
	reason[n - 1] = '\0'; /* cut inside the last character */
	j.reason = reason;
	snprintf(j.log_path, sizeof(j.log_path), "/logs/\xe9t\xe9.log");

	for (int full = 0; full < 2; full++) {
		o = mgr_job_json(&m, &j, full);
		assert_non_null(o);
		assert_string_equal(json_string_value(json_object_get(o, "id")),
		    "job-000000000001");
		assert_true(json_is_null(json_object_get(o, "time_progress")));
		assert_true(json_is_null(json_object_get(o, "error")));
		assert_true(json_is_null(json_object_get(o, "progress")));
		v = json_object_get(o, "reason");
		assert_non_null(v);
		assert_true(coffer_utf8_valid(json_string_value(v),
		    strlen(json_string_value(v))));
		assert_int_equal(strncmp(json_string_value(v), "cannot start:", 13), 0);
		assert_string_equal(json_string_value(json_object_get(o, "name")), "bad");
		if (full)
			assert_string_equal(json_string_value(json_object_get(o, "log")),
			    "/logs/?t?.log");
		json_decref(o);
	}
	j.spec.name = NULL;
	j.reason = NULL;
	o = mgr_job_json(&m, &j, 0);
	assert_non_null(o);
	assert_null(json_object_get(o, "name"));
	assert_null(json_object_get(o, "reason"));
	json_decref(o);
}

static void
test_json__a_sample_with_infinities_is_still_a_sample(void **state)
{
	struct mgr_sample s;
	json_t *o;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.t_s = 3;
	s.time_progress = INFINITY;
	s.error = -INFINITY;
	s.throughput_per_replica = NAN;
	s.eta_s = INFINITY;
	s.lateness_s = -1;
	assert_non_null(o = mgr_sample_json(&s));
	assert_true(json_real_value(json_object_get(o, "t_s")) == 3);
	assert_true(json_is_null(json_object_get(o, "time_progress")));
	assert_true(json_is_null(json_object_get(o, "error")));
	assert_true(json_is_null(json_object_get(o, "throughput_per_replica")));
	assert_true(json_is_null(json_object_get(o, "eta_s")));
	assert_true(json_is_null(json_object_get(o, "lateness_s")));
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json__helpers_never_fail_on_odd_values),
		cmocka_unit_test(test_json__a_job_with_infinite_estimates_and_a_cut_reason_is_shown),
		cmocka_unit_test(test_json__a_sample_with_infinities_is_still_a_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
