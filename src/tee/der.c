// SPDX-License-Identifier: Apache-2.0
// A minimal DER reader (ITU-T X.690) for the certificate extensions Intel
// and AMD define. Only what those need: one-byte tags, definite lengths,
// non-negative INTEGERs. Everything is bounds-checked; lengths are never
// trusted beyond the bytes that are there.
#include "coffer/error.h"
#include "tee/tee_int.h"

void
tee_der_init(struct tee_der *d, const uint8_t *p, size_t len)
{
	d->p = p;
	d->len = len;
	d->off = 0;
}

int
tee_der_next(struct tee_der *d, uint8_t *tag, const uint8_t **val, size_t *vlen)
{
	size_t off = d->off, n;
	uint8_t t, l;

	if (d->len - off < 2)
		return coffer_errf(COFFER_E_FORMAT, "DER: truncated at offset %zu", off);
	t = d->p[off++];
	if ((t & 0x1f) == 0x1f)
		return coffer_errf(COFFER_E_FORMAT, "DER: high tag number at offset %zu",
		    off - 1);
	l = d->p[off++];
	if (l < 0x80) {
		n = l;
	} else {
		size_t nb = l & 0x7f;

		/* 0x80 is the indefinite form (BER only); more than 4 length
		 * bytes is more than any certificate holds. */
		if (nb == 0 || nb > 4)
			return coffer_errf(COFFER_E_FORMAT, "DER: bad length form 0x%02x "
			    "at offset %zu", l, off - 1);
		if (d->len - off < nb)
			return coffer_errf(COFFER_E_FORMAT, "DER: truncated length at "
			    "offset %zu", off);
		n = 0;
		for (size_t i = 0; i < nb; i++)
			n = n << 8 | d->p[off++];
	}
	if (n > d->len - off)
		return coffer_errf(COFFER_E_FORMAT, "DER: value of %zu bytes at offset "
		    "%zu runs past the end (%zu)", n, off, d->len);
	*tag = t;
	*val = d->p + off;
	*vlen = n;
	d->off = off + n;
	return 0;
}

int
tee_der_expect(struct tee_der *d, uint8_t tag, const uint8_t **val, size_t *vlen)
{
	size_t off = d->off;
	uint8_t t;
	int r;

	if ((r = tee_der_next(d, &t, val, vlen)) != 0)
		return r;
	if (t != tag) {
		d->off = off;
		return coffer_errf(COFFER_E_FORMAT, "DER: tag 0x%02x at offset %zu, "
		    "expected 0x%02x", t, off, tag);
	}
	return 0;
}

int
tee_der_uint(const uint8_t *val, size_t vlen, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (vlen == 0)
		return coffer_errf(COFFER_E_FORMAT, "DER: empty INTEGER");
	if (val[0] & 0x80)
		return coffer_errf(COFFER_E_FORMAT, "DER: negative INTEGER");
	/* Skip the sign byte of a value with its top bit set. */
	while (vlen > 1 && val[0] == 0) {
		val++;
		vlen--;
	}
	if (vlen > 8)
		return coffer_errf(COFFER_E_FORMAT, "DER: INTEGER of %zu bytes", vlen);
	for (size_t i = 0; i < vlen; i++)
		x = x << 8 | val[i];
	if (x > max)
		return coffer_errf(COFFER_E_FORMAT, "DER: INTEGER %llu exceeds %llu",
		    (unsigned long long)x, (unsigned long long)max);
	*out = x;
	return 0;
}
