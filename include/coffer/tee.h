/* SPDX-License-Identifier: Apache-2.0 */
/* Attestation evidence: get it from a TEE (or the INSECURE simulation),
 * and verify Intel SGX/TDX quotes, AMD SEV-SNP reports and sim evidence
 * into claims. Formats and checks: doc/format/evidence.md. */
#ifndef COFFER_TEE_H
#define COFFER_TEE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COFFER_TEE_REPORT_DATA_LEN 64

/* ---------------------------------------------------------------------
 * Claims
 */

enum coffer_tee_type {
	COFFER_TEE_UNKNOWN = 0,
	COFFER_TEE_SGX = 1,     /* Intel SGX enclave, ECDSA (DCAP) quote */
	COFFER_TEE_TDX = 2,     /* Intel TDX trust domain */
	COFFER_TEE_SEV_SNP = 3, /* AMD SEV-SNP guest */
	COFFER_TEE_SIM = 4,     /* INSECURE SIMULATION: no hardware at all */
};

/* "sgx", "tdx", "sev-snp", "sim", "unknown". */
const char *coffer_tee_type_name(enum coffer_tee_type t);

/* TCB status of Intel platforms, named as Intel names them. */
enum coffer_tee_tcb_status {
	COFFER_TCB_NOT_EVALUATED = 0, /* no collateral, or not an Intel TEE */
	COFFER_TCB_UP_TO_DATE,
	COFFER_TCB_SW_HARDENING_NEEDED,
	COFFER_TCB_CONFIGURATION_NEEDED,
	COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	COFFER_TCB_OUT_OF_DATE,
	COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	COFFER_TCB_TD_RELAUNCH_ADVISED,
	COFFER_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
	COFFER_TCB_REVOKED,
	COFFER_TCB_NOT_SUPPORTED, /* no TCB level matches the platform */
};

/* "UpToDate", "SWHardeningNeeded", ..., "NotEvaluated", "NotSupported". */
const char *coffer_tee_tcb_status_name(enum coffer_tee_tcb_status s);

/* One finding of the verifier: a stable short code ("tcb.out_of_date",
 * "collateral.expired", "chain.untrusted_root", ...; the list is in
 * doc/format/evidence.md) and English text with the detail. A fatal
 * reason makes the verdict "rejected"; the others are notes for policy
 * (an out-of-date TCB, a debug TEE, missing CRLs that were allowed). */
struct coffer_tee_reason {
	char code[48];
	char text[256];
	int fatal;
};

#define COFFER_TEE_MAX_REASONS 32
#define COFFER_TEE_MAX_ADVISORIES 64

enum coffer_tee_verdict {
	COFFER_TEE_REJECTED = 0,
	COFFER_TEE_OK = 1,
};

/*
 * What the evidence says and what the verifier concluded. Only the part
 * for `tee` is filled; the rest is zero. Byte strings are as on the wire.
 */
struct coffer_tee_claims {
	enum coffer_tee_verdict verdict;
	enum coffer_tee_type tee;
	char backend[24];       /* from the evidence envelope ("sim", "tsm", ...), or "" */
	unsigned format_version; /* quote version 3/4/5, SNP report version, sim 1 */
	int debug;               /* 1: debug enclave/TD/guest (memory open to the host) */
	uint8_t report_data[COFFER_TEE_REPORT_DATA_LEN];

