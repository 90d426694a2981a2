// SPDX-License-Identifier: Apache-2.0
// Per-job keys (jobkeys.h). HKDF with a label per purpose (RFC 5869
// section 3.2: info binds the key to its use), a policy hash and a
// context (job id or app name): two jobs, two policies or two purposes
// never share a key, and a restarted coordinator derives the same keys, so
// a job survives it. The context comes last and is the only
// variable-length part, so no two inputs give the same info.
#include <string.h>

#include "coffer/error.h"
#include "coordinator/jobkeys.h"
#include "crypto/kdf.h"
#include "lib/mem.h"

#define SALT "coffer/coordinator-keys/v1"

int
coord_jobkey_derive(const uint8_t root[32], enum coord_jobkey kind,
    const uint8_t policy[32], const void *context, size_t len,
    uint8_t out[COORD_JOBKEY_LEN])
{
	uint8_t info[64 + 32 + COORD_JOB_ID_MAX];
	const char *label;
	size_t n;
	int r;

	switch (kind) {
	case COORD_KEY_OUTPUT: label = "coffer/output-key/v1"; break;
	case COORD_KEY_INTERMEDIATE: label = "coffer/intermediate-key/v1"; break;
	case COORD_KEY_APP_SECRET: label = "coffer/app-secret/v1"; break;
	default:
		return coffer_errf(COFFER_E_INVAL, "job key: unknown kind %d", kind);
	}
	if (context == NULL || len == 0 || len > COORD_JOB_ID_MAX)
		return coffer_errf(COFFER_E_INVAL, "job key: a context of 1 to %d "
		    "bytes is needed", COORD_JOB_ID_MAX);
	n = strlen(label) + 1; /* with its NUL */
	memcpy(info, label, n);
	memcpy(info + n, policy, 32);
	n += 32;
	memcpy(info + n, context, len);
	n += len;
	r = coffer_hkdf_sha256((const uint8_t *)SALT, sizeof(SALT) - 1, root, 32,
	    info, n, out, COORD_JOBKEY_LEN);
	coffer_wipe(info, sizeof(info));
	return r;
}
