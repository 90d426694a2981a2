// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the key-release messages (src/proto/keyrelease*.c):
// the release request (KR1), the job request (J1), the worker's reading of
// a release answer (W1-W4, with the vectors' worker and coordinator keys,
// so seeded answers reach the HPKE and box code) and result-key blobs.
// The first byte picks which.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/keyrelease.h"
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t job[16], nonce[32], wsk[32], coord_pk[32], coord_sk[32],
	    analyst_sk[32], pol[32];
	static int init;
	const char *text = (const char *)data + 1;

	if (!init) {
		uint8_t j[32];

		fz_seed("job", j);
		memcpy(job, j, 16);
		fz_seed("release-nonce", nonce);
		fz_seed("worker-x25519", wsk);
		fz_seed("x25519/coordinator", coord_sk);
		fz_seed("x25519/analyst", analyst_sk);
		if (coffer_dh_public(coord_sk, coord_pk) != 0)
			__builtin_trap();
		{
			struct coffer_policy *p = fz_policy();

			memcpy(pol, p->hash, 32);
			coffer_policy_free(p);
		}
		init = 1;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: {
		struct coffer_release_request r;

		coffer_release_request_init(&r);
		(void)coffer_release_request_parse(text, size - 1, NULL, &r);
		coffer_release_request_release(&r);
		break;
	}
	case 1: {
		struct coffer_job_request r;

		if (coffer_job_request_parse(text, size - 1, &r) == 0)
			coffer_job_request_release(&r);
		break;
	}
	case 2: {
		struct coffer_release_payload p;

		memset(&p, 0, sizeof(p));
		if (coffer_release_answer_open(text, size - 1, job, nonce, wsk, coord_pk,
		    &p) == 0) {
			if (memcmp(p.job, job, 16) != 0 || p.nkeys == 0)
				__builtin_trap();
			coffer_release_payload_clear(&p);
		}
		break;
	}
	default: {
		uint8_t key[32];

		(void)coffer_resultkey_unwrap(analyst_sk, coord_pk, job, pol,
		    (const uint8_t *)text, size - 1, key);
		break;
	}
	}
	return 0;
}
