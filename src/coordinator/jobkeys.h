/* SPDX-License-Identifier: Apache-2.0 */
/* The keys the coordinator makes for a job rather than receives from an
 * owner: derived from its root secret, so that every worker of a job gets
 * the same ones and nothing per job has to be stored (doc/coordinator.md
 * section 6). */
#ifndef COFFER_COORDINATOR_JOBKEYS_H
#define COFFER_COORDINATOR_JOBKEYS_H

#include <stddef.h>
#include <stdint.h>

#define COORD_JOBKEY_LEN 32
#define COORD_JOB_ID_MAX 64

enum coord_jobkey {
	COORD_KEY_OUTPUT = 1,       /* seals final outputs; wrapped to recipients */
	COORD_KEY_INTERMEDIATE = 2, /* seals map outputs; never leaves workers */
	COORD_KEY_PROOF = 3,        /* MACs one worker session's item proofs */
	COORD_KEY_APP_SECRET = 4,   /* the app's own secret (pseudonym key) */
};

/*
 * out = HKDF-SHA-256(salt = "coffer/coordinator-keys/v1", ikm = root,
 *                    info = label || 0x00 || policy_hash || context)
 * with label and context by kind:
 *   OUTPUT        "coffer/output-key/v1",       context = job id
 *   INTERMEDIATE  "coffer/intermediate-key/v1", context = job id
 *   PROOF         "coffer/proof-key/v1",        context = worker_pk (32) || job id
 *   APP_SECRET    "coffer/app-secret/v1",       context = empty
 * job: 1 to COORD_JOB_ID_MAX bytes (ignored for APP_SECRET); worker_pk
 * only for PROOF. Errors: COFFER_E_INVAL.
 */
int coord_jobkey_derive(const uint8_t root[32], enum coord_jobkey kind,
    const uint8_t policy_hash[32], const char *job, size_t joblen,
    const uint8_t *worker_pk, uint8_t out[COORD_JOBKEY_LEN])
	__attribute__((warn_unused_result));

#endif
