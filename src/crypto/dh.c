// SPDX-License-Identifier: Apache-2.0
// X25519 over OpenSSL 3 EVP (crypto/dh.h). OpenSSL already refuses an
// all-zero shared secret; the explicit check keeps the policy ours.
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/keygen.h"
#include "lib/mem.h"

int
coffer_dh_public(const uint8_t sk[32], uint8_t pk[32])
{
	EVP_PKEY *k;
	size_t len = COFFER_DH_LEN;
	int r = 0;

	if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk,
	    COFFER_DH_LEN)) == NULL ||
	    EVP_PKEY_get_raw_public_key(k, pk, &len) != 1 || len != COFFER_DH_LEN) {
		ERR_clear_error();
		r = coffer_errf(COFFER_E_CRYPTO, "X25519: public key derivation "
		    "failed");
	}
	EVP_PKEY_free(k);
	return r;
}

int
coffer_dh_keygen(uint8_t sk[32], uint8_t pk[32])
{
	/* RFC 7748 section 6.1: 32 random bytes; X25519 clamps on use. */
	return coffer_keygen32(coffer_dh_public, sk, pk);
}

static const uint8_t zeros[COFFER_DH_LEN];

int
coffer_dh(const uint8_t sk[32], const uint8_t peer[32], uint8_t shared[32])
{
	EVP_PKEY *mine = NULL, *theirs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t z[COFFER_DH_LEN];
	size_t len = sizeof(z);
	int r = 0;

	if ((mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk,
	    COFFER_DH_LEN)) == NULL ||
	    (theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
	    COFFER_DH_LEN)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new(mine, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, theirs, 0) != 1) {
		r = coffer_errf(COFFER_E_CRYPTO, "X25519 setup failed");
		goto out;
	}
	/*
	 * With valid 32-byte inputs the only way for OpenSSL's derive to fail is
	 * an all-zero result, which it refuses itself (its ossl_x25519 checks).
	 * RFC 7748 section 6.1 / RFC 9180 section 7.1.4: reject it.
	 */
	if (EVP_PKEY_derive(ctx, z, &len) != 1 || len != sizeof(z) ||
	    CRYPTO_memcmp(z, zeros, sizeof(z)) == 0) {
		r = coffer_errf(COFFER_E_FORMAT, "X25519: the peer public key is a "
		    "point of small order (all-zero shared secret), rejected");
		goto out;
	}
	memcpy(shared, z, sizeof(z));
out:
	ERR_clear_error();
	coffer_wipe(z, sizeof(z));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(theirs);
	return r;
}

int
coffer_dh_check_public(const uint8_t pk[32])
{
	/*
	 * With a clamped scalar (a multiple of 8 below the prime orders of the
	 * curve and its twist) X25519 gives zero exactly for points of small
	 * order, so one multiplication by a fixed, public scalar tells.
	 */
	static const uint8_t probe[COFFER_DH_LEN] = {
		0x70, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
		0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
		0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x5f,
	};
	uint8_t z[COFFER_DH_LEN];
	int r = coffer_dh(probe, pk, z);

	coffer_wipe(z, sizeof(z));
	return r;
}
