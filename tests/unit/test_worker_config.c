// SPDX-License-Identifier: Apache-2.0
// Unit tests for coffer-worker's configuration (src/worker/config.c,
// doc/worker.md section 2): flags over the environment, the required
// settings, ranges, COFFER_PARAMS and the app environment lists. The
// worker is trusted code and its environment is set by an operator.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "worker/worker.h"

extern char **environ;

/* Every variable the worker reads, so each test starts from nothing. */
static void
clear_env(void)
{
	for (;;) {
		char name[256];
		int found = 0;

		for (char **e = environ; *e != NULL; e++) {
			const char *eq = strchr(*e, '=');
			size_t n = eq ? (size_t)(eq - *e) : strlen(*e);

			if (n < sizeof(name) && (strncmp(*e, "COFFER_", 7) == 0 ||
			    strncmp(*e, "REDIS_", 6) == 0)) {
				memcpy(name, *e, n);
				name[n] = '\0';
				found = 1;
				break;
			}
		}
		if (!found)
			return;
		unsetenv(name);
	}
}

static int
setup(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

/* Parse a NULL-terminated argument list (argv[0] added). */
static int
parse(struct worker_config *c, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"coffer-worker";
	va_start(ap, c);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return worker_config_parse(argc, argv, c);
}

#define BASE "--job", "j1", "--redis", "redis://127.0.0.1:1", "--store", "/in", \
	"--app", "/bin/cat"

static void
expect_fail(int r, int code, const char *needle)
{
	if (r != code)
		fail_msg("expected %s, got %s: %s", coffer_strerror(code),
		    coffer_strerror(r), coffer_errdetail());
	if (needle != NULL && strstr(coffer_errdetail(), needle) == NULL)
		fail_msg("the detail '%s' does not say '%s'", coffer_errdetail(), needle);
}

static const char *
param(const struct worker_config *c, const char *key)
{
	for (size_t i = 0; i < c->nparams; i++)
		if (strcmp(c->params[i].key, key) == 0)
			return c->params[i].value;
	return NULL;
}

static void
test_worker_config__defaults_and_kind_from_the_file_name(void **state)
{
	struct worker_config c;

	(void)state;
	assert_int_equal(parse(&c, BASE, NULL), 0);
	assert_string_equal(c.job, "j1");
	assert_string_equal(c.store, "/in");
	assert_null(c.outputs);
	assert_int_equal(c.app_kind, APP_KIND_EXEC);
	assert_int_equal(c.lease_ms, 30000);
	assert_int_equal(c.backoff_ms, 1000);
	assert_int_equal(c.max_attempts, 0);
	assert_true(c.max_item_bytes == (size_t)64 << 20);
	assert_int_equal(c.item_timeout_ms, 3600000);
	assert_int_equal(c.start_retry_ms, 10000);
	assert_int_equal(c.allow_empty_output, 0);
	assert_int_equal(c.nparams, 0);
	worker_config_release(&c);

	assert_int_equal(parse(&c, BASE, "--app", "/x/a.so", NULL), 0);
	assert_int_equal(c.app_kind, APP_KIND_PLUGIN);
	worker_config_release(&c);
	/* Only the suffix ".so" makes a plugin; the kind can be forced. */
	assert_int_equal(parse(&c, BASE, "--app", ".so", NULL), 0);
	assert_int_equal(c.app_kind, APP_KIND_EXEC);
	worker_config_release(&c);
	assert_int_equal(parse(&c, BASE, "--app-kind", "plugin", NULL), 0);
	assert_int_equal(c.app_kind, APP_KIND_PLUGIN);
	worker_config_release(&c);
}

static void
test_worker_config__environment_alone_is_a_configuration(void **state)
{
	struct worker_config c;

	(void)state;
	setenv("COFFER_JOB", "ej", 1);
	setenv("REDIS_HOST", "127.0.0.1", 1);
	setenv("REDIS_PORT", "6390", 1);
	setenv("COFFER_STORE", "/s", 1);
	setenv("COFFER_OUTPUTS", "/o", 1);
	setenv("COFFER_OUTPUT_PREFIX", "p/", 1);
	setenv("COFFER_APP", "/a", 1);
	setenv("COFFER_APP_KIND", "exec", 1);
	setenv("COFFER_PARAMS", "k=v&x=%41%20b", 1);
	setenv("COFFER_APP_ENV", "FOO,BAR", 1);
	setenv("COFFER_WORKER_ID", "w-1", 1);
	setenv("COFFER_LEASE_MS", "100", 1);
	setenv("COFFER_MAX_ATTEMPTS", "7", 1);
	setenv("COFFER_BACKOFF_MS", "5", 1);
	setenv("COFFER_MAX_ITEM_BYTES", "1000", 1);
	setenv("COFFER_ITEM_TIMEOUT_MS", "0", 1);
	setenv("COFFER_ALLOW_EMPTY_OUTPUT", "yes", 1);
	setenv("COFFER_EXIT_WHEN_DONE", "true", 1);
	assert_int_equal(parse(&c, NULL), 0);
	assert_string_equal(c.job, "ej");
	assert_non_null(strstr(c.redis_url, "127.0.0.1"));
	assert_non_null(strstr(c.redis_url, "6390"));
	assert_string_equal(c.outputs, "/o");
	assert_string_equal(c.output_prefix, "p/");
	assert_string_equal(param(&c, "k"), "v");
	assert_string_equal(param(&c, "x"), "A b");
	assert_int_equal(c.napp_env, 2);
	assert_string_equal(c.app_env[1], "BAR");
	assert_string_equal(c.worker_id, "w-1");
	assert_int_equal(c.lease_ms, 100);
	assert_int_equal(c.max_attempts, 7);
	assert_int_equal(c.backoff_ms, 5);
	assert_int_equal(c.max_item_bytes, 1000);
	assert_int_equal(c.item_timeout_ms, 0);
	assert_int_equal(c.allow_empty_output, 1);
	assert_int_equal(c.exit_when_done, 1);
	worker_config_release(&c);
}

static void
test_worker_config__flags_win_over_the_environment(void **state)
{
	struct worker_config c;

	(void)state;
	setenv("COFFER_JOB", "from-env", 1);
	setenv("COFFER_REDIS_URL", "redis://env:1", 1);
	setenv("REDIS_HOST", "ignored-when-the-url-is-set", 1);
	setenv("COFFER_LEASE_MS", "5000", 1);
	setenv("COFFER_PARAMS", "k=env&only=env", 1);
	assert_int_equal(parse(&c, "--job", "from-flag", "--store", "/s", "--app",
	    "/a", "--lease-ms", "600", "--param", "k=flag", NULL), 0);
	assert_string_equal(c.job, "from-flag");
	assert_string_equal(c.redis_url, "redis://env:1");
	assert_int_equal(c.lease_ms, 600);
	/* A flag replaces the same parameter and keeps the others. */
	assert_string_equal(param(&c, "k"), "flag");
	assert_string_equal(param(&c, "only"), "env");
	assert_int_equal(c.nparams, 2);
	worker_config_release(&c);
}

static void
test_worker_config__each_missing_setting_is_named(void **state)
{
	struct worker_config c;

	(void)state;
	expect_fail(parse(&c, "--job", "j", "--redis", "r", "--store", "/s", NULL),
	    COFFER_E_INVAL, "--app");
	worker_config_release(&c);
	expect_fail(parse(&c, "--job", "j", "--redis", "r", "--app", "/a", NULL),
	    COFFER_E_INVAL, "--store");
	worker_config_release(&c);
	expect_fail(parse(&c, "--redis", "r", "--store", "/s", "--app", "/a", NULL),
	    COFFER_E_INVAL, "--job");
	worker_config_release(&c);
	expect_fail(parse(&c, "--job", "j", "--store", "/s", "--app", "/a", NULL),
	    COFFER_E_INVAL, "Redis");
	worker_config_release(&c);
	/* --check-app needs only the app; --reduce the app and the store. */
	assert_int_equal(parse(&c, "--check-app", "--app", "/a", NULL), 0);
	worker_config_release(&c);
	assert_int_equal(parse(&c, "--reduce", "r", "--app", "/a", "--store", "/s",
	    NULL), 0);
	assert_string_equal(c.reduce_key, "r");
	worker_config_release(&c);
}

/* --after-drain (doc/worker.md section 2): a plaintext reduce stage's,
 * which reads the queue, so it needs the job and Redis too. */
static void
test_worker_config__after_drain_is_a_plaintext_reduce_that_needs_the_queue(void **state)
{
	struct worker_config c;

	(void)state;
	assert_int_equal(parse(&c, BASE, "--reduce", "r", "--after-drain", NULL), 0);
	assert_int_equal(c.after_drain, 1);
	worker_config_release(&c);
	assert_int_equal(parse(&c, BASE, "--reduce", "r", NULL), 0);
	assert_int_equal(c.after_drain, 0);
	worker_config_release(&c);
	expect_fail(parse(&c, BASE, "--after-drain", NULL), COFFER_E_INVAL,
	    "--after-drain");
	worker_config_release(&c);
	expect_fail(parse(&c, "--redis", "r", "--store", "/s", "--app", "/a",
	    "--reduce", "r", "--after-drain", NULL), COFFER_E_INVAL, "--job");
	worker_config_release(&c);
	expect_fail(parse(&c, "--job", "j", "--store", "/s", "--app", "/a",
	    "--reduce", "r", "--after-drain", NULL), COFFER_E_INVAL, "Redis");
	worker_config_release(&c);
	expect_fail(parse(&c, BASE, "--reduce", "r", "--after-drain",
	    "--coordinator", "http://127.0.0.1:1", "--coordinator-job",
	    "0123456789abcdef0123456789abcdef", "--tee-backend", "sim",
	    "--measured-config", "/m", NULL), COFFER_E_INVAL, "plaintext");
	worker_config_release(&c);
}

/* COFFER_REDUCE_KEY and COFFER_AFTER_DRAIN (doc/worker.md section 2): the
 * options by name, for a standby worker's assignment (2.2), checked the
 * same way. */
static void
test_worker_config__reduce_and_after_drain_by_name_mean_the_options(void **state)
{
	struct worker_config c;

	(void)state;
	setenv("COFFER_REDUCE_KEY", "out/result", 1);
	setenv("COFFER_AFTER_DRAIN", "1", 1);
	assert_int_equal(parse(&c, BASE, NULL), 0);
	assert_string_equal(c.reduce_key, "out/result");
	assert_int_equal(c.after_drain, 1);
	worker_config_release(&c);
	setenv("COFFER_AFTER_DRAIN", "maybe", 1);
	expect_fail(parse(&c, BASE, NULL), COFFER_E_INVAL, "COFFER_AFTER_DRAIN");
	worker_config_release(&c);
	unsetenv("COFFER_REDUCE_KEY");
	setenv("COFFER_AFTER_DRAIN", "1", 1);
	expect_fail(parse(&c, BASE, NULL), COFFER_E_INVAL, "--after-drain");
	worker_config_release(&c);
	setenv("COFFER_REDUCE_KEY", "out/result", 1);
	expect_fail(parse(&c, BASE, "--coordinator", "http://127.0.0.1:1",
	    "--coordinator-job", "0123456789abcdef0123456789abcdef",
	    "--tee-backend", "sim", "--measured-config", "/m", NULL),
	    COFFER_E_INVAL, "plaintext");
	worker_config_release(&c);
}

static void
test_worker_config__numbers_out_of_range_or_malformed_are_refused(void **state)
{
	static const char *const bad[][2] = {
		{ "--lease-ms", "99" }, { "--lease-ms", "86400001" },
		{ "--lease-ms", "" }, { "--lease-ms", "1000x" },
		{ "--lease-ms", " 1000" }, { "--lease-ms", "99999999999999999999" },
		{ "--max-attempts", "0" }, { "--backoff-ms", "0" },
		{ "--backoff-ms", "3600001" }, { "--max-item-bytes", "0" },
		{ "--max-item-bytes", "17179869185" }, { "--item-timeout-ms", "-1" },
		{ "--item-timeout-ms", "2147483648" }, { "--app-kind", "shell" },
		{ "--batch", "0" }, { "--batch", "65" },
		{ "--start-retry-ms", "-1" }, { "--start-retry-ms", "600001" },
	};
	struct worker_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(&c, BASE, bad[i][0], bad[i][1], NULL);

		if (r != COFFER_E_INVAL)
			fail_msg("%s '%s' was accepted (%d)", bad[i][0], bad[i][1], r);
		assert_non_null(strstr(coffer_errdetail(), bad[i][0]));
		worker_config_release(&c);
	}
	/* The bounds themselves are fine. */
	assert_int_equal(parse(&c, BASE, "--lease-ms", "100", "--max-item-bytes",
	    "17179869184", "--item-timeout-ms", "0", NULL), 0);
	assert_true(c.max_item_bytes == (size_t)1 << 34);
	worker_config_release(&c);
	assert_int_equal(parse(&c, BASE, "--start-retry-ms", "0", NULL), 0);
	assert_int_equal(c.start_retry_ms, 0);
	worker_config_release(&c);
	assert_int_equal(parse(&c, BASE, "--start-retry-ms", "600000", NULL), 0);
	assert_int_equal(c.start_retry_ms, 600000);
	worker_config_release(&c);
	/* A batch at the maximum (doc/worker.md 9.4); one above it is
	 * refused, by flag (above) and by environment. */
	assert_int_equal(parse(&c, BASE, "--batch", "64", NULL), 0);
	assert_int_equal(c.batch, WORKER_BATCH_MAX);
	worker_config_release(&c);
	/* The defaults: 64 in a confidential job, 1 in a plaintext one. */
	assert_int_equal(parse(&c, BASE, "--coordinator", "http://127.0.0.1:1",
	    "--coordinator-job", "0123456789abcdef0123456789abcdef",
	    "--tee-backend", "sim", "--measured-config", "/m.json", NULL), 0);
	assert_int_equal(c.batch, 64);
	worker_config_release(&c);
	assert_int_equal(parse(&c, BASE, NULL), 0);
	assert_int_equal(c.batch, 1);
	worker_config_release(&c);
	setenv("COFFER_BATCH", "65", 1);
	expect_fail(parse(&c, BASE, NULL), COFFER_E_INVAL, "COFFER_BATCH");
	worker_config_release(&c);
	unsetenv("COFFER_BATCH");
	setenv("COFFER_LEASE_MS", "abc", 1);
	expect_fail(parse(&c, BASE, NULL), COFFER_E_INVAL, "COFFER_LEASE_MS");
	worker_config_release(&c);
}

