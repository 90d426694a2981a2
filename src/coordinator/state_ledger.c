// SPDX-License-Identifier: Apache-2.0
// The ledger's tables in the coordinator's state (state.h, "The ledger of
// item proofs"). Each logged proof is one row keyed by (job, log index),
// written in the transaction of its log entry, with its outcome and
// reason; the proof's bytes are those of the entry (its `proof` member),
// read back with it, so that the ledger rebuilt from these rows after a
// restart is exactly the one whose answers were sent. The statements of
// the hot path are prepared once per handle.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/state_int.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/auditlog.h"

static const char schema[] =
    /* outcome: 1 committed ... 5 refused (item-proof.md section 8);
     * reason: the refusal's code, else 0; idx: the `proof` entry's. */
    "CREATE TABLE IF NOT EXISTS ledger_log ("
    " job BLOB NOT NULL, idx INTEGER NOT NULL, outcome INTEGER NOT NULL,"
    " reason INTEGER NOT NULL, PRIMARY KEY (job, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS ledger_jobs ("
    " job BLOB PRIMARY KEY REFERENCES jobs (id),"
    " map_closed INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,"
    " failed INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',"
    " receipt TEXT, closed_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS sessions_job ON sessions (job);";

/* A state written before 2026-12-07 kept each proof's bytes in table
 * ledger_proofs as well as in its log entry: its rows move to ledger_log,
 * in one transaction, at the first start. */
static const char migrate[] =
    "BEGIN IMMEDIATE;"
    "INSERT INTO ledger_log (job, idx, outcome, reason)"
    " SELECT job, idx, outcome, reason FROM ledger_proofs;"
    "DROP TABLE ledger_proofs;"
    "COMMIT;";

struct coord_state_ledger {
	struct coord_state *st;
	sqlite3 *h;
	sqlite3_stmt *put;   /* INSERT INTO ledger_log */
};

int
coord_state_ledger_open(struct coord_state *st, struct coord_state_ledger **out)
{
	struct coord_state_ledger *ls;
	char *msg = NULL;
	int r;

	if ((ls = coffer_calloc(1, sizeof(*ls))) == NULL)
		return COFFER_E_NOMEM;
	ls->st = st;
	ls->h = coord_state_sqlite(st);
	if (sqlite3_exec(ls->h, schema, NULL, NULL, &msg) != SQLITE_OK ||
	    (sqlite3_table_column_metadata(ls->h, NULL, "ledger_proofs", "proof",
	    NULL, NULL, NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_exec(ls->h, migrate, NULL, NULL, &msg) != SQLITE_OK)) {
		r = coffer_errf(COFFER_E_DB, "state: ledger tables: %s",
		    msg != NULL ? msg : "exec failed");
		sqlite3_free(msg);
		(void)sqlite3_exec(ls->h, "ROLLBACK;", NULL, NULL, NULL);
		free(ls);
		return r;
	}
	if (sqlite3_prepare_v3(ls->h, "INSERT INTO ledger_log (job, idx, "
	    "outcome, reason) VALUES (?1, ?2, ?3, ?4)", -1,
	    SQLITE_PREPARE_PERSISTENT, &ls->put, NULL) != SQLITE_OK) {
		r = coord_state_dberr(st, "ledger");
		free(ls);
		return r;
	}
	*out = ls;
	return 0;
}

void
coord_state_ledger_close(struct coord_state_ledger *ls)
{
	if (ls == NULL)
		return;
	sqlite3_finalize(ls->put);
	free(ls);
}

static int
prepare(struct coord_state_ledger *ls, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(ls->h, sql, -1, s, NULL) != SQLITE_OK)
		return coord_state_dberr(ls->st, "ledger");
	return 0;
}

int
coord_state_proof_put(struct coord_state_ledger *ls, const uint8_t job[16],
    const struct coord_proof_rec *p)
{
	sqlite3_stmt *s = ls->put;
	int rc;

	sqlite3_bind_blob(s, 1, job, 16, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)p->log_index);
	sqlite3_bind_int(s, 3, p->outcome);
	sqlite3_bind_int(s, 4, p->reason);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : coord_state_dberr(ls->st, "ledger proof");
}

