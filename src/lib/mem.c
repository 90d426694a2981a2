// SPDX-License-Identifier: Apache-2.0
// Allocation wrappers. Library code reports COFFER_E_NOMEM instead of aborting.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

void *
coffer_malloc(size_t size)
{
	return malloc(size ? size : 1);
}

void *
coffer_calloc(size_t n, size_t size)
{
	if (n == 0 || size == 0)
		return calloc(1, 1);
	return calloc(n, size);
}

void *
coffer_mallocarray(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return coffer_malloc(n * size);
}

void *
coffer_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return realloc(p, n != 0 && size != 0 ? n * size : 1);
}

char *
coffer_strdup(const char *s)
{
	return coffer_strndup(s, strlen(s));
}

char *
coffer_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = coffer_malloc(len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* explicit_bzero (glibc 2.25), like OPENSSL_cleanse a memset the compiler
 * may not drop, but the C library's vectorised one: three times faster on
 * the 31 KB buffers a worker wipes several times per item (BENCHMARKS.md,
 * "Per-item cost in the e2e"); OpenSSL 3.0's x86_64 cleanse stores 8
 * bytes at a time. */
void
coffer_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

void
coffer_free_secret(void *p, size_t len)
{
	if (p == NULL)
		return;
	coffer_wipe(p, len);
	free(p);
}
