// SPDX-License-Identifier: Apache-2.0
// Unit tests for Asperathos submissions (src/manager/asperathos.c): the
// documented job files are accepted, ignored and stored fields are listed,
// and invalid control parameters are refused naming the field.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/json.h"
#include "manager/asperathos.h"

/* As asperathos's docs/quick-start.md shows it, with the schedule_strategy
 * the controller's kubejobs alarm reads. */
static const char tutorial[] =
    "{\"plugin\":\"kubejobs\",\"plugin_info\":{\"username\":\"user\","
    "\"password\":\"psswrd\",\"cmd\":[\"python\",\"application.py\"],"
    "\"img\":\"img-url:port\",\"init_size\":1,\"redis_workload\":"
    "\"https://example.org/workload-url.txt\",\"config_id\":\"id\","
    "\"control_plugin\":\"kubejobs\",\"control_parameters\":{\"max_size\":10,"
    "\"schedule_strategy\":\"default\",\"actuator\":\"k8s_replicas\","
    "\"check_interval\":5,\"trigger_down\":0,\"trigger_up\":0,\"min_rep\":1,"
    "\"max_rep\":10,\"actuation_size\":1,\"metric_source\":\"redis\"},"
    "\"monitor_plugin\":\"kubejobs\",\"monitor_info\":{\"expected_time\":40},"
    "\"enable_visualizer\":true,\"visualizer_plugin\":\"k8s-grafana\","
    "\"visualizer_info\":{\"datasource_type\":\"influxdb\"},"
    "\"env_vars\":{\"S_USERNAME\":\"user\",\"N\":3}}}";

static int
parse_text(const char *t, struct mgr_asperathos *a)
{
	json_t *j = NULL;
	int r;

	if ((r = coffer_json_parse(t, strlen(t), 1 << 20, 32, &j)) != 0)
		return r;
	r = mgr_asperathos_parse(j, a);
	json_decref(j);
	return r;
}

static int
listed(const json_t *arr, const char *path)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), path) == 0)
			return 1;
	return 0;
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
test_asperathos__tutorial_job_is_accepted(void **state)
{
	struct mgr_asperathos a;
	struct mgr_jobspec *s = &a.spec;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(parse_text(tutorial, &a), 0);
	assert_int_equal(s->ncmd, 2);
	assert_string_equal(s->cmd[1], "application.py");
	assert_string_equal(s->image, "img-url:port");
	assert_string_equal(s->items_url, "https://example.org/workload-url.txt");
	assert_null(s->items_file);
	assert_string_equal(s->controller, "asperathos-default");
	assert_true(s->check_interval_s == 5);
	assert_true(s->expected_time_s == 40);
	assert_int_equal(s->min_replicas, 1);
	assert_int_equal(s->max_replicas, 10);
	assert_int_equal(s->initial_replicas, 1);
	assert_string_equal(s->actuator, "k8s_replicas");
	assert_int_equal(s->queue_layout, MGR_QUEUE_ASPERATHOS);
	assert_string_equal(kv(s->ctl_params, s->nctl_params, "trigger_up"), "0");
	assert_string_equal(kv(s->ctl_params, s->nctl_params, "actuation_size"), "1");
	assert_null(kv(s->ctl_params, s->nctl_params, "max_size"));
	assert_string_equal(kv(s->env, s->nenv, "N"), "3");
	assert_true(listed(a.ignored, "plugin_info.username"));
	assert_true(listed(a.ignored, "plugin_info.password"));
	assert_true(listed(a.ignored, "plugin_info.config_id"));
	assert_true(listed(a.ignored, "plugin_info.control_parameters.max_size"));
	assert_false(listed(a.ignored, "plugin_info.cmd"));
	assert_true(listed(a.stored, "plugin_info.img"));
	assert_true(listed(a.stored, "plugin_info.visualizer_info"));
	assert_true(listed(a.stored, "plugin_info.control_parameters.actuator"));
	mgr_asperathos_release(&a);
}

static void
test_asperathos__pid_strategy_maps_the_gains(void **state)
{
	struct mgr_asperathos a;
	const char *pid = "{\"plugin\":\"kubejobs\",\"enable_auth\":false,"
	    "\"plugin_info\":{\"cmd\":[\"/bin/c\"],\"init_size\":2,"
	    "\"redis_workload\":\"/data/work.txt\",\"control_plugin\":\"kubejobs\","
	    "\"control_parameters\":{\"schedule_strategy\":\"pid\",\"actuator\":"
	    "\"k8s_replicas\",\"check_interval\":2,\"trigger_down\":0,"
	    "\"trigger_up\":0,\"min_rep\":1,\"max_rep\":5,\"actuation_size\":1,"
	    "\"metric_source\":\"redis\",\"heuristic_options\":{"
	    "\"proportional_gain\":0.1,\"integral_gain\":0,\"derivative_gain\":-2}},"
	    "\"monitor_plugin\":\"kubejobs\",\"monitor_info\":{\"expected_time\":30},"
	    "\"job_resources_lifetime\":120,\"secrets\":[\"x\"]}}";

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(parse_text(pid, &a), 0);
	assert_string_equal(a.spec.controller, "asperathos-pid");
	assert_string_equal(kv(a.spec.ctl_params, a.spec.nctl_params,
	    "proportional_gain"), "0.10000000000000001");
	assert_string_equal(kv(a.spec.ctl_params, a.spec.nctl_params,
	    "derivative_gain"), "-2");
	assert_null(kv(a.spec.ctl_params, a.spec.nctl_params, "trigger_up"));
	assert_string_equal(a.spec.items_file, "/data/work.txt");
	assert_int_equal(a.spec.initial_replicas, 2);
	assert_true(listed(a.ignored, "enable_auth"));
	assert_true(listed(a.ignored, "plugin_info.secrets"));
	assert_true(listed(a.ignored, "plugin_info.job_resources_lifetime"));
	assert_true(listed(a.ignored, "plugin_info.control_parameters.trigger_up"));
	mgr_asperathos_release(&a);
}

