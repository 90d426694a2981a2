/* SPDX-License-Identifier: Apache-2.0 */
/* Where a confidential job's keys live in the runner (doc/worker.md 9.1):
 * one private mapping, locked in memory, left out of core dumps, and
 * zeroed in every child the runner forks (MADV_WIPEONFORK), so that the
 * moment between fork() and execve() of an app or the plugin host holds
 * no key either. Wiped and unmapped by keys_free(). */
#ifndef COFFER_WORKER_KEYS_H
#define COFFER_WORKER_KEYS_H

#include <stddef.h>
#include <stdint.h>

struct data_key {
	uint8_t key_id[16];
	uint8_t key[32];
};

struct job_keys {
	uint8_t session_key[32];      /* MACs item proofs, checks answers */
	uint8_t output_key[32];       /* seals final outputs */
	uint8_t intermediate_key[32]; /* seals map outputs of a reduce job */
	uint8_t app_secret[32];       /* the app's own (coffer.app_secret) */
	/* A standby worker's S (doc/protocol/key-release.md 6.7) from its
	 * standby answer to its bind, then wiped (doc/worker.md 9.9). */
	uint8_t standby_secret[64];
	size_t ndata;
	struct data_key data[];       /* opens the inputs, one per dataset */
};

/* A zeroed key page for ndata data keys; NULL on failure (detail set).
 * Failing to lock or to mark the page is not an error (logged once). */
struct job_keys *keys_new(size_t ndata);
/* The data key with this key id, or NULL. */
const uint8_t *keys_data(const struct job_keys *k, const uint8_t key_id[16]);
/* Wipe and unmap. NULL is a no-op. */
void keys_free(struct job_keys *k);

#endif
