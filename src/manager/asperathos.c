// SPDX-License-Identifier: Apache-2.0
// Asperathos "kubejobs" submissions (asperathos.h). The field list follows
// Asperathos's manager (broker/plugins/kubejobs), controller
// (plugins/controller/kubejobs, plugins/scheduler/{default,pid}) and monitor
// (plugins/kubejobs) as their documentation and tutorials show them. Where
// Asperathos would crash later on a missing or mistyped control parameter
// (and leave the job running uncontrolled), we refuse the submission now.
#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "manager/asperathos.h"

#define PI "plugin_info"
#define CP "plugin_info.control_parameters"

void
mgr_asperathos_release(struct mgr_asperathos *a)
{
	mgr_jobspec_release(&a->spec);
	json_decref(a->ignored);
	json_decref(a->stored);
	a->ignored = NULL;
	a->stored = NULL;
}

const char *
mgr_asperathos_status(const char *state)
{
	/* broker/plugins/kubejobs: created, ongoing, completed, error,
	 * terminated. */
	if (strcmp(state, "pending") == 0)
		return "created";
	if (strcmp(state, "running") == 0)
		return "ongoing";
	if (strcmp(state, "completed") == 0)
		return "completed";
	if (strcmp(state, "failed") == 0)
		return "error";
	if (strcmp(state, "stopped") == 0)
		return "terminated";
	return state;
}

static int
note(json_t *list, const char *ctx, const char *key)
{
	char path[128];

	snprintf(path, sizeof(path), "%s%s%s", ctx != NULL ? ctx : "",
	    ctx != NULL ? "." : "", key);
	return json_array_append_new(list, json_string(path)) == 0 ? 0 :
	    COFFER_E_NOMEM;
}

/* Record, for each member of obj that is in names, that it is ignored or
 * stored, when present. */
static int
note_present(const json_t *obj, const char *ctx, const char *const *names,
    json_t *list)
{
	int r;

	for (size_t i = 0; names[i] != NULL; i++)
		if (json_object_get(obj, names[i]) != NULL &&
		    (r = note(list, ctx, names[i])) != 0)
			return r;
	return 0;
}

static int
num_param(const json_t *cp, const char *key, double min, struct mgr_jobspec *s,
    const char *as)
{
	double d = 0;
	char v[64];
	int r;

	if ((r = coffer_json_get_num(cp, CP, key, 1, min, 1e9, &d)) != 0)
		return r;
	snprintf(v, sizeof(v), "%.17g", d);
	return mgr_kv_add(&s->ctl_params, &s->nctl_params, as, v);
}

