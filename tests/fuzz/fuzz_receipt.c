// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for receipt bundles (src/proto/receipt_verify.c, RV1 to
// RV11) against the vector policy, pin and evidence: any bundle gets a
// class, never a crash; a valid one must be for a coordinator whose
// signature verified. Seeds are the vectors' bundles.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "proto/receipt.h"
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct coffer_policy *policy;
static struct coffer_identity_public pinned;
static struct coffer_buf evidence = COFFER_BUF_INIT(1024);

static int
check_evidence(void *arg, const uint8_t *ev, size_t n, const uint8_t rd[64])
{
	(void)arg;
	(void)rd;
	return n == evidence.len && memcmp(ev, evidence.data, n) == 0 ? 0 :
	    COFFER_E_UNTRUSTED;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_receipt_check in;
	struct coffer_receipt_report rep;
	int r;

	if (policy == NULL) {
		json_t *doc = fz_load("receipt.json"), *pin = json_object_get(doc, "pin");
		const char *t = json_string_value(json_object_get(doc, "policy_text"));
		const char *id = json_string_value(json_object_get(pin, "identity"));
		const char *ev = json_string_value(json_object_get(pin, "evidence"));

		if (coffer_policy_parse(t, strlen(t), &policy) != 0 ||
		    coffer_identity_parse_public(id, strlen(id), &pinned) != 0 ||
		    coffer_b64url_decode_buf(ev, strlen(ev), &evidence) != 0)
			__builtin_trap();
		json_decref(doc);
	}
	memset(&in, 0, sizeof(in));
	in.bundle = (const char *)data;
	in.bundle_len = size;
	in.policy = policy;
	memcpy(in.owner, policy->owners[0].fingerprint, 32);
	in.pinned = &pinned;
	in.check_evidence = check_evidence;
	r = coffer_receipt_verify(&in, &rep);
	if ((r == 0) != (rep.class == COFFER_RECEIPT_VALID))
		__builtin_trap();
	coffer_receipt_report_clear(&rep);
	return 0;
}
