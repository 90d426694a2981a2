/* SPDX-License-Identifier: Apache-2.0 */
/* Approvals and revocations of a policy (doc/format/policy.md sections 7
 * and 8, rules A1 to A5 and RK1 to RK5), and the status of a policy from
 * the approvals and revocations that count (section 10, rules S1 to S4). */
#ifndef COFFER_PROTO_APPROVAL_H
#define COFFER_PROTO_APPROVAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/buf.h"
#include "proto/policy.h"

struct coffer_approval {
	size_t owner;        /* index of the signer in the policy's owners */
	uint64_t log_size;   /* the log head the signer had verified */
	uint8_t log_root[32];
};

/*
 * Verify an approval envelope (text) of policy p at time now (seconds):
 * rules A1 to A5 in order. A6 (the signer revoked) and A7 (the log head is
 * the coordinator's) need the coordinator's state and are its to apply.
 * Errors: COFFER_E_FORMAT / _VERSION (A1), COFFER_E_POLICY (A2, another
 * policy hash), COFFER_E_UNTRUSTED (A3), COFFER_E_SIGNATURE (A4),
 * COFFER_E_EXPIRED (A5). out is written only on success.
 */
int coffer_approval_verify(const struct coffer_policy *p, const char *text,
    size_t len, uint64_t now, struct coffer_approval *out)
	__attribute__((warn_unused_result));

/* Sign an approval of the policy with hash h by id, naming the log head
 * (size, root; size 0 with root = SHA-256("") if none); append the
 * envelope text to out. */
int coffer_approval_make(const struct coffer_identity *id, const uint8_t h[32],
    uint64_t log_size, const uint8_t log_root[32], struct coffer_buf *out)
	__attribute__((warn_unused_result));

struct coffer_revocation {
	size_t owner;
	int is_measurement;  /* 0: the approval is revoked */
	struct coffer_policy_measurement m;
};

/* Verify a revocation envelope of policy p: rules RK1 to RK5 in order.
 * Errors as coffer_approval_verify, and COFFER_E_POLICY for RK5. */
int coffer_revocation_verify(const struct coffer_policy *p, const char *text,
    size_t len, struct coffer_revocation *out) __attribute__((warn_unused_result));

/* Sign a revocation of the approval (m NULL) or of measurement m. */
int coffer_revocation_make(const struct coffer_identity *id, const uint8_t h[32],
    const struct coffer_policy_measurement *m, struct coffer_buf *out)
	__attribute__((warn_unused_result));

enum coffer_policy_state {
	COFFER_POLICY_PENDING = 0,
	COFFER_POLICY_APPROVED_ALL = 1,  /* S2 */
	COFFER_POLICY_APPROVED_KOFN = 2, /* S3 */
	COFFER_POLICY_REVOKED = 3,       /* S1 */
};

struct coffer_policy_status {
	enum coffer_policy_state state;
	const char *reason;   /* "policy.unapproved", "policy.revoked",
	                         "update.field_not_listed", "update.owner_removed",
	                         or NULL when approved */
	unsigned field;       /* with update.field_not_listed: the first such field */
	uint64_t missing;     /* owners (bits) whose approval is missing */
	size_t needed;        /* S3: approvals still needed, 0 if not applicable */
};

/*
 * Rules S1 to S4 for policy v. approved and revoked are bit sets over v's
 * owners (bit i: owner i has a valid approval that counts; has revoked its
 * approval); a repeated signer is one bit, so it counts once. prev: v's
 * predecessor when the caller knows it (NULL otherwise), with
 * prev_approved 1 if it is approved (S2 or S3) and is not a fork (section
 * 10.2: a fork approves nothing after it). A version that names a
 * predecessor is pending without it, and when it does not keep every
 * owner of it (section 9.1, "update.owner_removed"). Errors:
 * COFFER_E_INVAL (more than 64 owners: impossible for a parsed policy).
 */
int coffer_policy_status(const struct coffer_policy *v, uint64_t approved,
    uint64_t revoked, const struct coffer_policy *prev, int prev_approved,
    struct coffer_policy_status *out) __attribute__((warn_unused_result));

const char *coffer_policy_state_name(enum coffer_policy_state s);

#endif
