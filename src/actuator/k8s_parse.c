// SPDX-License-Identifier: Apache-2.0
// Reading the Kubernetes API server's answers (k8s.h): the fields of the
// official OpenAPI schemas (io.k8s.api.core.v1.Pod, batch.v1.Job,
// apps.v1.Deployment, autoscaling.v1.Scale, meta.v1.WatchEvent and Status)
// that the backend uses, each checked for its type and range.
#include <stdio.h>
#include <string.h>

#include "actuator/k8s.h"
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/json.h"

#define LINE_MAX_BYTES ((size_t)1 << 20)
#define DEPTH 64

static const json_t *
path(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	return b != NULL ? json_object_get(v, b) : v;
}

/* An optional string member; a present non-string is an error. */
static int
opt_str(const json_t *o, const char *ctx, const char *key, const char **out)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return coffer_errf(COFFER_E_FORMAT, "%s.%s: expected a string", ctx,
		    key);
	*out = json_string_value(v);
	return 0;
}

static int
opt_int(const json_t *o, const char *ctx, const char *key, int64_t min,
    int64_t max, int64_t def, int64_t *out)
{
	*out = def;
	return coffer_json_get_int(o, ctx, key, 0, min, max, out);
}

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > COFFER_REPLICA_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

int
k8s_pod_view(const json_t *pod, struct k8s_pod_view *out)
{
	struct k8s_pod_view v;
	const json_t *meta, *status, *cs, *c0 = NULL;
	const char *name, *s;
	int64_t x;
	int r;

	memset(&v, 0, sizeof(v));
	v.exit_code = v.last_exit_code = -1;
	if (!json_is_object(pod) || !json_is_object(meta = path(pod, "metadata",
	    NULL)))
		return coffer_errf(COFFER_E_FORMAT, "pod: no metadata");
	if ((r = opt_str(meta, "pod.metadata", "name", &name)) != 0)
		return r;
	if (name == NULL || !name_ok(name))
		return coffer_errf(COFFER_E_FORMAT, "pod.metadata.name: missing, or "
		    "not 1-%d of [a-z0-9.-]", COFFER_REPLICA_ID_MAX);
	snprintf(v.name, sizeof(v.name), "%s", name);
	if ((r = opt_str(meta, "pod.metadata", "creationTimestamp", &s)) != 0)
		return r;
	if (s != NULL && coffer_time_parse(s, &v.created_unix) != 0)
		return coffer_errf(COFFER_E_FORMAT, "pod.metadata.creationTimestamp:"
		    " not a date");
	if ((r = opt_str(meta, "pod.metadata", "deletionTimestamp", &s)) != 0)
		return r;
	v.deleting = s != NULL;
	if ((r = opt_str(path(pod, "spec", NULL), "pod.spec", "nodeName", &s)) != 0)
		return r;
	if (s != NULL)
		snprintf(v.node, sizeof(v.node), "%s", s);
	status = path(pod, "status", NULL);
	if ((r = opt_str(status, "pod.status", "phase", &s)) != 0)
		return r;
	if (s != NULL) {
		v.running = strcmp(s, "Running") == 0;
		v.succeeded = strcmp(s, "Succeeded") == 0;
		v.terminal = v.succeeded || strcmp(s, "Failed") == 0;
	}
	if ((r = opt_str(status, "pod.status", "reason", &s)) != 0)
		return r;
	if (s != NULL)
		snprintf(v.reason, sizeof(v.reason), "%s", s);
	cs = json_object_get(status, "containerStatuses");
	if (cs != NULL && !json_is_array(cs))
		return coffer_errf(COFFER_E_FORMAT, "pod.status.containerStatuses: "
		    "expected an array");
	if (cs != NULL)
		c0 = json_array_get(cs, 0);
	if (c0 != NULL) {
		const json_t *t;

		if (!json_is_object(c0))
			return coffer_errf(COFFER_E_FORMAT, "pod.status."
			    "containerStatuses[0]: expected an object");
		if ((r = opt_int(c0, "containerStatuses[0]", "restartCount", 0,
		    1 << 30, 0, &x)) != 0)
			return r;
		v.restarts = (int)x;
		if ((t = path(json_object_get(c0, "state"), "terminated", NULL)) !=
		    NULL) {
			if ((r = opt_int(t, "state.terminated", "exitCode", -(1 << 30),
			    1 << 30, -1, &x)) != 0)
				return r;
			v.exit_code = (int)x;
			if (v.reason[0] == '\0' && (r = opt_str(t, "state.terminated",
			    "reason", &s)) == 0 && s != NULL)
				snprintf(v.reason, sizeof(v.reason), "%s", s);
			if (r != 0)
				return r;
		}
		if ((t = path(json_object_get(c0, "lastState"), "terminated",
		    NULL)) != NULL) {
			if ((r = opt_int(t, "lastState.terminated", "exitCode",
			    -(1 << 30), 1 << 30, -1, &x)) != 0)
				return r;
			v.last_exit_code = (int)x;
		}
	}
	*out = v;
	return 0;
}

