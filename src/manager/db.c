// SPDX-License-Identifier: Apache-2.0
// The job store (db.h) on SQLite. WAL with synchronous=NORMAL: a commit is
// durable once the WAL is synced at a checkpoint, and a crash of the
// manager (kill -9) loses nothing committed, since the WAL is in the file
// system; a power loss may lose the last ticks of a timeline, which the
// monitor rebuilds from the queue (the queue is the source of truth).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "lib/num.h"
#include "manager/db.h"
#include "http/jsonout.h"

struct mgr_db {
	sqlite3 *h;
};

/* For an I/O error, ": FILE: <errno text>" (with what to do when the
 * disk is full), since SQLite says only "disk I/O error" or "database
 * or disk is full"; else "". */
static const char *
io_detail(struct mgr_db *db, char *buf, size_t len)
{
	int code = sqlite3_errcode(db->h) & 0xff, e = sqlite3_system_errno(db->h);
	const char *f = sqlite3_db_filename(db->h, "main");

	buf[0] = '\0';
	if ((code == SQLITE_IOERR || code == SQLITE_FULL ||
	    code == SQLITE_CANTOPEN) && e != 0)
		snprintf(buf, len, ": %s: %s%s", f != NULL && f[0] != '\0' ? f :
		    "job store", strerror(e), coffer_file_full_hint(e));
	/* A damaged file (a disk that lost writes, a copy cut short): which
	 * one, and what to do, rather than SQLite's words alone. */
	else if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		snprintf(buf, len, ": %s is damaged: keep a copy of it, then "
		    "'sqlite3 %s .recover | sqlite3 NEW.db' and use NEW.db as the "
		    "job store, or move it aside to start with no jobs and no "
		    "tokens", f != NULL && f[0] != '\0' ? f : "the job store file",
		    f != NULL && f[0] != '\0' ? f : "FILE");
	return buf;
}

static int
dberr(struct mgr_db *db, const char *what)
{
	char io[600];

	return coffer_errf(COFFER_E_DB, "job store: %s: %s%s", what,
	    sqlite3_errmsg(db->h), io_detail(db, io, sizeof(io)));
}

static int
exec(struct mgr_db *db, const char *sql)
{
	char *msg = NULL, io[600];
	int r;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		r = coffer_errf(COFFER_E_DB, "job store: %s%s", msg ? msg :
		    "exec failed", io_detail(db, io, sizeof(io)));
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

static int
prepare(struct mgr_db *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
		return dberr(db, "prepare");
	return 0;
}

/* Run a statement that returns no rows, then finalise it. */
static int
step_done(struct mgr_db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st), r = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = dberr(db, what);
	sqlite3_finalize(st);
	return r;
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL,"
    " hash BLOB NOT NULL UNIQUE, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS jobs ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
    " kind TEXT NOT NULL, state TEXT NOT NULL, reason TEXT,"
    " spec TEXT NOT NULL, notes TEXT, redis_url TEXT NOT NULL,"
    " submitted_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL DEFAULT 0,"
    " finished_ms INTEGER NOT NULL DEFAULT 0, loaded INTEGER NOT NULL DEFAULT 0,"
    " total INTEGER NOT NULL DEFAULT -1);"
    "CREATE TABLE IF NOT EXISTS samples ("
    " job_id TEXT NOT NULL, seq INTEGER NOT NULL, t_s REAL NOT NULL,"
    " total INTEGER, done INTEGER, failed INTEGER, in_flight INTEGER,"
    " queued INTEGER, progress REAL, time_progress REAL, error REAL,"
    " replicas INTEGER, ready INTEGER, desired INTEGER, throughput REAL,"
    " throughput_per_replica REAL, replica_seconds REAL, eta_s REAL,"
    " lateness_s REAL, PRIMARY KEY (job_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS decisions ("
    " job_id TEXT NOT NULL, seq INTEGER NOT NULL, t_s REAL NOT NULL,"
    " from_replicas INTEGER, decided INTEGER, to_replicas INTEGER,"
    " flags INTEGER, rc INTEGER, reason TEXT, inputs TEXT,"
    " PRIMARY KEY (job_id, seq)) WITHOUT ROWID;";

int
mgr_db_open(const char *path, struct mgr_db **out)
{
	struct mgr_db *db = NULL;
	char ver[32];
	int v, r;

	if ((db = coffer_calloc(1, sizeof(*db))) == NULL)
		return COFFER_E_NOMEM;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		r = coffer_errf(COFFER_E_DB, "job store %s: %s", path,
		    db->h ? sqlite3_errmsg(db->h) : "cannot open");
		goto out;
	}
	/* The CLI (token create) and the daemon may use the file at once. */
	sqlite3_busy_timeout(db->h, 5000);
	if ((r = exec(db, "PRAGMA journal_mode=WAL;")) != 0 ||
	    (r = exec(db, "PRAGMA synchronous=NORMAL;")) != 0 ||
	    (r = exec(db, "PRAGMA foreign_keys=ON;")) != 0 ||
	    (r = exec(db, schema)) != 0)
		goto out;
	r = mgr_db_meta_get(db, "schema_version", ver, sizeof(ver));
	if (r == COFFER_E_NOTFOUND) {
		snprintf(ver, sizeof(ver), "%d", MGR_DB_SCHEMA_VERSION);
		if ((r = mgr_db_meta_set(db, "schema_version", ver)) != 0)
			goto out;
	} else if (r != 0) {
		goto out;
	} else {
		if (coffer_parse_int(ver, 1, 1000000, &v) != 0) {
			r = coffer_errf(COFFER_E_FORMAT,
			    "job store %s: bad schema_version '%s'", path, ver);
			goto out;
		}
		if (v > MGR_DB_SCHEMA_VERSION) {
			r = coffer_errf(COFFER_E_VERSION,
			    "job store %s: schema version %d is newer than this "
			    "manager's %d", path, v, MGR_DB_SCHEMA_VERSION);
			goto out;
		}
	}
	*out = db;
	db = NULL;
	r = 0;
out:
	mgr_db_close(db);
	return r;
}

