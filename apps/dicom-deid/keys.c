// SPDX-License-Identifier: Apache-2.0
// Keyed replacements: new UIDs, pseudonyms and per-patient date shifts are
// HMAC-SHA-256 (OpenSSL) of the original value under sub-keys of the app
// secret, so that the same input maps to the same output in every file,
// item and worker, and nobody without the secret can test a guess.
// Sub-keys: HKDF-Expand (RFC 5869 section 2.3, one block) of the secret
// with the label "coffer/dicom-deid/<purpose>/v1".
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "coffer/error.h"
#include "deid.h"

/* HMAC-SHA-256(key, a || 0x00 || b). Every input here is short (UIDs,
 * IDs, labels: at most a few hundred bytes), so it goes in one buffer. */
static int
hmac(const uint8_t key[32], const void *a, size_t an, const void *b, size_t bn,
    uint8_t out[32])
{
	uint8_t buf[1024];
	unsigned int n = 32;
	int ok;

	if (an + 1 + bn > sizeof(buf))
		return COFFER_E_LIMIT;
	memcpy(buf, a, an);
	buf[an] = 0x00;
	if (bn)
		memcpy(buf + an + 1, b, bn);
	ok = HMAC(EVP_sha256(), key, 32, buf, an + 1 + bn, out, &n) != NULL;
	OPENSSL_cleanse(buf, an + 1 + bn);
	return ok && n == 32 ? 0 : COFFER_E_CRYPTO;
}

int
deid_keys_derive(const uint8_t *secret, size_t n, struct deid_keys *k)
{
	static const char *const labels[] = {
		"coffer/dicom-deid/uid/v1", "coffer/dicom-deid/pseudonym/v1",
		"coffer/dicom-deid/date-shift/v1",
	};
	uint8_t *outs[] = { k->uid, k->pseudonym, k->date };
	unsigned int len = 32;

	for (size_t i = 0; i < 3; i++) {
		uint8_t info[64];
		size_t ln = strlen(labels[i]);

		memcpy(info, labels[i], ln);
		info[ln] = 0x01; /* RFC 5869: T(1) = HMAC(PRK, info || 0x01) */
		if (HMAC(EVP_sha256(), secret, (int)n, info, ln + 1, outs[i], &len) == NULL ||
		    len != 32)
			return COFFER_E_CRYPTO;
	}
	return 0;
}

void
deid_keys_wipe(struct deid_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* 2.25.<the UUID as an unsigned decimal integer> (PS3.5 B.2), the UUID made
 * of the first 16 bytes of the HMAC with RFC 9562's version 8 and variant
 * bits. At most 5 + 39 characters. */
int
deid_new_uid(const struct deid_keys *k, const uint8_t *uid, size_t n, char out[65])
{
	uint8_t h[32];
	uint32_t limb[4];
	char digits[48];
	int nd = 0, r;

	if ((r = hmac(k->uid, "uid", 3, uid, n, h)) != 0)
		return r;
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x80);
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
	for (int i = 0; i < 4; i++)
		limb[i] = (uint32_t)h[4 * i] << 24 | (uint32_t)h[4 * i + 1] << 16 |
		    (uint32_t)h[4 * i + 2] << 8 | h[4 * i + 3];
	do {
		uint64_t rem = 0;
		int nz = 0;

		for (int i = 0; i < 4; i++) {
			uint64_t cur = rem << 32 | limb[i];

			limb[i] = (uint32_t)(cur / 10);
			rem = cur % 10;
			nz |= limb[i] != 0;
		}
		digits[nd++] = (char)('0' + rem);
		if (!nz)
			break;
	} while (1);
	memcpy(out, "2.25.", 5);
	for (int i = 0; i < nd; i++)
		out[5 + i] = digits[nd - 1 - i];
	out[5 + nd] = '\0';
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}

/* RFC 4648 base32 alphabet: upper-case letters and digits, valid in every
 * string VR and in every character set's G0. */
static void
base32(const uint8_t *h, size_t nchars, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

	for (size_t i = 0; i < nchars; i++) {
		size_t bit = i * 5;
		unsigned v = (unsigned)(h[bit / 8] << 8 | h[bit / 8 + 1]);

		out[i] = al[(v >> (11 - bit % 8)) & 31];
	}
	out[nchars] = '\0';
}

int
deid_pseudonym(const struct deid_keys *k, const char *purpose, const uint8_t *v,
    size_t n, size_t nchars, char *out)
{
	uint8_t h[32];
	int r;

	if (nchars > 48)
		return COFFER_E_INVAL;
	if ((r = hmac(k->pseudonym, purpose, strlen(purpose), v, n, h)) != 0)
		return r;
	base32(h, nchars, out);
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}

int
deid_date_shift(const struct deid_keys *k, const uint8_t *patient, size_t n,
    int max_days, int *days)
{
	uint8_t h[32];
	uint64_t v = 0;
	int r;

	if ((r = hmac(k->date, "patient", 7, patient, n, h)) != 0)
		return r;
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	OPENSSL_cleanse(h, sizeof(h));
	if (max_days <= 0) {
		*days = 0;
		return 0;
	}
	/* Uniform enough over [-max, -1] U [1, max]: 2^64 mod 2*max is
	 * negligible next to 2^64. */
	v %= (uint64_t)max_days * 2;
	*days = v < (uint64_t)max_days ? -(int)v - 1 : (int)(v - (uint64_t)max_days) + 1;
	return 0;
}
