// SPDX-License-Identifier: Apache-2.0
// The sealed page store (src/coordinator/sealstore.c): every store vector
// of tests/vectors/state/sealed-state.json (files made by the independent
// generator, each valid or refused by its rule), then commits, reopening,
// torn logs at every length, pages changed or put back while running and
// at rest, and the incremental root against a full recomputation.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "coordinator/sealstore.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "../support/tmpdir.h"
#include "../support/vectors.h"

#define P SEALSTORE_PAGE

static const uint8_t key[32] = { 0x11, 0x22, 0x33 };
static const uint8_t sid[16] = { 0x44, 0x55 };

struct tdir {
	char dir[64];
	char db[128], log[128];
};

static void
tdir_make(struct tdir *t)
{
	assert_int_equal(test_tmpdir("sealstore", t->dir, sizeof(t->dir)), 0);
	snprintf(t->db, sizeof(t->db), "%s/state.db", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/state.log", t->dir);
}

static void
tdir_rm(struct tdir *t)
{
	assert_int_equal(test_rm_rf(t->dir), 0);
}

static void
put_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
get_file(const char *path, struct coffer_buf *b)
{
	coffer_buf_reset(b);
	assert_int_equal(coffer_file_read(path, (size_t)1 << 30, b), 0);
}

static void
copy_file(const char *from, const char *to)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)1 << 30);

	get_file(from, &b);
	put_file(to, b.data, b.len);
	coffer_buf_release(&b);
}

/* Page p, version v: recognisable content. */
static void
page_of(uint64_t p, unsigned v, uint8_t *page)
{
	for (size_t i = 0; i < P; i++)
		page[i] = (uint8_t)(p * 31 + v * 7 + i);
	memcpy(page, &p, sizeof(p));
	memcpy(page + 8, &v, sizeof(v));
}

static void
expect_page(struct sealstore *s, uint64_t p, unsigned v)
{
	uint8_t want[P], got[P];

	page_of(p, v, want);
	assert_int_equal(sealstore_read(s, p, got), 0);
	assert_memory_equal(got, want, P);
}

static void
write_page(struct sealstore *s, uint64_t p, unsigned v)
{
	uint8_t page[P];

	page_of(p, v, page);
	assert_int_equal(sealstore_write(s, p, page), 0);
}

/* ------------------------------------------------------------------ */

static int
err_of(const char *name)
{
	static const struct { const char *n; int e; } map[] = {
		{ "AUTH", COFFER_E_AUTH }, { "FORMAT", COFFER_E_FORMAT },
		{ "TRUNCATED", COFFER_E_TRUNCATED }, { "VERSION", COFFER_E_VERSION },
		{ "UNSUPPORTED", COFFER_E_UNSUPPORTED },
		{ "WRONG_KEY", COFFER_E_WRONG_KEY },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].n, name) == 0)
			return map[i].e;
	fail_msg("unknown error %s", name);
	return 0;
}

/* A file of a store case: a named file, cut or patched. */
static void
case_file(json_t *files, json_t *ref, struct coffer_buf *b)
{
	json_t *patch, *pv;
	size_t i;

	assert_int_equal(vec_hex(files, vec_str(ref, "file"), b), 0);
	if (json_object_get(ref, "length") != NULL)
		b->len = (size_t)vec_int(ref, "length");
	patch = json_object_get(ref, "patch");
	json_array_foreach(patch, i, pv) {
		size_t off = (size_t)json_integer_value(json_array_get(pv, 0));

		assert_true(off < b->len);
		b->data[off] = (uint8_t)json_integer_value(json_array_get(pv, 1));
	}
}

