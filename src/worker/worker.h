/* SPDX-License-Identifier: Apache-2.0 */
/* coffer-worker's private declarations: its configuration (flags and
 * environment, doc/worker.md section 2) and the per-item pipeline. */
#ifndef COFFER_WORKER_H
#define COFFER_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "coffer/app.h"
#include "lib/buf.h"
#include "proto/itemproof.h"
#include "queue/queue.h"
#include "store/store.h"

#define WORKER_MAX_PARAMS 64
/* The parameters an app may get in all: a confidential job's (its
 * policy's 64, 32 limits as coffer.limit.*, and coffer.app_secret). */
#define APP_MAX_PARAMS 128
#define WORKER_MAX_APP_ARGS 32
#define WORKER_MAX_APP_ENV 128
#define WORKER_ERR_MAX 1024
#define WORKER_MAX_OWNERS 256
#define WORKER_OWNER_MAX 128
/* Items a runner holds at once (--batch): at most the shared page's
 * slots; by default in a confidential job (doc/worker.md 9.4, "Why 64
 * in a confidential job": chosen by measurement, BENCHMARKS.md). */
#define WORKER_BATCH_MAX 64
#define WORKER_BATCH_DEFAULT 64

enum app_kind {
	APP_KIND_AUTO = 0,
	APP_KIND_PLUGIN = 1,
	APP_KIND_EXEC = 2,
};

struct worker_config {
	char *job;
	char *redis_url;
	char *store;          /* where inputs are */
	char *outputs;        /* where outputs go; NULL = store */
	char *output_prefix;  /* key prefix of outputs */
	char *app;            /* plugin .so or executable */
	int app_kind;
	char *app_args[WORKER_MAX_APP_ARGS + 1]; /* exec apps: extra argv */
	int napp_args;
	struct coffer_app_param params[WORKER_MAX_PARAMS];
	size_t nparams;
	char *worker_id;
	int lease_ms;
	int max_attempts;
	int backoff_ms;
	size_t max_item_bytes;
	int item_timeout_ms;  /* 0 = none */
	int allow_empty_output;
	int batch;            /* items held at once (doc/worker.md 9.4) */
	int exit_when_done;
	int stop_exit_status; /* exit status after a stop by SIGTERM/SIGINT
	                         (COFFER_STOP_EXIT_STATUS; default 0) */
	int check_app;        /* --check-app: load the app, print, exit */
	int describe_app;     /* --describe-app: its declarations as JSON */
	char *reduce_key;     /* --reduce KEY: run the reduce stage */
	/* Exec apps: names of the worker's environment variables they get
	 * besides the fixed ones (doc/worker.md 4.3); never COFFER_* or
	 * REDIS_*. */
	char *app_env[WORKER_MAX_APP_ENV];
	int napp_env;
	/* Who owns which input (doc/worker.md 2.1): --owner PREFIX=NAME or
	 * COFFER_OWNERS; the longest matching prefix names an item's owner.
	 * Plaintext jobs only: a confidential job takes owners from its
	 * policy (worker/confidential.h). */
	struct worker_owner {
		char *prefix;
		char *name;
	} owners[WORKER_MAX_OWNERS];
	int nowners;
	/* A confidential job (doc/worker.md section 9): all NULL for a
	 * plaintext one. */
	char *coordinator;    /* http://HOST[:PORT] */
	char *coord_job;      /* the coordinator's job id, 32 hex digits */
	char *tee_backend;    /* sim, sgx-gramine, tsm */
	char *measured;       /* the measured configuration file */
	char *collateral;     /* TCB Info, CRLs, ... for the coordinator's evidence */
	/* A standby worker's (doc/worker.md 2.2): when its assignment came
	 * (monotonic ms; 0: a cold start), from which ready_ms counts. */
	int64_t assigned_ms;
};

/* 1 if the job is confidential (a coordinator is configured). */
#define WORKER_CONFIDENTIAL(cfg) ((cfg)->coordinator != NULL)
/* 1 if the app is a plugin called in the runner's own process: a
 * plaintext job's (a confidential job's runs in its host, 9.1). */
#define worker_plugin_in_process(cfg) \
	((cfg)->app_kind == APP_KIND_PLUGIN && !WORKER_CONFIDENTIAL(cfg))

/* Parse flags over the environment (flags win). Prints nothing; on error
 * the detail says which flag or variable. */
int worker_config_parse(int argc, char **argv, struct worker_config *c)
	__attribute__((warn_unused_result));
/* After parsing, before serving: outputs that would overwrite inputs
 * refused (COFFER_E_INVAL), the default worker id made (replica: the
 * COFFER_REPLICA_ID, or NULL; doc/worker.md 2). Prints nothing. */
