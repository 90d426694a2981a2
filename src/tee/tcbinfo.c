// SPDX-License-Identifier: Apache-2.0
// Intel TCB Info (v2, v3; SGX and TDX) and Enclave Identity (v2) JSON, and
// the TCB status they give a platform: the TCB-level matching and status
// convergence of Intel's Quote Verification Library (QuoteVerifier.cpp,
// TcbLevelCheck.cpp, TdxModuleCheck.cpp, TDRelaunchCheck.cpp; section
// numbers 4.1.2.4.x below are theirs). doc/format/evidence.md section 5.
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "tee/tee_int.h"

#define MAX_LEVELS 512
#define MAX_ADVISORIES 256
#define MAX_MODULES 32

static int
get_hex(const json_t *o, const char *ctx, const char *key, uint8_t *out, size_t n)
{
	const char *s;
	size_t got;
	int r;

	if ((r = coffer_json_get_str(o, ctx, key, 1, &s)) != 0)
		return r;
	if (strlen(s) != 2 * n)
		return coffer_errf(COFFER_E_FORMAT, "%s.%s: %zu hex digits, expected %zu",
		    ctx, key, strlen(s), 2 * n);
	if (coffer_hex_decode(s, 2 * n, out, n, &got) != 0)
		return coffer_errf(COFFER_E_FORMAT, "%s.%s: not hex", ctx, key);
	return 0;
}

static int
get_date(const json_t *o, const char *ctx, const char *key, int64_t *out)
{
	const char *s;
	int r;

	if ((r = coffer_json_get_str(o, ctx, key, 1, &s)) != 0)
		return r;
	if (coffer_time_parse(s, out) != 0)
		return coffer_errf(COFFER_E_FORMAT, "%s.%s: not an RFC 3339 date: %s",
		    ctx, key, s);
	return 0;
}

static int
get_status(const json_t *o, const char *ctx, enum coffer_tee_tcb_status *out)
{
	const char *s;
	int r, st;

	if ((r = coffer_json_get_str(o, ctx, "tcbStatus", 1, &s)) != 0)
		return r;
	if ((st = tee_tcb_status_parse(s)) < 0)
		return coffer_errf(COFFER_E_FORMAT, "%s.tcbStatus: unknown status \"%s\"",
		    ctx, s);
	*out = (enum coffer_tee_tcb_status)st;
	return 0;
}

static int
get_advisories(const json_t *o, const char *ctx, struct tee_advisories *out)
{
	json_t *arr = NULL, *e;
	size_t i;
	int r;

	if ((r = coffer_json_get_arr(o, ctx, "advisoryIDs", 0, &arr)) != 0)
		return r;
	if (arr == NULL || json_array_size(arr) == 0)
		return 0;
	if (json_array_size(arr) > MAX_ADVISORIES)
		return coffer_errf(COFFER_E_LIMIT, "%s.advisoryIDs: more than %d",
		    ctx, MAX_ADVISORIES);
	if ((out->ids = coffer_calloc(json_array_size(arr), sizeof(*out->ids))) == NULL)
		return COFFER_E_NOMEM;
	json_array_foreach(arr, i, e) {
		const char *s = json_string_value(e);

		if (s == NULL || strlen(s) == 0 || strlen(s) >= sizeof(out->ids[0]))
			return coffer_errf(COFFER_E_FORMAT, "%s.advisoryIDs[%zu]: not an "
			    "advisory id", ctx, i);
		snprintf(out->ids[i], sizeof(out->ids[0]), "%s", s);
		out->n++;
	}
	return 0;
}

static int
get_u(const json_t *o, const char *ctx, const char *key, int64_t max, uint64_t *out)
{
	int64_t v;
	int r;

	if ((r = coffer_json_get_int(o, ctx, key, 1, 0, max, &v)) != 0)
		return r;
	*out = (uint64_t)v;
	return 0;
}

