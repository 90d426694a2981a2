// SPDX-License-Identifier: Apache-2.0
// Executable apps (doc/worker.md 4.3), like an Asperathos container's cmd:
// one process per item, the item on stdin, the output from stdout, and the
// exit status decides. The tail of stderr becomes the item's error. The
// runner pumps all three pipes from one poll loop that also keeps the
// item's time limit, so neither side can deadlock on a full pipe (the
// supervisor renews the lease meanwhile).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/mem.h"
#include "worker/app.h"

extern char **environ;

#define TAIL_MAX 2048
/* After the app has exited: how long its pipes may stay open (held by
 * something it started) before the worker stops reading them. */
#define DRAIN_GRACE_MS 100
/* Without pidfd_open(2): how often the loop checks for the app's exit. */
#define EXIT_CHECK_MS 10

void
app_child_setup(void)
{
	sigset_t none;

	/* Its own process group: whatever it starts in the background is
	 * killed with it (at the end of the item, or with the host). */
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

int
app_exec_check(const struct worker_config *cfg, struct app_info *info)
{
	const char *base = strrchr(cfg->app, '/');

	if (access(cfg->app, X_OK) != 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_PERM,
		    "app %s: %s", cfg->app, strerror(errno));
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", base ? base + 1 : cfg->app);
	snprintf(info->version, sizeof(info->version), "-");
	info->kind = APP_KIND_EXEC;
	return 0;
}

/*
 * Environment of the app (doc/worker.md 4.3). Not the worker's: that one
 * holds the queue's URL (with its password, COFFER_REDIS_URL), the
 * worker's own control variables and whatever the actuator's parent had.
 * The app gets the variables a program expects of a session, the names
 * the job asked for (--app-env, COFFER_APP_ENV: the manager lists the
 * job's env there), and the item: COFFER_JOB, COFFER_ITEM_ID,
 * COFFER_ITEM_ATTEMPT and COFFER_PARAM_<key> ('.' and '-' in keys become
 * '_').
 */
static const char *const env_keep[] = {
	"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TZ",
	"TMPDIR",
	/* The sanitizer runtimes' settings, for apps built with them (the
	 * sanitizer builds' tests set handle_segv=0, so that a crash is a
	 * signal): diagnostics, no credentials. */
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS",
	"TSAN_OPTIONS", NULL,
};

static int
env_kept(const struct worker_config *cfg, const char *e, size_t kl)
{
	/* Never, whatever the lists say. */
	if ((kl >= 7 && strncmp(e, "COFFER_", 7) == 0) ||
	    (kl >= 6 && strncmp(e, "REDIS_", 6) == 0))
		return 0;
	for (size_t i = 0; env_keep[i] != NULL; i++) {
		size_t n = strlen(env_keep[i]);

		if (env_keep[i][n - 1] == '*' ? kl >= n - 1 &&
		    strncmp(e, env_keep[i], n - 1) == 0 :
		    kl == n && strncmp(e, env_keep[i], n) == 0)
			return 1;
	}
	for (int i = 0; i < cfg->napp_env; i++)
		if (strlen(cfg->app_env[i]) == kl &&
		    strncmp(e, cfg->app_env[i], kl) == 0)
			return 1;
	return 0;
}

int
app_env_build(const struct worker_config *cfg,
    const struct coffer_app_param *params, size_t nparams, const char *id,
    uint32_t attempt, const char *owner, char ***out, char ***owned,
    size_t *nowned)
{
	size_t ne = 0, nx = nparams + 5, k = 0, o = 0;
	char **v = NULL, **mine = NULL;
	int have_path = 0;

	while (environ[ne] != NULL)
		ne++;
	if ((v = coffer_calloc(ne + nx + 1, sizeof(*v))) == NULL ||
	    (mine = coffer_calloc(nx, sizeof(*mine))) == NULL)
		goto nomem;
	for (size_t i = 0; i < nparams; i++) {
		const char *key = params[i].key, *val = params[i].value;
		size_t n = strlen("COFFER_PARAM_") + strlen(key) + 1 + strlen(val) + 1;

		if ((mine[o] = coffer_malloc(n)) == NULL)
			goto nomem;
		snprintf(mine[o], n, "COFFER_PARAM_%s=%s", key, val);
		for (char *c = mine[o] + 13; *c != '='; c++)
			if (*c == '.' || *c == '-')
				*c = '_';
		o++;
	}
	if (id != NULL) {
		size_t n = strlen(id) + 32;

		if ((mine[o] = coffer_malloc(n)) == NULL)
			goto nomem;
		snprintf(mine[o++], n, "COFFER_ITEM_ID=%s", id);
		if ((mine[o] = coffer_malloc(48)) == NULL)
			goto nomem;
		snprintf(mine[o++], 48, "COFFER_ITEM_ATTEMPT=%u", attempt);
		n = strlen(cfg->job ? cfg->job : "") + 16;
		if ((mine[o] = coffer_malloc(n)) == NULL)
			goto nomem;
		snprintf(mine[o++], n, "COFFER_JOB=%s", cfg->job ? cfg->job : "");
		if (owner != NULL) {
			n = strlen(owner) + 24;
			if ((mine[o] = coffer_malloc(n)) == NULL)
				goto nomem;
			snprintf(mine[o++], n, "COFFER_ITEM_OWNER=%s", owner);
		}
	}
	for (size_t i = 0; i < ne; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);

		if (eq == NULL || !env_kept(cfg, environ[i], kl))
			continue;
		have_path |= kl == 4 && strncmp(environ[i], "PATH", 4) == 0;
		v[k++] = environ[i];
	}
	/* execve() has no default search path: give scripts the usual one. */
	if (!have_path &&
	    (mine[o++] = coffer_strdup("PATH=/usr/local/bin:/usr/bin:/bin")) == NULL)
		goto nomem;
	for (size_t j = 0; j < o; j++)
		v[k++] = mine[j];
	v[k] = NULL;
	*out = v;
	*owned = mine;
	*nowned = o;
	return 0;
nomem:
	for (size_t j = 0; j < nx; j++)
		coffer_free_secret(mine != NULL ? mine[j] : NULL,
		    mine != NULL && mine[j] != NULL ? strlen(mine[j]) : 0);
	free(mine);
	free(v);
	return coffer_errf(COFFER_E_NOMEM, "app environment");
}

