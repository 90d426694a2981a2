// SPDX-License-Identifier: Apache-2.0
// The verification policy: its defaults, its strict JSON form (the
// "verification" member of a Coffer policy), and applying it to claims,
// where each check it makes is a named refusal (policy.*).
// doc/format/evidence.md section 10; rules V1-V11 (parsing) and P1-P9
// (applying) are numbered there.
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "tee/policy.h"
#include "tee/tee_int.h"

#define POLICY_MAX_BYTES ((size_t)64 << 10)
#define POLICY_MAX_DEPTH 8
#define BIT(s) (1u << (unsigned)(s))

/* The statuses a policy may accept: every status a TCB level can give
 * but Revoked (section 5.2). */
#define ACCEPTABLE_STATUSES (BIT(COFFER_TCB_UP_TO_DATE) | \
	BIT(COFFER_TCB_SW_HARDENING_NEEDED) | BIT(COFFER_TCB_CONFIGURATION_NEEDED) | \
	BIT(COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED) | \
	BIT(COFFER_TCB_OUT_OF_DATE) | BIT(COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) | \
	BIT(COFFER_TCB_TD_RELAUNCH_ADVISED) | \
	BIT(COFFER_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED))

void
coffer_tee_policy_init(struct coffer_tee_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->version = COFFER_TEE_POLICY_VERSION;
	p->intel_tcb_statuses = BIT(COFFER_TCB_UP_TO_DATE);
	/* Side channels are outside the threat model (doc/threat-model.md),
	 * and nearly every SEV-SNP host runs with SMT: allowed unless said. */
	p->snp_allow_smt = 1;
}

unsigned
coffer_tee_policy_risks(const struct coffer_tee_policy *p)
{
	return (p->n_sim_keys > 0 ? COFFER_TEE_RISK_SIM : 0) |
	    (p->allow_debug ? COFFER_TEE_RISK_DEBUG : 0) |
	    (p->allow_missing_collateral ? COFFER_TEE_RISK_NO_COLLATERAL : 0) |
	    (p->allow_missing_crl ? COFFER_TEE_RISK_NO_CRL : 0);
}

/* ------------------------------------------------------------------ */
/* JSON form (section 10.3) */

