// SPDX-License-Identifier: Apache-2.0
// The writer: element headers in the input's own encoding (values are never
// converted), even-length padding (PS3.5 7.1.1), a new file meta group
// (PS3.10 7.1) after a zeroed preamble, and a raw-deflate stream for the
// deflated transfer syntax (PS3.5 A.5). Output goes to the worker's writer
// through a 64 KiB buffer; large values (pixel data) go straight through.
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "dicom.h"

#define SINK_BUF 65536

struct dcm_sink {
	struct coffer_app_writer *w;
	uint8_t buf[SINK_BUF];
	size_t n;
	int deflating;
	z_stream z;
	uint8_t zbuf[SINK_BUF];
};

int
dcm_sink_new(struct coffer_app_writer *w, struct dcm_sink **out)
{
	struct dcm_sink *s = malloc(sizeof(*s));

	if (s == NULL)
		return COFFER_E_NOMEM;
	s->w = w;
	s->n = 0;
	s->deflating = 0;
	*out = s;
	return 0;
}

void
dcm_sink_free(struct dcm_sink *s)
{
	if (s == NULL)
		return;
	if (s->deflating)
		deflateEnd(&s->z);
	free(s);
}

/* Bytes to the worker, deflated or not; finish ends the deflate stream. */
static int
emit(struct dcm_sink *s, const uint8_t *p, size_t n, int finish)
{
	int r;

	if (!s->deflating)
		return n ? s->w->write(s->w, p, n) : 0;
	do {
		size_t chunk = n > 0x40000000u ? 0x40000000u : n;
		int last = finish && chunk == n, zr;

		s->z.next_in = (Bytef *)(uintptr_t)p;
		s->z.avail_in = (uInt)chunk;
		do {
			s->z.next_out = s->zbuf;
			s->z.avail_out = sizeof(s->zbuf);
			zr = deflate(&s->z, last ? Z_FINISH : Z_NO_FLUSH);
			if (zr == Z_STREAM_ERROR)
				return COFFER_E_APP;
			if (sizeof(s->zbuf) - s->z.avail_out > 0 &&
			    (r = s->w->write(s->w, s->zbuf, sizeof(s->zbuf) - s->z.avail_out)) != 0)
				return r;
		} while (s->z.avail_out == 0 || (last && zr != Z_STREAM_END));
		p += chunk;
		n -= chunk;
	} while (n > 0);
	return 0;
}

static int
flush_buf(struct dcm_sink *s)
{
	int r = emit(s, s->buf, s->n, 0);

	s->n = 0;
	return r;
}

int
dcm_sink_put(struct dcm_sink *s, const void *p, size_t n)
{
	int r;

	if (s->n + n <= sizeof(s->buf)) {
		memcpy(s->buf + s->n, p, n);
		s->n += n;
		return 0;
	}
	if ((r = flush_buf(s)) != 0)
		return r;
	if (n <= sizeof(s->buf)) {
		memcpy(s->buf, p, n);
		s->n = n;
		return 0;
	}
	return emit(s, p, n, 0);
}

