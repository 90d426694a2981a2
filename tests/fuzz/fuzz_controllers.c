// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: every built-in controller's create() on fuzzed
// parameters and decide() on a sequence of fuzzed observations. Nothing may
// crash, hang or trip a sanitizer, and an accepted decision stays in range.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/controller.h"
#include "controllers/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "trigger_up", "trigger_down",
	    "actuation_size", "proportional_gain", "integral_gain",
	    "derivative_gain", "target", "metric", "tolerance", "replicas",
	    "startup_s", "min_slack", "safety_z", "margin", "window_s", "tail_z",
	    "grace_s", "down_ticks" };
	const struct coffer_controller *def = NULL;
	struct coffer_ctl_param params[4];
	struct coffer_ctl_config cfg;
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	char vals[4][16], err[256];
	size_t n, i, np;
	void *st = NULL;

	if (size < 16)
		return 0;
	n = coffer_controller_builtin(0, NULL);
	(void)coffer_controller_builtin(data[0] % n, &def);
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg);
	cfg.min_replicas = data[1] % 4;
	cfg.max_replicas = cfg.min_replicas + 1 + data[2];
	memcpy(&cfg.expected_time_s, data + 3, sizeof(double));
	cfg.check_interval_s = 5;
	np = data[11] % 5;
	for (i = 0; i < np && i < 4; i++) {
		size_t off = 12 + i;

		params[i].key = keys[data[off] % (sizeof(keys) / sizeof(keys[0]))];
		memset(vals[i], 0, sizeof(vals[i]));
		memcpy(vals[i], data + off, size - off < 15 ? size - off : 15);
		params[i].value = vals[i];
	}
	cfg.params = params;
	cfg.nparams = np;
	if (def->create(&cfg, &st, err, sizeof(err)) != 0)
		return 0;
	for (i = 16; i + sizeof(o) <= size; i += sizeof(o) / 2) {
		memcpy(&o, data + i, sizeof(o));
		if (data[i] & 1)
			o.size = sizeof(o);
		memset(&d, 0, sizeof(d));
		if (def->decide(st, &o, &d) == 0 &&
		    strcmp(def->name, "asperathos-default") != 0 &&
		    (d.replicas < cfg.min_replicas || d.replicas > cfg.max_replicas))
			abort();
		if (memchr(d.reason, 0, sizeof(d.reason)) == NULL)
			abort();
	}
	def->destroy(st);
	return 0;
}
