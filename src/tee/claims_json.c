// SPDX-License-Identifier: Apache-2.0
// The claims JSON of doc/format/evidence.md ("Claims JSON"), what
// `coffer attest` prints. Neither daemon links it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "tee/tee_int.h"

static int
set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char *s;
	int r;

	if ((s = coffer_malloc(2 * n + 1)) == NULL)
		return -1;
	coffer_hex_encode(p, n, s);
	r = json_object_set_new(o, k, json_string(s));
	free(s);
	return r;
}

static int
set_int(json_t *o, const char *k, long long v)
{
	return json_object_set_new(o, k, json_integer(v));
}

static int
set_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(v));
}

static int
set_time(json_t *o, const char *k, int64_t t)
{
	char buf[32];

	if (t <= 0)
		return 0;
	tee_fmt_time(t, buf);
	return set_str(o, k, buf);
}

static int
sgx_json(const struct coffer_tee_claims *c, json_t *o)
{
	return set_hex(o, "mrenclave", c->sgx.mrenclave, 32) |
	    set_hex(o, "mrsigner", c->sgx.mrsigner, 32) |
	    set_int(o, "isv_prod_id", c->sgx.isv_prod_id) |
	    set_int(o, "isv_svn", c->sgx.isv_svn) |
	    set_hex(o, "cpu_svn", c->sgx.cpu_svn, 16) |
	    set_hex(o, "attributes", c->sgx.attributes, 16) |
	    set_int(o, "misc_select", c->sgx.misc_select) |
	    set_hex(o, "config_id", c->sgx.config_id, 64) |
	    set_int(o, "config_svn", c->sgx.config_svn);
}

static int
tdx_json(const struct coffer_tee_claims *c, json_t *o)
{
	int r = set_hex(o, "mrtd", c->tdx.mrtd, 48) |
	    set_hex(o, "rtmr0", c->tdx.rtmr[0], 48) |
	    set_hex(o, "rtmr1", c->tdx.rtmr[1], 48) |
	    set_hex(o, "rtmr2", c->tdx.rtmr[2], 48) |
	    set_hex(o, "rtmr3", c->tdx.rtmr[3], 48) |
	    set_hex(o, "mrseam", c->tdx.mrseam, 48) |
	    set_hex(o, "mrsigner_seam", c->tdx.mrsigner_seam, 48) |
	    set_hex(o, "mr_config_id", c->tdx.mr_config_id, 48) |
	    set_hex(o, "mr_owner", c->tdx.mr_owner, 48) |
	    set_hex(o, "mr_owner_config", c->tdx.mr_owner_config, 48) |
	    set_hex(o, "tee_tcb_svn", c->tdx.tee_tcb_svn, 16) |
	    set_hex(o, "td_attributes", c->tdx.td_attributes, 8) |
	    set_hex(o, "xfam", c->tdx.xfam, 8) |
	    set_hex(o, "seam_attributes", c->tdx.seam_attributes, 8);

	if (c->tdx.is_v15)
		r |= set_hex(o, "tee_tcb_svn2", c->tdx.tee_tcb_svn2, 16) |
		    set_hex(o, "mr_servicetd", c->tdx.mr_servicetd, 48);
	return r;
}

static int
intel_json(const struct coffer_tee_claims *c, json_t *o)
{
	return set_int(o, "qe_svn", c->intel.qe_svn) |
	    set_int(o, "pce_svn", c->intel.pce_svn) |
	    set_hex(o, "fmspc", c->intel.fmspc, 6) |
	    set_hex(o, "pceid", c->intel.pceid, 2) |
	    set_hex(o, "cpu_svn", c->intel.cpu_svn, 16) |
	    set_hex(o, "comp_svn", c->intel.comp_svn, 16) |
	    set_int(o, "pcesvn", c->intel.pcesvn) |
	    set_int(o, "sgx_type", c->intel.sgx_type) |
	    set_int(o, "qe_isv_svn", c->intel.qe_isv_svn) |
	    set_time(o, "tcb_date", c->intel.tcb_date) |
	    set_int(o, "tcb_evaluation_data_number", c->intel.tcb_eval_data_number);
}

static int
snp_json(const struct coffer_tee_claims *c, json_t *o)
{
	char ver[32];

	snprintf(ver, sizeof(ver), "%u.%u.%u", c->snp.current_major,
	    c->snp.current_minor, c->snp.current_build);
	return set_hex(o, "measurement", c->snp.measurement, 48) |
	    set_hex(o, "host_data", c->snp.host_data, 32) |
	    set_hex(o, "family_id", c->snp.family_id, 16) |
	    set_hex(o, "image_id", c->snp.image_id, 16) |
	    set_hex(o, "id_key_digest", c->snp.id_key_digest, 48) |
	    set_hex(o, "author_key_digest", c->snp.author_key_digest, 48) |
	    set_hex(o, "report_id", c->snp.report_id, 32) |
	    set_hex(o, "report_id_ma", c->snp.report_id_ma, 32) |
	    set_hex(o, "chip_id", c->snp.chip_id, 64) |
	    set_int(o, "guest_svn", c->snp.guest_svn) |
	    set_int(o, "vmpl", c->snp.vmpl) |
	    set_int(o, "policy", (long long)c->snp.policy) |
	    json_object_set_new(o, "policy_debug", json_boolean(c->snp.policy_debug)) |
	    json_object_set_new(o, "policy_smt", json_boolean(c->snp.policy_smt)) |
	    json_object_set_new(o, "policy_migrate_ma",
		json_boolean(c->snp.policy_migrate_ma)) |
	    json_object_set_new(o, "policy_single_socket",
		json_boolean(c->snp.policy_single_socket)) |
	    set_int(o, "platform_info", (long long)c->snp.platform_info) |
	    set_int(o, "current_tcb", (long long)c->snp.current_tcb) |
	    set_int(o, "reported_tcb", (long long)c->snp.reported_tcb) |
	    set_int(o, "committed_tcb", (long long)c->snp.committed_tcb) |
	    set_int(o, "launch_tcb", (long long)c->snp.launch_tcb) |
	    set_int(o, "tcb_bootloader", c->snp.tcb_bootloader) |
	    set_int(o, "tcb_tee", c->snp.tcb_tee) |
	    set_int(o, "tcb_snp", c->snp.tcb_snp) |
	    set_int(o, "tcb_microcode", c->snp.tcb_microcode) |
	    set_int(o, "tcb_fmc", c->snp.tcb_fmc) |
	    set_str(o, "firmware", ver) |
	    set_str(o, "signing_key", c->snp.signing_key == 1 ? "vlek" : "vcek") |
	    set_str(o, "product", c->snp.product);
}

