// SPDX-License-Identifier: Apache-2.0
// A standby worker (doc/worker.md 2.2): started before it has a job
// (COFFER_STANDBY=1), it does what needs no job, then waits for its
// assignment on stdin and goes on as a worker started with it would.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/signals.h"
#include "worker/worker.h"

/* The assignment's value, else the environment's: the deployment's
 * settings (the coordinator, the TEE backend) come with the process, the
 * job's with the assignment. */
static const char *
lookup(void *arg, const char *name)
{
	const char *v = worker_assign_get(arg, name);

	return v != NULL ? v : getenv(name);
}

const char *
standby_lookup(const struct worker_assign *a, const char *name)
{
	return lookup((void *)a, name);
}

int
standby_is_on(void)
{
	const char *v = getenv("COFFER_STANDBY");

	return v != NULL && strcmp(v, "1") == 0;
}

static int64_t
cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
standby_log_ready(int64_t t0_ms)
{
	char ms[24], cpu[24];

	snprintf(ms, sizeof(ms), "%lld", (long long)(coffer_mono_ms() - t0_ms));
	snprintf(cpu, sizeof(cpu), "%lld", (long long)cpu_us());
	coffer_logkv(COFFER_LOG_INFO, "worker standby ready", "standby_ms", ms,
	    "cpu_us", cpu, NULL);
}

int
standby_wait(volatile sig_atomic_t *stop, struct worker_assign *a, int *status)
{
	struct coffer_buf b = COFFER_BUF_INIT(WORKER_ASSIGN_MAX);
	int r, closed = 0;

	r = worker_assign_read(0, stop, &b, &closed);
	if (r == COFFER_E_CANCELLED || (r == 0 && closed)) {
		/* The pool shrank (or stops us) before it had a job for us. */
		coffer_logkv(COFFER_LOG_INFO, "standby worker leaving without an"
		    " assignment", "cause", r != 0 ? "stop signal" : b.len > 0 ?
		    "stdin closed within the assignment" : "stdin closed", NULL);
		*status = 0;
		r = COFFER_E_CANCELLED;
		goto out;
	}
	if (r == 0)
		r = worker_assign_parse((const char *)b.data, b.len, a);
	if (r != 0) {
		const char *d = coffer_errdetail();

		fprintf(stderr, "coffer-worker: bad assignment: %s%s%s\n",
		    coffer_strerror(r), d[0] ? ": " : "", d);
		*status = 2;
	}
out:
	coffer_buf_release(&b);
	return r;
}

int
standby_log_file(const struct worker_assign *a)
{
	const char *path = worker_assign_get((void *)a, "COFFER_LOG_FILE");
	int fd;

	if (path == NULL)
		return 0;
	/* The job's log, which a cold replica's stdout and stderr would
	 * have gone to: the pool started this process before the job had
	 * one. Nothing secret is ever logged (doc/DEVELOPING.md). */
	fflush(NULL);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return coffer_errf(COFFER_E_IO, "COFFER_LOG_FILE '%.200s': %s", path,
		    strerror(errno));
	if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
		int e = errno;

		close(fd);
		return coffer_errf(COFFER_E_IO, "COFFER_LOG_FILE: dup2: %s",
		    strerror(e));
	}
	close(fd);
	return 0;
}

int
standby_config(struct worker_assign *a, struct worker_config *cfg)
{
	char *argv[] = { (char *)"coffer-worker", NULL };
	int r;

	if ((r = worker_config_parse_vars(1, argv, lookup, a, cfg)) != 0)
		return r;
	/* An executable app gets the variables COFFER_APP_ENV names from the
	 * worker's environment (4.3): those of the assignment go there, as
	 * an actuator would have put them. Nothing else of it does. */
	for (int i = 0; i < cfg->napp_env; i++) {
		const char *v = worker_assign_get(a, cfg->app_env[i]);

		if (v != NULL && setenv(cfg->app_env[i], v, 1) != 0)
			return coffer_errf(COFFER_E_NOMEM, "assignment: %s",
			    cfg->app_env[i]);
	}
	return 0;
}
