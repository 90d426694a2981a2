// SPDX-License-Identifier: Apache-2.0
// The sealed page store (sealstore.h), doc/format/sealed-state.md sections
// 4 to 7. Why it exists rather than SQLite's own journal under per-page
// encryption: section 8.1. The commit point is the fdatasync of one
// appended, MAC'd log record; state.db is only ever written with slots a
// durable record already holds, and synced before a checkpoint drops the
// records. The root over every slot, kept in memory as group hashes,
// binds the whole state to the last record's MAC.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coffer/error.h"
#include "coordinator/sealstore.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/random.h"

#define LABEL_DB "coffer/state/db-header/v1"
#define LABEL_LOG "coffer/state/log-header/v1"
#define LABEL_RECORD "coffer/state/record/v1"
#define LABEL_ROOT "coffer/state/root/v1"
#define GROUP 256
#define ENTRY (4 + SEALSTORE_SLOT)
#define REC_FIXED (24 + 32 + 32)
#define LOG_MAX ((size_t)128 << 20)

struct dirty {
	uint64_t pgno;
	uint8_t *pt;        /* SEALSTORE_PAGE bytes, secret */
};

struct sealstore {
	char db_path[4096], log_path[4096];
	int db_fd, log_fd;
	struct coffer_pagecrypt pc;
	/* The committed state. */
	uint64_t counter, n;
	uint8_t root[32];
	uint8_t *leaves;        /* n leaves of 32 bytes */
	uint64_t leaves_cap;
	uint8_t (*groups)[32];  /* ceil(n / 256) group hashes */
	uint64_t groups_cap;
	size_t log_end;         /* bytes of state.log that are valid */
	/* Slots of lazy commits (7.4), not yet in state.db: sorted by pgno. */
	struct dirty *lazy;     /* pt holds a slot here: SEALSTORE_SLOT bytes */
	size_t nlazy, lazy_cap;
	/* What the next commit will hold. */
	struct dirty *dirty;    /* sorted by pgno */
	size_t ndirty, dirty_cap;
	uint64_t pending_n;
	/* The smallest size a truncation set since the last commit: pages
	 * above it and not written again read as zeros, as in a file cut and
	 * extended. */
	uint64_t trunc_min;
	/* A committed record could not be applied to state.db: every call
	 * fails until a restart replays it. */
	int broken;
};

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static int
pwrite_all(int fd, const void *p, size_t n, off_t off, const char *path)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = pwrite(fd, b, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;

			return coffer_errf(COFFER_E_IO, "write %s: %s%s", path,
			    w < 0 ? strerror(e) : "no progress",
			    w < 0 ? coffer_file_full_hint(e) : "");
		}
		b += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static int
