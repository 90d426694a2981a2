// SPDX-License-Identifier: Apache-2.0
// The sealed state's cost (BENCHMARKS.md, "Sealed coordinator state"):
// commits per second of one-row INSERT transactions, each durable, on the
// sealed store (src/coordinator/sealvfs.c) and on plain SQLite in the same
// directory and the same run (WAL + synchronous=FULL, what the coordinator
// used before; and the rollback journal), then the time to open a state.
//   coord_state DIR COMMITS ROW_BYTES
// prints one Markdown table row per configuration.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "coffer/error.h"
#include "coordinator/sealvfs.h"
#include "lib/clock.h"

static const uint8_t key[32] = { 1, 2, 3 };
static const uint8_t sid[16] = { 4, 5, 6 };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "coord_state: %s: %s\n", what, detail);
	exit(1);
}

static void
exec_or_die(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		die(sql, msg);
}

/* n one-row transactions; returns commits per second. */
static double
inserts(sqlite3 *db, int n, int row)
{
	sqlite3_stmt *s = NULL;
	double t0;

	exec_or_die(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, b BLOB)");
	if (sqlite3_prepare_v2(db, "INSERT INTO t (b) VALUES (randomblob(?1))", -1,
	    &s, NULL) != SQLITE_OK)
		die("prepare", sqlite3_errmsg(db));
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		sqlite3_bind_int(s, 1, row);
		if (sqlite3_step(s) != SQLITE_DONE)
			die("insert", sqlite3_errmsg(db));
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return n / (now_s() - t0);
}

static sqlite3 *
plain(const char *dir, const char *name, const char *mode, int fresh)
{
	char path[4096], sql[100];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fresh) {
		unlink(path);
		snprintf(sql, sizeof(sql), "%s-wal", path);
		unlink(sql);
		snprintf(sql, sizeof(sql), "%s-shm", path);
		unlink(sql);
	}
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s; PRAGMA synchronous=FULL", mode);
	exec_or_die(db, sql);
	return db;
}

int
main(int argc, char **argv)
{
	struct sealdb *d = NULL;
	const char *dir;
	double wal, del, sealed, wal_normal, lazy, t0, t_sealed_open, t_plain_open;
	int n, row;
	sqlite3 *db;
	char sd[4096], cmd[4200];

	if (argc != 4)
		die("usage", "coord_state DIR COMMITS ROW_BYTES");
	dir = argv[1];
	n = (int)strtol(argv[2], NULL, 10);
	row = (int)strtol(argv[3], NULL, 10);
	if (n < 1 || n > 1000000 || row < 1 || row > 100000)
		die("usage", "COMMITS in [1, 10^6], ROW_BYTES in [1, 10^5]");
	snprintf(sd, sizeof(sd), "%s/sealed", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", sd, sd);
	if (system(cmd) != 0)
		die("mkdir", sd);

	db = plain(dir, "wal.db", "WAL", 1);
	wal = inserts(db, n, row);
	sqlite3_close(db);
	db = plain(dir, "delete.db", "DELETE", 1);
	del = inserts(db, n, row);
	sqlite3_close(db);
	db = plain(dir, "normal.db", "WAL", 1);
	exec_or_die(db, "PRAGMA synchronous=NORMAL");
	wal_normal = inserts(db, n, row);
	sqlite3_close(db);
	if (sealdb_open(sd, key, sid, &d) != 0)
		die("sealdb_open", coffer_errdetail());
	sealed = inserts(sealdb_handle(d), n, row);
	sealdb_set_durable(d, 0);
	lazy = inserts(sealdb_handle(d), n, row);
	sealdb_set_durable(d, 1);
	/* Grow both to a state of about 64 MiB for the open times. */
	exec_or_die(sealdb_handle(d), "BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION "
	    "ALL SELECT x + 1 FROM c WHERE x < 14000) INSERT INTO t (b) SELECT "
	    "randomblob(4000) FROM c; COMMIT");
	sealdb_close(d);
	t0 = now_s();
	if (sealdb_open(sd, key, sid, &d) != 0)
		die("sealdb_open", coffer_errdetail());
	(void)inserts(sealdb_handle(d), 1, row);
	t_sealed_open = now_s() - t0;
	sealdb_close(d);
	db = plain(dir, "wal.db", "WAL", 0);
	exec_or_die(db, "BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT "
	    "x + 1 FROM c WHERE x < 14000) INSERT INTO t (b) SELECT randomblob(4000) "
	    "FROM c; COMMIT");
	sqlite3_close(db);
	t0 = now_s();
	db = plain(dir, "wal.db", "WAL", 0);
	(void)inserts(db, 1, row);
	sqlite3_close(db);
	t_plain_open = now_s() - t0;

	printf("| plain SQLite, WAL, synchronous=FULL | %.0f | 1.00 |\n", wal);
	printf("| plain SQLite, rollback journal, synchronous=FULL | %.0f | %.2f |\n",
	    del, del / wal);
	printf("| sealed (sealvfs: page AEAD, MAC'd log, root) | %.0f | %.2f |\n",
	    sealed, sealed / wal);
	printf("| plain SQLite, WAL, synchronous=NORMAL (no fsync per commit) | %.0f | %.2f |\n",
	    wal_normal, wal_normal / wal);
	printf("| sealed, lazy commits (section 7.4: no fsync per commit) | %.0f | %.2f |\n",
	    lazy, lazy / wal);
	printf("\n| open a state of ~64 MiB and commit once | seconds |\n|---|---|\n");
	printf("| plain SQLite, WAL | %.3f |\n| sealed (replay, root over every page, "
	    "checkpoint) | %.3f |\n", t_plain_open, t_sealed_open);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s/wal.db' '%s/wal.db-wal' "
	    "'%s/wal.db-shm' '%s/delete.db' '%s/normal.db'*", sd, dir, dir, dir, dir, dir);
	return system(cmd) == 0 ? 0 : 1;
}
