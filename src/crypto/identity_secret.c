// SPDX-License-Identifier: Apache-2.0
// Party identities (crypto/identity.h): doc/format/identity.md section 3,
// the secret keys: generating them, and the text of the identity file
// that holds them (saved and loaded by identity_file.c). The parser is
// strict: one accepted spelling per file, so a file that parses is
// byte-for-byte what Coffer would write.
#include <string.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/identity.h"
#include "crypto/identity_int.h"
#include "crypto/sign.h"
#include "lib/enc.h"
#include "lib/mem.h"

#define FILE_MAGIC "coffer-identity1"

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
	if ((v = identity_other_version(text, len, "coffer-identity", '\n')) > 0 &&
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
	if ((r = identity_check_name(val, vlen, COFFER_E_FORMAT)) != 0) {
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
