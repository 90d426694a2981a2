// SPDX-License-Identifier: Apache-2.0
// The local-directory object store (store/store.h). Atomicity comes from
// lib/file.c's temp-file + fsync + rename + directory fsync. Keys are
// checked before they become paths, and every key is resolved beneath the
// store's directory without following a symbolic link, in any component
// (doc/worker.md section 8): a link planted in the directory, to a file or
// to a directory, never lets a get read or a put write outside it.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(SYS_openat2) && __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "store/local_int.h"
#include "store/store.h"

struct local {
	char *root;    /* absolute, no trailing '/' */
	int rootfd;    /* every key is resolved beneath it */
	uint64_t tmp_seed, tmp_count;
};

/* openat2(2) (Linux 5.6): 1 until it says ENOSYS (or a seccomp filter
 * refuses it); then the component walk. Tests turn it off. */
static int use_openat2 = 1;

void
coffer_store_local_use_openat2(int on)
{
	use_openat2 = on;
}

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

/* Why a component could not be opened as a directory without following
 * a link. */
static int
component_err(int dfd, const char *name, const char *key, int err)
{
	struct stat st;

	if ((err == ELOOP || err == ENOTDIR || err == EXDEV) &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return coffer_errf(COFFER_E_PERM, "object '%s': '%s' is a symbolic"
		    " link", key, name);
	if (err == ENOENT || err == ENOTDIR)
		return coffer_errf(COFFER_E_NOTFOUND, "object '%s' not found", key);
	if (err == ELOOP || err == EXDEV)
		return coffer_errf(COFFER_E_PERM, "object '%s': a component is a"
		    " symbolic link", key);
	return coffer_errf(COFFER_E_IO, "object '%s': %s", key, strerror(err));
}

/* The directory dir (a key's components but the last) one component at a
 * time from the root, each opened with O_NOFOLLOW; with create, missing
 * ones are made (mode 0700). */
static int
walk_parent(const struct local *l, char *dir, const char *key, int create,
    int *out)
{
	int fd = l->rootfd, r = 0;
	char *comp = dir, *slash;

	for (;;) {
		int nfd;

		if ((slash = strchr(comp, '/')) != NULL)
			*slash = '\0';
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0700) != 0 && errno != EEXIST) {
				r = coffer_errf(COFFER_E_IO, "object '%s': mkdir %s: %s",
				    key, comp, strerror(errno));
				break;
			}
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		}
		if (nfd < 0) {
			r = component_err(fd, comp, key, errno);
			break;
		}
		if (fd != l->rootfd)
			close(fd);
		fd = nfd;
		if (slash == NULL)
			break;
		comp = slash + 1;
	}
	if (r != 0) {
		if (fd != l->rootfd)
			close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

/*
 * The directory holding key's object, beneath the root, no symbolic link
 * followed in any component: *dfd (l->rootfd for a key without '/'; close
 * it only if it is another) and *leaf, the key's last component. With
 * create, missing directories are made. The key must have been checked
 * (no "." or ".." components, no empty ones).
 */
static int
open_parent(const struct local *l, const char *key, int create, int *dfd,
    const char **leaf)
{
	const char *slash = strrchr(key, '/');
	char dir[COFFER_STORE_KEY_MAX + 1];
	size_t n;
	int r;

	if (slash == NULL) {
		*dfd = l->rootfd;
		*leaf = key;
		return 0;
	}
	n = (size_t)(slash - key);
	if (n >= sizeof(dir))
		return coffer_errf(COFFER_E_LIMIT, "object key '%s': too long", key);
	memcpy(dir, key, n);
	dir[n] = '\0';
#ifdef HAVE_OPENAT2
	if (use_openat2) {
		struct open_how how;
		int fd;

		memset(&how, 0, sizeof(how));
		how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, l->rootfd, dir, &how, sizeof(how));
		if (fd >= 0) {
			*dfd = fd;
			*leaf = slash + 1;
			return 0;
		}
		switch (errno) {
		case ENOSYS: case EPERM: case E2BIG: case EINVAL:
			/* Not this kernel's, or a seccomp filter's refusal. */
			use_openat2 = 0;
			break;
		case ENOENT:
			if (!create)
				return coffer_errf(COFFER_E_NOTFOUND,
				    "object '%s' not found", key);
			break;  /* the walk makes the directories */
		case ELOOP: case EXDEV: case ENOTDIR:
			break;  /* the walk names the component */
		default:
			return coffer_errf(COFFER_E_IO, "object '%s': %s", key,
			    strerror(errno));
		}
	}
#endif
	if ((r = walk_parent(l, dir, key, create, dfd)) != 0)
		return r;
	*leaf = slash + 1;
	return 0;
}

