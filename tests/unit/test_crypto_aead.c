// SPDX-License-Identifier: Apache-2.0
// Unit tests for the keyed AEAD contexts (src/crypto/aead.c): every
// applicable Wycheproof AES-GCM and ChaCha20-Poly1305 vector, and the
// contract (bad key sizes, wiping on failure, in-place use).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/aead.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "../support/vectors.h"

/* Run one AeadTest vector: encryption must give ct || tag for a valid
 * test, and decryption must succeed exactly when the test is valid. */
static void
run_aead_test(struct vec_tally *t, enum coffer_aead_alg alg, const json_t *tc)
{
	struct coffer_buf key = COFFER_BUF_INIT(64), iv = COFFER_BUF_INIT(512),
	    aad = COFFER_BUF_INIT(1 << 16), msg = COFFER_BUF_INIT(1 << 16),
	    ct = COFFER_BUF_INIT(1 << 16), tag = COFFER_BUF_INIT(64);
	struct coffer_aead *a = NULL;
	long long id = vec_int(tc, "tcId");
	const char *result = vec_str(tc, "result");
	uint8_t *out = NULL, *back = NULL, gtag[COFFER_AEAD_TAG_LEN];
	int valid = strcmp(result, "valid") == 0, r;

	assert_true(valid || strcmp(result, "invalid") == 0);
	assert_int_equal(vec_hex(tc, "key", &key), 0);
	assert_int_equal(vec_hex(tc, "iv", &iv), 0);
	assert_int_equal(vec_hex(tc, "aad", &aad), 0);
	assert_int_equal(vec_hex(tc, "msg", &msg), 0);
	assert_int_equal(vec_hex(tc, "ct", &ct), 0);
	assert_int_equal(vec_hex(tc, "tag", &tag), 0);
	assert_int_equal(iv.len, COFFER_AEAD_NONCE_LEN);
	vec_ran(t);
	if (tag.len != COFFER_AEAD_TAG_LEN) {
		/* aead.h only produces and checks full 128-bit tags. */
		if (valid)
			vec_fail(t, id, "valid test with a %zu-byte tag", tag.len);
		goto out;
	}
	assert_int_equal(ct.len, msg.len);
	assert_int_equal(coffer_aead_new(alg, key.data, key.len, &a), 0);
	out = coffer_malloc(msg.len);
	back = coffer_malloc(msg.len);
	assert_non_null(out);
	assert_non_null(back);
	if (valid) {
		if ((r = coffer_aead_encrypt(a, iv.data, aad.data, aad.len,
		    msg.data, msg.len, out, gtag)) != 0)
			vec_fail(t, id, "encrypt failed: %s", coffer_errdetail());
		else if (memcmp(out, ct.data, ct.len) != 0 ||
		    memcmp(gtag, tag.data, sizeof(gtag)) != 0)
			vec_fail(t, id, "ct || tag mismatch");
	}
	r = coffer_aead_decrypt(a, iv.data, aad.data, aad.len, ct.data, ct.len,
	    tag.data, back);
	if (valid && r != 0)
		vec_fail(t, id, "decrypt of a valid test failed: %s",
		    coffer_errdetail());
	else if (valid && memcmp(back, msg.data, msg.len) != 0)
		vec_fail(t, id, "decrypt gave the wrong plaintext");
	else if (!valid && r != COFFER_E_AUTH)
		vec_fail(t, id, "invalid test: decrypt returned %d, want "
		    "COFFER_E_AUTH", r);
out:
	coffer_aead_free(a);
	free(out);
	free(back);
	coffer_buf_release(&key);
	coffer_buf_release(&iv);
	coffer_buf_release(&aad);
	coffer_buf_release(&msg);
	coffer_buf_release(&ct);
	coffer_buf_release(&tag);
}

static void
test_aead__aes_gcm_wycheproof(void **state)
{
	struct vec_tally t;
	json_t *doc = NULL, *g, *tc;
	size_t i, j;

	(void)state;
	assert_int_equal(vec_load("crypto/aes_gcm_test.json", &doc), 0);
	vec_tally_init(&t, "aes_gcm_test.json");
	json_array_foreach(json_object_get(doc, "testGroups"), i, g) {
		long long ks = vec_int(g, "keySize"), ivs = vec_int(g, "ivSize");
		enum coffer_aead_alg alg = ks == 256 ? COFFER_AEAD_AES256GCM :
		    COFFER_AEAD_AES128GCM;

		json_array_foreach(json_object_get(g, "tests"), j, tc) {
			if (ks == 192)
				vec_skip(&t, "AES-192 keys: not offered by aead.h");
			else if (ivs != 96)
				vec_skip(&t, "IV not 96 bits: aead.h takes only "
				    "96-bit nonces (by design)");
			else
				run_aead_test(&t, alg, tc);
		}
	}
	assert_int_equal(t.total, vec_int(doc, "numberOfTests"));
	assert_int_equal(vec_report(&t), 0);
	assert_true(t.ran >= 133); /* 66 AES-256 + 67 AES-128 96-bit IV tests */
	json_decref(doc);
}

