// SPDX-License-Identifier: Apache-2.0
// Unit tests for the box construction (src/crypto/box.c): round trips,
// the documented layout, fresh nonces, and rejection of every change.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/aead.h"
#include "crypto/box.h"
#include "lib/buf.h"

static const uint8_t key[32] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };

static void
test_box__round_trips_with_fresh_nonces(void **state)
{
	struct coffer_buf b1 = COFFER_BUF_INIT(1024), b2 = COFFER_BUF_INIT(1024),
	    pt = COFFER_BUF_INIT_SECRET(1024);

	(void)state;
	assert_int_equal(coffer_box_seal(key, (const uint8_t *)"ad", 2,
	    (const uint8_t *)"hello", 5, &b1), 0);
	assert_int_equal(coffer_box_seal(key, (const uint8_t *)"ad", 2,
	    (const uint8_t *)"hello", 5, &b2), 0);
	assert_int_equal(b1.len, 5 + COFFER_BOX_OVERHEAD);
	assert_memory_not_equal(b1.data, b2.data, COFFER_BOX_NONCE_LEN);
	assert_int_equal(coffer_box_open(key, (const uint8_t *)"ad", 2, b1.data,
	    b1.len, &pt), 0);
	assert_int_equal(pt.len, 5);
	assert_memory_equal(pt.data, "hello", 5);
	/* Empty message. */
	coffer_buf_reset(&b1);
	coffer_buf_reset(&pt);
	assert_int_equal(coffer_box_seal(key, NULL, 0, NULL, 0, &b1), 0);
	assert_int_equal(b1.len, COFFER_BOX_OVERHEAD);
	assert_int_equal(coffer_box_open(key, NULL, 0, b1.data, b1.len, &pt), 0);
	assert_int_equal(pt.len, 0);
	coffer_buf_release(&b1);
	coffer_buf_release(&b2);
	coffer_buf_release(&pt);
}

/* nonce || ct || tag, AES-256-GCM, as doc/crypto.md says. */
static void
test_box__layout_is_nonce_ct_tag(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024);
	struct coffer_aead *a = NULL;
	uint8_t pt[7];

	(void)state;
	assert_int_equal(coffer_box_seal(key, (const uint8_t *)"x", 1,
	    (const uint8_t *)"payload", 7, &b), 0);
	assert_int_equal(coffer_aead_new(COFFER_AEAD_AES256GCM, key, 32, &a), 0);
	assert_int_equal(coffer_aead_decrypt(a, b.data, (const uint8_t *)"x", 1,
	    b.data + 12, 7, b.data + 19, pt), 0);
	assert_memory_equal(pt, "payload", 7);
	coffer_aead_free(a);
	coffer_buf_release(&b);
}

static void
test_box__rejects_any_change(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024), pt = COFFER_BUF_INIT(1024);
	uint8_t other[32] = { 1 };

	(void)state;
	assert_int_equal(coffer_box_seal(key, NULL, 0, (const uint8_t *)"secret",
	    6, &b), 0);
	for (size_t i = 0; i < b.len; i++) {
		b.data[i] ^= 0x80;
		assert_int_equal(coffer_box_open(key, NULL, 0, b.data, b.len, &pt),
		    COFFER_E_AUTH);
		b.data[i] ^= 0x80;
	}
	assert_int_equal(coffer_box_open(other, NULL, 0, b.data, b.len, &pt),
	    COFFER_E_AUTH);
	assert_int_equal(coffer_box_open(key, (const uint8_t *)"a", 1, b.data,
	    b.len, &pt), COFFER_E_AUTH);
	assert_int_equal(coffer_box_open(key, NULL, 0, b.data, b.len - 1, &pt),
	    COFFER_E_AUTH);
	assert_int_equal(coffer_box_open(key, NULL, 0, b.data, 27, &pt),
	    COFFER_E_TRUNCATED);
	assert_int_equal(pt.len, 0);
	assert_int_equal(coffer_box_open(key, NULL, 0, b.data, b.len, &pt), 0);
	assert_int_equal(coffer_box_seal(key, NULL, 0, b.data,
	    COFFER_BOX_MAX_MSG + 1, &b), COFFER_E_LIMIT);
	coffer_buf_release(&b);
	coffer_buf_release(&pt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_box__round_trips_with_fresh_nonces),
		cmocka_unit_test(test_box__layout_is_nonce_ct_tag),
		cmocka_unit_test(test_box__rejects_any_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
