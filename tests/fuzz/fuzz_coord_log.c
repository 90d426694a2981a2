// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the audit log's routes and the Coffer-Seen-Head check
// on a real coordinator (tests/fuzz/coord_harness.h). The first byte
// chooses:
//   0  the rest as a Coffer-Seen-Head header on GET /v1/policies
//   1  a head this coordinator signed (size: 2 bytes, root: 32 bytes from
//      the input) presented on GET /v1/policies: heads of its log pass,
//      others record a rollback and are refused
//   2  the rest as the query of GET /v1/log/inclusion
//   3  ... of GET /v1/log/consistency
//   4  ... of GET /v1/log/entries
// Then the head and every proof it answers must check.
#include <stddef.h>
#include <stdint.h>

#include "coord_harness.h"
#include "coordinator/audit.h"
#include "http/request.h"
#include "proto/auditlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* h_call with a query string and a header. */
static void
call(const char *path, const char *query, const char *header, const char *value)
{
	static struct http_head head;
	struct http_req r;

	memset(&r, 0, sizeof(r));
	memset(&head, 0, sizeof(head));
	if (http_route_find(coord_routes, coord_nroutes, "GET", path, &r.match,
	    NULL, 0) != HTTP_ROUTE_FOUND)
		abort();
	if (header != NULL) {
		head.nheaders = 1;
		head.h[0].name = (char *)header;
		head.h[0].value = (char *)value;
	}
	r.head = &head;
	r.http = H_c->http;
	r.ctx = H_c;
	r.method = "GET";
	r.path = path;
	r.query = query;
	r.body = "";
	r.match.route->handler(&r);
	if (!r.replied)
		abort();
}

/* Every entry's inclusion under the current root, from the stored tree. */
static void
check_log(void)
{
	coffer_merkle_hash root, path[COFFER_MERKLE_MAX_PATH], leaf;
	struct coffer_buf e = COFFER_BUF_INIT(COFFER_AUDITLOG_ENTRY_MAX);
	uint64_t n;
	size_t len;

	if (coord_audit_size(H_c->st, &n) != 0 ||
	    coord_audit_root(H_c->st, n, root) != 0)
		abort();
	for (uint64_t i = n > 8 ? n - 8 : 0; i < n; i++) {
		e.len = 0;
		if (coord_state_log_entry_get(H_c->st, i, &e) != 0 ||
		    coffer_auditlog_entry_check(e.data, e.len, NULL) != 0 ||
		    coffer_merkle_leaf(e.data, e.len, leaf) != 0 ||
		    coord_audit_inclusion(H_c->st, i, n, path, &len) != 0 ||
		    coffer_merkle_verify_inclusion(leaf, i, n,
		    (const coffer_merkle_hash *)path, len, root) != 0)
			abort();
	}
	coffer_buf_release(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_buf env = COFFER_BUF_INIT(COFFER_AUDITLOG_HEAD_MAX);
	struct coffer_buf b64 = COFFER_BUF_INIT(4096);
	struct coffer_tree_head h;
	char text[1024];
	size_t n;

	if (H_c == NULL)
		h_world();
	if (size < 1)
		return 0;
	n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	switch (data[0] % 5) {
	case 0:
		call("/v1/policies", NULL, "Coffer-Seen-Head", text);
		break;
	case 1:
		if (size < 35)
			break;
		memset(&h, 0, sizeof(h));
		h.size = (uint64_t)data[1] << 8 | data[2];
		memcpy(h.root, data + 3, 32);
		if (h.size == 0 && coffer_sha256("", 0, h.root) != 0)
			abort();
		if (coffer_auditlog_head_make(H_c->id.sign_sk, &h, &env) != 0 ||
		    coffer_b64url_put(&b64, env.data, env.len) != 0)
			abort();
		call("/v1/policies", NULL, "Coffer-Seen-Head", coffer_buf_str(&b64));
		break;
	case 2:
		call("/v1/log/inclusion", text, NULL, NULL);
		break;
	case 3:
		call("/v1/log/consistency", text, NULL, NULL);
		break;
	default:
		call("/v1/log/entries", text, NULL, NULL);
		break;
	}
	check_log();
	coffer_buf_release(&env);
	coffer_buf_release(&b64);
	return 0;
}
