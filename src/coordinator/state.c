// SPDX-License-Identifier: Apache-2.0
// The coordinator's state on SQLite (state.h), sealed: SQLite runs on the
// sealed store of doc/format/sealed-state.md (sealvfs.h), where every
// commit is durable before it returns: an answer the coordinator sends (an
// approval accepted, a key stored) is on disk before the client reads it,
// so a kill -9 or a power loss never forgets what an owner was told had
// happened, and the host sees no byte of it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "coffer/error.h"
#include "coordinator/sealvfs.h"
#include "coordinator/state.h"
#include "coordinator/state_int.h"
#include "lib/clock.h"
#include "lib/mem.h"

/* Distinct statements kept prepared: more than the state has queries. */
#define STMT_CACHE 48

struct coord_state {
	sqlite3 *h;
	struct sealdb *sdb;
	int in_tx;
	int lazy_tx;   /* the open transaction is committed without a flush */
	int unsynced;  /* a lazy commit is not yet known to be on disk */
	uint64_t tx_version; /* the state's version when the transaction began */
	/* Changed by every write a policy's status reads (policies,
	 * approvals, revocations, rollback records) and every rollback:
	 * coord_state_book_serial. */
	uint64_t book_serial;
	/* The log's size inside the open transaction once read (0: not
	 * known): appends keep it, so that a batch of proofs reads it once. */
	uint64_t tx_log_size;
	/* The same after the last commit (0: not known), the next
	 * transaction's start: this process is the log's only writer
	 * (coord_state_log_entry_put), so it holds until a rollback or a
	 * failed commit. */
	uint64_t log_size_committed;
	struct coord_log_frontier frontier;  /* audit.c's, from commit to commit */
	/* The audit log's statements, prepared once: an append or a proof
	 * runs them dozens of times. */
	sqlite3_stmt *log_stmt[5];
	/* The other statements, kept prepared by their text (prepare()). */
	struct {
		sqlite3_stmt *s;
		int busy;
	} cache[STMT_CACHE];
	size_t ncache;
};

/* LOG_ROLLBACK_LAST is read at every request of item proofs (the
 * policy's status, IP15 to IP17), as are the revocations and approvals
 * (prepare(): their callbacks may query them again). */
enum { LOG_SIZE, LOG_ENTRY_PUT, LOG_NODE_PUT, LOG_NODE_GET, LOG_ROLLBACK_LAST };
/* The row of the log's subtree (level, pos) in table log_tree: the index
 * of the last leaf it covers, times 64, plus its level (level 1 to 56,
 * pos below 2^(56 - level): at most 2^62). */
#define LOG_NODE_KEY(level, pos) \
	(((((uint64_t)(pos) + 1) << (level)) - 1) * 64 + (uint64_t)(level))

static int
dberr(struct coord_state *st, const char *what)
{
	int code = sqlite3_errcode(st->h) & 0xff;

	/* An I/O error is the sealed store's: say what it refused. */
	if (code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CANTOPEN)
		return coffer_errf(COFFER_E_DB, "state: %s: %s: %s", what,
		    sqlite3_errmsg(st->h), sealdb_last_error(st->sdb));
	return coffer_errf(COFFER_E_DB, "state: %s: %s", what,
	    sqlite3_errmsg(st->h));
}

