/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite on a sealed store: a VFS whose only file is the store's pages,
 * so that nothing SQLite writes reaches the disk unsealed and every
 * SQLite commit is one durable store commit. doc/format/sealed-state.md
 * section 8. */
#ifndef COFFER_COORDINATOR_SEALVFS_H
#define COFFER_COORDINATOR_SEALVFS_H

#include <stdint.h>

#include <sqlite3.h>

#include "crypto/pagecrypt.h"

struct sealdb;

/*
 * Open the sealed store of dir with the state key and id
 * (sealstore_open: recovery, checks, section 6) and SQLite on it, with the
 * pragmas of section 8 set and checked. Errors: those of sealstore_open;
 * COFFER_E_DB if SQLite refuses.
 */
int sealdb_open(const char *dir, const uint8_t key[COFFER_STATE_KEY_LEN],
    const uint8_t state_id[COFFER_STATE_ID_LEN], struct sealdb **out)
	__attribute__((warn_unused_result));

/* The SQLite handle (owned by the sealdb; one thread). */
sqlite3 *sealdb_handle(struct sealdb *d);

/* The counter of the last commit: the state's version (section 1). */
uint64_t sealdb_version(const struct sealdb *d);

/*
 * Make the following commits durable (on, the default: every SQLite
 * commit is fsynced before it returns) or lazy (off: in the log at once,
 * so a killed process loses nothing, fsynced with the next durable commit;
 * doc/format/sealed-state.md section 7.4). For writes whose loss in a power
 * failure is acceptable, such as a worker's release session.
 */
void sealdb_set_durable(struct sealdb *d, int on);

/* Make every lazy commit so far durable (section 7.4: the log's
 * fdatasync, then their slots into state.db). Nothing lazy: 0. */
int sealdb_sync(struct sealdb *d) __attribute__((warn_unused_result));

/* The store's error behind SQLite's last I/O error ("" if none), so that
 * a failed statement can say what really failed. */
const char *sealdb_last_error(const struct sealdb *d);

/* Close SQLite, then the store (a checkpoint). NULL is a no-op. */
void sealdb_close(struct sealdb *d);

#endif
