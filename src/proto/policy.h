/* SPDX-License-Identifier: Apache-2.0 */
/* Policies (doc/format/policy.md): parse and validate (rules P1 to P17),
 * the policy hash (section 5), the items of an app (section 6), worker
 * measurements (section 3.3), job parameters, and the members that change
 * between two versions (section 9.2). */
#ifndef COFFER_PROTO_POLICY_H
#define COFFER_PROTO_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "coffer/tee.h"
#include "crypto/identity.h"
#include "lib/buf.h"

#define COFFER_POLICY_MAX_BYTES ((size_t)1 << 20)
#define COFFER_POLICY_MAX_OWNERS 64
#define COFFER_POLICY_MAX_OBJECTS 10000
#define COFFER_POLICY_MAX_APPS 16
#define COFFER_POLICY_MEASUREMENT_MAX 240 /* TDX: MRTD || RTMR0..3 */
#define COFFER_POLICY_NAME_MAX 64
#define COFFER_POLICY_KEY_MAX 512   /* an object key */
#define COFFER_POLICY_VALUE_MAX 4096 /* a parameter value */

/* A worker measurement: the TEE type and what its claims measure. */
struct coffer_policy_measurement {
	enum coffer_tee_type tee;
	size_t len;
	uint8_t value[COFFER_POLICY_MEASUREMENT_MAX];
};

struct coffer_policy_object {
	const char *key;   /* borrowed from the policy */
	uint8_t digest[32]; /* the sealed content digest */
};

struct coffer_policy_dataset {
	const char *name;
	uint8_t key_id[16];
	size_t owner;   /* index into owners */
	size_t nobjects;
	struct coffer_policy_object *objects;
};

struct coffer_policy_owner {
	struct coffer_identity_public id;
	uint8_t fingerprint[32];
	size_t first_dataset, ndatasets; /* a range of policy->datasets */
};

struct coffer_policy_param {
	const char *name;
	size_t nvalues;
	const char **values;
};

struct coffer_policy_app {
	const char *name;
	uint8_t sha256[32];
	int reduce;
	size_t ndatasets;
	size_t *datasets; /* indices into policy->datasets, as listed */
	size_t nmeasurements;
	struct coffer_policy_measurement *measurements;
	size_t nparams;
	struct coffer_policy_param *params;
};

struct coffer_policy_limit {
	const char *name;
	uint64_t value;
};

/* The members of section 9.2, as bits of a mask. */
enum coffer_policy_field {
	COFFER_POLICY_F_EXPIRES = 1 << 0,
	COFFER_POLICY_F_APPS = 1 << 1,
	COFFER_POLICY_F_VERIFICATION = 1 << 2,
	COFFER_POLICY_F_RECIPIENTS = 1 << 3,
	COFFER_POLICY_F_LIMITS = 1 << 4,
	COFFER_POLICY_F_TOLERANCE = 1 << 5,
	/* never listable */
	COFFER_POLICY_F_NAME = 1 << 6,
	COFFER_POLICY_F_COORDINATOR = 1 << 7,
	COFFER_POLICY_F_OWNERS = 1 << 8,
	COFFER_POLICY_F_UPDATE = 1 << 9,
};
#define COFFER_POLICY_F_LISTABLE 0x3f

/* A parsed, well-formed policy. Strings are borrowed from `root` (from
 * `strings` when `partial`). With
 * `partial` set (coffer_policy_read_approved), only the members section
 * 4.1 lists are set. */
struct coffer_policy {
	int partial;
	uint8_t hash[32];        /* section 5 */
	struct coffer_buf jcs;   /* JCS(policy) */
	json_t *root;            /* the parsed document */
	char *strings;           /* partial: the decoded strings the others
	                            point into (coffer_policy_read_approved) */
	const char *name;
	int has_previous;
	uint8_t previous[32];
	struct coffer_identity_public coordinator;
	uint64_t expires;
	size_t nowners;
	struct coffer_policy_owner *owners;
	size_t ndatasets;        /* every owner's, in owner order */
	struct coffer_policy_dataset *datasets;
	size_t napps;
	struct coffer_policy_app *apps;
	const json_t *verification; /* the member as written */
	struct coffer_tee_policy tee_policy; /* parsed (doc/format/evidence.md section 10) */
	size_t nrecipients;
	struct coffer_identity_public *recipients;
	size_t nlimits;
	struct coffer_policy_limit *limits;
	uint64_t fail_after, max_failed, max_abandoned; /* section 3.5, defaults 1, 0, 0 */
	int has_update;
	uint64_t update_k;
	unsigned update_fields;  /* enum coffer_policy_field bits */
};

/*
 * Parse and validate a policy (rules P1 to P17, in order) and compute its
 * hash. Errors: COFFER_E_LIMIT (over 1 MiB), COFFER_E_VERSION, otherwise
 * COFFER_E_FORMAT with the member's path. *out: free with
 * coffer_policy_free.
 */