static void
test_worker_config__booleans_are_spelled_one_way(void **state)
{
	static const char *const yes[] = { "1", "yes", "true" };
	static const char *const no[] = { "0", "no", "false", "" };
	struct worker_config c;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		setenv("COFFER_ALLOW_EMPTY_OUTPUT", yes[i], 1);
		assert_int_equal(parse(&c, BASE, NULL), 0);
		assert_int_equal(c.allow_empty_output, 1);
		worker_config_release(&c);
	}
	for (size_t i = 0; i < 4; i++) {
		setenv("COFFER_ALLOW_EMPTY_OUTPUT", no[i], 1);
		assert_int_equal(parse(&c, BASE, NULL), 0);
		assert_int_equal(c.allow_empty_output, 0);
		worker_config_release(&c);
	}
	setenv("COFFER_ALLOW_EMPTY_OUTPUT", "Yes", 1);
	expect_fail(parse(&c, BASE, NULL), COFFER_E_INVAL, "COFFER_ALLOW_EMPTY_OUTPUT");
	worker_config_release(&c);
}

static void
test_worker_config__bad_command_lines_are_refused(void **state)
{
	struct worker_config c;

	(void)state;
	expect_fail(parse(&c, BASE, "--no-such-flag", NULL), COFFER_E_INVAL,
	    "--no-such-flag");
	worker_config_release(&c);
	expect_fail(parse(&c, BASE, "stray", NULL), COFFER_E_INVAL, "stray");
	worker_config_release(&c);
	expect_fail(parse(&c, BASE, "--lease-ms", NULL), COFFER_E_INVAL, NULL);
	worker_config_release(&c);
	expect_fail(parse(&c, BASE, "--app", "/p.so", "--app-arg", "x", NULL),
	    COFFER_E_INVAL, "--app-arg");
	worker_config_release(&c);
	assert_int_equal(parse(&c, "--help", NULL), COFFER_E_CANCELLED);
	worker_config_release(&c);
	expect_fail(parse(&c, BASE, "--param", "novalue", NULL), COFFER_E_INVAL,
	    "KEY=VALUE");
	worker_config_release(&c);
}

