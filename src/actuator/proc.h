/* SPDX-License-Identifier: Apache-2.0 */
/* Commands run in the background (the Slurm backend's sbatch, squeue and
 * scancel): started now, read on later ticks, so that a slow scheduler
 * never stalls the caller's loop. Private to src/actuator. */
#ifndef COFFER_ACTUATOR_PROC_H
#define COFFER_ACTUATOR_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"

struct act_cmd {
	pid_t pid;              /* 0: nothing running */
	int out_fd, err_fd;     /* -1 once closed */
	struct coffer_buf out;  /* stdout, at most 4 MiB (more is cut) */
	struct coffer_buf err;  /* stderr, at most 64 KiB */
	int64_t deadline_ms;    /* SIGKILL after this (monotonic) */
	int status;             /* when done: the exit status, or 128 + the
	                           signal that ended it */
	int timed_out;
};

/* A zeroed act_cmd is idle; call act_cmd_init() once before use. */
void act_cmd_init(struct act_cmd *c);

/*
 * Start argv[0] (looked up in PATH) with envp as its whole environment
 * (NULL: the caller's), input (may be NULL, at most 60 KiB) on stdin,
 * stdout and stderr collected. It is killed after timeout_ms. Errors:
 * COFFER_E_BUSY (c is running), COFFER_E_NOTFOUND (no such program),
 * COFFER_E_LIMIT (input too long), COFFER_E_IO.
 */
int act_cmd_start(struct act_cmd *c, char *const argv[], char *const envp[],
    const char *input, int timeout_ms) __attribute__((warn_unused_result));

/* Read what is there and reap: 1 when done (status set, buffers hold
 * the output; idle again), 0 while running, never blocks. */
int act_cmd_poll(struct act_cmd *c);

/* Poll until done, at most until its deadline. */
void act_cmd_wait(struct act_cmd *c);

/* Kill it if running, reap, free the buffers. */
void act_cmd_release(struct act_cmd *c);

/* The first line of its stderr, else of its stdout, for messages. */
void act_cmd_message(const struct act_cmd *c, char *out, size_t outlen);

#endif