int coffer_policy_parse(const char *text, size_t len, struct coffer_policy **out)
	__attribute__((warn_unused_result));
void coffer_policy_free(struct coffer_policy *p);

/*
 * Read the canonical text of an approved policy for one app (section 4.1,
 * rules PA1 to PA6, in order): COFFER_E_AUTH ("PA1: ...") unless
 * SHA-256("coffer/policy/v1" || 0x00 || text) is `hash`, with nothing
 * parsed; then only the coordinator, the owners and their datasets, app
 * `app` (none: napps 0) and the objects of the datasets it names.
 * COFFER_E_LIMIT over 1 MiB, else COFFER_E_FORMAT. *out has `partial`
 * set: free with coffer_policy_free.
 */
int coffer_policy_read_approved(const char *text, size_t len,
    const uint8_t hash[32], const char *app, struct coffer_policy **out)
	__attribute__((warn_unused_result));
/*
 * The same rules, read from a jansson tree of the text: the reference the
 * reader above was checked against (tests/unit/test_proto_policy.c and
 * tests/fuzz/fuzz_policy.c compare the two). The reader above takes only
 * canonical text (section 5), which every text past PA1 is; on canonical
 * text the two accept the same texts with the same result.
 */
int coffer_policy_read_approved_tree(const char *text, size_t len,
    const uint8_t hash[32], const char *app, struct coffer_policy **out)
	__attribute__((warn_unused_result));

/* Section 5's hash of a text, SHA-256("coffer/policy/v1" || 0x00 || text):
 * the policy hash when text is the canonical form. */
int coffer_policy_hash_text(const char *text, size_t len, uint8_t out[32])
	__attribute__((warn_unused_result));

/* 1 if two identity lines have the same keys (doc/format/identity.md: the
 * name part does not count). */
int coffer_policy_same_identity(const struct coffer_identity_public *a,
    const struct coffer_identity_public *b);

/* The lower-case hex of the hash (65 bytes with the NUL). */
void coffer_policy_hash_hex(const struct coffer_policy *p, char out[65]);

/* The app named name, or NULL. */
const struct coffer_policy_app *coffer_policy_app(const struct coffer_policy *p,
    const char *name);
/* The index of the owner with this fingerprint, or -1. */
int coffer_policy_owner_index(const struct coffer_policy *p, const uint8_t fp[32]);
/* The index of the owner whose datasets include key_id, or -1. */
int coffer_policy_key_owner(const struct coffer_policy *p, const uint8_t key_id[16]);

/* One item of an app (section 6); pointers borrowed from the policy. */
struct coffer_policy_item {
	uint64_t index;
	const char *key;
	const uint8_t *digest;  /* 32 bytes */
	size_t owner, dataset;
};
/* The items of app a, in order, in a new array (free()). n may be 0 only
 * for an app whose datasets... never: every dataset has an object. */
int coffer_policy_items(const struct coffer_policy *p,
    const struct coffer_policy_app *a, struct coffer_policy_item **out,
    size_t *n) __attribute__((warn_unused_result));

/* The measurement of verified claims (section 3.3). COFFER_E_UNSUPPORTED
 * for a TEE type with no measurement. */
int coffer_policy_measurement(const struct coffer_tee_claims *c,
    struct coffer_policy_measurement *out) __attribute__((warn_unused_result));
/* 1 if app a lists m. */
int coffer_policy_app_allows(const struct coffer_policy_app *a,
    const struct coffer_policy_measurement *m);
/* 1 if any app of p lists m (doc/format/policy.md rule RK5). */
int coffer_policy_lists_measurement(const struct coffer_policy *p,
    const struct coffer_policy_measurement *m);
/* Parse "sgx", "tdx", "sev-snp", "sim" and a hex value of that TEE's
 * length into m. COFFER_E_FORMAT naming path. */
int coffer_policy_measurement_parse(const char *tee, const char *hex,
    const char *path, struct coffer_policy_measurement *m)
	__attribute__((warn_unused_result));

/*
 * Check a job's parameters (an object of strings) against app a: exactly
 * one allowed value for every parameter a lists, nothing else
 * (doc/protocol/key-release.md rule J5, doc/format/receipt.md rule RV5).
 * COFFER_E_POLICY naming the parameter.
 */
int coffer_policy_check_params(const struct coffer_policy_app *a,
    const json_t *params) __attribute__((warn_unused_result));

/* The members that change from a to b (section 9.2; `previous` is not
 * compared), as a mask of enum coffer_policy_field. */
int coffer_policy_changed(const struct coffer_policy *a,
    const struct coffer_policy *b, unsigned *mask)
	__attribute__((warn_unused_result));
/* The member name of one field bit ("apps"), or "?". */
const char *coffer_policy_field_name(unsigned bit);

/* 1 if p is INSECURE: an app lists a sim measurement, or the verification
 * object accepts sim platform keys (COFFER_TEE_RISK_SIM). */
int coffer_policy_insecure(const struct coffer_policy *p);

#endif
