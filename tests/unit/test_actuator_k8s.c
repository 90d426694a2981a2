// SPDX-License-Identifier: Apache-2.0
// Unit tests for what the Kubernetes backend reads: the kubeconfig YAML
// subset and its settings (src/actuator/kubeconfig.c), the in-cluster
// configuration, and the API server's answers (src/actuator/k8s_parse.c).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "actuator/k8s.h"
#include "actuator/kubeconfig.h"
#include "coffer/error.h"
#include "lib/json.h"

static char dir[] = "/tmp/coffer-k8s-unit.XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The shape kubectl writes (kind, k3s, `kubectl config view --raw`). */
static const char kubectl_yaml[] =
    "---\n"
    "apiVersion: v1\n"
    "clusters:\n"
    "- cluster:\n"
    "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
    "    server: https://127.0.0.1:6443/\n"
    "  name: kind-kind\n"
    "- cluster:\n"
    "    certificate-authority: ca.crt   # relative to this file\n"
    "    server: \"https://10.0.0.1:443\"\n"
    "  name: other\n"
    "contexts:\n"
    "- context:\n"
    "    cluster: kind-kind\n"
    "    namespace: coffer\n"
    "    user: kind-kind\n"
    "  name: kind-kind\n"
    "- context:\n"
    "    cluster: other\n"
    "    user: 'cert user'\n"
    "  name: other\n"
    "current-context: kind-kind\n"
    "kind: Config\n"
    "preferences: {}\n"
    "users:\n"
    "- name: kind-kind\n"
    "  user:\n"
    "    token: abc.def\n"
    "- name: cert user\n"
    "  user:\n"
    "    client-certificate: /etc/c.pem\n"
    "    client-key-data: a2V5\n";

static void
test_k8s__yaml_reads_what_kubectl_writes(void **state)
{
	json_t *j = NULL, *c;

	(void)state;
	assert_int_equal(k8s_yaml_parse(kubectl_yaml, strlen(kubectl_yaml), &j), 0);
	assert_string_equal(json_string_value(json_object_get(j, "current-context")),
	    "kind-kind");
	assert_true(json_is_object(json_object_get(j, "preferences")));
	c = json_array_get(json_object_get(j, "clusters"), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(c,
	    "cluster"), "certificate-authority")), "ca.crt");
	assert_string_equal(json_string_value(json_object_get(json_object_get(c,
	    "cluster"), "server")), "https://10.0.0.1:443");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "contexts"), 1), "name")), "other");
	assert_int_equal(json_array_size(json_object_get(j, "users")), 2);
	json_decref(j);
}

static void
test_k8s__yaml_refuses_what_it_does_not_read_with_a_line(void **state)
{
	static const struct {
		const char *text, *detail;
	} bad[] = {
		{ "a: 1\n\tb: 2\n", "line 2: a tab" },
		{ "a: &x 1\n", "anchors" },
		{ "a: *x\n", "anchors" },
		{ "a: [1, 2]\n", "flow collections" },
		{ "a: |\n  text\n", "block scalars" },
		{ "a: 1\na: 2\n", "line 2: a key given twice" },
		{ "a:\n    b: 1\n  c: 2\n", "line 3" },
		{ "a: 'open\n", "does not end" },
		{ "just words\n", "line 1: expected 'key: value'" },
		{ "", "empty" },
	};
	json_t *j = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = k8s_yaml_parse(bad[i].text, strlen(bad[i].text), &j);

		if (r != COFFER_E_FORMAT || strstr(coffer_errdetail(),
		    bad[i].detail) == NULL)
			fail_msg("case %zu: %d %s", i, r, coffer_errdetail());
	}
	/* Deep nesting stops at 32 levels. */
	{
		char deep[4096];
		size_t n = 0;

		for (int d = 0; d < 40; d++)
			n += (size_t)snprintf(deep + n, sizeof(deep) - n, "%*sk%d:\n",
			    d, "", d);
		assert_int_equal(k8s_yaml_parse(deep, n, &j), COFFER_E_FORMAT);
		assert_non_null(strstr(coffer_errdetail(), "too deep"));
	}
}

static void
test_k8s__kubeconfig_gives_server_ca_token_namespace(void **state)
{
	struct k8s_conn c;
	char p[256], want[300];

	(void)state;
	write_file("config", kubectl_yaml);
	snprintf(p, sizeof(p), "%s/config", dir);
	assert_int_equal(k8s_conn_from_kubeconfig(p, NULL, &c), 0);
	assert_string_equal(c.server, "https://127.0.0.1:6443");
	assert_string_equal(c.token, "abc.def");
	assert_string_equal(c.namespace, "coffer");
	assert_non_null(strstr((const char *)c.ca_pem.data, "BEGIN CERTIFICATE"));
	k8s_conn_release(&c);
	/* Another context: a relative CA file, a client certificate. */
	assert_int_equal(k8s_conn_from_kubeconfig(p, "other", &c), 0);
	snprintf(want, sizeof(want), "%s/ca.crt", dir);
	assert_string_equal(c.ca_file, want);
	assert_string_equal(c.cert_file, "/etc/c.pem");
	assert_string_equal((const char *)c.key_pem.data, "key");
	assert_null(c.token);
	assert_null(c.namespace);
	k8s_conn_release(&c);
	assert_int_equal(k8s_conn_from_kubeconfig(p, "nosuch", &c),
	    COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "no context named 'nosuch'"));
}

