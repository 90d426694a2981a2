/* SPDX-License-Identifier: Apache-2.0 */
/* A job as the manager runs it, parsed and validated from the native JSON
 * of POST /v1/jobs (doc/api.md section "Job specification"), or built from
 * an Asperathos submission (asperathos.h). The normalised JSON form is what
 * the job store keeps, so a restarted manager parses it back. */
#ifndef COFFER_MANAGER_JOBSPEC_H
#define COFFER_MANAGER_JOBSPEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Limits on a job specification. */
#define MGR_JOB_MAX_ITEMS 1000000
#define MGR_JOB_MAX_REPLICAS 1000
#define MGR_JOB_MAX_PARAMS 64
#define MGR_JOB_MAX_ENV 128
#define MGR_JOB_MAX_ARGS 128
#define MGR_JOB_MAX_STRING 4096
/* expected_time_s: at least a second (below that, progress ratios and
 * deadlines overflow into infinities: 5e-324 was accepted once), at most
 * 366 days. */
#define MGR_JOB_MIN_EXPECTED_S 1.0
#define MGR_JOB_MAX_EXPECTED_S (366.0 * 24 * 3600)

/* Where the replicas' queue lives and which keys it uses. */
enum mgr_queue_layout {
	MGR_QUEUE_COFFER = 0,     /* coffer-worker replicas, Coffer's queue */
	MGR_QUEUE_ASPERATHOS = 1, /* the job's own consumer: lists "job" and
	                             "job:processing" (Asperathos semantics) */
};

struct mgr_kv {
	char *key;
	char *value;
};

struct mgr_jobspec {
	char *name;                 /* optional label */
	/* What each replica runs: app (by coffer-worker) or cmd (its own
	 * consumer of the queue). Exactly one is set. */
	char *app;
	struct mgr_kv *app_params;
	size_t napp_params;
	char **cmd;                 /* NULL-terminated argv */
	size_t ncmd;
	struct mgr_kv *env;         /* extra environment of the replicas */
	size_t nenv;
	int queue_layout;           /* enum mgr_queue_layout */

	/* Items: exactly one source. */
	char **items;
	size_t nitems;
	char *items_file;           /* a file on the manager's machine */
	char *items_url;            /* http(s):// or file:// */
	char *items_prefix;         /* every key under it in the input store */
	char *input_store;          /* where inputs are (NULL: manager default) */
	char *output_store;         /* where outputs go (NULL: input store) */
	char *output_prefix;

	/* Deadline: expected_time_s after the job starts. deadline_unix, if the
	 * submission gave an absolute time, is kept for display; the expected
	 * time is then computed from the submission time. */
	double expected_time_s;
	int64_t deadline_unix;      /* 0: none */

	int min_replicas;
	int max_replicas;
	int initial_replicas;

	char *controller;           /* built-in name or plugin path */
	double check_interval_s;
	struct mgr_kv *ctl_params;
	size_t nctl_params;

	char *actuator;             /* as asked for: "local", "k8s", ... */
	char *image;                /* container image, for the k8s actuator */
	int max_attempts;
	int lease_ms;
	double item_time_estimate_s; /* seconds an item takes, if the client
	                               knows (0: unknown): a deadline that cannot
	                               be met is warned of at submission */

	/* The TEE replicas run in (placement; "none", "sim", "sgx", "tdx",
	 * "snp"; NULL: none) and, for a confidential job, the coordinator
	 * (doc/manager.md section 9). */
	char *tee_backend;
	char *coordinator;          /* coordinator URL; NULL: the manager's */
	char *tee_policy;           /* the policy's hash (64 hex): set makes
	                               the job confidential */
	char *tee_app;              /* the policy's name of the app; NULL:
	                               the job's app */
	char *tee_job;              /* the coordinator's job id (32 hex), set
	                               by the manager when it opened the job;
	                               only in the stored form */
	json_t *tee_owners;         /* the policy's owners as the submission
	                               read them (approvals.h), for the
	                               approvals not to fetch the policy
	                               again; never stored: NULL after a
	                               restart */
	char *reduce;               /* the reduce stage's output key in the
	                               output store; NULL: no reduce stage
	                               (a confidential job whose policy app
	                               has one gets <prefix>result) */
};

/* Free everything a spec owns and zero it. A zeroed spec is a no-op. */
void mgr_jobspec_release(struct mgr_jobspec *s);

/*
 * Parse and validate the native job JSON. now_unix is the submission time
 * (an absolute "deadline" becomes expected_time_s = deadline - now_unix).
 * stored != 0 reads the store's normalised form, where "deadline" is only
 * informational next to "expected_time_s". Errors: COFFER_E_FORMAT with a
 * detail that starts with the field path ("replicas.max: 0 is out of range
 * [1, 1000]"); COFFER_E_LIMIT for too many items. Unknown fields are
 * refused. *out is written only on success.
 */
int mgr_jobspec_parse(const json_t *j, int64_t now_unix, int stored,
    struct mgr_jobspec *out) __attribute__((warn_unused_result));

/*
 * The same for a submission (stored = 0), reporting every field error of
 * the body: each is appended to errors as {"field": ..., "message": ...}
 * and the call goes on with the next field. Returns 0, or the first
 * error (COFFER_E_FORMAT, COFFER_E_LIMIT) when errors is not empty (*out
 * then has what parsed, to be released), or COFFER_E_NOMEM.
 */
int mgr_jobspec_parse_all(const json_t *j, int64_t now_unix,
    struct mgr_jobspec *out, json_t *errors)
	__attribute__((warn_unused_result));

/* The same from text (body of a request, or the stored form). */
int mgr_jobspec_parse_text(const char *text, size_t len, size_t max_bytes,
    int64_t now_unix, int stored, struct mgr_jobspec *out)
	__attribute__((warn_unused_result));

/* The normalised JSON form: every field explicit, parameters as strings;
 * parsing it again yields the same spec. NULL on allocation failure. */
json_t *mgr_jobspec_to_json(const struct mgr_jobspec *s);

/* The cross-field checks shared by both front ends (min <= initial <= max,
 * one item source, app xor cmd, ...). 0 or COFFER_E_FORMAT naming the
 * field. */
int mgr_jobspec_validate(const struct mgr_jobspec *s)
	__attribute__((warn_unused_result));

/* Helpers shared with the Asperathos front end. */
int mgr_kv_add(struct mgr_kv **kv, size_t *n, const char *key,
    const char *value) __attribute__((warn_unused_result));
/* A JSON scalar as the string a controller or app parameter takes:
 * strings as they are, integers in decimal, reals with %.17g, booleans as
 * "true"/"false". COFFER_E_FORMAT (naming ctx) for other types. */
int mgr_json_scalar_str(const json_t *v, const char *ctx, char *out,
    size_t outlen) __attribute__((warn_unused_result));
/* 1 if k is a portable environment variable name: [A-Za-z_][A-Za-z0-9_]*,
 * at most 128 characters. */
int mgr_env_name_valid(const char *k);
/* Duplicate a string checking its length (<= MGR_JOB_MAX_STRING) and that
 * it has no control characters; the error names ctx. */
int mgr_strdup_checked(const char *s, const char *ctx, char **out)
	__attribute__((warn_unused_result));

#endif
