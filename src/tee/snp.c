// SPDX-License-Identifier: Apache-2.0
// Verifying AMD SEV-SNP attestation reports (SEV Secure Nested Paging
// Firmware ABI Specification, "ATTESTATION_REPORT Structure", versions 2
// to 5): ECDSA P-384 signature with the VCEK or VLEK, its chain through the
// ASK/ASVK to a pinned ARK (Milan, Genoa, Turin), and the reported TCB and
// chip id against the certificate's extensions (AMD "Versioned Chip
// Endorsement Key (VCEK) Certificate and KDS Interface Specification").
// doc/format/evidence.md section 7.
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "coffer/error.h"
#include "crypto/ecdsa.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "tee/tee_int.h"

/* ATTESTATION_REPORT offsets */
#define R_VERSION 0x000
#define R_GUEST_SVN 0x004
#define R_POLICY 0x008
#define R_FAMILY_ID 0x010
#define R_IMAGE_ID 0x020
#define R_VMPL 0x030
#define R_SIG_ALGO 0x034
#define R_CURRENT_TCB 0x038
#define R_PLATFORM_INFO 0x040
#define R_KEY_INFO 0x048
#define R_REPORT_DATA 0x050
#define R_MEASUREMENT 0x090
#define R_HOST_DATA 0x0C0
#define R_ID_KEY_DIGEST 0x0E0
#define R_AUTHOR_KEY_DIGEST 0x110
#define R_REPORT_ID 0x140
#define R_REPORT_ID_MA 0x160
#define R_REPORTED_TCB 0x180
#define R_CPUID_FAM 0x188
#define R_CPUID_MOD 0x189
#define R_CHIP_ID 0x1A0
#define R_COMMITTED_TCB 0x1E0
#define R_CURRENT_BUILD 0x1E8
#define R_CURRENT_MINOR 0x1E9
#define R_CURRENT_MAJOR 0x1EA
#define R_LAUNCH_TCB 0x1F0
#define R_SIGNATURE 0x2A0

/* GUEST_POLICY bits */
#define POL_SMT (1ull << 16)
#define POL_MIGRATE_MA (1ull << 18)
#define POL_DEBUG (1ull << 19)
#define POL_SINGLE_SOCKET (1ull << 20)

#define SIG_ALGO_ECDSA_P384_SHA384 1

int
tee_snp_parse(const uint8_t *p, size_t len, struct coffer_tee_claims *c)
{
	uint32_t version;

	if (len < TEE_SNP_REPORT_LEN)
		return coffer_errf(COFFER_E_TRUNCATED, "SNP report: %zu bytes, an "
		    "ATTESTATION_REPORT is %d", len, TEE_SNP_REPORT_LEN);
	if (len > TEE_SNP_REPORT_LEN)
		return coffer_errf(COFFER_E_FORMAT, "SNP report: %zu bytes, an "
		    "ATTESTATION_REPORT is %d", len, TEE_SNP_REPORT_LEN);
	version = coffer_load_u32le(p + R_VERSION);
	if (version < 2 || version > 5)
		return coffer_errf(COFFER_E_VERSION, "SNP report: version %u is not "
		    "supported (2 to 5)", version);
	c->tee = COFFER_TEE_SEV_SNP;
	c->format_version = version;
	c->snp.guest_svn = coffer_load_u32le(p + R_GUEST_SVN);
	c->snp.policy = coffer_load_u64le(p + R_POLICY);
	c->snp.policy_debug = (c->snp.policy & POL_DEBUG) != 0;
	c->snp.policy_smt = (c->snp.policy & POL_SMT) != 0;
	c->snp.policy_migrate_ma = (c->snp.policy & POL_MIGRATE_MA) != 0;
	c->snp.policy_single_socket = (c->snp.policy & POL_SINGLE_SOCKET) != 0;
	c->debug = c->snp.policy_debug;
	memcpy(c->snp.family_id, p + R_FAMILY_ID, 16);
	memcpy(c->snp.image_id, p + R_IMAGE_ID, 16);
	c->snp.vmpl = coffer_load_u32le(p + R_VMPL);
	c->snp.signature_algo = coffer_load_u32le(p + R_SIG_ALGO);
	c->snp.current_tcb = coffer_load_u64le(p + R_CURRENT_TCB);
	c->snp.platform_info = coffer_load_u64le(p + R_PLATFORM_INFO);
	c->snp.signing_key = (int)((coffer_load_u32le(p + R_KEY_INFO) >> 2) & 7);
	memcpy(c->report_data, p + R_REPORT_DATA, 64);
	memcpy(c->snp.measurement, p + R_MEASUREMENT, 48);
	memcpy(c->snp.host_data, p + R_HOST_DATA, 32);
	memcpy(c->snp.id_key_digest, p + R_ID_KEY_DIGEST, 48);
	memcpy(c->snp.author_key_digest, p + R_AUTHOR_KEY_DIGEST, 48);
	memcpy(c->snp.report_id, p + R_REPORT_ID, 32);
	memcpy(c->snp.report_id_ma, p + R_REPORT_ID_MA, 32);
	c->snp.reported_tcb = coffer_load_u64le(p + R_REPORTED_TCB);
	memcpy(c->snp.chip_id, p + R_CHIP_ID, 64);
	c->snp.committed_tcb = coffer_load_u64le(p + R_COMMITTED_TCB);
	c->snp.current_build = p[R_CURRENT_BUILD];
	c->snp.current_minor = p[R_CURRENT_MINOR];
	c->snp.current_major = p[R_CURRENT_MAJOR];
	c->snp.launch_tcb = coffer_load_u64le(p + R_LAUNCH_TCB);
	return 0;
}


