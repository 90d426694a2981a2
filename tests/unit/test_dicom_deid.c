// SPDX-License-Identifier: Apache-2.0
// dicom-deid's parser, writer and cleaning pieces on crafted inputs: every
// refusal of doc/apps/dicom-deid.md section 5 with its offset, the limits,
// deflate, date shifting, text scrubbing and the keyed UIDs. The whole app
// against independent tools is tests/integration/app_dicom_deid.sh.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <zlib.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "deid.h"

/* ---- building inputs ---- */

struct bytes {
	uint8_t p[1 << 20];
	size_t n;
};

static void
put(struct bytes *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->p));
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
u16(struct bytes *b, unsigned v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	put(b, x, 2);
}

static void
u32(struct bytes *b, uint32_t v)
{
	u16(b, v & 0xffff);
	u16(b, v >> 16);
}

/* Explicit VR little endian element. */
static void
el(struct bytes *b, unsigned g, unsigned e, const char *vr, const void *v, uint32_t n)
{
	int lng = strcmp(vr, "SQ") == 0 || strcmp(vr, "OB") == 0 || strcmp(vr, "UN") == 0 ||
	    strcmp(vr, "OW") == 0 || strcmp(vr, "UT") == 0;

	u16(b, g);
	u16(b, e);
	put(b, vr, 2);
	if (lng) {
		u16(b, 0);
		u32(b, n);
	} else {
		u16(b, n);
	}
	if (v != NULL && n != UNDEF_LEN)
		put(b, v, n);
}

static void
str(struct bytes *b, unsigned g, unsigned e, const char *vr, const char *s)
{
	el(b, g, e, vr, s, (uint32_t)strlen(s));
}

static void
item(struct bytes *b, unsigned tagel, uint32_t len)
{
	u16(b, 0xfffe);
	u16(b, tagel);
	u32(b, len);
}

/* Preamble, DICM and a meta group with the transfer syntax ts. */
static void
meta(struct bytes *b, const char *ts)
{
	uint8_t pre[128] = { 0 };
	char v[64];
	size_t n = strlen(ts);

	put(b, pre, 128);
	put(b, "DICM", 4);
	memcpy(v, ts, n);
	if (n & 1)
		v[n++] = 0;
	el(b, 0x0002, 0x0010, "UI", v, (uint32_t)n);
}

static void
patient(struct bytes *b)
{
	str(b, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.2\0");
	str(b, 0x0008, 0x0018, "UI", "1.2.3.4.5.6");
	str(b, 0x0008, 0x0020, "DA", "20040119");
	str(b, 0x0008, 0x0060, "CS", "CT");
	str(b, 0x0010, 0x0010, "PN", "DOE^JOHN");
	str(b, 0x0010, 0x0020, "LO", "MRN1234 ");
}

/* ---- running the app ---- */

struct sink {
	struct coffer_app_writer w;
	uint8_t *p;
	size_t n, cap;
	int fail_after; /* fail the write once n would pass this (0: never) */
};

static int
sink_write(struct coffer_app_writer *w, const void *p, size_t n)
{
	struct sink *s = (struct sink *)w;

	if (s->fail_after && s->n + n > (size_t)s->fail_after)
		return COFFER_E_LIMIT;
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2;
		s->p = realloc(s->p, s->cap);
		assert_non_null(s->p);
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
	return 0;
}

static const char key_hex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static int
run(const struct bytes *in, struct sink *out, char *err, const char *p1, const char *v1)
{
	struct coffer_app_param p[3] = {
		{ "coffer.app_secret", key_hex },
		{ "burned_in_annotation", "accept" },
		{ p1, v1 },
	};
	struct deid_config c;
	char e2[512];
	int r;

	assert_int_equal(deid_config_init(&c, p, p1 ? 3 : 2, e2, sizeof(e2)), 0);
	out->w.write = sink_write;
	err[0] = '\0';
	r = deid_process(&c, in->p, in->n, &out->w, err, 512);
	deid_config_release(&c);
	return r;
}

static struct bytes *
newb(void)
{
	struct bytes *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	return b;
}

/* A file in transfer syntax ts with the patient's attributes; the test
 * appends what it is about. */
static struct bytes *
ct_file(const char *ts)
{
	struct bytes *b = newb();

	meta(b, ts);
	patient(b);
	return b;
}

static int
contains(const struct sink *s, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= s->n; i++)
		if (memcmp(s->p + i, needle, n) == 0)
			return 1;
	return 0;
}

/* ---- tests ---- */

