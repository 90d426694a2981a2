// SPDX-License-Identifier: Apache-2.0
// Every real SGX/TDX/SEV-SNP sample in tests/vectors/attestation verifies
// with the measurements, report data and TCB status its README lists,
// with time pinned inside its validity window; the same samples fail
// after the window, after a byte flip in a signed region, when cut short,
// and when the chain must end at another root (src/tee).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../support/tee_clock.h"
#include "test_tee_common.h"
#include "tee/tee_int.h"

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

#define ALLOW_ALL (COFFER_TEE_ALLOW_NO_COLLATERAL | COFFER_TEE_ALLOW_NO_CRL)

/* Collateral sets of the samples (README "Expected values per sample"). */
static const char *const coll_sgx1[] = { ATT "sgx/dcap-qvl/sgx_quote_collateral.json", NULL };
static const char *const coll_tdx1[] = {
	ATT "intel-pki/intel_sgx_tcb_signing_2018-2025.der",
	ATT "tdx/go-tdx-guest/sample_tcbInfo_response",
	ATT "tdx/go-tdx-guest/sample_qeIdentity_response",
	ATT "tdx/go-tdx-guest/pckcrl", ATT "tdx/go-tdx-guest/rootcrl.der", NULL,
};
static const char *const coll_tdx1b[] = {
	ATT "intel-pki/intel_sgx_tcb_signing_2025-2032.der",
	ATT "tdx/go-tdx-guest/sample_tcbinfo_response_v5", NULL,
};
static const char *const coll_tdx2[] = { ATT "tdx/dcap-qvl/tdx_quote_collateral.json", NULL };
static const char *const coll_tdx3[] = { ATT "tdx/dcap-qvl/tdx_quote_outdated_collateral.json", NULL };
static const char *const coll_tdx6[] = {
	ATT "intel-pki/intel_sgx_tcb_signing_2025-2032.der",
	ATT "intel-pki/intel_sgx_root_ca_crl_2025.der",
	ATT "tdx/trustee/tcbInfo.json", ATT "tdx/trustee/enclaveIdentity.json", NULL,
};
static const char *const coll_snp1[] = { ATT "sev-snp/go-sev-guest/vcek.testcer", NULL };
static const char *const coll_snp2[] = { ATT "sev-snp/virtee-sev/vcek_milan.der", NULL };

/* Verify a sample (tt_verify) with these flags and expected report data. */
static struct coffer_tee_claims *
verify(const char *rel, const char *const *coll, const char *at, unsigned flags,
    const uint8_t *rd, int *rc)
{
	struct coffer_tee_verify_opts o = { flags, rd, NULL };

	return tt_verify(anchors, rel, coll, at, &o, rc);
}

static void
expect_ok(const struct coffer_tee_claims *c, int rc)
{
	if (rc != 0 || c == NULL || c->verdict != COFFER_TEE_OK) {
		tt_dump(c);
		fail_msg("expected verdict ok, got rc %d (%s)", rc, coffer_errdetail());
	}
}