static int
exec(struct coord_state *st, const char *sql)
{
	char *msg = NULL;
	int r;

	if (sqlite3_exec(st->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_errcode(st->h) & 0xff;

		/* As dberr: an I/O error is the sealed store's, which says
		 * what it refused and where (a full disk, by name). */
		if (code == SQLITE_IOERR || code == SQLITE_FULL ||
		    code == SQLITE_CANTOPEN)
			r = coffer_errf(COFFER_E_DB, "state: %s: %s", msg ? msg :
			    "exec failed", sealdb_last_error(st->sdb));
		else
			r = coffer_errf(COFFER_E_DB, "state: %s", msg ? msg :
			    "exec failed");
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

/*
 * A statement for sql, to be given back with done(). Statements are kept
 * prepared by their text: SQLite compiles SQL at every prepare, which
 * costs as much as a small query, and a key release runs about ten. A
 * statement still in use when its text is asked for again (a callback
 * that queries the same table) is prepared afresh and finalized by done().
 */
static int
prepare(struct coord_state *st, const char *sql, sqlite3_stmt **stmt)
{
	int known = 0;

	for (size_t i = 0; i < st->ncache; i++) {
		if (strcmp(sqlite3_sql(st->cache[i].s), sql) != 0)
			continue;
		if (!st->cache[i].busy) {
			st->cache[i].busy = 1;
			*stmt = st->cache[i].s;
			return 0;
		}
		known = 1;
	}
	known |= st->ncache == STMT_CACHE;
	if (sqlite3_prepare_v3(st->h, sql, -1, known ? 0 :
	    SQLITE_PREPARE_PERSISTENT, stmt, NULL) != SQLITE_OK)
		return dberr(st, "prepare");
	if (!known) {
		st->cache[st->ncache].s = *stmt;
		st->cache[st->ncache++].busy = 1;
	}
	return 0;
}

/* A statement from prepare() is done: reset and its bindings (pointers
 * into the caller's memory) cleared if kept, else finalized. */
static void
done(struct coord_state *st, sqlite3_stmt *s)
{
	for (size_t i = 0; i < st->ncache; i++)
		if (st->cache[i].s == s) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			st->cache[i].busy = 0;
			return;
		}
	sqlite3_finalize(s);
}

/* A statement run once, or over secrets: never kept (finalize it). */
static int
prepare_once(struct coord_state *st, const char *sql, sqlite3_stmt **stmt)
{
	if (sqlite3_prepare_v2(st->h, sql, -1, stmt, NULL) != SQLITE_OK)
		return dberr(st, "prepare");
	return 0;
}

/* A transaction's BEGIN, COMMIT or ROLLBACK on a kept statement: each
 * proof request runs two, and sqlite3_exec compiles its SQL every time. */
static int
exec_kept(struct coord_state *st, const char *sql)
{
	sqlite3_stmt *s;
	int rc, r;

	if ((r = prepare(st, sql, &s)) != 0)
		return r;
	rc = sqlite3_step(s);
	r = rc == SQLITE_DONE ? 0 : dberr(st, sql);
	done(st, s);
	return r;
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    /* One row: the identity secret file's text (doc/format/identity.md
     * section 3), so that its own consistency check runs at every load. */
    "CREATE TABLE IF NOT EXISTS identity ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS root ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), secret BLOB NOT NULL"
    " CHECK (length(secret) = 32));"
    "CREATE TABLE IF NOT EXISTS policies ("
    " hash BLOB PRIMARY KEY, previous BLOB, jcs TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS policies_previous ON policies (previous);"
    /* log_size: the `log.size` the approval names (policy.md 10.3). */
    "CREATE TABLE IF NOT EXISTS approvals ("
    " policy BLOB NOT NULL REFERENCES policies (hash), signer BLOB NOT NULL,"
    " envelope TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " log_size INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (policy, signer)) WITHOUT ROWID;"
    /* coord_state_policy_successors walks from the signer. */
    "CREATE INDEX IF NOT EXISTS approvals_signer ON approvals (signer);"
    /* tee and measurement are '' and x'' for a revoked approval, so that
     * UNIQUE sees repeats (it never does with NULLs). */
    "CREATE TABLE IF NOT EXISTS revocations ("
    " seq INTEGER PRIMARY KEY, policy BLOB NOT NULL REFERENCES policies (hash),"
    " signer BLOB NOT NULL, tee TEXT NOT NULL, measurement BLOB NOT NULL,"
    " envelope TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " UNIQUE (policy, signer, tee, measurement));"
    "CREATE TABLE IF NOT EXISTS keys ("
    " key_id BLOB NOT NULL, policy BLOB NOT NULL REFERENCES policies (hash),"
    " signer BLOB NOT NULL, envelope TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " PRIMARY KEY (key_id, policy)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id BLOB PRIMARY KEY, policy BLOB NOT NULL REFERENCES policies (hash),"
    " app TEXT NOT NULL, params TEXT NOT NULL, items INTEGER NOT NULL,"
    " input_root BLOB NOT NULL, closed INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sessions ("
    " id BLOB PRIMARY KEY, job BLOB NOT NULL REFERENCES jobs (id),"
    " tee TEXT NOT NULL, measurement BLOB NOT NULL, worker_pk BLOB NOT NULL,"
    " key BLOB NOT NULL, created_ms INTEGER NOT NULL);"
    /* The audit log (doc/format/audit-log.md; audit.h): its entries, and
     * the hash of every complete perfect subtree of two entries or more
     * (level >= 1; rows of level 0, the leaves, written before
     * 2026-12-07, are not read), so that a root or a proof costs O(log n)
     * lookups, not O(n). */
    "CREATE TABLE IF NOT EXISTS log (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL);"
    /* Keyed by LOG_NODE_KEY: the last leaf a subtree covers, then its
     * level, so that the nodes an append completes go at the table's
     * right end, next to those of the appends before it (one page per
     * commit, doc/coordinator.md section 9.2). */
    "CREATE TABLE IF NOT EXISTS log_tree (k INTEGER PRIMARY KEY,"
    " hash BLOB NOT NULL CHECK (length(hash) = 32));"
    /* Heads owners presented that this log does not contain (audit-log.md
     * section 6.2), with the index of the rollback event recording each. */
    "CREATE TABLE IF NOT EXISTS log_rollbacks ("
    " size INTEGER NOT NULL, root BLOB NOT NULL, idx INTEGER NOT NULL,"
    " PRIMARY KEY (size, root)) WITHOUT ROWID;"
    /* Collateral pushed by operators (doc/protocol/collateral.md 3.3):
     * the bytes as received, and what the verifier said of them, so that
     * the newest of a slot can be kept without parsing them again. */
    "CREATE TABLE IF NOT EXISTS collateral ("
    " seq INTEGER PRIMARY KEY, sha256 BLOB NOT NULL UNIQUE"
    " CHECK (length(sha256) = 32), name TEXT NOT NULL, kind INTEGER NOT NULL,"
    " slot TEXT NOT NULL, eval_num INTEGER NOT NULL, issued INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, data BLOB NOT NULL, created_ms INTEGER NOT NULL);";

static int
meta_get(struct coord_state *st, const char *key, char *out, size_t outlen)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *v;
	int r, rc;

	if ((r = prepare(st, "SELECT value FROM meta WHERE key = ?1", &s)) != 0)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(s, 0);
		snprintf(out, outlen, "%s", v != NULL ? (const char *)v : "");
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = COFFER_E_NOTFOUND;
	} else {
		r = dberr(st, "meta");
	}
	done(st, s);
	return r;
}

static int
meta_set(struct coord_state *st, const char *key, const char *value)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st, "INSERT INTO meta (key, value) VALUES (?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", &s)) != 0)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_DONE ? 0 : dberr(st, "meta");
	done(st, s);
	return r;
}

/* ROLLBACK of a transaction SQLite has not ended already (a failed
 * COMMIT may have), keeping the error that caused it as the detail. */
