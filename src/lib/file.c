// SPDX-License-Identifier: Apache-2.0
// Whole-file reads and atomic writes (lib/file.h).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "lib/random.h"

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

char *
coffer_path_lookup(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (name == NULL || name[0] == '\0')
		return NULL;
	if (strchr(name, '/') != NULL)
		return access(name, X_OK) == 0 ? coffer_strdup(name) : NULL;
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path != '\0') {
		size_t n = strcspn(path, ":");

		/* An empty entry is the working directory in execvp; never
		 * here: a program is not looked up where the user happens to
		 * be. */
		if (n > 0 && (size_t)snprintf(buf, sizeof(buf), "%.*s/%s", (int)n,
		    path, name) < sizeof(buf) && access(buf, X_OK) == 0)
			return coffer_strdup(buf);
		path += n;
		if (*path == ':')
			path++;
	}
	return NULL;
}

int
coffer_exe_dir(char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return coffer_errf(COFFER_E_IO, "/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return coffer_errf(COFFER_E_IO, "no directory in %s", self);
	*slash = '\0';
	if ((size_t)snprintf(out, outlen, "%s", self) >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "%s: path too long", self);
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
		/* A file that cannot be read as one (doc/cli.md, exit 6), said
		 * with what it is: most often a directory given for a file. */
		r = coffer_errf(COFFER_E_IO, "%s: not a regular file (it is %s)",
		    path, S_ISDIR(st.st_mode) ? "a directory" : S_ISCHR(st.st_mode) ?
		    "a character device" : S_ISBLK(st.st_mode) ? "a block device" :
		    S_ISSOCK(st.st_mode) ? "a socket" : "not a file");
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

/*
 * Temporary files to remove when SIGINT, SIGTERM or SIGHUP arrives. The
 * handler may only make async-signal-safe calls, so the table is static:
 * fixed path buffers and one state word per slot. A slot goes FREE ->
 * CLAIMED (compare-and-swap, so threads never share a slot) -> ARMED once
 * its path is written; the handler reads only ARMED slots. The owner's pid
 * keeps a forked child (which inherits the table) from removing its
 * parent's files.
 */
enum { SLOT_FREE = 0, SLOT_CLAIMED = 1, SLOT_ARMED = 2 };
static char guard_path[COFFER_ATOMIC_GUARD_SLOTS][PATH_MAX];
static volatile pid_t guard_pid[COFFER_ATOMIC_GUARD_SLOTS];
static volatile sig_atomic_t guard_state[COFFER_ATOMIC_GUARD_SLOTS];
static volatile sig_atomic_t guard_installed;
static const int guard_signals[] = { SIGINT, SIGTERM, SIGHUP };

static _Thread_local int last_unsynced;

int
coffer_atomic_unsynced(void)
{
	return last_unsynced;
}

static void
on_cleanup_signal(int sig)
{
	pid_t self = getpid();

	for (int i = 0; i < COFFER_ATOMIC_GUARD_SLOTS; i++)
		if (__atomic_load_n(&guard_state[i], __ATOMIC_ACQUIRE) == SLOT_ARMED &&
		    guard_pid[i] == self)
			unlink(guard_path[i]);
	/* Die of the signal as if there were no handler: the parent (a shell)
	 * sees "killed by SIGTERM", not an exit status. The signal is blocked
	 * while this runs, so it is delivered when the handler returns. */
	signal(sig, SIG_DFL);
	raise(sig);
}

int
coffer_atomic_install_signal_cleanup(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cleanup_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(guard_signals) / sizeof(guard_signals[0]); i++)
		sigaddset(&sa.sa_mask, guard_signals[i]);
	for (size_t i = 0; i < sizeof(guard_signals) / sizeof(guard_signals[0]); i++) {
		int sig = guard_signals[i];

		if (sigaction(sig, NULL, &old) != 0)
			return coffer_errf(COFFER_E_INTERNAL, "sigaction %d: %s", sig,
			    strerror(errno));
		/* An ignored signal stays ignored (nohup, `trap '' HUP`, a
		 * background job); a handler the program installed stays too. */
		if ((old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL)
			continue;
		if (sigaction(sig, &sa, NULL) != 0)
			return coffer_errf(COFFER_E_INTERNAL, "sigaction %d: %s", sig,
			    strerror(errno));
	}
	guard_installed = 1;
	return 0;
}

/* Arm a slot for tmp; 0 (none) if the table is full or tmp too long. */
static int
guard_add(const char *tmp)
{
	size_t n = strlen(tmp);

	if (n >= PATH_MAX)
		return 0;
	for (int i = 0; i < COFFER_ATOMIC_GUARD_SLOTS; i++) {
		sig_atomic_t expect = SLOT_FREE;

		if (!__atomic_compare_exchange_n(&guard_state[i], &expect,
		    SLOT_CLAIMED, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		memcpy(guard_path[i], tmp, n + 1);
		guard_pid[i] = getpid();
		__atomic_store_n(&guard_state[i], SLOT_ARMED, __ATOMIC_RELEASE);
		return i + 1;
	}
	return 0;
}

static void
guard_remove(struct coffer_atomic *a)
{
	if (a->guard > 0 && a->guard <= COFFER_ATOMIC_GUARD_SLOTS)
		__atomic_store_n(&guard_state[a->guard - 1], SLOT_FREE,
		    __ATOMIC_RELEASE);
	a->guard = 0;
}

static int
fsync_dir_of(const char *path)
{
	char *copy = coffer_strdup(path);
	const char *dir;
	int fd, e = 0;

	if (copy == NULL)
		return ENOMEM;
	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) != 0 && errno != EINVAL)
			e = errno;
		close(fd);
	}
	free(copy);
	return e;
}

/* The directory part of path ("." for a bare name), into out. */
static void
dir_of(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, outlen, ".");
	else if (slash == path)
		snprintf(out, outlen, "/");
	else
		snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

/* Named temporary files of path whose writer is dead (the fallback's
 * names carry the pid): what a SIGKILL left behind on a file system
 * without O_TMPFILE. Only the caller's own files. */
static void
sweep_stale(const char *path)
{
	char dir[PATH_MAX], p[PATH_MAX], pidhex[9];
	const char *leaf = strrchr(path, '/');
	size_t ll;
	DIR *d;
	struct dirent *e;

	leaf = leaf != NULL ? leaf + 1 : path;
	ll = strlen(leaf);
	dir_of(path, dir, sizeof(dir));
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		long pid;
		char *end = NULL;

		if (strlen(e->d_name) != ll + 17 || strncmp(e->d_name, leaf, ll) != 0 ||
		    strncmp(e->d_name + ll, ".tmp-", 5) != 0)
			continue;
		memcpy(pidhex, e->d_name + ll + 5, 8);
		pidhex[8] = '\0';
		pid = strtol(pidhex, &end, 16);
		if (end != pidhex + 8 || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid())
			unlink(p);
	}
	closedir(d);
}