static int
parse_control(const json_t *cp, struct mgr_asperathos *a)
{
	/* Every member Asperathos's kubejobs controller and its schedulers
	 * read, plus the old ones it ignores. */
	static const char *const keys[] = { "schedule_strategy", "actuator",
		"check_interval", "trigger_up", "trigger_down", "min_rep",
		"max_rep", "actuation_size", "metric_source", "heuristic_options",
		"max_size", NULL };
	static const char *const ignored[] = { "max_size", NULL };
	static const char *const hkeys[] = { "proportional_gain",
		"integral_gain", "derivative_gain", NULL };
	struct mgr_jobspec *s = &a->spec;
	const char *strategy = NULL, *actuator = NULL, *ms = NULL;
	json_t *h = NULL;
	int64_t min = 0, max = 0, size = 0;
	double ci = 0;
	int r;

	if ((r = coffer_json_check_keys(cp, CP, keys)) != 0 ||
	    (r = note_present(cp, CP, ignored, a->ignored)) != 0)
		return r;
	if ((r = coffer_json_get_str(cp, CP, "schedule_strategy", 1, &strategy)) != 0 ||
	    (r = coffer_json_get_str(cp, CP, "actuator", 1, &actuator)) != 0 ||
	    (r = coffer_json_get_num(cp, CP, "check_interval", 1, 0.1, 86400,
	    &ci)) != 0 ||
	    (r = coffer_json_get_int(cp, CP, "min_rep", 1, 1, MGR_JOB_MAX_REPLICAS,
	    &min)) != 0 ||
	    (r = coffer_json_get_int(cp, CP, "max_rep", 1, 1, MGR_JOB_MAX_REPLICAS,
	    &max)) != 0 ||
	    (r = coffer_json_get_str(cp, CP, "metric_source", 1, &ms)) != 0)
		return r;
	if (min > max)
		return coffer_errf(COFFER_E_FORMAT,
		    CP ".min_rep: %lld is greater than max_rep (%lld)",
		    (long long)min, (long long)max);
	if (strcmp(ms, "redis") != 0)
		return coffer_errf(COFFER_E_UNSUPPORTED,
		    CP ".metric_source: '%s' is not supported (only 'redis': the "
		    "progress comes from the job's queue)", ms);
	if (strcmp(actuator, "k8s_replicas") != 0 && strcmp(actuator, "local") != 0)
		return coffer_errf(COFFER_E_UNSUPPORTED,
		    CP ".actuator: '%s' is not supported (k8s_replicas or local)",
		    actuator);
	if ((r = mgr_strdup_checked(actuator, CP ".actuator", &s->actuator)) != 0)
		return r;
	if (strcmp(actuator, "k8s_replicas") == 0 &&
	    (r = note(a->stored, CP, "actuator")) != 0)
		return r;
	s->min_replicas = (int)min;
	s->max_replicas = (int)max;
	s->check_interval_s = ci;

	if (strcmp(strategy, "default") == 0) {
		if ((s->controller = coffer_strdup("asperathos-default")) == NULL)
			return COFFER_E_NOMEM;
		if ((r = num_param(cp, "trigger_up", 0, s, "trigger_up")) != 0 ||
		    (r = num_param(cp, "trigger_down", 0, s, "trigger_down")) != 0 ||
		    (r = coffer_json_get_int(cp, CP, "actuation_size", 1, 1,
		    MGR_JOB_MAX_REPLICAS, &size)) != 0)
			return r;
		char v[32];

		snprintf(v, sizeof(v), "%lld", (long long)size);
		if ((r = mgr_kv_add(&s->ctl_params, &s->nctl_params,
		    "actuation_size", v)) != 0)
			return r;
		/* Read by the pid strategy only. */
		if (json_object_get(cp, "heuristic_options") != NULL &&
		    (r = note(a->ignored, CP, "heuristic_options")) != 0)
			return r;
	} else if (strcmp(strategy, "pid") == 0) {
		if ((s->controller = coffer_strdup("asperathos-pid")) == NULL)
			return COFFER_E_NOMEM;
		if ((r = coffer_json_get_obj(cp, CP, "heuristic_options", 1, &h)) != 0 ||
		    (r = coffer_json_check_keys(h, CP ".heuristic_options",
		    hkeys)) != 0)
			return r;
		for (size_t i = 0; hkeys[i] != NULL; i++) {
			double d = 0;
			char v[64];

			if ((r = coffer_json_get_num(h, CP ".heuristic_options",
			    hkeys[i], 1, -1e9, 1e9, &d)) != 0)
				return r;
			snprintf(v, sizeof(v), "%.17g", d);
			if ((r = mgr_kv_add(&s->ctl_params, &s->nctl_params,
			    hkeys[i], v)) != 0)
				return r;
		}
		/* Read by the default strategy only; Asperathos's pid ignores
		 * them, but a wrong type is still a mistake worth reporting. */
		static const char *const dkeys[] = { "trigger_up",
			"trigger_down", "actuation_size", NULL };
		for (size_t i = 0; dkeys[i] != NULL; i++) {
			double d;

			if (json_object_get(cp, dkeys[i]) == NULL)
				continue;
			if ((r = coffer_json_get_num(cp, CP, dkeys[i], 0, 0, 1e9,
			    &d)) != 0 || (r = note(a->ignored, CP, dkeys[i])) != 0)
				return r;
		}
	} else {
		return coffer_errf(COFFER_E_UNSUPPORTED,
		    CP ".schedule_strategy: '%s' is not supported ('default' or 'pid')",
		    strategy);
	}
	return 0;
}

