// SPDX-License-Identifier: Apache-2.0
// Percent-decoding (pct.h). There used to be three decoders: one refused
// %00, one accepted it and cut the value there, libevent's kept it. Now
// there is one, and it refuses it.
#include <string.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/pct.h"

int
coffer_pct_decode(const char *s, size_t n, int plus, char *out, size_t outlen,
    size_t *outn)
{
	size_t i, j = 0;

	/* Two passes: check everything first, so out stays untouched on
	 * error. */
	for (i = 0; i < n; i++, j++) {
		if (s[i] != '%')
			continue;
		if (i + 2 >= n || coffer_hex_digit(s[i + 1]) < 0 ||
		    coffer_hex_digit(s[i + 2]) < 0)
			return coffer_errf(COFFER_E_FORMAT,
			    "'%%' at offset %zu is not followed by two hex digits", i);
		if (s[i + 1] == '0' && s[i + 2] == '0')
			return coffer_errf(COFFER_E_FORMAT,
			    "%%00 (a NUL byte) at offset %zu", i);
		i += 2;
	}
	if (j >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "decoded value longer than %zu bytes",
		    outlen > 0 ? outlen - 1 : 0);
	for (i = 0, j = 0; i < n; i++) {
		if (s[i] == '%') {
			out[j++] = (char)(coffer_hex_digit(s[i + 1]) << 4 |
			    coffer_hex_digit(s[i + 2]));
			i += 2;
		} else {
			out[j++] = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	out[j] = '\0';
	if (outn != NULL)
		*outn = j;
	return 0;
}
