// SPDX-License-Identifier: Apache-2.0
// Text and dates for the C (clean) action: which bytes of a value are whole
// single-byte characters under its Specific Character Set (PS3.5 6.1 and
// PS3.3 C.12.1.1.2), scrubbing identifiers and long digit runs out of free
// text without breaking its encoding, and shifting DA and DT values by
// whole days.
#include <stdio.h>
#include <string.h>

#include "deid.h"

enum text_cs
text_charset(const uint8_t *v, uint32_t n)
{
	const uint8_t *p;
	uint32_t k;
	int values = 1, iso2022 = 0;

	dcm_trim(v, n, &p, &k);
	for (uint32_t i = 0; i < k; i++)
		if (p[i] == '\\')
			values++;
	for (uint32_t i = 0; i + 8 <= k; i++)
		if (memcmp(p + i, "ISO 2022", 8) == 0)
			iso2022 = 1;
	/* Several values, or an "ISO 2022 IR ..." term: code extensions
	 * with escape sequences (PS3.3 C.12.1.1.2). */
	if (values > 1 || iso2022)
		return TEXT_CS_ISO2022;
	if (k == 10 && memcmp(p, "ISO_IR 192", 10) == 0)
		return TEXT_CS_UTF8;
	if ((k == 7 && memcmp(p, "GB18030", 7) == 0) || (k == 3 && memcmp(p, "GBK", 3) == 0))
		return TEXT_CS_GBK;
	/* The default repertoire, ISO 8859-x, JIS X 0201, TIS 620: one byte
	 * per character. */
	return TEXT_CS_SINGLE;
}

/* Mark in start[] the bytes that begin a character, and in single[] those
 * that are a whole one-byte character whose overwriting with 'X' keeps the
 * text valid. */
static void
classify(enum text_cs cs, const uint8_t *v, uint32_t n, uint8_t *start, uint8_t *single)
{
	int g0_multi = 0; /* ISO 2022: a 94x94 set is designated to G0 */

	for (uint32_t i = 0; i < n;) {
		uint32_t len = 1;
		int ok = 1;
		uint8_t c = v[i];

		switch (cs) {
		case TEXT_CS_SINGLE:
			break;
		case TEXT_CS_UTF8:
			if (c >= 0xc0) {
				len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
				ok = 0;
			}
			break;
		case TEXT_CS_GBK:
			/* GB18030: 0x81-0xFE starts a 2- or 4-byte character. */
			if (c >= 0x81 && c <= 0xfe) {
				len = i + 1 < n && v[i + 1] >= 0x30 && v[i + 1] <= 0x39 ? 4 : 2;
				ok = 0;
			}
			break;
		case TEXT_CS_ISO2022:
			if (c == 0x1b) {
				/* ESC $ B, ESC $ @, ESC $ ( D: two-byte sets in G0;
				 * ESC ( B, ESC ( J: back to one byte. */
				if (i + 2 < n && v[i + 1] == '$' &&
				    (v[i + 2] == 'B' || v[i + 2] == '@' || v[i + 2] == '('))
					g0_multi = 1;
				else if (i + 2 < n && v[i + 1] == '(')
					g0_multi = 0;
				ok = 0;
			} else if (c == '\r' || c == '\n' || c == '\f' || c == '\t' ||
			    c == '\\' || c == '^' || c == '=') {
				/* PS3.5 6.1.2.5.3: the initial designation comes back
				 * at these delimiters. */
				g0_multi = 0;
			} else if (c >= 0x80 || g0_multi) {
				ok = 0;
			}
			break;
		}
		if (len > n - i)
			len = n - i;
		start[i] = 1;
		single[i] = (uint8_t)ok;
		for (uint32_t j = 1; j < len; j++)
			start[i + j] = single[i + j] = 0;
		i += len;
	}
}

static int
is_word(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    c >= 0x80;
}

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Overwrite out[a..b) if every byte there is a whole one-byte character;
 * else say the value must go. */
static int
mask(uint8_t *out, const uint8_t *single, uint32_t a, uint32_t b)
{
	for (uint32_t i = a; i < b; i++)
		if (!single[i])
			return 1;
	for (uint32_t i = a; i < b; i++)
		out[i] = 'X';
	return 0;
}

