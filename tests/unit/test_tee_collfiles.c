// SPDX-License-Identifier: Apache-2.0
// Collateral files as `coffer collateral fetch` and the coordinator's cache
// handle them (doc/protocol/collateral.md): what evidence needs
// (coffer_tee_evidence_platform), and add_files' kinds, slots, order and
// expiry, its strict refusals (S1, S2), dry runs, and all-or-nothing.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "test_tee_common.h"
#include "lib/json.h"
#include "../support/pcsfiles.h"

static struct coffer_tee_anchors *anchors;

static int
setup(void **state)
{
	(void)state;
	return coffer_tee_anchors_new_default(&anchors) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	coffer_tee_anchors_free(anchors);
	return 0;
}

/* ------------------------------------------------------------------ */
/* coffer_tee_evidence_platform */

static int
platform_of(const char *rel, const char *product, struct coffer_tee_platform *pl)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)2 << 20);
	int r;

	tt_read(rel, &b);
	memset(pl, 0, sizeof(*pl));
	r = coffer_tee_evidence_platform(b.data, b.len, product, pl);
	coffer_buf_release(&b);
	return r;
}

static void
test_platform__sgx_quote_gives_fmspc_pceid_and_processor_ca(void **state)
{
	struct coffer_tee_platform pl;

	(void)state;
	assert_int_equal(platform_of(ATT "sgx/dcap-qvl/sgx_quote", NULL, &pl), 0);
	assert_int_equal(pl.tee, COFFER_TEE_SGX);
	tt_hex_eq(pl.fmspc, 6, "00a067110000");
	tt_hex_eq(pl.pceid, 2, "0000");
	assert_int_equal(pl.pck_ca_platform, 0);
}

static void
test_platform__tdx_quotes_say_tdx_and_their_ca(void **state)
{
	struct coffer_tee_platform pl;

	(void)state;
	assert_int_equal(platform_of(ATT "tdx/dcap-qvl/tdx_quote", NULL, &pl), 0);
	assert_int_equal(pl.tee, COFFER_TEE_TDX);
	tt_hex_eq(pl.fmspc, 6, "b0c06f000000");
	/* go-tdx-guest's sample: "The CA is platform" (vectors README). */
	assert_int_equal(platform_of(ATT "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat",
	    NULL, &pl), 0);
	assert_int_equal(pl.tee, COFFER_TEE_TDX);
	tt_hex_eq(pl.fmspc, 6, "50806f000000");
	assert_int_equal(pl.pck_ca_platform, 1);
}

static void
test_platform__snp_v2_needs_the_product_and_decodes_the_tcb(void **state)
{
	struct coffer_tee_platform pl;

	(void)state;
	assert_int_equal(platform_of(ATT "sev-snp/go-sev-guest/attestation.bin", NULL,
	    &pl), COFFER_E_INVAL);
	assert_non_null(strstr(coffer_errdetail(), "--amd-product"));
	assert_int_equal(platform_of(ATT "sev-snp/go-sev-guest/attestation.bin",
	    "Neapolis", &pl), COFFER_E_INVAL);
	assert_int_equal(platform_of(ATT "sev-snp/go-sev-guest/attestation.bin",
	    "Milan", &pl), 0);
	assert_int_equal(pl.tee, COFFER_TEE_SEV_SNP);
	assert_string_equal(pl.product, "Milan");
	/* The KDS URL the origin's test expects: blSPL=2 teeSPL=0 snpSPL=5
	 * ucodeSPL=68 for chip 3ac3fe21... */
	assert_int_equal(pl.tcb.bootloader, 2);
	assert_int_equal(pl.tcb.tee, 0);
	assert_int_equal(pl.tcb.snp, 5);
	assert_int_equal(pl.tcb.microcode, 68);
	tt_hex_eq(pl.chip_id, 8, "3ac3fe21e13fb099");
	assert_int_equal(pl.vlek, 0);
	assert_int_equal(pl.has_vek, 0);
	/* hex text, as virtee's sample is stored */
	assert_int_equal(platform_of(ATT "sev-snp/virtee-sev/report_milan.hex",
	    "Milan", &pl), 0);
	assert_int_equal(pl.tee, COFFER_TEE_SEV_SNP);
}

