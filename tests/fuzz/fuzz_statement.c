// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for signed statements against the vector policy
// (src/proto/signed.c, approval.c, keyrelease.c, auditlog.c): approvals
// (A1-A5), revocations (RK1-RK5), key uploads (UP1-UP7) and tree heads
// (G1-G5, T1). The first byte picks the kind; the rest is the envelope.
// Seeds (tests/fuzz/corpus/statement/) are the vectors' valid and invalid
// statements, so the fuzzer starts past the signature checks.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/mem.h"
#include "proto/approval.h"
#include "proto/auditlog.h"
#include "proto/keyrelease.h"
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct coffer_policy *policy;
static uint8_t coord_sign_pk[32], coord_kx_sk[32];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;

	if (policy == NULL) {
		uint8_t seed[32];

		policy = fz_policy();
		fz_seed("ed25519/coordinator", seed);
		if (coffer_sign_public(seed, coord_sign_pk) != 0)
			__builtin_trap();
		fz_seed("x25519/coordinator", coord_kx_sk);
	}
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: {
		struct coffer_approval a;

		if (coffer_approval_verify(policy, text, size - 1, 1800000000, &a) == 0 &&
		    a.owner >= policy->nowners)
			__builtin_trap();
		break;
	}
	case 1: {
		struct coffer_revocation v;

		if (coffer_revocation_verify(policy, text, size - 1, &v) == 0 &&
		    (v.owner >= policy->nowners ||
		    (v.is_measurement && !coffer_policy_lists_measurement(policy, &v.m))))
			__builtin_trap();
		break;
	}
	case 2: {
		struct coffer_keyupload u;

		if (coffer_keyupload_verify(policy, text, size - 1, coord_kx_sk, &u) == 0) {
			if (coffer_policy_key_owner(policy, u.key_id) != (int)u.owner)
				__builtin_trap();
			coffer_wipe(&u, sizeof(u));
		}
		break;
	}
	default: {
		struct coffer_tree_head h;

		(void)coffer_auditlog_head_verify(text, size - 1, coord_sign_pk, &h);
		break;
	}
	}
	return 0;
}
