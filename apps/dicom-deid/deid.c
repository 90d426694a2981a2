// SPDX-License-Identifier: Apache-2.0
// One file through the PS3.15 Basic Application Level Confidentiality
// Profile (Annex E): a first walk checks the whole file and collects what
// the second needs (patient key, modality, burned-in flag, identifiers to
// scrub); nothing is written unless it succeeds. The second walk writes the
// new file: a zeroed preamble, a new meta group, and every element with the
// action of Table E.1-1 and the options in use, at every depth
// (doc/apps/dicom-deid.md sections 3 and 4).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "deid.h"

#define MAX_IDS 128

struct val {
	const uint8_t *p;
	uint32_t n;
};

/* What the first walk learns from the top-level data set. */
struct facts {
	struct val patient_id, issuer, patient_name, modality, burned_in;
	struct val sop_class, sop_instance;
	int has_pixels;
	struct text_ident ids[MAX_IDS];
	size_t nids;
};

/* Attributes whose values are looked for in free text that is cleaned
 * (C): names split into components, the others whole. */
static const struct {
	uint32_t tag;
	int name;
} ident_tags[] = {
	{ TAG(0x0008, 0x0050), 0 }, { TAG(0x0008, 0x0080), 0 }, { TAG(0x0008, 0x0081), 0 },
	{ TAG(0x0008, 0x0090), 1 }, { TAG(0x0008, 0x1010), 0 }, { TAG(0x0008, 0x1048), 1 },
	{ TAG(0x0008, 0x1050), 1 }, { TAG(0x0008, 0x1060), 1 }, { TAG(0x0008, 0x1070), 1 },
	{ TAG(0x0010, 0x0010), 1 }, { TAG(0x0010, 0x0020), 0 }, { TAG(0x0010, 0x1000), 0 },
	{ TAG(0x0010, 0x1001), 1 }, { TAG(0x0010, 0x1005), 1 }, { TAG(0x0010, 0x1040), 0 },
	{ TAG(0x0010, 0x1060), 1 }, { TAG(0x0010, 0x2154), 0 }, { TAG(0x0018, 0x1000), 0 },
	{ TAG(0x0020, 0x0010), 0 }, { TAG(0x0032, 0x1032), 1 },
};

static void
add_idents(struct facts *fx, const uint8_t *p, uint32_t n, int name)
{
	uint32_t a = 0;

	for (uint32_t i = 0; i <= n; i++) {
		int sep = i == n || p[i] == '\\' || (name && (p[i] == '^' || p[i] == '='));
		const uint8_t *t;
		uint32_t tn;

		if (!sep)
			continue;
		dcm_trim(p + a, i - a, &t, &tn);
		if (tn >= (name ? 2u : 3u) && fx->nids < MAX_IDS) {
			fx->ids[fx->nids].p = t;
			fx->ids[fx->nids].n = tn;
			fx->nids++;
		}
		a = i + 1;
	}
}

static int
facts_element(void *arg, const struct dcm_el *e)
{
	struct facts *fx = arg;
	struct val v = { e->val, e->len };

	if (e->depth != 0)
		return 0;
	switch (e->tag) {
	case TAG(0x0010, 0x0020): fx->patient_id = v; break;
	case TAG(0x0010, 0x0021): fx->issuer = v; break;
	case TAG(0x0010, 0x0010): fx->patient_name = v; break;
	case TAG(0x0008, 0x0060): fx->modality = v; break;
	case TAG(0x0028, 0x0301): fx->burned_in = v; break;
	case TAG(0x0008, 0x0016): fx->sop_class = v; break;
	case TAG(0x0008, 0x0018): fx->sop_instance = v; break;
	case TAG_PIXEL_DATA: fx->has_pixels = 1; break;
	default: break;
	}
	if (e->val != NULL)
		for (size_t i = 0; i < sizeof(ident_tags) / sizeof(ident_tags[0]); i++)
			if (ident_tags[i].tag == e->tag)
				add_idents(fx, e->val, e->len, ident_tags[i].name);
	return 0;
}

/* ---- the second walk ---- */

/* Private creators of the group being read, per data set (PS3.5 7.8.1):
 * elements come in tag order, so one group at a time is enough. */
struct level {
	enum text_cs cs;
	uint16_t group;
	struct val creator[256];
};

