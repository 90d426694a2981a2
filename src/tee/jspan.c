// SPDX-License-Identifier: Apache-2.0
// The byte span of a top-level member's value in a JSON object. Intel's
// PCS serves {"tcbInfo":{...},"signature":"..."} and signs the exact bytes
// of the inner object as served, so the verifier must hash those bytes and
// never a re-serialisation; jansson gives no offsets, hence this scanner.
// It only finds boundaries: callers also parse the whole text with
// coffer_json_parse() (which validates it and rejects duplicate keys) and
// then parse the span itself, so what is interpreted is what was signed.
#include <string.h>

#include "coffer/error.h"
#include "tee/tee_int.h"

#define SPAN_MAX_DEPTH 64

static size_t
skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* s[i] is '"': return the index just past the closing quote. */
static int
skip_string(const char *s, size_t len, size_t i, size_t *end)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\') {
			i++;
		} else if (s[i] == '"') {
			*end = i + 1;
			return 0;
		} else if ((unsigned char)s[i] < 0x20) {
			return coffer_errf(COFFER_E_FORMAT, "JSON: control character in "
			    "a string at offset %zu", i);
		}
	}
	return coffer_errf(COFFER_E_FORMAT, "JSON: unterminated string");
}

/* Skip one value starting at s[i] (no leading white space). */
static int
skip_value(const char *s, size_t len, size_t i, size_t *end)
{
	int depth = 0, r;

	if (i >= len)
		return coffer_errf(COFFER_E_FORMAT, "JSON: value expected at offset %zu", i);
	if (s[i] != '{' && s[i] != '[') {
		if (s[i] == '"')
			return skip_string(s, len, i, end);
		if (!strchr("-0123456789tfn", s[i]))
			return coffer_errf(COFFER_E_FORMAT, "JSON: unexpected '%c' at "
			    "offset %zu", s[i], i);
		while (i < len && s[i] != '\0' && strchr("+-.0123456789eEtruefalsn", s[i]))
			i++;
		*end = i;
		return 0;
	}
	/* Containers: track nesting; strings are skipped whole so brackets
	 * inside them do not count. */
	while (i < len) {
		char c = s[i];

		if (c == '"') {
			if ((r = skip_string(s, len, i, &i)) != 0)
				return r;
			continue;
		}
		if (c == '{' || c == '[') {
			if (++depth > SPAN_MAX_DEPTH)
				return coffer_errf(COFFER_E_LIMIT, "JSON: nested deeper "
				    "than %d", SPAN_MAX_DEPTH);
		} else if (c == '}' || c == ']') {
			if (--depth == 0) {
				*end = i + 1;
				return 0;
			}
		}
		i++;
	}
	return coffer_errf(COFFER_E_FORMAT, "JSON: unterminated object or array");
}

int
tee_json_span(const char *s, size_t len, const char *key, size_t *start,
    size_t *end)
{
	size_t klen = strlen(key), i, ks, ke, vs, ve, fs = 0, fe = 0;
	int found = 0, r;

	i = skip_ws(s, len, 0);
	if (i >= len || s[i] != '{')
		return coffer_errf(COFFER_E_FORMAT, "JSON: not an object");
	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == '}')
		return coffer_errf(COFFER_E_NOTFOUND, "JSON: no member \"%s\"", key);
	for (;;) {
		if (i >= len || s[i] != '"')
			return coffer_errf(COFFER_E_FORMAT, "JSON: member name expected "
			    "at offset %zu", i);
		ks = i + 1;
		if ((r = skip_string(s, len, i, &i)) != 0)
			return r;
		ke = i - 1;
		i = skip_ws(s, len, i);
		if (i >= len || s[i] != ':')
			return coffer_errf(COFFER_E_FORMAT, "JSON: ':' expected at offset %zu", i);
		vs = skip_ws(s, len, i + 1);
		if ((r = skip_value(s, len, vs, &ve)) != 0)
			return r;
		if (ke - ks == klen && memcmp(s + ks, key, klen) == 0) {
			if (found)
				return coffer_errf(COFFER_E_FORMAT, "JSON: member \"%s\" "
				    "twice", key);
			found = 1;
			fs = vs;
			fe = ve;
		}
		i = skip_ws(s, len, ve);
		if (i < len && s[i] == ',') {
			i = skip_ws(s, len, i + 1);
			continue;
		}
		if (i < len && s[i] == '}')
			break;
		return coffer_errf(COFFER_E_FORMAT, "JSON: ',' or '}' expected at "
		    "offset %zu", i);
	}
	if (!found)
		return coffer_errf(COFFER_E_NOTFOUND, "JSON: no member \"%s\"", key);
	*start = fs;
	*end = fe;
	return 0;
}
