// SPDX-License-Identifier: Apache-2.0
// pooled-stats: the map output format (doc/apps/pooled-stats.md section
// 5): little-endian integers, IEEE 754 doubles, LEB128 varints; and its
// reader, which applies reject rules M1-M9 of section 5.2 to every byte,
// since a map output is input to the reduce stage like any other.
#include <math.h>
#include <string.h>

#include "ps.h"

void
ps_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void
ps_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void
ps_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int
ps_put_f64(struct ps_buf *b, double v)
{
	uint8_t p[8];
	uint64_t bits;

	memcpy(&bits, &v, 8);
	ps_put_u64(p, bits);
	return ps_buf_put(b, p, 8);
}

int
ps_put_varint(struct ps_buf *b, uint64_t v)
{
	uint8_t p[10];
	size_t n = 0;

	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	return ps_buf_put(b, p, n);
}

double
ps_decimal_value(int64_t m, int e)
{
	static const double p10[23] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
	    1e20, 1e21, 1e22 };

	return e >= 0 ? (double)m * p10[e] : (double)m / p10[-e];
}

/* Rule M7: at most 10 bytes, the last one not 0 unless it is the only
 * one (canonical), no bits beyond 64. */
static int
get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t x = 0;

	for (int i = 0; i < 10; i++) {
		uint8_t c;

		if (*pos >= len)
			return -1;
		c = p[(*pos)++];
		if (i == 9 && c > 1)
			return -1;
		x |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			if (c == 0 && i > 0)
				return -1;
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* Section 5.2, M1-M5 and M9. */
int
ps_item_parse(const struct ps_config *c, const uint8_t *in, size_t inlen,
    struct ps_item *it, char *err, size_t errlen)
{
	size_t pos = 0, slen, olen;

	memset(it, 0, sizeof(*it));
	if (inlen < PS_MAGIC_LEN + 4 + 1 + 16 || memcmp(in, PS_MAGIC, PS_MAGIC_LEN) != 0)
		return ps_errf(err, errlen, COFFER_E_FORMAT, "not a pooled-stats map"
		    " output (M1)");
	pos = PS_MAGIC_LEN;
	slen = get_u32(in + pos);
	pos += 4;
	if (slen > inlen - pos - 1 - 16 || slen != c->schema.canonlen ||
	    memcmp(in + pos, c->schema.canon, slen) != 0)
		return ps_errf(err, errlen, COFFER_E_FORMAT, "made with another schema"
		    " than this reduce's (M2): run the map and the reduce with the"
		    " same schema parameter");
	pos += slen;
	olen = in[pos++];
	if (olen > PS_OWNER_MAX || olen > inlen - pos - 16)
		return ps_errf(err, errlen, COFFER_E_FORMAT, "owner field of %zu bytes"
		    " (M3)", olen);
	for (size_t i = 0; i < olen; i++)
		if (in[pos + i] <= 0x20 || in[pos + i] >= 0x7f)
			return ps_errf(err, errlen, COFFER_E_FORMAT, "owner name is not"
			    " printable ASCII (M3)");
	memcpy(it->owner, in + pos, olen);
	it->owner[olen] = '\0';
	it->has_owner = olen > 0;
	pos += olen;
	it->cells = in + pos;
	it->cellslen = inlen - pos - 16;
	it->rows = get_u64(in + inlen - 16);
	it->dropped = get_u64(in + inlen - 8);
	/* M4: every stored cell takes one byte at least. */
	if (it->rows > it->cellslen / (uint64_t)c->schema.nstored ||
	    it->dropped > ((uint64_t)1 << 53))
		return ps_errf(err, errlen, COFFER_E_FORMAT, "row counts do not fit"
		    " the output's size (M4)");
	return 0;
}

/* zigzag: 0, -1, 1, -2, ... <- 0, 1, 2, 3, ... */
static int64_t
unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Section 5.2, M5-M8. */
int
ps_item_next_row(const struct ps_config *c, const struct ps_item *it,
    size_t *pos, double *row, char *err, size_t errlen)
{
	const struct ps_schema *s = &c->schema;

	for (int k = 0; k < s->nstored; k++) {
		const struct ps_column *col = &s->cols[s->stored_to_col[k]];
		uint64_t u;
		double v;

		if (col->type == PS_NUM) {
			uint64_t h;

			if (get_varint(it->cells, it->cellslen, pos, &h) != 0)
				return ps_errf(err, errlen, COFFER_E_FORMAT, "a malformed"
				    " varint cell (M7)");
			if (h == 0) {
				if (it->cellslen - *pos < 8)
					return ps_errf(err, errlen, COFFER_E_FORMAT, "rows end"
					    " inside a cell (M5)");
				u = get_u64(it->cells + *pos);
				*pos += 8;
				memcpy(&v, &u, 8);
				if (!isfinite(v))
					return ps_errf(err, errlen, COFFER_E_FORMAT, "a num"
					    " cell is not finite (M6)");
			} else {
				int64_t e = unzigzag(h - 1), m;

				if (get_varint(it->cells, it->cellslen, pos, &u) != 0)
					return ps_errf(err, errlen, COFFER_E_FORMAT, "a"
					    " malformed varint cell (M7)");
				m = unzigzag(u);
				if (e < -22 || e > 22 || m > ((int64_t)1 << 53) ||
				    m < -((int64_t)1 << 53))
					return ps_errf(err, errlen, COFFER_E_FORMAT, "a decimal"
					    " num cell out of its range (M6)");
				v = ps_decimal_value(m, (int)e);
			}
		} else {
			if (get_varint(it->cells, it->cellslen, pos, &u) != 0)
				return ps_errf(err, errlen, COFFER_E_FORMAT, "a malformed"
				    " varint cell (M7)");
			if (col->type == PS_CAT) {
				if (u >= (uint64_t)col->nlevels)
					return ps_errf(err, errlen, COFFER_E_FORMAT, "a cat cell"
					    " names level %llu of %d (M6)",
					    (unsigned long long)u, col->nlevels);
				v = (double)u;
			} else {
				v = (double)unzigzag(u);
				if (fabs(v) > PS_INT_LIMIT)
					return ps_errf(err, errlen, COFFER_E_FORMAT, "an int"
					    " cell beyond 2^53 (M6)");
			}
		}
		if ((col->has_lo && v < col->lo) || (col->has_hi && v > col->hi))
			return ps_errf(err, errlen, COFFER_E_FORMAT, "a cell outside its"
			    " column's range (M6)");
		row[k] = v;
	}
	return 0;
}