/* Elements the app writes at the top level, in tag order (PS3.15 E.1.1). */
enum { INS_IDENTITY_REMOVED, INS_METHOD, INS_METHOD_CODES, INS_LONGITUDINAL, INS_N };
static const uint32_t ins_tags[INS_N] = {
	TAG(0x0012, 0x0062), TAG(0x0012, 0x0063), TAG(0x0012, 0x0064), TAG(0x0028, 0x0303),
};

struct wr {
	const struct deid_config *c;
	const struct dcm_file *f;
	const struct facts *fx;
	struct dcm_sink *s;
	int days;
	char pseudonym[80];
	int ins_done;
	uint32_t depth;
	struct level *lv;      /* max_depth + 1 of them */
	uint8_t *buf;          /* scratch for one value */
	size_t bufcap;
	char msg[256];
};

static uint8_t *
scratch(struct wr *w, size_t n)
{
	if (n > w->bufcap) {
		uint8_t *b = realloc(w->buf, n);

		if (b == NULL)
			return NULL;
		w->buf = b;
		w->bufcap = n;
	}
	return w->buf;
}

/* The action for a standard (even-group) attribute: Table E.1-1's Basic
 * Profile code, replaced by the code of an option in use (K before C when
 * two options disagree: the user asked to retain), then a compound code
 * resolved by the conformance parameter. Attributes outside the table are
 * kept, except Coffer's additions: Text Value is cleaned and other dates
 * follow the date option. */
static enum dd_action
resolve(const struct deid_config *c, uint32_t tag, uint16_t vr)
{
	const struct dd_profile_entry *p = dd_profile_find(tag);
	enum dd_action a;

	if (p == NULL) {
		if (tag == TAG(0x0040, 0xa160))
			return DD_A_C;
		if (vr == VR('D', 'A') || vr == VR('D', 'T'))
			return c->dates == DEID_DATES_FULL ? DD_A_K :
			    c->dates == DEID_DATES_MODIFIED ? DD_A_C : c->strict ? DD_A_X : DD_A_D;
		return DD_A_K;
	}
	a = p->a[DD_COL_BASIC];
	for (int col = 1, c_seen = 0; col < DD_NCOLS; col++) {
		if (!c->opt[col] || p->a[col] == DD_A_NONE)
			continue;
		if (p->a[col] == DD_A_K) {
			a = DD_A_K;
			break;
		}
		if (!c_seen) {
			a = p->a[col];
			c_seen = 1;
		}
	}
	switch (a) {
	case DD_A_ZD: return c->strict ? DD_A_Z : DD_A_D;
	case DD_A_XZ: return c->strict ? DD_A_X : DD_A_Z;
	case DD_A_XD: return c->strict ? DD_A_X : DD_A_D;
	case DD_A_XZD: return c->strict ? DD_A_X : DD_A_D;
	case DD_A_XZU: return c->strict ? DD_A_X : DD_A_K;
	default: return a;
	}
}

/* Private attributes: removed, unless the Retain Safe Private Option's
 * allow-list names the creator and element (PS3.15 E.3.10). */
static enum dd_action
resolve_private(struct wr *w, const struct dcm_el *e)
{
	struct level *l = &w->lv[w->depth];
	uint16_t g = TAG_GROUP(e->tag), el = TAG_ELEM(e->tag);
	const uint8_t *cr;
	uint32_t crn;

	if (l->group != g) {
		memset(l->creator, 0, sizeof(l->creator));
		l->group = g;
	}
	if (el >= 0x0010 && el <= 0x00ff && e->val != NULL) {
		l->creator[el].p = e->val;
		l->creator[el].n = e->len;
	}
	if (!w->c->opt[DD_COL_SAFE_PRIVATE] || el < 0x0010)
		return DD_A_X;
	if (el <= 0x00ff) {
		if (e->val == NULL)
			return DD_A_X; /* a "creator" read as a sequence */
		dcm_trim(e->val, e->len, &cr, &crn);
	} else {
		if (l->creator[el >> 8].p == NULL)
			return DD_A_X; /* no creator: nobody can say what it is */
		dcm_trim(l->creator[el >> 8].p, l->creator[el >> 8].n, &cr, &crn);
	}
	for (size_t i = 0; i < w->c->nsafe; i++) {
		const struct deid_safe_private *s = &w->c->safe[i];

		if (s->group != g || s->creator_len != crn || memcmp(s->creator, cr, crn) != 0)
			continue;
		if (el <= 0x00ff || s->any_elem || s->elem == (el & 0xff))
			return DD_A_K;
	}
	return DD_A_X;
}