	struct {
		uint8_t mrenclave[32], mrsigner[32];
		uint16_t isv_prod_id, isv_svn;
		uint8_t cpu_svn[16], attributes[16];
		uint32_t misc_select;
		uint8_t config_id[64];
		uint16_t config_svn;
	} sgx;
	struct {
		uint8_t mrtd[48], rtmr[4][48], mrseam[48], mrsigner_seam[48];
		uint8_t mr_config_id[48], mr_owner[48], mr_owner_config[48];
		uint8_t tee_tcb_svn[16];
		uint8_t td_attributes[8], xfam[8], seam_attributes[8];
		int is_v15;                 /* TDX 1.5 body (quote v5, body type 3) */
		uint8_t tee_tcb_svn2[16], mr_servicetd[48]; /* TDX 1.5 only */
	} tdx;
	/* Intel platform (SGX and TDX): from the quote header, the PCK
	 * certificate and the QE report. */
	struct {
		uint16_t qe_svn, pce_svn;   /* quote header */
		uint8_t fmspc[6], pceid[2];
		uint8_t cpu_svn[16];        /* PCK certificate TCB */
		uint8_t comp_svn[16];
		uint16_t pcesvn;
		int sgx_type;               /* 0 standard, 1 scalable, 2 scalable+integrity */
		uint16_t qe_isv_svn;        /* QE report */
		int64_t tcb_date;           /* of the matched TCB level, unix s, 0 if none */
		uint32_t tcb_eval_data_number;
	} intel;
	struct {
		uint32_t guest_svn, vmpl, signature_algo;
		uint64_t policy;
		int policy_debug, policy_smt, policy_migrate_ma, policy_single_socket;
		uint8_t measurement[48], host_data[32], family_id[16], image_id[16];
		uint8_t id_key_digest[48], author_key_digest[48];
		uint8_t report_id[32], report_id_ma[32], chip_id[64];
		uint64_t platform_info;
		uint64_t current_tcb, reported_tcb, committed_tcb, launch_tcb;
		/* reported_tcb decoded for the product's layout */
		uint8_t tcb_bootloader, tcb_tee, tcb_snp, tcb_microcode, tcb_fmc;
		uint8_t current_major, current_minor, current_build;
		int signing_key;            /* 0 VCEK, 1 VLEK */
		char product[16];           /* "Milan", "Genoa", "Turin" */
	} snp;
	/* INSECURE SIMULATION (sim evidence v2): the measurement, the
	 * platform key's fingerprint, and the platform values the evidence
	 * simulates (debug is in `debug`, the Intel-like status in
	 * `tcb_status`). Nothing but the sim key vouches for any of it. */
	struct {
		uint8_t measurement[48];    /* SHA-384 measurement (doc/format/evidence.md) */
		uint8_t platform_key_sha256[32];
		uint32_t tcb_eval_data_number;
		uint8_t tcb_bootloader, tcb_tee, tcb_snp, tcb_microcode, tcb_fmc;
		uint32_t vmpl;
		int smt, migration_agent;
		uint8_t td_attributes[8];
	} sim;

	enum coffer_tee_tcb_status tcb_status;
	char advisory_ids[COFFER_TEE_MAX_ADVISORIES][24];
	size_t n_advisory_ids;

	struct coffer_tee_reason reasons[COFFER_TEE_MAX_REASONS];
	size_t n_reasons;
};

/* The first fatal reason, or NULL when the verdict is ok. */
const struct coffer_tee_reason *coffer_tee_claims_first_fatal(
    const struct coffer_tee_claims *c);

/* 1 if a reason with this code is present. */
int coffer_tee_claims_has_reason(const struct coffer_tee_claims *c,
    const char *code);

/*
 * The claims as one JSON object (doc/format/evidence.md, "Claims JSON"),
 * NUL-terminated, in *out (free with free()). Sim claims carry the
 * "INSECURE SIMULATION" label. Errors: COFFER_E_NOMEM.
 */
int coffer_tee_claims_json(const struct coffer_tee_claims *c, char **out)
	__attribute__((warn_unused_result));

void coffer_tee_claims_free(struct coffer_tee_claims *c);

/* ---------------------------------------------------------------------
 * Trust anchors: the roots a verifier trusts. The default set is compiled
 * in: the Intel SGX Root CA and AMD's ARKs (with their ASK/ASVK) for
 * Milan, Genoa and Turin. Nothing trusts a sim platform key unless it is
 * added explicitly.
 */
struct coffer_tee_anchors;

/* The compiled-in roots. */
int coffer_tee_anchors_new_default(struct coffer_tee_anchors **out)
	__attribute__((warn_unused_result));
