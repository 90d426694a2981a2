// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: item ids and object keys (src/queue/queue.c,
// src/store/store.c), which come from Redis and from file names. An id
// that both accept must be a safe relative path: no empty, "." or ".."
// component, no leading '/', printable ASCII only.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int item_ok, key_ok;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	item_ok = coffer_queue_check_item(s, size) == 0;
	key_ok = coffer_store_check_key(s) == 0;
	if (item_ok) {
		for (size_t i = 0; i < size; i++)
			if (data[i] <= 0x20 || data[i] >= 0x7f)
				abort();
	}
	if (key_ok) {
		const char *c = s;

		if (s[0] == '/' || strstr(s, "//") != NULL || s[strlen(s) - 1] == '/')
			abort();
		while (c != NULL) {
			const char *e = strchr(c, '/');
			size_t n = e ? (size_t)(e - c) : strlen(c);

			if (n == 0 || (n == 1 && c[0] == '.') ||
			    (n == 2 && c[0] == '.' && c[1] == '.'))
				abort();
			c = e ? e + 1 : NULL;
		}
		(void)coffer_store_is_tmp_name(s, strlen(s));
	}
	(void)coffer_queue_check_job(s);
	free(s);
	return 0;
}
