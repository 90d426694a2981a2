// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: Redis URLs (src/queue/redis_url.c), as coffer-worker
// takes them from --redis or COFFER_REDIS_URL. An accepted URL must have
// a host or a socket path, a port in range, and a redacted form without
// its password.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_redis_url u;
	char *s = malloc(size + 1), red[COFFER_REDIS_URL_MAX + 64];

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (coffer_redis_url_parse(s, &u) == 0) {
		if ((u.host == NULL) == (u.path == NULL))
			abort();
		if (u.host != NULL && (u.port < 1 || u.port > 65535 || u.host[0] == '\0'))
			abort();
		if (u.db < 0 || u.db > 65535)
			abort();
		/* No credentials in what goes to logs. */
		coffer_redis_url_redacted(&u, red, sizeof(red));
		if (u.host != NULL && strchr(red, '@') != NULL)
			abort();
		coffer_redis_url_release(&u);
	}
	free(s);
	return 0;
}