/* 1 if s is exactly 2n lower-case hex digits; their bytes in out. */
static int
hex_lc(const char *s, uint8_t *out, size_t n)
{
	size_t got;

	if (s == NULL || strlen(s) != 2 * n)
		return 0;
	for (size_t i = 0; i < 2 * n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return coffer_hex_decode(s, 2 * n, out, n, &got) == 0 && got == n;
}

int
tee_json_hex_lc(const json_t *o, const char *ctx, const char *key, int required,
    uint8_t *out, size_t n, int *present)
{
	const char *s = NULL;
	int r;

	if ((r = coffer_json_get_str(o, ctx, key, required, &s)) != 0)
		return r;
	if (present != NULL)
		*present = s != NULL;
	if (s != NULL && !hex_lc(s, out, n))
		return coffer_errf(COFFER_E_FORMAT, "%s.%s: not %zu lower-case hex "
		    "digits", ctx, key, 2 * n);
	return 0;
}

int
tee_json_no_nulls(const json_t *o, const char *ctx)
{
	const char *k;
	json_t *val;

	json_object_foreach((json_t *)o, k, val) {
		if (json_is_null(val))
			return coffer_errf(COFFER_E_FORMAT, "%s.%s: null (leave the field "
			    "out for its default)", ctx, k);
	}
	return 0;
}

/* An optional member that, when present, must be an object without null
 * members and with only these keys. */
static int
sub_object(const json_t *o, const char *ctx, const char *key,
    const char *const *keys, json_t **out)
{
	char sub[64];
	int r;

	*out = NULL;
	if ((r = coffer_json_get_obj(o, ctx, key, 0, out)) != 0 || *out == NULL)
		return r;
	snprintf(sub, sizeof(sub), "%s.%s", ctx, key);
	if ((r = coffer_json_check_keys(*out, sub, keys)) != 0 ||
	    (r = tee_json_no_nulls(*out, sub)) != 0)
		return r;
	return 0;
}

static int
get_u32(const json_t *o, const char *ctx, const char *key, int64_t max, uint32_t *out)
{
	int64_t v;
	int r;

	v = *out;
	if ((r = coffer_json_get_int(o, ctx, key, 0, 0, max, &v)) != 0)
		return r;
	*out = (uint32_t)v;
	return 0;
}

static int
get_flag(const json_t *o, const char *ctx, const char *key, int *out)
{
	return coffer_json_get_bool(o, ctx, key, 0, out);
}

/* V4: the accepted statuses, each named once, none that is never
 * acceptable. */
static int
parse_statuses(const json_t *arr, uint32_t *out)
{
	uint32_t set = 0;
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		const char *s = json_string_value(e);
		int st;

		if (s == NULL)
			return coffer_errf(COFFER_E_FORMAT, "verification.intel.tcb_statuses"
			    "[%zu]: not a string", i);
		if ((st = tee_tcb_status_parse(s)) < 0 || !(ACCEPTABLE_STATUSES & BIT(st)))
			return coffer_errf(COFFER_E_FORMAT, "verification.intel.tcb_statuses"
			    "[%zu]: \"%s\" is not a status a policy may accept (UpToDate, "
			    "SWHardeningNeeded, ConfigurationNeeded, "
			    "ConfigurationAndSWHardeningNeeded, OutOfDate, "
			    "OutOfDateConfigurationNeeded, TDRelaunchAdvised, "
			    "TDRelaunchAdvisedConfigurationNeeded)", i, s);
		if (set & BIT(st))
			return coffer_errf(COFFER_E_FORMAT, "verification.intel.tcb_statuses"
			    "[%zu]: \"%s\" is listed twice", i, s);
		set |= BIT(st);
	}
	*out = set;
	return 0;
}

/* V10-V11: the sim keys, lower-case hex fingerprints, each once. */
static int
parse_sim_keys(const json_t *arr, struct coffer_tee_policy *p)
{
	size_t i;
	json_t *e;

	if (json_array_size(arr) > COFFER_TEE_POLICY_MAX_SIM_KEYS)
		return coffer_errf(COFFER_E_LIMIT, "verification.sim_platform_keys: "
		    "more than %d", COFFER_TEE_POLICY_MAX_SIM_KEYS);
	json_array_foreach(arr, i, e) {
		if (!hex_lc(json_string_value(e), p->sim_keys[i], 32))
			return coffer_errf(COFFER_E_FORMAT, "verification.sim_platform_keys"
			    "[%zu]: not a SHA-256 fingerprint (64 lower-case hex digits)", i);
		for (size_t k = 0; k < i; k++)
			if (memcmp(p->sim_keys[k], p->sim_keys[i], 32) == 0)
				return coffer_errf(COFFER_E_FORMAT, "verification."
				    "sim_platform_keys[%zu]: listed twice", i);
		p->n_sim_keys = i + 1;
	}
	return 0;
}

static const char *const top_keys[] = {
	"version", "allow_debug", "intel", "snp", "tdx", "allow_missing_crl",
	"sim_platform_keys", NULL,
};
static const char *const intel_keys[] = {
	"tcb_statuses", "min_tcb_evaluation_data_number", "allow_missing_collateral",
	NULL,
};
static const char *const snp_keys[] = {
	"min_tcb", "max_vmpl", "allow_smt", "allow_migration_agent", NULL,
};
static const char *const tcb_keys[] = {
	"bootloader", "tee", "snp", "microcode", "fmc", NULL,
};
static const char *const tdx_keys[] = { "attributes_mask", "attributes", NULL };

static int
get_u8(const json_t *o, const char *ctx, const char *key, uint8_t *out)
{
	uint32_t v = *out;
	int r;

	if ((r = get_u32(o, ctx, key, 255, &v)) != 0)
		return r;
	*out = (uint8_t)v;
	return 0;
}

