// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the evidence envelope (JSON), hex evidence and sim
// evidence v2 (src/tee/envelope.c, verify.c, sim.c), through the
// verifier's content detection, without and with a verification policy
// (policy.c applies to whatever parsed). No sim key is trusted, but the
// signature is still checked with the evidence's own key, so that path is
// reached too.
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
	struct coffer_tee_claims *c = NULL;
	struct coffer_tee_policy p;
	struct tee_envelope e;

	if (anchors == NULL) {
		coffer_log_setup("fuzz", COFFER_LOG_OFF, COFFER_LOG_HUMAN, NULL);
		if (coffer_tee_anchors_new_default(&anchors) != 0)
			abort();
	}
	if (tee_envelope_parse(data, size, &e) == 0)
		tee_envelope_release(&e);
	if (coffer_tee_verify(data, size, anchors, NULL, 0, NULL, &c) == 0 &&
	    c->verdict != COFFER_TEE_OK)
		abort();
	coffer_tee_claims_free(c);
	c = NULL;
	/* A policy with every check armed: nothing here may pass it. */
	coffer_tee_policy_init(&p);
	p.min_tcb_evaluation_data_number = 1;
	p.snp_min_tcb.microcode = 1;
	p.tdx_attributes_mask[0] = 1;
	if (coffer_tee_verify(data, size, anchors, NULL, 0,
	    &(struct coffer_tee_verify_opts){ 0, NULL, &p }, &c) == 0)
		abort();
	coffer_tee_claims_free(c);
	return 0;
}
