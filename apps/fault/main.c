// SPDX-License-Identifier: Apache-2.0
// Example app (executable form of apps/fault/plugin.c): copies stdin to
// stdout unless a COFFER_PARAM_<name> says to misbehave for the item
// COFFER_ITEM_ID: fail (exit 3 with a message on stderr), crash (SIGSEGV),
// empty (exit 0, no output), hang, sleep_ms, flaky + flaky_times (with
// COFFER_ITEM_ATTEMPT), stderr_lines=N (N lines on stderr, then success).
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
match(const char *param, const char *id)
{
	const char *g = getenv(param);

	return g != NULL && fnmatch(g, id, 0) == 0;
}

static long
num(const char *param, long def)
{
	const char *v = getenv(param);

	return v ? strtol(v, NULL, 10) : def;
}

int
main(void)
{
	const char *id = getenv("COFFER_ITEM_ID");
	long attempt = num("COFFER_ITEM_ATTEMPT", 1), ms = num("COFFER_PARAM_sleep_ms", 0);
	char buf[65536];
	ssize_t n;

	if (id == NULL) {
		fprintf(stderr, "fault: COFFER_ITEM_ID is not set\n");
		return 2;
	}
	if (ms > 0) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	for (long i = 0; i < num("COFFER_PARAM_stderr_lines", 0); i++)
		fprintf(stderr, "fault: diagnostic line %ld for %s\n", i + 1, id);
	if (match("COFFER_PARAM_crash", id))
		raise(SIGSEGV);
	if (match("COFFER_PARAM_hang", id))
		for (;;)
			pause();
	if (match("COFFER_PARAM_fail", id)) {
		fprintf(stderr, "fault: injected failure for %s\n", id);
		return 3;
	}
	if (match("COFFER_PARAM_flaky", id) && attempt <= num("COFFER_PARAM_flaky_times", 1)) {
		fprintf(stderr, "fault: flaky failure on attempt %ld\n", attempt);
		return 3;
	}
	if (match("COFFER_PARAM_empty", id))
		return 0;
	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return 2;
	return n < 0 || fflush(stdout) != 0 ? 2 : 0;
}