void
app_env_free(char **envp, char **owned, size_t nowned)
{
	/* The parameters may hold the app's secret (coffer.app_secret). */
	for (size_t j = 0; j < nowned; j++)
		coffer_free_secret(owned[j], strlen(owned[j]));
	free(owned);
	free(envp);
}

static void
tail_add(char *tail, size_t *len, const char *p, size_t n)
{
	if (n >= TAIL_MAX) {
		memcpy(tail, p + n - TAIL_MAX, TAIL_MAX);
		*len = TAIL_MAX;
		return;
	}
	if (*len + n > TAIL_MAX) {
		size_t drop = *len + n - TAIL_MAX;

		memmove(tail, tail + drop, *len - drop);
		*len -= drop;
	}
	memcpy(tail + *len, p, n);
	*len += n;
}

/* The last lines of stderr, on one line, at most ~600 bytes. */
static void
tail_text(const char *tail, size_t len, char *out, size_t outlen)
{
	size_t start, j = 0;

	while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == ' '))
		len--;
	start = len > 600 ? len - 600 : 0;
	for (size_t i = start; i < len && j + 4 < outlen; i++) {
		unsigned char c = (unsigned char)tail[i];

		if (c == '\n') {
			out[j++] = ' ';
			out[j++] = '|';
			out[j++] = ' ';
		} else {
			out[j++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
		}
	}
	out[j] = '\0';
}

/* A descriptor that polls readable once pid has exited (Linux >= 5.3),
 * or -1: then the loop checks with waitid() every EXIT_CHECK_MS. */
static int
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* 1 once pid has exited; it stays a zombie (WNOWAIT), so its process
 * group cannot be reused before kill(-pid) below. */
