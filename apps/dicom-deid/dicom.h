/* SPDX-License-Identifier: Apache-2.0 */
/* dicom-deid's inside: the generated tables, the DICOM Part 10 walker
 * (read.c), the writer (write.c), the keyed replacements (keys.c), text and
 * date cleaning (text.c) and the profile (deid.c). Specified in
 * doc/apps/dicom-deid.md. Nothing here is exported from the plugin. */
#ifndef DICOM_DEID_DICOM_H
#define DICOM_DEID_DICOM_H

#include <stddef.h>
#include <stdint.h>

#define VR(a, b) ((uint16_t)(((unsigned)(a) << 8) | (unsigned)(b)))
#define TAG(g, e) ((uint32_t)(((uint32_t)(g) << 16) | (uint32_t)(e)))
#define TAG_GROUP(t) ((uint16_t)((t) >> 16))
#define TAG_ELEM(t) ((uint16_t)((t) & 0xffffu))
#define UNDEF_LEN 0xffffffffu

#define TAG_ITEM TAG(0xfffe, 0xe000)
#define TAG_ITEM_END TAG(0xfffe, 0xe00d)
#define TAG_SEQ_END TAG(0xfffe, 0xe0dd)
#define TAG_PIXEL_DATA TAG(0x7fe0, 0x0010)

/* PS3.15 Table E.1-1a action codes, in the generator's order. */
enum dd_action {
	DD_A_NONE, DD_A_D, DD_A_Z, DD_A_X, DD_A_K, DD_A_C, DD_A_U,
	DD_A_ZD, DD_A_XZ, DD_A_XD, DD_A_XZD, DD_A_XZU,
};

/* Table E.1-1's action columns: 0 is the Basic Profile, 1-10 the options. */
enum dd_column {
	DD_COL_BASIC, DD_COL_SAFE_PRIVATE, DD_COL_UIDS, DD_COL_DEVICE,
	DD_COL_INSTITUTION, DD_COL_PATIENT_CHARS, DD_COL_FULL_DATES,
	DD_COL_MODIFIED_DATES, DD_COL_DESCRIPTORS, DD_COL_STRUCTURED,
	DD_COL_GRAPHICS, DD_NCOLS,
};

struct dd_dict_entry {
	uint32_t tag, mask;
	uint16_t vr;
};

struct dd_profile_entry {
	uint32_t tag, mask;
	uint8_t a[DD_NCOLS];
};

/* Generated (gen/gen_tables.c). */
extern const struct dd_dict_entry dd_dict[], dd_dict_masked[];
extern const size_t dd_dict_n, dd_dict_masked_n;
extern const struct dd_profile_entry dd_profile[], dd_profile_masked[];
extern const size_t dd_profile_n, dd_profile_masked_n;

/* dict.c: the PS3.6 VR of a tag for implicit VR (private creators LO,
 * group lengths UL, anything unknown UN); the Table E.1-1 row of a tag or
 * NULL. */
uint16_t dd_vr(uint32_t tag);
const struct dd_profile_entry *dd_profile_find(uint32_t tag);
/* 1 if vr is one of PS3.5 Table 6.2-1's VRs; 1 in *long_len if its explicit
 * header has the 4-byte length. */
int dd_vr_known(uint16_t vr, int *long_len);

/* ---- read.c: the Part 10 walker ---- */

/* Limits (doc/apps/dicom-deid.md "Limits"). */
struct dcm_limits {
	uint32_t max_depth;      /* sequence nesting */
	uint64_t max_elements;   /* elements + items, all levels */
	uint64_t max_inflated;   /* deflated data sets */
};

enum dcm_syntax { DCM_IMPLICIT_LE, DCM_EXPLICIT_LE, DCM_EXPLICIT_BE };

/* A parsed file: the meta facts and the data set to walk. */
struct dcm_file {
	enum dcm_syntax syntax;
	int deflated;
	int has_meta;            /* preamble + DICM + group 0002 */
	char ts_uid[65];         /* transfer syntax as written in the output */
	char sop_class[65];      /* (0002,0002), "" if absent */
	char sop_instance[65];   /* (0002,0003), "" if absent */
	const uint8_t *ds;       /* the data set (inflated if deflated) */
	uint64_t dslen;
	uint64_t ds_off;         /* file offset of ds (0 if inflated) */
	uint8_t *inflated;       /* owned; NULL unless deflated */
};

