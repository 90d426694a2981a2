// SPDX-License-Identifier: Apache-2.0
// The runner/supervisor shared page (worker/shared.h): an anonymous shared
// mapping and a sequence lock. The runner is the only writer; a reader
// retries while the sequence is odd or changed under it.
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "queue/queue.h"
#include "worker/shared.h"

struct worker_shared *
shared_new(void)
{
	void *p = mmap(NULL, sizeof(struct worker_shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		(void)coffer_errf(COFFER_E_NOMEM, "shared page");
		return NULL;
	}
	memset(p, 0, sizeof(struct worker_shared));
	return p;
}

void
shared_free(struct worker_shared *sh)
{
	if (sh != NULL)
		munmap(sh, sizeof(*sh));
}

/*
 * The odd sequence must be visible before any store of the update. An
 * acquire read-modify-write gives that without a fence (ThreadSanitizer
 * has no model of fences): a reader whose closing read-modify-write of
 * seq (shared_read) came before this one in seq's order would be read
 * by it, release to acquire, so the reader's copy happened before the
 * update's stores; else that read sees this odd value or a later one, and
 * the reader retries. The same order as the relaxed store and release
 * fence it replaces, with no fence.
 */
static void
begin(struct worker_shared *sh)
{
	__atomic_fetch_add(&sh->seq, 1, __ATOMIC_ACQUIRE);
}

static void
end(struct worker_shared *sh)
{
	/* An add, not a store of seq + 1: a reader also writes seq (the
	 * same value) with shared_read's read-modify-write. */
	__atomic_fetch_add(&sh->seq, 1, __ATOMIC_RELEASE);
}

void
shared_item(struct worker_shared *sh, int i, const char *id, uint32_t attempt)
{
	if (sh == NULL || i < 0 || i >= WORKER_SLOTS)
		return;
	begin(sh);
	snprintf(sh->slot[i].item, sizeof(sh->slot[i].item), "%s", id ? id : "");
	sh->slot[i].attempt = attempt;
	sh->slot[i].phase = id ? PHASE_FETCH : PHASE_IDLE;
	sh->app_deadline_ms = 0;
	end(sh);
}

void
shared_phase(struct worker_shared *sh, int i, int phase, int64_t app_deadline_ms)
{
	if (sh == NULL || i < 0 || i >= WORKER_SLOTS)
		return;
	begin(sh);
	sh->slot[i].phase = phase;
	sh->app_deadline_ms = app_deadline_ms;
	end(sh);
}

void
shared_state(struct worker_shared *sh, int state, const struct app_info *info,
    const char *msg)
{
	if (sh == NULL)
		return;
	begin(sh);
	sh->state = state;
	if (info != NULL)
		sh->info = *info;
	snprintf(sh->msg, sizeof(sh->msg), "%s", msg ? msg : "");
	end(sh);
}

/*
 * A reader that finds an update under way tries again at once a few
 * times (an update is a few stores), then gives the CPU away between
 * tries: a runner preempted in the middle of an update on a loaded
 * machine (or sharing the reader's CPU) needs it to finish, and a reader
 * that only spun gave up in well under a millisecond, before it could, so
 * that the supervisor skipped a lease renewal for a period. It gives up
 * after READ_GIVE_UP_MS: a runner killed in the middle of an update
 * leaves the sequence odd for good.
 */
#define READ_SPINS 64
#define READ_YIELDS 16
#define READ_PAUSE_NS 50000L
#define READ_GIVE_UP_MS 200

int
shared_read(const struct worker_shared *sh, struct worker_shared *copy)
{
	int64_t give_up = 0;

	for (int tries = 0;; tries++) {
		uint64_t s1, s2;

		if (tries >= READ_SPINS) {
			struct timespec ts = { 0, READ_PAUSE_NS };

			if (give_up == 0)
				give_up = coffer_mono_ms() + READ_GIVE_UP_MS;
			else if (coffer_mono_ms() >= give_up)
				return -1;
			if (tries < READ_SPINS + READ_YIELDS)
				sched_yield();
			else
				nanosleep(&ts, NULL);
		}
		s1 = __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		memcpy(copy, (const void *)sh, sizeof(*copy));
		/* A release read-modify-write that changes nothing: the copy's
		 * loads come before it (begin() says why that is enough). */
		s2 = __atomic_fetch_add((uint64_t *)&sh->seq, 0, __ATOMIC_RELEASE);
		if (s1 == s2) {
			/* The runner's snprintf()s always terminate them; a
			 * plugin scribbling on the page need not. */
			for (int i = 0; i < WORKER_SLOTS; i++)
				copy->slot[i].item[sizeof(copy->slot[i].item) - 1] = '\0';
			copy->msg[sizeof(copy->msg) - 1] = '\0';
			copy->info.name[sizeof(copy->info.name) - 1] = '\0';
			copy->info.version[sizeof(copy->info.version) - 1] = '\0';
			return 0;
		}
	}
}

int
shared_valid(const struct worker_shared *c)
{
	if (c->state < RUNNER_STARTING || c->state > RUNNER_DONE)
		return 0;
	for (int i = 0; i < WORKER_SLOTS; i++) {
		const struct worker_slot *sl = &c->slot[i];

		if (sl->phase < PHASE_IDLE || sl->phase > PHASE_STORED)
			return 0;
		if (sl->phase != PHASE_IDLE &&
		    coffer_queue_check_item(sl->item, strlen(sl->item)) != 0)
			return 0;
	}
	return 1;
}

int
shared_idle(const struct worker_shared *c)
{
	for (int i = 0; i < WORKER_SLOTS; i++)
		if (c->slot[i].phase != PHASE_IDLE)
			return 0;
	return 1;
}

void
shared_go(struct worker_shared *sh)
{
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
}

int
shared_wait_go(struct worker_shared *sh)
{
	pid_t parent = getppid();

	while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 0, 1000000L };

		if (getppid() != parent)
			return 0;
		nanosleep(&ts, NULL);
	}
	return 1;
}
