// SPDX-License-Identifier: Apache-2.0
// Unit tests for key wrapping (src/crypto/wrap.c): round trips in base and
// auth mode with both AEADs, the documented layout (opened here with plain
// HPKE, as a second implementation would), and every rejection listed in
// doc/format/wrap.md.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/hpke.h"
#include "crypto/wrap.h"
#include "lib/buf.h"

struct keys {
	uint8_t skR[32], pkR[32], skS[32], pkS[32];
};

static void
make_keys(struct keys *k)
{
	assert_int_equal(coffer_hpke_keygen(k->skR, k->pkR), 0);
	assert_int_equal(coffer_hpke_keygen(k->skS, k->pkS), 0);
}

static const uint8_t secret[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	32 };

static void
test_wrap__round_trips_base_and_auth_both_aeads(void **state)
{
	const enum coffer_hpke_aead aeads[] = { COFFER_HPKE_AES256GCM,
	    COFFER_HPKE_CHACHA20POLY1305 };
	struct keys k;

	(void)state;
	make_keys(&k);
	for (int a = 0; a < 2; a++) {
		for (int auth = 0; auth < 2; auth++) {
			struct coffer_buf blob = COFFER_BUF_INIT(4096),
			    out = COFFER_BUF_INIT_SECRET(4096);

			assert_int_equal(coffer_wrap_with(aeads[a], k.pkR,
			    auth ? k.skS : NULL, (const uint8_t *)"job-7", 5,
			    (const uint8_t *)"kid", 3, secret, sizeof(secret), &blob), 0);
			assert_int_equal(blob.len, COFFER_WRAP_OVERHEAD + 32);
			assert_memory_equal(blob.data, "CFWK\x01", 5);
			assert_int_equal(blob.data[5], auth ? 2 : 0);
			assert_memory_equal(blob.data + 6, "\x00\x20\x00\x01\x00", 5);
			assert_int_equal(blob.data[11], aeads[a]);
			assert_int_equal(coffer_unwrap(k.skR, auth ? k.pkS : NULL,
			    (const uint8_t *)"job-7", 5, (const uint8_t *)"kid", 3,
			    blob.data, blob.len, &out), 0);
			assert_int_equal(out.len, 32);
			assert_memory_equal(out.data, secret, 32);
			coffer_buf_release(&blob);
			coffer_buf_release(&out);
		}
	}
}

/* A sender's key decoded once wraps as its raw secret does: auth mode
 * under it, base mode without one, and a blob of another sender's key
 * does not open as its. */
static void
test_wrap__decoded_sender_key_wraps_as_its_secret(void **state)
{
	struct coffer_dh_key *S = NULL;
	struct keys k, other;

	(void)state;
	make_keys(&k);
	make_keys(&other);
	assert_int_equal(coffer_dh_key_new(k.skS, &S), 0);
	for (int i = 0; i < 3; i++) { /* one key, several wraps */
		for (int auth = 0; auth < 2; auth++) {
			struct coffer_buf blob = COFFER_BUF_INIT(4096),
			    out = COFFER_BUF_INIT_SECRET(4096);

			assert_int_equal(coffer_wrap_key(k.pkR, auth ? S : NULL,
			    (const uint8_t *)"job-7", 5, NULL, 0, secret,
			    sizeof(secret), &blob), 0);
			assert_int_equal(blob.len, COFFER_WRAP_OVERHEAD + 32);
			assert_int_equal(blob.data[5], auth ? 2 : 0);
			assert_int_equal(blob.data[11], COFFER_HPKE_AES256GCM);
			if (auth)
				assert_int_equal(coffer_unwrap(k.skR, other.pkS,
				    (const uint8_t *)"job-7", 5, NULL, 0, blob.data,
				    blob.len, &out), COFFER_E_AUTH);
			assert_int_equal(coffer_unwrap(k.skR, auth ? k.pkS : NULL,
			    (const uint8_t *)"job-7", 5, NULL, 0, blob.data, blob.len,
			    &out), 0);
			assert_int_equal(out.len, 32);
			assert_memory_equal(out.data, secret, 32);
			coffer_buf_release(&blob);
			coffer_buf_release(&out);
		}
	}
	coffer_dh_key_free(S);
}

