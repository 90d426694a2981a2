// SPDX-License-Identifier: Apache-2.0
// Background commands (proc.h). Everything the child needs is prepared
// before fork(), so the child makes only async-signal-safe calls before
// execve() (the caller may have threads); input is written to a pipe
// whose capacity holds it, so starting never waits for the child.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actuator/options.h"
#include "actuator/proc.h"
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "lib/signals.h"

extern char **environ;

#define OUT_MAX ((size_t)4 << 20)
#define ERR_MAX ((size_t)64 << 10)
#define INPUT_MAX ((size_t)60 << 10)

void
act_cmd_init(struct act_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->out_fd = c->err_fd = -1;
	coffer_buf_init(&c->out, OUT_MAX);
	coffer_buf_init(&c->err, ERR_MAX);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
act_cmd_start(struct act_cmd *c, char *const argv[], char *const envp[],
    const char *input, int timeout_ms)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	size_t inlen = input != NULL ? strlen(input) : 0;
	char *exe = NULL;
	int r = 0;
	pid_t pid;

	if (c->pid != 0)
		return coffer_errf(COFFER_E_BUSY, "%s: the last one still runs",
		    argv[0]);
	if (inlen > INPUT_MAX)
		return coffer_errf(COFFER_E_LIMIT, "%s: input of %zu bytes",
		    argv[0], inlen);
	if ((exe = coffer_path_lookup(argv[0])) == NULL)
		return coffer_errf(COFFER_E_NOTFOUND, "%s: not found in PATH",
		    argv[0]);
	coffer_buf_reset(&c->out);
	coffer_buf_reset(&c->err);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    pipe2(err, O_CLOEXEC) != 0) {
		r = coffer_errf(COFFER_E_IO, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* The input fits the pipe (INPUT_MAX < 64 KiB, Linux's default
	 * capacity): write it now and close, the child reads it later. */
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (inlen > 0 && write(in[1], input, inlen) != (ssize_t)inlen) {
		r = coffer_errf(COFFER_E_IO, "%s: input: %s", argv[0],
		    strerror(errno));
		goto fail;
	}
	close_fd(&in[1]);
	/* Not fork(): a signal for the child in the window before
	 * act_child_signals() would run the caller's handler (lib/signals.h). */
	if ((pid = coffer_fork()) < 0) {
		r = coffer_errf(COFFER_E_IO, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		act_child_signals();
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		closefrom(3);
		execve(exe, argv, envp != NULL ? envp : environ);
		_exit(127);
	}
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	(void)fcntl(out[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(err[0], F_SETFL, O_NONBLOCK);
	c->pid = pid;
	c->out_fd = out[0];
	c->err_fd = err[0];
	c->deadline_ms = coffer_mono_ms() + timeout_ms;
	c->status = -1;
	c->timed_out = 0;
	free(exe);
	return 0;
fail:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	free(exe);
	return r;
}

/* Drain fd into b (what does not fit is dropped); closes it at EOF. */
static void
drain(int *fd, struct coffer_buf *b)
{
	char buf[8192];

	while (*fd >= 0) {
		ssize_t n = read(*fd, buf, sizeof(buf));

		if (n > 0) {
			size_t room = b->max > b->len ? b->max - b->len : 0;

			if (room > 0 && coffer_buf_put(b, buf, (size_t)n < room ?
			    (size_t)n : room) != 0)
				coffer_errclear();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close_fd(fd);
	}
}

int
act_cmd_poll(struct act_cmd *c)
{
	int st = 0;
	pid_t w;

	if (c->pid == 0)
		return 1;
	drain(&c->out_fd, &c->out);
	drain(&c->err_fd, &c->err);
	if (!c->timed_out && coffer_mono_ms() >= c->deadline_ms) {
		kill(c->pid, SIGKILL);
		c->timed_out = 1;
	}
	w = waitpid(c->pid, &st, WNOHANG);
	if (w == 0 || (w < 0 && errno == EINTR))
		return 0;
	/* Exited: what is left in the pipes is there now (unless a
	 * grandchild holds them open; then it is cut). */
	drain(&c->out_fd, &c->out);
	drain(&c->err_fd, &c->err);
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	c->status = w < 0 ? 127 : WIFEXITED(st) ? WEXITSTATUS(st) :
	    128 + WTERMSIG(st);
	c->pid = 0;
	return 1;
}

void
act_cmd_wait(struct act_cmd *c)
{
	while (act_cmd_poll(c) == 0) {
		struct pollfd p[2] = { { c->out_fd, POLLIN, 0 },
			{ c->err_fd, POLLIN, 0 } };

		(void)poll(p, 2, 20);
	}
}

void
act_cmd_release(struct act_cmd *c)
{
	if (c->pid != 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	coffer_buf_release(&c->out);
	coffer_buf_release(&c->err);
}

void
act_cmd_message(const struct act_cmd *c, char *out, size_t outlen)
{
	const struct coffer_buf *b = c->err.len > 0 ? &c->err : &c->out;
	const char *s = coffer_buf_str(b);
	size_t n;

	while (*s == '\n' || *s == ' ')
		s++;
	n = strcspn(s, "\n");
	if (c->timed_out)
		snprintf(out, outlen, "timed out%s%.*s", n ? ": " : "", (int)n, s);
	else
		snprintf(out, outlen, "%.*s", (int)n, s);
}