int worker_config_ready(struct worker_config *c, const char *replica)
	__attribute__((warn_unused_result));
/* A standby worker's deployment settings from the environment (doc/worker.md
 * 9.9): COFFER_COORDINATOR_URL, _TEE_BACKEND, _MEASURED_CONFIG,
 * _COLLATERAL, checked as for a confidential job but without its job;
 * c->coordinator NULL: a plaintext standby worker. */
int worker_config_standby(struct worker_config *c)
	__attribute__((warn_unused_result));
/* Where the variables come from: the value of name, or NULL if unset. */
typedef const char *worker_lookup_fn(void *arg, const char *name);
/* getenv(name). */
const char *worker_lookup_env(void *arg, const char *name);
/* worker_config_parse with the variables from get(arg, NAME) instead of
 * the environment (a standby worker's assignment, doc/worker.md 2.2). */
int worker_config_parse_vars(int argc, char **argv, worker_lookup_fn *get,
    void *arg, struct worker_config *c) __attribute__((warn_unused_result));
void worker_config_release(struct worker_config *c);
/* The usage text. */
extern const char worker_usage[];

/*
 * Decode "k=v&k2=v2" (COFFER_PARAMS; %XX escapes in keys and values) into
 * c->params, appending. Keys are 1-64 chars of [A-Za-z0-9_.-].
 */
int worker_params_decode(const char *s, struct worker_config *c)
	__attribute__((warn_unused_result));
int worker_param_add(struct worker_config *c, const char *kv)
	__attribute__((warn_unused_result));

/*
 * Owner map (doc/worker.md 2.1). worker_owner_add() takes "PREFIX=NAME"
 * (what = the flag or variable, for errors); PREFIX is 0-1024 printable
 * ASCII characters without space, NAME 1-128 without space or control
 * characters; a prefix given twice is an error. worker_owners_decode()
 * takes COFFER_OWNERS ("p=n&p2=n2", %XX escapes). worker_owner_of()
 * returns the name whose prefix is the longest one id starts with, or
 * NULL. worker_owner_check_name() validates a name (also for coffer run).
 */
int worker_owner_add(struct worker_config *c, const char *what, const char *kv)
	__attribute__((warn_unused_result));
int worker_owners_decode(const char *s, struct worker_config *c)
	__attribute__((warn_unused_result));
const char *worker_owner_of(const struct worker_config *c, const char *id);

/*
 * A standby worker's assignment (assign.c, doc/worker.md 2.2): lines
 * NAME=VALUE, each ended by LF, then an empty line; at most
 * WORKER_ASSIGN_MAX bytes in all. NAME is [A-Za-z_][A-Za-z0-9_]{0,127},
 * VALUE any bytes but NUL, CR and LF; a name given twice, a line without
 * '=' or a bad name is an error that names the line.
 */
#define WORKER_ASSIGN_MAX 65536
#define WORKER_ASSIGN_MAX_VARS 1024
struct worker_assign {
	char *text;                 /* owned: names and values point in it */
	size_t n;
	const char *name[WORKER_ASSIGN_MAX_VARS];
	const char *value[WORKER_ASSIGN_MAX_VARS];
};
/* Read from fd up to the empty line (bytes after it are not looked at)
 * into out (its max at least WORKER_ASSIGN_MAX + 1). *closed = 1 and 0
 * returned if fd reached EOF first (nothing was assigned: out has what
 * came); COFFER_E_LIMIT past WORKER_ASSIGN_MAX bytes; COFFER_E_IO. A
 * read interrupted by a signal returns COFFER_E_CANCELLED if *stop. */
int worker_assign_read(int fd, volatile sig_atomic_t *stop,
    struct coffer_buf *out, int *closed) __attribute__((warn_unused_result));
/* Parse the len bytes of s (the lines, the final empty line optional)
 * into a; on error a is left empty. Release with worker_assign_release. */
int worker_assign_parse(const char *s, size_t len, struct worker_assign *a)
	__attribute__((warn_unused_result));
void worker_assign_release(struct worker_assign *a);
/* worker_lookup_fn over a struct worker_assign: its value or NULL. */
const char *worker_assign_get(void *a, const char *name);

/*
 * The standby worker (standby.c, doc/worker.md 2.2). standby_is_on: 1 if
 * COFFER_STANDBY=1. standby_log_ready logs "worker standby ready" with the
 * ms since t0_ms and the process's CPU. standby_wait reads and parses the
 * assignment from stdin into a: 0, or non-zero with *status the exit
 * status to leave with (0: stdin closed or a stop signal first, nothing
 * printed; 2: a malformed assignment, printed). standby_config parses the
 * configuration from the assignment over the environment and puts the
 * assignment's variables an executable app is given into the environment.
 * standby_lookup: the assignment's value of name, else the environment's.
 * standby_log_file: stdout and stderr appended to the assignment's
 * COFFER_LOG_FILE, if it has one (COFFER_E_IO if it cannot be opened).
 */
