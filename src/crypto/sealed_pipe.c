// SPDX-License-Identifier: Apache-2.0
// The two-thread pipeline of the sealed fd paths (crypto/sealed_pipe.h).
//
// Why this split: for a file, `coffer seal` and `coffer open` read, run
// the AEAD, compute SHA-256 of every sealed byte (the content digest) and
// write. The digest is the slowest step and cannot be split (SHA-256 is
// sequential); writing a new file costs about as much as the AEAD (page
// allocation in the kernel), and which thread has time left for what
// depends on the machine and on what else runs on it. So under _run (seal
// and open) each thread does whichever task is due; with _take, _hash and
// _write the helper hashes and whichever thread would otherwise wait
// writes (BENCHMARKS.md, "Sealed format throughput").
//
// How, kept small enough to check by reading: one mutex, a condition
// variable per thread, and counters of buffers, numbered in order; buffer
// j lives in slot j % nslots.
//   taken_n     buffers taken to fill (the caller; under _run, produced)
//   hash_n      buffers handed to the digest (caller; under _run, with
//               taken_n)
//   hashed_n    buffers hashed (the helper; under _run, either thread;
//               `hashing` is set while one is being hashed)
//   checked_n   buffers the caller has seen hashed (_wait_hashed; caller)
//   write_n     buffers handed for writing (caller; under _run, with
//               taken_n)
//   written_n   buffers written (the thread that wrote; `writing` is set
//               while one is being written, so there is one at a time)
// A buffer j is filled only when j < min(hashed_n, written_n) + nslots
// (the slot's previous buffer is hashed and written; under _run one at a
// time, `producing`, in order); it is hashed only when j == hashed_n <
// hash_n and none is being hashed; under _run with a transform,
// transformed only when j == transformed_n < hashed_n and none is being
// transformed (`transforming`), which hands it for writing; written only
// when j == written_n < write_n and none is being written. The caller
// changes a buffer only between _take and _hash, and between _wait_hashed
// and _write for it (under _run, only the producer and the transform,
// before it is handed for hashing, and after it was hashed and before it
// is handed for writing); the digest and the writer only read it after
// those. So a buffer is never
// changed by one thread while another reads it, and the mutex orders each
// change before the other thread's next access.
//
// Waking: a thread that has nothing to do sleeps on its own condition
// variable after saying so (caller_waits, helper_waits); every change
// goes through wake(), which signals a sleeper once it has something to
// do: under _run, any task; otherwise the helper when two buffers wait
// for it (or one, when the caller waits too), the caller when what it
// waits for is there, with a slot to spare for a free slot, or a write is
// due. No thread spins: each sleeps until woken.
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
	size_t hlen[MAX_SLOTS];   /* bytes to hash, from _hash */
	struct iovec piece[MAX_SLOTS][COFFER_SPIPE_MAX_PIECES]; /* from _write */
	int npieces[MAX_SLOTS];
	uint64_t taken_n, hash_n, hashed_n, checked_n, write_n, written_n;
	uint64_t written_bytes;
	int writing;              /* a write is under way */
	int hashing;              /* a digest update is under way */
	/* _run: the job, and its state */
	struct coffer_spipe_job job;
	int running;              /* _run was called */
	int producing;            /* a batch is being produced */
	int produced_last;        /* the last batch was produced */
	int transforming;         /* a batch is being transformed */
	uint64_t transformed_n;   /* batches transformed */
	int pend;                 /* the transform's error, once what it
	                             gave is written; 0 if none */
	char pend_detail[256];
	int caller_waits;         /* the caller sleeps in wait_locked ... */
	int caller_for;           /* ... for this (enum wait_for) ... */
	int caller_slack;         /* ... with this many more slots free */
	int helper_waits;         /* the helper sleeps */
	int ending;               /* _end: finish what is handed over, exit */
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

