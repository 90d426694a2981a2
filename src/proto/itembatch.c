// SPDX-License-Identifier: Apache-2.0
// Item proof batches and close requests (doc/format/item-proof.md
// sections 7.1 and 8). A batch is checked whole (B1, B2) before any proof
// in it is looked at, so a request is either read entirely or refused.
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/itembatch.h"
#include "proto/jfield.h"

int
coffer_itemproof_batch_parse(const char *text, size_t len,
    uint8_t (**out)[COFFER_ITEMPROOF_LEN], size_t *n)
{
	static const char *const members[] = { "proofs", NULL };
	uint8_t (*p)[COFFER_ITEMPROOF_LEN] = NULL;
	char path[COFFER_JFIELD_PATH_MAX];
	json_t *root = NULL, *a, *v;
	size_t i, count;
	int r;

	/* B1 */
	if ((r = coffer_json_parse(text, len, COFFER_ITEMPROOF_BATCH_BYTES, 4,
	    &root)) != 0)
		return coffer_errctx(r, "item proofs");
	if ((r = coffer_jfield_keys(root, NULL, members, NULL)) != 0)
		goto out;
	a = json_object_get(root, "proofs");
	count = json_is_array(a) ? json_array_size(a) : 0;
	if (count < 1 || count > COFFER_ITEMPROOF_BATCH_MAX) {
		r = coffer_errf(COFFER_E_FORMAT, "proofs: expected an array of 1 to %d "
		    "proofs", COFFER_ITEMPROOF_BATCH_MAX);
		goto out;
	}
	if ((p = coffer_mallocarray(count, sizeof(*p))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "item proofs");
		goto out;
	}
	json_array_foreach(a, i, v) {
		coffer_jfield_index(path, "proofs", i);
		if (!json_is_string(v) || coffer_b64url_decode_exact(json_string_value(v),
		    json_string_length(v), p[i], COFFER_ITEMPROOF_LEN) != 0) {
			r = coffer_errf(COFFER_E_FORMAT, "%s: expected the base64url of "
			    "%d bytes", path, COFFER_ITEMPROOF_LEN);
			goto out;
		}
		/* B2: one session per request. */
		if (memcmp(p[i] + 24, p[0] + 24, 16) != 0) {
			r = coffer_errf(COFFER_E_FORMAT, "%s: another session than "
			    "proofs[0] (one session per request)", path);
			goto out;
		}
	}
	*out = p;
	*n = count;
	p = NULL;
out:
	free(p);
	json_decref(root);
	return r;
}

int
coffer_itemproof_batch_is_binary(const char *ct)
{
	static const char type[] = COFFER_ITEMPROOF_BATCH_BINARY;
	size_t n;

	if (ct == NULL)
		return 0;
	ct += strspn(ct, " \t");
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == sizeof(type) - 1 && strncasecmp(ct, type, n) == 0;
}

int
coffer_itemproof_batch_parse_binary(const uint8_t *body, size_t len, size_t *n)
{
	size_t count = len / COFFER_ITEMPROOF_LEN;

	/* BB1 */
	if (len % COFFER_ITEMPROOF_LEN != 0 || count < 1 ||
	    count > COFFER_ITEMPROOF_BATCH_MAX)
		return coffer_errf(COFFER_E_FORMAT, "proofs: a binary batch is 1 to %d "
		    "proofs of %d bytes, not %zu bytes (BB1)", COFFER_ITEMPROOF_BATCH_MAX,
		    COFFER_ITEMPROOF_LEN, len);
	/* B2: one session per request. */
	for (size_t i = 1; i < count; i++)
		if (memcmp(body + i * COFFER_ITEMPROOF_LEN + 24, body + 24, 16) != 0)
			return coffer_errf(COFFER_E_FORMAT, "proofs[%zu]: another session "
			    "than proofs[0] (one session per request)", i);
	*n = count;
	return 0;
}

static int
blobs_put(const char *member, const uint8_t *b, size_t each, size_t n,
    struct coffer_buf *out)
{
	int r;

	if ((r = coffer_buf_putf(out, "{\"%s\":[", member)) != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = coffer_buf_puts(out, i ? ",\"" : "\"")) != 0 ||
		    (r = coffer_b64url_put(out, b + i * each, each)) != 0 ||
		    (r = coffer_buf_puts(out, "\"")) != 0)
			return r;
	return coffer_buf_puts(out, "]}");
}

int
coffer_itemproof_batch_put(const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN],
    size_t n, struct coffer_buf *out)
{
	if (n < 1 || n > COFFER_ITEMPROOF_BATCH_MAX)
		return coffer_errf(COFFER_E_INVAL, "%zu proofs in one request", n);
	return blobs_put("proofs", proofs[0], COFFER_ITEMPROOF_LEN, n, out);
}

int
coffer_itemack_batch_put(const uint8_t (*acks)[COFFER_ITEMACK_LEN], size_t n,
    struct coffer_buf *out)
{
	return blobs_put("acks", n ? acks[0] : NULL, COFFER_ITEMACK_LEN, n, out);
}

int
coffer_close_request_parse(const char *text, size_t len,
    struct coffer_close_request *out)
{
	static const char *const members[] = { "reason", NULL };
	static const char *const optional[] = { "stage", NULL };
	struct coffer_close_request c;
	const char *reason, *stage;
	json_t *root = NULL;
	int r;

	/* CL1 */
	memset(&c, 0, sizeof(c));
	if ((r = coffer_json_parse(text, len, COFFER_CLOSE_REQ_MAX, 2, &root)) != 0)
		return coffer_errctx(r, "close request");
	if ((r = coffer_jfield_keys(root, NULL, members, optional)) != 0 ||
	    (r = coffer_jfield_str(root, NULL, "reason", 1, 16, NULL, &reason)) != 0)
		goto out;
	if (strcmp(reason, "done") != 0 && strcmp(reason, "cancelled") != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "reason: \"done\" or \"cancelled\"");
		goto out;
	}
	c.cancelled = strcmp(reason, "cancelled") == 0;
	if (json_object_get(root, "stage") != NULL) {
		if ((r = coffer_jfield_str(root, NULL, "stage", 1, 16, NULL,
		    &stage)) != 0)
			goto out;
		if (strcmp(stage, "map") != 0 || c.cancelled) {
			r = coffer_errf(COFFER_E_FORMAT, "stage: only \"map\", and only "
			    "with \"reason\": \"done\"");
			goto out;
		}
		c.map_only = 1;
	}
	*out = c;
out:
	json_decref(root);
	return r;
}
