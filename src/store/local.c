// SPDX-License-Identifier: Apache-2.0
// The local-directory object store (store/store.h). Atomicity comes from
// lib/file.c's temp-file + fsync + rename + directory fsync. Keys are
// checked before they become paths, and objects are opened with O_NOFOLLOW
// so that a symbolic link planted in the directory is not followed.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "store/store.h"

struct local {
	char *root;    /* absolute, no trailing '/' */
	int rootfd;    /* kept open to fsync after puts at the top level */
	uint64_t tmp_seed, tmp_count;
};

static int
mkdirs(const char *path, size_t upto)
{
	char buf[PATH_MAX];

	if (upto >= sizeof(buf))
		return coffer_errf(COFFER_E_LIMIT, "path too long");
	memcpy(buf, path, upto);
	buf[upto] = '\0';
	for (size_t i = 1; i <= upto; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return coffer_errf(COFFER_E_IO, "mkdir %s: %s", buf, strerror(errno));
		if (i < upto)
			buf[i] = '/';
	}
	return 0;
}

static int
key_path(const struct local *l, const char *key, char *out, size_t outlen)
{
	if ((size_t)snprintf(out, outlen, "%s/%s", l->root, key) >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "object key '%s': path too long", key);
	return 0;
}

static int
fsync_parent(const struct local *l, const char *path, int top)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, r = 0;

	if (top)
		return fsync(l->rootfd) == 0 || errno == EINVAL ? 0 :
		    coffer_errf(COFFER_E_IO, "fsync %s: %s", l->root, strerror(errno));
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return coffer_errf(COFFER_E_IO, "%s: %s", dir, strerror(errno));
	if (fsync(fd) != 0 && errno != EINVAL)
		r = coffer_errf(COFFER_E_IO, "fsync %s: %s", dir, strerror(errno));
	close(fd);
	return r;
}

/*
 * Atomic, durable put: write "<path>.tmp-<12 hex>" (O_EXCL, mode 0600, so
 * never looser than that whatever the umask), fsync it, rename it over the
 * key, fsync the directory. The same steps as lib/file.c's atomic write,
 * with fewer system calls per object (the names come from a per-store
 * counter, the top directory stays open): it is on the worker's path for
 * every item.
 */
