// SPDX-License-Identifier: Apache-2.0
// Unit tests for coffer-worker's item pipeline (src/worker/item.c,
// doc/worker.md section 3) without Redis: an in-memory object store that
// fails on request, and a plugin app defined here (app_open_def). Each
// failure of the table in doc/worker.md section 3 that does not need a
// crash or a queue gets its outcome and its one-line error checked.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "worker/app.h"
#include "worker/shared.h"
#include "worker/worker.h"
#include "../support/fake_store.h"

/* ---- The app ---- */

enum app_mode {
	APP_ECHO,      /* "out:" + input */
	APP_FAIL,      /* COFFER_E_APP with a message holding control bytes */
	APP_EMPTY,     /* writes nothing */
	APP_HUGE,      /* writes until the writer refuses */
	APP_POSITIVE,  /* returns 5 */
	APP_PARAMS,    /* writes the parameters init() saw */
	APP_UNPARSEABLE, /* COFFER_E_FORMAT: the input cannot be parsed */
};

static enum app_mode app_mode;
static char app_seen_params[512];
static char app_seen_id[256];
static uint32_t app_seen_size, app_seen_attempt;

static int
fake_init(const struct coffer_app_param *params, size_t n, void **state,
    char *err, size_t errlen)
{
	size_t len = 0;

	app_seen_params[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(app_seen_params + len,
		    sizeof(app_seen_params) - len, "%s=%s;", params[i].key,
		    params[i].value);
	for (size_t i = 0; i < n; i++)
		if (strcmp(params[i].key, "fail_init") == 0) {
			snprintf(err, errlen, "no such column '%s'", params[i].value);
			return COFFER_E_APP;
		}
	*state = NULL;
	return 0;
}

static int
fake_process(void *state, const struct coffer_app_item *item, const uint8_t *in,
    size_t inlen, struct coffer_app_writer *out, char *err, size_t errlen)
{
	int r;

	(void)state;
	app_seen_size = item->size;
	app_seen_attempt = item->attempt;
	snprintf(app_seen_id, sizeof(app_seen_id), "%s", item->id);
	switch (app_mode) {
	case APP_ECHO:
		if ((r = out->write(out, "out:", 4)) != 0)
			return r;
		return out->write(out, in, inlen);
	case APP_FAIL:
		snprintf(err, errlen, "bad row\nin %s\x7f", item->id);
		return COFFER_E_APP;
	case APP_EMPTY:
		return 0;
	case APP_HUGE:
		for (;;) {
			static const uint8_t block[1000];

			if ((r = out->write(out, block, sizeof(block))) != 0)
				return r;
		}
	case APP_POSITIVE:
		return 5;
	case APP_PARAMS:
		return out->write(out, app_seen_params, strlen(app_seen_params));
	case APP_UNPARSEABLE:
		snprintf(err, errlen, "line 3: 4 fields, expected 5");
		return COFFER_E_FORMAT;
	}
	return COFFER_E_APP;
}

static int
fake_reduce_finish(void *state, struct coffer_app_writer *out, char *err,
    size_t errlen)
{
	(void)state;
	(void)err;
	(void)errlen;
	return out->write(out, "r", 1);
}

static struct coffer_app fake_app = {
	.size = sizeof(struct coffer_app),
	.abi_version = COFFER_APP_ABI_VERSION,
	.name = "fake",
	.version = "1.0",
	.init = fake_init,
	.process = fake_process,
};

/* ---- The fixture ---- */

struct fixture {
	struct worker_config cfg;
	struct worker w;
	struct coffer_store *store;
	struct fake_store *fs;
	struct worker_shared *sh;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->cfg.job = (char *)"job-1";
	f->cfg.app = (char *)"fake";
	f->cfg.app_kind = APP_KIND_PLUGIN;
	f->cfg.max_item_bytes = 4096;
	f->cfg.item_timeout_ms = 0;
	if (fake_store_new(&f->store, &f->fs) != 0)
		return -1;
	f->w.cfg = &f->cfg;
	f->w.in = f->w.out = f->store;
	f->w.prefix = "out/";
	f->w.sh = f->sh = shared_new();
	worker_bufs_init(&f->w, f->cfg.max_item_bytes);
	app_mode = APP_ECHO;
	if (f->sh == NULL || app_open_def(&f->cfg, &fake_app, &f->w.app, NULL) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	app_close(f->w.app);
	worker_bufs_release(&f->w);
	coffer_store_free(f->store);
	shared_free(f->sh);
	free(f);
	return 0;
}

static struct item_result
run(struct fixture *f, const char *id, uint32_t attempt)
{
	struct coffer_queue_item it = { (char *)id, attempt, 0 };
	struct item_result res;

	shared_item(f->sh, 0, id, attempt);
	assert_int_equal(worker_item_run(&f->w, &it, &res), 0);
	return res;
}

static void
expect(const struct item_result *res, enum item_outcome o, const char *needle)
{
	if (res->outcome != o)
		fail_msg("outcome %d, expected %d (error: %s)", res->outcome, o, res->err);
	if (needle != NULL && strstr(res->err, needle) == NULL)
		fail_msg("the error '%s' does not say '%s'", res->err, needle);
	if (o == ITEM_ACK)
		assert_string_equal(res->err, "");
}

static int
page_phase(struct fixture *f)
{
	struct worker_shared c;

	assert_int_equal(shared_read(f->sh, &c), 0);
	assert_true(shared_valid(&c));
	return c.slot[0].phase;
}

/* ---- Tests ---- */

static void
test_worker_item__output_is_stored_under_the_prefix_and_the_item(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf b = COFFER_BUF_INIT(4096);

	fake_store_set(f->fs, "in/a.csv", "1,2,3", 5);
	res = run(f, "in/a.csv", 2);
	expect(&res, ITEM_ACK, NULL);
	assert_int_equal(res.in_bytes, 5);
	assert_int_equal(res.out_bytes, 9);
	assert_int_equal(coffer_store_get(f->store, "out/in/a.csv", 4096, &b), 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "out:1,2,3", 9);
	/* The app got the item as it is, and the ABI's struct size. */
	assert_string_equal(app_seen_id, "in/a.csv");
	assert_int_equal(app_seen_attempt, 2);
	assert_int_equal(app_seen_size, sizeof(struct coffer_app_item));
	/* Only the ack is left: the supervisor would ack for a dead runner. */
	assert_int_equal(page_phase(f), PHASE_STORED);
	coffer_buf_release(&b);
}

static void
test_worker_item__input_failures_retry_or_bury_by_kind(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	char big[5000];

	/* Missing: it might appear (retried). */
	res = run(f, "nothing-here", 1);
	expect(&res, ITEM_FAIL, "input: ");
	assert_non_null(strstr(res.err, "nothing-here"));
	assert_int_equal(page_phase(f), PHASE_FETCH);
	/* An I/O error of the store: retried. */
	fake_store_set(f->fs, "x", "1", 1);
	fake_store_fail(f->fs, FAKE_GET, COFFER_E_IO);
	res = run(f, "x", 1);
	expect(&res, ITEM_FAIL, "input: injected get failure");
	fake_store_fail(f->fs, FAKE_GET, 0);
	/* Over the item limit: never better. */
	memset(big, 'b', sizeof(big));
	fake_store_set(f->fs, "big", big, sizeof(big));
	res = run(f, "big", 1);
	expect(&res, ITEM_BURY, "limit");
	/* An id the store refuses as a key, or a link it will not follow. */
	res = run(f, "a/../b", 1);
	expect(&res, ITEM_BURY, "input: ");
	fake_store_fail(f->fs, FAKE_GET, COFFER_E_PERM);
	res = run(f, "x", 1);
	expect(&res, ITEM_BURY, "input: ");
	fake_store_fail(f->fs, FAKE_GET, 0);
	assert_int_equal(fake_store_count(f->fs, "out/"), 0);
}

static void
test_worker_item__app_errors_are_retried_with_a_clean_message(void **state)
{
	struct fixture *f = *state;
	struct item_result res;

	fake_store_set(f->fs, "i", "x", 1);
	app_mode = APP_FAIL;
	res = run(f, "i", 1);
	/* Control characters of the app's message never reach the log. */
	expect(&res, ITEM_FAIL, "bad row in i ");
	assert_int_equal(page_phase(f), PHASE_STORE);
	app_mode = APP_POSITIVE;
	res = run(f, "i", 1);
	expect(&res, ITEM_FAIL, "invalid status 5");
	/* Except an input the app cannot parse: it will not parse on a
	 * retry either, so it is dead-lettered at once. */
	app_mode = APP_UNPARSEABLE;
	res = run(f, "i", 1);
	expect(&res, ITEM_BURY, "line 3: 4 fields, expected 5");
	assert_int_equal(fake_store_count(f->fs, "out/"), 0);
}

static void
test_worker_item__empty_output_fails_unless_allowed(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf b = COFFER_BUF_INIT(16);

	fake_store_set(f->fs, "i", "x", 1);
	app_mode = APP_EMPTY;
	res = run(f, "i", 1);
	expect(&res, ITEM_FAIL, "--allow-empty-output");
	assert_int_equal(fake_store_count(f->fs, "out/"), 0);
	f->cfg.allow_empty_output = 1;
	res = run(f, "i", 1);
	expect(&res, ITEM_ACK, NULL);
	assert_int_equal(coffer_store_get(f->store, "out/i", 16, &b), 0);
	assert_int_equal(b.len, 0);
	coffer_buf_release(&b);
}

static void
test_worker_item__output_over_the_limit_is_dead_lettered(void **state)
{
	struct fixture *f = *state;
	struct item_result res;

	fake_store_set(f->fs, "i", "x", 1);
	app_mode = APP_HUGE;
	res = run(f, "i", 1);
	expect(&res, ITEM_BURY, "output larger than the limit of 4096 bytes");
	assert_int_equal(fake_store_count(f->fs, "out/"), 0);
	/* The next item starts from an empty output. */
	app_mode = APP_ECHO;
	res = run(f, "i", 1);
	expect(&res, ITEM_ACK, NULL);
	assert_int_equal(res.out_bytes, 5);
}

static void
test_worker_item__store_failures_on_the_output(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	char id[1100];

	fake_store_set(f->fs, "i", "x", 1);
	fake_store_fail(f->fs, FAKE_PUT, COFFER_E_IO);
	res = run(f, "i", 1);
	expect(&res, ITEM_FAIL, "storing output: injected put failure");
	assert_int_equal(page_phase(f), PHASE_STORE);
	fake_store_fail(f->fs, FAKE_PUT, COFFER_E_FORMAT);
	res = run(f, "i", 1);
	expect(&res, ITEM_BURY, "storing output");
	fake_store_fail(f->fs, FAKE_PUT, 0);
	/* An id whose output key would pass the store's maximum. */
	memset(id, 'k', 1022);
	id[1022] = '\0';
	fake_store_set(f->fs, id, "x", 1);
	res = run(f, id, 1);
	expect(&res, ITEM_BURY, "output key");
	assert_int_equal(fake_store_count(f->fs, "out/"), 0);
}

static void
test_worker_item__init_gets_the_job_parameters(void **state)
{
	struct fixture *f = *state;
	struct coffer_app_param params[2] = { { "alpha", "0.05" }, { "cols", "a,b" } };
	struct item_result res;
	struct coffer_buf b = COFFER_BUF_INIT(4096);

	app_close(f->w.app);
	f->w.app = NULL;
	memcpy(f->cfg.params, params, sizeof(params));
	f->cfg.nparams = 2;
	assert_int_equal(app_open_def(&f->cfg, &fake_app, &f->w.app, NULL), 0);
	fake_store_set(f->fs, "i", "x", 1);
	app_mode = APP_PARAMS;
	res = run(f, "i", 1);
	expect(&res, ITEM_ACK, NULL);
	assert_int_equal(coffer_store_get(f->store, "out/i", 4096, &b), 0);
	assert_string_equal((const char *)b.data, "alpha=0.05;cols=a,b;");
	coffer_buf_release(&b);
	f->cfg.nparams = 0;
}

static void
test_worker_item__the_loader_checks_the_plugin_struct(void **state)
{
	struct fixture *f = *state;
	struct coffer_app bad;
	struct coffer_app_param p = { "fail_init", "age" };
	struct app *a = NULL;
	struct app_info info;

	bad = fake_app;
	bad.abi_version = 2;
	assert_int_equal(app_open_def(&f->cfg, &bad, &a, NULL), COFFER_E_ABI);
	assert_non_null(strstr(coffer_errdetail(), "ABI version 2"));
	bad = fake_app;
	bad.size = 63;
	assert_int_equal(app_open_def(&f->cfg, &bad, &a, NULL), COFFER_E_ABI);
	assert_non_null(strstr(coffer_errdetail(), "at least 64"));
	bad = fake_app;
	bad.process = NULL;
	assert_int_equal(app_open_def(&f->cfg, &bad, &a, NULL), COFFER_E_ABI);
	bad = fake_app;
	bad.reduce_finish = fake_reduce_finish;
	assert_int_equal(app_open_def(&f->cfg, &bad, &a, NULL), COFFER_E_ABI);
	assert_non_null(strstr(coffer_errdetail(), "only one of"));
	f->cfg.params[0] = p;
	f->cfg.nparams = 1;
	assert_int_equal(app_open_def(&f->cfg, &fake_app, &a, NULL), COFFER_E_APP);
	assert_non_null(strstr(coffer_errdetail(), "app init failed: no such column 'age'"));
	f->cfg.nparams = 0;
	assert_null(a);
	/* A larger struct (a later header) is fine; names are cleaned. */
	bad = fake_app;
	bad.size = sizeof(bad) + 64;
	bad.name = "a\tb";
	assert_int_equal(app_open_def(&f->cfg, &bad, &a, &info), 0);
	assert_string_equal(info.name, "a?b");
	assert_int_equal(info.kind, APP_KIND_PLUGIN);
	assert_int_equal(info.has_reduce, 0);
	app_close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_worker_item__output_is_stored_under_the_prefix_and_the_item, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_item__input_failures_retry_or_bury_by_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_item__app_errors_are_retried_with_a_clean_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_item__empty_output_fails_unless_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_item__output_over_the_limit_is_dead_lettered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_item__store_failures_on_the_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_item__init_gets_the_job_parameters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_item__the_loader_checks_the_plugin_struct, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