int
coffer_atomic_open(struct coffer_atomic *a, const char *path, mode_t mode)
{
	uint8_t rnd[8];
	size_t n = strlen(path) + 32;
	sigset_t block, saved;
	char dir[PATH_MAX];
	struct stat st;
	int e = 0;

	a->fd = -1;
	a->tmp = NULL;
	a->guard = 0;
	if ((a->path = coffer_strdup(path)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "path copy");
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		e = errno;
		free(a->path);
		a->path = NULL;
		return coffer_errf(e == ENOENT || e == 0 ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "%s: the directory %s %s", path, dir, e == 0 ? "is not a directory" :
		    e == ENOENT ? "does not exist" : strerror(e));
	}
	/* Unnamed until committed: nothing to clean up, whatever kills us. */
	a->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
	if (a->fd >= 0) {
		if ((a->tmp = coffer_strdup("")) == NULL) {
			close(a->fd);
			a->fd = -1;
			free(a->path);
			a->path = NULL;
			return coffer_errf(COFFER_E_NOMEM, "path copy");
		}
		(void)fchmod(a->fd, mode);
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		e = errno;
		free(a->path);
		a->path = NULL;
		return coffer_errf(e == EACCES || e == EPERM ? COFFER_E_PERM : COFFER_E_IO,
		    "%s: cannot create a file in %s: %s", path, dir, strerror(e));
	}
	sweep_stale(path);
	if ((a->tmp = coffer_malloc(n)) == NULL) {
		free(a->path);
		a->path = NULL;
		return coffer_errf(COFFER_E_NOMEM, "path copy");
	}
	a->tmp[0] = '\0';
	/* No signal between creating the file and registering it, or the
	 * handler would not know to remove it. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(guard_signals) / sizeof(guard_signals[0]); i++)
		sigaddset(&block, guard_signals[i]);
	if (guard_installed)
		pthread_sigmask(SIG_BLOCK, &block, &saved);
	for (int tries = 0; tries < 16; tries++) {
		if (coffer_random(rnd, sizeof(rnd)) != 0) {
			e = EIO;
			break;
		}
		/* 8 hex digits of pid (sweep_stale reads them), 4 random. */
		snprintf(a->tmp, n, "%s.tmp-%08x%02x%02x", path,
		    (unsigned)getpid() & 0xffffffffu, rnd[0], rnd[1]);
		a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (a->fd >= 0 || errno != EEXIST)
			break;
	}
	if (a->fd < 0 && e == 0)
		e = errno;
	if (a->fd >= 0)
		a->guard = guard_add(a->tmp);
	if (guard_installed)
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (a->fd < 0) {
		int r = coffer_errf(e == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "creating a temporary file for %s: %s", path, strerror(e));

		free(a->tmp);
		free(a->path);
		a->tmp = a->path = NULL;
		return r;
	}
	/* The umask must not loosen or tighten what the caller asked for. */
	(void)fchmod(a->fd, mode);
	return 0;
}