static void
test_worker_config__app_args_are_kept_in_order_and_bounded(void **state)
{
	struct worker_config c;
	char *argv[2 + 8 + 2 * (WORKER_MAX_APP_ARGS + 1)];
	int argc = 0;

	(void)state;
	assert_int_equal(parse(&c, BASE, "--app-arg", "-x", "--app-arg", "two words",
	    NULL), 0);
	assert_int_equal(c.napp_args, 2);
	assert_string_equal(c.app_args[0], "-x");
	assert_string_equal(c.app_args[1], "two words");
	assert_null(c.app_args[2]);
	worker_config_release(&c);

	argv[argc++] = (char *)"coffer-worker";
	argv[argc++] = (char *)"--job";
	argv[argc++] = (char *)"j";
	argv[argc++] = (char *)"--redis";
	argv[argc++] = (char *)"r";
	argv[argc++] = (char *)"--store";
	argv[argc++] = (char *)"/s";
	argv[argc++] = (char *)"--app";
	argv[argc++] = (char *)"/a";
	for (int i = 0; i <= WORKER_MAX_APP_ARGS; i++) {
		argv[argc++] = (char *)"--app-arg";
		argv[argc++] = (char *)"a";
	}
	argv[argc] = NULL;
	expect_fail(worker_config_parse(argc, argv, &c), COFFER_E_LIMIT, "--app-arg");
	worker_config_release(&c);
}

