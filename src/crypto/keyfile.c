// SPDX-License-Identifier: Apache-2.0
// Secret key files (crypto/keyfile.h). The permission check is made on the
// open descriptor, so the file checked is the file read.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/keyfile.h"
#include "lib/file.h"
#include "lib/mem.h"

int
coffer_keyfile_read(const char *path, size_t max, struct coffer_buf *b)
{
	struct stat st;
	size_t start = b->len, got;
	uint8_t *w;
	int fd, flags, r = 0;

	/* O_NONBLOCK: opening a FIFO with no writer (or a device) must not
	 * hang before fstat can refuse it; cleared again for the read. A
	 * symbolic link is followed: the checks below apply to its target. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = coffer_errf(COFFER_E_IO, "%s: not a regular file (it is %s); a "
		    "key file must be a regular file", path,
		    S_ISDIR(st.st_mode) ? "a directory" :
		    S_ISFIFO(st.st_mode) ? "a named pipe" :
		    S_ISCHR(st.st_mode) ? "a character device" :
		    S_ISBLK(st.st_mode) ? "a block device" :
		    S_ISSOCK(st.st_mode) ? "a socket" : "of another type");
		goto out;
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		r = coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* doc/format/identity.md section 3: refuse, like ssh, rather than warn:
	 * a warning scrolls by, a refusal gets the file fixed. */
	if ((st.st_mode & 077) != 0) {
		r = coffer_errf(COFFER_E_PERM,
		    "%s: permissions %04o are too open for a secret key file "
		    "(it must not be accessible by group or others; "
		    "run: chmod 600 %s)", path, (unsigned)(st.st_mode & 07777),
		    path);
		goto out;
	}
	if ((r = coffer_buf_reserve(b, max + 1, &w)) != 0)
		goto out;
	/* Read one byte more than allowed to tell max from too big. */
	if ((r = coffer_read_full(fd, w, max + 1, &got)) != 0) {
		r = coffer_errctx(r, "%s", path);
		coffer_wipe(w, max + 1);
		goto out;
	}
	if (got > max) {
		coffer_wipe(w, got);
		r = coffer_errf(COFFER_E_LIMIT, "%s: larger than %zu bytes", path,
		    max);
		goto out;
	}
	coffer_buf_commit(b, got);
out:
	if (r != 0 && b->data != NULL)
		b->data[start] = '\0';
	close(fd);
	return r;
}

int
coffer_keyfile_write(const char *path, const void *data, size_t len)
{
	return coffer_file_write_atomic(path, data, len, 0600, 1);
}
