/* SPDX-License-Identifier: Apache-2.0 */
/* How the `coffer` commands that judge a coordinator's evidence set up the
 * verifier (`coffer coordinator verify`, `coffer receipt verify`): the
 * compiled-in roots, the collateral given, and the verification policy
 * (doc/format/evidence.md section 10): the default, or --verification's,
 * with the sim platform keys of --trust-sim-key added; and the measurement
 * a pin records. */
#ifndef COFFER_CLI_TRUST_CLI_H
#define COFFER_CLI_TRUST_CLI_H

#include <stddef.h>

#include "coffer/tee.h"
#include "proto/policy.h"

#define CLI_TRUST_MAX_LIST 16

struct cli_trust {
	const char *verification;   /* a verification policy file, or NULL */
	const char *coll[CLI_TRUST_MAX_LIST], *sim_keys[CLI_TRUST_MAX_LIST];
	size_t n_coll, n_sim;
};

/* Add a --collateral (collateral != 0) or --trust-sim-key value: -1 when
 * CLI_TRUST_MAX_LIST of them were given already, else 0. */
int cli_trust_add(struct cli_trust *t, int collateral, const char *arg);

/* The anchors (free with coffer_tee_anchors_free), the collateral (NULL
 * when none was given) and the verification policy. */
int cli_trust_make(const struct cli_trust *t, struct coffer_tee_anchors **anchors,
    struct coffer_tee_collateral **coll, struct coffer_tee_policy *tp)
	__attribute__((warn_unused_result));

/* The measurement a pin records for verified claims, in hex: the one of
 * doc/format/policy.md section 3.3, as for workers (key-release.md rule
 * ID4): SGX MRENCLAVE, TDX MRTD || RTMR0..3 (480 digits: MRTD alone
 * measures only the firmware, which boots anything), SEV-SNP MEASUREMENT,
 * sim measurement. */
#define CLI_TRUST_MEASUREMENT_HEX (2 * COFFER_POLICY_MEASUREMENT_MAX + 1)
int cli_trust_measurement_hex(const struct coffer_tee_claims *c,
    char out[CLI_TRUST_MEASUREMENT_HEX]) __attribute__((warn_unused_result));

#endif
