/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON around item proofs (doc/format/item-proof.md): a batch request
 * (section 8, rules B1 and B2) and the answer's array, and the close
 * request (section 7.1, rule CL1). Parsed strictly; the proofs inside are
 * itemproof.h's. */
#ifndef COFFER_PROTO_ITEMBATCH_H
#define COFFER_PROTO_ITEMBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "proto/itemproof.h"

#define COFFER_ITEMPROOF_BATCH_BYTES ((size_t)512 << 10)
#define COFFER_CLOSE_REQ_MAX ((size_t)4 << 10)

/*
 * B1 and B2: text is {"proofs": [blob, ...]} with 1 to
 * COFFER_ITEMPROOF_BATCH_MAX blobs, each the base64url of exactly 184
 * bytes, all with the same session id (bytes 24 to 40). *out gets the n
 * proofs (free() it). Errors: COFFER_E_FORMAT / _LIMIT naming the member.
 */
int coffer_itemproof_batch_parse(const char *text, size_t len,
    uint8_t (**out)[COFFER_ITEMPROOF_LEN], size_t *n)
	__attribute__((warn_unused_result));

/* Section 8.1: the media type of a binary batch and of its answer. */
#define COFFER_ITEMPROOF_BATCH_BINARY "application/octet-stream"

/* 1 if a request's Content-Type value (NULL: none) names a binary batch:
 * the media type before any ';', spaces around it ignored, any case. */
int coffer_itemproof_batch_is_binary(const char *content_type);

/*
 * BB1 and B2 (section 8.1): body is 1 to COFFER_ITEMPROOF_BATCH_MAX proofs
 * of COFFER_ITEMPROOF_LEN bytes back to back, all with the same session
 * id. *n gets their count; the proofs are read in place (proof i is at
 * body + i * COFFER_ITEMPROOF_LEN). Errors: COFFER_E_FORMAT.
 */
int coffer_itemproof_batch_parse_binary(const uint8_t *body, size_t len,
    size_t *n) __attribute__((warn_unused_result));

/* Append {"proofs":[...]} of n proofs to out (the worker's side). */
int coffer_itemproof_batch_put(const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN],
    size_t n, struct coffer_buf *out) __attribute__((warn_unused_result));

/* Append {"acks":[...]} of n answers to out (the coordinator's side). */
int coffer_itemack_batch_put(const uint8_t (*acks)[COFFER_ITEMACK_LEN],
    size_t n, struct coffer_buf *out) __attribute__((warn_unused_result));

/* CL1: {"reason": "done" | "cancelled"} or {"reason": "done", "stage":
 * "map"}. */
struct coffer_close_request {
	int cancelled;  /* "cancelled" (else "done") */
	int map_only;   /* "stage": "map" */
};
int coffer_close_request_parse(const char *text, size_t len,
    struct coffer_close_request *out) __attribute__((warn_unused_result));

#endif
