/* SPDX-License-Identifier: Apache-2.0 */
/* Key upload, jobs and attested key release (doc/protocol/key-release.md):
 * the release binding in report data (section 6.3), the owner's key
 * upload statement and its wrap (section 4, rules UP1 to UP7), the job
 * request (section 5, J1), the release request (section 6.4, KR1), the
 * release answer (section 6.5, and the worker's rules W1 to W4), and
 * result keys (section 7). The coordinator's identity binding is
 * proto/coord_identity.h. */
#ifndef COFFER_PROTO_KEYRELEASE_H
#define COFFER_PROTO_KEYRELEASE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/identity.h"
#include "lib/buf.h"
#include "proto/policy.h"

#define COFFER_KEYUPLOAD_MAX ((size_t)8 << 10)
#define COFFER_JOBREQ_MAX ((size_t)64 << 10)
#define COFFER_RELEASE_REQ_MAX ((size_t)2 << 20)
#define COFFER_RELEASE_EVIDENCE_MAX ((size_t)1 << 20)
#define COFFER_RELEASE_PAYLOAD_MAX ((size_t)1 << 20)

/* Section 6.3: SHA-512("coffer/release-binding/v1" || 0x00 || job || nonce
 * || w_pk), the report data of a worker's release evidence. */
int coffer_keyrelease_binding(const uint8_t job[16], const uint8_t nonce[32],
    const uint8_t w_pk[32], uint8_t out[64]) __attribute__((warn_unused_result));

/* ---- Key upload (section 4) ---- */

/* The owner's side: wrap key (whose id is key_id) to the coordinator's
 * kx_pk for the policy with hash h, sign the statement with owner's
 * identity, append the envelope text to out. */
int coffer_keyupload_make(const struct coffer_identity *owner,
    const uint8_t h[32], const uint8_t key_id[16], const uint8_t key[32],
    const uint8_t coord_kx_pk[32], struct coffer_buf *out)
	__attribute__((warn_unused_result));

/* An accepted upload. Holds a key: wipe it with coffer_wipe when done. */
struct coffer_keyupload {
	size_t owner;       /* index in the policy's owners */
	uint8_t key_id[16];
	uint8_t key[32];
};

/*
 * The coordinator's side: rules UP1 to UP7 against policy p, unwrapping
 * with its X25519 secret coord_kx_sk. Errors: COFFER_E_FORMAT /
 * _VERSION (UP1), COFFER_E_NOTFOUND (UP2: the statement names another
 * policy, or p is NULL: look it up with coffer_signed_peek_policy first
 * and pass NULL when it is not known, so that UP1 still comes first),
 * COFFER_E_UNTRUSTED (UP3), COFFER_E_SIGNATURE (UP4), COFFER_E_POLICY
 * (UP5), COFFER_E_AUTH (UP6), COFFER_E_WRONG_KEY (UP7). The detail ends
 * with the reason name. out is written only on success.
 */
int coffer_keyupload_verify(const struct coffer_policy *p, const char *text,
    size_t len, const uint8_t coord_kx_sk[32], struct coffer_keyupload *out)
	__attribute__((warn_unused_result));

/* ---- Jobs (section 5) ---- */

struct coffer_job_request {
	uint8_t policy[32];
	const char *app;     /* borrowed from root */
	const json_t *params;
	json_t *root;
};

/* J1: parse a job request. Release with coffer_job_request_release. J4 and
 * J5 are coffer_policy_app() and coffer_policy_check_params(). */
int coffer_job_request_parse(const char *text, size_t len,
    struct coffer_job_request *out) __attribute__((warn_unused_result));
void coffer_job_request_release(struct coffer_job_request *r);

/* ---- Release request (section 6.4) ---- */

struct coffer_release_request {
	uint8_t job[16];
	uint8_t nonce[32];
	uint8_t worker_pk[32];
	struct coffer_buf evidence; /* decoded; at most 1 MiB */
};

void coffer_release_request_init(struct coffer_release_request *r);
void coffer_release_request_release(struct coffer_release_request *r);

/* KR1. path_job: the hex job id of the URL, or NULL. out must be inited.
 * Errors: COFFER_E_LIMIT, COFFER_E_FORMAT, COFFER_E_VERSION. */
int coffer_release_request_parse(const char *text, size_t len,
    const char *path_job, struct coffer_release_request *out)
	__attribute__((warn_unused_result));

/* The worker's side: append the request body to out. */
int coffer_release_request_make(const uint8_t job[16], const uint8_t nonce[32],
    const uint8_t w_pk[32], const uint8_t *evidence, size_t evlen,
    struct coffer_buf *out) __attribute__((warn_unused_result));

