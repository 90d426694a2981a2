/* SPDX-License-Identifier: Apache-2.0 */
/* Confidential jobs at the manager (doc/manager.md section 9): what the
 * manager asks of the coordinator. The manager is untrusted: it never
 * holds a key or plaintext, and nothing it learns here is believed by
 * anyone else (the workers check the coordinator, the policy, the app and
 * every input again; the owners check the receipt). */
#ifndef COFFER_MANAGER_CONF_H
#define COFFER_MANAGER_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/buf.h"
#include "manager/jobspec.h"

struct mgr;
struct mgr_job;

/* The end of mgr_conf_prepare: r is 0, COFFER_E_FORMAT (the mistakes
 * are in errs) or another error (its detail in coffer_errdetail()). */
typedef void (*mgr_conf_prepared_fn)(int r, void *arg);

/*
 * Prepare a confidential submission (s->tee_policy set) on the manager's
 * event loop (doc/manager.md section 9.2): fill in the coordinator and
 * TEE backend from the manager's defaults, fetch the policy (its text
 * must hash to s->tee_policy), take the items of the job's app from it in
 * policy order (doc/format/policy.md section 6), the reduce stage's
 * output key if the policy's app has one, and open the job at the
 * coordinator (POST /v1/jobs, which checks the parameters, rule J5):
 * s->tee_job. Mistakes of the submission go to errs as {"field",
 * "message"} (COFFER_E_FORMAT); what the workers will refuse although the
 * submission is valid (an app file or a worker measurement the policy
 * does not list) goes to warnings; an unreachable coordinator (no answer
 * within 10 s) is a mistake of field tee.coordinator.
 *
 * Returns 0 when the requests started: done(r, arg) is called once, from
 * the loop, never from inside this call; s, errs and warnings must live
 * until then. Else the error (COFFER_E_FORMAT with errs, COFFER_E_NOMEM),
 * and done is never called. A manager that stops first calls done with
 * COFFER_E_STATE (mgr_conf_shutdown).
 */
int mgr_conf_prepare(struct mgr *m, struct mgr_jobspec *s, json_t *errs,
    json_t *warnings, mgr_conf_prepared_fn done, void *arg)
	__attribute__((warn_unused_result));

/*
 * A job opened at coordinator (its id tee_job) that the manager will not
 * run after all (its submission failed after mgr_conf_prepare): close it
 * there as "cancelled", on the loop, so that no worker gets its keys and
 * its receipt says so. The answer, or the command that closes it by hand,
 * is logged. tee_job "" is a no-op.
 */
void mgr_conf_abandon(struct mgr *m, const char *coordinator,
    const char *tee_job, const char *why);

/* The manager stops: end the submissions in flight (done with
 * COFFER_E_STATE) and drop the abandons (logged). */
void mgr_conf_shutdown(struct mgr *m);

/* What the coordinator answered a close. */
struct mgr_conf_closed {
	int closed_now;          /* this request closed it */
	char outcome[16];        /* "completed" or "failed"; "" for the map stage */
	char reason[160];        /* the failure's reason name, "" if none */
	int64_t ok, failed, abandoned; /* the map stage's counts (map_only) */
};

/* The requests of a running job (doc/manager.md section 9.4). */
enum mgr_conf_ask {
	/* GET /v1/jobs/{job}: is the job closed there? */
	MGR_CONF_ASK_CLOSED = 1,
	/* POST /v1/jobs/{job}/close {"reason": "done", "stage": "map"}: close
	 * only the map stage of a job with a reduce stage, so that the reduce
	 * stage runs over the results there are. */
	MGR_CONF_ASK_CLOSE_MAP,
	/* POST /v1/jobs/{job}/close {"reason": "done"} */
	MGR_CONF_ASK_CLOSE,
};

/* An answer to one of them. */
struct mgr_conf_answer {
	int closed;                  /* MGR_CONF_ASK_CLOSED */
	struct mgr_conf_closed close; /* the closes */
	int64_t ms;                  /* how long the request took */
};

/* mgr_conf_ask's "asked, no answer yet". */
#define MGR_CONF_PENDING 1

/*
 * Ask job j's coordinator (doc/api-coordinator.md sections 9.1, 9.2) on
 * the manager's event loop, never waiting: call it again on a later tick
 * until it stops returning MGR_CONF_PENDING. One request per job at a
 * time; the answer to a request is kept until it is asked for, and
 * dropped when another request is asked for instead. Returns 0 with the
 * answer in *out, once per request (the next call asks again), or the
 * request's error, also once: COFFER_E_CONNECT (unreachable, no answer
 * within 10 s), COFFER_E_PROTO (an answer out of format), COFFER_E_POLICY
 * (refused; the detail has the reason name), COFFER_E_NOMEM. A close is
 * idempotent at the coordinator: a closed job answers as it closed.
 */
int mgr_conf_ask(struct mgr *m, struct mgr_job *j, enum mgr_conf_ask ask,
    struct mgr_conf_answer *out) __attribute__((warn_unused_result));

/*
 * A stopped job: close it at its coordinator as "cancelled", once, on the
 * event loop (a request of mgr_conf_ask in flight is dropped). The answer
 * sets j's outcome and is logged; a failure is logged with the command
 * that closes the job by hand (coffer receipt close JOB --cancel).
 */
void mgr_conf_cancel(struct mgr *m, struct mgr_job *j);

/* Cancel j's request in flight (its callback never comes) and free. */
void mgr_conf_free(struct mgr_job *j);

/*
 * The watch of a running confidential job (doc/manager.md 9.4): keep one
 * GET /v1/jobs/{job}?wait=S held at its coordinator (doc/protocol/
 * key-release.md section 5, JW1 to JW5), so that a job that closed itself
 * at its last proof is known at once, not at the next tick and a request
 * later. Call it on every tick of the job: it asks when nothing is in
 * flight (again CONF_RETRY_MS after a failure or an answer at once). Once
 * an answer says the job is closed, j->conf_closed_ms is set and a tick
 * is run at once (mgr_tick_soon). The answer is a hint, never believed
 * for more: the outcome is the close request's.
 */
void mgr_conf_watch(struct mgr *m, struct mgr_job *j);

/* Drop j's watch (its request in flight is cancelled). NULL-safe. */
void mgr_conf_watch_free(struct mgr_job *j);

/* The coordinator's refusal ({"error": {"code", "message", "field"}}) of
 * status, into code ("HTTP <status>" when absent), message and field (""
 * when absent). */
void mgr_conf_refusal(const struct coffer_buf *reply, int status, char *code,
    size_t codelen, char *msg, size_t msglen, char *field, size_t fieldlen);

/* The coffer-worker backend name of a job's tee.backend ("sim" -> "sim",
 * "sgx" -> "sgx-gramine", "tdx" and "snp" -> "tsm"), or NULL. */
const char *mgr_conf_worker_backend(const char *tee_backend);

#endif
