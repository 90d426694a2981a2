/* SPDX-License-Identifier: Apache-2.0 */
/* The confidential steps of the per-item pipeline (doc/worker.md sections
 * 3 and 9): open the sealed input (its digest the policy's, its key the
 * dataset's), seal the output (intermediate or output key), prove the
 * item to the coordinator before the ack. Without a job (plaintext, no
 * coordinator configured) each step passes the bytes through unchanged.
 * Apps only ever see what conf_open_input() produced. */
#ifndef COFFER_WORKER_CONFIDENTIAL_H
#define COFFER_WORKER_CONFIDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/app.h"
#include "lib/buf.h"
#include "proto/itemproof.h"
#include "proto/policy.h"
#include "worker/coord.h"
#include "worker/keys.h"
#include "worker/measured.h"

struct worker_config;
struct http_client;
struct conf_crypto;

/* A confidential job as the runner holds it after key release
 * (doc/worker.md 9.3). Keys only in `keys`. */
struct conf_job {
	uint8_t job[16];
	uint8_t session[16];
	uint64_t seq;                     /* the session's next proof */
	int reduce;                       /* map outputs take the intermediate key */
	struct job_keys *keys;
	struct coffer_policy *policy;
	const struct coffer_policy_app *app;
	struct coffer_policy_item *items; /* the app's items, sorted by key */
	size_t nitems;
	char **owners;                    /* per policy owner: the name apps see */
	struct coffer_app_param *params;  /* the app's parameters (9.3) */
	size_t nparams;
	int app_fd;                       /* the app file whose hash was checked */
	struct coord_transport t;
	struct http_client *http;         /* the worker's transport, or NULL */
	int proof_retry_ms;               /* how long a proof is sent again */
	volatile int *stop;               /* shortens that when set, or NULL */
	char stopped[512];                /* why the coordinator ended this worker */
	int warm;                         /* started by a bind (9.9), not a release */
	/* Contexts for the job's constant keys, kept from item to item
	 * (doc/worker.md 9.4): made by the first item that needs each, wiped
	 * by conf_job_crypto_free. NULL until then. */
	struct conf_crypto *crypto;
};

struct conf_standby;

/* Everything conf_job_open needs from outside. */
struct conf_start {
	const struct coord_transport *t;
	const struct measured_config *mc;
	const struct coffer_tee_anchors *anchors;
	const struct coffer_tee_collateral *coll;   /* may be NULL */
	int64_t at;                                 /* verification time */
	struct coord_attester att;
	uint8_t job[16];
	const char *app_path;                       /* the app file */
	int app_fd;       /* >= 0: that file, opened already (W6 reads it) */
	int retry_ms;     /* how long a coordinator that does not answer is
	                     tried again (doc/worker.md 9.3); 0: never */
	volatile int *stop;                         /* ends that, or NULL */
	/* A standby worker's session (doc/worker.md 9.9): bound for the job
	 * instead of the hello and the release; NULL: a cold start. */
	struct conf_standby *standby;
};

/* A standby session as the runner holds it between its standby exchange
 * and its bind (doc/protocol/key-release.md 6.7, doc/worker.md 9.9): the
 * coordinator it authenticated, the session's id, S in a key page, and
 * the settings it was made with. */
struct conf_standby {
	struct coord_peer peer;
	uint8_t id[16];
	struct job_keys *keys;            /* S: keys->standby_secret */
	char *coordinator, *tee_backend, *measured, *collateral;
};

/*
 * The standby exchange with the worker's deployment settings (cfg's
 * coordinator, TEE backend, measured configuration, collateral; no job):
 * the coordinator authenticated (CA1 to CA5), evidence over the standby
 * binding, the standby session (WS1 to WS3); tried again while the
 * coordinator does not answer (10 s, as a cold start). Errors: those of
 * worker/coord.h. Free with conf_standby_free (wipes S).
 */
int conf_standby_start(const struct worker_config *cfg, volatile int *stop,
    struct conf_standby **out) __attribute__((warn_unused_result));
/* 1 if the session was made with cfg's coordinator and TEE settings. */
int conf_standby_fits(const struct conf_standby *sb,
    const struct worker_config *cfg);
void conf_standby_free(struct conf_standby *sb);

/*
 * The start of a confidential job (doc/worker.md 9.3): authenticate the
 * coordinator (CA1 to CA5), key release (W1 to W4), the policy (W5), the
 * app file (W6), the keys of every dataset the app reads, the app's
 * parameters. The transport is copied. Errors: those of worker/coord.h,
 * COFFER_E_AUTH / _POLICY for W5 and W6 (the detail names the rule).
 */
int conf_job_open(const struct worker_config *cfg, const struct conf_start *s,
    struct conf_job **out) __attribute__((warn_unused_result));

/* conf_job_open with the worker's own settings: the measured
 * configuration file, HTTP to --coordinator, the --tee-backend, the
 * collateral, the clock; the app file cfg->app, or app_fd (>= 0) if the
 * caller opened it already (borrowed: the job keeps its own descriptor
 * of that open file). *stop (may be NULL) ends the retries of a
 * coordinator that does not answer. standby (may be NULL): a standby
 * session to bind if it fits cfg (conf_standby_fits), taken and freed
 * (S wiped) whatever happens; (*out)->warm says whether it was bound. */