/* What the caller waits for. */
enum wait_for {
	WAIT_FREE,    /* the slot of buffer taken_n (and `slack` more) */
	WAIT_HASHED,  /* buffer checked_n hashed */
	WAIT_ALL,     /* everything handed over hashed and written */
	WAIT_RUN,     /* _run: a task for the caller, or the end */
};

/* With the lock held: may the calling thread hash the next buffer now?
 * The helper always may; the caller only under _run. One at a time. */
static int
can_hash(const struct coffer_spipe *p, int helper)
{
	return !p->hashing && p->hashed_n < p->hash_n &&
	    (helper || p->running);
}

/* With the lock held, under _run with a transform: may the calling
 * thread transform the next batch now? Only once it is hashed. */
static int
can_transform(const struct coffer_spipe *p)
{
	return p->running && p->job.transform != NULL && !p->transforming &&
	    p->pend == 0 && p->transformed_n < p->hashed_n;
}

/* With the lock held, under _run: may the calling thread produce the next
 * batch now? Its slot must have been hashed and written. */
static int
can_produce(const struct coffer_spipe *p, int helper)
{
	return p->running && !p->producing && !p->produced_last &&
	    p->pend == 0 && (!helper || p->job.helper_produces) &&
	    p->taken_n < min_u64(p->hashed_n, p->written_n) + p->nslots &&
	    (p->job.ahead == 0 || p->taken_n < p->transformed_n + p->job.ahead);
}

/* With the lock held, under _run: everything produced, hashed, written. */
static int
run_done(const struct coffer_spipe *p)
{
	if (!p->running || p->hashing || p->writing || p->producing ||
	    p->transforming || p->written_n != p->write_n)
		return 0;
	return p->pend != 0 || (p->produced_last && p->hashed_n == p->hash_n &&
	    (p->job.transform == NULL || p->transformed_n == p->hash_n));
}

static int
ready(const struct coffer_spipe *p, int w, uint64_t slack)
{
	switch (w) {
	case WAIT_FREE:
		return p->taken_n + slack < min_u64(p->hashed_n, p->written_n) +
		    p->nslots;
	case WAIT_HASHED:
		return p->checked_n < p->hashed_n;
	case WAIT_ALL:
		return p->hashed_n == p->hash_n && p->written_n == p->write_n &&
		    !p->writing && !p->hashing;
	case WAIT_RUN:
		return run_done(p);
	}
	return 0;
}

/* With the lock held: may the calling thread (helper or not) write the
 * next buffer now? */
static int
can_write(const struct coffer_spipe *p, int helper)
{
	return !p->writing && p->written_n < p->write_n &&
	    (!helper || p->helper_writes);
}

/* With the lock held, after any change: signal a sleeping thread that
 * now has enough to do (see the top of this file). */
static void
wake(struct coffer_spipe *p)
{
	uint64_t todo = p->hash_n - p->hashed_n +
	    (can_write(p, 1) ? p->write_n - p->written_n : 0);

	if (p->running) {
		/* _run: a sleeper is woken as soon as it has a task */
		if (p->helper_waits && (p->stopping || p->ending ||
		    can_hash(p, 1) || can_transform(p) || can_write(p, 1) ||
		    can_produce(p, 1)))
			pthread_cond_signal(&p->helper_cv);
		if (p->caller_waits && (p->err != 0 ||
		    ready(p, p->caller_for, 0) || can_hash(p, 0) ||
		    can_transform(p) || can_write(p, 0) || can_produce(p, 0)))
			pthread_cond_signal(&p->caller_cv);
		return;
	}
	if (p->helper_waits && (p->stopping || p->ending ||
	    todo >= (p->caller_waits ? 1u : 2u)))
		pthread_cond_signal(&p->helper_cv);
	if (p->caller_waits && (p->err != 0 || can_write(p, 0) ||
	    ready(p, p->caller_for, (uint64_t)p->caller_slack)))
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
		/* skip what went out: whole pieces, then part of one */
		while (i < cnt && (size_t)k >= v[i].iov_len) {
			k -= (ssize_t)v[i].iov_len;
			i++;
		}
		if (i < cnt) {
			v[i].iov_base = (uint8_t *)v[i].iov_base + k;
			v[i].iov_len -= (size_t)k;
		}
	}
	return 0;
}

