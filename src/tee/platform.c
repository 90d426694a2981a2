// SPDX-License-Identifier: Apache-2.0
// What collateral a piece of evidence needs, read from it without
// verifying it (doc/protocol/collateral.md section 1): the FMSPC and PCK
// CA of an Intel quote, the chip, TCB and product of an SEV-SNP report.
// `coffer collateral fetch` builds its requests from this.
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "tee/tee_int.h"

#define MAX_EVIDENCE ((size_t)1 << 20)

static int
intel_platform(const uint8_t *p, size_t len, struct coffer_tee_platform *out)
{
	struct coffer_buf der[3] = { COFFER_BUF_INIT(65536), COFFER_BUF_INIT(65536),
	    COFFER_BUF_INIT(65536) };
	struct tee_pck_ext ext;
	struct tee_quote q;
	const uint8_t *d;
	X509 *leaf = NULL;
	char issuer[128] = "";
	size_t n = 0;
	int r;

	if ((r = tee_quote_parse(p, len, &q)) != 0)
		goto out;
	if ((r = tee_pem_certs(q.pck_pem, q.pck_pem_len, der, 3, &n)) != 0) {
		r = coffer_errctx(r, "quote: PCK certificate chain");
		goto out;
	}
	d = der[0].data;
	if (n < 1 || (leaf = d2i_X509(NULL, &d, (long)der[0].len)) == NULL) {
		r = coffer_errf(COFFER_E_FORMAT, "quote: no PCK certificate in its "
		    "certification data");
		goto out;
	}
	if ((r = tee_pck_ext_get(leaf, &ext)) != 0) {
		r = coffer_errctx(r, "quote: PCK certificate");
		goto out;
	}
	if (X509_NAME_get_text_by_NID(X509_get_issuer_name(leaf), NID_commonName,
	    issuer, (int)sizeof(issuer)) < 0 ||
	    (strstr(issuer, "Platform CA") == NULL && strstr(issuer, "Processor CA") == NULL)) {
		r = coffer_errf(COFFER_E_FORMAT, "quote: the PCK certificate's issuer "
		    "\"%s\" is neither the Intel SGX PCK Platform CA nor the "
		    "Processor CA", issuer);
		goto out;
	}
	out->tee = q.tee_type == 0x81 ? COFFER_TEE_TDX : COFFER_TEE_SGX;
	memcpy(out->fmspc, ext.fmspc, 6);
	memcpy(out->pceid, ext.pceid, 2);
	out->pck_ca_platform = strstr(issuer, "Platform CA") != NULL;
	r = 0;
out:
	ERR_clear_error();
	X509_free(leaf);
	for (int i = 0; i < 3; i++)
		coffer_buf_release(&der[i]);
	return r;
}

/* The product a VCEK/VLEK names ("Milan-B0" -> "Milan"), or "". */
static void
vek_product(STACK_OF(X509) *certs, char *out, size_t outlen, int *has_vek)
{
	out[0] = '\0';
	for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		struct tee_vek_ext e;
		size_t k = 0;

		if (!tee_cn_contains(x, "SEV-VCEK") && !tee_cn_contains(x, "SEV-VLEK"))
			continue;
		*has_vek = 1;
		if (tee_vek_ext_get(x, &e) != 0) {
			coffer_errclear();
			continue;
		}
		while (e.product[k] != '\0' && e.product[k] != '-' && k + 1 < outlen) {
			out[k] = e.product[k];
			k++;
		}
		out[k] = '\0';
		return;
	}
}

static int
snp_platform(const uint8_t *p, size_t len, const char *given, STACK_OF(X509) *certs,
    struct coffer_tee_platform *out)
{
	struct coffer_tee_claims *c;
	const char *from_report;
	char from_vek[16];
	const char *prod;
	int r;

