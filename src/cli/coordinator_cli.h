/* SPDX-License-Identifier: Apache-2.0 */
/* What the verbs of `coffer coordinator` share (cmd_coordinator.c,
 * cmd_recover.c): their options, and how a coordinator's evidence is
 * checked (trust_cli.h). */
#ifndef COFFER_CLI_COORDINATOR_CLI_H
#define COFFER_CLI_COORDINATOR_CLI_H

#include <stddef.h>

#include "cli/trust_cli.h"
#include "coffer/tee.h"

struct opts {
	const char *expect, *pin_file, *id;
	struct cli_trust t;   /* --verification, --collateral, --trust-sim-key */
	int replace;
};

/* Parse the options of a verb: -1 to go on, else an exit code. */
int cli_coordinator_parse(const char *cmd, int argc, char **argv,
    struct opts *o);
/* Print the fatal reasons of rejected evidence. */
void cli_coordinator_rejection(const char *cmd, const struct coffer_tee_claims *c);

/* cmd_recover.c: `coffer coordinator recovery` and `recover`
 * (doc/format/recovery.md section 7). */
int cli_coordinator_recovery(int argc, char **argv);
int cli_coordinator_recover(int argc, char **argv);

#endif