static void
test_sealstore__opens_or_refuses_every_vector_by_its_rule(void **state)
{
	struct coffer_buf db = COFFER_BUF_INIT((size_t)1 << 24),
	    log = COFFER_BUF_INIT((size_t)1 << 24);
	uint8_t k[32], id[16], page[P], h[32], want[32];
	json_t *root = NULL, *store, *files, *c, *res, *hv;
	struct vec_tally t;
	struct sealstore *s;
	struct tdir d;
	size_t i, j;
	int r;

	(void)state;
	assert_int_equal(vec_load("state/sealed-state.json", &root), 0);
	store = json_object_get(root, "store");
	files = json_object_get(store, "files");
	assert_int_equal(vec_hex_exact(store, "state_key", k, 32), 0);
	assert_int_equal(vec_hex_exact(store, "state_id", id, 16), 0);
	vec_tally_init(&t, "state/sealed-state.json store");
	json_array_foreach(json_object_get(store, "cases"), i, c) {
		tdir_make(&d);
		case_file(files, json_object_get(c, "db"), &db);
		case_file(files, json_object_get(c, "log"), &log);
		put_file(d.db, db.data, db.len);
		put_file(d.log, log.data, log.len);
		s = NULL;
		r = sealstore_open(d.dir, k, id, &s);
		if ((res = json_object_get(c, "result")) == NULL) {
			if (r != err_of(vec_str(c, "error")))
				vec_fail(&t, (long long)i, "%s (%s): got %s (%s)",
				    vec_str(c, "name"), vec_str(c, "rule"),
				    coffer_strerror(r), coffer_errdetail());
		} else if (r != 0) {
			vec_fail(&t, (long long)i, "%s: %s", vec_str(c, "name"),
			    coffer_errdetail());
		} else {
			if (sealstore_counter(s) != (uint64_t)vec_int(res, "counter") ||
			    sealstore_pages(s) != (uint64_t)vec_int(res, "npages"))
				vec_fail(&t, (long long)i, "%s: counter %llu, %llu pages",
				    vec_str(c, "name"),
				    (unsigned long long)sealstore_counter(s),
				    (unsigned long long)sealstore_pages(s));
			json_array_foreach(json_object_get(res, "pages_sha256"), j, hv) {
				size_t got_n;

				assert_int_equal(sealstore_read(s, j + 1, page), 0);
				assert_int_equal(coffer_sha256(page, P, h), 0);
				assert_int_equal(coffer_hex_decode(json_string_value(hv), 64,
				    want, 32, &got_n), 0);
				if (memcmp(h, want, 32) != 0)
					vec_fail(&t, (long long)i, "%s: page %zu",
					    vec_str(c, "name"), j + 1);
			}
			sealstore_close(s);
			/* The checkpoint at open left a log of one record that
			 * opens to the same state. */
			assert_int_equal(sealstore_open(d.dir, k, id, &s), 0);
			assert_int_equal(sealstore_counter(s), vec_int(res, "counter"));
			sealstore_close(s);
		}
		vec_ran(&t);
		tdir_rm(&d);
	}
	assert_true(t.ran >= 29);
	assert_int_equal(vec_report(&t), 0);
	coffer_buf_release(&db);
	coffer_buf_release(&log);
	json_decref(root);
}