static int
local_put(void *impl, const char *key, const void *data, size_t len)
{
	struct local *l = impl;
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	const char *slash;
	int fd = -1, r;

	if ((r = key_path(l, key, path, sizeof(path))) != 0)
		return r;
	if ((slash = strrchr(key, '/')) != NULL &&
	    (r = mkdirs(path, strlen(l->root) + 1 + (size_t)(slash - key))) != 0)
		return r;
	for (int tries = 0; tries < 16 && fd < 0; tries++) {
		uint64_t n = (l->tmp_seed + l->tmp_count++) & 0xffffffffffffULL;

		snprintf(tmp, sizeof(tmp), "%s.tmp-%012llx", path, (unsigned long long)n);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "object '%s': creating %s: %s", key, tmp, strerror(errno));
	if ((r = coffer_write_all(fd, data, len)) != 0) {
		r = coffer_errctx(r, "object '%s'", key);
		goto fail;
	}
	if (fsync(fd) != 0) {
		r = coffer_errf(COFFER_E_IO, "object '%s': fsync: %s", key, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = coffer_errf(COFFER_E_IO, "object '%s': close: %s", key, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = coffer_errf(COFFER_E_IO, "object '%s': rename: %s", key, strerror(errno));
		goto fail;
	}
	return fsync_parent(l, path, slash == NULL);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

static int
local_get(void *impl, const char *key, size_t max, struct coffer_buf *out)
{
	struct local *l = impl;
	char path[PATH_MAX];
	struct stat st;
	size_t start = out->len;
	int fd, r = 0;

	if ((r = key_path(l, key, path, sizeof(path))) != 0)
		return r;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return coffer_errf(COFFER_E_NOTFOUND, "object '%s' not found", key);
		if (errno == ELOOP)
			return coffer_errf(COFFER_E_PERM, "object '%s' is a symbolic link",
			    key);
		return coffer_errf(COFFER_E_IO, "object '%s': %s", key, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		r = coffer_errf(COFFER_E_IO, "object '%s': %s", key, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = coffer_errf(COFFER_E_NOTFOUND, "object '%s' not found (not a"
		    " regular file)", key);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = coffer_errf(COFFER_E_LIMIT, "object '%s' is %lld bytes, more than"
		    " the limit of %zu", key, (long long)st.st_size, max);
		goto out;
	}
	for (;;) {
		uint8_t *p;
		ssize_t n;
		size_t want = 64 * 1024;

		if (out->len - start >= max) {
			uint8_t c;

			n = read(fd, &c, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0)
				r = coffer_errf(COFFER_E_LIMIT, "object '%s' grew past the"
				    " limit of %zu bytes", key, max);
			else if (n < 0)
				r = coffer_errf(COFFER_E_IO, "object '%s': %s", key,
				    strerror(errno));
			break;
		}
		/* Ask for one byte more than fstat said: a short read of exactly
		 * the size is the end, without another read(2). */
		if (out->len == start && (uint64_t)st.st_size + 1 > want)
			want = (size_t)st.st_size + 1;
		if (want > max - (out->len - start))
			want = max - (out->len - start);
		if ((r = coffer_buf_reserve(out, want, &p)) != 0)
			break;
		n = read(fd, p, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = coffer_errf(COFFER_E_IO, "object '%s': %s", key, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		coffer_buf_commit(out, (size_t)n);
		if ((size_t)n < want && out->len - start == (size_t)st.st_size)
			break;
	}
out:
	if (r != 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	close(fd);
	return r;
}

struct keys {
	char **v;
	size_t n, cap;
};

static int
keys_add(struct keys *k, const char *s)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		char **v = coffer_reallocarray(k->v, cap, sizeof(*v));

		if (v == NULL)
			return coffer_errf(COFFER_E_NOMEM, "listing");
		k->v = v;
		k->cap = cap;
	}
	if ((k->v[k->n] = coffer_strdup(s)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "listing");
	k->n++;
	return 0;
}

/* Collect keys under rel ("" = root) that start with prefix. */
static int
walk(const struct local *l, const char *rel, const char *prefix, struct keys *k)
{
	char dpath[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int r = 0;

	if ((size_t)snprintf(dpath, sizeof(dpath), "%s%s%s", l->root,
	    rel[0] ? "/" : "", rel) >= sizeof(dpath))
		return 0;
	if ((d = opendir(dpath)) == NULL)
		return errno == ENOENT ? 0 :
		    coffer_errf(COFFER_E_IO, "listing %s: %s", dpath, strerror(errno));
	while (r == 0 && (e = readdir(d)) != NULL) {
		char key[COFFER_STORE_KEY_MAX + 2];
		struct stat st;
		size_t pl, kl;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(key, sizeof(key), "%s%s%s", rel, rel[0] ? "/" : "",
		    e->d_name) > COFFER_STORE_KEY_MAX)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		/* Prune directories that cannot hold a matching key. */
		pl = strlen(prefix);
		kl = strlen(key);
		if (S_ISDIR(st.st_mode)) {
			size_t m = kl < pl ? kl : pl;

			if (strncmp(key, prefix, m) == 0 &&
			    coffer_store_check_key(key) == 0)
				r = walk(l, key, prefix, k);
			continue;
		}
		if (!S_ISREG(st.st_mode) || strncmp(key, prefix, pl) != 0)
			continue;
		/* Temporary files of puts in progress and names that are not
		 * keys are not objects. */
		if (coffer_store_check_key(key) != 0)
			continue;
		r = keys_add(k, key);
	}
	closedir(d);
	coffer_errclear();
	return r;
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
local_list(void *impl, const char *prefix,
    int (*fn)(const char *key, void *arg), void *arg)
{
	struct keys k = { 0 };
	int r;

	r = walk(impl, "", prefix, &k);
	if (r == 0) {
		qsort(k.v, k.n, sizeof(*k.v), cmp_key);
		for (size_t i = 0; i < k.n && r == 0; i++)
			r = fn(k.v[i], arg);
	}
	for (size_t i = 0; i < k.n; i++)
		free(k.v[i]);
	free(k.v);
	return r;
}

static int
local_del(void *impl, const char *key)
{
	struct local *l = impl;
	char path[PATH_MAX];
	struct stat st;
	int r;

	if ((r = key_path(l, key, path, sizeof(path))) != 0)
		return r;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return coffer_errf(COFFER_E_NOTFOUND, "object '%s' not found", key);
	if (unlink(path) != 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "deleting object '%s': %s", key, strerror(errno));
	return 0;
}

/* Remove temporary files of interrupted puts under rel, recursively. */
static int
sweep_dir(const struct local *l, const char *rel, int64_t older_than_ms,
    size_t *removed)
{
	char dpath[PATH_MAX];
	DIR *d;
	struct dirent *e;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if ((size_t)snprintf(dpath, sizeof(dpath), "%s%s%s", l->root,
	    rel[0] ? "/" : "", rel) >= sizeof(dpath))
		return 0;
	if ((d = opendir(dpath)) == NULL)
		return errno == ENOENT ? 0 :
		    coffer_errf(COFFER_E_IO, "sweeping %s: %s", dpath, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char sub[PATH_MAX];
		int64_t age_ms;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
			    e->d_name) < sizeof(sub))
				(void)sweep_dir(l, sub, older_than_ms, removed);
			continue;
		}
		if (!S_ISREG(st.st_mode) ||
		    !coffer_store_is_tmp_name(e->d_name, strlen(e->d_name)))
			continue;
		age_ms = ((int64_t)now.tv_sec - st.st_mtim.tv_sec) * 1000 +
		    (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
		if (age_ms >= older_than_ms && unlinkat(dirfd(d), e->d_name, 0) == 0)
			(*removed)++;
	}
	closedir(d);
	return 0;
}

static int
local_sweep(void *impl, int64_t older_than_ms, size_t *removed)
{
	size_t n = 0;
	int r = sweep_dir(impl, "", older_than_ms, &n);

	if (removed != NULL)
		*removed = n;
	return r;
}

static void
local_free(void *impl)
{
	struct local *l = impl;

	if (l == NULL)
		return;
	if (l->rootfd >= 0)
		close(l->rootfd);
	free(l->root);
	free(l);
}

static const struct coffer_store_ops local_ops = {
	.name = "local",
	.put = local_put,
	.get = local_get,
	.list = local_list,
	.del = local_del,
	.free = local_free,
	.sweep = local_sweep,
};

int
coffer_store_local_new(const char *dir, int create, struct coffer_store **out)
{
	struct coffer_store *s = NULL;
	struct local *l = NULL;
	char abs[PATH_MAX];
	struct stat st;
	size_t n;
	int r;

	if (dir == NULL || dir[0] == '\0')
		return coffer_errf(COFFER_E_INVAL, "object store: empty directory");
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT || !create)
			return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
			    "object store %s: %s", dir, strerror(errno));
		if ((r = mkdirs(dir, strlen(dir))) != 0)
			return coffer_errctx(r, "object store");
	} else if (!S_ISDIR(st.st_mode)) {
		return coffer_errf(COFFER_E_INVAL, "object store %s: not a directory", dir);
	}
	if (realpath(dir, abs) == NULL)
		return coffer_errf(COFFER_E_IO, "object store %s: %s", dir,
		    strerror(errno));
	n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	if ((s = coffer_calloc(1, sizeof(*s))) == NULL ||
	    (l = coffer_calloc(1, sizeof(*l))) == NULL ||
	    (l->rootfd = -1) != -1 ||
	    (l->root = coffer_strdup(strcmp(abs, "/") == 0 ? "" : abs)) == NULL) {
		free(s);
		local_free(l);
		return coffer_errf(COFFER_E_NOMEM, "object store");
	}
	l->rootfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->rootfd < 0) {
		r = coffer_errf(COFFER_E_IO, "object store %s: %s", abs, strerror(errno));
		free(s);
		local_free(l);
		return r;
	}
	if (getrandom(&l->tmp_seed, sizeof(l->tmp_seed), 0) != sizeof(l->tmp_seed))
		l->tmp_seed = (uint64_t)getpid() << 24 ^ (uint64_t)time(NULL);
	s->ops = &local_ops;
	s->impl = l;
	*out = s;
	return 0;
}