static void
rollback_kept(struct coord_state *st)
{
	if (!sqlite3_get_autocommit(st->h))
		(void)!sqlite3_exec(st->h, "ROLLBACK;", NULL, NULL, NULL);
}

/* Schema 2 -> 3, the log_nodes rows to log_tree in steps of at most
 * MOVE_STEP rows, each in its own transaction (check_schema). */
#define MOVE_STEP 100000
static int
move_log_nodes(struct coord_state *st)
{
	char sql[640];
	int r, n;

	/* The first rows in key order, twice: the same rows both times. */
	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE;"
	    "INSERT INTO log_tree (k, hash) SELECT"
	    " (((pos + 1) << level) - 1) * 64 + level, hash FROM (SELECT level,"
	    " pos, hash FROM log_nodes ORDER BY level, pos LIMIT %d)"
	    " WHERE level >= 1;"
	    "DELETE FROM log_nodes WHERE (level, pos) IN (SELECT level, pos"
	    " FROM log_nodes ORDER BY level, pos LIMIT %d);", MOVE_STEP, MOVE_STEP);
	do {
		if ((r = exec(st, sql)) != 0)
			break;
		n = sqlite3_changes(st->h);
		if ((r = exec(st, "COMMIT;")) != 0)
			break;
	} while (n > 0);
	if (r != 0)
		rollback_kept(st);
	return r;
}

static int
check_schema(struct coord_state *st, const char *path)
{
	char ver[32], *end = NULL;
	long v;
	int r;

	r = meta_get(st, "schema_version", ver, sizeof(ver));
	if (r == COFFER_E_NOTFOUND) {
		snprintf(ver, sizeof(ver), "%d", COORD_STATE_SCHEMA_VERSION);
		return meta_set(st, "schema_version", ver);
	}
	if (r != 0)
		return r;
	v = strtol(ver, &end, 10);
	if (end == ver || *end != '\0' || v < 1)
		return coffer_errf(COFFER_E_FORMAT, "state %s: bad schema_version "
		    "'%s'", path, ver);
	if (v > COORD_STATE_SCHEMA_VERSION)
		return coffer_errf(COFFER_E_VERSION, "state %s: schema version %ld "
		    "is newer than this coordinator's %d", path, v,
		    COORD_STATE_SCHEMA_VERSION);
	if (v == COORD_STATE_SCHEMA_VERSION)
		return 0;
	/* 2 -> 3: the log's subtree hashes move from log_nodes, by (level,
	 * pos), to log_tree, by LOG_NODE_KEY (the leaves of level 0 that
	 * states of before 2026-12-07 held are not read, so not moved), in
	 * steps: a transaction of the sealed state holds at most 64 MiB of
	 * pages (SEALSTORE_MAX_COMMIT), about 700000 rows moved. Each step
	 * moves and deletes its rows at once, and the version changes last,
	 * so a start cut short goes on where it stopped. */
	if (v == 2 && (r = move_log_nodes(st)) != 0)
		return r;
	/* The rest in one transaction: one cut short leaves the old version. */
	if ((r = exec(st, "BEGIN IMMEDIATE;")) != 0)
		return r;
	/* 1 -> 2: approvals remember the log head they name; the log tables
	 * were made by the schema above. */
	if (v == 1)
		r = exec(st, "ALTER TABLE approvals ADD COLUMN log_size "
		    "INTEGER NOT NULL DEFAULT 0;");
	if (r == 0 && v == 2)
		r = exec(st, "DROP TABLE log_nodes;");
	snprintf(ver, sizeof(ver), "%d", COORD_STATE_SCHEMA_VERSION);
	if (r != 0 || (r = meta_set(st, "schema_version", ver)) != 0 ||
	    (r = exec(st, "COMMIT;")) != 0) {
		rollback_kept(st);
		return r;
	}
	return 0;
}

int
coord_state_open(const char *dir, const uint8_t key[32],
    const uint8_t state_id[16], struct coord_state **out)
{
	struct coord_state *st = NULL;
	char path[4096];
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/state.db", dir) >= sizeof(path))
		return coffer_errf(COFFER_E_LIMIT, "state path too long");
	if ((st = coffer_calloc(1, sizeof(*st))) == NULL)
		return COFFER_E_NOMEM;
	/* One thread uses it (the event loop); the data directory lock keeps
	 * other processes away. */
	if ((r = sealdb_open(dir, key, state_id, &st->sdb)) != 0)
		goto out;
	st->h = sealdb_handle(st->sdb);
	st->book_serial = 1;  /* 0: never read (ledger_int.h) */
	if ((r = exec(st, "PRAGMA foreign_keys=ON;")) != 0 ||
	    (r = exec(st, schema)) != 0 ||
	    (r = check_schema(st, path)) != 0) {
		r = coffer_errctx(r, "%s", path);
		goto out;
	}
	*out = st;
	st = NULL;
	r = 0;
out:
	coord_state_close(st);
	return r;
}

void
coord_state_close(struct coord_state *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < sizeof(st->log_stmt) / sizeof(st->log_stmt[0]); i++)
		sqlite3_finalize(st->log_stmt[i]);
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].s);
	sealdb_close(st->sdb); /* closes SQLite too */
	free(st);
}

uint64_t
coord_state_version(const struct coord_state *st)
{
	return sealdb_version(st->sdb);
}

