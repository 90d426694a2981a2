/* SPDX-License-Identifier: Apache-2.0 */
/* `coffer collateral push` (and fetch --push): send collateral files to a
 * coordinator, POST /v1/collateral (doc/protocol/collateral.md section 3),
 * and print what it kept. */
#ifndef COFFER_CLI_COLLATERAL_PUSH_H
#define COFFER_CLI_COLLATERAL_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define CLI_PUSH_MAX_ITEMS 64
#define CLI_PUSH_ITEM_MAX ((size_t)1 << 20)

struct cli_push_file {
	char name[101];
	struct coffer_buf data;
};

struct cli_push_set {
	struct cli_push_file *f;
	size_t n;
};

void cli_push_set_release(struct cli_push_set *s);

/* Add a file, or every regular file of a directory (names starting with
 * '.' skipped, in name order), as section 3.1 names them. Errors:
 * COFFER_E_INVAL for a name the coordinator would refuse (C3),
 * COFFER_E_LIMIT (more than 64 files, a file over 1 MiB), COFFER_E_IO. */
int cli_push_set_add_path(struct cli_push_set *s, const char *path)
	__attribute__((warn_unused_result));
/* Add bytes under a name (copied). */
int cli_push_set_add(struct cli_push_set *s, const char *name,
    const uint8_t *data, size_t len) __attribute__((warn_unused_result));

/* The request body of section 3.1 (appended to out). */
int cli_push_body(const struct cli_push_set *s, struct coffer_buf *out)
	__attribute__((warn_unused_result));

/*
 * Push to the coordinator at url and print the answer: one line per item
 * and the cache's state. Returns a CLI exit code (errors printed as
 * "coffer <cmd>: ...").
 */
int cli_push(const char *cmd, const char *url, const struct cli_push_set *s);

/* GET url/v1/collateral and print it the same way; a CLI exit code. */
int cli_push_show(const char *cmd, const char *url);

#endif