/* An envelope carrying the VCEK: the product comes from its productName. */
static void
test_platform__envelope_vcek_names_the_product(void **state)
{
	struct coffer_buf rep = COFFER_BUF_INIT(1 << 20), vcek = COFFER_BUF_INIT(1 << 20);
	struct coffer_buf r64 = COFFER_BUF_INIT(1 << 20), c64 = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_platform pl;
	char *env;
	size_t n;

	(void)state;
	tt_read(ATT "sev-snp/go-sev-guest/attestation.bin", &rep);
	tt_read(ATT "sev-snp/go-sev-guest/vcek.testcer", &vcek);
	assert_int_equal(coffer_b64url_put(&r64, rep.data, rep.len), 0);
	assert_int_equal(coffer_b64url_put(&c64, vcek.data, vcek.len), 0);
	n = r64.len + c64.len + 128;
	env = malloc(n);
	snprintf(env, n, "{\"backend\":\"tsm\",\"certs\":[\"%s\"],\"evidence\":\"%s\","
	    "\"tee\":\"sev-snp\",\"type\":\"coffer-evidence\",\"version\":1}",
	    coffer_buf_str(&c64), coffer_buf_str(&r64));
	memset(&pl, 0, sizeof(pl));
	assert_int_equal(coffer_tee_evidence_platform((const uint8_t *)env,
	    strlen(env), NULL, &pl), 0);
	assert_string_equal(pl.product, "Milan");
	assert_int_equal(pl.has_vek, 1);
	assert_int_equal(coffer_tee_evidence_platform((const uint8_t *)env,
	    strlen(env), "Genoa", &pl), COFFER_E_INVAL);
	free(env);
	coffer_buf_release(&r64);
	coffer_buf_release(&c64);
	coffer_buf_release(&rep);
	coffer_buf_release(&vcek);
}

static void
test_platform__sim_needs_nothing_and_garbage_is_refused(void **state)
{
	struct coffer_tee_platform pl;
	uint8_t sim[0x165] = "INSECURE-SIM-V2";
	const char junk[] = "not evidence at all, not even close to it";

	(void)state;
	assert_int_equal(coffer_tee_evidence_platform(sim, sizeof(sim), NULL, &pl), 0);
	assert_int_equal(pl.tee, COFFER_TEE_SIM);
	assert_int_equal(coffer_tee_evidence_platform((const uint8_t *)junk,
	    sizeof(junk), NULL, &pl), COFFER_E_FORMAT);
}

/* ------------------------------------------------------------------ */
/* add_files: the PCS files `coffer collateral fetch` writes, made from the
 * dcap-qvl sample the way a PCS serves them (tests/support/pcsfiles.c). */

static struct coffer_tee_collateral_file
file(const char *name, const void *data, size_t len)
{
	struct coffer_tee_collateral_file f;

	memset(&f, 0, sizeof(f));
	f.name = name;
	f.data = data;
	f.len = len;
	return f;
}

#define FSTR(name, s) file((name), (s), strlen(s))

static int
verify_sgx(struct coffer_tee_collateral *c)
{
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_claims *claims = NULL;
	int r;

	tt_read(ATT "sgx/dcap-qvl/sgx_quote", &ev);
	r = coffer_tee_verify(ev.data, ev.len, anchors, c,
	    tt_time("2025-07-19T10:01:17Z"), NULL, &claims);
	if (r != 0)
		tt_dump(claims);
	coffer_tee_claims_free(claims);
	coffer_buf_release(&ev);
	return r;
}

static void
test_files__pcs_files_are_described_and_verify_the_quote(void **state)
{
	struct coffer_tee_collateral *c = NULL;
	struct tt_pcs p;
	struct coffer_tee_collateral_file f[6];

	(void)state;
	assert_int_equal(tt_pcs_load(ATT "sgx/dcap-qvl/sgx_quote_collateral.json", &p), 0);
	/* In an order that checks "together": the TCB Info before its chain. */
	f[0] = FSTR("tcb.json", p.tcb);
	f[1] = FSTR("qe.json", p.qe);
	f[2] = FSTR("chain.pem", p.chain);
	f[3] = file("pck.crl", p.pck_crl.data, p.pck_crl.len);
	f[4] = FSTR("pck.chain.pem", p.pck_crl_chain);
	f[5] = file("root.crl", p.root_crl.data, p.root_crl.len);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 6, COFFER_TEE_COLL_STRICT), 0);
	assert_int_equal(f[0].kind, COFFER_TEE_COLL_TCB_INFO);
	assert_string_equal(f[0].slot, "tcb-info/sgx/00a067110000");
	assert_int_equal(f[0].issued, tt_time("2025-06-19T10:56:11Z"));
	assert_int_equal(f[0].expires, tt_time("2025-07-19T10:56:11Z"));
	assert_true(f[0].eval_num >= 17);
	assert_int_equal(f[1].kind, COFFER_TEE_COLL_IDENTITY);
	assert_string_equal(f[1].slot, "identity/QE");
	assert_int_equal(f[1].expires, tt_time("2025-07-19T10:01:18Z"));
	assert_int_equal(f[2].kind, COFFER_TEE_COLL_CERTS);
	assert_string_equal(f[2].slot, "");
	assert_int_equal(f[3].kind, COFFER_TEE_COLL_CRL);
	assert_int_equal(strncmp(f[3].slot, "crl/", 4), 0);
	assert_int_equal(strlen(f[3].slot), 4 + 32);
	assert_int_equal(f[3].issued, tt_time("2025-06-19T10:23:18Z"));
	assert_int_equal(f[5].kind, COFFER_TEE_COLL_CRL);
	/* Two issuers, two slots. */
	assert_string_not_equal(f[3].slot, f[5].slot);
	assert_int_equal(verify_sgx(c), 0);
	assert_string_equal(coffer_tee_coll_kind_name(f[0].kind), "tcb-info");
	coffer_tee_collateral_free(c);
	tt_pcs_free(&p);
}