static void
test_samples__sgx1_dcap_qvl_config_and_sw_hardening_needed(void **state)
{
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	/* The origin's "now": 2025-07-19T10:01:17Z. */
	c = verify(ATT "sgx/dcap-qvl/sgx_quote", coll_sgx1, "2025-07-19T10:01:17Z", 0,
	    NULL, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->tee, COFFER_TEE_SGX);
	assert_int_equal(c->format_version, 3);
	assert_string_equal(coffer_tee_tcb_status_name(c->tcb_status),
	    "ConfigurationAndSWHardeningNeeded");
	assert_int_equal(c->n_advisory_ids, 2);
	assert_string_equal(c->advisory_ids[0], "INTEL-SA-00289");
	assert_string_equal(c->advisory_ids[1], "INTEL-SA-00615");
	assert_int_equal(c->intel.qe_svn, 10);
	assert_int_equal(c->intel.pce_svn, 15);
	tt_hex_eq(c->sgx.cpu_svn, 16, "0b0b1a18ffff04000000000000000000");
	assert_int_equal(c->sgx.misc_select, 0);
	tt_hex_eq(c->sgx.attributes, 16, "0500000000000000e700000000000000");
	tt_hex_eq(c->sgx.mrenclave, 32,
	    "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
	tt_hex_eq(c->sgx.mrsigner, 32,
	    "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6");
	assert_int_equal(c->sgx.isv_prod_id, 0);
	assert_int_equal(c->sgx.isv_svn, 0);
	assert_memory_equal(c->report_data, "Hello, world!", 13);
	for (int i = 13; i < 64; i++)
		assert_int_equal(c->report_data[i], 0);
	assert_false(c->debug);
	/* The quote's FMSPC is the PCK certificate's (tests/quote_parsing.rs). */
	tt_hex_eq(c->intel.fmspc, 6, "00a067110000");
	tt_hex_eq(c->intel.pceid, 2, "0000");
	assert_int_equal(c->intel.pcesvn, 13);
	tt_hex_eq(c->intel.comp_svn, 16, "0b0b0202ff0100000000000000000000");
	assert_int_equal(c->intel.qe_isv_svn, 10);
	assert_int_equal(c->intel.tcb_eval_data_number, 17);
	assert_true(coffer_tee_claims_has_reason(c,
	    "tcb.configuration_and_sw_hardening_needed"));
	coffer_tee_claims_free(c);
}

static void
test_samples__tdx1_spr_e4_verifies_and_unmodified_tcb_info_has_no_level(void **state)
{
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	/* Without collateral, at the origin's 2023-07-01T01:00:00Z. */
	c = verify(ATT "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat", NULL,
	    "2023-07-01T01:00:00Z", ALLOW_ALL, NULL, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->tee, COFFER_TEE_TDX);
	assert_int_equal(c->format_version, 4);
	assert_int_equal(c->tcb_status, COFFER_TCB_NOT_EVALUATED);
	assert_int_equal(c->intel.qe_svn, 0);
	assert_int_equal(c->intel.pce_svn, 0);
	tt_hex_eq(c->tdx.tee_tcb_svn, 16, "03000400000000000000000000000000");
	tt_hex_eq(c->tdx.mrseam, 48, "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656");
	tt_hex_eq(c->tdx.td_attributes, 8, "0000004000000000");
	tt_hex_eq(c->tdx.xfam, 8, "e71a060000000000");
	tt_hex_eq(c->tdx.mrtd, 48, "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb");
	tt_hex_eq(c->tdx.mr_config_id, 48, "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	tt_hex_eq(c->tdx.mr_owner, 48, "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	tt_hex_eq(c->tdx.mr_owner_config, 48, "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	tt_hex_eq(c->tdx.rtmr[0], 48, "2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a");
	tt_hex_eq(c->tdx.rtmr[1], 48, "2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61");
	tt_hex_eq(c->tdx.rtmr[2], 48, "8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e");
	tt_hex_eq(c->tdx.rtmr[3], 48, "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	tt_hex_eq(c->report_data, 64, "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113");
	/* PCK extensions (verify_test.go) */
	tt_hex_eq(c->intel.fmspc, 6, "50806f000000");
	tt_hex_eq(c->intel.pceid, 2, "0000");
	assert_int_equal(c->intel.pcesvn, 11);
	tt_hex_eq(c->intel.cpu_svn, 16, "03030202020100020000000000000000");
	/* The 39 bytes of ASCII after the signature data are accepted. */
	assert_true(coffer_tee_claims_has_reason(c, "evidence.trailing_bytes"));
	coffer_tee_claims_free(c);

	/* With the unmodified TCB Info (collateral window), no TCB level
	 * matches: PCK SVNs 3,3,2,2,2 are below 5,5,2,2,3. Every other check
	 * (QE identity, CRLs, signatures) passes. */
	c = verify(ATT "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat", coll_tdx1,
	    "2023-07-01T01:00:00Z", 0, NULL, &rc);
	assert_non_null(c);
	assert_int_equal(rc, COFFER_E_POLICY);
	assert_int_equal(c->verdict, COFFER_TEE_REJECTED);
	assert_int_equal(c->tcb_status, COFFER_TCB_NOT_SUPPORTED);
	assert_true(tt_fatal_are(c, "tcb.not_supported"));
	assert_false(coffer_tee_claims_has_reason(c, "qe.identity_mismatch"));
	assert_false(coffer_tee_claims_has_reason(c, "crl.missing"));
	coffer_tee_claims_free(c);

	/* At 2053 the certificates and collateral have expired. */
	c = verify(ATT "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat", coll_tdx1,
	    "2053-07-01T00:00:00Z", 0, NULL, &rc);
	assert_int_not_equal(rc, 0);
	assert_true(coffer_tee_claims_has_reason(c, "chain.expired"));
	assert_true(coffer_tee_claims_has_reason(c, "collateral.expired"));
	coffer_tee_claims_free(c);
}

/* go-tdx-guest TestNegativeVerification: set one byte, expect an error. */
static void
test_samples__tdx1_go_tdx_guest_negative_bytes_fail(void **state)
{
	static const struct { size_t off; uint8_t val; } cases[] = {
		{ 0x00, 3 }, { 0x278, 0x10 }, { 0x1343, 0x32 }, { 0x1329, 0x32 },
		{ 0xF5F, 0x32 }, { 0xB77, 0x32 }, { 0x1E, 0x32 }, { 0x3C, 0x32 },
	};
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)1 << 20);

	(void)state;
	tt_read(ATT "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat", &ev);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct coffer_tee_claims *c = NULL;
		uint8_t old = ev.data[cases[i].off];
		int rc;

		ev.data[cases[i].off] = cases[i].val;
		rc = coffer_tee_verify(ev.data, ev.len, anchors, NULL,
		    tt_time("2023-07-01T01:00:00Z"), &(struct coffer_tee_verify_opts){ ALLOW_ALL, NULL, NULL },
		    &c);
		if (rc == 0)
			fail_msg("byte 0x%zx = 0x%02x still verifies", cases[i].off, cases[i].val);
		assert_true(c == NULL || c->verdict == COFFER_TEE_REJECTED);
		coffer_tee_claims_free(c);
		ev.data[cases[i].off] = old;
	}
	coffer_buf_release(&ev);
}

static void
test_samples__tdx1b_v5_sample_up_to_date(void **state)
{
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	/* The origin verifies it without collateral at 2026-02-03T01:00:00Z. */
	c = verify(ATT "tdx/go-tdx-guest/quote_v5_sample.dat", NULL,
	    "2026-02-03T01:00:00Z", ALLOW_ALL, NULL, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->format_version, 5);
	assert_true(c->tdx.is_v15);
	tt_hex_eq(c->tdx.tee_tcb_svn, 16, "0b010400000000000000000000000000");
	tt_hex_eq(c->tdx.tee_tcb_svn2, 16, "0d010400000000000000000000000000");
	tt_hex_eq(c->tdx.mrtd, 48, "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876");
	coffer_tee_claims_free(c);

	/* With the v5 TCB Info (FMSPC 90c06f000000) the TCB is UpToDate. The
	 * only QE identity for it is from 2023 (no common window), so it is
	 * left out and its absence allowed. */
	c = verify(ATT "tdx/go-tdx-guest/quote_v5_sample.dat", coll_tdx1b,
	    "2026-02-03T01:00:00Z", ALLOW_ALL, NULL, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->tcb_status, COFFER_TCB_UP_TO_DATE);
	tt_hex_eq(c->intel.fmspc, 6, "90c06f000000");
	coffer_tee_claims_free(c);

	/* With that 2023 QE identity added: the QE report matches it (no
	 * qe.identity_mismatch), the status is still UpToDate, and the only
	 * fatal reason is that the identity expired. */
	{
		const char *const with_qe[] = {
			ATT "intel-pki/intel_sgx_tcb_signing_2025-2032.der",
			ATT "intel-pki/intel_sgx_tcb_signing_2018-2025.der",
			ATT "tdx/go-tdx-guest/sample_tcbinfo_response_v5",
			ATT "tdx/go-tdx-guest/sample_qeIdentity_response", NULL,
		};

		c = verify(ATT "tdx/go-tdx-guest/quote_v5_sample.dat", with_qe,
		    "2026-02-03T01:00:00Z", COFFER_TEE_ALLOW_NO_CRL, NULL, &rc);
		assert_int_equal(rc, COFFER_E_EXPIRED);
		assert_int_equal(c->tcb_status, COFFER_TCB_UP_TO_DATE);
		assert_true(tt_fatal_are(c, "collateral.expired"));
		assert_false(coffer_tee_claims_has_reason(c, "qe.identity_mismatch"));
		coffer_tee_claims_free(c);
	}
}

static void
test_samples__tdx1c_cos113_ccel_quote(void **state)
{
	struct coffer_buf nonce = COFFER_BUF_INIT(4096);
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	tt_read(ATT "tdx/go-tdx-guest/ccel/nonce.dat", &nonce);
	assert_int_equal(nonce.len, 64);
	/* "verifies at the current time": pinned inside the PCK validity. */
	c = verify(ATT "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat", NULL,
	    "2026-01-01T00:00:00Z", ALLOW_ALL, nonce.data, &rc);
	expect_ok(c, rc);
	assert_memory_equal(c->report_data, nonce.data, 64);
	tt_hex_eq(c->tdx.rtmr[0], 48, "3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6");
	tt_hex_eq(c->tdx.rtmr[1], 48, "f62dbc072bd5d3f3438b7b35c39a727f5aea2ffc2473f43723953f530daf62504f0a7944aa62c41a86e8a878c2b122c1");
	tt_hex_eq(c->tdx.rtmr[2], 48, "4969684dc87381fc3b3134176c8d8806eaf0a901859f5f70cfae8d17714b46c10a8de219048c9fc09f11f381a6fbe7c1");
	tt_hex_eq(c->tdx.rtmr[3], 48, "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	tt_hex_eq(c->tdx.mrtd, 48, "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a");
	tt_hex_eq(c->intel.fmspc, 6, "00806f050000");
	coffer_tee_claims_free(c);
	coffer_buf_release(&nonce);
}

static void
test_samples__tdx2_dcap_qvl_up_to_date(void **state)
{
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	c = verify(ATT "tdx/dcap-qvl/tdx_quote", coll_tdx2, "2025-07-01T00:00:00Z", 0,
	    NULL, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->tcb_status, COFFER_TCB_UP_TO_DATE);
	assert_int_equal(c->n_advisory_ids, 0);
	assert_int_equal(c->format_version, 4);
	assert_int_equal(c->tee, COFFER_TEE_TDX);
	tt_hex_eq(c->tdx.tee_tcb_svn, 16, "06010300000000000000000000000000");
	tt_hex_eq(c->tdx.mrseam, 48, "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1");
	tt_hex_eq(c->tdx.mrsigner_seam, 48, "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	tt_hex_eq(c->tdx.seam_attributes, 8, "0000000000000000");
	tt_hex_eq(c->tdx.td_attributes, 8, "0000001000000000");
	tt_hex_eq(c->tdx.xfam, 8, "e702060000000000");
	tt_hex_eq(c->tdx.mrtd, 48, "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
	tt_hex_eq(c->tdx.rtmr[0], 48, "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0");
	tt_hex_eq(c->tdx.rtmr[1], 48, "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378");
	tt_hex_eq(c->tdx.rtmr[2], 48, "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132");
	tt_hex_eq(c->tdx.rtmr[3], 48, "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	tt_hex_eq(c->report_data, 64, "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20");
	tt_hex_eq(c->intel.fmspc, 6, "b0c06f000000");
	assert_int_equal(c->intel.pcesvn, 11);
	assert_false(c->debug);
	coffer_tee_claims_free(c);
}

static void
test_samples__tdx3_outdated_v5_has_no_matching_level(void **state)
{
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	c = verify(ATT "tdx/dcap-qvl/tdx_quote_outdated", coll_tdx3,
	    "2026-03-01T00:00:00Z", 0, NULL, &rc);
	assert_non_null(c);
	assert_int_equal(rc, COFFER_E_POLICY);
	assert_int_equal(c->tcb_status, COFFER_TCB_NOT_SUPPORTED);
	assert_true(tt_fatal_are(c, "tcb.not_supported"));
	assert_int_equal(c->format_version, 5);
	assert_true(c->tdx.is_v15);
	tt_hex_eq(c->tdx.mrtd, 48, "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd");
	tt_hex_eq(c->report_data, 64, "d2142b643598eb5fae2bc8529dd79a558b29f868ccbb6531cb28dab9dce477280000000000000000000000000000000000000000000000000000000000000000");
	coffer_tee_claims_free(c);
}

static void
test_samples__tdx4_trustee_debug_td_matches_expected_claims(void **state)
{
	static const char *const fields[][2] = {
		{ "mr_td", "mrtd" }, { "mr_seam", "mrseam" }, { "rtmr_0", "rtmr0" },
		{ "rtmr_1", "rtmr1" }, { "rtmr_2", "rtmr2" }, { "rtmr_3", "rtmr3" },
		{ "tcb_svn", "tee_tcb_svn" }, { "td_attributes", "td_attributes" },
		{ "xfam", "xfam" }, { "report_data", "report_data" },
		{ "mr_config_id", "mr_config_id" }, { "mr_owner", "mr_owner" },
		{ "mr_owner_config", "mr_owner_config" },
		{ "mrsigner_seam", "mrsigner_seam" }, { "seam_attributes", "seam_attributes" },
	};
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)1 << 20);
	struct coffer_tee_claims *c;
	struct tee_quote q;
	struct tee_pck_ext ext;
	STACK_OF(X509) *pem = NULL;
	json_t *expected, *body, *mine, *tdx;
	char path[PATH_MAX], *js = NULL;
	int rc;

	(void)state;
	c = verify(ATT "tdx/trustee/tdx_quote_4.dat", NULL, "2025-01-01T00:00:00Z",
	    ALLOW_ALL, NULL, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->format_version, 4);
	assert_true(c->debug);
	assert_true(coffer_tee_claims_has_reason(c, "tee.debug"));
	/* Every body field equals trustee's parse_tdx_claims_expected.json. */
	tt_path(ATT "tdx/trustee/parse_tdx_claims_expected.json", path, sizeof(path));
	assert_non_null(expected = json_load_file(path, 0, NULL));
	body = json_object_get(json_object_get(expected, "quote"), "body");
	assert_int_equal(coffer_tee_claims_json(c, &js), 0);
	assert_non_null(mine = json_loads(js, 0, NULL));
	tdx = json_object_get(mine, "tdx");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *want = json_string_value(json_object_get(body, fields[i][0]));
		const char *got = strcmp(fields[i][1], "report_data") == 0 ?
		    json_string_value(json_object_get(mine, "report_data")) :
		    json_string_value(json_object_get(tdx, fields[i][1]));

		assert_non_null(want);
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	json_decref(mine);
	json_decref(expected);
	free(js);
	/* The PCK (Platform CA): FMSPC, PCE-ID, and the raw platform
	 * instance id (trustee prints it byte-reversed). */
	tt_read(ATT "tdx/trustee/tdx_quote_4.dat", &ev);
	assert_int_equal(tee_quote_parse(ev.data, ev.len, &q), 0);
	assert_int_equal(tee_certs_parse(q.pck_pem, q.pck_pem_len, &pem), 0);
	assert_true(tee_cn_contains(sk_X509_value(pem, 1), "Platform CA"));
	assert_int_equal(tee_pck_ext_get(sk_X509_value(pem, 0), &ext), 0);
	tt_hex_eq(ext.fmspc, 6, "50806f000000");
	tt_hex_eq(ext.pceid, 2, "0000");
	assert_int_equal(ext.pcesvn, 11);
	assert_true(ext.has_platform_instance_id);
	tt_hex_eq(ext.platform_instance_id, 16, "021ac64d355ba904e2d5948d228d5482");
	sk_X509_pop_free(pem, X509_free);
	coffer_buf_release(&ev);
	coffer_tee_claims_free(c);
}

static void
test_samples__tdx5_v5_parses_and_verifies(void **state)
{
	static const uint8_t zero[48];
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	c = verify(ATT "tdx/trustee/tdx_quote_5.dat", NULL, "2025-01-01T00:00:00Z",
	    ALLOW_ALL, NULL, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->format_version, 5);
	assert_true(c->tdx.is_v15);
	assert_memory_not_equal(c->tdx.mr_servicetd, zero, 48);
	tt_hex_eq(c->tdx.mr_servicetd, 4, "383c87d3");
	tt_hex_eq(c->tdx.mrtd, 48, "dfba221b48a22af8511542ee796603f37382800840dcd978703909bf8e64d4c8a1e9de86e7c9638bfcba422f3886400a");
	tt_hex_eq(c->intel.fmspc, 6, "90c06f000000");
	coffer_tee_claims_free(c);
}

static void
test_samples__tdx6_trustee_out_of_date(void **state)
{
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	/* No PCK CRL comes with this set: its absence is allowed (a note). */
	c = verify(ATT "tdx/trustee/tdx_quote_6.dat", coll_tdx6, "2025-11-01T00:00:00Z",
	    COFFER_TEE_ALLOW_NO_CRL, NULL, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->tcb_status, COFFER_TCB_OUT_OF_DATE);
	assert_int_equal(c->n_advisory_ids, 0);
	assert_true(coffer_tee_claims_has_reason(c, "tcb.out_of_date"));
	assert_true(coffer_tee_claims_has_reason(c, "crl.missing"));
	tt_hex_eq(c->intel.fmspc, 6, "00a06d080000");
	assert_int_equal(c->intel.sgx_type, 2);
	tt_hex_eq(c->tdx.mr_config_id, 4, "889abf47");
	coffer_tee_claims_free(c);
	/* Strict (CRLs required): rejected for the missing PCK CRL only. */
	c = verify(ATT "tdx/trustee/tdx_quote_6.dat", coll_tdx6, "2025-11-01T00:00:00Z",
	    0, NULL, &rc);
	assert_int_equal(rc, COFFER_E_POLICY);
	assert_true(tt_fatal_are(c, "crl.missing"));
	coffer_tee_claims_free(c);
}

static void
test_samples__snp1_go_sev_guest_milan(void **state)
{
	uint8_t rd[64] = { 1, 2, 3, 4, 5 };
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	c = verify(ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp1,
	    "2022-09-24T01:00:00Z", COFFER_TEE_ALLOW_NO_CRL, rd, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->tee, COFFER_TEE_SEV_SNP);
	assert_int_equal(c->format_version, 2);
	tt_hex_eq(c->report_data, 64, "01020304050000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	tt_hex_eq(c->snp.host_data, 32, "0000000000000000000000000000000000000000000000000000000000000000");
	tt_hex_eq(c->snp.family_id, 16, "00000000000000000000000000000000");
	tt_hex_eq(c->snp.image_id, 16, "00000000000000000000000000000000");
	tt_hex_eq(c->snp.report_id, 32, "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a");
	tt_hex_eq(c->snp.report_id_ma, 32, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	tt_hex_eq(c->snp.measurement, 48, "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01");
	tt_hex_eq(c->snp.chip_id, 64, "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d");
	assert_int_equal(c->snp.reported_tcb, 4901323769462652930ULL);
	assert_int_equal(c->snp.current_tcb, 4901323769462652930ULL);
	assert_int_equal(c->snp.committed_tcb, 4901323769462652930ULL);
	assert_int_equal(c->snp.launch_tcb, 4901323769462652930ULL);
	assert_int_equal(c->snp.tcb_bootloader, 2);
	assert_int_equal(c->snp.tcb_tee, 0);
	assert_int_equal(c->snp.tcb_snp, 5);
	assert_int_equal(c->snp.tcb_microcode, 68);
	assert_int_equal(c->snp.policy, 0xb0000);
	assert_true(c->snp.policy_debug);
	assert_true(c->snp.policy_smt);
	assert_false(c->snp.policy_migrate_ma);
	assert_true(c->debug);
	assert_int_equal(c->snp.vmpl, 0);
	assert_int_equal(c->snp.guest_svn, 0);
	assert_int_equal(c->snp.signature_algo, 1);
	assert_int_equal(c->snp.platform_info, 1);
	assert_int_equal(c->snp.current_major, 1);
	assert_int_equal(c->snp.current_minor, 49);
	assert_int_equal(c->snp.current_build, 3);
	assert_int_equal(c->snp.signing_key, 0);
	assert_string_equal(c->snp.product, "Milan");
	coffer_tee_claims_free(c);

	/* check_test.go "bad" report data: ...01 at the end. */
	rd[63] = 1;
	c = verify(ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp1,
	    "2022-09-24T01:00:00Z", COFFER_TEE_ALLOW_NO_CRL, rd, &rc);
	assert_int_equal(rc, COFFER_E_POLICY);
	assert_true(tt_fatal_are(c, "report_data.mismatch"));
	coffer_tee_claims_free(c);
	/* Without a VCEK the report cannot be checked. */
	c = verify(ATT "sev-snp/go-sev-guest/attestation.bin", NULL,
	    "2022-09-24T01:00:00Z", ALLOW_ALL, NULL, &rc);
	assert_int_equal(rc, COFFER_E_CERT);
	assert_true(tt_fatal_are(c, "snp.vek_missing"));
	coffer_tee_claims_free(c);
	/* The other Milan VCEK is another chip's. */
	c = verify(ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp2,
	    "2024-01-01T00:00:00Z", ALLOW_ALL, NULL, &rc);
	assert_int_not_equal(rc, 0);
	assert_true(tt_fatal_are(c, "snp.chip_id_mismatch"));
	coffer_tee_claims_free(c);
}

static void
test_samples__snp2_virtee_hex_report(void **state)
{
	struct coffer_buf hex = COFFER_BUF_INIT(1 << 20), rep = COFFER_BUF_INIT(1 << 20),
	    vcek = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_collateral *coll = NULL;
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	c = verify(ATT "sev-snp/virtee-sev/report_milan.hex", coll_snp2,
	    "2024-01-01T00:00:00Z", COFFER_TEE_ALLOW_NO_CRL, NULL, &rc);
	expect_ok(c, rc);
	assert_int_equal(c->format_version, 2);
	assert_int_equal(c->snp.policy, 0x30000);
	assert_false(c->debug);
	assert_int_equal(c->snp.vmpl, 0);
	tt_hex_eq(c->report_data, 64, "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd");
	tt_hex_eq(c->snp.measurement, 48, "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f");
	tt_hex_eq(c->snp.chip_id, 2, "d495");
	assert_int_equal(c->snp.reported_tcb, 0x7308000000000003ULL);
	assert_int_equal(c->snp.tcb_bootloader, 3);
	assert_int_equal(c->snp.tcb_snp, 8);
	assert_int_equal(c->snp.tcb_microcode, 115);
	assert_int_equal(c->snp.current_minor, 52);
	assert_int_equal(c->snp.current_build, 4);
	coffer_tee_claims_free(c);

	/* milan_report_invalid: report[21] ^= 0x80 fails. */
	tt_read(ATT "sev-snp/virtee-sev/report_milan.hex", &hex);
	assert_int_equal(coffer_hex_decode_buf((char *)hex.data, hex.len -
	    (hex.data[hex.len - 1] == '\n'), &rep), 0);
	assert_int_equal(rep.len, 1184);
	coll = tt_coll(anchors, coll_snp2);
	rep.data[21] ^= 0x80;
	c = NULL;
	rc = coffer_tee_verify(rep.data, rep.len, anchors, coll, tt_time("2024-01-01T00:00:00Z"),
	    &(struct coffer_tee_verify_opts){ COFFER_TEE_ALLOW_NO_CRL, NULL, NULL }, &c);
	assert_int_equal(rc, COFFER_E_SIGNATURE);
	assert_true(tt_fatal_are(c, "snp.signature"));
	coffer_tee_claims_free(c);
	rep.data[21] ^= 0x80;
	coffer_tee_collateral_free(coll);

	/* milan_chain_invalid: VCEK DER byte 40 ^= 0xff makes the chain fail
	 * (here: the certificate no longer verifies under the ASK). */
	tt_read(ATT "sev-snp/virtee-sev/vcek_milan.der", &vcek);
	vcek.data[40] ^= 0xff;
	assert_int_equal(coffer_tee_collateral_new(anchors, &coll), 0);
	if (coffer_tee_collateral_add_mem(coll, "vcek", vcek.data, vcek.len) == 0) {
		c = NULL;
		rc = coffer_tee_verify(rep.data, rep.len, anchors, coll,
		    tt_time("2024-01-01T00:00:00Z"),
		    &(struct coffer_tee_verify_opts){ COFFER_TEE_ALLOW_NO_CRL, NULL, NULL }, &c);
		assert_int_not_equal(rc, 0);
		assert_non_null(c);
		assert_int_equal(c->verdict, COFFER_TEE_REJECTED);
		coffer_tee_claims_free(c);
	}
	coffer_tee_collateral_free(coll);
	coffer_buf_release(&hex);
	coffer_buf_release(&rep);
	coffer_buf_release(&vcek);
}

/* Turin's VCEK chains to the pinned ARK-Turin through SEV-Turin; the
 * pinned Genoa ASK was checked under ARK-Genoa when the anchors were made. */
static void
test_samples__turin_vcek_chains_to_pinned_ark(void **state)
{
	struct coffer_buf der = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_claims claims;
	struct tee_vctx v;
	STACK_OF(X509) *sk = NULL, *chain = NULL, *untrusted;
	char cn[64];
	int found_genoa = 0;

	(void)state;
	memset(&claims, 0, sizeof(claims));
	memset(&v, 0, sizeof(v));
	v.c = &claims;
	v.anchors = anchors;
	v.at = tt_time("2026-01-01T00:00:00Z");
	tt_read(ATT "sev-snp/virtee-sev/vcek_turin.der", &der);
	assert_int_equal(tee_certs_parse(der.data, der.len, &sk), 0);
	assert_non_null(untrusted = sk_X509_dup(anchors->amd_inter));
	assert_int_equal(tee_chain_verify(&v, anchors->amd_store, sk_X509_value(sk, 0),
	    untrusted, "Turin VCEK", &chain), 0);
	assert_int_equal(sk_X509_num(chain), 3);
	tee_cn(sk_X509_value(chain, 1), cn, sizeof(cn));
	assert_string_equal(cn, "SEV-Turin");
	tee_cn(sk_X509_value(chain, 2), cn, sizeof(cn));
	assert_string_equal(cn, "ARK-Turin");
	/* After the VCEK's notAfter (2031-11-06) it fails. */
	v.at = tt_time("2031-11-07T00:00:00Z");
	assert_int_equal(tee_chain_verify(&v, anchors->amd_store, sk_X509_value(sk, 0),
	    untrusted, "Turin VCEK", NULL), COFFER_E_EXPIRED);
	for (int i = 0; i < sk_X509_num(anchors->amd_inter); i++) {
		tee_cn(sk_X509_value(anchors->amd_inter, i), cn, sizeof(cn));
		found_genoa |= strcmp(cn, "SEV-Genoa") == 0;
	}
	assert_true(found_genoa);
	sk_X509_free(untrusted);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(sk, X509_free);
	coffer_buf_release(&der);
}

/* Each sample fails once its window has passed (README windows). */
static void
test_samples__every_sample_fails_after_its_window(void **state)
{
	static const struct {
		const char *rel;
		const char *const *coll;
		unsigned flags;
		const char *inside, *after;
	} cases[] = {
		{ ATT "sgx/dcap-qvl/sgx_quote", coll_sgx1, 0,
		    "2025-07-19T10:01:17Z", "2025-07-19T10:01:18Z" },
		{ ATT "tdx/dcap-qvl/tdx_quote", coll_tdx2, 0,
		    "2025-07-19T10:00:34Z", "2025-07-19T10:00:35Z" },
		{ ATT "tdx/dcap-qvl/tdx_quote_outdated", coll_tdx3, 0,
		    NULL, "2026-03-20T10:41:15Z" },
		{ ATT "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat", coll_tdx1, 0,
		    NULL, "2023-07-08T07:24:59Z" },
		{ ATT "tdx/trustee/tdx_quote_6.dat", coll_tdx6, COFFER_TEE_ALLOW_NO_CRL,
		    "2025-11-26T13:07:16Z", "2025-11-26T13:07:17Z" },
		{ ATT "tdx/go-tdx-guest/quote_v5_sample.dat", coll_tdx1b, ALLOW_ALL,
		    "2026-02-03T01:00:00Z", "2026-03-04T00:00:00Z" },
		{ ATT "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat", NULL, ALLOW_ALL,
		    "2031-07-02T12:07:36Z", "2031-07-02T12:07:38Z" },
		{ ATT "tdx/trustee/tdx_quote_4.dat", NULL, ALLOW_ALL,
		    "2030-02-07T08:02:54Z", "2030-02-07T08:02:56Z" },
		{ ATT "tdx/trustee/tdx_quote_5.dat", NULL, ALLOW_ALL,
		    "2031-03-18T08:43:50Z", "2031-03-18T08:43:52Z" },
		{ ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp1,
		    COFFER_TEE_ALLOW_NO_CRL, "2029-09-24T00:55:27Z", "2029-09-24T00:55:29Z" },
		{ ATT "sev-snp/virtee-sev/report_milan.hex", coll_snp2,
		    COFFER_TEE_ALLOW_NO_CRL, "2030-04-03T19:23:42Z", "2030-04-03T19:23:44Z" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct coffer_tee_claims *c;
		int rc;

		if (cases[i].inside != NULL) {
			c = verify(cases[i].rel, cases[i].coll, cases[i].inside,
			    cases[i].flags, NULL, &rc);
			if (rc != 0) {
				tt_dump(c);
				fail_msg("%s at %s: rc %d", cases[i].rel, cases[i].inside, rc);
			}
			coffer_tee_claims_free(c);
		}
		c = verify(cases[i].rel, cases[i].coll, cases[i].after, cases[i].flags,
		    NULL, &rc);
		if (rc != COFFER_E_EXPIRED || c == NULL ||
		    !(coffer_tee_claims_has_reason(c, "collateral.expired") ||
		    coffer_tee_claims_has_reason(c, "chain.expired") ||
		    coffer_tee_claims_has_reason(c, "crl.expired"))) {
			tt_dump(c);
			fail_msg("%s at %s: rc %d, expected expired", cases[i].rel,
			    cases[i].after, rc);
		}
		coffer_tee_claims_free(c);
	}
}

/* Callers that have no time of their own (the CLI without --at, the
 * coordinator) verify at coffer_tee_now(). Test programs replace it
 * (tests/support/tee_clock.c), so expired hardware collateral is tested
 * through that very path; production binaries have no override. */
static void
test_samples__expired_collateral_at_the_callers_clock(void **state)
{
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)1 << 20);
	struct coffer_tee_collateral *coll = tt_coll(anchors, coll_sgx1);
	struct coffer_tee_claims *c = NULL;
	int64_t wall = coffer_wall_ms() / 1000;

	(void)state;
	tt_read(ATT "sgx/dcap-qvl/sgx_quote", &ev);
	tt_clock_set(tt_time("2025-07-19T10:01:17Z"));
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, coll, coffer_tee_now(),
	    NULL, &c), 0);
	coffer_tee_claims_free(c);
	/* Vouched for, the PCK key and the attestation key are kept. */
	assert_int_equal(coll->n_keys, 2);
	/* One second later the TCB Info and QE Identity have expired. */
	tt_clock_set(tt_time("2025-07-19T10:01:18Z"));
	c = NULL;
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, coll, coffer_tee_now(),
	    NULL, &c), COFFER_E_EXPIRED);
	assert_true(tt_fatal_are(c, "collateral.expired"));
	coffer_tee_claims_free(c);
	/* Back to the wall clock. */
	tt_clock_set(-1);
	assert_true(coffer_tee_now() >= wall && coffer_tee_now() <= wall + 600);
	coffer_tee_collateral_free(coll);
	coffer_buf_release(&ev);
}