int conf_job_start(const struct worker_config *cfg, int app_fd,
    volatile int *stop, struct conf_standby **standby, struct conf_job **out)
	__attribute__((warn_unused_result));

/* Wipes the keys and the parameters. NULL is a no-op. */
void conf_job_free(struct conf_job *j);
/* Wipes and frees j->crypto (conf_job_free calls it; whoever builds a
 * struct conf_job otherwise, a test or a bench, calls it before the keys
 * go: the contexts borrow them). */
void conf_job_crypto_free(struct conf_job *j);

/* 1 when conf_job_start's failure r (detail: coffer_errdetail()) is one
 * that no restart changes (doc/worker.md 9.3 "Refused for good"): the
 * coordinator's refusal of this worker or its job by name (an unapproved
 * or revoked measurement, a policy no longer active, a closed job, the
 * verification object's refusal), the worker's own W5, W6, CA4 and
 * CA5 checks, or what fails to authenticate (COFFER_E_AUTH). Not a
 * transport error, a missing key or collateral, a rollback or an unknown
 * job. */
int conf_refused_for_good(int r, const char *detail);

/* 1 when conf_job_start's failure r is the coordinator's `job.closed`:
 * the job is over (doc/worker.md 9.3), as when a proof is refused so; the
 * worker stops and exits 0, and whoever runs it asks the coordinator for
 * the job's outcome (doc/manager.md 9.4). */
int conf_job_over(int r, const char *detail);

/* What the coordinator's answer to a proof means for the item
 * (doc/format/item-proof.md WA2 to WA4). */
enum conf_verdict {
	CONF_ACK = 0,      /* the item has its one result: acknowledge */
	CONF_RETRY = 1,    /* a failure below fail_after: retry */
	CONF_BURY = 2,     /* input.mismatch: never retried */
	CONF_STOP = 3,     /* the job is over for this worker (j->stopped) */
};

struct conf_item {
	struct conf_job *job;             /* NULL: plaintext */
	const char *id;
	uint32_t attempt;
	uint8_t attempt_id[16];           /* drawn here, never the queue's */
	const struct coffer_policy_item *item;
	/* The data owner the input belongs to, or NULL (passed to the app,
	 * struct coffer_app_item.owner): set by the caller from the worker's
	 * owner map in a plaintext job (doc/worker.md 2.1); in a confidential
	 * job conf_open_input() sets it from the policy, to the owner whose
	 * dataset lists the object. */
	const char *owner;
	/* What the app reads (set by conf_open_input). */
	const uint8_t *plain;
	size_t plainlen;
	uint8_t input_digest[32];
	/* conf_open_input refused the input for its content digest (then
	 * input_digest is the one found): proved FAILED, input refused. */
	int input_refused;
	/* What is stored as the output (set by conf_seal_output). */
	const uint8_t *sealed;
	size_t sealedlen;
	uint8_t output_digest[32];
	/* A big input streamed (conf_stream_open, doc/worker.md 9.4 BI1 to
	 * BI7): plain is NULL, plainlen its plaintext's length. */
	struct conf_stream *stream;
	/* Storage of the plaintext input (secret) and the sealed output
	 * (need not be: it is what the store gets): the item's own, or the
	 * caller's (conf_item_init_bufs); reset on release either way. */
	struct coffer_buf *scratch_in, *scratch_out;
	struct coffer_buf own_in, own_out;
};

/* Errors: COFFER_E_CRYPTO (no random attempt id). */
int conf_item_init(struct conf_item *ci, struct conf_job *job, const char *id,
    uint32_t attempt, size_t max) __attribute__((warn_unused_result));
/* The same with the caller's buffers (reset here; plain a secret one),
 * kept from item to item: conf_item_release resets them (wiping the bytes
 * the item put in a secret one) and keeps their memory, so that an item
 * costs no allocation, page fault or wipe of the whole buffer
 * (BENCHMARKS.md, "Per-item cost in the e2e").
 * Neither may be used by anything else until the release; plain should
 * be bounded by the item limit, sealed by conf_sealed_max() of it. */
int conf_item_init_bufs(struct conf_item *ci, struct conf_job *job,
    const char *id, uint32_t attempt, struct coffer_buf *plain,
    struct coffer_buf *sealed) __attribute__((warn_unused_result));
/* The bound of a sealed output of at most max plaintext bytes: a header
 * and a tag per chunk (and some room). */
size_t conf_sealed_max(size_t max);
void conf_item_release(struct conf_item *ci);

/*
 * stored: the input object as fetched. Confidential (doc/worker.md 9.4):
 * the item must be an input of the policy, the object's digest the one the
 * policy pins (a tampered, rolled-back or swapped object is
 * COFFER_E_AUTH, never retried, and named), and it must open with its
 * dataset's key (COFFER_E_AUTH / _WRONG_KEY / _FORMAT otherwise).
 */
