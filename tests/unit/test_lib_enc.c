// SPDX-License-Identifier: Apache-2.0
// Unit tests for hex and base64 encodings (src/lib/enc.c), including the
// RFC 4648 section 10 test vectors and strict rejection of non-canonical input.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/enc.h"

static void
test_hex__round_trip_and_case(void **state)
{
	const uint8_t in[] = { 0x00, 0x7f, 0x80, 0xff, 0x1a };
	char s[11];
	uint8_t out[5];
	size_t n;

	(void)state;
	coffer_hex_encode(in, sizeof(in), s);
	assert_string_equal(s, "007f80ff1a");
	assert_int_equal(coffer_hex_decode("007F80FF1A", 10, out, sizeof(out), &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, in, 5);
}

/* A caller that knows the length (len / 2) may pass no outlen. */
static void
test_hex__decode_without_outlen(void **state)
{
	uint8_t out[3] = { 0 };

	(void)state;
	assert_int_equal(coffer_hex_decode("0aff10", 6, out, sizeof(out), NULL), 0);
	assert_memory_equal(out, "\x0a\xff\x10", 3);
	assert_int_equal(coffer_hex_decode("0g", 2, out, sizeof(out), NULL), COFFER_E_FORMAT);
	assert_int_equal(coffer_hex_decode("", 0, out, sizeof(out), NULL), 0);
}

static void
test_hex__rejects_odd_bad_and_overlong(void **state)
{
	uint8_t out[2];
	size_t n = 99;

	(void)state;
	assert_int_equal(coffer_hex_decode("abc", 3, out, 2, &n), COFFER_E_FORMAT);
	assert_int_equal(coffer_hex_decode("zz", 2, out, 2, &n), COFFER_E_FORMAT);
	assert_int_equal(coffer_hex_decode("a ", 2, out, 2, &n), COFFER_E_FORMAT);
	assert_int_equal(coffer_hex_decode("aabbcc", 6, out, 2, &n), COFFER_E_LIMIT);
	assert_int_equal(n, 99);
}

/* RFC 4648 section 10. */
static const struct {
	const char *in, *b64, *b64url;
} rfc4648[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void
test_b64__rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		struct coffer_buf b = COFFER_BUF_INIT(256);
		const char *in = rfc4648[i].in;

		assert_int_equal(coffer_b64_put(&b, (const uint8_t *)in, strlen(in)), 0);
		assert_string_equal(coffer_buf_str(&b), rfc4648[i].b64);
		coffer_buf_reset(&b);
		assert_int_equal(coffer_b64url_put(&b, (const uint8_t *)in, strlen(in)), 0);
		assert_string_equal(coffer_buf_str(&b), rfc4648[i].b64url);
		assert_int_equal(coffer_b64url_len(strlen(in)), strlen(rfc4648[i].b64url));
		coffer_buf_reset(&b);
		assert_int_equal(coffer_b64_decode_buf(rfc4648[i].b64,
		    strlen(rfc4648[i].b64), &b), 0);
		assert_int_equal(b.len, strlen(in));
		assert_memory_equal(coffer_buf_str(&b), in, strlen(in));
		coffer_buf_reset(&b);
		assert_int_equal(coffer_b64url_decode_buf(rfc4648[i].b64url,
		    strlen(rfc4648[i].b64url), &b), 0);
		assert_int_equal(b.len, strlen(in));
		assert_memory_equal(coffer_buf_str(&b), in, strlen(in));
		coffer_buf_release(&b);
	}
}

static void
test_b64url__uses_url_alphabet(void **state)
{
	const uint8_t in[] = { 0xfb, 0xff, 0xbf };
	struct coffer_buf b = COFFER_BUF_INIT(64);

	(void)state;
	assert_int_equal(coffer_b64url_put(&b, in, 3), 0);
	assert_string_equal(coffer_buf_str(&b), "-_-_");
	coffer_buf_reset(&b);
	assert_int_equal(coffer_b64_put(&b, in, 3), 0);
	assert_string_equal(coffer_buf_str(&b), "+/+/");
	coffer_buf_release(&b);
}

static void
test_b64__rejects_noncanonical_input(void **state)
{
	static const char *bad_url[] = { "Zg==", "Zh", "Z", "Zm9v\n", "Zm+v", "Zm/v",
		"Z m9", "Zm9vYmF" "=", "Zm9vY" };
	static const char *bad_std[] = { "Zg", "Zg=", "Zh==", "Z===", "Zm-v", "Zm9=Yg==",
		"Zg==Zg==", "====" };
	struct coffer_buf b = COFFER_BUF_INIT(64);

	(void)state;
	for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
		assert_int_equal(coffer_b64url_decode_buf(bad_url[i], strlen(bad_url[i]),
		    &b), COFFER_E_FORMAT);
		assert_int_equal(b.len, 0);
	}
	for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
		assert_int_equal(coffer_b64_decode_buf(bad_std[i], strlen(bad_std[i]),
		    &b), COFFER_E_FORMAT);
		assert_int_equal(b.len, 0);
	}
	coffer_buf_release(&b);
}

