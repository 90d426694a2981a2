// SPDX-License-Identifier: Apache-2.0
// The audit log over HTTP (doc/api-coordinator.md section 8;
// doc/format/audit-log.md sections 4, 5 and 6.2): the signed head,
// inclusion and consistency proofs, entries; the `start` event; and the
// check of the head an owner presents in `Coffer-Seen-Head`, which is how
// a coordinator started from an older copy of its state learns it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/coord.h"
#include "crypto/hash.h"
#include "lib/enc.h"
#include "lib/log.h"

#define ENTRIES_COUNT_MAX 256
#define ENTRIES_BYTES_MAX ((size_t)4 << 20) /* an answer stops past this */

int
coord_log_start(struct coord *c)
{
	uint8_t h[32];
	char hex[65];
	json_t *ev;
	int e;

	if ((e = coffer_sha256(c->evidence, c->evidence_len, h)) != 0)
		return e;
	coffer_hex_encode(h, 32, hex);
	if ((ev = json_pack("{s:s, s:s, s:s}", "event", "start", "identity",
	    c->id_line, "evidence_sha256", hex)) == NULL)
		return COFFER_E_NOMEM;
	if ((e = coord_state_begin(c->st)) == 0) {
		if ((e = coord_audit_append(c->st, ev, NULL)) != 0 ||
		    (e = coord_state_commit(c->st)) != 0)
			coord_state_rollback(c->st);
	}
	json_decref(ev);
	return e;
}

/* Record the head an owner presented that this log does not contain, once
 * (a `rollback` event), and say so. */
static int
record_rollback(struct coord *c, const struct coffer_tree_head *h,
    const char *text, size_t len, uint64_t size)
{
	json_t *ev = NULL, *presented;
	uint64_t idx;
	int e;

	e = coord_state_log_rollback_get(c->st, h->size, h->root, &idx);
	if (e != COFFER_E_NOTFOUND)
		return e; /* recorded before (0), or a failure */
	if ((presented = json_loadb(text, len, 0, NULL)) == NULL ||
	    (ev = json_pack("{s:s, s:o, s:I}", "event", "rollback", "presented",
	    presented, "size", (json_int_t)size)) == NULL)
		return COFFER_E_NOMEM;
	if ((e = coord_state_begin(c->st)) == 0) {
		if ((e = coord_audit_append(c->st, ev, &idx)) != 0 ||
		    (e = coord_state_log_rollback_put(c->st, h->size, h->root,
		    idx)) != 0 || (e = coord_state_commit(c->st)) != 0)
			coord_state_rollback(c->st);
	}
	json_decref(ev);
	if (e == 0) {
		char ps[24], ls[24], at[24];

		snprintf(ps, sizeof(ps), "%llu", (unsigned long long)h->size);
		snprintf(ls, sizeof(ls), "%llu", (unsigned long long)size);
		snprintf(at, sizeof(at), "%llu", (unsigned long long)idx);
		coffer_logkv(COFFER_LOG_ERROR, "ROLLED BACK: an owner presented a log "
		    "head this log does not contain; no key is released until the "
		    "owners approve again", "presented_size", ps, "log_size", ls,
		    "rollback_event", at, NULL);
	}
	return e;
}

int
coord_seen_head(struct http_req *r, int *rolled_back)
{
	struct coord *c = r->ctx;
	struct coffer_buf text = COFFER_BUF_INIT(COFFER_AUDITLOG_HEAD_MAX);
	struct coffer_tree_head h;
	coffer_merkle_hash root;
	const char *v;
	uint64_t n;
	int e;

	v = http_req_header(r, "Coffer-Seen-Head");
	if (v == NULL)
		return 0; /* 1. no head kept yet */
	/* 1. only this coordinator can have signed it */
	if (strlen(v) > COFFER_AUDITLOG_HEAD_MAX ||
	    coffer_b64url_decode_buf(v, strlen(v), &text) != 0 ||
	    coffer_auditlog_head_verify(coffer_buf_str(&text), text.len,
	    c->id.pub.sign_pk, &h) != 0) {
		coord_refuse(r, "request.malformed", "Coffer-Seen-Head", "not the "
		    "base64url of a tree head this coordinator signed");
		goto refused;
	}
	/* 2. a head of this log: the same root at that size */
	if ((e = coord_audit_size(c->st, &n)) != 0 ||
	    (h.size <= n && (e = coord_audit_root(c->st, h.size, root)) != 0)) {
		http_reply_coffer_err(r, e);
		goto refused;
	}
	if (h.size <= n && memcmp(root, h.root, 32) == 0) {
		coffer_buf_release(&text);
		return 0; /* 3. */
	}
	if ((e = record_rollback(c, &h, coffer_buf_str(&text), text.len, n)) != 0) {
		http_reply_coffer_err(r, e);
		goto refused;
	}
	if (rolled_back != NULL) {
		*rolled_back = 1;
		coffer_buf_release(&text);
		return 0;
	}
	coord_refuse(r, "coordinator.rolled_back", "Coffer-Seen-Head", "you saw "
	    "this coordinator's log at %llu entries with another history than it "
	    "has now (%llu entries): it runs from an older copy of its state. Key "
	    "release stops until the owners approve again; compare heads with "
	    "'coffer audit verify', then 'coffer audit accept' and approve again",
	    (unsigned long long)h.size, (unsigned long long)n);
refused:
	coffer_buf_release(&text);
	return -1;
}

