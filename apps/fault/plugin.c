// SPDX-License-Identifier: Apache-2.0
// Example app (plugin) for fault tests: copies each item to its output,
// unless a parameter says to misbehave on the items whose id matches a
// glob. Parameters (all optional):
//   sleep_ms=N     sleep before each item
//   slow=GLOB      sleep slow_ms instead before the items matching it
//   slow_ms=N      (default 0)
//   fail=GLOB      return an error       crash=GLOB   raise SIGSEGV
//   empty=GLOB     write nothing         exit=GLOB    _exit(3) mid-item
//   exit0=GLOB     _exit(0) mid-item (a status that alone must not mean "done")
//   big=GLOB       write until the worker refuses (output limit)
//   hang=GLOB      never return          flaky=GLOB   fail attempts 1..flaky_times
//   flaky_times=N  (default 1)           trace_dir=D  append "<pid> <attempt>" to D/<id>
//   init_fail=1    fail init()
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coffer/app.h"
#include "coffer/error.h"

struct state {
	long sleep_ms, slow_ms;
	long flaky_times;
	char *fail, *crash, *empty, *exit_, *exit0, *big, *hang, *flaky, *trace_dir;
	char *slow;
};

static int
match(const char *glob, const char *id)
{
	return glob != NULL && fnmatch(glob, id, 0) == 0;
}

static void
fa_fini(void *state)
{
	struct state *s = state;

	if (s == NULL)
		return;
	free(s->fail);
	free(s->crash);
	free(s->empty);
	free(s->exit_);
	free(s->exit0);
	free(s->big);
	free(s->hang);
	free(s->flaky);
	free(s->trace_dir);
	free(s->slow);
	free(s);
}

static int
fa_init(const struct coffer_app_param *params, size_t nparams, void **state,
    char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof(*s));
	static const struct {
		const char *key;
		size_t off;
	} globs[] = {
		{ "fail", offsetof(struct state, fail) },
		{ "crash", offsetof(struct state, crash) },
		{ "empty", offsetof(struct state, empty) },
		{ "exit", offsetof(struct state, exit_) },
		{ "exit0", offsetof(struct state, exit0) },
		{ "big", offsetof(struct state, big) },
		{ "hang", offsetof(struct state, hang) },
		{ "flaky", offsetof(struct state, flaky) },
		{ "trace_dir", offsetof(struct state, trace_dir) },
		{ "slow", offsetof(struct state, slow) },
	};

	if (s == NULL)
		return COFFER_E_NOMEM;
	s->flaky_times = 1;
	for (size_t i = 0; i < nparams; i++) {
		const char *k = params[i].key, *v = params[i].value;
		int known = 0;

		for (size_t g = 0; g < sizeof(globs) / sizeof(globs[0]); g++)
			if (strcmp(k, globs[g].key) == 0) {
				char **slot = (char **)((char *)s + globs[g].off);

				free(*slot);
				*slot = strdup(v);
				known = 1;
			}
		if (strcmp(k, "sleep_ms") == 0) {
			s->sleep_ms = strtol(v, NULL, 10);
			known = 1;
		} else if (strcmp(k, "slow_ms") == 0) {
			s->slow_ms = strtol(v, NULL, 10);
			known = 1;
		} else if (strcmp(k, "flaky_times") == 0) {
			s->flaky_times = strtol(v, NULL, 10);
			known = 1;
		} else if (strcmp(k, "init_fail") == 0) {
			snprintf(err, errlen, "init failed on purpose (init_fail=%s)", v);
			fa_fini(s);
			return COFFER_E_APP;
		}
		/* coffer.* are the worker's (coffer.app_secret, ...). */
		if (!known && strncmp(k, "coffer.", 7) != 0) {
			snprintf(err, errlen, "unknown parameter '%s'", k);
			fa_fini(s);
			return COFFER_E_INVAL;
		}
	}
	*state = s;
	return 0;
}

static void
trace(const struct state *s, const struct coffer_app_item *item)
{
	char path[4096], line[64];
	int fd, n;

	if (s->trace_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", s->trace_dir, item->id);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%d %u\n", (int)getpid(), item->attempt);
	if (write(fd, line, (size_t)n) < 0)
		(void)0;
	close(fd);
}

static int
fa_process(void *state, const struct coffer_app_item *item, const uint8_t *in,
    size_t inlen, struct coffer_app_writer *out, char *err, size_t errlen)
{
	struct state *s = state;
	long ms = match(s->slow, item->id) ? s->slow_ms : s->sleep_ms;

	trace(s, item);
	if (ms > 0) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	if (match(s->crash, item->id))
		raise(SIGSEGV);
	if (match(s->exit_, item->id))
		_exit(3);
	if (match(s->exit0, item->id))
		_exit(0);
	if (match(s->hang, item->id))
		for (;;)
			pause();
	if (match(s->fail, item->id)) {
		snprintf(err, errlen, "injected failure for %s", item->id);
		return COFFER_E_APP;
	}
	if (match(s->flaky, item->id) && item->attempt <= (uint32_t)s->flaky_times) {
		snprintf(err, errlen, "flaky failure on attempt %u", item->attempt);
		return COFFER_E_APP;
	}
	if (match(s->empty, item->id))
		return 0;
	if (match(s->big, item->id)) {
		static const char chunk[65536];
		int r;

		while ((r = out->write(out, chunk, sizeof(chunk))) == 0)
			;
		snprintf(err, errlen, "the worker refused more output");
		return r;
	}
	return inlen ? out->write(out, in, inlen) : 0;
}

#define GLOB(n, h) { n, COFFER_APP_PARAM_STRING, 0, 1, 1024, NULL, h }
static const struct coffer_app_param_decl fault_params[] = {
	{ "sleep_ms", COFFER_APP_PARAM_INT, 0, 0, 3600000, NULL,
	  "milliseconds to sleep before each item" },
	GLOB("slow", "items to sleep slow_ms before instead"),
	{ "slow_ms", COFFER_APP_PARAM_INT, 0, 0, 3600000, NULL,
	  "the sleep of the slow items" },
	GLOB("fail", "items to fail"),
	GLOB("crash", "items to crash on (SIGSEGV)"),
	GLOB("empty", "items to write nothing for"),
	GLOB("exit", "items to _exit(3) on"),
	GLOB("exit0", "items to _exit(0) on"),
	GLOB("big", "items to write too much for"),
	GLOB("hang", "items never to return from"),
	GLOB("flaky", "items to fail on the first flaky_times attempts"),
	{ "flaky_times", COFFER_APP_PARAM_INT, 0, 0, 1000, NULL,
	  "attempts that fail (default 1)" },
	GLOB("trace_dir", "a directory to record attempts in"),
	GLOB("init_fail", "any value: init() fails"),
};

static const struct coffer_app fault_app = {
	.size = sizeof(struct coffer_app),
	.abi_version = COFFER_APP_ABI_VERSION,
	.name = "fault",
	.version = "1.0",
	.init = fa_init,
	.process = fa_process,
	.fini = fa_fini,
	.params = fault_params,
	.nparams = sizeof(fault_params) / sizeof(fault_params[0]),
};

COFFER_APP_EXPORT(fault_app)