static enum dd_action
action_for(struct wr *w, const struct dcm_el *e)
{
	uint16_t el = TAG_ELEM(e->tag);

	if (TAG_GROUP(e->tag) & 1)
		return resolve_private(w, e);
	/* Group lengths (their groups change size), Length to End, and meta
	 * elements inside the data set are dropped; the meta is new. */
	if (el == 0x0000 || e->tag == TAG(0x0008, 0x0001) || TAG_GROUP(e->tag) == 0x0002)
		return DD_A_X;
	if (e->depth == 0)
		for (int i = 0; i < INS_N; i++)
			if (e->tag == ins_tags[i])
				return DD_A_X; /* replaced by ours */
	return resolve(w->c, e->tag, e->dvr);
}

static int
put_el(struct wr *w, const struct dcm_el *e, const void *v, size_t n)
{
	return dcm_put_element(w->s, e->tag, e->vr, e->dvr, v, n, e->implicit, e->big);
}

/* New UIDs for each value of a UI element (PS3.15 E.1.1: U, consistent
 * across the instances: keyed by the old UID alone). */
static int
put_uids(struct wr *w, const struct dcm_el *e)
{
	uint8_t *out = scratch(w, ((size_t)e->len / 2 + 2) * 45);
	size_t o = 0;
	uint32_t a = 0;
	int r;

	if (out == NULL)
		return COFFER_E_NOMEM;
	for (uint32_t i = 0; i <= e->len; i++) {
		const uint8_t *t;
		uint32_t tn;
		char uid[65];

		if (i < e->len && e->val[i] != '\\')
			continue;
		dcm_trim(e->val + a, i - a, &t, &tn);
		if (o > 0)
			out[o++] = '\\';
		if (tn > 0) {
			if ((r = deid_new_uid(&w->c->keys, t, tn, uid)) != 0)
				return r;
			memcpy(out + o, uid, strlen(uid));
			o += strlen(uid);
		}
		a = i + 1;
	}
	if (o == 0 && (r = deid_new_uid(&w->c->keys, (const uint8_t *)"", 0,
	    (char *)out)) == 0)
		o = strlen((char *)out); /* D on an empty UID: still non-empty */
	return put_el(w, e, out, o);
}

/* PS3.15 Table E.1-1a D: a dummy value of the VR. */
static int
put_dummy(struct wr *w, const struct dcm_el *e)
{
	static const uint8_t zeros[8];
	const char *s;
	size_t n = 0;

	switch (e->dvr) {
	case VR('A', 'E'): s = "ANONYMOUS"; break;
	case VR('A', 'S'): s = "000Y"; break;
	case VR('C', 'S'): s = "ANONYMIZED"; break;
	case VR('D', 'A'): s = "19000101"; break;
	case VR('D', 'T'): s = "19000101000000"; break;
	case VR('T', 'M'): s = "000000"; break;
	case VR('D', 'S'): case VR('I', 'S'): s = "0"; break;
	case VR('U', 'R'): s = "urn:oid:2.25.0"; break;
	case VR('U', 'I'): return put_uids(w, e);
	case VR('L', 'O'): case VR('L', 'T'): case VR('P', 'N'): case VR('S', 'H'):
	case VR('S', 'T'): case VR('U', 'C'): case VR('U', 'T'):
		s = "ANONYMIZED";
		break;
	case VR('S', 'S'): case VR('U', 'S'): case VR('O', 'B'): case VR('O', 'W'):
	case VR('U', 'N'):
		n = 2;
		s = (const char *)zeros;
		break;
	case VR('F', 'D'): case VR('S', 'V'): case VR('U', 'V'): case VR('O', 'D'):
	case VR('O', 'V'):
		n = 8;
		s = (const char *)zeros;
		break;
	default: /* AT FL OF OL SL UL */
		n = 4;
		s = (const char *)zeros;
		break;
	}
	return put_el(w, e, s, n ? n : strlen(s));
}

static int
is_text_vr(uint16_t vr)
{
	return vr == VR('L', 'O') || vr == VR('S', 'H') || vr == VR('S', 'T') ||
	    vr == VR('L', 'T') || vr == VR('U', 'T') || vr == VR('U', 'C') ||
	    vr == VR('P', 'N') || vr == VR('C', 'S');
}

