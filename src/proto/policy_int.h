/* SPDX-License-Identifier: Apache-2.0 */
/* Policies: the parser's steps (policy.c) that the tree reader of approved
 * text (policy_tree.c) shares, and one comparison policy_query.c also
 * uses. Internal to src/proto. Errors name the member's path (ctx). */
#ifndef COFFER_PROTO_POLICY_INT_H
#define COFFER_PROTO_POLICY_INT_H

#include <stddef.h>

#include <jansson.h>

#include "proto/jfield.h"
#include "proto/policy.h"

/* obj's member key, an array of min to max elements, into *out (borrowed). */
int policy_array_of(const json_t *obj, const char *ctx, const char *key,
    size_t min, size_t max, json_t **out);
/* A new policy holding the parsed text (P1's parse, PA2's). */
int policy_new(const char *text, size_t len, const char *what,
    struct coffer_policy **out);
/* P6, and P7 for each dataset alone (PA4): owners, their datasets' names
 * and key ids. */
int policy_read_owners(struct coffer_policy *p, const json_t *root);
/* P8: the objects of one dataset; *total counts them across datasets. */
int policy_parse_objects(struct coffer_policy_dataset *d, const json_t *ds,
    const char *ctx, size_t *total);
/* P9 to P12 for one app, a: its members as JSON (path ap). */
int policy_parse_app(const struct coffer_policy *p, struct coffer_policy_app *a,
    const json_t *app, const char *ap);
/* The json path of dataset j of owner i. */
void policy_dataset_path(char dp[COFFER_JFIELD_PATH_MAX], size_t i, size_t j);
/* The dataset object of policy p's dataset d (an index). */
const json_t *policy_dataset_json(const struct coffer_policy *p,
    const json_t *root, size_t d);
/* 1 if a and b are the same measurement. */
int policy_same_measurement(const struct coffer_policy_measurement *a,
    const struct coffer_policy_measurement *b);

#endif
