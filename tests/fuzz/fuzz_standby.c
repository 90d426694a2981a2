// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the standby and bind messages (src/proto/standby*.c,
// doc/protocol/key-release.md 6.7): the standby request (SB1), the bind
// request (BD1, with its MAC check), the worker's reading of a standby
// answer (WS1, WS2) and of a bind answer (WB1 to WB3), with the vectors'
// keys and S so that seeded answers reach the HPKE and box code. The
// first byte picks which.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/enc.h"
#include "lib/mem.h"
#include "proto/standby.h"
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t job[16], sid[16], nonce[32], wsk[32], coord_pk[32],
	    coord_sk[32], s[64];
	static int init;
	const char *text = (const char *)data + 1;

	if (!init) {
		uint8_t x[32];

		fz_seed("job", x);
		memcpy(job, x, 16);
		fz_seed("standby-id", x);
		memcpy(sid, x, 16);
		fz_seed("standby-nonce", nonce);
		fz_seed("worker-x25519", wsk);
		fz_seed("x25519/coordinator", coord_sk);
		{
			json_t *doc = fz_load("standby.json");
			const char *h = json_string_value(json_object_get(
			    json_object_get(doc, "standby"), "secret"));
			size_t got = 0;

			if (h == NULL || coffer_hex_decode(h, strlen(h), s, 64, &got) != 0 ||
			    got != 64)
				abort();
			json_decref(doc);
		}
		if (coffer_dh_public(coord_sk, coord_pk) != 0)
			__builtin_trap();
		init = 1;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: {
		struct coffer_standby_request r;

		coffer_standby_request_init(&r);
		(void)coffer_standby_request_parse(text, size - 1, &r);
		coffer_standby_request_release(&r);
		break;
	}
	case 1: {
		struct coffer_bind_request r;

		if (coffer_bind_request_parse(text, size - 1, NULL, &r) == 0)
			(void)coffer_bind_request_check_mac(&r, s);
		break;
	}
	case 2: {
		uint8_t got[64], id[16];

		if (coffer_standby_answer_open(text, size - 1, nonce, wsk, coord_pk, id,
		    got) == 0)
			coffer_wipe(got, sizeof(got));
		break;
	}
	default: {
		struct coffer_buf pol = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES);
		struct coffer_release_payload p;

		memset(&p, 0, sizeof(p));
		if (coffer_bind_answer_open(data + 1, size - 1, job, sid, s, &p,
		    &pol) == 0) {
			if (memcmp(p.job, job, 16) != 0 || pol.len == 0)
				__builtin_trap();
			coffer_release_payload_clear(&p);
		}
		coffer_buf_release(&pol);
		break;
	}
	}
	return 0;
}
