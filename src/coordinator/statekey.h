/* SPDX-License-Identifier: Apache-2.0 */
/* state.key: the state key sealed to the TEE's sealing key, with what it
 * was sealed to in clear so that a refusal says why.
 * doc/format/sealed-state.md section 9. */
#ifndef COFFER_COORDINATOR_STATEKEY_H
#define COFFER_COORDINATOR_STATEKEY_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/tee.h"
#include "crypto/pagecrypt.h"

#define STATEKEY_LEN 180

/* The 180 bytes of state.key for key and state_id under sealing s. */
int statekey_seal(const struct coffer_tee_sealing *s,
    const uint8_t state_id[COFFER_STATE_ID_LEN],
    const uint8_t key[COFFER_STATE_KEY_LEN], uint8_t out[STATEKEY_LEN])
	__attribute__((warn_unused_result));

/*
 * Open state.key's bytes with sealing s (rules K1 to K7): the state id and
 * key on success. COFFER_E_WRONG_KEY (K3 to K6) says what differs and how
 * to recover; COFFER_E_AUTH, _FORMAT, _VERSION, _TRUNCATED otherwise.
 */
int statekey_open(const uint8_t *file, size_t len,
    const struct coffer_tee_sealing *s, uint8_t state_id[COFFER_STATE_ID_LEN],
    uint8_t key[COFFER_STATE_KEY_LEN]) __attribute__((warn_unused_result));

/* The state id of a well-formed file (rules K1, K2), without opening it. */
int statekey_peek(const uint8_t *file, size_t len,
    uint8_t state_id[COFFER_STATE_ID_LEN]) __attribute__((warn_unused_result));

/*
 * dir/state.key opened with s; or, when neither it nor dir/state.db nor
 * dir/state.log exists, a new random state key and id, sealed to
 * dir/state.key (section 5, step 1; *created = 1). A state whose key file
 * is missing is COFFER_E_NOTFOUND, naming the remedy (recovery).
 */
int statekey_load(const char *dir, const struct coffer_tee_sealing *s,
    uint8_t state_id[COFFER_STATE_ID_LEN], uint8_t key[COFFER_STATE_KEY_LEN],
    int *created) __attribute__((warn_unused_result));

/* Seal key to this platform in dir/state.key, replacing it atomically
 * (after a recovery). */
int statekey_store(const char *dir, const struct coffer_tee_sealing *s,
    const uint8_t state_id[COFFER_STATE_ID_LEN],
    const uint8_t key[COFFER_STATE_KEY_LEN], int excl)
	__attribute__((warn_unused_result));

#endif
