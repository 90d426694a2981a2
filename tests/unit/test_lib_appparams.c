// SPDX-License-Identifier: Apache-2.0
// App parameter declarations and the one check of a job's parameters
// against them (src/lib/appparams.c, doc/format/app-abi.md section 5).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "coffer/error.h"
#include "lib/appparams.h"

static const struct coffer_app_param_decl decls[] = {
	{ "sleep_ms", COFFER_APP_PARAM_INT, 0, 0, 1000, NULL, "ms" },
	{ "ratio", COFFER_APP_PARAM_NUMBER, 0, 0, 1, NULL, NULL },
	{ "format", COFFER_APP_PARAM_STRING, 0, 0, 0, "cksum|upper", NULL },
	{ "verbose", COFFER_APP_PARAM_BOOL, 0, 0, 0, NULL, NULL },
	{ "key", COFFER_APP_PARAM_STRING, 1, 1, 8, NULL, NULL },
};

static char errs[1024];

static void
collect(void *arg, const char *name, const char *message)
{
	(void)arg;
	snprintf(errs + strlen(errs), sizeof(errs) - strlen(errs), "%s: %s;", name,
	    message);
}

static size_t
check(const char *const *k, const char *const *v, size_t n)
{
	json_t *d = coffer_app_decls_json(decls, sizeof(decls) / sizeof(decls[0]));
	size_t e;

	errs[0] = '\0';
	assert_non_null(d);
	assert_int_equal(coffer_app_decls_check(d), 0);
	e = coffer_app_params_check(d, k, v, n, collect, NULL);
	json_decref(d);
	return e;
}

static void
test_appparams__accepts_declared_values(void **state)
{
	const char *k[] = { "sleep_ms", "ratio", "format", "verbose", "key" };
	const char *v[] = { "1000", "0.5", "upper", "false", "abc" };

	(void)state;
	assert_int_equal(check(k, v, 5), 0);
	assert_string_equal(errs, "");
}

static void
test_appparams__reports_every_problem(void **state)
{
	const char *k[] = { "sleep_msec", "sleep_ms", "ratio", "format", "verbose",
		"coffer.app_secret" };
	const char *v[] = { "1", "1001", "x", "lower", "yes", "00" };

	(void)state;
	/* 6 given, all wrong, and the required "key" is missing. */
	assert_int_equal(check(k, v, 6), 7);
	assert_non_null(strstr(errs, "sleep_msec: unknown parameter (did you mean 'sleep_ms'?)"));
	assert_non_null(strstr(errs, "sleep_ms: 1001 is out of range [0, 1000]"));
	assert_non_null(strstr(errs, "ratio: expected a number"));
	assert_non_null(strstr(errs, "format: 'lower' is not one of cksum|upper"));
	assert_non_null(strstr(errs, "verbose: expected true or false"));
	assert_non_null(strstr(errs, "coffer.app_secret: parameters starting with 'coffer.' are reserved"));
	assert_non_null(strstr(errs, "key: missing"));
}

static void
test_appparams__undeclared_apps_take_anything_but_reserved(void **state)
{
	const char *k[] = { "anything", "coffer.x" };
	const char *v[] = { "1", "2" };

	(void)state;
	errs[0] = '\0';
	assert_int_equal(coffer_app_params_check(NULL, k, v, 2, collect, NULL), 1);
	assert_non_null(strstr(errs, "coffer.x"));
}

static void
test_appparams__refuses_bad_declarations(void **state)
{
	static const char *const bad[] = {
		"[{\"name\": \"coffer.secret\", \"type\": \"string\"}]",
		"[{\"name\": \"a b\", \"type\": \"string\"}]",
		"[{\"name\": \"a\", \"type\": \"float\"}]",
		"[{\"name\": \"a\", \"type\": \"int\", \"min\": \"0\"}]",
		"{\"name\": \"a\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *d = json_loads(bad[i], 0, NULL);

		assert_non_null(d);
		assert_int_equal(coffer_app_decls_check(d), COFFER_E_FORMAT);
		json_decref(d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appparams__accepts_declared_values),
		cmocka_unit_test(test_appparams__reports_every_problem),
		cmocka_unit_test(test_appparams__undeclared_apps_take_anything_but_reserved),
		cmocka_unit_test(test_appparams__refuses_bad_declarations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
