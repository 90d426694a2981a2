// SPDX-License-Identifier: Apache-2.0
// CPU time of one replica fork, fork() against coffer_fork() (lib/signals.h),
// in a process with SIGTERM, SIGINT and SIGHUP caught as a daemon's are:
// each child resets every disposition (act_child_signals, as the
// actuator's children do), then _exit(0)s; the parent reaps it. Prints, per
// round, "fork: N us" and "coffer_fork: N us" (parent and children, per
// fork). BENCHMARKS.md, "Robustness: the manager's SIGTERM".
//   fork_cost [N]   (default 2000 forks per round, 3 rounds)
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actuator/options.h"
#include "lib/num.h"
#include "lib/signals.h"

static void
on_signal(int sig)
{
	(void)sig;
}

static double
tv_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

/* CPU time so far, of this process and its reaped children. */
static double
cpu_us(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return tv_us(&self.ru_utime) + tv_us(&self.ru_stime) +
	    tv_us(&kids.ru_utime) + tv_us(&kids.ru_stime);
}

int
main(int argc, char **argv)
{
	int n = 2000, st;
	struct sigaction sa;

	if (argc > 1 && coffer_parse_int(argv[1], 1, 1000000, &n) != 0) {
		fprintf(stderr, "usage: fork_cost [N]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (int round = 0; round < 3; round++)
		for (int mode = 0; mode < 2; mode++) {
			double t0 = cpu_us();

			for (int i = 0; i < n; i++) {
				pid_t p = mode ? coffer_fork() : fork();

				if (p < 0) {
					perror("fork");
					return 1;
				}
				if (p == 0) {
					act_child_signals();
					_exit(0);
				}
				while (waitpid(p, &st, 0) < 0)
					;
			}
			printf("%s: %.1f us\n", mode ? "coffer_fork" : "fork",
			    (cpu_us() - t0) / n);
		}
	return 0;
}
