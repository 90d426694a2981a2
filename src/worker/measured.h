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
#include "proto/policy.h"

#define MEASURED_MAX ((size_t)64 << 10)

struct measured_config {
	/* The coordinator's TEE type and measurement (doc/format/policy.md
	 * section 3.3, as coffer coordinator verify --expect takes it: for
	 * TDX MRTD || RTMR0..3). */
	struct coffer_policy_measurement coord;
	struct coffer_tee_policy verification;
};

/* Rules MC1 to MC5 (doc/worker.md 9.2). COFFER_E_FORMAT naming the member
 * (COFFER_E_LIMIT, COFFER_E_VERSION where the rule says). */
int measured_config_parse(const char *text, size_t len,
    struct measured_config *out) __attribute__((warn_unused_result));

/* CA4 and CA5 (doc/worker.md 9.3): the verified claims c are of the TEE
 * type and have the measurement mc pins. COFFER_E_POLICY naming the rule
 * otherwise. */
int measured_coordinator_check(const struct measured_config *mc,
    const struct coffer_tee_claims *c) __attribute__((warn_unused_result));

#endif