void
mgr_db_close(struct mgr_db *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->h);
	free(db);
}

int
mgr_db_meta_get(struct mgr_db *db, const char *key, char *out, size_t outlen)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	int rc, r;

	if ((r = prepare(db, "SELECT value FROM meta WHERE key = ?", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(st, 0);
		if (v == NULL || strlen((const char *)v) >= outlen)
			r = coffer_errf(COFFER_E_LIMIT, "meta %s: value too long", key);
		else
			memcpy(out, v, strlen((const char *)v) + 1);
	} else if (rc == SQLITE_DONE) {
		r = COFFER_E_NOTFOUND;
	} else {
		r = dberr(db, "meta get");
	}
	sqlite3_finalize(st);
	return r;
}

int
mgr_db_meta_set(struct mgr_db *db, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prepare(db, "INSERT INTO meta (key, value) VALUES (?, ?) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return step_done(db, st, "meta set");
}

static const char *
scope_name(enum http_scope s)
{
	return s == HTTP_SCOPE_ADMIN ? "admin" : "read";
}

int
mgr_db_token_add(struct mgr_db *db, const char *name, enum http_scope scope,
    const uint8_t hash[MGR_TOKEN_HASH_LEN])
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prepare(db, "INSERT INTO tokens (name, scope, hash, created_ms) "
	    "VALUES (?, ?, ?, ?)", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, scope_name(scope), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hash, MGR_TOKEN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, coffer_wall_ms());
	return step_done(db, st, "token add");
}

int
mgr_db_token_find(struct mgr_db *db, const uint8_t hash[MGR_TOKEN_HASH_LEN],
    int64_t *id, char *name, size_t namelen, enum http_scope *scope)
{
	sqlite3_stmt *st = NULL;
	enum http_scope found = HTTP_SCOPE_NONE;
	int64_t fid = 0;
	char fname[256] = "";
	int rc, r, match = 0;

	/* Compare with every stored digest, without stopping at a match and
	 * without letting SQLite compare (its memcmp stops early). */
	if ((r = prepare(db, "SELECT hash, scope, id, name FROM tokens", &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(st, 0);
		const char *sc = (const char *)sqlite3_column_text(st, 1);
		const char *nm = (const char *)sqlite3_column_text(st, 3);
		int eq;

		if (h == NULL || sqlite3_column_bytes(st, 0) != MGR_TOKEN_HASH_LEN)
			continue;
		eq = CRYPTO_memcmp(h, hash, MGR_TOKEN_HASH_LEN) == 0;
		if (eq) {
			match = 1;
			found = sc != NULL && strcmp(sc, "admin") == 0 ?
			    HTTP_SCOPE_ADMIN : HTTP_SCOPE_READ;
			fid = sqlite3_column_int64(st, 2);
			snprintf(fname, sizeof(fname), "%s", nm != NULL ? nm : "");
		}
	}
	if (rc != SQLITE_DONE)
		r = dberr(db, "token check");
	sqlite3_finalize(st);
	if (r != 0)
		return r;
	if (!match)
		return COFFER_E_AUTH;
	*scope = found;
	if (id != NULL)
		*id = fid;
	if (name != NULL && namelen > 0)
		snprintf(name, namelen, "%s", fname);
	return 0;
}

int
mgr_db_token_check(struct mgr_db *db, const uint8_t hash[MGR_TOKEN_HASH_LEN],
    enum http_scope *scope)
{
	return mgr_db_token_find(db, hash, NULL, NULL, 0, scope);
}

int
mgr_db_token_revoke(struct mgr_db *db, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prepare(db, "DELETE FROM tokens WHERE id = ?", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	if ((r = step_done(db, st, "token revoke")) != 0)
		return r;
	if (sqlite3_changes(db->h) == 0)
		return coffer_errf(COFFER_E_NOTFOUND, "no token %lld", (long long)id);
	return 0;
}

int
mgr_db_token_list(struct mgr_db *db, void (*fn)(int64_t id, const char *name,
    const char *scope, int64_t created_ms, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = prepare(db, "SELECT id, name, scope, created_ms FROM tokens "
	    "ORDER BY id", &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    sqlite3_column_int64(st, 3), arg);
	if (rc != SQLITE_DONE)
		r = dberr(db, "token list");
	sqlite3_finalize(st);
	return r;
}

void
mgr_job_rec_release(struct mgr_job_rec *j)
{
	free(j->reason);
	free(j->spec);
	free(j->notes);
	free(j->redis_url);
	memset(j, 0, sizeof(*j));
}

static void
bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int
mgr_db_job_insert(struct mgr_db *db, const struct mgr_job_rec *j)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = prepare(db, "INSERT INTO jobs (id, kind, state, reason, spec, "
	    "notes, redis_url, submitted_ms, started_ms, finished_ms, loaded) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, j->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, j->state, -1, SQLITE_STATIC);
	bind_text_or_null(st, 4, j->reason);
	sqlite3_bind_text(st, 5, j->spec, -1, SQLITE_STATIC);
	bind_text_or_null(st, 6, j->notes);
	sqlite3_bind_text(st, 7, j->redis_url, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, j->submitted_ms);
	sqlite3_bind_int64(st, 9, j->started_ms);
	sqlite3_bind_int64(st, 10, j->finished_ms);
	sqlite3_bind_int(st, 11, j->loaded);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT)
		r = coffer_errf(COFFER_E_EXISTS, "job %s already exists", j->id);
	else if (rc != SQLITE_DONE)
		r = dberr(db, "job insert");
	sqlite3_finalize(st);
	return r;
}

int
mgr_db_job_set_state(struct mgr_db *db, const char *id, const char *state,
    const char *reason, int64_t started_ms, int64_t finished_ms)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prepare(db, "UPDATE jobs SET state = ?, "
	    "reason = COALESCE(?, reason), "
	    "started_ms = CASE WHEN ? > 0 THEN ? ELSE started_ms END, "
	    "finished_ms = CASE WHEN ? > 0 THEN ? ELSE finished_ms END "
	    "WHERE id = ?", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, reason);
	sqlite3_bind_int64(st, 3, started_ms);
	sqlite3_bind_int64(st, 4, started_ms);
	sqlite3_bind_int64(st, 5, finished_ms);
	sqlite3_bind_int64(st, 6, finished_ms);
	sqlite3_bind_text(st, 7, id, -1, SQLITE_STATIC);
	return step_done(db, st, "job state");
}

int
mgr_db_job_set_loaded(struct mgr_db *db, const char *id, int64_t total)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prepare(db, "UPDATE jobs SET loaded = 1, total = ? WHERE id = ?",
	    &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, total);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return step_done(db, st, "job loaded");
}

int
mgr_db_job_delete(struct mgr_db *db, const char *id)
{
	static const char *const sql[] = {
		"DELETE FROM samples WHERE job_id = ?",
		"DELETE FROM decisions WHERE job_id = ?",
		"DELETE FROM jobs WHERE id = ?",
	};
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = exec(db, "BEGIN")) != 0)
		return r;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if ((r = prepare(db, sql[i], &st)) != 0)
			break;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if ((r = step_done(db, st, "job delete")) != 0)
			break;
	}
	if (r != 0) {
		(void)exec(db, "ROLLBACK");
		return r;
	}
	return exec(db, "COMMIT");
}