/* Flip one bit at each position; verification must fail for every
 * position in a signed region, and keep passing outside them. */
static void
flip_each(const char *rel, const char *const *coll, const char *at, unsigned flags,
    const size_t *offs, size_t n, int must_fail)
{
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)1 << 20);
	struct coffer_tee_collateral *c = coll != NULL ? tt_coll(anchors, coll) : NULL;
	struct coffer_tee_verify_opts o = { flags, NULL, NULL };

	tt_read(rel, &ev);
	/* The original first: the collateral's caches now hold this
	 * platform's certificates and attestation key, and must not make a
	 * changed quote pass. */
	{
		struct coffer_tee_claims *cl = NULL;

		if (coffer_tee_verify(ev.data, ev.len, anchors, c, tt_time(at), &o, &cl) != 0) {
			tt_dump(cl);
			fail_msg("%s: the original does not verify", rel);
		}
		coffer_tee_claims_free(cl);
	}
	for (size_t i = 0; i < n; i++) {
		struct coffer_tee_claims *cl = NULL;
		int rc;

		assert_true(offs[i] < ev.len);
		ev.data[offs[i]] ^= 0x01;
		rc = coffer_tee_verify(ev.data, ev.len, anchors, c, tt_time(at), &o, &cl);
		if (must_fail && rc == 0)
			fail_msg("%s: flipping byte %zu still verifies", rel, offs[i]);
		if (!must_fail && rc != 0) {
			tt_dump(cl);
			fail_msg("%s: flipping unsigned byte %zu fails (%d)", rel, offs[i], rc);
		}
		assert_true(cl == NULL || (rc == 0) == (cl->verdict == COFFER_TEE_OK));
		coffer_tee_claims_free(cl);
		ev.data[offs[i]] ^= 0x01;
	}
	coffer_tee_collateral_free(c);
	coffer_buf_release(&ev);
}