/* PS3.15 Table E.1-1a C: clean, by VR (doc/apps/dicom-deid.md 4.3). */
static int
put_clean(struct wr *w, const struct dcm_el *e)
{
	uint8_t *out;
	long n;

	if (e->dvr == VR('D', 'A') || e->dvr == VR('D', 'T')) {
		if (w->c->dates != DEID_DATES_MODIFIED)
			return put_dummy(w, e);
		if ((out = scratch(w, (size_t)e->len + 16)) == NULL)
			return COFFER_E_NOMEM;
		n = e->dvr == VR('D', 'A') ? text_shift_da(e->val, e->len, w->days, out) :
		    text_shift_dt(e->val, e->len, w->days, out);
		/* Not a date: nothing that could be one stays. */
		return put_el(w, e, out, n < 0 ? 0 : (size_t)n);
	}
	if (e->dvr == VR('A', 'E')) {
		char ae[17] = "AE";
		const uint8_t *t;
		uint32_t tn;
		int r;

		dcm_trim(e->val, e->len, &t, &tn);
		if (tn == 0)
			return put_el(w, e, NULL, 0);
		if ((r = deid_pseudonym(&w->c->keys, "ae", t, tn, 14, ae + 2)) != 0)
			return r;
		return put_el(w, e, ae, 16);
	}
	if (is_text_vr(e->dvr) || e->dvr == VR('U', 'R')) {
		if ((out = scratch(w, (size_t)e->len * 3 + 1)) == NULL)
			return COFFER_E_NOMEM;
		if (text_scrub(w->lv[w->depth].cs, e->val, e->len, w->fx->ids, w->fx->nids,
		    out, out + e->len) != 0)
			return put_dummy(w, e);
		return put_el(w, e, out, e->len);
	}
	/* TM (whole-day shifts keep times), overlay and curve data under
	 * Clean Graphics, numbers: kept as they are. */
	return put_el(w, e, e->val, e->len);
}

/* Emit the app's own top-level elements whose tag is below limit. */
static int
put_inserts(struct wr *w, uint32_t limit)
{
	static const struct {
		int col;
		const char *code, *meaning;
	} codes[] = {
		{ DD_COL_BASIC, "113100", "Basic Application Confidentiality Profile" },
		{ DD_COL_SAFE_PRIVATE, "113111", "Retain Safe Private Option" },
		{ DD_COL_UIDS, "113110", "Retain UIDs Option" },
		{ DD_COL_DEVICE, "113109", "Retain Device Identity Option" },
		{ DD_COL_INSTITUTION, "113112", "Retain Institution Identity Option" },
		{ DD_COL_PATIENT_CHARS, "113108", "Retain Patient Characteristics Option" },
		{ DD_COL_FULL_DATES, "113106", "Retain Longitudinal Temporal Information"
		  " Full Dates Option" },
		{ DD_COL_MODIFIED_DATES, "113107", "Retain Longitudinal Temporal Information"
		  " Modified Dates Option" },
		{ DD_COL_DESCRIPTORS, "113105", "Clean Descriptors Option" },
		{ DD_COL_STRUCTURED, "113104", "Clean Structured Content Option" },
		{ DD_COL_GRAPHICS, "113103", "Clean Graphics Option" },
	};
	int imp = w->f->syntax == DCM_IMPLICIT_LE, big = w->f->syntax == DCM_EXPLICIT_BE, r;

	while (w->ins_done < INS_N && ins_tags[w->ins_done] < limit) {
		uint32_t tag = ins_tags[w->ins_done++];

		if (tag == TAG(0x0012, 0x0062)) {
			r = dcm_put_element(w->s, tag, VR('C', 'S'), VR('C', 'S'), "YES", 3, imp, big);
		} else if (tag == TAG(0x0012, 0x0063)) {
			char m[64 * DD_NCOLS + 64];
			size_t o = (size_t)snprintf(m, sizeof(m), "Coffer dicom-deid "
			    DEID_APP_VERSION " PS3.15 E.1.1 (2026c)");

			for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
				if (w->c->opt[codes[i].col] && i > 0)
					o += (size_t)snprintf(m + o, sizeof(m) - o, "\\%s",
					    codes[i].code);
			r = dcm_put_element(w->s, tag, VR('L', 'O'), VR('L', 'O'), m, o, imp, big);
		} else if (tag == TAG(0x0012, 0x0064)) {
			/* PS3.16 CID 7050, one item per profile and option. */
			r = dcm_put_header(w->s, tag, VR('S', 'Q'), UNDEF_LEN, imp, big);
			for (size_t i = 0; r == 0 && i < sizeof(codes) / sizeof(codes[0]); i++) {
				if (!w->c->opt[codes[i].col])
					continue;
				if ((r = dcm_put_header(w->s, TAG_ITEM, 0, UNDEF_LEN, imp, big)) != 0 ||
				    (r = dcm_put_element(w->s, TAG(0x0008, 0x0100), VR('S', 'H'), VR('S', 'H'),
				    codes[i].code, 6, imp, big)) != 0 ||
				    (r = dcm_put_element(w->s, TAG(0x0008, 0x0102), VR('S', 'H'), VR('S', 'H'),
				    "DCM", 3, imp, big)) != 0 ||
				    (r = dcm_put_element(w->s, TAG(0x0008, 0x0104), VR('L', 'O'), VR('L', 'O'),
				    codes[i].meaning, strlen(codes[i].meaning), imp, big)) != 0)
					break;
				r = dcm_put_header(w->s, TAG_ITEM_END, 0, 0, imp, big);
			}
			if (r == 0)
				r = dcm_put_header(w->s, TAG_SEQ_END, 0, 0, imp, big);
		} else {
			const char *v = w->c->dates == DEID_DATES_FULL ? "UNMODIFIED" :
			    w->c->dates == DEID_DATES_MODIFIED ? "MODIFIED" : "REMOVED";

			r = dcm_put_element(w->s, tag, VR('C', 'S'), VR('C', 'S'), v, strlen(v), imp, big);
		}
		if (r != 0)
			return r;
	}
	return 0;
}