static int
rv_of(const json_t *o, char *rv, size_t rvlen)
{
	const char *s;
	int r;

	rv[0] = '\0';
	if ((r = opt_str(json_object_get(o, "metadata"), "metadata",
	    "resourceVersion", &s)) != 0)
		return r;
	if (s == NULL)
		return 0;
	if (strlen(s) == 0 || strlen(s) >= rvlen || strlen(s) > 63)
		return coffer_errf(COFFER_E_FORMAT, "metadata.resourceVersion: "
		    "empty or too long");
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '&' || *p == '#' || *p == '%')
			return coffer_errf(COFFER_E_FORMAT, "metadata.resourceVersion:"
			    " a character that is not plain");
	snprintf(rv, rvlen, "%s", s);
	return 0;
}

int
k8s_list_rv(const json_t *list, char *rv, size_t rvlen)
{
	int r;

	if ((r = rv_of(list, rv, rvlen)) != 0)
		return r;
	if (rv[0] == '\0')
		return coffer_errf(COFFER_E_FORMAT, "list: no metadata."
		    "resourceVersion");
	return 0;
}

int
k8s_watch_event(const char *line, size_t len, struct k8s_watch_event *out)
{
	static const char *const types[] = { "ADDED", "MODIFIED", "DELETED",
		"BOOKMARK", "ERROR" };
	struct k8s_watch_event e;
	json_t *j = NULL, *obj;
	const char *type;
	size_t i;
	int r;

	memset(&e, 0, sizeof(e));
	if ((r = coffer_json_parse(line, len, LINE_MAX_BYTES, DEPTH, &j)) != 0)
		return r;
	if ((r = coffer_json_get_str(j, "watch event", "type", 1, &type)) != 0 ||
	    (r = coffer_json_get_obj(j, "watch event", "object", 1, &obj)) != 0)
		goto out;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0])) {
		r = coffer_errf(COFFER_E_FORMAT, "watch event.type: '%.20s' is not "
		    "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR", type);
		goto out;
	}
	e.type = (enum k8s_event_type)i;
	if (e.type == K8S_EV_ERROR) {
		int64_t code = 0;
		const char *reason = NULL;

		if ((r = opt_int(obj, "watch event.object", "code", 0, 999, 0,
		    &code)) != 0 || (r = opt_str(obj, "watch event.object", "reason",
		    &reason)) != 0)
			goto out;
		e.code = (int)code;
		snprintf(e.reason, sizeof(e.reason), "%s", reason ? reason : "");
	} else {
		if ((r = rv_of(obj, e.rv, sizeof(e.rv))) != 0)
			goto out;
		if (e.type != K8S_EV_BOOKMARK &&
		    (r = k8s_pod_view(obj, &e.pod)) != 0)
			goto out;
	}
	*out = e;
out:
	json_decref(j);
	return r;
}

/* A Job's conditions: Complete or Failed with status "True". */
static int
conditions(const json_t *o, struct k8s_owner_view *v)
{
	const json_t *cs = path(o, "status", "conditions"), *c;
	size_t i;

	if (cs == NULL)
		return 0;
	if (!json_is_array(cs))
		return coffer_errf(COFFER_E_FORMAT, "job.status.conditions: expected"
		    " an array");
	json_array_foreach(cs, i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));
		const char *reason = json_string_value(json_object_get(c, "reason"));
		const char *msg = json_string_value(json_object_get(c, "message"));

		if (type == NULL || st == NULL || strcmp(st, "True") != 0)
			continue;
		if (strcmp(type, "Complete") == 0 || strcmp(type, "Failed") == 0)
			v->finished = 1;
		if (strcmp(type, "Failed") == 0) {
			v->failed = 1;
			snprintf(v->reason, sizeof(v->reason), "%s%s%s", reason ? reason :
			    "Failed", msg ? ": " : "", msg ? msg : "");
		}
	}
	return 0;
}

int
k8s_owner_view(const json_t *o, int deployment, struct k8s_owner_view *out)
{
	struct k8s_owner_view v;
	int64_t x = 0;
	int r;

	memset(&v, 0, sizeof(v));
	if (!json_is_object(o) || !json_is_object(json_object_get(o, "spec")))
		return coffer_errf(COFFER_E_FORMAT, "%s: no spec", deployment ?
		    "deployment" : "job");
	/* Absent, a Job's parallelism defaults to 1 and a Deployment's
	 * replicas to 1. */
	if ((r = opt_int(json_object_get(o, "spec"), deployment ?
	    "deployment.spec" : "job.spec", deployment ? "replicas" :
	    "parallelism", 0, 1 << 30, 1, &x)) != 0)
		return r;
	v.replicas = (int)x;
	if (!deployment && (r = conditions(o, &v)) != 0)
		return r;
	*out = v;
	return 0;
}

int
k8s_scale_answer(const json_t *o, int deployment, struct k8s_owner_view *out)
{
	/* A Scale has spec.replicas, as a Deployment does. */
	return k8s_owner_view(o, deployment, out);
}