/* Only the compiled-in roots evidence of one TEE type chains to: the
 * Intel root for SGX and TDX, the AMD roots for SEV-SNP, none for sim
 * (a verification policy names the sim platform keys it trusts);
 * COFFER_TEE_UNKNOWN: all of them, as coffer_tee_anchors_new_default.
 * For a verifier that accepts one type only (the worker, which pins its
 * coordinator's): building all the roots costs about 2 ms. */
int coffer_tee_anchors_new_for(enum coffer_tee_type tee,
    struct coffer_tee_anchors **out) __attribute__((warn_unused_result));
/* No roots at all (for tests and for pinning other roots). */
int coffer_tee_anchors_new_empty(struct coffer_tee_anchors **out)
	__attribute__((warn_unused_result));

/* Replace the Intel root by this self-signed certificate (DER or PEM). */
int coffer_tee_anchors_set_intel_root(struct coffer_tee_anchors *a,
    const uint8_t *cert, size_t len) __attribute__((warn_unused_result));

/* Trust one more AMD root: a PEM (or DER) holding a self-signed ARK and,
 * optionally, its ASK/ASVK (signed by it; checked here). */
int coffer_tee_anchors_add_amd(struct coffer_tee_anchors *a,
    const uint8_t *certs, size_t len) __attribute__((warn_unused_result));

/* Forget every AMD root and intermediate (then add others). */
void coffer_tee_anchors_clear_amd(struct coffer_tee_anchors *a);

/* Trust a sim platform key (PEM "PUBLIC KEY", as `coffer attest sim-key`
 * prints it). Evidence from it is still INSECURE SIMULATION. */
int coffer_tee_anchors_add_sim_key(struct coffer_tee_anchors *a,
    const char *pem, size_t len) __attribute__((warn_unused_result));

void coffer_tee_anchors_free(struct coffer_tee_anchors *a);

/* ---------------------------------------------------------------------
 * Collateral: Intel TCB Info, QE Identity, CRLs and TCB signing chains;
 * AMD VCEK/VLEK certificates and CRLs. Loaded (parsed, signatures checked
 * against the anchors), then shared by any number of verifications and
 * threads. Adding more while others verify is safe: each add call
 * publishes a new immutable set, and a verification reads the set that
 * was current when it started (doc/format/evidence.md section 6.4). Add
 * calls run one at a time. Free only when no verification uses it.
 */
struct coffer_tee_collateral;

/* An empty collection bound to anchors (which must outlive it). */
int coffer_tee_collateral_new(const struct coffer_tee_anchors *a,
    struct coffer_tee_collateral **out) __attribute__((warn_unused_result));

/* Add every regular file of a directory (not recursive; names starting
 * with '.' are skipped), or one file. Each file's kind is found from its
 * content. A file that is not collateral, or collateral whose signature
 * does not verify to the anchors, is an error naming the file; on error
 * nothing of that call is added. */
int coffer_tee_collateral_add_path(struct coffer_tee_collateral *c,
    const char *path) __attribute__((warn_unused_result));
/* The same for bytes in memory; name is used in error text. */
int coffer_tee_collateral_add_mem(struct coffer_tee_collateral *c,
    const char *name, const uint8_t *data, size_t len)
	__attribute__((warn_unused_result));

void coffer_tee_collateral_free(struct coffer_tee_collateral *c);

/*
 * Several files in one add call, each described (doc/protocol/collateral.md
 * sections 3.3 and 4): what the coordinator's cache and `coffer collateral
 * fetch` need to know of a piece beyond "it verifies".
 */
enum coffer_tee_coll_kind {
	COFFER_TEE_COLL_CERTS = 1,    /* certificates only */
	COFFER_TEE_COLL_TCB_INFO = 2, /* exactly one TCB Info */
	COFFER_TEE_COLL_IDENTITY = 3, /* exactly one enclave identity */
	COFFER_TEE_COLL_CRL = 4,      /* exactly one CRL */
	COFFER_TEE_COLL_MIXED = 5,    /* several of those (a dcap-qvl file) */
};

/* "certificates", "tcb-info", "identity", "crl", "mixed". */
const char *coffer_tee_coll_kind_name(enum coffer_tee_coll_kind k);