int
dcm_sink_start_deflate(struct dcm_sink *s)
{
	int r;

	if ((r = flush_buf(s)) != 0)
		return r;
	memset(&s->z, 0, sizeof(s->z));
	if (deflateInit2(&s->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return COFFER_E_NOMEM;
	s->deflating = 1;
	return 0;
}

int
dcm_sink_finish(struct dcm_sink *s)
{
	int r;

	if ((r = flush_buf(s)) != 0)
		return r;
	return s->deflating ? emit(s, NULL, 0, 1) : 0;
}

static void
put16(uint8_t *p, uint16_t v, int big)
{
	if (big) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	} else {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	}
}

static void
put32(uint8_t *p, uint32_t v, int big)
{
	put16(p, (uint16_t)(big ? v >> 16 : v), big);
	put16(p + 2, (uint16_t)(big ? v : v >> 16), big);
}

int
dcm_put_header(struct dcm_sink *s, uint32_t tag, uint16_t vr, uint32_t len,
    int implicit, int big)
{
	uint8_t h[12];
	int long_len = 1;

	put16(h, TAG_GROUP(tag), big);
	put16(h + 2, TAG_ELEM(tag), big);
	if (implicit || TAG_GROUP(tag) == 0xfffe) {
		put32(h + 4, len, big);
		return dcm_sink_put(s, h, 8);
	}
	if (!dd_vr_known(vr, &long_len))
		return COFFER_E_APP;
	h[4] = (uint8_t)(vr >> 8);
	h[5] = (uint8_t)vr;
	if (!long_len) {
		if (len > 0xffffu)
			return COFFER_E_LIMIT;
		put16(h + 6, (uint16_t)len, big);
		return dcm_sink_put(s, h, 8);
	}
	h[6] = h[7] = 0;
	put32(h + 8, len, big);
	return dcm_sink_put(s, h, 12);
}

/* PS3.5 6.2: UI values are padded with NUL, other strings with a space,
 * binary values with 0. */
static uint8_t
pad_byte(uint16_t vr)
{
	switch (vr) {
	case VR('U', 'I'): case VR('O', 'B'): case VR('O', 'W'): case VR('O', 'D'):
	case VR('O', 'F'): case VR('O', 'L'): case VR('O', 'V'): case VR('U', 'N'):
		return 0;
	default:
		return ' ';
	}
}

int
dcm_put_element(struct dcm_sink *s, uint32_t tag, uint16_t vr, uint16_t pad_vr,
    const void *val, size_t n, int implicit, int big)
{
	int odd = n & 1, r;
	uint8_t pad = pad_byte(pad_vr);

	if (n > 0xfffffffdu)
		return COFFER_E_LIMIT;
	if ((r = dcm_put_header(s, tag, vr, (uint32_t)(n + (size_t)odd), implicit, big)) != 0 ||
	    (n > 0 && (r = dcm_sink_put(s, val, n)) != 0))
		return r;
	return odd ? dcm_sink_put(s, &pad, 1) : 0;
}

int
dcm_put_meta(struct dcm_sink *s, const char *sop_class,
    const char *sop_instance, const char *ts_uid)
{
	static const uint8_t zeros[128];
	static const uint8_t version[2] = { 0x00, 0x01 };
	uint32_t glen = 0;
	uint8_t ul[4];
	const struct {
		uint16_t el, vr;
		const void *v;
		size_t n;
	} m[] = {
		{ 0x0001, VR('O', 'B'), version, 2 },
		{ 0x0002, VR('U', 'I'), sop_class, strlen(sop_class) },
		{ 0x0003, VR('U', 'I'), sop_instance, strlen(sop_instance) },
		{ 0x0010, VR('U', 'I'), ts_uid, strlen(ts_uid) },
		{ 0x0012, VR('U', 'I'), DEID_IMPL_CLASS_UID, strlen(DEID_IMPL_CLASS_UID) },
		{ 0x0013, VR('S', 'H'), DEID_IMPL_VERSION, strlen(DEID_IMPL_VERSION) },
	};
	int r;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (m[i].n > 0)
			glen += (m[i].vr == VR('O', 'B') ? 12 : 8) + (uint32_t)((m[i].n + 1) & ~(size_t)1);
	if ((r = dcm_sink_put(s, zeros, sizeof(zeros))) != 0 ||
	    (r = dcm_sink_put(s, "DICM", 4)) != 0)
		return r;
	put32(ul, glen, 0);
	if ((r = dcm_put_element(s, TAG(0x0002, 0x0000), VR('U', 'L'), VR('U', 'L'), ul, 4, 0, 0)) != 0)
		return r;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (m[i].n > 0 && (r = dcm_put_element(s, TAG(0x0002, m[i].el), m[i].vr,
		    m[i].vr, m[i].v, m[i].n, 0, 0)) != 0)
			return r;
	return 0;
}