/* COFFER_PARAMS, decoded on its own (doc/worker.md section 2). */
static int
decode(struct worker_config *c, const char *s)
{
	memset(c, 0, sizeof(*c));
	return worker_params_decode(s, c);
}

static void
test_worker_params__decodes_escapes_and_skips_empty_pairs(void **state)
{
	struct worker_config c;

	(void)state;
	assert_int_equal(decode(&c, "&&a=1&&b=%3D%26%25&c=&d=x=y&"), 0);
	assert_int_equal(c.nparams, 4);
	assert_string_equal(param(&c, "a"), "1");
	assert_string_equal(param(&c, "b"), "=&%");
	assert_string_equal(param(&c, "c"), "");
	/* The first '=' splits; later ones belong to the value. */
	assert_string_equal(param(&c, "d"), "x=y");
	worker_config_release(&c);
	/* Escapes in keys too, and a repeated key keeps the last value. */
	assert_int_equal(decode(&c, "k%2Ex=1&k.x=2"), 0);
	assert_int_equal(c.nparams, 1);
	assert_string_equal(param(&c, "k.x"), "2");
	worker_config_release(&c);
	assert_int_equal(decode(&c, ""), 0);
	assert_int_equal(c.nparams, 0);
	worker_config_release(&c);
}

static void
test_worker_params__refuses_what_an_app_must_never_see(void **state)
{
	static const char *const bad[] = {
		"a",          /* no '=' */
		"=v",         /* empty key */
		"a b=1",      /* space in the key */
		"a%20b=1",    /* ... also escaped */
		"a/b=1",      /* '/' is not a key character */
		"a=%",        /* truncated escapes */
		"a=%4",
		"a=%G0",
		"a=%0g",
		"a=x%00y",    /* NUL in a value */
		"%=1",
	};
	struct worker_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = decode(&c, bad[i]);

		if (r != COFFER_E_INVAL)
			fail_msg("COFFER_PARAMS '%s' was accepted (%d)", bad[i], r);
		worker_config_release(&c);
	}
}