static void
test_files__dry_run_checks_and_keeps_nothing(void **state)
{
	struct coffer_tee_collateral *c = NULL;
	struct coffer_tee_collateral_file f[2];
	struct coffer_tee_verify_opts o = { .flags = COFFER_TEE_ALLOW_NO_CRL };
	struct coffer_tee_claims *claims = NULL;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct tt_pcs p;

	(void)state;
	assert_int_equal(tt_pcs_load(ATT "sgx/dcap-qvl/sgx_quote_collateral.json", &p), 0);
	f[0] = FSTR("tcb.json", p.tcb);
	f[1] = FSTR("chain.pem", p.chain);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 2,
	    COFFER_TEE_COLL_STRICT | COFFER_TEE_COLL_DRY_RUN), 0);
	assert_int_equal(f[0].kind, COFFER_TEE_COLL_TCB_INFO);
	/* Nothing was kept: the quote still lacks its TCB Info. */
	tt_read(ATT "sgx/dcap-qvl/sgx_quote", &ev);
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, c,
	    tt_time("2025-07-19T10:01:17Z"), &o, &claims), COFFER_E_POLICY);
	assert_true(coffer_tee_claims_has_reason(claims, "collateral.missing"));
	coffer_tee_claims_free(claims);
	coffer_buf_release(&ev);
	coffer_tee_collateral_free(c);
	tt_pcs_free(&p);
}

static void
test_files__strict_refuses_a_crl_without_its_issuer(void **state)
{
	struct coffer_tee_collateral *c = NULL;
	struct coffer_tee_collateral_file f[2];
	struct tt_pcs p;

	(void)state;
	assert_int_equal(tt_pcs_load(ATT "sgx/dcap-qvl/sgx_quote_collateral.json", &p), 0);
	f[0] = file("pck.crl", p.pck_crl.data, p.pck_crl.len);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	/* S1: the PCK Processor CA's CRL cannot be checked without that CA. */
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 1, COFFER_TEE_COLL_STRICT),
	    COFFER_E_UNTRUSTED);
	assert_non_null(strstr(coffer_errdetail(), "pck.crl"));
	assert_non_null(strstr(coffer_errdetail(), "Intel SGX PCK Processor CA"));
	/* A plain add keeps it as a candidate (evidence.md 6.2). */
	f[0] = file("pck.crl", p.pck_crl.data, p.pck_crl.len);
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 1, 0), 0);
	/* With its chain it passes the strict check. */
	f[0] = file("pck.crl", p.pck_crl.data, p.pck_crl.len);
	f[1] = FSTR("pck.chain.pem", p.pck_crl_chain);
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 2, COFFER_TEE_COLL_STRICT), 0);
	coffer_tee_collateral_free(c);
	tt_pcs_free(&p);
}

/* A self-signed certificate made here: nothing vouches for it. */
static char *
self_signed_pem(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"Intel SGX TCB Signing", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &data);
	out = strndup(data, (size_t)n);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(k);
	return out;
}

