// SPDX-License-Identifier: Apache-2.0
// Unit tests for SHA-256, SHA-384 and HMAC-SHA256 (src/crypto/hash.c):
// FIPS 180 examples and RFC 4231 known answers, one-shot and streaming.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/enc.h"
#include "lib/mem.h"

static void
assert_hex(const uint8_t *got, size_t n, const char *want)
{
	char hex[2 * 64 + 1];

	assert_true(n <= 64);
	coffer_hex_encode(got, n, hex);
	assert_string_equal(hex, want);
}

static const char abc448[] =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

static void
test_hash__sha256_known_answers(void **state)
{
	uint8_t d[32];

	(void)state;
	assert_int_equal(coffer_sha256("abc", 3, d), 0);
	assert_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(coffer_sha256("", 0, d), 0);
	assert_hex(d, 32, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	assert_int_equal(coffer_sha256(abc448, strlen(abc448), d), 0);
	assert_hex(d, 32, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_hash__sha384_known_answers(void **state)
{
	uint8_t d[48];

	(void)state;
	assert_int_equal(coffer_sha384("abc", 3, d), 0);
	assert_hex(d, 48, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
	    "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
	assert_int_equal(coffer_sha384("", 0, d), 0);
	assert_hex(d, 48, "38b060a751ac96384cd9327eb1b1e36a21fdb71114be0743"
	    "4c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b");
}

/* FIPS 180-2 appendix C examples. */
static void
test_hash__sha512_known_answers(void **state)
{
	uint8_t d[64];

	(void)state;
	assert_int_equal(coffer_sha512("abc", 3, d), 0);
	assert_hex(d, 64, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	assert_int_equal(coffer_sha512("", 0, d), 0);
	assert_hex(d, 64, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
	    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
}

/* A million 'a' fed in uneven pieces: streaming equals the FIPS answer. */
static void
test_hash__streaming_matches_one_shot(void **state)
{
	struct coffer_hash *h = NULL;
	uint8_t *a, d[32], d384[48], one[48];
	size_t done = 0, step = 1;

	(void)state;
	assert_non_null(a = coffer_malloc(1000000));
	memset(a, 'a', 1000000);
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	while (done < 1000000) {
		size_t k = 1000000 - done < step ? 1000000 - done : step;

		assert_int_equal(coffer_hash_update(h, a + done, k), 0);
		done += k;
		step = step * 3 + 1;
	}
	assert_int_equal(coffer_hash_update(h, NULL, 0), 0);
	assert_int_equal(coffer_hash_final(h, d, 48), COFFER_E_INVAL);
	assert_int_equal(coffer_hash_final(h, d, 32), 0);
	assert_hex(d, 32, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	coffer_hash_free(h);

	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA384, &h), 0);
	assert_int_equal(coffer_hash_update(h, "a", 1), 0);
	assert_int_equal(coffer_hash_update(h, "bc", 2), 0);
	assert_int_equal(coffer_hash_final(h, d384, 48), 0);
	assert_int_equal(coffer_sha384("abc", 3, one), 0);
	assert_memory_equal(d384, one, 48);
	coffer_hash_free(h);
	coffer_hash_free(NULL);
	assert_int_equal(coffer_hash_new((enum coffer_hash_alg)7, &h),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_hash_len(COFFER_HASH_SHA384), 48);
	assert_int_equal(coffer_hash_len((enum coffer_hash_alg)7), 0);
	free(a);
}

/* RFC 4231 test cases 1, 2 and 6, and an empty key. */
static void
test_hash__hmac_sha256_rfc4231(void **state)
{
	uint8_t key[131], d[32];
	static const char big[] =
	    "Test Using Larger Than Block-Size Key - Hash Key First";

	(void)state;
	memset(key, 0x0b, 20);
	assert_int_equal(coffer_hmac_sha256(key, 20, "Hi There", 8, d), 0);
	assert_hex(d, 32, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	assert_int_equal(coffer_hmac_sha256((const uint8_t *)"Jefe", 4,
	    "what do ya want for nothing?", 28, d), 0);
	assert_hex(d, 32, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof(key));
	assert_int_equal(coffer_hmac_sha256(key, sizeof(key), big, strlen(big),
	    d), 0);
	assert_hex(d, 32, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	/* An empty key is a key of zeros (RFC 2104); HKDF's empty salt. */
	{
		uint8_t zeros[32] = { 0 }, d2[32];

		assert_int_equal(coffer_hmac_sha256(NULL, 0, "x", 1, d), 0);
		assert_int_equal(coffer_hmac_sha256(zeros, 32, "x", 1, d2), 0);
		assert_memory_equal(d, d2, 32);
	}
}

/* A kept context: reset drops what was hashed, once gives coffer_sha256's
 * digest message after message. */
static void
test_hash__kept_context_matches_one_shot(void **state)
{
	struct coffer_hash *h = NULL;
	uint8_t msg[300], d1[32], d2[32];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13);
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	for (size_t n = 0; n < sizeof(msg); n += 37) {
		assert_int_equal(coffer_hash_update(h, "junk", 4), 0);
		assert_int_equal(coffer_hash_once(h, msg, n, d1, 32), 0);
		assert_int_equal(coffer_sha256(msg, n, d2), 0);
		assert_memory_equal(d1, d2, 32);
	}
	assert_int_equal(coffer_hash_once(h, msg, 1, d1, 31), COFFER_E_INVAL);
	assert_int_equal(coffer_hash_reset(h), 0);
	assert_int_equal(coffer_hash_update(h, msg, 100), 0);
	assert_int_equal(coffer_hash_final(h, d1, 32), 0);
	assert_int_equal(coffer_sha256(msg, 100, d2), 0);
	assert_memory_equal(d1, d2, 32);
	coffer_hash_free(h);
}

/* A kept HMAC context: message after message under one key (in pieces),
 * another key, the errors before a key; each MAC the one-shot's. */
static void
test_hash__kept_hmac_matches_one_shot(void **state)
{
	struct coffer_hmac *h = NULL;
	uint8_t key[20], d1[32], d2[32], msg[200];

	(void)state;
	memset(key, 0x0b, sizeof(key));
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 3);
	assert_int_equal(coffer_hmac_new(&h), 0);
	assert_int_equal(coffer_hmac_update(h, "x", 1), COFFER_E_STATE);
	assert_int_equal(coffer_hmac_final(h, d1), COFFER_E_STATE);
	assert_int_equal(coffer_hmac_key(h, key, sizeof(key)), 0);
	assert_int_equal(coffer_hmac_update(h, "Hi ", 3), 0);
	assert_int_equal(coffer_hmac_update(h, "There", 5), 0);
	assert_int_equal(coffer_hmac_final(h, d1), 0);
	assert_hex(d1, 32, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	for (size_t n = 0; n < sizeof(msg); n += 41) {
		assert_int_equal(coffer_hmac_update(h, msg, n / 2), 0);
		assert_int_equal(coffer_hmac_update(h, msg + n / 2, n - n / 2), 0);
		assert_int_equal(coffer_hmac_final(h, d1), 0);
		assert_int_equal(coffer_hmac_sha256(key, sizeof(key), msg, n, d2), 0);
		assert_memory_equal(d1, d2, 32);
		/* A final alone is the MAC of the empty message. */
		assert_int_equal(coffer_hmac_final(h, d1), 0);
		assert_int_equal(coffer_hmac_sha256(key, sizeof(key), "", 0, d2), 0);
		assert_memory_equal(d1, d2, 32);
	}
	assert_int_equal(coffer_hmac_key(h, (const uint8_t *)"Jefe", 4), 0);
	assert_int_equal(coffer_hmac_update(h, "what do ya want for nothing?", 28), 0);
	assert_int_equal(coffer_hmac_final(h, d1), 0);
	assert_hex(d1, 32, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	coffer_hmac_free(h);
	coffer_hmac_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash__sha256_known_answers),
		cmocka_unit_test(test_hash__sha384_known_answers),
		cmocka_unit_test(test_hash__sha512_known_answers),
		cmocka_unit_test(test_hash__streaming_matches_one_shot),
		cmocka_unit_test(test_hash__hmac_sha256_rfc4231),
		cmocka_unit_test(test_hash__kept_context_matches_one_shot),
		cmocka_unit_test(test_hash__kept_hmac_matches_one_shot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
