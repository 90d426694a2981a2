// SPDX-License-Identifier: Apache-2.0
// Strict member readers for the coordinator family's JSON (jfield.h,
// doc/format/policy.md section 2.1). One place decides what "an integer",
// "a hash" or "a blob" is, so the five formats cannot drift apart.
#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/suggest.h"
#include "proto/jfield.h"

/* Appends s to the path out of length *n, truncated as snprintf would
 * (at COFFER_JFIELD_PATH_MAX - 1 bytes). Paths are built for every
 * member read, thousands per policy, so without snprintf. */
static void
put(char *out, size_t *n, const char *s)
{
	size_t k = strlen(s);

	if (k > COFFER_JFIELD_PATH_MAX - 1 - *n)
		k = COFFER_JFIELD_PATH_MAX - 1 - *n;
	memcpy(out + *n, s, k);
	*n += k;
	out[*n] = '\0';
}

void
coffer_jfield_path(char *out, const char *ctx, const char *key)
{
	size_t n = 0;

	out[0] = '\0';
	if (ctx != NULL && ctx[0] != '\0') {
		put(out, &n, ctx);
		put(out, &n, ".");
	}
	put(out, &n, key);
}

void
coffer_jfield_index(char *out, const char *ctx, size_t i)
{
	char d[24];
	size_t k = sizeof(d) - 1, n = 0;

	d[k] = '\0';
	do
		d[--k] = (char)('0' + i % 10);
	while ((i /= 10) != 0);
	out[0] = '\0';
	put(out, &n, ctx ? ctx : "");
	put(out, &n, "[");
	put(out, &n, d + k);
	put(out, &n, "]");
}

static int
in_list(const char *k, const char *const *list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(k, list[i]) == 0)
			return 1;
	return 0;
}

static size_t
count(const char *const *list)
{
	size_t n = 0;

	while (list != NULL && list[n] != NULL)
		n++;
	return n;
}

/* The known member k is a typo of, or NULL. */
static const char *
closest(const char *k, const char *const *required, const char *const *optional)
{
	const char *c = coffer_suggest(k, required, count(required));

	return c != NULL ? c : coffer_suggest(k, optional, count(optional));
}

static int
unknown(const char *ctx, const char *k, const char *close)
{
	char p[COFFER_JFIELD_PATH_MAX];

	coffer_jfield_path(p, ctx, k);
	if (close == NULL)
		return coffer_errf(COFFER_E_FORMAT, "%s: unknown member", p);
	return coffer_errf(COFFER_E_FORMAT, "%s: unknown member (did you mean "
	    "'%s'?)", p, close);
}

int
coffer_jfield_keys(const json_t *obj, const char *ctx,
    const char *const *required, const char *const *optional)
{
	char p[COFFER_JFIELD_PATH_MAX];
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an object",
		    ctx && ctx[0] ? ctx : "document");
	for (size_t i = 0; required[i] != NULL; i++)
		if (json_object_get(obj, required[i]) == NULL) {
			/* A misspelt member is both unknown and leaves one
			 * missing: name the typo, which is what the writer
			 * has to fix (the rejection is the same). */
			json_object_foreach((json_t *)obj, k, v)
				if (!in_list(k, required) && !in_list(k, optional) &&
				    closest(k, required, optional) == required[i])
					return unknown(ctx, k, required[i]);
			coffer_jfield_path(p, ctx, required[i]);
			return coffer_errf(COFFER_E_FORMAT, "%s: missing", p);
		}
	json_object_foreach((json_t *)obj, k, v) {
		if (!in_list(k, required) && !in_list(k, optional))
			return unknown(ctx, k, closest(k, required, optional));
	}
	return 0;
}

static int
need(const json_t *obj, const char *ctx, const char *key, char *p, json_t **v)
{
	coffer_jfield_path(p, ctx, key);
	*v = json_object_get(obj, key);
	if (*v == NULL)
		return coffer_errf(COFFER_E_FORMAT, "%s: missing", p);
	return 0;
}

int
coffer_jfield_type(const json_t *obj, const char *ctx, const char *want)
{
	const char *s;
	int r;

	if ((r = coffer_jfield_str(obj, ctx, "type", 1, 64, NULL, &s)) != 0)
		return r;
	if (strcmp(s, want) != 0)
		return coffer_errf(COFFER_E_FORMAT, "%s%stype: \"%s\", expected \"%s\"",
		    ctx && ctx[0] ? ctx : "", ctx && ctx[0] ? "." : "", s, want);
	return 0;
}

int
coffer_jfield_version(const json_t *obj, const char *ctx)
{
	char p[COFFER_JFIELD_PATH_MAX];
	json_t *v;
	int r;

	if ((r = need(obj, ctx, "version", p, &v)) != 0)
		return r;
	if (!json_is_integer(v))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected the integer 1", p);
	if (json_integer_value(v) != 1)
		return coffer_errf(COFFER_E_VERSION, "%s: version %lld is not supported "
		    "(this is version 1)", p, (long long)json_integer_value(v));
	return 0;
}

int
coffer_jfield_strval(const json_t *v, const char *path, size_t minlen,
    size_t maxlen, const char *charset, const char **out)
{
	const char *s;
	size_t n, i;

	if (!json_is_string(v))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected a string", path);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n < minlen || n > maxlen)
		return coffer_errf(COFFER_E_FORMAT, "%s: %zu bytes, expected %zu to %zu",
		    path, n, minlen, maxlen);
	if (strlen(s) != n)
		return coffer_errf(COFFER_E_FORMAT, "%s: contains a NUL character", path);
	/* s has no NUL (above): strspn stops only at a byte not allowed. */
	if (charset != NULL && (i = strspn(s, charset)) != n)
		return coffer_errf(COFFER_E_FORMAT,
		    "%s: byte %zu (0x%02x) is not allowed here", path, i,
		    (unsigned char)s[i]);
	*out = s;
	return 0;
}

