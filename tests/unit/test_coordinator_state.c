// SPDX-License-Identifier: Apache-2.0
// Unit tests for the coordinator's state (src/coordinator/state.c) and its
// refusal names (refuse.c): what is stored once stays once (the same
// signer, the same revocation, the same key), what it stores reads back,
// and a reason name is found where src/proto puts it.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ftw.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/coord.h"
#include "coordinator/state.h"
#include "coordinator/state_int.h"
#include "lib/buf.h"
#include "proto/auditlog.h"

static char dir[64];
/* The state is sealed (sealvfs.h); its key and id, fixed here. */
static const uint8_t skey[32] = { 5 }, sid[16] = { 6 };

static int
rm_one(const char *p, const struct stat *sb, int f, struct FTW *ftw)
{
	(void)sb;
	(void)f;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/coffer-state-test.XXXXXX");
	return mkdtemp(dir) == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static int
count(const uint8_t h[32], void *arg)
{
	(void)h;
	(*(int *)arg)++;
	return 0;
}

static int
count_rv(const struct coord_revocation *rv, void *arg)
{
	(void)rv;
	(*(int *)arg)++;
	return 0;
}

static void
test_state__identity_and_root_are_made_once(void **state)
{
	struct coord_state *st = NULL;
	struct coffer_identity id, back;
	uint8_t root[32], r2[32];

	(void)state;
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(coord_state_identity_get(st, &back), COFFER_E_NOTFOUND);
	assert_int_equal(coord_state_root_get(st, r2), COFFER_E_NOTFOUND);
	assert_int_equal(coffer_identity_generate("coordinator", &id), 0);
	memset(root, 3, sizeof(root));
	assert_int_equal(coord_state_identity_put(st, &id), 0);
	assert_int_equal(coord_state_root_put(st, root), 0);
	assert_int_equal(coord_state_identity_put(st, &id), COFFER_E_EXISTS);
	assert_int_equal(coord_state_root_put(st, root), COFFER_E_EXISTS);
	coord_state_close(st);
	/* Read back after a reopen, as at the next start. */
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(coord_state_identity_get(st, &back), 0);
	assert_memory_equal(&back, &id, sizeof(id));
	assert_int_equal(coord_state_root_get(st, r2), 0);
	assert_memory_equal(r2, root, 32);
	coord_state_close(st);
	coffer_identity_wipe(&id);
	coffer_identity_wipe(&back);
}

static void
test_state__the_same_signer_and_revocation_are_stored_once(void **state)
{
	struct coord_state *st = NULL;
	struct coord_revocation rv;
	uint8_t h[32], s1[32], s2[32], m[48];
	int n = 0;

	(void)state;
	memset(h, 1, 32);
	memset(s1, 2, 32);
	memset(s2, 3, 32);
	memset(m, 4, 48);
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(coord_state_policy_put(st, h, NULL, "{}", 2), 0);
	assert_int_equal(coord_state_policy_put(st, h, NULL, "{}", 2), COFFER_E_EXISTS);
	assert_int_equal(coord_state_approval_put(st, h, s1, 0, 0, "a", 1), 0);
	assert_int_equal(coord_state_approval_put(st, h, s1, 0, 0, "b", 1), COFFER_E_EXISTS);
	assert_int_equal(coord_state_approval_put(st, h, s2, 3, 0, "c", 1), 0);
	assert_int_equal(coord_state_approval_each(st, h, 0, count, &n), 0);
	assert_int_equal(n, 2);
	/* After a rollback at index 2, only approvals naming a head of 3 or
	 * more entries count; an older one is replaced by a newer one. */
	n = 0;
	assert_int_equal(coord_state_approval_each(st, h, 3, count, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(coord_state_approval_put(st, h, s2, 4, 3, "d", 1), COFFER_E_EXISTS);
	assert_int_equal(coord_state_approval_put(st, h, s1, 5, 3, "e", 1), 0);
	n = 0;
	assert_int_equal(coord_state_approval_each(st, h, 3, count, &n), 0);
	assert_int_equal(n, 2);
	/* A revoked approval twice: once (NULLs would make UNIQUE blind). */
	memset(&rv, 0, sizeof(rv));
	memcpy(rv.policy, h, 32);
	memcpy(rv.signer, s1, 32);
	assert_int_equal(coord_state_revocation_put(st, &rv, "r", 1), 0);
	assert_int_equal(coord_state_revocation_put(st, &rv, "r", 1), COFFER_E_EXISTS);
	rv.tee = "sim";
	rv.measurement = m;
	rv.measurement_len = sizeof(m);
	assert_int_equal(coord_state_revocation_put(st, &rv, "m", 1), 0);
	assert_int_equal(coord_state_revocation_put(st, &rv, "m", 1), COFFER_E_EXISTS);
	n = 0;
	assert_int_equal(coord_state_revocation_each(st, h, count_rv, &n), 0);
	assert_int_equal(n, 2);
	/* An approval of an unknown policy breaks a foreign key. */
	memset(h, 9, 32);
	assert_int_not_equal(coord_state_approval_put(st, h, s1, 0, 0, "a", 1), 0);
	coord_state_close(st);
}

/* Inside a row of approval_each, the same query again (prepared
 * statements are kept by their text: this one is in use). */
struct nested {
	struct coord_state *st;
	const uint8_t *policy;
	int outer, inner, err;
};

static int
nested_row(const uint8_t h[32], void *arg)
{
	struct nested *n = arg;
	int k = 0;

	(void)h;
	n->outer++;
	n->err |= coord_state_approval_each(n->st, n->policy, 0, count, &k);
	n->inner += k;
	return 0;
}

static void
test_state__a_query_runs_inside_its_own_rows_and_sees_new_rows(void **state)
{
	struct coord_state *st = NULL;
	struct nested n;
	uint8_t h[32], s[32];
	int k;

	(void)state;
	memset(h, 1, 32);
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(coord_state_policy_put(st, h, NULL, "{}", 2), 0);
	for (uint8_t i = 0; i < 3; i++) {
		memset(s, 10 + i, 32);
		assert_int_equal(coord_state_approval_put(st, h, s, 0, 0, "a", 1), 0);
		/* The kept statement sees the row just written. */
		k = 0;
		assert_int_equal(coord_state_approval_each(st, h, 0, count, &k), 0);
		assert_int_equal(k, i + 1);
	}
	memset(&n, 0, sizeof(n));
	n.st = st;
	n.policy = h;
	assert_int_equal(coord_state_approval_each(st, h, 0, nested_row, &n), 0);
	assert_int_equal(n.err, 0);
	assert_int_equal(n.outer, 3);
	assert_int_equal(n.inner, 9);
	/* Another policy's: bindings are not left from the last run. */
	memset(h, 2, 32);
	k = 0;
	assert_int_equal(coord_state_approval_each(st, h, 0, count, &k), 0);
	assert_int_equal(k, 0);
	coord_state_close(st);
}

/* Successors are found from the signers' approvals: a flood of versions
 * only strangers approved is never visited, and those the owners approved
 * come oldest first, each once (doc/coordinator.md 6). */
struct walk {
	uint8_t seen[8][32];
	int n;
};

static int
on_successor(const uint8_t h[32], void *arg)
{
	struct walk *w = arg;

	if (w->n < 8)
		memcpy(w->seen[w->n], h, 32);
	w->n++;
	return 0;
}

static void
test_state__successors_are_walked_from_the_owners_approvals(void **state)
{
	struct coord_state *st = NULL;
	uint8_t p[32], other[32], h[32], v1[32], v2[32], owners[2][32], x[32];
	struct walk w;

	(void)state;
	memset(p, 1, 32);
	memset(other, 2, 32);
	memset(owners[0], 0xa1, 32);
	memset(owners[1], 0xa2, 32);
	memset(x, 0x77, 32);
	memset(v1, 0xb1, 32);
	memset(v2, 0xb2, 32);
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(coord_state_policy_put(st, p, NULL, "{}", 2), 0);
	assert_int_equal(coord_state_policy_put(st, other, NULL, "{}", 2), 0);
	/* v2 stored first, approved by both owners; v1 later, by one owner
	 * and the stranger; between them, versions only the stranger
	 * approved; and a version of another policy an owner approved. */
	assert_int_equal(coord_state_policy_put(st, v2, p, "{}", 2), 0);
	for (int i = 0; i < 300; i++) {
		memset(h, 0, 32);
		h[0] = 0xf0;
		h[1] = (uint8_t)(i >> 8);
		h[2] = (uint8_t)i;
		assert_int_equal(coord_state_policy_put(st, h, p, "{}", 2), 0);
		assert_int_equal(coord_state_approval_put(st, h, x, 0, 0, "x", 1), 0);
	}
	assert_int_equal(coord_state_policy_put(st, v1, p, "{}", 2), 0);
	assert_int_equal(coord_state_approval_put(st, v1, x, 0, 0, "x", 1), 0);
	assert_int_equal(coord_state_approval_put(st, v1, owners[1], 0, 0, "o", 1), 0);
	assert_int_equal(coord_state_approval_put(st, v2, owners[0], 0, 0, "o", 1), 0);
	assert_int_equal(coord_state_approval_put(st, v2, owners[1], 0, 0, "o", 1), 0);
	memset(h, 0xc0, 32);
	assert_int_equal(coord_state_policy_put(st, h, other, "{}", 2), 0);
	assert_int_equal(coord_state_approval_put(st, h, owners[0], 0, 0, "o", 1), 0);

	memset(&w, 0, sizeof(w));
	assert_int_equal(coord_state_policy_successors(st, p,
	    (const uint8_t (*)[32])owners, 2, on_successor, &w), 0);
	assert_int_equal(w.n, 2);
	assert_memory_equal(w.seen[0], v2, 32);
	assert_memory_equal(w.seen[1], v1, 32);
	/* The stranger's approvals do find the flood (the signers decide). */
	memset(&w, 0, sizeof(w));
	assert_int_equal(coord_state_policy_successors(st, p,
	    (const uint8_t (*)[32])&x, 1, on_successor, &w), 0);
	assert_int_equal(w.n, 301);
	/* No signer, no successor; an unknown predecessor, none either. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(coord_state_policy_successors(st, p,
	    (const uint8_t (*)[32])owners, 0, on_successor, &w), 0);
	assert_int_equal(w.n, 0);
	memset(h, 0xee, 32);
	assert_int_equal(coord_state_policy_successors(st, h,
	    (const uint8_t (*)[32])owners, 2, on_successor, &w), 0);
	assert_int_equal(w.n, 0);
	coord_state_close(st);
}

static void
test_state__jobs_read_back(void **state)
{
	struct coord_state *st = NULL;
	struct coord_job j, back;
	uint8_t h[32];

	(void)state;
	memset(h, 1, 32);
	memset(&j, 0, sizeof(j));
	memset(j.id, 5, 16);
	memcpy(j.policy, h, 32);
	snprintf(j.app, sizeof(j.app), "stats");
	j.params = "{\"alpha\":\"0.05\"}";
	j.items = 3;
	memset(j.input_root, 6, 32);
	j.created_ms = 1234;
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	/* A job of a policy the state does not hold is refused. */
	assert_int_not_equal(coord_state_job_put(st, &j), 0);
	assert_int_equal(coord_state_policy_put(st, h, NULL, "{}", 2), 0);
	assert_int_equal(coord_state_job_put(st, &j), 0);
	assert_int_equal(coord_state_job_put(st, &j), COFFER_E_EXISTS);
	assert_int_equal(coord_state_job_get(st, j.id, &back), 0);
	assert_string_equal(back.app, "stats");
	assert_string_equal(back.params, j.params);
	assert_int_equal(back.items, 3);
	assert_memory_equal(back.input_root, j.input_root, 32);
	coord_job_release(&back);
	memset(j.id, 7, 16);
	assert_int_equal(coord_state_job_get(st, j.id, &back), COFFER_E_NOTFOUND);
	coord_state_close(st);
}

static int
first_proof(const struct coord_proof_rec *p, void *arg)
{
	memcpy(arg, p, sizeof(*p));
	return 0;
}

/* A state written before 2026-12-07 (each proof's bytes in table
 * ledger_proofs too): its rows move to ledger_log at the first open, and
 * the proofs read back from their log entries. */
static void
test_state__ledger_proofs_of_an_older_state_read_back(void **state)
{
	struct coffer_buf e = COFFER_BUF_INIT(COFFER_AUDITLOG_ENTRY_MAX);
	struct coord_state *st = NULL;
	struct coord_state_ledger *ls = NULL;
	struct coord_proof_rec got;
	uint8_t job[16], proof[184];
	sqlite3_stmt *s = NULL;

	(void)state;
	memset(job, 3, sizeof(job));
	for (size_t i = 0; i < sizeof(proof); i++)
		proof[i] = (uint8_t)i;
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(sqlite3_exec(coord_state_sqlite(st), "CREATE TABLE "
	    "ledger_proofs (job BLOB NOT NULL, idx INTEGER NOT NULL, proof BLOB "
	    "NOT NULL CHECK (length(proof) = 184), outcome INTEGER NOT NULL, "
	    "reason INTEGER NOT NULL, PRIMARY KEY (job, idx)) WITHOUT ROWID;",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(coffer_auditlog_entry_proof(job, proof, "refused",
	    "input.mismatch", 1, &e), 0);
	assert_int_equal(coord_state_begin(st), 0);
	assert_int_equal(coord_state_log_entry_put(st, 0, e.data, e.len), 0);
	assert_int_equal(sqlite3_prepare_v2(coord_state_sqlite(st), "INSERT INTO "
	    "ledger_proofs VALUES (?1, 0, ?2, 5, 7)", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_blob(s, 1, job, 16, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, proof, 184, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	assert_int_equal(coord_state_commit(st), 0);
	coord_state_close(st);

	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(coord_state_ledger_open(st, &ls), 0);
	assert_int_not_equal(sqlite3_table_column_metadata(coord_state_sqlite(st),
	    NULL, "ledger_proofs", "proof", NULL, NULL, NULL, NULL, NULL), SQLITE_OK);
	memset(&got, 0, sizeof(got));
	assert_int_equal(coord_state_proof_each(ls, job, first_proof, &got), 0);
	assert_int_equal(got.log_index, 0);
	assert_int_equal(got.outcome, 5);
	assert_int_equal(got.reason, 7);
	assert_memory_equal(got.proof, proof, 184);
	/* A row whose entry is another job's is refused. */
	job[0] ^= 1;
	assert_int_equal(coord_state_begin(st), 0);
	got.log_index = 0;
	assert_int_equal(coord_state_proof_put(ls, job, &got), 0);
	assert_int_equal(coord_state_commit(st), 0);
	assert_int_equal(coord_state_proof_each(ls, job, first_proof, &got),
	    COFFER_E_FORMAT);
	coord_state_ledger_close(ls);
	coord_state_close(st);
	coffer_buf_release(&e);
}

/* A state of schema version 2 kept the log's subtree hashes in table
 * log_nodes by (level, pos): the first open moves them to log_tree, and
 * every root reads back the same (doc/coordinator.md section 9.2). */
static void
test_state__log_nodes_of_a_version_2_state_move(void **state)
{
	struct coord_state *st = NULL;
	coffer_merkle_hash roots[40], h;
	uint8_t entry[8] = "entry-0";
	sqlite3_stmt *s = NULL;
	char *msg = NULL;
	int n = 0;

	(void)state;
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(coord_state_begin(st), 0);
	for (uint64_t i = 0; i < 40; i++) {
		entry[6] = (uint8_t)('0' + i);
		assert_int_equal(coord_audit_append_entry(st, entry, sizeof(entry),
		    NULL), 0);
	}
	assert_int_equal(coord_state_commit(st), 0);
	for (uint64_t i = 1; i <= 40; i++)
		assert_int_equal(coord_audit_root(st, i, roots[i - 1]), 0);
	/* Back to version 2, with a leaf row of level 0 as states of before
	 * 2026-12-07 held (not read, not moved). */
	assert_int_equal(sqlite3_exec(coord_state_sqlite(st),
	    "BEGIN IMMEDIATE;"
	    "CREATE TABLE log_nodes (level INTEGER NOT NULL, pos INTEGER NOT NULL,"
	    " hash BLOB NOT NULL CHECK (length(hash) = 32),"
	    " PRIMARY KEY (level, pos)) WITHOUT ROWID;"
	    "INSERT INTO log_nodes SELECT k % 64, ((k / 64 + 1) >> (k % 64)) - 1,"
	    " hash FROM log_tree;"
	    "INSERT INTO log_nodes VALUES (0, 0, zeroblob(32));"
	    "DROP TABLE log_tree;"
	    "UPDATE meta SET value = '2' WHERE key = 'schema_version';"
	    "COMMIT;", NULL, NULL, &msg), SQLITE_OK);
	coord_state_close(st);

	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	for (uint64_t i = 1; i <= 40; i++) {
		assert_int_equal(coord_audit_root(st, i, h), 0);
		assert_memory_equal(h, roots[i - 1], sizeof(h));
	}
	assert_int_not_equal(sqlite3_table_column_metadata(coord_state_sqlite(st),
	    NULL, "log_nodes", "hash", NULL, NULL, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(coord_state_sqlite(st), "SELECT "
	    "(SELECT value FROM meta WHERE key = 'schema_version'),"
	    " (SELECT count(*) FROM log_tree)", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "3");
	n = sqlite3_column_int(s, 1);
	sqlite3_finalize(s);
	/* 40 leaves: 20 + 10 + 5 + 2 + 1 perfect subtrees of two or more */
	assert_int_equal(n, 38);
	/* It appends on from there. */
	assert_int_equal(coord_state_begin(st), 0);
	assert_int_equal(coord_audit_append_entry(st, entry, sizeof(entry), NULL), 0);
	assert_int_equal(coord_state_commit(st), 0);
	assert_int_equal(coord_audit_root(st, 40, h), 0);
	assert_memory_equal(h, roots[39], sizeof(h));
	coord_state_close(st);
}

/* A version 2 state with a large log moves its subtree hashes too: one
 * transaction of the sealed state holds at most 64 MiB of pages
 * (SEALSTORE_MAX_COMMIT), and 900000 rows moved and dropped at once are
 * about 24000 pages, so the move goes in steps, the version changed last;
 * a start cut short between two steps goes on where it stopped. Review of
 * round five (doc/review-2026-12.md), finding 14. */
static void
test_state__a_large_version_2_log_moves_in_steps(void **state)
{
	struct coord_state *st = NULL;
	sqlite3_stmt *s = NULL;
	char *msg = NULL, sql[512];

	(void)state;
	assert_int_equal(coord_state_open(dir, skey, sid, &st), 0);
	assert_int_equal(sqlite3_exec(coord_state_sqlite(st), "CREATE TABLE "
	    "log_nodes (level INTEGER NOT NULL, pos INTEGER NOT NULL, hash BLOB"
	    " NOT NULL CHECK (length(hash) = 32), PRIMARY KEY (level, pos))"
	    " WITHOUT ROWID;", NULL, NULL, &msg), SQLITE_OK);
	/* Levels 1 to 9, 100000 subtrees each (level 0: not moved), in
	 * transactions the sealed state takes. */
	for (int l = 0; l < 10; l++) {
		snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; WITH RECURSIVE c(x) AS"
		    " (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < 99999)"
		    " INSERT INTO log_nodes SELECT %d, x, randomblob(32) FROM c;"
		    " COMMIT;", l);
		if (sqlite3_exec(coord_state_sqlite(st), sql, NULL, NULL, &msg) !=
		    SQLITE_OK)
			fail_msg("%s", msg);
	}
	/* Cut short after a first step: 1000 rows of level 1 moved. */
	assert_int_equal(sqlite3_exec(coord_state_sqlite(st), "BEGIN IMMEDIATE;"
	    "DELETE FROM log_tree; INSERT INTO log_tree (k, hash) SELECT"
	    " (((pos + 1) << level) - 1) * 64 + level, hash FROM log_nodes"
	    " WHERE level = 1 AND pos < 1000;"
	    "DELETE FROM log_nodes WHERE level = 1 AND pos < 1000;"
	    "UPDATE meta SET value = '2' WHERE key = 'schema_version'; COMMIT;",
	    NULL, NULL, &msg), SQLITE_OK);
	coord_state_close(st);

	if (coord_state_open(dir, skey, sid, &st) != 0)
		fail_msg("%s", coffer_errdetail());
	assert_int_equal(sqlite3_prepare_v2(coord_state_sqlite(st), "SELECT "
	    "(SELECT value FROM meta WHERE key = 'schema_version'),"
	    " (SELECT count(*) FROM log_tree),"
	    " (SELECT count(*) FROM log_tree WHERE k = ((99999 + 1) << 9) * 64 -"
	    " 64 + 9)", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "3");
	assert_int_equal(sqlite3_column_int(s, 1), 900000);
	assert_int_equal(sqlite3_column_int(s, 2), 1);
	sqlite3_finalize(s);
	assert_int_not_equal(sqlite3_table_column_metadata(coord_state_sqlite(st),
	    NULL, "log_nodes", "hash", NULL, NULL, NULL, NULL, NULL), SQLITE_OK);
	coord_state_close(st);
}

static void
test_refuse__finds_reason_names_where_proto_puts_them(void **state)
{
	char name[COORD_REASON_MAX];

	(void)state;
	assert_int_equal(coord_reason_of("statement.signer: x is not an owner "
	    "(signer.unknown)", name), 1);
	assert_string_equal(name, "signer.unknown");
	assert_int_equal(coord_reason_of("nonce.replayed: the nonce was used",
	    name), 1);
	assert_string_equal(name, "nonce.replayed");
	assert_int_equal(coord_reason_of("owners[1].id: bad (see section 3)",
	    name), 0);
	assert_int_equal(coord_reason_of("(Upper.case) (a.) (.b) (a.b.c)", name), 0);
	assert_int_equal(coord_reason_status("request.malformed"), 400);
	assert_int_equal(coord_reason_status("job.unknown"), 404);
	assert_int_equal(coord_reason_status("nonce.expired"), 403);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state__identity_and_root_are_made_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state__the_same_signer_and_revocation_are_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state__a_query_runs_inside_its_own_rows_and_sees_new_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state__successors_are_walked_from_the_owners_approvals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state__jobs_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state__ledger_proofs_of_an_older_state_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state__log_nodes_of_a_version_2_state_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state__a_large_version_2_log_moves_in_steps, setup, teardown),
		cmocka_unit_test(test_refuse__finds_reason_names_where_proto_puts_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
