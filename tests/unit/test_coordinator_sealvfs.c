// SPDX-License-Identifier: Apache-2.0
// SQLite on the sealed store (src/coordinator/sealvfs.c): transactions
// commit and roll back as SQLite says, large ones too; nothing but the two
// store files is ever written and no plaintext reaches them; and a writer
// killed with SIGKILL at random moments loses nothing it was told had
// committed.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "coordinator/sealvfs.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/random.h"
#include "../support/tmpdir.h"

static const uint8_t key[32] = { 7, 7, 7 };
static const uint8_t sid[16] = { 1, 2, 3 };
#define MARKER "PLAINTEXT-MARKER-7f3a"

static void
mkdir_tmp(char *dir, size_t n)
{
	assert_int_equal(test_tmpdir("sealvfs", dir, n), 0);
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static long long
one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void
expect_integrity(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
}

static void
test_sealvfs__commits_and_rollbacks_are_sqlites(void **state)
{
	struct sealdb *d = NULL;
	char dir[64];
	uint64_t v;

	(void)state;
	mkdir_tmp(dir, sizeof(dir));
	assert_int_equal(sealdb_open(dir, key, sid, &d), 0);
	exec_ok(sealdb_handle(d), "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
	v = sealdb_version(d);
	assert_true(v >= 1);
	exec_ok(sealdb_handle(d), "INSERT INTO t VALUES (1, 'one')");
	assert_int_equal(sealdb_version(d), v + 1);
	exec_ok(sealdb_handle(d), "BEGIN; INSERT INTO t VALUES (2, 'two'); "
	    "INSERT INTO t VALUES (3, 'three'); COMMIT");
	assert_int_equal(sealdb_version(d), v + 2);
	exec_ok(sealdb_handle(d), "BEGIN; INSERT INTO t VALUES (4, 'four'); ROLLBACK");
	assert_int_equal(sealdb_version(d), v + 2);
	/* A read changes nothing. */
	assert_int_equal(one_int(sealdb_handle(d), "SELECT count(*) FROM t"), 3);
	assert_int_equal(sealdb_version(d), v + 2);
	/* A lazy commit is a commit like another, made durable at close. */
	sealdb_set_durable(d, 0);
	exec_ok(sealdb_handle(d), "INSERT INTO t VALUES (5, 'five')");
	assert_int_equal(sealdb_version(d), v + 3);
	sealdb_set_durable(d, 1);
	exec_ok(sealdb_handle(d), "DELETE FROM t WHERE id = 5");
	v += 2;
	sealdb_close(d);
	assert_int_equal(sealdb_open(dir, key, sid, &d), 0);
	assert_int_equal(sealdb_version(d), v + 2);
	assert_int_equal(one_int(sealdb_handle(d), "SELECT count(*) FROM t"), 3);
	assert_int_equal(one_int(sealdb_handle(d), "SELECT count(*) FROM t WHERE "
	    "v = 'three'"), 1);
	expect_integrity(sealdb_handle(d));
	sealdb_close(d);
	assert_int_equal(test_rm_rf(dir), 0);
}

/* Every byte of every file in dir: no marker, and only the two files. */
static void
expect_no_plaintext(const char *dir)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)1 << 28);
	struct dirent *e;
	DIR *dh = opendir(dir);
	int files = 0;
	char path[300];

	assert_non_null(dh);
	while ((e = readdir(dh)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (strcmp(e->d_name, "state.db") != 0 && strcmp(e->d_name, "state.log") != 0)
			fail_msg("unexpected file %s", e->d_name);
		files++;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		coffer_buf_reset(&b);
		assert_int_equal(coffer_file_read(path, (size_t)1 << 28, &b), 0);
		assert_null(memmem(b.data, b.len, MARKER, strlen(MARKER)));
		assert_null(memmem(b.data, b.len, "SQLite format 3", 15));
	}
	closedir(dh);
	assert_int_equal(files, 2);
	coffer_buf_release(&b);
}

