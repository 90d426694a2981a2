// SPDX-License-Identifier: Apache-2.0
// The two-thread pipeline of the sealed fd paths (crypto/sealed_pipe.h).
//
// Why this split: for a file, `coffer seal` and `coffer open` read, run
// the AEAD, compute SHA-256 of every sealed byte (the content digest) and
// write. The digest is the slowest step and cannot be split (SHA-256 is
// sequential); writing a new file costs about as much as the AEAD (page
// allocation in the kernel), and which thread has time left for what
// depends on the machine and on what else runs on it. So each thread
// does whichever task is due, and sleeps only when none is
// (BENCHMARKS.md, "Sealed format throughput"). Reading and the AEAD are
// two tasks (produce, prepare), not one: a thread that caught up with
// the digest then finds the AEAD of the next batch to do instead of
// waiting for the other to read and seal it (seal slept once every two
// batches when they were one).
//
// How, kept small enough to check by reading: one mutex, a condition
// variable per thread, and counters of batches, numbered in order; batch
// j lives in slot j % nslots. Each stage runs one batch at a time (its
// flag is set meanwhile) and in order:
//   produced_n    batches produced into their slot (`producing`)
//   prepared_n    batches prepared, with a preparer (`preparing`);
//                 without one, each batch as it is produced
//   hashed_n      batches hashed (`hashing`)
//   transformed_n batches transformed, with a transform (`transforming`)
//   write_n       batches handed for writing: each one prepared, or with
//                 a transform each one transformed
//   written_n     batches written (`writing`)
// Batch j is produced only when j < min(hashed_n, written_n) + nslots
// (the slot's previous batch is hashed and written; with a transform,
// written implies transformed); prepared only when j == prepared_n <
// produced_n; hashed only when j == hashed_n < prepared_n; transformed
// only when j == transformed_n < hashed_n; written only when j ==
// written_n < write_n. Only the producer (before the batch is produced),
// the preparer (after it is produced, before it is hashed) and the
// transform (after it is hashed, before it is handed for writing) change
// a batch; the digest and the writer only read it, at other times. So a
// batch is never changed by one thread while another reads it, and the
// mutex orders each change before the other thread's next access.
//
// Waking: a thread that has nothing to do sleeps on its own condition
// variable after saying so (caller_waits, helper_waits); every change
// goes through wake(), which signals a sleeper once it has a task, or
// (the caller) once the run is over. No thread spins.
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/sealed_pipe.h"
#include "lib/mem.h"

#define MIN_SLOTS 2
#define MAX_SLOTS 16

struct coffer_spipe {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t caller_cv, helper_cv; /* see wake() */
	struct coffer_hash *h;
	int out;
	int helper_writes;
	size_t slot_size, nslots;
	uint8_t *slot[MAX_SLOTS];
	size_t len[MAX_SLOTS];    /* bytes produced, hashed */
	struct iovec piece[MAX_SLOTS][COFFER_SPIPE_MAX_PIECES]; /* to write */
	int npieces[MAX_SLOTS];
	struct coffer_spipe_job job;
	uint64_t produced_n, prepared_n, hashed_n, transformed_n, write_n,
	    written_n;
	uint64_t written_bytes;
	int producing, preparing, hashing, transforming, writing; /* under
	                                                              way */
	int running;              /* _run was called */
	int produced_last;        /* the last batch was produced */
	int pend;                 /* the transform's error, returned once
	                             what it gave is written; 0 if none */
	char pend_detail[256];
	int caller_waits;         /* the caller sleeps in _run */
	int helper_waits;         /* the helper sleeps */
	int ending;               /* _end: exit when nothing is left */
	int stopping;             /* exit now */
	int err;                  /* the first error, 0 if none */
	char detail[256];         /* its detail (coffer_errdetail is per thread) */
	double cpu_s;             /* the helper's CPU time, when it exits */
	int started;
};

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* With the lock held: may the calling thread (the helper or not) now
 * produce, prepare, hash, transform or write the next batch? */
