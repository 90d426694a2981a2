/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's policy book: the policies it knows (parsed once and
 * kept), and their status from the approvals and revocations in its state
 * (doc/format/policy.md sections 9 and 10, rules S1 to S5; policy.fork). */
#ifndef COFFER_COORDINATOR_BOOK_H
#define COFFER_COORDINATOR_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "coordinator/state.h"
#include "proto/approval.h"
#include "proto/policy.h"

struct coord_book;

int coord_book_new(struct coord_state *st, struct coord_book **out)
	__attribute__((warn_unused_result));
void coord_book_free(struct coord_book *b);

/* The policy with this hash, parsed (borrowed: lives as long as the book).
 * COFFER_E_NOTFOUND "policy.unknown". */
int coord_book_get(struct coord_book *b, const uint8_t hash[32],
    const struct coffer_policy **out) __attribute__((warn_unused_result));

/* Add a parsed policy (the book takes it; on error it is freed). *added is
 * 0 when it was known already. */
int coord_book_add(struct coord_book *b, struct coffer_policy *p,
    const struct coffer_policy **out, int *added)
	__attribute__((warn_unused_result));

/* Everything the coordinator says about a policy at a time. */
struct coord_status {
	struct coffer_policy_status s; /* S1 to S4 */
	uint64_t approved;             /* bits over the owners: counted approvals */
	uint64_t revoked;              /* bits: revoked approvals */
	int approved_any;              /* S2 or S3 */
	int approved_once;             /* S2 or S3 but for its revocations (S1):
	                                  approved when it was revoked */
	int forked;                    /* approved, but an earlier sibling version too */
	int superseded;                /* a later version is or was approved */
	uint8_t superseded_by[32];
	int expired;
	int active;                    /* S5 */
	const char *reason;            /* why it is not active, a reason name; NULL if active */
};

/* The status of p at time now (seconds). */
int coord_book_status(struct coord_book *b, const struct coffer_policy *p,
    uint64_t now, struct coord_status *out) __attribute__((warn_unused_result));

/* 1 if a version other than p that names p's predecessor is approved,
 * or was before a revocation (an approval of p would fork the chain:
 * policy.fork). */
int coord_book_would_fork(struct coord_book *b, const struct coffer_policy *p,
    int *fork) __attribute__((warn_unused_result));

/* 1 in *revoked if measurement m was revoked under p or a predecessor. */
int coord_book_measurement_revoked(struct coord_book *b,
    const struct coffer_policy *p, const struct coffer_policy_measurement *m,
    int *revoked) __attribute__((warn_unused_result));

/* The hash of the first version of p's chain (p's own if it has no
 * predecessor). */
int coord_book_chain_root(struct coord_book *b, const struct coffer_policy *p,
    uint8_t out[32]) __attribute__((warn_unused_result));

/* Call fn for p and each predecessor, newest first, until fn returns
 * non-zero (returned). */
int coord_book_chain_each(struct coord_book *b, const struct coffer_policy *p,
    int (*fn)(const struct coffer_policy *v, void *arg), void *arg)
	__attribute__((warn_unused_result));

#endif
