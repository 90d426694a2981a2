// SPDX-License-Identifier: Apache-2.0
// The coordinator identity binding (coord_identity.h). A label and a zero
// byte first, as every Coffer domain separation ("coffer/<purpose>/v1"),
// then the two fixed-size keys: no length ambiguity is possible.
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/mem.h"
#include "proto/coord_identity.h"

int
coffer_coord_identity_report_data(const uint8_t sign_pk[32],
    const uint8_t kx_pk[32], uint8_t out[64])
{
	uint8_t msg[sizeof(COFFER_COORD_ID_LABEL) + 64];
	size_t n = sizeof(COFFER_COORD_ID_LABEL); /* the label and its NUL */

	memcpy(msg, COFFER_COORD_ID_LABEL, n);
	memcpy(msg + n, sign_pk, 32);
	memcpy(msg + n + 32, kx_pk, 32);
	return coffer_sha512(msg, n + 64, out);
}
