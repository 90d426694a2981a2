// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: Intel SGX/TDX quote parsing and verification
// (src/tee/quote.c, intel.c), the PCK certificate extension parser, and
// the DER reader under it. Any input must give an error or claims, never
// a crash, a leak or undefined behaviour.
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
	struct coffer_tee_verify_opts o = {
		COFFER_TEE_ALLOW_NO_COLLATERAL | COFFER_TEE_ALLOW_NO_CRL, NULL };
	struct coffer_tee_claims *c = NULL;
	struct tee_pck_ext ext;
	struct tee_quote q;
	STACK_OF(X509) *sk = NULL;

	if (anchors == NULL) {
		coffer_log_setup("fuzz", COFFER_LOG_OFF, COFFER_LOG_HUMAN, NULL);
		if (coffer_tee_anchors_new_default(&anchors) != 0)
			abort();
	}
	if (tee_quote_parse(data, size, &q) == 0 &&
	    tee_certs_parse(q.pck_pem, q.pck_pem_len, &sk) == 0) {
		if (tee_pck_ext_get(sk_X509_value(sk, 0), &ext) == 0 &&
		    ext.pcesvn > 65535)
			abort();
		sk_X509_pop_free(sk, X509_free);
	}
	/* The extension parser and the PEM splitter on raw bytes (they see
	 * only what X.509 and quotes hold otherwise). */
	(void)tee_pck_ext_parse(data, size, &ext);
	{
		struct coffer_buf der[3] = { COFFER_BUF_INIT(1 << 16),
		    COFFER_BUF_INIT(1 << 16), COFFER_BUF_INIT(1 << 16) };
		size_t n;

		(void)tee_pem_certs(data, size, der, 3, &n);
		for (int i = 0; i < 3; i++)
			coffer_buf_release(&der[i]);
	}
	/* The whole verifier, with a fixed time inside the samples' PCK
	 * validity. */
	if (coffer_tee_verify(data, size, anchors, NULL, 1751328000, &o, &c) == 0 &&
	    c->verdict != COFFER_TEE_OK)
		abort();
	coffer_tee_claims_free(c);
	return 0;
}
