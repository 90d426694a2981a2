// SPDX-License-Identifier: Apache-2.0
// The in-memory object store of fake_store.h: a linked list of objects,
// listed in key order, plain malloc (tests only).
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "fake_store.h"

struct fake_obj {
	struct fake_obj *next;
	char *key;
	unsigned char *data;
	size_t len;
};

struct fake_store {
	struct fake_obj *objs;
	int fail[2];
};

static struct fake_obj *
find(struct fake_store *fs, const char *key)
{
	for (struct fake_obj *o = fs->objs; o != NULL; o = o->next)
		if (strcmp(o->key, key) == 0)
			return o;
	return NULL;
}

void
fake_store_set(struct fake_store *fs, const char *key, const void *p, size_t n)
{
	struct fake_obj *o = find(fs, key);

	if (o == NULL) {
		if ((o = calloc(1, sizeof(*o))) == NULL ||
		    (o->key = strdup(key)) == NULL)
			abort();
		o->next = fs->objs;
		fs->objs = o;
	}
	free(o->data);
	if ((o->data = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(o->data, p, n);
	o->len = n;
}

static int
f_put(void *impl, const char *key, const void *data, size_t len)
{
	struct fake_store *fs = impl;

	if (fs->fail[FAKE_PUT])
		return coffer_errf(fs->fail[FAKE_PUT], "injected put failure");
	fake_store_set(fs, key, data, len);
	return 0;
}

static int
f_get(void *impl, const char *key, size_t max, struct coffer_buf *out)
{
	struct fake_store *fs = impl;
	struct fake_obj *o;

	if (fs->fail[FAKE_GET])
		return coffer_errf(fs->fail[FAKE_GET], "injected get failure");
	if ((o = find(fs, key)) == NULL)
		return coffer_errf(COFFER_E_NOTFOUND, "object '%s' not found", key);
	if (o->len > max)
		return coffer_errf(COFFER_E_LIMIT, "object '%s' is %zu bytes, more"
		    " than the limit of %zu", key, o->len, max);
	return coffer_buf_put(out, o->data, o->len);
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
f_list(void *impl, const char *prefix, int (*fn)(const char *key, void *arg),
    void *arg)
{
	struct fake_store *fs = impl;
	size_t n = 0, i = 0;
	char **keys;
	int r = 0;

	for (struct fake_obj *o = fs->objs; o != NULL; o = o->next)
		n++;
	if ((keys = calloc(n + 1, sizeof(*keys))) == NULL)
		return COFFER_E_NOMEM;
	for (struct fake_obj *o = fs->objs; o != NULL; o = o->next)
		if (strncmp(o->key, prefix, strlen(prefix)) == 0)
			keys[i++] = o->key;
	qsort(keys, i, sizeof(*keys), cmp_keys);
	for (size_t j = 0; j < i && r == 0; j++)
		r = fn(keys[j], arg);
	free(keys);
	return r;
}

static int
f_del(void *impl, const char *key)
{
	struct fake_store *fs = impl;

	for (struct fake_obj **p = &fs->objs; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->key, key) == 0) {
			struct fake_obj *o = *p;

			*p = o->next;
			free(o->key);
			free(o->data);
			free(o);
			return 0;
		}
	return coffer_errf(COFFER_E_NOTFOUND, "object '%s' not found", key);
}

static void
f_free(void *impl)
{
	struct fake_store *fs = impl;

	while (fs->objs != NULL) {
		struct fake_obj *o = fs->objs;

		fs->objs = o->next;
		free(o->key);
		free(o->data);
		free(o);
	}
	free(fs);
}

static const struct coffer_store_ops fake_ops = {
	.name = "fake",
	.put = f_put,
	.get = f_get,
	.list = f_list,
	.del = f_del,
	.free = f_free,
};

int
fake_store_new(struct coffer_store **out, struct fake_store **fs)
{
	struct coffer_store *s = calloc(1, sizeof(*s));
	struct fake_store *f = calloc(1, sizeof(*f));

	if (s == NULL || f == NULL) {
		free(s);
		free(f);
		return COFFER_E_NOMEM;
	}
	s->ops = &fake_ops;
	s->impl = f;
	*out = s;
	*fs = f;
	return 0;
}

void
fake_store_fail(struct fake_store *fs, enum fake_op op, int code)
{
	fs->fail[op] = code;
}

size_t
fake_store_count(const struct fake_store *fs, const char *prefix)
{
	size_t n = 0;

	for (const struct fake_obj *o = fs->objs; o != NULL; o = o->next)
		n += strncmp(o->key, prefix, strlen(prefix)) == 0;
	return n;
}