/* INSECURE SIMULATION: the simulated platform values, under "sim". */
static int
sim_json(const struct coffer_tee_claims *c, json_t *o)
{
	return set_hex(o, "measurement", c->sim.measurement, 48) |
	    set_hex(o, "platform_key_sha256", c->sim.platform_key_sha256, 32) |
	    set_int(o, "tcb_evaluation_data_number", c->sim.tcb_eval_data_number) |
	    set_int(o, "tcb_bootloader", c->sim.tcb_bootloader) |
	    set_int(o, "tcb_tee", c->sim.tcb_tee) |
	    set_int(o, "tcb_snp", c->sim.tcb_snp) |
	    set_int(o, "tcb_microcode", c->sim.tcb_microcode) |
	    set_int(o, "tcb_fmc", c->sim.tcb_fmc) |
	    set_int(o, "vmpl", c->sim.vmpl) |
	    json_object_set_new(o, "smt", json_boolean(c->sim.smt)) |
	    json_object_set_new(o, "migration_agent", json_boolean(c->sim.migration_agent)) |
	    set_hex(o, "td_attributes", c->sim.td_attributes, 8);
}

int
coffer_tee_claims_json(const struct coffer_tee_claims *c, char **out)
{
	json_t *o = NULL, *sub = NULL, *arr;
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_BUF_MAX_DEFAULT);
	uint8_t *p = NULL;
	size_t n;
	int bad, r = COFFER_E_NOMEM;

	if ((o = json_object()) == NULL)
		goto out;
	bad = set_str(o, "verdict", c->verdict == COFFER_TEE_OK ? "ok" : "rejected") |
	    set_str(o, "tee", coffer_tee_type_name(c->tee)) |
	    set_int(o, "format_version", c->format_version) |
	    json_object_set_new(o, "debug", json_boolean(c->debug)) |
	    set_hex(o, "report_data", c->report_data, 64) |
	    set_str(o, "tcb_status", coffer_tee_tcb_status_name(c->tcb_status));
	if (c->backend[0] != '\0')
		bad |= set_str(o, "backend", c->backend);
	if (c->tee == COFFER_TEE_SIM)
		bad |= set_str(o, "insecure", TEE_SIM_WARNING);
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < c->n_advisory_ids; i++)
		bad |= json_array_append_new(arr, json_string(c->advisory_ids[i]));
	bad |= json_object_set_new(o, "advisory_ids", arr);
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < c->n_reasons; i++) {
		json_t *rj = json_object();

		bad |= set_str(rj, "code", c->reasons[i].code) |
		    set_str(rj, "text", c->reasons[i].text) |
		    json_object_set_new(rj, "fatal", json_boolean(c->reasons[i].fatal)) |
		    json_array_append_new(arr, rj);
	}
	bad |= json_object_set_new(o, "reasons", arr);
	if ((sub = json_object()) == NULL)
		goto out;
	switch (c->tee) {
	case COFFER_TEE_SGX:
		bad |= sgx_json(c, sub) | json_object_set(o, "sgx", sub);
		break;
	case COFFER_TEE_TDX:
		bad |= tdx_json(c, sub) | json_object_set(o, "tdx", sub);
		break;
	case COFFER_TEE_SEV_SNP:
		bad |= snp_json(c, sub) | json_object_set(o, "sev_snp", sub);
		break;
	case COFFER_TEE_SIM:
		bad |= sim_json(c, sub) | json_object_set(o, "sim", sub);
		break;
	default:
		break;
	}
	json_decref(sub);
	sub = NULL;
	if (c->tee == COFFER_TEE_SGX || c->tee == COFFER_TEE_TDX) {
		if ((sub = json_object()) == NULL)
			goto out;
		bad |= intel_json(c, sub) | json_object_set(o, "platform", sub);
	}
	if (bad)
		goto out;
	if ((r = coffer_json_dump(o, &b)) != 0 || (r = coffer_buf_detach(&b, &p, &n)) != 0)
		goto out;
	*out = (char *)p;
	r = 0;
out:
	json_decref(sub);
	json_decref(o);
	coffer_buf_release(&b);
	if (r == COFFER_E_NOMEM)
		return coffer_errf(r, "claims JSON: out of memory");
	return r;
}
