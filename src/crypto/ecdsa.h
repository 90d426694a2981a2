/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA over NIST P-256/SHA-256 and P-384/SHA-384 (FIPS 186-5), with raw
 * r||s signatures (IEEE P1363, as in SGX/TDX quotes and, byte-reversed, in
 * SEV-SNP reports) or DER signatures (X.509). The hash is fixed by the
 * curve. Used by the attestation verifier and the sim evidence backend. */
#ifndef COFFER_CRYPTO_ECDSA_H
#define COFFER_CRYPTO_ECDSA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "lib/buf.h"

enum coffer_ecdsa_curve {
	COFFER_ECDSA_P256 = 1, /* with SHA-256 */
	COFFER_ECDSA_P384 = 2, /* with SHA-384 */
};

enum coffer_ecdsa_sigfmt {
	COFFER_ECDSA_SIG_RAW = 1, /* r || s, each big-endian, field width */
	COFFER_ECDSA_SIG_DER = 2, /* SEQUENCE { INTEGER r, INTEGER s }, strict DER */
};

/* Field width in bytes (32 or 48); a raw signature is twice that. */
size_t coffer_ecdsa_field_len(enum coffer_ecdsa_curve curve);

/* A public key, or a key pair. Immutable once made: one key may be used by
 * several threads at once. */
struct coffer_ecdsa_key;

/*
 * A public key from its affine coordinates: x || y (2 * field bytes) or the
 * SEC1 uncompressed point 0x04 || x || y. COFFER_E_FORMAT if the length is
 * wrong or the point is not on the curve.
 */
int coffer_ecdsa_pub_from_raw(enum coffer_ecdsa_curve curve, const uint8_t *p,
    size_t len, struct coffer_ecdsa_key **out) __attribute__((warn_unused_result));

/*
 * A public key from an OpenSSL key (a certificate's, say). The key must be
 * EC on P-256 or P-384 (COFFER_E_UNSUPPORTED otherwise); a reference is
 * taken, the caller keeps its own.
 */
int coffer_ecdsa_pub_from_pkey(EVP_PKEY *pkey, struct coffer_ecdsa_key **out)
	__attribute__((warn_unused_result));

/* A public key from PEM "PUBLIC KEY" (SubjectPublicKeyInfo) text. */
int coffer_ecdsa_pub_from_pem(const char *pem, size_t len,
    struct coffer_ecdsa_key **out) __attribute__((warn_unused_result));

/*
 * Verify sig over msg (hashed here with the curve's hash). Returns 0 if the
 * signature is valid, COFFER_E_SIGNATURE if not (including a raw signature
 * of the wrong length, r or s out of [1, n-1], a DER signature that is not
 * strict DER), COFFER_E_CRYPTO if OpenSSL failed for another reason.
 */
int coffer_ecdsa_verify(const struct coffer_ecdsa_key *k, const void *msg,
    size_t n, const uint8_t *sig, size_t siglen, enum coffer_ecdsa_sigfmt fmt)
	__attribute__((warn_unused_result));

/* The same, over a digest the caller computed (its length must be the
 * curve's hash length). */
int coffer_ecdsa_verify_digest(const struct coffer_ecdsa_key *k,
    const uint8_t *digest, size_t dlen, const uint8_t *sig, size_t siglen,
    enum coffer_ecdsa_sigfmt fmt) __attribute__((warn_unused_result));

/* A fresh key pair (randomness from OpenSSL's DRBG). */
int coffer_ecdsa_generate(enum coffer_ecdsa_curve curve,
    struct coffer_ecdsa_key **out) __attribute__((warn_unused_result));

/* Sign msg; sig gets a raw r || s of exactly 2 * field bytes (siglen).
 * COFFER_E_INVAL if k has no private part. */
int coffer_ecdsa_sign(const struct coffer_ecdsa_key *k, const void *msg,
    size_t n, uint8_t *sig, size_t siglen) __attribute__((warn_unused_result));

/* The key's curve. */
enum coffer_ecdsa_curve coffer_ecdsa_key_curve(const struct coffer_ecdsa_key *k);

/* The public point, SEC1 uncompressed (0x04 || x || y, 1 + 2 * field
 * bytes); outlen must be exactly that. */
int coffer_ecdsa_pub_raw(const struct coffer_ecdsa_key *k, uint8_t *out,
    size_t outlen) __attribute__((warn_unused_result));

/* Append the public key as PEM "PUBLIC KEY" to b. */
int coffer_ecdsa_pub_pem(const struct coffer_ecdsa_key *k, struct coffer_buf *b)
	__attribute__((warn_unused_result));

/* Append the private key as unencrypted PKCS#8 PEM to b, which should be a
 * secret buffer (COFFER_BUF_INIT_SECRET). */
int coffer_ecdsa_priv_pem(const struct coffer_ecdsa_key *k, struct coffer_buf *b)
	__attribute__((warn_unused_result));

/* The private scalar d, big-endian, zero-padded to the field length
 * (outlen must be exactly that: 32 or 48). Secret: the caller wipes it.
 * COFFER_E_INVAL for a public key. Used to derive the sim backend's
 * sealing key (doc/format/sealed-state.md section 10). */
int coffer_ecdsa_priv_raw(const struct coffer_ecdsa_key *k, uint8_t *out,
    size_t outlen) __attribute__((warn_unused_result));

/*
 * A key pair from its private scalar d (big-endian, exactly the field
 * length: 32 or 48) and its public point (SEC1 uncompressed, 1 + 2 * field
 * bytes), both as given: the point is checked to be on the curve but not
 * recomputed from d, which would cost a scalar multiplication. For a key
 * whose two halves were written together (the sim platform key, doc/format/
 * evidence.md 8.3); a point that is not d's makes signatures that do not
 * verify under it, nothing worse. COFFER_E_FORMAT if either is refused.
 */
int coffer_ecdsa_priv_from_raw(enum coffer_ecdsa_curve curve, const uint8_t *d,
    size_t dlen, const uint8_t *point, size_t plen,
    struct coffer_ecdsa_key **out) __attribute__((warn_unused_result));

/* A key pair from PKCS#8 PEM. COFFER_E_FORMAT if it is not a P-256/P-384
 * private key. */
int coffer_ecdsa_priv_from_pem(const char *pem, size_t len,
    struct coffer_ecdsa_key **out) __attribute__((warn_unused_result));

/* Free; OpenSSL wipes private key material. NULL is a no-op. */
void coffer_ecdsa_key_free(struct coffer_ecdsa_key *k);

#endif
