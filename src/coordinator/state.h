/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's durable state behind one small interface: its
 * identity, and (added as the protocol needs them) policies, approvals,
 * revocations and wrapped data keys. Backed by SQLite in DIR/state.db
 * (doc/coordinator.md section 4). Sealing to the TEE, rollback detection
 * and the audit log (issue 12) go under this interface, not around it:
 * every write goes through a function here. */
#ifndef COFFER_COORDINATOR_STATE_H
#define COFFER_COORDINATOR_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/buf.h"

#define COORD_STATE_SCHEMA_VERSION 1

struct coord_state;

/*
 * Open (creating if needed) the state in directory dir. Errors: COFFER_E_DB
 * (unreadable, not a database), COFFER_E_VERSION (written by a newer
 * coordinator).
 */
int coord_state_open(const char *dir, struct coord_state **out)
	__attribute__((warn_unused_result));
/* Close. NULL is a no-op. */
void coord_state_close(struct coord_state *st);

/*
 * Group several writes into one durable commit: begin, the writes, then
 * commit, or rollback on any error (rollback after a failed commit is
 * allowed). Writes outside a transaction commit one by one.
 */
int coord_state_begin(struct coord_state *st) __attribute__((warn_unused_result));
int coord_state_commit(struct coord_state *st) __attribute__((warn_unused_result));
void coord_state_rollback(struct coord_state *st);

/* The coordinator's identity: COFFER_E_NOTFOUND before the first start
 * stored one. id is wiped by the caller (coffer_identity_wipe). */
int coord_state_identity_get(struct coord_state *st, struct coffer_identity *id)
	__attribute__((warn_unused_result));
/* Store the identity; COFFER_E_EXISTS if one is already stored (it never
 * changes: owners pinned it). */
int coord_state_identity_put(struct coord_state *st,
    const struct coffer_identity *id) __attribute__((warn_unused_result));

/* The coordinator's root secret (32 bytes), from which the keys it hands
 * out per job are derived (jobkeys.h): made with the identity at the first
 * start, never changed. COFFER_E_NOTFOUND before. */
int coord_state_root_get(struct coord_state *st, uint8_t out[32])
	__attribute__((warn_unused_result));
/* COFFER_E_EXISTS if one is stored. */
int coord_state_root_put(struct coord_state *st, const uint8_t root[32])
	__attribute__((warn_unused_result));

#endif
