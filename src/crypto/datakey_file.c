// SPDX-License-Identifier: Apache-2.0
// Data key files (crypto/datakey.h), as specified in doc/format/identity.md
// section 4: only the owner's CLI writes and reads them.
#include <string.h>

#include "coffer/error.h"
#include "crypto/datakey.h"
#include "crypto/keyfile.h"
#include "lib/enc.h"
#include "lib/mem.h"

#define PREFIX "coffer-key1:"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define KEY_B64_LEN 43 /* coffer_b64url_len(32) */

int
coffer_datakey_format(const uint8_t key[32], struct coffer_buf *out)
{
	int r;

	if ((r = coffer_buf_puts(out, PREFIX)) != 0 ||
	    (r = coffer_b64url_put(out, key, COFFER_DATAKEY_LEN)) != 0 ||
	    (r = coffer_buf_puts(out, "\n")) != 0)
		return r;
	return 0;
}

/* The length of "<prefix><digits>" if s[0..len) starts with it and then
 * ':', else 0: another version of one of our formats. */
static size_t
other_version(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix), i;

	if (len <= n || memcmp(s, prefix, n) != 0)
		return 0;
	for (i = n; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	return i > n && i < len && s[i] == ':' ? i : 0;
}

int
coffer_datakey_parse(const char *text, size_t len, uint8_t key[32])
{
	uint8_t k[COFFER_DATAKEY_LEN];
	size_t body, v;
	int r;

	/* doc/format/identity.md section 4. */
	if (len < PREFIX_LEN || memcmp(text, PREFIX, PREFIX_LEN) != 0) {
		if ((v = other_version(text, len, "coffer-key")) > 0)
			return coffer_errf(COFFER_E_VERSION,
			    "data key file: '%.*s' is not supported "
			    "(this Coffer reads coffer-key1)", (int)v, text);
		if (len >= 15 && memcmp(text, "coffer-identity", 15) == 0)
			return coffer_errf(COFFER_E_FORMAT,
			    "this is an identity file, not a data key file");
		return coffer_errf(COFFER_E_FORMAT,
		    "not a data key file (it does not start with '" PREFIX "')");
	}
	body = len - PREFIX_LEN;
	if (body > 0 && text[len - 1] == '\n')
		body--;
	if (body != KEY_B64_LEN)
		return coffer_errf(COFFER_E_FORMAT,
		    "data key file: expected %d base64url characters and a newline "
		    "after '" PREFIX "', got %zu bytes", KEY_B64_LEN, len - PREFIX_LEN);
	if ((r = coffer_b64url_decode_exact(text + PREFIX_LEN, body, k,
	    sizeof(k))) != 0)
		return coffer_errctx(r, "data key file");
	memcpy(key, k, sizeof(k));
	coffer_wipe(k, sizeof(k));
	return 0;
}

int
coffer_datakey_load(const char *path, uint8_t key[32])
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(COFFER_KEYFILE_MAX + 1);
	int r;

	if ((r = coffer_keyfile_read(path, COFFER_KEYFILE_MAX, &b)) != 0)
		goto out;
	if ((r = coffer_datakey_parse((const char *)coffer_buf_ptr(&b), b.len,
	    key)) != 0)
		r = coffer_errctx(r, "%s", path);
out:
	coffer_buf_release(&b);
	return r;
}

int
coffer_datakey_save(const char *path, const uint8_t key[32])
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(128);
	int r;

	if ((r = coffer_datakey_format(key, &b)) == 0)
		r = coffer_keyfile_write(path, b.data, b.len);
	coffer_buf_release(&b);
	return r;
}