/* The ChaCha20-Poly1305 tests with other nonce sizes are all invalid. The
 * only API, aead.h, takes exactly 12-byte nonces (its type is a 12-byte
 * array): such a nonce cannot even be passed, so these count as correctly
 * unsupported; we check that each of them is indeed marked invalid. */
static void
test_aead__chacha20_poly1305_wycheproof(void **state)
{
	struct vec_tally t;
	json_t *doc = NULL, *g, *tc;
	size_t i, j, unsupported = 0;

	(void)state;
	assert_int_equal(vec_load("crypto/chacha20_poly1305_test.json", &doc), 0);
	vec_tally_init(&t, "chacha20_poly1305_test.json");
	json_array_foreach(json_object_get(doc, "testGroups"), i, g) {
		json_array_foreach(json_object_get(g, "tests"), j, tc) {
			if (vec_int(g, "ivSize") == 96 && vec_int(g, "keySize") == 256) {
				run_aead_test(&t, COFFER_AEAD_CHACHA20POLY1305, tc);
				continue;
			}
			vec_ran(&t);
			unsupported++;
			if (strcmp(vec_str(tc, "result"), "invalid") != 0)
				vec_fail(&t, vec_int(tc, "tcId"),
				    "a valid test with a non-96-bit nonce");
		}
	}
	printf("# chacha20_poly1305_test.json: %zu tests with non-96-bit "
	    "nonces counted as correctly unsupported (invalid; aead.h takes "
	    "only 12-byte nonces)\n", unsupported);
	assert_int_equal(t.total, vec_int(doc, "numberOfTests"));
	assert_int_equal(vec_report(&t), 0);
	assert_int_equal(t.skipped, 0);
	json_decref(doc);
}

static void
test_aead__rejects_wrong_key_length_and_alg(void **state)
{
	uint8_t key[33] = { 0 };
	struct coffer_aead *a = NULL;

	(void)state;
	assert_int_equal(coffer_aead_new(COFFER_AEAD_AES256GCM, key, 16, &a),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_aead_new(COFFER_AEAD_AES256GCM, key, 33, &a),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_aead_new(COFFER_AEAD_AES128GCM, key, 32, &a),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_aead_new((enum coffer_aead_alg)99, key, 32, &a),
	    COFFER_E_UNSUPPORTED);
	assert_null(a);
	coffer_aead_free(NULL);
}

static void
test_aead__round_trips_in_place_and_wipes_on_tamper(void **state)
{
	const enum coffer_aead_alg algs[] = { COFFER_AEAD_AES256GCM,
	    COFFER_AEAD_CHACHA20POLY1305 };
	uint8_t key[32], nonce[12] = { 1, 2, 3 }, tag[16], buf[100], orig[100];

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof(orig); i++)
		orig[i] = (uint8_t)(i + 1);
	for (size_t k = 0; k < 2; k++) {
		struct coffer_aead *a = NULL;

		assert_int_equal(coffer_aead_new(algs[k], key, 32, &a), 0);
		memcpy(buf, orig, sizeof(buf));
		assert_int_equal(coffer_aead_encrypt(a, nonce, (const uint8_t *)"h", 1,
		    buf, sizeof(buf), buf, tag), 0);
		assert_memory_not_equal(buf, orig, sizeof(buf));
		/* The same context decrypts many messages. */
		for (int rep = 0; rep < 2; rep++) {
			uint8_t pt[100];

			assert_int_equal(coffer_aead_decrypt(a, nonce,
			    (const uint8_t *)"h", 1, buf, sizeof(buf), tag, pt), 0);
			assert_memory_equal(pt, orig, sizeof(pt));
		}
		/* Wrong AAD, then a flipped ciphertext bit: plaintext wiped. */
		{
			uint8_t pt[100];

			memset(pt, 0xaa, sizeof(pt));
			assert_int_equal(coffer_aead_decrypt(a, nonce,
			    (const uint8_t *)"x", 1, buf, sizeof(buf), tag, pt),
			    COFFER_E_AUTH);
			for (size_t i = 0; i < sizeof(pt); i++)
				assert_int_equal(pt[i], 0);
			buf[50] ^= 1;
			assert_int_equal(coffer_aead_decrypt(a, nonce,
			    (const uint8_t *)"h", 1, buf, sizeof(buf), tag, pt),
			    COFFER_E_AUTH);
			buf[50] ^= 1;
			/* In place still works after failures. */
			assert_int_equal(coffer_aead_decrypt(a, nonce,
			    (const uint8_t *)"h", 1, buf, sizeof(buf), tag, buf), 0);
			assert_memory_equal(buf, orig, sizeof(buf));
		}
		coffer_aead_free(a);
	}
}