/* A second implementation following doc/format/wrap.md can open it. */
static void
test_wrap__layout_is_plain_hpke_as_documented(void **state)
{
	struct coffer_buf blob = COFFER_BUF_INIT(4096),
	    out = COFFER_BUF_INIT_SECRET(4096);
	struct coffer_hpke_params p = { COFFER_HPKE_AES256GCM, NULL, 0, NULL, 0,
	    NULL, 0 };
	uint8_t info[32], aad[64];
	struct keys k;

	(void)state;
	make_keys(&k);
	assert_int_equal(coffer_wrap(k.pkR, k.skS, (const uint8_t *)"inf", 3,
	    (const uint8_t *)"AD", 2, secret, 16, &blob), 0);
	memcpy(info, "coffer/v1/wrap\0inf", 18);
	p.info = info;
	p.info_len = 18;
	memcpy(aad, blob.data, 12);
	memcpy(aad + 12, "AD", 2);
	assert_int_equal(coffer_hpke_open_once(&p, blob.data + 12, k.skR, k.pkS,
	    aad, 14, blob.data + 44, blob.len - 44, &out), 0);
	assert_int_equal(out.len, 16);
	assert_memory_equal(out.data, secret, 16);
	coffer_buf_release(&blob);
	coffer_buf_release(&out);
}

static int
unwrap_err(const struct keys *k, const uint8_t *pkS, const uint8_t *blob,
    size_t len, const char *info)
{
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(4096);
	int r = coffer_unwrap(k->skR, pkS, (const uint8_t *)info, strlen(info),
	    NULL, 0, blob, len, &out);

	if (r != 0)
		assert_int_equal(out.len, 0);
	coffer_buf_release(&out);
	return r;
}

