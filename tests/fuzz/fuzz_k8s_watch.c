// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a line of a Kubernetes watch stream, as the API
// server sends it (src/actuator/k8s_parse.c), and the same bytes as a
// Job, a Deployment and a pod list. A pod name accepted must be a valid
// replica id.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actuator/k8s.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8s_watch_event e;
	struct k8s_owner_view o;
	char rv[64];
	json_t *j = NULL;

	if (k8s_watch_event((const char *)data, size, &e) == 0 &&
	    e.type != K8S_EV_BOOKMARK && e.type != K8S_EV_ERROR) {
		size_t n = strlen(e.pod.name);

		if (n == 0 || n > COFFER_REPLICA_ID_MAX ||
		    strspn(e.pod.name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != n)
			abort();
	}
	if (coffer_json_parse((const char *)data, size, 1 << 20, 64, &j) == 0) {
		(void)k8s_owner_view(j, 0, &o);
		(void)k8s_owner_view(j, 1, &o);
		if (k8s_list_rv(j, rv, sizeof(rv)) == 0 && rv[0] == '\0')
			abort();
		json_decref(j);
	}
	return 0;
}