static void
test_sealvfs__large_transactions_sorts_and_temp_tables_leave_no_plaintext(void **state)
{
	struct sealdb *d = NULL;
	sqlite3 *db;
	char dir[64];

	(void)state;
	mkdir_tmp(dir, sizeof(dir));
	assert_int_equal(sealdb_open(dir, key, sid, &d), 0);
	db = sealdb_handle(d);
	exec_ok(db, "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT, r INTEGER)");
	/* About 6 MiB in one transaction: more than SQLite's page cache. */
	exec_ok(db, "BEGIN");
	exec_ok(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
	    "WHERE x < 20000) INSERT INTO big SELECT x, '" MARKER "' || "
	    "printf('%0280d', x), (x * 7919) % 20000 FROM c");
	exec_ok(db, "COMMIT");
	exec_ok(db, "CREATE TEMP TABLE tmp AS SELECT * FROM big WHERE id < 5000");
	assert_int_equal(one_int(db, "SELECT sum(r) FROM (SELECT r FROM big ORDER "
	    "BY v DESC, r LIMIT 100)"), one_int(db, "SELECT sum(r) FROM (SELECT r "
	    "FROM big ORDER BY v DESC, r LIMIT 100)"));
	assert_int_equal(one_int(db, "SELECT count(*) FROM tmp"), 4999);
	exec_ok(db, "DELETE FROM big WHERE id % 2 = 0");
	expect_integrity(db);
	expect_no_plaintext(dir);
	sealdb_close(d);
	expect_no_plaintext(dir);
	assert_int_equal(sealdb_open(dir, key, sid, &d), 0);
	assert_int_equal(one_int(sealdb_handle(d), "SELECT count(*) FROM big"), 10000);
	expect_integrity(sealdb_handle(d));
	sealdb_close(d);
	assert_int_equal(test_rm_rf(dir), 0);
}

/* The writer: insert row i, then report i on the pipe (acknowledged).
 * Lazy commits (section 7.4) must survive a kill just the same. */
static void
writer(const char *dir, int fd, int start, int lazy)
{
	struct sealdb *d = NULL;
	char sql[200];

	if (sealdb_open(dir, key, sid, &d) != 0)
		_exit(2);
	sealdb_set_durable(d, !lazy);
	for (int i = start;; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO acked VALUES (%d, randomblob(%d))",
		    i, 100 + (i * 37) % 3000);
		if (sqlite3_exec(sealdb_handle(d), sql, NULL, NULL, NULL) != SQLITE_OK)
			_exit(3);
		if (write(fd, &i, sizeof(i)) != sizeof(i))
			_exit(4);
	}
}

static void
test_sealvfs__sigkill_at_random_moments_loses_nothing_acknowledged(void **state)
{
	struct sealdb *d = NULL;
	char dir[64];
	int next = 1, acked_total = 0;

	(void)state;
	mkdir_tmp(dir, sizeof(dir));
	assert_int_equal(sealdb_open(dir, key, sid, &d), 0);
	exec_ok(sealdb_handle(d), "CREATE TABLE acked (id INTEGER PRIMARY KEY, b BLOB)");
	sealdb_close(d);
	for (int round = 0; round < 20; round++) {
		int p[2], st, got, last = next - 1;
		pid_t pid;
		struct timespec ts;

		assert_int_equal(pipe(p), 0);
		if ((pid = fork()) == 0) {
			close(p[0]);
			writer(dir, p[1], next, round % 2);
		}
		close(p[1]);
		uint8_t wait_ms;

		assert_int_equal(coffer_random(&wait_ms, 1), 0);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(wait_ms % 60 + 5) * 1000000L;
		nanosleep(&ts, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st));
		while (read(p[0], &got, sizeof(got)) == sizeof(got))
			last = got;
		close(p[0]);
		/* Every acknowledged row is there; at most one more (committed,
		 * not yet reported) may be; and the database is whole. */
		assert_int_equal(sealdb_open(dir, key, sid, &d), 0);
		char sql[100];
		long long have, max;

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM acked WHERE id <= %d", last);
		have = one_int(sealdb_handle(d), sql);
		max = one_int(sealdb_handle(d), "SELECT coalesce(max(id), 0) FROM acked");
		assert_int_equal(have, last);
		assert_true(max == last || max == last + 1);
		expect_integrity(sealdb_handle(d));
		sealdb_close(d);
		acked_total += last - (next - 1);
		next = (int)max + 1;
	}
	print_message("# %d rows acknowledged over 20 kills\n", acked_total);
	assert_true(acked_total > 0);
	assert_int_equal(test_rm_rf(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sealvfs__commits_and_rollbacks_are_sqlites),
		cmocka_unit_test(test_sealvfs__large_transactions_sorts_and_temp_tables_leave_no_plaintext),
		cmocka_unit_test(test_sealvfs__sigkill_at_random_moments_loses_nothing_acknowledged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
