/* SPDX-License-Identifier: Apache-2.0 */
/* X25519 key agreement (RFC 7748) with raw 32-byte keys. Used by HPKE
 * (crypto/hpke.h) and by identities; nothing else should need it. */
#ifndef COFFER_CRYPTO_DH_H
#define COFFER_CRYPTO_DH_H

#include <stdint.h>

#define COFFER_DH_LEN 32 /* secret, public and shared values */

/* A new key pair; sk from coffer_random(). The caller wipes sk after use. */
int coffer_dh_keygen(uint8_t sk[32], uint8_t pk[32])
	__attribute__((warn_unused_result));

/* pk = X25519(sk, 9). */
int coffer_dh_public(const uint8_t sk[32], uint8_t pk[32])
	__attribute__((warn_unused_result));

/*
 * shared = X25519(sk, peer). Policy (doc/crypto.md, "X25519"): an all-zero
 * result, which means peer is a point of small order, is rejected with
 * COFFER_E_FORMAT (RFC 7748 section 6.1, required by RFC 9180 section
 * 7.1.4). Any other 32-byte peer value is accepted as RFC 7748 says
 * (non-canonical u, points on the twist; bit 255 is ignored). shared is
 * written only on success.
 */
int coffer_dh(const uint8_t sk[32], const uint8_t peer[32], uint8_t shared[32])
	__attribute__((warn_unused_result));

/*
 * A secret key decoded once, for its public key and several agreements
 * (HPKE's AuthEncap and Decap use one secret key twice): decoding costs
 * as much as an agreement, because OpenSSL computes the public key then.
 * coffer_dh_key_agree has coffer_dh's policy. Free with coffer_dh_key_free
 * (the secret is cleared).
 */
struct coffer_dh_key;
int coffer_dh_key_new(const uint8_t sk[32], struct coffer_dh_key **out)
	__attribute__((warn_unused_result));
int coffer_dh_key_public(const struct coffer_dh_key *k, uint8_t pk[32])
	__attribute__((warn_unused_result));
int coffer_dh_key_agree(const struct coffer_dh_key *k, const uint8_t peer[32],
    uint8_t shared[32]) __attribute__((warn_unused_result));
void coffer_dh_key_free(struct coffer_dh_key *k);

/* 0 if pk is usable as a peer key (not of small order), else as above;
 * by the list of doc/crypto.md "X25519", without a multiplication. */
int coffer_dh_check_public(const uint8_t pk[32])
	__attribute__((warn_unused_result));

#endif
