/* SPDX-License-Identifier: Apache-2.0 */
/* The standby sessions (doc/protocol/key-release.md section 6.7): a
 * table in memory only, bounded in count and evidence bytes, each entry
 * live for a fixed time and bound at most once. A restart forgets it. */
#ifndef COFFER_COORDINATOR_STANDBY_H
#define COFFER_COORDINATOR_STANDBY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/standby.h"

#define COORD_STANDBY_TTL_MS_DEFAULT 600000
#define COORD_STANDBY_MAX_DEFAULT 1024
#define COORD_STANDBY_BYTES_MAX ((size_t)64 << 20)

struct coord_standbys;

/* What a consumed session hands its bind: S (secret: wipe it), the
 * evidence bytes (owned: free them), the nonce and w_pk. */
struct coord_standby_taken {
	uint8_t s[COFFER_STANDBY_SECRET_LEN];
	uint8_t nonce[32];
	uint8_t worker_pk[32];
	uint8_t *evidence;
	size_t evidence_len;
};

int coord_standbys_new(int64_t ttl_ms, size_t max, size_t max_bytes,
    struct coord_standbys **out) __attribute__((warn_unused_result));
/* Wipes every secret. NULL is a no-op. */
void coord_standbys_free(struct coord_standbys *t);

/*
 * A new session at now_ms for w_pk, its evidence (copied) and nonce: a
 * random id and S into id and s (wipe s). COFFER_E_BUSY with the detail
 * "standby.full" when the table holds max live sessions, or max_bytes of
 * evidence with this one, after dropping expired ones (SB3).
 */
int coord_standby_add(struct coord_standbys *t, int64_t now_ms,
    const uint8_t nonce[32], const uint8_t w_pk[32], const uint8_t *ev,
    size_t evlen, uint8_t id[16], uint8_t s[COFFER_STANDBY_SECRET_LEN])
	__attribute__((warn_unused_result));

/* SB3 before the evidence is verified: 0 if a session holding evlen
 * bytes of evidence fits now (expired ones dropped first), else
 * COFFER_E_BUSY "standby.full". */
int coord_standby_room(struct coord_standbys *t, int64_t now_ms, size_t evlen)
	__attribute__((warn_unused_result));

/*
 * BD4 then BD5 for the session id at now_ms: COFFER_E_NOTFOUND
 * "standby.unknown", COFFER_E_EXPIRED "standby.expired", COFFER_E_STATE
 * "standby.used"; then check(s, arg) (the MAC): its error is returned and
 * the session stays as it was. On 0 the session is consumed (past BD5: kept as
 * used, its S and evidence moved to out or wiped).
 */
/* The session id is consumed now, its S and evidence wiped (its answer
 * could not be made); nothing if there is none. */
void coord_standby_forget(struct coord_standbys *t, const uint8_t id[16]);

int coord_standby_take(struct coord_standbys *t, int64_t now_ms,
    const uint8_t id[16],
    int (*check)(const uint8_t s[COFFER_STANDBY_SECRET_LEN], void *arg),
    void *arg, struct coord_standby_taken *out)
	__attribute__((warn_unused_result));
/* Wipe and free what take() handed out. */
void coord_standby_taken_clear(struct coord_standby_taken *x);

/* Retire the sessions expired by now_ms (S and evidence wiped; the id
 * kept to answer standby.expired), drop those expired a lifetime ago. */
void coord_standbys_sweep(struct coord_standbys *t, int64_t now_ms);
/* Live (unused, unexpired at the last sweep or add) sessions, and the
 * evidence bytes they hold, for /metrics. */
size_t coord_standbys_live(const struct coord_standbys *t);
size_t coord_standbys_bytes(const struct coord_standbys *t);

#endif