static int
can_produce(const struct coffer_spipe *p, int helper)
{
	return p->running && !p->producing && !p->produced_last &&
	    p->pend == 0 && (!helper || p->job.helper_produces) &&
	    p->produced_n < min_u64(p->hashed_n, p->written_n) + p->nslots &&
	    (p->job.ahead == 0 ||
	    p->produced_n < p->transformed_n + p->job.ahead);
}

static int
can_prepare(const struct coffer_spipe *p)
{
	return !p->preparing && p->prepared_n < p->produced_n;
}

static int
can_hash(const struct coffer_spipe *p)
{
	return !p->hashing && p->hashed_n < p->prepared_n;
}

static int
can_transform(const struct coffer_spipe *p)
{
	return p->job.transform != NULL && !p->transforming && p->pend == 0 &&
	    p->transformed_n < p->hashed_n;
}

static int
can_write(const struct coffer_spipe *p, int helper)
{
	return !p->writing && p->written_n < p->write_n &&
	    (!helper || p->helper_writes);
}

static int
has_task(const struct coffer_spipe *p, int helper)
{
	return can_hash(p) || can_prepare(p) || can_transform(p) ||
	    can_write(p, helper) || can_produce(p, helper);
}

/* With the lock held: is a thread in a task (a callback of the job among
 * them)? */
static int
under_way(const struct coffer_spipe *p)
{
	return p->producing || p->preparing || p->hashing || p->transforming ||
	    p->writing;
}

/* With the lock held: the run is over. Nothing is under way, everything
 * produced is hashed and everything handed for writing written; and the
 * last batch was produced and (with a transform) transformed, or the
 * transform failed. */
static int
done(const struct coffer_spipe *p)
{
	if (!p->running || under_way(p) || p->hashed_n != p->produced_n ||
	    p->written_n != p->write_n)
		return 0;
	return p->pend != 0 || (p->produced_last &&
	    (p->job.transform == NULL || p->transformed_n == p->produced_n));
}

/* With the lock held, after any change: signal a sleeping thread that
 * now has something to do (see the top of this file). */
static void
wake(struct coffer_spipe *p)
{
	if (p->helper_waits && (p->stopping || p->ending || has_task(p, 1)))
		pthread_cond_signal(&p->helper_cv);
	if (p->caller_waits && (p->err != 0 || done(p) || has_task(p, 0)))
		pthread_cond_signal(&p->caller_cv);
}

/* With the lock held: stop on error r (the calling thread's detail). */
static void
fail_locked(struct coffer_spipe *p, int r)
{
	if (p->err == 0) {
		p->err = r;
		snprintf(p->detail, sizeof(p->detail), "%s", coffer_errdetail());
	}
	p->stopping = 1;
	wake(p);
}

/* With the lock held: the first error as the caller's own. */
static int
pipe_err(const struct coffer_spipe *p)
{
	return coffer_errf(p->err, "%s", p->detail);
}

double
coffer_spipe_thread_cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
coffer_spipe_writev(int fd, const struct iovec *piece, int cnt, uint64_t *n)
{
	struct iovec v[COFFER_SPIPE_MAX_PIECES];
	int i = 0;

	*n = 0;
	if (cnt < 0 || cnt > COFFER_SPIPE_MAX_PIECES)
		return coffer_errf(COFFER_E_INVAL, "%d pieces to write", cnt);
	memcpy(v, piece, (size_t)cnt * sizeof(v[0]));
	while (i < cnt) {
		ssize_t k;

		if (v[i].iov_len == 0) {
			i++;
			continue;
		}
		k = writev(fd, v + i, cnt - i);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return coffer_errf(COFFER_E_IO, "write: %s", strerror(errno));
		}
		*n += (uint64_t)k;
		coffer_spipe_iov_advance(v, cnt, &i, (size_t)k);
	}
	return 0;
}