static int
parse_doc(const json_t *doc, struct coffer_tee_policy *p)
{
	json_t *intel, *snp, *tcb, *tdx, *arr = NULL;
	int64_t version;
	int r, has_mask = 0, has_value = 0;

	/* V1-V3 (V3: integers are integers, never 1.0) */
	if (!json_is_object(doc))
		return coffer_errf(COFFER_E_FORMAT, "verification: not a JSON object");
	if ((r = coffer_json_check_keys(doc, "verification", top_keys)) != 0 ||
	    (r = tee_json_no_nulls(doc, "verification")) != 0 ||
	    (r = coffer_json_no_reals(doc, "verification")) != 0 ||
	    (r = coffer_json_get_int(doc, "verification", "version", 1, 0, 1 << 20,
	    &version)) != 0)
		return r;
	if (version != COFFER_TEE_POLICY_VERSION)
		return coffer_errf(COFFER_E_VERSION, "verification.version %lld is not "
		    "supported (1)", (long long)version);
	if ((r = get_flag(doc, "verification", "allow_debug", &p->allow_debug)) != 0 ||
	    (r = get_flag(doc, "verification", "allow_missing_crl",
	    &p->allow_missing_crl)) != 0)
		return r;
	/* V4-V5 */
	if ((r = sub_object(doc, "verification", "intel", intel_keys, &intel)) != 0)
		return r;
	if (intel != NULL) {
		if ((r = coffer_json_get_arr(intel, "verification.intel", "tcb_statuses",
		    0, &arr)) != 0 ||
		    (arr != NULL && (r = parse_statuses(arr, &p->intel_tcb_statuses)) != 0) ||
		    (r = get_u32(intel, "verification.intel",
		    "min_tcb_evaluation_data_number", UINT32_MAX,
		    &p->min_tcb_evaluation_data_number)) != 0 ||
		    (r = get_flag(intel, "verification.intel", "allow_missing_collateral",
		    &p->allow_missing_collateral)) != 0)
			return r;
	}
	/* V6-V7 */
	if ((r = sub_object(doc, "verification", "snp", snp_keys, &snp)) != 0)
		return r;
	if (snp != NULL) {
		if ((r = sub_object(snp, "verification.snp", "min_tcb", tcb_keys, &tcb)) != 0)
			return r;
		if (tcb != NULL &&
		    ((r = get_u8(tcb, "verification.snp.min_tcb", "bootloader",
		    &p->snp_min_tcb.bootloader)) != 0 ||
		    (r = get_u8(tcb, "verification.snp.min_tcb", "tee",
		    &p->snp_min_tcb.tee)) != 0 ||
		    (r = get_u8(tcb, "verification.snp.min_tcb", "snp",
		    &p->snp_min_tcb.snp)) != 0 ||
		    (r = get_u8(tcb, "verification.snp.min_tcb", "microcode",
		    &p->snp_min_tcb.microcode)) != 0 ||
		    (r = get_u8(tcb, "verification.snp.min_tcb", "fmc",
		    &p->snp_min_tcb.fmc)) != 0))
			return r;
		if ((r = get_u32(snp, "verification.snp", "max_vmpl", 3,
		    &p->snp_max_vmpl)) != 0 ||
		    (r = get_flag(snp, "verification.snp", "allow_smt", &p->snp_allow_smt)) != 0 ||
		    (r = get_flag(snp, "verification.snp", "allow_migration_agent",
		    &p->snp_allow_migration_agent)) != 0)
			return r;
	}
	/* V8-V9 */
	if ((r = sub_object(doc, "verification", "tdx", tdx_keys, &tdx)) != 0)
		return r;
	if (tdx != NULL) {
		if ((r = tee_json_hex_lc(tdx, "verification.tdx", "attributes_mask", 0,
		    p->tdx_attributes_mask, 8, &has_mask)) != 0 ||
		    (r = tee_json_hex_lc(tdx, "verification.tdx", "attributes", 0,
		    p->tdx_attributes_value, 8, &has_value)) != 0)
			return r;
		if (has_mask != has_value)
			return coffer_errf(COFFER_E_FORMAT, "verification.tdx: attributes "
			    "and attributes_mask go together");
		for (int i = 0; i < 8; i++)
			if (p->tdx_attributes_value[i] & ~p->tdx_attributes_mask[i])
				return coffer_errf(COFFER_E_FORMAT, "verification.tdx.attributes:"
				    " byte %d has bits outside attributes_mask (no TD could "
				    "match)", i);
	}
	/* V10-V11 */
	arr = NULL;
	if ((r = coffer_json_get_arr(doc, "verification", "sim_platform_keys", 0,
	    &arr)) != 0 || (arr != NULL && (r = parse_sim_keys(arr, p)) != 0))
		return r;
	return 0;
}

