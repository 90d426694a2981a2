// SPDX-License-Identifier: Apache-2.0
// Party identities (crypto/identity.h): doc/format/identity.md sections 1
// and 2, the public line, which is all a worker reads. Parsers are strict:
// one accepted spelling per identity, so a line that parses is
// byte-for-byte what Coffer would write. Secrets (section 3) are
// identity_secret.c.
#include <string.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/identity_int.h"
#include "lib/enc.h"

#define LINE_PREFIX "coffer-id1:"
#define LINE_PREFIX_LEN (sizeof(LINE_PREFIX) - 1)
#define KEYS_B64_LEN 86  /* base64url of 64 bytes */
#define CHECK_B64_LEN 8  /* base64url of 6 bytes */
#define CHECK_LEN 6

static int
name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
	    c == '+' || c == '-';
}

int
identity_check_name(const char *name, size_t len, int err)
{
	if (len > COFFER_ID_NAME_MAX)
		return coffer_errf(err, "identity name of %zu characters (at most "
		    "%d)", len, COFFER_ID_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (!name_char(name[i]))
			return coffer_errf(err, "identity name: character 0x%02x at "
			    "position %zu is not allowed (allowed: A-Z a-z 0-9 . _ @ + -)",
			    (unsigned char)name[i], i + 1);
	return 0;
}

int
coffer_identity_check_name(const char *name)
{
	return identity_check_name(name, strnlen(name, COFFER_ID_NAME_MAX + 1),
	    COFFER_E_INVAL);
}

/* SHA-256 over "coffer-id1:<keys>:<name>", first 6 bytes (section 2). */
static int
line_check(const char *text, size_t len, uint8_t check[CHECK_LEN])
{
	uint8_t d[COFFER_SHA256_LEN];
	int r;

	if ((r = coffer_sha256(text, len, d)) == 0)
		memcpy(check, d, CHECK_LEN);
	return r;
}

int
coffer_identity_format_public(const struct coffer_identity_public *p,
    struct coffer_buf *out)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_ID_LINE_MAX + 1);
	uint8_t keys[64], check[CHECK_LEN];
	int r;

	memcpy(keys, p->sign_pk, 32);
	memcpy(keys + 32, p->kx_pk, 32);
	if ((r = identity_check_name(p->name, strlen(p->name),
	    COFFER_E_INVAL)) != 0 ||
	    (r = coffer_buf_puts(&b, LINE_PREFIX)) != 0 ||
	    (r = coffer_b64url_put(&b, keys, sizeof(keys))) != 0 ||
	    (r = coffer_buf_putf(&b, ":%s", p->name)) != 0 ||
	    (r = line_check((const char *)b.data, b.len, check)) != 0 ||
	    (r = coffer_buf_puts(&b, ":")) != 0 ||
	    (r = coffer_b64url_put(&b, check, sizeof(check))) != 0)
		goto out;
	r = coffer_buf_put(out, b.data, b.len);
out:
	coffer_buf_release(&b);
	return r;
}

/* The length of "<prefix><digits>" when s starts with it followed by
 * `term`: another version of one of our formats. 0 otherwise. */
size_t
identity_other_version(const char *s, size_t len, const char *prefix,
    char term)
{
	size_t n = strlen(prefix), i;

	if (len <= n || memcmp(s, prefix, n) != 0)
		return 0;
	for (i = n; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	return i > n && (i == len || s[i] == term) ? i : 0;
}

int
coffer_identity_parse_public(const char *line, size_t len,
    struct coffer_identity_public *out)
{
	struct coffer_identity_public p;
	const char *keys, *name, *chk, *c1, *c2;
	uint8_t kb[64], want[CHECK_LEN], got[CHECK_LEN];
	size_t v, namelen;
	int r;

	/* doc/format/identity.md section 2, in the order listed there. */
	if (len < LINE_PREFIX_LEN || memcmp(line, LINE_PREFIX, LINE_PREFIX_LEN) != 0) {
		if ((v = identity_other_version(line, len, "coffer-id", ':')) > 0)
			return coffer_errf(COFFER_E_VERSION, "identity line: '%.*s' is "
			    "not supported (this Coffer reads coffer-id1)", (int)v, line);
		return coffer_errf(COFFER_E_FORMAT, "not a public identity line (it "
		    "does not start with '" LINE_PREFIX "')");
	}
	if (len > COFFER_ID_LINE_MAX)
		return coffer_errf(COFFER_E_FORMAT, "identity line of %zu characters "
		    "is longer than %d", len, COFFER_ID_LINE_MAX);
	keys = line + LINE_PREFIX_LEN;
	if ((c1 = memchr(keys, ':', len - LINE_PREFIX_LEN)) == NULL ||
	    (c2 = memchr(c1 + 1, ':', (size_t)(line + len - c1 - 1))) == NULL ||
	    memchr(c2 + 1, ':', (size_t)(line + len - c2 - 1)) != NULL)
		return coffer_errf(COFFER_E_FORMAT, "identity line: expected four "
		    "fields separated by ':' (coffer-id1:<keys>:<name>:<check>)");
	name = c1 + 1;
	namelen = (size_t)(c2 - name);
	chk = c2 + 1;
	if ((size_t)(c1 - keys) != KEYS_B64_LEN)
		return coffer_errf(COFFER_E_FORMAT, "identity line: the keys field "
		    "has %zu characters, want %d", (size_t)(c1 - keys), KEYS_B64_LEN);
	if ((r = coffer_b64url_decode_exact(keys, KEYS_B64_LEN, kb,
	    sizeof(kb))) != 0)
		return coffer_errctx(r, "identity line: keys field");
	if ((r = identity_check_name(name, namelen, COFFER_E_FORMAT)) != 0)
		return coffer_errctx(r, "identity line");
	if ((size_t)(line + len - chk) != CHECK_B64_LEN ||
	    coffer_b64url_decode_exact(chk, CHECK_B64_LEN, got, sizeof(got)) != 0)
		return coffer_errf(COFFER_E_FORMAT, "identity line: the check field "
		    "must be %d base64url characters", CHECK_B64_LEN);
	if ((r = line_check(line, (size_t)(c2 - line), want)) != 0)
		return r;
	if (memcmp(want, got, CHECK_LEN) != 0)
		return coffer_errf(COFFER_E_FORMAT, "identity line: checksum mismatch "
		    "(the line was altered or mistyped)");
	memset(&p, 0, sizeof(p));
	memcpy(p.sign_pk, kb, 32);
	memcpy(p.kx_pk, kb + 32, 32);
	memcpy(p.name, name, namelen);
	p.name[namelen] = '\0';
	if (coffer_dh_check_public(p.kx_pk) != 0)
		return coffer_errf(COFFER_E_FORMAT, "identity line: the X25519 key is "
		    "a point of small order and cannot receive keys");
	*out = p;
	return 0;
}

int
coffer_identity_fingerprint(const struct coffer_identity_public *p,
    char hex[COFFER_ID_FINGERPRINT_HEX])
{
	uint8_t keys[64], d[COFFER_SHA256_LEN];
	int r;

	memcpy(keys, p->sign_pk, 32);
	memcpy(keys + 32, p->kx_pk, 32);
	if ((r = coffer_sha256(keys, sizeof(keys), d)) == 0)
		coffer_hex_encode(d, sizeof(d), hex);
	return r;
}