static void
test_samples__byte_flips_in_signed_regions_fail(void **state)
{
	/* SGX v3 (4600 bytes): header 0-47, body 48-431, sig data length 432,
	 * signature 436-499, attestation key 500-563, QE report 564-947, QE
	 * report signature 948-1011, QE auth data 1014-1045, certification
	 * data type/size 1046-1051, PCK chain PEM 1052-4599. */
	static const size_t sgx[] = {
		1, 2, 8, 10, 12, 27, 28, 47,                 /* header */
		48, 64, 100, 112, 150, 200, 300, 352, 368, 431, /* body */
		433, 436, 470, 499, 500, 530, 563,           /* sig length, sig, key */
		564, 612, 700, 884, 947, 948, 1000, 1011,    /* QE report, its sig */
		1012, 1014, 1030, 1045, 1046, 1048,          /* auth data, cert header */
		1100, 1500, 2000, 2500, 3000, 3600, 4200, 4590, /* PCK chain */
	};
	/* TDX v4 (5006 bytes, 70 trailing): header, body 48-631, sig length
	 * 632, signature 636-699, attestation key 700-763, cert data. */
	static const size_t tdx[] = {
		8, 12, 28, 47, 48, 70, 120, 184, 300, 400, 560, 600, 631,
		633, 640, 699, 700, 763, 764, 770, 900, 1154, 1200, 1220,
		1300, 1700, 2500, 3500, 4500, 4930,
	};
	static const size_t tdx_trailing[] = { 4936, 4970, 5005 };
	/* SNP: signed 0x000-0x29F, r and s 0x2A0-0x32F. */
	static const size_t snp[] = {
		0x00, 0x04, 0x08, 0x10, 0x30, 0x38, 0x48, 0x50, 0x8f, 0x90, 0xc0,
		0xe0, 0x140, 0x180, 0x1a0, 0x1e0, 0x1f0, 0x29f, 0x2a0, 0x2c0, 0x2e8,
		0x2f0, 0x32f,
	};

	(void)state;
	flip_each(ATT "sgx/dcap-qvl/sgx_quote", coll_sgx1, "2025-07-19T10:01:17Z", 0,
	    sgx, sizeof(sgx) / sizeof(sgx[0]), 1);
	flip_each(ATT "tdx/dcap-qvl/tdx_quote", coll_tdx2, "2025-07-01T00:00:00Z", 0,
	    tdx, sizeof(tdx) / sizeof(tdx[0]), 1);
	flip_each(ATT "tdx/dcap-qvl/tdx_quote", coll_tdx2, "2025-07-01T00:00:00Z", 0,
	    tdx_trailing, sizeof(tdx_trailing) / sizeof(tdx_trailing[0]), 0);
	flip_each(ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp1,
	    "2024-01-01T00:00:00Z", COFFER_TEE_ALLOW_NO_CRL, snp,
	    sizeof(snp) / sizeof(snp[0]), 1);
}

