/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 8785 JSON Canonicalization Scheme: the one byte sequence of a JSON
 * value that Coffer signs and hashes. doc/crypto.md, "Canonical JSON". */
#ifndef COFFER_CRYPTO_JCS_H
#define COFFER_CRYPTO_JCS_H

#include <stddef.h>

#include <jansson.h>

#include "lib/buf.h"

#define COFFER_JCS_MAX_DEPTH 64
#define COFFER_JCS_NUMBER_MAX 32 /* longest number text, with its NUL */
/* JSON integers beyond +-2^53 cannot be represented exactly as an IEEE 754
 * double, the only number type of RFC 8785 (section 3.2.2.3). */
#define COFFER_JCS_INT_MAX 9007199254740992LL

/*
 * Append the canonical UTF-8 form of v to out (RFC 8785 section 3.2):
 * no white space; object members sorted by the UTF-16 code units of their
 * names (section 3.2.3); strings escaped per section 3.2.2.2; numbers as
 * ECMAScript's Number.prototype.toString (section 3.2.2.3). Errors, with
 * the JSON path in the detail ("$.a[3].b: ..."): COFFER_E_FORMAT for a
 * NaN or infinite real, an integer beyond +-2^53, or a string or name that
 * is not valid UTF-8 (including encoded surrogates); COFFER_E_LIMIT for
 * nesting deeper than COFFER_JCS_MAX_DEPTH or out's limit. On error the
 * bytes appended so far are removed.
 */
int coffer_jcs_put(const json_t *v, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/*
 * Canonicalize untrusted JSON text: at most COFFER_JSON_MAX_BYTES_DEFAULT
 * bytes and COFFER_JSON_MAX_DEPTH_DEFAULT levels, duplicate names and NUL
 * characters rejected, as coffer_json_parse(). Every number is read as an
 * IEEE 754 double (RFC 8785 section 3.2.2.3) and written in its ECMAScript
 * form, so canonical text always canonicalizes to itself. An integer
 * literal is accepted when the double it reads as is exactly its value
 * (10000000000000000000000 gives 1e+22, 18446744073709551616 = 2^64 gives
 * 18446744073709552000) or when it is already that double's canonical text
 * (18446744073709552000); any other integer literal, one a double cannot
 * hold exactly (9007199254740993), is COFFER_E_FORMAT rather than silently
 * rounded. Literals with a fraction or exponent are rounded as the RFC
 * says. Use
 * this, not coffer_json_parse() + coffer_jcs_put(), to re-canonicalize
 * received text: coffer_json_parse() keeps integers as integers and so
 * refuses the canonical form of a double of 2^63 or more.
 */
int coffer_jcs_canonicalize(const char *text, size_t len,
    struct coffer_buf *out) __attribute__((warn_unused_result));

/*
 * The ECMAScript Number.prototype.toString text of d (ECMA-262
 * Number::toString, radix 10): the shortest digits that round-trip, e.g.
 * 1e+21, 0.000001, 1e-7, 333333333.3333333; -0 gives "0". out holds
 * COFFER_JCS_NUMBER_MAX bytes. COFFER_E_FORMAT for NaN and infinities.
 */
int coffer_jcs_number(double d, char out[COFFER_JCS_NUMBER_MAX])
	__attribute__((warn_unused_result));

#endif
