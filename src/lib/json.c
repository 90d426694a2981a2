// SPDX-License-Identifier: Apache-2.0
// Strict JSON parsing and typed getters over jansson (lib/json.h).
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/json.h"
#include "lib/suggest.h"

/*
 * jansson's own depth limit is a compile-time 2048, far too deep for input
 * from the network, so measure the depth first with a scan that tracks
 * strings (brackets inside strings do not count). The scan does not need to
 * validate anything else: jansson parses afterwards.
 */
static int
is_number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' ||
	    c == '+' || c == '-';
}

int
coffer_json_scan(const char *s, size_t len, int max_depth,
    int (*on_number)(const char *tok, size_t len, size_t off, void *arg),
    void *arg)
{
	int depth = 0, in_str = 0, r;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return coffer_errf(COFFER_E_LIMIT,
				    "JSON nested deeper than %d levels (offset %zu)",
				    max_depth, i);
		} else if (c == ']' || c == '}') {
			depth--;
		} else if (on_number != NULL && (c == '-' || (c >= '0' && c <= '9'))) {
			size_t j = i + 1;

			while (j < len && is_number_char(s[j]))
				j++;
			if ((r = on_number(s + i, j - i, i, arg)) != 0)
				return r;
			i = j - 1;
		}
	}
	return 0;
}

int
coffer_json_parse(const char *text, size_t len, size_t max_bytes, int max_depth,
    json_t **out)
{
	json_error_t jerr;
	json_t *v = NULL;
	int r;

	if (len > max_bytes)
		return coffer_errf(COFFER_E_LIMIT,
		    "JSON document of %zu bytes exceeds the limit of %zu", len,
		    max_bytes);
	if ((r = coffer_json_scan(text, len, max_depth, NULL, NULL)) != 0)
		return r;
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (v == NULL)
		return coffer_errf(COFFER_E_FORMAT, "JSON line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
	*out = v;
	return 0;
}

static int
dump_cb(const char *p, size_t n, void *data)
{
	return coffer_buf_put(data, p, n) == 0 ? 0 : -1;
}

int
coffer_json_dump(const json_t *v, struct coffer_buf *b)
{
	if (json_dump_callback(v, dump_cb, b,
	    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17)) != 0)
		return coffer_errf(COFFER_E_LIMIT, "JSON serialisation failed");
	return 0;
}

static int
field_err(const char *ctx, const char *key, const char *what)
{
	if (ctx != NULL && ctx[0] != '\0')
		return coffer_errf(COFFER_E_FORMAT, "%s.%s: %s", ctx, key, what);
	return coffer_errf(COFFER_E_FORMAT, "%s: %s", key, what);
}

/* 1: present, 0: absent and optional, <0: error. */
static int
lookup(const json_t *obj, const char *ctx, const char *key, int required,
    json_t **v)
{
	if (!json_is_object(obj))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an object",
		    ctx != NULL && ctx[0] != '\0' ? ctx : "document");
	*v = json_object_get(obj, key);
	if (*v == NULL || json_is_null(*v)) {
		if (required)
			return field_err(ctx, key, "missing");
		return 0;
	}
	return 1;
}

int
coffer_json_get_str(const json_t *obj, const char *ctx, const char *key,
    int required, const char **out)
{
	json_t *v = NULL;
	int r;

	if ((r = lookup(obj, ctx, key, required, &v)) <= 0)
		return r;
	if (!json_is_string(v))
		return field_err(ctx, key, "expected a string");
	*out = json_string_value(v);
	return 0;
}

int
coffer_json_get_int(const json_t *obj, const char *ctx, const char *key,
    int required, int64_t min, int64_t max, int64_t *out)
{
	char what[128];
	json_int_t i;
	json_t *v = NULL;
	int r;

	if ((r = lookup(obj, ctx, key, required, &v)) <= 0)
		return r;
	if (json_is_integer(v)) {
		i = json_integer_value(v);
	} else if (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v) &&
	    fabs(json_real_value(v)) < 9007199254740992.0) {
		/* 3.0 is an integer; JavaScript clients write them. */
		i = (json_int_t)json_real_value(v);
	} else {
		return field_err(ctx, key, "expected an integer");
	}
	if (i < min || i > max) {
		snprintf(what, sizeof(what), "%lld is out of range [%lld, %lld]",
		    (long long)i, (long long)min, (long long)max);
		return field_err(ctx, key, what);
	}
	*out = (int64_t)i;
	return 0;
}

int
coffer_json_get_num(const json_t *obj, const char *ctx, const char *key,
    int required, double min, double max, double *out)
{
	char what[128];
	double d;
	json_t *v = NULL;
	int r;

	if ((r = lookup(obj, ctx, key, required, &v)) <= 0)
		return r;
	if (!json_is_number(v))
		return field_err(ctx, key, "expected a number");
	d = json_number_value(v);
	if (!isfinite(d) || d < min || d > max) {
		snprintf(what, sizeof(what), "%g is out of range [%g, %g]", d, min,
		    max);
		return field_err(ctx, key, what);
	}
	*out = d;
	return 0;
}

int
coffer_json_get_bool(const json_t *obj, const char *ctx, const char *key,
    int required, int *out)
{
	json_t *v = NULL;
	int r;

	if ((r = lookup(obj, ctx, key, required, &v)) <= 0)
		return r;
	if (!json_is_boolean(v))
		return field_err(ctx, key, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

int
coffer_json_get_obj(const json_t *obj, const char *ctx, const char *key,
    int required, json_t **out)
{
	json_t *v = NULL;
	int r;

	if ((r = lookup(obj, ctx, key, required, &v)) <= 0)
		return r;
	if (!json_is_object(v))
		return field_err(ctx, key, "expected an object");
	*out = v;
	return 0;
}

int
coffer_json_get_arr(const json_t *obj, const char *ctx, const char *key,
    int required, json_t **out)
{
	json_t *v = NULL;
	int r;

	if ((r = lookup(obj, ctx, key, required, &v)) <= 0)
		return r;
	if (!json_is_array(v))
		return field_err(ctx, key, "expected an array");
	*out = v;
	return 0;
}

int
coffer_json_check_keys(const json_t *obj, const char *ctx,
    const char *const *allowed)
{
	const char *key;
	json_t *v = NULL;

	if (!json_is_object(obj))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an object",
		    ctx != NULL && ctx[0] != '\0' ? ctx : "document");
	json_object_foreach((json_t *)obj, key, v) {
		size_t i;

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL) {
			const char *close = coffer_suggest(key, allowed, i);
			char what[96];

			if (close == NULL)
				return field_err(ctx, key, "unknown field");
			snprintf(what, sizeof(what), "unknown field (did you mean "
			    "'%s'?)", close);
			return field_err(ctx, key, what);
		}
	}
	return 0;
}

int
coffer_json_no_reals(const json_t *v, const char *ctx)
{
	char p[160];
	const char *k;
	json_t *e;
	size_t i;
	int r;

	if (json_is_real(v))
		return coffer_errf(COFFER_E_FORMAT, "%s: a number that is not an "
		    "integer", ctx && ctx[0] ? ctx : "$");
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e) {
			if (ctx == NULL || ctx[0] == '\0')
				snprintf(p, sizeof(p), "%s", k);
			else
				snprintf(p, sizeof(p), "%s.%s", ctx, k);
			if ((r = coffer_json_no_reals(e, p)) != 0)
				return r;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			snprintf(p, sizeof(p), "%s[%zu]", ctx ? ctx : "", i);
			if ((r = coffer_json_no_reals(e, p)) != 0)
				return r;
		}
	}
	return 0;
}
