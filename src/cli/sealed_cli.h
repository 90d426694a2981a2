/* SPDX-License-Identifier: Apache-2.0 */
/* What `coffer seal`, `open` and `inspect` share: opening the input,
 * checking the output, and printing a sealed file's summary; and the
 * checks every command that writes a file and prints a result makes
 * (`coffer key new`, `coffer id new` too). */
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

/* -v of seal and open: the CPU time each thread used (doc/cli.md). */
void sealed_cli_print_cpu(FILE *f, const struct coffer_sealed_info *info);

/* Parse --threads: "auto" (0), "1" or "2" (struct coffer_sealed_opts). */
int sealed_cli_parse_threads(const char *s, int *out)
	__attribute__((warn_unused_result));

/* Parse a chunk size: bytes, or with a K/KiB or M/MiB suffix (binary). */
int sealed_cli_parse_size(const char *s, uint32_t *out)
	__attribute__((warn_unused_result));

/*
 * Call after printing a command's result to standard output: 0 if it was
 * delivered (fflush succeeded and no error is pending), else COFFER_E_IO
 * with a detail that says what could not be printed (what, e.g. "its key
 * id") and, when written is not NULL, that the file written exists all
 * the same, so the user neither retries blindly nor assumes nothing
 * happened.
 */
int sealed_cli_check_stdout(const char *written, const char *what)
	__attribute__((warn_unused_result));

/*
 * Call after a successful atomic write of path (lib/file.h): 0 if its
 * directory was synced, else COFFER_E_IO with a detail that says path was
 * written and is complete, but may not survive a system crash.
 */
int sealed_cli_check_synced(const char *path)
	__attribute__((warn_unused_result));

/*
 * Print a file name for a "name value" line: backslash as \\, LF, CR and
 * TAB as \n, \r, \t, any other control byte (0x00-0x1f, 0x7f, and the C1
 * controls U+0080-U+009F) and every byte that is not part of valid UTF-8 as
 * \xNN, so a name can neither start a new line nor move the cursor.
 */
void sealed_cli_put_name(FILE *f, const char *name);

/*
 * Print a summary of info to f: "name value" lines, or one JSON object
 * when json. in / out may be NULL (not printed). verified: -1 not
 * printed, 0 "no (not checked, no key)", 1 "yes". File names are escaped
 * with sealed_cli_put_name in text; in JSON a name that is not valid UTF-8
 * has each invalid byte replaced by U+FFFD (doc/cli.md).
 */
void sealed_cli_print(FILE *f, int json, const char *in, const char *out,
    const struct coffer_sealed_info *info, int verified);

/* coffer_datakey_load, but a sealed file given as the key is said to be
 * one, and a file readable by others that is no key file at all (a CSV)
 * is said not to be a key: both used to get "permissions too open, run
 * chmod 600" advice. */
int sealed_cli_load_key(const char *path, uint8_t key[32])
	__attribute__((warn_unused_result));

/*
 * From now until sealed_cli_interrupt_disarm(), SIGINT, SIGTERM or SIGHUP
 * first prints "coffer CMD: interrupted: nothing written to OUT" (out
 * escaped as by sealed_cli_put_name; out NULL: "what went to standard
 * output is incomplete") on standard error, then goes to the handler
 * main() installed (coffer_atomic_install_signal_cleanup: the temporary
 * file is removed and the process dies of the signal, exit 130 for
 * Ctrl-C). A signal that is ignored is left alone.
 */
void sealed_cli_interrupt_arm(const char *cmd, const char *out);
/* From here on the signals only do what they did before arm. */
void sealed_cli_interrupt_disarm(void);

#endif
