// SPDX-License-Identifier: Apache-2.0
// UTF-8 well-formedness (utf8.h), after RFC 3629 section 4 (the table of
// well-formed byte sequences), which is also what jansson accepts: a JSON
// library refuses a string that is not, and a reply built from it is lost.
#include <string.h>

#include "lib/utf8.h"

/* How many bytes of a sequence starting at s are a valid prefix of one
 * (0 if even the first byte is not), and in *full its total length. */
static size_t
seq_prefix(const unsigned char *s, size_t n, size_t *full)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	*full = 0;
	if (c < 0x80) {
		*full = 1;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;      /* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f;      /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;      /* no overlong forms */
		else if (c == 0xf4)
			hi = 0x8f;      /* nothing above U+10FFFF */
	} else {
		return 0;               /* 0x80-0xc1, 0xf5-0xff */
	}
	*full = len;
	for (i = 1; i < len && i < n; i++) {
		unsigned char b = s[i];

		if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
			return 0;
	}
	return i;
}

size_t
coffer_utf8_seq(const char *s, size_t n)
{
	size_t full, got;

	if (n == 0)
		return 0;
	got = seq_prefix((const unsigned char *)s, n, &full);
	return got != 0 && got == full ? full : 0;
}

size_t
coffer_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = coffer_utf8_seq(s, n);
	uint32_t c;

	if (len == 0)
		return 0;
	/* The lead byte carries 7, 5, 4 or 3 bits, each continuation byte 6. */
	c = len == 1 ? u[0] : u[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++)
		c = c << 6 | (u[i] & 0x3fu);
	*cp = c;
	return len;
}

int
coffer_utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t k = coffer_utf8_seq(s + i, len - i);

		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

size_t
coffer_utf8_trim(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = len, full;

	/* The last sequence starts at most 3 bytes before the end. */
	while (start > 0 && len - start < 4 && (u[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0 || len - start >= 4)
		return len;
	start--;
	if (seq_prefix(u + start, len - start, &full) == len - start &&
	    full > len - start)
		return start;
	return len;
}

size_t
coffer_utf8_sanitize(char *s)
{
	size_t len = strlen(s), i = 0, full;

	while (i < len) {
		size_t k = coffer_utf8_seq(s + i, len - i);

		if (k != 0) {
			i += k;
			continue;
		}
		/* A sequence cut short by the end of the string: drop it. */
		if (seq_prefix((const unsigned char *)s + i, len - i, &full) ==
		    len - i && full > len - i) {
			s[i] = '\0';
			return i;
		}
		s[i++] = '?';
	}
	return len;
}
