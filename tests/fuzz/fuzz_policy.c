// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the policy parser (src/proto/policy.c, rules P1 to
// P17): any text is parsed or refused cleanly; a policy that parses has a
// canonical form that parses again to the same hash, its items can be
// listed, and it differs from itself in no field.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_policy *p = NULL, *q = NULL;
	struct coffer_policy_item *items;
	unsigned mask;
	size_t n;

	if (coffer_policy_parse((const char *)data, size, &p) != 0)
		return 0;
	if (coffer_policy_parse((const char *)p->jcs.data, p->jcs.len, &q) != 0 ||
	    memcmp(p->hash, q->hash, 32) != 0)
		__builtin_trap();
	if (coffer_policy_changed(p, q, &mask) != 0 || mask != 0)
		__builtin_trap();
	for (size_t i = 0; i < p->napps; i++) {
		if (coffer_policy_items(p, &p->apps[i], &items, &n) != 0)
			__builtin_trap();
		for (size_t j = 0; j < n; j++)
			if (items[j].index != j || items[j].owner >= p->nowners)
				__builtin_trap();
		free(items);
	}
	coffer_policy_free(p);
	coffer_policy_free(q);
	return 0;
}
