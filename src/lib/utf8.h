/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 (RFC 3629) checks for text that ends up in JSON: free-text reasons
 * and error details that may have been cut at a byte limit in the middle
 * of a character, or that carry bytes from a file name or a peer. */
#ifndef COFFER_LIB_UTF8_H
#define COFFER_LIB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at s (1-4), or 0 if the n bytes
 * at s do not start one (overlong forms, surrogates, code points above
 * U+10FFFF and stray continuation bytes are not well-formed). */
size_t coffer_utf8_seq(const char *s, size_t n);

/* coffer_utf8_seq(s, n), and on success the code point in *cp (not
 * written when the result is 0). */
size_t coffer_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* 1 if the len bytes at s are well-formed UTF-8 (NUL is allowed), else 0. */
int coffer_utf8_valid(const char *s, size_t len);

/*
 * The length to which s (len bytes) must be cut so that it does not end
 * in the middle of a character: what a byte-bounded copy (snprintf,
 * strncpy) of a valid string needs. Only a trailing incomplete sequence is
 * removed; whatever else is invalid stays (see coffer_utf8_sanitize).
 */
size_t coffer_utf8_trim(const char *s, size_t len);

/*
 * Make the NUL-terminated string s well-formed UTF-8 in place: a trailing
 * incomplete sequence is removed, and every other byte that does not
 * belong to a well-formed sequence becomes '?'. Valid text is unchanged.
 * Returns the new length.
 */
size_t coffer_utf8_sanitize(char *s);

#endif