static int
parse_isv_levels(const json_t *o, const char *ctx, struct tee_isv_level **out,
    size_t *n)
{
	json_t *arr, *e, *tcb;
	char sub[96];
	size_t i;
	uint64_t u;
	int r;

	if ((r = coffer_json_get_arr(o, ctx, "tcbLevels", 1, &arr)) != 0)
		return r;
	if (json_array_size(arr) == 0 || json_array_size(arr) > MAX_LEVELS)
		return coffer_errf(COFFER_E_FORMAT, "%s.tcbLevels: %zu levels", ctx,
		    json_array_size(arr));
	if ((*out = coffer_calloc(json_array_size(arr), sizeof(**out))) == NULL)
		return COFFER_E_NOMEM;
	json_array_foreach(arr, i, e) {
		struct tee_isv_level *l = &(*out)[i];

		snprintf(sub, sizeof(sub), "%s.tcbLevels[%zu]", ctx, i);
		*n = i + 1;
		if (!json_is_object(e))
			return coffer_errf(COFFER_E_FORMAT, "%s: not an object", sub);
		if ((r = coffer_json_get_obj(e, sub, "tcb", 1, &tcb)) != 0 ||
		    (r = get_u(tcb, sub, "isvsvn", 65535, &u)) != 0 ||
		    (r = get_date(e, sub, "tcbDate", &l->date)) != 0 ||
		    (r = get_status(e, sub, &l->status)) != 0 ||
		    (r = get_advisories(e, sub, &l->adv)) != 0)
			return r;
		l->isvsvn = (uint16_t)u;
	}
	return 0;
}

static void
isv_levels_free(struct tee_isv_level *l, size_t n)
{
	for (size_t i = 0; l != NULL && i < n; i++)
		free(l[i].adv.ids);
	free(l);
}

/* 16 component SVNs: v3 "sgxtcbcomponents"/"tdxtcbcomponents" arrays. */
static int
parse_components(const json_t *tcb, const char *ctx, const char *key, uint8_t out[16])
{
	json_t *arr, *e;
	size_t i;
	uint64_t u;
	int r;

	if ((r = coffer_json_get_arr(tcb, ctx, key, 1, &arr)) != 0)
		return r;
	if (json_array_size(arr) != 16)
		return coffer_errf(COFFER_E_FORMAT, "%s.%s: %zu components, expected 16",
		    ctx, key, json_array_size(arr));
	json_array_foreach(arr, i, e) {
		char sub[128];

		snprintf(sub, sizeof(sub), "%s.%s[%zu]", ctx, key, i);
		if (!json_is_object(e))
			return coffer_errf(COFFER_E_FORMAT, "%s: not an object", sub);
		if ((r = get_u(e, sub, "svn", 255, &u)) != 0)
			return r;
		out[i] = (uint8_t)u;
	}
	return 0;
}

static int
parse_tcb_levels(const json_t *o, struct tee_tcb_info *t)
{
	json_t *arr, *e, *tcb;
	char sub[64];
	size_t i;
	uint64_t u;
	int r;

	if ((r = coffer_json_get_arr(o, "tcbInfo", "tcbLevels", 1, &arr)) != 0)
		return r;
	if (json_array_size(arr) == 0 || json_array_size(arr) > MAX_LEVELS)
		return coffer_errf(COFFER_E_FORMAT, "tcbInfo.tcbLevels: %zu levels",
		    json_array_size(arr));
	if ((t->levels = coffer_calloc(json_array_size(arr), sizeof(*t->levels))) == NULL)
		return COFFER_E_NOMEM;
	json_array_foreach(arr, i, e) {
		struct tee_tcb_level *l = &t->levels[i];

		snprintf(sub, sizeof(sub), "tcbInfo.tcbLevels[%zu]", i);
		t->n_levels = i + 1;
		if (!json_is_object(e))
			return coffer_errf(COFFER_E_FORMAT, "%s: not an object", sub);
		if ((r = coffer_json_get_obj(e, sub, "tcb", 1, &tcb)) != 0)
			return r;
		if (t->version >= 3) {
			if ((r = parse_components(tcb, sub, "sgxtcbcomponents", l->sgx_comp)) != 0)
				return r;
			if (t->tdx) {
				if ((r = parse_components(tcb, sub, "tdxtcbcomponents",
				    l->tdx_comp)) != 0)
					return r;
				l->has_tdx = 1;
			}
		} else {
			for (int k = 0; k < 16; k++) {
				char key[24];

				snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", k + 1);
				if ((r = get_u(tcb, sub, key, 255, &u)) != 0)
					return r;
				l->sgx_comp[k] = (uint8_t)u;
			}
		}
		if ((r = get_u(tcb, sub, "pcesvn", 65535, &u)) != 0 ||
		    (r = get_date(e, sub, "tcbDate", &l->date)) != 0 ||
		    (r = get_status(e, sub, &l->status)) != 0 ||
		    (r = get_advisories(e, sub, &l->adv)) != 0)
			return r;
		l->pcesvn = (uint16_t)u;
	}
	return 0;
}