static int
parse_env(const json_t *env, struct mgr_jobspec *s)
{
	const char *key;
	json_t *v;
	char val[MGR_JOB_MAX_STRING + 1], ctx[192];
	int r;

	if (json_object_size(env) > MGR_JOB_MAX_ENV)
		return coffer_errf(COFFER_E_FORMAT, PI ".env_vars: more than %d entries",
		    MGR_JOB_MAX_ENV);
	json_object_foreach((json_t *)env, key, v) {
		snprintf(ctx, sizeof(ctx), PI ".env_vars.%s", key);
		/* Containers take other names; a process environment that
		 * every shell and the job store can carry takes these. */
		if (!mgr_env_name_valid(key))
			return coffer_errf(COFFER_E_FORMAT,
			    "%s: not a valid environment variable name "
			    "([A-Za-z_][A-Za-z0-9_]*)", ctx);
		if ((r = mgr_json_scalar_str(v, ctx, val, sizeof(val))) != 0)
			return r;
		for (const char *p = val; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t')
				return coffer_errf(COFFER_E_FORMAT,
				    "%s: control character in the value", ctx);
		if ((r = mgr_kv_add(&s->env, &s->nenv, key, val)) != 0)
			return r;
	}
	return 0;
}

static int
parse_plugin_info(const json_t *pi, struct mgr_asperathos *a)
{
	static const char *const keys[] = { "cmd", "img", "init_size",
		"redis_workload", "env_vars", "control_plugin",
		"control_parameters", "monitor_plugin", "monitor_info",
		"enable_visualizer", "visualizer_plugin", "visualizer_info",
		"config_id", "secrets", "job_resources_lifetime", "username",
		"password", "cluster_name", "resources", NULL };
	/* Belong to Asperathos's other services, or do nothing there. */
	static const char *const ignored[] = { "config_id", "secrets",
		"job_resources_lifetime", "username", "password", NULL };
	/* Kept for the Kubernetes actuator and the dashboard. */
	static const char *const stored[] = { "img", "cluster_name", "resources",
		"enable_visualizer", "visualizer_plugin", "visualizer_info", NULL };
	struct mgr_jobspec *s = &a->spec;
	const char *str = NULL;
	json_t *o = NULL, *mi = NULL;
	int64_t init = -1;
	double et = 0;
	int vis = 0, r;

	if ((r = coffer_json_check_keys(pi, PI, keys)) != 0 ||
	    (r = note_present(pi, PI, ignored, a->ignored)) != 0 ||
	    (r = note_present(pi, PI, stored, a->stored)) != 0)
		return r;

	/* What runs: cmd, in the image Kubernetes would pull. */
	if ((r = coffer_json_get_arr(pi, PI, "cmd", 1, &o)) != 0)
		return r;
	if (json_array_size(o) == 0 || json_array_size(o) > MGR_JOB_MAX_ARGS)
		return coffer_errf(COFFER_E_FORMAT,
		    PI ".cmd: expected 1 to %d strings", MGR_JOB_MAX_ARGS);
	if ((s->cmd = coffer_calloc(json_array_size(o) + 1, sizeof(char *))) == NULL)
		return COFFER_E_NOMEM;
	for (size_t i = 0; i < json_array_size(o); i++) {
		json_t *e = json_array_get(o, i);
		char ctx[64];

		snprintf(ctx, sizeof(ctx), PI ".cmd[%zu]", i);
		if (!json_is_string(e))
			return coffer_errf(COFFER_E_FORMAT, "%s: expected a string", ctx);
		s->ncmd = i + 1;
		if ((r = mgr_strdup_checked(json_string_value(e), ctx,
		    &s->cmd[i])) != 0)
			return r;
	}
	str = NULL;
	if ((r = coffer_json_get_str(pi, PI, "img", 0, &str)) != 0 ||
	    (str != NULL && (r = mgr_strdup_checked(str, PI ".img", &s->image)) != 0))
		return r;

	/* The workload: a URL (Asperathos) or a file on this machine. */
	str = NULL;
	if ((r = coffer_json_get_str(pi, PI, "redis_workload", 1, &str)) != 0)
		return r;
	if (str[0] == '\0')
		return coffer_errf(COFFER_E_FORMAT, PI ".redis_workload: empty");
	if (strncmp(str, "http://", 7) == 0 || strncmp(str, "https://", 8) == 0 ||
	    strncmp(str, "file://", 7) == 0)
		r = mgr_strdup_checked(str, PI ".redis_workload", &s->items_url);
	else if (strstr(str, "://") != NULL)
		r = coffer_errf(COFFER_E_UNSUPPORTED,
		    PI ".redis_workload: only http://, https:// and file:// URLs, or a path");
	else
		r = mgr_strdup_checked(str, PI ".redis_workload", &s->items_file);
	if (r != 0)
		return r;

	o = NULL;
	if ((r = coffer_json_get_obj(pi, PI, "env_vars", 0, &o)) != 0 ||
	    (o != NULL && (r = parse_env(o, s)) != 0))
		return r;

	/* Control. */
	str = NULL;
	if ((r = coffer_json_get_str(pi, PI, "control_plugin", 1, &str)) != 0)
		return r;
	if (strcmp(str, "kubejobs") != 0)
		return coffer_errf(COFFER_E_UNSUPPORTED,
		    PI ".control_plugin: '%s' is not supported (only 'kubejobs')", str);
	o = NULL;
	if ((r = coffer_json_get_obj(pi, PI, "control_parameters", 1, &o)) != 0 ||
	    (r = parse_control(o, a)) != 0)
		return r;
	if ((r = coffer_json_get_int(pi, PI, "init_size", 0, 0,
	    MGR_JOB_MAX_REPLICAS, &init)) != 0)
		return r;
	s->initial_replicas = init >= 0 ? (int)init : s->min_replicas;
	if (s->initial_replicas < s->min_replicas ||
	    s->initial_replicas > s->max_replicas)
		return coffer_errf(COFFER_E_FORMAT,
		    PI ".init_size: %d is outside [min_rep %d, max_rep %d]",
		    s->initial_replicas, s->min_replicas, s->max_replicas);

	/* Monitor. */
	str = NULL;
	if ((r = coffer_json_get_str(pi, PI, "monitor_plugin", 1, &str)) != 0)
		return r;
	if (strcmp(str, "kubejobs") != 0)
		return coffer_errf(COFFER_E_UNSUPPORTED,
		    PI ".monitor_plugin: '%s' is not supported (only 'kubejobs')", str);
	if ((r = coffer_json_get_obj(pi, PI, "monitor_info", 1, &mi)) != 0 ||
	    (r = coffer_json_get_num(mi, PI ".monitor_info", "expected_time", 1,
	    MGR_JOB_MIN_EXPECTED_S, MGR_JOB_MAX_EXPECTED_S, &et)) != 0)
		return r;
	s->expected_time_s = et;
	{
		const char *key;
		json_t *v;

		json_object_foreach(mi, key, v)
			if (strcmp(key, "expected_time") != 0 &&
			    (r = note(a->ignored, PI ".monitor_info", key)) != 0)
				return r;
	}

	/* Visualizer: accepted (the dashboard will read them). */
	if ((r = coffer_json_get_bool(pi, PI, "enable_visualizer", 0, &vis)) != 0)
		return r;
	str = NULL;
	if ((r = coffer_json_get_str(pi, PI, "visualizer_plugin", 0, &str)) != 0)
		return r;
	o = NULL;
	if ((r = coffer_json_get_obj(pi, PI, "visualizer_info", 0, &o)) != 0)
		return r;
	str = NULL;
	if ((r = coffer_json_get_str(pi, PI, "cluster_name", 0, &str)) != 0)
		return r;
	return 0;
}

int
mgr_asperathos_parse(const json_t *j, struct mgr_asperathos *out)
{
	static const char *const keys[] = { "plugin", "plugin_info",
		"enable_auth", "username", "password", NULL };
	static const char *const ignored[] = { "enable_auth", "username",
		"password", NULL };
	struct mgr_asperathos a;
	const char *plugin = NULL;
	json_t *pi = NULL;
	int auth = 0, r;

	memset(&a, 0, sizeof(a));
	if (!json_is_object(j))
		return coffer_errf(COFFER_E_FORMAT, "submission: expected a JSON object");
	if ((a.ignored = json_array()) == NULL || (a.stored = json_array()) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	if ((r = coffer_json_check_keys(j, NULL, keys)) != 0 ||
	    (r = note_present(j, NULL, ignored, a.ignored)) != 0 ||
	    (r = coffer_json_get_bool(j, NULL, "enable_auth", 0, &auth)) != 0 ||
	    (r = coffer_json_get_str(j, NULL, "plugin", 1, &plugin)) != 0)
		goto out;
	if (strcmp(plugin, "kubejobs") != 0) {
		r = coffer_errf(COFFER_E_UNSUPPORTED,
		    "plugin: '%s' is not supported (only 'kubejobs')", plugin);
		goto out;
	}
	if ((r = coffer_json_get_obj(j, NULL, "plugin_info", 1, &pi)) != 0 ||
	    (r = parse_plugin_info(pi, &a)) != 0)
		goto out;
	a.spec.queue_layout = MGR_QUEUE_ASPERATHOS;
	a.spec.max_attempts = 3;
	a.spec.lease_ms = 30000;
	if ((r = mgr_jobspec_validate(&a.spec)) != 0)
		goto out;
	*out = a;
	memset(&a, 0, sizeof(a));
out:
	mgr_asperathos_release(&a);
	return r;
}
