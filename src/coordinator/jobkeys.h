/* SPDX-License-Identifier: Apache-2.0 */
/* The keys the coordinator makes for a job rather than receives from an
 * owner (doc/protocol/key-release.md section 1): derived from its root
 * secret, so that every worker of a job gets the same ones, a restart
 * derives them again, and nothing per job has to be stored
 * (doc/coordinator.md section 6). Session keys are random instead. */
#ifndef COFFER_COORDINATOR_JOBKEYS_H
#define COFFER_COORDINATOR_JOBKEYS_H

#include <stddef.h>
#include <stdint.h>

#define COORD_JOBKEY_LEN 32
#define COORD_JOB_ID_MAX 64

enum coord_jobkey {
	COORD_KEY_OUTPUT = 1,       /* seals final outputs; wrapped to recipients */
	COORD_KEY_INTERMEDIATE = 2, /* seals map outputs; never leaves workers */
	COORD_KEY_APP_SECRET = 3,   /* the app's own secret (pseudonym key) */
};

/*
 * out = HKDF-SHA-256(salt = "coffer/coordinator-keys/v1", ikm = root,
 *                    info = label || 0x00 || policy || context)
 * with label, policy and context by kind:
 *   OUTPUT        "coffer/output-key/v1",       the job's policy hash, the job id (16)
 *   INTERMEDIATE  "coffer/intermediate-key/v1", the job's policy hash, the job id (16)
 *   APP_SECRET    "coffer/app-secret/v1",       the hash of the first version of
 *                                               the policy chain, the app name
 * (the app secret stays the same for every job of the app under every
 * version of the policy: a de-identifier's pseudonyms are stable).
 * context: 1 to COORD_JOB_ID_MAX bytes. Errors: COFFER_E_INVAL.
 */
int coord_jobkey_derive(const uint8_t root[32], enum coord_jobkey kind,
    const uint8_t policy[32], const void *context, size_t len,
    uint8_t out[COORD_JOBKEY_LEN]) __attribute__((warn_unused_result));

#endif