int
coord_state_begin(struct coord_state *st)
{
	int r;

	if (st->in_tx)
		return coffer_errf(COFFER_E_INTERNAL, "state: nested transaction");
	if ((r = exec_kept(st, "BEGIN IMMEDIATE;")) != 0)
		return r;
	st->in_tx = 1;
	st->tx_version = sealdb_version(st->sdb);
	st->tx_log_size = st->log_size_committed;
	/* The frontier stays valid from the last commit (audit.c checks its
	 * size against the log's); a rollback or a failed commit drops it. */
	return 0;
}

int
coord_state_begin_lazy(struct coord_state *st)
{
	int r;

	/* doc/format/sealed-state.md section 7.4: the commit is in the log
	 * at once, fsynced with the next durable one (coord_state_sync). */
	sealdb_set_durable(st->sdb, 0);
	if ((r = coord_state_begin(st)) != 0) {
		sealdb_set_durable(st->sdb, 1);
		return r;
	}
	st->lazy_tx = 1;
	return 0;
}

/* Back to durable commits after a lazy transaction. */
static void
end_lazy(struct coord_state *st)
{
	if (!st->lazy_tx)
		return;
	st->lazy_tx = 0;
	sealdb_set_durable(st->sdb, 1);
}

int
coord_state_commit(struct coord_state *st)
{
	int r;

	if (!st->in_tx)
		return coffer_errf(COFFER_E_INTERNAL, "state: commit outside a "
		    "transaction");
	if ((r = exec_kept(st, "COMMIT;")) != 0) {
		st->frontier.valid = 0;
		st->log_size_committed = 0;
		return r;
	}
	st->in_tx = 0;
	st->log_size_committed = st->tx_log_size;
	/* A durable commit syncs the lazy records before it too (7.4); a
	 * transaction that wrote nothing committed nothing. */
	if (sealdb_version(st->sdb) != st->tx_version)
		st->unsynced = st->lazy_tx;
	end_lazy(st);
	return 0;
}

void
coord_state_rollback(struct coord_state *st)
{
	if (!st->in_tx)
		return;
	(void)!exec(st, "ROLLBACK;");
	st->in_tx = 0;
	st->log_size_committed = 0;
	st->book_serial++;  /* what was read inside it may be gone */
	st->frontier.valid = 0;
	end_lazy(st);
}

sqlite3 *
coord_state_sqlite(struct coord_state *st)
{
	return st->h;
}

int
coord_state_dberr(struct coord_state *st, const char *what)
{
	return dberr(st, what);
}

int
coord_state_in_tx(const struct coord_state *st)
{
	return st->in_tx;
}

uint64_t
coord_state_book_serial(const struct coord_state *st)
{
	return st->book_serial;
}

int
coord_state_sync(struct coord_state *st)
{
	int r;

	if (!st->unsynced)
		return 0;
	if (st->in_tx)
		return coffer_errf(COFFER_E_INTERNAL, "state: sync inside a "
		    "transaction");
	if ((r = sealdb_sync(st->sdb)) != 0)
		return r;
	st->unsynced = 0;
	return 0;
}

int
coord_state_identity_get(struct coord_state *st, struct coffer_identity *id)
{
	sqlite3_stmt *s = NULL;
	const void *p;
	int r, rc, n;

	if ((r = prepare_once(st, "SELECT secret FROM identity WHERE id = 1", &s)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = COFFER_E_NOTFOUND;
	} else if (rc != SQLITE_ROW) {
		r = dberr(st, "identity");
	} else {
		p = sqlite3_column_blob(s, 0);
		n = sqlite3_column_bytes(s, 0);
		r = p == NULL || n <= 0 ? coffer_errf(COFFER_E_FORMAT,
		    "state: empty identity") :
		    coffer_identity_parse_secret(p, (size_t)n, id);
		if (r != 0)
			r = coffer_errctx(r, "state: the coordinator identity");
	}
	/* The column held secret keys: SQLite's copy is freed by finalize;
	 * the page cache is the database's (sealed by issue 12). */
	done(st, s);
	return r;
}

int
coord_state_identity_put(struct coord_state *st, const struct coffer_identity *id)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(4096);
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = coffer_identity_format_secret(id, &b)) != 0)
		goto out;
	if ((r = prepare_once(st, "INSERT INTO identity (id, secret, created_ms) "
	    "VALUES (1, ?1, CAST(strftime('%s','now') AS INTEGER) * 1000)", &s)) != 0)
		goto out;
	sqlite3_bind_text(s, 1, coffer_buf_str(&b), (int)b.len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		r = coffer_errf(COFFER_E_EXISTS, "state: an identity is already "
		    "stored");
	else if (rc != SQLITE_DONE)
		r = dberr(st, "identity");
out:
	done(st, s);
	coffer_buf_release(&b);
	return r;
}

int
coord_state_root_get(struct coord_state *st, uint8_t out[32])
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare_once(st, "SELECT secret FROM root WHERE id = 1", &s)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		r = COFFER_E_NOTFOUND;
	else if (rc != SQLITE_ROW)
		r = dberr(st, "root");
	else if (sqlite3_column_bytes(s, 0) != 32)
		r = coffer_errf(COFFER_E_FORMAT, "state: the root secret is not 32 "
		    "bytes");
	else
		memcpy(out, sqlite3_column_blob(s, 0), 32);
	done(st, s);
	return r;
}

int
coord_state_root_put(struct coord_state *st, const uint8_t root[32])
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare_once(st, "INSERT INTO root (id, secret) VALUES (1, ?1)", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, root, 32, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		r = coffer_errf(COFFER_E_EXISTS, "state: a root secret is already "
		    "stored");
	else if (rc != SQLITE_DONE)
		r = dberr(st, "root");
	done(st, s);
	return r;
}

/* ------------------------------------------------------------------ */