static int
parse_modules(const json_t *o, struct tee_tcb_info *t)
{
	json_t *mod = NULL, *arr = NULL, *e;
	char sub[64];
	size_t i;
	int r;

	if ((r = coffer_json_get_obj(o, "tcbInfo", "tdxModule", 0, &mod)) != 0)
		return r;
	if (mod != NULL) {
		if ((r = get_hex(mod, "tcbInfo.tdxModule", "mrsigner", t->module_mrsigner, 48)) != 0 ||
		    (r = get_hex(mod, "tcbInfo.tdxModule", "attributes", t->module_attributes, 8)) != 0 ||
		    (r = get_hex(mod, "tcbInfo.tdxModule", "attributesMask", t->module_mask, 8)) != 0)
			return r;
		t->has_module = 1;
	}
	if ((r = coffer_json_get_arr(o, "tcbInfo", "tdxModuleIdentities", 0, &arr)) != 0)
		return r;
	if (arr == NULL || json_array_size(arr) == 0)
		return 0;
	if (json_array_size(arr) > MAX_MODULES)
		return coffer_errf(COFFER_E_LIMIT, "tcbInfo.tdxModuleIdentities: more "
		    "than %d", MAX_MODULES);
	if ((t->modules = coffer_calloc(json_array_size(arr), sizeof(*t->modules))) == NULL)
		return COFFER_E_NOMEM;
	json_array_foreach(arr, i, e) {
		struct tee_tdx_module_id *m = &t->modules[i];
		const char *id;

		snprintf(sub, sizeof(sub), "tcbInfo.tdxModuleIdentities[%zu]", i);
		t->n_modules = i + 1;
		if (!json_is_object(e))
			return coffer_errf(COFFER_E_FORMAT, "%s: not an object", sub);
		if ((r = coffer_json_get_str(e, sub, "id", 1, &id)) != 0)
			return r;
		if (strlen(id) >= sizeof(m->id))
			return coffer_errf(COFFER_E_FORMAT, "%s.id: too long", sub);
		snprintf(m->id, sizeof(m->id), "%s", id);
		if ((r = get_hex(e, sub, "mrsigner", m->mrsigner, 48)) != 0 ||
		    (r = get_hex(e, sub, "attributes", m->attributes, 8)) != 0 ||
		    (r = get_hex(e, sub, "attributesMask", m->attributes_mask, 8)) != 0 ||
		    (r = parse_isv_levels(e, sub, &m->levels, &m->n_levels)) != 0)
			return r;
	}
	return 0;
}

void
tee_tcb_info_release(struct tee_tcb_info *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; t->levels != NULL && i < t->n_levels; i++)
		free(t->levels[i].adv.ids);
	free(t->levels);
	for (size_t i = 0; t->modules != NULL && i < t->n_modules; i++)
		isv_levels_free(t->modules[i].levels, t->modules[i].n_levels);
	free(t->modules);
	memset(t, 0, sizeof(*t));
}

int
tee_tcb_info_parse(const char *text, size_t len, struct tee_tcb_info *out)
{
	struct tee_tcb_info t;
	json_t *o = NULL;
	const char *id = NULL;
	int64_t v;
	uint64_t u;
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = coffer_json_parse(text, len, 1 << 20, 16, &o)) != 0)
		return coffer_errctx(r, "tcbInfo");
	if (!json_is_object(o)) {
		r = coffer_errf(COFFER_E_FORMAT, "tcbInfo: not an object");
		goto out;
	}
	if ((r = coffer_json_get_int(o, "tcbInfo", "version", 1, 0, 100, &v)) != 0)
		goto out;
	if (v != 2 && v != 3) {
		r = coffer_errf(COFFER_E_VERSION, "tcbInfo.version %lld: only 2 and 3 "
		    "are supported", (long long)v);
		goto out;
	}
	t.version = (int)v;
	if ((r = coffer_json_get_str(o, "tcbInfo", "id", t.version >= 3, &id)) != 0)
		goto out;
	if (id != NULL && strcmp(id, "TDX") == 0) {
		t.tdx = 1;
	} else if (id != NULL && strcmp(id, "SGX") != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "tcbInfo.id \"%s\": not SGX or TDX", id);
		goto out;
	}
	if ((r = coffer_json_get_int(o, "tcbInfo", "tcbType", 1, 0, 100, &v)) != 0)
		goto out;
	if (v != 0) {
		r = coffer_errf(COFFER_E_VERSION, "tcbInfo.tcbType %lld: only 0 is "
		    "defined", (long long)v);
		goto out;
	}
	if ((r = get_date(o, "tcbInfo", "issueDate", &t.issue_date)) != 0 ||
	    (r = get_date(o, "tcbInfo", "nextUpdate", &t.next_update)) != 0 ||
	    (r = get_hex(o, "tcbInfo", "fmspc", t.fmspc, 6)) != 0 ||
	    (r = get_hex(o, "tcbInfo", "pceId", t.pceid, 2)) != 0 ||
	    (r = get_u(o, "tcbInfo", "tcbEvaluationDataNumber", UINT32_MAX, &u)) != 0)
		goto out;
	t.eval_num = (uint32_t)u;
	if (t.tdx && (r = parse_modules(o, &t)) != 0)
		goto out;
	if (t.tdx && !t.has_module) {
		r = coffer_errf(COFFER_E_FORMAT, "tcbInfo.tdxModule: missing in a TDX "
		    "TCB Info");
		goto out;
	}
	if ((r = parse_tcb_levels(o, &t)) != 0)
		goto out;
	*out = t;
	memset(&t, 0, sizeof(t));
