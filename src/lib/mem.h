/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation wrappers: overflow-checked sizes, NULL on failure (never abort),
 * and wiping frees for key material. */
#ifndef COFFER_LIB_MEM_H
#define COFFER_LIB_MEM_H

#include <stddef.h>

/* Like malloc/calloc/realloc but n * size is overflow-checked; NULL on
 * failure or overflow. coffer_mallocarray(0, x) returns a unique pointer. */
void *coffer_malloc(size_t size);
void *coffer_calloc(size_t n, size_t size);
void *coffer_mallocarray(size_t n, size_t size);
void *coffer_reallocarray(void *p, size_t n, size_t size);
char *coffer_strdup(const char *s);
char *coffer_strndup(const char *s, size_t n);

/* Wipe len bytes at p (OPENSSL_cleanse) and free p. NULL is a no-op. */
void coffer_free_secret(void *p, size_t len);

/* Wipe len bytes in place; the compiler may not elide it. */
void coffer_wipe(void *p, size_t len);

#endif
