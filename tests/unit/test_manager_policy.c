// SPDX-License-Identifier: Apache-2.0
// Unit tests for what a job may use on the manager's machine
// (src/manager/policy.c): environment names, workload files and file://
// URLs, and the addresses a workload fetch may connect to.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "manager/policy.h"

static char dir[256];

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char p[512];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/coffer-policy-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/store", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/wl", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/other", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/other/w.txt", dir);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fclose(f);
	snprintf(p, sizeof(p), "%s/store/w.txt", dir);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fclose(f);
	{
		char target[512];

		snprintf(target, sizeof(target), "%s/other/w.txt", dir);
		snprintf(p, sizeof(p), "%s/store/out.txt", dir);
		if (symlink(target, p) != 0)
			return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_policy__refuses_loader_and_library_variables(void **state)
{
	struct mgr_policy p;

	(void)state;
	mgr_policy_init(&p);
	assert_true(mgr_policy_env_denied(&p, "LD_PRELOAD"));
	assert_true(mgr_policy_env_denied(&p, "LD_LIBRARY_PATH"));
	assert_true(mgr_policy_env_denied(&p, "LD_AUDIT"));
	assert_true(mgr_policy_env_denied(&p, "GCONV_PATH"));
	assert_true(mgr_policy_env_denied(&p, "GLIBC_TUNABLES"));
	assert_true(mgr_policy_env_denied(&p, "MALLOC_ARENA_MAX"));
	assert_true(mgr_policy_env_denied(&p, "OPENSSL_CONF"));
	assert_true(mgr_policy_env_denied(&p, "BASH_ENV"));
	assert_false(mgr_policy_env_denied(&p, "LDAP_URI"));
	assert_false(mgr_policy_env_denied(&p, "PATH"));
	assert_false(mgr_policy_env_denied(&p, "GREETING"));
	assert_false(mgr_policy_env_denied(&p, "FOO_BAR"));
	assert_int_equal(mgr_policy_add_env_deny(&p, "FOO_*"), 0);
	assert_int_equal(mgr_policy_add_env_deny(&p, "EXACT"), 0);
	assert_true(mgr_policy_env_denied(&p, "FOO_BAR"));
	assert_true(mgr_policy_env_denied(&p, "EXACT"));
	assert_false(mgr_policy_env_denied(&p, "EXACTLY"));
	assert_int_equal(mgr_policy_add_env_deny(&p, "1X"), COFFER_E_INVAL);
	assert_int_equal(mgr_policy_add_env_deny(&p, "A*B"), COFFER_E_INVAL);
	assert_int_equal(mgr_policy_add_env_deny(&p, ""), COFFER_E_INVAL);
	mgr_policy_release(&p);
}

static int
v4(const char *a)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return mgr_policy_addr_allowed((struct sockaddr *)&s, sizeof(s));
}

static int
v6(const char *a)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return mgr_policy_addr_allowed((struct sockaddr *)&s, sizeof(s));
}

static void
test_policy__never_connects_to_link_local_or_metadata(void **state)
{
	(void)state;
	assert_false(v4("169.254.169.254"));
	assert_false(v4("169.254.0.1"));
	assert_false(v4("169.254.170.2"));
	assert_true(v4("127.0.0.1"));
	assert_true(v4("169.253.255.255"));
	assert_true(v4("169.255.0.1"));
	assert_true(v4("10.0.0.1"));
	assert_false(v6("fe80::1"));
	assert_false(v6("febf:ffff::1"));
	assert_false(v6("::ffff:169.254.169.254"));
	assert_false(v6("64:ff9b::169.254.169.254"));
	assert_false(v6("fd00:ec2::254"));
	assert_true(v6("fec0::1"));
	assert_true(v6("::1"));
	assert_true(v6("::ffff:127.0.0.1"));
	assert_true(v6("2001:db8::1"));
}