/* Also refuse, with COFFER_E_UNTRUSTED naming the file, a CRL that no
 * trusted key verified at load and a certificate that no root, AMD
 * ASK/ASVK or Intel-issued CA of the collateral issued (rules S1, S2): for
 * a cache that anyone may feed. */
#define COFFER_TEE_COLL_STRICT (1u << 0)
/* Check and describe, keep nothing. */
#define COFFER_TEE_COLL_DRY_RUN (1u << 1)

struct coffer_tee_collateral_file {
	const char *name;              /* in: used in messages */
	const uint8_t *data;           /* in: the file's bytes (1 byte to 4 MiB) */
	size_t len;
	/* out, written when the call succeeds: */
	enum coffer_tee_coll_kind kind;
	/* TCB Info "tcb-info/sgx/<fmspc hex>" (or tdx), identity
	 * "identity/<id>", CRL "crl/<32 hex: SHA-256 of the issuer name's DER,
	 * first 16 bytes>"; "" for certificates and mixed files. */
	char slot[64];
	uint32_t eval_num;             /* TCB Info, identity: tcbEvaluationDataNumber */
	int64_t issued;                /* issueDate, thisUpdate, or the latest notBefore */
	int64_t expires;               /* the earliest nextUpdate / notAfter of its pieces */
};

/*
 * Add files[0..n) in one call, as add_path adds a directory: all are
 * parsed, then checked together (a TCB Info and the chain that signs it
 * may come in one call), then published, or on any error none is. flags:
 * COFFER_TEE_COLL_STRICT, COFFER_TEE_COLL_DRY_RUN. On success each file's
 * out fields are set. Errors as add_mem, naming the file.
 */
int coffer_tee_collateral_add_files(struct coffer_tee_collateral *c,
    struct coffer_tee_collateral_file *files, size_t n, unsigned flags)
	__attribute__((warn_unused_result));

/* ---------------------------------------------------------------------
 * Verification policy: what a verifier accepts beyond signatures that
 * check out (doc/format/evidence.md section 10, with its JSON form, the
 * "verification" member of a Coffer policy). Without one, the checks
 * below are notes in the claims; with one, each is a named refusal
 * (policy.*). Size and version first; fields are only ever appended.
 */
#define COFFER_TEE_POLICY_VERSION 1u
#define COFFER_TEE_POLICY_MAX_SIM_KEYS 16

/* SEV-SNP TCB components (REPORTED_TCB, decoded for the product). */
struct coffer_tee_snp_tcb {
	uint8_t bootloader, tee, snp, microcode, fmc;
};

struct coffer_tee_policy {
	uint32_t size;       /* sizeof(struct coffer_tee_policy) as the caller has it */
	uint32_t version;    /* COFFER_TEE_POLICY_VERSION */
	int allow_debug;     /* 0: debug enclaves, TDs and guests are refused */
	/* Intel (SGX, TDX): the accepted TCB statuses, bit (1u << status);
	 * Revoked and NotSupported are never accepted. */
	uint32_t intel_tcb_statuses;
	uint32_t min_tcb_evaluation_data_number; /* of the TCB Info; 0: none */
	int allow_missing_collateral; /* no TCB Info / QE Identity: status not evaluated */
	/* SEV-SNP */
	struct coffer_tee_snp_tcb snp_min_tcb; /* each component >= */
	uint32_t snp_max_vmpl;       /* 0-3 */
	int snp_allow_smt;
	int snp_allow_migration_agent;
	/* TDX: TDATTRIBUTES & mask must equal value */
	uint8_t tdx_attributes_mask[8], tdx_attributes_value[8];
	int allow_missing_crl;       /* a certificate without its CRL */
	/* INSECURE SIMULATION: the sim platform keys (SHA-256 of the key's
	 * SEC1 point, as `coffer attest sim-key --fingerprint` prints it)
	 * whose evidence is accepted. None: sim evidence is refused. */
	size_t n_sim_keys;
	uint8_t sim_keys[COFFER_TEE_POLICY_MAX_SIM_KEYS][32];
};