static int session_insert(struct coord_state *st, const struct coord_session *x);

/* Step an INSERT: SQLITE_CONSTRAINT (a primary or unique key) is
 * COFFER_E_EXISTS, with what named. */
static int
insert_step(struct coord_state *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_CONSTRAINT &&
	    (sqlite3_extended_errcode(st->h) == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    sqlite3_extended_errcode(st->h) == SQLITE_CONSTRAINT_UNIQUE))
		return coffer_errf(COFFER_E_EXISTS, "state: %s already stored", what);
	if (rc != SQLITE_DONE)
		return dberr(st, what);
	return 0;
}

/* insert_step, then finalize. */
static int
insert_done(struct coord_state *st, sqlite3_stmt *s, const char *what)
{
	int r = insert_step(st, s, what);

	done(st, s);
	return r;
}

/* The recovery record (doc/format/recovery.md section 1) lives in meta:
 * made once, never changed. */
int
coord_state_recovery_get(struct coord_state *st, struct coffer_buf *out)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare(st, "SELECT value FROM meta WHERE key = 'recovery_record'",
	    &s)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = coffer_buf_put(out, sqlite3_column_text(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));
	else if (rc == SQLITE_DONE)
		r = COFFER_E_NOTFOUND;
	else
		r = dberr(st, "recovery record");
	done(st, s);
	return r;
}

int
coord_state_recovery_put(struct coord_state *st, const char *env, size_t len)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st, "INSERT INTO meta (key, value) VALUES "
	    "('recovery_record', ?1)", &s)) != 0)
		return r;
	sqlite3_bind_text(s, 1, env, (int)len, SQLITE_STATIC);
	r = insert_done(st, s, "recovery record");
	return r;
}

/* One of the statements prepared once (log_stmt[]), at first use, and
 * reset since: its function must not run again from a row callback of
 * its own (none does). */
static int
log_stmt(struct coord_state *st, int which, const char *sql, sqlite3_stmt **out)
{
	sqlite3_stmt **s = &st->log_stmt[which];

	if (*s == NULL) {
		if (sqlite3_prepare_v3(st->h, sql, -1, SQLITE_PREPARE_PERSISTENT, s,
		    NULL) != SQLITE_OK)
			return dberr(st, "prepare");
	} else {
		sqlite3_reset(*s);
		sqlite3_clear_bindings(*s);
	}
	*out = *s;
	return 0;
}

/* Run a SELECT (from prepare()) whose first column is a 32-byte hash;
 * call fn per row; then give s back (done()). */
static int
each_hash(struct coord_state *st, sqlite3_stmt *s, const char *what,
    int (*fn)(const uint8_t h[32], void *arg), void *arg)
{
	int rc, r = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != 32) {
			r = coffer_errf(COFFER_E_FORMAT, "state: %s: a hash is not 32 "
			    "bytes", what);
			break;
		}
		if ((r = fn(sqlite3_column_blob(s, 0), arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = dberr(st, what);
	done(st, s);
	return r;
}

int
coord_state_policy_put(struct coord_state *st, const uint8_t hash[32],
    const uint8_t *previous, const char *jcs, size_t len)
{
	sqlite3_stmt *s = NULL;
	int r;

	st->book_serial++;
	if ((r = prepare(st, "INSERT INTO policies (hash, previous, jcs, "
	    "created_ms) VALUES (?1, ?2, ?3, ?4)", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	if (previous != NULL)
		sqlite3_bind_blob(s, 2, previous, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, jcs, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, coffer_wall_ms());
	return insert_done(st, s, "policy");
}

int
coord_state_policy_get(struct coord_state *st, const uint8_t hash[32],
    struct coffer_buf *out)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare(st, "SELECT jcs FROM policies WHERE hash = ?1", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = coffer_buf_put(out, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));
	else if (rc == SQLITE_DONE)
		r = COFFER_E_NOTFOUND;
	else
		r = dberr(st, "policy");
	done(st, s);
	return r;
}

int
coord_state_policy_each(struct coord_state *st,
    int (*fn)(const uint8_t hash[32], void *arg), void *arg)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st, "SELECT hash FROM policies ORDER BY rowid", &s)) != 0)
		return r;
	return each_hash(st, s, "policies", fn, arg);
}

struct successor {
	int64_t rowid;
	uint8_t hash[32];
};

static int
by_rowid(const void *a, const void *b)
{
	const struct successor *x = a, *y = b;

	return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

/*
 * The walk goes from the signers' approvals to the policies, never from
 * `previous` to its successors: anyone may store versions naming any
 * policy as previous, and approve them as an owner it added, but only the
 * owners of `previous` can sign approvals by its owners. INDEXED BY and
 * the unary + keep SQLite from starting at policies_previous, which would
 * visit every stored successor.
 */
int
coord_state_policy_successors(struct coord_state *st, const uint8_t previous[32],
    const uint8_t (*signers)[32], size_t nsigners,
    int (*fn)(const uint8_t hash[32], void *arg), void *arg)
{
	struct successor *v = NULL, *w;
	size_t n = 0, cap = 0, kept = 0;
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	for (size_t i = 0; i < nsigners && r == 0; i++) {
		if ((r = prepare(st, "SELECT p.rowid, p.hash FROM approvals AS a "
		    "INDEXED BY approvals_signer JOIN policies AS p ON p.hash = "
		    "a.policy WHERE a.signer = ?1 AND +p.previous = ?2", &s)) != 0)
			break;
		sqlite3_bind_blob(s, 1, signers[i], 32, SQLITE_STATIC);
		sqlite3_bind_blob(s, 2, previous, 32, SQLITE_STATIC);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			if (sqlite3_column_bytes(s, 1) != 32) {
				r = coffer_errf(COFFER_E_FORMAT, "state: policies: a "
				    "hash is not 32 bytes");
				break;
			}
			if (n == cap) {
				cap = cap == 0 ? 8 : cap * 2;
				if ((w = realloc(v, cap * sizeof(*v))) == NULL) {
					r = coffer_errf(COFFER_E_NOMEM, "state: "
					    "out of memory");
					break;
				}
				v = w;
			}
			v[n].rowid = sqlite3_column_int64(s, 0);
			memcpy(v[n++].hash, sqlite3_column_blob(s, 1), 32);
		}
		if (r == 0 && rc != SQLITE_DONE)
			r = dberr(st, "policies");
		done(st, s);
	}
	/* Oldest first, each once (several signers approved it). */
	if (n > 1)
		qsort(v, n, sizeof(*v), by_rowid);
	for (size_t i = 0; i < n && r == 0; i++) {
		if (kept > 0 && v[kept - 1].rowid == v[i].rowid)
			continue;
		v[kept++] = v[i];
		r = fn(v[i].hash, arg);
	}
	free(v);
	return r;
}

