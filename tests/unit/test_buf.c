// SPDX-License-Identifier: Apache-2.0
// Unit tests for the bounded buffer and the read cursor (src/lib/buf.c).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/buf.h"

static void
test_buf__put_keeps_nul_terminated(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1024);

	(void)state;
	assert_string_equal(coffer_buf_str(&b), "");
	assert_int_equal(coffer_buf_puts(&b, "abc"), 0);
	assert_int_equal(coffer_buf_putf(&b, "-%d-", 42), 0);
	assert_int_equal(b.len, 7);
	assert_string_equal(coffer_buf_str(&b), "abc-42-");
	assert_int_equal(b.data[b.len], 0);
	coffer_buf_release(&b);
	assert_null(b.data);
}

/* An empty buffer filled at once gets what it asks for (a big item's
 * buffer no larger than the item, doc/worker.md 9.4 "Memory"); appends
 * still double, so that n small puts cost O(n) copies. */
static void
test_buf__empty_buffer_grows_to_exactly_its_first_need(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(4 << 20);
	struct coffer_buf s = COFFER_BUF_INIT(4 << 20);
	size_t n = ((size_t)1 << 20) + 100;
	uint8_t *p;

	(void)state;
	assert_int_equal(coffer_buf_reserve(&b, n, &p), 0);
	memset(p, 0x5a, n);
	coffer_buf_commit(&b, n);
	assert_int_equal(b.alloc, n + 1);
	/* The next growth doubles. */
	assert_int_equal(coffer_buf_put(&b, "x", 1), 0);
	assert_int_equal(b.alloc, 2 * (n + 1));
	coffer_buf_release(&b);
	/* Small and not secret: at least 64 bytes, then exact. */
	assert_int_equal(coffer_buf_put(&s, "ab", 2), 0);
	assert_int_equal(s.alloc, 64);
	coffer_buf_reset(&s);
	assert_int_equal(coffer_buf_reserve(&s, 1000, &p), 0);
	assert_int_equal(s.alloc, 1001);
	/* Appends to a non-empty buffer double. */
	coffer_buf_commit(&s, 1000);
	assert_int_equal(coffer_buf_reserve(&s, 10, &p), 0);
	assert_int_equal(s.alloc, 2002);
	coffer_buf_release(&s);
}

static void
test_buf__rejects_growth_past_max(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(8);
	uint8_t x[9] = { 0 };

	(void)state;
	assert_int_equal(coffer_buf_put(&b, x, 8), 0);
	assert_int_equal(coffer_buf_put(&b, x, 1), COFFER_E_LIMIT);
	assert_int_equal(b.len, 8);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_buf_put(&b, x, 9), COFFER_E_LIMIT);
	assert_int_equal(b.len, 0);
	assert_int_equal(coffer_buf_putf(&b, "%s", "123456789"), COFFER_E_LIMIT);
	coffer_buf_release(&b);
}

