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

/* Environment of the app: the worker's, plus the item and the job's
 * parameters as COFFER_PARAM_<key> ('.' and '-' in keys become '_'). */
static int
build_env(const struct worker_config *cfg, const char *id, uint32_t attempt,
    char ***out, char ***owned, size_t *nowned)
{
	size_t ne = 0, nx = cfg->nparams + 3, k = 0, o = 0;
	char **v = NULL, **mine = NULL;

	while (environ[ne] != NULL)
		ne++;
	if ((v = coffer_calloc(ne + nx + 1, sizeof(*v))) == NULL ||
	    (mine = coffer_calloc(nx, sizeof(*mine))) == NULL)
		goto nomem;
	for (size_t i = 0; i < cfg->nparams; i++) {
		const char *key = cfg->params[i].key, *val = cfg->params[i].value;
		size_t n = strlen("COFFER_PARAM_") + strlen(key) + 1 + strlen(val) + 1;

		if ((mine[o] = coffer_malloc(n)) == NULL)
			goto nomem;
		snprintf(mine[o], n, "COFFER_PARAM_%s=%s", key, val);
		for (char *c = mine[o] + 13; *c != '='; c++)
			if (*c == '.' || *c == '-')
				*c = '_';
		o++;
	}
	{
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
	}
	for (size_t i = 0; i < ne; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int shadowed = 0;

		for (size_t j = 0; j < o && !shadowed; j++)
			shadowed = strncmp(mine[j], environ[i], kl) == 0 && mine[j][kl] == '=';
		if (!shadowed)
			v[k++] = environ[i];
	}
	for (size_t j = 0; j < o; j++)
		v[k++] = mine[j];
	v[k] = NULL;
	*out = v;
	*owned = mine;
	*nowned = o;
	return 0;
nomem:
	for (size_t j = 0; j < o; j++)
		free(mine[j]);
	free(mine);
	free(v);
	return coffer_errf(COFFER_E_NOMEM, "app environment");
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

int
app_exec_run(const struct worker_config *cfg, const char *id, uint32_t attempt,
    const uint8_t *in, size_t inlen, struct coffer_buf *out,
    const struct app_wait *w, char *err, size_t errlen)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	char **envp = NULL, **owned = NULL, *argv[WORKER_MAX_APP_ARGS + 2];
	char tail[TAIL_MAX], stderr_text[700], how[128];
	size_t nowned = 0, tlen = 0, woff = 0, start = out->len;
	int64_t deadline = 0, next_hb;
	int r = 0, status = 0, reaped = 0;
	pid_t pid;

	err[0] = '\0';
	argv[0] = cfg->app;
	for (int i = 0; i < cfg->napp_args; i++)
		argv[1 + i] = cfg->app_args[i];
	argv[1 + cfg->napp_args] = NULL;
	if ((r = build_env(cfg, id, attempt, &envp, &owned, &nowned)) != 0) {
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
		sigset_t none;

		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		closefrom(3);
		execve(cfg->app, argv, envp);
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(127);
		_exit(127);
	}
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
	while (pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd pf[3];
		int n = 0, k;

		if (pin[1] >= 0)
			pf[n++] = (struct pollfd){ pin[1], POLLOUT, 0 };
		if (pout[0] >= 0)
			pf[n++] = (struct pollfd){ pout[0], POLLIN, 0 };
		if (perr[0] >= 0)
			pf[n++] = (struct pollfd){ perr[0], POLLIN, 0 };
		if ((k = app_poll(pf, n, w, deadline, &next_hb)) < 0) {
			r = k;
			break;
		}
		for (int i = 0; i < n && r == 0; i++) {
			if (pf[i].revents == 0)
				continue;
			if (pf[i].fd == pin[1]) {
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
	}
	/* Both outputs closed: the app is exiting (or detached them). Wait for
	 * it, still honouring the timeout (and the optional heartbeat). */
	while (r == 0 && !reaped) {
		pid_t x = waitpid(pid, &status, WNOHANG);

		if (x == pid) {
			reaped = 1;
			break;
		}
		if (x < 0 && errno != EINTR) {
			r = coffer_errf(COFFER_E_IO, "waitpid: %s", strerror(errno));
			snprintf(err, errlen, "%s", coffer_errdetail());
			break;
		}
		{
			struct timespec ts = { 0, 2000000 };

			nanosleep(&ts, NULL);
		}
		if (w != NULL && w->hb != NULL && coffer_mono_ms() >= next_hb) {
			if ((r = w->hb(w->arg)) != 0)
				break;
			next_hb = coffer_mono_ms() + w->hb_every_ms;
		}
		if (deadline > 0 && coffer_mono_ms() >= deadline)
			r = COFFER_E_TIMEOUT;
	}
	if (!reaped) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
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
	for (size_t j = 0; j < nowned; j++)
		free(owned[j]);
	free(owned);
	free(envp);
	return r;
}