/* The defaults (section 10.2): debug refused, Intel UpToDate only, no
 * minimums, VMPL 0, SMT allowed, no migration agent, no TDX attribute
 * constraint, collateral and CRLs required, no sim key. */
void coffer_tee_policy_init(struct coffer_tee_policy *p);

/*
 * Parse the JSON form (section 10.3) strictly: unknown fields, wrong
 * types, out-of-range values and contradictions are COFFER_E_FORMAT (an
 * unknown "version" COFFER_E_VERSION), the detail naming the field.
 * Fields left out take their defaults. *out is written only on success.
 */
int coffer_tee_policy_parse(const char *json, size_t len, struct coffer_tee_policy *out)
	__attribute__((warn_unused_result));

/* The JSON form with every field (compact, sorted keys), in *out (free
 * with free()). Parsing it gives back the same policy. */
int coffer_tee_policy_json(const struct coffer_tee_policy *p, char **out)
	__attribute__((warn_unused_result));

/* What a policy accepts that no data owner should accept unknowingly:
 * bits COFFER_TEE_RISK_* (0: none). A tool that asks an owner to approve
 * a policy shows each (the sim one as INSECURE SIMULATION). */
enum {
	COFFER_TEE_RISK_SIM = 1 << 0,      /* accepts INSECURE SIMULATION evidence */
	COFFER_TEE_RISK_DEBUG = 1 << 1,    /* accepts debug TEEs (host reads memory) */
	COFFER_TEE_RISK_NO_COLLATERAL = 1 << 2, /* Intel TCB may go unevaluated */
	COFFER_TEE_RISK_NO_CRL = 1 << 3,   /* revocation may go unchecked */
};
unsigned coffer_tee_policy_risks(const struct coffer_tee_policy *p);

/* ---------------------------------------------------------------------
 * What collateral evidence needs (doc/protocol/collateral.md section 1),
 * read from the evidence (an envelope, raw, or hex) without verifying it.
 */
struct coffer_tee_platform {
	enum coffer_tee_type tee;      /* SGX, TDX, SEV_SNP; SIM needs nothing */
	/* Intel: from the quote's PCK certificate */
	uint8_t fmspc[6], pceid[2];
	int pck_ca_platform;           /* 1: the PCK Platform CA issued it; 0: the Processor CA */
	/* AMD */
	char product[16];              /* "Milan", "Genoa", "Turin" */
	uint8_t chip_id[64];
	uint64_t reported_tcb;         /* REPORTED_TCB as in the report */
	struct coffer_tee_snp_tcb tcb; /* decoded for the product */
	int vlek;                      /* signed with a VLEK (not from KDS) */
	int has_vek;                   /* the envelope carries a VCEK/VLEK */
};

/*
 * amd_product: the product when an SNP report (version 2) does not say
 * ("Milan", "Genoa", "Turin"; NULL: none given). Errors: COFFER_E_FORMAT
 * and the like for evidence that does not parse, COFFER_E_UNSUPPORTED for
 * a quote without a PCK chain, COFFER_E_INVAL for an SNP report whose
 * product is unknown or contradicts amd_product.
 */
int coffer_tee_evidence_platform(const uint8_t *evidence, size_t len,
    const char *amd_product, struct coffer_tee_platform *out)
	__attribute__((warn_unused_result));

/* ---------------------------------------------------------------------
 * Verification
 */
enum {
	/* Without TCB Info and QE Identity, check signatures and chains but
	 * leave the TCB status NotEvaluated (a note, not fatal). */
	COFFER_TEE_ALLOW_NO_COLLATERAL = 1 << 0,
	/* Without a CRL for some certificate, skip its revocation check (a
	 * note, not fatal). */
	COFFER_TEE_ALLOW_NO_CRL = 1 << 1,
};

