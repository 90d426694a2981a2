/* SPDX-License-Identifier: Apache-2.0 */
/* What `coffer seal`, `open` and `inspect` share: opening the input,
 * guarding the output, and printing a sealed file's summary. */
#ifndef COFFER_CLI_SEALED_CLI_H
#define COFFER_CLI_SEALED_CLI_H

#include <stdio.h>

#include "crypto/sealed.h"

/*
 * Open IN for reading: "-" is standard input (whatever it is); a path
 * must be a regular file or a FIFO. A directory, device or socket is
 * COFFER_E_IO ("not a regular file"), a missing file COFFER_E_NOTFOUND.
 * *fd is STDIN_FILENO for "-"; otherwise the caller closes it.
 */
int sealed_cli_open_input(const char *path, int *fd)
	__attribute__((warn_unused_result));

/*
 * Before any work: OUT ("-" is always fine) must not exist unless force,
 * and must never be anything but a regular file (a device or directory is
 * refused even with force, so `--force` cannot replace /dev/null).
 * COFFER_E_EXISTS, COFFER_E_IO.
 */
int sealed_cli_check_output(const char *path, int force)
	__attribute__((warn_unused_result));

/* Remove path if SIGINT, SIGTERM or SIGHUP arrives before
 * sealed_cli_unguard(): an interrupted command leaves no temporary file. */
void sealed_cli_guard(const char *path);
void sealed_cli_unguard(void);

/* Parse a chunk size: bytes, or with a K/KiB or M/MiB suffix (binary). */
int sealed_cli_parse_size(const char *s, uint32_t *out)
	__attribute__((warn_unused_result));

/*
 * Print a summary of info to f: "name value" lines, or one JSON object
 * when json. in / out may be NULL (not printed). verified: -1 not
 * printed, 0 "no (not checked, no key)", 1 "yes".
 */
void sealed_cli_print(FILE *f, int json, const char *in, const char *out,
    const struct coffer_sealed_info *info, int verified);

#endif
