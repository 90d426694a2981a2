/* SPDX-License-Identifier: Apache-2.0 */
/* A coordinator faked with src/proto's own encoders, for the worker's
 * tests (tests/unit/test_worker_confidential.c) and for the stand-in
 * server tests/tools/fakecoord.c: nonces with the identity, the evidence
 * and the policy text (key-release.md 6.2), key
 * release (INSECURE SIMULATION evidence verified under the policy's
 * verification object, the measurement the policy lists for the app),
 * the policy text, item proofs under a small first-committed-wins ledger,
 * and the map results of that ledger for a reduce stage. Knobs make it refuse, forge or drop, one per hostile case. It
 * is a test double: no state survives it, nothing is logged. */
#ifndef COFFER_TESTS_FAKE_COORD_H
#define COFFER_TESTS_FAKE_COORD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/identity.h"
#include "lib/buf.h"
#include "proto/itemproof.h"
#include "proto/policy.h"

#define FAKE_COORD_MAX_KEYS 16

struct fake_coord_rec {
	int have;
	struct coffer_itemproof p;   /* the committed proof */
	uint64_t log_index;
};

struct fake_coord {
	/* Set by the caller. */
	const struct coffer_identity *id;     /* the coordinator's keys */
	const uint8_t *evidence;              /* binds id (its own evidence) */
	size_t evidence_len;
	const struct coffer_policy *policy;   /* its canonical form is served */
	uint8_t job[16];
	const char *app;                      /* the job's app */
	json_t *params, *limits;              /* what the release gives the app */
	size_t nkeys;
	uint8_t key_ids[FAKE_COORD_MAX_KEYS][16], keys[FAKE_COORD_MAX_KEYS][32];
	/* Made by fake_coord_init. */
	uint8_t session[16], session_key[32];
	uint8_t output_key[32], intermediate_key[32], app_secret[32];
	/* Knobs. */
	const struct coffer_identity *present;   /* identity shown instead of id */
	const struct coffer_identity *answer_as; /* release wrapped from this key */
	int serve_other_policy;                  /* a policy text of another hash */
	const char *expires_member;              /* instead of "\"expires\": 1, "
	                                            in the nonce answer ("": none) */
	long policy_len_delta;                   /* added to the policy_len told */
	int nonce_no_lf;                         /* the head alone, no LF after it */
	int refuse_after;                        /* after this many requests, */
	int refuse_connections;                  /* this many requests of any
	                                            kind fail COFFER_E_CONNECT */
	const char *refuse_release;              /* refuse the release so */
	uint16_t refuse_proofs;                  /* refuse proofs with this code */
	int commit_failed;                       /* FAILED proofs reach fail_after */
	int fail_requests;                       /* this many proof requests fail */
	int bad_ack_mac;                         /* answers MAC'd with another key */
	const char *refuse_leaves;               /* refuse the map results so */
	int open_leaves;                         /* answer this many requests of
	                                            the map results 409 stage.open */
	/* Scripted answers: the next nanswers proofs get these outcomes
	 * (and reasons) in turn, whatever the ledger says; a non-refused one
	 * is still applied to the ledger. */
	const struct fake_coord_answer {
		uint8_t outcome;                 /* COFFER_ACK_* */
		uint16_t reason;
	} *answers;
	size_t nanswers;
	/* Standby and bind (key-release.md 6.7): one session at a time. */
	int forget_standby;                      /* bind: standby.unknown (a
	                                            coordinator restarted) */
	const char *refuse_bind;                 /* refuse binds so (past BD5) */
	uint8_t standby_id[16], standby_secret[64], standby_rd[64];
	struct coffer_buf standby_evidence;      /* of the session (release it) */
	int standby_used;
	int standby_nonces, standbys, binds;
	/* What happened. */
	int nonces, releases, proof_requests, proofs, leaves_requests;
	char leaves_query[32];                   /* of the last one ("" if none) */
	size_t last_batch;                       /* proofs in the last binary batch */
	uint8_t last_proof[COFFER_ITEMPROOF_LEN];
	struct coffer_itemproof last;
	struct fake_coord_rec ledger[2][64];     /* by stage and item (< 64) */
	uint8_t map_root[32];                    /* of the last map results served */
	char last_error[256];
};

/* Draw the session and job keys. 0 or a coffer error. */
int fake_coord_init(struct fake_coord *fc);

/* The transport of worker/coord.h: arg is the struct fake_coord. Bad
 * requests are answered 400 (last_error says why); fail_requests makes
 * proof requests fail with COFFER_E_CONNECT. */
int fake_coord_request(void *arg, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, size_t max, int *status,
    struct coffer_buf *reply);

#endif
