// SPDX-License-Identifier: Apache-2.0
// The SQLite VFS over a sealed store (sealvfs.h), doc/format/sealed-state.md
// section 8. SQLite's offsets become page numbers; writes wait in the store
// until SQLite's xSync, which is one store commit. That is atomic because
// of the pragmas set here: with the journal in memory and cache_spill off,
// SQLite writes the database file only in sqlite3PagerCommitPhaseOne,
// right before its xSync. Any other file SQLite asks for is refused, so no
// journal, WAL or temporary file can carry plaintext to the disk.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/sealstore.h"
#include "coordinator/sealvfs.h"
#include "lib/log.h"
#include "lib/mem.h"

#define P SEALSTORE_PAGE

struct sealdb {
	sqlite3_vfs vfs;         /* first: SQLite hands it back to us */
	char vfs_name[64];
	sqlite3_vfs *root;       /* the default VFS: time, randomness, sleep */
	struct sealstore *st;
	sqlite3 *db;
	int file_open;
	int registered;
	int lazy;                /* sealdb_set_durable(d, 0) */
	char last_error[512];
};

struct sealfile {
	sqlite3_file base;
	struct sealdb *d;
};

/* Keep the store's detail for sealdb_last_error and return SQLite's code. */
static int
io_error(struct sealdb *d, int err, int code)
{
	snprintf(d->last_error, sizeof(d->last_error), "%s: %s",
	    coffer_strerror(err), coffer_errdetail());
	coffer_logkv(COFFER_LOG_ERROR, "state: I/O refused", "detail",
	    d->last_error, NULL);
	return code;
}

static int
f_close(sqlite3_file *f)
{
	((struct sealfile *)f)->d->file_open = 0;
	return SQLITE_OK;
}

static int
f_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct sealdb *d = ((struct sealfile *)f)->d;
	uint8_t page[P], *out = buf;
	int r, rc = SQLITE_OK;

	if (amt < 0 || off < 0)
		return SQLITE_IOERR_READ;
	/* Whole pages, or a part of one (SQLite reads the first 100 bytes of
	 * page 1 before it knows the page size). */
	while (amt > 0) {
		uint64_t pgno = (uint64_t)off / P + 1;
		size_t in = (size_t)((uint64_t)off % P);
		size_t n = P - in < (size_t)amt ? P - in : (size_t)amt;

		r = sealstore_read(d->st, pgno, page);
		if (r == COFFER_E_NOTFOUND) {
			/* Past the end: zeros, as SQLite requires. */
			memset(out, 0, (size_t)amt);
			rc = SQLITE_IOERR_SHORT_READ;
			break;
		}
		if (r != 0) {
			rc = io_error(d, r, SQLITE_IOERR_READ);
			break;
		}
		memcpy(out, page + in, n);
		out += n;
		off += (sqlite3_int64)n;
		amt -= (int)n;
	}
	coffer_wipe(page, sizeof(page));
	return rc;
}

static int
f_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct sealdb *d = ((struct sealfile *)f)->d;
	const uint8_t *in = buf;
	int r;

	/* SQLite writes a database file in whole, aligned pages (pager.c,
	 * invariant 3); anything else is a bug we refuse to guess around. */
	if (off < 0 || off % P != 0 || amt <= 0 || amt % P != 0) {
		snprintf(d->last_error, sizeof(d->last_error), "a write of %d bytes "
		    "at %lld is not whole pages", amt, (long long)off);
		return SQLITE_IOERR_WRITE;
	}
	for (int i = 0; i < amt / P; i++)
		if ((r = sealstore_write(d->st, (uint64_t)off / P + 1 + (uint64_t)i,
		    in + (size_t)i * P)) != 0)
			return io_error(d, r, r == COFFER_E_NOMEM ? SQLITE_IOERR_NOMEM :
			    SQLITE_IOERR_WRITE);
	return SQLITE_OK;
}

static int
f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct sealdb *d = ((struct sealfile *)f)->d;
	int r;

	if (size < 0)
		return SQLITE_IOERR_TRUNCATE;
	/* A size inside a page keeps that page (SQLite truncates to whole
	 * pages anyway). */
	if ((r = sealstore_truncate(d->st, ((uint64_t)size + P - 1) / P)) != 0)
		return io_error(d, r, SQLITE_IOERR_TRUNCATE);
	return SQLITE_OK;
}