static void
test_k8s__kubeconfig_refuses_unsafe_or_unsupported_users(void **state)
{
	static const struct {
		const char *text, *detail;
		int r;
	} bad[] = {
		{ "{\"current-context\":\"a\",\"contexts\":[{\"name\":\"a\",\"context\":"
		  "{\"cluster\":\"c\",\"user\":\"u\"}}],\"clusters\":[{\"name\":\"c\","
		  "\"cluster\":{\"server\":\"https://h\"}}],\"users\":[{\"name\":\"u\","
		  "\"user\":{\"exec\":{\"command\":\"aws\"}}}]}",
		  "exec or auth-provider", COFFER_E_UNSUPPORTED },
		{ "current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: c\n"
		  "clusters:\n- name: c\n  cluster:\n    server: http://h\n",
		  "is not https://", COFFER_E_UNSUPPORTED },
		{ "current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: c\n"
		  "clusters:\n- name: c\n  cluster:\n    server: https://h\n"
		  "    insecure-skip-tls-verify: \"true\"\n",
		  "insecure-skip-tls-verify", COFFER_E_UNSUPPORTED },
		{ "contexts: []\n", "no current-context", COFFER_E_FORMAT },
	};
	char p[256];

	(void)state;
	snprintf(p, sizeof(p), "%s/bad", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct k8s_conn c;
		int r;

		write_file("bad", bad[i].text);
		r = k8s_conn_from_kubeconfig(p, NULL, &c);
		if (r == 0)
			k8s_conn_release(&c);
		if ((r != bad[i].r || strstr(coffer_errdetail(),
		    bad[i].detail) == NULL))
			fail_msg("case %zu: %d %s", i, r, coffer_errdetail());
	}
	/* The same as a JSON boolean. */
	write_file("bad", "{\"current-context\":\"a\",\"contexts\":[{\"name\":\"a\","
	    "\"context\":{\"cluster\":\"c\"}}],\"clusters\":[{\"name\":\"c\","
	    "\"cluster\":{\"server\":\"https://h\",\"insecure-skip-tls-verify\":"
	    "true}}]}");
	{
		struct k8s_conn c;

		assert_int_equal(k8s_conn_from_kubeconfig(p, NULL, &c),
		    COFFER_E_UNSUPPORTED);
		assert_non_null(strstr(coffer_errdetail(), "insecure-skip-tls-verify"));
	}
}

