/* SPDX-License-Identifier: Apache-2.0 */
/* The page the runner shares with its supervisor (doc/worker.md 4.2):
 * which item the runner holds and how far it got, written by the runner
 * under a sequence lock, read by the supervisor to renew the lease, and to
 * record the item's fate when the runner dies. No system call per item. */
#ifndef COFFER_WORKER_SHARED_H
#define COFFER_WORKER_SHARED_H

#include <stdint.h>

#include "queue/queue.h"
#include "worker/app.h"

enum runner_state {
	RUNNER_STARTING = 0,
	RUNNER_READY = 1,      /* the app is loaded, items are being taken */
	RUNNER_FAILED = 2,     /* could not start: msg says why */
	RUNNER_DONE = 3,       /* finished normally (stopped, job finished,
	                          check or reduce done): the only state in
	                          which an exit status 0 means success; a
	                          plugin calling exit(0) leaves READY */
};

enum item_phase {
	PHASE_IDLE = 0,        /* no item held */
	PHASE_FETCH = 1,       /* leased; waiting for its turn, fetching or
	                          opening the input */
	PHASE_APP = 2,         /* the app is running */
	PHASE_STORE = 3,       /* sealing and storing the output; then its
	                          proof waits for the coordinator's answer */
	PHASE_STORED = 4,      /* output stored (and proof answered): only
	                          the ack is left */
};

/* The most items a runner holds at once (doc/worker.md 9.4: a batch). */
#define WORKER_SLOTS 64

/* One item the runner holds. */
struct worker_slot {
	int phase;             /* enum item_phase */
	uint32_t attempt;
	char item[COFFER_QUEUE_ITEM_MAX + 1];
};

struct worker_shared {
	uint64_t seq;          /* odd while the runner writes */
	int state;             /* enum runner_state */
	int64_t app_deadline_ms; /* monotonic; 0 = none (supervisor kills) */
	struct app_info info;
	char msg[1024];
	/* Written by the supervisor only: 1 once it can renew and record, so
	 * the runner may start taking items. */
	int go;
	struct worker_slot slot[WORKER_SLOTS];
};

/* A zeroed page shared with children forked after this call; NULL on
 * failure (detail set). Unmap with shared_free(). */
struct worker_shared *shared_new(void);
void shared_free(struct worker_shared *sh);

/* Runner side (sh may be NULL: no-op). Slot i (< WORKER_SLOTS) holds the
 * item id (phase FETCH), or nothing (id NULL: IDLE). */
void shared_item(struct worker_shared *sh, int i, const char *id,
    uint32_t attempt);
void shared_phase(struct worker_shared *sh, int i, int phase,
    int64_t app_deadline_ms);
void shared_state(struct worker_shared *sh, int state, const struct app_info *info,
    const char *msg);

/* Runner side: wait until the supervisor says go (1), or until it is
 * gone (0). */
int shared_wait_go(struct worker_shared *sh);
/* Supervisor side. */
void shared_go(struct worker_shared *sh);

/* Supervisor side: a consistent copy; -1 if none could be had within
 * 200 ms (a runner killed in the middle of an update): the copy must then
 * not be used. While an update is under way it yields the CPU between
 * tries, so that the runner can finish it.
 * The page is shared with the runner's process, and so with a plugin: the
 * copy's strings (item, msg, info.name, info.version) are always
 * NUL-terminated, but nothing else about it is checked (shared_valid). */
int shared_read(const struct worker_shared *sh, struct worker_shared *copy)
	__attribute__((warn_unused_result));
/* 1 if a copy is something the runner could have written: state and
 * phases in range and, in every slot that holds an item, a well-formed
 * item id. */
int shared_valid(const struct worker_shared *c);
/* 1 if no slot of a copy holds an item. */
int shared_idle(const struct worker_shared *c);

#endif