static void
test_samples__truncated_evidence_fails_cleanly(void **state)
{
	static const char *const rels[] = {
		ATT "sgx/dcap-qvl/sgx_quote", ATT "tdx/dcap-qvl/tdx_quote",
		ATT "tdx/dcap-qvl/tdx_quote_outdated",
		ATT "sev-snp/go-sev-guest/attestation.bin",
	};
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)1 << 20);

	(void)state;
	for (size_t k = 0; k < sizeof(rels) / sizeof(rels[0]); k++) {
		size_t full, cuts[] = { 0, 1, 7, 8, 47, 48, 49, 431, 432, 435, 436,
		    500, 631, 632, 636, 1000, 1184 - 1, 1300, 2000, 4000, 4299, 4500,
		    4599, 4935 };

		tt_read(rels[k], &ev);
		full = ev.len;
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			struct coffer_tee_claims *c = NULL;
			int rc;

			/* Cut into the declared evidence (TDX-2's trailing zeros
			 * start at 4936). */
			if (cuts[i] >= full || cuts[i] >= 4936)
				continue;
			rc = coffer_tee_verify(ev.data, cuts[i], anchors, NULL,
			    tt_time("2025-07-01T00:00:00Z"),
			    &(struct coffer_tee_verify_opts){ ALLOW_ALL, NULL, NULL }, &c);
			if (rc == 0)
				fail_msg("%s cut to %zu bytes verifies", rels[k], cuts[i]);
			assert_null(c);
			assert_true(rc == COFFER_E_TRUNCATED || rc == COFFER_E_FORMAT);
			assert_true(coffer_errdetail()[0] != '\0');
		}
	}
	coffer_buf_release(&ev);
}

