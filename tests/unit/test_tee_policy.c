// SPDX-License-Identifier: Apache-2.0
// The verification policy (src/tee/policy.c, doc/format/evidence.md
// section 10): its strict JSON form and each of its named refusals, with
// INSECURE SIMULATION evidence v2 that simulates the refused value (and
// the value just allowed), and with recorded hardware evidence wherever a
// sample has the property.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tee_common.h"
#include "lib/json.h"
#include "tee/policy.h"
#include "tee/tee_int.h"

static struct coffer_tee_anchors *anchors;
static char sim_dir[64], fp_hex[65];

static int
setup(void **state)
{
	char *pem = NULL;
	uint8_t fp[32];

	(void)state;
	snprintf(sim_dir, sizeof(sim_dir), "/tmp/coffer-policy.XXXXXX");
	if (mkdtemp(sim_dir) == NULL || coffer_tee_anchors_new_default(&anchors) != 0 ||
	    coffer_tee_sim_public_key(sim_dir, &pem) != 0 ||
	    coffer_tee_sim_key_fingerprint(pem, strlen(pem), fp) != 0)
		return -1;
	coffer_hex_encode(fp, 32, fp_hex);
	free(pem);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	coffer_tee_anchors_free(anchors);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", sim_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A policy from JSON, "$KEY" replaced by this host's sim key fingerprint. */
static void
policy(const char *json, struct coffer_tee_policy *p)
{
	char buf[4096];
	const char *k = strstr(json, "$KEY");

	if (k != NULL)
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(k - json), json, fp_hex, k + 4);
	else
		snprintf(buf, sizeof(buf), "%s", json);
	if (coffer_tee_policy_parse(buf, strlen(buf), p) != 0)
		fail_msg("policy %s: %s", buf, coffer_errdetail());
}

/* Verify sim evidence v2 with these simulated values under p. */
static struct coffer_tee_claims *
verify_sim(const struct coffer_tee_sim_values *sv, const struct coffer_tee_policy *p,
    int *rc)
{
	static const uint8_t rd[64] = "nonce";
	struct coffer_tee_backend_opts o;
	struct coffer_tee_claims *c = NULL;
	uint8_t *ev = NULL;
	size_t n = 0;

	memset(&o, 0, sizeof(o));
	o.sim_dir = sim_dir;
	o.sim_values = sv;
	if (coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd, &o, &ev, &n) != 0)
		fail_msg("sim: %s", coffer_errdetail());
	*rc = coffer_tee_verify(ev, n, anchors, NULL, 0,
	    &(struct coffer_tee_verify_opts){ 0, rd, p }, &c);
	free(ev);
	assert_non_null(c);
	return c;
}

static void
expect(const struct coffer_tee_claims *c, int rc, const char *code)
{
	if (code == NULL) {
		if (rc != 0) {
			tt_dump(c);
			fail_msg("expected ok, got %d", rc);
		}
		return;
	}
	if (rc == 0 || !coffer_tee_claims_has_reason(c, code) || !tt_fatal_are(c, code)) {
		tt_dump(c);
		fail_msg("expected exactly %s, got rc %d", code, rc);
	}
}

/* Sim evidence with values sv under the policy json: refused with
 * exactly code, or accepted (code NULL). */
static void
sim_case(const char *json, const struct coffer_tee_sim_values *sv, const char *code)
{
	struct coffer_tee_policy p;
	struct coffer_tee_claims *c;
	int rc;

	policy(json, &p);
	c = verify_sim(sv, &p, &rc);
	expect(c, rc, code);
	if (code != NULL)
		assert_int_equal(rc, strncmp(code, "tcb.", 4) == 0 ? COFFER_E_REVOKED :
		    COFFER_E_POLICY);
	coffer_tee_claims_free(c);
}

/* ------------------------------------------------------------------ */
/* JSON form */

