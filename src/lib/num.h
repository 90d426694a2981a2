/* SPDX-License-Identifier: Apache-2.0 */
/* Checked parsing of decimal integers from command lines, environment
 * variables, query strings and files: the whole string, in range, or an
 * error that says which range. */
#ifndef COFFER_LIB_NUM_H
#define COFFER_LIB_NUM_H

#include <stdint.h>

/*
 * Parse s as a decimal integer in [min, max]: an optional '-' then digits,
 * nothing else (no space, no '+', no "0x", no suffix). 0 and *out set, or
 * COFFER_E_FORMAT with the detail "'<s>' is not an integer in [min, max]"
 * (callers add the field or option with coffer_errctx). *out is written
 * only on success.
 */
int coffer_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
	__attribute__((warn_unused_result));

/* The same for an int (min and max within int's range). */
int coffer_parse_int(const char *s, int min, int max, int *out)
	__attribute__((warn_unused_result));

#endif