/* A throwaway self-signed root, optionally named like Intel's. */
static int
make_root(const char *cn, int rsa, uint8_t **der, size_t *derlen, EVP_PKEY **keyout)
{
	EVP_PKEY *k = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	unsigned char *p = NULL;
	int len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 365 * 20);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365 * 30);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, k, EVP_sha256());
	len = i2d_X509(x, &p);
	*der = p;
	*derlen = (size_t)len;
	X509_NAME_free(n);
	X509_free(x);
	if (keyout != NULL)
		*keyout = k;
	else
		EVP_PKEY_free(k);
	return len > 0 ? 0 : -1;
}

static void
test_samples__chain_to_a_different_root_fails(void **state)
{
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)1 << 20);
	const char *names[] = { "Intel SGX Root CA", "Throwaway Root" };

	(void)state;
	tt_read(ATT "sgx/dcap-qvl/sgx_quote", &ev);
	for (int i = 0; i < 2; i++) {
		struct coffer_tee_anchors *a = NULL;
		struct coffer_tee_collateral *c = NULL;
		struct coffer_tee_claims *cl = NULL;
		uint8_t *der = NULL;
		size_t derlen;
		char path[PATH_MAX];
		int rc;

		assert_int_equal(make_root(names[i], 0, &der, &derlen, NULL), 0);
		assert_int_equal(coffer_tee_anchors_new_default(&a), 0);
		assert_int_equal(coffer_tee_anchors_set_intel_root(a, der, derlen), 0);
		/* The collateral's signing chain does not reach that root. */
		assert_int_equal(coffer_tee_collateral_new(a, &c), 0);
		tt_path(coll_sgx1[0], path, sizeof(path));
		assert_int_equal(coffer_tee_collateral_add_path(c, path), COFFER_E_UNTRUSTED);
		rc = coffer_tee_verify(ev.data, ev.len, a, c, tt_time("2025-07-19T10:01:17Z"),
		    &(struct coffer_tee_verify_opts){ ALLOW_ALL, NULL, NULL }, &cl);
		assert_int_not_equal(rc, 0);
		assert_non_null(cl);
		assert_int_equal(cl->verdict, COFFER_TEE_REJECTED);
		assert_true(coffer_tee_claims_has_reason(cl, "chain.untrusted_root"));
		/* Keys nothing vouched for are not kept (evidence.md 6.4). */
		assert_int_equal(c->n_keys, 0);
		coffer_tee_claims_free(cl);
		coffer_tee_collateral_free(c);
		coffer_tee_anchors_free(a);
		OPENSSL_free(der);
	}
	/* AMD: a throwaway ARK-Milan in place of AMD's. */
	{
		struct coffer_tee_anchors *a = NULL;
		struct coffer_tee_collateral *c = NULL;
		struct coffer_tee_claims *cl = NULL;
		uint8_t *der = NULL;
		size_t derlen;
		int rc;

		assert_int_equal(make_root("ARK-Milan", 1, &der, &derlen, NULL), 0);
		assert_int_equal(coffer_tee_anchors_new_default(&a), 0);
		coffer_tee_anchors_clear_amd(a);
		assert_int_equal(coffer_tee_anchors_add_amd(a, der, derlen), 0);
		c = tt_coll(a, coll_snp1);
		tt_read(ATT "sev-snp/go-sev-guest/attestation.bin", &ev);
		rc = coffer_tee_verify(ev.data, ev.len, a, c, tt_time("2024-01-01T00:00:00Z"),
		    &(struct coffer_tee_verify_opts){ ALLOW_ALL, NULL, NULL }, &cl);
		assert_int_equal(rc, COFFER_E_UNTRUSTED);
		assert_true(coffer_tee_claims_has_reason(cl, "chain.untrusted_root"));
		coffer_tee_claims_free(cl);
		coffer_tee_collateral_free(c);
		coffer_tee_anchors_free(a);
		OPENSSL_free(der);
	}
	coffer_buf_release(&ev);
}

