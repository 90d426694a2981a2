/* SPDX-License-Identifier: Apache-2.0 */
/* The ledger's inside, shared by ledger.c (loading a job, item proofs)
 * and ledger_close.c (closing stages and jobs, the receipt, bundles,
 * result keys). Nothing else includes it. */
#ifndef COFFER_COORDINATOR_LEDGER_INT_H
#define COFFER_COORDINATOR_LEDGER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "coordinator/coord.h"
#include "coordinator/ledger.h"
#include "proto/ledger.h"
#include "proto/policy.h"
#include "proto/receipt.h"

/* A session of the job: its key (secret) and measurement. */
struct lsession {
	struct coord_session s;
	struct coffer_policy_measurement m;
	size_t meas;         /* index into ljob.meas */
	uint64_t revoked_serial; /* the book serial IP17 was read at (0: none) */
	int revoked;         /* IP17 then */
};

/* A distinct measurement among the job's sessions (receipt section 3.2). */
struct lmeas {
	struct coffer_policy_measurement m;
	uint64_t sessions;
};

/* What the log recorded for a (session, seq): rules C1 and IP10. */
struct lseq {
	uint8_t session[16];
	uint64_t seq;
	uint8_t mac[32];
	uint8_t outcome;
	uint16_t reason;
	uint64_t log_index;
	uint8_t used;
};

enum lstage_state { LSTAGE_WAITING = 0, LSTAGE_OPEN = 1, LSTAGE_CLOSED = 2 };

struct lstage {
	uint64_t count;
	enum lstage_state state;
	struct coffer_ledger_item *items; /* count of them */
	uint64_t done;                    /* items with a result */
	uint8_t root[32];                 /* once closed */
};

struct ljob {
	struct ljob *next;
	struct coord_job row;
	const struct coffer_policy *p;    /* the book's */
	const struct coffer_policy_app *a;
	struct coffer_policy_item *items; /* the map stage's, in index order */
	size_t nitems;
	size_t nstages;                   /* 1 or 2 */
	struct lstage st[2];
	int closed, failed;
	char reason[48];
	char *receipt;                    /* once closed: the envelope's text */
	size_t receipt_len;
	struct lsession *sess;
	size_t nsess, capsess;
	struct lmeas *meas;
	size_t nmeas, capmeas;
	struct lseq *seqs;                /* open addressing, capseq a power of 2 */
	size_t nseq, capseq;
	uint64_t status_serial;           /* the book serial IP15, IP16 were read at (0: none) */
	const char *inactive;             /* their reason then, or NULL (static) */
};

struct coord_ledger {
	struct coord *c;
	struct coord_state_ledger *ls;
	struct ljob *jobs;                /* the open jobs in memory, and the
					   * closed ones last named */
	struct coffer_buf entry;          /* scratch for log entries */
	struct coffer_hmac *mac;          /* keyed with a request's session
					   * key: its proofs' MACs and answers
					   * (IP8, section 8) */
	struct coord_ledger_stats stats;
};

/* ledger.c */
/* Closed jobs kept in memory (ledger_put): the manager's close and the
 * owners' receipts and bundles come right after a job closes. */
#define LEDGER_CLOSED_KEPT 4

/* The job's ledger, from memory or read from the state; given back with
 * ledger_put. */
int ledger_get(struct coord_ledger *l, const uint8_t id[16], struct ljob **out)
	__attribute__((warn_unused_result));
/* Done with j: an open job stays in memory, and a closed one among the
 * LEDGER_CLOSED_KEPT closed jobs named last; with drop set, j leaves
 * memory (after a failed transaction: it is read again next time). */
void ledger_put(struct coord_ledger *l, struct ljob *j, int drop);

/* ledger_close.c: inside a state transaction. */
/* The stage's result entries, in index order (count of them; free()). */
int ledger_stage_entries(const struct ljob *j, size_t stage,
    struct coffer_result_entry **out) __attribute__((warn_unused_result));
/* Close stage s (doc/format/item-proof.md section 7): its root, its
 * stage-close event; closing the map stage of a job with a reduce stage
 * opens the reduce stage (unless the job is closing). */
int ledger_close_stage(struct coord_ledger *l, struct ljob *j, size_t s,
    int job_closing) __attribute__((warn_unused_result));
/* Close the job: open stages, job-close, the receipt and its event, the
 * records. reason is NULL for `completed`. */
int ledger_close_job(struct coord_ledger *l, struct ljob *j, const char *reason)
	__attribute__((warn_unused_result));

#endif
