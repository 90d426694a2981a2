// SPDX-License-Identifier: Apache-2.0
// Example app (executable form of apps/checksum/plugin.c): reads one item
// on stdin, writes the cksum(1) line for it (or, with COFFER_PARAM_format
// =upper, the item upper-cased) on stdout. The item id comes from
// COFFER_ITEM_ID, as coffer-worker sets it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cksum.h"

int
main(void)
{
	const char *id = getenv("COFFER_ITEM_ID"), *fmt = getenv("COFFER_PARAM_format");
	size_t len = 0, cap = 1 << 16;
	unsigned char *buf = malloc(cap);
	ssize_t n;

	if (buf == NULL)
		return 2;
	if (id == NULL) {
		fprintf(stderr, "checksum: COFFER_ITEM_ID is not set\n");
		return 2;
	}
	for (;;) {
		if (len == cap) {
			unsigned char *p = realloc(buf, cap *= 2);

			if (p == NULL)
				return 2;
			buf = p;
		}
		n = read(0, buf + len, cap - len);
		if (n < 0) {
			perror("checksum: read");
			return 2;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (fmt != NULL && strcmp(fmt, "upper") == 0) {
		for (size_t i = 0; i < len; i++)
			if (buf[i] >= 'a' && buf[i] <= 'z')
				buf[i] = (unsigned char)(buf[i] - 32);
		if (fwrite(buf, 1, len, stdout) != len)
			return 2;
	} else {
		printf("%lu %zu %s\n", (unsigned long)app_cksum(buf, len), len, id);
	}
	free(buf);
	return fflush(stdout) == 0 ? 0 : 2;
}