/* The 184 bytes of the `proof` entry of job (audit-log.md section 4: its
 * `proof` member, base64url). */
static int
entry_proof(const void *entry, size_t len, const uint8_t job[16],
    uint8_t out[184])
{
	json_t *root = NULL, *v;
	char hex[33];
	int ok;

	coffer_hex_encode(job, 16, hex);
	if (coffer_json_parse(entry, len, COFFER_AUDITLOG_ENTRY_MAX, 2, &root) != 0)
		return coffer_errf(COFFER_E_FORMAT, "state: a ledger row's log entry "
		    "is not JSON");
	ok = (v = json_object_get(root, "event")) != NULL && json_is_string(v) &&
	    strcmp(json_string_value(v), "proof") == 0 &&
	    (v = json_object_get(root, "job")) != NULL && json_is_string(v) &&
	    strcmp(json_string_value(v), hex) == 0 &&
	    (v = json_object_get(root, "proof")) != NULL && json_is_string(v) &&
	    coffer_b64url_decode_exact(json_string_value(v), json_string_length(v),
	    out, 184) == 0;
	json_decref(root);
	return ok ? 0 : coffer_errf(COFFER_E_FORMAT, "state: a ledger row's log "
	    "entry is not a proof of its job");
}

int
coord_state_proof_each(struct coord_state_ledger *ls, const uint8_t job[16],
    int (*fn)(const struct coord_proof_rec *p, void *arg), void *arg)
{
	struct coord_proof_rec p;
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare(ls, "SELECT p.idx, l.entry, p.outcome, p.reason FROM "
	    "ledger_log p JOIN log l ON l.idx = p.idx WHERE p.job = ?1 "
	    "ORDER BY p.idx", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, job, 16, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int outcome = sqlite3_column_int(s, 2), reason = sqlite3_column_int(s, 3);

		if (outcome < 1 || outcome > 5 || reason < 0 || reason > 0xffff) {
			r = coffer_errf(COFFER_E_FORMAT, "state: a damaged ledger row");
			break;
		}
		memset(&p, 0, sizeof(p));
		p.log_index = (uint64_t)sqlite3_column_int64(s, 0);
		if ((r = entry_proof(sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1), job, p.proof)) != 0)
			break;
		p.outcome = (uint8_t)outcome;
		p.reason = (uint16_t)reason;
		if ((r = fn(&p, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = coord_state_dberr(ls->st, "ledger proofs");
	sqlite3_finalize(s);
	return r;
}

void
coord_job_close_release(struct coord_job_close *c)
{
	free(c->receipt);
	memset(c, 0, sizeof(*c));
}

int
coord_state_job_close_get(struct coord_state_ledger *ls, const uint8_t job[16],
    struct coord_job_close *out)
{
	struct coord_job_close c;
	sqlite3_stmt *s = NULL;
	const char *reason, *receipt;
	int r, rc;

	memset(&c, 0, sizeof(c));
	if ((r = prepare(ls, "SELECT map_closed, closed, failed, reason, receipt "
	    "FROM ledger_jobs WHERE job = ?1", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, job, 16, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c.map_closed = sqlite3_column_int(s, 0) != 0;
		c.closed = sqlite3_column_int(s, 1) != 0;
		c.failed = sqlite3_column_int(s, 2) != 0;
		reason = (const char *)sqlite3_column_text(s, 3);
		receipt = (const char *)sqlite3_column_text(s, 4);
		if (reason == NULL || strlen(reason) >= sizeof(c.reason) ||
		    (c.closed && receipt == NULL)) {
			r = coffer_errf(COFFER_E_FORMAT, "state: a damaged ledger_jobs row");
			goto out;
		}
		memcpy(c.reason, reason, strlen(reason) + 1);
		if (receipt != NULL) {
			c.receipt_len = (size_t)sqlite3_column_bytes(s, 4);
			if ((c.receipt = coffer_strdup(receipt)) == NULL) {
				r = COFFER_E_NOMEM;
				goto out;
			}
		}
	} else if (rc != SQLITE_DONE) {
		r = coord_state_dberr(ls->st, "ledger job");
		goto out;
	}
	*out = c;
out:
	sqlite3_finalize(s);
	return r;
}

int
coord_state_job_map_closed(struct coord_state_ledger *ls, const uint8_t job[16])
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(ls, "INSERT INTO ledger_jobs (job, map_closed) VALUES "
	    "(?1, 1) ON CONFLICT(job) DO UPDATE SET map_closed = 1", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, job, 16, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_DONE ? 0 :
	    coord_state_dberr(ls->st, "ledger job");
	sqlite3_finalize(s);
	return r;
}

int
coord_state_job_closed(struct coord_state_ledger *ls, const uint8_t job[16],
    int failed, const char *reason, const char *receipt, size_t len)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(ls, "INSERT INTO ledger_jobs (job, closed, failed, reason, "
	    "receipt, closed_ms) VALUES (?1, 1, ?2, ?3, ?4, ?5) ON CONFLICT(job) DO "
	    "UPDATE SET closed = 1, failed = ?2, reason = ?3, receipt = ?4, "
	    "closed_ms = ?5", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, job, 16, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, failed != 0);
	sqlite3_bind_text(s, 3, reason != NULL ? reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, receipt, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, coffer_wall_ms());
	r = sqlite3_step(s) == SQLITE_DONE ? 0 :
	    coord_state_dberr(ls->st, "ledger job");
	sqlite3_finalize(s);
	s = NULL;
	if (r != 0)
		return r;
	/* KR3 reads jobs.closed: no key is released for a closed job. */
	if ((r = prepare(ls, "UPDATE jobs SET closed = 1 WHERE id = ?1", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, job, 16, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(ls->h) == 1 ? 0 :
	    coffer_errf(COFFER_E_DB, "state: closing job: no such job row");
	sqlite3_finalize(s);
	return r;
}

/* A session row into out (the key wiped by whoever holds it). */
static int
session_row(sqlite3_stmt *s, struct coord_session *out)
{
	const char *tee = (const char *)sqlite3_column_text(s, 2);
	int ml = sqlite3_column_bytes(s, 3);

	memset(out, 0, sizeof(*out));
	if (sqlite3_column_bytes(s, 0) != 16 || sqlite3_column_bytes(s, 1) != 16 ||
	    tee == NULL || strlen(tee) >= sizeof(out->tee) || ml < 1 ||
	    (size_t)ml > sizeof(out->measurement) ||
	    sqlite3_column_bytes(s, 4) != 32 || sqlite3_column_bytes(s, 5) != 32)
		return coffer_errf(COFFER_E_FORMAT, "state: a damaged session row");
	memcpy(out->id, sqlite3_column_blob(s, 0), 16);
	memcpy(out->job, sqlite3_column_blob(s, 1), 16);
	memcpy(out->tee, tee, strlen(tee) + 1);
	memcpy(out->measurement, sqlite3_column_blob(s, 3), (size_t)ml);
	out->measurement_len = (size_t)ml;
	memcpy(out->worker_pk, sqlite3_column_blob(s, 4), 32);
	memcpy(out->key, sqlite3_column_blob(s, 5), 32);
	return 0;
}

#define SESSION_COLUMNS "SELECT id, job, tee, measurement, worker_pk, key FROM sessions "

int
coord_state_session_get(struct coord_state_ledger *ls, const uint8_t id[16],
    struct coord_session *out)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare(ls, SESSION_COLUMNS "WHERE id = ?1", &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, id, 16, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = session_row(s, out);
	else if (rc == SQLITE_DONE)
		r = COFFER_E_NOTFOUND;
	else
		r = coord_state_dberr(ls->st, "session");
	sqlite3_finalize(s);
	return r;
}

int
coord_state_session_each(struct coord_state_ledger *ls, const uint8_t job[16],
    int (*fn)(const struct coord_session *x, void *arg), void *arg)
{
	struct coord_session x;
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = prepare(ls, SESSION_COLUMNS "WHERE job = ?1 ORDER BY rowid",
	    &s)) != 0)
		return r;
	sqlite3_bind_blob(s, 1, job, 16, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = session_row(s, &x)) == 0)
			r = fn(&x, arg);
		coffer_wipe(&x, sizeof(x));
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = coord_state_dberr(ls->st, "sessions");
	sqlite3_finalize(s);
	return r;
}
