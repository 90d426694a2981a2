/* SPDX-License-Identifier: Apache-2.0 */
/* The sealed page store under the coordinator's SQLite: state.db (sealed
 * pages) and state.log (authenticated commit records), opened with the
 * state key, committed atomically and durably, with a root over every page
 * so that no mix of page versions opens. doc/format/sealed-state.md
 * sections 4 to 7. One thread uses a store. */
#ifndef COFFER_COORDINATOR_SEALSTORE_H
#define COFFER_COORDINATOR_SEALSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/pagecrypt.h"

#define SEALSTORE_PAGE 4096
#define SEALSTORE_SLOT (COFFER_PAGE_LEAF_LEN + SEALSTORE_PAGE)
#define SEALSTORE_HEADER 64
#define SEALSTORE_MAX_PAGES ((uint64_t)1 << 30)
#define SEALSTORE_MAX_COMMIT 16384            /* pages in one commit record */
#define SEALSTORE_CHECKPOINT ((size_t)16 << 20) /* log size that triggers one */

struct sealstore;

/*
 * Open the state in dir with its key and id (section 6): create state.db
 * and state.log if neither exists (rule O2), replay the log, check the
 * root, checkpoint. Takes an exclusive flock on state.db (COFFER_E_BUSY if
 * another process has it). Errors name the file and the rule: see
 * doc/format/sealed-state.md section 6.
 */
int sealstore_open(const char *dir, const uint8_t key[COFFER_STATE_KEY_LEN],
    const uint8_t state_id[COFFER_STATE_ID_LEN], struct sealstore **out)
	__attribute__((warn_unused_result));

/* Checkpoint (if nothing is left uncommitted), close, wipe. NULL: no-op. */
void sealstore_close(struct sealstore *s);

/* The counter of the last commit: the state's version (section 1). */
uint64_t sealstore_counter(const struct sealstore *s);

/* The size in pages, uncommitted writes and truncations included. */
uint64_t sealstore_pages(const struct sealstore *s);

/*
 * Page pgno (1-based) into page (SEALSTORE_PAGE bytes), uncommitted writes
 * included; a page of a state grown but not written reads as zeros.
 * COFFER_E_NOTFOUND past the end (page zeroed); COFFER_E_AUTH if the page
 * on disk is not the committed one (section 7.2).
 */
int sealstore_read(struct sealstore *s, uint64_t pgno, uint8_t *page)
	__attribute__((warn_unused_result));

/* Write page pgno (kept in memory until the commit; grows the state). */
int sealstore_write(struct sealstore *s, uint64_t pgno, const uint8_t *page)
	__attribute__((warn_unused_result));

/* Set the size to npages (until the commit). */
int sealstore_truncate(struct sealstore *s, uint64_t npages)
	__attribute__((warn_unused_result));

/*
 * Commit every write and truncation since the last commit as one record
 * (section 7.1): once it returns 0 the commit is durable. Nothing to
 * commit: 0. COFFER_E_LIMIT for more than SEALSTORE_MAX_COMMIT pages; on
 * any error nothing was committed and the writes are still pending.
 */
int sealstore_commit(struct sealstore *s) __attribute__((warn_unused_result));

/*
 * The same without the fdatasync (section 7.4): the record is in the log
 * (a killed process loses nothing) but a power loss may lose it and every
 * later lazy commit, never an earlier durable one, and never leaves a mix.
 * Its slots stay in memory until the next durable commit or checkpoint.
 */
int sealstore_commit_lazy(struct sealstore *s) __attribute__((warn_unused_result));

/* Make the lazy commits so far durable (section 7.4): fdatasync the log,
 * then their slots into state.db. None: 0. */
int sealstore_sync(struct sealstore *s) __attribute__((warn_unused_result));

/* Drop the uncommitted writes and truncations. */
void sealstore_discard(struct sealstore *s);

/* Checkpoint now (section 7.3). */
int sealstore_checkpoint(struct sealstore *s) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------
 * The pure format functions, for the store and its fuzz target.
 */

/* Check a 64-byte header of state.db (magic "CFSD", label
 * "coffer/state/db-header/v1") or state.log ("CFSL"): rules O3 to O7. */
int sealstore_header_check(const struct coffer_pagecrypt *pc, const uint8_t *h,
    size_t len, const char *magic, const char *label, const char *what)
	__attribute__((warn_unused_result));
/* Make one. */
int sealstore_header_make(const struct coffer_pagecrypt *pc, const char *magic,
    const char *label, uint8_t h[SEALSTORE_HEADER])
	__attribute__((warn_unused_result));

struct sealstore_record {
	int type;              /* 1 base, 2 commit */
	uint32_t count;
	uint64_t counter, npages;
	const uint8_t *entries; /* count * (4 + SEALSTORE_SLOT) bytes */
	const uint8_t *root;   /* 32 bytes */
	size_t len;            /* of the whole record */
};

/*
 * Parse the record at p[0..len) (section 4.2, rules O8 and O9): 0 and *out
 * if it is valid after prev (NULL: it must be the base record).
 * COFFER_E_TRUNCATED if it does not fit in len, COFFER_E_FORMAT or
 * COFFER_E_AUTH otherwise. out points into p.
 */
int sealstore_record_parse(const struct coffer_pagecrypt *pc, const uint8_t *p,
    size_t len, const struct sealstore_record *prev, struct sealstore_record *out)
	__attribute__((warn_unused_result));

/* The root (section 3.3) of n leaves of 32 bytes each. */
int sealstore_root(const uint8_t *leaves, uint64_t n, uint8_t root[32])
	__attribute__((warn_unused_result));

#endif
