/* SPDX-License-Identifier: Apache-2.0 */
/* Checking a job's app parameters against what the app declares
 * (include/coffer/app.h, doc/format/app-abi.md section 5), in the JSON
 * form that `coffer-worker --describe-app` prints and executables' manifests
 * hold: the manager at submission, `coffer run` before starting, and the
 * worker before init() all use this one check. */
#ifndef COFFER_LIB_APPPARAMS_H
#define COFFER_LIB_APPPARAMS_H

#include <stddef.h>

#include <jansson.h>

#include "coffer/app.h"

#define COFFER_APP_PARAM_RESERVED "coffer."

/* 1 if name is reserved for the worker ("coffer." prefix). */
int coffer_app_param_reserved(const char *name);

/*
 * Check a declaration list (a JSON array of {"name", "type": "string" |
 * "int" | "number" | "bool", "required", "min", "max", "values", "help"}).
 * COFFER_E_FORMAT naming the entry when it is malformed.
 */
int coffer_app_decls_check(const json_t *decls)
	__attribute__((warn_unused_result));

/* The declarations of a plugin's struct as that JSON array (new ref);
 * NULL on allocation failure. */
json_t *coffer_app_decls_json(const struct coffer_app_param_decl *d, size_t n);

/*
 * Check parameters (keys[i] = values[i], n of them) against decls. For
 * each error calls fn(arg, name, message) (name: the parameter) and goes
 * on: reserved names, unknown names (with the closest declared one),
 * wrong types, values out of range or not among the allowed ones, and
 * missing required ones. Returns the number of errors. decls NULL: only
 * reserved names are errors.
 */
size_t coffer_app_params_check(const json_t *decls, const char *const *keys,
    const char *const *values, size_t n,
    void (*fn)(void *arg, const char *name, const char *message), void *arg);

#endif
