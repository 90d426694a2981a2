// SPDX-License-Identifier: Apache-2.0
// Unit tests for the digest on a second thread (src/crypto/digest_pipe.c):
// the digest is the one of the bytes pushed, in order, whatever the ring
// size and buffer lengths; stopping early neither hangs nor leaks; misuse
// is refused.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/digest_pipe.h"
#include "crypto/hash.h"

#define SLOT 1000
#define TOTAL 300000

static uint8_t data[TOTAL];

static int
setup(void **state)
{
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < TOTAL; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (uint8_t)(x >> 16);
	}
	return 0;
}

/* Push data[0..TOTAL) in pieces of 0 to SLOT bytes through a ring of
 * nslots; return the digest. */
static void
digest_through(size_t nslots, uint8_t out[32])
{
	struct coffer_hash *h = NULL;
	struct coffer_dpipe *p = NULL;
	size_t off = 0, k = 0;

	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_dpipe_new(h, SLOT, nslots, &p), 0);
	while (off < TOTAL) {
		size_t n = (k * 7919) % (SLOT + 1);
		uint8_t *slot;

		if (n > TOTAL - off)
			n = TOTAL - off;
		assert_int_equal(coffer_dpipe_next(p, &slot), 0);
		memcpy(slot, data + off, n);
		coffer_dpipe_push(p, n);
		off += n;
		k++;
	}
	assert_int_equal(coffer_dpipe_end(p), 0);
	assert_int_equal(coffer_hash_final(h, out, 32), 0);
	coffer_dpipe_free(p);
	coffer_hash_free(h);
}

static void
test_dpipe__digest_is_that_of_the_bytes_pushed_in_order(void **state)
{
	uint8_t want[32], got[32];
	const size_t rings[] = { 2, 3, 8, 64 };

	(void)state;
	assert_int_equal(coffer_sha256(data, TOTAL, want), 0);
	for (size_t i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
		digest_through(rings[i], got);
		assert_memory_equal(got, want, 32);
	}
}

static void
test_dpipe__free_without_end_stops_the_thread(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_dpipe *p = NULL;
	uint8_t *slot;

	(void)state;
	/* an abandoned pipe with buffers still queued (the caller failed
	 * half-way): _free returns, and ASan sees nothing leak */
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_dpipe_new(h, SLOT, 4, &p), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(coffer_dpipe_next(p, &slot), 0);
		memset(slot, i, SLOT);
		coffer_dpipe_push(p, SLOT);
	}
	coffer_dpipe_free(p);
	/* never started */
	coffer_dpipe_free(NULL);
	/* after _end, no more buffers */
	assert_int_equal(coffer_dpipe_new(h, SLOT, 2, &p), 0);
	assert_int_equal(coffer_dpipe_end(p), 0);
	assert_int_equal(coffer_dpipe_next(p, &slot), COFFER_E_STATE);
	coffer_dpipe_free(p);
	coffer_hash_free(h);
}

static void
test_dpipe__refuses_bad_rings(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_dpipe *p = NULL;

	(void)state;
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_dpipe_new(h, SLOT, 1, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_dpipe_new(h, SLOT, 65, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_dpipe_new(h, 0, 4, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_dpipe_new(NULL, SLOT, 4, &p), COFFER_E_INVAL);
	assert_null(p);
	coffer_hash_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpipe__digest_is_that_of_the_bytes_pushed_in_order),
		cmocka_unit_test(test_dpipe__free_without_end_stops_the_thread),
		cmocka_unit_test(test_dpipe__refuses_bad_rings),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