void
coffer_spipe_iov_advance(struct iovec *v, int cnt, int *first, size_t k)
{
	/* the pieces done, then part of one */
	while (*first < cnt && k >= v[*first].iov_len) {
		k -= v[*first].iov_len;
		(*first)++;
	}
	if (*first < cnt) {
		v[*first].iov_base = (uint8_t *)v[*first].iov_base + k;
		v[*first].iov_len -= k;
	}
}

/* With the lock held: batch j (in slot s, n bytes) is ready to hash;
 * without a transform, hand it for writing whole. */
static void
prepared(struct coffer_spipe *p, size_t s, size_t n)
{
	p->len[s] = n;
	p->prepared_n++;
	if (p->job.transform == NULL) {
		p->piece[s][0].iov_base = p->slot[s];
		p->piece[s][0].iov_len = n;
		p->npieces[s] = 1;
		p->write_n++;
	}
}

/* With the lock held, once the producer or the preparer returned r and
 * a batch of n bytes: 1 if it is one, else the run failed (0). */
static int
batch_ok(struct coffer_spipe *p, int r, size_t n)
{
	if (r == 0 && n > p->slot_size)
		r = coffer_errf(COFFER_E_INTERNAL, "sealed pipe: batch of %zu "
		    "bytes", n);
	if (r != 0)
		fail_locked(p, r);
	return r == 0;
}

/* With the lock held, can_produce true: produce batch produced_n into
 * its slot, unlocking meanwhile. */
static void
produce_next(struct coffer_spipe *p)
{
	size_t s = (size_t)(p->produced_n % p->nslots), n = 0;
	int r, last = 0;

	p->producing = 1;
	pthread_mutex_unlock(&p->mu);
	r = p->job.produce(p->job.arg, p->slot[s], &n, &last);
	pthread_mutex_lock(&p->mu);
	p->producing = 0;
	if (!batch_ok(p, r, n))
		return;
	p->len[s] = n;
	p->produced_n++;
	p->produced_last = last != 0;
	if (p->job.prepare == NULL)
		prepared(p, s, n);
	wake(p);
}

/* With the lock held, can_prepare true: prepare batch prepared_n,
 * unlocking meanwhile. */
static void
prepare_next(struct coffer_spipe *p)
{
	size_t s = (size_t)(p->prepared_n % p->nslots), n = p->len[s];
	int r;

	p->preparing = 1;
	pthread_mutex_unlock(&p->mu);
	r = p->job.prepare(p->job.arg, p->slot[s], &n);
	pthread_mutex_lock(&p->mu);
	p->preparing = 0;
	if (!batch_ok(p, r, n))
		return;
	prepared(p, s, n);
	wake(p);
}

/* With the lock held, can_hash true: hash batch hashed_n, unlocking
 * meanwhile. */
static void
hash_next(struct coffer_spipe *p)
{
	size_t s = (size_t)(p->hashed_n % p->nslots);
	int r;

	p->hashing = 1;
	pthread_mutex_unlock(&p->mu);
	r = coffer_hash_update(p->h, p->slot[s], p->len[s]);
	pthread_mutex_lock(&p->mu);
	p->hashing = 0;
	if (r != 0) {
		fail_locked(p, r);
		return;
	}
	p->hashed_n++;
	wake(p);
}

/* With the lock held: are the cnt pieces inside slot s? */
static int
pieces_inside(const struct coffer_spipe *p, size_t s, int cnt)
{
	const struct iovec *v = p->piece[s];

	if (cnt < 0 || cnt > COFFER_SPIPE_MAX_PIECES)
		return 0;
	for (int i = 0; i < cnt; i++)
		if ((uint8_t *)v[i].iov_base < p->slot[s] ||
		    v[i].iov_len > p->slot_size ||
		    (size_t)((uint8_t *)v[i].iov_base - p->slot[s]) >
		    p->slot_size - v[i].iov_len)
			return 0;
	return 1;
}

