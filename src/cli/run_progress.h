/* SPDX-License-Identifier: Apache-2.0 */
/* Progress display for `coffer run`: a bar redrawn in place on a terminal,
 * plain periodic lines otherwise. */
#ifndef COFFER_CLI_RUN_PROGRESS_H
#define COFFER_CLI_RUN_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct run_progress {
	FILE *out;
	int tty;            /* redraw one line with \r */
	int quiet;
	int64_t start_ms;
	int64_t last_ms;    /* last line printed (plain mode) */
	int plain_every_ms; /* plain mode: one line this often */
	int drawn;          /* a bar is on screen */
};

void run_progress_init(struct run_progress *p, FILE *out, int tty, int quiet);
/* Show done/total, failures, rate and ETA; workers = running replicas. */
void run_progress_update(struct run_progress *p, int64_t done, int64_t failed,
    int64_t total, int workers);
/* Final redraw and newline (terminal mode). */
void run_progress_end(struct run_progress *p, int64_t done, int64_t failed,
    int64_t total, int workers);

/* "1:02:03", "4:05" or "7 s" for seconds. */
void run_format_duration(double secs, char *out, size_t outlen);

#endif
