/* SPDX-License-Identifier: Apache-2.0 */
/* Logging for daemons and tools: human lines or JSON lines on one stream. */
#ifndef COFFER_LIB_LOG_H
#define COFFER_LIB_LOG_H

#include <stdio.h>

enum coffer_log_level {
	COFFER_LOG_DEBUG = 0,
	COFFER_LOG_INFO = 1,
	COFFER_LOG_WARN = 2,
	COFFER_LOG_ERROR = 3,
	COFFER_LOG_OFF = 4,
};

enum coffer_log_format {
	COFFER_LOG_HUMAN = 0, /* "2026-11-21T19:27:01.123Z worker[123] info: msg k=v" */
	COFFER_LOG_JSON = 1,  /* {"ts":..,"level":..,"comp":..,"pid":..,"msg":..,"k":"v"} */
};

/*
 * Configure logging for this process: component name (e.g. "worker"),
 * minimum level, format and stream (stderr when NULL). Defaults: "coffer",
 * info, human, stderr. The environment variables COFFER_LOG_LEVEL
 * (debug|info|warn|error|off) and COFFER_LOG_FORMAT (human|json) override
 * the level and format when coffer_log_setup_env() is called.
 */
void coffer_log_setup(const char *component, enum coffer_log_level level,
    enum coffer_log_format format, FILE *stream);
void coffer_log_setup_env(const char *component);
int coffer_log_parse_level(const char *s, enum coffer_log_level *out);
int coffer_log_enabled(enum coffer_log_level level);

/* printf-style message. */
void coffer_log(enum coffer_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A message with structured fields given as NULL-terminated key, value
 * string pairs: coffer_logkv(COFFER_LOG_INFO, "item done", "item", id,
 * "ms", ms_str, NULL). JSON format emits them as string members.
 */
void coffer_logkv(enum coffer_log_level level, const char *msg, ...)
	__attribute__((sentinel));

#define coffer_debug(...) coffer_log(COFFER_LOG_DEBUG, __VA_ARGS__)
#define coffer_info(...) coffer_log(COFFER_LOG_INFO, __VA_ARGS__)
#define coffer_warn(...) coffer_log(COFFER_LOG_WARN, __VA_ARGS__)
#define coffer_error(...) coffer_log(COFFER_LOG_ERROR, __VA_ARGS__)

#endif