struct coffer_tee_verify_opts {
	unsigned flags;                   /* COFFER_TEE_ALLOW_*; 0 with a policy */
	const uint8_t *expected_report_data; /* 64 bytes, or NULL: not checked */
	/* NULL: no policy (the checks of section 10 are notes, sim evidence
	 * needs a sim key of the anchors). Otherwise the policy decides what
	 * may be missing and which sim keys are accepted, and refuses what it
	 * does not accept (policy.* reasons). */
	const struct coffer_tee_policy *policy;
};

/*
 * The time a caller should verify at when it has no other (the CLI
 * without --at; the coordinator): the wall clock, in seconds since the
 * epoch. This is the only place Coffer reads the clock for attestation.
 * Test programs link their own definition (tests/support/tee_clock.c) to
 * verify recorded evidence at its time; production binaries have no
 * override of any kind.
 */
int64_t coffer_tee_now(void);

/*
 * Verify evidence at time `at` (seconds since the epoch; the verifier
 * never reads the clock). The evidence is detected by content: a Coffer
 * evidence envelope (JSON), an SGX v3 / SGX-or-TDX v4 / v5 quote, an SNP
 * report, or either as a hex text file. collateral may be NULL; opts may
 * be NULL (strict).
 *
 * Returns 0 when the verdict is ok. When the evidence was parsed but
 * rejected, *out is STILL set (claims with verdict COFFER_TEE_REJECTED and
 * the reasons) and the return value is the error of the first fatal reason
 * (COFFER_E_SIGNATURE, _CERT, _EXPIRED, _REVOKED, _UNTRUSTED, _POLICY).
 * When the evidence cannot be parsed (COFFER_E_FORMAT, _TRUNCATED,
 * _VERSION, _UNSUPPORTED) or on COFFER_E_INVAL/_NOMEM, *out is untouched.
 * COFFER_E_INVAL also for flags given with a policy; COFFER_E_VERSION for
 * a policy of another version or a smaller size.
 */
int coffer_tee_verify(const uint8_t *evidence, size_t len,
    const struct coffer_tee_anchors *anchors,
    const struct coffer_tee_collateral *collateral, int64_t at,
    const struct coffer_tee_verify_opts *opts, struct coffer_tee_claims **out)
	__attribute__((warn_unused_result));

/* ---------------------------------------------------------------------
 * Generation backends
 */
/*
 * INSECURE SIMULATION: the platform values sim evidence v2 carries, so
 * that every refusal of a policy can be exercised without hardware
 * (doc/format/evidence.md section 8). Signed by the sim key like the rest;
 * they prove nothing.
 */
struct coffer_tee_sim_values {
	int debug;
	enum coffer_tee_tcb_status tcb_status;   /* Intel-like: UpToDate .. Revoked */
	uint32_t tcb_evaluation_data_number;
	struct coffer_tee_snp_tcb snp_tcb;       /* SEV-SNP-like */
	uint32_t vmpl;                           /* 0-3 */
	int smt, migration_agent;
	uint8_t td_attributes[8];                /* TDX-like */
};

/* Defaults: not debug, UpToDate, evaluation number 0, TCB 0, VMPL 0, no
 * SMT, no migration agent, attributes 0. */
void coffer_tee_sim_values_init(struct coffer_tee_sim_values *v);

/* Parse the JSON form (section 8.4; fields left out keep the defaults),
 * strictly: COFFER_E_FORMAT naming the field. */
int coffer_tee_sim_values_parse(const char *json, size_t len,
    struct coffer_tee_sim_values *out) __attribute__((warn_unused_result));

enum coffer_tee_backend {
	COFFER_TEE_BACKEND_SIM = 1,         /* INSECURE SIMULATION */
	COFFER_TEE_BACKEND_SGX_GRAMINE = 2, /* Gramine's /dev/attestation */
	COFFER_TEE_BACKEND_TSM = 3,         /* Linux configfs-tsm (TDX, SEV-SNP) */
};

/* "sim", "sgx-gramine", "tsm"; parse returns COFFER_E_INVAL if unknown. */
const char *coffer_tee_backend_name(enum coffer_tee_backend b);
int coffer_tee_backend_parse(const char *name, enum coffer_tee_backend *out)
	__attribute__((warn_unused_result));

