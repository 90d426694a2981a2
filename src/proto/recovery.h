/* SPDX-License-Identifier: Apache-2.0 */
/* Recovering the coordinator's state key with k of n owners: the signed
 * recovery record, each owner's share wrapped to it, the share it hands a
 * recovering coordinator, and the rebuild. doc/format/recovery.md
 * sections 2 to 6. Used by the coordinator and by `coffer coordinator
 * recover`. */
#ifndef COFFER_PROTO_RECOVERY_H
#define COFFER_PROTO_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/identity.h"
#include "crypto/shamir.h"
#include "lib/buf.h"

#define COFFER_RECOVERY_MAX_OWNERS COFFER_SHAMIR_MAX_SHARES
#define COFFER_RECOVERY_WRAPPED_LEN 92  /* coffer_wrap of 32 bytes */
#define COFFER_RECOVERY_TYPE "coffer-recovery-record"

struct coffer_recovery_share {
	struct coffer_identity_public owner;
	unsigned x;                 /* 1 .. n: the share's position */
	uint8_t commitment[32];
	uint8_t wrapped[COFFER_RECOVERY_WRAPPED_LEN];
};

/* A record, parsed and its signature checked (section 3). */
struct coffer_recovery_record {
	struct coffer_identity_public coordinator;
	uint8_t state_id[16];
	unsigned threshold, n;
	uint8_t key_check[32];
	struct coffer_recovery_share shares[COFFER_RECOVERY_MAX_OWNERS];
};

/*
 * The coordinator's side at set-up: split key (the state key, with its
 * key check) among owners[0..n) with threshold k, wrap each share to its
 * owner from the coordinator's identity, sign the record, and append its
 * envelope (JCS text) to out. Errors: COFFER_E_INVAL (k, n, an owner given
 * twice).
 */
int coffer_recovery_make(const struct coffer_identity *coord,
    const uint8_t state_id[16], const uint8_t key[32],
    const uint8_t key_check[32], unsigned k,
    const struct coffer_identity_public *owners, unsigned n,
    struct coffer_buf *out) __attribute__((warn_unused_result));

/* Parse an envelope (at most 64 KiB) and check its signature under the
 * `coordinator` it names: rules RR1 to RR4. */
int coffer_recovery_parse(const char *text, size_t len,
    struct coffer_recovery_record *out) __attribute__((warn_unused_result));
/* The same over an envelope already parsed (a member of an answer). */
int coffer_recovery_from_json(const json_t *env,
    struct coffer_recovery_record *out) __attribute__((warn_unused_result));

/*
 * The owner's side (sections 4 and 7, RO6, RO7): the share of `me` in the
 * record, unwrapped with the coordinator's key as sender and checked
 * against its commitment. COFFER_E_NOTFOUND (no share for me),
 * COFFER_E_AUTH.
 */
int coffer_recovery_owner_share(const struct coffer_recovery_record *rec,
    const struct coffer_identity *me, unsigned *x, uint8_t y[32])
	__attribute__((warn_unused_result));

/* Section 5: the share y of `me` (position x) wrapped to a recovering
 * coordinator's session key (92 bytes into out). */
int coffer_recovery_submit_wrap(const struct coffer_recovery_record *rec,
    const struct coffer_identity *me, unsigned x, const uint8_t y[32],
    const uint8_t session_pk[32], uint8_t out[COFFER_RECOVERY_WRAPPED_LEN])
	__attribute__((warn_unused_result));

/* The body of POST /v1/recovery/share (section 6.2) for that share,
 * appended to out. */
int coffer_recovery_submit_json(const struct coffer_identity_public *me,
    unsigned x, const uint8_t share[COFFER_RECOVERY_WRAPPED_LEN],
    struct coffer_buf *out) __attribute__((warn_unused_result));

/*
 * The coordinator's side of section 6.2: parse a body (RS1) and open the
 * share of the owner it names (RS2 to RS4). *index is the share's index in
 * rec->shares. Errors: COFFER_E_FORMAT (RS1), COFFER_E_NOTFOUND (RS2),
 * COFFER_E_AUTH (RS3: the wrap; RS4: the commitment, named in the detail).
 */
int coffer_recovery_submit_open(const struct coffer_recovery_record *rec,
    const char *body, size_t len, const uint8_t session_sk[32],
    const uint8_t session_pk[32], unsigned *index, uint8_t y[32])
	__attribute__((warn_unused_result));

/* Rebuild the state key from m shares (x[i], y[i]) and check it against
 * the record's key check (RS5): COFFER_E_AUTH if it differs. */
int coffer_recovery_combine(const struct coffer_recovery_record *rec,
    const uint8_t *x, const uint8_t (*y)[32], unsigned m, uint8_t key[32])
	__attribute__((warn_unused_result));

/* Section 5: report data binding a recovering coordinator's session key. */
int coffer_recovery_report_data(const uint8_t state_id[16],
    const uint8_t session_pk[32], uint8_t out[64])
	__attribute__((warn_unused_result));

/* Section 2: the commitment of share (x, y). */
int coffer_recovery_commitment(const uint8_t state_id[16], unsigned x,
    const uint8_t y[32], uint8_t out[32]) __attribute__((warn_unused_result));

#endif