/* With the lock held, can_transform true: transform batch transformed_n
 * and hand the pieces it gives for writing, unlocking meanwhile. */
static void
transform_next(struct coffer_spipe *p)
{
	size_t s = (size_t)(p->transformed_n % p->nslots);
	char detail[sizeof(p->pend_detail)];
	int r, cnt = 0;

	p->transforming = 1;
	pthread_mutex_unlock(&p->mu);
	r = p->job.transform(p->job.arg, p->slot[s], p->len[s], p->piece[s],
	    &cnt);
	if (r != 0)
		snprintf(detail, sizeof(detail), "%s", coffer_errdetail());
	pthread_mutex_lock(&p->mu);
	p->transforming = 0;
	if (!pieces_inside(p, s, cnt)) {
		fail_locked(p, coffer_errf(COFFER_E_INTERNAL, "sealed pipe: bad "
		    "pieces to write"));
		return;
	}
	p->npieces[s] = cnt;
	p->transformed_n++;
	p->write_n++;
	if (r != 0) {
		p->pend = r;
		memcpy(p->pend_detail, detail, sizeof(detail));
	}
	wake(p);
}

/* With the lock held, can_write true: write batch written_n, unlocking
 * meanwhile. */
static void
write_next(struct coffer_spipe *p)
{
	size_t s = (size_t)(p->written_n % p->nslots);
	uint64_t n = 0;
	int r;

	p->writing = 1;
	pthread_mutex_unlock(&p->mu);
	r = coffer_spipe_writev(p->out, p->piece[s], p->npieces[s], &n);
	pthread_mutex_lock(&p->mu);
	p->writing = 0;
	p->written_bytes += n;
	if (r != 0) {
		fail_locked(p, r);
		return;
	}
	p->written_n++;
	wake(p);
}

/* With the lock held: do one task the calling thread may do now: the
 * digest first (the longest job, and only one thread at a time can do
 * it), then preparing what it waits for, a transform; then from a
 * regular input the next batch before a write, so that the ring fills
 * and the digest always finds a batch ready (writing first, a thread
 * caught up with the digest slept while the other read the next batch);
 * from any other input a write first, so that what is ready goes out
 * before a read that may wait for more. 1 if it did one. */
static int
step(struct coffer_spipe *p, int helper)
{
	int read_first = p->job.helper_produces;

	if (can_hash(p))
		hash_next(p);
	else if (can_prepare(p))
		prepare_next(p);
	else if (can_transform(p))
		transform_next(p);
	else if (read_first && can_produce(p, helper))
		produce_next(p);
	else if (can_write(p, helper))
		write_next(p);
	else if (can_produce(p, helper))
		produce_next(p);
	else
		return 0;
	return 1;
}

static void *
run(void *arg)
{
	struct coffer_spipe *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stopping) {
		if (step(p, 1))
			continue;
		if (p->ending)
			break;
		p->helper_waits = 1;
		pthread_cond_wait(&p->helper_cv, &p->mu);
		p->helper_waits = 0;
	}
	p->cpu_s = coffer_spipe_thread_cpu_s();
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
coffer_spipe_useful(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	return CPU_COUNT(&set) >= 2;
}