/* Decode with what the report itself says; the chain may refine it. */
static void
snp_parse_product(const uint8_t *p, struct coffer_tee_claims *c)
{
	const char *prod = c->format_version >= 3 ? tee_snp_cpuid_product(p) : NULL;

	if (prod != NULL)
		snprintf(c->snp.product, sizeof(c->snp.product), "%s", prod);
	tee_snp_tcb_decode(c->snp.reported_tcb, prod != NULL && strcmp(prod, "Turin") == 0, c);
}

/* TCB_VERSION layout: Milan and Genoa put the bootloader in byte 0, TEE in
 * 1, SNP in 6, microcode in 7; Turin has FMC in 0, bootloader 1, TEE 2,
 * SNP 3, microcode 7. */
void
tee_snp_tcb_decode(uint64_t tcb, int turin, struct coffer_tee_claims *c)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(tcb >> (8 * i));
	if (turin) {
		c->snp.tcb_fmc = b[0];
		c->snp.tcb_bootloader = b[1];
		c->snp.tcb_tee = b[2];
		c->snp.tcb_snp = b[3];
	} else {
		c->snp.tcb_fmc = 0;
		c->snp.tcb_bootloader = b[0];
		c->snp.tcb_tee = b[1];
		c->snp.tcb_snp = b[6];
	}
	c->snp.tcb_microcode = b[7];
}

/* The product from CPUID family/model (report v3+), or NULL. */
const char *
tee_snp_cpuid_product(const uint8_t *p)
{
	uint8_t fam = p[R_CPUID_FAM], mod = p[R_CPUID_MOD];

	if (fam == 0x19 && mod <= 0x0f)
		return "Milan";
	if (fam == 0x19 && ((mod >= 0x10 && mod <= 0x1f) || (mod >= 0xa0 && mod <= 0xaf)))
		return "Genoa";
	if (fam == 0x1a && mod <= 0x1f)
		return "Turin";
	return NULL;
}

