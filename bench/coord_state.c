// SPDX-License-Identifier: Apache-2.0
// The sealed state's cost (BENCHMARKS.md, "Sealed coordinator state"):
// commits per second of one-row INSERT transactions on the sealed store
// (src/coordinator/sealvfs.c), durable and lazy, and on plain SQLite in the
// same directory and the same run (WAL with synchronous=FULL and NORMAL,
// what the coordinator used before; the rollback journal), in interleaved
// rounds; then the time to open a state.
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

enum { WAL, DELETE, NORMAL, SEALED, LAZY, NCONF };
#define ROUNDS 5

static const char *const names[NCONF] = {
	"plain SQLite, WAL, synchronous=FULL",
	"plain SQLite, rollback journal, synchronous=FULL",
	"plain SQLite, WAL, synchronous=NORMAL (no fsync per commit)",
	"sealed (sealvfs: page AEAD, MAC'd log, root), durable",
	"sealed, lazy commits (section 7.4: no fsync per commit)",
};

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

int
main(int argc, char **argv)
{
	struct sealdb *d = NULL;
	sqlite3 *db[NCONF];
	double rate[NCONF][ROUNDS], ratio[NCONF][ROUNDS], t0, t_sealed_open,
	    t_plain_open;
	const char *dir;
	char sd[4096], cmd[4200];
	int n, row;

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
	db[WAL] = plain(dir, "wal.db", "WAL", 1);
	db[DELETE] = plain(dir, "delete.db", "DELETE", 1);
	db[NORMAL] = plain(dir, "normal.db", "WAL", 1);
	exec_or_die(db[NORMAL], "PRAGMA synchronous=NORMAL");
	if (sealdb_open(sd, key, sid, &d) != 0)
		die("sealdb_open", coffer_errdetail());
	db[SEALED] = db[LAZY] = sealdb_handle(d);
	/* Rounds, each configuration in turn (the order rotating), so that a
	 * noisy moment of a shared disk hits every one alike; the medians
	 * are reported, and each configuration's median ratio to WAL's rate
	 * of the same round. */
	for (int rd = 0; rd < ROUNDS; rd++)
		for (int k = 0; k < NCONF; k++) {
			int c = (k + rd) % NCONF;

			sealdb_set_durable(d, c != LAZY);
			rate[c][rd] = inserts(db[c], n, row);
		}
	for (int rd = 0; rd < ROUNDS; rd++)
		for (int c = 0; c < NCONF; c++)
			ratio[c][rd] = rate[c][rd] / rate[WAL][rd];
	for (int c = 0; c < NCONF; c++)
		printf("| %s | %.0f | %.2f |\n", names[c], median(rate[c], ROUNDS),
		    median(ratio[c], ROUNDS));
	sealdb_set_durable(d, 1);
	/* Grow both to a state of about 56 MiB for the open times. */
	exec_or_die(sealdb_handle(d), "BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION "
	    "ALL SELECT x + 1 FROM c WHERE x < 14000) INSERT INTO t (b) SELECT "
	    "randomblob(4000) FROM c; COMMIT");
	sealdb_close(d);
	exec_or_die(db[WAL], "BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
	    "SELECT x + 1 FROM c WHERE x < 14000) INSERT INTO t (b) SELECT "
	    "randomblob(4000) FROM c; COMMIT");
	for (int c = WAL; c <= NORMAL; c++)
		sqlite3_close(db[c]);
	t0 = now_s();
	if (sealdb_open(sd, key, sid, &d) != 0)
		die("sealdb_open", coffer_errdetail());
	(void)inserts(sealdb_handle(d), 1, row);
	t_sealed_open = now_s() - t0;
	sealdb_close(d);
	t0 = now_s();
	db[WAL] = plain(dir, "wal.db", "WAL", 0);
	(void)inserts(db[WAL], 1, row);
	sqlite3_close(db[WAL]);
	t_plain_open = now_s() - t0;
	printf("\n| open a state of ~56 MiB and commit once | seconds |\n|---|---|\n");
	printf("| plain SQLite, WAL | %.3f |\n| sealed (replay, root over every page, "
	    "checkpoint) | %.3f |\n", t_plain_open, t_sealed_open);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s/wal.db'* '%s/delete.db'* "
	    "'%s/normal.db'*", sd, dir, dir, dir);
	return system(cmd) == 0 ? 0 : 1;
}
