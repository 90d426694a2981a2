// SPDX-License-Identifier: Apache-2.0
// The coordinator's state on SQLite (state.h). WAL with synchronous=FULL:
// an answer the coordinator sends (an approval accepted, a key stored) is
// on disk before the client reads it, so a kill -9 or a power loss never
// forgets what an owner was told had happened.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "coffer/error.h"
#include "coordinator/state.h"
#include "lib/mem.h"

struct coord_state {
	sqlite3 *h;
	int in_tx;
};

static int
dberr(struct coord_state *st, const char *what)
{
	return coffer_errf(COFFER_E_DB, "state: %s: %s", what,
	    sqlite3_errmsg(st->h));
}

static int
exec(struct coord_state *st, const char *sql)
{
	char *msg = NULL;
	int r;

	if (sqlite3_exec(st->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		r = coffer_errf(COFFER_E_DB, "state: %s", msg ? msg : "exec failed");
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

static int
prepare(struct coord_state *st, const char *sql, sqlite3_stmt **stmt)
{
	if (sqlite3_prepare_v2(st->h, sql, -1, stmt, NULL) != SQLITE_OK)
		return dberr(st, "prepare");
	return 0;
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
    " CHECK (length(secret) = 32));";

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
	sqlite3_finalize(s);
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
	sqlite3_finalize(s);
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
	return 0;
}

int
coord_state_open(const char *dir, struct coord_state **out)
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
	if (sqlite3_open_v2(path, &st->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = coffer_errf(COFFER_E_DB, "state %s: %s", path,
		    st->h ? sqlite3_errmsg(st->h) : "cannot open");
		goto out;
	}
	if ((r = exec(st, "PRAGMA journal_mode=WAL;")) != 0 ||
	    (r = exec(st, "PRAGMA synchronous=FULL;")) != 0 ||
	    (r = exec(st, "PRAGMA foreign_keys=ON;")) != 0 ||
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
	if (st->h != NULL)
		sqlite3_close(st->h);
	free(st);
}

int
coord_state_begin(struct coord_state *st)
{
	int r;

	if (st->in_tx)
		return coffer_errf(COFFER_E_INTERNAL, "state: nested transaction");
	if ((r = exec(st, "BEGIN IMMEDIATE;")) != 0)
		return r;
	st->in_tx = 1;
	return 0;
}

int
coord_state_commit(struct coord_state *st)
{
	int r;

	if (!st->in_tx)
		return coffer_errf(COFFER_E_INTERNAL, "state: commit outside a "
		    "transaction");
	if ((r = exec(st, "COMMIT;")) != 0)
		return r;
	st->in_tx = 0;
	return 0;
}

void
coord_state_rollback(struct coord_state *st)
{
	if (!st->in_tx)
		return;
	(void)!exec(st, "ROLLBACK;");
	st->in_tx = 0;
}

int
coord_state_identity_get(struct coord_state *st, struct coffer_identity *id)
{
	sqlite3_stmt *s = NULL;
	const void *p;
	int r, rc, n;

	if ((r = prepare(st, "SELECT secret FROM identity WHERE id = 1", &s)) != 0)
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
	sqlite3_finalize(s);
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
	if ((r = prepare(st, "INSERT INTO identity (id, secret, created_ms) "
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
	sqlite3_finalize(s);
	coffer_buf_release(&b);
	return r;
}

int
coord_state_root_get(struct coord_state *st, uint8_t out[32])
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare(st, "SELECT secret FROM root WHERE id = 1", &s)) != 0)
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
	sqlite3_finalize(s);
	return r;
}

int
coord_state_root_put(struct coord_state *st, const uint8_t root[32])
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare(st, "INSERT INTO root (id, secret) VALUES (1, ?1)", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, root, 32, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		r = coffer_errf(COFFER_E_EXISTS, "state: a root secret is already "
		    "stored");
	else if (rc != SQLITE_DONE)
		r = dberr(st, "root");
	sqlite3_finalize(s);
	return r;
}
