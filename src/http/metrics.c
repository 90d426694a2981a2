// SPDX-License-Identifier: Apache-2.0
// The Prometheus text exposition format (metrics.h): label values escape
// backslash, double quote and line feed; HELP text escapes backslash and
// line feed. Values are Go-style floats.
#include <math.h>
#include <stdio.h>

#include "http/metrics.h"

static int
escape(struct coffer_buf *b, const char *s, int quote)
{
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		if (*s == '\\')
			r = coffer_buf_puts(b, "\\\\");
		else if (*s == '\n')
			r = coffer_buf_puts(b, "\\n");
		else if (quote && *s == '"')
			r = coffer_buf_puts(b, "\\\"");
		else
			r = coffer_buf_put(b, s, 1);
	}
	return r;
}

int
http_metrics_escape(struct coffer_buf *b, const char *s)
{
	return escape(b, s, 1);
}

int
http_metrics_family(struct coffer_buf *b, const char *name, const char *type,
    const char *help)
{
	int r;

	if ((r = coffer_buf_putf(b, "# HELP %s ", name)) != 0 ||
	    (r = escape(b, help, 0)) != 0 ||
	    (r = coffer_buf_putf(b, "\n# TYPE %s %s\n", name, type)) != 0)
		return r;
	return 0;
}

static int
put_value(struct coffer_buf *b, double v)
{
	if (isnan(v))
		return coffer_buf_puts(b, "NaN");
	if (isinf(v))
		return coffer_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	/* Integers print exactly; others with enough digits to round-trip. */
	if (v == floor(v) && fabs(v) < 1e15)
		return coffer_buf_putf(b, "%.0f", v);
	return coffer_buf_putf(b, "%.17g", v);
}

int
http_metrics_sample(struct coffer_buf *b, const char *name,
    const char *const *labels, double value)
{
	int r;

	if ((r = coffer_buf_puts(b, name)) != 0)
		return r;
	if (labels != NULL && labels[0] != NULL) {
		if ((r = coffer_buf_puts(b, "{")) != 0)
			return r;
		for (size_t i = 0; labels[i] != NULL && labels[i + 1] != NULL;
		    i += 2) {
			if ((r = coffer_buf_putf(b, "%s%s=\"", i > 0 ? "," : "",
			    labels[i])) != 0 ||
			    (r = escape(b, labels[i + 1], 1)) != 0 ||
			    (r = coffer_buf_puts(b, "\"")) != 0)
				return r;
		}
		if ((r = coffer_buf_puts(b, "}")) != 0)
			return r;
	}
	if ((r = coffer_buf_puts(b, " ")) != 0 || (r = put_value(b, value)) != 0 ||
	    (r = coffer_buf_puts(b, "\n")) != 0)
		return r;
	return 0;
}
