/* SPDX-License-Identifier: Apache-2.0 */
/* Hex and base64 (RFC 4648) encodings, strict on decode. */
#ifndef COFFER_LIB_ENC_H
#define COFFER_LIB_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* Lower-case hex of n bytes into out, which must hold 2n+1 chars. */
void coffer_hex_encode(const uint8_t *p, size_t n, char *out);
/* Append lower-case hex to b. */
int coffer_hex_put(struct coffer_buf *b, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* The value of hex digit c (either case), or -1 if c is not one. */
int coffer_hex_digit(char c);

/*
 * Decode exactly len hex chars (either case) into out (len/2 bytes, at most
 * outmax). COFFER_E_FORMAT on an odd length or a non-hex char,
 * COFFER_E_LIMIT if it would not fit. *outlen gets the byte count
 * (outlen may be NULL when the caller knows it: len / 2).
 */
int coffer_hex_decode(const char *s, size_t len, uint8_t *out, size_t outmax,
    size_t *outlen) __attribute__((warn_unused_result));
/* Decode into a buffer (appends). */
int coffer_hex_decode_buf(const char *s, size_t len, struct coffer_buf *b)
	__attribute__((warn_unused_result));

/* base64url without padding (RFC 4648 section 5), as used in Coffer's text
 * formats. Decoding rejects padding, whitespace, the standard alphabet's
 * '+' and '/', and non-zero trailing bits (so every value has one
 * encoding). */
size_t coffer_b64url_len(size_t n); /* encoded length, without NUL */
int coffer_b64url_put(struct coffer_buf *b, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));
int coffer_b64url_decode_buf(const char *s, size_t len, struct coffer_buf *b)
	__attribute__((warn_unused_result));
/* Decode into a fixed array; exactly outlen bytes must come out. */
int coffer_b64url_decode_exact(const char *s, size_t len, uint8_t *out,
    size_t outlen) __attribute__((warn_unused_result));

/* Standard base64 with padding (RFC 4648 section 4), for formats defined by
 * others (PEM bodies, Kubernetes secrets). Decoding is strict as above but
 * requires the padding. */
int coffer_b64_put(struct coffer_buf *b, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));
int coffer_b64_decode_buf(const char *s, size_t len, struct coffer_buf *b)
	__attribute__((warn_unused_result));

#endif