int
coffer_tee_policy_from_json(const json_t *obj, struct coffer_tee_policy *out)
{
	struct coffer_tee_policy p;
	int r;

	if (obj == NULL || out == NULL)
		return coffer_errf(COFFER_E_INVAL, "verification policy: NULL argument");
	coffer_tee_policy_init(&p);
	if ((r = parse_doc(obj, &p)) == 0)
		*out = p;
	return r;
}

int
coffer_tee_policy_parse(const char *json, size_t len, struct coffer_tee_policy *out)
{
	json_t *doc = NULL;
	int r;

	if (json == NULL || out == NULL)
		return coffer_errf(COFFER_E_INVAL, "verification policy: NULL argument");
	if ((r = coffer_json_parse(json, len, POLICY_MAX_BYTES, POLICY_MAX_DEPTH, &doc)) != 0)
		return coffer_errctx(r, "verification policy");
	r = coffer_tee_policy_from_json(doc, out);
	json_decref(doc);
	return r;
}

static json_t *
hex_str(const uint8_t *p, size_t n)
{
	char h[65];

	coffer_hex_encode(p, n, h);
	return json_string(h);
}

int
coffer_tee_policy_json(const struct coffer_tee_policy *p, char **out)
{
	struct coffer_buf b = COFFER_BUF_INIT(POLICY_MAX_BYTES);
	json_t *o = NULL, *st = json_array(), *keys = json_array();
	uint8_t *data;
	size_t n;
	int r = COFFER_E_NOMEM;

	if (st == NULL || keys == NULL)
		goto out;
	for (int s = COFFER_TCB_UP_TO_DATE; s <= COFFER_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED; s++)
		if ((p->intel_tcb_statuses & BIT(s)) &&
		    json_array_append_new(st, json_string(coffer_tee_tcb_status_name(s))) != 0)
			goto out;
	for (size_t i = 0; i < p->n_sim_keys && i < COFFER_TEE_POLICY_MAX_SIM_KEYS; i++)
		if (json_array_append_new(keys, hex_str(p->sim_keys[i], 32)) != 0)
			goto out;
	o = json_pack("{sI sb sb s{sO sI sb} s{s{si si si si si} sI sb sb} s{so so} sO}",
	    "version", (json_int_t)p->version,
	    "allow_debug", p->allow_debug != 0,
	    "allow_missing_crl", p->allow_missing_crl != 0,
	    "intel", "tcb_statuses", st,
	    "min_tcb_evaluation_data_number", (json_int_t)p->min_tcb_evaluation_data_number,
	    "allow_missing_collateral", p->allow_missing_collateral != 0,
	    "snp", "min_tcb", "bootloader", p->snp_min_tcb.bootloader,
	    "tee", p->snp_min_tcb.tee, "snp", p->snp_min_tcb.snp,
	    "microcode", p->snp_min_tcb.microcode, "fmc", p->snp_min_tcb.fmc,
	    "max_vmpl", (json_int_t)p->snp_max_vmpl,
	    "allow_smt", p->snp_allow_smt != 0,
	    "allow_migration_agent", p->snp_allow_migration_agent != 0,
	    "tdx", "attributes_mask", hex_str(p->tdx_attributes_mask, 8),
	    "attributes", hex_str(p->tdx_attributes_value, 8),
	    "sim_platform_keys", keys);
	if (o == NULL)
		goto out;
	if ((r = coffer_json_dump(o, &b)) != 0 || (r = coffer_buf_detach(&b, &data, &n)) != 0)
		goto out;
	*out = (char *)data;
out:
	json_decref(st);
	json_decref(keys);
	json_decref(o);
	coffer_buf_release(&b);
	return r;
}

