/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers every replica controller shares. All static inline: a controller
 * is built both into libcoffer and as a single-file plugin .so, so it may
 * use nothing outside this header, include/coffer/ and libc/libm. */
#ifndef COFFER_CONTROLLERS_CTL_COMMON_H
#define COFFER_CONTROLLERS_CTL_COMMON_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/controller.h"
#include "coffer/error.h"

/* The host's structs must at least hold every version-1 field. */
#define CTL_CFG_V1_SIZE (offsetof(struct coffer_ctl_config, nparams) + sizeof(size_t))
#define CTL_OBS_V1_SIZE (offsetof(struct coffer_ctl_obs, startup_s) + sizeof(double))

__attribute__((format(printf, 3, 4))) static inline int
ctl_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return COFFER_E_INVAL;
}

__attribute__((format(printf, 2, 3))) static inline void
ctl_reason(struct coffer_ctl_decision *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/*
 * Check what every controller needs from the configuration: a size that
 * covers version 1, 0 <= min <= max, max >= 1, a finite check interval
 * > 0 and, with need_deadline, a finite expected_time_s > 0. Errors name
 * the field as the job document does.
 */
static inline int
ctl_check_config(const struct coffer_ctl_config *cfg, int need_deadline,
    char *err, size_t errlen)
{
	if (cfg == NULL)
		return ctl_fail(err, errlen, "config: missing");
	if (cfg->size < CTL_CFG_V1_SIZE)
		return ctl_fail(err, errlen, "config: size %u is smaller than version 1's %zu",
		    (unsigned)cfg->size, (size_t)CTL_CFG_V1_SIZE);
	if (cfg->min_replicas < 0)
		return ctl_fail(err, errlen, "min_replicas: expected >= 0, got %d",
		    (int)cfg->min_replicas);
	if (cfg->max_replicas < 1)
		return ctl_fail(err, errlen, "max_replicas: expected >= 1, got %d",
		    (int)cfg->max_replicas);
	if (cfg->max_replicas < cfg->min_replicas)
		return ctl_fail(err, errlen, "max_replicas: %d is below min_replicas %d",
		    (int)cfg->max_replicas, (int)cfg->min_replicas);
	if (!isfinite(cfg->check_interval_s) || cfg->check_interval_s <= 0)
		return ctl_fail(err, errlen, "check_interval: expected a number > 0");
	if (need_deadline &&
	    (!isfinite(cfg->expected_time_s) || cfg->expected_time_s <= 0))
		return ctl_fail(err, errlen, "expected_time: expected a number of seconds > 0");
	if (cfg->nparams > 0 && cfg->params == NULL)
		return ctl_fail(err, errlen, "params: %zu given but the array is NULL",
		    cfg->nparams);
	return 0;
}

/* The host's flags (COFFER_CTL_HOST_*), 0 from a host whose struct ends
 * before the field (it promised nothing). */
static inline uint32_t
ctl_host_flags(const struct coffer_ctl_config *cfg)
{
	if (cfg->size < offsetof(struct coffer_ctl_config, host_flags) +
	    sizeof(cfg->host_flags))
		return 0;
	return cfg->host_flags;
}

/* Parse a whole string as a finite double in [min, max]. */
static inline int
ctl_parse_num(const char *key, const char *value, double min, double max,
    double *out, char *err, size_t errlen)
{
	char *end = NULL;
	double v = 0;

	if (value == NULL || *value == '\0')
		return ctl_fail(err, errlen, "%s: expected a number, got nothing", key);
	errno = 0;
	v = strtod(value, &end);
	if (end == value || *end != '\0' || errno == ERANGE || !isfinite(v))
		return ctl_fail(err, errlen, "%s: expected a number, got \"%.40s\"",
		    key, value);
	if (v < min || v > max)
		return ctl_fail(err, errlen, "%s: expected a number in [%g, %g], got %g",
		    key, min, max, v);
	*out = v;
	return 0;
}

/* Parse a whole string as an integer in [min, max] ("3", also "3.0"). */
static inline int
ctl_parse_int(const char *key, const char *value, long min, long max,
    long *out, char *err, size_t errlen)
{
	double v = 0;
	int r;

	if ((r = ctl_parse_num(key, value, (double)min, (double)max, &v, err,
	    errlen)) != 0)
		return r;
	if (v != floor(v))
		return ctl_fail(err, errlen, "%s: expected a whole number, got %g",
		    key, v);
	*out = (long)v;
	return 0;
}

/* Parameter keys must be non-NULL; a repeated key is refused. */
static inline int
ctl_check_param_keys(const struct coffer_ctl_config *cfg, char *err,
    size_t errlen)
{
	size_t i, j;

	for (i = 0; i < cfg->nparams; i++) {
		if (cfg->params[i].key == NULL)
			return ctl_fail(err, errlen, "params[%zu]: missing key", i);
		for (j = 0; j < i; j++)
			if (strcmp(cfg->params[i].key, cfg->params[j].key) == 0)
				return ctl_fail(err, errlen, "%s: given twice",
				    cfg->params[i].key);
	}
	return 0;
}

/*
 * A sanitised copy of the host's observation: at most sizeof(*o) bytes of
 * it are read (a smaller host struct leaves the rest 0); NaN/infinite
 * numbers become 0, negative counts and times become 0. Returns
 * COFFER_E_ABI if the host's struct is smaller than version 1.
 */
static inline double
ctl_fin(double x)
{
	return isfinite(x) ? x : 0.0;
}

static inline double
ctl_nonneg(double x)
{
	return isfinite(x) && x > 0 ? x : 0.0;
}

static inline int
ctl_read_obs(const struct coffer_ctl_obs *in, struct coffer_ctl_obs *o)
{
	size_t n;

	memset(o, 0, sizeof(*o));
	if (in == NULL || in->size < CTL_OBS_V1_SIZE)
		return COFFER_E_ABI;
	n = in->size < sizeof(*o) ? in->size : sizeof(*o);
	memcpy(o, in, n);
	o->now_s = ctl_nonneg(o->now_s);
	if (o->total < 0)
		o->total = 0;
	if (o->done < 0)
		o->done = 0;
	if (o->failed < 0)
		o->failed = 0;
	if (o->in_flight < 0)
		o->in_flight = 0;
	if (o->queued < 0)
		o->queued = 0;
	o->progress = ctl_fin(o->progress);
	o->time_progress = ctl_fin(o->time_progress);
	o->error = ctl_fin(o->error);
	if (o->replicas < 0)
		o->replicas = 0;
	if (o->replicas_ready < 0)
		o->replicas_ready = 0;
	if (o->replicas_ready > o->replicas)
		o->replicas_ready = o->replicas;
	if (o->replicas_desired < 0)
		o->replicas_desired = 0;
	o->replica_seconds = ctl_nonneg(o->replica_seconds);
	o->throughput = ctl_nonneg(o->throughput);
	o->item_time_mean_s = ctl_nonneg(o->item_time_mean_s);
	o->item_time_var_s2 = ctl_nonneg(o->item_time_var_s2);
	o->startup_s = ctl_nonneg(o->startup_s);
	return 0;
}

/* done + failed, without int64 overflow. */
static inline int64_t
ctl_finished(const struct coffer_ctl_obs *o)
{
	return o->done > INT64_MAX - o->failed ? INT64_MAX : o->done + o->failed;
}

/* Items not finished yet (queued, in flight or waiting for a retry). */
static inline int64_t
ctl_remaining(const struct coffer_ctl_obs *o)
{
	int64_t f = ctl_finished(o);

	return o->total > f ? o->total - f : 0;
}

/* A double (maybe NaN or huge) to a replica count in [lo, hi]. */
static inline int32_t
ctl_clamp_count(double x, int32_t lo, int32_t hi)
{
	if (isnan(x))
		return lo;
	if (x <= (double)lo)
		return lo;
	if (x >= (double)hi)
		return hi;
	return (int32_t)x;
}

static inline int32_t
ctl_clamp_i64(int64_t x, int32_t lo, int32_t hi)
{
	return x < lo ? lo : x > hi ? hi : (int32_t)x;
}

#endif