static void
test_files__strict_refuses_a_certificate_no_root_issued(void **state)
{
	struct coffer_tee_collateral *c = NULL;
	struct coffer_tee_collateral_file f[2];
	char *pem = self_signed_pem();
	struct tt_pcs p;

	(void)state;
	assert_int_equal(tt_pcs_load(ATT "sgx/dcap-qvl/sgx_quote_collateral.json", &p), 0);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	f[0] = FSTR("chain.pem", p.chain);
	f[1] = FSTR("mine.pem", pem);
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 2, COFFER_TEE_COLL_STRICT),
	    COFFER_E_UNTRUSTED);
	assert_non_null(strstr(coffer_errdetail(), "mine.pem"));
	/* All or nothing: the good chain of that call was not kept either, so
	 * a TCB Info alone has no signer. */
	f[0] = FSTR("tcb.json", p.tcb);
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 1, COFFER_TEE_COLL_STRICT),
	    COFFER_E_UNTRUSTED);
	/* The VCEK chain and a VCEK (issued by the pinned ASK) pass. */
	{
		struct coffer_buf v = COFFER_BUF_INIT(1 << 20), ch = COFFER_BUF_INIT(1 << 20);

		tt_read(ATT "sev-snp/go-sev-guest/vcek.testcer", &v);
		tt_read(ATT "amd-pki/ask_ark_milan.pem", &ch);
		f[0] = file("vcek.der", v.data, v.len);
		f[1] = file("chain.pem", ch.data, ch.len);
		assert_int_equal(coffer_tee_collateral_add_files(c, f, 2,
		    COFFER_TEE_COLL_STRICT), 0);
		assert_int_equal(f[0].kind, COFFER_TEE_COLL_CERTS);
		/* "VCEK valid 2022-09-24 -> 2029-09-24" (vectors README) */
		assert_true(f[0].expires > tt_time("2029-09-23T00:00:00Z") &&
		    f[0].expires < tt_time("2029-09-25T00:00:00Z"));
		coffer_buf_release(&v);
		coffer_buf_release(&ch);
	}
	coffer_tee_collateral_free(c);
	free(pem);
	tt_pcs_free(&p);
}

static void
test_files__signature_and_format_errors_name_the_file(void **state)
{
	struct coffer_tee_collateral *c = NULL;
	struct coffer_tee_collateral_file f[2];
	struct tt_pcs p;
	char *bad, *sig;

	(void)state;
	assert_int_equal(tt_pcs_load(ATT "sgx/dcap-qvl/sgx_quote_collateral.json", &p), 0);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	bad = strdup(p.tcb);
	sig = strstr(bad, "\"signature\":\"") + 13;
	sig[0] = sig[0] == '0' ? '1' : '0';
	f[0] = FSTR("tcb.json", bad);
	f[1] = FSTR("chain.pem", p.chain);
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 2, COFFER_TEE_COLL_STRICT),
	    COFFER_E_SIGNATURE);
	assert_non_null(strstr(coffer_errdetail(), "tcb.json"));
	f[0] = FSTR("junk.txt", "neither a certificate nor JSON");
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 1, 0), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "junk.txt"));
	f[0] = file("empty", "", 0);
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 1, 0), COFFER_E_FORMAT);
	assert_int_equal(coffer_tee_collateral_add_files(c, f, 0, 0), COFFER_E_INVAL);
	free(bad);
	coffer_tee_collateral_free(c);
	tt_pcs_free(&p);
}

static void
test_files__a_dcap_qvl_file_is_mixed(void **state)
{
	struct coffer_tee_collateral *c = NULL;
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_collateral_file f;

	(void)state;
	tt_read(ATT "sgx/dcap-qvl/sgx_quote_collateral.json", &b);
	f = file("qvl.json", b.data, b.len);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	assert_int_equal(coffer_tee_collateral_add_files(c, &f, 1, COFFER_TEE_COLL_STRICT), 0);
	assert_int_equal(f.kind, COFFER_TEE_COLL_MIXED);
	assert_string_equal(f.slot, "");
	/* the earliest expiry of its pieces: the QE Identity's */
	assert_int_equal(f.expires, tt_time("2025-07-19T10:01:18Z"));
	assert_int_equal(verify_sgx(c), 0);
	coffer_tee_collateral_free(c);
	coffer_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform__sgx_quote_gives_fmspc_pceid_and_processor_ca),
		cmocka_unit_test(test_platform__tdx_quotes_say_tdx_and_their_ca),
		cmocka_unit_test(test_platform__snp_v2_needs_the_product_and_decodes_the_tcb),
		cmocka_unit_test(test_platform__envelope_vcek_names_the_product),
		cmocka_unit_test(test_platform__sim_needs_nothing_and_garbage_is_refused),
		cmocka_unit_test(test_files__pcs_files_are_described_and_verify_the_quote),
		cmocka_unit_test(test_files__dry_run_checks_and_keeps_nothing),
		cmocka_unit_test(test_files__strict_refuses_a_crl_without_its_issuer),
		cmocka_unit_test(test_files__strict_refuses_a_certificate_no_root_issued),
		cmocka_unit_test(test_files__signature_and_format_errors_name_the_file),
		cmocka_unit_test(test_files__a_dcap_qvl_file_is_mixed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