int
coord_state_approval_put(struct coord_state *st, const uint8_t policy[32],
    const uint8_t signer[32], uint64_t log_size, uint64_t min_size,
    const char *envelope, size_t len)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	/* A row that no longer counts (it names a head before a rollback) is
	 * replaced; one that counts stays: the same signer counts once. */
	st->book_serial++;
	if ((r = prepare(st, "INSERT INTO approvals (policy, signer, envelope, "
	    "created_ms, log_size) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (policy, signer) DO UPDATE SET envelope = excluded.envelope,"
	    " created_ms = excluded.created_ms, log_size = excluded.log_size "
	    "WHERE approvals.log_size < ?6", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, policy, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, signer, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, envelope, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, coffer_wall_ms());
	sqlite3_bind_int64(s, 5, (sqlite3_int64)log_size);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)min_size);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		r = dberr(st, "approval");
	else if (sqlite3_changes(st->h) == 0)
		r = coffer_errf(COFFER_E_EXISTS, "state: approval already stored");
	done(st, s);
	return r;
}

int
coord_state_approval_each(struct coord_state *st, const uint8_t policy[32],
    uint64_t min_size, int (*fn)(const uint8_t signer[32], void *arg), void *arg)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st, "SELECT signer FROM approvals WHERE "
	    "policy = ?1 AND log_size >= ?2", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, policy, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)min_size);
	return each_hash(st, s, "approvals", fn, arg);
}