/* A context keyed for one direction only, and one keyed again (with
 * another key, another algorithm, after a failure), give the bytes and
 * verdicts of a fresh two-way context. */
static void
test_aead__one_way_and_rekeyed_contexts_match_fresh_ones(void **state)
{
	const enum coffer_aead_alg algs[] = { COFFER_AEAD_AES256GCM,
	    COFFER_AEAD_CHACHA20POLY1305, COFFER_AEAD_AES128GCM };
	struct coffer_aead *e = NULL, *d = NULL, *f = NULL;
	uint8_t key[32], nonce[12] = { 9 }, msg[77], c1[77], c2[77], t1[16],
	    t2[16], back[77];

	(void)state;
	memset(msg, 0x5c, sizeof(msg));
	memset(key, 1, sizeof(key));
	assert_int_equal(coffer_aead_new_dir(COFFER_AEAD_AES256GCM,
	    COFFER_AEAD_ENCRYPT, key, 32, &e), 0);
	assert_int_equal(coffer_aead_new_dir(COFFER_AEAD_AES256GCM,
	    COFFER_AEAD_DECRYPT, key, 32, &d), 0);
	/* The other direction is refused, and the plaintext wiped. */
	memset(back, 0xaa, sizeof(back));
	assert_int_equal(coffer_aead_decrypt(e, nonce, NULL, 0, msg, sizeof(msg),
	    t1, back), COFFER_E_STATE);
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(coffer_aead_encrypt(d, nonce, NULL, 0, msg, sizeof(msg),
	    c1, t1), COFFER_E_STATE);
	assert_int_equal(coffer_aead_new_dir(COFFER_AEAD_AES256GCM, 0, key, 32,
	    &f), COFFER_E_INVAL);
	assert_int_equal(coffer_aead_new_dir(COFFER_AEAD_AES256GCM, 4, key, 32,
	    &f), COFFER_E_INVAL);
	assert_null(f);
	/* Each algorithm twice in a row: re-keyed under the same one, then
	 * under another. */
	for (int i = 0; i < 12; i++) {
		enum coffer_aead_alg alg = algs[(i / 2) % 3];
		size_t kl = coffer_aead_key_len(alg);

		memset(key, i + 2, sizeof(key));
		nonce[1] = (uint8_t)i;
		assert_int_equal(coffer_aead_rekey(e, alg, key, kl), 0);
		assert_int_equal(coffer_aead_rekey(d, alg, key, kl), 0);
		assert_int_equal(coffer_aead_new(alg, key, kl, &f), 0);
		assert_int_equal(coffer_aead_encrypt(e, nonce, key, 3, msg,
		    sizeof(msg), c1, t1), 0);
		assert_int_equal(coffer_aead_encrypt(f, nonce, key, 3, msg,
		    sizeof(msg), c2, t2), 0);
		assert_memory_equal(c1, c2, sizeof(c1));
		assert_memory_equal(t1, t2, sizeof(t1));
		/* A failed decryption leaves nothing behind for the next. */
		c1[5] ^= 1;
		assert_int_equal(coffer_aead_decrypt(d, nonce, key, 3, c1,
		    sizeof(c1), t1, back), COFFER_E_AUTH);
		c1[5] ^= 1;
		assert_int_equal(coffer_aead_decrypt(d, nonce, key, 3, c1,
		    sizeof(c1), t1, back), 0);
		assert_memory_equal(back, msg, sizeof(msg));
		/* A refused key changes nothing but must be followed by a
		 * good one. */
		assert_int_equal(coffer_aead_rekey(e, alg, key, kl + 1),
		    COFFER_E_INVAL);
		coffer_aead_free(f);
		f = NULL;
	}
	coffer_aead_free(e);
	coffer_aead_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aead__aes_gcm_wycheproof),
		cmocka_unit_test(test_aead__chacha20_poly1305_wycheproof),
		cmocka_unit_test(test_aead__rejects_wrong_key_length_and_alg),
		cmocka_unit_test(test_aead__round_trips_in_place_and_wipes_on_tamper),
		cmocka_unit_test(test_aead__one_way_and_rekeyed_contexts_match_fresh_ones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
