// SPDX-License-Identifier: Apache-2.0
// Collateral push bodies (collpush.h, doc/protocol/collateral.md section
// 3.1): one encoder for the CLI and one parser for the coordinator, so
// that what one sends the other reads, and the rules are in one place.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/collpush.h"
#include "proto/jfield.h"

int
coffer_collpush_name_ok(const char *n)
{
	size_t len = strlen(n);

	return len >= 1 && len <= COFFER_COLLPUSH_NAME_MAX && n[0] != '.' &&
	    strspn(n, COFFER_JFIELD_NAME) == len;
}

void
coffer_collpush_release(struct coffer_collpush *p)
{
	for (size_t i = 0; i < p->n; i++)
		coffer_buf_release(&p->items[i].data);
	free(p->items);
	memset(p, 0, sizeof(*p));
}

/* A new, empty item named name (C3). */
static struct coffer_collpush_item *
item_new(struct coffer_collpush *p, const char *name, int *err)
{
	struct coffer_collpush_item *it;

	if (!coffer_collpush_name_ok(name)) {
		*err = coffer_errf(COFFER_E_INVAL, "%s: a collateral item's name is 1 "
		    "to %d of A-Z a-z 0-9 . _ - and does not start with '.'", name,
		    COFFER_COLLPUSH_NAME_MAX);
		return NULL;
	}
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].name, name) == 0) {
			*err = coffer_errf(COFFER_E_INVAL, "%s: two items of that name",
			    name);
			return NULL;
		}
	if (p->n == COFFER_COLLPUSH_ITEMS) {
		*err = coffer_errf(COFFER_E_LIMIT, "more than %d collateral items in "
		    "one push", COFFER_COLLPUSH_ITEMS);
		return NULL;
	}
	if ((it = coffer_reallocarray(p->items, p->n + 1, sizeof(*it))) == NULL) {
		*err = COFFER_E_NOMEM;
		return NULL;
	}
	p->items = it;
	it = &p->items[p->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", name);
	coffer_buf_init(&it->data, COFFER_COLLPUSH_ITEM_MAX);
	*err = 0;
	return it;
}

int
coffer_collpush_add(struct coffer_collpush *p, const char *name,
    const uint8_t *data, size_t len)
{
	struct coffer_collpush_item *it;
	int r;

	if (len == 0)
		return coffer_errf(COFFER_E_FORMAT, "%s: empty", name);
	if (len > COFFER_COLLPUSH_ITEM_MAX)
		return coffer_errf(COFFER_E_LIMIT, "%s: %zu bytes, more than %zu", name,
		    len, COFFER_COLLPUSH_ITEM_MAX);
	if ((it = item_new(p, name, &r)) == NULL)
		return r;
	return coffer_buf_put(&it->data, data, len);
}

int
coffer_collpush_make(const struct coffer_collpush *p, struct coffer_buf *out)
{
	int r;

	if (p->n == 0)
		return coffer_errf(COFFER_E_INVAL, "a collateral push of no item");
	/* Names follow C3: no escaping is needed. */
	if ((r = coffer_buf_puts(out, "{\"type\":\"coffer-collateral\",\"version\":1,"
	    "\"items\":[")) != 0)
		return r;
	for (size_t i = 0; i < p->n; i++)
		if ((r = coffer_buf_putf(out, "%s{\"name\":\"%s\",\"data\":\"",
		    i > 0 ? "," : "", p->items[i].name)) != 0 ||
		    (r = coffer_b64url_put(out, p->items[i].data.data,
		    p->items[i].data.len)) != 0 ||
		    (r = coffer_buf_puts(out, "\"}")) != 0)
			return r;
	return coffer_buf_puts(out, "]}");
}

static int
parse_item(const json_t *o, size_t i, struct coffer_collpush *p)
{
	static const char *const keys[] = { "name", "data", NULL };
	struct coffer_collpush_item *it;
	char ctx[COFFER_JFIELD_PATH_MAX], path[COFFER_JFIELD_PATH_MAX];
	const char *name;
	int r;

	coffer_jfield_index(ctx, "items", i);
	if (!json_is_object(o))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an object", ctx);
	if ((r = coffer_jfield_keys(o, ctx, keys, NULL)) != 0 ||
	    (r = coffer_jfield_str(o, ctx, "name", 1, COFFER_COLLPUSH_NAME_MAX,
	    COFFER_JFIELD_NAME, &name)) != 0)
		return r;
	coffer_jfield_path(path, ctx, "name");
	if (name[0] == '.')
		return coffer_errf(COFFER_E_FORMAT, "%s: starts with '.'", path);
	if ((it = item_new(p, name, &r)) == NULL)
		return coffer_errf(r == COFFER_E_NOMEM ? r : COFFER_E_FORMAT,
		    "%s: \"%s\" is given twice", path, name);
	return coffer_jfield_blob(o, ctx, "data", COFFER_COLLPUSH_ITEM_MAX, &it->data);
}

int
coffer_collpush_parse(const char *body, size_t len, struct coffer_collpush *out)
{
	static const char *const keys[] = { "type", "version", "items", NULL };
	struct coffer_collpush p = { NULL, 0 };
	json_t *j = NULL, *items;
	size_t n;
	int r;

	/* C1 */
	if ((r = coffer_json_parse(body, len, COFFER_COLLPUSH_MAX, 32, &j)) != 0)
		return r;
	/* C2 */
	if (!json_is_object(j)) {
		r = coffer_errf(COFFER_E_FORMAT, "the body is not a JSON object");
		goto out;
	}
	if ((r = coffer_jfield_keys(j, NULL, keys, NULL)) != 0 ||
	    (r = coffer_jfield_type(j, NULL, "coffer-collateral")) != 0 ||
	    (r = coffer_jfield_version(j, NULL)) != 0)
		goto out;
	/* C3 */
	items = json_object_get(j, "items");
	n = json_array_size(items);
	if (!json_is_array(items) || n == 0 || n > COFFER_COLLPUSH_ITEMS) {
		r = coffer_errf(COFFER_E_FORMAT, "items: an array of 1 to %d entries",
		    COFFER_COLLPUSH_ITEMS);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = parse_item(json_array_get(items, i), i, &p)) != 0)
			goto out;
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	coffer_collpush_release(&p);
	json_decref(j);
	return r;
}
