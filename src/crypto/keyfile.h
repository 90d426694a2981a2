/* SPDX-License-Identifier: Apache-2.0 */
/* Files that hold secret keys: read only when private to the owner (mode
 * & 077 == 0, like OpenSSH), written 0600 atomically without overwriting.
 * doc/format/identity.md, sections 3 and 4. */
#ifndef COFFER_CRYPTO_KEYFILE_H
#define COFFER_CRYPTO_KEYFILE_H

#include <stddef.h>

#include "lib/buf.h"

#define COFFER_KEYFILE_MAX 4096

/*
 * Append the contents of the secret file at path to b (which should be a
 * secret buffer). Errors: COFFER_E_NOTFOUND, COFFER_E_IO (cannot open or
 * read, or not a regular file), COFFER_E_PERM (group or other permission
 * bits set; the detail gives the mode and the chmod fix), COFFER_E_LIMIT
 * (more than max bytes). b must be able to grow by max + 1 bytes (the
 * extra byte detects an oversized file). On error b is unchanged.
 */
int coffer_keyfile_read(const char *path, size_t max, struct coffer_buf *b)
	__attribute__((warn_unused_result));

/* Create path with mode 0600 holding data, atomically; an existing path
 * is COFFER_E_EXISTS and is left alone. */
int coffer_keyfile_write(const char *path, const void *data, size_t len)
	__attribute__((warn_unused_result));

#endif