static void
test_worker_params__limits_on_names_values_and_count(void **state)
{
	struct worker_config c;
	char key[66], *val, *many;
	size_t n = 0;

	(void)state;
	memset(key, 'k', 64);
	key[64] = '\0';
	val = malloc(4096 + 64 + 8);
	assert_non_null(val);
	snprintf(val, 80, "%s=", key);
	memset(val + 65, 'v', 4096);
	val[65 + 4096] = '\0';
	/* 64-character names and 4096-byte values are the largest. */
	assert_int_equal(decode(&c, val), 0);
	assert_int_equal(strlen(param(&c, key)), 4096);
	worker_config_release(&c);
	val[65 + 4096] = 'v';
	val[65 + 4097] = '\0';
	expect_fail(decode(&c, val), COFFER_E_INVAL, "4096");
	worker_config_release(&c);
	key[64] = 'k';
	key[65] = '\0';
	snprintf(val, 80, "%s=1", key);
	expect_fail(decode(&c, val), COFFER_E_INVAL, "1-64");
	worker_config_release(&c);
	free(val);

	many = malloc(16 * (WORKER_MAX_PARAMS + 2));
	assert_non_null(many);
	for (int i = 0; i <= WORKER_MAX_PARAMS; i++)
		n += (size_t)snprintf(many + n, 16, "p%d=1&", i);
	expect_fail(decode(&c, many), COFFER_E_LIMIT, "parameters");
	worker_config_release(&c);
	free(many);
}