static int
put_nested_patient(struct wr *w, const struct dcm_el *e)
{
	uint8_t key[66];
	char ps[80];
	const uint8_t *t;
	uint32_t tn;
	size_t pl = strlen(w->c->prefix);
	int r;

	dcm_trim(e->val, e->len, &t, &tn);
	if (tn == 0)
		return put_el(w, e, NULL, 0);
	if (tn > 64)
		tn = 64;
	memcpy(key, t, tn);
	key[tn] = 0; /* no issuer: as a top-level Patient ID without one */
	memcpy(ps, w->c->prefix, pl);
	if ((r = deid_pseudonym(&w->c->keys, "patient", key, tn + 1, 16, ps + pl)) != 0)
		return r;
	return put_el(w, e, ps, strlen(ps));
}

static int
wr_element(void *arg, const struct dcm_el *e)
{
	struct wr *w = arg;
	enum dd_action a;
	int r;

	if (e->depth == 0 && (r = put_inserts(w, e->tag)) != 0)
		return r;
	if (e->tag == TAG(0x0008, 0x0005))
		w->lv[w->depth].cs = text_charset(e->val, e->len);
	a = action_for(w, e);
	if (e->encapsulated) {
		/* Pixel data fragments pass through untouched. */
		if (a == DD_A_X)
			return 0;
		if ((r = dcm_put_header(w->s, e->tag, e->vr, UNDEF_LEN, e->implicit, e->big)) != 0)
			return r;
		return dcm_sink_put(w->s, e->raw, e->rawlen);
	}
	if (e->tag == TAG(0x0010, 0x0010) || e->tag == TAG(0x0010, 0x0020)) {
		/* Patient's Name (Z) and Patient ID (Z/D): the keyed pseudonym,
		 * the same for every file of the patient. Inside a sequence
		 * (another patient, or the same one referenced), one keyed by
		 * the value itself: the same ID gives the same pseudonym. */
		if (a != DD_A_K && a != DD_A_X)
			return e->depth == 0 ? put_el(w, e, w->pseudonym, strlen(w->pseudonym)) :
			    put_nested_patient(w, e);
	}
	switch (a) {
	case DD_A_X:
		return 0;
	case DD_A_Z:
		return put_el(w, e, NULL, 0);
	case DD_A_D:
		return put_dummy(w, e);
	case DD_A_U:
		return e->dvr == VR('U', 'I') ? put_uids(w, e) : put_dummy(w, e);
	case DD_A_C:
		return put_clean(w, e);
	default:
		return put_el(w, e, e->val, e->len);
	}
}

