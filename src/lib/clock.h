/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks and RFC 3339 timestamps. */
#ifndef COFFER_LIB_CLOCK_H
#define COFFER_LIB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds, for durations and timeouts. */
int64_t coffer_mono_ms(void);
/* Wall-clock milliseconds since the Unix epoch. */
int64_t coffer_wall_ms(void);

/* Sleep ms milliseconds (<= 0: not at all), the whole time even when
 * signal handlers run in between. */
void coffer_sleep_ms(int64_t ms);
/* Sleep up to ms milliseconds, returning early (1) when a signal handler
 * ran, so a loop can look at the flag the handler set; 0 after the whole
 * time. */
int coffer_nap_ms(int64_t ms);

/*
 * Parse an RFC 3339 date-time ("2025-07-19T10:01:17Z",
 * "2025-07-19T10:01:17.5+02:00") or a bare "@<unix seconds>" into seconds
 * since the epoch (fractions truncated). COFFER_E_FORMAT otherwise.
 */
int coffer_time_parse(const char *s, int64_t *unix_s)
	__attribute__((warn_unused_result));
/* Format seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ"; out holds 21+. */
void coffer_time_format(int64_t unix_s, char *out, size_t outlen);

#endif
