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
 * than a pipe or "-" (a directory, a device) is COFFER_E_INVAL.
 */
int coffer_file_read(const char *path, size_t max, struct coffer_buf *b)
	__attribute__((warn_unused_result));

/*
 * Write data to path atomically: a temporary file in the same directory
 * (created with mode, O_EXCL), write, fsync, rename over path, fsync the
 * directory. Readers see the old file or the new one, never a mix. With
 * excl != 0 an existing path is COFFER_E_EXISTS (checked with link(2), so
 * there is no race).
 */
int coffer_file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int excl) __attribute__((warn_unused_result));

/*
 * The same for streamed output: open a temporary file next to path, let
 * the caller write to fd, then commit (fsync, rename, fsync dir) or abort
 * (unlink). A struct coffer_atomic must be ended by exactly one of the two.
 */
struct coffer_atomic {
	int fd;
	char *tmp;
	char *path;
};
int coffer_atomic_open(struct coffer_atomic *a, const char *path, mode_t mode)
	__attribute__((warn_unused_result));
int coffer_atomic_commit(struct coffer_atomic *a, int excl)
	__attribute__((warn_unused_result));
void coffer_atomic_abort(struct coffer_atomic *a);

/* write(2) all of it, retrying on EINTR and short writes. */
int coffer_write_all(int fd, const void *p, size_t n)
	__attribute__((warn_unused_result));
/* read(2) until n bytes or end of file; *got < n only at end of file. */
int coffer_read_full(int fd, void *p, size_t n, size_t *got)
	__attribute__((warn_unused_result));

#endif
