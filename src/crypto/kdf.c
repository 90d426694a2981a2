// SPDX-License-Identifier: Apache-2.0
// HKDF-SHA256, RFC 5869, written directly on HMAC so that extract and
// expand are separately usable (RFC 9180 needs LabeledExtract/Expand).
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "lib/mem.h"

int
coffer_hkdf_sha256_extract(const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, uint8_t prk[COFFER_HKDF_SHA256_PRK_LEN])
{
	static const uint8_t zeros[COFFER_SHA256_LEN];

	/* RFC 5869 2.2: salt defaults to HashLen zeros. */
	if (saltlen == 0)
		return coffer_hmac_sha256(zeros, sizeof(zeros), ikm, ikmlen, prk);
	return coffer_hmac_sha256(salt, saltlen, ikm, ikmlen, prk);
}

int
coffer_hkdf_sha256_expand_with(struct coffer_hmac *h, const uint8_t *info,
    size_t infolen, uint8_t *out, size_t outlen)
{
	uint8_t t[COFFER_SHA256_LEN];
	size_t tlen = 0, done = 0, k;
	int r = 0;

	if (outlen > COFFER_HKDF_SHA256_MAX_OUT)
		return coffer_errf(COFFER_E_INVAL,
		    "HKDF output of %zu bytes exceeds 255 * HashLen", outlen);
	/* RFC 5869 2.3: T(i) = HMAC(PRK, T(i-1) | info | i), each block from
	 * the PRK's keyed state (coffer_hmac_final). */
	for (uint8_t i = 1; done < outlen; i++) {
		if ((r = coffer_hmac_update(h, t, tlen)) != 0 ||
		    (r = coffer_hmac_update(h, info, infolen)) != 0 ||
		    (r = coffer_hmac_update(h, &i, 1)) != 0 ||
		    (r = coffer_hmac_final(h, t)) != 0)
			goto out;
		tlen = sizeof(t);
		k = outlen - done < tlen ? outlen - done : tlen;
		memcpy(out + done, t, k);
		done += k;
	}
out:
	coffer_wipe(t, sizeof(t));
	return r;
}

int
coffer_hkdf_sha256_expand(const uint8_t *prk, size_t prklen,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	struct coffer_hmac *h = coffer_hmac_thread();
	int r;

	if (outlen > COFFER_HKDF_SHA256_MAX_OUT)
		return coffer_errf(COFFER_E_INVAL,
		    "HKDF output of %zu bytes exceeds 255 * HashLen", outlen);
	if (h == NULL)
		return coffer_errf(COFFER_E_CRYPTO, "HKDF: no HMAC context");
	if ((r = coffer_hmac_key(h, prk, prklen)) != 0)
		return r;
	return coffer_hkdf_sha256_expand_with(h, info, infolen, out, outlen);
}

int
coffer_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen)
{
	uint8_t prk[COFFER_HKDF_SHA256_PRK_LEN];
	int r;

	if ((r = coffer_hkdf_sha256_extract(salt, saltlen, ikm, ikmlen, prk)) == 0)
		r = coffer_hkdf_sha256_expand(prk, sizeof(prk), info, infolen, out,
		    outlen);
	coffer_wipe(prk, sizeof(prk));
	return r;
}