/* With the lock held, can_write true: write buffer written_n, unlocking
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

/* With the lock held, can_hash true: hash buffer hashed_n, unlocking
 * meanwhile. */
static void
hash_next(struct coffer_spipe *p)
{
	uint64_t j = p->hashed_n;
	int r;

	p->hashing = 1;
	pthread_mutex_unlock(&p->mu);
	r = coffer_hash_update(p->h, p->slot[j % p->nslots],
	    p->hlen[j % p->nslots]);
	pthread_mutex_lock(&p->mu);
	p->hashing = 0;
	if (r != 0) {
		fail_locked(p, r);
		return;
	}
	p->hashed_n = j + 1;
	wake(p);
}

/* With the lock held, can_produce true: produce batch taken_n into its
 * slot and hand it to the digest and for writing, unlocking meanwhile. */
static void
produce_next(struct coffer_spipe *p)
{
	size_t s = (size_t)(p->taken_n % p->nslots), n = 0;
	int r, last = 0;

	p->producing = 1;
	pthread_mutex_unlock(&p->mu);
	r = p->job.produce(p->job.arg, p->slot[s], &n, &last);
	pthread_mutex_lock(&p->mu);
	p->producing = 0;
	if (r == 0 && n > p->slot_size)
		r = coffer_errf(COFFER_E_INTERNAL, "sealed pipe: batch of %zu "
		    "bytes", n);
	if (r != 0) {
		fail_locked(p, r);
		return;
	}
	p->hlen[s] = n;
	p->taken_n++;
	p->hash_n++;
	if (p->job.transform == NULL) {
		/* written whole, as produced */
		p->piece[s][0].iov_base = p->slot[s];
		p->piece[s][0].iov_len = n;
		p->npieces[s] = 1;
		p->write_n++;
	}
	p->produced_last = last != 0;
	wake(p);
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
	r = p->job.transform(p->job.arg, p->slot[s], p->hlen[s], p->piece[s],
	    &cnt);
	if (r != 0)
		snprintf(detail, sizeof(detail), "%s", coffer_errdetail());
	pthread_mutex_lock(&p->mu);
	if (r != 0)
		memcpy(p->pend_detail, detail, sizeof(detail));
	p->transforming = 0;
	if (cnt < 0 || cnt > COFFER_SPIPE_MAX_PIECES) {
		fail_locked(p, coffer_errf(COFFER_E_INTERNAL, "sealed pipe: %d "
		    "pieces to write", cnt));
		return;
	}
	p->npieces[s] = cnt;
	p->write_n++;
	p->transformed_n++;
	p->pend = r;
	wake(p);
}

/* With the lock held: do one task the calling thread may do now, the
 * digest first (the longest job, in order), then (_run) a transform, then
 * a write, then (_run) the next batch. 1 if it did one. */
