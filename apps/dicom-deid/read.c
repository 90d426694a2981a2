// SPDX-License-Identifier: Apache-2.0
// The DICOM Part 10 reader: preamble and meta (PS3.10 7.1), the transfer
// syntax (PS3.5 10), inflation of a deflated data set (PS3.5 A.5) within a
// limit, and one walker over the data set (PS3.5 7: elements, sequences
// and items of defined or undefined length at any depth, encapsulated pixel
// data, UN sequences). Every declared length is checked against the bytes
// left before anything is read; nesting and counts are capped; offsets and
// sizes are 64-bit. doc/apps/dicom-deid.md section 5 lists the refusals.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "coffer/error.h"
#include "dicom.h"

#define TS_IMPLICIT_LE "1.2.840.10008.1.2"
#define TS_EXPLICIT_LE "1.2.840.10008.1.2.1"
#define TS_EXPLICIT_BE "1.2.840.10008.1.2.2"
#define TS_DEFLATED "1.2.840.10008.1.2.1.99"

uint16_t
dcm_u16(const uint8_t *p, int big)
{
	return big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

uint32_t
dcm_u32(const uint8_t *p, int big)
{
	return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		   : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

void
dcm_trim(const uint8_t *p, uint32_t n, const uint8_t **out, uint32_t *outn)
{
	static const uint8_t empty[1];

	if (p == NULL) {
		/* An absent value: empty, never NULL (callers memcpy it). */
		*out = empty;
		*outn = 0;
		return;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0'))
		n--;
	while (n > 0 && p[0] == ' ') {
		p++;
		n--;
	}
	*out = p;
	*outn = n;
}

static int
errf(struct dcm_err *err, uint64_t off, int inflated, int code, const char *fmt, ...)
{
	va_list ap;

	err->off = off;
	err->inflated = inflated;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* A UID value: 1-64 characters of digits and dots (PS3.5 9.1). */
static int
copy_uid(const uint8_t *p, uint32_t n, char out[65])
{
	const uint8_t *v;
	uint32_t k;

	dcm_trim(p, n, &v, &k);
	if (k == 0 || k > 64)
		return -1;
	for (uint32_t i = 0; i < k; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || v[i] == '.'))
			return -1;
	memcpy(out, v, k);
	out[k] = '\0';
	return 0;
}

/* Guess the encoding of a data set without a (usable) transfer syntax from
 * its first element: an explicit VR has two upper-case letters of a known
 * VR at bytes 4-5; the byte order is the one that makes the group number
 * smaller (the first groups of a data set are 0008 and below). */
static enum dcm_syntax
guess_syntax(const uint8_t *p, uint64_t n)
{
	int long_len;

	if (n >= 8 && dd_vr_known(VR(p[4], p[5]), &long_len))
		return dcm_u16(p, 0) <= dcm_u16(p, 1) ? DCM_EXPLICIT_LE : DCM_EXPLICIT_BE;
	return DCM_IMPLICIT_LE;
}

static int
inflate_ds(const uint8_t *in, uint64_t n, uint64_t off, uint64_t max,
    struct dcm_file *f, struct dcm_err *err)
{
	z_stream z;
	uint8_t *buf = NULL;
	uint64_t cap = 0;
	int zr, r = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK) /* raw deflate, RFC 1951 */
		return errf(err, off, 0, COFFER_E_NOMEM, "zlib: cannot start inflating");
	z.next_in = (Bytef *)(uintptr_t)in;
	do {
		uint64_t left = n - (uint64_t)((const uint8_t *)z.next_in - in);

		z.avail_in = left > 0x40000000u ? 0x40000000u : (uInt)left;
		if (z.total_out == cap) {
			uint64_t ncap = cap ? cap * 2 : (n * 4 > 65536 ? n * 4 : 65536);
			uint8_t *nb;

			if (cap >= max) {
				r = errf(err, off, 0, COFFER_E_LIMIT, "the deflated data set"
				    " inflates to more than %llu bytes (max_inflate_bytes)",
				    (unsigned long long)max);
				goto out;
			}
			if (ncap > max)
				ncap = max;
			if ((nb = realloc(buf, ncap + 1)) == NULL) {
				r = errf(err, off, 0, COFFER_E_NOMEM, "out of memory inflating"
				    " %llu bytes", (unsigned long long)ncap);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		z.next_out = buf + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out > 0x40000000u ? 0x40000000u :
		    cap - z.total_out);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_BUF_ERROR && z.avail_in == 0 && z.avail_out > 0) {
			r = errf(err, off + (uint64_t)((const uint8_t *)z.next_in - in), 0,
			    COFFER_E_FORMAT, "the deflated data set is truncated");
			goto out;
		}
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			r = errf(err, off + (uint64_t)((const uint8_t *)z.next_in - in), 0,
			    COFFER_E_FORMAT, "the deflated data set is corrupt: %s",
			    z.msg ? z.msg : "zlib error");
			goto out;
		}
	} while (zr != Z_STREAM_END);
	f->inflated = buf;
	f->ds = buf;
	f->dslen = z.total_out;
	buf = NULL;
out:
	inflateEnd(&z);
	free(buf);
	return r;
}

int
dcm_open(const uint8_t *in, uint64_t len, const struct dcm_limits *lim,
    struct dcm_file *f, struct dcm_err *err)
{
	uint64_t pos = 0, dsoff;
	int have_ts = 0;

	memset(f, 0, sizeof(*f));
	if (len >= 132 && memcmp(in + 128, "DICM", 4) == 0) {
		/* PS3.10 7.1: group 0002, explicit VR little endian. */
		f->has_meta = 1;
		pos = 132;
		while (len - pos >= 8 && dcm_u16(in + pos, 0) == 0x0002) {
			uint32_t tag = TAG(0x0002, dcm_u16(in + pos + 2, 0)), vlen;
			uint16_t vr = VR(in[pos + 4], in[pos + 5]);
			int long_len;
			uint64_t hdr;

			if (!dd_vr_known(vr, &long_len))
				return errf(err, pos, 0, COFFER_E_FORMAT, "file meta element"
				    " (0002,%04X): VR bytes 0x%02x 0x%02x are not a VR (the meta"
				    " group must be explicit VR little endian)", TAG_ELEM(tag),
				    in[pos + 4], in[pos + 5]);
			if (long_len) {
				if (len - pos < 12)
					return errf(err, pos, 0, COFFER_E_FORMAT, "file meta"
					    " element (0002,%04X): truncated header", TAG_ELEM(tag));
				vlen = dcm_u32(in + pos + 8, 0);
				hdr = 12;
			} else {
				vlen = dcm_u16(in + pos + 6, 0);
				hdr = 8;
			}
			if (vlen == UNDEF_LEN || vlen > len - pos - hdr)
				return errf(err, pos, 0, COFFER_E_FORMAT, "file meta element"
				    " (0002,%04X) declares %u bytes but %llu are left",
				    TAG_ELEM(tag), vlen, (unsigned long long)(len - pos - hdr));
			pos += hdr;
			if (tag == TAG(0x0002, 0x0002) && copy_uid(in + pos, vlen, f->sop_class) != 0)
				f->sop_class[0] = '\0';
			if (tag == TAG(0x0002, 0x0003) && copy_uid(in + pos, vlen, f->sop_instance) != 0)
				f->sop_instance[0] = '\0';
			if (tag == TAG(0x0002, 0x0010)) {
				if (copy_uid(in + pos, vlen, f->ts_uid) != 0)
					return errf(err, pos, 0, COFFER_E_FORMAT, "the transfer"
					    " syntax (0002,0010) is not a UID");
				have_ts = 1;
			}
			pos += vlen;
		}
	}
	dsoff = pos;
	if (!have_ts) {
		/* No meta, or a meta without a transfer syntax: take the
		 * encoding the data set itself shows, and write it down. */
		f->syntax = guess_syntax(in + pos, len - pos);
		snprintf(f->ts_uid, sizeof(f->ts_uid), "%s", f->syntax == DCM_IMPLICIT_LE ?
		    TS_IMPLICIT_LE : f->syntax == DCM_EXPLICIT_BE ? TS_EXPLICIT_BE :
		    TS_EXPLICIT_LE);
	} else if (strcmp(f->ts_uid, TS_IMPLICIT_LE) == 0) {
		f->syntax = DCM_IMPLICIT_LE;
	} else if (strcmp(f->ts_uid, TS_EXPLICIT_BE) == 0) {
		f->syntax = DCM_EXPLICIT_BE;
	} else {
		/* Every other transfer syntax is explicit VR little endian
		 * (PS3.5 10); compressed ones differ in the pixel data only. */
		f->syntax = DCM_EXPLICIT_LE;
		f->deflated = strcmp(f->ts_uid, TS_DEFLATED) == 0;
	}
	if (f->deflated)
		return inflate_ds(in + pos, len - pos, pos, lim->max_inflated, f, err);
	f->ds = in + dsoff;
	f->dslen = len - dsoff;
	f->ds_off = dsoff;
	return 0;
}

void
dcm_file_release(struct dcm_file *f)
{
	free(f->inflated);
	f->inflated = NULL;
}

/* ---- the walker ---- */

struct walker {
	const struct dcm_file *f;
	const struct dcm_limits *lim;
	const struct dcm_visitor *v;
	struct dcm_err *err;
	const uint8_t *base;
	uint64_t count;
	int quiet; /* > 0 inside a sequence the visitor skips */
};

static int
fail(struct walker *w, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	w->err->off = w->f->inflated ? off : w->f->ds_off + off;
	w->err->inflated = w->f->inflated != NULL;
	va_start(ap, fmt);
	vsnprintf(w->err->msg, sizeof(w->err->msg), fmt, ap);
	va_end(ap);
	return COFFER_E_FORMAT;
}

static int
count_one(struct walker *w, uint64_t pos)
{
	if (++w->count > w->lim->max_elements)
		return fail(w, pos, "more than %llu elements and items (max_elements)",
		    (unsigned long long)w->lim->max_elements);
	return 0;
}

/* Element header at pos (bytes up to end are the container's). */
static int
read_header(struct walker *w, uint64_t pos, uint64_t end, int implicit, int big,
    struct dcm_el *e, uint64_t *hdr)
{
	const uint8_t *p = w->base + pos;
	int long_len;

	if (end - pos < 8)
		return fail(w, pos, "truncated element header: %llu bytes left",
		    (unsigned long long)(end - pos));
	memset(e, 0, sizeof(*e));
	e->tag = TAG(dcm_u16(p, big), dcm_u16(p + 2, big));
	e->off = pos;
	e->big = big;
	e->implicit = implicit;
	if (TAG_GROUP(e->tag) == 0xfffe || implicit) {
		e->len = dcm_u32(p + 4, big);
		e->vr = TAG_GROUP(e->tag) == 0xfffe ? 0 : dd_vr(e->tag);
		*hdr = 8;
	} else {
		e->vr = VR(p[4], p[5]);
		if (!dd_vr_known(e->vr, &long_len)) {
			return fail(w, pos, "element (%04X,%04X): VR bytes 0x%02x 0x%02x are"
			    " not a DICOM VR", TAG_GROUP(e->tag), TAG_ELEM(e->tag), p[4], p[5]);
		}
		if (long_len) {
			if (end - pos < 12)
				return fail(w, pos, "truncated element header: %llu bytes left",
				    (unsigned long long)(end - pos));
			e->len = dcm_u32(p + 8, big);
			*hdr = 12;
		} else {
			e->len = dcm_u16(p + 6, big);
			*hdr = 8;
		}
	}
	e->dvr = e->vr == VR('U', 'N') ? dd_vr(e->tag) : e->vr;
	if (e->len != UNDEF_LEN && e->len > end - pos - *hdr)
		return fail(w, pos, "element (%04X,%04X) declares %u bytes but %llu are"
		    " left", TAG_GROUP(e->tag), TAG_ELEM(e->tag), e->len,
		    (unsigned long long)(end - pos - *hdr));
	return 0;
}

static int walk_ds(struct walker *w, uint64_t pos, uint64_t end, int undefined,
    int implicit, int big, uint32_t depth, uint64_t *next);

/* The items of sequence e, whose value starts at pos. */
static int
walk_seq(struct walker *w, struct dcm_el *e, uint64_t pos, uint64_t end,
    uint64_t *next)
{
	int defined = e->len != UNDEF_LEN, r, descend = 1;
	int implicit = e->un_seq ? 1 : e->implicit, big = e->un_seq ? 0 : e->big;
	uint64_t seqend = defined ? pos + e->len : end;

	if (e->depth + 1 > w->lim->max_depth)
		return fail(w, e->off, "sequences nested deeper than %u (max_depth)",
		    w->lim->max_depth);
	if (!w->quiet && w->v->seq_begin && (r = w->v->seq_begin(w->v->arg, e, &descend)) != 0)
		return r;
	if (!descend)
		w->quiet++;
	for (;;) {
		uint32_t tag, ilen;
		uint64_t inext;

		if (defined && pos == seqend)
			break;
		if (seqend - pos < 8)
			return fail(w, pos, "sequence (%04X,%04X) ends %s an item header",
			    TAG_GROUP(e->tag), TAG_ELEM(e->tag), pos == seqend ?
			    "without a Sequence Delimitation Item, before" : "inside");
		tag = TAG(dcm_u16(w->base + pos, big), dcm_u16(w->base + pos + 2, big));
		ilen = dcm_u32(w->base + pos + 4, big);
		if (tag == TAG_SEQ_END) {
			if (defined)
				return fail(w, pos, "Sequence Delimitation Item inside the"
				    " defined-length sequence (%04X,%04X)", TAG_GROUP(e->tag),
				    TAG_ELEM(e->tag));
			if (ilen != 0)
				return fail(w, pos, "Sequence Delimitation Item with length %u",
				    ilen);
			pos += 8;
			break;
		}
		if (tag != TAG_ITEM)
			return fail(w, pos, "sequence (%04X,%04X): expected an Item"
			    " (FFFE,E000), found (%04X,%04X)", TAG_GROUP(e->tag),
			    TAG_ELEM(e->tag), TAG_GROUP(tag), TAG_ELEM(tag));
		if ((r = count_one(w, pos)) != 0)
			return r;
		if (ilen != UNDEF_LEN && ilen > seqend - pos - 8)
			return fail(w, pos, "item of sequence (%04X,%04X) declares %u bytes"
			    " but %llu are left", TAG_GROUP(e->tag), TAG_ELEM(e->tag), ilen,
			    (unsigned long long)(seqend - pos - 8));
		if (!w->quiet && w->v->item_begin && (r = w->v->item_begin(w->v->arg, e)) != 0)
			return r;
		if ((r = walk_ds(w, pos + 8, ilen == UNDEF_LEN ? seqend : pos + 8 + ilen,
		    ilen == UNDEF_LEN, implicit, big, e->depth + 1, &inext)) != 0)
			return r;
		if (!w->quiet && w->v->item_end && (r = w->v->item_end(w->v->arg, e)) != 0)
			return r;
		pos = inext;
	}
	if (!descend)
		w->quiet--;
	else if (!w->quiet && w->v->seq_end && (r = w->v->seq_end(w->v->arg, e)) != 0)
		return r;
	*next = pos;
	return 0;
}

/* Encapsulated pixel data (PS3.5 A.4): items of defined length (the basic
 * offset table, then the fragments), then a Sequence Delimitation Item. */
static int
walk_fragments(struct walker *w, struct dcm_el *e, uint64_t pos, uint64_t end,
    uint64_t *next)
{
	uint64_t start = pos;
	int r;

	for (;;) {
		uint32_t tag, flen;

		if (end - pos < 8)
			return fail(w, pos, "encapsulated pixel data ends without a Sequence"
			    " Delimitation Item");
		tag = TAG(dcm_u16(w->base + pos, e->big), dcm_u16(w->base + pos + 2, e->big));
		flen = dcm_u32(w->base + pos + 4, e->big);
		if (tag == TAG_SEQ_END) {
			if (flen != 0)
				return fail(w, pos, "Sequence Delimitation Item with length %u",
				    flen);
			pos += 8;
			break;
		}
		if (tag != TAG_ITEM)
			return fail(w, pos, "encapsulated pixel data: expected a fragment"
			    " item (FFFE,E000), found (%04X,%04X)", TAG_GROUP(tag),
			    TAG_ELEM(tag));
		if (flen == UNDEF_LEN || flen > end - pos - 8)
			return fail(w, pos, "pixel data fragment declares %u bytes but %llu"
			    " are left", flen, (unsigned long long)(end - pos - 8));
		if ((r = count_one(w, pos)) != 0)
			return r;
		pos += 8 + (uint64_t)flen;
	}
	e->encapsulated = 1;
	e->raw = w->base + start;
	e->rawlen = pos - start;
	*next = pos;
	return 0;
}

static int
walk_ds(struct walker *w, uint64_t pos, uint64_t end, int undefined,
    int implicit, int big, uint32_t depth, uint64_t *next)
{
	int r;

	for (;;) {
		struct dcm_el e;
		uint64_t hdr = 0, vnext = 0;

		if (pos == end) {
			if (undefined)
				return fail(w, pos, "item of undefined length ends without an"
				    " Item Delimitation Item");
			break;
		}
		if ((r = read_header(w, pos, end, implicit, big, &e, &hdr)) != 0)
			return r;
		e.depth = depth;
		if (e.tag == TAG_ITEM_END) {
			if (!undefined || depth == 0)
				return fail(w, pos, "Item Delimitation Item outside an item of"
				    " undefined length");
			if (e.len != 0)
				return fail(w, pos, "Item Delimitation Item with length %u", e.len);
			pos += 8;
			break;
		}
		if (TAG_GROUP(e.tag) == 0xfffe)
			return fail(w, pos, "(%04X,%04X) where a data element was expected",
			    TAG_GROUP(e.tag), TAG_ELEM(e.tag));
		if ((r = count_one(w, pos)) != 0)
			return r;
		if (e.vr == VR('S', 'Q') ||
		    (e.vr == VR('U', 'N') && !implicit &&
		    (e.len == UNDEF_LEN || dd_vr(e.tag) == VR('S', 'Q'))) ||
		    (implicit && e.len == UNDEF_LEN && e.tag != TAG_PIXEL_DATA)) {
			/* PS3.5 6.2.2: a UN of undefined length (or a standard
			 * sequence sent as UN) holds implicit VR little endian. */
			e.un_seq = e.vr == VR('U', 'N') && !implicit;
			if ((r = walk_seq(w, &e, pos + hdr, end, &vnext)) != 0)
				return r;
		} else if (e.len == UNDEF_LEN) {
			if (e.tag != TAG_PIXEL_DATA)
				return fail(w, pos, "element (%04X,%04X) VR %c%c has an undefined"
				    " length but is not a sequence or pixel data",
				    TAG_GROUP(e.tag), TAG_ELEM(e.tag), e.vr >> 8, e.vr & 0xff);
			if ((r = walk_fragments(w, &e, pos + hdr, end, &vnext)) != 0)
				return r;
			if (!w->quiet && w->v->element && (r = w->v->element(w->v->arg, &e)) != 0)
				return r;
		} else {
			e.val = w->base + pos + hdr;
			vnext = pos + hdr + e.len;
			if (!w->quiet && w->v->element && (r = w->v->element(w->v->arg, &e)) != 0)
				return r;
		}
		pos = vnext;
	}
	*next = pos;
	return 0;
}

int
dcm_walk(const struct dcm_file *f, const struct dcm_limits *lim,
    const struct dcm_visitor *v, struct dcm_err *err)
{
	struct walker w = { f, lim, v, err, f->ds, 0, 0 };
	uint64_t next;

	return walk_ds(&w, 0, f->dslen, 0, f->syntax == DCM_IMPLICIT_LE,
	    f->syntax == DCM_EXPLICIT_BE, 0, &next);
}