static void
test_worker_config__app_env_names_are_checked(void **state)
{
	static const char *const bad[] = {
		"COFFER_X", "REDIS_PASSWORD", "A,COFFER_REDIS_URL", "1A", "A-B",
		"A B", "A=B",
	};
	struct worker_config c;

	(void)state;
	assert_int_equal(parse(&c, BASE, "--app-env", ",,FOO,,_x1,", "--app-env",
	    "COFFER", NULL), 0);
	assert_int_equal(c.napp_env, 3);
	assert_string_equal(c.app_env[0], "FOO");
	assert_string_equal(c.app_env[1], "_x1");
	/* Only the worker's own prefixes are refused, not a name like it. */
	assert_string_equal(c.app_env[2], "COFFER");
	worker_config_release(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(&c, BASE, "--app-env", bad[i], NULL);

		if (r != COFFER_E_INVAL)
			fail_msg("--app-env '%s' was accepted (%d)", bad[i], r);
		worker_config_release(&c);
		setenv("COFFER_APP_ENV", bad[i], 1);
		r = parse(&c, BASE, NULL);
		unsetenv("COFFER_APP_ENV");
		if (r != COFFER_E_INVAL)
			fail_msg("COFFER_APP_ENV '%s' was accepted (%d)", bad[i], r);
		assert_non_null(strstr(coffer_errdetail(), "COFFER_APP_ENV"));
		worker_config_release(&c);
	}
}

/* An assignment (doc/worker.md 2.2) parsed into a. */
static int
assign(struct worker_assign *a, const char *text)
{
	return worker_assign_parse(text, strlen(text), a);
}

static void
test_worker_assign__means_what_the_same_environment_would(void **state)
{
	struct worker_assign a;
	struct worker_config c, e;
	char *argv[] = { (char *)"coffer-worker", NULL };

	(void)state;
	assert_int_equal(assign(&a, "COFFER_JOB=aj\nREDIS_HOST=127.0.0.1\n"
	    "REDIS_PORT=6391\nCOFFER_STORE=/s\nCOFFER_APP=/a.so\n"
	    "COFFER_PARAMS=k=v&x=%41%20b\nCOFFER_LEASE_MS=700\n"
	    "COFFER_EXIT_WHEN_DONE=1\nFOO=a=b c\nEMPTY=\n\n"), 0);
	assert_int_equal(a.n, 10);
	assert_string_equal(worker_assign_get(&a, "FOO"), "a=b c");
	assert_string_equal(worker_assign_get(&a, "EMPTY"), "");
	assert_null(worker_assign_get(&a, "COFFER_OUTPUTS"));
	assert_int_equal(worker_config_parse_vars(1, argv, worker_assign_get, &a,
	    &c), 0);
	/* The same variables in the environment give the same config. */
	for (size_t i = 0; i < a.n; i++)
		setenv(a.name[i], a.value[i], 1);
	assert_int_equal(parse(&e, NULL), 0);
	assert_string_equal(c.job, "aj");
	assert_string_equal(c.job, e.job);
	assert_string_equal(c.redis_url, e.redis_url);
	assert_non_null(strstr(c.redis_url, "6391"));
	assert_int_equal(c.app_kind, APP_KIND_PLUGIN);
	assert_string_equal(param(&c, "x"), "A b");
	assert_int_equal(c.lease_ms, 700);
	assert_int_equal(c.exit_when_done, 1);
	worker_config_release(&c);
	worker_config_release(&e);
	/* Nothing of the environment (set above) is read through the
	 * assignment. */
	worker_assign_release(&a);
	assert_int_equal(assign(&a, "COFFER_JOB=aj\n\n"), 0);
	expect_fail(worker_config_parse_vars(1, argv, worker_assign_get, &a, &c),
	    COFFER_E_INVAL, "no app");
	worker_config_release(&c);
	/* And its errors name the variable, as the environment's do. */
	worker_assign_release(&a);
	assert_int_equal(assign(&a, "COFFER_LEASE_MS=5\n"), 0);
	expect_fail(worker_config_parse_vars(1, argv, worker_assign_get, &a, &c),
	    COFFER_E_INVAL, "COFFER_LEASE_MS");
	worker_config_release(&c);
	worker_assign_release(&a);
}

