// SPDX-License-Identifier: Apache-2.0
// Unit tests for the native job specification (src/manager/jobspec.c):
// defaults, the stored round trip, and errors that name the field.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "manager/jobspec.h"

#define NOW 1800000000

static const char good[] =
    "{\"name\": \"demo\", \"app\": \"fault\", \"app_params\": {\"sleep_ms\": 100,"
    " \"mode\": \"x\", \"on\": true, \"r\": 0.5},"
    " \"inputs\": {\"items\": [\"in/a\", \"in/b\", \"in/c\"]},"
    " \"expected_time_s\": 25, \"replicas\": {\"min\": 1, \"max\": 6},"
    " \"controller\": {\"name\": \"asperathos-default\", \"check_interval_s\": 1,"
    "  \"params\": {\"trigger_up\": 0, \"trigger_down\": 0, \"actuation_size\": 1}},"
    " \"env\": {\"FOO\": \"bar\"}, \"tee\": {\"backend\": \"sim\","
    " \"coordinator\": \"http://coord:8600\"}}";

static int
parse(const char *text, int stored, struct mgr_jobspec *s)
{
	return mgr_jobspec_parse_text(text, strlen(text), 1 << 20, NOW, stored, s);
}

static const char *
kv(const struct mgr_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

static void
test_jobspec__parses_with_defaults(void **state)
{
	struct mgr_jobspec s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(parse(good, 0, &s), 0);
	assert_string_equal(s.name, "demo");
	assert_string_equal(s.app, "fault");
	assert_int_equal(s.nitems, 3);
	assert_string_equal(s.items[2], "in/c");
	assert_true(s.expected_time_s == 25);
	assert_int_equal(s.min_replicas, 1);
	assert_int_equal(s.max_replicas, 6);
	assert_int_equal(s.initial_replicas, 1);
	assert_string_equal(s.controller, "asperathos-default");
	assert_true(s.check_interval_s == 1);
	assert_string_equal(kv(s.ctl_params, s.nctl_params, "trigger_up"), "0");
	assert_string_equal(kv(s.app_params, s.napp_params, "sleep_ms"), "100");
	assert_string_equal(kv(s.app_params, s.napp_params, "on"), "true");
	assert_string_equal(kv(s.app_params, s.napp_params, "r"), "0.5");
	assert_string_equal(s.actuator, "local");
	assert_int_equal(s.max_attempts, 3);
	assert_int_equal(s.lease_ms, 30000);
	assert_int_equal(s.queue_layout, MGR_QUEUE_COFFER);
	assert_string_equal(s.tee_backend, "sim");
	assert_string_equal(s.coordinator, "http://coord:8600");
	mgr_jobspec_release(&s);
}

static void
test_jobspec__normalised_form_round_trips(void **state)
{
	struct mgr_jobspec a, b;
	struct coffer_buf t1 = COFFER_BUF_INIT(1 << 20), t2 = COFFER_BUF_INIT(1 << 20);
	json_t *j1, *j2;
	const char *deadline = "{\"app\": \"/x/app\", \"inputs\": {\"items_url\":"
	    " \"http://h/w.txt\"}, \"deadline\": \"2027-01-15T08:00:30Z\","
	    " \"replicas\": {\"max\": 2}, \"controller\": {\"name\": \"static\"}}";

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(parse(deadline, 0, &a), 0);
	/* 2027-01-15T08:00:30Z is 1800000030: 30 s after NOW. */
	assert_true(a.expected_time_s == 30);
	assert_int_equal(a.deadline_unix, NOW + 30);
	assert_non_null(j1 = mgr_jobspec_to_json(&a));
	assert_int_equal(coffer_json_dump(j1, &t1), 0);
	/* Stored: the deadline is informational next to expected_time_s,
	 * even once it is in the past. */
	assert_int_equal(mgr_jobspec_parse_text(coffer_buf_str(&t1), t1.len,
	    1 << 20, NOW + 1000, 1, &b), 0);
	assert_true(b.expected_time_s == 30);
	assert_non_null(j2 = mgr_jobspec_to_json(&b));
	assert_int_equal(coffer_json_dump(j2, &t2), 0);
	assert_string_equal(coffer_buf_str(&t1), coffer_buf_str(&t2));
	json_decref(j1);
	json_decref(j2);
	coffer_buf_release(&t1);
	coffer_buf_release(&t2);
	mgr_jobspec_release(&a);
	mgr_jobspec_release(&b);
}

/* Replace the first occurrence of from in good with to, parse, and check
 * that the error detail starts with field. */
static void
expect_error(const char *from, const char *to, int err, const char *field)
{
	char text[4096];
	const char *p = strstr(good, from);
	struct mgr_jobspec s;
	int r;

	assert_non_null(p);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - good), good, to,
	    p + strlen(from));
	memset(&s, 0, sizeof(s));
	r = parse(text, 0, &s);
	if (r != err || strncmp(coffer_errdetail(), field, strlen(field)) != 0)
		fail_msg("'%s' -> '%s': got %d '%s', want %d '%s...'", from, to, r,
		    coffer_errdetail(), err, field);
	assert_null(s.app);
}

