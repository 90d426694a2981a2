// SPDX-License-Identifier: Apache-2.0
// X25519 over OpenSSL 3 EVP (crypto/dh.h). OpenSSL already refuses an
// all-zero shared secret; the explicit check keeps the policy ours.
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/keygen.h"
#include "lib/mem.h"

/* An X25519 secret key decoded once: OpenSSL computes the public key when
 * it decodes a secret one, which costs as much as an agreement. */
struct coffer_dh_key {
	EVP_PKEY *pkey;
};

int
coffer_dh_key_new(const uint8_t sk[32], struct coffer_dh_key **out)
{
	struct coffer_dh_key *k;

	if ((k = coffer_calloc(1, sizeof(*k))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "X25519 key");
	if ((k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk,
	    COFFER_DH_LEN)) == NULL) {
		ERR_clear_error();
		free(k);
		return coffer_errf(COFFER_E_CRYPTO, "X25519: the secret key cannot "
		    "be loaded");
	}
	*out = k;
	return 0;
}

void
coffer_dh_key_free(struct coffer_dh_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey); /* OpenSSL clears the secret it frees */
	free(k);
}

int
coffer_dh_key_public(const struct coffer_dh_key *k, uint8_t pk[32])
{
	size_t len = COFFER_DH_LEN;

	if (EVP_PKEY_get_raw_public_key(k->pkey, pk, &len) != 1 ||
	    len != COFFER_DH_LEN) {
		ERR_clear_error();
		return coffer_errf(COFFER_E_CRYPTO, "X25519: public key derivation "
		    "failed");
	}
	return 0;
}

static const uint8_t zeros[COFFER_DH_LEN];

int
coffer_dh_key_agree(const struct coffer_dh_key *k, const uint8_t peer[32],
    uint8_t shared[32])
{
	EVP_PKEY *theirs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t z[COFFER_DH_LEN];
	size_t len = sizeof(z);
	int r = 0;

	if ((theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
	    COFFER_DH_LEN)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL ||
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
	EVP_PKEY_free(theirs);
	return r;
}

int
coffer_dh_public(const uint8_t sk[32], uint8_t pk[32])
{
	struct coffer_dh_key *k;
	int r;

	if ((r = coffer_dh_key_new(sk, &k)) != 0)
		return r;
	r = coffer_dh_key_public(k, pk);
	coffer_dh_key_free(k);
	return r;
}

int
coffer_dh_keygen(uint8_t sk[32], uint8_t pk[32])
{
	/* RFC 7748 section 6.1: 32 random bytes; X25519 clamps on use. */
	return coffer_keygen32(coffer_dh_public, sk, pk);
}

int
coffer_dh(const uint8_t sk[32], const uint8_t peer[32], uint8_t shared[32])
{
	struct coffer_dh_key *k;
	int r;

	if ((r = coffer_dh_key_new(sk, &k)) != 0)
		return r;
	r = coffer_dh_key_agree(k, peer, shared);
	coffer_dh_key_free(k);
	return r;
}

/*
 * doc/crypto.md "X25519": with a clamped scalar (a multiple of 8 below the
 * prime orders of the curve and its twist) X25519 gives zero exactly for
 * the points of order 1, 2, 4 and 8, whose u-coordinates and unreduced
 * encodings under 2^255 are these seven (little-endian, bit 255 clear).
 */
static const uint8_t small_order[7][COFFER_DH_LEN] = {
	{ 0 },                                          /* 0 */
	{ 1 },                                          /* 1 */
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	  0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	  0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
	  0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
	  0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, /* p - 1 */
	{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, /* p */
	{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, /* p + 1 */
};

int
coffer_dh_check_public(const uint8_t pk[32])
{
	uint8_t u[COFFER_DH_LEN];

	/* RFC 7748 section 5: bit 255 of a u-coordinate is ignored. */
	memcpy(u, pk, sizeof(u));
	u[31] &= 0x7f;
	for (size_t i = 0; i < sizeof(small_order) / sizeof(small_order[0]); i++)
		if (memcmp(u, small_order[i], sizeof(u)) == 0)
			return coffer_errf(COFFER_E_FORMAT, "X25519: the peer public "
			    "key is a point of small order, rejected");
	return 0;
}
