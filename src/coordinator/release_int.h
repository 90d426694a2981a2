/* SPDX-License-Identifier: Apache-2.0 */
/* Key release's steps shared by the release (api_release.c, 6.4 and 6.5)
 * and the bind of a standby session (api_standby.c, 6.7.5 and 6.7.6):
 * one implementation of KR2 to KR12, one session and one `release` event,
 * so that a bind gives exactly what a cold release gives. Internal to
 * src/coordinator. */
#ifndef COFFER_COORDINATOR_RELEASE_INT_H
#define COFFER_COORDINATOR_RELEASE_INT_H

#include <stdint.h>

#include "coffer/tee.h"
#include "coordinator/coord.h"
#include "proto/keyrelease.h"

/* Everything a release decides, released in one place. */
struct release {
	/* The worker's job, nonce, key and evidence: from the release
	 * request, or for a bind from the standby session. */
	struct coffer_release_request req;
	int bind;                  /* a bind (6.7.5), not a release */
	uint8_t standby[16];       /* its standby session */
	int64_t t0_us;             /* when the request was taken, for the log */
	struct coord_job job;
	const struct coffer_policy *p;
	const struct coffer_policy_app *app;
	struct coffer_tee_claims *claims;
	struct coffer_policy_measurement m;
	struct coffer_release_payload pay;
	struct coord_session sess;
	struct coffer_buf answer;
};

/* Monotonic microseconds (the logs' ms). */
int64_t coord_mono_us(void);

struct release *coord_release_new(void);
void coord_release_free(struct release *x);

/* KR2, KR3 (BD2, BD3): the job id into x->job. 0, or refused (replied)
 * and -1. */
int coord_release_job(struct http_req *r, struct release *x,
    const uint8_t id[16]);
/* KR5 to KR12 (BD6 to BD11) on x->job and x->req, then the payload and
 * the session (x->pay, x->sess). 0, or replied and -1. */
int coord_release_decide(struct http_req *r, struct release *x);
/* The session and its `release` event, in one commit. */
int coord_release_store(struct coord *c, const struct release *x)
	__attribute__((warn_unused_result));
/* The `refusal` event of the refusal coord_refuse just sent. */
void coord_release_log_refusal(struct coord *c, const struct release *x);
/* Log a grant ("keys released", "standby bound") with its ms; count it. */
void coord_release_log_granted(struct coord *c, const struct release *x,
    const char *what);

/* KR8's names (6.4) for a verifier reason code, the hint a collateral
 * refusal adds, and the first fatal reason of the verification object
 * (policy 1) or not (policy 0). */
const char *coord_release_kr8_name(const char *code);
const char *coord_release_coll_hint(const char *name);
const struct coffer_tee_reason *coord_release_first_fatal(
    const struct coffer_tee_claims *c, int policy);

#endif
