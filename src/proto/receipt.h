/* SPDX-License-Identifier: Apache-2.0 */
/* Job receipts (doc/format/receipt.md): input and result tree entries
 * (section 2, rule RL1), the signed receipt statement (section 3), the
 * per-owner bundle (section 4) and the offline verification order with
 * its classes and exit codes (section 5, rules RV1 to RV11). */
#ifndef COFFER_PROTO_RECEIPT_H
#define COFFER_PROTO_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/identity.h"
#include "lib/buf.h"
#include "proto/auditlog.h"
#include "proto/merkle.h"
#include "proto/policy.h"

#define COFFER_RESULT_ENTRY_LEN 127
#define COFFER_RECEIPT_BUNDLE_MAX ((size_t)64 << 20)
#define COFFER_RECEIPT_MAX_MEASUREMENTS 128

/* ---- Trees (section 2) ---- */

/* Append the input entry 0x01 || BE64(index) || digest || BE16(len) || key. */
int coffer_receipt_input_entry(uint64_t index, const uint8_t digest[32],
    const char *key, struct coffer_buf *out) __attribute__((warn_unused_result));
/* The input tree of app a of p: its count and root (section 2.1). */
int coffer_receipt_input_root(const struct coffer_policy *p,
    const struct coffer_policy_app *a, uint64_t *count, coffer_merkle_hash root)
	__attribute__((warn_unused_result));

/* A result entry (section 2.2). status: enum coffer_ledger_status (1 OK,
 * 2 FAILED, 3 ABANDONED). */
struct coffer_result_entry {
	uint8_t stage;
	uint64_t index;
	uint8_t status;
	uint8_t attempt[16];
	uint8_t session[16];
	uint8_t input_digest[32];
	uint8_t output_digest[32];
	uint64_t output_size;
	uint32_t error;
	uint64_t log_index;
};

void coffer_receipt_result_encode(const struct coffer_result_entry *e,
    uint8_t out[COFFER_RESULT_ENTRY_LEN]);
/* RL1: COFFER_E_FORMAT (COFFER_E_TRUNCATED if short). */
int coffer_receipt_result_parse(const uint8_t *b, size_t n,
    struct coffer_result_entry *out) __attribute__((warn_unused_result));

/* ---- The receipt (section 3) ---- */

struct coffer_receipt_stage {
	int reduce;  /* 0 "map", 1 "reduce" */
	uint64_t count, ok, failed, abandoned, duplicates, disagreements;
	coffer_merkle_hash root;
};

struct coffer_receipt_measurement {
	struct coffer_policy_measurement m;
	uint64_t sessions, items;
};

/* A receipt's values. Clear it with coffer_receipt_clear. */
struct coffer_receipt {
	uint8_t job[16];
	uint8_t policy[32];
	char app[COFFER_POLICY_NAME_MAX + 1];
	uint8_t app_sha256[32];
	json_t *params;  /* object of strings (owned) */
	uint64_t input_count;
	coffer_merkle_hash input_root;
	size_t nstages;  /* 1 or 2 */
	struct coffer_receipt_stage stages[2];
	size_t nmeasurements;
	struct coffer_receipt_measurement *measurements;
	int failed;      /* outcome "failed" */
	char reason[65]; /* with failed */
	uint64_t log_size;
	coffer_merkle_hash log_root;
	struct coffer_identity_public coordinator;
	uint8_t *evidence;
	size_t evidence_len;
	uint64_t opened, closed;
};

void coffer_receipt_clear(struct coffer_receipt *r);

/* The coordinator's side: sign r with its Ed25519 key; append the
 * envelope's canonical text to out. */
int coffer_receipt_sign(const struct coffer_receipt *r, const uint8_t sign_sk[32],
    struct coffer_buf *out) __attribute__((warn_unused_result));

/* ---- The bundle (section 4) ---- */

struct coffer_bundle_leaf {
	const uint8_t *entry;            /* COFFER_RESULT_ENTRY_LEN bytes */
	const coffer_merkle_hash *path;
	size_t pathlen;
};

/*
 * The coordinator's side: a bundle for the owner with fingerprint owner
 * over the receipt envelope text, the owner's map leaves (in index order)
 * and the reduce leaf (NULL if no reduce stage); cons (NULL, or a
 * consistency proof from..to with its path). Appends JSON text to out.
 */
int coffer_receipt_bundle_make(const char *receipt, size_t receipt_len,
    const uint8_t owner[32], const struct coffer_bundle_leaf *map, size_t nmap,
    const struct coffer_bundle_leaf *reduce, uint64_t cons_from, uint64_t cons_to,
    const coffer_merkle_hash *cons, size_t ncons, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/* ---- Offline verification (section 5) ---- */

/* The classes, valued as `coffer receipt verify`'s exit codes. */
enum coffer_receipt_class {
	COFFER_RECEIPT_VALID = 0,
	COFFER_RECEIPT_TAMPERED = 4,
	COFFER_RECEIPT_MALFORMED = 5,
	COFFER_RECEIPT_REJECTED = 7,
	COFFER_RECEIPT_FORK = 11,
	COFFER_RECEIPT_INCOMPLETE = 12,
};

struct coffer_receipt_check {
	const char *bundle;
	size_t bundle_len;
	const struct coffer_policy *policy;         /* the policy the owner approved */
	uint8_t owner[32];                          /* the verifying owner's fingerprint */
	const struct coffer_identity_public *pinned; /* the pinned coordinator */
	const struct coffer_tree_head *kept;        /* the owner's kept log head, or NULL */
	/* RV4: 0 if ev verifies as the pinned coordinator's evidence (its
	 * measurement) with report data rd, else an error (src/tee). */
	int (*check_evidence)(void *arg, const uint8_t *ev, size_t n,
	    const uint8_t rd[64]);
	void *arg;
};

struct coffer_receipt_item {
	uint64_t index;
	const char *key;                /* borrowed from the policy */
	struct coffer_result_entry map;
};

struct coffer_receipt_report {
	enum coffer_receipt_class class;
	const char *rule;               /* "RV1" ... "RV11", or NULL when valid */
	struct coffer_receipt receipt;  /* what the receipt says (from RV1 on) */
	size_t nitems;
	struct coffer_receipt_item *items; /* the owner's items (from RV9 on) */
	int has_reduce;
	struct coffer_result_entry reduce;
	int log_checked;                /* RV10 compared the kept head */
};

void coffer_receipt_report_clear(struct coffer_receipt_report *rep);

/*
 * Apply RV1 to RV11 in order and stop at the first that fails. rep gets
 * the class and rule and what was learnt. Returns 0 when valid, else the
 * error of the failing rule (its detail says what); rep->class says which
 * class it is.
 */
int coffer_receipt_verify(const struct coffer_receipt_check *in,
    struct coffer_receipt_report *rep) __attribute__((warn_unused_result));

#endif
