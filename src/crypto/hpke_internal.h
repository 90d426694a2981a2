/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only entry points of the HPKE implementation: a deterministic sender
 * setup (given ephemeral key) and a trace of the key schedule, so the RFC
 * 9180 test vectors can check every intermediate value. Never use these
 * outside tests: a reused ephemeral key breaks HPKE. */
#ifndef COFFER_CRYPTO_HPKE_INTERNAL_H
#define COFFER_CRYPTO_HPKE_INTERNAL_H

#include "crypto/hpke.h"

struct coffer_hpke_trace {
	enum coffer_hpke_mode mode;
	uint8_t shared_secret[32];
	uint8_t key_schedule_context[65]; /* mode || psk_id_hash || info_hash */
	uint8_t secret[32];
	uint8_t key[32];
	size_t key_len;
	uint8_t base_nonce[12];
	uint8_t exporter_secret[32];
};

/* As coffer_hpke_setup_sender, with the ephemeral secret skE given. trace,
 * if not NULL, receives the key schedule. */
int coffer_hpke__setup_sender(const struct coffer_hpke_params *p,
    const uint8_t pkR[32], const uint8_t *skS, const uint8_t skE[32],
    uint8_t enc[32], struct coffer_hpke **out, struct coffer_hpke_trace *trace)
	__attribute__((warn_unused_result));

/* As coffer_hpke_setup_receiver, with a trace. */
int coffer_hpke__setup_receiver(const struct coffer_hpke_params *p,
    const uint8_t enc[32], const uint8_t skR[32], const uint8_t *pkS,
    struct coffer_hpke **out, struct coffer_hpke_trace *trace)
	__attribute__((warn_unused_result));

/* Set the sequence number (to test nonces and exhaustion). */
void coffer_hpke__set_seq(struct coffer_hpke *h, uint64_t seq);

#endif