static void
test_deid__removes_replaces_and_writes_a_new_meta(void **st)
{
	struct bytes *b = ct_file("1.2.840.10008.1.2.1");
	struct sink s = { 0 };
	char err[512];

	(void)st;
	str(b, 0x0010, 0x1040, "LO", "1 Main Street");        /* X */
	str(b, 0x0009, 0x0010, "LO", "ACME 1.0");             /* private */
	str(b, 0x0009, 0x1001, "LO", "secret");
	assert_int_equal(run(b, &s, err, NULL, NULL), 0);
	assert_true(s.n > 132);
	for (int i = 0; i < 128; i++)
		assert_int_equal(s.p[i], 0);
	assert_memory_equal(s.p + 128, "DICM", 4);
	assert_false(contains(&s, "DOE"));
	assert_false(contains(&s, "MRN1234"));
	assert_false(contains(&s, "Main Street"));
	assert_false(contains(&s, "ACME"));
	assert_false(contains(&s, "secret"));
	assert_false(contains(&s, "1.2.3.4.5.6"));
	assert_true(contains(&s, "2.25."));
	assert_true(contains(&s, "ANON-"));
	assert_true(contains(&s, "113100"));
	free(s.p);
	free(b);
}

static void
test_deid__refuses_a_length_past_the_end_with_its_offset(void **st)
{
	struct bytes *b = ct_file("1.2.840.10008.1.2.1");
	struct sink s = { 0 };
	char err[512];

	(void)st;
	u16(b, 0x0010);
	u16(b, 0x1030);
	put(b, "DS", 2);
	u16(b, 40); /* but only 2 bytes follow */
	put(b, "70", 2);
	assert_int_equal(run(b, &s, err, NULL, NULL), COFFER_E_FORMAT);
	assert_non_null(strstr(err, "element (0010,1030) declares 40 bytes but 2 are left"));
	assert_non_null(strstr(err, "offset "));
	assert_int_equal(s.n, 0); /* nothing written */
	free(b);
}

static void
test_deid__refuses_undefined_item_without_delimiter(void **st)
{
	struct bytes *b = ct_file("1.2.840.10008.1.2.1");
	struct sink s = { 0 };
	char err[512];

	(void)st;
	el(b, 0x0008, 0x1140, "SQ", NULL, UNDEF_LEN);
	item(b, 0xe000, UNDEF_LEN);
	str(b, 0x0008, 0x1150, "UI", "1.2.3.4");
	assert_int_equal(run(b, &s, err, NULL, NULL), COFFER_E_FORMAT);
	assert_non_null(strstr(err, "ends without an Item Delimitation Item"));
	assert_int_equal(s.n, 0);
	free(b);
}

static void
test_deid__caps_nesting(void **st)
{
	struct bytes *b = ct_file("1.2.840.10008.1.2.1");
	struct sink s = { 0 };
	char err[512];

	(void)st;
	for (int i = 0; i < 40; i++) {
		el(b, 0x0040, 0xa730, "SQ", NULL, UNDEF_LEN);
		item(b, 0xe000, UNDEF_LEN);
	}
	for (int i = 0; i < 40; i++) {
		item(b, 0xe00d, 0);
		item(b, 0xe0dd, 0);
	}
	assert_int_equal(run(b, &s, err, NULL, NULL), COFFER_E_FORMAT);
	assert_non_null(strstr(err, "nested deeper than 32 (max_depth)"));
	/* With a higher limit it goes through, and the output nests too. */
	assert_int_equal(run(b, &s, err, "max_depth", "64"), 0);
	free(s.p);
	free(b);
}

/* A policy's limits reach every app of the policy (coffer.limit.<name>):
 * dicom-deid ignores reserved names it has no use for, and still refuses
 * its own misspelt ones. */
static void
test_deid__ignores_reserved_parameters_it_does_not_use(void **st)
{
	struct bytes *b = ct_file("1.2.840.10008.1.2.1");
	struct sink s = { 0 };
	struct coffer_app_param p[2] = {
		{ "coffer.app_secret", key_hex },
		{ "retain_date", "full" },
	};
	struct deid_config c;
	char err[512];

	(void)st;
	assert_int_equal(run(b, &s, err, "coffer.limit.min_owners", "3"), 0);
	assert_int_equal(deid_config_init(&c, p, 2, err, sizeof(err)), COFFER_E_INVAL);
	assert_non_null(strstr(err, "unknown parameter 'retain_date'"));
	free(s.p);
	free(b);
}

static void
test_deid__caps_elements(void **st)
{
	struct bytes *b = ct_file("1.2.840.10008.1.2.1");
	struct sink s = { 0 };
	char err[512];

	(void)st;
	for (int i = 0; i < 100; i++)
		str(b, 0x0029, (unsigned)(0x1000 + i), "LO", "xx");
	assert_int_equal(run(b, &s, err, "max_elements", "50"), COFFER_E_FORMAT);
	assert_non_null(strstr(err, "more than 50 elements and items (max_elements)"));
	free(b);
}