static void
test_policy__minimal_json_is_the_defaults(void **state)
{
	struct coffer_tee_policy a, b;

	(void)state;
	coffer_tee_policy_init(&a);
	assert_int_equal(a.size, sizeof(a));
	assert_int_equal(a.version, COFFER_TEE_POLICY_VERSION);
	assert_false(a.allow_debug);
	assert_int_equal(a.intel_tcb_statuses, 1u << COFFER_TCB_UP_TO_DATE);
	assert_true(a.snp_allow_smt);
	assert_false(a.snp_allow_migration_agent);
	assert_int_equal(a.n_sim_keys, 0);
	assert_int_equal(coffer_tee_policy_risks(&a), 0);
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(coffer_tee_policy_parse("{\"version\":1}", 13, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void
test_policy__json_round_trip_with_every_field(void **state)
{
	struct coffer_tee_policy a, b;
	char *js = NULL, *js2 = NULL;

	(void)state;
	policy("{\"version\":1,\"allow_debug\":true,\"allow_missing_crl\":true,"
	    "\"intel\":{\"tcb_statuses\":[\"SWHardeningNeeded\",\"UpToDate\","
	    "\"TDRelaunchAdvisedConfigurationNeeded\"],\"min_tcb_evaluation_data_number\":17,"
	    "\"allow_missing_collateral\":true},\"snp\":{\"min_tcb\":{\"bootloader\":1,"
	    "\"tee\":2,\"snp\":3,\"microcode\":4,\"fmc\":5},\"max_vmpl\":2,\"allow_smt\":false,"
	    "\"allow_migration_agent\":true},\"tdx\":{\"attributes_mask\":\"0100001000000080\","
	    "\"attributes\":\"0000001000000000\"},\"sim_platform_keys\":[\"$KEY\","
	    "\"00000000000000000000000000000000000000000000000000000000000000ff\"]}", &a);
	assert_true(a.allow_debug && a.allow_missing_crl && a.allow_missing_collateral);
	assert_int_equal(a.intel_tcb_statuses, (1u << COFFER_TCB_UP_TO_DATE) |
	    (1u << COFFER_TCB_SW_HARDENING_NEEDED) |
	    (1u << COFFER_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED));
	assert_int_equal(a.min_tcb_evaluation_data_number, 17);
	assert_int_equal(a.snp_min_tcb.fmc, 5);
	assert_int_equal(a.snp_max_vmpl, 2);
	assert_false(a.snp_allow_smt);
	assert_int_equal(a.tdx_attributes_mask[7], 0x80);
	assert_int_equal(a.n_sim_keys, 2);
	assert_int_equal(a.sim_keys[1][31], 0xff);
	assert_int_equal(coffer_tee_policy_risks(&a), COFFER_TEE_RISK_SIM |
	    COFFER_TEE_RISK_DEBUG | COFFER_TEE_RISK_NO_COLLATERAL | COFFER_TEE_RISK_NO_CRL);
	assert_int_equal(coffer_tee_policy_json(&a, &js), 0);
	assert_int_equal(coffer_tee_policy_parse(js, strlen(js), &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(coffer_tee_policy_json(&b, &js2), 0);
	assert_string_equal(js, js2);
	assert_non_null(strstr(js, "\"tcb_statuses\":[\"UpToDate\",\"SWHardeningNeeded\","
	    "\"TDRelaunchAdvisedConfigurationNeeded\"]"));
	free(js);
	free(js2);
	/* Embedded in a larger document (a coordinator policy), the member
	 * reads the same. */
	{
		const char *doc = "{\"name\":\"study\",\"verification\":{\"version\":1,"
		    "\"snp\":{\"max_vmpl\":2}}}";
		json_t *o = NULL;

		assert_int_equal(coffer_json_parse(doc, strlen(doc), 4096, 8, &o), 0);
		assert_int_equal(coffer_tee_policy_from_json(json_object_get(o,
		    "verification"), &b), 0);
		assert_int_equal(b.snp_max_vmpl, 2);
		json_object_set_new(json_object_get(o, "verification"), "x", json_true());
		assert_int_equal(coffer_tee_policy_from_json(json_object_get(o,
		    "verification"), &b), COFFER_E_FORMAT);
		assert_non_null(strstr(coffer_errdetail(), "verification.x"));
		json_decref(o);
	}
	/* The defaults written out in full read back as the defaults. */
	coffer_tee_policy_init(&a);
	assert_int_equal(coffer_tee_policy_json(&a, &js), 0);
	assert_int_equal(coffer_tee_policy_parse(js, strlen(js), &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	free(js);
}

static void
test_policy__json_reject_rules(void **state)
{
	static const struct {
		const char *rule, *json;
		int err;
	} bad[] = {
		{ "V1", "[1]", COFFER_E_FORMAT },
		{ "V1", "{\"version\":1} {}", COFFER_E_FORMAT },
		{ "V1", "{\"version\":1,\"version\":1}", COFFER_E_FORMAT },
		{ "V2", "{\"version\":1,\"alow_debug\":true}", COFFER_E_FORMAT },
		{ "V2", "{\"version\":1,\"snp\":{\"max_vmpl\":0,\"smt\":true}}", COFFER_E_FORMAT },
		{ "V2", "{\"version\":1,\"snp\":{\"min_tcb\":{\"ucode\":1}}}", COFFER_E_FORMAT },
		{ "V2", "{\"version\":1,\"allow_debug\":null}", COFFER_E_FORMAT },
		{ "V2", "{\"version\":1,\"intel\":{\"allow_missing_collateral\":null}}", COFFER_E_FORMAT },
		{ "V3", "{}", COFFER_E_FORMAT },
		{ "V3", "{\"version\":\"1\"}", COFFER_E_FORMAT },
		{ "V3", "{\"version\":2}", COFFER_E_VERSION },
		{ "V3", "{\"version\":1,\"allow_debug\":1}", COFFER_E_FORMAT },
		{ "V3", "{\"version\":1,\"intel\":[]}", COFFER_E_FORMAT },
		{ "V3", "{\"version\":1.0}", COFFER_E_FORMAT },
		{ "V3", "{\"version\":1,\"snp\":{\"max_vmpl\":0.0}}", COFFER_E_FORMAT },
		{ "V3", "{\"version\":1,\"intel\":{\"min_tcb_evaluation_data_number\":2e0}}",
		    COFFER_E_FORMAT },
		{ "V4", "{\"version\":1,\"intel\":{\"tcb_statuses\":[\"Revoked\"]}}", COFFER_E_FORMAT },
		{ "V4", "{\"version\":1,\"intel\":{\"tcb_statuses\":[\"NotSupported\"]}}", COFFER_E_FORMAT },
		{ "V4", "{\"version\":1,\"intel\":{\"tcb_statuses\":[\"NotEvaluated\"]}}", COFFER_E_FORMAT },
		{ "V4", "{\"version\":1,\"intel\":{\"tcb_statuses\":[\"uptodate\"]}}", COFFER_E_FORMAT },
		{ "V4", "{\"version\":1,\"intel\":{\"tcb_statuses\":[\"UpToDate\",\"UpToDate\"]}}", COFFER_E_FORMAT },
		{ "V4", "{\"version\":1,\"intel\":{\"tcb_statuses\":[1]}}", COFFER_E_FORMAT },
		{ "V5", "{\"version\":1,\"intel\":{\"min_tcb_evaluation_data_number\":-1}}", COFFER_E_FORMAT },
		{ "V5", "{\"version\":1,\"intel\":{\"min_tcb_evaluation_data_number\":4294967296}}", COFFER_E_FORMAT },
		{ "V5", "{\"version\":1,\"intel\":{\"min_tcb_evaluation_data_number\":1.5}}", COFFER_E_FORMAT },
		{ "V6", "{\"version\":1,\"snp\":{\"min_tcb\":{\"microcode\":256}}}", COFFER_E_FORMAT },
		{ "V6", "{\"version\":1,\"snp\":{\"min_tcb\":{\"tee\":-1}}}", COFFER_E_FORMAT },
		{ "V7", "{\"version\":1,\"snp\":{\"max_vmpl\":4}}", COFFER_E_FORMAT },
		{ "V8", "{\"version\":1,\"tdx\":{\"attributes_mask\":\"00000010000000\","
		    "\"attributes\":\"00000000000000\"}}", COFFER_E_FORMAT },
		{ "V8", "{\"version\":1,\"tdx\":{\"attributes_mask\":\"000000F000000000\","
		    "\"attributes\":\"0000000000000000\"}}", COFFER_E_FORMAT },
		{ "V9", "{\"version\":1,\"tdx\":{\"attributes_mask\":\"0000001000000000\"}}", COFFER_E_FORMAT },
		{ "V9", "{\"version\":1,\"tdx\":{\"attributes_mask\":\"0000001000000000\","
		    "\"attributes\":\"0000003000000000\"}}", COFFER_E_FORMAT },
		{ "V10", "{\"version\":1,\"sim_platform_keys\":[\"abcd\"]}", COFFER_E_FORMAT },
		{ "V10", "{\"version\":1,\"sim_platform_keys\":[\"00000000000000000000000000000000"
		    "000000000000000000000000000000FF\"]}", COFFER_E_FORMAT },
		{ "V10", "{\"version\":1,\"sim_platform_keys\":\"00\"}", COFFER_E_FORMAT },
		{ "V11", "{\"version\":1,\"sim_platform_keys\":[\"$KEY\",\"$KEY\"]}", COFFER_E_FORMAT },
	};
	char many[4096] = "{\"version\":1,\"sim_platform_keys\":[";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct coffer_tee_policy p;
		char buf[1024];
		const char *s = bad[i].json;
		int r;

		/* $KEY twice: the same fingerprint twice */
		if (strstr(s, "$KEY") != NULL)
			snprintf(buf, sizeof(buf), "{\"version\":1,\"sim_platform_keys\":"
			    "[\"%s\",\"%s\"]}", fp_hex, fp_hex);
		else
			snprintf(buf, sizeof(buf), "%s", s);
		memset(&p, 0x5a, sizeof(p));
		r = coffer_tee_policy_parse(buf, strlen(buf), &p);
		if (r != bad[i].err)
			fail_msg("%s: %s gave %d, expected %d (%s)", bad[i].rule, buf, r,
			    bad[i].err, coffer_errdetail());
		assert_int_equal(p.size, 0x5a5a5a5a); /* untouched */
		assert_true(coffer_errdetail()[0] != '\0');
	}
	/* V10: at most 16 keys */
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"%064x\"",
		    i ? "," : "", i);
	snprintf(many + strlen(many), sizeof(many) - strlen(many), "]}");
	{
		struct coffer_tee_policy p;

		assert_int_equal(coffer_tee_policy_parse(many, strlen(many), &p), COFFER_E_LIMIT);
	}
}

/* ------------------------------------------------------------------ */
/* Each refusal with sim evidence v2: refused past the limit, accepted at it. */

static void
test_policy__each_refusal_with_sim_v2(void **state)
{
	static const char *const named = "{\"version\":1,\"sim_platform_keys\":[\"$KEY\"]}";
	struct coffer_tee_sim_values sv;
	struct coffer_tee_policy p;
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	/* The baseline: default values, a policy that names the sim key. */
	coffer_tee_sim_values_init(&sv);
	sim_case(named, &sv, NULL);

	/* policy.sim_key: no key named (the default), another key named. */
	sim_case("{\"version\":1}", &sv, "policy.sim_key");
	sim_case("{\"version\":1,\"sim_platform_keys\":[\"00000000000000000000000000000000"
	    "00000000000000000000000000000001\"]}", &sv, "policy.sim_key");

	/* policy.debug */
	sv.debug = 1;
	sim_case(named, &sv, "policy.debug");
	sim_case("{\"version\":1,\"allow_debug\":true,\"sim_platform_keys\":[\"$KEY\"]}",
	    &sv, NULL);
	sv.debug = 0;

	/* policy.tcb_status: every acceptable status, listed or not. */
	for (int st = COFFER_TCB_SW_HARDENING_NEEDED;
	    st <= COFFER_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED; st++) {
		char js[256];

		sv.tcb_status = (enum coffer_tee_tcb_status)st;
		sim_case(named, &sv, "policy.tcb_status");
		snprintf(js, sizeof(js), "{\"version\":1,\"intel\":{\"tcb_statuses\":"
		    "[\"%s\"]},\"sim_platform_keys\":[\"$KEY\"]}",
		    coffer_tee_tcb_status_name((enum coffer_tee_tcb_status)st));
		sim_case(js, &sv, NULL);
	}
	/* Revoked cannot be accepted by any policy: tcb.revoked. */
	sv.tcb_status = COFFER_TCB_REVOKED;
	sim_case("{\"version\":1,\"intel\":{\"tcb_statuses\":[\"UpToDate\",\"OutOfDate\"]},"
	    "\"sim_platform_keys\":[\"$KEY\"]}", &sv, "tcb.revoked");
	sv.tcb_status = COFFER_TCB_UP_TO_DATE;

	/* policy.tcb_evaluation_number */
	sv.tcb_evaluation_data_number = 17;
	sim_case("{\"version\":1,\"intel\":{\"min_tcb_evaluation_data_number\":18},"
	    "\"sim_platform_keys\":[\"$KEY\"]}", &sv, "policy.tcb_evaluation_number");
	sv.tcb_evaluation_data_number = 18;
	sim_case("{\"version\":1,\"intel\":{\"min_tcb_evaluation_data_number\":18},"
	    "\"sim_platform_keys\":[\"$KEY\"]}", &sv, NULL);

	/* policy.snp_tcb: each component on its own. */
	for (int k = 0; k < 5; k++) {
		static const char *const names[] = { "bootloader", "tee", "snp", "microcode",
		    "fmc" };
		uint8_t *comp[] = { &sv.snp_tcb.bootloader, &sv.snp_tcb.tee, &sv.snp_tcb.snp,
		    &sv.snp_tcb.microcode, &sv.snp_tcb.fmc };
		char js[256];

		snprintf(js, sizeof(js), "{\"version\":1,\"snp\":{\"min_tcb\":{\"%s\":9}},"
		    "\"sim_platform_keys\":[\"$KEY\"]}", names[k]);
		memset(&sv.snp_tcb, 200, sizeof(sv.snp_tcb));
		*comp[k] = 8;
		sim_case(js, &sv, "policy.snp_tcb");
		*comp[k] = 9;
		sim_case(js, &sv, NULL);
	}
	memset(&sv.snp_tcb, 0, sizeof(sv.snp_tcb));

	/* policy.snp_vmpl */
	sv.vmpl = 2;
	sim_case("{\"version\":1,\"snp\":{\"max_vmpl\":1},\"sim_platform_keys\":[\"$KEY\"]}",
	    &sv, "policy.snp_vmpl");
	sv.vmpl = 1;
	sim_case("{\"version\":1,\"snp\":{\"max_vmpl\":1},\"sim_platform_keys\":[\"$KEY\"]}",
	    &sv, NULL);
	sv.vmpl = 0;

	/* policy.snp_smt: allowed by default, refused when said. */
	sv.smt = 1;
	sim_case(named, &sv, NULL);
	sim_case("{\"version\":1,\"snp\":{\"allow_smt\":false},\"sim_platform_keys\":"
	    "[\"$KEY\"]}", &sv, "policy.snp_smt");
	sv.smt = 0;

	/* policy.snp_migration_agent: refused by default. */
	sv.migration_agent = 1;
	sim_case(named, &sv, "policy.snp_migration_agent");
	sim_case("{\"version\":1,\"snp\":{\"allow_migration_agent\":true},"
	    "\"sim_platform_keys\":[\"$KEY\"]}", &sv, NULL);
	sv.migration_agent = 0;

	/* policy.tdx_attributes: SEPT_VE_DISABLE (bit 28) required. */
	policy("{\"version\":1,\"tdx\":{\"attributes_mask\":\"0000001000000000\","
	    "\"attributes\":\"0000001000000000\"},\"sim_platform_keys\":[\"$KEY\"]}", &p);
	c = verify_sim(&sv, &p, &rc);
	expect(c, rc, "policy.tdx_attributes");
	coffer_tee_claims_free(c);
	sv.td_attributes[3] = 0x10;
	sv.td_attributes[7] = 0x80; /* outside the mask: not judged */
	c = verify_sim(&sv, &p, &rc);
	expect(c, rc, NULL);
	coffer_tee_claims_free(c);

	/* Several at once: every refusal is listed. */
	sv.debug = 1;
	sv.vmpl = 3;
	sv.td_attributes[3] = 0;
	c = verify_sim(&sv, &p, &rc);
	assert_int_equal(rc, COFFER_E_POLICY);
	assert_true(coffer_tee_claims_has_reason(c, "policy.debug"));
	assert_true(coffer_tee_claims_has_reason(c, "policy.snp_vmpl"));
	assert_true(coffer_tee_claims_has_reason(c, "policy.tdx_attributes"));
	coffer_tee_claims_free(c);
}

/* ------------------------------------------------------------------ */
/* The same refusals on recorded hardware evidence. */

static struct coffer_tee_claims *
verify_hw(const char *rel, const char *const *coll, const char *at,
    const struct coffer_tee_policy *p, int *rc)
{
	struct coffer_tee_verify_opts o = { 0, NULL, p };
	struct coffer_tee_claims *claims = tt_verify(anchors, rel, coll, at, &o, rc);

	assert_non_null(claims);
	return claims;
}

/* A recorded sample under p: refused with exactly code, or accepted. */
static void
hw_case(const char *rel, const char *const *coll, const char *at,
    const struct coffer_tee_policy *p, const char *code)
{
	struct coffer_tee_claims *c;
	int rc;

	c = verify_hw(rel, coll, at, p, &rc);
	expect(c, rc, code);
	coffer_tee_claims_free(c);
}

static const char *const coll_sgx1[] = { ATT "sgx/dcap-qvl/sgx_quote_collateral.json", NULL };
static const char *const coll_tdx2[] = { ATT "tdx/dcap-qvl/tdx_quote_collateral.json", NULL };
static const char *const coll_tdx6[] = {
	ATT "intel-pki/intel_sgx_tcb_signing_2025-2032.der",
	ATT "intel-pki/intel_sgx_root_ca_crl_2025.der",
	ATT "tdx/trustee/tcbInfo.json", ATT "tdx/trustee/enclaveIdentity.json", NULL,
};
static const char *const coll_snp1[] = { ATT "sev-snp/go-sev-guest/vcek.testcer", NULL };

static void
test_policy__refusals_on_recorded_intel_evidence(void **state)
{
	struct coffer_tee_policy p;
	struct coffer_tee_claims *c;
	int rc;

	(void)state;
	/* SGX: ConfigurationAndSWHardeningNeeded, tcbEvaluationDataNumber 17. */
	policy("{\"version\":1}", &p);
	hw_case(ATT "sgx/dcap-qvl/sgx_quote", coll_sgx1, "2025-07-19T10:01:17Z", &p, "policy.tcb_status");
	policy("{\"version\":1,\"intel\":{\"tcb_statuses\":[\"UpToDate\","
	    "\"ConfigurationAndSWHardeningNeeded\"],\"min_tcb_evaluation_data_number\":17}}", &p);
	hw_case(ATT "sgx/dcap-qvl/sgx_quote", coll_sgx1, "2025-07-19T10:01:17Z", &p, NULL);
	p.min_tcb_evaluation_data_number = 18;
	hw_case(ATT "sgx/dcap-qvl/sgx_quote", coll_sgx1, "2025-07-19T10:01:17Z", &p, "policy.tcb_evaluation_number");

	/* TDX (dcap-qvl): TDATTRIBUTES 0000001000000000, SEPT_VE_DISABLE set. */
	policy("{\"version\":1,\"tdx\":{\"attributes_mask\":\"0100001000000000\","
	    "\"attributes\":\"0000001000000000\"}}", &p);
	hw_case(ATT "tdx/dcap-qvl/tdx_quote", coll_tdx2, "2025-07-01T00:00:00Z", &p, NULL);
	policy("{\"version\":1,\"tdx\":{\"attributes_mask\":\"0000001000000000\","
	    "\"attributes\":\"0000000000000000\"}}", &p);
	hw_case(ATT "tdx/dcap-qvl/tdx_quote", coll_tdx2, "2025-07-01T00:00:00Z", &p, "policy.tdx_attributes");

	/* A debug TD (trustee), with missing collateral tolerated. */
	policy("{\"version\":1,\"intel\":{\"allow_missing_collateral\":true},"
	    "\"allow_missing_crl\":true}", &p);
	c = verify_hw(ATT "tdx/trustee/tdx_quote_4.dat", NULL, "2025-01-01T00:00:00Z", &p, &rc);
	expect(c, rc, "policy.debug");
	assert_int_equal(c->tcb_status, COFFER_TCB_NOT_EVALUATED);
	coffer_tee_claims_free(c);
	p.allow_debug = 1;
	hw_case(ATT "tdx/trustee/tdx_quote_4.dat", NULL, "2025-01-01T00:00:00Z", &p, NULL);
	/* ... but a minimum evaluation number needs a TCB Info. */
	p.min_tcb_evaluation_data_number = 1;
	hw_case(ATT "tdx/trustee/tdx_quote_4.dat", NULL, "2025-01-01T00:00:00Z", &p, "policy.tcb_evaluation_number");

	/* Missing collateral and CRLs: the policy decides, not flags. */
	policy("{\"version\":1,\"intel\":{\"tcb_statuses\":[\"OutOfDate\"]}}", &p);
	c = verify_hw(ATT "tdx/trustee/tdx_quote_6.dat", coll_tdx6, "2025-11-01T00:00:00Z",
	    &p, &rc);
	expect(c, rc, "crl.missing");
	coffer_tee_claims_free(c);
	p.allow_missing_crl = 1;
	c = verify_hw(ATT "tdx/trustee/tdx_quote_6.dat", coll_tdx6, "2025-11-01T00:00:00Z",
	    &p, &rc);
	expect(c, rc, NULL);
	assert_int_equal(c->tcb_status, COFFER_TCB_OUT_OF_DATE);
	coffer_tee_claims_free(c);
	p.intel_tcb_statuses = 1u << COFFER_TCB_UP_TO_DATE;
	c = verify_hw(ATT "tdx/trustee/tdx_quote_6.dat", coll_tdx6, "2025-11-01T00:00:00Z",
	    &p, &rc);
	expect(c, rc, "policy.tcb_status");
	coffer_tee_claims_free(c);
	policy("{\"version\":1,\"allow_missing_crl\":true}", &p);
	hw_case(ATT "tdx/trustee/tdx_quote_5.dat", NULL, "2025-01-01T00:00:00Z", &p, "collateral.missing");
}

static void
test_policy__refusals_on_recorded_snp_evidence(void **state)
{
	struct coffer_tee_policy p;

	(void)state;
	/* go-sev-guest Milan: DEBUG and SMT in the guest policy, VMPL 0,
	 * REPORTED_TCB bootloader 2, tee 0, snp 5, microcode 68. */
	policy("{\"version\":1,\"allow_missing_crl\":true}", &p);
	hw_case(ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp1,
	    "2022-09-24T01:00:00Z", &p, "policy.debug");
	policy("{\"version\":1,\"allow_debug\":true,\"allow_missing_crl\":true,"
	    "\"snp\":{\"min_tcb\":{\"bootloader\":2,\"tee\":0,\"snp\":5,\"microcode\":68},"
	    "\"max_vmpl\":0}}", &p);
	hw_case(ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp1,
	    "2022-09-24T01:00:00Z", &p, NULL);
	p.snp_min_tcb.microcode = 69;
	hw_case(ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp1,
	    "2022-09-24T01:00:00Z", &p, "policy.snp_tcb");
	p.snp_min_tcb.microcode = 68;
	p.snp_allow_smt = 0;
	hw_case(ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp1,
	    "2022-09-24T01:00:00Z", &p, "policy.snp_smt");
	/* Without tolerating the missing ARK CRL: crl.missing. */
	p.snp_allow_smt = 1;
	p.allow_missing_crl = 0;
	hw_case(ATT "sev-snp/go-sev-guest/attestation.bin", coll_snp1,
	    "2022-09-24T01:00:00Z", &p, "crl.missing");
}

/* Flags and a policy do not mix; a policy of another version or a
 * smaller size is refused before anything is read. */
static void
test_policy__struct_checks(void **state)
{
	struct coffer_tee_policy p;
	struct coffer_tee_claims *c = NULL;
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)1 << 20);

	(void)state;
	tt_read(ATT "tdx/trustee/tdx_quote_4.dat", &ev);
	coffer_tee_policy_init(&p);
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, NULL, 0,
	    &(struct coffer_tee_verify_opts){ COFFER_TEE_ALLOW_NO_CRL, NULL, &p }, &c),
	    COFFER_E_INVAL);
	p.size = 8;
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, NULL, 0,
	    &(struct coffer_tee_verify_opts){ 0, NULL, &p }, &c), COFFER_E_VERSION);
	p.size = sizeof(p);
	p.version = 2;
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, NULL, 0,
	    &(struct coffer_tee_verify_opts){ 0, NULL, &p }, &c), COFFER_E_VERSION);
	assert_null(c);
	coffer_buf_release(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy__minimal_json_is_the_defaults),
		cmocka_unit_test(test_policy__json_round_trip_with_every_field),
		cmocka_unit_test(test_policy__json_reject_rules),
		cmocka_unit_test(test_policy__each_refusal_with_sim_v2),
		cmocka_unit_test(test_policy__refusals_on_recorded_intel_evidence),
		cmocka_unit_test(test_policy__refusals_on_recorded_snp_evidence),
		cmocka_unit_test(test_policy__struct_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