static void
test_k8s__in_cluster_uses_the_service_account(void **state)
{
	struct k8s_conn c;
	char want[300];

	(void)state;
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(k8s_conn_in_cluster(dir, &c), COFFER_E_NOTFOUND);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	write_file("namespace", "coffer\n");
	assert_int_equal(k8s_conn_in_cluster(dir, &c), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.namespace, "coffer");
	snprintf(want, sizeof(want), "%s/token", dir);
	assert_string_equal(c.token_file, want);
	k8s_conn_release(&c);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(k8s_conn_in_cluster(dir, &c), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	k8s_conn_release(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

static json_t *
parse(const char *text)
{
	json_t *j = NULL;

	assert_int_equal(coffer_json_parse(text, strlen(text), 1 << 20, 64, &j), 0);
	return j;
}

static void
test_k8s__pod_view_reads_phases_exit_codes_and_deletion(void **state)
{
	struct k8s_pod_view v;
	json_t *j;

	(void)state;
	j = parse("{\"metadata\":{\"name\":\"coffer-job-1-abcde\","
	    "\"creationTimestamp\":\"2026-01-02T03:04:05Z\","
	    "\"deletionTimestamp\":\"2026-01-02T03:05:00Z\"},"
	    "\"spec\":{\"nodeName\":\"node-1\"},\"status\":{\"phase\":\"Failed\","
	    "\"containerStatuses\":[{\"name\":\"worker\",\"restartCount\":2,"
	    "\"state\":{\"terminated\":{\"exitCode\":143,\"reason\":\"Error\"}},"
	    "\"lastState\":{\"terminated\":{\"exitCode\":1}}}]}}");
	assert_int_equal(k8s_pod_view(j, &v), 0);
	assert_string_equal(v.name, "coffer-job-1-abcde");
	assert_string_equal(v.node, "node-1");
	assert_int_equal(v.created_unix, 1767323045);
	assert_true(v.deleting && v.terminal && !v.succeeded && !v.running);
	assert_int_equal(v.exit_code, 143);
	assert_int_equal(v.last_exit_code, 1);
	assert_int_equal(v.restarts, 2);
	assert_string_equal(v.reason, "Error");
	json_decref(j);
	j = parse("{\"metadata\":{\"name\":\"p\"},\"status\":{\"phase\":\"Running\"}}");
	assert_int_equal(k8s_pod_view(j, &v), 0);
	assert_true(v.running && !v.terminal && v.exit_code == -1);
	json_decref(j);
	/* The official fixture's placeholder name is not a pod name a replica
	 * id can be (upper case), and wrong types are refused. */
	j = parse("{\"metadata\":{\"name\":\"nameValue\"}}");
	assert_int_equal(k8s_pod_view(j, &v), COFFER_E_FORMAT);
	json_decref(j);
	j = parse("{\"metadata\":{\"name\":\"p\"},\"status\":{\"phase\":3}}");
	assert_int_equal(k8s_pod_view(j, &v), COFFER_E_FORMAT);
	json_decref(j);
	j = parse("{\"metadata\":{\"name\":\"p\"},\"status\":{\"containerStatuses\":"
	    "[{\"restartCount\":-1}]}}");
	assert_int_equal(k8s_pod_view(j, &v), COFFER_E_FORMAT);
	json_decref(j);
}

static void
test_k8s__watch_events_and_list_versions(void **state)
{
	static const char added[] = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"42\"}}}";
	static const char gone[] = "{\"type\":\"ERROR\",\"object\":{\"kind\":"
	    "\"Status\",\"code\":410,\"reason\":\"Expired\"}}";
	static const char bm[] = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
	    "{\"resourceVersion\":\"99\"}}}";
	struct k8s_watch_event e;
	char rv[64];
	json_t *j;

	(void)state;
	assert_int_equal(k8s_watch_event(added, strlen(added), &e), 0);
	assert_int_equal(e.type, K8S_EV_ADDED);
	assert_string_equal(e.rv, "42");
	assert_string_equal(e.pod.name, "p");
	assert_int_equal(k8s_watch_event(gone, strlen(gone), &e), 0);
	assert_int_equal(e.type, K8S_EV_ERROR);
	assert_int_equal(e.code, 410);
	assert_int_equal(k8s_watch_event(bm, strlen(bm), &e), 0);
	assert_int_equal(e.type, K8S_EV_BOOKMARK);
	assert_string_equal(e.rv, "99");
	{
		static const char *const bad[] = {
			"{\"type\":\"EXPLODED\",\"object\":{}}",
			"{\"type\":\"ADDED\"}", "not json",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_int_equal(k8s_watch_event(bad[i], strlen(bad[i]), &e),
			    COFFER_E_FORMAT);
	}
	j = parse("{\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[]}");
	assert_int_equal(k8s_list_rv(j, rv, sizeof(rv)), 0);
	assert_string_equal(rv, "7");
	json_decref(j);
	/* A resourceVersion goes into a URL: nothing but plain characters. */
	j = parse("{\"metadata\":{\"resourceVersion\":\"7&watch=0\"},\"items\":[]}");
	assert_int_equal(k8s_list_rv(j, rv, sizeof(rv)), COFFER_E_FORMAT);
	json_decref(j);
	j = parse("{\"metadata\":{},\"items\":[]}");
	assert_int_equal(k8s_list_rv(j, rv, sizeof(rv)), COFFER_E_FORMAT);
	json_decref(j);
}

static void
test_k8s__owner_view_reads_counts_and_conditions(void **state)
{
	struct k8s_owner_view v;
	json_t *j;

	(void)state;
	j = parse("{\"spec\":{\"parallelism\":4},\"status\":{\"conditions\":["
	    "{\"type\":\"Failed\",\"status\":\"True\",\"reason\":"
	    "\"BackoffLimitExceeded\",\"message\":\"too many\"}]}}");
	assert_int_equal(k8s_owner_view(j, 0, &v), 0);
	assert_int_equal(v.replicas, 4);
	assert_true(v.finished && v.failed);
	assert_string_equal(v.reason, "BackoffLimitExceeded: too many");
	json_decref(j);
	j = parse("{\"spec\":{},\"status\":{\"conditions\":[{\"type\":\"Complete\","
	    "\"status\":\"False\"}]}}");
	assert_int_equal(k8s_owner_view(j, 0, &v), 0);
	assert_int_equal(v.replicas, 1); /* the API's default */
	assert_false(v.finished);
	json_decref(j);
	j = parse("{\"spec\":{\"replicas\":3}}");
	assert_int_equal(k8s_scale_answer(j, 1, &v), 0);
	assert_int_equal(v.replicas, 3);
	json_decref(j);
	j = parse("{\"spec\":{\"replicas\":\"3\"}}");
	assert_int_equal(k8s_owner_view(j, 1, &v), COFFER_E_FORMAT);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k8s__yaml_reads_what_kubectl_writes),
		cmocka_unit_test(test_k8s__yaml_refuses_what_it_does_not_read_with_a_line),
		cmocka_unit_test(test_k8s__kubeconfig_gives_server_ca_token_namespace),
		cmocka_unit_test(test_k8s__kubeconfig_refuses_unsafe_or_unsupported_users),
		cmocka_unit_test(test_k8s__in_cluster_uses_the_service_account),
		cmocka_unit_test(test_k8s__pod_view_reads_phases_exit_codes_and_deletion),
		cmocka_unit_test(test_k8s__watch_events_and_list_versions),
		cmocka_unit_test(test_k8s__owner_view_reads_counts_and_conditions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