static void
expect_error(const char *from, const char *to, int err, const char *field)
{
	char text[4096];
	const char *p = strstr(tutorial, from);
	struct mgr_asperathos a;
	int r;

	assert_non_null(p);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - tutorial), tutorial,
	    to, p + strlen(from));
	memset(&a, 0, sizeof(a));
	r = parse_text(text, &a);
	if (r != err || strncmp(coffer_errdetail(), field, strlen(field)) != 0)
		fail_msg("'%s' -> '%s': got %d '%s', want %d '%s...'", from, to, r,
		    coffer_errdetail(), err, field);
	assert_null(a.spec.cmd);
	assert_null(a.ignored);
}

#define CP "plugin_info.control_parameters."

static void
test_asperathos__invalid_control_is_refused_naming_the_field(void **state)
{
	(void)state;
	expect_error("\"schedule_strategy\":\"default\",", "", COFFER_E_FORMAT,
	    CP "schedule_strategy: missing");
	expect_error("\"schedule_strategy\":\"default\"",
	    "\"schedule_strategy\":\"scripted\"", COFFER_E_UNSUPPORTED,
	    CP "schedule_strategy");
	expect_error("\"min_rep\":1", "\"min_rep\":11", COFFER_E_FORMAT,
	    CP "min_rep: 11 is greater than max_rep");
	expect_error("\"min_rep\":1", "\"min_rep\":0", COFFER_E_FORMAT, CP "min_rep");
	expect_error("\"trigger_up\":0", "\"trigger_up\":\"0\"", COFFER_E_FORMAT,
	    CP "trigger_up: expected a number");
	expect_error("\"trigger_up\":0,", "", COFFER_E_FORMAT, CP "trigger_up: missing");
	expect_error("\"actuation_size\":1", "\"actuation_size\":0", COFFER_E_FORMAT,
	    CP "actuation_size");
	expect_error("\"check_interval\":5", "\"check_interval\":0", COFFER_E_FORMAT,
	    CP "check_interval");
	expect_error("\"metric_source\":\"redis\"", "\"metric_source\":\"monasca\"",
	    COFFER_E_UNSUPPORTED, CP "metric_source");
	expect_error("\"actuator\":\"k8s_replicas\"", "\"actuator\":\"kvm\"",
	    COFFER_E_UNSUPPORTED, CP "actuator");
	expect_error("\"max_rep\":10", "\"max_reps\":10", COFFER_E_FORMAT,
	    CP "max_reps: unknown field");
	expect_error("\"schedule_strategy\":\"default\"",
	    "\"schedule_strategy\":\"pid\"", COFFER_E_FORMAT,
	    CP "heuristic_options: missing");
	expect_error("\"control_plugin\":\"kubejobs\"",
	    "\"control_plugin\":\"vertical\"", COFFER_E_UNSUPPORTED,
	    "plugin_info.control_plugin");
	expect_error("\"plugin\":\"kubejobs\"", "\"plugin\":\"spark_sahara\"",
	    COFFER_E_UNSUPPORTED, "plugin");
	expect_error("\"expected_time\":40", "\"expected_time\":0", COFFER_E_FORMAT,
	    "plugin_info.monitor_info.expected_time");
	expect_error("\"expected_time\":40", "\"expected_time\":5e-324",
	    COFFER_E_FORMAT, "plugin_info.monitor_info.expected_time");
	expect_error("\"expected_time\":40", "\"expected_time\":0.5",
	    COFFER_E_FORMAT, "plugin_info.monitor_info.expected_time");
	expect_error("\"init_size\":1", "\"init_size\":12", COFFER_E_FORMAT,
	    "plugin_info.init_size");
	expect_error("[\"python\",\"application.py\"]", "[]", COFFER_E_FORMAT,
	    "plugin_info.cmd");
	expect_error("\"https://example.org/workload-url.txt\"", "\"ftp://x/w\"",
	    COFFER_E_UNSUPPORTED, "plugin_info.redis_workload");
	expect_error("\"S_USERNAME\"", "\"A=B\"", COFFER_E_FORMAT,
	    "plugin_info.env_vars");
	expect_error("\"monitor_plugin\":\"kubejobs\"",
	    "\"monitor_plugin\":\"spark\"", COFFER_E_UNSUPPORTED,
	    "plugin_info.monitor_plugin");
}

static void
test_asperathos__status_names_follow_asperathos(void **state)
{
	(void)state;
	assert_string_equal(mgr_asperathos_status("pending"), "created");
	assert_string_equal(mgr_asperathos_status("running"), "ongoing");
	assert_string_equal(mgr_asperathos_status("completed"), "completed");
	assert_string_equal(mgr_asperathos_status("failed"), "error");
	assert_string_equal(mgr_asperathos_status("stopped"), "terminated");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asperathos__tutorial_job_is_accepted),
		cmocka_unit_test(test_asperathos__pid_strategy_maps_the_gains),
		cmocka_unit_test(test_asperathos__invalid_control_is_refused_naming_the_field),
		cmocka_unit_test(test_asperathos__status_names_follow_asperathos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