static void
test_b64url__decode_exact_checks_length(void **state)
{
	uint8_t out[3];

	(void)state;
	assert_int_equal(coffer_b64url_decode_exact("Zm9v", 4, out, 3), 0);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(coffer_b64url_decode_exact("Zm8", 3, out, 3), COFFER_E_FORMAT);
	assert_int_equal(coffer_b64url_decode_exact("Zm9vYg", 6, out, 3), COFFER_E_FORMAT);
}

/* A failed decode leaves out untouched, even when the bad character comes
 * after valid pairs. */
static void
test_hex__failed_decode_writes_nothing(void **state)
{
	uint8_t out[4] = { 0xaa, 0xaa, 0xaa, 0xaa };
	size_t n = 99;

	(void)state;
	assert_int_equal(coffer_hex_decode("4142zz", 6, out, sizeof(out), &n),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_hex_decode("41424g", 6, out, sizeof(out), &n),
	    COFFER_E_FORMAT);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xaa);
	assert_int_equal(n, 99);
}

/* lib/buf.h: data[len] == 0 after any call, including a failed decode
 * that had already written bytes into the space it reserved. */
static void
assert_buf_intact(const struct coffer_buf *b, const char *want)
{
	assert_int_equal(b->len, strlen(want));
	assert_int_equal(b->data[b->len], 0);
	assert_string_equal(coffer_buf_str(b), want);
}

static void
test_enc__failed_decode_keeps_buffer_terminated(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024);

	(void)state;
	assert_int_equal(coffer_buf_puts(&b, "pre"), 0);
	/* Each would have left a decoded byte at data[len]. */
	assert_int_equal(coffer_hex_decode_buf("41zz", 4, &b), COFFER_E_FORMAT);
	assert_buf_intact(&b, "pre");
	assert_int_equal(coffer_b64url_decode_buf("QUFBQR", 6, &b),
	    COFFER_E_FORMAT); /* "AAA", then non-canonical trailing bits */
	assert_buf_intact(&b, "pre");
	assert_int_equal(coffer_b64url_decode_buf("QUFB*UFB", 8, &b),
	    COFFER_E_FORMAT); /* "AAA", then an invalid character */
	assert_buf_intact(&b, "pre");
	assert_int_equal(coffer_b64_decode_buf("QUFBQR==", 8, &b),
	    COFFER_E_FORMAT);
	assert_buf_intact(&b, "pre");
	/* The buffer still works. */
	assert_int_equal(coffer_b64url_decode_buf("QUFB", 4, &b), 0);
	assert_buf_intact(&b, "preAAA");
	coffer_buf_release(&b);
}

/* A secret buffer: bytes decoded before the error are wiped from the
 * reserved space, not left behind past len. */
static void
test_enc__failed_decode_wipes_secret_buffer(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(1024);

	(void)state;
	assert_int_equal(coffer_buf_puts(&b, "k"), 0);
	assert_int_equal(coffer_b64url_decode_buf("QUFBQUFBQR", 10, &b),
	    COFFER_E_FORMAT);
	assert_buf_intact(&b, "k");
	for (size_t i = 1; i <= 6; i++)
		assert_int_equal(b.data[i], 0);
	assert_int_equal(coffer_b64url_decode_buf("QUFBQUFB*A", 10, &b),
	    COFFER_E_FORMAT);
	assert_buf_intact(&b, "k");
	for (size_t i = 1; i <= 6; i++)
		assert_int_equal(b.data[i], 0);
	coffer_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex__round_trip_and_case),
		cmocka_unit_test(test_hex__decode_without_outlen),
		cmocka_unit_test(test_hex__rejects_odd_bad_and_overlong),
		cmocka_unit_test(test_b64__rfc4648_vectors),
		cmocka_unit_test(test_b64url__uses_url_alphabet),
		cmocka_unit_test(test_b64__rejects_noncanonical_input),
		cmocka_unit_test(test_b64url__decode_exact_checks_length),
		cmocka_unit_test(test_hex__failed_decode_writes_nothing),
		cmocka_unit_test(test_enc__failed_decode_keeps_buffer_terminated),
		cmocka_unit_test(test_enc__failed_decode_wipes_secret_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