static void
test_sealstore__commits_survive_reopening_and_uncommitted_writes_do_not(void **state)
{
	struct sealstore *s = NULL;
	uint8_t page[P];
	struct tdir d;

	(void)state;
	tdir_make(&d);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	assert_int_equal(sealstore_counter(s), 0);
	assert_int_equal(sealstore_pages(s), 0);
	assert_int_equal(sealstore_read(s, 1, page), COFFER_E_NOTFOUND);
	/* Nothing written: no commit. */
	assert_int_equal(sealstore_commit(s), 0);
	assert_int_equal(sealstore_counter(s), 0);
	write_page(s, 1, 1);
	write_page(s, 3, 1);                   /* page 2: a hole, zeros */
	expect_page(s, 3, 1);
	assert_int_equal(sealstore_commit(s), 0);
	assert_int_equal(sealstore_counter(s), 1);
	assert_int_equal(sealstore_read(s, 2, page), 0);
	for (size_t i = 0; i < P; i++)
		assert_int_equal(page[i], 0);
	write_page(s, 1, 2);
	assert_int_equal(sealstore_commit(s), 0);
	write_page(s, 2, 9);                   /* never committed */
	sealstore_close(s);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	assert_int_equal(sealstore_counter(s), 2);
	assert_int_equal(sealstore_pages(s), 3);
	expect_page(s, 1, 2);
	expect_page(s, 3, 1);
	assert_int_equal(sealstore_read(s, 2, page), 0);
	assert_int_equal(page[0], 0);
	/* A second process cannot open it. */
	{
		struct sealstore *s2 = NULL;
		pid_t pid = fork();

		if (pid == 0)
			_exit(sealstore_open(d.dir, key, sid, &s2) == COFFER_E_BUSY ? 0 : 1);
		assert_true(pid > 0);
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* Another key is refused by the header MAC, another id by O6. */
	sealstore_close(s);
	{
		uint8_t k2[32] = { 9 }, id2[16] = { 9 };

		assert_int_equal(sealstore_open(d.dir, k2, sid, &s), COFFER_E_AUTH);
		assert_int_equal(sealstore_open(d.dir, key, id2, &s), COFFER_E_WRONG_KEY);
	}
	tdir_rm(&d);
}

/* The log cut at every length a crash could leave opens to the last
 * whole commit before the cut, never to anything else. */
static void
test_sealstore__a_torn_log_opens_at_its_last_whole_commit(void **state)
{
	struct coffer_buf log = COFFER_BUF_INIT((size_t)1 << 26),
	    db = COFFER_BUF_INIT((size_t)1 << 26);
	size_t ends[8], nends = 0;
	struct sealstore *s = NULL;
	struct tdir d;

	(void)state;
	tdir_make(&d);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	write_page(s, 1, 1);
	assert_int_equal(sealstore_commit(s), 0);
	/* From here on, no checkpoint: keep the records. */
	get_file(d.db, &db);
	for (unsigned c = 2; c <= 5; c++) {
		write_page(s, 1, c);
		write_page(s, c, c);
		assert_int_equal(sealstore_commit(s), 0);
		struct stat st;

		assert_int_equal(stat(d.log, &st), 0);
		ends[nends++] = (size_t)st.st_size;
	}
	/* What a crash leaves: these files, without the checkpoint of a
	 * clean close (which runs now, then the files are put back). */
	get_file(d.log, &log);
	sealstore_close(s);
	for (size_t cut = ends[0] - 200; cut <= log.len; cut += 997) {
		unsigned want = 1;

		for (size_t e = 0; e < nends; e++)
			if (cut >= ends[e])
				want = (unsigned)e + 2;
		put_file(d.db, db.data, db.len);
		put_file(d.log, log.data, cut);
		assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
		assert_int_equal(sealstore_counter(s), want);
		expect_page(s, 1, want);
		sealstore_close(s);
	}
	coffer_buf_release(&log);
	coffer_buf_release(&db);
	tdir_rm(&d);
}

static void
test_sealstore__a_page_put_back_or_changed_is_refused(void **state)
{
	struct coffer_buf old = COFFER_BUF_INIT((size_t)1 << 26),
	    cur = COFFER_BUF_INIT((size_t)1 << 26);
	struct sealstore *s = NULL;
	uint8_t page[P];
	struct tdir d;
	char save_db[200], save_log[200];
	int fd;

	(void)state;
	tdir_make(&d);
	snprintf(save_db, sizeof(save_db), "%s/old.db", d.dir);
	snprintf(save_log, sizeof(save_log), "%s/old.log", d.dir);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	for (uint64_t p = 1; p <= 4; p++)
		write_page(s, p, 1);
	assert_int_equal(sealstore_commit(s), 0);
	assert_int_equal(sealstore_checkpoint(s), 0);
	copy_file(d.db, save_db);
	copy_file(d.log, save_log);
	write_page(s, 2, 2);
	assert_int_equal(sealstore_commit(s), 0);
	/* While running: page 2's slot put back to version 1. */
	get_file(save_db, &old);
	assert_true((fd = open(d.db, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, old.data + SEALSTORE_HEADER + SEALSTORE_SLOT,
	    SEALSTORE_SLOT, SEALSTORE_HEADER + SEALSTORE_SLOT), SEALSTORE_SLOT);
	assert_int_equal(sealstore_read(s, 2, page), COFFER_E_AUTH);
	/* A flipped ciphertext byte in page 3 is caught by its tag. */
	assert_int_equal(pwrite(fd, "X", 1, SEALSTORE_HEADER + 2 * SEALSTORE_SLOT + 100), 1);
	assert_int_equal(sealstore_read(s, 3, page), COFFER_E_AUTH);
	close(fd);
	sealstore_close(s); /* the checkpoint syncs what is on disk */
	/* At rest: state.db with page 2 of version 1 under the new log. */
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), COFFER_E_AUTH);
	assert_non_null(strstr(coffer_errdetail(), "O12"));
	/* The whole older copy opens: only the audit log catches that, and
	 * the counter says it is older. */
	copy_file(save_db, d.db);
	copy_file(save_log, d.log);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	assert_int_equal(sealstore_counter(s), 1);
	expect_page(s, 2, 1);
	sealstore_close(s);
	coffer_buf_release(&old);
	coffer_buf_release(&cur);
	tdir_rm(&d);
}