static int
wr_seq_begin(void *arg, const struct dcm_el *e, int *descend)
{
	struct wr *w = arg;
	enum dd_action a;
	uint16_t vr = e->un_seq ? VR('U', 'N') : VR('S', 'Q');
	int r;

	if (e->depth == 0 && (r = put_inserts(w, e->tag)) != 0)
		return r;
	a = action_for(w, e);
	*descend = 0;
	if (a == DD_A_X)
		return 0;
	if (a == DD_A_Z)
		return dcm_put_header(w->s, e->tag, vr, 0, e->implicit, e->big);
	/* K, C, D, U on a sequence: its items go through the profile too
	 * (PS3.15 E.1.1), written with undefined lengths since their sizes
	 * change. */
	*descend = 1;
	return dcm_put_header(w->s, e->tag, vr, UNDEF_LEN, e->implicit, e->big);
}

static int
wr_seq_end(void *arg, const struct dcm_el *e)
{
	struct wr *w = arg;

	return dcm_put_header(w->s, TAG_SEQ_END, 0, 0, 1, e->un_seq ? 0 : e->big);
}

static int
wr_item_begin(void *arg, const struct dcm_el *seq)
{
	struct wr *w = arg;

	w->depth++;
	w->lv[w->depth].cs = w->lv[w->depth - 1].cs;
	w->lv[w->depth].group = 0;
	return dcm_put_header(w->s, TAG_ITEM, 0, UNDEF_LEN, 1, seq->un_seq ? 0 : seq->big);
}

static int
wr_item_end(void *arg, const struct dcm_el *seq)
{
	struct wr *w = arg;

	w->depth--;
	return dcm_put_header(w->s, TAG_ITEM_END, 0, 0, 1, seq->un_seq ? 0 : seq->big);
}

/* ---- the file ---- */

static int
val_is(struct val v, const char *s)
{
	const uint8_t *t;
	uint32_t tn;

	dcm_trim(v.p, v.n, &t, &tn);
	return tn == strlen(s) && memcmp(t, s, tn) == 0;
}

/* Modalities whose images often carry text in the pixels (PS3.15 E.1.1's
 * Clean Pixel Data concern): ultrasound screens, screen captures,
 * photographs, scanned documents. Secondary Capture SOP classes count too. */
static const char *const burn_modalities[] = {
	"US", "IVUS", "OT", "XC", "ES", "GM", "SM", "DOC",
};

static int
burned_in(const struct facts *fx, const char *sop_class, char *why, size_t n)
{
	if (val_is(fx->burned_in, "YES")) {
		snprintf(why, n, "Burned In Annotation (0028,0301) is YES");
		return 1;
	}
	if (fx->burned_in.n > 0 && val_is(fx->burned_in, "NO"))
		return 0;
	if (!fx->has_pixels)
		return 0;
	for (size_t i = 0; i < sizeof(burn_modalities) / sizeof(burn_modalities[0]); i++)
		if (val_is(fx->modality, burn_modalities[i])) {
			snprintf(why, n, "Modality %s images often have text burned into"
			    " the pixels and Burned In Annotation (0028,0301) does not say NO",
			    burn_modalities[i]);
			return 1;
		}
	if (strncmp(sop_class, "1.2.840.10008.5.1.4.1.1.7", 25) == 0 &&
	    (sop_class[25] == '\0' || sop_class[25] == '.')) {
		snprintf(why, n, "Secondary Capture images often have text burned into"
		    " the pixels and Burned In Annotation (0028,0301) does not say NO");
		return 1;
	}
	return 0;
}

static void
uid_or_meta(struct val v, const char *meta, char out[65])
{
	const uint8_t *t;
	uint32_t tn;

	dcm_trim(v.p, v.n, &t, &tn);
	if (tn > 0 && tn <= 64) {
		memcpy(out, t, tn);
		out[tn] = '\0';
	} else {
		snprintf(out, 65, "%s", meta);
	}
}

int
deid_process(const struct deid_config *c, const uint8_t *in, size_t n,
    struct coffer_app_writer *out, char *err, size_t errlen)
{
	struct dcm_file f;
	struct dcm_err de = { 0 };
	struct facts fx;
	struct wr w;
	struct dcm_visitor v1 = { facts_element, NULL, NULL, NULL, NULL, &fx };
	struct dcm_visitor v2 = { wr_element, wr_seq_begin, wr_seq_end, wr_item_begin,
		wr_item_end, &w };
	char sop_class[65], sop_inst[65], new_inst[65], why[160];
	uint8_t pkey[160];
	size_t pk = 0;
	int r;

