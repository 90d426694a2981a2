// SPDX-License-Identifier: Apache-2.0
// The measured configuration (doc/worker.md section 9.2, rules MC1 to
// MC5). Its bytes are measured with the worker (sim: after the executable;
// a real TEE: as a file of the measured image), so nothing in it needs a
// signature: changing it changes what owners approve.
#include <string.h>

#include <jansson.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "tee/policy.h"
#include "worker/measured.h"

static const char *const top_keys[] = { "type", "version", "coordinator", NULL };
static const char *const coord_keys[] = { "tee", "measurement", "verification",
	NULL };

/* The length of a coordinator measurement of this TEE type, or 0. */
static size_t
value_len(enum coffer_tee_type t)
{
	return t == COFFER_TEE_SGX ? 32 : t == COFFER_TEE_TDX ||
	    t == COFFER_TEE_SEV_SNP || t == COFFER_TEE_SIM ? 48 : 0;
}

int
measured_config_parse(const char *text, size_t len, struct measured_config *out)
{
	static const enum coffer_tee_type tees[] = { COFFER_TEE_SGX, COFFER_TEE_TDX,
		COFFER_TEE_SEV_SNP, COFFER_TEE_SIM };
	struct measured_config mc;
	json_t *root = NULL, *coord = NULL, *ver = NULL;
	const char *type = NULL, *tee = NULL, *hex = NULL;
	int64_t version = 0;
	size_t n, got = 0;
	int r;

	memset(&mc, 0, sizeof(mc));
	/* MC1: one JSON object, size, depth and duplicate members checked. */
	if ((r = coffer_json_parse(text, len, MEASURED_MAX, 16, &root)) != 0)
		return coffer_errctx(r, "measured configuration");
	if (!json_is_object(root)) {
		r = coffer_errf(COFFER_E_FORMAT, "measured configuration: not a JSON"
		    " object");
		goto out;
	}
	/* MC2: exactly these members; MC3: this type and version. */
	if ((r = coffer_json_check_keys(root, "measured configuration", top_keys)) != 0 ||
	    (r = coffer_json_get_str(root, "measured configuration", "type", 1,
	    &type)) != 0 ||
	    (r = coffer_json_get_obj(root, "measured configuration", "coordinator",
	    1, &coord)) != 0)
		goto out;
	if (!json_is_integer(json_object_get(root, "version"))) {
		r = coffer_errf(COFFER_E_FORMAT, "measured configuration.version: an"
		    " integer is required");
		goto out;
	}
	version = json_integer_value(json_object_get(root, "version"));
	if (strcmp(type, "coffer-worker-config") != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "measured configuration.type: '%.64s'"
		    " is not \"coffer-worker-config\"", type);
		goto out;
	}
	if (version != 1) {
		r = coffer_errf(COFFER_E_VERSION, "measured configuration.version %lld:"
		    " this worker reads version 1", (long long)version);
		goto out;
	}
	/* MC4: the coordinator's TEE type and its measurement. */
	if ((r = coffer_json_check_keys(coord, "coordinator", coord_keys)) != 0 ||
	    (r = coffer_json_get_str(coord, "coordinator", "tee", 1, &tee)) != 0 ||
	    (r = coffer_json_get_str(coord, "coordinator", "measurement", 1, &hex)) != 0 ||
	    (r = coffer_json_get_obj(coord, "coordinator", "verification", 1, &ver)) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(tees) / sizeof(tees[0]); i++)
		if (strcmp(tee, coffer_tee_type_name(tees[i])) == 0)
			mc.coord_tee = tees[i];
	if (mc.coord_tee == COFFER_TEE_UNKNOWN) {
		r = coffer_errf(COFFER_E_FORMAT, "coordinator.tee: '%.64s' is not sgx,"
		    " tdx, sev-snp or sim", tee);
		goto out;
	}
	n = value_len(mc.coord_tee);
	if (strlen(hex) != 2 * n || strspn(hex, "0123456789abcdef") != 2 * n ||
	    coffer_hex_decode(hex, 2 * n, mc.coord_measurement, n, &got) != 0 ||
	    got != n) {
		r = coffer_errf(COFFER_E_FORMAT, "coordinator.measurement: %zu"
		    " lower-case hex digits are required for %s", 2 * n, tee);
		goto out;
	}
	mc.coord_len = n;
	/* MC5: the verification policy object (doc/format/evidence.md 10.3). */
	if ((r = coffer_tee_policy_from_json(ver, &mc.verification)) != 0) {
		r = coffer_errctx(r, "coordinator");
		goto out;
	}
	*out = mc;
out:
	json_decref(root);
	return r;
}

int
measured_coordinator_value(const struct coffer_tee_claims *c,
    const uint8_t **value, size_t *len)
{
	switch (c->tee) {
	case COFFER_TEE_SGX: *value = c->sgx.mrenclave; break;
	case COFFER_TEE_TDX: *value = c->tdx.mrtd; break;
	case COFFER_TEE_SEV_SNP: *value = c->snp.measurement; break;
	case COFFER_TEE_SIM: *value = c->sim.measurement; break;
	default:
		return coffer_errf(COFFER_E_UNSUPPORTED, "evidence of TEE type %s has"
		    " no measurement Coffer knows", coffer_tee_type_name(c->tee));
	}
	*len = value_len(c->tee);
	return 0;
}