int
coffer_jfield_str(const json_t *obj, const char *ctx, const char *key,
    size_t minlen, size_t maxlen, const char *charset, const char **out)
{
	char p[COFFER_JFIELD_PATH_MAX];
	json_t *v;
	int r;

	if ((r = need(obj, ctx, key, p, &v)) != 0)
		return r;
	return coffer_jfield_strval(v, p, minlen, maxlen, charset, out);
}

int
coffer_jfield_uint(const json_t *obj, const char *ctx, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
{
	char p[COFFER_JFIELD_PATH_MAX];
	json_int_t x;
	json_t *v;
	int r;

	if ((r = need(obj, ctx, key, p, &v)) != 0)
		return r;
	/* jansson reads 1.0 and 1e3 as reals: not integers here. */
	if (!json_is_integer(v))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an integer", p);
	x = json_integer_value(v);
	if (x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return coffer_errf(COFFER_E_FORMAT, "%s: %lld is out of range [%llu, %llu]",
		    p, (long long)x, (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)x;
	return 0;
}

int
coffer_jfield_bool(const json_t *obj, const char *ctx, const char *key, int *out)
{
	char p[COFFER_JFIELD_PATH_MAX];
	json_t *v;
	int r;

	if ((r = need(obj, ctx, key, p, &v)) != 0)
		return r;
	if (!json_is_boolean(v))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected true or false", p);
	*out = json_is_true(v);
	return 0;
}

int
coffer_jfield_is_lower_hex(const char *s, size_t n)
{
	if (n % 2 != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
coffer_jfield_hexval(const json_t *v, const char *path, uint8_t *out, size_t n)
{
	size_t got;

	if (!json_is_string(v) || json_string_length(v) != 2 * n ||
	    !coffer_jfield_is_lower_hex(json_string_value(v), 2 * n))
		return coffer_errf(COFFER_E_FORMAT,
		    "%s: expected %zu lower-case hex digits", path, 2 * n);
	if (coffer_hex_decode(json_string_value(v), 2 * n, out, n, &got) != 0 ||
	    got != n)
		return coffer_errf(COFFER_E_FORMAT, "%s: bad hex", path);
	return 0;
}

int
coffer_jfield_hex(const json_t *obj, const char *ctx, const char *key,
    uint8_t *out, size_t n)
{
	char p[COFFER_JFIELD_PATH_MAX];
	json_t *v;
	int r;

	if ((r = need(obj, ctx, key, p, &v)) != 0)
		return r;
	return coffer_jfield_hexval(v, p, out, n);
}

int
coffer_jfield_digest(const json_t *obj, const char *ctx, const char *key,
    uint8_t out[32])
{
	char p[COFFER_JFIELD_PATH_MAX];
	const char *s;
	size_t got;
	json_t *v;
	int r;

	if ((r = need(obj, ctx, key, p, &v)) != 0)
		return r;
	if (!json_is_string(v) || json_string_length(v) != 7 + 64 ||
	    strncmp((s = json_string_value(v)), "sha256:", 7) != 0 ||
	    !coffer_jfield_is_lower_hex(s + 7, 64))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected \"sha256:\" and 64 "
		    "lower-case hex digits (the sealed file's content digest)", p);
	if (coffer_hex_decode(s + 7, 64, out, 32, &got) != 0 || got != 32)
		return coffer_errf(COFFER_E_FORMAT, "%s: bad hex", p);
	return 0;
}

int
coffer_jfield_identityval(const json_t *v, const char *path,
    struct coffer_identity_public *out)
{
	if (!json_is_string(v) || json_string_length(v) > COFFER_ID_LINE_MAX)
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an identity line "
		    "(coffer-id1:...)", path);
	if (coffer_identity_parse_public(json_string_value(v), json_string_length(v),
	    out) != 0)
		return coffer_errctx(COFFER_E_FORMAT, "%s", path);
	return 0;
}

int
coffer_jfield_identity(const json_t *obj, const char *ctx, const char *key,
    struct coffer_identity_public *out)
{
	char p[COFFER_JFIELD_PATH_MAX];
	json_t *v;
	int r;

	if ((r = need(obj, ctx, key, p, &v)) != 0)
		return r;
	return coffer_jfield_identityval(v, p, out);
}

int
coffer_jfield_blob(const json_t *obj, const char *ctx, const char *key,
    size_t max, struct coffer_buf *out)
{
	char p[COFFER_JFIELD_PATH_MAX];
	json_t *v;
	int r;

	if ((r = need(obj, ctx, key, p, &v)) != 0)
		return r;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > coffer_b64url_len(max))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected base64url of 1 to %zu "
		    "bytes", p, max);
	coffer_buf_reset(out);
	if (coffer_b64url_decode_buf(json_string_value(v), json_string_length(v),
	    out) != 0 || out->len == 0 || out->len > max) {
		coffer_buf_reset(out);
		return coffer_errf(COFFER_E_FORMAT, "%s: not strict base64url of 1 to "
		    "%zu bytes", p, max);
	}
	return 0;
}

int
coffer_jfield_all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}