/*
 * Atomic, durable put: write "<path>.tmp-<12 hex>" (O_EXCL, mode 0600, so
 * never looser than that whatever the umask), fsync it, rename it over the
 * key, fsync the directory. The same steps as lib/file.c's atomic write,
 * with fewer system calls per object (the names come from a per-store
 * counter, the top directory stays open): it is on the worker's path for
 * every item. The temporary name is never a key (coffer_store_check_key)
 * and never listed: a writer killed before the rename leaves no object,
 * only a file coffer_store_sweep removes.
 */
struct local_put {
	struct local *l;
	int dfd, fd;
	const char *leaf;                 /* into key */
	char key[COFFER_STORE_KEY_MAX + 1];
	char tmp[COFFER_STORE_KEY_MAX + 32];
};

static void
local_put_abort(void *h)
{
	struct local_put *p = h;

	if (p == NULL)
		return;
	if (p->fd >= 0) {
		close(p->fd);
		unlinkat(p->dfd, p->tmp, 0);
	}
	if (p->dfd >= 0 && p->dfd != p->l->rootfd)
		close(p->dfd);
	free(p);
}

static int
local_put_open(void *impl, const char *key, void **out)
{
	struct local *l = impl;
	struct local_put *p;
	int r;

	if ((p = coffer_calloc(1, sizeof(*p))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "object '%s'", key);
	p->l = l;
	p->dfd = p->fd = -1;
	snprintf(p->key, sizeof(p->key), "%s", key);
	if ((r = open_parent(l, p->key, 1, &p->dfd, &p->leaf)) != 0) {
		free(p);
		return r;
	}
	for (int tries = 0; tries < 16 && p->fd < 0; tries++) {
		uint64_t n = (l->tmp_seed + l->tmp_count++) & 0xffffffffffffULL;

		snprintf(p->tmp, sizeof(p->tmp), "%s.tmp-%012llx", p->leaf,
		    (unsigned long long)n);
		p->fd = openat(p->dfd, p->tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (p->fd < 0 && errno != EEXIST)
			break;
	}
	if (p->fd < 0) {
		r = coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "object '%s': creating %s: %s", key, p->tmp, strerror(errno));
		local_put_abort(p);
		return r;
	}
	*out = p;
	return 0;
}

static int
local_put_write(void *h, const void *data, size_t len)
{
	struct local_put *p = h;
	int r;

	if ((r = coffer_write_all(p->fd, data, len)) != 0)
		return coffer_errctx(r, "object '%s'", p->key);
	return 0;
}

/* Durable, then in place; p is freed either way. */
static int
local_put_commit(void *h)
{
	struct local_put *p = h;
	int r = 0;

	if (fsync(p->fd) != 0) {
		r = coffer_errf(COFFER_E_IO, "object '%s': fsync: %s", p->key,
		    strerror(errno));
		goto fail;
	}
	if (close(p->fd) != 0) {
		p->fd = -1;
		unlinkat(p->dfd, p->tmp, 0);
		r = coffer_errf(COFFER_E_IO, "object '%s': close: %s", p->key,
		    strerror(errno));
		goto fail;
	}
	p->fd = -1;
	/* Both names relative to the directory opened above: a link planted
	 * since cannot redirect the rename (and a link at the key itself is
	 * replaced, not followed). */
	if (renameat(p->dfd, p->tmp, p->dfd, p->leaf) != 0) {
		unlinkat(p->dfd, p->tmp, 0);
		r = coffer_errf(COFFER_E_IO, "object '%s': rename: %s", p->key,
		    strerror(errno));
		goto fail;
	}
	if (fsync(p->dfd) != 0 && errno != EINVAL)
		r = coffer_errf(COFFER_E_IO, "object '%s': fsync of its directory:"
		    " %s", p->key, strerror(errno));
fail:
	local_put_abort(p);
	return r;
}

static int
local_put(void *impl, const char *key, const void *data, size_t len)
{
	void *h;
	int r;

	if ((r = local_put_open(impl, key, &h)) != 0)
		return r;
	if ((r = local_put_write(h, data, len)) != 0) {
		local_put_abort(h);
		return r;
	}
	return local_put_commit(h);
}

/* The object at key opened for reading: a regular file of at most max
 * bytes (not a link, anywhere on its path). */
static int
open_object(struct local *l, const char *key, size_t max, int *fdp,
    uint64_t *size)
{
	const char *leaf = NULL;
	struct stat st;
	int dfd = -1, fd, r;

	if ((r = open_parent(l, key, 0, &dfd, &leaf)) != 0)
		return r;
	fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		if (dfd != l->rootfd)
			close(dfd);
		if (e == ENOENT || e == ENOTDIR)
			return coffer_errf(COFFER_E_NOTFOUND, "object '%s' not found", key);
		if (e == ELOOP)
			return coffer_errf(COFFER_E_PERM, "object '%s' is a symbolic link",
			    key);
		return coffer_errf(COFFER_E_IO, "object '%s': %s", key, strerror(e));
	}
	if (dfd != l->rootfd)
		close(dfd);
	if (fstat(fd, &st) != 0)
		r = coffer_errf(COFFER_E_IO, "object '%s': %s", key, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		r = coffer_errf(COFFER_E_NOTFOUND, "object '%s' not found (not a"
		    " regular file)", key);
	else if ((uint64_t)st.st_size > max)
		r = coffer_errf(COFFER_E_LIMIT, "object '%s' is %lld bytes, more than"
		    " the limit of %zu", key, (long long)st.st_size, max);
	if (r != 0) {
		close(fd);
		return r;
	}
	*fdp = fd;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int
local_open_read(void *impl, const char *key, size_t max, int *fd,
    uint64_t *size)
{
	return open_object(impl, key, max, fd, size);
}

static int
local_get(void *impl, const char *key, size_t max, struct coffer_buf *out)
{
	struct local *l = impl;
	uint64_t size;
	size_t start = out->len;
	int fd, r = 0;

	if ((r = open_object(l, key, max, &fd, &size)) != 0)
		return r;
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
		if (out->len == start && size + 1 > want)
			want = (size_t)size + 1;
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
		if ((size_t)n < want && out->len - start == size)
			break;
	}
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

/* A directory under dfd for reading, not through a symbolic link: the
 * listing and the sweep descend only into real subdirectories (a link
 * swapped in after fstatat() is refused by O_NOFOLLOW). */
static DIR *
open_subdir(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

/* Collect keys in d (the directory rel, "" = root) that start with
 * prefix. */
static int
walk(DIR *d, const char *rel, const char *prefix, struct keys *k)
{
	struct dirent *e;
	int r = 0;

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
			DIR *sub;

			if (strncmp(key, prefix, m) == 0 &&
			    coffer_store_check_key(key) == 0 &&
			    (sub = open_subdir(dirfd(d), e->d_name)) != NULL) {
				r = walk(sub, key, prefix, k);
				closedir(sub);
			}
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
	struct local *l = impl;
	struct keys k = { 0 };
	DIR *d;
	int r;

	if ((d = open_subdir(l->rootfd, ".")) == NULL)
		return coffer_errf(COFFER_E_IO, "listing %s: %s", l->root,
		    strerror(errno));
	r = walk(d, "", prefix, &k);
	closedir(d);
	if (r == 0) {
		if (k.n > 1)
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
	const char *leaf = NULL;
	struct stat st;
	int dfd = -1, r;

	if ((r = open_parent(l, key, 0, &dfd, &leaf)) != 0)
		return r;
	if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
		r = coffer_errf(COFFER_E_NOTFOUND, "object '%s' not found", key);
	else if (unlinkat(dfd, leaf, 0) != 0)
		r = coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "deleting object '%s': %s", key, strerror(errno));
	if (dfd != l->rootfd)
		close(dfd);
	return r;
}

/* Remove temporary files of interrupted puts in d, recursively. */
static void
sweep_dir(DIR *d, const struct timespec *now, int64_t older_than_ms,
    size_t *removed)
{
	struct dirent *e;

	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int64_t age_ms;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			DIR *sub = open_subdir(dirfd(d), e->d_name);

			if (sub != NULL) {
				sweep_dir(sub, now, older_than_ms, removed);
				closedir(sub);
			}
			continue;
		}
		if (!S_ISREG(st.st_mode) ||
		    !coffer_store_is_tmp_name(e->d_name, strlen(e->d_name)))
			continue;
		age_ms = ((int64_t)now->tv_sec - st.st_mtim.tv_sec) * 1000 +
		    (now->tv_nsec - st.st_mtim.tv_nsec) / 1000000;
		if (age_ms >= older_than_ms && unlinkat(dirfd(d), e->d_name, 0) == 0)
			(*removed)++;
	}
}

static int
local_sweep(void *impl, int64_t older_than_ms, size_t *removed)
{
	struct local *l = impl;
	struct timespec now;
	size_t n = 0;
	DIR *d;

	clock_gettime(CLOCK_REALTIME, &now);
	if ((d = open_subdir(l->rootfd, ".")) == NULL)
		return coffer_errf(COFFER_E_IO, "sweeping %s: %s", l->root,
		    strerror(errno));
	sweep_dir(d, &now, older_than_ms, &n);
	closedir(d);
	if (removed != NULL)
		*removed = n;
	return 0;
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
	.open_read = local_open_read,
	.put_open = local_put_open,
	.put_write = local_put_write,
	.put_commit = local_put_commit,
	.put_abort = local_put_abort,
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
	if (coffer_random(&l->tmp_seed, sizeof(l->tmp_seed)) != 0)
		l->tmp_seed = (uint64_t)getpid() << 24 ^ (uint64_t)time(NULL);
	s->ops = &local_ops;
	s->impl = l;
	*out = s;
	return 0;
}