	if ((c = coffer_calloc(1, sizeof(*c))) == NULL)
		return COFFER_E_NOMEM;
	if ((r = tee_snp_parse(p, len, c)) != 0)
		goto out;
	from_report = c->format_version >= 3 ? tee_snp_cpuid_product(p) : NULL;
	vek_product(certs, from_vek, sizeof(from_vek), &out->has_vek);
	prod = from_report != NULL ? from_report : from_vek[0] != '\0' ? from_vek : given;
	if (prod == NULL) {
		r = coffer_errf(COFFER_E_INVAL, "SNP report version %u does not say "
		    "which processor made it: give the product (Milan, Genoa or "
		    "Turin; --amd-product)", c->format_version);
		goto out;
	}
	if (given != NULL && strcmp(given, prod) != 0) {
		r = coffer_errf(COFFER_E_INVAL, "the SNP report is from a %s, not a "
		    "%s", prod, given);
		goto out;
	}
	if (strcmp(prod, "Milan") != 0 && strcmp(prod, "Genoa") != 0 &&
	    strcmp(prod, "Turin") != 0) {
		r = coffer_errf(COFFER_E_INVAL, "unknown AMD product \"%s\" (Milan, "
		    "Genoa, Turin)", prod);
		goto out;
	}
	tee_snp_tcb_decode(c->snp.reported_tcb, strcmp(prod, "Turin") == 0, c);
	out->tee = COFFER_TEE_SEV_SNP;
	snprintf(out->product, sizeof(out->product), "%s", prod);
	memcpy(out->chip_id, c->snp.chip_id, 64);
	out->reported_tcb = c->snp.reported_tcb;
	out->tcb.bootloader = c->snp.tcb_bootloader;
	out->tcb.tee = c->snp.tcb_tee;
	out->tcb.snp = c->snp.tcb_snp;
	out->tcb.microcode = c->snp.tcb_microcode;
	out->tcb.fmc = c->snp.tcb_fmc;
	out->vlek = c->snp.signing_key == 1;
	r = 0;
out:
	free(c);
	return r;
}

/* Recognised as coffer_tee_verify does (doc/format/evidence.md section 1). */
static int
platform(const uint8_t *p, size_t len, const char *product, STACK_OF(X509) *certs,
    int depth, struct coffer_tee_platform *out)
{
	struct coffer_buf bin = COFFER_BUF_INIT(MAX_EVIDENCE);
	size_t i = 0;
	int r;

	while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
		i++;
	if (depth == 0 && i < len && p[i] == '{') {
		struct tee_envelope e;

		if ((r = tee_envelope_parse(p, len, &e)) != 0)
			return r;
		r = platform(e.evidence.data, e.evidence.len, product, e.certs, 1, out);
		tee_envelope_release(&e);
		return r;
	}
	if (depth < 2 && len >= 96 && (r = tee_hex_text_decode(p, len, &bin)) <= 0) {
		if (r == 0)
			r = platform(bin.data, bin.len, product, certs, 2, out);
		coffer_buf_release(&bin);
		return r;
	}
	coffer_buf_release(&bin);
	switch (tee_evidence_kind(p, len)) {
	case COFFER_TEE_SIM:
		out->tee = COFFER_TEE_SIM;
		return 0;
	case COFFER_TEE_SEV_SNP: return snp_platform(p, len, product, certs, out);
	case COFFER_TEE_SGX: return intel_platform(p, len, out);
	default: return tee_evidence_unknown(len);
	}
}

int
coffer_tee_evidence_platform(const uint8_t *evidence, size_t len,
    const char *amd_product, struct coffer_tee_platform *out)
{
	struct coffer_tee_platform pl;
	int r;

	if (evidence == NULL || out == NULL)
		return coffer_errf(COFFER_E_INVAL, "evidence_platform: NULL argument");
	if (len > MAX_EVIDENCE)
		return coffer_errf(COFFER_E_LIMIT, "evidence of %zu bytes (limit %zu)",
		    len, MAX_EVIDENCE);
	memset(&pl, 0, sizeof(pl));
	if ((r = platform(evidence, len, amd_product, NULL, 0, &pl)) != 0)
		return r;
	*out = pl;
	return 0;
}
