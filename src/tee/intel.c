// SPDX-License-Identifier: Apache-2.0
// Verifying Intel SGX and TDX ECDSA quotes: the PCK chain to the pinned
// Intel SGX Root CA and its CRLs, the QE report signed by the PCK key and
// bound to the attestation key, the quote signed by the attestation key,
// then the TCB status from TCB Info and QE Identity collateral at the
// given time. The order and the reason codes are those of
// doc/format/evidence.md section 4 (after Intel's QVL, section 4.1.2.4).
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "coffer/error.h"
#include "crypto/ecdsa.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "tee/tee_int.h"

/* SGX report body offsets (Intel SGX ECDSA Quote Library API, "Enclave
 * Report Body"); the QE report has the same layout. */
#define RB_CPUSVN 0
#define RB_MISCSELECT 16
#define RB_ATTRIBUTES 48
#define RB_MRENCLAVE 64
#define RB_MRSIGNER 128
#define RB_CONFIGID 192
#define RB_ISVPRODID 256
#define RB_ISVSVN 258
#define RB_CONFIGSVN 260
#define RB_REPORTDATA 320
#define SGX_ATTR_DEBUG 0x02

/* TD report body offsets (Intel TDX DCAP Quoting Library API, "TD Quote
 * Body"; TDX 1.5 appends TEE_TCB_SVN2 and MRSERVICETD). */
#define TD_TEETCBSVN 0
#define TD_MRSEAM 16
#define TD_MRSIGNERSEAM 64
#define TD_SEAMATTR 112
#define TD_TDATTR 120
#define TD_XFAM 128
#define TD_MRTD 136
#define TD_MRCONFIGID 184
#define TD_MROWNER 232
#define TD_MROWNERCONFIG 280
#define TD_RTMR0 328
#define TD_REPORTDATA 520
#define TD_TEETCBSVN2 584
#define TD_MRSERVICETD 600
#define TD_ATTR_DEBUG 0x01

static void
fill_body(struct coffer_tee_claims *c, const struct tee_quote *q)
{
	const uint8_t *b = q->body;

	c->format_version = q->version;
	c->intel.qe_svn = q->qe_svn;
	c->intel.pce_svn = q->pce_svn;
	if (q->body_type == TEE_BODY_SGX) {
		c->tee = COFFER_TEE_SGX;
		memcpy(c->sgx.cpu_svn, b + RB_CPUSVN, 16);
		c->sgx.misc_select = coffer_load_u32le(b + RB_MISCSELECT);
		memcpy(c->sgx.attributes, b + RB_ATTRIBUTES, 16);
		memcpy(c->sgx.mrenclave, b + RB_MRENCLAVE, 32);
		memcpy(c->sgx.mrsigner, b + RB_MRSIGNER, 32);
		memcpy(c->sgx.config_id, b + RB_CONFIGID, 64);
		c->sgx.isv_prod_id = coffer_load_u16le(b + RB_ISVPRODID);
		c->sgx.isv_svn = coffer_load_u16le(b + RB_ISVSVN);
		c->sgx.config_svn = coffer_load_u16le(b + RB_CONFIGSVN);
		memcpy(c->report_data, b + RB_REPORTDATA, 64);
		c->debug = (b[RB_ATTRIBUTES] & SGX_ATTR_DEBUG) != 0;
		return;
	}
	c->tee = COFFER_TEE_TDX;
	memcpy(c->tdx.tee_tcb_svn, b + TD_TEETCBSVN, 16);
	memcpy(c->tdx.mrseam, b + TD_MRSEAM, 48);
	memcpy(c->tdx.mrsigner_seam, b + TD_MRSIGNERSEAM, 48);
	memcpy(c->tdx.seam_attributes, b + TD_SEAMATTR, 8);
	memcpy(c->tdx.td_attributes, b + TD_TDATTR, 8);
	memcpy(c->tdx.xfam, b + TD_XFAM, 8);
	memcpy(c->tdx.mrtd, b + TD_MRTD, 48);
	memcpy(c->tdx.mr_config_id, b + TD_MRCONFIGID, 48);
	memcpy(c->tdx.mr_owner, b + TD_MROWNER, 48);
	memcpy(c->tdx.mr_owner_config, b + TD_MROWNERCONFIG, 48);
	for (int i = 0; i < 4; i++)
		memcpy(c->tdx.rtmr[i], b + TD_RTMR0 + 48 * i, 48);
	memcpy(c->report_data, b + TD_REPORTDATA, 64);
	if (q->body_type == TEE_BODY_TDX15) {
		c->tdx.is_v15 = 1;
		memcpy(c->tdx.tee_tcb_svn2, b + TD_TEETCBSVN2, 16);
		memcpy(c->tdx.mr_servicetd, b + TD_MRSERVICETD, 48);
	}
	c->debug = (b[TD_TDATTR] & TD_ATTR_DEBUG) != 0;
}