int
tee_vek_ext_get(X509 *x, struct tee_vek_ext *out)
{
	static const char prefix[] = "1.3.6.1.4.1.3704.1.";
	struct tee_vek_ext e;
	int n = X509_get_ext_count(x);

	memset(&e, 0, sizeof(e));
	for (int i = 0; i < n; i++) {
		X509_EXTENSION *ext = X509_get_ext(x, i);
		ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(ext);
		const uint8_t *d = ASN1_STRING_get0_data(os);
		size_t dl = (size_t)ASN1_STRING_length(os);
		char oid[64];
		const char *arc;
		struct tee_der der;
		const uint8_t *val;
		size_t vlen;
		uint8_t tag;
		uint64_t u;

		if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1) <= 0 ||
		    strncmp(oid, prefix, sizeof(prefix) - 1) != 0)
			continue;
		arc = oid + sizeof(prefix) - 1;
		if (strcmp(arc, "4") == 0) {
			/* hwID: the chip id as raw bytes (64; 8 on Turin). */
			if (dl == 0 || dl > sizeof(e.hwid))
				return coffer_errf(COFFER_E_FORMAT, "VCEK hwID: %zu bytes", dl);
			memcpy(e.hwid, d, dl);
			e.hwid_len = dl;
			continue;
		}
		tee_der_init(&der, d, dl);
		if (tee_der_next(&der, &tag, &val, &vlen) != 0)
			return coffer_errf(COFFER_E_FORMAT, "VCEK extension %s: not DER", oid);
		if (strcmp(arc, "2") == 0) {
			if (tag != 0x16 || vlen >= sizeof(e.product))
				return coffer_errf(COFFER_E_FORMAT, "VCEK productName: not "
				    "an IA5String");
			memcpy(e.product, val, vlen);
			e.product[vlen] = '\0';
			continue;
		}
		if (strncmp(arc, "3.", 2) != 0)
			continue;
		if (tag != 0x02 || tee_der_uint(val, vlen, 255, &u) != 0)
			return coffer_errf(COFFER_E_FORMAT, "VCEK extension %s: not an "
			    "INTEGER 0-255", oid);
		if (strcmp(arc, "3.1") == 0) {
			e.bl = (uint8_t)u;
			e.have_bl = 1;
		} else if (strcmp(arc, "3.2") == 0) {
			e.tee = (uint8_t)u;
			e.have_tee = 1;
		} else if (strcmp(arc, "3.3") == 0) {
			e.snp = (uint8_t)u;
			e.have_snp = 1;
		} else if (strcmp(arc, "3.8") == 0) {
			e.ucode = (uint8_t)u;
			e.have_ucode = 1;
		} else if (strcmp(arc, "3.9") == 0) {
			e.fmc = (uint8_t)u;
			e.have_fmc = 1;
		}
	}
	coffer_errclear();
	*out = e;
	return 0;
}

static int
is_vek(X509 *x, int vlek)
{
	EVP_PKEY *k = X509_get0_pubkey(x);

	ERR_clear_error();
	return k != NULL && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    tee_cn_contains(x, vlek ? "SEV-VLEK" : "SEV-VCEK");
}

/* Does this VEK certificate describe this report's chip and TCB? Returns
 * 0 if so, else a short reason code (and text in why). */
static const char *
vek_matches(X509 *x, const uint8_t *p, int vlek, struct coffer_tee_claims *c,
    char *why, size_t whylen)
{
	struct tee_vek_ext e;
	int turin;

	if (tee_vek_ext_get(x, &e) != 0) {
		snprintf(why, whylen, "%s", coffer_errdetail());
		return "snp.vek_invalid";
	}
	turin = strncmp(e.product, "Turin", 5) == 0;
	tee_snp_tcb_decode(c->snp.reported_tcb, turin, c);
	if (!vlek) {
		int zero_rest = 1;

		for (size_t i = e.hwid_len; i < 64; i++)
			zero_rest &= p[R_CHIP_ID + i] == 0;
		if (e.hwid_len == 0 || memcmp(e.hwid, p + R_CHIP_ID, e.hwid_len) != 0 ||
		    !zero_rest) {
			snprintf(why, whylen, "the VCEK is for another chip (hwID does "
			    "not match the report's CHIP_ID)");
			return "snp.chip_id_mismatch";
		}
	}
	if (!e.have_bl || !e.have_tee || !e.have_snp || !e.have_ucode ||
	    (turin && !e.have_fmc)) {
		snprintf(why, whylen, "the %s has no TCB extensions",
		    vlek ? "VLEK" : "VCEK");
		return "snp.vek_invalid";
	}
	if (e.bl != c->snp.tcb_bootloader || e.tee != c->snp.tcb_tee ||
	    e.snp != c->snp.tcb_snp || e.ucode != c->snp.tcb_microcode ||
	    (turin && e.fmc != c->snp.tcb_fmc)) {
		snprintf(why, whylen, "REPORTED_TCB (bootloader %u, tee %u, snp %u, "
		    "microcode %u%s) is not the TCB the %s was issued for (%u, %u, %u, "
		    "%u)", c->snp.tcb_bootloader, c->snp.tcb_tee, c->snp.tcb_snp,
		    c->snp.tcb_microcode, turin ? ", fmc" : "", vlek ? "VLEK" : "VCEK",
		    e.bl, e.tee, e.snp, e.ucode);
		return "snp.tcb_mismatch";
	}
	return NULL;
}

