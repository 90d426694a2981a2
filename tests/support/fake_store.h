/* SPDX-License-Identifier: Apache-2.0 */
/* An in-memory object store (src/store/store.h's ops) for tests and fuzz
 * targets of code that takes a store: objects in a list, and an error to
 * inject into get or put. Keys are checked by coffer_store_* as usual. */
#ifndef COFFER_TESTS_FAKE_STORE_H
#define COFFER_TESTS_FAKE_STORE_H

#include <stddef.h>

#include "store/store.h"

struct fake_store;

enum fake_op { FAKE_GET = 0, FAKE_PUT = 1 };

/* A new empty store; *fs is its inside, freed with the store. */
int fake_store_new(struct coffer_store **out, struct fake_store **fs);
/* Put an object directly (no failure injected). */
void fake_store_set(struct fake_store *fs, const char *key, const void *p,
    size_t n);
/* Make every later get or put fail with code (0: succeed again); the
 * detail says "injected get failure" / "injected put failure". */
void fake_store_fail(struct fake_store *fs, enum fake_op op, int code);
/* How many objects have keys starting with prefix. */
size_t fake_store_count(const struct fake_store *fs, const char *prefix);

#endif