/* The quote's certification data: PCK certificate, PCK CA, and (usually)
 * the root, as PEM. The PCK certificate is read by pckcert.c (section 4.1);
 * the PCK CA is parsed by OpenSSL, usually found parsed in the collateral. */
struct pck_chain {
	struct coffer_buf leaf_der;
	struct tee_pck_cert leaf;   /* points into leaf_der */
	X509 *ca;
	uint8_t leaf_h[32], ca_h[32];
	int root_mismatch;          /* a third certificate that is not the pinned root */
	uint8_t root_h[32];
};

static void
pck_chain_release(struct pck_chain *pc)
{
	coffer_buf_release(&pc->leaf_der);
	X509_free(pc->ca);
}

static int
pck_chain_load(struct tee_vctx *v, const struct tee_quote *q, struct pck_chain *pc)
{
	const struct coffer_tee_anchors *a = v->anchors;
	struct coffer_buf der[3] = { COFFER_BUF_INIT(65536), COFFER_BUF_INIT(65536),
	    COFFER_BUF_INIT(65536) };
	size_t n = 0;
	int r;

	memset(pc, 0, sizeof(*pc));
	if ((r = tee_pem_certs(q->pck_pem, q->pck_pem_len, der, 3, &n)) != 0) {
		r = coffer_errctx(r, "quote: PCK certificate chain");
		goto out;
	}
	if (n < 2) {
		r = coffer_errf(COFFER_E_FORMAT, "quote: the PCK chain has %zu "
		    "certificate(s); the PCK certificate and its CA are needed", n);
		goto out;
	}
	/* The leaf's DER moves to pc, which pc->leaf points into. */
	pc->leaf_der = der[0];
	coffer_buf_init(&der[0], 65536);
	if ((r = tee_pck_cert_read(pc->leaf_der.data, pc->leaf_der.len, &pc->leaf)) != 0 ||
	    (r = coffer_sha256(pc->leaf_der.data, pc->leaf_der.len, pc->leaf_h)) != 0) {
		r = coffer_errctx(r, "quote: PCK certificate chain");
		goto out;
	}
	if ((pc->ca = tee_cert_get(v->coll, der[1].data, der[1].len, pc->ca_h)) == NULL) {
		r = coffer_errctx(COFFER_E_FORMAT, "quote: PCK certificate chain");
		goto out;
	}
	/* The root in the quote is never trusted for what it says; only its
	 * identity with the pinned root is checked, to say clearly when a
	 * quote chains to another root. */
	if (n == 3 && (a->intel_root_der == NULL || der[2].len != a->intel_root_der_len ||
	    memcmp(der[2].data, a->intel_root_der, der[2].len) != 0)) {
		pc->root_mismatch = 1;
		if ((r = coffer_sha256(der[2].data, der[2].len, pc->root_h)) != 0)
			goto out;
	}
	r = 0;
out:
	for (int i = 0; i < 3; i++)
		coffer_buf_release(&der[i]);
	if (r != 0)
		pck_chain_release(pc);
	return r;
}

/*
 * Intel's PKI has a fixed shape: Root CA -> PCK Platform or Processor CA
 * -> PCK certificate. Checked here link by link (issuer name, key
 * identifiers and key usage; signatures, CA flags, unknown critical
 * extensions, validity at v->at): OpenSSL's X509 calls for the PCK CA,
 * section 4.1's rules for the PCK certificate; each signature is verified
 * once per certificate and not once per quote. Returns 1 if the chain is
 * valid.
 */
