// SPDX-License-Identifier: Apache-2.0
// Unit tests for the manager's job store (src/manager/db.c), its tokens
// (src/manager/tokens.c) and item lists (src/manager/workload.c).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "manager/db.h"
#include "manager/tokens.h"
#include "manager/workload.h"

struct fx {
	char dir[64];
	char path[128];
	struct mgr_db *db;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/coffer-mgrdb.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/m.db", f->dir);
	if (mgr_db_open(f->path, &f->db) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	mgr_db_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
test_tokens__only_the_created_token_is_accepted(void **state)
{
	struct fx *f = *state;
	char admin[MGR_TOKEN_STR_LEN], reader[MGR_TOKEN_STR_LEN], bad[MGR_TOKEN_STR_LEN];
	enum http_scope sc = HTTP_SCOPE_NONE;

	assert_int_equal(mgr_token_create(f->db, "ci", HTTP_SCOPE_ADMIN, admin), 0);
	assert_int_equal(mgr_token_create(f->db, "ro", HTTP_SCOPE_READ, reader), 0);
	assert_int_equal(strlen(admin), MGR_TOKEN_STR_LEN - 1);
	assert_memory_equal(admin, "cft_", 4);
	assert_string_not_equal(admin, reader);
	assert_int_equal(mgr_token_check(f->db, admin, &sc), 0);
	assert_int_equal(sc, HTTP_SCOPE_ADMIN);
	assert_int_equal(mgr_token_check(f->db, reader, &sc), 0);
	assert_int_equal(sc, HTTP_SCOPE_READ);
	/* One character changed, truncated, extended, empty, other prefix. */
	memcpy(bad, admin, sizeof(bad));
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	assert_int_equal(mgr_token_check(f->db, bad, &sc), COFFER_E_AUTH);
	bad[10] = admin[10];
	bad[20] = '\0';
	assert_int_equal(mgr_token_check(f->db, bad, &sc), COFFER_E_AUTH);
	assert_int_equal(mgr_token_check(f->db, "", &sc), COFFER_E_AUTH);
	memcpy(bad, admin, sizeof(bad));
	bad[0] = 'x';
	assert_int_equal(mgr_token_check(f->db, bad, &sc), COFFER_E_AUTH);
}

static int
collect(const struct mgr_job_rec *j, void *arg)
{
	struct mgr_job_rec *out = arg;

	if (strcmp(j->id, "job-2") == 0) {
		memcpy(out->id, j->id, sizeof(out->id));
		memcpy(out->state, j->state, sizeof(out->state));
		out->started_ms = j->started_ms;
		out->finished_ms = j->finished_ms;
		out->loaded = j->loaded;
		out->total = j->total;
		out->reason = strdup(j->reason ? j->reason : "");
	}
	return 0;
}

static void
test_db__jobs_states_survive_reopening(void **state)
{
	struct fx *f = *state;
	struct mgr_job_rec j, got;

	memset(&j, 0, sizeof(j));
	memset(&got, 0, sizeof(got));
	snprintf(j.kind, sizeof(j.kind), "native");
	snprintf(j.state, sizeof(j.state), "pending");
	j.spec = "{}";
	j.redis_url = "redis://127.0.0.1:1";
	j.submitted_ms = 1000;
	snprintf(j.id, sizeof(j.id), "job-1");
	assert_int_equal(mgr_db_job_insert(f->db, &j), 0);
	snprintf(j.id, sizeof(j.id), "job-2");
	assert_int_equal(mgr_db_job_insert(f->db, &j), 0);
	assert_int_equal(mgr_db_job_insert(f->db, &j), COFFER_E_EXISTS);
	assert_int_equal(mgr_db_job_set_state(f->db, "job-2", "running", "go",
	    5000, 0), 0);
	assert_int_equal(mgr_db_job_set_loaded(f->db, "job-2", 42), 0);
	assert_int_equal(mgr_db_job_set_state(f->db, "job-2", "completed", NULL,
	    0, 9000), 0);
	mgr_db_close(f->db);
	assert_int_equal(mgr_db_open(f->path, &f->db), 0);
	assert_int_equal(mgr_db_jobs_foreach(f->db, collect, &got), 0);
	assert_string_equal(got.id, "job-2");
	assert_string_equal(got.state, "completed");
	assert_string_equal(got.reason, "go");
	assert_int_equal(got.started_ms, 5000);
	assert_int_equal(got.finished_ms, 9000);
	assert_int_equal(got.loaded, 1);
	assert_int_equal(got.total, 42);
	free(got.reason);
	assert_int_equal(mgr_db_job_delete(f->db, "job-2"), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(mgr_db_jobs_foreach(f->db, collect, &got), 0);
	assert_string_equal(got.id, "");
}

static void
test_db__timeline_thins_and_decisions_stay(void **state)
{
	struct fx *f = *state;
	struct mgr_sample s, last;
	struct mgr_decision d;
	json_t *arr = json_array();
	int64_t seq = 0, count = 0, dseq = -1;

	memset(&s, 0, sizeof(s));
	assert_int_equal(mgr_db_sample_last(f->db, "j", &last, &seq, &count),
	    COFFER_E_NOTFOUND);
	for (int i = 1; i <= 100; i++) {
		s.t_s = i;
		s.c.total = 100;
		s.c.done = i;
		s.eta_s = -1;
		assert_int_equal(mgr_db_sample_add(f->db, "j", i, &s), 0);
	}
	assert_int_equal(mgr_db_sample_last(f->db, "j", &last, &seq, &count), 0);
	assert_int_equal(seq, 100);
	assert_int_equal(count, 100);
	assert_int_equal(last.c.done, 100);
	assert_int_equal(mgr_db_samples_thin(f->db, "j"), 0);
	assert_int_equal(mgr_db_sample_last(f->db, "j", &last, &seq, &count), 0);
	assert_int_equal(count, 75);
	assert_int_equal(seq, 100);
	assert_int_equal(mgr_db_samples_json(f->db, "j", 90, 1000, arr), 0);
	assert_int_equal(json_array_size(arr), 10);
	assert_true(json_is_null(json_object_get(json_array_get(arr, 0), "eta_s")));
	json_array_clear(arr);

	memset(&d, 0, sizeof(d));
	snprintf(d.reason, sizeof(d.reason), "e=-0.2: 1 -> 2");
	d.from = 1;
	d.decided = 9;
	d.to = 6;
	d.inputs = "{\"error\": -0.2}";
	assert_int_equal(mgr_db_decision_last_seq(f->db, "j", &dseq), 0);
	assert_int_equal(dseq, 0);
	assert_int_equal(mgr_db_decision_add(f->db, "j", 1, &d), 0);
	assert_int_equal(mgr_db_decision_last_seq(f->db, "j", &dseq), 0);
	assert_int_equal(dseq, 1);
	assert_int_equal(mgr_db_decisions_json(f->db, "j", 0, 10, arr), 0);
	assert_int_equal(json_array_size(arr), 1);
	assert_true(json_is_true(json_object_get(json_array_get(arr, 0), "clamped")));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0),
	    "to")), 6);
	assert_true(json_real_value(json_object_get(json_object_get(
	    json_array_get(arr, 0), "inputs"), "error")) == -0.2);
	json_decref(arr);
}

static void
test_workload__lines_become_items(void **state)
{
	struct mgr_workload w;
	const char text[] = "a\r\n\nb\nc";

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(mgr_workload_split(text, strlen(text), &w), 0);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.items[0], "a");
	assert_string_equal(w.items[1], "b");
	assert_string_equal(w.items[2], "c");
	mgr_workload_release(&w);
	assert_int_equal(mgr_workload_split("", 0, &w), 0);
	assert_int_equal(w.n, 0);
	mgr_workload_release(&w);
	assert_int_equal(mgr_workload_split("a\0b\n", 4, &w), COFFER_E_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tokens__only_the_created_token_is_accepted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_db__jobs_states_survive_reopening,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_db__timeline_thins_and_decisions_stay,
		    setup, teardown),
		cmocka_unit_test(test_workload__lines_become_items),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