struct coffer_tee_backend_opts {
	/* sim: the directory of the platform key file "sim-platform.key"
	 * (created 0600 on first use). NULL: $COFFER_SIM_DIR, else
	 * $HOME/.local/share/coffer. */
	const char *sim_dir;
	/* sim: files measured, in order (the executable first, then plugins).
	 * n_measure == 0: /proc/self/exe. */
	const char *const *measure;
	size_t n_measure;
	/* sgx-gramine: the attestation directory (default /dev/attestation).
	 * tsm: the report directory (default /sys/kernel/config/tsm/report). */
	const char *device_root;
	/* tsm, for tests that reproduce configfs in a plain directory: called
	 * right after the entry directory is made, as the kernel populates
	 * its attributes then. NULL on real systems. */
	void (*tsm_after_mkdir)(const char *entry_dir, void *arg);
	void *tsm_hook_arg;
	/* sim: the platform values to simulate; NULL: the defaults of
	 * coffer_tee_sim_values_init(). */
	const struct coffer_tee_sim_values *sim_values;
};

/*
 * Get evidence binding report_data (64 bytes) from a backend, as a Coffer
 * evidence envelope (doc/format/evidence.md) in *out (*outlen bytes, free
 * with free()). opts may be NULL. Errors: COFFER_E_NOTFOUND (no such
 * device: not in a TEE), COFFER_E_IO, COFFER_E_PROTO (the device broke its
 * interface: wrong provider, generation changed, short read),
 * COFFER_E_PERM (the sim key file is readable by others).
 */
int coffer_tee_evidence_get(enum coffer_tee_backend backend,
    const uint8_t report_data[COFFER_TEE_REPORT_DATA_LEN],
    const struct coffer_tee_backend_opts *opts, uint8_t **out, size_t *outlen)
	__attribute__((warn_unused_result));

/* The sim platform public key (PEM "PUBLIC KEY", free with free()),
 * creating the key pair on first use. */
int coffer_tee_sim_public_key(const char *sim_dir, char **pem_out)
	__attribute__((warn_unused_result));

/* The fingerprint of a sim platform public key (PEM): SHA-256 of its
 * SEC1 uncompressed point, what policies and claims name it by. */
int coffer_tee_sim_key_fingerprint(const char *pem, size_t len, uint8_t out[32])
	__attribute__((warn_unused_result));

/* The sim measurement of files, in order (doc/format/evidence.md). */
int coffer_tee_sim_measure(const char *const *files, size_t n,
    uint8_t out[48]) __attribute__((warn_unused_result));

/* ---------------------------------------------------------------------
 * Sealing: a 32-byte key only this code on this platform can get back,
 * for the coordinator's sealed state (doc/format/sealed-state.md section
 * 10): sim derives it from the platform key and the measurement
 * (INSECURE); sgx-gramine reads Gramine's MRENCLAVE sealing key; tsm asks
 * the SEV-SNP firmware for a derived key (/dev/sev-guest; opts->device_root,
 * if set, names the directory of that device node instead of /dev) and
 * fails on TDX, which has none (COFFER_E_UNSUPPORTED).
 */
struct coffer_tee_sealing {
	enum coffer_tee_backend backend;
	uint8_t key[32];          /* secret: coffer_tee_sealing_wipe() */
	uint8_t measurement[48];  /* the code the key is bound to, zero-padded */
	uint8_t platform[32];     /* sim: SHA-256 of the platform key's SEC1 point; else 0 */
};

/* Errors: COFFER_E_NOTFOUND (not in that TEE), COFFER_E_UNSUPPORTED (no
 * sealing key: TDX), COFFER_E_IO, COFFER_E_PERM (sim key file mode). */
int coffer_tee_sealing_key(enum coffer_tee_backend backend,
    const struct coffer_tee_backend_opts *opts, struct coffer_tee_sealing *out)
	__attribute__((warn_unused_result));
void coffer_tee_sealing_wipe(struct coffer_tee_sealing *s);

#ifdef __cplusplus
}
#endif
#endif
