/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signals a daemon stops on, with who sent them; and fork() without
 * the parent's signal handlers running in the child.
 *
 * Why a fork helper: a child runs its parent's handlers until it resets
 * them. A handler that writes to a pipe or socket the parent reads (a
 * self-pipe, libevent's signal socketpair) then makes the parent believe
 * it got the child's signal: a manager that stopped a replica it had just
 * forked stopped itself (BENCHMARKS.md, "Robustness: the manager's
 * SIGTERM"). coffer_fork() blocks every signal across fork(); the child
 * resets every caught signal to its default action before it unblocks
 * them, so a signal sent to it meanwhile acts on it alone.
 */
#ifndef COFFER_LIB_SIGNALS_H
#define COFFER_LIB_SIGNALS_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * fork() with every signal blocked across it. In the parent the signal
 * mask is restored and the child's pid (or -1, errno set) returned. In the
 * child (0 returned) every signal with a handler is back to SIG_DFL (an
 * ignored one stays ignored), then the parent's mask is restored: a
 * signal that came in between is delivered then, with its default action.
 * The child may call only async-signal-safe functions (POSIX), as after
 * any fork() of a process that may have threads.
 */
pid_t coffer_fork(void);

/* What a watched signal said about its sender (siginfo_t). */
struct coffer_signal {
	int sig;              /* SIGTERM, ...; 0: none */
	pid_t pid;            /* si_pid: the sender (0 for the kernel) */
	uid_t uid;            /* si_uid */
	int code;             /* si_code: SI_USER (kill), SI_KERNEL, ... */
	char comm[32];        /* /proc/<pid>/comm, read after the fact:
	                         "?" if the sender is gone */
	pid_t ppid;           /* the sender's parent, 0 if unknown */
};

/*
 * Watch sigs[0..n-1] (SIGTERM, SIGINT, SIGHUP...) with an SA_SIGINFO
 * handler (SA_RESTART) that records the sender, sets *flag to 1 if flag
 * is not NULL, and makes the returned descriptor (the read end of a
 * non-blocking, close-on-exec self-pipe) readable, for an event loop to
 * watch. One watch per process; a second call adds signals to it (and
 * replaces flag). A signal that reaches a forked child still running the
 * handler (a fork() other than coffer_fork) is not recorded: the child
 * dies of it as with no handler. -1 and a coffer error if the pipe or a
 * handler cannot be set up.
 */
int coffer_signal_watch(const int *sigs, int n, volatile sig_atomic_t *flag);

/* coffer_signal_watch of the signals every daemon stops on: SIGINT,
 * SIGTERM and SIGHUP. */
int coffer_signal_watch_stop(volatile sig_atomic_t *flag);

/* Whether a watched signal came and was not taken yet. */
int coffer_signal_pending(void);

/*
 * Take the oldest signal not taken yet (1), or 0 if none: clears the
 * pipe once none is left, and reads the sender's name and parent from
 * /proc (outside the handler: the sender may have exited by then).
 * Up to 8 are kept; later ones while 8 wait are not recorded.
 */
int coffer_signal_take(struct coffer_signal *out);

/* "SIGTERM", "SIGINT", "SIGHUP", or "signal N" (static storage). */
const char *coffer_signal_name(int sig);

/* "kill" (SI_USER), "kernel" (SI_KERNEL: a terminal's Ctrl-C, ...),
 * "sigqueue", "tkill", or "code N" (static storage). */
const char *coffer_signal_code_name(int code);

/* "SIGTERM from pid 4242 (bash, parent 4100, uid 0, by kill)" into out;
 * "SIGINT from the terminal or the kernel (no sending process)" for
 * SI_KERNEL (a terminal's Ctrl-C). */
void coffer_signal_describe(const struct coffer_signal *s, char *out,
    size_t outlen);

/*
 * Log s at info level as one line an operator reads: msg (e.g. "signal
 * received, stopping") with signal, from_pid, from (its comm), from_ppid,
 * uid and how (coffer_signal_code_name).
 */
void coffer_signal_log(const struct coffer_signal *s, const char *msg);

#endif