int
coffer_spipe_new(struct coffer_hash *h, int out, int helper_writes,
    size_t slot_size, size_t nslots, struct coffer_spipe **out_p)
{
	struct coffer_spipe *p;
	sigset_t all, old;
	size_t i;
	int e;

	if (h == NULL || slot_size == 0 || nslots < MIN_SLOTS ||
	    nslots > MAX_SLOTS)
		return coffer_errf(COFFER_E_INVAL, "sealed pipe: %zu slots of %zu "
		    "bytes", nslots, slot_size);
	if ((p = coffer_calloc(1, sizeof(*p))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "sealed pipe");
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		coffer_free_secret(p, sizeof(*p));
		return coffer_errf(COFFER_E_INTERNAL, "sealed pipe: mutex");
	}
	if (pthread_cond_init(&p->caller_cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		coffer_free_secret(p, sizeof(*p));
		return coffer_errf(COFFER_E_INTERNAL, "sealed pipe: condition "
		    "variable");
	}
	if (pthread_cond_init(&p->helper_cv, NULL) != 0) {
		pthread_cond_destroy(&p->caller_cv);
		pthread_mutex_destroy(&p->mu);
		coffer_free_secret(p, sizeof(*p));
		return coffer_errf(COFFER_E_INTERNAL, "sealed pipe: condition "
		    "variable");
	}
	/* from here on coffer_spipe_free undoes everything */
	p->h = h;
	p->out = out;
	p->helper_writes = helper_writes != 0;
	p->slot_size = slot_size;
	p->nslots = nslots;
	for (i = 0; i < nslots; i++)
		if ((p->slot[i] = coffer_malloc(slot_size)) == NULL) {
			coffer_spipe_free(p);
			return coffer_errf(COFFER_E_NOMEM, "sealed pipe: %zu buffers of "
			    "%zu bytes", nslots, slot_size);
		}
	/* The helper inherits a mask with every signal blocked: signals go to
	 * the caller's threads, whose handlers remove temporary files. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&p->th, NULL, run, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		coffer_spipe_free(p);
		return coffer_errf(COFFER_E_INTERNAL, "sealed pipe: pthread_create: %s",
		    strerror(e));
	}
	p->started = 1;
	*out_p = p;
	return 0;
}

int
coffer_spipe_run(struct coffer_spipe *p, const struct coffer_spipe_job *job)
{
	int r;

	pthread_mutex_lock(&p->mu);
	if (job->produce == NULL || p->running || p->ending) {
		pthread_mutex_unlock(&p->mu);
		return coffer_errf(COFFER_E_STATE, "sealed pipe: cannot run");
	}
	p->job = *job;
	p->running = 1;
	wake(p);
	for (;;) {
		if (p->err != 0) {
			/* once the other thread's task is over: the job's
			 * callbacks and arg are then out of use, and the caller
			 * may let them go (seal's arg is on its stack) */
			if (!under_way(p)) {
				r = pipe_err(p);
				break;
			}
		} else if (done(p)) {
			r = p->pend == 0 ? 0 : coffer_errf(p->pend, "%s",
			    p->pend_detail);
			break;
		} else if (step(p, 0)) {
			continue;
		}
		p->caller_waits = 1;
		pthread_cond_wait(&p->caller_cv, &p->mu);
		p->caller_waits = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

static void
join(struct coffer_spipe *p)
{
	if (p->started) {
		pthread_join(p->th, NULL);
		p->started = 0;
	}
}

int
coffer_spipe_end(struct coffer_spipe *p)
{
	int r;

	pthread_mutex_lock(&p->mu);
	p->ending = 1;
	wake(p);
	r = p->err != 0 ? pipe_err(p) : 0;
	pthread_mutex_unlock(&p->mu);
	join(p);
	return r;
}

uint64_t
coffer_spipe_written(struct coffer_spipe *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->mu);
	n = p->written_bytes;
	pthread_mutex_unlock(&p->mu);
	return n;
}

double
coffer_spipe_cpu_s(const struct coffer_spipe *p)
{
	return p->started ? 0 : p->cpu_s;
}

void
coffer_spipe_free(struct coffer_spipe *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stopping = 1;
		wake(p);
		pthread_mutex_unlock(&p->mu);
		join(p);
	}
	pthread_cond_destroy(&p->caller_cv);
	pthread_cond_destroy(&p->helper_cv);
	pthread_mutex_destroy(&p->mu);
	for (i = 0; i < p->nslots; i++)
		if (p->slot[i] != NULL)
			coffer_free_secret(p->slot[i], p->slot_size);
	coffer_free_secret(p, sizeof(*p));
}