pread_full(int fd, void *p, size_t n, off_t off, size_t *got, const char *path)
{
	uint8_t *b = p;

	*got = 0;
	while (*got < n) {
		ssize_t r = pread(fd, b + *got, n - *got, off + (off_t)*got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return coffer_errf(COFFER_E_IO, "read %s: %s", path, strerror(errno));
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static off_t
slot_off(uint64_t pgno)
{
	return (off_t)(SEALSTORE_HEADER + (pgno - 1) * (uint64_t)SEALSTORE_SLOT);
}

/* ------------------------------------------------------------------
 * Format (sections 3.3, 4.1, 4.2)
 */

int
sealstore_header_make(const struct coffer_pagecrypt *pc, const char *magic,
    const char *label, uint8_t h[SEALSTORE_HEADER])
{
	memset(h, 0, SEALSTORE_HEADER);
	memcpy(h, magic, 4);
	h[4] = 1;
	put32(h + 8, SEALSTORE_PAGE);
	memcpy(h + 16, pc->state_id, COFFER_STATE_ID_LEN);
	return coffer_pagecrypt_mac(pc, label, h, 32, h + 32);
}

int
sealstore_header_check(const struct coffer_pagecrypt *pc, const uint8_t *h,
    size_t len, const char *magic, const char *label, const char *what)
{
	int r;

	if (len < SEALSTORE_HEADER)                                   /* O3 */
		return coffer_errf(COFFER_E_TRUNCATED, "%s: %zu bytes, shorter than "
		    "its header (rule O3)", what, len);
	if (memcmp(h, magic, 4) != 0) {                               /* O4 */
		if (len >= 16 && memcmp(h, "SQLite format 3", 16) == 0)
			return coffer_errf(COFFER_E_FORMAT, "%s is a plain SQLite file, "
			    "not a sealed state (rule O4): it was not written by this "
			    "version of the coordinator", what);
		return coffer_errf(COFFER_E_FORMAT, "%s: not a sealed state file "
		    "(magic %02x%02x%02x%02x, want %s; rule O4)", what, h[0], h[1],
		    h[2], h[3], magic);
	}
	if (h[4] != 1)                                                /* O5 */
		return coffer_errf(COFFER_E_VERSION, "%s: version %u; this coordinator "
		    "reads version 1 (rule O5)", what, h[4]);
	if (get32(h + 8) != SEALSTORE_PAGE)
		return coffer_errf(COFFER_E_UNSUPPORTED, "%s: page size %u; version 1 "
		    "has %d (rule O5)", what, get32(h + 8), SEALSTORE_PAGE);
	if (h[5] | h[6] | h[7] | h[12] | h[13] | h[14] | h[15])
		return coffer_errf(COFFER_E_FORMAT, "%s: reserved bytes are not zero "
		    "(rule O5)", what);
	if (memcmp(h + 16, pc->state_id, COFFER_STATE_ID_LEN) != 0)   /* O6 */
		return coffer_errf(COFFER_E_WRONG_KEY, "%s belongs to another state "
		    "than the state key's (rule O6)", what);
	if ((r = coffer_pagecrypt_mac_check(pc, label, h, 32, h + 32)) != 0) /* O7 */
		return r != COFFER_E_AUTH ? r : coffer_errf(COFFER_E_AUTH, "%s: its "
		    "header does not authenticate under the state key (rule O7)", what);
	return 0;
}

int
sealstore_record_parse(const struct coffer_pagecrypt *pc, const uint8_t *p,
    size_t len, const struct sealstore_record *prev, struct sealstore_record *out)
{
	struct sealstore_record rec;
	uint64_t fresh = 0, last = 0;
	size_t body;
	int r;

	if (len < 24)
		return coffer_errf(COFFER_E_TRUNCATED, "record: %zu bytes", len);
	memset(&rec, 0, sizeof(rec));
	rec.type = p[0];
	rec.count = get32(p + 4);
	rec.counter = get64(p + 8);
	rec.npages = get64(p + 16);
	if ((rec.type != 1 && rec.type != 2) || p[1] | p[2] | p[3])
		return coffer_errf(COFFER_E_FORMAT, "record: type %u", p[0]);
	if (rec.count > SEALSTORE_MAX_COMMIT)
		return coffer_errf(COFFER_E_FORMAT, "record of %u pages", rec.count);
	body = 24 + (size_t)rec.count * ENTRY;
	if (len < body + 64)
		return coffer_errf(COFFER_E_TRUNCATED, "record of %zu bytes, %zu left",
		    body + 64, len);
	if ((r = coffer_pagecrypt_mac_check(pc, LABEL_RECORD, p, body + 32,
	    p + body + 32)) != 0)
		return r != COFFER_E_AUTH ? r : coffer_errf(COFFER_E_AUTH, "record "
		    "%llu does not authenticate", (unsigned long long)rec.counter);
	rec.entries = p + 24;
	rec.root = p + body;
	rec.len = body + 64;
	if (rec.npages > SEALSTORE_MAX_PAGES)
		return coffer_errf(COFFER_E_FORMAT, "record: %llu pages",
		    (unsigned long long)rec.npages);
	if (prev == NULL) {
		if (rec.type != 1 || rec.count != 0)
			return coffer_errf(COFFER_E_FORMAT, "the log does not start with "
			    "a base record");
		*out = rec;
		return 0;
	}
	if (rec.type != 2)
		return coffer_errf(COFFER_E_FORMAT, "a base record after the first");
	if (rec.counter != prev->counter + 1)
		return coffer_errf(COFFER_E_FORMAT, "record %llu follows %llu",
		    (unsigned long long)rec.counter, (unsigned long long)prev->counter);
	for (uint32_t i = 0; i < rec.count; i++) {
		uint64_t pg = get32(rec.entries + (size_t)i * ENTRY);

		if (pg <= last || pg > rec.npages)
			return coffer_errf(COFFER_E_FORMAT, "record %llu: page %llu out "
			    "of order or past its %llu pages", (unsigned long long)rec.counter,
			    (unsigned long long)pg, (unsigned long long)rec.npages);
		last = pg;
		if (pg > prev->npages)
			fresh++;
	}
	if (rec.npages > prev->npages && fresh != rec.npages - prev->npages)
		return coffer_errf(COFFER_E_FORMAT, "record %llu grows the state "
		    "without all of its new pages", (unsigned long long)rec.counter);
	*out = rec;
	return 0;
}

static int
group_hash(const uint8_t *leaves, uint64_t n, uint64_t j, uint8_t out[32])
{
	uint64_t first = j * GROUP, cnt = n - first < GROUP ? n - first : GROUP;

	return coffer_sha256(leaves + first * 32, (size_t)cnt * 32, out);
}

static int
root_of_groups(const uint8_t (*groups)[32], uint64_t n, uint8_t root[32])
{
	static const char label[] = LABEL_ROOT; /* with its NUL: the 0x00 */
	struct coffer_hash *h = NULL;
	uint8_t be[8];
	int r;

	put64(be, n);
	if ((r = coffer_hash_new(COFFER_HASH_SHA256, &h)) == 0 &&
	    (r = coffer_hash_update(h, label, sizeof(label))) == 0 &&
	    (r = coffer_hash_update(h, be, 8)) == 0 &&
	    (n == 0 || (r = coffer_hash_update(h, groups,
	    (size_t)((n + GROUP - 1) / GROUP) * 32)) == 0))
		r = coffer_hash_final(h, root, 32);
	coffer_hash_free(h);
	return r;
}

int
sealstore_root(const uint8_t *leaves, uint64_t n, uint8_t root[32])
{
	uint64_t ng = (n + GROUP - 1) / GROUP;
	uint8_t (*g)[32] = NULL;
	int r = 0;

	if (ng > 0 && (g = coffer_mallocarray((size_t)ng, 32)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "root");
	for (uint64_t j = 0; j < ng && r == 0; j++)
		r = group_hash(leaves, n, j, g[j]);
	if (r == 0)
		r = root_of_groups((const uint8_t (*)[32])g, n, root);
	free(g);
	return r;
}

/* ------------------------------------------------------------------
 * In-memory leaves and groups
 */

static int
reserve_leaves(struct sealstore *s, uint64_t n)
{
	uint64_t ng = (n + GROUP - 1) / GROUP;

	if (n > s->leaves_cap) {
		uint64_t cap = s->leaves_cap ? s->leaves_cap : 1024;
		uint8_t *p;

		while (cap < n)
			cap *= 2;
		if ((p = coffer_reallocarray(s->leaves, (size_t)cap, 32)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "state leaves");
		memset(p + s->leaves_cap * 32, 0, (size_t)(cap - s->leaves_cap) * 32);
		s->leaves = p;
		s->leaves_cap = cap;
	}
	if (ng > s->groups_cap) {
		uint64_t cap = s->groups_cap ? s->groups_cap : 16;
		uint8_t (*g)[32];

		while (cap < ng)
			cap *= 2;
		if ((g = coffer_reallocarray(s->groups, (size_t)cap, 32)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "state groups");
		memset(g + s->groups_cap, 0, (size_t)(cap - s->groups_cap) * 32);
		s->groups = g;
		s->groups_cap = cap;
	}
	return 0;
}

/* Read the leaves of state.db's slots 1..n and rebuild groups and root. */
static int
load_leaves(struct sealstore *s)
{
	enum { CHUNK = 64 };
	uint8_t *buf = NULL;
	uint64_t p = 1;
	size_t got;
	int r;

	if ((r = reserve_leaves(s, s->n)) != 0)
		return r;
	if ((buf = coffer_malloc((size_t)CHUNK * SEALSTORE_SLOT)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "state leaves");
	while (p <= s->n && r == 0) {
		uint64_t cnt = s->n - p + 1 < CHUNK ? s->n - p + 1 : CHUNK;

		if ((r = pread_full(s->db_fd, buf, (size_t)cnt * SEALSTORE_SLOT,
		    slot_off(p), &got, s->db_path)) != 0)
			break;
		if (got < (size_t)cnt * SEALSTORE_SLOT) {                 /* O10 */
			r = coffer_errf(COFFER_E_TRUNCATED, "%s ends before page %llu of "
			    "its %llu (rule O10)", s->db_path, (unsigned long long)
			    (p + got / SEALSTORE_SLOT), (unsigned long long)s->n);
			break;
		}
		for (uint64_t i = 0; i < cnt; i++)
			memcpy(s->leaves + (p - 1 + i) * 32, buf + i * SEALSTORE_SLOT, 32);
		p += cnt;
	}
	free(buf);
	for (uint64_t j = 0; r == 0 && j < (s->n + GROUP - 1) / GROUP; j++)
		r = group_hash(s->leaves, s->n, j, s->groups[j]);
	return r;
}

/* ------------------------------------------------------------------
 * Slots of lazy commits (section 7.4)
 */

static size_t
find(const struct dirty *d, size_t n, uint64_t pgno, int *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d[mid].pgno < pgno)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n && d[lo].pgno == pgno;
	return lo;
}

/* Keep slot as the newest of its page until it reaches state.db. */
static int
lazy_put(struct sealstore *s, uint64_t pgno, const uint8_t *slot)
{
	int found;
	size_t i = find(s->lazy, s->nlazy, pgno, &found);

	if (!found) {
		struct dirty *d = s->lazy;

		if (s->nlazy == s->lazy_cap) {
			size_t cap = s->lazy_cap ? 2 * s->lazy_cap : 64;

			if ((d = coffer_reallocarray(s->lazy, cap, sizeof(*d))) == NULL)
				return coffer_errf(COFFER_E_NOMEM, "lazy slots");
			s->lazy = d;
			s->lazy_cap = cap;
		}
		if ((d[s->nlazy].pt = coffer_malloc(SEALSTORE_SLOT)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "lazy slot");
		/* The new buffer goes to position i. */
		{
			uint8_t *buf = d[s->nlazy].pt;

			memmove(&d[i + 1], &d[i], (s->nlazy - i) * sizeof(*d));
			d[i].pt = buf;
			d[i].pgno = pgno;
		}
		s->nlazy++;
	}
	memcpy(s->lazy[i].pt, slot, SEALSTORE_SLOT);
	return 0;
}

static void
lazy_clear(struct sealstore *s)
{
	for (size_t i = 0; i < s->nlazy; i++)
		free(s->lazy[i].pt);
	s->nlazy = 0;
}

/* Once the log is synced: the lazy slots into state.db. */
static int
lazy_apply(struct sealstore *s)
{
	int r;

	for (size_t i = 0; i < s->nlazy; i++)
		if (s->lazy[i].pgno <= s->n && (r = pwrite_all(s->db_fd,
		    s->lazy[i].pt, SEALSTORE_SLOT, slot_off(s->lazy[i].pgno),
		    s->db_path)) != 0)
			return r;
	lazy_clear(s);
	return 0;
}

/* ------------------------------------------------------------------
 * Open, create, checkpoint
 */

static int
base_record(struct sealstore *s, uint8_t *rec)
{
	memset(rec, 0, REC_FIXED);
	rec[0] = 1;
	put64(rec + 8, s->counter);
	put64(rec + 16, s->n);
	memcpy(rec + 24, s->root, 32);
	return coffer_pagecrypt_mac(&s->pc, LABEL_RECORD, rec, 56, rec + 56);
}

/* A new log of one base record, replacing state.log atomically. */
static int
write_base_log(struct sealstore *s, int excl)
{
	uint8_t buf[SEALSTORE_HEADER + REC_FIXED];
	int r;

	if ((r = sealstore_header_make(&s->pc, "CFSL", LABEL_LOG, buf)) != 0 ||
	    (r = base_record(s, buf + SEALSTORE_HEADER)) != 0)
		return r;
	return coffer_file_write_atomic(s->log_path, buf, sizeof(buf), 0600, excl);
}

int
sealstore_sync(struct sealstore *s)
{
	int r;

	if (s->broken)
		return s->broken;
	if (s->nlazy == 0)
		return 0;
	if (fdatasync(s->log_fd) != 0)
		return coffer_errf(COFFER_E_IO, "fdatasync %s: %s%s", s->log_path,
		    strerror(errno), coffer_file_full_hint(errno));
	if ((r = lazy_apply(s)) != 0)
		s->broken = r;
	return r;
}

int
sealstore_checkpoint(struct sealstore *s)
{
	int r, fd;

	if (s->broken)
		return s->broken;
	/* 7.4: lazy records become durable, then their slots go in place. */
	if ((r = sealstore_sync(s)) != 0)
		return r;
	/* 7.3 step 1: every slot is in place before the records go. */
	if (fdatasync(s->db_fd) != 0 ||
	    ftruncate(s->db_fd, slot_off(s->n + 1)) != 0 ||
	    fdatasync(s->db_fd) != 0)
		return coffer_errf(COFFER_E_IO, "checkpoint %s: %s", s->db_path,
		    strerror(errno));
	/* Steps 2 and 3: the new log in one rename. */
	if ((r = write_base_log(s, 0)) != 0)
		return coffer_errctx(r, "checkpoint");
	if ((fd = open(s->log_path, O_RDWR | O_CLOEXEC)) < 0) {
		s->broken = coffer_errf(COFFER_E_IO, "%s: %s", s->log_path,
		    strerror(errno));
		return s->broken;
	}
	if (s->log_fd >= 0)
		close(s->log_fd);
	s->log_fd = fd;
	s->log_end = SEALSTORE_HEADER + REC_FIXED;
	return 0;
}

/* Section 5, steps 2 and 3 (state.key was written by the caller). */
static int
create(struct sealstore *s)
{
	uint8_t h[SEALSTORE_HEADER];
	int r;

	s->counter = 0;
	s->n = 0;
	if ((r = sealstore_root(NULL, 0, s->root)) != 0 ||
	    (r = sealstore_header_make(&s->pc, "CFSD", LABEL_DB, h)) != 0 ||
	    (r = coffer_file_write_atomic(s->db_path, h, sizeof(h), 0600, 1)) != 0 ||
	    (r = write_base_log(s, 1)) != 0)
		return coffer_errctx(r, "creating the state");
	return 0;
}

/* Write count entries' slots (entries as in a record, 4.2) to their
 * places in state.db: a run of consecutive pages is one pwritev, since
 * their slots are next to each other in the file. A short write is done
 * again slot by slot (writing a slot twice is harmless). */
#define RUN_MAX 64
static int
write_entries(struct sealstore *s, const uint8_t *entries, size_t count)
{
	struct iovec iov[RUN_MAX];
	size_t i = 0, k;
	int r;

	while (i < count) {
		const uint8_t *e = entries + i * ENTRY;
		uint32_t first = get32(e);
		ssize_t w;

		for (k = 0; k < RUN_MAX && i + k < count &&
		    get32(entries + (i + k) * ENTRY) == first + k; k++) {
			iov[k].iov_base = (void *)(entries + (i + k) * ENTRY + 4);
			iov[k].iov_len = SEALSTORE_SLOT;
		}
		do
			w = pwritev(s->db_fd, iov, (int)k, slot_off(first));
		while (w < 0 && errno == EINTR);
		if (w < 0 || (size_t)w != k * SEALSTORE_SLOT)
			for (size_t j = 0; j < k; j++)
				if ((r = pwrite_all(s->db_fd, iov[j].iov_base,
				    SEALSTORE_SLOT, slot_off(first + j), s->db_path)) != 0)
					return r;
		i += k;
	}
	return 0;
}

/* Write a record's slots to their places (rule O11). */
static int
apply(struct sealstore *s, const struct sealstore_record *rec)
{
	return write_entries(s, rec->entries, rec->count);
}

/* Section 6, rules O3 to O13. */
static int
replay(struct sealstore *s)
{
	struct coffer_buf log = COFFER_BUF_INIT(LOG_MAX);
	struct sealstore_record prev, rec;
	uint8_t h[SEALSTORE_HEADER], root[32];
	size_t got, off;
	int r;

	if ((r = pread_full(s->db_fd, h, sizeof(h), 0, &got, s->db_path)) != 0 ||
	    (r = sealstore_header_check(&s->pc, h, got, "CFSD", LABEL_DB,
	    s->db_path)) != 0)
		goto out;
	if ((r = coffer_file_read(s->log_path, LOG_MAX, &log)) != 0 ||
	    (r = sealstore_header_check(&s->pc, log.data, log.len, "CFSL",
	    LABEL_LOG, s->log_path)) != 0)
		goto out;
	off = SEALSTORE_HEADER;
	if (sealstore_record_parse(&s->pc, log.data + off, log.len - off, NULL,
	    &prev) != 0) {                                               /* O8 */
		r = coffer_errf(COFFER_E_AUTH, "%s does not start with an intact "
		    "base record (rule O8): %s", s->log_path, coffer_errdetail());
		goto out;
	}
	off += prev.len;
	/* O9: the valid prefix; O11: apply as we go. */
	while (off < log.len && sealstore_record_parse(&s->pc, log.data + off,
	    log.len - off, &prev, &rec) == 0) {
		if ((r = apply(s, &rec)) != 0)
			goto out;
		off += rec.len;
		prev = rec;
	}
	s->counter = prev.counter;
	s->n = prev.npages;
	memcpy(s->root, prev.root, 32);
	if ((r = load_leaves(s)) != 0 ||                              /* O10 */
	    (r = root_of_groups((const uint8_t (*)[32])s->groups, s->n, root)) != 0)
		goto out;
	/* Roots are not secret (the log holds them in clear). */
	if (memcmp(root, s->root, 32) != 0) {                         /* O12 */
		r = coffer_errf(COFFER_E_AUTH, "%s does not match its log at commit "
		    "%llu: a page was changed or put back to an older version "
		    "(rule O12)", s->db_path, (unsigned long long)s->counter);
		goto out;
	}
	r = sealstore_checkpoint(s);                                  /* O13 */
out:
	coffer_buf_release(&log);
	return r;
}

int
sealstore_open(const char *dir, const uint8_t key[COFFER_STATE_KEY_LEN],
    const uint8_t state_id[COFFER_STATE_ID_LEN], struct sealstore **out)
{
	struct sealstore *s = NULL;
	struct stat st;
	int r, have_db, have_log;

	if ((s = coffer_calloc(1, sizeof(*s))) == NULL)
		return COFFER_E_NOMEM;
	s->db_fd = s->log_fd = -1;
	if ((size_t)snprintf(s->db_path, sizeof(s->db_path), "%s/state.db", dir) >=
	    sizeof(s->db_path) || (size_t)snprintf(s->log_path,
	    sizeof(s->log_path), "%s/state.log", dir) >= sizeof(s->log_path)) {
		r = coffer_errf(COFFER_E_LIMIT, "state directory path too long");
		goto out;
	}
	if ((r = coffer_pagecrypt_init(&s->pc, key, state_id)) != 0)
		goto out;
	have_log = stat(s->log_path, &st) == 0;
	have_db = stat(s->db_path, &st) == 0;
	/* A crash while creating leaves state.db of its header alone: it
	 * holds nothing, make it again (section 5). */
	if (have_db && !have_log && st.st_size == SEALSTORE_HEADER &&
	    unlink(s->db_path) == 0)
		have_db = 0;
	if (have_db != have_log) {                                    /* O1 */
		r = coffer_errf(COFFER_E_FORMAT, "%s exists without %s (rule O1): a "
		    "state that lost a file cannot be trusted to be whole",
		    have_db ? s->db_path : s->log_path,
		    have_db ? s->log_path : s->db_path);
		goto out;
	}
	if (!have_db && (r = create(s)) != 0)                         /* O2 */
		goto out;
	if ((s->db_fd = open(s->db_path, O_RDWR | O_CLOEXEC)) < 0) {
		r = coffer_errf(COFFER_E_IO, "%s: %s", s->db_path, strerror(errno));
		goto out;
	}
	if (flock(s->db_fd, LOCK_EX | LOCK_NB) != 0) {
		r = coffer_errf(errno == EWOULDBLOCK ? COFFER_E_BUSY : COFFER_E_IO,
		    "%s is in use by another process", s->db_path);
		goto out;
	}
	if ((r = replay(s)) != 0)
		goto out;
	s->pending_n = s->trunc_min = s->n;
	*out = s;
	s = NULL;
out:
	if (s != NULL) {
		s->broken = r; /* no checkpoint on the way out */
		sealstore_close(s);
	}
	return r;
}

void
sealstore_discard(struct sealstore *s)
{
	for (size_t i = 0; i < s->ndirty; i++)
		coffer_free_secret(s->dirty[i].pt, SEALSTORE_PAGE);
	s->ndirty = 0;
	s->pending_n = s->n;
	s->trunc_min = s->n;
}

void
sealstore_close(struct sealstore *s)
{
	if (s == NULL)
		return;
	/* A clean close leaves a log of one record; uncommitted writes are
	 * dropped, as SQLite would after a crash. */
	sealstore_discard(s);
	if (!s->broken && s->db_fd >= 0 && s->log_fd >= 0)
		if (sealstore_checkpoint(s) != 0)
			coffer_logkv(COFFER_LOG_WARN, "state: no checkpoint at close: the "
			    "log is replayed at the next start", "detail",
			    coffer_errdetail(), NULL);
	lazy_clear(s);
	free(s->lazy);
	free(s->dirty);
	free(s->leaves);
	free(s->groups);
	if (s->db_fd >= 0)
		close(s->db_fd);
	if (s->log_fd >= 0)
		close(s->log_fd);
	coffer_pagecrypt_wipe(&s->pc);
	free(s);
}

uint64_t
sealstore_counter(const struct sealstore *s)
{
	return s->counter;
}

uint64_t
sealstore_pages(const struct sealstore *s)
{
	return s->pending_n;
}

/* ------------------------------------------------------------------
 * Reads and writes
 */

/* The index of pgno in dirty, or where it would go (*found = 0). */
static size_t
dirty_find(const struct sealstore *s, uint64_t pgno, int *found)
{
	return find(s->dirty, s->ndirty, pgno, found);
}

int
sealstore_read(struct sealstore *s, uint64_t pgno, uint8_t *page)
{
	uint8_t slot[SEALSTORE_SLOT];
	size_t i, got;
	int found, r;

	if (s->broken)
		return s->broken;
	if (pgno == 0 || pgno > s->pending_n) {
		memset(page, 0, SEALSTORE_PAGE);
		return COFFER_E_NOTFOUND;
	}
	i = dirty_find(s, pgno, &found);
	if (found) {
		memcpy(page, s->dirty[i].pt, SEALSTORE_PAGE);
		return 0;
	}
	if (pgno > s->n || pgno > s->trunc_min) { /* grown, not written: zeros */
		memset(page, 0, SEALSTORE_PAGE);
		return 0;
	}
	i = find(s->lazy, s->nlazy, pgno, &found);
	if (found) {
		memcpy(slot, s->lazy[i].pt, sizeof(slot));
		got = sizeof(slot);
	} else if ((r = pread_full(s->db_fd, slot, sizeof(slot), slot_off(pgno),
	    &got, s->db_path)) != 0)
		return r;
	/* 7.2: the slot must be the one the last commit recorded. */
	if (got != sizeof(slot) || memcmp(slot, s->leaves + (pgno - 1) * 32, 32) != 0)
		return coffer_errf(COFFER_E_AUTH, "%s: page %llu is not the committed "
		    "one: the file was changed while the coordinator ran",
		    s->db_path, (unsigned long long)pgno);
	return coffer_pagecrypt_open(&s->pc, pgno, slot, SEALSTORE_PAGE, page);
}

int
sealstore_write(struct sealstore *s, uint64_t pgno, const uint8_t *page)
{
	size_t i;
	int found;

	if (s->broken)
		return s->broken;
	if (pgno == 0 || pgno > SEALSTORE_MAX_PAGES)
		return coffer_errf(COFFER_E_LIMIT, "page %llu", (unsigned long long)pgno);
	i = dirty_find(s, pgno, &found);
	if (!found) {
		struct dirty *d = s->dirty;

		if (s->ndirty == s->dirty_cap) {
			size_t cap = s->dirty_cap ? 2 * s->dirty_cap : 64;

			if ((d = coffer_reallocarray(s->dirty, cap, sizeof(*d))) == NULL)
				return coffer_errf(COFFER_E_NOMEM, "dirty pages");
			s->dirty = d;
			s->dirty_cap = cap;
		}
		memmove(&d[i + 1], &d[i], (s->ndirty - i) * sizeof(*d));
		if ((d[i].pt = coffer_malloc(SEALSTORE_PAGE)) == NULL) {
			memmove(&d[i], &d[i + 1], (s->ndirty - i) * sizeof(*d));
			return coffer_errf(COFFER_E_NOMEM, "dirty page");
		}
		d[i].pgno = pgno;
		s->ndirty++;
	}
	memcpy(s->dirty[i].pt, page, SEALSTORE_PAGE);
	if (pgno > s->pending_n)
		s->pending_n = pgno;
	return 0;
}

int
sealstore_truncate(struct sealstore *s, uint64_t npages)
{
	int found;
	size_t i;

	if (s->broken)
		return s->broken;
	if (npages > SEALSTORE_MAX_PAGES)
		return coffer_errf(COFFER_E_LIMIT, "%llu pages", (unsigned long long)npages);
	i = dirty_find(s, npages + 1, &found);
	for (size_t j = i; j < s->ndirty; j++)
		coffer_free_secret(s->dirty[j].pt, SEALSTORE_PAGE);
	s->ndirty = i;
	s->pending_n = npages;
	if (npages < s->trunc_min)
		s->trunc_min = npages;
	return 0;
}

/* ------------------------------------------------------------------
 * Commit (section 7.1)
 */

struct saved {
	uint64_t idx;       /* leaf index, or group index */
	uint8_t v[32];
};

#define LAZY_MAX 4096 /* slots kept in memory before a lazy commit syncs */

static int
commit(struct sealstore *s, int durable)
{
	static const uint8_t zero[SEALSTORE_PAGE];
	uint64_t n_new = s->pending_n, n_old = s->n, grown, count, p, q;
	/* Pages above base are new in this commit: all of them go in the
	 * record, zero where not written (cut, then extended). */
	uint64_t base = s->trunc_min < n_old ? s->trunc_min : n_old;
	struct saved *leaves = NULL, *groups = NULL;
	size_t nleaves = 0, ngroups = 0, di = 0, len = 0, body;
	uint8_t *rec = NULL, *e, *salts = NULL, *salt, root[32];
	int r;

	if (s->broken)
		return s->broken;
	if (s->ndirty == 0 && n_new == n_old && base == n_old)
		return 0;
	/* Step 1: the written pages up to n_new, and zero pages for the new
	 * ones nobody wrote. */
	grown = n_new > base ? n_new - base : 0;
	count = grown;
	for (size_t i = 0; i < s->ndirty; i++)
		if (s->dirty[i].pgno <= base)
			count++;
	if (count > SEALSTORE_MAX_COMMIT)
		return coffer_errf(COFFER_E_LIMIT, "a commit of %llu pages; at most "
		    "%d (64 MiB) in one transaction", (unsigned long long)count,
		    SEALSTORE_MAX_COMMIT);
	body = 24 + (size_t)count * ENTRY;
	len = body + 64;
	if ((r = reserve_leaves(s, n_new)) != 0)
		return r;
	if ((rec = coffer_malloc(len)) == NULL ||
	    (leaves = coffer_calloc((size_t)count + 1, sizeof(*leaves))) == NULL ||
	    (groups = coffer_calloc((size_t)count + 2, sizeof(*groups))) == NULL ||
	    (salts = coffer_malloc((size_t)count * COFFER_PAGE_SALT_LEN + 1)) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "commit");
		goto fail;
	}
	/* Every page's new salt (section 3.1), drawn in one call: the
	 * generator's cost is mostly per call. */
	if (count > 0 && (r = coffer_random(salts, (size_t)count *
	    COFFER_PAGE_SALT_LEN)) != 0)
		goto fail;
	salt = salts;
	memset(rec, 0, 24);
	rec[0] = 2;
	put32(rec + 4, (uint32_t)count);
	put64(rec + 8, s->counter + 1);
	put64(rec + 16, n_new);
	/* Ascending: the written pages, merged with the new pages (base,
	 * n_new], zero where nobody wrote them. */
	e = rec + 24;
	q = base + 1;
	while (di < s->ndirty || q <= n_new) {
		const uint8_t *pt;

		if (di < s->ndirty && (q > n_new || s->dirty[di].pgno <= q)) {
			p = s->dirty[di].pgno;
			pt = s->dirty[di++].pt;
			if (p == q)
				q++;
		} else {
			p = q++;
			pt = zero;
		}
		put32(e, (uint32_t)p);
		if ((r = coffer_pagecrypt_seal_salted(&s->pc, p, salt, pt,
		    SEALSTORE_PAGE, e + 4)) != 0)
			goto undo;
		salt += COFFER_PAGE_SALT_LEN;
		/* Step 2: the new leaf, keeping the old one to undo. */
		if (p <= n_old) {
			leaves[nleaves].idx = p - 1;
			memcpy(leaves[nleaves++].v, s->leaves + (p - 1) * 32, 32);
		}
		memcpy(s->leaves + (p - 1) * 32, e + 4, 32);
		if (ngroups == 0 || groups[ngroups - 1].idx != (p - 1) / GROUP) {
			groups[ngroups].idx = (p - 1) / GROUP;
			memcpy(groups[ngroups++].v, s->groups[(p - 1) / GROUP], 32);
		}
		e += ENTRY;
	}
	/* The last group changes size when the state shrinks. */
	if (n_new > 0 && n_new < n_old && (ngroups == 0 ||
	    groups[ngroups - 1].idx != (n_new - 1) / GROUP)) {
		groups[ngroups].idx = (n_new - 1) / GROUP;
		memcpy(groups[ngroups++].v, s->groups[(n_new - 1) / GROUP], 32);
	}
	for (size_t g = 0; g < ngroups; g++)
		if ((r = group_hash(s->leaves, n_new, groups[g].idx,
		    s->groups[groups[g].idx])) != 0)
			goto undo;
	if ((r = root_of_groups((const uint8_t (*)[32])s->groups, n_new, root)) != 0)
		goto undo;
	memcpy(rec + body, root, 32);
	if ((r = coffer_pagecrypt_mac(&s->pc, LABEL_RECORD, rec, body + 32,
	    rec + body + 32)) != 0)
		goto undo;
	/* Step 3: the commit point. */
	if (s->nlazy + count > LAZY_MAX)
		durable = 1;
	if ((r = pwrite_all(s->log_fd, rec, len, (off_t)s->log_end, s->log_path)) != 0 ||
	    (durable && fdatasync(s->log_fd) != 0 && (r = coffer_errf(COFFER_E_IO,
	    "fdatasync %s: %s%s", s->log_path, strerror(errno),
	    coffer_file_full_hint(errno))) != 0)) {
		if (ftruncate(s->log_fd, (off_t)s->log_end) != 0)
			s->broken = coffer_errf(COFFER_E_IO, "%s: a failed commit could "
			    "not be cut off: %s", s->log_path, strerror(errno));
		goto undo;
	}
	s->log_end += len;
	s->counter++;
	s->n = n_new;
	memcpy(s->root, root, 32);
	/* Step 4: the slots into state.db, or (7.4) into memory until the
	 * log is synced: state.db must never hold a slot that a power loss
	 * could take out of the log. */
	if (durable && s->nlazy == 0)
		r = write_entries(s, rec + 24, (size_t)count); /* from the record */
	else {
		for (e = rec + 24; e < rec + body; e += ENTRY)
			if ((r = lazy_put(s, get32(e), e + 4)) != 0)
				break;
		if (r == 0 && durable)
			r = lazy_apply(s);
	}
	if (r != 0)
		s->broken = coffer_errf(r, "commit %llu is in the log but %s could "
		    "not be updated (%s): restart the coordinator to replay it",
		    (unsigned long long)s->counter, s->db_path, coffer_errdetail());
	sealstore_discard(s);
	free(rec);
	free(leaves);
	free(groups);
	free(salts);
	/* A failed checkpoint loses nothing (the log keeps every record):
	 * the next commit tries again. */
	if (!s->broken && durable && s->log_end > SEALSTORE_CHECKPOINT &&
	    sealstore_checkpoint(s) != 0)
		coffer_logkv(COFFER_LOG_WARN, "state: checkpoint failed", "detail",
		    coffer_errdetail(), NULL);
	return 0;
undo:
	for (size_t i = 0; i < nleaves; i++)
		memcpy(s->leaves + leaves[i].idx * 32, leaves[i].v, 32);
	for (size_t g = 0; g < ngroups; g++)
		memcpy(s->groups[groups[g].idx], groups[g].v, 32);
fail:
	if (rec != NULL)
		coffer_wipe(rec, len);
	free(rec);
	free(leaves);
	free(groups);
	free(salts);
	return r;
}

int
sealstore_commit(struct sealstore *s)
{
	return commit(s, 1);
}

int
sealstore_commit_lazy(struct sealstore *s)
{
	return commit(s, 0);
}
