/* SPDX-License-Identifier: Apache-2.0 */
/* Key release: the labelled inputs every side of
 * doc/protocol/key-release.md computes alike (keyrelease.c), for the
 * coordinator's, the worker's and the owner's files. Internal to
 * src/proto. */
#ifndef COFFER_PROTO_KEYRELEASE_INT_H
#define COFFER_PROTO_KEYRELEASE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* label || 0x00 || parts..., into out (at most cap bytes); 0 if over. */
size_t keyrelease_labelled(uint8_t *out, size_t cap, const char *label,
    const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
    const uint8_t *c, size_t cn);
/* Section 4's wrap info: "coffer/data-key/v1" || 0x00 || h || key_id. */
size_t keyrelease_upload_info(uint8_t out[96], const uint8_t h[32],
    const uint8_t key_id[16]);
/* Section 6.5's wrap info and box aad: "coffer/key-release/v1" || 0x00 ||
 * job || nonce || w_pk. */
size_t keyrelease_release_info(uint8_t out[128], const uint8_t job[16],
    const uint8_t nonce[32], const uint8_t w_pk[32]);
/* Section 7's wrap info: "coffer/result-key/v1" || 0x00 || job || policy. */
size_t keyrelease_result_info(uint8_t out[96], const uint8_t job[16],
    const uint8_t policy[32]);
/* Wipe the key strings of a release payload's JSON (jansson frees them
 * without wiping). */
void keyrelease_wipe_payload_json(json_t *o);

struct coffer_release_payload;
/* 6.5's payload object (keyrelease_coord.c); NULL when out of memory.
 * Wipe it with keyrelease_wipe_payload_json before its decref. */
json_t *keyrelease_payload_json(const struct coffer_release_payload *p);
/* W4: read a payload object into p (keyrelease_worker.c). */
int keyrelease_parse_payload(json_t *o, struct coffer_release_payload *p)
	__attribute__((warn_unused_result));

#endif
