// SPDX-License-Identifier: Apache-2.0
// The native job specification (jobspec.h, doc/api.md "Job specification"):
// strict parsing, cross-field validation, and the normalised form the job
// store keeps. Every error names the field, because the API turns it into
// {"error": {"field": ...}}.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "lib/suggest.h"
#include "http/http.h"
#include "manager/jobspec.h"
#include "http/jsonout.h"
#include "queue/queue.h"
#include "store/store.h"

static void
kv_free(struct mgr_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void
strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
mgr_jobspec_release(struct mgr_jobspec *s)
{
	free(s->name);
	free(s->app);
	kv_free(s->app_params, s->napp_params);
	strv_free(s->cmd, s->ncmd);
	kv_free(s->env, s->nenv);
	strv_free(s->items, s->nitems);
	free(s->items_file);
	free(s->items_url);
	free(s->items_prefix);
	free(s->input_store);
	free(s->output_store);
	free(s->output_prefix);
	free(s->controller);
	kv_free(s->ctl_params, s->nctl_params);
	free(s->actuator);
	free(s->image);
	free(s->tee_backend);
	free(s->coordinator);
	free(s->tee_policy);
	free(s->tee_app);
	free(s->tee_job);
	json_decref(s->tee_owners);
	free(s->reduce);
	memset(s, 0, sizeof(*s));
}

int
mgr_strdup_checked(const char *s, const char *ctx, char **out)
{
	size_t n = strlen(s);
	char *d;

	if (n > MGR_JOB_MAX_STRING)
		return coffer_errf(COFFER_E_FORMAT,
		    "%s: longer than %d bytes", ctx, MGR_JOB_MAX_STRING);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return coffer_errf(COFFER_E_FORMAT,
			    "%s: control character at offset %zu", ctx, i);
	if ((d = coffer_strdup(s)) == NULL)
		return COFFER_E_NOMEM;
	free(*out);
	*out = d;
	return 0;
}

int
mgr_kv_add(struct mgr_kv **kv, size_t *n, const char *key, const char *value)
{
	struct mgr_kv *p;
	char *k = NULL, *v = NULL;

	if ((k = coffer_strdup(key)) == NULL || (v = coffer_strdup(value)) == NULL) {
		free(k);
		return COFFER_E_NOMEM;
	}
	if ((p = coffer_reallocarray(*kv, *n + 1, sizeof(*p))) == NULL) {
		free(k);
		free(v);
		return COFFER_E_NOMEM;
	}
	p[*n].key = k;
	p[*n].value = v;
	*kv = p;
	(*n)++;
	return 0;
}

int
mgr_json_scalar_str(const json_t *v, const char *ctx, char *out, size_t outlen)
{
	int n;

	if (json_is_string(v)) {
		if (json_string_length(v) >= outlen)
			return coffer_errf(COFFER_E_FORMAT, "%s: too long", ctx);
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
		return 0;
	}
	if (json_is_integer(v))
		n = snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		n = snprintf(out, outlen, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		n = snprintf(out, outlen, "%s", json_is_true(v) ? "true" : "false");
	else
		return coffer_errf(COFFER_E_FORMAT,
		    "%s: expected a string, number or boolean", ctx);
	if (n < 0 || (size_t)n >= outlen)
		return coffer_errf(COFFER_E_FORMAT, "%s: too long", ctx);
	return 0;
}

int
mgr_env_name_valid(const char *k)
{
	if (!((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z') ||
	    k[0] == '_'))
		return 0;
	for (const char *p = k; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return strlen(k) <= 128;
}

static int
valid_param_name(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 64)
		return 0;
	for (const char *p = k; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.'))
			return 0;
	return 1;
}

/* An object of scalar parameters into kv. env: names and values are an
 * environment (names [A-Za-z_][A-Za-z0-9_]*, values strings). */
static int
parse_params(const json_t *obj, const char *ctx, int env, struct mgr_kv **kv,
    size_t *n)
{
	const char *key;
	json_t *v;
	char val[MGR_JOB_MAX_STRING + 1], sub[256];
	int r;

	if (!json_is_object(obj))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an object", ctx);
	if (json_object_size(obj) > (env ? MGR_JOB_MAX_ENV : MGR_JOB_MAX_PARAMS))
		return coffer_errf(COFFER_E_FORMAT, "%s: more than %d entries", ctx,
		    env ? MGR_JOB_MAX_ENV : MGR_JOB_MAX_PARAMS);
	json_object_foreach((json_t *)obj, key, v) {
		snprintf(sub, sizeof(sub), "%s.%s", ctx, key);
		if (env ? !mgr_env_name_valid(key) : !valid_param_name(key))
			return coffer_errf(COFFER_E_FORMAT,
			    "%s: '%s' is not a valid %s name", ctx, key,
			    env ? "environment variable" : "parameter");
		if ((r = mgr_json_scalar_str(v, sub, val, sizeof(val))) != 0)
			return r;
		for (const char *p = val; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t')
				return coffer_errf(COFFER_E_FORMAT,
				    "%s: control character in the value", sub);
		if ((r = mgr_kv_add(kv, n, key, val)) != 0)
			return r;
	}
	return 0;
}

static int
parse_strv(const json_t *arr, const char *ctx, size_t max, int items,
    char ***out, size_t *nout)
{
	char **v = NULL, sub[64];
	size_t n = json_array_size(arr), i;
	int r = 0;

	if (!json_is_array(arr))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an array", ctx);
	if (n > max)
		return coffer_errf(items ? COFFER_E_LIMIT : COFFER_E_FORMAT,
		    "%s: more than %zu entries", ctx, max);
	if ((v = coffer_calloc(n + 1, sizeof(*v))) == NULL)
		return COFFER_E_NOMEM;
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);

		snprintf(sub, sizeof(sub), "%s[%zu]", ctx, i);
		if (!json_is_string(e)) {
			r = coffer_errf(COFFER_E_FORMAT, "%s: expected a string", sub);
			goto fail;
		}
		if (items) {
			if ((r = coffer_queue_check_item(json_string_value(e),
			    json_string_length(e))) != 0) {
				r = coffer_errctx(r, "%s", sub);
				goto fail;
			}
			if ((v[i] = coffer_strdup(json_string_value(e))) == NULL) {
				r = COFFER_E_NOMEM;
				goto fail;
			}
		} else if ((r = mgr_strdup_checked(json_string_value(e), sub,
		    &v[i])) != 0) {
			goto fail;
		}
	}
	*out = v;
	*nout = n;
	return 0;
fail:
	strv_free(v, n);
	return r;
}

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
get_str(const json_t *obj, const char *ctx, const char *key, char **out)
{
	const char *s = NULL;
	char path[128];
	int r;

	if ((r = coffer_json_get_str(obj, ctx, key, 0, &s)) != 0 || s == NULL)
		return r;
	snprintf(path, sizeof(path), "%s%s%s", ctx != NULL ? ctx : "",
	    ctx != NULL ? "." : "", key);
	if (s[0] == '\0')
		return coffer_errf(COFFER_E_FORMAT, "%s: must not be empty", path);
	return mgr_strdup_checked(s, path, out);
}

static int
parse_inputs(const json_t *in, struct mgr_jobspec *s)
{
	static const char *const keys[] = { "items", "items_file", "items_url",
		"prefix", "store", NULL };
	json_t *items = NULL;
	int r;

	if ((r = coffer_json_check_keys(in, "inputs", keys)) != 0)
		return r;
	if ((r = coffer_json_get_arr(in, "inputs", "items", 0, &items)) != 0)
		return r;
	if (items != NULL && (r = parse_strv(items, "inputs.items",
	    MGR_JOB_MAX_ITEMS, 1, &s->items, &s->nitems)) != 0)
		return r;
	if (items != NULL) {
		/* Duplicates would be refused by the queue at load time;
		 * refuse them now, while the client can still be told. The
		 * check sorts a copy of the pointers. */
		char **sorted = coffer_mallocarray(s->nitems, sizeof(*sorted));

		if (sorted == NULL)
			return COFFER_E_NOMEM;
		memcpy(sorted, s->items, s->nitems * sizeof(*sorted));
		qsort(sorted, s->nitems, sizeof(*sorted), cmp_strp);
		for (size_t i = 1; i < s->nitems; i++)
			if (strcmp(sorted[i - 1], sorted[i]) == 0) {
				r = coffer_errf(COFFER_E_FORMAT,
				    "inputs.items: '%s' is listed twice", sorted[i]);
				break;
			}
		free(sorted);
		if (r != 0)
			return r;
	}
	if ((r = get_str(in, "inputs", "items_file", &s->items_file)) != 0 ||
	    (r = get_str(in, "inputs", "items_url", &s->items_url)) != 0 ||
	    (r = get_str(in, "inputs", "prefix", &s->items_prefix)) != 0 ||
	    (r = get_str(in, "inputs", "store", &s->input_store)) != 0)
		return r;
	return 0;
}

static int
parse_outputs(const json_t *o, struct mgr_jobspec *s)
{
	static const char *const keys[] = { "store", "prefix", "reduce", NULL };
	int r;

	if ((r = coffer_json_check_keys(o, "outputs", keys)) != 0 ||
	    (r = get_str(o, "outputs", "store", &s->output_store)) != 0 ||
	    (r = get_str(o, "outputs", "prefix", &s->output_prefix)) != 0 ||
	    (r = get_str(o, "outputs", "reduce", &s->reduce)) != 0)
		return r;
	if (s->reduce != NULL && coffer_store_check_key(s->reduce) != 0)
		return coffer_errf(COFFER_E_FORMAT, "outputs.reduce: %s",
		    coffer_errdetail());
	return 0;
}

static int
parse_replicas(const json_t *o, struct mgr_jobspec *s)
{
	static const char *const keys[] = { "min", "max", "initial", NULL };
	int64_t min = 1, max = -1, initial = -1;
	int r;

	if ((r = coffer_json_check_keys(o, "replicas", keys)) != 0 ||
	    (r = coffer_json_get_int(o, "replicas", "min", 0, 0,
	    MGR_JOB_MAX_REPLICAS, &min)) != 0 ||
	    (r = coffer_json_get_int(o, "replicas", "max", 1, 1,
	    MGR_JOB_MAX_REPLICAS, &max)) != 0 ||
	    (r = coffer_json_get_int(o, "replicas", "initial", 0, 0,
	    MGR_JOB_MAX_REPLICAS, &initial)) != 0)
		return r;
	s->min_replicas = (int)min;
	s->max_replicas = (int)max;
	/* Start with at least one replica, so that a job with min 0 runs. */
	s->initial_replicas = initial >= 0 ? (int)initial :
	    (min > 0 ? (int)min : 1);
	return 0;
}

static int
parse_controller(const json_t *o, struct mgr_jobspec *s)
{
	static const char *const keys[] = { "name", "check_interval_s",
		"params", NULL };
	json_t *params = NULL;
	double ci = 5;
	int r;

	if ((r = coffer_json_check_keys(o, "controller", keys)) != 0 ||
	    (r = get_str(o, "controller", "name", &s->controller)) != 0 ||
	    (r = coffer_json_get_num(o, "controller", "check_interval_s", 0,
	    0.1, 86400, &ci)) != 0 ||
	    (r = coffer_json_get_obj(o, "controller", "params", 0, &params)) != 0)
		return r;
	s->check_interval_s = ci;
	if (params != NULL && (r = parse_params(params, "controller.params", 0,
	    &s->ctl_params, &s->nctl_params)) != 0)
		return r;
	return 0;
}

/* 1 if s is n lower-case hex digits. */
static int
lower_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
parse_tee(const json_t *o, int stored, struct mgr_jobspec *s)
{
	static const char *const keys[] = { "backend", "coordinator", "policy",
		"app", NULL };
	static const char *const stored_keys[] = { "backend", "coordinator",
		"policy", "app", "job", NULL };
	static const char *const backends[] = { "none", "sim", "sgx", "tdx",
		"snp", NULL };
	size_t i;
	int r;

	/* "job" is the manager's own record of the coordinator's job: a
	 * client names the policy, and the manager opens the job. */
	if ((r = coffer_json_check_keys(o, "tee", stored ? stored_keys :
	    keys)) != 0 ||
	    (r = get_str(o, "tee", "backend", &s->tee_backend)) != 0 ||
	    (r = get_str(o, "tee", "coordinator", &s->coordinator)) != 0 ||
	    (r = get_str(o, "tee", "policy", &s->tee_policy)) != 0 ||
	    (r = get_str(o, "tee", "app", &s->tee_app)) != 0 ||
	    (stored && (r = get_str(o, "tee", "job", &s->tee_job)) != 0))
		return r;
	if (s->tee_policy != NULL && !lower_hex(s->tee_policy, 64))
		return coffer_errf(COFFER_E_FORMAT, "tee.policy: expected the "
		    "policy's hash, 64 lower-case hex digits (coffer policy new "
		    "prints it)");
	if (s->tee_job != NULL && !lower_hex(s->tee_job, 32))
		return coffer_errf(COFFER_E_FORMAT, "tee.job: expected 32 "
		    "lower-case hex digits");
	if (s->coordinator != NULL && strncmp(s->coordinator, "http://", 7) != 0)
		return coffer_errf(COFFER_E_FORMAT, "tee.coordinator: '%s' is not "
		    "an http:// URL (what matters is signed or wrapped, doc/"
		    "coordinator.md section 8)", s->coordinator);
	if (s->tee_backend != NULL) {
		for (i = 0; backends[i] != NULL; i++)
			if (strcmp(backends[i], s->tee_backend) == 0)
				break;
		if (backends[i] == NULL)
			return coffer_errf(COFFER_E_FORMAT,
			    "tee.backend: '%s' is not one of none, sim, sgx, tdx, snp",
			    s->tee_backend);
	}
	return 0;
}

static const char *
layout_name(int l)
{
	return l == MGR_QUEUE_ASPERATHOS ? "asperathos" : "coffer";
}

int
mgr_jobspec_validate(const struct mgr_jobspec *s)
{
	int sources = (s->items != NULL) + (s->items_file != NULL) +
	    (s->items_url != NULL) + (s->items_prefix != NULL);

	if ((s->app != NULL) == (s->cmd != NULL))
		return coffer_errf(COFFER_E_FORMAT,
		    "app: give either 'app' (run by coffer-worker) or 'cmd' (a consumer of its own)");
	if (s->app != NULL && s->queue_layout == MGR_QUEUE_ASPERATHOS)
		return coffer_errf(COFFER_E_FORMAT,
		    "queue_layout: 'asperathos' needs 'cmd': coffer-worker uses the coffer layout");
	if (s->tee_policy != NULL) {
		/* doc/format/policy.md section 6: every object of every dataset
		 * the app reads, fixed by the policy the owners signed. */
		if (s->cmd != NULL)
			return coffer_errf(COFFER_E_FORMAT, "cmd: a confidential job "
			    "runs an app in coffer-worker, which attests to the "
			    "coordinator: give 'app'");
		if (s->tee_job == NULL && sources != 0)
			return coffer_errf(COFFER_E_FORMAT, "inputs: a confidential "
			    "job's items are fixed by its policy (every object of the "
			    "datasets its app reads): give only inputs.store, if any");
		if (s->tee_job != NULL && s->items == NULL)
			return coffer_errf(COFFER_E_FORMAT, "inputs.items: missing "
			    "(the stored form of a confidential job lists them)");
		if (s->tee_backend != NULL && strcmp(s->tee_backend, "none") == 0)
			return coffer_errf(COFFER_E_FORMAT, "tee.backend: a "
			    "confidential job runs in a TEE: not 'none'");
	} else if (sources != 1) {
		return coffer_errf(COFFER_E_FORMAT,
		    "inputs: give exactly one of 'items', 'items_file', 'items_url' and 'prefix'");
	} else if (s->tee_app != NULL) {
		return coffer_errf(COFFER_E_FORMAT, "tee.app: only with tee.policy "
		    "(a confidential job)");
	}
	if (s->items_url != NULL && strncmp(s->items_url, "http://", 7) != 0 &&
	    strncmp(s->items_url, "https://", 8) != 0 &&
	    strncmp(s->items_url, "file://", 7) != 0)
		return coffer_errf(COFFER_E_FORMAT,
		    "inputs.items_url: only http://, https:// and file:// URLs are fetched");
	if (!isfinite(s->expected_time_s) ||
	    !(s->expected_time_s >= MGR_JOB_MIN_EXPECTED_S) ||
	    s->expected_time_s > MGR_JOB_MAX_EXPECTED_S)
		return coffer_errf(COFFER_E_FORMAT,
		    "expected_time_s: %g is out of range [%g, %g]", s->expected_time_s,
		    MGR_JOB_MIN_EXPECTED_S, MGR_JOB_MAX_EXPECTED_S);
	if (s->max_replicas < 1)
		return coffer_errf(COFFER_E_FORMAT, "replicas.max: must be at least 1");
	if (s->min_replicas > s->max_replicas)
		return coffer_errf(COFFER_E_FORMAT,
		    "replicas.min: %d is greater than replicas.max (%d)",
		    s->min_replicas, s->max_replicas);
	if (s->initial_replicas < s->min_replicas ||
	    s->initial_replicas > s->max_replicas)
		return coffer_errf(COFFER_E_FORMAT,
		    "replicas.initial: %d is outside [min %d, max %d]",
		    s->initial_replicas, s->min_replicas, s->max_replicas);
	if (s->controller == NULL || s->controller[0] == '\0')
		return coffer_errf(COFFER_E_FORMAT, "controller.name: missing");
	if (!(s->check_interval_s >= 0.1))
		return coffer_errf(COFFER_E_FORMAT,
		    "controller.check_interval_s: must be at least 0.1");
	if (s->actuator == NULL || s->actuator[0] == '\0')
		return coffer_errf(COFFER_E_FORMAT, "actuator: missing");
	if (s->max_attempts < 1 || s->max_attempts > 100)
		return coffer_errf(COFFER_E_FORMAT,
		    "max_attempts: %d is out of range [1, 100]", s->max_attempts);
	return 0;
}

/* Record the error r (its detail names the field) in errs and go on;
 * without errs, or for an error that is not about the request (out of
 * memory), stop. */
static int
note(json_t *errs, int r)
{
	char field[128];

	if (r == 0)
		return 0;
	if (errs == NULL || r == COFFER_E_NOMEM || r == COFFER_E_INTERNAL)
		return r;
	http_detail_field(coffer_errdetail(), field, sizeof(field));
	if (json_array_append_new(errs, json_pack("{s:s, s:s}", "field", field,
	    "message", coffer_errdetail())) != 0)
		return COFFER_E_NOMEM;
	return 0;
}

#define STEP(expr) do { if ((r = (expr)) != 0 && (r = note(errs, r)) != 0) \
	goto out; } while (0)

static int
parse_collect(const json_t *j, int64_t now_unix, int stored,
    struct mgr_jobspec *out, json_t *errs)
{
	static const char *const keys[] = { "name", "app", "app_params", "cmd",
		"env", "queue_layout", "inputs", "outputs", "deadline",
		"expected_time_s", "replicas", "controller", "actuator", "image",
		"max_attempts", "lease_ms", "tee", "item_time_estimate_s", NULL };
	static const char *const actuators[] = { "local", "k8s", "k8s_replicas",
		"slurm", NULL };
	struct mgr_jobspec s;
	json_t *o = NULL;
	const char *str = NULL;
	int64_t i64 = 0;
	double et = 0;
	size_t i;
	int r, ctl_r;
	/* Fields an unknown one was a near miss of: their "missing" is the
	 * same mistake, said once (by the unknown field). */
	const char *meant[8];
	size_t nmeant = 0;

	memset(&s, 0, sizeof(s));
	if (!json_is_object(j))
		return coffer_errf(COFFER_E_FORMAT, "job: expected a JSON object");
	/* Every unknown field, not only the first. */
	{
		const char *key;
		json_t *v;

		json_object_foreach((json_t *)j, key, v) {
			size_t k;

			for (k = 0; keys[k] != NULL; k++)
				if (strcmp(keys[k], key) == 0)
					break;
			if (keys[k] == NULL) {
				const char *close = coffer_suggest(key, keys,
				    sizeof(keys) / sizeof(keys[0]) - 1);

				if (close != NULL && nmeant < sizeof(meant) / sizeof(meant[0]))
					meant[nmeant++] = close;
				if (close != NULL)
					r = coffer_errf(COFFER_E_FORMAT, "%s: unknown field "
					    "(did you mean '%s'?)", key, close);
				else
					r = coffer_errf(COFFER_E_FORMAT, "%s: unknown field",
					    key);
				STEP(r);
			}
		}
	}
	STEP(get_str(j, NULL, "name", &s.name));
	STEP(get_str(j, NULL, "app", &s.app));
	o = NULL;
	if ((r = coffer_json_get_obj(j, NULL, "app_params", 0, &o)) == 0 &&
	    o != NULL)
		r = parse_params(o, "app_params", 0, &s.app_params, &s.napp_params);
	STEP(r);
	o = NULL;
	if ((r = coffer_json_get_arr(j, NULL, "cmd", 0, &o)) == 0 && o != NULL) {
		if (json_array_size(o) == 0)
			r = coffer_errf(COFFER_E_FORMAT, "cmd: must not be empty");
		else
			r = parse_strv(o, "cmd", MGR_JOB_MAX_ARGS, 0, &s.cmd, &s.ncmd);
	}
	STEP(r);
	o = NULL;
	if ((r = coffer_json_get_obj(j, NULL, "env", 0, &o)) == 0 && o != NULL)
		r = parse_params(o, "env", 1, &s.env, &s.nenv);
	STEP(r);
	str = NULL;
	s.queue_layout = s.cmd != NULL ? MGR_QUEUE_ASPERATHOS : MGR_QUEUE_COFFER;
	if ((r = coffer_json_get_str(j, NULL, "queue_layout", 0, &str)) == 0 &&
	    str != NULL) {
		if (strcmp(str, "coffer") == 0)
			s.queue_layout = MGR_QUEUE_COFFER;
		else if (strcmp(str, "asperathos") == 0)
			s.queue_layout = MGR_QUEUE_ASPERATHOS;
		else
			r = coffer_errf(COFFER_E_FORMAT,
			    "queue_layout: '%s' is not 'coffer' or 'asperathos'", str);
	}
	STEP(r);
	o = NULL;
	/* Required unless the job is confidential (mgr_jobspec_validate). */
	if ((r = coffer_json_get_obj(j, NULL, "inputs", 0, &o)) == 0 && o != NULL)
		r = parse_inputs(o, &s);
	STEP(r);
	o = NULL;
	if ((r = coffer_json_get_obj(j, NULL, "outputs", 0, &o)) == 0 && o != NULL)
		r = parse_outputs(o, &s);
	STEP(r);

	/* The deadline: absolute or relative, one of them. */
	str = NULL;
	STEP(coffer_json_get_num(j, NULL, "item_time_estimate_s", 0, 0,
	    MGR_JOB_MAX_EXPECTED_S, &s.item_time_estimate_s));
	if ((r = coffer_json_get_str(j, NULL, "deadline", 0, &str)) == 0 &&
	    str != NULL && coffer_time_parse(str, &s.deadline_unix) != 0)
		r = coffer_errf(COFFER_E_FORMAT,
		    "deadline: '%s' is not an RFC 3339 date-time", str);
	STEP(r);
	if ((r = coffer_json_get_num(j, NULL, "expected_time_s", 0,
	    stored ? 0 : MGR_JOB_MIN_EXPECTED_S, MGR_JOB_MAX_EXPECTED_S,
	    &et)) != 0) {
		STEP(r);
		et = MGR_JOB_MIN_EXPECTED_S; /* reported; go on */
	}
	if (stored) {
		/* Rows written before the 1 s minimum: such a deadline was
		 * over within a second of the start; keep the job loadable. */
		s.expected_time_s = et > 0 && et < MGR_JOB_MIN_EXPECTED_S ?
		    MGR_JOB_MIN_EXPECTED_S : et;
	} else if (str != NULL && json_object_get(j, "expected_time_s") != NULL) {
		STEP(coffer_errf(COFFER_E_FORMAT,
		    "deadline: give 'deadline' or 'expected_time_s', not both"));
		s.expected_time_s = et;
	} else if (str != NULL) {
		if (s.deadline_unix <= now_unix)
			STEP(coffer_errf(COFFER_E_FORMAT,
			    "deadline: '%s' is not in the future", str));
		s.expected_time_s = s.deadline_unix > now_unix ?
		    (double)(s.deadline_unix - now_unix) : MGR_JOB_MIN_EXPECTED_S;
	} else if (json_object_get(j, "expected_time_s") != NULL) {
		s.expected_time_s = et;
	} else {
		STEP(coffer_errf(COFFER_E_FORMAT,
		    "expected_time_s: missing (give 'deadline' or 'expected_time_s')"));
		s.expected_time_s = MGR_JOB_MIN_EXPECTED_S;
	}

	o = NULL;
	if ((r = coffer_json_get_obj(j, NULL, "replicas", 1, &o)) == 0)
		r = parse_replicas(o, &s);
	if (r != 0)
		s.max_replicas = s.min_replicas = s.initial_replicas = 1;
	STEP(r);
	o = NULL;
	s.check_interval_s = 5;
	/* STEP clears r once the error is noted: keep whether the
	 * controller parsed, so that a missing "controller" is not also
	 * reported as a missing "controller.name". */
	if ((ctl_r = coffer_json_get_obj(j, NULL, "controller", 1, &o)) == 0)
		ctl_r = parse_controller(o, &s);
	STEP(ctl_r);
	if (ctl_r == 0 && s.controller == NULL)
		STEP(coffer_errf(COFFER_E_FORMAT, "controller.name: missing"));
	STEP(get_str(j, NULL, "actuator", &s.actuator));
	if (s.actuator == NULL && (s.actuator = coffer_strdup("local")) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	for (i = 0; actuators[i] != NULL; i++)
		if (strcmp(actuators[i], s.actuator) == 0)
			break;
	if (actuators[i] == NULL)
		STEP(coffer_errf(COFFER_E_FORMAT,
		    "actuator: '%s' is not one of local, k8s, k8s_replicas, slurm",
		    s.actuator));
	STEP(get_str(j, NULL, "image", &s.image));
	i64 = 3;
	STEP(coffer_json_get_int(j, NULL, "max_attempts", 0, 1, 100, &i64));
	s.max_attempts = (int)i64;
	i64 = 30000;
	STEP(coffer_json_get_int(j, NULL, "lease_ms", 0, 1000, 3600000, &i64));
	s.lease_ms = (int)i64;
	o = NULL;
	if ((r = coffer_json_get_obj(j, NULL, "tee", 0, &o)) == 0 && o != NULL)
		r = parse_tee(o, stored, &s);
	STEP(r);
	/* Cross-field checks only on fields that parsed: one mistake is
	 * reported once. */
	if (errs == NULL || json_array_size(errs) == 0)
		STEP(mgr_jobspec_validate(&s));
	for (i = 0; errs != NULL && i < json_array_size(errs); ) {
		const char *msg = json_string_value(json_object_get(
		    json_array_get(errs, i), "message"));
		size_t m, n;

		for (m = 0; m < nmeant; m++) {
			n = strlen(meant[m]);
			if (msg != NULL && strncmp(msg, meant[m], n) == 0 &&
			    strcmp(msg + n, ": missing") == 0)
				break;
		}
		if (m < nmeant)
			json_array_remove(errs, i);
		else
			i++;
	}
	if (errs != NULL && json_array_size(errs) > 0) {
		r = coffer_errf(COFFER_E_FORMAT, "%s", json_string_value(
		    json_object_get(json_array_get(errs, 0), "message")));
		/* The caller checks the rest of what parsed (app parameters)
		 * and reports it with these. */
		*out = s;
		memset(&s, 0, sizeof(s));
		goto out;
	}
	r = 0;
	*out = s;
	memset(&s, 0, sizeof(s));
out:
	mgr_jobspec_release(&s);
	return r;
}

int
mgr_jobspec_parse(const json_t *j, int64_t now_unix, int stored,
    struct mgr_jobspec *out)
{
	return parse_collect(j, now_unix, stored, out, NULL);
}

int
mgr_jobspec_parse_all(const json_t *j, int64_t now_unix,
    struct mgr_jobspec *out, json_t *errors)
{
	return parse_collect(j, now_unix, 0, out, errors);
}

int
mgr_jobspec_parse_text(const char *text, size_t len, size_t max_bytes,
    int64_t now_unix, int stored, struct mgr_jobspec *out)
{
	json_t *j = NULL;
	int r;

	if ((r = coffer_json_parse(text, len, max_bytes,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &j)) != 0)
		return r;
	r = mgr_jobspec_parse(j, now_unix, stored, out);
	json_decref(j);
	return r;
}

static json_t *
kv_json(const struct mgr_kv *kv, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < n; i++)
		if (json_object_set_new(o, kv[i].key, json_string(kv[i].value)) != 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static json_t *
strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Set key to v (stolen) in o; a NULL v (absent field or allocation
 * failure) is recorded in *bad only when want != 0. */
static void
put(json_t *o, const char *key, json_t *v, int want, int *bad)
{
	if (v == NULL) {
		if (want)
			*bad = 1;
		return;
	}
	if (json_object_set_new(o, key, v) != 0)
		*bad = 1;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : NULL;
}

json_t *
mgr_jobspec_to_json(const struct mgr_jobspec *s)
{
	json_t *j = json_object(), *in = json_object(), *outp = NULL, *rep, *ctl,
	    *tee = NULL;
	char dl[32];
	int bad = (j == NULL || in == NULL);

	if (bad)
		goto fail;
	put(j, "name", str_or_null(s->name), s->name != NULL, &bad);
	put(j, "app", str_or_null(s->app), s->app != NULL, &bad);
	if (s->app_params != NULL || s->app != NULL)
		put(j, "app_params", kv_json(s->app_params, s->napp_params), 1, &bad);
	if (s->cmd != NULL)
		put(j, "cmd", strv_json(s->cmd, s->ncmd), 1, &bad);
	put(j, "env", kv_json(s->env, s->nenv), 1, &bad);
	put(j, "queue_layout", json_string(layout_name(s->queue_layout)), 1, &bad);
	if (s->items != NULL)
		put(in, "items", strv_json(s->items, s->nitems), 1, &bad);
	put(in, "items_file", str_or_null(s->items_file), s->items_file != NULL, &bad);
	put(in, "items_url", str_or_null(s->items_url), s->items_url != NULL, &bad);
	put(in, "prefix", str_or_null(s->items_prefix), s->items_prefix != NULL, &bad);
	put(in, "store", str_or_null(s->input_store), s->input_store != NULL, &bad);
	put(j, "inputs", in, 1, &bad);
	in = NULL;
	if (s->output_store != NULL || s->output_prefix != NULL ||
	    s->reduce != NULL) {
		if ((outp = json_object()) == NULL)
			goto fail;
		put(outp, "store", str_or_null(s->output_store),
		    s->output_store != NULL, &bad);
		put(outp, "prefix", str_or_null(s->output_prefix),
		    s->output_prefix != NULL, &bad);
		put(outp, "reduce", str_or_null(s->reduce), s->reduce != NULL,
		    &bad);
		put(j, "outputs", outp, 1, &bad);
	}
	put(j, "expected_time_s", http_json_real(s->expected_time_s), 1, &bad);
	if (s->deadline_unix > 0) {
		coffer_time_format(s->deadline_unix, dl, sizeof(dl));
		put(j, "deadline", json_string(dl), 1, &bad);
	}
	rep = json_pack("{s:i, s:i, s:i}", "min", s->min_replicas, "max",
	    s->max_replicas, "initial", s->initial_replicas);
	put(j, "replicas", rep, 1, &bad);
	ctl = json_pack("{s:s, s:o, s:o*}", "name", s->controller,
	    "check_interval_s", http_json_real(s->check_interval_s), "params",
	    kv_json(s->ctl_params, s->nctl_params));
	put(j, "controller", ctl, 1, &bad);
	put(j, "actuator", json_string(s->actuator), 1, &bad);
	put(j, "image", str_or_null(s->image), s->image != NULL, &bad);
	put(j, "max_attempts", json_integer(s->max_attempts), 1, &bad);
	put(j, "lease_ms", json_integer(s->lease_ms), 1, &bad);
	if (s->item_time_estimate_s > 0)
		put(j, "item_time_estimate_s", http_json_real(s->item_time_estimate_s),
		    1, &bad);
	if (s->tee_backend != NULL || s->coordinator != NULL ||
	    s->tee_policy != NULL) {
		if ((tee = json_object()) == NULL)
			goto fail;
		put(tee, "backend", str_or_null(s->tee_backend),
		    s->tee_backend != NULL, &bad);
		put(tee, "coordinator", str_or_null(s->coordinator),
		    s->coordinator != NULL, &bad);
		put(tee, "policy", str_or_null(s->tee_policy),
		    s->tee_policy != NULL, &bad);
		put(tee, "app", str_or_null(s->tee_app), s->tee_app != NULL, &bad);
		put(tee, "job", str_or_null(s->tee_job), s->tee_job != NULL, &bad);
		put(j, "tee", tee, 1, &bad);
	}
	if (bad)
		goto fail;
	return j;
fail:
	json_decref(in);
	json_decref(j);
	return NULL;
}
