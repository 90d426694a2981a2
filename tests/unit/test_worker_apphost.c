// SPDX-License-Identifier: Apache-2.0
// Unit tests for the plugin host of confidential jobs (src/worker/apphost.c,
// doc/worker.md 9.5): items and outputs through the shared region when
// they fit and in frames when not, with the real host and the fault
// plugin; and the runner against hosts that break the protocol, written
// here from the document: lengths past the region or the frame, a place
// that does not exist, trailing bytes, an answer of the wrong type, a host
// that keeps writing into the region after its answer, a host that tries
// to shrink the region, a host that does not use it. This binary is its
// own host (the runner execs /proc/self/exe --app-host): FAKE_HOST picks
// a fake one, else the real one runs.
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "worker/app.h"
#include "worker/worker.h"
#include "../support/tmpdir.h"

#define HALF ((size_t)1 << 20)  /* the region's halves for MAX below */
#define MAX ((size_t)3 << 20)

/* ---- The fake host: the protocol of doc/worker.md 9.5, misbehaving ---- */

static void
fh_io(int out, void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t m = out ? write(3, b, n) : read(3, b, n);

		if (m <= 0)
			exit(0);
		b += m;
		n -= (size_t)m;
	}
}

static uint8_t *
fh_frame(uint32_t *type, uint32_t *len)
{
	uint32_t h[2];
	uint8_t *p;

	fh_io(0, h, 8);
	if ((p = malloc(h[1] + 1)) == NULL)
		exit(1);
	fh_io(0, p, h[1]);
	*type = h[0];
	*len = h[1];
	return p;
}

static void
fh_send(uint32_t type, const void *body, size_t n)
{
	uint32_t h[2] = { type, (uint32_t)n };

	fh_io(1, h, 8);
	fh_io(1, (void *)body, n);
}

