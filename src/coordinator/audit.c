// SPDX-License-Identifier: Apache-2.0
// The coordinator's audit log on its state (audit.h): appends, roots,
// proofs and signed heads, over the entries and the perfect subtrees that
// state.c stores (a leaf's hash is computed from its entry; appends keep
// the log's right edge in memory, so they read nothing back). The recursions are those of RFC 9162 section 2.1 as
// doc/format/audit-log.md sections 2 and 5 write them; a subtree that is
// perfect is read from the store instead of being recomputed.
#include <string.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "crypto/hash.h"
#include "lib/clock.h"

/* The largest power of two smaller than n (n >= 2). */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* The hash of the perfect subtree (level, pos): a leaf's from its entry
 * (section 2: SHA-256(0x00 || entry)), others stored. */
static int
node_get(struct coord_state *st, unsigned level, uint64_t pos,
    coffer_merkle_hash out)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_AUDITLOG_ENTRY_MAX);
	int e;

	if (level > 0)
		return coord_state_log_node_get(st, level, pos, out);
	if ((e = coord_state_log_entry_get(st, pos, &b)) == 0)
		e = coffer_merkle_leaf(b.data, b.len, out);
	coffer_buf_release(&b);
	return e;
}

/* MTH(D[s:s+n]). The recursions below only ask for ranges whose start is
 * a multiple of the smallest power of two >= n, so a range of a power of
 * two entries is one stored subtree. */
static int
mth(struct coord_state *st, uint64_t s, uint64_t n, coffer_merkle_hash out)
{
	coffer_merkle_hash l, r;
	unsigned level = 0;
	uint64_t k;
	int e;

	if (n == 0)
		return coffer_sha256("", 0, out);
	if ((n & (n - 1)) == 0) {
		while (((uint64_t)1 << level) < n)
			level++;
		if (s % n != 0)
			return coffer_errf(COFFER_E_INTERNAL, "audit: unaligned subtree");
		return node_get(st, level, s >> level, out);
	}
	k = split(n);
	if ((e = mth(st, s, k, l)) != 0 || (e = mth(st, s + k, n - k, r)) != 0)
		return e;
	return coffer_merkle_node(l, r, out);
}

static int
push(coffer_merkle_hash *path, size_t *len, size_t cap, const coffer_merkle_hash h)
{
	if (*len >= cap)
		return coffer_errf(COFFER_E_INTERNAL, "audit: proof too long");
	memcpy(path[(*len)++], h, 32);
	return 0;
}

/* PATH(m, D[s:s+n]) (section 5.1). */
static int
incl(struct coord_state *st, uint64_t s, uint64_t n, uint64_t m,
    coffer_merkle_hash *path, size_t *len)
{
	coffer_merkle_hash h;
	uint64_t k;
	int e;

	if (n <= 1)
		return 0;
	k = split(n);
	if (m < k) {
		if ((e = incl(st, s, k, m, path, len)) != 0 ||
		    (e = mth(st, s + k, n - k, h)) != 0)
			return e;
	} else {
		if ((e = incl(st, s + k, n - k, m - k, path, len)) != 0 ||
		    (e = mth(st, s, k, h)) != 0)
			return e;
	}
	return push(path, len, COFFER_MERKLE_MAX_PATH, h);
}

/* SUBPROOF(m, D[s:s+n], b) (section 5.2). */
static int
subproof(struct coord_state *st, uint64_t s, uint64_t n, uint64_t m, int b,
    coffer_merkle_hash *path, size_t *len)
{
	coffer_merkle_hash h;
	uint64_t k;
	int e;

	if (m == n) {
		if (b)
			return 0;
		if ((e = mth(st, s, n, h)) != 0)
			return e;
		return push(path, len, COFFER_MERKLE_MAX_CONSISTENCY, h);
	}
	k = split(n);
	if (m <= k) {
		if ((e = subproof(st, s, k, m, b, path, len)) != 0 ||
		    (e = mth(st, s + k, n - k, h)) != 0)
			return e;
	} else {
		if ((e = subproof(st, s + k, n - k, m - k, 0, path, len)) != 0 ||
		    (e = mth(st, s, k, h)) != 0)
			return e;
	}
	return push(path, len, COFFER_MERKLE_MAX_CONSISTENCY, h);
}

int
coord_audit_size(struct coord_state *st, uint64_t *n)
{
	return coord_state_log_size(st, n);
}

/* The frontier of the log of n entries, read from the store: its perfect
 * subtrees from the left, one per bit of n. */
static int
frontier_load(struct coord_state *st, uint64_t n, struct coord_log_frontier *f)
{
	uint64_t start = 0;
	int e;

	for (unsigned level = 64; level-- > 0;) {
		if (!(n >> level & 1))
			continue;
		if ((e = node_get(st, level, start >> level, f->hash[level])) != 0)
			return e;
		start += (uint64_t)1 << level;
	}
	f->size = n;
	f->valid = 1;
	return 0;
}

