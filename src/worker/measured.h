/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's measured configuration (doc/worker.md section 9.2): the
 * file, part of the worker's measurement, that pins the coordinator a
 * confidential worker may talk to: its TEE type, its measurement, and the
 * verification policy its evidence must meet. An operator who points the
 * worker at another file changes the worker's measurement, so no policy
 * approves it; one who points it at another coordinator is refused. */
#ifndef COFFER_WORKER_MEASURED_H
#define COFFER_WORKER_MEASURED_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/tee.h"

#define MEASURED_MAX ((size_t)64 << 10)

struct measured_config {
	enum coffer_tee_type coord_tee;
	size_t coord_len;                 /* 32 (SGX) or 48 */
	uint8_t coord_measurement[48];
	struct coffer_tee_policy verification;
};

/* Rules MC1 to MC5 (doc/worker.md 9.2). COFFER_E_FORMAT naming the member
 * (COFFER_E_LIMIT, COFFER_E_VERSION where the rule says). */
int measured_config_parse(const char *text, size_t len,
    struct measured_config *out) __attribute__((warn_unused_result));

/* The coordinator measurement a TEE type's claims carry (ID4 of
 * doc/protocol/key-release.md: SGX MRENCLAVE, TDX MRTD, SEV-SNP and sim
 * MEASUREMENT), pointer into c and its length; COFFER_E_UNSUPPORTED
 * otherwise. */
int measured_coordinator_value(const struct coffer_tee_claims *c,
    const uint8_t **value, size_t *len) __attribute__((warn_unused_result));

#endif