static int
dup_col(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	*out = NULL;
	if (t == NULL)
		return 0;
	if ((*out = coffer_strdup((const char *)t)) == NULL)
		return COFFER_E_NOMEM;
	return 0;
}

static int
copy_col(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	if (t == NULL || strlen((const char *)t) >= outlen)
		return coffer_errf(COFFER_E_FORMAT,
		    "job store: column %d is missing or too long", i);
	memcpy(out, t, strlen((const char *)t) + 1);
	return 0;
}

int
mgr_db_jobs_foreach(struct mgr_db *db,
    int (*fn)(const struct mgr_job_rec *j, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	struct mgr_job_rec j;
	int rc, r;

	if ((r = prepare(db, "SELECT id, kind, state, reason, spec, notes, "
	    "redis_url, submitted_ms, started_ms, finished_ms, loaded, total "
	    "FROM jobs ORDER BY seq", &st)) != 0)
		return r;
	memset(&j, 0, sizeof(j));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = copy_col(st, 0, j.id, sizeof(j.id))) != 0 ||
		    (r = copy_col(st, 1, j.kind, sizeof(j.kind))) != 0 ||
		    (r = copy_col(st, 2, j.state, sizeof(j.state))) != 0 ||
		    (r = dup_col(st, 3, &j.reason)) != 0 ||
		    (r = dup_col(st, 4, &j.spec)) != 0 ||
		    (r = dup_col(st, 5, &j.notes)) != 0 ||
		    (r = dup_col(st, 6, &j.redis_url)) != 0)
			break;
		if (j.spec == NULL || j.redis_url == NULL) {
			r = coffer_errf(COFFER_E_FORMAT,
			    "job store: job %s has no spec or queue", j.id);
			break;
		}
		j.submitted_ms = sqlite3_column_int64(st, 7);
		j.started_ms = sqlite3_column_int64(st, 8);
		j.finished_ms = sqlite3_column_int64(st, 9);
		j.loaded = sqlite3_column_int(st, 10);
		j.total = sqlite3_column_int64(st, 11);
		r = fn(&j, arg);
		mgr_job_rec_release(&j);
		if (r != 0)
			break;
	}
	mgr_job_rec_release(&j);
	if (r == 0 && rc != SQLITE_DONE)
		r = dberr(db, "job list");
	sqlite3_finalize(st);
	return r;
}

