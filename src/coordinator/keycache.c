// SPDX-License-Identifier: Apache-2.0
// Unwrapped data keys in memory (coord.h). A flat array: a coordinator
// holds the keys of a few policies' datasets, not millions.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "lib/mem.h"

struct entry {
	uint8_t id[16];
	uint8_t key[32];
};

struct coord_keycache {
	struct entry *v;
	size_t n, cap;
};

int
coord_keycache_new(struct coord_keycache **out)
{
	if ((*out = coffer_calloc(1, sizeof(**out))) == NULL)
		return COFFER_E_NOMEM;
	return 0;
}

void
coord_keycache_free(struct coord_keycache *k)
{
	if (k == NULL)
		return;
	if (k->v != NULL)
		coffer_free_secret(k->v, k->cap * sizeof(*k->v));
	free(k);
}

int
coord_keycache_get(const struct coord_keycache *k, const uint8_t id[16],
    uint8_t key[32])
{
	for (size_t i = 0; i < k->n; i++)
		if (memcmp(k->v[i].id, id, 16) == 0) {
			memcpy(key, k->v[i].key, 32);
			return 1;
		}
	return 0;
}

int
coord_keycache_put(struct coord_keycache *k, const uint8_t id[16],
    const uint8_t key[32])
{
	uint8_t old[32];
	struct entry *v;

	if (coord_keycache_get(k, id, old)) {
		coffer_wipe(old, sizeof(old));
		return 0;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 16;

		/* Never realloc: the old block would be freed unwiped. */
		if ((v = coffer_calloc(cap, sizeof(*v))) == NULL)
			return COFFER_E_NOMEM;
		if (k->v != NULL) {
			memcpy(v, k->v, k->n * sizeof(*v));
			coffer_free_secret(k->v, k->cap * sizeof(*k->v));
		}
		k->v = v;
		k->cap = cap;
	}
	memcpy(k->v[k->n].id, id, 16);
	memcpy(k->v[k->n].key, key, 32);
	k->n++;
	return 0;
}
