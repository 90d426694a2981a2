// SPDX-License-Identifier: Apache-2.0
// The object-store front end (store/store.h): key rules shared by every
// backend, and the choice of backend from a location string.
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coffer/error.h"
#include "lib/mem.h"
#include "store/store.h"

int
coffer_store_is_tmp_name(const char *c, size_t n)
{
	/* ".tmp-" and 12 lower-case hex digits (lib/file.c's temp names). */
	if (n < 17 || memcmp(c + n - 17, ".tmp-", 5) != 0)
		return 0;
	for (size_t i = n - 12; i < n; i++)
		if (!((c[i] >= '0' && c[i] <= '9') || (c[i] >= 'a' && c[i] <= 'f')))
			return 0;
	return 1;
}

int
coffer_store_check_key(const char *key)
{
	size_t n, start = 0;

	if (key == NULL || (n = strnlen(key, COFFER_STORE_KEY_MAX + 1)) == 0)
		return coffer_errf(COFFER_E_FORMAT, "object key is empty");
	if (n > COFFER_STORE_KEY_MAX)
		return coffer_errf(COFFER_E_FORMAT, "object key is longer than %d bytes",
		    COFFER_STORE_KEY_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c <= 0x20 || c >= 0x7f)
			return coffer_errf(COFFER_E_FORMAT, "object key: byte %zu is"
			    " 0x%02x, not printable ASCII without space", i + 1, c);
	}
	for (size_t i = 0; i <= n; i++) {
		if (i < n && key[i] != '/')
			continue;
		{
			const char *c = key + start;
			size_t len = i - start;

			if (len == 0)
				return coffer_errf(COFFER_E_FORMAT, "object key '%s': empty"
				    " path component", key);
			if ((len == 1 && c[0] == '.') ||
			    (len == 2 && c[0] == '.' && c[1] == '.'))
				return coffer_errf(COFFER_E_FORMAT, "object key '%s': '.' and"
				    " '..' components are not allowed", key);
			if (coffer_store_is_tmp_name(c, len))
				return coffer_errf(COFFER_E_FORMAT, "object key '%s': names"
				    " ending in .tmp-<12 hex> are reserved", key);
		}
		start = i + 1;
	}
	return 0;
}

int
coffer_store_open(const char *location, int create, struct coffer_store **out)
{
	if (location == NULL || location[0] == '\0')
		return coffer_errf(COFFER_E_INVAL, "object store: no location");
	if (strncmp(location, "file://", 7) == 0) {
		if (location[7] != '/')
			return coffer_errf(COFFER_E_FORMAT, "object store '%s': file://"
			    " needs an absolute path (file:///dir)", location);
		return coffer_store_local_new(location + 7, create, out);
	}
	if (strncmp(location, "s3://", 5) == 0 || strncmp(location, "swift://", 8) == 0)
		return coffer_errf(COFFER_E_UNSUPPORTED, "object store '%s': the S3 and"
		    " Swift backends are not built yet", location);
	if (strstr(location, "://") != NULL)
		return coffer_errf(COFFER_E_UNSUPPORTED, "object store '%s': unknown"
		    " scheme", location);
	return coffer_store_local_new(location, create, out);
}

int
coffer_store_same_location(const char *a, const char *b)
{
	struct stat sa, sb;

	if (a == NULL || b == NULL)
		return 0;
	if (strncmp(a, "file://", 7) == 0)
		a += 7;
	if (strncmp(b, "file://", 7) == 0)
		b += 7;
	/* Identity, not spelling: "dir", "./dir/", "/abs/dir" and a link to
	 * it are one directory (the store resolves its root with realpath). */
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISDIR(sa.st_mode) &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int
coffer_store_put(struct coffer_store *s, const char *key, const void *data,
    size_t len)
{
	int r;

	if ((r = coffer_store_check_key(key)) != 0)
		return r;
	return s->ops->put(s->impl, key, data, len);
}

int
coffer_store_get(struct coffer_store *s, const char *key, size_t max,
    struct coffer_buf *out)
{
	int r;

	if ((r = coffer_store_check_key(key)) != 0)
		return r;
	return s->ops->get(s->impl, key, max, out);
}

int
coffer_store_open_read(struct coffer_store *s, const char *key, size_t max,
    int *fd, uint64_t *size)
{
	int r;

	if ((r = coffer_store_check_key(key)) != 0)
		return r;
	if (s->ops->open_read == NULL)
		return coffer_errf(COFFER_E_UNSUPPORTED, "the %s store cannot give"
		    " an object in pieces", s->ops->name);
	return s->ops->open_read(s->impl, key, max, fd, size);
}

struct coffer_store_put {
	const struct coffer_store_ops *ops;
	void *h;
};

int
coffer_store_put_open(struct coffer_store *s, const char *key,
    struct coffer_store_put **out)
{
	struct coffer_store_put *p;
	int r;

	if ((r = coffer_store_check_key(key)) != 0)
		return r;
	if (s->ops->put_open == NULL)
		return coffer_errf(COFFER_E_UNSUPPORTED, "the %s store cannot take"
		    " an object in pieces", s->ops->name);
	if ((p = coffer_calloc(1, sizeof(*p))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "object '%s'", key);
	p->ops = s->ops;
	if ((r = s->ops->put_open(s->impl, key, &p->h)) != 0) {
		free(p);
		return r;
	}
	*out = p;
	return 0;
}

int
coffer_store_put_write(struct coffer_store_put *p, const void *data, size_t len)
{
	return p->ops->put_write(p->h, data, len);
}

int
coffer_store_put_commit(struct coffer_store_put *p)
{
	int r = p->ops->put_commit(p->h);

	free(p);
	return r;
}

void
coffer_store_put_abort(struct coffer_store_put *p)
{
	if (p == NULL)
		return;
	p->ops->put_abort(p->h);
	free(p);
}

int
coffer_store_list(struct coffer_store *s, const char *prefix,
    int (*fn)(const char *key, void *arg), void *arg)
{
	return s->ops->list(s->impl, prefix ? prefix : "", fn, arg);
}

int
coffer_store_del(struct coffer_store *s, const char *key)
{
	int r;

	if ((r = coffer_store_check_key(key)) != 0)
		return r;
	return s->ops->del(s->impl, key);
}

int
coffer_store_sweep(struct coffer_store *s, int64_t older_than_ms, size_t *removed)
{
	if (removed != NULL)
		*removed = 0;
	if (s->ops->sweep == NULL)
		return 0;
	return s->ops->sweep(s->impl, older_than_ms, removed);
}

void
coffer_store_free(struct coffer_store *s)
{
	if (s == NULL)
		return;
	s->ops->free(s->impl);
	free(s);
}