static void
test_worker_assign__refuses_malformed_lines_naming_them(void **state)
{
	static const struct {
		const char *text, *needle;
	} bad[] = {
		{ "COFFER_JOB=j\nno equals sign\n\n", "line 2" },
		{ "=v\n\n", "line 1" },
		{ "1A=v\n\n", "line 1" },
		{ "A-B=v\n\n", "line 1" },
		{ "A=1\nA=2\n\n", "given twice" },
		{ "A=1\r\n\n", "carriage return" },
		{ "A=1", "line feed" },
		{ "A=1\n\nB=2\n", "after the empty line" },
	};
	struct worker_assign a;
	char big[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = assign(&a, bad[i].text);

		if (r == 0)
			fail_msg("assignment %zu was accepted", i);
		if (strstr(coffer_errdetail(), bad[i].needle) == NULL)
			fail_msg("assignment %zu: '%s' does not say '%s'", i,
			    coffer_errdetail(), bad[i].needle);
		assert_null(a.text);
		assert_int_equal(a.n, 0);
	}
	expect_fail(worker_assign_parse("A=\0x\n\n", 6, &a), COFFER_E_FORMAT,
	    "NUL");
	/* A name of 129 characters. */
	memset(big, 'N', 129);
	memcpy(big + 129, "=v\n\n", 5);
	expect_fail(assign(&a, big), COFFER_E_FORMAT, "line 1");
	/* Empty: a valid assignment of nothing (the configuration says
	 * what is missing). */
	assert_int_equal(assign(&a, "\n"), 0);
	assert_int_equal(a.n, 0);
	worker_assign_release(&a);
}