static int
step(struct coffer_spipe *p, int helper)
{
	if (can_hash(p, helper))
		hash_next(p);
	else if (can_transform(p))
		transform_next(p);
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

/* With the lock held: wait for w, writing what is due meanwhile. */
static int
wait_locked(struct coffer_spipe *p, enum wait_for w)
{
	int slack = 0;

	for (;;) {
		if (p->err != 0)
			return pipe_err(p);
		if (ready(p, w, (uint64_t)slack))
			return 0;
		if (can_write(p, 0)) {
			write_next(p);
			continue;
		}
		/* Sleep; for a free slot, until there is one to spare (if the
		 * ring has more than two), so that the next _take does not
		 * sleep again at once. */
		slack = w == WAIT_FREE && p->nslots > 2 ? 1 : 0;
		p->caller_waits = 1;
		p->caller_for = w;
		p->caller_slack = slack;
		wake(p); /* the helper may have been waiting for more to do */
		pthread_cond_wait(&p->caller_cv, &p->mu);
		p->caller_waits = 0;
	}
}

int
coffer_spipe_take(struct coffer_spipe *p, uint8_t **buf)
{
	int r;

	pthread_mutex_lock(&p->mu);
	if (p->ending)
		r = coffer_errf(COFFER_E_STATE, "sealed pipe: already ended");
	else if ((r = wait_locked(p, WAIT_FREE)) == 0)
		*buf = p->slot[p->taken_n++ % p->nslots];
	pthread_mutex_unlock(&p->mu);
	return r;
}

void
coffer_spipe_hash(struct coffer_spipe *p, size_t n)
{
	pthread_mutex_lock(&p->mu);
	if (p->hash_n < p->taken_n && n <= p->slot_size) {
		p->hlen[p->hash_n % p->nslots] = n;
		p->hash_n++;
		wake(p);
	}
	pthread_mutex_unlock(&p->mu);
}

int
coffer_spipe_wait_hashed(struct coffer_spipe *p)
{
	int r = 0;

	pthread_mutex_lock(&p->mu);
	if (p->checked_n >= p->hash_n)
		r = coffer_errf(COFFER_E_STATE, "sealed pipe: nothing to wait for");
	else if ((r = wait_locked(p, WAIT_HASHED)) == 0)
		p->checked_n++;
	pthread_mutex_unlock(&p->mu);
	return r;
}

int
coffer_spipe_write(struct coffer_spipe *p, const struct iovec *piece, int cnt)
{
	size_t s;
	int i, r = 0;

	pthread_mutex_lock(&p->mu);
	s = (size_t)(p->write_n % p->nslots);
	if (p->write_n >= p->taken_n || cnt < 0 ||
	    cnt > COFFER_SPIPE_MAX_PIECES)
		r = coffer_errf(COFFER_E_INVAL, "sealed pipe: %d pieces to write",
		    cnt);
	for (i = 0; r == 0 && i < cnt; i++)
		if ((uint8_t *)piece[i].iov_base < p->slot[s] ||
		    piece[i].iov_len > p->slot_size ||
		    (size_t)((uint8_t *)piece[i].iov_base - p->slot[s]) >
		    p->slot_size - piece[i].iov_len)
			r = coffer_errf(COFFER_E_INVAL, "sealed pipe: piece %d is "
			    "outside its buffer", i);
	if (r == 0) {
		memcpy(p->piece[s], piece, (size_t)cnt * sizeof(*piece));
		p->npieces[s] = cnt;
		p->write_n++;
		wake(p);
		/* Where the helper may not write (a pipe, whose reader may be
		 * waiting for these bytes), write them now, as one thread does. */
		while (!p->helper_writes && p->err == 0 && can_write(p, 0))
			write_next(p);
		if (p->err != 0)
			r = pipe_err(p);
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

int
coffer_spipe_run(struct coffer_spipe *p, const struct coffer_spipe_job *job)
{
	int r;

	pthread_mutex_lock(&p->mu);
	if (job->produce == NULL || p->running || p->taken_n != 0 ||
	    p->ending) {
		pthread_mutex_unlock(&p->mu);
		return coffer_errf(COFFER_E_STATE, "sealed pipe: cannot run");
	}
	p->job = *job;
	p->running = 1;
	wake(p);
	for (;;) {
		if (p->err != 0) {
			r = pipe_err(p);
			break;
		}
		if (run_done(p)) {
			r = p->pend == 0 ? 0 : coffer_errf(p->pend, "%s",
			    p->pend_detail);
			break;
		}
		if (step(p, 0))
			continue;
		p->caller_waits = 1;
		p->caller_for = WAIT_RUN;
		p->caller_slack = 0;
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
	r = wait_locked(p, WAIT_ALL);
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
