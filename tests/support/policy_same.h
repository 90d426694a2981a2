/* SPDX-License-Identifier: Apache-2.0 */
/* The differential check of the two readers of an approved policy
 * (doc/format/policy.md 4.1): coffer_policy_read_approved, one pass and
 * no tree, against coffer_policy_read_approved_tree, the jansson reader it
 * replaced. Header only, so that the unit test and the fuzz target
 * (tests/fuzz/fuzz_policy.c) share it without a link rule. */
#ifndef COFFER_TEST_POLICY_SAME_H
#define COFFER_TEST_POLICY_SAME_H

#include <string.h>

#include "proto/policy.h"

/* NULL if the two partial policies hold the same values, else what
 * differs first. */
static const char *__attribute__((unused))
policy_same_read(const struct coffer_policy *a, const struct coffer_policy *b)
{
	if (a->partial != b->partial || memcmp(a->hash, b->hash, 32) != 0)
		return "partial or hash";
	if (strcmp(a->coordinator.name, b->coordinator.name) != 0 ||
	    !coffer_policy_same_identity(&a->coordinator, &b->coordinator))
		return "coordinator";
	if (a->nowners != b->nowners)
		return "nowners";
	for (size_t i = 0; i < a->nowners; i++) {
		const struct coffer_policy_owner *x = &a->owners[i], *y = &b->owners[i];

		if (strcmp(x->id.name, y->id.name) != 0 ||
		    !coffer_policy_same_identity(&x->id, &y->id) ||
		    memcmp(x->fingerprint, y->fingerprint, 32) != 0 ||
		    x->first_dataset != y->first_dataset ||
		    x->ndatasets != y->ndatasets)
			return "an owner";
	}
	if (a->ndatasets != b->ndatasets)
		return "ndatasets";
	for (size_t i = 0; i < a->ndatasets; i++) {
		const struct coffer_policy_dataset *x = &a->datasets[i],
		    *y = &b->datasets[i];

		if (strcmp(x->name, y->name) != 0 ||
		    memcmp(x->key_id, y->key_id, 16) != 0 || x->owner != y->owner ||
		    x->nobjects != y->nobjects)
			return "a dataset";
		for (size_t j = 0; j < x->nobjects; j++)
			if (strcmp(x->objects[j].key, y->objects[j].key) != 0 ||
			    memcmp(x->objects[j].digest, y->objects[j].digest, 32) != 0)
				return "an object";
	}
	if (a->napps != b->napps)
		return "napps";
	for (size_t i = 0; i < a->napps; i++) {
		const struct coffer_policy_app *x = &a->apps[i], *y = &b->apps[i];

		if (strcmp(x->name, y->name) != 0 ||
		    memcmp(x->sha256, y->sha256, 32) != 0 || x->reduce != y->reduce ||
		    x->ndatasets != y->ndatasets ||
		    x->nmeasurements != y->nmeasurements || x->nparams != y->nparams)
			return "an app";
		for (size_t j = 0; j < x->ndatasets; j++)
			if (x->datasets[j] != y->datasets[j])
				return "an app's datasets";
		for (size_t j = 0; j < x->nmeasurements; j++)
			if (x->measurements[j].tee != y->measurements[j].tee ||
			    x->measurements[j].len != y->measurements[j].len ||
			    memcmp(x->measurements[j].value, y->measurements[j].value,
			    x->measurements[j].len) != 0)
				return "a measurement";
		for (size_t j = 0; j < x->nparams; j++) {
			const struct coffer_policy_param *u = &x->params[j],
			    *v = &y->params[j];

			if (strcmp(u->name, v->name) != 0 || u->nvalues != v->nvalues)
				return "a parameter";
			for (size_t k = 0; k < u->nvalues; k++)
				if (strcmp(u->values[k], v->values[k]) != 0)
					return "a parameter's value";
		}
	}
	return NULL;
}

#endif