static void
fh_log(const char *fmt, ...)
{
	const char *path = getenv("FAKE_LOG");
	va_list ap;
	FILE *f;

	if (path == NULL || (f = fopen(path, "a")) == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

/* A DONE frame: status 0, no text, then the data field as given and
 * `extra` trailing bytes. */
static void
fh_done(uint32_t n, uint32_t where, const uint8_t *bytes, size_t nbytes,
    size_t extra)
{
	uint8_t b[64 + 16];
	size_t k = 0;
	uint8_t *all;

	memset(b, 0, sizeof(b));
	k += 4;                   /* status 0 */
	k += 4;                   /* text: empty */
	memcpy(b + k, &n, 4);
	k += 4;
	memcpy(b + k, &where, 4);
	k += 4;
	if ((all = malloc(k + nbytes + extra)) == NULL)
		exit(1);
	memcpy(all, b, k);
	if (nbytes > 0)
		memcpy(all + k, bytes, nbytes);
	memset(all + k + nbytes, 0x41, extra);
	fh_send(6, all, k + nbytes + extra);
	free(all);
}

static int
fake_host(const char *mode)
{
	uint8_t *f, *reg = NULL, info[64];
	uint32_t type, len, half, k;
	size_t o = 0;

	if (strcmp(mode, "early") == 0)
		fh_log("started");
	f = fh_frame(&type, &len);
	if (type != 1 || len < 24)
		return 1;
	if (strcmp(mode, "early") == 0)
		fh_log("init");
	memcpy(&half, f, 4);
	if (half > 0 && strcmp(mode, "noregion") != 0) {
		reg = mmap(NULL, 2 * (size_t)half, PROT_READ | PROT_WRITE, MAP_SHARED,
		    5, 0);
		if (reg == MAP_FAILED || memcmp(reg, f + 4, 16) != 0)
			return 1;
	}
	free(f);
	if (strcmp(mode, "shrink") == 0)
		fh_log("shrink %s", ftruncate(5, 0) == 0 ? "allowed" :
		    errno == EPERM ? "refused" : "failed otherwise");
	/* INFO: status 0, "fake", "1", no reduce, the region or not. */
	memset(info, 0, sizeof(info));
	o = 4;
	k = 4;
	memcpy(info + o, &k, 4);
	memcpy(info + o + 4, "fake", 4);
	o += 8;
	k = 1;
	memcpy(info + o, &k, 4);
	memcpy(info + o + 4, "1", 1);
	o += 5;
	o += 4;                   /* reduce 0 */
	k = reg != NULL;
	memcpy(info + o, &k, 4);
	o += 4;
	fh_send(2, info, o);
	for (;;) {
		uint32_t n, where, idn, on;
		const uint8_t *p, *data;

		f = fh_frame(&type, &len);
		p = f;
		memcpy(&idn, p, 4);
		p += 4 + idn + 4;     /* id, attempt */
		memcpy(&on, p, 4);
		p += 4 + on;          /* owner */
		memcpy(&n, p, 4);
		memcpy(&where, p + 4, 4);
		data = where == 1 ? reg : p + 8;
		fh_log("input %u in %s", n, where == 1 ? "region" : "frame");
		if (strcmp(mode, "toolong") == 0) {
			fh_done(half + 1, 1, NULL, 0, 0);
		} else if (strcmp(mode, "badwhere") == 0) {
			fh_done(n, 7, NULL, 0, 0);
		} else if (strcmp(mode, "pastframe") == 0) {
			fh_done(n + 1, 0, data, n, 0);
		} else if (strcmp(mode, "trailing") == 0) {
			fh_done(n, 0, data, n, 3);
		} else if (strcmp(mode, "wrongtype") == 0) {
			fh_send(2, info, o);
		} else if (reg != NULL && n <= half) {
			/* echo, scribble, shrink: the output in the region. */
			memmove(reg + half, data, n);
			fh_done(n, 1, NULL, 0, 0);
			/* Then keep writing into it while the runner reads. */
			if (strcmp(mode, "scribble") == 0) {
				struct timespec t0, t;

				clock_gettime(CLOCK_MONOTONIC, &t0);
				do {
					for (size_t i = 0; i < n; i++)
						reg[half + i]++;
					clock_gettime(CLOCK_MONOTONIC, &t);
				} while ((t.tv_sec - t0.tv_sec) * 1000 +
				    (t.tv_nsec - t0.tv_nsec) / 1000000 < 100);
			}
		} else {
			fh_done(n, 0, data, n, 0);
		}
		free(f);
	}
}

/* ---- The runner's side ---- */

struct fixture {
	char dir[256], log[300], plugin[512];
	struct worker_config cfg;
	struct app *app;
	int fd;
	uint8_t *in;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *b = getenv("COFFER_BUILD");

	assert_non_null(f);
	assert_int_equal(test_tmpdir("apphost", f->dir, sizeof(f->dir)), 0);
	snprintf(f->log, sizeof(f->log), "%s/host.log", f->dir);
	snprintf(f->plugin, sizeof(f->plugin), "%s/apps/fault.so", b ? b : "build");
	f->fd = open(f->plugin, O_RDONLY | O_CLOEXEC);
	assert_true(f->fd >= 0);
	f->cfg.app = f->plugin;
	f->cfg.app_kind = APP_KIND_PLUGIN;
	f->cfg.max_item_bytes = MAX;
	f->cfg.app_env[0] = (char *)"FAKE_HOST";
	f->cfg.app_env[1] = (char *)"FAKE_LOG";
	f->cfg.napp_env = 2;
	assert_int_equal(setenv("FAKE_LOG", f->log, 1), 0);
	assert_non_null(f->in = malloc(MAX));
	for (size_t i = 0; i < MAX; i++)
		f->in[i] = (uint8_t)(i * 7 + (i >> 12));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	app_close(f->app);
	unsetenv("FAKE_HOST");
	close(f->fd);
	test_rm_rf(f->dir);
	free(f->in);
	free(f);
	return 0;
}

static void
open_host(struct fixture *f, const char *mode)
{
	struct app_info info;

	if (mode != NULL)
		assert_int_equal(setenv("FAKE_HOST", mode, 1), 0);
	else
		unsetenv("FAKE_HOST");
	unlink(f->log);
	if (app_open_isolated(&f->cfg, f->fd, NULL, NULL, 0, &f->app, &info) != 0)
		fail_msg("host: %s", coffer_errdetail());
}

/* One item of n bytes through the host; its result, *out its output. */
static int
call(struct fixture *f, size_t n, struct coffer_buf *out, char *err,
    size_t errlen)
{
	struct app_wait aw = { 20000, 0, NULL, NULL };
	uint32_t rep = 0;

	coffer_buf_reset(out);
	return app_process(f->app, "a/item", 1, "a", f->in, n, out, &aw, &rep, err,
	    errlen);
}

/* The log's lines, joined by '|'. */
static void
read_log(struct fixture *f, char *out, size_t n)
{
	FILE *l = fopen(f->log, "r");
	size_t k = 0;
	char line[128];

	out[0] = '\0';
	if (l == NULL)
		return;
	while (fgets(line, sizeof(line), l) != NULL && k + strlen(line) + 1 < n) {
		line[strcspn(line, "\n")] = '\0';
		k += (size_t)snprintf(out + k, n - k, "%s%s", k ? "|" : "", line);
	}
	fclose(l);
}

/* Wait until the host's log is `want`. */
static void
wait_log(struct fixture *f, const char *want)
{
	char log[256] = "";

	for (int i = 0; i < 1000 && strcmp(log, want) != 0; i++) {
		usleep(10000);
		read_log(f, log, sizeof(log));
	}
	assert_string_equal(log, want);
}

/* A host the runner starts while it attests (doc/worker.md 9.5) waits
 * for INIT before anything else: it is given its parameters and items
 * only after, and one stopped before INIT has been given nothing. */
static void
test_apphost__a_host_started_early_waits_for_init(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(MAX);
	struct apphost *h = NULL;
	struct app_info info;
	char err[WORKER_ERR_MAX];

	assert_int_equal(setenv("FAKE_HOST", "early", 1), 0);
	unlink(f->log);
	assert_int_equal(apphost_spawn(&f->cfg, f->fd, &h), 0);
	wait_log(f, "started");
	if (app_open_isolated(&f->cfg, f->fd, h, NULL, 0, &f->app, &info) != 0)
		fail_msg("host: %s", coffer_errdetail());
	assert_string_equal(info.name, "fake");
	assert_int_equal(call(f, 10, &out, err, sizeof(err)), 0);
	assert_memory_equal(out.data, f->in, 10);
	wait_log(f, "started|init|input 10 in region");
	/* Stopped before INIT: it exits, given nothing. */
	unlink(f->log);
	assert_int_equal(apphost_spawn(&f->cfg, f->fd, &h), 0);
	wait_log(f, "started");
	apphost_stop(h);
	wait_log(f, "started");
	coffer_buf_release(&out);
}

static void
test_apphost__the_real_host_takes_every_size(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(MAX);
	static const size_t sizes[] = { 0, 1, 31000, HALF, HALF + 1, MAX };
	char err[WORKER_ERR_MAX];

	/* The fault plugin without parameters copies its input. */
	open_host(f, NULL);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (call(f, sizes[i], &out, err, sizeof(err)) != 0)
			fail_msg("%zu bytes: %s", sizes[i], err);
		assert_int_equal(out.len, sizes[i]);
		assert_memory_equal(out.data, f->in, sizes[i]);
	}
	coffer_buf_release(&out);
}

static void
test_apphost__what_fits_goes_in_the_region_the_rest_in_frames(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(MAX);
	char err[WORKER_ERR_MAX], log[512];

	open_host(f, "echo");
	assert_int_equal(call(f, 31000, &out, err, sizeof(err)), 0);
	assert_memory_equal(out.data, f->in, 31000);
	assert_int_equal(call(f, HALF, &out, err, sizeof(err)), 0);
	assert_int_equal(call(f, HALF + 1, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, HALF + 1);
	assert_memory_equal(out.data, f->in, HALF + 1);
	read_log(f, log, sizeof(log));
	assert_string_equal(log, "input 31000 in region|input 1048576 in region|"
	    "input 1048577 in frame");
	app_close(f->app);
	/* A host that does not take the region gets everything in frames. */
	open_host(f, "noregion");
	assert_int_equal(call(f, 31000, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, 31000);
	assert_memory_equal(out.data, f->in, 31000);
	read_log(f, log, sizeof(log));
	assert_string_equal(log, "input 31000 in frame");
	coffer_buf_release(&out);
}

static void
test_apphost__a_host_that_lies_about_lengths_is_killed(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(MAX);
	static const char *modes[] = { "toolong", "badwhere", "pastframe",
	    "trailing", "wrongtype" };
	char err[WORKER_ERR_MAX];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		open_host(f, modes[i]);
		assert_int_equal(call(f, 100, &out, err, sizeof(err)), COFFER_E_APP);
		if (strncmp(err, "app crashed: the app host broke its protocol", 44) != 0)
			fail_msg("%s: %s", modes[i], err);
		assert_int_equal(out.len, 0);
		/* Killed: the next item starts a new host (which lies again). */
		assert_int_equal(call(f, 100, &out, err, sizeof(err)), COFFER_E_APP);
		app_close(f->app);
		f->app = NULL;
	}
	coffer_buf_release(&out);
}

static void
test_apphost__writes_after_the_answer_change_nothing(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(MAX);
	char err[WORKER_ERR_MAX];
	uint8_t *copy;

	/* The host keeps writing into the output half for 100 ms after its
	 * answer: what the runner returned is its own copy, which stays. */
	open_host(f, "scribble");
	assert_int_equal(call(f, 31000, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, 31000);
	assert_non_null(copy = malloc(out.len));
	memcpy(copy, out.data, out.len);
	usleep(50000);
	assert_memory_equal(out.data, copy, 31000);
	free(copy);
	coffer_buf_release(&out);
}

static void
test_apphost__the_region_cannot_be_shrunk(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(MAX);
	char err[WORKER_ERR_MAX], log[512];

	/* Were it allowed, the runner's next read of the region would
	 * fault (SIGBUS) and this test would die. */
	open_host(f, "shrink");
	assert_int_equal(call(f, 31000, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, 31000);
	assert_memory_equal(out.data, f->in, 31000);
	read_log(f, log, sizeof(log));
	assert_string_equal(log, "shrink refused|input 31000 in region");
	coffer_buf_release(&out);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apphost__the_real_host_takes_every_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__what_fits_goes_in_the_region_the_rest_in_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__a_host_that_lies_about_lengths_is_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__writes_after_the_answer_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__the_region_cannot_be_shrunk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__a_host_started_early_waits_for_init, setup, teardown),
	};

	if (argc >= 2 && strcmp(argv[1], "--app-host") == 0)
		return getenv("FAKE_HOST") != NULL ? fake_host(getenv("FAKE_HOST")) :
		    apphost_main(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