static int
f_sync(sqlite3_file *f, int flags)
{
	struct sealdb *d = ((struct sealfile *)f)->d;
	int r;

	(void)flags;
	/* The commit point of the transaction (section 7.1; 7.4 if lazy). */
	if ((r = d->lazy ? sealstore_commit_lazy(d->st) :
	    sealstore_commit(d->st)) != 0)
		return io_error(d, r, r == COFFER_E_LIMIT ? SQLITE_FULL :
		    SQLITE_IOERR_FSYNC);
	return SQLITE_OK;
}

static int
f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	*size = (sqlite3_int64)(sealstore_pages(((struct sealfile *)f)->d->st) * P);
	return SQLITE_OK;
}

/* One process, one connection: the store's flock keeps others out. */
static int
f_lock(sqlite3_file *f, int level)
{
	(void)f;
	(void)level;
	return SQLITE_OK;
}

static int
f_reserved(sqlite3_file *f, int *out)
{
	(void)f;
	*out = 0;
	return SQLITE_OK;
}

static int
f_control(sqlite3_file *f, int op, void *arg)
{
	(void)f;
	(void)op;
	(void)arg;
	return SQLITE_NOTFOUND;
}

static int
f_sector(sqlite3_file *f)
{
	(void)f;
	return P;
}

static int
f_caps(sqlite3_file *f)
{
	(void)f;
	return 0;
}

static const sqlite3_io_methods io_methods = {
	1, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock, f_lock,
	f_reserved, f_control, f_sector, f_caps,
	NULL, NULL, NULL, NULL, NULL, NULL,
};

static int
v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out_flags)
{
	struct sealdb *d = (struct sealdb *)vfs;
	struct sealfile *sf = (struct sealfile *)f;

	f->pMethods = NULL;
	/* Only the main database, once: no journal, WAL or temporary file
	 * may ever be written beside it. */
	if (!(flags & SQLITE_OPEN_MAIN_DB) || d->file_open) {
		snprintf(d->last_error, sizeof(d->last_error), "SQLite asked for a "
		    "file other than the sealed database (%s, flags %#x): refused",
		    name != NULL ? name : "a temporary file", flags);
		coffer_logkv(COFFER_LOG_ERROR, "state: file refused", "detail",
		    d->last_error, NULL);
		return SQLITE_CANTOPEN;
	}
	sf->d = d;
	d->file_open = 1;
	if (out_flags != NULL)
		*out_flags = flags;
	f->pMethods = &io_methods;
	return SQLITE_OK;
}

static int
v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	(void)name;
	(void)sync_dir;
	return SQLITE_OK; /* nothing but the store exists */
}

static int
v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	(void)name;
	(void)flags;
	*out = 0; /* no journal or WAL, hence never a hot one */
	return SQLITE_OK;
}

static int
v_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	if ((size_t)snprintf(out, (size_t)n, "%s", name) >= (size_t)n)
		return SQLITE_CANTOPEN;
	return SQLITE_OK;
}

static int
v_random(sqlite3_vfs *vfs, int n, char *out)
{
	struct sealdb *d = (struct sealdb *)vfs;

	return d->root->xRandomness(d->root, n, out);
}

static int
v_sleep(sqlite3_vfs *vfs, int us)
{
	struct sealdb *d = (struct sealdb *)vfs;

	return d->root->xSleep(d->root, us);
}

static int
v_time(sqlite3_vfs *vfs, double *out)
{
	struct sealdb *d = (struct sealdb *)vfs;

	return d->root->xCurrentTime(d->root, out);
}

static int
v_lasterr(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	if (n > 0)
		out[0] = '\0';
	return 0;
}