static void
test_wrap__rejects_each_documented_case(void **state)
{
	struct coffer_buf base = COFFER_BUF_INIT(4096),
	    auth = COFFER_BUF_INIT(4096);
	uint8_t b[2048];
	struct keys k, other;
	size_t n;

	(void)state;
	make_keys(&k);
	make_keys(&other);
	assert_int_equal(coffer_wrap(k.pkR, NULL, (const uint8_t *)"i", 1, NULL, 0,
	    secret, 32, &base), 0);
	assert_int_equal(coffer_wrap(k.pkR, k.skS, (const uint8_t *)"i", 1, NULL,
	    0, secret, 32, &auth), 0);
	n = base.len;
	assert_int_equal(unwrap_err(&k, NULL, base.data, n, "i"), 0);
	/* 1. lengths */
	assert_int_equal(unwrap_err(&k, NULL, base.data, 60, "i"),
	    COFFER_E_TRUNCATED);
	memset(b, 0, sizeof(b));
	memcpy(b, base.data, n);
	assert_int_equal(unwrap_err(&k, NULL, b, 60 + 1025, "i"), COFFER_E_LIMIT);
	/* 2. magic */
	memcpy(b, base.data, n);
	b[0] = 'X';
	assert_int_equal(unwrap_err(&k, NULL, b, n, "i"), COFFER_E_FORMAT);
	/* 3. version */
	memcpy(b, base.data, n);
	b[4] = 2;
	assert_int_equal(unwrap_err(&k, NULL, b, n, "i"), COFFER_E_VERSION);
	/* 4. mode */
	memcpy(b, base.data, n);
	b[5] = 1;
	assert_int_equal(unwrap_err(&k, NULL, b, n, "i"), COFFER_E_FORMAT);
	/* 5. suite */
	for (int i = 6; i < 12; i++) {
		memcpy(b, base.data, n);
		b[i] ^= 0x40;
		assert_int_equal(unwrap_err(&k, NULL, b, n, "i"),
		    COFFER_E_UNSUPPORTED);
	}
	memcpy(b, base.data, n);
	b[11] = 1; /* AES-128-GCM: HPKE has it, wrapping does not accept it */
	assert_int_equal(unwrap_err(&k, NULL, b, n, "i"), COFFER_E_UNSUPPORTED);
	/* 6. mode expectations: no downgrade to base, auth needs the sender */
	assert_int_equal(unwrap_err(&k, k.pkS, base.data, n, "i"),
	    COFFER_E_POLICY);
	assert_int_equal(unwrap_err(&k, NULL, auth.data, auth.len, "i"),
	    COFFER_E_INVAL);
	/* Flipping the mode byte of an auth blob to base: must not open. */
	memcpy(b, auth.data, auth.len);
	b[5] = 0;
	assert_int_equal(unwrap_err(&k, NULL, b, auth.len, "i"), COFFER_E_AUTH);
	/* Switching the AEAD in the header: the header is authenticated. */
	memcpy(b, base.data, n);
	b[11] = 3;
	assert_int_equal(unwrap_err(&k, NULL, b, n, "i"), COFFER_E_AUTH);
	/* 7. small-order enc */
	memcpy(b, base.data, n);
	memset(b + 12, 0, 32);
	assert_int_equal(unwrap_err(&k, NULL, b, n, "i"), COFFER_E_FORMAT);
	/* 8. authentication: other info, other recipient, other sender,
	 * any flipped bit after the header. */
	assert_int_equal(unwrap_err(&k, NULL, base.data, n, "j"), COFFER_E_AUTH);
	assert_int_equal(unwrap_err(&other, NULL, base.data, n, "i"),
	    COFFER_E_AUTH);
	assert_int_equal(unwrap_err(&k, other.pkS, auth.data, auth.len, "i"),
	    COFFER_E_AUTH);
	for (size_t i = 12; i < n; i += 7) {
		memcpy(b, base.data, n);
		b[i] ^= 0x01;
		if (i >= 12 && i < 44) {
			int r = unwrap_err(&k, NULL, b, n, "i");

			/* A changed enc either is of small order or fails auth. */
			assert_true(r == COFFER_E_AUTH || r == COFFER_E_FORMAT);
		} else {
			assert_int_equal(unwrap_err(&k, NULL, b, n, "i"),
			    COFFER_E_AUTH);
		}
	}
	/* The aad is bound too. */
	{
		struct coffer_buf out = COFFER_BUF_INIT_SECRET(4096);

		assert_int_equal(coffer_unwrap(k.skR, NULL, (const uint8_t *)"i", 1,
		    (const uint8_t *)"x", 1, base.data, n, &out), COFFER_E_AUTH);
		coffer_buf_release(&out);
	}
	coffer_buf_release(&base);
	coffer_buf_release(&auth);
}

static void
test_wrap__rejects_bad_wrap_arguments(void **state)
{
	struct coffer_buf blob = COFFER_BUF_INIT(4096);
	uint8_t big[1025] = { 0 }, zero[32] = { 0 };
	struct keys k;

	(void)state;
	make_keys(&k);
	assert_int_equal(coffer_wrap(k.pkR, NULL, NULL, 0, NULL, 0, big, 0, &blob),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_wrap(k.pkR, NULL, NULL, 0, NULL, 0, big, 1025,
	    &blob), COFFER_E_INVAL);
	assert_int_equal(coffer_wrap(zero, NULL, NULL, 0, NULL, 0, big, 32, &blob),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_wrap_with(COFFER_HPKE_AES128GCM, k.pkR, NULL, NULL,
	    0, NULL, 0, big, 32, &blob), COFFER_E_UNSUPPORTED);
	assert_int_equal(blob.len, 0);
	assert_int_equal(coffer_wrap(k.pkR, NULL, NULL, 0, NULL, 0, big, 1024,
	    &blob), 0);
	assert_int_equal(blob.len, 60 + 1024);
	coffer_buf_release(&blob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrap__round_trips_base_and_auth_both_aeads),
		cmocka_unit_test(test_wrap__decoded_sender_key_wraps_as_its_secret),
		cmocka_unit_test(test_wrap__layout_is_plain_hpke_as_documented),
		cmocka_unit_test(test_wrap__rejects_each_documented_case),
		cmocka_unit_test(test_wrap__rejects_bad_wrap_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
