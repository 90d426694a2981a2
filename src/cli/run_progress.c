// SPDX-License-Identifier: Apache-2.0
// `coffer run`'s progress display (run_progress.h). The rate is the
// average since the first item finished, which is steadier than a window
// on a small job; the ETA follows from it.
#include <stdio.h>
#include <string.h>

#include "cli/run_progress.h"
#include "lib/clock.h"

#define BAR_WIDTH 30

void
run_format_duration(double secs, char *out, size_t outlen)
{
	long s = secs < 0 ? 0 : (long)(secs + 0.5);

	if (secs < 10) {
		snprintf(out, outlen, "%.1f s", secs < 0 ? 0.0 : secs);
		return;
	}
	if (s >= 3600)
		snprintf(out, outlen, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(out, outlen, "%ld:%02ld", s / 60, s % 60);
	else
		snprintf(out, outlen, "%ld s", s);
}

void
run_progress_init(struct run_progress *p, FILE *out, int tty, int quiet)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->tty = tty;
	p->quiet = quiet;
	p->start_ms = coffer_mono_ms();
	p->plain_every_ms = 2000;
}

static void
figures(const struct run_progress *p, int64_t done, int64_t failed,
    int64_t total, double *rate, char *eta, size_t etalen)
{
	double secs = (double)(coffer_mono_ms() - p->start_ms) / 1000.0;
	int64_t finished = done + failed;

	*rate = secs > 0 ? (double)finished / secs : 0;
	if (finished >= total)
		snprintf(eta, etalen, "0 s");
	else if (*rate > 0)
		run_format_duration((double)(total - finished) / *rate, eta, etalen);
	else
		snprintf(eta, etalen, "?");
}

static void
draw(struct run_progress *p, int64_t done, int64_t failed, int64_t total,
    int workers)
{
	char bar[BAR_WIDTH + 1], eta[32];
	double rate, frac = total > 0 ? (double)(done + failed) / (double)total : 1;
	int fill = (int)(frac * BAR_WIDTH + 0.5);

	figures(p, done, failed, total, &rate, eta, sizeof(eta));
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	/* \033[K clears what a longer previous line left. */
	fprintf(p->out, "\r[%s] %lld/%lld %3.0f%%  %.1f items/s  ETA %s  %d workers",
	    bar, (long long)done, (long long)total, frac * 100, rate, eta, workers);
	if (failed)
		fprintf(p->out, "  %lld failed", (long long)failed);
	fputs("\033[K", p->out);
	fflush(p->out);
	p->drawn = 1;
}

static void
line(struct run_progress *p, int64_t done, int64_t failed, int64_t total,
    int workers)
{
	char eta[32];
	double rate;

	figures(p, done, failed, total, &rate, eta, sizeof(eta));
	fprintf(p->out, "progress: %lld/%lld done, %lld failed, %.1f items/s, ETA %s,"
	    " %d workers\n", (long long)done, (long long)total, (long long)failed,
	    rate, eta, workers);
	fflush(p->out);
}

void
run_progress_update(struct run_progress *p, int64_t done, int64_t failed,
    int64_t total, int workers)
{
	int64_t now = coffer_mono_ms();

	if (p->quiet)
		return;
	if (p->tty) {
		draw(p, done, failed, total, workers);
	} else if (now - p->last_ms >= p->plain_every_ms) {
		line(p, done, failed, total, workers);
		p->last_ms = now;
	}
}

void
run_progress_end(struct run_progress *p, int64_t done, int64_t failed,
    int64_t total, int workers)
{
	if (p->quiet)
		return;
	if (p->tty) {
		draw(p, done, failed, total, workers);
		fputc('\n', p->out);
	} else {
		line(p, done, failed, total, workers);
	}
	fflush(p->out);
}
