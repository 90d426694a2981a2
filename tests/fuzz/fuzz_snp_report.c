// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: AMD SEV-SNP reports (src/tee/snp.c) verified against
// a VCEK, the SNP certificate table parser (configfs-tsm auxblob) and the
// VCEK extension parser. Inputs shorter or longer than a report reach the
// length checks; 1184-byte ones reach the signature and TCB checks.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/log.h"
#include "tee/tee_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct coffer_tee_anchors *anchors;
static struct coffer_tee_collateral *coll;

/* The VCEK of the go-sev-guest sample, if the corpus directory is where
 * tests/fuzz/run puts it (the target also works without it). */
static void
init(void)
{
	coffer_log_setup("fuzz", COFFER_LOG_OFF, COFFER_LOG_HUMAN, NULL);
	if (coffer_tee_anchors_new_default(&anchors) != 0 ||
	    coffer_tee_collateral_new(anchors, &coll) != 0)
		abort();
	(void)coffer_tee_collateral_add_path(coll,
	    "tests/vectors/attestation/sev-snp/go-sev-guest/vcek.testcer");
	coffer_errclear();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_tee_verify_opts o = { COFFER_TEE_ALLOW_NO_CRL, NULL, NULL };
	struct coffer_tee_claims *c = NULL, parsed;
	STACK_OF(X509) *sk;

	if (anchors == NULL)
		init();
	memset(&parsed, 0, sizeof(parsed));
	(void)tee_snp_parse(data, size, &parsed);
	if (coffer_tee_verify(data, size, anchors, coll, 1704067200, &o, &c) == 0 &&
	    c->verdict != COFFER_TEE_OK)
		abort();
	coffer_tee_claims_free(c);
	if ((sk = sk_X509_new_null()) == NULL)
		abort();
	(void)tee_snp_cert_table_parse(data, size, sk);
	for (int i = 0; i < sk_X509_num(sk); i++) {
		struct tee_vek_ext e;

		(void)tee_vek_ext_get(sk_X509_value(sk, i), &e);
	}
	sk_X509_pop_free(sk, X509_free);
	return 0;
}
