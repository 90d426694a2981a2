/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-file reads with a size limit, and atomic whole-file writes. */
#ifndef COFFER_LIB_FILE_H
#define COFFER_LIB_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"

/*
 * Append the contents of path ("-" is standard input) to b, failing with
 * COFFER_E_LIMIT if it holds more than max bytes. A non-regular file other
 * than a pipe or "-" (a directory, a device) is COFFER_E_IO, naming what it is.
 */
int coffer_file_read(const char *path, size_t max, struct coffer_buf *b)
	__attribute__((warn_unused_result));

/*
 * Write data to path atomically: a temporary file in the same directory
 * (created with mode, O_EXCL), write, fsync, rename over path, fsync the
 * directory. Readers see the old file or the new one, never a mix. With
 * excl != 0 an existing path is COFFER_E_EXISTS (checked with link(2), so
 * there is no race). Returns 0 once the file is in place, even if the
 * final directory fsync failed: see coffer_atomic_unsynced(). The
 * temporary file is guarded against signals like coffer_atomic_open's.
 */
int coffer_file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int excl) __attribute__((warn_unused_result));

/*
 * The same for streamed output: open a temporary file next to path, let
 * the caller write to fd, then commit (fsync, rename, fsync dir) or abort
 * (unlink). A struct coffer_atomic must be ended by exactly one of the two.
 * A zeroed struct (tmp == NULL) may be aborted: that is a no-op.
 *
 * coffer_atomic_open registers the temporary file's path in a process-wide
 * table that coffer_atomic_install_signal_cleanup()'s handlers read; commit
 * and abort remove it. The table holds COFFER_ATOMIC_GUARD_SLOTS paths of
 * fewer than PATH_MAX bytes: a temporary file beyond that still works but
 * is not removed on a signal. A relative path is removed relative to the
 * working directory at the time of the signal (do not chdir while a write
 * is open).
 *
 * coffer_atomic_commit returns 0 once the file is in place under path
 * (renamed, or linked with excl) and complete. If only the fsync of the
 * directory after that failed, it still returns 0 (the file is there and
 * readers see it; nothing should be retried or removed), and
 * coffer_atomic_unsynced() returns that fsync's errno: the new directory
 * entry may not survive a system crash. Any other failure returns an error
 * and leaves nothing at path (the temporary file is removed).
 */
#define COFFER_ATOMIC_GUARD_SLOTS 32
struct coffer_atomic {
	int fd;
	char *tmp;   /* the temporary file's name; "" while it has none
	                (O_TMPFILE); NULL when not open */
	char *path;
	int guard; /* 1 + slot in the signal-cleanup table, 0 if none */
};
#define COFFER_ATOMIC_INIT { -1, NULL, NULL, 0 }
/*
 * Where the file system allows it (Linux's O_TMPFILE: ext4, xfs, btrfs,
 * tmpfs), the temporary file has no name at all until commit links it in:
 * a process killed with SIGKILL, which no handler sees, leaves nothing
 * behind (the kernel frees an unlinked file). Elsewhere it is named
 * "<path>.tmp-<12 hex>", the first 8 hex digits being the writer's pid,
 * and coffer_atomic_open removes such files of dead writers of the same
 * path before it creates its own.
 */
int coffer_atomic_open(struct coffer_atomic *a, const char *path, mode_t mode)
	__attribute__((warn_unused_result));
int coffer_atomic_commit(struct coffer_atomic *a, int excl)
	__attribute__((warn_unused_result));
void coffer_atomic_abort(struct coffer_atomic *a);

/*
 * 0 if the last coffer_atomic_commit() or coffer_file_write_atomic() on
 * this thread that returned 0 also synced the directory; otherwise the
 * errno of that failed directory fsync (the file is in place, but may be
 * lost in a crash). Reset by every commit.
 */
int coffer_atomic_unsynced(void);

/*
 * Install handlers for SIGINT, SIGTERM and SIGHUP that remove every
 * registered temporary file (see above), then restore the default action
 * and re-raise the signal, so the process still dies of it. Library code
 * never installs handlers by itself: a program's main() calls this once,
 * before any atomic write (the `coffer` CLI does, for every command).
 * A signal whose action is not the default (ignored, as under nohup or
 * for a background job, or handled by the program) is left alone. The
 * handlers make only async-signal-safe calls and never allocate. A process
 * forked after a registration never removes its parent's files.
 * Returns 0, or COFFER_E_INTERNAL if sigaction failed.
 */
int coffer_atomic_install_signal_cleanup(void);

/*
 * For a write's errno: " (the disk is full: ...)" for ENOSPC, and the like
 * for EDQUOT and EFBIG, to append to a message that has strerror(e) and
 * the path; "" for any other errno. A full disk shows up far from the
 * write (SQLite's "disk I/O error"): the hint says what to do.
 */
const char *coffer_file_full_hint(int e);

/*
 * Find a program as execvp(3) would: name itself when it contains a '/',
 * else the first directory of PATH (when unset: /usr/local/bin:/usr/bin:
 * /bin) that has an executable file of that name. The path (malloc'd), or
 * NULL when there is none or it is not executable.
 */
char *coffer_path_lookup(const char *name);

/* The directory of the running program (/proc/self/exe), where Coffer's
 * binaries look for each other. COFFER_E_IO or COFFER_E_LIMIT. */
int coffer_exe_dir(char *out, size_t outlen) __attribute__((warn_unused_result));

/* write(2) all of it, retrying on EINTR and short writes. */
int coffer_write_all(int fd, const void *p, size_t n)
	__attribute__((warn_unused_result));
/* read(2) until n bytes or end of file; *got < n only at end of file. */
int coffer_read_full(int fd, void *p, size_t n, size_t *got)
	__attribute__((warn_unused_result));

#endif