/* ---- Release answer (section 6.5) ---- */

struct coffer_release_key {
	uint8_t key_id[16];
	uint8_t key[32];
};

/* What a job may use. Holds keys: end its life with
 * coffer_release_payload_clear (wipes and frees). */
struct coffer_release_payload {
	uint8_t job[16];
	uint8_t policy[32];
	char app[COFFER_POLICY_NAME_MAX + 1];
	uint8_t app_sha256[32];
	int reduce;
	uint8_t session[16];
	uint8_t session_key[32];
	size_t nkeys;
	struct coffer_release_key *keys;
	uint8_t output_key[32];
	uint8_t intermediate_key[32]; /* only when reduce */
	uint8_t app_secret[32];
	json_t *params;  /* object of strings (owned) */
	json_t *limits;  /* object of integers (owned) */
};

void coffer_release_payload_clear(struct coffer_release_payload *p);

/*
 * The coordinator's side: a fresh answer key K, wrapped to w_pk from
 * coord_kx, the coordinator's X25519 secret key decoded once
 * (coffer_dh_key_new: it wraps with it at every release) (HPKE auth mode,
 * info B), and the payload's canonical JSON boxed under K with aad B
 * (B = "coffer/key-release/v1" || 0x00 || job || nonce || w_pk). Appends
 * the answer's JSON text to out. K is wiped.
 */
struct coffer_dh_key;
int coffer_release_answer_make(const struct coffer_release_payload *p,
    const uint8_t nonce[32], const uint8_t w_pk[32],
    const struct coffer_dh_key *coord_kx, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/*
 * The worker's side, rules W1 to W4: the answer must be for job, its key
 * must unwrap with w_sk from the pinned coordinator's coord_kx_pk (auth
 * mode), the payload must open under it, and the payload must be
 * well-formed for the same job and session. Errors: COFFER_E_FORMAT (W1,
 * W4), COFFER_E_AUTH (W2, W3). out is filled only on success (clear it).
 */
int coffer_release_answer_open(const char *text, size_t len,
    const uint8_t job[16], const uint8_t nonce[32], const uint8_t w_sk[32],
    const uint8_t coord_kx_pk[32], struct coffer_release_payload *out)
	__attribute__((warn_unused_result));

/* ---- Result keys (section 7) ---- */

/* Wrap the job's output key to a recipient (appends the 92-byte blob). */
int coffer_resultkey_wrap(const uint8_t recipient_kx_pk[32],
    const uint8_t coord_kx_sk[32], const uint8_t job[16],
    const uint8_t policy[32], const uint8_t output_key[32],
    struct coffer_buf *blob) __attribute__((warn_unused_result));

/* Unwrap it as the recipient: COFFER_E_AUTH unless it is for this
 * recipient, from this coordinator, for this job and policy. */
int coffer_resultkey_unwrap(const uint8_t recipient_kx_sk[32],
    const uint8_t coord_kx_pk[32], const uint8_t job[16],
    const uint8_t policy[32], const uint8_t *blob, size_t n,
    uint8_t output_key[32]) __attribute__((warn_unused_result));

/*
 * The answer of GET /v1/jobs/{job}/result-key/{fingerprint} (section 7),
 * made by the coordinator: the output key wrapped to the recipient, its
 * key id, the job, policy and recipient fingerprint. Appends its
 * canonical JSON text to out.
 */
#define COFFER_RESULTKEY_ANSWER_MAX ((size_t)4 << 10)
int coffer_resultkey_answer_make(const uint8_t recipient_kx_pk[32],
    const uint8_t recipient_fpr[32], const uint8_t coord_kx_sk[32],
    const uint8_t job[16], const uint8_t policy[32],
    const uint8_t output_key[32], struct coffer_buf *out)
	__attribute__((warn_unused_result));

/*
 * The recipient's side, rules RR1 to RR4: the answer must be for the job,
 * policy and recipient asked for, unwrap from the pinned coordinator, and
 * hold the key with key_id. output_key (wiped by the caller) is written
 * only on success. Errors: COFFER_E_FORMAT / _VERSION / _LIMIT (RR1, RR2),
 * COFFER_E_AUTH (RR3, RR4).
 */
int coffer_resultkey_answer_open(const char *text, size_t len,
    const uint8_t job[16], const uint8_t policy[32],
    const uint8_t recipient_fpr[32], const uint8_t recipient_kx_sk[32],
    const uint8_t coord_kx_pk[32], uint8_t output_key[32])
	__attribute__((warn_unused_result));

#endif