static int
check_pck_chain(struct tee_vctx *v, const struct pck_chain *pc)
{
	const struct coffer_tee_anchors *a = v->anchors;
	const struct tee_pck_cert *leaf = &pc->leaf;
	X509 *root = a->intel_root;
	char h1[65], h2[65], cn[128];
	int ok = 1;

	if (pc->root_mismatch) {
		coffer_hex_encode(pc->root_h, 32, h1);
		coffer_hex_encode(a->intel_root_sha256, 32, h2);
		tee_fail(v, COFFER_E_UNTRUSTED, "chain.untrusted_root", "the quote's "
		    "PCK chain ends at a root with SHA-256 %s, not the trusted Intel "
		    "SGX Root CA %s", h1, h2);
		ok = 0;
	}
	if (root == NULL) {
		tee_fail(v, COFFER_E_UNTRUSTED, "chain.untrusted_root", "no Intel root "
		    "is trusted");
		return 0;
	}
	tee_cn(pc->ca, cn, sizeof(cn));
	if (X509_check_issued(root, pc->ca) != X509_V_OK) {
		tee_fail(v, COFFER_E_UNTRUSTED, "chain.untrusted_root", "the PCK CA "
		    "\"%s\" is not issued by the trusted Intel SGX Root CA", cn);
		ok = 0;
	} else if (!tee_cert_signed_by(v->coll, pc->ca, pc->ca_h, root,
	    a->intel_root_sha256)) {
		tee_fail(v, COFFER_E_CERT, "chain.invalid", "the signature of the PCK "
		    "CA \"%s\" does not verify with the Intel root key", cn);
		ok = 0;
	}
	if (X509_check_ca(pc->ca) < 1) {
		tee_fail(v, COFFER_E_CERT, "chain.invalid", "\"%s\" is not a CA", cn);
		ok = 0;
	}
	if (!tee_pck_cert_issued_by(leaf, pc->ca)) {
		tee_fail(v, COFFER_E_CERT, "chain.invalid", "the PCK certificate is not "
		    "issued by \"%s\"", cn);
		ok = 0;
	} else if (!tee_pck_cert_signed_by(v->coll, leaf, pc->leaf_h, pc->ca, pc->ca_h)) {
		tee_fail(v, COFFER_E_CERT, "chain.invalid", "the PCK certificate's "
		    "signature does not verify with the key of \"%s\"", cn);
		ok = 0;
	}
	if (!leaf->has_bc || leaf->bc_ca || leaf->ku_cert_sign) {
		tee_fail(v, COFFER_E_CERT, "chain.invalid", "the PCK certificate %s",
		    !leaf->has_bc ? "has no basicConstraints saying it is not a CA" :
		    "is a CA (cA or keyCertSign)");
		ok = 0;
	}
	if (leaf->unknown_critical || (X509_get_extension_flags(pc->ca) & EXFLAG_CRITICAL)) {
		tee_fail(v, COFFER_E_CERT, "chain.invalid", "an unknown critical "
		    "extension in the PCK chain");
		ok = 0;
	}
	if (tee_validity_ok(leaf->not_before, leaf->not_after, v->at,
	    "the PCK certificate") != 0 ||
	    tee_cert_time_ok(pc->ca, v->at, "the PCK CA certificate") != 0 ||
	    tee_cert_time_ok(root, v->at, "the Intel root certificate") != 0) {
		tee_fail(v, COFFER_E_EXPIRED, "chain.expired", "%s", coffer_errdetail());
		ok = 0;
	}
	ERR_clear_error();
	coffer_errclear();
	return ok;
}

/* Step 3 for the PCK certificate, by its serial number. */
static void
check_pck_revocation(struct tee_vctx *v, const struct pck_chain *pc)
{
	const uint8_t *p = pc->leaf.serial;
	ASN1_INTEGER *serial = d2i_ASN1_INTEGER(NULL, &p, (long)pc->leaf.serial_len);

	if (serial == NULL) {
		ERR_clear_error();
		tee_fail(v, COFFER_E_NOMEM, "chain.revoked", "the PCK certificate's "
		    "serial number could not be looked up");
		return;
	}
	tee_check_revocation_serial(v, serial, pc->ca, pc->ca_h, "PCK certificate");
	ASN1_INTEGER_free(serial);
}

static void
check_pck(struct tee_vctx *v, const struct tee_pck_cert *leaf, struct tee_pck_ext *ext,
    int *ext_ok)
{
	static const char want[] = "SGX PCK Certificate";

	*ext_ok = 0;
	if (leaf->cn == NULL || memmem(leaf->cn, leaf->cn_len, want, sizeof(want) - 1) == NULL)
		tee_fail(v, COFFER_E_CERT, "pck.invalid", "the first certificate of "
		    "the quote's chain is not an \"SGX PCK Certificate\"");
	if (leaf->sgx == NULL) {
		tee_fail(v, COFFER_E_CERT, "pck.invalid", "PCK certificate: it has no "
		    "SGX extension (1.2.840.113741.1.13.1)");
		return;
	}
	if (tee_pck_ext_parse(leaf->sgx, leaf->sgx_len, ext) != 0) {
		tee_fail(v, COFFER_E_CERT, "pck.invalid", "PCK certificate: %s",
		    coffer_errdetail());
		return;
	}
	*ext_ok = 1;
	memcpy(v->c->intel.fmspc, ext->fmspc, 6);
	memcpy(v->c->intel.pceid, ext->pceid, 2);
	memcpy(v->c->intel.cpu_svn, ext->cpusvn, 16);
	memcpy(v->c->intel.comp_svn, ext->comp_svn, 16);
	v->c->intel.pcesvn = ext->pcesvn;
	v->c->intel.sgx_type = ext->sgx_type;
}