/* ------------------------------------------------------------------ */
/* Applying a policy (section 10.4) */

/* P2-P3: an Intel-like TCB status and the TCB Info's evaluation number. */
static void
check_intel(struct tee_vctx *v, const struct coffer_tee_policy *p,
    enum coffer_tee_tcb_status st, uint32_t eval_num)
{
	const struct coffer_tee_claims *c = v->c;

	if (st == COFFER_TCB_NOT_EVALUATED) {
		/* Only with missing collateral allowed: the platform is not
		 * judged, but a QE judged alone still counts. */
		if (coffer_tee_claims_has_reason(c, "qe.out_of_date") &&
		    !(p->intel_tcb_statuses & BIT(COFFER_TCB_OUT_OF_DATE)))
			tee_fail(v, COFFER_E_POLICY, "policy.tcb_status", "the QE is "
			    "OutOfDate, a status the policy does not accept");
	} else if (st != COFFER_TCB_REVOKED && st != COFFER_TCB_NOT_SUPPORTED &&
	    !(p->intel_tcb_statuses & BIT(st))) {
		tee_fail(v, COFFER_E_POLICY, "policy.tcb_status", "TCB status %s is "
		    "not one the policy accepts", coffer_tee_tcb_status_name(st));
	}
	if (p->min_tcb_evaluation_data_number == 0)
		return;
	if (st == COFFER_TCB_NOT_EVALUATED)
		tee_fail(v, COFFER_E_POLICY, "policy.tcb_evaluation_number", "the "
		    "policy requires tcbEvaluationDataNumber >= %u and no TCB Info "
		    "was used", p->min_tcb_evaluation_data_number);
	else if (eval_num < p->min_tcb_evaluation_data_number)
		tee_fail(v, COFFER_E_POLICY, "policy.tcb_evaluation_number", "the TCB "
		    "Info's tcbEvaluationDataNumber %u is below the policy's minimum %u",
		    eval_num, p->min_tcb_evaluation_data_number);
}

/* P4-P7 */
static void
check_snp(struct tee_vctx *v, const struct coffer_tee_policy *p,
    const struct coffer_tee_snp_tcb *t, int has_fmc, uint32_t vmpl, int smt, int ma)
{
	const struct coffer_tee_snp_tcb *m = &p->snp_min_tcb;

	if (t->bootloader < m->bootloader || t->tee < m->tee || t->snp < m->snp ||
	    t->microcode < m->microcode || (has_fmc && t->fmc < m->fmc))
		tee_fail(v, COFFER_E_POLICY, "policy.snp_tcb", "the reported TCB "
		    "(bootloader %u, tee %u, snp %u, microcode %u%s) is below the "
		    "policy's minimum (%u, %u, %u, %u)", t->bootloader, t->tee, t->snp,
		    t->microcode, has_fmc ? ", with fmc" : "", m->bootloader, m->tee,
		    m->snp, m->microcode);
	if (vmpl > p->snp_max_vmpl)
		tee_fail(v, COFFER_E_POLICY, "policy.snp_vmpl", "the report comes from "
		    "VMPL %u; the policy allows at most %u", vmpl, p->snp_max_vmpl);
	if (smt && !p->snp_allow_smt)
		tee_fail(v, COFFER_E_POLICY, "policy.snp_smt", "the guest policy "
		    "allows SMT; this policy does not");
	if (ma && !p->snp_allow_migration_agent)
		tee_fail(v, COFFER_E_POLICY, "policy.snp_migration_agent", "the guest "
		    "policy allows a migration agent (MIGRATE_MA); this policy does not");
}

