// SPDX-License-Identifier: Apache-2.0
// Logging (lib/log.h). One fprintf per line so lines from several threads
// or processes sharing a stream do not interleave within a line.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/log.h"

static struct {
	char comp[32];
	enum coffer_log_level level;
	enum coffer_log_format format;
	FILE *stream;
} cfg = { "coffer", COFFER_LOG_INFO, COFFER_LOG_HUMAN, NULL };

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

void
coffer_log_setup(const char *component, enum coffer_log_level level,
    enum coffer_log_format format, FILE *stream)
{
	snprintf(cfg.comp, sizeof(cfg.comp), "%s", component ? component : "coffer");
	cfg.level = level;
	cfg.format = format;
	cfg.stream = stream;
}

int
coffer_log_parse_level(const char *s, enum coffer_log_level *out)
{
	for (int i = 0; i <= COFFER_LOG_OFF; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum coffer_log_level)i;
			return 0;
		}
	}
	return coffer_errf(COFFER_E_INVAL,
	    "unknown log level '%s' (debug, info, warn, error, off)", s);
}

void
coffer_log_setup_env(const char *component)
{
	enum coffer_log_level level = cfg.level;
	enum coffer_log_format format = cfg.format;
	const char *s;

	if ((s = getenv("COFFER_LOG_LEVEL")) != NULL)
		(void)coffer_log_parse_level(s, &level);
	if ((s = getenv("COFFER_LOG_FORMAT")) != NULL)
		format = strcmp(s, "json") == 0 ? COFFER_LOG_JSON : COFFER_LOG_HUMAN;
	coffer_log_setup(component, level, format, cfg.stream);
}

int
coffer_log_enabled(enum coffer_log_level level)
{
	return level >= cfg.level && level < COFFER_LOG_OFF;
}

/* A log line is built in a fixed array; whatever does not fit is cut. */
struct line {
	char s[8192];
	size_t n;
};

static void
put(struct line *l, const char *p, size_t n)
{
	if (n > sizeof(l->s) - 2 - l->n)
		n = sizeof(l->s) - 2 - l->n;
	memcpy(l->s + l->n, p, n);
	l->n += n;
}

static void
putf(struct line *l, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(l, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void
put_json_string(struct line *l, const char *s)
{
	put(l, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			putf(l, "\\%c", c);
		else if (c == '\n')
			put(l, "\\n", 2);
		else if (c < 0x20 || c == 0x7f)
			putf(l, "\\u%04x", c);
		else
			put(l, (const char *)&c, 1);
	}
	put(l, "\"", 1);
}

/* Human format keeps a line a line: control characters become '?'. */
static void
put_human(struct line *l, const char *s)
{
	for (; *s != '\0'; s++) {
		char c = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;

		put(l, &c, 1);
	}
}

static void
emit(enum coffer_log_level level, const char *msg, va_list *kv)
{
	struct line l;
	struct timeval tv;
	struct tm tm;
	char ts[40];
	const char *k, *v;
	FILE *out = cfg.stream ? cfg.stream : stderr;

	l.n = 0;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long)(tv.tv_usec / 1000));
	if (cfg.format == COFFER_LOG_JSON) {
		putf(&l, "{\"ts\":\"%s\",\"level\":\"%s\",\"comp\":", ts,
		    level_names[level]);
		put_json_string(&l, cfg.comp);
		putf(&l, ",\"pid\":%ld,\"msg\":", (long)getpid());
		put_json_string(&l, msg);
		while (kv != NULL && (k = va_arg(*kv, const char *)) != NULL) {
			v = va_arg(*kv, const char *);
			put(&l, ",", 1);
			put_json_string(&l, k);
			put(&l, ":", 1);
			put_json_string(&l, v ? v : "");
		}
		put(&l, "}", 1);
	} else {
		putf(&l, "%s %s[%ld] %s: ", ts, cfg.comp, (long)getpid(),
		    level_names[level]);
		put_human(&l, msg);
		while (kv != NULL && (k = va_arg(*kv, const char *)) != NULL) {
			v = va_arg(*kv, const char *);
			putf(&l, " %s=", k);
			put_human(&l, v ? v : "");
		}
	}
	l.s[l.n++] = '\n';
	l.s[l.n] = '\0';
	fputs(l.s, out);
	fflush(out);
}

void
coffer_log(enum coffer_log_level level, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	if (!coffer_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg, NULL);
}

void
coffer_logkv(enum coffer_log_level level, const char *msg, ...)
{
	va_list ap;

	if (!coffer_log_enabled(level))
		return;
	va_start(ap, msg);
	emit(level, msg, &ap);
	va_end(ap);
}