#define SAMPLE_COLS "t_s, total, done, failed, in_flight, queued, progress, " \
	"time_progress, error, replicas, ready, desired, throughput, " \
	"throughput_per_replica, replica_seconds, eta_s, lateness_s"

int
mgr_db_sample_add(struct mgr_db *db, const char *id, int64_t seq,
    const struct mgr_sample *s)
{
	sqlite3_stmt *st = NULL;
	int r, i = 1;

	if ((r = prepare(db, "INSERT OR REPLACE INTO samples (job_id, seq, "
	    SAMPLE_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?)", &st)) != 0)
		return r;
	sqlite3_bind_text(st, i++, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, seq);
	sqlite3_bind_double(st, i++, s->t_s);
	sqlite3_bind_int64(st, i++, s->c.total);
	sqlite3_bind_int64(st, i++, s->c.done);
	sqlite3_bind_int64(st, i++, s->c.failed);
	sqlite3_bind_int64(st, i++, s->c.in_flight);
	sqlite3_bind_int64(st, i++, s->c.queued);
	sqlite3_bind_double(st, i++, s->progress);
	sqlite3_bind_double(st, i++, s->time_progress);
	sqlite3_bind_double(st, i++, s->error);
	sqlite3_bind_int(st, i++, s->replicas);
	sqlite3_bind_int(st, i++, s->ready);
	sqlite3_bind_int(st, i++, s->desired);
	sqlite3_bind_double(st, i++, s->throughput);
	sqlite3_bind_double(st, i++, s->throughput_per_replica);
	sqlite3_bind_double(st, i++, s->replica_seconds);
	sqlite3_bind_double(st, i++, s->eta_s);
	sqlite3_bind_double(st, i++, s->lateness_s);
	return step_done(db, st, "sample add");
}

static void
read_sample(sqlite3_stmt *st, int base, struct mgr_sample *s)
{
	int i = base;

	memset(s, 0, sizeof(*s));
	s->t_s = sqlite3_column_double(st, i++);
	s->c.total = sqlite3_column_int64(st, i++);
	s->c.done = sqlite3_column_int64(st, i++);
	s->c.failed = sqlite3_column_int64(st, i++);
	s->c.in_flight = sqlite3_column_int64(st, i++);
	s->c.queued = sqlite3_column_int64(st, i++);
	s->progress = sqlite3_column_double(st, i++);
	s->time_progress = sqlite3_column_double(st, i++);
	s->error = sqlite3_column_double(st, i++);
	s->replicas = sqlite3_column_int(st, i++);
	s->ready = sqlite3_column_int(st, i++);
	s->desired = sqlite3_column_int(st, i++);
	s->throughput = sqlite3_column_double(st, i++);
	s->throughput_per_replica = sqlite3_column_double(st, i++);
	s->replica_seconds = sqlite3_column_double(st, i++);
	s->eta_s = sqlite3_column_double(st, i++);
	s->lateness_s = sqlite3_column_double(st, i++);
}

int
mgr_db_sample_last(struct mgr_db *db, const char *id, struct mgr_sample *s,
    int64_t *seq, int64_t *count)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = prepare(db, "SELECT seq, " SAMPLE_COLS ", (SELECT COUNT(*) FROM "
	    "samples WHERE job_id = ?1) FROM samples WHERE job_id = ?1 "
	    "ORDER BY seq DESC LIMIT 1", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		read_sample(st, 1, s);
		*count = sqlite3_column_int64(st, 18);
	} else if (rc == SQLITE_DONE) {
		r = COFFER_E_NOTFOUND;
	} else {
		r = dberr(db, "sample last");
	}
	sqlite3_finalize(st);
	return r;
}

int
mgr_db_samples_thin(struct mgr_db *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	int r;

	/* Rank the samples by seq; drop the even ranks of the older half. The
	 * newest half keeps full resolution, older data halves each time. */
	if ((r = prepare(db, "DELETE FROM samples WHERE job_id = ?1 AND seq IN ("
	    " SELECT seq FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS rn,"
	    " COUNT(*) OVER () AS n FROM samples WHERE job_id = ?1)"
	    " WHERE rn % 2 = 0 AND rn <= n / 2)", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return step_done(db, st, "sample thin");
}

json_t *
mgr_sample_json(const struct mgr_sample *s)
{
	/* Numbers through jsonout.h: one non-finite value must not make the
	 * sample, and with it the whole timeline, fail. */
	return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:i, "
	    "s:i, s:i, s:o, s:o, s:o, s:o, s:o}",
	    "t_s", http_json_real(s->t_s),
	    "total", (json_int_t)s->c.total,
	    "done", (json_int_t)s->c.done,
	    "failed", (json_int_t)s->c.failed,
	    "in_flight", (json_int_t)s->c.in_flight,
	    "queued", (json_int_t)s->c.queued,
	    "progress", http_json_real(s->progress),
	    "time_progress", http_json_real(s->time_progress),
	    "error", http_json_real(s->error),
	    "replicas", s->replicas,
	    "ready", s->ready,
	    "desired", s->desired,
	    "throughput", http_json_real(s->throughput),
	    "throughput_per_replica", http_json_real(s->throughput_per_replica),
	    "replica_seconds", http_json_real(s->replica_seconds),
	    "eta_s", http_json_real_or_null(s->eta_s),
	    "lateness_s", http_json_real_or_null(s->lateness_s));
}

int
mgr_db_samples_json(struct mgr_db *db, const char *id, int64_t since,
    int limit, json_t *arr)
{
	sqlite3_stmt *st = NULL;
	struct mgr_sample s;
	int rc, r;

	if ((r = prepare(db, "SELECT seq, " SAMPLE_COLS " FROM samples WHERE "
	    "job_id = ? AND seq > ? ORDER BY seq LIMIT ?", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o;

		read_sample(st, 1, &s);
		if ((o = mgr_sample_json(&s)) == NULL ||
		    json_object_set_new(o, "seq",
		    json_integer(sqlite3_column_int64(st, 0))) != 0 ||
		    json_array_append_new(arr, o) != 0) {
			r = COFFER_E_NOMEM;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = dberr(db, "samples");
	sqlite3_finalize(st);
	return r;
}

int
mgr_db_samples_foreach(struct mgr_db *db, const char *id,
    int (*fn)(const struct mgr_sample *s, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	struct mgr_sample smp;
	int rc, r;

	if ((r = prepare(db, "SELECT seq, " SAMPLE_COLS " FROM samples WHERE "
	    "job_id = ? ORDER BY seq", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_sample(st, 1, &smp);
		if ((r = fn(&smp, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = dberr(db, "samples");
	sqlite3_finalize(st);
	return r;
}

int
mgr_db_decision_add(struct mgr_db *db, const char *id, int64_t seq,
    const struct mgr_decision *d)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prepare(db, "INSERT OR REPLACE INTO decisions (job_id, seq, t_s, "
	    "from_replicas, decided, to_replicas, flags, rc, reason, inputs) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_double(st, 3, d->t_s);
	sqlite3_bind_int(st, 4, d->from);
	sqlite3_bind_int(st, 5, d->decided);
	sqlite3_bind_int(st, 6, d->to);
	sqlite3_bind_int64(st, 7, d->flags);
	sqlite3_bind_int(st, 8, d->rc);
	sqlite3_bind_text(st, 9, d->reason, -1, SQLITE_STATIC);
	bind_text_or_null(st, 10, d->inputs);
	return step_done(db, st, "decision add");
}

int
mgr_db_decision_last_seq(struct mgr_db *db, const char *id, int64_t *seq)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = prepare(db, "SELECT COALESCE(MAX(seq), 0) FROM decisions "
	    "WHERE job_id = ?", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	else
		r = dberr(db, "decision seq");
	sqlite3_finalize(st);
	return r;
}

int
mgr_db_decisions_json(struct mgr_db *db, const char *id, int64_t since,
    int limit, json_t *arr)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = prepare(db, "SELECT seq, t_s, from_replicas, decided, "
	    "to_replicas, flags, rc, reason, inputs FROM decisions WHERE "
	    "job_id = ? AND seq > ? ORDER BY seq LIMIT ?", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *in = (const char *)sqlite3_column_text(st, 8);
		const char *reason = (const char *)sqlite3_column_text(st, 7);
		json_t *inputs = NULL, *o;

		if (in != NULL)
			inputs = json_loads(in, 0, NULL);
		/* The reason is a controller's (a plugin's) free text. */
		o = json_pack("{s:I, s:o, s:i, s:i, s:i, s:b, s:I, s:i, s:o, s:o}",
		    "seq", (json_int_t)sqlite3_column_int64(st, 0),
		    "t_s", http_json_real(sqlite3_column_double(st, 1)),
		    "from", sqlite3_column_int(st, 2),
		    "decided", sqlite3_column_int(st, 3),
		    "to", sqlite3_column_int(st, 4),
		    "clamped", sqlite3_column_int(st, 3) != sqlite3_column_int(st, 4),
		    "flags", (json_int_t)sqlite3_column_int64(st, 5),
		    "rc", sqlite3_column_int(st, 6),
		    "reason", http_json_str(reason != NULL ? reason : ""),
		    "inputs", inputs != NULL ? inputs : json_null());
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			r = COFFER_E_NOMEM;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = dberr(db, "decisions");
	sqlite3_finalize(st);
	return r;
}