/* r and s are 72-byte little-endian integers in the report; make the
 * 96-byte big-endian r || s of P-384. */
static int
sig_to_raw(const uint8_t *sig, uint8_t out[96])
{
	for (int part = 0; part < 2; part++) {
		const uint8_t *le = sig + 72 * part;

		for (int i = 48; i < 72; i++)
			if (le[i] != 0)
				return -1;
		for (int i = 0; i < 48; i++)
			out[48 * part + i] = le[47 - i];
	}
	return 0;
}

static X509 *
find_vek(struct tee_vctx *v, const uint8_t *p, int vlek)
{
	STACK_OF(X509) *src[2] = { v->extra_certs, v->set != NULL ? v->set->certs : NULL };
	const char *code = NULL;
	char why[256] = "", first_why[256] = "";
	int seen = 0;

	for (int k = 0; k < 2; k++) {
		for (int i = 0; src[k] != NULL && i < sk_X509_num(src[k]); i++) {
			X509 *x = sk_X509_value(src[k], i);
			const char *c;

			if (!is_vek(x, vlek))
				continue;
			if ((c = vek_matches(x, p, vlek, v->c, why, sizeof(why))) == NULL)
				return x;
			if (!seen) {
				code = c;
				snprintf(first_why, sizeof(first_why), "%s", why);
			}
			seen++;
		}
	}
	if (seen)
		tee_fail(v, COFFER_E_CERT, code, "%s (%d %s certificate%s tried)",
		    first_why, seen, vlek ? "VLEK" : "VCEK", seen > 1 ? "s" : "");
	else
		tee_fail(v, COFFER_E_CERT, "snp.vek_missing", "no %s certificate for "
		    "this report: give it in the evidence envelope or the collateral "
		    "(AMD KDS /vcek/v1/<product>/<chip id>)", vlek ? "VLEK" : "VCEK");
	return NULL;
}

