/* SPDX-License-Identifier: Apache-2.0 */
/* Item proofs and their answers (doc/format/item-proof.md): the 184-byte
 * proof a worker MACs with its session key (sections 2 to 4, rules IP1 to
 * IP8), the 80-byte answer the coordinator MACs back (section 8), and the
 * reason codes. No public-key operation: one HMAC-SHA-256 each. */
#ifndef COFFER_PROTO_ITEMPROOF_H
#define COFFER_PROTO_ITEMPROOF_H

#include <stddef.h>
#include <stdint.h>

struct coffer_hmac;

#define COFFER_ITEMPROOF_LEN 184
#define COFFER_ITEMACK_LEN 80
#define COFFER_ITEMPROOF_BATCH_MAX 1024

enum coffer_itemproof_stage { COFFER_STAGE_MAP = 0, COFFER_STAGE_REDUCE = 1 };
enum coffer_itemproof_result { COFFER_RESULT_OK = 1, COFFER_RESULT_FAILED = 2 };
/* Errors with the high bit set are the worker's own, never an app's
 * (section 2): a map input refused for its content digest (a FAILED
 * proof whose input digest is the one found, not the pinned one). */
#define COFFER_ITEMPROOF_ERROR_WORKER 0x80000000u
#define COFFER_ITEMPROOF_ERROR_INPUT_REFUSED 0x80000007u

struct coffer_itemproof {
	uint8_t stage;   /* enum coffer_itemproof_stage */
	uint8_t result;  /* enum coffer_itemproof_result */
	uint8_t job[16];
	uint8_t session[16];
	uint64_t seq;
	uint64_t item;
	uint8_t attempt[16];
	uint8_t input_digest[32];
	uint8_t output_digest[32];
	uint64_t output_size;
	uint32_t error;
	uint8_t mac[32];  /* filled by parse and by encode */
};

/*
 * Encode p (stage to error; mac is ignored) with the session key: the 184
 * bytes go to out, and p->mac gets the MAC (section 3). Errors:
 * COFFER_E_INVAL if p breaks IP4 to IP7 (a worker never sends what the
 * coordinator must refuse).
 */
int coffer_itemproof_encode(struct coffer_itemproof *p, const uint8_t key[32],
    uint8_t out[COFFER_ITEMPROOF_LEN]) __attribute__((warn_unused_result));
/* The same with h keyed with the session key (crypto/hash.h: a worker
 * keys it once for the job; h is left keyed for the next). */
int coffer_itemproof_encode_with(struct coffer_itemproof *p,
    struct coffer_hmac *h, uint8_t out[COFFER_ITEMPROOF_LEN])
	__attribute__((warn_unused_result));

/* Rules IP1 to IP7 (no key): COFFER_E_TRUNCATED, _FORMAT, _VERSION naming
 * the rule. out is written only on success. */
int coffer_itemproof_parse(const uint8_t *b, size_t n,
    struct coffer_itemproof *out) __attribute__((warn_unused_result));

/* IP8: 0 if the MAC over b[0, 152) verifies under key (compared in
 * constant time), else COFFER_E_AUTH. b must be 184 bytes. */
int coffer_itemproof_verify_mac(const uint8_t b[COFFER_ITEMPROOF_LEN],
    const uint8_t key[32]) __attribute__((warn_unused_result));
/* The same with h keyed with the session key (crypto/hash.h: one keying
 * for a batch's proofs and answers; h is left keyed for the next). */
int coffer_itemproof_verify_mac_with(const uint8_t b[COFFER_ITEMPROOF_LEN],
    struct coffer_hmac *h) __attribute__((warn_unused_result));

enum coffer_itemack_outcome {
	COFFER_ACK_COMMITTED = 1,
	COFFER_ACK_FAILURE = 2,
	COFFER_ACK_DUPLICATE = 3,
	COFFER_ACK_DISAGREEMENT = 4,
	COFFER_ACK_REFUSED = 5,
};

#define COFFER_ITEMACK_NOT_LOGGED UINT64_MAX

struct coffer_itemack {
	uint8_t outcome;     /* enum coffer_itemack_outcome */
	uint16_t reason;     /* refused: a code of section 5; else 0 */
	uint64_t log_index;  /* or COFFER_ITEMACK_NOT_LOGGED */
	uint8_t proof_mac[32];
};

/* Encode and MAC an answer (section 8). COFFER_E_INVAL for an outcome out
 * of range, a reason with a non-refusal or a refusal without one. */
int coffer_itemack_encode(const struct coffer_itemack *a, const uint8_t key[32],
    uint8_t out[COFFER_ITEMACK_LEN]) __attribute__((warn_unused_result));
/* The same with h keyed with the session key (as above). */
int coffer_itemack_encode_with(const struct coffer_itemack *a,
    struct coffer_hmac *h, uint8_t out[COFFER_ITEMACK_LEN])
	__attribute__((warn_unused_result));

/* Parse and verify an answer (the worker's rule WA1, but for matching the
 * proof mac, which is the caller's): COFFER_E_TRUNCATED / _FORMAT for a
 * malformed answer, COFFER_E_AUTH for a MAC that does not verify. */
int coffer_itemack_open(const uint8_t *b, size_t n, const uint8_t key[32],
    struct coffer_itemack *out) __attribute__((warn_unused_result));
/* The same with h keyed with the session key (as above). */
int coffer_itemack_open_with(const uint8_t *b, size_t n, struct coffer_hmac *h,
    struct coffer_itemack *out) __attribute__((warn_unused_result));

/*
 * Section 9: the salt of the sealed output of item `item` of stage `stage`
 * of `job` whose plaintext has SHA-256 pt_digest, sealed under key:
 * HMAC(key, "coffer/output-salt/v1" || 0x00 || job || stage || BE64(item)
 * || pt_digest). Give it as coffer_sealed_opts.salt.
 */
int coffer_itemproof_output_salt(const uint8_t key[32], const uint8_t job[16],
    uint8_t stage, uint64_t item, const uint8_t pt_digest[32],
    uint8_t salt[32]) __attribute__((warn_unused_result));
/* The same with keyed, an HMAC context keyed with the key already
 * (coffer_hmac_key) and kept for many salts: a worker's salts under one
 * output key key it once. keyed stays keyed with it. Errors: those of
 * coffer_hmac_update and coffer_hmac_final. */
int coffer_itemproof_output_salt_with(struct coffer_hmac *keyed,
    const uint8_t job[16], uint8_t stage, uint64_t item,
    const uint8_t pt_digest[32], uint8_t salt[32])
	__attribute__((warn_unused_result));

/* Section 5's reason codes and names: "proof.bad_mac" <-> 1, ...
 * name_of returns NULL for an unknown code, code_of 0 for an unknown name. */
const char *coffer_itemproof_reason_name(uint16_t code);
uint16_t coffer_itemproof_reason_code(const char *name);
/* "committed", "failure", "duplicate", "disagreement", "refused" or NULL. */
const char *coffer_itemack_outcome_name(uint8_t outcome);

#endif