int
coord_state_revocation_put(struct coord_state *st,
    const struct coord_revocation *rv, const char *envelope, size_t len)
{
	static const uint8_t none = 0;
	sqlite3_stmt *s = NULL;
	int r;

	st->book_serial++;
	if ((r = prepare(st, "INSERT INTO revocations (policy, signer, tee, "
	    "measurement, envelope, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, rv->policy, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, rv->signer, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, rv->tee != NULL ? rv->tee : "", -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, rv->tee != NULL ? rv->measurement : &none,
	    rv->tee != NULL ? (int)rv->measurement_len : 0, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, envelope, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, coffer_wall_ms());
	return insert_done(st, s, "revocation");
}

int
coord_state_revocation_each(struct coord_state *st, const uint8_t policy[32],
    int (*fn)(const struct coord_revocation *rv, void *arg), void *arg)
{
	struct coord_revocation rv;
	sqlite3_stmt *s = NULL;
	const char *tee;
	int r, rc;

	if ((r = prepare(st, "SELECT signer, tee, measurement FROM "
	    "revocations WHERE policy = ?1 ORDER BY seq", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, policy, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&rv, 0, sizeof(rv));
		memcpy(rv.policy, policy, 32);
		if (sqlite3_column_bytes(s, 0) != 32) {
			r = coffer_errf(COFFER_E_FORMAT, "state: revocations: bad signer");
			break;
		}
		memcpy(rv.signer, sqlite3_column_blob(s, 0), 32);
		tee = (const char *)sqlite3_column_text(s, 1);
		if (tee != NULL && tee[0] != '\0') {
			rv.tee = tee;
			rv.measurement = sqlite3_column_blob(s, 2);
			rv.measurement_len = (size_t)sqlite3_column_bytes(s, 2);
		}
		if ((r = fn(&rv, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = dberr(st, "revocations");
	done(st, s);
	return r;
}

int
coord_state_key_put(struct coord_state *st, const uint8_t key_id[16],
    const uint8_t policy[32], const uint8_t signer[32], const char *envelope,
    size_t len)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st, "INSERT INTO keys (key_id, policy, signer, envelope, "
	    "created_ms) VALUES (?1, ?2, ?3, ?4, ?5)", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, key_id, 16, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, policy, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, signer, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, envelope, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, coffer_wall_ms());
	return insert_done(st, s, "key");
}

int
coord_state_key_each(struct coord_state *st, const uint8_t key_id[16],
    int (*fn)(const uint8_t policy[32], const char *envelope, size_t len,
    void *arg), void *arg)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare(st, "SELECT policy, envelope FROM keys WHERE key_id = ?1",
	    &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, key_id, 16, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != 32) {
			r = coffer_errf(COFFER_E_FORMAT, "state: keys: bad policy");
			break;
		}
		if ((r = fn(sqlite3_column_blob(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1), arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = dberr(st, "keys");
	done(st, s);
	return r;
}

void
coord_job_release(struct coord_job *j)
{
	free(j->params);
	j->params = NULL;
}

int
coord_state_job_put(struct coord_state *st, const struct coord_job *j)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st, "INSERT INTO jobs (id, policy, app, params, items, "
	    "input_root, closed, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	    "?8)", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, j->id, 16, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, j->policy, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, j->app, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, j->params, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)j->items);
	sqlite3_bind_blob(s, 6, j->input_root, 32, SQLITE_STATIC);
	sqlite3_bind_int(s, 7, j->closed);
	sqlite3_bind_int64(s, 8, j->created_ms);
	return insert_done(st, s, "job");
}

int
coord_state_job_get(struct coord_state *st, const uint8_t id[16],
    struct coord_job *out)
{
	struct coord_job j;
	sqlite3_stmt *s = NULL;
	const char *app, *params;
	int r, rc;

	if ((r = prepare(st, "SELECT policy, app, params, items, input_root, "
	    "closed, created_ms FROM jobs WHERE id = ?1", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, id, 16, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = COFFER_E_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = dberr(st, "job");
		goto out;
	}
	memset(&j, 0, sizeof(j));
	memcpy(j.id, id, 16);
	app = (const char *)sqlite3_column_text(s, 1);
	params = (const char *)sqlite3_column_text(s, 2);
	if (sqlite3_column_bytes(s, 0) != 32 || sqlite3_column_bytes(s, 4) != 32 ||
	    app == NULL || strlen(app) >= sizeof(j.app) || params == NULL) {
		r = coffer_errf(COFFER_E_FORMAT, "state: a damaged job row");
		goto out;
	}
	memcpy(j.policy, sqlite3_column_blob(s, 0), 32);
	memcpy(j.input_root, sqlite3_column_blob(s, 4), 32);
	memcpy(j.app, app, strlen(app) + 1);
	j.items = (uint64_t)sqlite3_column_int64(s, 3);
	j.closed = sqlite3_column_int(s, 5);
	j.created_ms = sqlite3_column_int64(s, 6);
	if ((j.params = coffer_strdup(params)) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	*out = j;
out:
	done(st, s);
	return r;
}

/*
 * Sessions are written as lazy commits (doc/format/sealed-state.md section
 * 7.4): the commit is in the log (a kill -9 loses nothing) but not fsynced
 * before the answer, which would cost a disk flush per release (3 ms
 * here). A power failure may forget the last sessions: their workers' item
 * proofs are then refused as of an unknown session and they attest again;
 * nothing is released that was not allowed. Owners' writes stay durable.
 */
int
coord_state_session_put(struct coord_state *st, const struct coord_session *x)
{
	int r;

	if (st->in_tx)
		return session_insert(st, x);
	sealdb_set_durable(st->sdb, 0);
	r = session_insert(st, x);
	sealdb_set_durable(st->sdb, 1);
	if (r == 0)
		st->unsynced = 1;
	return r;
}

static int
session_insert(struct coord_state *st, const struct coord_session *x)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st, "INSERT INTO sessions (id, job, tee, measurement, "
	    "worker_pk, key, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, x->id, 16, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, x->job, 16, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, x->tee, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, x->measurement, (int)x->measurement_len,
	    SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, x->worker_pk, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, x->key, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, coffer_wall_ms());
	return insert_done(st, s, "session");
}

/* ------------------------------------------------------------------
 * The audit log's storage (audit.h builds the tree on it).
 */

int
coord_state_log_size(struct coord_state *st, uint64_t *n)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st->in_tx && st->tx_log_size != 0) {
		*n = st->tx_log_size;
		return 0;
	}
	if ((r = log_stmt(st, LOG_SIZE, "SELECT coalesce(max(idx) + 1, 0) FROM log",
	    &s)) != 0)
		return r;
	if (sqlite3_step(s) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(s, 0);
	else
		r = dberr(st, "log");
	sqlite3_reset(s);
	if (r == 0 && st->in_tx)
		st->tx_log_size = *n;
	return r;
}

struct coord_log_frontier *
coord_state_log_frontier(struct coord_state *st)
{
	return &st->frontier;
}

int
coord_state_log_entry_put(struct coord_state *st, uint64_t idx,
    const uint8_t *entry, size_t len)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = log_stmt(st, LOG_ENTRY_PUT, "INSERT INTO log (idx, entry) VALUES "
	    "(?1, ?2)", &s)) != 0)
		return r;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)idx);
	sqlite3_bind_blob(s, 2, entry, (int)len, SQLITE_STATIC);
	r = insert_step(st, s, "log entry");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s); /* entry is the caller's */
	/* The entries are appended in order: the size is known, or not. */
	st->tx_log_size = r == 0 && st->tx_log_size == idx ? idx + 1 : 0;
	return r;
}

int
coord_state_log_entry_get(struct coord_state *st, uint64_t idx,
    struct coffer_buf *out)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare(st, "SELECT entry FROM log WHERE idx = ?1", &s)) != 0)
		return r;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)idx);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = coffer_buf_put(out, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));
	else if (rc == SQLITE_DONE)
		r = coffer_errf(COFFER_E_NOTFOUND, "log entry %llu",
		    (unsigned long long)idx);
	else
		r = dberr(st, "log entry");
	done(st, s);
	return r;
}

