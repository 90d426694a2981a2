// SPDX-License-Identifier: Apache-2.0
// Identity files on disk (crypto/identity.h; doc/format/identity.md
// section 3): written and read with keyfile.c's modes and checks. Only the
// owner's CLI keeps an identity in a file: the coordinator seals its own
// in its state, so it does not link this file or keyfile.c.
#include "coffer/error.h"
#include "crypto/identity.h"
#include "crypto/keyfile.h"
#include "lib/buf.h"

int
coffer_identity_save(const char *path, const struct coffer_identity *id)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(COFFER_KEYFILE_MAX);
	int r;

	if ((r = coffer_identity_format_secret(id, &b)) == 0)
		r = coffer_keyfile_write(path, b.data, b.len);
	coffer_buf_release(&b);
	return r;
}

int
coffer_identity_load(const char *path, struct coffer_identity *id)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(COFFER_KEYFILE_MAX + 1);
	int r;

	if ((r = coffer_keyfile_read(path, COFFER_KEYFILE_MAX, &b)) == 0 &&
	    (r = coffer_identity_parse_secret((const char *)coffer_buf_ptr(&b),
	    b.len, id)) != 0)
		r = coffer_errctx(r, "%s", path);
	coffer_buf_release(&b);
	return r;
}
