// SPDX-License-Identifier: Apache-2.0
// The audit log's client side (doc/format/audit-log.md section 6.1): the
// rule H1 to H7 over a new tree head, and the proofs and entries a client
// reads. The coordinator does not link it.
#include <string.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "proto/auditlog.h"
#include "proto/jfield.h"
#include "proto/merkle.h"

int
coffer_auditlog_client(const struct coffer_tree_head *kept, const char *new_text,
    size_t new_len, const uint8_t sign_pk[32], const coffer_merkle_hash *proof,
    size_t proof_len, enum coffer_auditlog_outcome *outcome,
    struct coffer_tree_head *new_head)
{
	struct coffer_tree_head n;
	int r;

	/* H1 */
	if ((r = coffer_auditlog_head_verify(new_text, new_len, sign_pk, &n)) != 0) {
		if (r == COFFER_E_NOMEM)
			return r;
		*outcome = COFFER_LOG_BAD_SIGNATURE;
		return 0;
	}
	*new_head = n;
	/* H2 */
	if (kept == NULL) {
		*outcome = COFFER_LOG_FIRST;
		return 0;
	}
	/* H3 */
	if (n.size < kept->size) {
		coffer_errf(COFFER_E_POLICY, "the coordinator shows a log of %llu "
		    "entries after it showed %llu: it was rolled back",
		    (unsigned long long)n.size, (unsigned long long)kept->size);
		*outcome = COFFER_LOG_ROLLBACK;
		return 0;
	}
	/* H4, H5 */
	if (n.size == kept->size) {
		if (memcmp(n.root, kept->root, 32) != 0) {
			coffer_errf(COFFER_E_POLICY, "two different roots for a log of "
			    "%llu entries: the log forked", (unsigned long long)n.size);
			*outcome = COFFER_LOG_FORK;
		} else {
			*outcome = COFFER_LOG_SAME;
		}
		return 0;
	}
	/* H6, H7 */
	r = coffer_merkle_verify_consistency(kept->size, n.size, kept->root, n.root,
	    proof, proof != NULL ? proof_len : 0);
	if (r == COFFER_E_NOMEM)
		return r;
	if (r != 0) {
		coffer_errctx(COFFER_E_POLICY, "the log of %llu entries does not extend "
		    "the kept one of %llu: it forked", (unsigned long long)n.size,
		    (unsigned long long)kept->size);
		*outcome = COFFER_LOG_FORK;
		return 0;
	}
	*outcome = COFFER_LOG_ADVANCED;
	return 0;
}

const char *
coffer_auditlog_outcome_name(enum coffer_auditlog_outcome o)
{
	switch (o) {
	case COFFER_LOG_FIRST: return "first";
	case COFFER_LOG_SAME: return "same";
	case COFFER_LOG_ADVANCED: return "advanced";
	case COFFER_LOG_BAD_SIGNATURE: return "bad-signature";
	case COFFER_LOG_ROLLBACK: return "rollback";
	case COFFER_LOG_FORK: return "fork";
	}
	return "?";
}

int
coffer_auditlog_outcome_exit(enum coffer_auditlog_outcome o)
{
	switch (o) {
	case COFFER_LOG_BAD_SIGNATURE: return 4;
	case COFFER_LOG_ROLLBACK: return 10;
	case COFFER_LOG_FORK: return 11;
	default: return 0;
	}
}

int
coffer_auditlog_proof_parse(const char *text, size_t len, int consistency,
    uint64_t *a, uint64_t *b, coffer_merkle_hash *path, size_t *n)
{
	static const char *const incl[] = { "index", "size", "path", NULL };
	static const char *const cons[] = { "from", "to", "path", NULL };
	const char *const *m = consistency ? cons : incl;
	size_t max = consistency ? COFFER_MERKLE_MAX_CONSISTENCY :
	    COFFER_MERKLE_MAX_PATH;
	char at[COFFER_JFIELD_PATH_MAX];
	json_t *j = NULL, *arr, *v;
	size_t i;
	int r;

	*n = 0;
	if ((r = coffer_json_parse(text, len, 64 * 1024, 4, &j)) != 0)
		return coffer_errctx(r, "proof");
	if (!json_is_object(j)) {
		r = coffer_errf(COFFER_E_FORMAT, "proof: expected an object");
		goto out;
	}
	if ((r = coffer_jfield_keys(j, "proof", m, NULL)) != 0 ||
	    (r = coffer_jfield_uint(j, "proof", m[0], 0, COFFER_JFIELD_INT_MAX,
	    a)) != 0 ||
	    (r = coffer_jfield_uint(j, "proof", m[1], 0, COFFER_JFIELD_INT_MAX,
	    b)) != 0)
		goto out;
	arr = json_object_get(j, "path");
	if (!json_is_array(arr)) {
		r = coffer_errf(COFFER_E_FORMAT, "proof.path: expected an array");
		goto out;
	}
	if (json_array_size(arr) > max) {
		r = coffer_errf(COFFER_E_LIMIT, "proof.path: more than %zu hashes", max);
		goto out;
	}
	json_array_foreach(arr, i, v) {
		snprintf(at, sizeof(at), "proof.path[%zu]", i);
		if ((r = coffer_jfield_hexval(v, at, path[i], 32)) != 0)
			goto out;
	}
	*n = json_array_size(arr);
out:
	json_decref(j);
	return r;
}

int
coffer_auditlog_entries_parse(const char *text, size_t len,
    int (*fn)(uint64_t index, const uint8_t *entry, size_t n, void *arg),
    void *arg)
{
	static const char *const m[] = { "start", "entries", NULL };
	struct coffer_buf e = COFFER_BUF_INIT(COFFER_AUDITLOG_ENTRY_MAX);
	char at[COFFER_JFIELD_PATH_MAX];
	json_t *j = NULL, *arr, *v;
	const char *s;
	uint64_t start;
	size_t i;
	int r;

	if ((r = coffer_json_parse(text, len, COFFER_AUDITLOG_ENTRIES_MAX, 4,
	    &j)) != 0)
		return coffer_errctx(r, "entries");
	if (!json_is_object(j)) {
		r = coffer_errf(COFFER_E_FORMAT, "entries: expected an object");
		goto out;
	}
	if ((r = coffer_jfield_keys(j, "entries", m, NULL)) != 0 ||
	    (r = coffer_jfield_uint(j, "entries", "start", 0, COFFER_JFIELD_INT_MAX,
	    &start)) != 0)
		goto out;
	arr = json_object_get(j, "entries");
	if (!json_is_array(arr) || json_array_size(arr) < 1 ||
	    json_array_size(arr) > 256) {
		r = coffer_errf(COFFER_E_FORMAT, "entries.entries: expected an array "
		    "of 1 to 256 entries");
		goto out;
	}
	json_array_foreach(arr, i, v) {
		snprintf(at, sizeof(at), "entries.entries[%zu]", i);
		e.len = 0;
		if ((s = json_string_value(v)) == NULL) {
			r = coffer_errf(COFFER_E_FORMAT, "%s: expected a string", at);
			goto out;
		}
		if ((r = coffer_b64url_decode_buf(s, json_string_length(v), &e)) != 0 ||
		    e.len == 0) {
			r = coffer_errf(r == COFFER_E_LIMIT ? r : COFFER_E_FORMAT,
			    "%s: not the base64url of an entry", at);
			goto out;
		}
		if ((r = fn(start + i, e.data, e.len, arg)) != 0)
			goto out;
	}
out:
	json_decref(j);
	coffer_buf_release(&e);
	return r;
}
