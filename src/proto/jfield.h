/* SPDX-License-Identifier: Apache-2.0 */
/* Strict readers for the members of the coordinator family's JSON
 * (doc/format/policy.md section 2.1): exact member sets, integers that
 * are integers, lower-case hex of an exact length, identity lines,
 * base64url blobs. Private to src/proto. Every error is COFFER_E_FORMAT
 * (COFFER_E_VERSION for another version) whose detail names the member
 * with its path: "owners[1].datasets[0].key_id: expected 32 lower-case
 * hex digits". Out-parameters are written only on success. */
#ifndef COFFER_PROTO_JFIELD_H
#define COFFER_PROTO_JFIELD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/identity.h"
#include "lib/buf.h"

#define COFFER_JFIELD_INT_MAX 9007199254740991ULL /* 2^53 - 1 */
#define COFFER_JFIELD_PATH_MAX 160

/* Character classes of names (doc/format/policy.md section 3). */
#define COFFER_JFIELD_NAME "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define COFFER_JFIELD_LOWER_NAME "abcdefghijklmnopqrstuvwxyz0123456789._-"
#define COFFER_JFIELD_LIMIT_NAME "abcdefghijklmnopqrstuvwxyz0123456789_"

/* Build "ctx.key", "ctx[i]" paths into out (COFFER_JFIELD_PATH_MAX). */
void coffer_jfield_path(char *out, const char *ctx, const char *key);
void coffer_jfield_index(char *out, const char *ctx, size_t i);

/* obj is an object with every member of `required` and no member outside
 * `required` and `optional` (NULL-terminated lists; optional may be NULL). */
int coffer_jfield_keys(const json_t *obj, const char *ctx,
    const char *const *required, const char *const *optional)
	__attribute__((warn_unused_result));

/* The member must be the string `want` ("type": "coffer-policy"). */
int coffer_jfield_type(const json_t *obj, const char *ctx, const char *want)
	__attribute__((warn_unused_result));
/* "version": the integer 1; another integer is COFFER_E_VERSION. */
int coffer_jfield_version(const json_t *obj, const char *ctx)
	__attribute__((warn_unused_result));

/* A string of minlen to maxlen bytes; every byte in charset when it is
 * not NULL, else any UTF-8 (jansson validated it) without NUL. */
int coffer_jfield_str(const json_t *obj, const char *ctx, const char *key,
    size_t minlen, size_t maxlen, const char *charset, const char **out)
	__attribute__((warn_unused_result));
/* The same for a string value (an array element). */
int coffer_jfield_strval(const json_t *v, const char *path, size_t minlen,
    size_t maxlen, const char *charset, const char **out)
	__attribute__((warn_unused_result));

/* A JSON integer (not a real, not a boolean) in [min, max]. */
int coffer_jfield_uint(const json_t *obj, const char *ctx, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
	__attribute__((warn_unused_result));
int coffer_jfield_bool(const json_t *obj, const char *ctx, const char *key,
    int *out) __attribute__((warn_unused_result));

/* Exactly 2n lower-case hex digits into out[n]. */
int coffer_jfield_hex(const json_t *obj, const char *ctx, const char *key,
    uint8_t *out, size_t n) __attribute__((warn_unused_result));
/* The same for a string value. */
int coffer_jfield_hexval(const json_t *v, const char *path, uint8_t *out,
    size_t n) __attribute__((warn_unused_result));
/* "sha256:" and 64 lower-case hex digits (a sealed content digest). */
int coffer_jfield_digest(const json_t *obj, const char *ctx, const char *key,
    uint8_t out[32]) __attribute__((warn_unused_result));
/* A public identity line (doc/format/identity.md section 2). */
int coffer_jfield_identity(const json_t *obj, const char *ctx,
    const char *key, struct coffer_identity_public *out)
	__attribute__((warn_unused_result));
int coffer_jfield_identityval(const json_t *v, const char *path,
    struct coffer_identity_public *out) __attribute__((warn_unused_result));
/* Strict base64url of 1 to max bytes, appended to out (reset first). */
int coffer_jfield_blob(const json_t *obj, const char *ctx, const char *key,
    size_t max, struct coffer_buf *out) __attribute__((warn_unused_result));

/* 1 if s[0..n) is lower-case hex (even length, digits and a-f). */
int coffer_jfield_is_lower_hex(const char *s, size_t n);

/* 1 if the n bytes at p are all zero (fields a format says are zero). */
int coffer_jfield_all_zero(const uint8_t *p, size_t n);

#endif
