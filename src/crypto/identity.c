// SPDX-License-Identifier: Apache-2.0
// Party identities (crypto/identity.h): doc/format/identity.md sections 1
// to 3. Parsers are strict: one accepted spelling per identity, so a
// line or file that parses is byte-for-byte what Coffer would write.
#include <string.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/keyfile.h"
#include "crypto/sign.h"
#include "lib/enc.h"
#include "lib/mem.h"

#define LINE_PREFIX "coffer-id1:"
#define LINE_PREFIX_LEN (sizeof(LINE_PREFIX) - 1)
#define KEYS_B64_LEN 86  /* base64url of 64 bytes */
#define CHECK_B64_LEN 8  /* base64url of 6 bytes */
#define CHECK_LEN 6
#define SECRET_B64_LEN 43
#define FILE_MAGIC "coffer-identity1"

static int
name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
	    c == '+' || c == '-';
}

static int
check_name(const char *name, size_t len, int err)
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
	return check_name(name, strnlen(name, COFFER_ID_NAME_MAX + 1),
	    COFFER_E_INVAL);
}

void
coffer_identity_wipe(struct coffer_identity *id)
{
	coffer_wipe(id, sizeof(*id));
}

int
coffer_identity_generate(const char *name, struct coffer_identity *id)
{
	struct coffer_identity n;
	int r;

	if (name == NULL)
		name = "";
	if ((r = coffer_identity_check_name(name)) != 0)
		return r;
	memset(&n, 0, sizeof(n));
	memcpy(n.pub.name, name, strlen(name) + 1);
	if ((r = coffer_sign_keygen(n.sign_sk, n.pub.sign_pk)) == 0 &&
	    (r = coffer_dh_keygen(n.kx_sk, n.pub.kx_pk)) == 0)
		*id = n;
	coffer_identity_wipe(&n);
	return r;
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
	if ((r = check_name(p->name, strlen(p->name), COFFER_E_INVAL)) != 0 ||
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
static size_t
other_version(const char *s, size_t len, const char *prefix, char term)
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
		if ((v = other_version(line, len, "coffer-id", ':')) > 0)
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
	if ((r = check_name(name, namelen, COFFER_E_FORMAT)) != 0)
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

int
coffer_identity_format_secret(const struct coffer_identity *id,
    struct coffer_buf *out)
{
	int r;

	/* Section 3: five lines, fixed order. */
	if ((r = coffer_buf_puts(out, FILE_MAGIC "\nname: ")) != 0 ||
	    (r = coffer_buf_puts(out, id->pub.name)) != 0 ||
	    (r = coffer_buf_puts(out, "\ned25519-secret: ")) != 0 ||
	    (r = coffer_b64url_put(out, id->sign_sk, 32)) != 0 ||
	    (r = coffer_buf_puts(out, "\nx25519-secret: ")) != 0 ||
	    (r = coffer_b64url_put(out, id->kx_sk, 32)) != 0 ||
	    (r = coffer_buf_puts(out, "\npublic: ")) != 0 ||
	    (r = coffer_identity_format_public(&id->pub, out)) != 0 ||
	    (r = coffer_buf_puts(out, "\n")) != 0)
		return r;
	return 0;
}

/* Take the next LF-terminated line from *p (at most end); its text without
 * the LF in *line / *n. 0, or COFFER_E_FORMAT if there is no LF. */
static int
next_line(const char **p, const char *end, int lineno, const char **line,
    size_t *n)
{
	const char *lf = memchr(*p, '\n', (size_t)(end - *p));

	if (lf == NULL)
		return coffer_errf(COFFER_E_FORMAT, "identity file: line %d is "
		    "missing or does not end with a newline", lineno);
	*line = *p;
	*n = (size_t)(lf - *p);
	*p = lf + 1;
	return 0;
}

/* "<field>: <value>": the value, or COFFER_E_FORMAT naming line and field. */
static int
field(const char *line, size_t n, int lineno, const char *name,
    const char **val, size_t *vlen)
{
	size_t fl = strlen(name);

	if (n < fl + 2 || memcmp(line, name, fl) != 0 || line[fl] != ':' ||
	    line[fl + 1] != ' ')
		return coffer_errf(COFFER_E_FORMAT, "identity file: line %d must "
		    "start with '%s: '", lineno, name);
	*val = line + fl + 2;
	*vlen = n - fl - 2;
	return 0;
}

int
coffer_identity_parse_secret(const char *text, size_t len,
    struct coffer_identity *out)
{
	struct coffer_identity id;
	struct coffer_buf pub = COFFER_BUF_INIT(COFFER_ID_LINE_MAX + 1);
	const char *p = text, *end = text + len, *line = NULL, *val = NULL;
	size_t n = 0, vlen = 0, v;
	int r;

	memset(&id, 0, sizeof(id));
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c != '\n' && (c < 0x20 || c > 0x7e)) {
			r = coffer_errf(COFFER_E_FORMAT, "identity file: byte 0x%02x at "
			    "offset %zu (only printable ASCII and newlines are allowed)",
			    c, i);
			goto out;
		}
	}
	/* Line 1: magic and version. */
	if (len >= 10 && memcmp(text, "coffer-key", 10) == 0) {
		r = coffer_errf(COFFER_E_FORMAT, "this is a data key file, not an "
		    "identity file");
		goto out;
	}
	if ((v = other_version(text, len, "coffer-identity", '\n')) > 0 &&
	    (v != sizeof(FILE_MAGIC) - 1 || memcmp(text, FILE_MAGIC, v) != 0)) {
		r = coffer_errf(COFFER_E_VERSION, "identity file: '%.*s' is not "
		    "supported (this Coffer reads " FILE_MAGIC ")", (int)v, text);
		goto out;
	}
	if ((r = next_line(&p, end, 1, &line, &n)) != 0)
		goto out;
	if (n != sizeof(FILE_MAGIC) - 1 || memcmp(line, FILE_MAGIC, n) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "not an identity file (the first "
		    "line is not '" FILE_MAGIC "')");
		goto out;
	}
	/* Line 2: name. */
	if ((r = next_line(&p, end, 2, &line, &n)) != 0 ||
	    (r = field(line, n, 2, "name", &val, &vlen)) != 0)
		goto out;
	if ((r = check_name(val, vlen, COFFER_E_FORMAT)) != 0) {
		r = coffer_errctx(r, "identity file: line 2");
		goto out;
	}
	memcpy(id.pub.name, val, vlen);
	id.pub.name[vlen] = '\0';
	/* Lines 3 and 4: the secrets. */
	if ((r = next_line(&p, end, 3, &line, &n)) != 0 ||
	    (r = field(line, n, 3, "ed25519-secret", &val, &vlen)) != 0)
		goto out;
	if ((r = coffer_b64url_decode_exact(val, vlen, id.sign_sk, 32)) != 0) {
		r = coffer_errctx(r, "identity file: line 3 (ed25519-secret)");
		goto out;
	}
	if ((r = next_line(&p, end, 4, &line, &n)) != 0 ||
	    (r = field(line, n, 4, "x25519-secret", &val, &vlen)) != 0)
		goto out;
	if ((r = coffer_b64url_decode_exact(val, vlen, id.kx_sk, 32)) != 0) {
		r = coffer_errctx(r, "identity file: line 4 (x25519-secret)");
		goto out;
	}
	/* Line 5: the public line must be what the secrets give. */
	if ((r = next_line(&p, end, 5, &line, &n)) != 0 ||
	    (r = field(line, n, 5, "public", &val, &vlen)) != 0)
		goto out;
	if (p != end) {
		r = coffer_errf(COFFER_E_FORMAT, "identity file: unexpected data "
		    "after line 5");
		goto out;
	}
	if ((r = coffer_sign_public(id.sign_sk, id.pub.sign_pk)) != 0 ||
	    (r = coffer_dh_public(id.kx_sk, id.pub.kx_pk)) != 0 ||
	    (r = coffer_identity_format_public(&id.pub, &pub)) != 0)
		goto out;
	if (pub.len != vlen || memcmp(pub.data, val, vlen) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "identity file: line 5: the public "
		    "line does not match the secret keys (the file was edited or "
		    "damaged)");
		goto out;
	}
	*out = id;
out:
	coffer_identity_wipe(&id);
	coffer_buf_release(&pub);
	return r;
}

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
