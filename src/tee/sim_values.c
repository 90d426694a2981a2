// SPDX-License-Identifier: Apache-2.0
// The simulation backend's platform values document (doc/format/evidence.md
// section 8.4, rules S1 to S5): what `coffer attest` and the test tools
// take (--sim-tcb) to make sim evidence with chosen values. Neither daemon
// reads such a document, so it is apart from sim.c.
#include <stdint.h>

#include <jansson.h>

#include "coffer/error.h"
#include "lib/json.h"
#include "tee/tee_int.h"

/* Section 8.4: rules S1-S5. */
static const char *const values_keys[] = {
	"debug", "tcb_status", "tcb_evaluation_data_number", "snp_tcb", "vmpl",
	"smt", "migration_agent", "td_attributes", NULL,
};
static const char *const tcb_keys[] = {
	"bootloader", "tee", "snp", "microcode", "fmc", NULL,
};

static int
get_u8(const json_t *o, const char *key, uint8_t *out)
{
	int64_t v = *out;
	int r;

	if ((r = coffer_json_get_int(o, "sim.snp_tcb", key, 0, 0, 255, &v)) != 0)
		return r;
	*out = (uint8_t)v;
	return 0;
}

static int
values_doc(const json_t *doc, struct coffer_tee_sim_values *v)
{
	json_t *tcb = NULL;
	const char *st = NULL;
	int64_t n;
	int r, s;

	if (!json_is_object(doc))
		return coffer_errf(COFFER_E_FORMAT, "sim: not a JSON object");
	if ((r = coffer_json_check_keys(doc, "sim", values_keys)) != 0 ||
	    (r = tee_json_no_nulls(doc, "sim")) != 0 ||
	    (r = coffer_json_no_reals(doc, "sim")) != 0 ||
	    (r = coffer_json_get_bool(doc, "sim", "debug", 0, &v->debug)) != 0 ||
	    (r = coffer_json_get_bool(doc, "sim", "smt", 0, &v->smt)) != 0 ||
	    (r = coffer_json_get_bool(doc, "sim", "migration_agent", 0,
	    &v->migration_agent)) != 0 ||
	    (r = coffer_json_get_str(doc, "sim", "tcb_status", 0, &st)) != 0 ||
	    (r = tee_json_hex_lc(doc, "sim", "td_attributes", 0, v->td_attributes, 8,
	    NULL)) != 0 ||
	    (r = coffer_json_get_obj(doc, "sim", "snp_tcb", 0, &tcb)) != 0)
		return r;
	if (st != NULL) {
		if ((s = tee_tcb_status_parse(st)) < 0)
			return coffer_errf(COFFER_E_FORMAT, "sim.tcb_status: \"%s\" is not "
			    "an Intel TCB status (UpToDate ... Revoked)", st);
		v->tcb_status = (enum coffer_tee_tcb_status)s;
	}
	n = v->tcb_evaluation_data_number;
	if ((r = coffer_json_get_int(doc, "sim", "tcb_evaluation_data_number", 0, 0,
	    UINT32_MAX, &n)) != 0)
		return r;
	v->tcb_evaluation_data_number = (uint32_t)n;
	n = v->vmpl;
	if ((r = coffer_json_get_int(doc, "sim", "vmpl", 0, 0, 3, &n)) != 0)
		return r;
	v->vmpl = (uint32_t)n;
	if (tcb != NULL &&
	    ((r = coffer_json_check_keys(tcb, "sim.snp_tcb", tcb_keys)) != 0 ||
	    (r = tee_json_no_nulls(tcb, "sim.snp_tcb")) != 0 ||
	    (r = get_u8(tcb, "bootloader", &v->snp_tcb.bootloader)) != 0 ||
	    (r = get_u8(tcb, "tee", &v->snp_tcb.tee)) != 0 ||
	    (r = get_u8(tcb, "snp", &v->snp_tcb.snp)) != 0 ||
	    (r = get_u8(tcb, "microcode", &v->snp_tcb.microcode)) != 0 ||
	    (r = get_u8(tcb, "fmc", &v->snp_tcb.fmc)) != 0))
		return r;
	return 0;
}

int
coffer_tee_sim_values_parse(const char *json, size_t len,
    struct coffer_tee_sim_values *out)
{
	struct coffer_tee_sim_values v;
	json_t *doc = NULL;
	int r;

	coffer_tee_sim_values_init(&v);
	if ((r = coffer_json_parse(json, len, 16384, 4, &doc)) != 0)
		return coffer_errctx(r, "sim values");
	if ((r = values_doc(doc, &v)) == 0)
		*out = v;
	json_decref(doc);
	return r;
}
