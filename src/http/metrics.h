/* SPDX-License-Identifier: Apache-2.0 */
/* Writing the Prometheus text exposition format, version 0.0.4: metric
 * families with HELP and TYPE lines, samples with escaped label values. */
#ifndef COFFER_HTTP_METRICS_H
#define COFFER_HTTP_METRICS_H

#include "lib/buf.h"

#define HTTP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help\n# TYPE name type\n"; type is "gauge" or "counter". */
int http_metrics_family(struct coffer_buf *b, const char *name,
    const char *type, const char *help) __attribute__((warn_unused_result));

/*
 * One sample line: name{k1="v1",...} value. labels is a NULL-terminated
 * list of key, value pairs (may be NULL). Label values are escaped (\\,
 * \", \n); NaN and infinities are written as NaN, +Inf, -Inf.
 */
int http_metrics_sample(struct coffer_buf *b, const char *name,
    const char *const *labels, double value) __attribute__((warn_unused_result));

/* Append s escaped as a label value (without the quotes). */
int http_metrics_escape(struct coffer_buf *b, const char *s)
	__attribute__((warn_unused_result));

#endif