int standby_is_on(void);
void standby_log_ready(int64_t t0_ms);
int standby_wait(volatile sig_atomic_t *stop, struct worker_assign *a,
    int *status) __attribute__((warn_unused_result));
int standby_config(struct worker_assign *a, struct worker_config *cfg)
	__attribute__((warn_unused_result));
const char *standby_lookup(const struct worker_assign *a, const char *name);
int standby_log_file(const struct worker_assign *a)
	__attribute__((warn_unused_result));

/* --describe-app (describe.c): print {"name", "version", "kind", "reduce",
 * "params"} for the app without calling any of its functions but the
 * entry point; 0, or 1 after printing the error. */
int worker_describe_app(const struct worker_config *cfg);

struct app;
struct worker_shared;
struct conf_job;

/*
 * The process split (doc/worker.md 4.2): the supervisor (the coffer-worker
 * process) holds the item's lease and renews it; the runner, its child,
 * loads the app and runs the item loop. A runner that crashes, hangs past
 * the item timeout or loses its lease is killed and replaced; the item's
 * fate is recorded from what the runner left in the shared page.
 */
enum runner_mode {
	RUNNER_SERVE = 0,  /* the item loop */
	RUNNER_CHECK = 1,  /* load the app, report, exit (--check-app) */
	RUNNER_REDUCE = 2, /* the reduce stage (--reduce) */
	RUNNER_WARM = 3,   /* the item loop, the first runner of a standby
	                      worker: ready_ms counts from its assignment */
};
/* Runner exit statuses. */
#define RUNNER_EXIT_OK 0       /* stopped, or the job is finished */
#define RUNNER_EXIT_NOAPP 3    /* the app could not be loaded */
#define RUNNER_EXIT_NOREDIS 4  /* Redis unreachable for 60 s */
#define RUNNER_EXIT_FAIL 5     /* anything else (reduce failed, ...) */
#define RUNNER_EXIT_NOKEYS 6   /* a confidential job could not start: the
                                  coordinator refused or is not the pinned one */
#define RUNNER_EXIT_REFUSED 7  /* ... for a reason no restart changes
                                  (conf_refused_for_good) */
/* coffer-worker's own exit status then (doc/worker.md section 2). */
#define WORKER_EXIT_REFUSED 3

/* Never returns: exits with a RUNNER_EXIT_* status. */
void runner_main(const struct worker_config *cfg, struct worker_shared *sh,
    int mode) __attribute__((noreturn));
/* A confidential standby worker's first runner (doc/worker.md 9.9):
 * the standby exchange with the deployment settings, then the assignment
 * read from fd (the supervisor's, checked), then the job as runner_main.
 * t0: when the worker started (monotonic ms). Never returns. */
void runner_standby_main(const struct worker_config *deploy,
    struct worker_shared *sh, int fd, int64_t t0) __attribute__((noreturn));
/* Returns the process's exit status. */
int supervisor_main(const struct worker_config *cfg, int mode);
/* A confidential standby worker's supervisor (doc/worker.md 9.9): its
 * runner started at once with the deployment settings, the assignment
 * read from stdin and handed on; then as supervisor_main. */
int supervisor_standby(const struct worker_config *deploy, int64_t t0);

/* Open the job's queue as this worker, retrying for up to 60 s while
 * Redis is unreachable (or until *stop). own_only: acks and fails settle
 * only items in this worker's in-flight list (the supervisor's handle,
 * doc/worker.md 4.2). */
int worker_open_queue(const struct worker_config *cfg, volatile int *stop,
    int own_only, struct coffer_queue **q) __attribute__((warn_unused_result));


/* What becomes of an item (doc/worker.md section 3). */
enum item_outcome {
	ITEM_ACK = 0,   /* done: acknowledge */
	ITEM_FAIL = 1,  /* failed: retry with back-off */
	ITEM_BURY = 2,  /* failed for good: dead-letter now */
	ITEM_STOP = 3,  /* the coordinator ended the job for this worker: fail
	                   the item and take no other */
};

/* Which proof a confidential item waits to have answered (9.4). */
enum item_prove {
	PROVE_NONE = 0,       /* none: the outcome is final */
	PROVE_OUTPUT = 1,     /* OK, its output stored: ack once answered */
	PROVE_APP_FAILED = 2, /* the app's reported failure (FAILED) */
	PROVE_REFUSAL = 3,    /* an input refused for its digest: bury once
	                         the coordinator has it */
};

