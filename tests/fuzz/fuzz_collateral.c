// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: collateral loading (src/tee/collateral.c): TCB Info
// and identity JSON in PCS body and dcap-qvl form, the JSON span
// extractor, CRLs and certificates in PEM, DER and hex.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/log.h"
#include "tee/tee_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct coffer_tee_anchors *anchors;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_tee_collateral *c = NULL;
	struct tee_tcb_info ti;
	struct tee_enclave_identity id;
	size_t a, b;

	if (anchors == NULL) {
		coffer_log_setup("fuzz", COFFER_LOG_OFF, COFFER_LOG_HUMAN, NULL);
		if (coffer_tee_anchors_new_default(&anchors) != 0)
			abort();
	}
	if (tee_json_span((const char *)data, size, "tcbInfo", &a, &b) == 0 &&
	    (a > b || b > size))
		abort();
	if (tee_tcb_info_parse((const char *)data, size, &ti) == 0)
		tee_tcb_info_release(&ti);
	if (tee_identity_parse((const char *)data, size, &id) == 0)
		tee_identity_release(&id);
	if (coffer_tee_collateral_new(anchors, &c) != 0)
		abort();
	(void)coffer_tee_collateral_add_mem(c, "fuzz", data, size);
	coffer_tee_collateral_free(c);
	return 0;
}
