/* SPDX-License-Identifier: Apache-2.0 */
/* Values for the daemons' JSON output that cannot make a reply fail:
 * jansson refuses non-finite numbers and strings that are not UTF-8, and a
 * json_pack() given one returns NULL, which would lose the whole object. */
#ifndef COFFER_HTTP_JSONOUT_H
#define COFFER_HTTP_JSONOUT_H

#include <jansson.h>

/* v as a JSON number, or null when it is not finite (NaN, +-Inf). NULL
 * only when out of memory. */
json_t *http_json_real(double v);
/* v when it is finite and >= 0, else null (-1 means "unknown"). */
json_t *http_json_real_or_null(double v);
/* s as a JSON string, made valid UTF-8 first (coffer_utf8_sanitize: an
 * incomplete last character dropped, other bad bytes as '?'); null for a
 * NULL s. NULL only when out of memory. */
json_t *http_json_str(const char *s);

#endif
