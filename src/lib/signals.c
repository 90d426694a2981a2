// SPDX-License-Identifier: Apache-2.0
// Watched signals with their sender, and fork() without inherited
// handlers (lib/signals.h).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/log.h"
#include "lib/signals.h"

pid_t
coffer_fork(void)
{
	sigset_t all, old;
	pid_t pid;
	int e;

	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct sigaction sa, dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP &&
			    sigaction(s, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
			    sa.sa_handler != SIG_IGN)
				(void)sigaction(s, &dfl, NULL);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		return 0;
	}
	e = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return pid;
}

/* What the handler records: plain words, written by the handler only
 * (at head) and read by coffer_signal_take with the signals blocked. */
#define RING 8
static volatile sig_atomic_t ring_sig[RING], ring_pid[RING], ring_uid[RING],
    ring_code[RING];
static volatile sig_atomic_t ring_head, ring_tail;
static volatile sig_atomic_t *watch_flag;
static int watch_pipe[2] = { -1, -1 };
static pid_t watch_owner;
static sigset_t watched;

static void
on_watched(int sig, siginfo_t *si, void *uc)
{
	int e = errno;

	(void)uc;
	if (getpid() != watch_owner) {
		/* A forked child that did not reset its handlers: the signal
		 * is its own; never the parent's pipe. It is blocked while
		 * this runs, so it acts when the handler returns. */
		signal(sig, SIG_DFL);
		raise(sig);
		errno = e;
		return;
	}
	if (ring_head - ring_tail < RING) {
		int i = ring_head % RING;

		ring_sig[i] = sig;
		ring_pid[i] = si != NULL ? (sig_atomic_t)si->si_pid : 0;
		ring_uid[i] = si != NULL ? (sig_atomic_t)si->si_uid : 0;
		ring_code[i] = si != NULL ? si->si_code : 0;
		ring_head = ring_head + 1;
	}
	if (watch_flag != NULL)
		*watch_flag = 1;
	(void)!write(watch_pipe[1], "s", 1);
	errno = e;
}

int
coffer_signal_watch(const int *sigs, int n, volatile sig_atomic_t *flag)
{
	struct sigaction sa;

	if (watch_pipe[0] < 0) {
		if (pipe2(watch_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
			return coffer_errf(COFFER_E_IO, "signal pipe: %s",
			    strerror(errno));
		watch_owner = getpid();
		sigemptyset(&watched);
	}
	watch_flag = flag;
	for (int i = 0; i < n; i++)
		sigaddset(&watched, sigs[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_watched;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	/* One handler at a time: a second signal waits for the first. */
	sa.sa_mask = watched;
	for (int i = 0; i < n; i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return coffer_errf(COFFER_E_INTERNAL, "sigaction %d: %s",
			    sigs[i], strerror(errno));
	return watch_pipe[0];
}

int
coffer_signal_watch_stop(volatile sig_atomic_t *flag)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	return coffer_signal_watch(sigs, 3, flag);
}

int
coffer_signal_pending(void)
{
	return ring_head != ring_tail;
}

/* The sender's name and parent, from /proc/<pid>/stat: "pid (comm) S
 * ppid ...", comm being the text between the first '(' and the last ')'. */
static void
sender_info(struct coffer_signal *s)
{
	char path[64], buf[512], *open_, *close_;
	ssize_t n;
	int fd;

	snprintf(s->comm, sizeof(s->comm), "?");
	s->ppid = 0;
	if (s->pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((open_ = strchr(buf, '(')) == NULL ||
	    (close_ = strrchr(buf, ')')) == NULL || close_ < open_)
		return;
	snprintf(s->comm, sizeof(s->comm), "%.*s", (int)(close_ - open_ - 1),
	    open_ + 1);
	(void)sscanf(close_ + 1, " %*c %d", &s->ppid);
}

int
coffer_signal_take(struct coffer_signal *out)
{
	sigset_t old;
	int got = 0;
	char drain[64];

	memset(out, 0, sizeof(*out));
	if (watch_pipe[0] < 0)
		return 0;
	(void)sigprocmask(SIG_BLOCK, &watched, &old);
	if (ring_head != ring_tail) {
		int i = ring_tail % RING;

		out->sig = ring_sig[i];
		out->pid = (pid_t)ring_pid[i];
		out->uid = (uid_t)ring_uid[i];
		out->code = ring_code[i];
		ring_tail = ring_tail + 1;
		got = 1;
	}
	if (ring_head == ring_tail)
		while (read(watch_pipe[0], drain, sizeof(drain)) > 0)
			;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (got)
		sender_info(out);
	return got;
}

const char *
coffer_signal_name(int sig)
{
	static char buf[24];

	switch (sig) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	case SIGQUIT: return "SIGQUIT";
	default:
		snprintf(buf, sizeof(buf), "signal %d", sig);
		return buf;
	}
}

const char *
coffer_signal_code_name(int code)
{
	static char buf[24];

	switch (code) {
	case SI_USER: return "kill";
	case SI_KERNEL: return "kernel";
	case SI_QUEUE: return "sigqueue";
	case SI_TKILL: return "tkill";
	default:
		snprintf(buf, sizeof(buf), "code %d", code);
		return buf;
	}
}

void
coffer_signal_log(const struct coffer_signal *s, const char *msg)
{
	char pid[16], ppid[16], uid[16];

	snprintf(pid, sizeof(pid), "%d", (int)s->pid);
	snprintf(ppid, sizeof(ppid), "%d", (int)s->ppid);
	snprintf(uid, sizeof(uid), "%u", (unsigned)s->uid);
	coffer_logkv(COFFER_LOG_INFO, msg, "signal", coffer_signal_name(s->sig),
	    "from_pid", pid, "from", s->comm, "from_ppid", ppid, "uid", uid,
	    "how", coffer_signal_code_name(s->code), NULL);
}

void
coffer_signal_describe(const struct coffer_signal *s, char *out, size_t outlen)
{
	if (s->pid <= 0 && s->code == SI_KERNEL)
		snprintf(out, outlen, "%s from the terminal or the kernel (no "
		    "sending process)", coffer_signal_name(s->sig));
	else
		snprintf(out, outlen, "%s from pid %d (%s, parent %d, uid %u, by %s)",
		    coffer_signal_name(s->sig), (int)s->pid, s->comm, (int)s->ppid,
		    (unsigned)s->uid, coffer_signal_code_name(s->code));
}