out:
	tee_tcb_info_release(&t);
	json_decref(o);
	return r;
}

void
tee_identity_release(struct tee_enclave_identity *e)
{
	if (e == NULL)
		return;
	isv_levels_free(e->levels, e->n_levels);
	memset(e, 0, sizeof(*e));
}

int
tee_identity_parse(const char *text, size_t len, struct tee_enclave_identity *out)
{
	struct tee_enclave_identity e;
	json_t *o = NULL;
	const char *id;
	uint8_t b4[4];
	int64_t v;
	uint64_t u;
	int r;

	memset(&e, 0, sizeof(e));
	if ((r = coffer_json_parse(text, len, 1 << 20, 16, &o)) != 0)
		return coffer_errctx(r, "enclaveIdentity");
	if (!json_is_object(o)) {
		r = coffer_errf(COFFER_E_FORMAT, "enclaveIdentity: not an object");
		goto out;
	}
	if ((r = coffer_json_get_int(o, "enclaveIdentity", "version", 1, 0, 100, &v)) != 0)
		goto out;
	if (v != 2) {
		r = coffer_errf(COFFER_E_VERSION, "enclaveIdentity.version %lld: only "
		    "2 is supported", (long long)v);
		goto out;
	}
	if ((r = coffer_json_get_str(o, "enclaveIdentity", "id", 1, &id)) != 0)
		goto out;
	if (strcmp(id, "QE") != 0 && strcmp(id, "TD_QE") != 0 && strcmp(id, "QVE") != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "enclaveIdentity.id \"%s\": not QE, "
		    "TD_QE or QVE", id);
		goto out;
	}
	snprintf(e.id, sizeof(e.id), "%s", id);
	if ((r = get_date(o, "enclaveIdentity", "issueDate", &e.issue_date)) != 0 ||
	    (r = get_date(o, "enclaveIdentity", "nextUpdate", &e.next_update)) != 0 ||
	    (r = get_u(o, "enclaveIdentity", "tcbEvaluationDataNumber", UINT32_MAX, &u)) != 0)
		goto out;
	e.eval_num = (uint32_t)u;
	/* miscselect is a little-endian 32-bit field of the report, written
	 * in the JSON as its 4 bytes in report order. */
	if ((r = get_hex(o, "enclaveIdentity", "miscselect", b4, 4)) != 0)
		goto out;
	e.miscselect = (uint32_t)b4[0] | (uint32_t)b4[1] << 8 |
	    (uint32_t)b4[2] << 16 | (uint32_t)b4[3] << 24;
	if ((r = get_hex(o, "enclaveIdentity", "miscselectMask", b4, 4)) != 0)
		goto out;
	e.miscselect_mask = (uint32_t)b4[0] | (uint32_t)b4[1] << 8 |
	    (uint32_t)b4[2] << 16 | (uint32_t)b4[3] << 24;
	if ((r = get_hex(o, "enclaveIdentity", "attributes", e.attributes, 16)) != 0 ||
	    (r = get_hex(o, "enclaveIdentity", "attributesMask", e.attributes_mask, 16)) != 0 ||
	    (r = get_hex(o, "enclaveIdentity", "mrsigner", e.mrsigner, 32)) != 0 ||
	    (r = get_u(o, "enclaveIdentity", "isvprodid", 65535, &u)) != 0)
		goto out;
	e.isvprodid = (uint16_t)u;
	if ((r = parse_isv_levels(o, "enclaveIdentity", &e.levels, &e.n_levels)) != 0)
		goto out;
	*out = e;
	memset(&e, 0, sizeof(e));