struct item_result {
	enum item_outcome outcome;
	char err[WORKER_ERR_MAX];   /* the one-line error, unless ACK */
	size_t in_bytes, out_bytes; /* as fetched and as stored */
	int prove;                  /* enum item_prove */
	uint8_t proof[COFFER_ITEMPROOF_LEN]; /* its proof (PROVE_*) */
};

/* The running worker (in the runner). */
struct worker {
	const struct worker_config *cfg;
	struct coffer_queue *q;
	struct coffer_store *in;
	struct coffer_store *out;   /* may be the same as in */
	const char *prefix;         /* output key prefix */
	struct app *app;
	volatile int *stop;         /* set by SIGTERM/SIGINT */
	struct worker_shared *sh;   /* shared with the supervisor */
	int slot;                   /* the page's slot of the item in work */
	struct conf_job *job;       /* a confidential job's, or NULL */
	uint64_t items_done, items_failed;
	/* Reused from item to item (worker_bufs_init): the stored input and
	 * the app's output, and in a confidential job the opened input and
	 * the sealed output. */
	struct coffer_buf inbuf, outbuf, plainbuf, sealbuf;
	struct item_result res[WORKER_BATCH_MAX]; /* the batch's */
	int64_t steps_us, proof_us;  /* the last batch's steps 1-5, and proofs */
	int64_t app_us;              /* of steps_us, the app calls' */
};

/* The item buffers of w, bounded by the item limit max; those that hold
 * plaintext secret (wiped between items and at release), the sealed ones
 * not (w->cfg says which the input buffer is); released with
 * worker_bufs_release. */
void worker_bufs_init(struct worker *w, size_t max);
void worker_bufs_release(struct worker *w);

/*
 * Steps 1 to 5 of the pipeline for one leased item (fetch, open, app,
 * seal, store) and, in a confidential job, its proof made but not sent
 * (res->prove, res->proof); the queue is not touched. Uses w->in, w->out,
 * w->prefix, w->app, w->job and w->sh (both may be NULL), w->slot and
 * the buffers. Always fills *res; returns 0.
 */
int worker_item_steps(struct worker *w, const struct coffer_queue_item *it,
    struct item_result *res);

/*
 * worker_item_steps and the proof sent alone: steps 1 to 6, the outcome
 * final. ACK with an error: the app's failure is the item's committed
 * result (a confidential job). Always fills *res; returns 0.
 */
int worker_item_run(struct worker *w, const struct coffer_queue_item *it,
    struct item_result *res);

/*
 * The reduce stage of a confidential job (doc/worker.md 9.6): the map
 * results from the coordinator, each committed map output checked and
 * opened, the app's reduce, the result sealed, stored under
 * "<--reduce KEY>.<attempt id>" (its key in out_key, COFFER_STORE_KEY_MAX
 * + 2 bytes) and proved. *nadded: the map outputs given to the app. When
 * the app reports its own failure, *app_error is its code and the stage's
 * result is proved FAILED: 0 when the coordinator committed that (err says
 * the app's error), else non-zero. On failure err says why.
 */
int conf_reduce(struct worker *w, size_t *nadded, char *out_key,
    uint32_t *app_error, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Steps 1 to 6 of n leased items (at most WORKER_BATCH_MAX; slot i of
 * the page: its[i]): steps 1 to 5 of each in turn, then the proofs of
 * those that have one in one request (doc/worker.md 9.4); res[i] gets
 * each final outcome (STOP included), ms[i] its time (its own steps and
 * its share of the request). The queue is not touched. Returns 0.
 */
int worker_batch_run(struct worker *w, const struct coffer_queue_item *its,
    struct item_result *res, int64_t *ms, size_t n);

/*
 * Run the n leased items (1 to cfg->batch) through the pipeline
 * (doc/worker.md sections 3 and 9.4): steps 1 to 5 of each in turn, the
 * proofs of the batch in one request, then ack / fail / bury each as its
 * answer says, keeping the shared page up to date for the supervisor
 * (slot i: its[i]). Per-item problems are logged and recorded in the
 * queue; returns 0. Unless a stop was asked for, the acks also lease up
 * to cfg->batch waiting items (coffer_queue_ack_take): *got of them in
 * next[] (at least WORKER_BATCH_MAX entries), on the page already.
 */
int worker_batch(struct worker *w, struct coffer_queue_item *its, size_t n,
    struct coffer_queue_item *next, size_t *got);

#endif
