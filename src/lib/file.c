// SPDX-License-Identifier: Apache-2.0
// Whole-file reads and atomic writes (lib/file.h).
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "coffer/error.h"
#include "lib/file.h"
#include "lib/mem.h"

int
coffer_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return coffer_errf(COFFER_E_IO, "write: %s", strerror(errno));
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

int
coffer_read_full(int fd, void *p, size_t n, size_t *got)
{
	uint8_t *q = p;
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, q + done, n - done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return coffer_errf(COFFER_E_IO, "read: %s", strerror(errno));
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

int
coffer_file_read(const char *path, size_t max, struct coffer_buf *b)
{
	struct stat st;
	int fd, r = 0, is_stdin = strcmp(path, "-") == 0;
	size_t start = b->len;

	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!is_stdin && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		r = coffer_errf(COFFER_E_INVAL, "%s: not a regular file", path);
		goto out;
	}
	for (;;) {
		uint8_t *w;
		ssize_t n;
		size_t want = 64 * 1024;

		if (b->len - start >= max) {
			/* One more byte tells a file of exactly max from a bigger one. */
			uint8_t c;

			n = read(fd, &c, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0)
				r = coffer_errf(COFFER_E_LIMIT,
				    "%s: larger than %zu bytes", path, max);
			else if (n < 0)
				r = coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
			break;
		}
		if (want > max - (b->len - start))
			want = max - (b->len - start);
		if ((r = coffer_buf_reserve(b, want, &w)) != 0)
			break;
		n = read(fd, w, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		coffer_buf_commit(b, (size_t)n);
	}
out:
	if (r != 0) {
		if (b->secret && b->data != NULL)
			coffer_wipe(b->data + start, b->len - start);
		b->len = start;
		if (b->data != NULL)
			b->data[start] = '\0';
	}
	if (!is_stdin)
		close(fd);
	return r;
}

static int
fsync_dir_of(const char *path)
{
	char *copy = coffer_strdup(path);
	int fd, r = 0;

	if (copy == NULL)
		return coffer_errf(COFFER_E_NOMEM, "path copy");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) != 0 && errno != EINVAL)
			r = coffer_errf(COFFER_E_IO, "fsync %s: %s", copy, strerror(errno));
		close(fd);
	}
	free(copy);
	return r;
}

int
coffer_atomic_open(struct coffer_atomic *a, const char *path, mode_t mode)
{
	uint8_t rnd[8];
	size_t n = strlen(path) + 32;

	a->fd = -1;
	a->tmp = NULL;
	if ((a->path = coffer_strdup(path)) == NULL ||
	    (a->tmp = coffer_malloc(n)) == NULL) {
		free(a->path);
		a->path = NULL;
		return coffer_errf(COFFER_E_NOMEM, "path copy");
	}
	for (int tries = 0; tries < 16; tries++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			break;
		snprintf(a->tmp, n, "%s.tmp-%02x%02x%02x%02x%02x%02x", path, rnd[0],
		    rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (a->fd >= 0 || errno != EEXIST)
			break;
	}
	if (a->fd < 0) {
		int r = coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "creating %s: %s", a->tmp, strerror(errno));

		free(a->tmp);
		free(a->path);
		a->tmp = a->path = NULL;
		return r;
	}
	/* The umask must not loosen or tighten what the caller asked for. */
	(void)fchmod(a->fd, mode);
	return 0;
}

void
coffer_atomic_abort(struct coffer_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->tmp != NULL)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	a->fd = -1;
	a->tmp = a->path = NULL;
}

int
coffer_atomic_commit(struct coffer_atomic *a, int excl)
{
	int r = 0;

	if (fsync(a->fd) != 0) {
		r = coffer_errf(COFFER_E_IO, "fsync %s: %s", a->tmp, strerror(errno));
		goto fail;
	}
	if (close(a->fd) != 0) {
		a->fd = -1;
		r = coffer_errf(COFFER_E_IO, "close %s: %s", a->tmp, strerror(errno));
		goto fail;
	}
	a->fd = -1;
	if (excl) {
		/* link(2) fails if path exists: no window for a race. */
		if (link(a->tmp, a->path) != 0) {
			r = coffer_errf(errno == EEXIST ? COFFER_E_EXISTS : COFFER_E_IO,
			    "%s: %s", a->path, strerror(errno));
			goto fail;
		}
		unlink(a->tmp);
	} else if (rename(a->tmp, a->path) != 0) {
		r = coffer_errf(COFFER_E_IO, "rename to %s: %s", a->path,
		    strerror(errno));
		goto fail;
	}
	r = fsync_dir_of(a->path);
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
	return r;
fail:
	coffer_atomic_abort(a);
	return r;
}

int
coffer_file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int excl)
{
	struct coffer_atomic a;
	int r;

	if ((r = coffer_atomic_open(&a, path, mode)) != 0)
		return r;
	if ((r = coffer_write_all(a.fd, data, len)) != 0) {
		coffer_atomic_abort(&a);
		return coffer_errctx(r, "%s", path);
	}
	return coffer_atomic_commit(&a, excl);
}
