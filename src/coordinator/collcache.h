/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's collateral cache (doc/protocol/collateral.md section
 * 3): pushes (parsed by src/proto/collpush.h, rules C1 to C3) checked (C4
 * to C6), kept newest per slot within bounds (C7) in the durable state,
 * and added to the collateral object every release verifies with. */
#ifndef COFFER_COORDINATOR_COLLCACHE_H
#define COFFER_COORDINATOR_COLLCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>


#define COORD_COLL_MAX_ITEMS 256                /* the cache, C7 */
#define COORD_COLL_MAX_BYTES ((size_t)16 << 20)

struct coord;
struct coffer_collpush;

/* What the cache holds, for /metrics and answers. */
struct coord_coll_summary {
	size_t items, bytes;
	int64_t earliest_expiry;   /* INT64_MAX: none */
};

/*
 * At start: add every stored item to c->collateral (strictly, chains
 * first); an item the roots no longer accept is logged and skipped.
 */
int coord_coll_load(struct coord *c) __attribute__((warn_unused_result));

/*
 * Apply a push (rules C4 to C7, section 3.3): on success *answer is the
 * 200 body of section 3.4. On a refusal, *reason gets its name
 * ("collateral.malformed", ...; NULL for an internal failure) and the
 * error detail says why, naming the item; nothing of the push is kept.
 */
int coord_coll_apply(struct coord *c, const struct coffer_collpush *p,
    const char **reason, json_t **answer) __attribute__((warn_unused_result));

/* The GET /v1/collateral body (section 3.4). */
int coord_coll_list(struct coord *c, json_t **answer)
	__attribute__((warn_unused_result));

#endif