/* Growing, shrinking and rewriting across groups of 256 pages: the root
 * kept incrementally is the one recomputed from the file at open. */
static void
test_sealstore__incremental_root_matches_a_full_one(void **state)
{
	struct sealstore *s = NULL;
	uint8_t page[P];
	struct tdir d;

	(void)state;
	tdir_make(&d);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	for (uint64_t p = 1; p <= 600; p++)
		write_page(s, p, 1);
	assert_int_equal(sealstore_commit(s), 0);
	write_page(s, 5, 2);
	write_page(s, 300, 2);
	write_page(s, 599, 2);
	assert_int_equal(sealstore_commit(s), 0);
	assert_int_equal(sealstore_truncate(s, 257), 0);
	write_page(s, 257, 3);
	assert_int_equal(sealstore_commit(s), 0);
	write_page(s, 700, 4);                  /* grows past a hole */
	assert_int_equal(sealstore_commit(s), 0);
	assert_int_equal(sealstore_truncate(s, 256), 0);
	assert_int_equal(sealstore_commit(s), 0); /* a shrink alone */
	write_page(s, 300, 5);
	assert_int_equal(sealstore_commit(s), 0);
	/* The open recomputes the root from state.db's slots and compares
	 * it with the one the commits kept. */
	sealstore_close(s);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	assert_int_equal(sealstore_counter(s), 6);
	assert_int_equal(sealstore_pages(s), 300);
	expect_page(s, 5, 2);
	expect_page(s, 256, 1);
	expect_page(s, 300, 5);
	assert_int_equal(sealstore_read(s, 299, page), 0);
	assert_int_equal(page[0], 0);
	assert_int_equal(sealstore_read(s, 301, page), COFFER_E_NOTFOUND);
	/* Cut to 100 and extended to 300 in one commit: pages 101 to 299,
	 * not written again, are zeros, as in a file cut and extended. */
	assert_int_equal(sealstore_truncate(s, 100), 0);
	write_page(s, 300, 6);
	assert_int_equal(sealstore_read(s, 200, page), 0);
	assert_int_equal(page[0], 0);
	assert_int_equal(sealstore_commit(s), 0);
	assert_int_equal(sealstore_read(s, 256, page), 0);
	assert_int_equal(page[0], 0);
	sealstore_close(s);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	assert_int_equal(sealstore_read(s, 256, page), 0);
	for (size_t i = 0; i < P; i++)
		assert_int_equal(page[i], 0);
	expect_page(s, 100, 1);
	expect_page(s, 300, 6);
	sealstore_close(s);
	tdir_rm(&d);
}

/* Lazy commits: in the log at once (a kill loses nothing), in state.db
 * only after a sync, so losing the unsynced end of the log (a power loss)
 * opens at the last durable commit instead of refusing a mix. */
