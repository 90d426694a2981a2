/* SPDX-License-Identifier: Apache-2.0 */
/* Signed statements: a JSON object signed in its RFC 8785 canonical form
 * with a labelled Ed25519 signature, carried as {"signature", "statement"}
 * (doc/format/policy.md section 2.2, rules G1 to G5). Approvals,
 * revocations, key uploads, tree heads and receipts are all statements. */
#ifndef COFFER_PROTO_SIGNED_H
#define COFFER_PROTO_SIGNED_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/buf.h"

#define COFFER_SIGNED_MAX ((size_t)64 << 10)       /* an envelope's text */
#define COFFER_SIGNED_RECEIPT_MAX ((size_t)4 << 20) /* a receipt's */

/* A parsed envelope. Init (or zero) it; release it when done. */
struct coffer_signed {
	json_t *statement;     /* a new reference, freed by release */
	struct coffer_buf jcs; /* JCS(statement): the bytes that are signed */
	uint8_t sig[64];
};

void coffer_signed_init(struct coffer_signed *s);
void coffer_signed_release(struct coffer_signed *s);

/* The signature label of a statement type ("coffer-approval" ->
 * "coffer/approval/v1"), or NULL for a type that is not signed. */
const char *coffer_signed_label(const char *type);

/*
 * Parse text[0..len) (at most max bytes) as an envelope whose statement
 * has type `type`: rules G1 to G4. The signature is not checked. Errors:
 * COFFER_E_LIMIT (size), COFFER_E_FORMAT naming what is wrong. out is
 * filled only on success (release it).
 */
int coffer_signed_parse(const char *text, size_t len, size_t max,
    const char *type, struct coffer_signed *out)
	__attribute__((warn_unused_result));

/* The same over an envelope already parsed (a member of a bundle or a log
 * entry). env is borrowed; out takes its own reference. */
int coffer_signed_from_json(const json_t *env, const char *type,
    struct coffer_signed *out) __attribute__((warn_unused_result));

/* G5: 0 if the signature verifies under pk with the type's label, else
 * COFFER_E_SIGNATURE. */
int coffer_signed_verify(const struct coffer_signed *s, const uint8_t pk[32])
	__attribute__((warn_unused_result));

/*
 * Sign statement (an object with a "type" that has a label) with the
 * Ed25519 secret key sk and append the envelope, as canonical JSON text,
 * to out. Errors: COFFER_E_INVAL (no label for the type), those of JCS.
 */
int coffer_signed_make(const json_t *statement, const uint8_t sk[32],
    struct coffer_buf *out) __attribute__((warn_unused_result));

/* The "policy" member of an envelope's statement, without verifying
 * anything: which policy to look up before verifying an approval,
 * revocation or key upload against it. COFFER_E_FORMAT if absent. */
int coffer_signed_peek_policy(const char *text, size_t len, uint8_t out[32])
	__attribute__((warn_unused_result));

#endif