	memset(&fx, 0, sizeof(fx));
	memset(&w, 0, sizeof(w));
	if ((r = dcm_open(in, n, &c->lim, &f, &de)) != 0 ||
	    (r = dcm_walk(&f, &c->lim, &v1, &de)) != 0) {
		snprintf(err, errlen, "cannot parse this file: %s%llu: %s",
		    de.inflated ? "inflated data set offset " : "offset ",
		    (unsigned long long)de.off, de.msg);
		goto out;
	}
	uid_or_meta(fx.sop_class, f.sop_class, sop_class);
	if (strcmp(sop_class, "1.2.840.10008.1.3.10") == 0) {
		/* PS3.10 8: its records point at each other by byte offset,
		 * which every change of length here would break. */
		snprintf(err, errlen, "refused: a DICOMDIR (Media Storage Directory)"
		    " locates its records by byte offset; de-identify the files it lists"
		    " and make a new DICOMDIR from them (e.g. dcmmkdir)");
		r = COFFER_E_APP;
		goto out;
	}
	if (!c->accept_burned_in && burned_in(&fx, sop_class, why, sizeof(why))) {
		snprintf(err, errlen, "refused: %s; this app does not clean pixel data"
		    " (set burned_in_annotation=accept if the pixels were checked)", why);
		r = COFFER_E_APP;
		goto out;
	}

	/* The patient key: Patient ID with its issuer, else the name. */
	{
		struct val id = fx.patient_id.n ? fx.patient_id : fx.patient_name;
		const uint8_t *t;
		uint32_t tn;

		dcm_trim(id.p, id.n, &t, &tn);
		if (tn > 64)
			tn = 64;
		memcpy(pkey, t, tn);
		pk = tn;
		pkey[pk++] = 0;
		dcm_trim(fx.issuer.p, fx.issuer.n, &t, &tn);
		if (tn > 64)
			tn = 64;
		memcpy(pkey + pk, t, tn);
		pk += tn;
	}
	memcpy(w.pseudonym, c->prefix, strlen(c->prefix));
	if ((r = deid_pseudonym(&c->keys, "patient", pkey, pk, 16,
	    w.pseudonym + strlen(c->prefix))) != 0 ||
	    (r = deid_date_shift(&c->keys, pkey, pk, c->date_shift_max, &w.days)) != 0) {
		snprintf(err, errlen, "keyed replacement failed");
		goto out;
	}

	w.c = c;
	w.f = &f;
	w.fx = &fx;
	if ((w.lv = calloc((size_t)c->lim.max_depth + 2, sizeof(*w.lv))) == NULL ||
	    (r = dcm_sink_new(out, &w.s)) != 0) {
		r = COFFER_E_NOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	uid_or_meta(fx.sop_instance, f.sop_instance, sop_inst);
	new_inst[0] = '\0';
	if (sop_inst[0] != '\0') {
		if (c->opt[DD_COL_UIDS])
			memcpy(new_inst, sop_inst, sizeof(new_inst));
		else if ((r = deid_new_uid(&c->keys, (const uint8_t *)sop_inst,
		    strlen(sop_inst), new_inst)) != 0)
			goto out;
	}
	if ((r = dcm_put_meta(w.s, sop_class, new_inst, f.ts_uid)) != 0 ||
	    (f.deflated && (r = dcm_sink_start_deflate(w.s)) != 0) ||
	    (r = dcm_walk(&f, &c->lim, &v2, &de)) != 0 ||
	    (r = put_inserts(&w, 0xffffffffu)) != 0 ||
	    (r = dcm_sink_finish(w.s)) != 0) {
		if (w.msg[0] != '\0')
			snprintf(err, errlen, "%s", w.msg);
		else if (de.msg[0] != '\0')
			snprintf(err, errlen, "cannot parse this file: offset %llu: %s",
			    (unsigned long long)de.off, de.msg);
		else if (r == COFFER_E_LIMIT)
			snprintf(err, errlen, "the output is larger than the job's item limit");
		else
			snprintf(err, errlen, "writing the output failed (%d)", r);
		goto out;
	}
out:
	dcm_sink_free(w.s);
	free(w.lv);
	free(w.buf);
	dcm_file_release(&f);
	return r;
}
