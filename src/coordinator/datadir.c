// SPDX-License-Identifier: Apache-2.0
// The data directory and its lock (coord.h). Two coordinators on one
// state would each believe their view is the truth (two identities
// serving, nonces handed out twice): the second one is refused, by an
// flock(2) the kernel drops when the holder dies, even by kill -9, so a
// crash never leaves a stale lock behind. The lock file also says who
// holds it, for the refusal's message.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "lib/clock.h"
#include "lib/file.h"

#define LOCK_NAME "lock"

/* "pid 123, listening on http://..., since ..." from the holder's file. */
static void
describe_holder(int fd, char *out, size_t outlen)
{
	char buf[512], *p, *nl;
	ssize_t n;
	size_t used = 0;

	out[0] = '\0';
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (p = buf; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		/* Lines are "key value", written by write_holder(). */
		for (char *q = p; *q != '\0'; q++)
			if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
				*q = '?';
		if (used < outlen)
			used += (size_t)snprintf(out + used, outlen - used, "%s%s",
			    used > 0 ? ", " : "", p);
	}
}

static int
write_holder(struct coord *c, const char *url)
{
	char line[1024], t[32];
	int n;

	coffer_time_format(c->start_ms / 1000, t, sizeof(t));
	n = snprintf(line, sizeof(line), "pid %ld\nsince %s\n%s%s%s",
	    (long)getpid(), t, url ? "listening on " : "", url ? url : "",
	    url ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return coffer_errf(COFFER_E_LIMIT, "lock file text too long");
	if (ftruncate(c->lock_fd, 0) != 0 ||
	    pwrite(c->lock_fd, line, (size_t)n, 0) != n)
		return coffer_errf(COFFER_E_IO, "%s/%s: %s", c->data_abs, LOCK_NAME,
		    strerror(errno));
	return 0;
}

static int
check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "data directory %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return coffer_errf(COFFER_E_INVAL, "data directory %s: not a "
		    "directory", dir);
	if (st.st_uid != geteuid())
		return coffer_errf(COFFER_E_PERM, "data directory %s: owned by uid "
		    "%ld, not by this user (%ld)", dir, (long)st.st_uid,
		    (long)geteuid());
	/* It holds the coordinator's secret keys and the owners' data keys. */
	if ((st.st_mode & 077) != 0)
		return coffer_errf(COFFER_E_PERM, "data directory %s: mode %04o lets "
		    "group or others in; it holds secret keys (chmod 700 %s)", dir,
		    (unsigned)(st.st_mode & 07777), dir);
	return 0;
}

int
coord_datadir_open(struct coord *c)
{
	const char *dir = c->cfg.data_dir;
	char path[PATH_MAX + 16], who[600];
	int r;

	c->lock_fd = -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return coffer_errf(COFFER_E_IO, "data directory %s: %s", dir,
		    strerror(errno));
	if ((r = check_dir(dir)) != 0)
		return r;
	if (realpath(dir, c->data_abs) == NULL)
		return coffer_errf(COFFER_E_IO, "data directory %s: %s", dir,
		    strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", c->data_abs, LOCK_NAME);
	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->lock_fd < 0)
		return coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		describe_holder(c->lock_fd, who, sizeof(who));
		close(c->lock_fd);
		c->lock_fd = -1;
		if (e == EWOULDBLOCK)
			return coffer_errf(COFFER_E_BUSY, "data directory %s is in use by "
			    "another coffer-coordinator (%s); stop it first, or give "
			    "this one another --data", c->data_abs,
			    who[0] ? who : "no details in its lock file");
		return coffer_errf(COFFER_E_IO, "%s: flock: %s", path, strerror(e));
	}
	return write_holder(c, NULL);
}

int
coord_datadir_note_url(struct coord *c, const char *url)
{
	return write_holder(c, url);
}

void
coord_datadir_close(struct coord *c)
{
	if (c->lock_fd < 0)
		return;
	/* Leave the file: removing it while a second instance waits to open
	 * it would let two hold "the" lock on two different files. */
	if (ftruncate(c->lock_fd, 0) != 0) {
		/* Only the description is lost; the lock goes with the fd. */
	}
	close(c->lock_fd);
	c->lock_fd = -1;
}
