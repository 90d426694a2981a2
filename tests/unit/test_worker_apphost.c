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
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "worker/app.h"
#include "worker/worker.h"
#include "../support/tmpdir.h"
#include "../support/segv.h"

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

/* A DONE whose output of n bytes is "in the passed descriptor" (where 2,
 * doc/worker.md 9.5 HF1), with nfd copies of fd passed (0: none). */
static void
fh_done_fd(uint32_t n, int fd, int nfd)
{
	union {
		struct cmsghdr h;
		char c[CMSG_SPACE(2 * sizeof(int))];
	} u;
	uint32_t b[6] = { 6, 16, 0, 0, n, 2 };
	struct iovec iov = { b, sizeof(b) };
	struct msghdr msg;
	struct cmsghdr *c;

	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfd > 0) {
		msg.msg_control = u.c;
		msg.msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
		for (int i = 0; i < nfd; i++)
			memcpy(CMSG_DATA(c) + (size_t)i * sizeof(int), &fd, sizeof(int));
	}
	if (sendmsg(3, &msg, 0) != (ssize_t)sizeof(b))
		exit(1);
}

/* The output (data, n bytes) in a memfd: sealed against writes, growth
 * and shrinking unless mode is "fdunsealed" (then none) or "fdgrow"
 * (all but growth). */
