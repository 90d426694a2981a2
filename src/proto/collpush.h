/* SPDX-License-Identifier: Apache-2.0 */
/* Collateral pushes (doc/protocol/collateral.md section 3.1): the body
 * `coffer collateral push` sends and the coordinator parses (rules C1 to
 * C3). What the items hold is judged by src/tee (rules C4 to C6) and the
 * coordinator's cache (C7). */
#ifndef COFFER_PROTO_COLLPUSH_H
#define COFFER_PROTO_COLLPUSH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define COFFER_COLLPUSH_MAX ((size_t)2 << 20)      /* the body */
#define COFFER_COLLPUSH_ITEMS 64
#define COFFER_COLLPUSH_ITEM_MAX ((size_t)1 << 20) /* decoded */
#define COFFER_COLLPUSH_NAME_MAX 100

struct coffer_collpush_item {
	char name[COFFER_COLLPUSH_NAME_MAX + 1];
	struct coffer_buf data;
};

struct coffer_collpush {
	struct coffer_collpush_item *items;
	size_t n;
};

/* 1 if name follows rule C3: 1 to 100 of A-Z a-z 0-9 . _ -, not starting
 * with '.'. */
int coffer_collpush_name_ok(const char *name);

/*
 * Append an item (the bytes are copied). Errors: COFFER_E_INVAL for a name
 * that breaks C3 or repeats, COFFER_E_LIMIT for a 65th item or more than
 * 1 MiB, COFFER_E_FORMAT for no bytes; the detail names the item.
 */
int coffer_collpush_add(struct coffer_collpush *p, const char *name,
    const uint8_t *data, size_t len) __attribute__((warn_unused_result));

/* The body of section 3.1 for p (at least one item), appended to out. */
int coffer_collpush_make(const struct coffer_collpush *p, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/*
 * Parse a body (rules C1 to C3). Errors: COFFER_E_FORMAT (COFFER_E_VERSION
 * for another version, COFFER_E_LIMIT for sizes), the detail naming the
 * member ("items[3].data: ..."). *out is written only on success.
 */
int coffer_collpush_parse(const char *body, size_t len, struct coffer_collpush *out)
	__attribute__((warn_unused_result));

void coffer_collpush_release(struct coffer_collpush *p);

#endif