/* Anchors of one TEE type (the worker's, for its pinned coordinator):
 * exactly that type's roots, with which its samples verify as with all
 * of them; sim needs none. */
static void
test_samples__anchors_for_one_type_hold_only_its_roots(void **state)
{
	static const enum coffer_tee_type types[] = { COFFER_TEE_SGX,
	    COFFER_TEE_TDX, COFFER_TEE_SEV_SNP, COFFER_TEE_SIM, COFFER_TEE_UNKNOWN };
	struct coffer_tee_anchors *a, *all = anchors;
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		enum coffer_tee_type t = types[i];
		int intel = t == COFFER_TEE_SGX || t == COFFER_TEE_TDX ||
		    t == COFFER_TEE_UNKNOWN, amd = t == COFFER_TEE_SEV_SNP ||
		    t == COFFER_TEE_UNKNOWN;

		assert_int_equal(coffer_tee_anchors_new_for(t, &a), 0);
		assert_int_equal(a->intel_root != NULL, intel);
		assert_int_equal(a->n_amd, amd ? all->n_amd : 0);
		assert_int_equal(sk_X509_num(a->amd_inter), amd ?
		    sk_X509_num(all->amd_inter) : 0);
		anchors = a;
		/* Collateral loads only against its roots. */
		c = verify(ATT "sgx/dcap-qvl/sgx_quote", intel ? coll_sgx1 : NULL,
		    "2025-07-19T10:01:17Z", intel ? 0 : ALLOW_ALL, NULL, &rc);
		assert_int_equal(c != NULL && c->verdict == COFFER_TEE_OK, intel);
		coffer_tee_claims_free(c);
		c = verify(ATT "sev-snp/go-sev-guest/attestation.bin", amd ? coll_snp1 :
		    NULL, "2022-09-24T01:00:00Z", amd ? COFFER_TEE_ALLOW_NO_CRL :
		    ALLOW_ALL, NULL, &rc);
		assert_int_equal(c != NULL && c->verdict == COFFER_TEE_OK, amd);
		coffer_tee_claims_free(c);
		anchors = all;
		coffer_tee_anchors_free(a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples__sgx1_dcap_qvl_config_and_sw_hardening_needed),
		cmocka_unit_test(test_samples__anchors_for_one_type_hold_only_its_roots),
		cmocka_unit_test(test_samples__tdx1_spr_e4_verifies_and_unmodified_tcb_info_has_no_level),
		cmocka_unit_test(test_samples__tdx1_go_tdx_guest_negative_bytes_fail),
		cmocka_unit_test(test_samples__tdx1b_v5_sample_up_to_date),
		cmocka_unit_test(test_samples__tdx1c_cos113_ccel_quote),
		cmocka_unit_test(test_samples__tdx2_dcap_qvl_up_to_date),
		cmocka_unit_test(test_samples__tdx3_outdated_v5_has_no_matching_level),
		cmocka_unit_test(test_samples__tdx4_trustee_debug_td_matches_expected_claims),
		cmocka_unit_test(test_samples__tdx5_v5_parses_and_verifies),
		cmocka_unit_test(test_samples__tdx6_trustee_out_of_date),
		cmocka_unit_test(test_samples__snp1_go_sev_guest_milan),
		cmocka_unit_test(test_samples__snp2_virtee_hex_report),
		cmocka_unit_test(test_samples__turin_vcek_chains_to_pinned_ark),
		cmocka_unit_test(test_samples__every_sample_fails_after_its_window),
		cmocka_unit_test(test_samples__expired_collateral_at_the_callers_clock),
		cmocka_unit_test(test_samples__byte_flips_in_signed_regions_fail),
		cmocka_unit_test(test_samples__truncated_evidence_fails_cleanly),
		cmocka_unit_test(test_samples__chain_to_a_different_root_fails),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