static void
test_jobspec__errors_name_the_field(void **state)
{
	(void)state;
	expect_error("\"max\": 6", "\"max\": 0", COFFER_E_FORMAT, "replicas.max");
	expect_error("\"min\": 1", "\"min\": 7", COFFER_E_FORMAT, "replicas.min");
	expect_error("\"min\": 1", "\"min\": \"1\"", COFFER_E_FORMAT, "replicas.min");
	expect_error("\"expected_time_s\": 25", "\"expected_time_s\": -1",
	    COFFER_E_FORMAT, "expected_time_s");
	expect_error("\"expected_time_s\": 25, ", "", COFFER_E_FORMAT,
	    "expected_time_s");
	/* Accepted once (only "> 0" was checked): 25 / 5e-324 is +Inf. */
	expect_error("\"expected_time_s\": 25", "\"expected_time_s\": 5e-324",
	    COFFER_E_FORMAT, "expected_time_s");
	expect_error("\"expected_time_s\": 25", "\"expected_time_s\": 0.999",
	    COFFER_E_FORMAT, "expected_time_s");
	expect_error("\"expected_time_s\": 25", "\"expected_time_s\": 31622401",
	    COFFER_E_FORMAT, "expected_time_s");
	expect_error("\"expected_time_s\": 25", "\"expected_time_s\": 1e309",
	    COFFER_E_FORMAT, "JSON");
	expect_error("\"expected_time_s\": 25",
	    "\"expected_time_s\": 25, \"deadline\": \"2030-01-01T00:00:00Z\"",
	    COFFER_E_FORMAT, "deadline");
	expect_error("\"expected_time_s\": 25", "\"deadline\": \"2020-01-01T00:00:00Z\"",
	    COFFER_E_FORMAT, "deadline");
	expect_error("\"expected_time_s\": 25", "\"deadline\": \"tomorrow\"",
	    COFFER_E_FORMAT, "deadline");
	expect_error("\"name\": \"demo\"", "\"nmae\": \"demo\"", COFFER_E_FORMAT,
	    "nmae");
	expect_error("\"in/b\"", "\"in/a\"", COFFER_E_FORMAT, "inputs.items");
	expect_error("\"in/b\"", "\"in b\"", COFFER_E_FORMAT, "inputs.items[1]");
	expect_error("\"in/b\"", "7", COFFER_E_FORMAT, "inputs.items[1]");
	expect_error("{\"items\": [\"in/a\", \"in/b\", \"in/c\"]}", "{}",
	    COFFER_E_FORMAT, "inputs");
	expect_error("{\"items\"", "{\"items_file\": \"/w\", \"items\"",
	    COFFER_E_FORMAT, "inputs");
	expect_error("\"check_interval_s\": 1", "\"check_interval_s\": 0",
	    COFFER_E_FORMAT, "controller.check_interval_s");
	expect_error("\"name\": \"asperathos-default\", ", "", COFFER_E_FORMAT,
	    "controller.name");
	expect_error("\"trigger_up\": 0", "\"trigger_up\": [0]", COFFER_E_FORMAT,
	    "controller.params.trigger_up");
	expect_error("\"app\": \"fault\"", "\"cmd\": [\"/bin/true\"], \"app\": \"fault\"",
	    COFFER_E_FORMAT, "app");
	expect_error("\"app\": \"fault\", ", "", COFFER_E_FORMAT, "app");
	expect_error("\"FOO\"", "\"1FOO\"", COFFER_E_FORMAT, "env");
	expect_error("\"sim\"", "\"qemu\"", COFFER_E_FORMAT, "tee.backend");
	/* The coordinator speaks plain HTTP (doc/coordinator.md section 8). */
	expect_error("http://coord", "https://coord", COFFER_E_FORMAT,
	    "tee.coordinator");
	expect_error("\"backend\"", "\"app\": \"stats\", \"backend\"",
	    COFFER_E_FORMAT, "tee.app");
	expect_error("\"env\"", "\"outputs\": {\"reduce\": \"../r\"}, \"env\"",
	    COFFER_E_FORMAT, "outputs.reduce");
	expect_error("\"env\"", "\"actuator\": \"mesos\", \"env\"", COFFER_E_FORMAT,
	    "actuator");
	expect_error("\"env\"", "\"max_attempts\": 0, \"env\"", COFFER_E_FORMAT,
	    "max_attempts");
	expect_error("{\"name\": \"demo\",", "[{\"name\": \"demo\",", COFFER_E_FORMAT,
	    "JSON");
}

