/* SPDX-License-Identifier: Apache-2.0 */
/* Strict JSON over jansson: size and depth limits, duplicate keys rejected,
 * and typed field getters whose errors name the field. */
#ifndef COFFER_LIB_JSON_H
#define COFFER_LIB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/buf.h"

#define COFFER_JSON_MAX_BYTES_DEFAULT ((size_t)1 << 20)
#define COFFER_JSON_MAX_DEPTH_DEFAULT 32

/*
 * Parse exactly one JSON value from text[0..len) (no NUL needed). Rejects:
 * more than max_bytes, nesting deeper than max_depth (arrays and objects),
 * duplicate object keys, NUL characters in strings, invalid UTF-8, and
 * anything after the value but white space. On success *out is a new
 * reference. Errors: COFFER_E_LIMIT, COFFER_E_FORMAT (detail has line and
 * column).
 */
int coffer_json_parse(const char *text, size_t len, size_t max_bytes,
    int max_depth, json_t **out) __attribute__((warn_unused_result));

/*
 * The scan coffer_json_parse() runs before jansson, for parsers that need
 * more of it: fail with COFFER_E_LIMIT at the first array or object opened
 * deeper than max_depth, and call on_number (if not NULL) with each run of
 * number characters (0-9 . e E + -) outside strings, the offset of its
 * first byte, and arg; a non-zero return from on_number ends the scan and
 * is returned. Validates nothing else: the text still has to be parsed.
 */
int coffer_json_scan(const char *text, size_t len, int max_depth,
    int (*on_number)(const char *tok, size_t len, size_t off, void *arg),
    void *arg) __attribute__((warn_unused_result));

/* Serialise compactly with sorted keys into b (appends). Not canonical for
 * signing: use coffer_jcs_* (crypto/jcs.h) for anything that is signed. */
int coffer_json_dump(const json_t *v, struct coffer_buf *b)
	__attribute__((warn_unused_result));

/*
 * Typed getters for object members. ctx names the object for error text
 * ("plugin_info.control_parameters"), or NULL at top level; an error reads
 * "plugin_info.control_parameters.min_rep: expected an integer".
 *
 * required != 0: a missing key is COFFER_E_FORMAT ("...: missing").
 * required == 0: a missing key (or JSON null) leaves *out untouched and
 * returns 0. A present key of the wrong type or out of range is always
 * COFFER_E_FORMAT. Out-parameters are written only on success.
 */
int coffer_json_get_str(const json_t *obj, const char *ctx, const char *key,
    int required, const char **out) __attribute__((warn_unused_result));
int coffer_json_get_int(const json_t *obj, const char *ctx, const char *key,
    int required, int64_t min, int64_t max, int64_t *out)
	__attribute__((warn_unused_result));
/* Accepts JSON integers and reals; range is inclusive. */
int coffer_json_get_num(const json_t *obj, const char *ctx, const char *key,
    int required, double min, double max, double *out)
	__attribute__((warn_unused_result));
int coffer_json_get_bool(const json_t *obj, const char *ctx, const char *key,
    int required, int *out) __attribute__((warn_unused_result));
/* *out is a borrowed reference. */
int coffer_json_get_obj(const json_t *obj, const char *ctx, const char *key,
    int required, json_t **out) __attribute__((warn_unused_result));
int coffer_json_get_arr(const json_t *obj, const char *ctx, const char *key,
    int required, json_t **out) __attribute__((warn_unused_result));

/*
 * Fail with COFFER_E_FORMAT naming the first member of obj not listed in
 * the NULL-terminated array allowed ("ctx.key: unknown field").
 */
int coffer_json_check_keys(const json_t *obj, const char *ctx,
    const char *const *allowed) __attribute__((warn_unused_result));

/*
 * Fail with COFFER_E_FORMAT naming the first number in v, at any depth,
 * that jansson read as a real (a fraction or an exponent: 1.0 and 1e0 are
 * not integers), as "ctx.key[i]: ..." ("$" when ctx is empty). For
 * formats where an integer has one spelling.
 */
int coffer_json_no_reals(const json_t *v, const char *ctx)
	__attribute__((warn_unused_result));

#endif