/* One element as the walker sees it. */
struct dcm_el {
	uint32_t tag;
	uint16_t vr;             /* explicit VR, or the dictionary's */
	uint16_t dvr;            /* what the value is: vr, or the dictionary's
				  * VR when vr is UN (PS3.5 6.2.2) */
	uint32_t len;            /* value length, or UNDEF_LEN */
	const uint8_t *val;      /* value (defined length, not a sequence) */
	uint64_t off;            /* offset of the header in the data set */
	uint32_t depth;          /* 0 = top-level data set */
	int big;                 /* this element's byte order */
	int implicit;            /* this element's encoding */
	int encapsulated;        /* pixel data in fragments */
	int un_seq;              /* a sequence written as UN (implicit LE inside) */
	const uint8_t *raw;      /* encapsulated: fragments + delimiter */
	uint64_t rawlen;
};

/* The visitor. Each returns 0 or a negative coffer error (with a message in
 * the walker's err). seq_begin sets *descend = 0 to have the sequence
 * skipped whole (it is still checked). NULL callbacks are skipped. */
struct dcm_visitor {
	int (*element)(void *arg, const struct dcm_el *e);
	int (*seq_begin)(void *arg, const struct dcm_el *e, int *descend);
	int (*seq_end)(void *arg, const struct dcm_el *e);
	int (*item_begin)(void *arg, const struct dcm_el *seq);
	int (*item_end)(void *arg, const struct dcm_el *seq);
	void *arg;
};

struct dcm_err {
	uint64_t off;            /* file offset (or inflated offset) */
	int inflated;            /* off is inside the inflated data set */
	char msg[256];
};

/* Parse the preamble, meta and transfer syntax of in[0..len) (inflating a
 * deflated data set within the limit). 0, or COFFER_E_FORMAT / _LIMIT /
 * _NOMEM with err set. dcm_file_release() frees what it holds. */
int dcm_open(const uint8_t *in, uint64_t len, const struct dcm_limits *lim,
    struct dcm_file *f, struct dcm_err *err);
void dcm_file_release(struct dcm_file *f);

/* Walk the whole data set, checking every length against the bytes left,
 * nesting and counts, and call the visitor. */
int dcm_walk(const struct dcm_file *f, const struct dcm_limits *lim,
    const struct dcm_visitor *v, struct dcm_err *err);

/* Helpers for values. */
uint16_t dcm_u16(const uint8_t *p, int big);
uint32_t dcm_u32(const uint8_t *p, int big);
/* A string value without trailing spaces and NULs (and leading spaces
 * unless keep_lead). */
void dcm_trim(const uint8_t *p, uint32_t n, const uint8_t **out, uint32_t *outn);

/* ---- write.c: the output ---- */
struct dcm_sink;
struct coffer_app_writer;

/* Writes to w through a 64 KiB buffer; deflated: raw deflate (PS3.5 A.5)
 * of everything put after dcm_sink_start_deflate(). */
int dcm_sink_new(struct coffer_app_writer *w, struct dcm_sink **out);
void dcm_sink_free(struct dcm_sink *s);
int dcm_sink_put(struct dcm_sink *s, const void *p, size_t n);
int dcm_sink_start_deflate(struct dcm_sink *s);
int dcm_sink_finish(struct dcm_sink *s);
/* Element header in the syntax given (vr ignored when implicit). */
int dcm_put_header(struct dcm_sink *s, uint32_t tag, uint16_t vr, uint32_t len,
    int implicit, int big);
/* A whole element with its value, padded to even length with the padding
 * byte of pad_vr (the value's VR: a UN element may hold text). */
int dcm_put_element(struct dcm_sink *s, uint32_t tag, uint16_t vr, uint16_t pad_vr,
    const void *val, size_t n, int implicit, int big);
/* The preamble (zeroed), "DICM" and a new group 0002. */
int dcm_put_meta(struct dcm_sink *s, const char *sop_class,
    const char *sop_instance, const char *ts_uid);

#define DEID_IMPL_CLASS_UID "2.25.221123292181663217121525230880154382441"
#define DEID_IMPL_VERSION "COFFER_DEID_1"

#endif
