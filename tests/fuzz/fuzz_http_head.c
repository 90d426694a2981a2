// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the HTTP request-head reader (src/http/request.c,
// doc/http.md section 3) that every byte from the network meets first,
// before any token is checked. An accepted head must have an upper-case
// method, a path starting with '/', no header name or value with a line
// break, and a length or a transfer coding but not both; the percent-
// decoder used on its query must never write past its buffer. An integer
// query parameter (http_req_query_int, doc/http.md section 3: the
// coordinator's `wait`, doc/protocol/key-release.md JW1,
// doc/format/item-proof.md LW1, from 1 to 30; the manager's `wait_s`)
// is taken only when written as the value's one spelling, digits without
// a leading zero.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "http/http.h"
#include "http/request.h"
#include "lib/pct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* JW1/LW1 as the coordinator's handlers read `wait` (api_jobs.c,
 * api_ledger.c): whatever is taken is 1 to 30, and the raw value is
 * exactly its decimal spelling. */
static void
wait_query(const char *query)
{
	struct http_req r;
	char v[64], canon[24];
	int64_t wait = -1;
	int q;

	memset(&r, 0, sizeof(r));
	r.query = query;
	q = http_req_query_int(&r, "wait", 1, 30, &wait);
	if (q == 1) {
		if (wait < 1 || wait > 30 ||
		    http_req_query(&r, "wait", v, sizeof(v)) != 1)
			abort();
		snprintf(canon, sizeof(canon), "%lld", (long long)wait);
		if (strcmp(v, canon) != 0)
			abort();
	} else if (wait != -1) {
		abort(); /* *out is written only when taken */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head h;
	char *buf, out[64];
	size_t end;

	if (size > HTTP_HEAD_MAX)
		return 0;
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = http_head_end(buf, size);
	if (end > size)
		abort();
	if (end > 0 && http_head_parse(buf, end, &h) == 0) {
		if (h.method[0] < 'A' || h.method[0] > 'Z' || h.path == NULL ||
		    h.path[0] != '/' || (h.chunked && h.content_length >= 0) ||
		    h.nheaders > HTTP_HEADERS_MAX)
			abort();
		for (size_t i = 0; i < h.nheaders; i++)
			if (strpbrk(h.h[i].name, "\r\n: ") != NULL ||
			    strpbrk(h.h[i].value, "\r\n") != NULL)
				abort();
		if (h.query != NULL) {
			(void)!coffer_pct_decode(h.query, strlen(h.query), 1, out,
			    sizeof(out), NULL);
			wait_query(h.query);
		}
	}
	free(buf);
	return 0;
}