static int
has_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == pid;
}

int
app_exec_run(const struct worker_config *cfg,
    const struct coffer_app_param *params, size_t nparams, int app_fd,
    const char *id, uint32_t attempt, const char *owner, const uint8_t *in,
    size_t inlen, struct coffer_buf *out, const struct app_wait *w,
    uint32_t *reported, char *err, size_t errlen)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	char **envp = NULL, **owned = NULL, *argv[WORKER_MAX_APP_ARGS + 2];
	char tail[TAIL_MAX], stderr_text[700], how[128];
	size_t nowned = 0, tlen = 0, woff = 0, start = out->len;
	int64_t deadline = 0, next_hb, drain_end = 0;
	int r = 0, status = 0, exited = 0, pidfd = -1;
	pid_t pid = -1;

	err[0] = '\0';
	*reported = 0;
	argv[0] = cfg->app;
	for (int i = 0; i < cfg->napp_args; i++)
		argv[1 + i] = cfg->app_args[i];
	argv[1 + cfg->napp_args] = NULL;
	if ((r = app_env_build(cfg, params, nparams, id, attempt, owner, &envp,
	    &owned, &nowned)) != 0) {
		snprintf(err, errlen, "%s", coffer_errdetail());
		return r;
	}
	if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0 ||
	    pipe2(perr, O_CLOEXEC) != 0) {
		r = coffer_errf(COFFER_E_IO, "pipe: %s", strerror(errno));
		snprintf(err, errlen, "%s", coffer_errdetail());
		goto out;
	}
	if ((pid = fork()) < 0) {
		r = coffer_errf(COFFER_E_IO, "fork: %s", strerror(errno));
		snprintf(err, errlen, "%s", coffer_errdetail());
		goto out;
	}
	if (pid == 0) {
		static const char msg[] = "coffer-worker: cannot execute the app\n";

		app_child_setup();
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		if (app_fd >= 0) {
			/* The file whose hash was checked (doc/worker.md 9.4), not
			 * whatever the path names now; a script's interpreter
			 * opens it as /dev/fd/3, so it stays open. */
			int a = fcntl(app_fd, F_DUPFD, 10);

			if (a < 0 || dup2(a, 3) != 3)
				_exit(127);
			closefrom(4);
			fexecve(3, argv, envp);
		} else {
			closefrom(3);
			execve(cfg->app, argv, envp);
		}
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(127);
		_exit(127);
	}
	/* Also here, so the group exists before the first kill(-pid) whichever
	 * of the two runs first (EACCES once the child has exec'd: set). */
	(void)setpgid(pid, pid);
	pidfd = open_pidfd(pid);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	(void)fcntl(pin[1], F_SETFL, O_NONBLOCK);
	(void)fcntl(pout[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(perr[0], F_SETFL, O_NONBLOCK);
	if (inlen == 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	if (w != NULL && w->timeout_ms > 0)
		deadline = coffer_mono_ms() + w->timeout_ms;
	next_hb = coffer_mono_ms() + (w && w->hb_every_ms > 0 ? w->hb_every_ms : 0);
	/*
	 * Until the app has exited and its output is read. Its exit decides,
	 * not the end of its pipes: a child it left in the background may
	 * hold them open for ever. Once it has exited, what it wrote is in
	 * the pipes; read until they close or DRAIN_GRACE_MS has passed.
	 */
	while (!exited || pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd pf[4];
		int n = 0, k;
		int64_t wake = 0;

		if (pin[1] >= 0)
			pf[n++] = (struct pollfd){ pin[1], POLLOUT, 0 };
		if (pout[0] >= 0)
			pf[n++] = (struct pollfd){ pout[0], POLLIN, 0 };
		if (perr[0] >= 0)
			pf[n++] = (struct pollfd){ perr[0], POLLIN, 0 };
		if (!exited && pidfd >= 0)
			pf[n++] = (struct pollfd){ pidfd, POLLIN, 0 };
		if (exited)
			wake = drain_end;
		else if (pidfd < 0)
			wake = coffer_mono_ms() + EXIT_CHECK_MS;
		if ((k = app_poll(pf, n, w, deadline, &next_hb, wake)) < 0) {
			r = k;
			break;
		}
		for (int i = 0; i < n && r == 0 && k > 0; i++) {
			if (pf[i].revents == 0)
				continue;
			if (pf[i].fd == pidfd) {
				exited = 1;
			} else if (pf[i].fd == pin[1]) {
				size_t chunk = inlen - woff > 65536 ? 65536 : inlen - woff;
				ssize_t m = write(pin[1], in + woff, chunk);

				if (m > 0)
					woff += (size_t)m;
				/* EPIPE: the app does not want the rest; its exit status
				 * will tell whether that is fine. */
				if (woff == inlen || (m < 0 && errno != EAGAIN && errno != EINTR)) {
					close(pin[1]);
					pin[1] = -1;
				}
			} else if (pf[i].fd == pout[0]) {
				uint8_t *p;
				ssize_t m;
				size_t room = cfg->max_item_bytes - (out->len - start);

				if (room == 0) {
					uint8_t c;

					m = read(pout[0], &c, 1);
					if (m > 0) {
						r = COFFER_E_LIMIT;
						snprintf(err, errlen, "output larger than the limit"
						    " of %zu bytes (app killed)", cfg->max_item_bytes);
						break;
					}
				} else {
					if (room > 65536)
						room = 65536;
					if (coffer_buf_reserve(out, room, &p) != 0) {
						r = COFFER_E_LIMIT;
						snprintf(err, errlen, "output larger than the limit"
						    " of %zu bytes (app killed)", cfg->max_item_bytes);
						break;
					}
					m = read(pout[0], p, room);
					if (m > 0)
						coffer_buf_commit(out, (size_t)m);
				}
				if (m == 0 || (m < 0 && errno != EAGAIN && errno != EINTR)) {
					close(pout[0]);
					pout[0] = -1;
				}
			} else if (pf[i].fd == perr[0]) {
				char buf[4096];
				ssize_t m = read(perr[0], buf, sizeof(buf));

				if (m > 0)
					tail_add(tail, &tlen, buf, (size_t)m);
				if (m == 0 || (m < 0 && errno != EAGAIN && errno != EINTR)) {
					close(perr[0]);
					perr[0] = -1;
				}
			}
		}
		if (r != 0)
			break;
		if (!exited && pidfd < 0)
			exited = has_exited(pid);
		if (exited && drain_end == 0) {
			/* Nobody reads its stdin any more. */
			if (pin[1] >= 0) {
				close(pin[1]);
				pin[1] = -1;
			}
			drain_end = coffer_mono_ms() + DRAIN_GRACE_MS;
		} else if (exited && coffer_mono_ms() >= drain_end) {
			/* The grace is over: something it started still holds
			 * its stdout or stderr (and may still be writing). */
			break;
		}
	}
	/* The whole group, the app's background children included; the app
	 * itself, if it has exited, is a zombie until the waitpid() below,
	 * so its group id cannot have been reused. */
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	tail_text(tail, tlen, stderr_text, sizeof(stderr_text));
	if (r == COFFER_E_TIMEOUT) {
		snprintf(err, errlen, "app timed out after %d ms (killed)%s%s",
		    w ? w->timeout_ms : 0, stderr_text[0] ? "; stderr: " : "", stderr_text);
	} else if (r == COFFER_E_LIMIT) {
		/* err is set */
	} else if (r != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "abandoned: %s", coffer_errdetail());
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		app_describe_status(status, how, sizeof(how));
		snprintf(err, errlen, "app %s%s%s", how,
		    stderr_text[0] ? "; stderr: " : "", stderr_text);
		r = COFFER_E_APP;
		if (WIFEXITED(status))
			*reported = 256 + (uint32_t)WEXITSTATUS(status);
	}
out:
	if (r != 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	if (pidfd >= 0)
		close(pidfd);
	app_env_free(envp, owned, nowned);
	return r;
}