static void
test_worker_assign__read_stops_at_the_empty_line_and_at_64_kib(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(WORKER_ASSIGN_MAX);
	int fds[2], closed = -1;
	char *huge;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "A=1\nB=2\n\nnot read\n", 19), 19);
	assert_int_equal(worker_assign_read(fds[0], NULL, &b, &closed), 0);
	assert_int_equal(closed, 0);
	assert_string_equal((const char *)b.data, "A=1\nB=2\n\n");
	coffer_buf_release(&b);
	/* EOF first: nothing assigned. */
	close(fds[1]);
	assert_int_equal(worker_assign_read(fds[0], NULL, &b, &closed), 0);
	assert_int_equal(closed, 1);
	coffer_buf_release(&b);
	close(fds[0]);
	/* EOF within an assignment: nothing assigned either. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "A=1\nB=", 6), 6);
	close(fds[1]);
	assert_int_equal(worker_assign_read(fds[0], NULL, &b, &closed), 0);
	assert_int_equal(closed, 1);
	coffer_buf_release(&b);
	close(fds[0]);
	/* 64 KiB without its empty line: refused, not waited for. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) >= WORKER_ASSIGN_MAX + 1,
	    1);
	huge = malloc(WORKER_ASSIGN_MAX + 1);
	assert_non_null(huge);
	memset(huge, 'x', WORKER_ASSIGN_MAX + 1);
	huge[0] = 'A';
	huge[1] = '=';
	assert_int_equal(write(fds[1], huge, WORKER_ASSIGN_MAX + 1),
	    WORKER_ASSIGN_MAX + 1);
	expect_fail(worker_assign_read(fds[0], NULL, &b, &closed), COFFER_E_LIMIT,
	    "65536");
	coffer_buf_release(&b);
	free(huge);
	close(fds[0]);
	close(fds[1]);
}

static void
test_worker_config__a_standby_takes_only_its_deployment_from_the_environment(void **state)
{
	struct worker_config c;

	(void)state;
	/* Nothing: a plaintext standby worker. The job's variables are not
	 * read here (the assignment brings them). */
	setenv("COFFER_JOB", "not-read", 1);
	assert_int_equal(worker_config_standby(&c), 0);
	assert_null(c.coordinator);
	assert_null(c.job);
	worker_config_release(&c);
	/* A confidential one: no COFFER_COORDINATOR_JOB needed. */
	setenv("COFFER_COORDINATOR_URL", "http://127.0.0.1:1", 1);
	setenv("COFFER_TEE_BACKEND", "sim", 1);
	setenv("COFFER_MEASURED_CONFIG", "/m.json", 1);
	assert_int_equal(worker_config_standby(&c), 0);
	assert_string_equal(c.coordinator, "http://127.0.0.1:1");
	assert_string_equal(c.measured, "/m.json");
	assert_null(c.coord_job);
	worker_config_release(&c);
	/* Checked as for a job. */
	setenv("COFFER_TEE_BACKEND", "nope", 1);
	expect_fail(worker_config_standby(&c), COFFER_E_INVAL, "sim, sgx-gramine or tsm");
	worker_config_release(&c);
	setenv("COFFER_TEE_BACKEND", "sim", 1);
	unsetenv("COFFER_MEASURED_CONFIG");
	expect_fail(worker_config_standby(&c), COFFER_E_INVAL, "COFFER_MEASURED_CONFIG");
	worker_config_release(&c);
	setenv("COFFER_MEASURED_CONFIG", "/m.json", 1);
	setenv("COFFER_COORDINATOR_URL", "https://x", 1);
	expect_fail(worker_config_standby(&c), COFFER_E_INVAL, "http://HOST:PORT");
	worker_config_release(&c);
	/* The TEE settings without a coordinator. */
	unsetenv("COFFER_COORDINATOR_URL");
	expect_fail(worker_config_standby(&c), COFFER_E_INVAL, "give --coordinator");
	worker_config_release(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_worker_config__defaults_and_kind_from_the_file_name, setup),
		cmocka_unit_test_setup(test_worker_config__environment_alone_is_a_configuration, setup),
		cmocka_unit_test_setup(test_worker_config__flags_win_over_the_environment, setup),
		cmocka_unit_test_setup(test_worker_config__each_missing_setting_is_named, setup),
		cmocka_unit_test_setup(test_worker_config__after_drain_is_a_plaintext_reduce_that_needs_the_queue, setup),
		cmocka_unit_test_setup(test_worker_config__reduce_and_after_drain_by_name_mean_the_options, setup),
		cmocka_unit_test_setup(test_worker_config__numbers_out_of_range_or_malformed_are_refused, setup),
		cmocka_unit_test_setup(test_worker_config__booleans_are_spelled_one_way, setup),
		cmocka_unit_test_setup(test_worker_config__bad_command_lines_are_refused, setup),
		cmocka_unit_test_setup(test_worker_config__app_args_are_kept_in_order_and_bounded, setup),
		cmocka_unit_test_setup(test_worker_params__decodes_escapes_and_skips_empty_pairs, setup),
		cmocka_unit_test_setup(test_worker_params__refuses_what_an_app_must_never_see, setup),
		cmocka_unit_test_setup(test_worker_params__limits_on_names_values_and_count, setup),
		cmocka_unit_test_setup(test_worker_config__app_env_names_are_checked, setup),
		cmocka_unit_test_setup(test_worker_assign__means_what_the_same_environment_would, setup),
		cmocka_unit_test_setup(test_worker_assign__refuses_malformed_lines_naming_them, setup),
		cmocka_unit_test_setup(test_worker_assign__read_stops_at_the_empty_line_and_at_64_kib, setup),
		cmocka_unit_test_setup(test_worker_config__a_standby_takes_only_its_deployment_from_the_environment, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
