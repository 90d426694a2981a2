// SPDX-License-Identifier: Apache-2.0
// A digest on a second thread behind a bounded ring of buffers
// (crypto/digest_pipe.h).
//
// Why: SHA-256 of every sealed byte is the slowest step of `coffer seal`
// and `coffer open` (about a third of AES-GCM's speed with SHA-NI), and
// it depends only on the bytes, not on the AEAD: with the digest on its
// own core the AEAD and the I/O hide behind it (BENCHMARKS.md, "Sealed
// format throughput").
//
// How, kept small enough to check by reading: one mutex and one condition
// variable; two counters, `pushed` (written by the caller) and `hashed`
// (written by the thread); slot i of the ring holds the i-th push modulo
// nslots. The caller may fill slot i only once hashed >= i - nslots + 1
// (the thread is done with the push that used it before), and the thread
// reads slot j only once pushed > j. A buffer is therefore written by one
// thread at a time, and the thread only ever reads; the mutex orders the
// caller's writes before the thread's reads and the thread's reads before
// the caller's next writes to that slot.
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/digest_pipe.h"
#include "lib/mem.h"

#define MAX_SLOTS 64

struct coffer_dpipe {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;     /* broadcast on every change of the state below */
	struct coffer_hash *h;
	size_t slot_size, nslots;
	uint8_t *slot[MAX_SLOTS];
	size_t len[MAX_SLOTS];
	uint64_t pushed;       /* buffers handed to the thread (caller) */
	uint64_t hashed;       /* buffers the thread is done with (thread) */
	int ending;            /* the caller pushes no more: hash the rest, exit */
	int stopping;          /* exit now, leaving the rest unhashed */
	int err;               /* the thread's error, 0 if none */
	int started;           /* the thread exists and must be joined */
	uint64_t next_slot;    /* the push the caller's _next returned */
	int have_slot;
};

static void *
run(void *arg)
{
	struct coffer_dpipe *p = arg;
	uint64_t j;
	size_t n;
	int r;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->hashed == p->pushed && !p->ending && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stopping || (p->hashed == p->pushed && p->ending))
			break;
		j = p->hashed;
		n = p->len[j % p->nslots];
		pthread_mutex_unlock(&p->mu);
		/* Outside the lock: slot j is the caller's to read, not to write,
		 * until hashed moves past it. */
		r = coffer_hash_update(p->h, p->slot[j % p->nslots], n);
		pthread_mutex_lock(&p->mu);
		if (r != 0) {
			p->err = r;
			p->stopping = 1;
			pthread_cond_broadcast(&p->cv);
			break;
		}
		p->hashed = j + 1;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
coffer_dpipe_useful(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	return CPU_COUNT(&set) >= 2;
}

int
coffer_dpipe_new(struct coffer_hash *h, size_t slot_size, size_t nslots,
    struct coffer_dpipe **out)
{
	struct coffer_dpipe *p;
	sigset_t all, old;
	size_t i;
	int e;

	if (h == NULL || slot_size == 0 || nslots < 2 || nslots > MAX_SLOTS)
		return coffer_errf(COFFER_E_INVAL, "digest pipe: %zu slots of %zu "
		    "bytes", nslots, slot_size);
	if ((p = coffer_calloc(1, sizeof(*p))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "digest pipe");
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		coffer_free_secret(p, sizeof(*p));
		return coffer_errf(COFFER_E_INTERNAL, "digest pipe: mutex");
	}
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		coffer_free_secret(p, sizeof(*p));
		return coffer_errf(COFFER_E_INTERNAL, "digest pipe: condition "
		    "variable");
	}
	/* from here on coffer_dpipe_free undoes everything */
	p->h = h;
	p->slot_size = slot_size;
	p->nslots = nslots;
	for (i = 0; i < nslots; i++)
		if ((p->slot[i] = coffer_malloc(slot_size)) == NULL) {
			coffer_dpipe_free(p);
			return coffer_errf(COFFER_E_NOMEM, "digest pipe: %zu buffers of "
			    "%zu bytes", nslots, slot_size);
		}
	/* The thread inherits a mask with every signal blocked: signals go to
	 * the caller's threads, whose handlers remove temporary files. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&p->th, NULL, run, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		coffer_dpipe_free(p);
		return coffer_errf(COFFER_E_INTERNAL, "digest pipe: pthread_create: %s",
		    strerror(e));
	}
	p->started = 1;
	*out = p;
	return 0;
}

static int
thread_err(const struct coffer_dpipe *p)
{
	return coffer_errf(p->err, "digest thread: %s", coffer_strerror(p->err));
}

int
coffer_dpipe_next(struct coffer_dpipe *p, uint8_t **slot)
{
	int r = 0;

	pthread_mutex_lock(&p->mu);
	/* The slot of push number `pushed` was last used by push
	 * pushed - nslots: wait until the thread is past it. */
	while (!p->stopping && !p->ending && p->pushed >= p->nslots &&
	    p->hashed < p->pushed - p->nslots + 1)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->err != 0)
		r = thread_err(p);
	else if (p->stopping || p->ending)
		r = coffer_errf(COFFER_E_STATE, "digest pipe already ended");
	else {
		*slot = p->slot[p->pushed % p->nslots];
		p->next_slot = p->pushed;
		p->have_slot = 1;
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

void
coffer_dpipe_push(struct coffer_dpipe *p, size_t len)
{
	pthread_mutex_lock(&p->mu);
	if (p->have_slot && p->next_slot == p->pushed && len <= p->slot_size) {
		p->len[p->pushed % p->nslots] = len;
		p->pushed++;
		p->have_slot = 0;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

static void
join(struct coffer_dpipe *p)
{
	if (p->started) {
		pthread_join(p->th, NULL);
		p->started = 0;
	}
}

int
coffer_dpipe_end(struct coffer_dpipe *p)
{
	int r = 0;

	pthread_mutex_lock(&p->mu);
	p->ending = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	join(p);
	/* the thread has exited: its fields are ours to read */
	if (p->err != 0)
		r = thread_err(p);
	else if (p->hashed != p->pushed)
		r = coffer_errf(COFFER_E_INTERNAL, "digest pipe: %llu of %llu "
		    "buffers hashed", (unsigned long long)p->hashed,
		    (unsigned long long)p->pushed);
	return r;
}

void
coffer_dpipe_free(struct coffer_dpipe *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stopping = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		join(p);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	for (i = 0; i < p->nslots; i++)
		if (p->slot[i] != NULL)
			coffer_free_secret(p->slot[i], p->slot_size);
	coffer_free_secret(p, sizeof(*p));
}