int
tee_snp_verify(struct tee_vctx *v, const uint8_t *p, size_t len)
{
	struct coffer_tee_claims *c = v->c;
	const struct coffer_tee_anchors *a = v->anchors;
	STACK_OF(X509) *untrusted = NULL, *chain = NULL;
	struct coffer_ecdsa_key *key = NULL;
	const char *cpu_prod;
	uint8_t sig[96];
	X509 *vek;
	int r, vlek;

	if ((r = tee_snp_parse(p, len, c)) != 0)
		return r;
	snp_parse_product(p, c);
	if (c->snp.signing_key > 1) {
		tee_fail(v, COFFER_E_SIGNATURE, "snp.signature", "the report is not "
		    "signed (SIGNING_KEY %d: neither VCEK nor VLEK)", c->snp.signing_key);
		goto notes;
	}
	vlek = c->snp.signing_key == 1;
	if ((vek = find_vek(v, p, vlek)) == NULL)
		goto notes;

	/* 1. The VEK's chain: ASK (or ASVK for a VLEK) to a pinned ARK. */
	/* Intermediates: the pinned ASKs/ASVKs, and any the collateral or the
	 * envelope carry (trusted only if they chain to a pinned ARK). */
	if ((untrusted = sk_X509_dup(a->amd_inter)) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	{
		STACK_OF(X509) *more[2] = { v->extra_certs, v->set != NULL ? v->set->certs : NULL };

		for (int k = 0; k < 2; k++)
			for (int i = 0; more[k] != NULL && i < sk_X509_num(more[k]); i++)
				if (X509_check_ca(sk_X509_value(more[k], i)) >= 1 &&
				    !sk_X509_push(untrusted, sk_X509_value(more[k], i))) {
					r = COFFER_E_NOMEM;
					goto out;
				}
	}
	if (tee_chain_verify(v, a->amd_store, vek, untrusted,
	    vlek ? "VLEK certificate chain" : "VCEK certificate chain", &chain) == 0) {
		X509 *ask = sk_X509_value(chain, 1), *ark = sk_X509_value(chain,
		    sk_X509_num(chain) - 1);

		for (size_t i = 0; i < a->n_amd; i++)
			if (X509_cmp(a->amd[i].ark, ark) == 0)
				snprintf(c->snp.product, sizeof(c->snp.product), "%s",
				    a->amd[i].product);
		if (sk_X509_num(chain) != 3 || tee_cn_contains(ask, "VLEK") != vlek)
			tee_fail(v, COFFER_E_CERT, "chain.invalid", "a %s must be issued "
			    "by an %s", vlek ? "VLEK" : "VCEK", vlek ? "ASVK" : "ASK");
		else
			tee_check_revocation(v, ask, ark, vlek ? "ASVK certificate" :
			    "ASK certificate");
	}

	/* 2. The report signature (bytes 0x000-0x29F, ECDSA P-384 SHA-384). */
	if (c->snp.signature_algo != SIG_ALGO_ECDSA_P384_SHA384)
		tee_fail(v, COFFER_E_SIGNATURE, "snp.signature", "signature algorithm "
		    "%u is not ECDSA P-384 with SHA-384", c->snp.signature_algo);
	else if (sig_to_raw(p + R_SIGNATURE, sig) != 0)
		tee_fail(v, COFFER_E_SIGNATURE, "snp.signature", "the signature's r or "
		    "s does not fit in 48 bytes");
	else if (coffer_ecdsa_pub_from_pkey(X509_get0_pubkey(vek), &key) != 0 ||
	    coffer_ecdsa_key_curve(key) != COFFER_ECDSA_P384)
		tee_fail(v, COFFER_E_CERT, "snp.vek_invalid", "the %s key is not EC "
		    "P-384", vlek ? "VLEK" : "VCEK");
	else if (coffer_ecdsa_verify(key, p, TEE_SNP_SIGNED_LEN, sig, 96,
	    COFFER_ECDSA_SIG_RAW) != 0)
		tee_fail(v, COFFER_E_SIGNATURE, "snp.signature", "the report signature "
		    "does not verify with the %s", vlek ? "VLEK" : "VCEK");
	coffer_errclear();

	/* 3. The product the report says it ran on (v3+) is the chain's. */
	if (c->format_version >= 3 && (cpu_prod = tee_snp_cpuid_product(p)) != NULL &&
	    c->snp.product[0] != '\0' && strcmp(cpu_prod, c->snp.product) != 0)
		tee_fail(v, COFFER_E_CERT, "snp.product_mismatch", "the report's CPUID "
		    "says %s but the %s chains to ARK-%s", cpu_prod,
		    vlek ? "VLEK" : "VCEK", c->snp.product);
notes:
	if (c->debug)
		tee_note(v, "tee.debug", "debug guest (policy DEBUG): the host can "
		    "read and change its memory");
	if (c->snp.policy_migrate_ma)
		tee_note(v, "snp.migration_agent", "the guest policy allows a "
		    "migration agent (MIGRATE_MA)");
	r = 0;
out:
	coffer_ecdsa_key_free(key);
	sk_X509_free(untrusted);
	sk_X509_pop_free(chain, X509_free);
	return r;
}
