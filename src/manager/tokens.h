/* SPDX-License-Identifier: Apache-2.0 */
/* API bearer tokens: "cft_" + base64url(32 random bytes), shown once; the
 * store keeps only SHA-256 of the whole string (doc/api.md "Tokens"). */
#ifndef COFFER_MANAGER_TOKENS_H
#define COFFER_MANAGER_TOKENS_H

#include <stddef.h>

#include "manager/db.h"
#include "http/router.h"

#define MGR_TOKEN_PREFIX "cft_"
#define MGR_TOKEN_RANDOM_LEN 32
/* "cft_" + 43 base64url characters + NUL. */
#define MGR_TOKEN_STR_LEN (4 + 43 + 1)

/* Create a token, store its digest under name and scope, and write the
 * token itself (to show once) into out. */
int mgr_token_create(struct mgr_db *db, const char *name, enum http_scope scope,
    char out[MGR_TOKEN_STR_LEN]) __attribute__((warn_unused_result));

/* Check a presented token: 0 and *scope, or COFFER_E_AUTH (unknown or
 * malformed); other codes for store failures. */
int mgr_token_check(struct mgr_db *db, const char *token, enum http_scope *scope)
	__attribute__((warn_unused_result));

/* The token's row (id, name, scope) when it is valid: for `token verify`
 * and for coffer up, which keeps one admin token across restarts. */
int mgr_token_find(struct mgr_db *db, const char *token, int64_t *id,
    char *name, size_t namelen, enum http_scope *scope)
	__attribute__((warn_unused_result));

#endif
