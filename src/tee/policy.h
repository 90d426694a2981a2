/* SPDX-License-Identifier: Apache-2.0 */
/* The verification policy for modules that hold it inside a JSON document
 * they parsed themselves: the "verification" member of a Coffer policy
 * (doc/format/policy.md; its own form: doc/format/evidence.md section 10).
 * Everything else is in include/coffer/tee.h. */
#ifndef COFFER_TEE_POLICY_H
#define COFFER_TEE_POLICY_H

#include <jansson.h>

#include "coffer/tee.h"

/*
 * coffer_tee_policy_parse() on an already parsed value (from
 * coffer_json_parse(), so its size, depth and duplicate keys are checked):
 * the same rules V2-V11, errors naming "verification.<member>".
 */
int coffer_tee_policy_from_json(const json_t *obj, struct coffer_tee_policy *out)
	__attribute__((warn_unused_result));

#endif
