// SPDX-License-Identifier: Apache-2.0
// Bearer tokens (tokens.h). 256 random bits need no salt or slow hash: a
// digest of a uniformly random secret cannot be brute-forced, and a stolen
// store does not give the tokens back.
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "manager/tokens.h"

int
mgr_token_create(struct mgr_db *db, const char *name, enum http_scope scope,
    char out[MGR_TOKEN_STR_LEN])
{
	uint8_t rnd[MGR_TOKEN_RANDOM_LEN], hash[MGR_TOKEN_HASH_LEN];
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(MGR_TOKEN_STR_LEN);
	int r;

	if ((r = coffer_random(rnd, sizeof(rnd))) != 0)
		goto out;
	if ((r = coffer_buf_puts(&b, MGR_TOKEN_PREFIX)) != 0 ||
	    (r = coffer_b64url_put(&b, rnd, sizeof(rnd))) != 0)
		goto out;
	if (b.len + 1 != MGR_TOKEN_STR_LEN) {
		r = coffer_errf(COFFER_E_INTERNAL, "token length %zu", b.len);
		goto out;
	}
	if ((r = coffer_sha256(b.data, b.len, hash)) != 0 ||
	    (r = mgr_db_token_add(db, name, scope, hash)) != 0)
		goto out;
	memcpy(out, b.data, MGR_TOKEN_STR_LEN);
out:
	coffer_wipe(rnd, sizeof(rnd));
	coffer_buf_release(&b);
	return r;
}

int
mgr_token_find(struct mgr_db *db, const char *token, int64_t *id, char *name,
    size_t namelen, enum http_scope *scope)
{
	uint8_t hash[MGR_TOKEN_HASH_LEN];
	size_t n = strlen(token);
	int r;

	/* The shape is not secret; anything else is simply unknown. */
	if (n != MGR_TOKEN_STR_LEN - 1 ||
	    strncmp(token, MGR_TOKEN_PREFIX, strlen(MGR_TOKEN_PREFIX)) != 0)
		return COFFER_E_AUTH;
	if ((r = coffer_sha256(token, n, hash)) != 0)
		return r;
	return mgr_db_token_find(db, hash, id, name, namelen, scope);
}

int
mgr_token_check(struct mgr_db *db, const char *token, enum http_scope *scope)
{
	return mgr_token_find(db, token, NULL, NULL, 0, scope);
}
