/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 9180 Hybrid Public Key Encryption with DHKEM(X25519, HKDF-SHA256)
 * and HKDF-SHA256; AEADs AES-256-GCM, ChaCha20-Poly1305 (and AES-128-GCM,
 * kept for the RFC's test vectors). Modes base, psk, auth and auth_psk.
 * Coffer's key wrapping (crypto/wrap.h) is built on this; other code should
 * use that. doc/crypto.md, "HPKE". */
#ifndef COFFER_CRYPTO_HPKE_H
#define COFFER_CRYPTO_HPKE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define COFFER_HPKE_KEM_X25519_SHA256 0x0020 /* RFC 9180 section 7.1 */
#define COFFER_HPKE_KDF_HKDF_SHA256 0x0001   /* section 7.2 */
#define COFFER_HPKE_ENC_LEN 32               /* Nenc */
#define COFFER_HPKE_SK_LEN 32                /* Nsk */
#define COFFER_HPKE_PK_LEN 32                /* Npk */
#define COFFER_HPKE_TAG_LEN 16               /* Nt */
#define COFFER_HPKE_PSK_MIN 32               /* section 9.5: >= 32 bytes */
#define COFFER_HPKE_INPUT_MAX 65536          /* info, psk, psk_id, context */

/* Section 7.3 AEAD identifiers. */
enum coffer_hpke_aead {
	COFFER_HPKE_AES128GCM = 1,
	COFFER_HPKE_AES256GCM = 2,
	COFFER_HPKE_CHACHA20POLY1305 = 3,
};

/* Section 5: mode identifiers (the mode follows from which keys are given). */
enum coffer_hpke_mode {
	COFFER_HPKE_MODE_BASE = 0,
	COFFER_HPKE_MODE_PSK = 1,
	COFFER_HPKE_MODE_AUTH = 2,
	COFFER_HPKE_MODE_AUTH_PSK = 3,
};

/*
 * What both sides must agree on besides the keys. psk and psk_id are both
 * set (psk mode) or both NULL/0; psk has at least COFFER_HPKE_PSK_MIN bytes.
 * Inputs are borrowed for the duration of the call only.
 */
struct coffer_hpke_params {
	enum coffer_hpke_aead aead;
	const uint8_t *info;
	size_t info_len;
	const uint8_t *psk;
	size_t psk_len;
	const uint8_t *psk_id;
	size_t psk_id_len;
};

/* An encryption context (section 5.2): its keys, and a sequence number. */
struct coffer_hpke;

/*
 * RFC 9180 section 5.1: SetupBaseS / SetupPSKS / SetupAuthS / SetupAuthPSKS.
 * skS NULL: no sender authentication. enc gets the encapsulated key to send
 * along; *out a new sender context (coffer_hpke_free). pkR of small order
 * is COFFER_E_FORMAT; bad params are COFFER_E_INVAL or _UNSUPPORTED.
 */
int coffer_hpke_setup_sender(const struct coffer_hpke_params *p,
    const uint8_t pkR[32], const uint8_t *skS, uint8_t enc[32],
    struct coffer_hpke **out) __attribute__((warn_unused_result));

/* The same with the sender's key decoded by the caller (crypto/dh.h;
 * NULL: no sender authentication), for a sender that wraps with one key
 * many times: decoding it costs as much as an X25519 agreement. */
struct coffer_dh_key;
int coffer_hpke_setup_sender_key(const struct coffer_hpke_params *p,
    const uint8_t pkR[32], const struct coffer_dh_key *S, uint8_t enc[32],
    struct coffer_hpke **out) __attribute__((warn_unused_result));

/*
 * SetupBaseR / SetupPSKR / SetupAuthR / SetupAuthPSKR. pkS NULL: no sender
 * authentication (the sender must not have used any). Errors as above.
 * Note that a wrong key is only detected when the first open fails.
 */
int coffer_hpke_setup_receiver(const struct coffer_hpke_params *p,
    const uint8_t enc[32], const uint8_t skR[32], const uint8_t *pkS,
    struct coffer_hpke **out) __attribute__((warn_unused_result));

/*
 * Section 5.2 ContextS.Seal: append n + COFFER_HPKE_TAG_LEN bytes to ct and
 * advance the sequence number. Only on sender contexts (else
 * COFFER_E_STATE). COFFER_E_LIMIT when the sequence numbers are exhausted
 * (after 2^64 - 1 messages; the RFC allows more, no one needs them).
 */
int coffer_hpke_seal(struct coffer_hpke *h, const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t n, struct coffer_buf *ct)
	__attribute__((warn_unused_result));

/*
 * ContextR.Open: verify and decrypt; append the n - 16 plaintext bytes to
 * pt only if the tag verifies (COFFER_E_AUTH otherwise; pt and the
 * sequence number are then unchanged, so the next message may still be
 * opened). Only on receiver contexts. Use a secret buffer for pt.
 */
int coffer_hpke_open(struct coffer_hpke *h, const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t n, struct coffer_buf *pt)
	__attribute__((warn_unused_result));

/* Section 5.3 Context.Export: L bytes (at most 255 * 32) into out. */
int coffer_hpke_export(const struct coffer_hpke *h, const uint8_t *exporter_ctx,
    size_t ctxlen, uint8_t *out, size_t L) __attribute__((warn_unused_result));

/* Wipe and free a context. NULL is a no-op. */
void coffer_hpke_free(struct coffer_hpke *h);

/* Section 6: single-shot APIs (setup, one seal or open, free). */
int coffer_hpke_seal_once(const struct coffer_hpke_params *p,
    const uint8_t pkR[32], const uint8_t *skS, const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t n, uint8_t enc[32],
    struct coffer_buf *ct) __attribute__((warn_unused_result));
int coffer_hpke_seal_once_key(const struct coffer_hpke_params *p,
    const uint8_t pkR[32], const struct coffer_dh_key *S, const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t n, uint8_t enc[32],
    struct coffer_buf *ct) __attribute__((warn_unused_result));
int coffer_hpke_open_once(const struct coffer_hpke_params *p,
    const uint8_t enc[32], const uint8_t skR[32], const uint8_t *pkS,
    const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t n,
    struct coffer_buf *pt) __attribute__((warn_unused_result));

/* A new random X25519 key pair for receiving (GenerateKeyPair). */
int coffer_hpke_keygen(uint8_t sk[32], uint8_t pk[32])
	__attribute__((warn_unused_result));

/* Section 7.1.3 DeriveKeyPair: a key pair determined by ikm (at least 32
 * bytes of entropy; shorter is COFFER_E_INVAL). */
int coffer_hpke_derive_keypair(const uint8_t *ikm, size_t ikmlen,
    uint8_t sk[32], uint8_t pk[32]) __attribute__((warn_unused_result));

#endif
