/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator daemon's inside: its configuration, its identity and
 * evidence, and what the HTTP handlers share. One thread, one libevent
 * loop: handlers never run at the same time. doc/coordinator.md. */
#ifndef COFFER_COORDINATOR_COORD_H
#define COFFER_COORDINATOR_COORD_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/tee.h"
#include "coordinator/book.h"
#include "coordinator/collcache.h"
#include "coordinator/ledger.h"
#include "coordinator/nonce.h"
#include "coordinator/standby.h"
#include "coordinator/state.h"
#include "crypto/identity.h"
#include "http/http.h"

#define COORD_REFUSAL_KINDS 64 /* reason names /metrics counts */
#define COORD_REFUSAL_REASON_MAX 48
#define COORD_BODY_CAP ((size_t)2 << 20) /* libevent's own limit: a release request */
/* Open connections (doc/coordinator.md, "Limits"): a pool of workers
 * starting at once attests at once, often from one address (a NAT or a
 * node's SNAT), so the per-address cap is the overall one. */
#define COORD_MAX_CONNS 1024
#define COORD_SIM_WARNING "INSECURE SIMULATION: no TEE protects this code or data"

struct coord_config {
	const char *data_dir;    /* state, lock */
	const char *listen;      /* "127.0.0.1:8600"; port 0 picks one */
	enum coffer_tee_backend backend;
	const char *sim_dir;     /* sim platform key directory, or NULL */
	const char *device_root; /* sgx-gramine / tsm device directory, or NULL */
	const char *ready_file;  /* written with the URL once listening */
	const char *const *collateral; /* files or directories */
	size_t n_collateral;
	int64_t nonce_ttl_ms;    /* default COORD_NONCE_TTL_MS_DEFAULT */
	/* doc/format/recovery.md: wait for k of n owners' shares when the
	 * state key cannot be unsealed; the owners and k at a first start. */
	int recover;
	const char *recovery_owners; /* a file of identity lines, or NULL */
	unsigned recovery_threshold; /* 0: all of them */
	/* the collateral cache's bounds (rule C7); 0: COORD_COLL_MAX_ITEMS,
	 * COORD_COLL_MAX_BYTES. No option sets them: tests lower them. */
	size_t coll_max_items, coll_max_bytes;
	/* Standby sessions (doc/protocol/key-release.md 6.7): lifetime and
	 * count; 0: COORD_STANDBY_TTL_MS_DEFAULT, COORD_STANDBY_MAX_DEFAULT. */
	int64_t standby_ttl_ms;
	size_t standby_max;
};

struct coord {
	struct coord_config cfg;
	char data_abs[4096];       /* the data directory, absolute */
	int lock_fd;               /* holds the data directory's lock */
	struct coord_state *st;
	struct event_base *base;
	struct http_server *http;
	struct event *sig_ev[2];
	struct event *sweep_ev;
	int64_t start_ms;

	/* Identity (secret keys: wiped at exit) and what the evidence says. */
	struct coffer_identity id;
	uint8_t root[32];          /* jobkeys.h derives from it */
	char id_line[COFFER_ID_LINE_MAX + 1];
	char fingerprint[COFFER_ID_FINGERPRINT_HEX];
	uint8_t report_data[COFFER_TEE_REPORT_DATA_LEN];
	uint8_t *evidence;         /* the envelope, served as is */
	size_t evidence_len;
	int insecure;              /* the sim backend */

	struct coord_book *book;   /* the policies */
	struct coord_nonces *nonces;
	struct coord_standbys *standbys; /* in memory only (standby.h) */
	struct coffer_tee_anchors *anchors;
	/* --collateral files and the pushed cache (collcache.h); never NULL
	 * once open */
	struct coffer_tee_collateral *collateral;
	struct coord_coll_summary coll;
	struct coord_keycache *keys; /* unwrapped data keys (secret) */
	struct coord_ledger *ledger; /* item proofs, job close, receipts */
	struct coord_group *group;   /* the pending group commit (group.h) */
	struct coord_waiters *waiters; /* held leaves requests (waiters.h) */

	/* For /metrics (api_metrics.c). */
	uint64_t releases;         /* releases and binds: keys released */
	uint64_t binds;            /* of which binds of standby sessions */
	uint64_t standbys_made;
	struct {
		char reason[48];
		uint64_t n;
	} refusals[COORD_REFUSAL_KINDS];
	size_t n_refusals;
	char *recovery_env;        /* the recovery record, or NULL: none */
	/* The last refusal sent (coord_refuse), for the audit log's refusal
	 * events of key release. */
	char last_reason[COORD_REFUSAL_REASON_MAX];
	char last_detail[513];
};

/* Count a refusal by its reason name (coord_refuse does). */
void coord_count_refusal(struct coord *c, const char *reason);

/* keycache.c: data keys unwrapped from their uploads, kept in memory so
 * that a release does not unwrap again; wiped at exit. The key id is a
 * hash of the key, so one key id is one key whatever policy it came
 * under. */
struct coord_keycache;
int coord_keycache_new(struct coord_keycache **out)
	__attribute__((warn_unused_result));
void coord_keycache_free(struct coord_keycache *k);
/* 1 and key set if cached. */
int coord_keycache_get(const struct coord_keycache *k, const uint8_t id[16],
    uint8_t key[32]);
int coord_keycache_put(struct coord_keycache *k, const uint8_t id[16],
    const uint8_t key[32]) __attribute__((warn_unused_result));

/* Everything but the loop: lock the data directory, open the state, load
 * or make the identity, get evidence, load the trust anchors, listen.
 * coord_close undoes it (NULL is a no-op). */
