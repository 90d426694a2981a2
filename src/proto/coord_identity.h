/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's identity as its evidence binds it: the report data of
 * coordinator evidence (doc/coordinator.md section 2, fixed by the team
 * plan). The coordinator, `coffer coordinator verify` and the worker all
 * compute it. */
#ifndef COFFER_PROTO_COORD_IDENTITY_H
#define COFFER_PROTO_COORD_IDENTITY_H

#include <stdint.h>

#define COFFER_COORD_ID_LABEL "coffer/coordinator-identity/v1"

/*
 * report_data = SHA-512("coffer/coordinator-identity/v1" || 0x00 ||
 * sign_pk[32] || kx_pk[32]): the Ed25519 and X25519 public keys of the
 * coordinator. Errors: COFFER_E_CRYPTO.
 */
int coffer_coord_identity_report_data(const uint8_t sign_pk[32],
    const uint8_t kx_pk[32], uint8_t out[64])
	__attribute__((warn_unused_result));

#endif