static void
test_policy__file_urls_name_local_paths(void **state)
{
	char out[PATH_MAX];

	(void)state;
	assert_int_equal(mgr_policy_file_url_path("file:///a/b%20c", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b c");
	assert_int_equal(mgr_policy_file_url_path("file://localhost/a", out, sizeof(out)), 0);
	assert_string_equal(out, "/a");
	assert_int_equal(mgr_policy_file_url_path("file://host/a", out, sizeof(out)),
	    COFFER_E_FORMAT);
	assert_int_equal(mgr_policy_file_url_path("file:///a%00b", out, sizeof(out)),
	    COFFER_E_FORMAT);
	assert_int_equal(mgr_policy_file_url_path("file:///a%zz", out, sizeof(out)),
	    COFFER_E_FORMAT);
	assert_int_equal(mgr_policy_file_url_path("http://x/", out, sizeof(out)),
	    COFFER_E_FORMAT);
}

static int
check(const struct mgr_policy *p, const char *file, const char *url, int cmd,
    const char *env)
{
	struct mgr_jobspec s;
	struct mgr_kv kv = { (char *)env, (char *)"1" };
	char *argv[] = { (char *)"/bin/true", NULL };

	memset(&s, 0, sizeof(s));
	s.items_file = (char *)file;
	s.items_url = (char *)url;
	if (cmd) {
		s.cmd = argv;
		s.ncmd = 1;
	}
	if (env != NULL) {
		s.env = &kv;
		s.nenv = 1;
	}
	return mgr_policy_check_spec(p, &s, 0);
}

static void
test_policy__workload_files_only_where_allowed(void **state)
{
	struct mgr_policy p;
	char path[512], store[512], wl[512], url[600], real[PATH_MAX];

	(void)state;
	mgr_policy_init(&p);
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(wl, sizeof(wl), "%s/wl", dir);
	assert_int_equal(mgr_policy_set_store(&p, store), 0);
	snprintf(path, sizeof(path), "%s/store/w.txt", dir);
	assert_int_equal(check(&p, path, NULL, 0, NULL), 0);
	/* Not there yet: judged by where it would be. */
	snprintf(path, sizeof(path), "%s/store/sub/later.txt", dir);
	assert_int_equal(check(&p, path, NULL, 0, NULL), 0);
	snprintf(path, sizeof(path), "%s/other/w.txt", dir);
	assert_int_equal(check(&p, path, NULL, 0, NULL), COFFER_E_POLICY);
	assert_int_equal(strncmp(coffer_errdetail(), "inputs.items_file: ", 19), 0);
	snprintf(path, sizeof(path), "%s/store/../other/w.txt", dir);
	assert_int_equal(check(&p, path, NULL, 0, NULL), COFFER_E_POLICY);
	snprintf(path, sizeof(path), "%s/store/out.txt", dir);
	assert_int_equal(check(&p, path, NULL, 0, NULL), COFFER_E_POLICY);
	/* Prefix, not a directory: /x/store-evil is not under /x/store. */
	snprintf(path, sizeof(path), "%s/storeevil/w.txt", dir);
	assert_int_equal(check(&p, path, NULL, 0, NULL), COFFER_E_POLICY);
	snprintf(url, sizeof(url), "file://%s/other/w.txt", dir);
	assert_int_equal(check(&p, NULL, url, 0, NULL), COFFER_E_POLICY);
	assert_int_equal(strncmp(coffer_errdetail(), "inputs.items_url: ", 18), 0);
	snprintf(url, sizeof(url), "file://%s/store/w.txt", dir);
	assert_int_equal(check(&p, NULL, url, 0, NULL), 0);
	/* When read: resolved, links followed, then checked. */
	snprintf(path, sizeof(path), "%s/store/w.txt", dir);
	assert_int_equal(mgr_policy_workload_file(&p, path, real, sizeof(real)), 0);
	snprintf(path, sizeof(path), "%s/store/out.txt", dir);
	assert_int_equal(mgr_policy_workload_file(&p, path, real, sizeof(real)),
	    COFFER_E_POLICY);
	snprintf(path, sizeof(path), "%s/store/none.txt", dir);
	assert_int_equal(mgr_policy_workload_file(&p, path, real, sizeof(real)),
	    COFFER_E_NOTFOUND);
	/* A workload directory adds to the store. */
	assert_int_equal(mgr_policy_add_workload_dir(&p, wl), 0);
	snprintf(path, sizeof(path), "%s/wl/x.txt", dir);
	assert_int_equal(check(&p, path, NULL, 0, NULL), 0);
	snprintf(path, sizeof(path), "%s/nonexistent", dir);
	assert_int_equal(mgr_policy_add_workload_dir(&p, path), COFFER_E_NOTFOUND);
	mgr_policy_release(&p);
}

static void
test_policy__urls_cmd_and_env(void **state)
{
	struct mgr_policy p;

	(void)state;
	mgr_policy_init(&p);
	assert_int_equal(check(&p, NULL, "http://127.0.0.1/w", 0, NULL), COFFER_E_POLICY);
	p.allow_workload_url = 1;
	assert_int_equal(check(&p, NULL, "http://127.0.0.1/w", 0, NULL), 0);
	assert_int_equal(check(&p, NULL, "https://u:p@example.org:8443/w", 0, NULL), 0);
	assert_int_equal(check(&p, NULL, "http://169.254.169.254/latest", 0, NULL),
	    COFFER_E_POLICY);
	assert_int_equal(check(&p, NULL, "http://u@169.254.169.254:80/", 0, NULL),
	    COFFER_E_POLICY);
	/* Not a literal inet_pton reads: left to the check at connect time. */
	assert_int_equal(check(&p, NULL, "http://[fe80::1%25eth0]/", 0, NULL), 0);
	assert_int_equal(check(&p, NULL, "http://[fe80::1]/", 0, NULL), COFFER_E_POLICY);
	assert_int_equal(check(&p, NULL, "http://[::ffff:169.254.1.1]/", 0, NULL),
	    COFFER_E_POLICY);
	assert_int_equal(check(&p, NULL, NULL, 1, NULL), 0);
	p.allow_cmd = 0;
	assert_int_equal(check(&p, NULL, NULL, 1, NULL), COFFER_E_POLICY);
	assert_int_equal(strncmp(coffer_errdetail(), "cmd: ", 5), 0);
	assert_int_equal(check(&p, NULL, NULL, 0, "LD_PRELOAD"), COFFER_E_POLICY);
	assert_int_equal(strncmp(coffer_errdetail(), "env.LD_PRELOAD: ", 16), 0);
	assert_int_equal(check(&p, NULL, NULL, 0, "GREETING"), 0);
	mgr_policy_release(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy__refuses_loader_and_library_variables),
		cmocka_unit_test(test_policy__never_connects_to_link_local_or_metadata),
		cmocka_unit_test(test_policy__file_urls_name_local_paths),
		cmocka_unit_test_setup_teardown(test_policy__workload_files_only_where_allowed,
		    setup, teardown),
		cmocka_unit_test(test_policy__urls_cmd_and_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