out:
	tee_identity_release(&e);
	json_decref(o);
	return r;
}

/* ------------------------------------------------------------------ */
/* Evaluation */

/* QVL convergeTcbStatusWithQeTcbStatus / ...WithTdxModuleStatus: an
 * out-of-date QE or TDX module makes an otherwise current platform
 * out of date; a revoked one makes it revoked. */
static enum coffer_tee_tcb_status
converge(enum coffer_tee_tcb_status platform, enum coffer_tee_tcb_status part)
{
	if (part == COFFER_TCB_OUT_OF_DATE) {
		if (platform == COFFER_TCB_UP_TO_DATE ||
		    platform == COFFER_TCB_SW_HARDENING_NEEDED)
			return COFFER_TCB_OUT_OF_DATE;
		if (platform == COFFER_TCB_CONFIGURATION_NEEDED ||
		    platform == COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			return COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	}
	if (part == COFFER_TCB_REVOKED)
		return COFFER_TCB_REVOKED;
	if (part == COFFER_TCB_NOT_SUPPORTED)
		return COFFER_TCB_NOT_SUPPORTED;
	return platform;
}

static int
config_needed(enum coffer_tee_tcb_status s)
{
	return s == COFFER_TCB_CONFIGURATION_NEEDED ||
	    s == COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
	    s == COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
	    s == COFFER_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

static const struct tee_tdx_module_id *
find_module(const struct tee_tcb_info *ti, uint8_t version)
{
	char want[16];

	snprintf(want, sizeof(want), "TDX_%02X", version);
	for (size_t i = 0; i < ti->n_modules; i++)
		if (strcasecmp(ti->modules[i].id, want) == 0)
			return &ti->modules[i];
	return NULL;
}

static const struct tee_isv_level *
match_isv(const struct tee_isv_level *l, size_t n, uint16_t isvsvn)
{
	for (size_t i = 0; i < n; i++)
		if (isvsvn >= l[i].isvsvn)
			return &l[i];
	return NULL;
}

/* An identity level's status as the QVL's QE check sees it. */
static enum coffer_tee_tcb_status
isv_status(const struct tee_isv_level *l)
{
	if (l == NULL)
		return COFFER_TCB_NOT_SUPPORTED;
	if (l->status == COFFER_TCB_UP_TO_DATE || l->status == COFFER_TCB_REVOKED)
		return l->status;
	return COFFER_TCB_OUT_OF_DATE;
}

static void
add_advisories(struct tee_vctx *v, const struct tee_advisories *a)
{
	for (size_t i = 0; i < a->n; i++)
		tee_advisory(v, a->ids[i]);
}

static void
hexs(const uint8_t *p, size_t n, char *out)
{
	coffer_hex_encode(p, n, out);
}

/* 4.1.2.4.15: the QE report against the QE Identity. Returns the QE's
 * status, or 0 (after recording the mismatch) if it is another enclave. */
static int
check_qe(struct tee_vctx *v, const struct tee_enclave_identity *qe,
    const struct tee_tcb_input *in, enum coffer_tee_tcb_status *st,
    const struct tee_isv_level **lvl)
{
	char a[97], b[97];

	if ((in->qe_miscselect & qe->miscselect_mask) != qe->miscselect) {
		tee_fail(v, COFFER_E_POLICY, "qe.identity_mismatch", "QE report "
		    "MISCSELECT %08x & mask %08x != %08x of the %s identity",
		    in->qe_miscselect, qe->miscselect_mask, qe->miscselect, qe->id);
		return 0;
	}
	for (int i = 0; i < 16; i++) {
		if ((in->qe_attributes[i] & qe->attributes_mask[i]) != qe->attributes[i]) {
			hexs(in->qe_attributes, 16, a);
			hexs(qe->attributes, 16, b);
			tee_fail(v, COFFER_E_POLICY, "qe.identity_mismatch", "QE report "
			    "ATTRIBUTES %s do not match %s under the %s identity's mask",
			    a, b, qe->id);
			return 0;
		}
	}
	if (memcmp(in->qe_mrsigner, qe->mrsigner, 32) != 0) {
		hexs(in->qe_mrsigner, 32, a);
		hexs(qe->mrsigner, 32, b);
		tee_fail(v, COFFER_E_POLICY, "qe.identity_mismatch", "QE report "
		    "MRSIGNER %s is not the %s identity's %s", a, qe->id, b);
		return 0;
	}
	if (in->qe_isvprodid != qe->isvprodid) {
		tee_fail(v, COFFER_E_POLICY, "qe.identity_mismatch", "QE report "
		    "ISVPRODID %u is not the %s identity's %u", in->qe_isvprodid,
		    qe->id, qe->isvprodid);
		return 0;
	}
	*lvl = match_isv(qe->levels, qe->n_levels, in->qe_isvsvn);
	*st = isv_status(*lvl);
	return 1;
}

/* 4.1.2.4.11: MRSIGNERSEAM and SEAM attributes against the TDX module
 * (or the module identity for the module's major version). */
static int
check_tdx_module(struct tee_vctx *v, const struct tee_tcb_info *ti,
    const struct tee_tcb_input *in)
{
	const uint8_t *mrsigner = ti->module_mrsigner, *attr = ti->module_attributes,
	    *mask = ti->module_mask;
	char a[97], b[97];

	if (in->quote_version > 3 && in->tee_tcb_svn[1] > 0) {
		const struct tee_tdx_module_id *m = find_module(ti, in->tee_tcb_svn[1]);

		if (m == NULL) {
			tee_fail(v, COFFER_E_POLICY, "tdx.module_mismatch", "the TCB Info "
			    "has no TDX module identity TDX_%02X for the TD's module "
			    "version %u", in->tee_tcb_svn[1], in->tee_tcb_svn[1]);
			return 0;
		}
		mrsigner = m->mrsigner;
		attr = m->attributes;
		mask = m->attributes_mask;
	}
	if (memcmp(in->mrsigner_seam, mrsigner, 48) != 0) {
		hexs(in->mrsigner_seam, 48, a);
		hexs(mrsigner, 48, b);
		tee_fail(v, COFFER_E_POLICY, "tdx.module_mismatch", "MRSIGNERSEAM %s is "
		    "not the TCB Info's TDX module signer %s", a, b);
		return 0;
	}
	for (int i = 0; i < 8; i++) {
		if ((in->seam_attributes[i] & mask[i]) != attr[i]) {
			hexs(in->seam_attributes, 8, a);
			hexs(attr, 8, b);
			tee_fail(v, COFFER_E_POLICY, "tdx.module_mismatch", "SEAM "
			    "attributes %s do not match the TDX module's %s", a, b);
			return 0;
		}
	}
	return 1;
}

static int
sgx_level_ok(const struct tee_tcb_level *l, const struct tee_tcb_input *in)
{
	for (int i = 0; i < 16; i++)
		if (in->comp_svn[i] < l->sgx_comp[i])
			return 0;
	return in->pcesvn >= l->pcesvn;
}

/* isTdxTcbHigherOrEqual: with a TDX module version (TEE_TCB_SVN[1] > 0)
 * the first two bytes are judged by the module identity instead. */
static int
tdx_level_ok(const struct tee_tcb_level *l, const struct tee_tcb_input *in)
{
	for (int i = in->tee_tcb_svn[1] > 0 ? 2 : 0; i < 16; i++)
		if (in->tee_tcb_svn[i] < l->tdx_comp[i])
			return 0;
	return 1;
}

/* TDRelaunchCheck (4.1.2.4.17.4.3): a TD 1.5 whose module has since been
 * updated in place only needs a relaunch. A TEE_TCB_SVN2 naming a module
 * version the TCB Info has no identity for is a module mismatch, as in
 * the QVL (STATUS_TDX_MODULE_MISMATCH), not the prior status. */
static enum coffer_tee_tcb_status
relaunch(struct tee_vctx *v, const struct tee_tcb_info *ti,
    const struct tee_tcb_input *in, enum coffer_tee_tcb_status sgx,
    enum coffer_tee_tcb_status tdx, enum coffer_tee_tcb_status module, int have_qe,
    enum coffer_tee_tcb_status qe)
{
	const struct tee_tcb_level *latest = &ti->levels[0];
	int ok = 0;

	if (have_qe && qe != COFFER_TCB_UP_TO_DATE)
		return tdx;
	if (sgx != COFFER_TCB_UP_TO_DATE && sgx != COFFER_TCB_SW_HARDENING_NEEDED &&
	    sgx != COFFER_TCB_CONFIGURATION_NEEDED &&
	    sgx != COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
		return tdx;
	if ((tdx != COFFER_TCB_OUT_OF_DATE &&
	    tdx != COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) ||
	    module != COFFER_TCB_OUT_OF_DATE)
		return tdx;
	if (in->tee_tcb_svn2[1] == 0) {
		ok = in->tee_tcb_svn2[0] >= latest->tdx_comp[0] &&
		    in->tee_tcb_svn2[2] >= latest->tdx_comp[2];
	} else {
		const struct tee_tdx_module_id *m = find_module(ti, in->tee_tcb_svn2[1]);

		if (m == NULL) {
			tee_fail(v, COFFER_E_POLICY, "tdx.module_mismatch", "TEE_TCB_SVN2 "
			    "names TDX module version %u, and the TCB Info has no module "
			    "identity TDX_%02X", in->tee_tcb_svn2[1], in->tee_tcb_svn2[1]);
			return COFFER_TCB_NOT_SUPPORTED;
		}
		if (m->n_levels == 0) {
			tee_fail(v, COFFER_E_POLICY, "tcb.not_supported", "the TDX module "
			    "identity %s has no TCB level", m->id);
			return COFFER_TCB_NOT_SUPPORTED;
		}
		ok = in->tee_tcb_svn2[0] >= m->levels[0].isvsvn &&
		    in->tee_tcb_svn2[2] >= latest->tdx_comp[2];
	}
	if (!ok)
		return tdx;
	return config_needed(sgx) || config_needed(tdx) ?
	    COFFER_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED :
	    COFFER_TCB_TD_RELAUNCH_ADVISED;
}

void
tee_tcb_record_status(struct tee_vctx *v, enum coffer_tee_tcb_status s)
{
	static const struct {
		enum coffer_tee_tcb_status s;
		const char *code, *text;
	} notes[] = {
		{ COFFER_TCB_SW_HARDENING_NEEDED, "tcb.sw_hardening_needed",
		    "the platform is current but the enclave needs software mitigations" },
		{ COFFER_TCB_CONFIGURATION_NEEDED, "tcb.configuration_needed",
		    "the platform needs a configuration change (e.g. BIOS settings)" },
		{ COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
		    "tcb.configuration_and_sw_hardening_needed",
		    "the platform needs a configuration change and software mitigations" },
		{ COFFER_TCB_OUT_OF_DATE, "tcb.out_of_date",
		    "the platform TCB is out of date: a microcode/firmware update is due" },
		{ COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
		    "tcb.out_of_date_configuration_needed",
		    "the platform TCB is out of date and needs a configuration change" },
		{ COFFER_TCB_TD_RELAUNCH_ADVISED, "tcb.td_relaunch_advised",
		    "the TDX module was updated since this TD started: relaunch it" },
		{ COFFER_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
		    "tcb.td_relaunch_advised_configuration_needed",
		    "relaunch the TD; the platform also needs a configuration change" },
	};

	if (s == COFFER_TCB_REVOKED) {
		tee_fail(v, COFFER_E_REVOKED, "tcb.revoked", "the platform's TCB "
		    "level (or its QE or TDX module) is revoked");
		return;
	}
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (notes[i].s == s)
			tee_note(v, notes[i].code, "%s", notes[i].text);
}

enum coffer_tee_tcb_status
tee_tcb_evaluate(struct tee_vctx *v, const struct tee_tcb_info *ti,
    const struct tee_enclave_identity *qe, const struct tee_tcb_input *in)
{
	const struct tee_tcb_level *sgx_lvl = NULL, *tdx_lvl = NULL;
	const struct tee_isv_level *qe_lvl = NULL, *mod_lvl = NULL;
	enum coffer_tee_tcb_status qe_st = COFFER_TCB_UP_TO_DATE, st,
	    mod_st = COFFER_TCB_UP_TO_DATE, sgx_st;
	int have_qe = 0;

	if (in->tdx && !check_tdx_module(v, ti, in))
		return COFFER_TCB_NOT_SUPPORTED;
	if (qe != NULL) {
		if (!check_qe(v, qe, in, &qe_st, &qe_lvl))
			return COFFER_TCB_NOT_SUPPORTED;
		have_qe = 1;
		if (qe_lvl == NULL) {
			tee_fail(v, COFFER_E_POLICY, "tcb.not_supported", "QE ISVSVN %u "
			    "is below every level of the %s identity", in->qe_isvsvn, qe->id);
			return COFFER_TCB_NOT_SUPPORTED;
		}
	}
	/* 4.1.2.4.17.1-3: the first level (highest first, as served) that the
	 * PCK's component SVNs and PCESVN reach; for TDX also TEE_TCB_SVN. */
	for (size_t i = 0; i < ti->n_levels; i++) {
		const struct tee_tcb_level *l = &ti->levels[i];

		if (!sgx_level_ok(l, in))
			continue;
		if (sgx_lvl == NULL)
			sgx_lvl = l;
		if (!in->tdx)
			break;
		if (tdx_level_ok(l, in)) {
			tdx_lvl = l;
			break;
		}
	}
	if (sgx_lvl == NULL || (in->tdx && tdx_lvl == NULL)) {
		char pck[64] = "";

		for (int i = 0; i < 16; i++)
			snprintf(pck + strlen(pck), sizeof(pck) - strlen(pck), "%s%u",
			    i ? "," : "", in->comp_svn[i]);
		tee_fail(v, COFFER_E_POLICY, "tcb.not_supported", "no TCB level of "
		    "the TCB Info (FMSPC %02x%02x%02x%02x%02x%02x) matches the "
		    "platform: PCK component SVNs %s, PCESVN %u%s", ti->fmspc[0],
		    ti->fmspc[1], ti->fmspc[2], ti->fmspc[3], ti->fmspc[4], ti->fmspc[5],
		    pck, in->pcesvn, in->tdx && sgx_lvl != NULL ?
		    " (the SGX components match; TEE_TCB_SVN does not)" : "");
		return COFFER_TCB_NOT_SUPPORTED;
	}
	sgx_st = sgx_lvl->status;
	st = sgx_st;
	if (in->tdx) {
		/* 4.1.2.4.17.4.1: the TDX module's own TCB level. */
		if (!(in->quote_version > 3 && in->tee_tcb_svn[1] == 0)) {
			const struct tee_tdx_module_id *m = find_module(ti, in->tee_tcb_svn[1]);

			if (m == NULL) {
				tee_fail(v, COFFER_E_POLICY, "tdx.module_mismatch", "no TDX "
				    "module identity TDX_%02X", in->tee_tcb_svn[1]);
				return COFFER_TCB_NOT_SUPPORTED;
			}
			if ((mod_lvl = match_isv(m->levels, m->n_levels,
			    in->tee_tcb_svn[0])) == NULL) {
				tee_fail(v, COFFER_E_POLICY, "tcb.not_supported", "TDX module "
				    "ISVSVN %u is below every level of %s", in->tee_tcb_svn[0],
				    m->id);
				return COFFER_TCB_NOT_SUPPORTED;
			}
			mod_st = mod_lvl->status;
		}
		st = converge(tdx_lvl->status, mod_st);
		if (st != COFFER_TCB_REVOKED && in->is_v15 &&
		    (st = relaunch(v, ti, in, sgx_st, st, mod_st, have_qe, qe_st)) ==
		    COFFER_TCB_NOT_SUPPORTED)
			return st;
	}
	if (have_qe)
		st = converge(st, qe_st);
	add_advisories(v, in->tdx ? &tdx_lvl->adv : &sgx_lvl->adv);
	if (mod_lvl != NULL)
		add_advisories(v, &mod_lvl->adv);
	if (qe_lvl != NULL)
		add_advisories(v, &qe_lvl->adv);
	v->c->intel.tcb_date = (in->tdx ? tdx_lvl : sgx_lvl)->date;
	v->c->intel.tcb_eval_data_number = ti->eval_num;
	tee_tcb_record_status(v, st);
	return st;
}

void
tee_qe_evaluate(struct tee_vctx *v, const struct tee_enclave_identity *qe,
    const struct tee_tcb_input *in)
{
	const struct tee_isv_level *lvl = NULL;
	enum coffer_tee_tcb_status st = COFFER_TCB_NOT_SUPPORTED;

	if (!check_qe(v, qe, in, &st, &lvl))
		return;
	if (lvl == NULL) {
		tee_fail(v, COFFER_E_POLICY, "tcb.not_supported", "QE ISVSVN %u is "
		    "below every level of the %s identity", in->qe_isvsvn, qe->id);
		return;
	}
	add_advisories(v, &lvl->adv);
	if (st == COFFER_TCB_REVOKED)
		tee_tcb_record_status(v, st);
	else if (st == COFFER_TCB_OUT_OF_DATE)
		tee_note(v, "qe.out_of_date", "the QE's ISVSVN %u is below the %s "
		    "identity's newest level (the platform is not evaluated)",
		    in->qe_isvsvn, qe->id);
}