int
text_scrub(enum text_cs cs, const uint8_t *v, uint32_t n,
    const struct text_ident *ids, size_t nids, uint8_t *out, uint8_t *scratch)
{
	uint8_t *start = scratch, *single = scratch + n;
	int whole = 0;

	memcpy(out, v, n);
	classify(cs, v, n, start, single);
	for (uint32_t i = 0; i < n; i++) {
		if (!start[i] || (i > 0 && is_word(v[i - 1])))
			continue;
		for (size_t k = 0; k < nids; k++) {
			uint32_t m = ids[k].n, j;

			if (m == 0 || m > n - i)
				continue;
			for (j = 0; j < m && lower(v[i + j]) == lower(ids[k].p[j]); j++)
				;
			/* Whole words only: "LI" must not hit "LIPOMA". */
			if (j != m || (i + m < n && (!start[i + m] ||
			    (is_word(v[i + m]) && is_word(ids[k].p[m - 1])))))
				continue;
			whole |= mask(out, single, i, i + m);
		}
		if (v[i] >= '0' && v[i] <= '9' && single[i]) {
			uint32_t j = i;

			while (j < n && v[j] >= '0' && v[j] <= '9' && single[j])
				j++;
			if (j - i >= 5)
				whole |= mask(out, single, i, j);
		}
	}
	return whole;
}

/* ---- dates ---- */

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long
days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static void
civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (long)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

static int
digits(const uint8_t *p, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	return 0;
}

static int
mdays(long y, unsigned m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : d[m - 1];
}

/* One date of precision 4 (YYYY), 6 (YYYYMM) or 8 (YYYYMMDD) digits at p,
 * shifted and written back with the same precision. */
static int
shift_date(const uint8_t *p, int prec, int days, uint8_t *out)
{
	unsigned y, m = 1, d = 1, nm, nd;
	long ny, z;
	char buf[16];

	if (digits(p, 4, &y) != 0 || (prec >= 6 && digits(p + 4, 2, &m) != 0) ||
	    (prec >= 8 && digits(p + 6, 2, &d) != 0))
		return -1;
	if (m < 1 || m > 12 || d < 1 || (int)d > mdays(y, m))
		return -1;
	z = days_from_civil(y, m, d) + days;
	civil_from_days(z, &ny, &nm, &nd);
	if (ny < 0 || ny > 9999)
		return -1;
	snprintf(buf, sizeof(buf), "%04ld%02u%02u", ny, nm, nd);
	memcpy(out, buf, (size_t)prec);
	return 0;
}

/* Shift the values of v (separated by '\'), each a date or a range "A-B"
 * (either side may be empty). DA: YYYYMMDD, or ACR-NEMA's YYYY.MM.DD
 * (written back as YYYYMMDD). DT: YYYY[MM[DD[time]]] and an optional UTC
 * offset &ZZXX, which is kept; only the date part moves. */
static long
shift_values(const uint8_t *v, uint32_t n, int days, uint8_t *out, int dt)
{
	const uint8_t *t;
	uint32_t tn, i = 0;
	long o = 0;

	dcm_trim(v, n, &t, &tn);
	v = t;
	n = tn;
	while (i < n) {
		uint32_t j = i, a;

		while (j < n && v[j] != '\\')
			j++;
		for (a = i; a < j;) {
			uint32_t b = a, end, len;
			unsigned hhmm;

			while (b < j && ((v[b] >= '0' && v[b] <= '9') || v[b] == '.'))
				b++;
			len = b - a;
			end = b;
			if (dt && b + 5 <= j && (v[b] == '+' || v[b] == '-') &&
			    digits(v + b + 1, 4, &hhmm) == 0 && hhmm / 100 <= 14 &&
			    hhmm % 100 < 60 && (b + 5 == j || v[b + 5] == '-'))
				end = b + 5; /* a UTC offset, not a range */
			if (len > 0) {
				if (!dt && len == 10 && v[a + 4] == '.' && v[a + 7] == '.') {
					uint8_t tmp[8];

					memcpy(tmp, v + a, 4);
					memcpy(tmp + 4, v + a + 5, 2);
					memcpy(tmp + 6, v + a + 8, 2);
					if (shift_date(tmp, 8, days, out + o) != 0)
						return -1;
					o += 8;
				} else {
					int prec = len >= 8 ? 8 : (int)len;

					if ((!dt && len != 8) || (prec != 4 && prec != 6 && prec != 8) ||
					    shift_date(v + a, prec, days, out + o) != 0)
						return -1;
					memcpy(out + o + prec, v + a + prec, end - a - (uint32_t)prec);
					o += end - a;
				}
			}
			a = end;
			if (a < j) {
				if (v[a] != '-')
					return -1;
				out[o++] = '-';
				a++;
			}
		}
		if (j < n)
			out[o++] = '\\';
		i = j + 1;
	}
	return o;
}

long
text_shift_da(const uint8_t *v, uint32_t n, int days, uint8_t *out)
{
	return shift_values(v, n, days, out, 0);
}

long
text_shift_dt(const uint8_t *v, uint32_t n, int days, uint8_t *out)
{
	return shift_values(v, n, days, out, 1);
}