static void
test_deid__passes_encapsulated_pixel_data_through(void **st)
{
	struct bytes *b = ct_file("1.2.840.10008.1.2.4.50");
	struct sink s = { 0 };
	char err[512];
	static const uint8_t frag[] = { 0xff, 0xd8, 'D', 'O', 'E', 0xff, 0xd9, 0 };
	size_t start;

	(void)st;
	el(b, 0x7fe0, 0x0010, "OB", NULL, UNDEF_LEN);
	start = b->n;
	item(b, 0xe000, 0);
	item(b, 0xe000, sizeof(frag));
	put(b, frag, sizeof(frag));
	item(b, 0xe0dd, 0);
	assert_int_equal(run(b, &s, err, NULL, NULL), 0);
	/* The fragments, byte for byte, at the end of the output. */
	assert_true(s.n > b->n - start);
	assert_memory_equal(s.p + s.n - (b->n - start), b->p + start, b->n - start);
	free(s.p);
	/* A fragment that overruns: refused. */
	b->p[start + 8 + 4] = 0x50;
	memset(&s, 0, sizeof(s));
	assert_int_equal(run(b, &s, err, NULL, NULL), COFFER_E_FORMAT);
	assert_non_null(strstr(err, "pixel data fragment declares"));
	free(b);
}

static void
test_deid__refuses_unknown_vr(void **st)
{
	struct bytes *b = ct_file("1.2.840.10008.1.2.1");
	struct sink s = { 0 };
	char err[512];

	(void)st;
	str(b, 0x0018, 0x0050, "QQ", "12");
	assert_int_equal(run(b, &s, err, NULL, NULL), COFFER_E_FORMAT);
	assert_non_null(strstr(err, "VR bytes 0x51 0x51 are not a DICOM VR"));
	free(b);
}

/* Deflate ds into b after a meta naming the deflated transfer syntax. */
static void
deflated(struct bytes *b, const struct bytes *ds)
{
	z_stream z;
	uint8_t out[1 << 16];

	meta(b, "1.2.840.10008.1.2.1.99");
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)ds->p;
	z.avail_in = (uInt)ds->n;
	z.next_out = out;
	z.avail_out = sizeof(out);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	put(b, out, sizeof(out) - z.avail_out);
	deflateEnd(&z);
}

static void
test_deid__deflated_round_trip_and_limit(void **st)
{
	struct bytes *ds = newb(), *b = newb(), *b2 = newb();
	struct sink s = { 0 };
	char err[512];
	static uint8_t zeros[200000];

	(void)st;
	patient(ds);
	deflated(b, ds);
	assert_int_equal(run(b, &s, err, NULL, NULL), 0);
	/* The output is deflated too: the app reads it back. */
	memcpy(b2->p, s.p, s.n);
	b2->n = s.n;
	free(s.p);
	memset(&s, 0, sizeof(s));
	assert_int_equal(run(b2, &s, err, NULL, NULL), 0);
	assert_false(contains(&s, "DOE"));
	free(s.p);
	/* A data set that inflates past the limit is refused. */
	el(ds, 0x7fe0, 0x0010, "OB", zeros, sizeof(zeros));
	memset(b, 0, sizeof(*b));
	deflated(b, ds);
	memset(&s, 0, sizeof(s));
	assert_int_equal(run(b, &s, err, "max_inflate_bytes", "100000"), COFFER_E_LIMIT);
	assert_non_null(strstr(err, "inflates to more than 100000 bytes"));
	free(ds);
	free(b);
	free(b2);
}

static void
test_deid__a_failing_writer_fails_the_item(void **st)
{
	struct bytes *b = ct_file("1.2.840.10008.1.2.1");
	struct sink s = { 0 };
	char err[512];
	static uint8_t px[100000];

	(void)st;
	el(b, 0x7fe0, 0x0010, "OW", px, sizeof(px));
	s.fail_after = 50000;
	assert_int_equal(run(b, &s, err, NULL, NULL), COFFER_E_LIMIT);
	assert_non_null(strstr(err, "item limit"));
	free(s.p);
	free(b);
}

