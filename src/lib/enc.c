// SPDX-License-Identifier: Apache-2.0
// Hex and base64 encodings (lib/enc.h). Decoders accept exactly one
// encoding per value: no whitespace, no stray padding, no spare bits.
#include <string.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/mem.h"

static const char hexdig[] = "0123456789abcdef";

void
coffer_hex_encode(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[p[i] >> 4];
		out[2 * i + 1] = hexdig[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
coffer_hex_put(struct coffer_buf *b, const uint8_t *p, size_t n)
{
	uint8_t *w;
	int r;

	if (n > SIZE_MAX / 2)
		return coffer_errf(COFFER_E_LIMIT, "hex: input too long");
	if ((r = coffer_buf_reserve(b, 2 * n, &w)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		w[2 * i] = (uint8_t)hexdig[p[i] >> 4];
		w[2 * i + 1] = (uint8_t)hexdig[p[i] & 15];
	}
	coffer_buf_commit(b, 2 * n);
	return 0;
}

/* Each hex digit's value plus one, 0 for every other byte: a policy's
 * digests are hundreds of thousands of digits. */
static const uint8_t hex_plus1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static inline int
digit(char c)
{
	return (int)hex_plus1[(unsigned char)c] - 1;
}

int
coffer_hex_digit(char c)
{
	return digit(c);
}

int
coffer_hex_decode(const char *s, size_t len, uint8_t *out, size_t outmax,
    size_t *outlen)
{
	if (len % 2 != 0)
		return coffer_errf(COFFER_E_FORMAT, "hex: odd length %zu", len);
	if (len / 2 > outmax)
		return coffer_errf(COFFER_E_LIMIT,
		    "hex: %zu bytes do not fit in %zu", len / 2, outmax);
	/* Validate everything first: on error, out is left untouched. */
	for (size_t i = 0; i < len; i++)
		if (digit(s[i]) < 0)
			return coffer_errf(COFFER_E_FORMAT,
			    "hex: invalid character at offset %zu", i);
	for (size_t i = 0; i < len; i += 2)
		out[i / 2] = (uint8_t)(digit(s[i]) << 4 | digit(s[i + 1]));
	if (outlen != NULL)
		*outlen = len / 2;
	return 0;
}

/* Undo a failed decode into b's reserved space: wipe what was written
 * there if b is secret, and restore the terminating NUL (lib/buf.h). */
static void
unreserve(struct coffer_buf *b, size_t start, size_t written)
{
	b->len = start;
	if (b->data == NULL)
		return;
	if (b->secret && written > 0)
		coffer_wipe(b->data + start, written);
	b->data[start] = '\0';
}

int
coffer_hex_decode_buf(const char *s, size_t len, struct coffer_buf *b)
{
	size_t n, start = b->len;
	uint8_t *w;
	int r;

	if (len % 2 != 0)
		return coffer_errf(COFFER_E_FORMAT, "hex: odd length %zu", len);
	if ((r = coffer_buf_reserve(b, len / 2, &w)) != 0)
		return r;
	if ((r = coffer_hex_decode(s, len, w, len / 2, &n)) != 0) {
		unreserve(b, start, 0);
		return r;
	}
	coffer_buf_commit(b, n);
	return 0;
}

static const char b64url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
coffer_b64url_len(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

static int
b64_put(struct coffer_buf *b, const uint8_t *p, size_t n, const char *alpha,
    int pad)
{
	size_t outlen = pad ? (n + 2) / 3 * 4 : coffer_b64url_len(n), o = 0;
	uint8_t *w;
	int r;

	if (n > SIZE_MAX / 2)
		return coffer_errf(COFFER_E_LIMIT, "base64: input too long");
	if ((r = coffer_buf_reserve(b, outlen, &w)) != 0)
		return r;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		w[o++] = (uint8_t)alpha[v >> 18 & 63];
		w[o++] = (uint8_t)alpha[v >> 12 & 63];
		if (left > 1)
			w[o++] = (uint8_t)alpha[v >> 6 & 63];
		else if (pad)
			w[o++] = '=';
		if (left > 2)
			w[o++] = (uint8_t)alpha[v & 63];
		else if (pad)
			w[o++] = '=';
	}
	coffer_buf_commit(b, o);
	return 0;
}

int
coffer_b64url_put(struct coffer_buf *b, const uint8_t *p, size_t n)
{
	return b64_put(b, p, n, b64url_alpha, 0);
}

int
coffer_b64_put(struct coffer_buf *b, const uint8_t *p, size_t n)
{
	return b64_put(b, p, n, b64_alpha, 1);
}

/* Both alphabets (RFC 4648 sections 4 and 5) start with A-Z a-z 0-9 and
 * differ in their last two characters. By ranges, not strchr: item proofs
 * decode 250 characters each, 20,000 times a second. */
static int
b64_val(const char *alpha, char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c != '\0' && c == alpha[62])
		return 62;
	if (c != '\0' && c == alpha[63])
		return 63;
	return -1;
}

static int
b64_decode(const char *s, size_t len, struct coffer_buf *b, const char *alpha,
    int pad)
{
	size_t start = b->len, nchars = len, o = 0;
	uint8_t *w;
	int r;

	if (pad) {
		if (len % 4 != 0)
			return coffer_errf(COFFER_E_FORMAT,
			    "base64: length %zu is not a multiple of 4", len);
		while (nchars > 0 && len - nchars < 2 && s[nchars - 1] == '=')
			nchars--;
	}
	if (nchars % 4 == 1)
		return coffer_errf(COFFER_E_FORMAT, "base64: impossible length %zu",
		    len);
	if ((r = coffer_buf_reserve(b, nchars / 4 * 3 + 2, &w)) != 0)
		return r;
	for (size_t i = 0; i < nchars; i += 4) {
		size_t left = nchars - i < 4 ? nchars - i : 4;
		uint32_t v = 0;

		for (size_t k = 0; k < 4; k++) {
			int d = k < left ? b64_val(alpha, s[i + k]) : 0;

			if (d < 0) {
				r = coffer_errf(COFFER_E_FORMAT, "base64: invalid "
				    "character at offset %zu", i + k);
				goto fail;
			}
			v = v << 6 | (uint32_t)d;
		}
		/* Canonical: the bits after the last full byte are zero. */
		if ((left == 2 && (v & 0xffff) != 0) ||
		    (left == 3 && (v & 0xff) != 0)) {
			r = coffer_errf(COFFER_E_FORMAT,
			    "base64: non-canonical trailing bits");
			goto fail;
		}
		w[o++] = (uint8_t)(v >> 16);
		if (left > 2)
			w[o++] = (uint8_t)(v >> 8);
		if (left > 3)
			w[o++] = (uint8_t)v;
	}
	coffer_buf_commit(b, o);
	return 0;
fail:
	/* Bytes already decoded sit in the reserved space past len. */
	unreserve(b, start, o);
	return r;
}

int
coffer_b64url_decode_buf(const char *s, size_t len, struct coffer_buf *b)
{
	return b64_decode(s, len, b, b64url_alpha, 0);
}

int
coffer_b64_decode_buf(const char *s, size_t len, struct coffer_buf *b)
{
	return b64_decode(s, len, b, b64_alpha, 1);
}

int
coffer_b64url_decode_exact(const char *s, size_t len, uint8_t *out,
    size_t outlen)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(outlen + 3);
	int r;

	if (len != coffer_b64url_len(outlen)) {
		r = coffer_errf(COFFER_E_FORMAT,
		    "base64url: expected %zu characters for %zu bytes, got %zu",
		    coffer_b64url_len(outlen), outlen, len);
		goto out;
	}
	if ((r = coffer_b64url_decode_buf(s, len, &b)) != 0)
		goto out;
	if (b.len != outlen) {
		r = coffer_errf(COFFER_E_FORMAT, "base64url: wrong length");
		goto out;
	}
	memcpy(out, b.data, outlen);
out:
	coffer_buf_release(&b);
	return r;
}
