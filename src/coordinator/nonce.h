/* SPDX-License-Identifier: Apache-2.0 */
/* Single-use, short-lived nonces for key release (doc/coordinator.md
 * section 5). Issuing keeps no state: a nonce carries its issue time under
 * a MAC with a key that lives only in this process. Only nonces presented
 * are remembered, until they expire, so each is accepted once. */
#ifndef COFFER_COORDINATOR_NONCE_H
#define COFFER_COORDINATOR_NONCE_H

#include <stddef.h>
#include <stdint.h>

#define COORD_NONCE_LEN 32
#define COORD_NONCE_TTL_MS_DEFAULT 60000
#define COORD_NONCE_USED_MAX ((size_t)1 << 20)

struct coord_nonces;

/* ttl_ms: how long a nonce is valid after it was issued; used_max: how
 * many presented nonces may be remembered at once (beyond: COFFER_E_BUSY
 * until some expire). Makes a fresh random MAC key. */
int coord_nonces_new(int64_t ttl_ms, size_t used_max, struct coord_nonces **out)
	__attribute__((warn_unused_result));
void coord_nonces_free(struct coord_nonces *n);

/* A new nonce issued at now_ms (milliseconds, any monotonic-enough clock;
 * the wall clock in the daemon). */
int coord_nonce_issue(struct coord_nonces *n, int64_t now_ms,
    uint8_t out[COORD_NONCE_LEN]) __attribute__((warn_unused_result));

/*
 * Present a nonce at now_ms: 0 the first time a nonce this process issued
 * is presented within its lifetime. Errors, each with a detail:
 * COFFER_E_AUTH "nonce.unknown" (not issued by this process: forged, or
 * from before a restart), COFFER_E_EXPIRED "nonce.expired",
 * COFFER_E_STATE "nonce.replayed" (presented before), COFFER_E_BUSY (too
 * many remembered).
 */
int coord_nonce_take(struct coord_nonces *n, int64_t now_ms,
    const uint8_t nonce[COORD_NONCE_LEN]) __attribute__((warn_unused_result));

/* Forget the presented nonces that have expired by now_ms. Called from a
 * timer; take() also sweeps when its table is full. */
void coord_nonces_sweep(struct coord_nonces *n, int64_t now_ms);

/* How many presented nonces are remembered. */
size_t coord_nonces_used(const struct coord_nonces *n);

#endif
