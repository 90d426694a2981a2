/* SPDX-License-Identifier: Apache-2.0 */
/* What the `coffer policy` and `coffer key upload` commands share: getting
 * a policy from the coordinator or a file and checking its hash, and
 * showing an owner exactly what it signs. */
#ifndef COFFER_CLI_POLICY_CLI_H
#define COFFER_CLI_POLICY_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/coord_client.h"
#include "proto/policy.h"

/*
 * The policy named by `what`: a file (when `what` is a path that exists),
 * else a policy hash (64 hex digits) fetched from the coordinator cc with
 * GET /v1/policies/{hash}. Either way it is parsed and validated (rules P1
 * to P17) and a fetched policy must hash to what was asked (a coordinator
 * cannot show one policy and count approvals for another). The policy
 * must name cc's pinned coordinator. *status (if not NULL) gets the
 * coordinator's status member (a new reference, or NULL for a file).
 */
int cli_policy_get(const struct cli_coord *cc, const char *what,
    struct coffer_policy **out, json_t **status)
	__attribute__((warn_unused_result));

/*
 * Print policy p as an owner must see it before approving: name, hash,
 * coordinator, expiry, previous version, every owner with its datasets
 * (every object of `me`'s datasets, the counts of others'; all with
 * full), every app with its measurements, parameters and datasets, the
 * verification object, recipients, limits, tolerance and the update rule;
 * INSECURE on top when sim measurements are accepted. me: the reader's
 * fingerprint (32 bytes) or NULL.
 */
void cli_policy_print(FILE *f, const struct coffer_policy *p,
    const uint8_t *me, int full);

/* Print a status member of the coordinator's answers. */
void cli_policy_print_status(FILE *f, const struct coffer_policy *p,
    const json_t *status);

#endif
