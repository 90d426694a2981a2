// SPDX-License-Identifier: Apache-2.0
// Standby and bind (doc/protocol/key-release.md section 6.7): what both
// sides compute alike, the standby binding (6.7.3), B_s, B_b and the bind
// MAC (6.7.5). Each label is its own, so nothing of a standby exchange
// passes for a release's (6.3, 6.5) or the other way round.
#include <string.h>

#include "crypto/hash.h"
#include "proto/keyrelease_int.h"
#include "proto/standby.h"
#include "proto/standby_int.h"

#define STANDBY_BINDING_LABEL "coffer/standby-binding/v1"
#define STANDBY_WRAP_LABEL "coffer/standby/v1"
#define BIND_LABEL "coffer/bind/v1"

int
coffer_standby_binding(const uint8_t nonce[32], const uint8_t w_pk[32],
    uint8_t out[64])
{
	uint8_t m[96];
	size_t n = keyrelease_labelled(m, sizeof(m), STANDBY_BINDING_LABEL, nonce,
	    32, w_pk, 32, NULL, 0);

	return coffer_sha512(m, n, out);
}

size_t
standby_wrap_info(uint8_t out[96], const uint8_t nonce[32],
    const uint8_t w_pk[32])
{
	return keyrelease_labelled(out, 96, STANDBY_WRAP_LABEL, nonce, 32, w_pk, 32,
	    NULL, 0);
}

size_t
standby_bind_info(uint8_t out[64], const uint8_t job[16],
    const uint8_t standby[16])
{
	return keyrelease_labelled(out, 64, BIND_LABEL, job, 16, standby, 16, NULL,
	    0);
}

/* 6.7.5: S_mac is S's first half; the second, S_box, seals the answer
 * (one key, one primitive, one message). */
int
coffer_bind_mac(const uint8_t s[COFFER_STANDBY_SECRET_LEN],
    const uint8_t job[16], const uint8_t standby[16], uint8_t mac[32])
{
	uint8_t m[64];
	size_t n = standby_bind_info(m, job, standby);

	return coffer_hmac_sha256(s, 32, m, n, mac);
}
