/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's side of the coordinator family (doc/worker.md section 9):
 * authenticating the coordinator against the measured configuration,
 * attested key release (doc/protocol/key-release.md section 6), the
 * policy text, and item proofs with their answers
 * (doc/format/item-proof.md section 8). Messages are src/proto's; this
 * file only carries them, over a transport the caller gives (HTTP in the
 * worker, a function in the tests). */
#ifndef COFFER_WORKER_COORD_H
#define COFFER_WORKER_COORD_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/tee.h"
#include "crypto/identity.h"
#include "lib/buf.h"
#include "proto/itemproof.h"
#include "proto/keyrelease.h"
#include "proto/policy.h"
#include "proto/standby.h"
#include "worker/measured.h"

struct coord_transport {
	/* One request to the coordinator: method, path, the body's content
	 * type (NULL: application/json) and the body (NULL, 0: none); the
	 * answer's status and body (at most max bytes, appended to reply).
	 * 0, or COFFER_E_CONNECT / _LIMIT / _PROTO. */
	int (*request)(void *arg, const char *method, const char *path,
	    const char *ctype, const void *body, size_t len, size_t max,
	    int *status, struct coffer_buf *reply);
	void *arg;
};

/* The coordinator, once authenticated (rules CA1 to CA5). */
struct coord_peer {
	struct coffer_identity_public id;
	enum coffer_tee_type tee;
};

/* How the worker gets its own evidence. */
struct coord_attester {
	enum coffer_tee_backend backend;
	const struct coffer_tee_backend_opts *opts;  /* may be NULL */
};

/* The nonce answer (doc/protocol/key-release.md 6.2), its coordinator
 * authenticated. */
struct coord_hello {
	uint8_t nonce[32];
	struct coord_peer peer;          /* CA1 to CA5 passed */
	struct coffer_buf policy;        /* the job's policy text: believed
	                                    only by coord_policy_check (W5) */
};

/*
 * POST /v1/jobs/{job}/nonce, and the coordinator authenticated from the
 * answer (doc/worker.md 9.3, CA1 to CA5): its identity; its evidence
 * verified with the measured configuration's verification policy, the
 * anchors and the collateral (may be NULL) at time `at`, bound to that
 * identity, and carrying the pinned measurement. out: clear it with
 * coord_hello_clear (cleared already on failure). Errors:
 * COFFER_E_CONNECT, _PROTO, _FORMAT, COFFER_E_POLICY (a refusal, whose
 * detail begins with the reason name, or the report data or the
 * measurement), the verifier's errors; the detail says which rule.
 */
int coord_hello(const struct coord_transport *t, const uint8_t job[16],
    const struct measured_config *mc, const struct coffer_tee_anchors *anchors,
    const struct coffer_tee_collateral *coll, int64_t at, struct coord_hello *out)
	__attribute__((warn_unused_result));
void coord_hello_clear(struct coord_hello *h);

/*
 * A standby worker's start (doc/protocol/key-release.md 6.7, doc/worker.md
 * 9.9). coord_standby_hello: POST /v1/standby/nonce and CA1 to CA5 as
 * coord_hello (out->policy stays empty: there is no job). coord_standby:
 * an X25519 key made here, evidence over the standby binding, POST
 * /v1/standby, and the answer opened from the authenticated coordinator
 * (WS1, WS2); w_sk wiped (WS3); standby and s (secret: the caller wipes
 * it) written on success. coord_bind: POST /v1/jobs/{job}/bind MAC'd
 * with s, the answer opened (WB1 to WB3) into out (clear it with
 * coffer_release_payload_clear) and the policy part appended to policy
 * (WB4, WB5 are the caller's: W5, W6). Errors as coord_release's: a
 * refusal is COFFER_E_POLICY whose detail begins with its reason name.
 */
int coord_standby_hello(const struct coord_transport *t,
    const struct measured_config *mc, const struct coffer_tee_anchors *anchors,
    const struct coffer_tee_collateral *coll, int64_t at, struct coord_hello *out)
	__attribute__((warn_unused_result));
int coord_standby(const struct coord_transport *t, const struct coord_hello *h,
    const struct coord_attester *att, uint8_t standby[16],
    uint8_t s[COFFER_STANDBY_SECRET_LEN]) __attribute__((warn_unused_result));
int coord_bind(const struct coord_transport *t, const uint8_t job[16],
    const uint8_t standby[16], const uint8_t s[COFFER_STANDBY_SECRET_LEN],
    struct coffer_release_payload *out, struct coffer_buf *policy)
	__attribute__((warn_unused_result));

/*
 * Key release (doc/protocol/key-release.md 6.1) after coord_hello: an
 * X25519 key made here, evidence over the binding with the hello's
 * nonce, the request, and the answer opened from the authenticated
 * coordinator (W1 to W4). A refusal is COFFER_E_POLICY whose detail
 * begins with the reason name ("measurement.unapproved: ..."). out:
 * clear it with coffer_release_payload_clear.
 */
int coord_release(const struct coord_transport *t, const struct coord_hello *h,
    const uint8_t job[16], const struct coord_attester *att,
    struct coffer_release_payload *out) __attribute__((warn_unused_result));

/* W5's first half: the hello's policy bytes, as received, are the policy
 * whose hash is `hash` (the release payload's), COFFER_E_AUTH if not;
 * read for app `app` only (doc/format/policy.md 4.1, PA1 to PA6: a
 * policy with `partial` set, napps 0 if it lists no such app). */
int coord_policy_check(const struct coord_hello *h, const uint8_t hash[32],
    const char *app, struct coffer_policy **out)
	__attribute__((warn_unused_result));

/*
 * POST /v1/jobs/{job}/proofs with n encoded proofs (1 to 1024) as one
 * binary batch (doc/format/item-proof.md 8.1, BB1: application/
 * octet-stream, the proofs back to back), and the answers (n * 80 bytes
 * back to back), each checked (WA1): acks[i] is set and ok[i] = 1 for
 * each proof whose answer is well-formed, MAC'd with the session key and
 * names that proof; ok[i] = 0 otherwise (send it again); an answer of
 * another length answers none. Errors (nothing answered):
 * COFFER_E_CONNECT, COFFER_E_POLICY (the batch refused: detail begins
 * with the reason name), COFFER_E_PROTO / _FORMAT.
 */
int coord_send_proofs(const struct coord_transport *t, const uint8_t job[16],
    const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN], size_t n,
    const uint8_t session_key[32], struct coffer_itemack *acks, int *ok)
	__attribute__((warn_unused_result));

/*
 * GET /v1/jobs/{job}/stages/map/leaves (doc/worker.md 9.6): the map
 * stage's result entries (doc/format/receipt.md 2.2, rule RL1), one per
 * item in index order: exactly `count` of them, entry i for item i of
 * stage map. *out (free()) gets them and root their Merkle root (RFC
 * 9162), the reduce stage's pinned input. wait_s > 0: the coordinator
 * holds the answer up to that many seconds while the stage is open
 * (doc/format/item-proof.md 7.2, LW1 to LW5). Errors: those of the
 * transport, COFFER_E_POLICY (refused: the detail begins with the reason
 * name, "stage.open" while the map stage is open), COFFER_E_FORMAT.
 */
struct coffer_result_entry;
int coord_map_leaves(const struct coord_transport *t, const uint8_t job[16],
    int wait_s, size_t count, struct coffer_result_entry **out,
    uint8_t root[32])
	__attribute__((warn_unused_result));

/* The HTTP transport: arg is a struct http_client (http/client.h). */
int coord_http_request(void *arg, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, size_t max, int *status,
    struct coffer_buf *reply);

#endif