int conf_open_input(struct conf_item *ci, const struct coffer_buf *stored)
	__attribute__((warn_unused_result));

/* Stored objects larger than this are streamed (doc/worker.md 9.4 BI1). */
#define CONF_STREAM_MIN ((size_t)1 << 20)

/*
 * A big input (doc/worker.md 9.4, BI1 to BI7) at fd (taken: closed by
 * conf_item_release, whatever this returns), size bytes when opened: the checks of
 * conf_open_input without holding the object: the first pass (BI2, the
 * pinned digest, refused as conf_open_input refuses) and the key (BI3).
 * Then ci->plainlen is the plaintext's length and conf_stream_next gives
 * it. Errors: those of conf_open_input, COFFER_E_IO (a read).
 */
int conf_stream_open(struct conf_item *ci, int fd, uint64_t size)
	__attribute__((warn_unused_result));
/*
 * The next verified piece of a streamed input's plaintext (BI4): *p (the
 * stream's own memory, wiped at the next call or the release), *n > 0
 * bytes. The piece that ends the plaintext comes only once the whole
 * object was read again and its digest is the pin. A failure ends the
 * stream (BI6): COFFER_E_AUTH when the bytes read are the pinned
 * object's and a chunk does not open (dead-letter), COFFER_E_IO when the
 * object changed since the first pass or could not be read (retry).
 */
int conf_stream_next(struct conf_item *ci, const uint8_t **p, size_t *n)
	__attribute__((warn_unused_result));
/* The error conf_stream_next last failed with, or 0. */
int conf_stream_failed(const struct conf_item *ci);

/* The output's object key (prefix, the id, and in a confidential job
 * "." and the attempt id in hex: a losing attempt never overwrites the
 * winner). COFFER_E_LIMIT if it would be longer than a key may be. */
int conf_output_key(const struct conf_item *ci, const char *prefix, char *out,
    size_t outlen) __attribute__((warn_unused_result));

/* plain: the app's output, sealed under the intermediate key (map output
 * of a job with a reduce stage) or the output key. */
int conf_seal_output(struct conf_item *ci, const struct coffer_buf *plain)
	__attribute__((warn_unused_result));

/* The same sealed bytes written to the store's put p chunk by chunk
 * (doc/worker.md 9.4 BO1) instead of held: ci->sealed stays NULL,
 * sealedlen and the digest are set. Confidential jobs only. The caller
 * commits or aborts p. Errors: those of conf_seal_output and of
 * coffer_store_put_write. */
struct coffer_store_put;
/* conf_seal_output_put of the len bytes of descriptor fd, read with pread
 * (never mapped) in two passes, its digest then its chunks (doc/worker.md
 * 9.4 BO1, 9.5 HF4): fd must not change between them (a sealed memfd). */
int conf_seal_output_put_fd(struct conf_item *ci, int fd, size_t len,
    struct coffer_store_put *p) __attribute__((warn_unused_result));
int conf_seal_output_put(struct conf_item *ci, const struct coffer_buf *plain,
    struct coffer_store_put *p) __attribute__((warn_unused_result));

/*
 * conf_make_proof and conf_send_proofs for one proof (the reduce stage's),
 * and its verdict (err: the reason of BURY and STOP). Plaintext:
 * CONF_ACK. Errors (no verdict): those of conf_send_proofs.
 */
int conf_report_proof(struct conf_item *ci, uint32_t app_error,
    enum conf_verdict *v, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* The item's proof (doc/format/item-proof.md section 2), encoded and
 * MAC'd with the session key under the job's next seq: after the output
 * is stored (app_error 0: OK, the sealed output's digest and size), or
 * for a failure the app reported (app_error its code, nothing stored). */
int conf_make_proof(struct conf_item *ci, uint32_t app_error,
    uint8_t out[COFFER_ITEMPROOF_LEN]) __attribute__((warn_unused_result));

/* One proof of a batch, and what its answer decided. */
struct conf_proof {
	uint8_t bytes[COFFER_ITEMPROOF_LEN];
	const char *id;                   /* the item, for the log */
	int answered;                     /* set by conf_send_proofs */
	enum conf_verdict verdict;        /* when answered */
	char why[512];                    /* BURY and STOP: the reason */
};

/*
 * Send n proofs (at most COFFER_ITEMPROOF_BATCH_MAX) as one binary batch
 * (doc/worker.md 9.4), the unanswered ones again (same bytes, rule C1)
 * with back-off for up to j->proof_retry_ms (10 s once *j->stop), and set
 * each one's verdict (WA1 to WA4). The whole batch refused
 * (session.unknown): every proof CONF_STOP. 0 when every proof is
 * answered; else the last error (COFFER_E_CONNECT, _PROTO for answers
 * that do not verify, ...), the answered ones keeping their verdicts.
 */
int conf_send_proofs(struct conf_job *j, struct conf_proof *p, size_t n)
	__attribute__((warn_unused_result));

/* The item of the policy with this key, or NULL. */
const struct coffer_policy_item *conf_find_item(const struct conf_job *j,
    const char *key);

#endif
