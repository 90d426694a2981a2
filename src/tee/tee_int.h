/* SPDX-License-Identifier: Apache-2.0 */
/* Private declarations shared by the files of src/tee (names tee_*): the
 * verification context, DER reading, Intel quote and collateral
 * structures. Not for use outside src/tee and its tests. Formats and the
 * order of checks: doc/format/evidence.md. */
#ifndef COFFER_TEE_INT_H
#define COFFER_TEE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "coffer/tee.h"
#include "crypto/ecdsa.h"
#include "lib/buf.h"

/* ------------------------------------------------------------------ */
/* Verification context: the claims being built and the first error. */

struct tee_vctx {
	struct coffer_tee_claims *c;
	const struct coffer_tee_anchors *anchors;
	const struct coffer_tee_collateral *coll;  /* its caches and lock, or NULL */
	struct tee_coll_set *set;  /* coll's set this verification reads, or NULL */
	int64_t at;
	unsigned flags;
	const struct coffer_tee_policy *policy;  /* or NULL */
	int first_err;   /* error of the first fatal reason, 0 if none */
	/* certificates carried by an envelope (SNP VCEK/VLEK), or NULL */
	STACK_OF(X509) *extra_certs;
};

/* Record a fatal reason; err is the coffer error it maps to. */
void tee_fail(struct tee_vctx *v, int err, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Record a non-fatal note. */
void tee_note(struct tee_vctx *v, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A "missing" reason: a note if `allowed`, else fatal COFFER_E_POLICY. */
void tee_missing(struct tee_vctx *v, int allowed, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Append an advisory id unless already present. */
void tee_advisory(struct tee_vctx *v, const char *id);

/* "YYYY-MM-DDTHH:MM:SSZ" for messages. */
void tee_fmt_time(int64_t t, char out[32]);
/* ASN1_TIME to unix seconds; -1 on error. */
int64_t tee_asn1_time(const ASN1_TIME *t);

/* ------------------------------------------------------------------ */
/* A small DER reader (definite lengths only), for certificate
 * extensions. Every function fails with COFFER_E_FORMAT on bad input. */

struct tee_der {
	const uint8_t *p;
	size_t len, off;
};

void tee_der_init(struct tee_der *d, const uint8_t *p, size_t len);
/* Read the next TLV: *tag (one byte; high tag numbers are rejected), its
 * value and length. */
int tee_der_next(struct tee_der *d, uint8_t *tag, const uint8_t **val,
    size_t *vlen) __attribute__((warn_unused_result));
/* The next TLV must have this tag. */
int tee_der_expect(struct tee_der *d, uint8_t tag, const uint8_t **val,
    size_t *vlen) __attribute__((warn_unused_result));
/* A non-negative INTEGER value that fits in *out (at most max). */
int tee_der_uint(const uint8_t *val, size_t vlen, uint64_t max, uint64_t *out)
	__attribute__((warn_unused_result));

/* ------------------------------------------------------------------ */
/* Trust anchors (anchors.c). */

#define TEE_MAX_AMD 8
#define TEE_MAX_SIM 16

struct tee_amd_root {
	X509 *ark;
	char product[16];         /* "Milan", ... from "ARK-<product>" */
};

struct coffer_tee_anchors {
	X509 *intel_root;         /* NULL: no Intel root */
	uint8_t intel_root_sha256[32];
	uint8_t *intel_root_der;  /* its DER, to recognise it in quotes */
	size_t intel_root_der_len;
	X509_STORE *intel_store;  /* trusts intel_root only */
	struct tee_amd_root amd[TEE_MAX_AMD];
	size_t n_amd;
	STACK_OF(X509) *amd_inter; /* ASKs / ASVKs, each verified under an ARK */
	X509_STORE *amd_store;    /* trusts the ARKs only */
	struct {
		struct coffer_ecdsa_key *key;
		uint8_t raw[97];
		uint8_t sha256[32];
	} sim[TEE_MAX_SIM];
	size_t n_sim;
};

/* The DER of each CERTIFICATE block of PEM text, into der[0..max) (each
 * appended to; the caller resets them); *n gets the count. Text outside
 * the blocks is ignored (quotes end their PEM with a NUL). COFFER_E_FORMAT
 * on a corrupt block, COFFER_E_LIMIT for more than max blocks. */
int tee_pem_certs(const uint8_t *p, size_t len, struct coffer_buf *der, size_t max,
    size_t *n) __attribute__((warn_unused_result));

/* Parse one or more certificates from PEM or a single DER. */
int tee_certs_parse(const uint8_t *p, size_t len, STACK_OF(X509) **out)
	__attribute__((warn_unused_result));
/* 1 if the certificate's subject CN contains s. */
int tee_cn_contains(X509 *x, const char *s);
/* The subject CN into out ("" if none). */
void tee_cn(X509 *x, char *out, size_t outlen);
/* SHA-256 of the DER encoding. */
int tee_cert_sha256(X509 *x, uint8_t out[32]) __attribute__((warn_unused_result));
/* 0 if notBefore <= at <= notAfter; else COFFER_E_EXPIRED with detail. */
int tee_cert_time_ok(X509 *x, int64_t at, const char *what)
	__attribute__((warn_unused_result));
/* The same with the two dates given (unix seconds). */
int tee_validity_ok(int64_t not_before, int64_t not_after, int64_t at,
    const char *what) __attribute__((warn_unused_result));

/*
 * Build and check a chain from leaf through untrusted intermediates to a
 * root in store, at time at (OpenSSL's path validation: signatures, CA
 * constraints, validity times). On success *chain (if not NULL) gets the
 * chain leaf..root (a new stack with references). On failure the reason is
 * recorded in v under `what` ("PCK certificate chain", ...) and an error
 * is returned.
 */
int tee_chain_verify(struct tee_vctx *v, X509_STORE *store, X509 *leaf,
    STACK_OF(X509) *untrusted, const char *what, STACK_OF(X509) **chain);

/* ------------------------------------------------------------------ */
/* Intel TCB Info and Enclave Identity (tcbinfo.c). */

struct tee_advisories {
	char (*ids)[24];
	size_t n;
};

struct tee_tcb_level {
	uint8_t sgx_comp[16];
	uint16_t pcesvn;
	uint8_t tdx_comp[16];
	int has_tdx;
	int64_t date;
	enum coffer_tee_tcb_status status;
	struct tee_advisories adv;
};

struct tee_isv_level {
	uint16_t isvsvn;
	int64_t date;
	enum coffer_tee_tcb_status status;
	struct tee_advisories adv;
};

struct tee_tdx_module_id {
	char id[16];
	uint8_t mrsigner[48];
	uint8_t attributes[8], attributes_mask[8];
	struct tee_isv_level *levels;
	size_t n_levels;
};

struct tee_tcb_info {
	int tdx;                   /* id "TDX" (else "SGX") */
	int version;               /* 2 or 3 */
	int64_t issue_date, next_update;
	uint8_t fmspc[6], pceid[2];
	uint32_t eval_num;
	int has_module;
	uint8_t module_mrsigner[48], module_attributes[8], module_mask[8];
	struct tee_tdx_module_id *modules;
	size_t n_modules;
	struct tee_tcb_level *levels;
	size_t n_levels;
};

struct tee_enclave_identity {
	char id[8];                /* "QE", "TD_QE", "QVE" */
	int64_t issue_date, next_update;
	uint32_t eval_num;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	struct tee_isv_level *levels;
	size_t n_levels;
};

/* Parse the signed JSON text of a tcbInfo / enclaveIdentity object. */
int tee_tcb_info_parse(const char *text, size_t len, struct tee_tcb_info *out)
	__attribute__((warn_unused_result));
void tee_tcb_info_release(struct tee_tcb_info *t);
int tee_identity_parse(const char *text, size_t len,
    struct tee_enclave_identity *out) __attribute__((warn_unused_result));
void tee_identity_release(struct tee_enclave_identity *e);

/* TCB level matching inputs and result (Intel's QVL algorithm). */
struct tee_tcb_input {
	uint8_t comp_svn[16];      /* PCK certificate */
	uint16_t pcesvn;
	int tdx;
	unsigned quote_version;
	uint8_t tee_tcb_svn[16];   /* TDX only */
	int is_v15;
	uint8_t tee_tcb_svn2[16];  /* TDX 1.5 only */
	uint8_t mrsigner_seam[48];
	uint8_t seam_attributes[8];
	/* QE */
	uint32_t qe_miscselect;
	uint8_t qe_attributes[16], qe_mrsigner[32];
	uint16_t qe_isvprodid, qe_isvsvn;
};

/*
 * Compute the TCB status from a TCB Info and (optionally) a QE identity,
 * recording reasons (tcb.*, qe.*, tdx.*) and advisories in v. Returns the
 * status (COFFER_TCB_NOT_SUPPORTED when no level matches).
 */
enum coffer_tee_tcb_status tee_tcb_evaluate(struct tee_vctx *v,
    const struct tee_tcb_info *ti, const struct tee_enclave_identity *qe,
    const struct tee_tcb_input *in);

/*
 * Without a TCB Info: judge the QE alone by its identity (the platform
 * stays NotEvaluated). Records qe.identity_mismatch, tcb.not_supported,
 * tcb.revoked (fatal) or the note qe.out_of_date, and the QE level's
 * advisories.
 */
void tee_qe_evaluate(struct tee_vctx *v, const struct tee_enclave_identity *qe,
    const struct tee_tcb_input *in);

/* Record the note for a TCB status (tcb.out_of_date, ...), or tcb.revoked
 * (fatal). */
void tee_tcb_record_status(struct tee_vctx *v, enum coffer_tee_tcb_status s);

/* Status names as in TCB Info JSON; parse returns -1 if unknown. */
int tee_tcb_status_parse(const char *s);

/* ------------------------------------------------------------------ */
/* The verification policy (policy.c, doc/format/evidence.md section 10). */

/* COFFER_E_VERSION for a policy of another version or a smaller size,
 * COFFER_E_INVAL for a value out of range. */
int tee_policy_check(const struct coffer_tee_policy *p)
	__attribute__((warn_unused_result));
/* Add the refusals of v->policy (if any) for the claims in v. */
void tee_policy_apply(struct tee_vctx *v);

/* Strict JSON pieces of Coffer's own formats: exactly 2n lower-case hex
 * digits (*present, if not NULL, says whether the member was there); and
 * no member of o whose value is null. COFFER_E_FORMAT naming the field.
 * (No reals anywhere: coffer_json_no_reals.) */
int tee_json_hex_lc(const json_t *o, const char *ctx, const char *key,
    int required, uint8_t *out, size_t n, int *present)
	__attribute__((warn_unused_result));
int tee_json_no_nulls(const json_t *o, const char *ctx)
	__attribute__((warn_unused_result));

/* ------------------------------------------------------------------ */
/* JSON span extraction (jspan.c): the exact bytes of a top-level member's
 * value in a JSON object, for signatures over "the bytes as served". */

/* Find top-level member `key` of the object in text[0..len) and give
 * [*start, *end) of its value. The key must be written without escapes.
 * COFFER_E_NOTFOUND if absent, COFFER_E_FORMAT on malformed JSON. */
int tee_json_span(const char *text, size_t len, const char *key,
    size_t *start, size_t *end) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ */
/* Collateral (collateral.c, certcache.c). doc/format/evidence.md section 6. */

struct tee_signed_tcb {
	struct tee_tcb_info info;
	STACK_OF(X509) *signers;  /* TCB signing certs whose key verified it */
	char src[64];
};

struct tee_signed_identity {
	struct tee_enclave_identity id;
	STACK_OF(X509) *signers;
	char src[64];
};

struct tee_crl {
	X509_CRL *crl;
	int64_t this_update, next_update;
	/* The issuer whose key verified the signature (SHA-256 of its DER),
	 * set at load or at first use. The CRL counts as verified for that
	 * certificate only (section 6.2). Read and written under the
	 * collateral's lock: the one part of a published set that changes. */
	int verified;
	uint8_t verified_by[32];
	char src[64];
};

/* The pieces one add call brought: parsed and checked before they are
 * published, then owned by the collateral (never moved) until it is
 * freed. */
struct tee_coll_batch {
	struct tee_signed_tcb *tcb;
	size_t n_tcb;
	struct tee_signed_identity *ids;
	size_t n_ids;
	struct tee_crl *crls;
	size_t n_crls;
	struct tee_coll_batch *next;
};

/*
 * A collateral set: every piece added so far, as one add call left it.
 * Immutable once published (apart from the CRLs' verified memo): a
 * verification takes a reference to the current set and reads it without
 * a lock; the next add call builds a new set from it and swaps it in; a
 * set is freed when its last reader puts it (section 6.4).
 */
struct tee_coll_set {
	atomic_int refs;
	const struct tee_signed_tcb **tcb;
	size_t n_tcb;
	const struct tee_signed_identity **ids;
	size_t n_ids;
	struct tee_crl **crls;
	size_t n_crls;
	STACK_OF(X509) *certs;     /* every distinct certificate of the collateral */
};

/* A cache of parsed certificates and of the signatures checked on them,
 * keyed by the SHA-256 of their DER: the PCK chain of a platform is parsed
 * and its signatures checked the first time one of its quotes is seen
 * (OpenSSL 3.0 takes about 130 us to parse one certificate). */
#define TEE_CACHE_SLOTS 4096
struct tee_cert_slot {
	uint8_t h[32];
	int used;
	X509 *x;                  /* parsed, or NULL (only its signature is known) */
	uint8_t issuer_h[32];     /* whose key verified the certificate's signature */
	int sig_ok;
	int pinned;               /* from the collateral: kept when the cache is flushed */
};

struct coffer_tee_collateral {
	const struct coffer_tee_anchors *anchors;
	/* Held briefly: to take a reference to the current set, to swap it,
	 * and around the caches and the CRLs' verified memo. */
	pthread_mutex_t lock;
	struct tee_coll_set *cur;      /* never NULL */
	pthread_mutex_t add_lock;      /* one add call checks and publishes at a time */
	struct tee_coll_batch *batches; /* under add_lock */
	struct tee_cert_slot *slots;  /* TEE_CACHE_SLOTS, open addressing */
	size_t n_slots_used;
	/* P-256 keys seen in quotes: attestation keys (a QE keeps its key
	 * until it restarts) and PCK certificate keys; never evicted, so a
	 * key handed out stays valid while the collateral lives; at most
	 * TEE_MAX_KEYS */
	struct tee_p256_key {
		uint8_t raw[64];
		struct coffer_ecdsa_key *key;
	} *keys;
	size_t n_keys;
};

/* The current set, with a reference for the caller (NULL if c is NULL). */
struct tee_coll_set *tee_coll_set_get(const struct coffer_tee_collateral *c);
/* Drop a reference (NULL is a no-op). */
void tee_coll_set_put(struct tee_coll_set *s);

/* The TCB Info for (tdx, fmspc) best suited to time at (valid then,
 * highest evaluation number), or NULL. s may be NULL. */
const struct tee_signed_tcb *tee_coll_tcb_info(const struct tee_coll_set *s,
    int tdx, const uint8_t fmspc[6], int64_t at);
const struct tee_signed_identity *tee_coll_identity(const struct tee_coll_set *s,
    const char *id, int64_t at);

/*
 * The certificate with this DER (a new reference), from c's cache when c
 * is not NULL (parsed and added on a miss). h gets the SHA-256 of der.
 * NULL if it does not parse (detail set).
 */
X509 *tee_cert_get(const struct coffer_tee_collateral *c, const uint8_t *der,
    size_t len, uint8_t h[32]);
#define TEE_MAX_KEYS 2048
/*
 * The P-256 key for raw x || y from a quote (an attestation key, or a PCK
 * certificate's). From c's cache when c is not NULL; otherwise, or when
 * the cache is full, a new key is made and *owned gets it (the caller
 * frees it). NULL if the bytes are not a point on the curve.
 */
const struct coffer_ecdsa_key *tee_p256_key_get(const struct coffer_tee_collateral *c,
    const uint8_t raw[64], struct coffer_ecdsa_key **owned);

/* Forget every cached certificate that did not come with the collateral,
 * and the attestation keys (benchmarks use it to measure a platform's
 * first quote). Not while other threads verify with c. */
void tee_cert_cache_flush(struct coffer_tee_collateral *c);

/* Cache x (a new reference) as coming with the collateral: kept when the
 * cache is flushed; its signature is marked as checked by the Intel root
 * when it is a CA that root issued. c->lock held. */
void tee_cert_cache_pin(struct coffer_tee_collateral *c, X509 *x);

/* Release the caches (when the collateral is freed). */
void tee_cert_cache_release(struct coffer_tee_collateral *c);

/*
 * 1 if x's signature verifies with issuer's key; a success is remembered
 * in c (when not NULL) so that it is checked once per certificate.
 */
int tee_cert_signed_by(const struct coffer_tee_collateral *c, X509 *x,
    const uint8_t xh[32], X509 *issuer, const uint8_t ih[32]);
/* 1 if c (not NULL) remembers that the signature of the certificate with
 * SHA-256 xh verified with the key of the one with SHA-256 ih; remember
 * that it did (a no-op if c is NULL or the cache cannot take it). */
int tee_cert_sig_known(const struct coffer_tee_collateral *c, const uint8_t xh[32],
    const uint8_t ih[32]);
void tee_cert_sig_remember(const struct coffer_tee_collateral *c,
    const uint8_t xh[32], const uint8_t ih[32]);

/*
 * Check that cert (issued by issuer) is not revoked, with the CRL of that
 * issuer (its name, and a signature its key verifies) valid at v->at.
 * Records crl.* / chain.revoked reasons. what names the certificate in
 * messages.
 */
void tee_check_revocation(struct tee_vctx *v, X509 *cert, X509 *issuer,
    const char *what);
/* The same for the certificate with this serial number, when the issuer's
 * SHA-256 ih is known. */
void tee_check_revocation_serial(struct tee_vctx *v, const ASN1_INTEGER *serial,
    X509 *issuer, const uint8_t ih[32], const char *what);

/* Check a signer list (TCB signing certificates) at v->at; records
 * collateral.* reasons. Returns 0 if one signer is valid. */
int tee_check_signers(struct tee_vctx *v, STACK_OF(X509) *signers,
    const char *what);

/* ------------------------------------------------------------------ */
/* Intel quotes (quote.c, intel.c). */

#define TEE_QE_VENDOR_INTEL "\x93\x9a\x72\x33\xf7\x9c\x4c\xa9\x94\x0a\x0d\xb3\x95\x7f\x06\x07"

enum {
	TEE_BODY_SGX = 1,
	TEE_BODY_TDX10 = 2,
	TEE_BODY_TDX15 = 3,
};

struct tee_quote {
	const uint8_t *raw;
	size_t len;
	uint16_t version, att_key_type;
	uint32_t tee_type;
	uint16_t qe_svn, pce_svn;
	const uint8_t *qe_vendor_id, *user_data;
	uint16_t body_type;
	const uint8_t *body;
	size_t body_len;
	size_t signed_len;          /* raw[0..signed_len) is signed by the attestation key */
	const uint8_t *sig, *att_key, *qe_report, *qe_report_sig, *qe_auth;
	uint16_t qe_auth_len;
	const uint8_t *pck_pem;
	size_t pck_pem_len;
	size_t end;                 /* end of the declared signature data */
};

/* Parse a quote with bounds checks; pointers point into p. */
int tee_quote_parse(const uint8_t *p, size_t len, struct tee_quote *q)
	__attribute__((warn_unused_result));

/* Intel PCK certificate SGX extensions (OID 1.2.840.113741.1.13.1). */
struct tee_pck_ext {
	uint8_t ppid[16];
	uint8_t comp_svn[16];
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pceid[2];
	uint8_t fmspc[6];
	int sgx_type;
	int has_platform_instance_id;
	uint8_t platform_instance_id[16];
};

/*
 * The PCK certificate, read as doc/format/evidence.md section 4.1 says
 * (pckcert.c) without a general X.509 parser. Pointers point into the DER
 * it was read from; nothing in it is trusted before tee_pck_cert_signed_by.
 */
struct tee_pck_cert {
	const uint8_t *tbs;          /* the tbsCertificate TLV: what is signed */
	size_t tbs_len;
	const uint8_t *serial;       /* the serialNumber INTEGER TLV */
	size_t serial_len;
	const uint8_t *issuer;       /* the issuer Name TLV */
	size_t issuer_len;
	const uint8_t *cn;           /* the subject's common name, or NULL */
	size_t cn_len;
	int64_t not_before, not_after;
	uint8_t key[64];             /* its P-256 key: x || y */
	int has_bc, bc_ca;           /* basicConstraints present; its cA */
	int ku_cert_sign;            /* keyUsage present with keyCertSign */
	const uint8_t *akid;         /* authorityKeyIdentifier keyIdentifier, or NULL */
	size_t akid_len;
	const uint8_t *sgx;          /* the SGX extension's value, or NULL */
	size_t sgx_len;
	int unknown_critical;        /* a critical extension that is not read */
	const uint8_t *sig;          /* ECDSA-Sig-Value (DER) */
	size_t sig_len;
};

/* COFFER_E_FORMAT naming the rule (C1-C10) the DER breaks. */
int tee_pck_cert_read(const uint8_t *der, size_t len, struct tee_pck_cert *out)
	__attribute__((warn_unused_result));
/* 1 if ca issued c by name, key identifier and key usage (I1-I3). */
int tee_pck_cert_issued_by(const struct tee_pck_cert *c, X509 *ca);
/* 1 if c's signature verifies with ca's P-256 key (I4); h and cah are
 * the SHA-256 of their DER, to remember a success in coll (may be NULL). */
int tee_pck_cert_signed_by(const struct coffer_tee_collateral *coll,
    const struct tee_pck_cert *c, const uint8_t h[32], X509 *ca,
    const uint8_t cah[32]);

/* Parse the extension's value (the DER inside the OCTET STRING). */
int tee_pck_ext_parse(const uint8_t *der, size_t len, struct tee_pck_ext *out)
	__attribute__((warn_unused_result));
/* Find and parse it in a certificate. */
int tee_pck_ext_get(X509 *x, struct tee_pck_ext *out)
	__attribute__((warn_unused_result));

int tee_intel_verify(struct tee_vctx *v, const uint8_t *p, size_t len);

/* ------------------------------------------------------------------ */
/* AMD SEV-SNP (snp.c). */

#define TEE_SNP_REPORT_LEN 0x4A0
#define TEE_SNP_SIGNED_LEN 0x2A0

/* Decode a report into v->c->snp (no verification). */
int tee_snp_parse(const uint8_t *p, size_t len, struct coffer_tee_claims *c)
	__attribute__((warn_unused_result));
int tee_snp_verify(struct tee_vctx *v, const uint8_t *p, size_t len);

/* The VCEK/VLEK TCB extensions (OIDs 1.3.6.1.4.1.3704.1.3.*). */
struct tee_vek_ext {
	int have_bl, have_tee, have_snp, have_ucode, have_fmc;
	uint8_t bl, tee, snp, ucode, fmc;
	uint8_t hwid[64];
	size_t hwid_len;
	char product[32];
};
int tee_vek_ext_get(X509 *x, struct tee_vek_ext *out)
	__attribute__((warn_unused_result));
/* The product of a version 3+ report from its CPUID family and model
 * ("Milan", "Genoa", "Turin"), or NULL. */
const char *tee_snp_cpuid_product(const uint8_t *report);
/* Decode REPORTED_TCB into c->snp.tcb_* for the product's layout. */
void tee_snp_tcb_decode(uint64_t tcb, int turin, struct coffer_tee_claims *c);

/* ------------------------------------------------------------------ */
/* Sim evidence (sim.c) and the envelope (envelope.c). */

/* Evidence given as hex text (verify.c, doc/format/evidence.md section 1,
 * step 2): 1 if p is not that (other characters, fewer than 96 digits, an
 * odd count), 0 with the bytes appended to out, or an error. */
int tee_hex_text_decode(const uint8_t *p, size_t len, struct coffer_buf *out);
/* Raw evidence by its first bytes (section 1, steps 3 to 5): SIM,
 * SEV_SNP, SGX (an Intel quote, SGX or TDX), or UNKNOWN. */
enum coffer_tee_type tee_evidence_kind(const uint8_t *p, size_t len);
/* The error for evidence of no known kind. */
int tee_evidence_unknown(size_t len);

#define TEE_SIM_MAGIC_PREFIX "INSECURE-SIM-V"  /* every version's magic starts so */
#define TEE_SIM_MAGIC "INSECURE-SIM-V2"   /* 16 bytes with its NUL */
#define TEE_SIM_LEN 0x165
#define TEE_SIM_SIGNED_LEN 0x105
/* Sim platform keys a policy named, decoded once per process (sim.c). */
#define TEE_SIM_KEY_CACHE 16
size_t tee_sim_keys_cached(void);
#define TEE_SIM_WARNING "INSECURE SIMULATION: no TEE protects this code or " \
	"data; the evidence proves nothing to anyone but its own host"

int tee_sim_verify(struct tee_vctx *v, const uint8_t *p, size_t len);
/* coffer_tee_sim_measure with the measurement cache of the sim directory
 * (doc/format/evidence.md section 8.5): what sim evidence is made with. */
int tee_sim_measure_cached(const char *sim_dir, const char *const *files,
    size_t n, uint8_t out[48]) __attribute__((warn_unused_result));
int tee_sim_make(const char *sim_dir, const uint8_t measurement[48],
    const uint8_t report_data[64], const struct coffer_tee_sim_values *values,
    struct coffer_buf *out) __attribute__((warn_unused_result));

struct tee_envelope {
	char tee[16];
	char backend[24];
	char provider[32];
	struct coffer_buf evidence;
	STACK_OF(X509) *certs;
};

int tee_envelope_parse(const uint8_t *p, size_t len, struct tee_envelope *e)
	__attribute__((warn_unused_result));
void tee_envelope_release(struct tee_envelope *e);
/* Serialise an envelope (certs may be NULL). */
int tee_envelope_write(const char *tee, const char *backend, const char *provider,
    const uint8_t *ev, size_t evlen, STACK_OF(X509) *certs, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/* SNP extended-report certificate table (GHCB spec, MSG_REPORT_REQ): the
 * certificates it holds, appended to *certs. */
int tee_snp_cert_table_parse(const uint8_t *p, size_t len, STACK_OF(X509) *certs)
	__attribute__((warn_unused_result));

/* Backends. */
int tee_gramine_get(const char *root, const uint8_t report_data[64],
    struct coffer_buf *quote) __attribute__((warn_unused_result));
int tee_tsm_get(const struct coffer_tee_backend_opts *o, const uint8_t report_data[64],
    struct coffer_buf *outblob, struct coffer_buf *auxblob, char *provider,
    size_t provlen) __attribute__((warn_unused_result));

/* Compiled-in anchors (anchors_data.c, generated by gen_anchors.sh). */
struct tee_anchor_der {
	const char *name;
	const uint8_t *der;
	size_t len;
};
extern const struct tee_anchor_der tee_anchor_intel_root;
extern const struct tee_anchor_der tee_anchor_amd[];   /* NULL-name terminated */

/* The sim platform key pair (sim.c), created 0600 on first use; for
 * sealkey.c. */
int tee_sim_platform_key(const char *sim_dir, struct coffer_ecdsa_key **out)
	__attribute__((warn_unused_result));

#endif
