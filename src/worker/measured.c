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

int
measured_config_parse(const char *text, size_t len, struct measured_config *out)
{
	struct measured_config mc;
	json_t *root = NULL, *coord = NULL, *ver = NULL;
	const char *type = NULL, *tee = NULL, *hex = NULL;
	int64_t version = 0;
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
	if ((r = coffer_policy_measurement_parse(tee, hex, "coordinator",
	    &mc.coord)) != 0)
		goto out;
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
measured_coordinator_check(const struct measured_config *mc,
    const struct coffer_tee_claims *c)
{
	struct coffer_policy_measurement m;
	char got[2 * COFFER_POLICY_MEASUREMENT_MAX + 1],
	    want[2 * COFFER_POLICY_MEASUREMENT_MAX + 1];
	int r;

	if (c->tee != mc->coord.tee)
		return coffer_errf(COFFER_E_POLICY, "CA4: the coordinator runs in %s; "
		    "the measured configuration pins %s", coffer_tee_type_name(c->tee),
		    coffer_tee_type_name(mc->coord.tee));
	if ((r = coffer_policy_measurement(c, &m)) != 0)
		return r;
	if (m.len != mc->coord.len || memcmp(m.value, mc->coord.value, m.len) != 0) {
		coffer_hex_encode(m.value, m.len, got);
		coffer_hex_encode(mc->coord.value, mc->coord.len, want);
		return coffer_errf(COFFER_E_POLICY, "CA5: the coordinator's measurement "
		    "is %s, not the %s the measured configuration pins", got, want);
	}
	return 0;
}