/* Section 8: each pragma, and what it must answer. */
static int
pragmas(struct sealdb *d, const char *path)
{
	static const struct { const char *sql, *want; } list[] = {
		{ "PRAGMA page_size = 4096", NULL },
		{ "PRAGMA journal_mode = MEMORY", "memory" },
		{ "PRAGMA locking_mode = EXCLUSIVE", "exclusive" },
		{ "PRAGMA synchronous = FULL", NULL },
		{ "PRAGMA cache_spill = OFF", NULL },
		{ "PRAGMA temp_store = MEMORY", NULL },
		{ "PRAGMA page_size", "4096" },
		{ "PRAGMA synchronous", "2" },
	};
	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		sqlite3_stmt *s = NULL;
		const unsigned char *v;
		int rc, ok = 1;

		if (sqlite3_prepare_v2(d->db, list[i].sql, -1, &s, NULL) != SQLITE_OK)
			return coffer_errf(COFFER_E_DB, "%s: %s: %s", path, list[i].sql,
			    sqlite3_errmsg(d->db));
		rc = sqlite3_step(s);
		if (list[i].want != NULL)
			ok = rc == SQLITE_ROW && (v = sqlite3_column_text(s, 0)) != NULL &&
			    strcmp((const char *)v, list[i].want) == 0;
		else
			ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
		sqlite3_finalize(s);
		if (!ok)
			return coffer_errf(COFFER_E_DB, "%s: %s did not give '%s': the "
			    "sealed store needs it (doc/format/sealed-state.md section 8)",
			    path, list[i].sql, list[i].want ? list[i].want : "success");
	}
	return 0;
}

int
sealdb_open(const char *dir, const uint8_t key[COFFER_STATE_KEY_LEN],
    const uint8_t state_id[COFFER_STATE_ID_LEN], struct sealdb **out)
{
	struct sealdb *d = NULL;
	char path[4096];
	int r;

	if ((d = coffer_calloc(1, sizeof(*d))) == NULL)
		return COFFER_E_NOMEM;
	snprintf(path, sizeof(path), "%s/state.db", dir);
	if ((d->root = sqlite3_vfs_find(NULL)) == NULL) {
		r = coffer_errf(COFFER_E_DB, "SQLite has no default VFS");
		goto fail;
	}
	if ((r = sealstore_open(dir, key, state_id, &d->st)) != 0)
		goto fail;
	/* A VFS per store: it carries the store to xOpen. */
	snprintf(d->vfs_name, sizeof(d->vfs_name), "coffer-sealed-%p", (void *)d);
	d->vfs.iVersion = 1;
	d->vfs.szOsFile = (int)sizeof(struct sealfile);
	d->vfs.mxPathname = 4096;
	d->vfs.zName = d->vfs_name;
	d->vfs.xOpen = v_open;
	d->vfs.xDelete = v_delete;
	d->vfs.xAccess = v_access;
	d->vfs.xFullPathname = v_fullpath;
	d->vfs.xRandomness = v_random;
	d->vfs.xSleep = v_sleep;
	d->vfs.xCurrentTime = v_time;
	d->vfs.xGetLastError = v_lasterr;
	if (sqlite3_vfs_register(&d->vfs, 0) != SQLITE_OK) {
		r = coffer_errf(COFFER_E_DB, "cannot register the sealed VFS");
		goto fail;
	}
	d->registered = 1;
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, d->vfs_name) != SQLITE_OK) {
		r = coffer_errf(COFFER_E_DB, "%s: %s", path,
		    d->db != NULL ? sqlite3_errmsg(d->db) : "cannot open");
		goto fail;
	}
	if ((r = pragmas(d, path)) != 0)
		goto fail;
	*out = d;
	return 0;
fail:
	sealdb_close(d);
	return r;
}

sqlite3 *
sealdb_handle(struct sealdb *d)
{
	return d->db;
}

uint64_t
sealdb_version(const struct sealdb *d)
{
	return sealstore_counter(d->st);
}

void
sealdb_set_durable(struct sealdb *d, int on)
{
	d->lazy = !on;
}

int
sealdb_sync(struct sealdb *d)
{
	return sealstore_sync(d->st);
}

const char *
sealdb_last_error(const struct sealdb *d)
{
	return d->last_error;
}

void
sealdb_close(struct sealdb *d)
{
	if (d == NULL)
		return;
	if (d->db != NULL)
		sqlite3_close(d->db);
	if (d->registered)
		sqlite3_vfs_unregister(&d->vfs);
	sealstore_close(d->st);
	free(d);
}
