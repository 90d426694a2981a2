// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: what the manager takes from a coordinator as a policy's
// status (GET /v1/policies/{hash}/status, src/manager/approvals.c), for
// the dashboard. Any answer is refused or turned into a view whose owners
// are exactly the policy's, each approved, revoked or missing.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager/approvals.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HASH "2173750ac63ea279a5a93edc2d3a8d184137848ca318e489e8dfc9447fe66e47"
#define FP_A "f1050aa861d08afead8d8728146e09856830511e5bcf3577644aa88a20da4f4f"
#define FP_B "97ffc0267ff2048371fcac6afc68e6b42f8ab41bcf1ad3e888399eb006ac19d2"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *owners = json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "a",
	    "fingerprint", FP_A, "name", "b", "fingerprint", FP_B);
	json_t *view = NULL, *o;
	size_t i;

	if (owners == NULL)
		abort();
	if (mgr_approvals_view(owners, (const char *)data, size, HASH, &view) == 0) {
		if (json_array_size(json_object_get(view, "owners")) != 2)
			abort();
		json_array_foreach(json_object_get(view, "owners"), i, o) {
			const char *a = json_string_value(json_object_get(o, "approval"));

			if (a == NULL || (strcmp(a, "approved") != 0 &&
			    strcmp(a, "revoked") != 0 && strcmp(a, "missing") != 0))
				abort();
		}
	} else if (view != NULL) {
		abort();
	}
	json_decref(view);
	json_decref(owners);
	return 0;
}