static int
fh_memfd(const char *mode, const uint8_t *data, size_t n)
{
	int fd = memfd_create("fake-output", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int seals = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;

	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		exit(1);
	if (strcmp(mode, "fdgrow") == 0)
		seals &= ~F_SEAL_GROW;
	if (strcmp(mode, "fdunsealed") != 0 && fcntl(fd, F_ADD_SEALS, seals) != 0)
		exit(1);
	return fd;
}

/* A BATCH (7): echo each input back to back in the output half and
 * answer all in one BATCH_DONE (8); or break the rules of doc/worker.md
 * 9.5 HB3 as the mode says: "gap" (every output at offset 1: BD4, an
 * overlap or gap), "pasthalf" (an output ending past the half: BD4),
 * "frameout" (the first output in the frame, and only its answer: a
 * short answer the runner completes with another BATCH). */
static void
fake_batch(const char *mode, const uint8_t *f, uint8_t *reg, uint32_t half)
{
	uint8_t *ans = malloc(4 + APPHOST_BATCH_MAX * 16 + half);
	uint32_t n, k = 0, used = 0;
	size_t o = 4;
	const uint8_t *p = f + 4;

	if (ans == NULL)
		exit(1);
	memcpy(&n, f, 4);
	fh_log("batch %u", n);
	for (; k < n; k++) {
		uint32_t idn, on, off, len, zero = 0, outoff;

		memcpy(&idn, p, 4);
		p += 4 + idn + 4;     /* id, attempt */
		memcpy(&on, p, 4);
		p += 4 + on;          /* owner */
		memcpy(&off, p, 4);
		memcpy(&len, p + 4, 4);
		p += 8;
		memcpy(ans + o, &zero, 4);     /* status 0 */
		memcpy(ans + o + 4, &zero, 4); /* no text */
		memcpy(ans + o + 8, &len, 4);
		outoff = strcmp(mode, "gap") == 0 ? used + 1 : used;
		if (strcmp(mode, "pasthalf") == 0)
			outoff = half - len + 1;
		if (strcmp(mode, "frameout") == 0) {
			outoff = 0xffffffffu;
			memcpy(ans + o + 12, &outoff, 4);
			memcpy(ans + o + 16, reg + off, len);
			o += 16 + len;
			k++;
			break;
		}
		memcpy(ans + o + 12, &outoff, 4);
		memmove(reg + half + used, reg + off, len);
		used += len;
		o += 16;
	}
	memcpy(ans, &k, 4);
	fh_send(8, ans, o);
	free(ans);
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
		if (type == 7) {
			fake_batch(mode, f, reg, half);
			free(f);
			continue;
		}
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
		} else if (strncmp(mode, "fd", 2) == 0) {
			/* HF1 to HF3 broken: an unsealed or growable memfd, one
			 * of another length, none, two, or a plain file. */
			int fd = fh_memfd(mode, data, n);

			if (strcmp(mode, "fdfile") == 0) {
				close(fd);
				if ((fd = open("/proc/self/exe", O_RDONLY)) < 0)
					exit(1);
			}
			fh_done_fd(strcmp(mode, "fdsize") == 0 ? n - 1 : n, fd,
			    strcmp(mode, "fdnone") == 0 ? 0 :
			    strcmp(mode, "fdtwo") == 0 ? 2 : 1);
			close(fd);
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
open_host_with(struct fixture *f, const char *mode,
    const struct coffer_app_param *params, size_t nparams)
{
	struct app_info info;

	if (mode != NULL)
		assert_int_equal(setenv("FAKE_HOST", mode, 1), 0);
	else
		unsetenv("FAKE_HOST");
	unlink(f->log);
	if (app_open_isolated(&f->cfg, f->fd, NULL, params, nparams, &f->app,
	    &info) != 0)
		fail_msg("host: %s", coffer_errdetail());
}

static void
open_host(struct fixture *f, const char *mode)
{
	open_host_with(f, mode, NULL, 0);
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

/* Items "c/1" to "c/n" of size each (item k's input f->in + k), given to
 * the host as one batch (doc/worker.md 9.5, HB1 to HB5) with an item
 * timeout; r[k], err[k] and outs[k] their results, in order. */
#define NB 5
static void
batch(struct fixture *f, size_t n, size_t size, int timeout_ms, int *r,
    char (*err)[WORKER_ERR_MAX], struct coffer_buf *outs)
{
	static char ids[APPHOST_BATCH_MAX][8];
	struct app_wait aw = { timeout_ms, 0, NULL, NULL };
	size_t first, count, done = 0;

	for (size_t k = 0; k < n; k++) {
		snprintf(ids[k], sizeof(ids[k]), "c/%zu", k + 1);
		assert_true(app_batch_room(f->app) >= size);
		assert_int_equal(app_batch_add(f->app, ids[k], 1, "a", f->in + k, size),
		    0);
	}
	while (done < n) {
		assert_int_equal(app_batch_run(f->app, &aw, &first, &count), 0);
		assert_true(count == 0 || first == done);
		for (size_t k = first; k < first + count; k++) {
			uint32_t rep = 0;

			coffer_buf_reset(&outs[k]);
			err[k][0] = '\0';
			r[k] = app_batch_result(f->app, k, &outs[k], &rep, err[k],
			    WORKER_ERR_MAX);
		}
		done = first + count;
	}
	app_batch_end(f->app);
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

/* A batch in one exchange, with the real host: each item its own
 * output; and one whose outputs do not all fit the region's output half
 * gets the rest in further exchanges (the fake host: one output in the
 * frame ends its answer). */
static void
test_apphost__a_batch_goes_in_one_exchange(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf outs[NB];
	char err[NB][WORKER_ERR_MAX], log[512];
	int r[NB];

	for (size_t k = 0; k < NB; k++)
		coffer_buf_init_secret(&outs[k], MAX);
	open_host(f, NULL);
	batch(f, NB, 31000, 20000, r, err, outs);
	for (size_t k = 0; k < NB; k++) {
		if (r[k] != 0)
			fail_msg("item %zu: %s", k + 1, err[k]);
		assert_int_equal(outs[k].len, 31000);
		assert_memory_equal(outs[k].data, f->in + k, 31000);
	}
	app_close(f->app);
	open_host(f, "echo");
	batch(f, NB, 1000, 20000, r, err, outs);
	read_log(f, log, sizeof(log));
	assert_string_equal(log, "batch 5");
	for (size_t k = 0; k < NB; k++) {
		assert_int_equal(r[k], 0);
		assert_memory_equal(outs[k].data, f->in + k, 1000);
	}
	app_close(f->app);
	open_host(f, "frameout");
	batch(f, 3, 1000, 20000, r, err, outs);
	read_log(f, log, sizeof(log));
	assert_string_equal(log, "batch 3|batch 2|batch 1");
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(r[k], 0);
		assert_int_equal(outs[k].len, 1000);
		assert_memory_equal(outs[k].data, f->in + k, 1000);
	}
	for (size_t k = 0; k < NB; k++)
		coffer_buf_release(&outs[k]);
}

/* Every item of a batch of NB but the third has its own input (31000
 * bytes) as its output. */
static void
others_echoed(struct fixture *f, const int *r, char (*err)[WORKER_ERR_MAX],
    const struct coffer_buf *outs)
{
	for (size_t k = 0; k < NB; k++) {
		if (k == 2)
			continue;
		if (r[k] != 0)
			fail_msg("item %zu: %s", k + 1, err[k]);
		assert_memory_equal(outs[k].data, f->in + k, 31000);
	}
}

/* A batch at the maximum (doc/worker.md 9.5: BATCH count 1 to
 * APPHOST_BATCH_MAX) goes in one exchange; the host has no room for one
 * more item and refuses to add it (the runner then runs what it has). */
static void
test_apphost__a_batch_at_the_maximum_is_one_exchange(void **state)
{
	struct fixture *f = *state;
	static struct coffer_buf outs[APPHOST_BATCH_MAX];
	static char err[APPHOST_BATCH_MAX][WORKER_ERR_MAX];
	char log[512], want[32];
	int r[APPHOST_BATCH_MAX];

	for (size_t k = 0; k < APPHOST_BATCH_MAX; k++)
		coffer_buf_init_secret(&outs[k], MAX);
	open_host(f, "echo");
	batch(f, APPHOST_BATCH_MAX, 100, 20000, r, err, outs);
	read_log(f, log, sizeof(log));
	snprintf(want, sizeof(want), "batch %d", APPHOST_BATCH_MAX);
	assert_string_equal(log, want);
	for (size_t k = 0; k < APPHOST_BATCH_MAX; k++) {
		if (r[k] != 0)
			fail_msg("item %zu: %s", k + 1, err[k]);
		assert_int_equal(outs[k].len, 100);
		assert_memory_equal(outs[k].data, f->in + k, 100);
	}
	for (size_t k = 0; k < APPHOST_BATCH_MAX; k++)
		assert_int_equal(app_batch_add(f->app, "c/x", 1, "a", f->in, 100), 0);
	assert_int_equal(app_batch_room(f->app), 0);
	assert_int_equal(app_batch_add(f->app, "c/y", 1, "a", f->in, 100),
	    COFFER_E_LIMIT);
	app_batch_end(f->app);
	for (size_t k = 0; k < APPHOST_BATCH_MAX; k++)
		coffer_buf_release(&outs[k]);
}

/* A poison item does not take its batch-mates down (HB5): the host
 * crashes (then hangs) at item 3 of 5 in one exchange; the items are
 * asked again one per exchange: 1, 2, 4 and 5 have their outputs, 3 alone
 * fails with its own message. */
static void
test_apphost__a_poison_item_fails_alone(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf outs[NB];
	struct coffer_app_param crash[] = { { "crash", "c/3" } };
	struct coffer_app_param hang[] = { { "hang", "c/3" } };
	char err[NB][WORKER_ERR_MAX];
	int r[NB];

	assert_int_equal(test_segv_stays_a_signal(), 0);
	for (size_t k = 0; k < NB; k++)
		coffer_buf_init_secret(&outs[k], MAX);
	for (int t = 0; t < 2; t++) {
		open_host_with(f, NULL, t == 0 ? crash : hang, 1);
		batch(f, NB, 31000, t == 0 ? 20000 : 300, r, err, outs);
		others_echoed(f, r, err, outs);
		if (t == 0) {
			assert_int_equal(r[2], COFFER_E_APP);
			assert_string_equal(err[2], "app crashed: killed by signal 11"
			    " (Segmentation fault)");
		} else {
			assert_int_equal(r[2], COFFER_E_TIMEOUT);
			assert_string_equal(err[2], "app timed out after 300 ms (killed)");
		}
		app_close(f->app);
		f->app = NULL;
	}
	for (size_t k = 0; k < NB; k++)
		coffer_buf_release(&outs[k]);
}

/* The number of lines of a file (0 if there is none). */
static int
lines_of(const char *path)
{
	FILE *l = fopen(path, "r");
	int n = 0, ch;

	if (l == NULL)
		return 0;
	while ((ch = fgetc(l)) != EOF)
		n += ch == '\n';
	fclose(l);
	return n;
}

/* The app's own failure is an answer, not a broken protocol (HB2, HB3:
 * a failure has no output, length and offset 0; BD4 is about outputs in
 * the region): item 3 of 5 fails after two outputs in the region, and
 * the exchange stands: 3 has the app's error, the others their outputs,
 * and the app ran each item once (the fault plugin's trace). Review of
 * round five (doc/review-2026-12.md), finding 12. */
static void
test_apphost__an_app_failure_in_a_batch_keeps_the_batch(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf outs[NB];
	char err[NB][WORKER_ERR_MAX], trace[300], path[400];
	struct coffer_app_param params[] = { { "fail", "c/3" },
	    { "trace_dir", trace } };
	int r[NB];

	snprintf(trace, sizeof(trace), "%s/trace", f->dir);
	snprintf(path, sizeof(path), "%s/c", trace);
	assert_int_equal(mkdir(trace, 0700), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t k = 0; k < NB; k++)
		coffer_buf_init_secret(&outs[k], MAX);
	open_host_with(f, NULL, params, 2);
	batch(f, NB, 31000, 20000, r, err, outs);
	others_echoed(f, r, err, outs);
	assert_int_equal(r[2], COFFER_E_APP);
	assert_string_equal(err[2], "injected failure for c/3");
	for (size_t k = 0; k < NB; k++) {
		snprintf(path, sizeof(path), "%s/c/%zu", trace, k + 1);
		if (lines_of(path) != 1)
			fail_msg("the app ran item c/%zu %d times", k + 1,
			    lines_of(path));
	}
	for (size_t k = 0; k < NB; k++)
		coffer_buf_release(&outs[k]);
}

/* Answers out of the rules (HB3): outputs that overlap or leave a gap,
 * or that end past the half, kill the host; each item, asked again
 * alone, is failed with the rule its host broke. */
static void
test_apphost__a_batch_answer_out_of_the_half_is_killed(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf outs[3];
	static const char *modes[] = { "gap", "pasthalf" };
	char err[3][WORKER_ERR_MAX], log[512];
	int r[3];

	for (size_t k = 0; k < 3; k++)
		coffer_buf_init_secret(&outs[k], MAX);
	for (size_t m = 0; m < 2; m++) {
		open_host(f, modes[m]);
		batch(f, 3, 100, 20000, r, err, outs);
		for (size_t k = 0; k < 3; k++) {
			assert_int_equal(r[k], COFFER_E_APP);
			if (strncmp(err[k], "app crashed: the app host broke its"
			    " protocol: answer", 52) != 0 || strstr(err[k], "(BD4)") == NULL)
				fail_msg("%s: %s", modes[m], err[k]);
			assert_int_equal(outs[k].len, 0);
		}
		/* One exchange of 3, then each alone in a new host. */
		read_log(f, log, sizeof(log));
		assert_string_equal(log, "batch 3|batch 1|batch 1|batch 1");
		app_close(f->app);
		f->app = NULL;
	}
	for (size_t k = 0; k < 3; k++)
		coffer_buf_release(&outs[k]);
}

/* A big output comes in a sealed memfd (doc/worker.md 9.5 HF1 to HF5):
 * kept for the caller that asked (app_keep_fd), sealed, of its length,
 * its bytes the output; read into out otherwise; and the runner kills a
 * host whose descriptor fails HF2 or HF3, naming the rule. */
static void
test_apphost__a_big_output_comes_in_a_sealed_memfd(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf out;
	static const struct { const char *mode, *want; } bad[] = {
		{ "fdunsealed", "is not sealed against writes growth shrinking (HF3)" },
		{ "fdgrow", "is not sealed against growth (HF3)" },
		{ "fdsize", "holds 2097152 bytes, its answer says 2097151" },
		{ "fdfile", "takes no seals (not a memfd" },
		{ "fdnone", "in a descriptor not passed alone with its answer (HF1, HF2)" },
		{ "fdtwo", "in a descriptor not passed alone with its answer (HF1, HF2)" },
	};
	const size_t n = 2 << 20;
	char err[WORKER_ERR_MAX];
	uint8_t *back;
	size_t len;
	int fd;

	coffer_buf_init_secret(&out, MAX);
	assert_non_null(back = malloc(n));
	open_host(f, NULL);
	app_keep_fd(f->app, 1);
	assert_int_equal(call(f, n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, 0);
	assert_true((fd = app_take_out_fd(f->app, &len)) >= 0);
	assert_int_equal(len, n);
	assert_int_equal(apphost_check_out_fd(fd, n, MAX), 0);
	assert_int_equal(fcntl(fd, F_GET_SEALS) & (F_SEAL_WRITE | F_SEAL_GROW |
	    F_SEAL_SHRINK), F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK);
	assert_int_equal(apphost_pread(fd, 0, back, n), 0);
	assert_memory_equal(back, f->in, n);
	assert_int_equal(pwrite(fd, "x", 1, 0), -1);
	close(fd);
	assert_int_equal(app_take_out_fd(f->app, &len), -1);
	/* Not kept: read into out, as a frame's. */
	app_keep_fd(f->app, 0);
	assert_int_equal(call(f, n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, f->in, n);
	assert_int_equal(app_take_out_fd(f->app, &len), -1);
	app_close(f->app);
	f->app = NULL;
	for (size_t m = 0; m < sizeof(bad) / sizeof(bad[0]); m++) {
		open_host(f, bad[m].mode);
		app_keep_fd(f->app, 1);
		assert_int_equal(call(f, n, &out, err, sizeof(err)), COFFER_E_APP);
		if (strncmp(err, "app crashed: the app host broke its protocol", 44) != 0 ||
		    strstr(err, bad[m].want) == NULL)
			fail_msg("%s: %s", bad[m].mode, err);
		assert_int_equal(app_take_out_fd(f->app, &len), -1);
		app_close(f->app);
		f->app = NULL;
	}
	free(back);
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
		cmocka_unit_test_setup_teardown(test_apphost__a_batch_goes_in_one_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__a_poison_item_fails_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__a_batch_answer_out_of_the_half_is_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__an_app_failure_in_a_batch_keeps_the_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__a_batch_at_the_maximum_is_one_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apphost__a_big_output_comes_in_a_sealed_memfd, setup, teardown),
	};

	if (argc >= 2 && strcmp(argv[1], "--app-host") == 0)
		return getenv("FAKE_HOST") != NULL ? fake_host(getenv("FAKE_HOST")) :
		    apphost_main(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