/* An unsigned decimal query parameter, or a request.malformed refusal and
 * -1. */
static int
query_u64(struct http_req *r, const char *key, uint64_t *out)
{
	char v[24], *end = NULL;
	int q = http_req_query(r, key, v, sizeof(v));

	if (q != 1 || v[0] < '0' || v[0] > '9' || (v[0] == '0' && v[1] != '\0')) {
		coord_refuse(r, "request.malformed", key, "query parameter %s: "
		    "expected an unsigned decimal integer", key);
		return -1;
	}
	*out = strtoull(v, &end, 10);
	if (*end != '\0' || *out > ((uint64_t)1 << 53)) {
		coord_refuse(r, "request.malformed", key, "query parameter %s: "
		    "expected an unsigned decimal integer", key);
		return -1;
	}
	return 0;
}

static json_t *
path_json(const coffer_merkle_hash *path, size_t len)
{
	json_t *a = json_array();
	char hex[65];

	for (size_t i = 0; a != NULL && i < len; i++) {
		coffer_hex_encode(path[i], 32, hex);
		if (json_array_append_new(a, json_string(hex)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* An INVAL from audit.h names the query parameter: a 400. */
static void
proof_err(struct http_req *r, int e)
{
	if (e == COFFER_E_INVAL)
		coord_refuse_err(r, COFFER_E_FORMAT, "request.malformed");
	else
		http_reply_coffer_err(r, e);
}

void
api_log_head(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_AUDITLOG_HEAD_MAX);
	int e;

	if ((e = coord_audit_head(c->st, c->id.sign_sk, &b, NULL)) != 0)
		http_reply_coffer_err(r, e);
	else
		http_reply_text(r, 200, "application/json", coffer_buf_str(&b), b.len);
	coffer_buf_release(&b);
}

void
api_log_inclusion(struct http_req *r)
{
	struct coord *c = r->ctx;
	coffer_merkle_hash path[COFFER_MERKLE_MAX_PATH];
	uint64_t index, size;
	size_t len;
	int e;

	if (query_u64(r, "index", &index) != 0 || query_u64(r, "size", &size) != 0)
		return;
	if ((e = coord_audit_inclusion(c->st, index, size, path, &len)) != 0) {
		proof_err(r, e);
		return;
	}
	http_reply_json(r, 200, json_pack("{s:I, s:I, s:o}", "index",
	    (json_int_t)index, "size", (json_int_t)size, "path",
	    path_json((const coffer_merkle_hash *)path, len)));
}

void
api_log_consistency(struct http_req *r)
{
	struct coord *c = r->ctx;
	coffer_merkle_hash path[COFFER_MERKLE_MAX_CONSISTENCY];
	uint64_t from, to;
	size_t len;
	int e;

	if (query_u64(r, "from", &from) != 0 || query_u64(r, "to", &to) != 0)
		return;
	if ((e = coord_audit_consistency(c->st, from, to, path, &len)) != 0) {
		proof_err(r, e);
		return;
	}
	http_reply_json(r, 200, json_pack("{s:I, s:I, s:o}", "from",
	    (json_int_t)from, "to", (json_int_t)to, "path",
	    path_json((const coffer_merkle_hash *)path, len)));
}

void
api_log_entries(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_buf e = COFFER_BUF_INIT(COFFER_AUDITLOG_ENTRY_MAX);
	struct coffer_buf b64 = COFFER_BUF_INIT(2 * COFFER_AUDITLOG_ENTRY_MAX);
	uint64_t start, count, n;
	size_t total = 0;
	json_t *a = NULL;
	int err;

	if (query_u64(r, "start", &start) != 0 || query_u64(r, "count", &count) != 0)
		return;
	if (count < 1 || count > ENTRIES_COUNT_MAX) {
		coord_refuse(r, "request.malformed", "count", "count: 1 to %d",
		    ENTRIES_COUNT_MAX);
		return;
	}
	if ((err = coord_audit_size(c->st, &n)) != 0) {
		http_reply_coffer_err(r, err);
		return;
	}
	if (start >= n) {
		coord_refuse(r, "request.malformed", "start", "start: the log has "
		    "%llu entries", (unsigned long long)n);
		return;
	}
	if ((a = json_array()) == NULL) {
		http_reply_coffer_err(r, COFFER_E_NOMEM);
		return;
	}
	/* At most count entries, fewer at the end of the log or once the
	 * answer passes 4 MiB: the client asks again from where it stopped. */
	for (uint64_t i = start; i < n && i - start < count &&
	    total < ENTRIES_BYTES_MAX; i++) {
		e.len = 0;
		b64.len = 0;
		if ((err = coord_state_log_entry_get(c->st, i, &e)) != 0 ||
		    (err = coffer_b64url_put(&b64, e.data, e.len)) != 0 ||
		    (err = json_array_append_new(a, json_stringn(coffer_buf_str(&b64),
		    b64.len)) != 0 ? COFFER_E_NOMEM : 0) != 0) {
			json_decref(a);
			http_reply_coffer_err(r, err);
			goto out;
		}
		total += b64.len;
	}
	http_reply_json(r, 200, json_pack("{s:I, s:o}", "start",
	    (json_int_t)start, "entries", a));
out:
	coffer_buf_release(&e);
	coffer_buf_release(&b64);
}