static void
test_text__shifts_dates(void **st)
{
	uint8_t out[64];
	long n;

	(void)st;
	n = text_shift_da((const uint8_t *)"20000301", 8, -1, out);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "20000229", 8);
	n = text_shift_da((const uint8_t *)"20040119-20040201\\19991231 ", 27, 1, out);
	assert_int_equal(n, 26);
	assert_memory_equal(out, "20040120-20040202\\20000101", 26);
	n = text_shift_da((const uint8_t *)"2004.01.19", 10, 0, out);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "20040119", 8);
	assert_int_equal(text_shift_da((const uint8_t *)"20041332", 8, 1, out), -1);
	assert_int_equal(text_shift_da((const uint8_t *)"YESTERDAY", 9, 1, out), -1);
	n = text_shift_dt((const uint8_t *)"20041231235959.5-0500", 21, 1, out);
	assert_int_equal(n, 21);
	assert_memory_equal(out, "20050101235959.5-0500", 21);
	n = text_shift_dt((const uint8_t *)"2004-2005", 9, 400, out);
	assert_int_equal(n, 9);
	assert_memory_equal(out, "2005-2006", 9);
}

static void
test_text__scrubs_identifiers_and_digit_runs(void **st)
{
	struct text_ident ids[] = { { (const uint8_t *)"DOE", 3 }, { (const uint8_t *)"LI", 2 } };
	const char *v = "Doe: lipoma, MRN 1234567, 3 mm";
	uint8_t out[64], scratch[128];

	(void)st;
	assert_int_equal(text_scrub(TEXT_CS_SINGLE, (const uint8_t *)v, (uint32_t)strlen(v),
	    ids, 2, out, scratch), 0);
	assert_memory_equal(out, "XXX: lipoma, MRN XXXXXXX, 3 mm", strlen(v));
	/* UTF-8: whole characters become X's, still valid. */
	v = "M\xc3\xbcller DOE";
	assert_int_equal(text_scrub(TEXT_CS_UTF8, (const uint8_t *)v, (uint32_t)strlen(v),
	    ids, 2, out, scratch), 0);
	assert_memory_equal(out, "M\xc3\xbcller XXX", strlen(v));
	/* ISO 2022: a match inside two-byte text cannot be overwritten in
	 * place; the caller replaces the whole value. */
	v = "\x1b$B DOE\x1b(B";
	assert_int_equal(text_scrub(TEXT_CS_ISO2022, (const uint8_t *)v, (uint32_t)strlen(v),
	    ids, 1, out, scratch), 1);
	v = "\x1b$B12345\x1b(B";
	assert_int_equal(text_scrub(TEXT_CS_ISO2022, (const uint8_t *)v, (uint32_t)strlen(v),
	    ids, 1, out, scratch), 0); /* digits in JIS: not digits */
	assert_int_equal(text_charset((const uint8_t *)"\\ISO 2022 IR 87", 15), TEXT_CS_ISO2022);
	assert_int_equal(text_charset((const uint8_t *)"ISO_IR 192", 10), TEXT_CS_UTF8);
	assert_int_equal(text_charset((const uint8_t *)"GB18030 ", 8), TEXT_CS_GBK);
}

static void
test_keys__uids_are_keyed_2_25_and_stable(void **st)
{
	struct deid_keys k1, k2;
	uint8_t s1[32] = { 1 }, s2[32] = { 2 };
	char a[65], b[65], c[65];

	(void)st;
	assert_int_equal(deid_keys_derive(s1, 32, &k1), 0);
	assert_int_equal(deid_keys_derive(s2, 32, &k2), 0);
	assert_int_equal(deid_new_uid(&k1, (const uint8_t *)"1.2.3", 5, a), 0);
	assert_int_equal(deid_new_uid(&k1, (const uint8_t *)"1.2.3", 5, b), 0);
	assert_int_equal(deid_new_uid(&k2, (const uint8_t *)"1.2.3", 5, c), 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_memory_equal(a, "2.25.", 5);
	assert_true(strlen(a) <= 44 && strlen(a) > 10);
	for (size_t i = 5; a[i]; i++)
		assert_true(a[i] >= '0' && a[i] <= '9');
	assert_true(a[5] != '0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deid__removes_replaces_and_writes_a_new_meta),
		cmocka_unit_test(test_deid__refuses_a_length_past_the_end_with_its_offset),
		cmocka_unit_test(test_deid__refuses_undefined_item_without_delimiter),
		cmocka_unit_test(test_deid__caps_nesting),
		cmocka_unit_test(test_deid__ignores_reserved_parameters_it_does_not_use),
		cmocka_unit_test(test_deid__caps_elements),
		cmocka_unit_test(test_deid__passes_encapsulated_pixel_data_through),
		cmocka_unit_test(test_deid__refuses_unknown_vr),
		cmocka_unit_test(test_deid__deflated_round_trip_and_limit),
		cmocka_unit_test(test_deid__a_failing_writer_fails_the_item),
		cmocka_unit_test(test_text__shifts_dates),
		cmocka_unit_test(test_text__scrubs_identifiers_and_digit_runs),
		cmocka_unit_test(test_keys__uids_are_keyed_2_25_and_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
