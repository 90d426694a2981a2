// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the kubeconfig YAML subset (src/actuator/kubeconfig.c).
// What it accepts is a JSON value that serialises.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "actuator/kubeconfig.h"
#include "lib/buf.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_BUF_MAX_DEFAULT);
	json_t *j = NULL;

	if (k8s_yaml_parse((const char *)data, size, &j) == 0) {
		if (j == NULL || coffer_json_dump(j, &b) != 0)
			abort();
		json_decref(j);
	}
	coffer_buf_release(&b);
	return 0;
}
