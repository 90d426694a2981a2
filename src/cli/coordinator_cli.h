/* SPDX-License-Identifier: Apache-2.0 */
/* What the verbs of `coffer coordinator` share (cmd_coordinator.c,
 * cmd_recover.c): their options, and how a coordinator's evidence is
 * checked. */
#ifndef COFFER_CLI_COORDINATOR_CLI_H
#define COFFER_CLI_COORDINATOR_CLI_H

#include <stddef.h>

#include "coffer/tee.h"
#include "proto/policy.h"

#define CLI_COORD_MAX_LIST 16

struct opts {
	const char *expect, *pin_file, *verification, *id;
	const char *coll[CLI_COORD_MAX_LIST], *sim_keys[CLI_COORD_MAX_LIST];
	size_t n_coll, n_sim;
	int replace;
};

/* Parse the options of a verb: -1 to go on, else an exit code. */
int cli_coordinator_parse(const char *cmd, int argc, char **argv,
    struct opts *o);
/* The roots, the collateral, and the verification policy (the default
 * one, or --verification's, with the --trust-sim-key keys added). */
int cli_coordinator_trust(const struct opts *o,
    struct coffer_tee_anchors **anchors, struct coffer_tee_collateral **coll,
    struct coffer_tee_policy *tp) __attribute__((warn_unused_result));
/* The measurement a pin holds for these claims, in hex: the one of
 * doc/format/policy.md section 3.3 (TDX: MRTD || RTMR0..3, 480 digits). */
#define CLI_COORD_MEASUREMENT_HEX (2 * COFFER_POLICY_MEASUREMENT_MAX + 1)
int cli_coordinator_measurement(const struct coffer_tee_claims *c,
    char out[CLI_COORD_MEASUREMENT_HEX]) __attribute__((warn_unused_result));
/* Print the fatal reasons of rejected evidence. */
void cli_coordinator_rejection(const char *cmd, const struct coffer_tee_claims *c);

/* cmd_recover.c: `coffer coordinator recovery` and `recover`
 * (doc/format/recovery.md section 7). */
int cli_coordinator_recovery(int argc, char **argv);
int cli_coordinator_recover(int argc, char **argv);

#endif