int
coord_audit_append_entry(struct coord_state *st, const uint8_t *entry,
    size_t len, uint64_t *index)
{
	struct coord_log_frontier *f = coord_state_log_frontier(st);
	coffer_merkle_hash h;
	uint64_t n, pos;
	unsigned level = 0;
	int e;

	if (!coord_state_in_tx(st))
		return coffer_errf(COFFER_E_INTERNAL, "audit: an event is appended "
		    "inside the transaction of the change it records");
	if (len > COFFER_AUDITLOG_ENTRY_MAX)
		return coffer_errf(COFFER_E_LIMIT, "audit: entry of %zu bytes", len);
	if ((e = coord_state_log_size(st, &n)) != 0 ||
	    ((!f->valid || f->size != n) && (e = frontier_load(st, n, f)) != 0) ||
	    (e = coffer_merkle_leaf(entry, len, h)) != 0)
		return e;
	f->valid = 0;  /* until this append is whole */
	if ((e = coord_state_log_entry_put(st, n, entry, len)) != 0)
		return e;
	/* Every perfect subtree this leaf completes: while it is a right
	 * child, hash it with its left sibling (the frontier's subtree of
	 * that level) one level up. The leaf itself is not stored. */
	for (pos = n; pos & 1; pos >>= 1) {
		if ((e = coffer_merkle_node(f->hash[level], h, h)) != 0 ||
		    (e = coord_state_log_node_put(st, level + 1, pos >> 1, h)) != 0)
			return e;
		level++;
	}
	/* n + 1 has bit `level` set and the bits below it clear. */
	memcpy(f->hash[level], h, sizeof(h));
	f->size = n + 1;
	f->valid = 1;
	if (index != NULL)
		*index = n;
	return 0;
}

int
coord_audit_append(struct coord_state *st, json_t *event, uint64_t *index)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_AUDITLOG_ENTRY_MAX);
	int e;

	if (json_object_set_new(event, "time",
	    json_integer((json_int_t)(coffer_wall_ms() / 1000))) != 0)
		return COFFER_E_NOMEM;
	if ((e = coffer_auditlog_entry_make(event, &b)) != 0)
		e = coffer_errctx(e, "audit: a bad event");
	else
		e = coord_audit_append_entry(st, b.data, b.len, index);
	coffer_buf_release(&b);
	return e;
}

/* n = the log's size, and check that want <= n. */
static int
within(struct coord_state *st, uint64_t want, uint64_t *n)
{
	int e;

	if ((e = coord_state_log_size(st, n)) != 0)
		return e;
	if (want > *n)
		return coffer_errf(COFFER_E_INVAL, "size: the log has %llu entries, "
		    "not %llu", (unsigned long long)*n, (unsigned long long)want);
	return 0;
}

int
coord_audit_root(struct coord_state *st, uint64_t size, coffer_merkle_hash out)
{
	uint64_t n;
	int e;

	if ((e = within(st, size, &n)) != 0)
		return e;
	return mth(st, 0, size, out);
}

int
coord_audit_inclusion(struct coord_state *st, uint64_t index, uint64_t size,
    coffer_merkle_hash *path, size_t *len)
{
	uint64_t n;
	int e;

	*len = 0;
	if ((e = within(st, size, &n)) != 0)
		return e;
	if (index >= size)
		return coffer_errf(COFFER_E_INVAL, "index: %llu is not below the size "
		    "%llu", (unsigned long long)index, (unsigned long long)size);
	return incl(st, 0, size, index, path, len);
}

int
coord_audit_consistency(struct coord_state *st, uint64_t m, uint64_t n,
    coffer_merkle_hash *path, size_t *len)
{
	uint64_t have;
	int e;

	*len = 0;
	if ((e = within(st, n, &have)) != 0)
		return e;
	if (m > n)
		return coffer_errf(COFFER_E_INVAL, "from: %llu is above to %llu",
		    (unsigned long long)m, (unsigned long long)n);
	if (m == 0 || m == n)
		return 0;
	return subproof(st, 0, n, m, 1, path, len);
}

int
coord_audit_head(struct coord_state *st, const uint8_t sign_sk[32],
    struct coffer_buf *out, struct coffer_tree_head *h)
{
	struct coffer_tree_head head;
	int e;

	memset(&head, 0, sizeof(head));
	if ((e = coord_state_sync(st)) != 0 ||
	    (e = coord_state_log_size(st, &head.size)) != 0 ||
	    (e = mth(st, 0, head.size, head.root)) != 0)
		return e;
	head.time = (uint64_t)(coffer_wall_ms() / 1000);
	if ((e = coffer_auditlog_head_make(sign_sk, &head, out)) != 0)
		return e;
	if (h != NULL)
		*h = head;
	return 0;
}

int
coord_audit_min_approval(struct coord_state *st, uint64_t *min)
{
	uint64_t d;
	int e = coord_state_log_rollback_get(st, 0, NULL, &d);

	if (e == COFFER_E_NOTFOUND) {
		*min = 0;
		return 0;
	}
	if (e == 0)
		*min = d + 1;
	return e;
}
