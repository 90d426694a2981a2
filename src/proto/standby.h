/* SPDX-License-Identifier: Apache-2.0 */
/* Standby and bind, a worker's attestation before it has a job
 * (doc/protocol/key-release.md section 6.7): the standby binding, the
 * bind MAC, the standby request (SB1) and answer (WS1, WS2), the bind
 * request (BD1, BD5) and answer (WB1 to WB3). The coordinator's side is
 * standby_coord.c, the worker's standby_worker.c. */
#ifndef COFFER_PROTO_STANDBY_H
#define COFFER_PROTO_STANDBY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "proto/keyrelease.h"

#define COFFER_STANDBY_REQ_MAX ((size_t)2 << 20)
#define COFFER_STANDBY_EVIDENCE_MAX ((size_t)1 << 20)
#define COFFER_STANDBY_ANSWER_MAX ((size_t)4 << 10)
#define COFFER_BIND_REQ_MAX ((size_t)4 << 10)
#define COFFER_BIND_ANSWER_MAX ((size_t)3 << 20)
/* S: S_mac (first 32 bytes) || S_box (last 32), 6.7.1. */
#define COFFER_STANDBY_SECRET_LEN 64
#define COFFER_STANDBY_WRAPPED_LEN 124

/* 6.7.3: SHA-512("coffer/standby-binding/v1" || 0x00 || nonce || w_pk). */
int coffer_standby_binding(const uint8_t nonce[32], const uint8_t w_pk[32],
    uint8_t out[64]) __attribute__((warn_unused_result));

/* 6.7.5: HMAC-SHA256(S_mac, "coffer/bind/v1" || 0x00 || job || standby),
 * S_mac being the first 32 bytes of s. */
int coffer_bind_mac(const uint8_t s[COFFER_STANDBY_SECRET_LEN],
    const uint8_t job[16], const uint8_t standby[16], uint8_t mac[32])
	__attribute__((warn_unused_result));

/* ---- Standby request (6.7.4) ---- */

struct coffer_standby_request {
	uint8_t nonce[32];
	uint8_t worker_pk[32];
	struct coffer_buf evidence; /* decoded; at most 1 MiB */
};

void coffer_standby_request_init(struct coffer_standby_request *r);
void coffer_standby_request_release(struct coffer_standby_request *r);

/* SB1. out must be inited. Errors: COFFER_E_LIMIT, COFFER_E_FORMAT,
 * COFFER_E_VERSION (the detail ends with request.malformed). */
int coffer_standby_request_parse(const char *text, size_t len,
    struct coffer_standby_request *out) __attribute__((warn_unused_result));

/* The worker's side: append the request body to out. */
int coffer_standby_request_make(const uint8_t nonce[32], const uint8_t w_pk[32],
    const uint8_t *evidence, size_t evlen, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/* ---- Standby answer (6.7.4) ---- */

/* The coordinator's side: s wrapped to w_pk from coord_kx_sk (HPKE auth
 * mode, info B_s), with the session's id; appends the answer's JSON. */
int coffer_standby_answer_make(const uint8_t standby[16],
    const uint8_t s[COFFER_STANDBY_SECRET_LEN], const uint8_t nonce[32],
    const uint8_t w_pk[32], const uint8_t coord_kx_sk[32],
    struct coffer_buf *out) __attribute__((warn_unused_result));

/*
 * The worker's side, rules WS1 and WS2: the answer to its request with
 * nonce, whose key must unwrap with w_sk from the pinned coordinator's
 * coord_kx_pk. standby and s (a secret: wipe it) are written only on
 * success. Errors: COFFER_E_FORMAT / _VERSION / _LIMIT (WS1),
 * COFFER_E_AUTH (WS2). Wiping w_sk (WS3) is the caller's.
 */
int coffer_standby_answer_open(const char *text, size_t len,
    const uint8_t nonce[32], const uint8_t w_sk[32],
    const uint8_t coord_kx_pk[32], uint8_t standby[16],
    uint8_t s[COFFER_STANDBY_SECRET_LEN]) __attribute__((warn_unused_result));

/* ---- Bind request (6.7.5) ---- */

struct coffer_bind_request {
	uint8_t job[16];
	uint8_t standby[16];
	uint8_t mac[32];
};

/* BD1. path_job: the hex job id of the URL, or NULL. Errors:
 * COFFER_E_LIMIT, COFFER_E_FORMAT, COFFER_E_VERSION. */
int coffer_bind_request_parse(const char *text, size_t len,
    const char *path_job, struct coffer_bind_request *out)
	__attribute__((warn_unused_result));

/* BD5: 0 if the request's mac is the session's (constant time), else
 * COFFER_E_AUTH. */
int coffer_bind_request_check_mac(const struct coffer_bind_request *r,
    const uint8_t s[COFFER_STANDBY_SECRET_LEN])
	__attribute__((warn_unused_result));

/* The worker's side: append the request body (with its MAC) to out. */
int coffer_bind_request_make(const uint8_t job[16], const uint8_t standby[16],
    const uint8_t s[COFFER_STANDBY_SECRET_LEN], struct coffer_buf *out)
	__attribute__((warn_unused_result));

/* ---- Bind answer (6.7.6) ---- */

/*
 * The coordinator's side: the head (type, version, job, session, the
 * payload's JCS boxed under S_box with aad B_b, policy_len), LF, the
 * policy's canonical text. p->job and p->session name the job and the
 * session. Appends to out.
 */
int coffer_bind_answer_make(const struct coffer_release_payload *p,
    const uint8_t standby[16], const uint8_t s[COFFER_STANDBY_SECRET_LEN],
    const uint8_t *policy, size_t policy_len, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/*
 * The worker's side, rules WB1 to WB3: the answer must be for job, its
 * payload must open under S_box with aad B_b (job, standby) and be
 * well-formed for the same job and session. out (clear it) and policy
 * (the policy part as received, appended: WB4 is the caller's) are
 * written only on success. Errors: COFFER_E_FORMAT / _VERSION / _LIMIT
 * (WB1, WB3), COFFER_E_AUTH (WB2).
 */
int coffer_bind_answer_open(const uint8_t *body, size_t len,
    const uint8_t job[16], const uint8_t standby[16],
    const uint8_t s[COFFER_STANDBY_SECRET_LEN],
    struct coffer_release_payload *out, struct coffer_buf *policy)
	__attribute__((warn_unused_result));

#endif