static void
check_window(struct tee_vctx *v, int64_t from, int64_t to, const char *what,
    const char *src)
{
	char t1[32], t2[32], t3[32];

	if (from <= v->at && v->at < to)
		return;
	tee_fmt_time(from, t1);
	tee_fmt_time(to, t2);
	tee_fmt_time(v->at, t3);
	tee_fail(v, COFFER_E_EXPIRED, v->at < from ? "collateral.not_yet_valid" :
	    "collateral.expired", "%s (%s) is valid from %s to %s, not at %s",
	    what, src, t1, t2, t3);
}

static void
evaluate_tcb(struct tee_vctx *v, const struct tee_quote *q,
    const struct tee_pck_ext *ext)
{
	const struct tee_signed_tcb *ti;
	const struct tee_signed_identity *qe;
	const struct coffer_tee_claims *c = v->c;
	struct tee_tcb_input in;
	int tdx = c->tee == COFFER_TEE_TDX, allow = v->flags & COFFER_TEE_ALLOW_NO_COLLATERAL;
	const char *qe_id = tdx ? "TD_QE" : "QE";
	char fm[13];

	coffer_hex_encode(ext->fmspc, 6, fm);
	ti = tee_coll_tcb_info(v->set, tdx, ext->fmspc, v->at);
	qe = tee_coll_identity(v->set, qe_id, v->at);
	/* Each piece that is present is checked, whether or not the other
	 * one is (a missing TCB Info does not excuse the QE). */
	if (ti == NULL) {
		tee_missing(v, allow, "collateral.missing", "no %s TCB Info for FMSPC "
		    "%s in the collateral: the TCB status is not evaluated",
		    tdx ? "TDX" : "SGX", fm);
	} else {
		if (memcmp(ti->info.pceid, ext->pceid, 2) != 0)
			tee_fail(v, COFFER_E_POLICY, "collateral.mismatch", "the TCB Info "
			    "for FMSPC %s is for PCE-ID %02x%02x, the PCK certificate has "
			    "%02x%02x", fm, ti->info.pceid[0], ti->info.pceid[1],
			    ext->pceid[0], ext->pceid[1]);
		check_window(v, ti->info.issue_date, ti->info.next_update, "the TCB Info",
		    ti->src);
		tee_check_signers(v, ti->signers, "the TCB Info");
	}
	if (qe == NULL) {
		tee_missing(v, allow, "collateral.missing", "no %s identity in the "
		    "collateral: the QE is not evaluated", qe_id);
	} else {
		check_window(v, qe->id.issue_date, qe->id.next_update, "the QE identity",
		    qe->src);
		tee_check_signers(v, qe->signers, "the QE identity");
	}
	memset(&in, 0, sizeof(in));
	memcpy(in.comp_svn, ext->comp_svn, 16);
	in.pcesvn = ext->pcesvn;
	in.tdx = tdx;
	in.quote_version = q->version;
	if (tdx) {
		memcpy(in.tee_tcb_svn, c->tdx.tee_tcb_svn, 16);
		in.is_v15 = c->tdx.is_v15;
		memcpy(in.tee_tcb_svn2, c->tdx.tee_tcb_svn2, 16);
		memcpy(in.mrsigner_seam, c->tdx.mrsigner_seam, 48);
		memcpy(in.seam_attributes, c->tdx.seam_attributes, 8);
	}
	in.qe_miscselect = coffer_load_u32le(q->qe_report + RB_MISCSELECT);
	memcpy(in.qe_attributes, q->qe_report + RB_ATTRIBUTES, 16);
	memcpy(in.qe_mrsigner, q->qe_report + RB_MRSIGNER, 32);
	in.qe_isvprodid = coffer_load_u16le(q->qe_report + RB_ISVPRODID);
	in.qe_isvsvn = coffer_load_u16le(q->qe_report + RB_ISVSVN);
	if (ti != NULL)
		v->c->tcb_status = tee_tcb_evaluate(v, &ti->info,
		    qe != NULL ? &qe->id : NULL, &in);
	else if (qe != NULL)
		tee_qe_evaluate(v, &qe->id, &in);
}

