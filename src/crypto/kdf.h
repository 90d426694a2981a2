/* SPDX-License-Identifier: Apache-2.0 */
/* HKDF-SHA256 (RFC 5869): extract, expand, and both in one call. */
#ifndef COFFER_CRYPTO_KDF_H
#define COFFER_CRYPTO_KDF_H

#include <stddef.h>
#include <stdint.h>

#define COFFER_HKDF_SHA256_PRK_LEN 32
#define COFFER_HKDF_SHA256_MAX_OUT (255 * 32)

/* RFC 5869 section 2.2. An empty salt means HashLen zero bytes. */
int coffer_hkdf_sha256_extract(const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, uint8_t prk[COFFER_HKDF_SHA256_PRK_LEN])
	__attribute__((warn_unused_result));

/* RFC 5869 section 2.3. outlen > 255 * 32 is COFFER_E_INVAL. */
int coffer_hkdf_sha256_expand(const uint8_t *prk, size_t prklen,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
	__attribute__((warn_unused_result));

/* The same with h keyed with the PRK already (coffer_hmac_key): several
 * expansions of one PRK key it once (the sealed format's commitment and
 * payload key, doc/format/sealed.md section 4). h stays keyed with it. */
struct coffer_hmac;
int coffer_hkdf_sha256_expand_with(struct coffer_hmac *h, const uint8_t *info,
    size_t infolen, uint8_t *out, size_t outlen)
	__attribute__((warn_unused_result));

/* Extract then expand. */
int coffer_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen) __attribute__((warn_unused_result));

#endif
