/* SPDX-License-Identifier: Apache-2.0 */
/* Ed25519 signatures (RFC 8032, pure Ed25519) with raw 32-byte keys, and a
 * labelled variant that separates the signatures of different purposes
 * (doc/crypto.md, "Signatures"). */
#ifndef COFFER_CRYPTO_SIGN_H
#define COFFER_CRYPTO_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define COFFER_SIGN_SK_LEN 32  /* the RFC 8032 private key (seed) */
#define COFFER_SIGN_PK_LEN 32  /* the encoded public point A */
#define COFFER_SIGN_SIG_LEN 64 /* R || S */
#define COFFER_SIGN_LABEL_MAX 64

/* A new key pair from coffer_random(). The caller wipes sk after use. */
int coffer_sign_keygen(uint8_t sk[32], uint8_t pk[32])
	__attribute__((warn_unused_result));

/* The public key of a secret key. */
int coffer_sign_public(const uint8_t sk[32], uint8_t pk[32])
	__attribute__((warn_unused_result));

/* sig = Ed25519(sk, msg[0..n)). Deterministic (RFC 8032). */
int coffer_sign(const uint8_t sk[32], const void *msg, size_t n,
    uint8_t sig[64]) __attribute__((warn_unused_result));

/*
 * 0 if sig (siglen bytes) is a valid signature of msg under pk. Anything
 * else is COFFER_E_SIGNATURE with a detail: a length other than 64, S not
 * reduced (S >= L, RFC 8032 section 5.1.7 step 1; rejecting it makes
 * signatures non-malleable), an undecodable R or public key, or a
 * signature that does not verify.
 */
int coffer_sign_verify(const uint8_t pk[32], const void *msg, size_t n,
    const uint8_t *sig, size_t siglen) __attribute__((warn_unused_result));

/*
 * Labelled signatures: sign / verify the message
 *     "coffer-sig-v1" || 0x00 || label || 0x00 || msg
 * so that a signature made for one purpose (label "policy") never verifies
 * for another (label "receipt"). label: 1 to 64 characters from a-z 0-9
 * . _ / - (else COFFER_E_INVAL). Same errors as above.
 */
int coffer_sign_labeled(const uint8_t sk[32], const char *label,
    const void *msg, size_t n, uint8_t sig[64])
	__attribute__((warn_unused_result));
int coffer_sign_verify_labeled(const uint8_t pk[32], const char *label,
    const void *msg, size_t n, const uint8_t *sig, size_t siglen)
	__attribute__((warn_unused_result));

#endif