int
tee_intel_verify(struct tee_vctx *v, const uint8_t *p, size_t len)
{
	struct tee_quote q;
	struct tee_pck_ext ext;
	struct pck_chain pc;
	struct coffer_ecdsa_key *pck_key = NULL, *att_key = NULL;
	const struct coffer_ecdsa_key *ak, *pk;
	uint8_t h[32];
	int r, ext_ok = 0, vouched;

	if ((r = tee_quote_parse(p, len, &q)) != 0)
		return r;
	if ((r = pck_chain_load(v, &q, &pc)) != 0)
		return r;
	fill_body(v->c, &q);
	v->c->intel.qe_isv_svn = coffer_load_u16le(q.qe_report + RB_ISVSVN);

	/* 1. PCK chain to the pinned root, and its CRLs. */
	check_pck(v, &pc.leaf, &ext, &ext_ok);
	/* A key joins the collateral's cache (never evicted) only when what
	 * vouches for it checked out: the PCK key when its chain did, the
	 * attestation key when the QE report did too; so made-up quotes
	 * cannot fill it (doc/format/evidence.md section 6.4). */
	if ((vouched = check_pck_chain(v, &pc)) != 0) {
		check_pck_revocation(v, &pc);
		tee_check_revocation_serial(v, X509_get0_serialNumber(pc.ca),
		    v->anchors->intel_root, v->anchors->intel_root_sha256,
		    "PCK CA certificate");
	}

	/* 2. The QE report, signed with the PCK key (QVL 4.1.2.4.12). */
	if ((pk = tee_p256_key_get(vouched ? v->coll : NULL, pc.leaf.key, &pck_key)) == NULL) {
		tee_fail(v, COFFER_E_CERT, "pck.invalid", "the PCK certificate's key "
		    "is not a P-256 point");
		vouched = 0;
	} else if (coffer_ecdsa_verify(pk, q.qe_report, 384, q.qe_report_sig, 64,
	    COFFER_ECDSA_SIG_RAW) != 0) {
		tee_fail(v, COFFER_E_SIGNATURE, "qe.report_signature", "the QE report "
		    "signature does not verify with the PCK certificate's key");
		vouched = 0;
	}

	/* 3. The QE vouches for the attestation key: QE report data =
	 * SHA-256(attestation key || QE auth data) || 32 zero bytes
	 * (QVL 4.1.2.4.13; the zero half is checked too). */
	{
		struct coffer_hash *hh = NULL;

		if ((r = coffer_hash_new(COFFER_HASH_SHA256, &hh)) != 0 ||
		    (r = coffer_hash_update(hh, q.att_key, 64)) != 0 ||
		    (r = coffer_hash_update(hh, q.qe_auth, q.qe_auth_len)) != 0 ||
		    (r = coffer_hash_final(hh, h, 32)) != 0) {
			coffer_hash_free(hh);
			goto out;
		}
		coffer_hash_free(hh);
	}
	{
		static const uint8_t zero[32];

		if (memcmp(h, q.qe_report + RB_REPORTDATA, 32) != 0 ||
		    memcmp(zero, q.qe_report + RB_REPORTDATA + 32, 32) != 0) {
			tee_fail(v, COFFER_E_SIGNATURE, "qe.report_data", "the QE report"
			    " does not vouch for the attestation key: its report data"
			    " is not SHA-256(attestation key || QE auth data) followed"
			    " by 32 zero bytes");
			vouched = 0;
		}
	}

	/* 4. The quote, signed with the attestation key (4.1.2.4.16). */
	if ((ak = tee_p256_key_get(vouched ? v->coll : NULL, q.att_key, &att_key)) == NULL)
		tee_fail(v, COFFER_E_SIGNATURE, "quote.signature", "the attestation "
		    "key is not a P-256 point");
	else if (coffer_ecdsa_verify(ak, p, q.signed_len, q.sig, 64,
	    COFFER_ECDSA_SIG_RAW) != 0)
		tee_fail(v, COFFER_E_SIGNATURE, "quote.signature", "the quote "
		    "signature does not verify with the attestation key");
	coffer_errclear();

	/* 5. TCB status from the collateral (4.1.2.4.9-17). */
	if (ext_ok)
		evaluate_tcb(v, &q, &ext);

	if (v->c->debug)
		tee_note(v, "tee.debug", "%s: its memory is open to the host",
		    v->c->tee == COFFER_TEE_SGX ? "debug enclave" : "debug TD");
	if (q.end < len)
		tee_note(v, "evidence.trailing_bytes", "%zu bytes after the quote's "
		    "signature data are not signed and were ignored", len - q.end);
	r = 0;
out:
	coffer_ecdsa_key_free(pck_key);
	coffer_ecdsa_key_free(att_key);
	pck_chain_release(&pc);
	return r;
}