static void
test_jobspec__expected_time_range_is_one_second_to_366_days(void **state)
{
	struct mgr_jobspec s;
	char text[4096];
	const char *p = strstr(good, "\"expected_time_s\": 25");
	const char *stored = "{\"app\": \"/x/app\", \"inputs\": {\"prefix\":"
	    " \"in/\"}, \"expected_time_s\": 0.25, \"replicas\": {\"max\": 2},"
	    " \"controller\": {\"name\": \"static\"}}";

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 2; i++) {
		snprintf(text, sizeof(text), "%.*s\"expected_time_s\": %s%s",
		    (int)(p - good), good, i == 0 ? "1" : "31622400",
		    p + strlen("\"expected_time_s\": 25"));
		memset(&s, 0, sizeof(s));
		assert_int_equal(parse(text, 0, &s), 0);
		assert_true(s.expected_time_s == (i == 0 ? 1 : 31622400));
		mgr_jobspec_release(&s);
	}
	/* A row an older manager stored with less than a second still loads
	 * (its job must not vanish on restart), at the minimum. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(mgr_jobspec_parse_text(stored, strlen(stored), 1 << 20,
	    NOW, 1, &s), 0);
	assert_true(s.expected_time_s == MGR_JOB_MIN_EXPECTED_S);
	mgr_jobspec_release(&s);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mgr_jobspec_parse_text(stored, strlen(stored), 1 << 20,
	    NOW, 0, &s), COFFER_E_FORMAT);
}

static void
test_jobspec__cmd_jobs_default_to_asperathos_layout(void **state)
{
	struct mgr_jobspec s;
	const char *t = "{\"cmd\": [\"/bin/consumer\", \"-v\"], \"inputs\": "
	    "{\"items_file\": \"/tmp/w.txt\"}, \"expected_time_s\": 10, "
	    "\"replicas\": {\"min\": 0, \"max\": 3}, \"controller\": "
	    "{\"name\": \"static\"}}";

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(parse(t, 0, &s), 0);
	assert_int_equal(s.queue_layout, MGR_QUEUE_ASPERATHOS);
	assert_int_equal(s.ncmd, 2);
	assert_null(s.cmd[2]);
	/* With min 0 a job still starts with one replica. */
	assert_int_equal(s.initial_replicas, 1);
	mgr_jobspec_release(&s);
}

#define POLICY "3b5ac6b1c4bb4f48c55ad3a4e2fc8a0e1d1c8a33bd0b7ab5c4a7d57a3c6c5e01"