static void
test_sealstore__lazy_commits_survive_a_kill_and_a_power_loss_loses_only_them(void **state)
{
	struct coffer_buf db = COFFER_BUF_INIT((size_t)1 << 26),
	    log = COFFER_BUF_INIT((size_t)1 << 26);
	struct sealstore *s = NULL;
	struct stat st;
	size_t synced;
	struct tdir d;

	(void)state;
	tdir_make(&d);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	write_page(s, 1, 1);
	write_page(s, 2, 1);
	assert_int_equal(sealstore_commit(s), 0);
	/* Commit 1 only in state.db, no longer in the log: a lazy slot put
	 * in state.db too early could not be undone by a replay. */
	assert_int_equal(sealstore_checkpoint(s), 0);
	assert_int_equal(stat(d.log, &st), 0);
	synced = (size_t)st.st_size;
	write_page(s, 1, 2);
	assert_int_equal(sealstore_commit_lazy(s), 0);
	write_page(s, 2, 3);
	write_page(s, 3, 3);
	assert_int_equal(sealstore_commit_lazy(s), 0);
	expect_page(s, 1, 2);     /* read back from memory */
	expect_page(s, 2, 3);
	get_file(d.db, &db);
	get_file(d.log, &log);
	assert_true(log.len > synced);
	sealstore_close(s);
	/* A kill: the files as they were, log complete. */
	put_file(d.db, db.data, db.len);
	put_file(d.log, log.data, log.len);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	assert_int_equal(sealstore_counter(s), 3);
	expect_page(s, 1, 2);
	expect_page(s, 3, 3);
	sealstore_close(s);
	/* A power loss: the unsynced end of the log is gone; state.db has
	 * none of the lazy slots, so it opens at commit 1. */
	put_file(d.db, db.data, db.len);
	put_file(d.log, log.data, synced);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	assert_int_equal(sealstore_counter(s), 1);
	expect_page(s, 1, 1);
	expect_page(s, 2, 1);
	/* A durable commit after lazy ones makes them all durable. */
	write_page(s, 1, 4);
	assert_int_equal(sealstore_commit_lazy(s), 0);
	write_page(s, 2, 4);
	assert_int_equal(sealstore_commit(s), 0);
	/* So does a sync (what a signed audit-log head waits for): the lazy
	 * slots reach state.db then, not before. */
	get_file(d.db, &db);
	write_page(s, 3, 5);
	assert_int_equal(sealstore_commit_lazy(s), 0);
	get_file(d.db, &log);
	assert_true(log.len == db.len && memcmp(log.data, db.data, db.len) == 0);
	assert_int_equal(sealstore_sync(s), 0);
	get_file(d.db, &log);
	assert_false(log.len == db.len && memcmp(log.data, db.data, db.len) == 0);
	sealstore_close(s);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	assert_int_equal(sealstore_counter(s), 4);
	expect_page(s, 1, 4);
	expect_page(s, 2, 4);
	expect_page(s, 3, 5);
	sealstore_close(s);
	coffer_buf_release(&db);
	coffer_buf_release(&log);
	tdir_rm(&d);
}

static void
test_sealstore__refuses_a_commit_over_its_limit(void **state)
{
	struct sealstore *s = NULL;
	struct tdir d;

	(void)state;
	tdir_make(&d);
	assert_int_equal(sealstore_open(d.dir, key, sid, &s), 0);
	write_page(s, SEALSTORE_MAX_COMMIT + 1, 1);
	assert_int_equal(sealstore_commit(s), COFFER_E_LIMIT);
	/* Nothing was committed; the store still works. */
	assert_int_equal(sealstore_counter(s), 0);
	assert_int_equal(sealstore_truncate(s, 10), 0);
	assert_int_equal(sealstore_commit(s), 0);
	assert_int_equal(sealstore_counter(s), 1);
	assert_int_equal(sealstore_pages(s), 10);
	sealstore_close(s);
	tdir_rm(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sealstore__opens_or_refuses_every_vector_by_its_rule),
		cmocka_unit_test(test_sealstore__commits_survive_reopening_and_uncommitted_writes_do_not),
		cmocka_unit_test(test_sealstore__a_torn_log_opens_at_its_last_whole_commit),
		cmocka_unit_test(test_sealstore__a_page_put_back_or_changed_is_refused),
		cmocka_unit_test(test_sealstore__incremental_root_matches_a_full_one),
		cmocka_unit_test(test_sealstore__lazy_commits_survive_a_kill_and_a_power_loss_loses_only_them),
		cmocka_unit_test(test_sealstore__refuses_a_commit_over_its_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