int coord_open(const struct coord_config *cfg, struct coord **out)
	__attribute__((warn_unused_result));
void coord_close(struct coord *c);

/* Run the daemon until SIGINT or SIGTERM. Errors at start-up are returned
 * (a second instance on the same data directory is COFFER_E_BUSY). */
int coord_run(const struct coord_config *cfg) __attribute__((warn_unused_result));

/* datadir.c: create or check the data directory (mode 0700, owned by us)
 * and take its lock, or fail with COFFER_E_BUSY naming the process that
 * holds it. */
int coord_datadir_open(struct coord *c) __attribute__((warn_unused_result));
/* Record the URL in the lock file once listening. */
int coord_datadir_note_url(struct coord *c, const char *url)
	__attribute__((warn_unused_result));
void coord_datadir_close(struct coord *c);

/* recovery.c: the state key and id, from state.key (made at the first
 * start), or, if it cannot be unsealed and cfg.recover is set, from k of n
 * owners' shares after serving the recovery routes until they arrive
 * (then sealed to this platform). doc/format/sealed-state.md section 9,
 * doc/format/recovery.md. The caller wipes key. */
int coord_state_key(struct coord *c, uint8_t key[32], uint8_t state_id[16])
	__attribute__((warn_unused_result));
/* After the identity: make the recovery record at the first start with
 * recovery owners, check the options against it later, and keep
 * DIR/recovery.json up to date. */
int coord_recovery_setup(struct coord *c, const uint8_t key[32],
    const uint8_t state_id[16]) __attribute__((warn_unused_result));

/* identity.c: load the identity from the state, or make it on first start;
 * then get evidence binding it from the backend. */
int coord_identity_setup(struct coord *c) __attribute__((warn_unused_result));
void coord_identity_release(struct coord *c);

/* refuse.c: refusals by reason name (doc/protocol/key-release.md
 * section 8). */
#define COORD_REASON_MAX 48
/* The reason name a detail carries ("... (policy.expired)" or
 * "nonce.replayed: ..."): 1 and out set, or 0. */
int coord_reason_of(const char *detail, char out[COORD_REASON_MAX]);
/* The HTTP status of a reason: 400 request.malformed, 404 *.unknown of a
 * path's object, 503 coordinator.busy, else 403. */
int coord_reason_status(const char *reason);
/* Reply {"error": {"code": reason, "message": ..., "field": field}} and
 * log it. */
void coord_refuse(struct http_req *r, const char *reason, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same from a coffer error and its detail: reason, else the name the
 * detail carries, else request.malformed for format errors; internal
 * failures are 500s. */
void coord_refuse_err(struct http_req *r, int err, const char *reason);

/* Seconds since the epoch, for expiry (the host's clock: informational
 * for trust, doc/coordinator.md section 5). */
uint64_t coord_now(void);

/* api_policy.c: the status member of answers. */
json_t *coord_status_json(struct coord *c, const struct coffer_policy *p,
    const struct coord_status *st);

/* api_jobs.c: the {job} of the path (32 hex digits), or a job.unknown
 * refusal sent and -1. */
int coord_path_job(struct http_req *r, uint8_t id[16]);

/* The route table (routes.c) and its handlers (api_*.c). */
extern const struct http_route coord_routes[];
extern const size_t coord_nroutes;
/* Before every handler: any route but item proofs first commits the
 * pending group (doc/coordinator.md section 10.1, rule G3). */
void coord_before_route(struct http_req *r);
void api_healthz(struct http_req *r);
void api_metrics(struct http_req *r);
void api_identity(struct http_req *r);
void api_evidence(struct http_req *r);
void api_recovery(struct http_req *r);
void api_policy_submit(struct http_req *r);
void api_policy_list(struct http_req *r);
void api_policy_show(struct http_req *r);
void api_policy_status(struct http_req *r);
void api_policy_approve(struct http_req *r);
void api_policy_revoke(struct http_req *r);
void api_key_upload(struct http_req *r);
void api_job_open(struct http_req *r);
void api_job_show(struct http_req *r);
void api_standby_nonce(struct http_req *r);
void api_standby(struct http_req *r);
void api_bind(struct http_req *r);
/* api_jobs.c: GET /v1/jobs/{job}'s answer for job, now (1), or nothing
 * when hold is set and the job is open (0; doc/protocol/key-release.md
 * section 5, JW2, JW3). */
int coord_job_answer(struct coord *c, struct http_req *r, const uint8_t job[16],
    int hold);
void api_release_nonce(struct http_req *r);
void api_release(struct http_req *r);
void api_proofs(struct http_req *r);
void api_job_close(struct http_req *r);
void api_stage_leaves(struct http_req *r);
void api_receipt(struct http_req *r);
void api_bundle(struct http_req *r);
void api_result_key(struct http_req *r);
void api_log_head(struct http_req *r);
void api_log_inclusion(struct http_req *r);
void api_log_consistency(struct http_req *r);
void api_log_entries(struct http_req *r);

/* api_log.c: append the `start` event (doc/format/audit-log.md section 3)
 * at every start. */
int coord_log_start(struct coord *c) __attribute__((warn_unused_result));
/* The head an owner presents in Coffer-Seen-Head (audit-log.md section
 * 6.2): 0 to serve the request; -1 after refusing it (malformed, or
 * coordinator.rolled_back, recording the rollback the first time). Owner
 * routes call it first. With rolled_back not NULL a rollback is not
 * refused but recorded and reported there (revocations are served
 * anyway: policy.md section 8). */
int coord_seen_head(struct http_req *r, int *rolled_back);
void api_collateral_push(struct http_req *r);
void api_collateral_list(struct http_req *r);

#endif
