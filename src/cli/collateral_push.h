/* SPDX-License-Identifier: Apache-2.0 */
/* `coffer collateral push` (and fetch --push): send collateral files to a
 * coordinator, POST /v1/collateral (doc/protocol/collateral.md section 3),
 * and print what it kept. */
#ifndef COFFER_CLI_COLLATERAL_PUSH_H
#define COFFER_CLI_COLLATERAL_PUSH_H

#include "proto/collpush.h"

/* Add a file, or every regular file of a directory (names starting with
 * '.' skipped, in name order), named by its base name (section 3.1).
 * Errors: those of coffer_collpush_add, COFFER_E_NOTFOUND, COFFER_E_IO. */
int cli_push_add_path(struct coffer_collpush *s, const char *path)
	__attribute__((warn_unused_result));

/*
 * Push to the coordinator at url and print the answer: one line per item
 * and the cache's state. Returns a CLI exit code (errors printed as
 * "coffer <cmd>: ...").
 */
int cli_push(const char *cmd, const char *url, const struct coffer_collpush *s);

/* GET url/v1/collateral and print it the same way; a CLI exit code. */
int cli_push_show(const char *cmd, const char *url);

#endif