/* A new file's name taken (errno from link): a directory given where a
 * file name was meant is said as one, not as "File exists". */
static int
link_err(const char *path)
{
	struct stat st;
	int e = errno;

	if (e == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return coffer_errf(COFFER_E_EXISTS, "%s is a directory: give the "
		    "name of a new file (a path inside it)", path);
	return coffer_errf(e == EEXIST ? COFFER_E_EXISTS : COFFER_E_IO, "%s: %s",
	    path, strerror(e));
}

/* Give the unnamed file of a its final name: linked at path directly with
 * excl (fails if path exists), else under a temporary name renamed over
 * path. */
static int
link_unnamed(struct coffer_atomic *a, int excl)
{
	char proc[64], tmp[PATH_MAX + 32];
	uint8_t rnd[2];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a->fd);
	if (excl) {
		if (linkat(AT_FDCWD, proc, AT_FDCWD, a->path, AT_SYMLINK_FOLLOW) != 0)
			return link_err(a->path);
		return 0;
	}
	for (int tries = 0; tries < 16; tries++) {
		if (coffer_random(rnd, sizeof(rnd)) != 0)
			break;
		snprintf(tmp, sizeof(tmp), "%s.tmp-%08x%02x%02x", a->path,
		    (unsigned)getpid() & 0xffffffffu, rnd[0], rnd[1]);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0) {
			if (errno == EEXIST)
				continue;
			return coffer_errf(COFFER_E_IO, "linking %s: %s", a->path,
			    strerror(errno));
		}
		if (rename(tmp, a->path) != 0) {
			int e = errno;

			unlink(tmp);
			return coffer_errf(COFFER_E_IO, "rename to %s: %s", a->path,
			    strerror(e));
		}
		return 0;
	}
	return coffer_errf(COFFER_E_IO, "linking %s: no free temporary name", a->path);
}

void
coffer_atomic_abort(struct coffer_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	/* Unlink before unregistering: a signal in between finds the path
	 * gone, never a file left behind. */
	if (a->tmp != NULL && a->tmp[0] != '\0')
		unlink(a->tmp);
	guard_remove(a);
	free(a->tmp);
	free(a->path);
	a->fd = -1;
	a->tmp = a->path = NULL;
}

int
coffer_atomic_commit(struct coffer_atomic *a, int excl)
{
	int r = 0;

	last_unsynced = 0;
	if (fsync(a->fd) != 0) {
		r = coffer_errf(COFFER_E_IO, "fsync %s: %s", a->path, strerror(errno));
		goto fail;
	}
	if (a->tmp[0] == '\0') {
		/* O_TMPFILE: named only now, complete. */
		if ((r = link_unnamed(a, excl)) != 0)
			goto fail;
		close(a->fd);
		a->fd = -1;
		last_unsynced = fsync_dir_of(a->path);
		free(a->tmp);
		free(a->path);
		a->tmp = a->path = NULL;
		return 0;
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
			r = link_err(a->path);
			goto fail;
		}
		unlink(a->tmp);
	} else if (rename(a->tmp, a->path) != 0) {
		r = coffer_errf(COFFER_E_IO, "rename to %s: %s", a->path,
		    strerror(errno));
		goto fail;
	}
	/* In place. Unregistered only now: a signal before this line removes
	 * a name that is already gone or is a second link to path, and a
	 * signal after it has nothing left to remove. */
	guard_remove(a);
	/* The file is complete and visible; a failed directory fsync only
	 * means the new entry may not survive a crash (file.h). */
	last_unsynced = fsync_dir_of(a->path);
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
	return 0;
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

const char *
coffer_file_full_hint(int e)
{
	switch (e) {
	case ENOSPC:
		return " (the disk is full: free some space on it, then try again)";
	case EDQUOT:
		return " (the disk quota is used up: free some space, then try again)";
	case EFBIG:
		return " (the file size limit is reached: see 'ulimit -f')";
	default:
		return "";
	}
}