static void
test_buf__integers_round_trip_both_orders(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(64);
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	struct coffer_cur c;

	(void)state;
	assert_int_equal(coffer_buf_put_u8(&b, 0xab), 0);
	assert_int_equal(coffer_buf_put_u16be(&b, 0x0102), 0);
	assert_int_equal(coffer_buf_put_u32be(&b, 0x03040506), 0);
	assert_int_equal(coffer_buf_put_u64be(&b, 0x0708090a0b0c0d0eULL), 0);
	assert_int_equal(coffer_buf_put_u16le(&b, 0x0102), 0);
	assert_int_equal(coffer_buf_put_u32le(&b, 0x03040506), 0);
	assert_int_equal(coffer_buf_put_u64le(&b, 0x0708090a0b0c0d0eULL), 0);
	assert_memory_equal(b.data, "\xab\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e"
	    "\x02\x01\x06\x05\x04\x03\x0e\x0d\x0c\x0b\x0a\x09\x08\x07", 29);
	coffer_cur_init(&c, b.data, b.len);
	assert_int_equal(coffer_cur_u8(&c, &u8), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(coffer_cur_u16be(&c, &u16), 0);
	assert_int_equal(u16, 0x0102);
	assert_int_equal(coffer_cur_u32be(&c, &u32), 0);
	assert_int_equal(u32, 0x03040506);
	assert_int_equal(coffer_cur_u64be(&c, &u64), 0);
	assert_true(u64 == 0x0708090a0b0c0d0eULL);
	assert_int_equal(coffer_cur_u16le(&c, &u16), 0);
	assert_int_equal(u16, 0x0102);
	assert_int_equal(coffer_cur_u32le(&c, &u32), 0);
	assert_int_equal(u32, 0x03040506);
	assert_int_equal(coffer_cur_u64le(&c, &u64), 0);
	assert_true(u64 == 0x0708090a0b0c0d0eULL);
	assert_int_equal(coffer_cur_left(&c), 0);
	coffer_buf_release(&b);
}

static void
test_cur__short_read_consumes_nothing(void **state)
{
	const uint8_t data[3] = { 1, 2, 3 };
	struct coffer_cur c;
	uint32_t v = 7;

	(void)state;
	coffer_cur_init(&c, data, sizeof(data));
	assert_int_equal(coffer_cur_u32be(&c, &v), COFFER_E_TRUNCATED);
	assert_int_equal(v, 7);
	assert_int_equal(coffer_cur_left(&c), 3);
	assert_int_equal(coffer_cur_skip(&c, 4), COFFER_E_TRUNCATED);
	assert_int_equal(coffer_cur_skip(&c, 3), 0);
	assert_int_equal(coffer_cur_skip(&c, (size_t)-1), COFFER_E_TRUNCATED);
}

static void
test_buf__get_and_detach(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(1 << 20);
	uint8_t out[4], *p;
	size_t n;

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(coffer_buf_put(&b, "wxyz", 4), 0);
	assert_int_equal(coffer_buf_get(&b, out, 4), 0);
	assert_memory_equal(out, "wxyz", 4);
	assert_int_equal(coffer_buf_avail(&b), 3996);
	assert_int_equal(coffer_buf_detach(&b, &p, &n), 0);
	assert_int_equal(n, 4000);
	assert_null(b.data);
	assert_int_equal(p[n], 0);
	free(p);
}

static void
test_buf__take_moves_the_bytes_without_a_copy(void **state)
{
	struct coffer_buf src = COFFER_BUF_INIT_SECRET(1 << 20);
	struct coffer_buf dst = COFFER_BUF_INIT_SECRET(6);
	struct coffer_buf plain = COFFER_BUF_INIT(1 << 20);
	uint8_t *mem;

	(void)state;
	assert_int_equal(coffer_buf_puts(&src, "head:secret"), 0);
	assert_int_equal(coffer_buf_puts(&dst, "old"), 0);
	mem = src.data;
	/* Out of range, over dst's limit, or secret into plain: nothing moves. */
	assert_int_equal(coffer_buf_take(&dst, &src, 5, 7), COFFER_E_INVAL);
	assert_int_equal(coffer_buf_take(&plain, &src, 5, 6), COFFER_E_INVAL);
	assert_int_equal(coffer_buf_take(&dst, &src, 0, 11), COFFER_E_LIMIT);
	assert_string_equal((char *)dst.data, "old");
	assert_int_equal(src.len, 11);
	assert_int_equal(coffer_buf_take(&dst, &src, 5, 6), 0);
	assert_ptr_equal(dst.data, mem);
	assert_int_equal(dst.len, 6);
	assert_string_equal((char *)dst.data, "secret");
	assert_null(src.data);
	assert_int_equal(src.len, 0);
	/* The source is usable again, empty. */
	assert_int_equal(coffer_buf_puts(&src, "x"), 0);
	coffer_buf_release(&src);
	coffer_buf_release(&dst);
	coffer_buf_release(&plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__put_keeps_nul_terminated),
		cmocka_unit_test(test_buf__rejects_growth_past_max),
		cmocka_unit_test(test_buf__empty_buffer_grows_to_exactly_its_first_need),
		cmocka_unit_test(test_buf__integers_round_trip_both_orders),
		cmocka_unit_test(test_cur__short_read_consumes_nothing),
		cmocka_unit_test(test_buf__get_and_detach),
		cmocka_unit_test(test_buf__take_moves_the_bytes_without_a_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
