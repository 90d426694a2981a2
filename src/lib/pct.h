/* SPDX-License-Identifier: Apache-2.0 */
/* Percent-decoding (RFC 3986 section 2.1) with one rule for every caller:
 * URLs (Redis, file://), HTTP query strings and the worker's parameters. */
#ifndef COFFER_LIB_PCT_H
#define COFFER_LIB_PCT_H

#include <stddef.h>

/*
 * Decode the n bytes at s ("%XX", either case, is the byte 0xXX; every
 * other byte is itself) into out, NUL-terminated; *outn (may be NULL) gets
 * the decoded length. plus != 0 also turns '+' into a space (HTML form
 * encoding, used in query strings). Rejected with COFFER_E_FORMAT: a '%'
 * not followed by two hex digits, and "%00": a decoded value is always a
 * C string, and a NUL inside it would cut it short (a file name, a
 * password, a parameter) without anyone noticing. out needs n + 1 bytes at
 * most (decoding never grows); COFFER_E_LIMIT if outlen is smaller than
 * the result needs. out is written only on success.
 */
int coffer_pct_decode(const char *s, size_t n, int plus, char *out,
    size_t outlen, size_t *outn) __attribute__((warn_unused_result));

#endif