int
coord_state_log_node_put(struct coord_state *st, unsigned level, uint64_t pos,
    const uint8_t hash[32])
{
	sqlite3_stmt *s = NULL;
	int r;

	if (level < 1 || level > 56 || pos >= (UINT64_C(1) << (56 - level)))
		return coffer_errf(COFFER_E_LIMIT, "log node (%u, %llu)", level,
		    (unsigned long long)pos);
	if ((r = log_stmt(st, LOG_NODE_PUT, "INSERT INTO log_tree (k, hash) "
	    "VALUES (?1, ?2)", &s)) != 0)
		return r;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)LOG_NODE_KEY(level, pos));
	sqlite3_bind_blob(s, 2, hash, 32, SQLITE_STATIC);
	r = insert_step(st, s, "log node");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int
coord_state_log_node_get(struct coord_state *st, unsigned level, uint64_t pos,
    uint8_t out[32])
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if (level < 1 || level > 56 || pos >= (UINT64_C(1) << (56 - level)))
		return coffer_errf(COFFER_E_FORMAT, "state: log node (%u, %llu) is "
		    "missing", level, (unsigned long long)pos);
	if ((r = log_stmt(st, LOG_NODE_GET, "SELECT hash FROM log_tree WHERE "
	    "k = ?1", &s)) != 0)
		return r;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)LOG_NODE_KEY(level, pos));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32)
		memcpy(out, sqlite3_column_blob(s, 0), 32);
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		r = coffer_errf(COFFER_E_FORMAT, "state: log node (%u, %llu) is "
		    "missing", level, (unsigned long long)pos);
	else
		r = dberr(st, "log node");
	sqlite3_reset(s);
	return r;
}

int
coord_state_log_rollback_put(struct coord_state *st, uint64_t size,
    const uint8_t root[32], uint64_t idx)
{
	sqlite3_stmt *s = NULL;
	int r;

	st->book_serial++;
	if ((r = prepare(st, "INSERT INTO log_rollbacks (size, root, idx) VALUES "
	    "(?1, ?2, ?3)", &s)) != 0)
		return r;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)size);
	sqlite3_bind_blob(s, 2, root, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)idx);
	return insert_done(st, s, "rollback");
}

/* The index of the rollback event of head (size, root) when root is not
 * NULL, else of the last one: COFFER_E_NOTFOUND if none. */
int
coord_state_log_rollback_get(struct coord_state *st, uint64_t size,
    const uint8_t *root, uint64_t *idx)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = root != NULL ? prepare(st, "SELECT idx FROM log_rollbacks WHERE "
	    "size = ?1 AND root = ?2", &s) : log_stmt(st, LOG_ROLLBACK_LAST,
	    "SELECT max(idx) FROM log_rollbacks HAVING count(*) > 0", &s)) != 0)
		return r;
	if (root != NULL) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)size);
		sqlite3_bind_blob(s, 2, root, 32, SQLITE_STATIC);
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*idx = (uint64_t)sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		r = COFFER_E_NOTFOUND;
	else
		r = dberr(st, "rollbacks");
	if (root != NULL)
		done(st, s);
	else
		sqlite3_reset(s);
	return r;
}

/* ------------------------------------------------------------------ */
/* Collateral */

int
coord_state_coll_put(struct coord_state *st, const struct coord_coll_row *row)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st, "INSERT INTO collateral (sha256, name, kind, slot, "
	    "eval_num, issued, expires, data, created_ms) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9)", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, row->sha256, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, row->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, row->kind);
	sqlite3_bind_text(s, 4, row->slot, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)row->eval_num);
	sqlite3_bind_int64(s, 6, row->issued);
	sqlite3_bind_int64(s, 7, row->expires);
	sqlite3_bind_blob(s, 8, row->data, (int)row->len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, coffer_wall_ms());
	return insert_done(st, s, "collateral");
}

int
coord_state_coll_delete(struct coord_state *st, const uint8_t sha256[32])
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st, "DELETE FROM collateral WHERE sha256 = ?1", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, sha256, 32, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_DONE ? 0 : dberr(st, "collateral");
	done(st, s);
	return r;
}

int
coord_state_coll_each(struct coord_state *st, int with_data,
    int (*fn)(const struct coord_coll_row *row, void *arg), void *arg)
{
	struct coord_coll_row row;
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int r, rc;

	/* Without the bytes, only their length: listings need no more. */
	if ((r = prepare(st, with_data ? "SELECT sha256, name, kind, slot, "
	    "eval_num, issued, expires, data, created_ms FROM collateral ORDER BY "
	    "seq" : "SELECT sha256, name, kind, slot, eval_num, issued, expires, "
	    "length(data), created_ms FROM collateral ORDER BY seq", &s)) != 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		if (sqlite3_column_bytes(s, 0) != 32) {
			r = coffer_errf(COFFER_E_FORMAT, "state: collateral: bad sha256");
			break;
		}
		memcpy(row.sha256, sqlite3_column_blob(s, 0), 32);
		t = sqlite3_column_text(s, 1);
		snprintf(row.name, sizeof(row.name), "%s", t != NULL ? (const char *)t : "");
		row.kind = sqlite3_column_int(s, 2);
		t = sqlite3_column_text(s, 3);
		snprintf(row.slot, sizeof(row.slot), "%s", t != NULL ? (const char *)t : "");
		row.eval_num = (uint32_t)sqlite3_column_int64(s, 4);
		row.issued = sqlite3_column_int64(s, 5);
		row.expires = sqlite3_column_int64(s, 6);
		if (with_data) {
			row.data = sqlite3_column_blob(s, 7);
			row.len = (size_t)sqlite3_column_bytes(s, 7);
		} else {
			row.len = (size_t)sqlite3_column_int64(s, 7);
		}
		row.created_ms = sqlite3_column_int64(s, 8);
		if ((r = fn(&row, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = dberr(st, "collateral");
	done(st, s);
	return r;
}
