/* SPDX-License-Identifier: Apache-2.0 */
/* The manager's job store on SQLite in WAL mode: API tokens (hashed), jobs
 * and their states, the monitor's timeline and every controller decision
 * (schema in doc/manager.md section "Job store"). */
#ifndef COFFER_MANAGER_DB_H
#define COFFER_MANAGER_DB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "manager/monitor.h"
#include "http/router.h"

#define MGR_DB_SCHEMA_VERSION 1
#define MGR_TOKEN_HASH_LEN 32

struct mgr_db;

/* Open (creating and migrating) the store at path. Errors: COFFER_E_DB
 * (the detail has SQLite's message), COFFER_E_VERSION (a newer schema). */
int mgr_db_open(const char *path, struct mgr_db **out)
	__attribute__((warn_unused_result));
void mgr_db_close(struct mgr_db *db);

/* Small key/value settings ("incarnation"). get: COFFER_E_NOTFOUND. */
int mgr_db_meta_get(struct mgr_db *db, const char *key, char *out,
    size_t outlen) __attribute__((warn_unused_result));
int mgr_db_meta_set(struct mgr_db *db, const char *key, const char *value)
	__attribute__((warn_unused_result));

/* Tokens: only SHA-256 digests are stored. check compares the digest with
 * every stored one in constant time: 0 and *scope, or COFFER_E_AUTH. */
int mgr_db_token_add(struct mgr_db *db, const char *name, enum http_scope scope,
    const uint8_t hash[MGR_TOKEN_HASH_LEN]) __attribute__((warn_unused_result));
int mgr_db_token_check(struct mgr_db *db, const uint8_t hash[MGR_TOKEN_HASH_LEN],
    enum http_scope *scope) __attribute__((warn_unused_result));
/* Calls fn for each token (id, name, scope name, created unix ms). */
int mgr_db_token_list(struct mgr_db *db, void (*fn)(int64_t id,
    const char *name, const char *scope, int64_t created_ms, void *arg),
    void *arg) __attribute__((warn_unused_result));

/* Delete token id. COFFER_E_NOTFOUND if there is none. */
int mgr_db_token_revoke(struct mgr_db *db, int64_t id)
	__attribute__((warn_unused_result));
/* The id, name and scope of the token with this digest (constant-time
 * comparison, as check); COFFER_E_AUTH if unknown. name gets at most
 * namelen - 1 bytes. */
int mgr_db_token_find(struct mgr_db *db, const uint8_t hash[MGR_TOKEN_HASH_LEN],
    int64_t *id, char *name, size_t namelen, enum http_scope *scope)
	__attribute__((warn_unused_result));

/* A job row. Strings are owned by the record (mgr_job_rec_release). */
struct mgr_job_rec {
	char id[65];
	char kind[16];        /* "native" or "asperathos" */
	char state[16];       /* jobstate.h names */
	char *reason;         /* why it is in its state; may be NULL */
	char *spec;           /* normalised job JSON (jobspec.h) */
	char *notes;          /* JSON object: ignored/stored fields; may be NULL */
	char *redis_url;      /* the queue's server */
	int64_t submitted_ms; /* wall clock, Unix ms */
	int64_t started_ms;   /* 0: not started */
	int64_t finished_ms;  /* 0: not finished */
	int loaded;           /* items are in the queue */
	int64_t total;        /* how many were loaded; -1 before */
};
void mgr_job_rec_release(struct mgr_job_rec *j);

int mgr_db_job_insert(struct mgr_db *db, const struct mgr_job_rec *j)
	__attribute__((warn_unused_result));
/* Update state, reason (NULL keeps it), and the times (0 keeps them). */
int mgr_db_job_set_state(struct mgr_db *db, const char *id, const char *state,
    const char *reason, int64_t started_ms, int64_t finished_ms)
	__attribute__((warn_unused_result));
int mgr_db_job_set_loaded(struct mgr_db *db, const char *id, int64_t total)
	__attribute__((warn_unused_result));
/* Delete the job with its timeline and decisions. */
int mgr_db_job_delete(struct mgr_db *db, const char *id)
	__attribute__((warn_unused_result));
/* Every job in submission order; fn returns non-zero to stop (and that
 * value is returned). The record is only valid during the call. */
int mgr_db_jobs_foreach(struct mgr_db *db,
    int (*fn)(const struct mgr_job_rec *j, void *arg), void *arg)
	__attribute__((warn_unused_result));

/* Timeline. seq numbers samples of one job from 1. */
int mgr_db_sample_add(struct mgr_db *db, const char *id, int64_t seq,
    const struct mgr_sample *s) __attribute__((warn_unused_result));
/* The latest sample and its seq, and how many the job has;
 * COFFER_E_NOTFOUND when none. */
int mgr_db_sample_last(struct mgr_db *db, const char *id, struct mgr_sample *s,
    int64_t *seq, int64_t *count) __attribute__((warn_unused_result));
/* Delete every second sample of the older half of the job's timeline. */
int mgr_db_samples_thin(struct mgr_db *db, const char *id)
	__attribute__((warn_unused_result));
/* Append samples with seq > since (at most limit) to arr as objects. */
int mgr_db_samples_json(struct mgr_db *db, const char *id, int64_t since,
    int limit, json_t *arr) __attribute__((warn_unused_result));

/* Every sample of a job in order (seq), for reports. fn returns non-zero
 * to stop (returned). */
int mgr_db_samples_foreach(struct mgr_db *db, const char *id,
    int (*fn)(const struct mgr_sample *s, void *arg), void *arg)
	__attribute__((warn_unused_result));

/* A controller decision with the observation it was made on. */
struct mgr_decision {
	double t_s;
	int from;             /* desired count before */
	int decided;          /* what the controller answered */
	int to;               /* after clamping to [min, max] */
	uint32_t flags;       /* COFFER_CTL_* */
	int rc;               /* decide()'s return code (0 ok) */
	char reason[256];
	const char *inputs;   /* JSON object text of the observation */
};
int mgr_db_decision_add(struct mgr_db *db, const char *id, int64_t seq,
    const struct mgr_decision *d) __attribute__((warn_unused_result));
/* The highest decision seq of a job (0 when none). */
int mgr_db_decision_last_seq(struct mgr_db *db, const char *id, int64_t *seq)
	__attribute__((warn_unused_result));
int mgr_db_decisions_json(struct mgr_db *db, const char *id, int64_t since,
    int limit, json_t *arr) __attribute__((warn_unused_result));

/* A sample as a JSON object (used by the API and the store). */
json_t *mgr_sample_json(const struct mgr_sample *s);

#endif