/* A confidential job names its policy; its items come from the policy
 * (doc/manager.md section 9), so it gives none; the coordinator's job id
 * is the manager's own record, in the stored form only. */
static void
test_jobspec__confidential_jobs(void **state)
{
	struct mgr_jobspec s, b;
	struct coffer_buf t = COFFER_BUF_INIT(1 << 20);
	json_t *j;
	char text[4096];
	static const char conf[] = "{\"app\": \"pooled-stats\", \"app_params\":"
	    " {\"target\": \"diagnosis\"}, \"tee\": {\"policy\": \"" POLICY "\"},"
	    " %s \"expected_time_s\": 60, \"replicas\": {\"max\": 4},"
	    " \"controller\": {\"name\": \"deadline\"}}";

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&b, 0, sizeof(b));
	snprintf(text, sizeof(text), conf, "");
	assert_int_equal(parse(text, 0, &s), 0);
	assert_string_equal(s.tee_policy, POLICY);
	assert_null(s.items);
	assert_null(s.tee_job);
	/* What mgr_conf_prepare adds, stored and read back. */
	assert_non_null(s.items = calloc(3, sizeof(char *)));
	assert_non_null(s.items[0] = strdup("a/wdbc.csv"));
	assert_non_null(s.items[1] = strdup("b/wdbc.csv"));
	s.nitems = 2;
	assert_non_null(s.tee_job = strdup("0123456789abcdef0123456789abcdef"));
	assert_non_null(s.reduce = strdup("out/result"));
	assert_non_null(j = mgr_jobspec_to_json(&s));
	assert_int_equal(coffer_json_dump(j, &t), 0);
	json_decref(j);
	assert_int_equal(parse(coffer_buf_str(&t), 1, &b), 0);
	assert_int_equal(b.nitems, 2);
	assert_string_equal(b.items[1], "b/wdbc.csv");
	assert_string_equal(b.tee_job, "0123456789abcdef0123456789abcdef");
	assert_string_equal(b.reduce, "out/result");
	mgr_jobspec_release(&b);
	/* A client cannot name the job (nor items): the manager opens it. */
	assert_int_equal(parse(coffer_buf_str(&t), 0, &b), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "tee.job"));
	mgr_jobspec_release(&b);
	mgr_jobspec_release(&s);
	coffer_buf_release(&t);

	snprintf(text, sizeof(text), conf, "\"inputs\": {\"prefix\": \"in/\"},");
	assert_int_equal(parse(text, 0, &s), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "inputs: a confidential job's "
	    "items are fixed by its policy"));
	/* The store of the sealed inputs may be given. */
	snprintf(text, sizeof(text), conf, "\"inputs\": {\"store\": \"/srv/s\"},");
	assert_int_equal(parse(text, 0, &s), 0);
	assert_string_equal(s.input_store, "/srv/s");
	mgr_jobspec_release(&s);
	snprintf(text, sizeof(text), conf, "\"cmd\": [\"/bin/x\"],");
	assert_int_equal(parse(text, 0, &s), COFFER_E_FORMAT);
	snprintf(text, sizeof(text), conf, "");
	memcpy(strstr(text, POLICY), "3B", 2);
	assert_int_equal(parse(text, 0, &s), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "tee.policy"));
	snprintf(text, sizeof(text), conf, "");
	{
		char t2[4096];

		snprintf(t2, sizeof(t2), "%.*s\"backend\": \"none\", %s",
		    (int)(strstr(text, "\"policy\"") - text), text,
		    strstr(text, "\"policy\""));
		assert_int_equal(parse(t2, 0, &s), COFFER_E_FORMAT);
		assert_non_null(strstr(coffer_errdetail(), "tee.backend"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobspec__parses_with_defaults),
		cmocka_unit_test(test_jobspec__expected_time_range_is_one_second_to_366_days),
		cmocka_unit_test(test_jobspec__normalised_form_round_trips),
		cmocka_unit_test(test_jobspec__errors_name_the_field),
		cmocka_unit_test(test_jobspec__cmd_jobs_default_to_asperathos_layout),
		cmocka_unit_test(test_jobspec__confidential_jobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
