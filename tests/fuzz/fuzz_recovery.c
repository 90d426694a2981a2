// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the recovery messages (src/proto/recovery.c,
// doc/format/recovery.md): the first byte selects a record envelope (0)
// or a share submission (1) to a recovering coordinator whose record is
// made once from fixed identities; anything must parse or be refused
// cleanly, and nothing unauthenticated may open.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/dh.h"
#include "crypto/hpke.h"
#include "crypto/pagecrypt.h"
#include "crypto/sign.h"
#include "proto/recovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct coffer_recovery_record rec;
static uint8_t session_sk[32], session_pk[32];
static int ready;

/* A fixed identity from a seed byte. */
static int
fixed_identity(uint8_t s, struct coffer_identity *id)
{
	uint8_t ikm[32];

	memset(id, 0, sizeof(*id));
	memset(ikm, s, sizeof(ikm));
	memcpy(id->sign_sk, ikm, 32);
	return coffer_sign_public(id->sign_sk, id->pub.sign_pk) != 0 ||
	    coffer_hpke_derive_keypair(ikm, 32, id->kx_sk, id->pub.kx_pk) != 0;
}

static int
init(void)
{
	struct coffer_identity coord, o[3];
	struct coffer_identity_public pubs[3];
	struct coffer_buf env = COFFER_BUF_INIT(65536);
	struct coffer_pagecrypt pc;
	uint8_t key[32] = { 1 }, sid[16] = { 2 }, check[32], ikm[32];
	int bad;

	memset(ikm, 7, sizeof(ikm));
	memset(&pc, 0, sizeof(pc));  /* wiped below even if never made */
	bad = fixed_identity(1, &coord) || fixed_identity(2, &o[0]) ||
	    fixed_identity(3, &o[1]) || fixed_identity(4, &o[2]) ||
	    coffer_hpke_derive_keypair(ikm, 32, session_sk, session_pk) != 0 ||
	    coffer_pagecrypt_init(&pc, key, sid) != 0 ||
	    coffer_pagecrypt_key_check(&pc, check) != 0;
	coffer_pagecrypt_wipe(&pc);
	for (int i = 0; !bad && i < 3; i++)
		pubs[i] = o[i].pub;
	bad = bad || coffer_recovery_make(&coord, sid, key, check, 2, pubs, 3, &env) != 0 ||
	    coffer_recovery_parse((const char *)env.data, env.len, &rec) != 0;
	coffer_buf_release(&env);
	return bad ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_recovery_record r;
	unsigned index;
	uint8_t y[32];

	if (!ready) {
		if (init() != 0)
			__builtin_trap();
		ready = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] == 0)
		(void)coffer_recovery_parse((const char *)data + 1, size - 1, &r);
	else if (coffer_recovery_submit_open(&rec, (const char *)data + 1, size - 1,
	    session_sk, session_pk, &index, y) == 0)
		__builtin_trap(); /* only an owner's wrap can open */
	return 0;
}
