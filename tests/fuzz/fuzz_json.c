// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the strict JSON layer (src/lib/json.c): parse with
// limits, read every member with every typed getter, check the allowed-keys
// filter, and require that what is dumped parses back to an equal value.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define MAX_BYTES ((size_t)64 << 10)
#define MAX_DEPTH 16
#define MAX_VISIT 4096

static const char *const allowed[] = { "name", "id", "min_rep", "max_rep",
	"plugin_info", "expected_time", "enable_visualizer", NULL };

static void visit(const json_t *v, const char *ctx, int depth, int *budget);

/* Every getter on one member: each either succeeds with the right type or
 * fails with COFFER_E_FORMAT naming the field, and never touches its
 * out-parameter on failure. */
static void
getters(const json_t *obj, const char *ctx, const char *key, int depth,
    int *budget)
{
	const char *s = (const char *)1;
	int64_t i = 7;
	double d = 7.5;
	int b = 3, r;
	json_t *o = (json_t *)1, *a = (json_t *)1;
	const json_t *m = json_object_get(obj, key);

	CHECK(m != NULL);
	for (int req = 0; req < 2; req++) {
		r = coffer_json_get_str(obj, ctx, key, req, &s);
		CHECK(r == 0 || r == COFFER_E_FORMAT);
		CHECK(r == 0 || s == (const char *)1);
		if (r == 0 && !json_is_null(m))
			CHECK(json_is_string(m) && s == json_string_value(m));
		r = coffer_json_get_int(obj, ctx, key, req, -1000, 1000, &i);
		CHECK(r == 0 || r == COFFER_E_FORMAT);
		if (r == 0 && !json_is_null(m))
			CHECK(i >= -1000 && i <= 1000);
		r = coffer_json_get_int(obj, ctx, key, req, INT64_MIN, INT64_MAX, &i);
		CHECK(r == 0 || r == COFFER_E_FORMAT);
		r = coffer_json_get_num(obj, ctx, key, req, 0.0, 1e9, &d);
		CHECK(r == 0 || r == COFFER_E_FORMAT);
		if (r == 0 && !json_is_null(m))
			CHECK(d >= 0.0 && d <= 1e9);
		r = coffer_json_get_bool(obj, ctx, key, req, &b);
		CHECK(r == 0 || r == COFFER_E_FORMAT);
		r = coffer_json_get_obj(obj, ctx, key, req, &o);
		CHECK(r == 0 || r == COFFER_E_FORMAT);
		r = coffer_json_get_arr(obj, ctx, key, req, &a);
		CHECK(r == 0 || r == COFFER_E_FORMAT);
	}
	/* a missing optional key is not an error and writes nothing */
	i = 42;
	CHECK(coffer_json_get_int(obj, ctx, "\x01missing", 0, 0, 1, &i) == 0);
	CHECK(i == 42);
	CHECK(coffer_json_get_int(obj, ctx, "\x01missing", 1, 0, 1, &i) ==
	    COFFER_E_FORMAT);
	visit(m, key, depth + 1, budget);
}

static void
visit(const json_t *v, const char *ctx, int depth, int *budget)
{
	const char *key;
	json_t *m;
	size_t idx;

	if (depth > MAX_DEPTH + 1 || --*budget <= 0)
		return;
	if (json_is_object(v)) {
		int r = coffer_json_check_keys(v, ctx, allowed);

		CHECK(r == 0 || r == COFFER_E_FORMAT);
		json_object_foreach((json_t *)v, key, m)
			getters(v, ctx, key, depth, budget);
	} else if (json_is_array(v)) {
		json_array_foreach(v, idx, m)
			visit(m, ctx, depth + 1, budget);
	} else {
		/* getters on a non-object fail cleanly */
		const char *s = NULL;

		CHECK(coffer_json_get_str(v, ctx, "x", 0, &s) == COFFER_E_FORMAT);
		CHECK(coffer_json_check_keys(v, ctx, allowed) == COFFER_E_FORMAT);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)8 << 20);
	json_t *v = NULL, *w = NULL;
	int r, budget = MAX_VISIT;

	r = coffer_json_parse((const char *)data, size, MAX_BYTES, MAX_DEPTH, &v);
	CHECK(r == 0 || r == COFFER_E_FORMAT || r == COFFER_E_LIMIT);
	if (r != 0) {
		CHECK(coffer_errdetail()[0] != '\0');
		return 0;
	}
	CHECK(v != NULL);
	visit(v, NULL, 0, &budget);
	visit(v, "doc", 0, &budget);
	/* What Coffer writes, Coffer reads back to the same value. */
	CHECK(coffer_json_dump(v, &b) == 0);
	r = coffer_json_parse((const char *)b.data, b.len, (size_t)8 << 20,
	    MAX_DEPTH, &w);
	CHECK(r == 0);
	CHECK(json_equal(v, w));
	json_decref(w);
	json_decref(v);
	coffer_buf_release(&b);
	return 0;
}