/* P8 */
static void
check_tdx(struct tee_vctx *v, const struct coffer_tee_policy *p, const uint8_t attr[8])
{
	char a[17], m[17], w[17];

	for (int i = 0; i < 8; i++) {
		if ((attr[i] & p->tdx_attributes_mask[i]) == p->tdx_attributes_value[i])
			continue;
		coffer_hex_encode(attr, 8, a);
		coffer_hex_encode(p->tdx_attributes_mask, 8, m);
		coffer_hex_encode(p->tdx_attributes_value, 8, w);
		tee_fail(v, COFFER_E_POLICY, "policy.tdx_attributes", "TDATTRIBUTES %s "
		    "& mask %s is not the policy's %s", a, m, w);
		return;
	}
}

int
tee_policy_check(const struct coffer_tee_policy *p)
{
	if (p->version != COFFER_TEE_POLICY_VERSION || p->size < sizeof(*p))
		return coffer_errf(COFFER_E_VERSION, "verification policy: version %u "
		    "of %u bytes is not supported (version %u, %zu bytes)", p->version,
		    p->size, COFFER_TEE_POLICY_VERSION, sizeof(*p));
	if (p->n_sim_keys > COFFER_TEE_POLICY_MAX_SIM_KEYS || p->snp_max_vmpl > 3)
		return coffer_errf(COFFER_E_INVAL, "verification policy: %zu sim keys, "
		    "max VMPL %u", p->n_sim_keys, p->snp_max_vmpl);
	return 0;
}

void
tee_policy_apply(struct tee_vctx *v)
{
	const struct coffer_tee_policy *p = v->policy;
	const struct coffer_tee_claims *c = v->c;
	struct coffer_tee_snp_tcb t;

	if (p == NULL)
		return;
	/* P1 */
	if (c->debug && !p->allow_debug)
		tee_fail(v, COFFER_E_POLICY, "policy.debug", "a debug %s: the host can "
		    "read and change its memory, and the policy refuses debug",
		    c->tee == COFFER_TEE_SGX ? "enclave" : c->tee == COFFER_TEE_TDX ?
		    "TD" : c->tee == COFFER_TEE_SEV_SNP ? "guest" : "simulated TEE");
	switch (c->tee) {
	case COFFER_TEE_SGX:
		check_intel(v, p, c->tcb_status, c->intel.tcb_eval_data_number);
		break;
	case COFFER_TEE_TDX:
		check_intel(v, p, c->tcb_status, c->intel.tcb_eval_data_number);
		check_tdx(v, p, c->tdx.td_attributes);
		break;
	case COFFER_TEE_SEV_SNP:
		t.bootloader = c->snp.tcb_bootloader;
		t.tee = c->snp.tcb_tee;
		t.snp = c->snp.tcb_snp;
		t.microcode = c->snp.tcb_microcode;
		t.fmc = c->snp.tcb_fmc;
		check_snp(v, p, &t, strcmp(c->snp.product, "Turin") == 0, c->snp.vmpl,
		    c->snp.policy_smt, c->snp.policy_migrate_ma);
		break;
	case COFFER_TEE_SIM:
		/* Sim evidence meets P2-P8 with its simulated values; its key
		 * (P9) was judged when it was read (sim.c). */
		check_intel(v, p, c->tcb_status, c->sim.tcb_eval_data_number);
		t.bootloader = c->sim.tcb_bootloader;
		t.tee = c->sim.tcb_tee;
		t.snp = c->sim.tcb_snp;
		t.microcode = c->sim.tcb_microcode;
		t.fmc = c->sim.tcb_fmc;
		check_snp(v, p, &t, 1, c->sim.vmpl, c->sim.smt, c->sim.migration_agent);
		check_tdx(v, p, c->sim.td_attributes);
		break;
	default:
		break;
	}
}
