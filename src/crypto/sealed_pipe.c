// SPDX-License-Identifier: Apache-2.0
// The two-thread pipeline of the sealed fd paths (crypto/sealed_pipe.h).
//
// Why this split: for a file, `coffer seal` and `coffer open` read, run
// the AEAD, compute SHA-256 of every sealed byte (the content digest) and
// write. The digest is the slowest step, and writing a new file costs
// more than reading one, so the helper thread reads and hashes while the
// caller's thread runs the AEAD and writes: on two cores the work is
// about evenly shared (BENCHMARKS.md, "Sealed format throughput").
//
// How, kept small enough to check by reading: one mutex, one condition
// variable, and counters of buffers, numbered in input order; buffer j
// lives in slot j % nslots.
//   read_n      buffers the thread has filled (it alone writes it)
//   taken_n     buffers the caller has taken with _next (caller)
//   done_n      seal: buffers the caller has sealed in place (caller)
//   released_n  buffers the caller is done with (caller)
//   hashed_n    buffers the thread has hashed (thread)
// The thread fills buffer j only when j < min(released_n, hashed_n) +
// nslots (the slot's previous buffer is released and hashed); the caller
// takes buffer i only when i < read_n; the thread hashes buffer j only
// when j < read_n (open) or j < done_n (seal). So a buffer is written by
// one thread at a time (the thread while reading it, the caller while
// sealing it), and read by both only when neither writes it; the mutex
// orders each write before the other thread's next access.
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coffer/error.h"
#include "crypto/sealed_pipe.h"
#include "lib/mem.h"

#define MAX_SLOTS 64

struct coffer_spipe {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* broadcast on every change below */
	enum coffer_spipe_mode mode;
	int in;
	struct coffer_hash *h;
	size_t slot_size, readsz, nslots;
	uint8_t *slot[MAX_SLOTS];
	size_t len[MAX_SLOTS];    /* bytes read into the buffer */
	size_t hlen[MAX_SLOTS];   /* seal: bytes to hash, from _done */
	uint64_t read_n, taken_n, done_n, released_n, hashed_n;
	int eof;                  /* the last buffer has been read */
	int ending;               /* _end: hash what is left, then exit */
	int stopping;             /* exit now */
	int err;                  /* the thread's error, 0 if none */
	char detail[256];         /* its detail (coffer_errdetail is per thread) */
	double cpu_s;             /* the thread's CPU time, when it exits */
	int started;
};

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* With the lock held: stop on the thread's error r. */
static void
fail_locked(struct coffer_spipe *p, int r)
{
	p->err = r;
	snprintf(p->detail, sizeof(p->detail), "%s", coffer_errdetail());
	p->stopping = 1;
	pthread_cond_broadcast(&p->cv);
}

double
coffer_spipe_thread_cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * read(2) until n bytes or end of input, as coffer_read_full does, but
 * waiting in poll(2) rather than in read(2), and looking at `stopping`
 * every 200 ms: a pipe whose writer stays idle after the caller gave up
 * (a failed chunk) would otherwise keep the thread, and the caller's
 * join, waiting for ever. *stopped = 1 if it gave up so.
 */
static int
read_piece(struct coffer_spipe *p, uint8_t *buf, size_t n, size_t *got,
    int *stopped)
{
	size_t done = 0;
	int stop;

	*stopped = 0;
	while (done < n) {
		struct pollfd pf = { p->in, POLLIN, 0 };
		ssize_t k;
		int e = poll(&pf, 1, 200);

		if (e < 0 && errno != EINTR)
			return coffer_errf(COFFER_E_IO, "poll: %s", strerror(errno));
		if (e <= 0) {
			pthread_mutex_lock(&p->mu);
			stop = p->stopping;
			pthread_mutex_unlock(&p->mu);
			if (stop) {
				*stopped = 1;
				return 0;
			}
			continue;
		}
		k = read(p->in, buf + done, n - done);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return coffer_errf(COFFER_E_IO, "read: %s", strerror(errno));
		}
		if (k == 0)
			break;
		done += (size_t)k;
	}
	*got = done;
	return 0;
}

static void *
run(void *arg)
{
	struct coffer_spipe *p = arg;
	uint64_t j;
	size_t n, got = 0;
	int r, stop;

	pthread_mutex_lock(&p->mu);
	while (!p->stopping) {
		uint64_t hashable = p->mode == COFFER_SPIPE_OPEN ? p->read_n :
		    p->done_n;

		if (!p->eof && p->read_n < min_u64(p->released_n, p->hashed_n) +
		    p->nslots) {
			/* Read ahead first: the caller waits for input, not for the
			 * digest, which only has to keep up. */
			j = p->read_n;
			pthread_mutex_unlock(&p->mu);
			r = read_piece(p, p->slot[j % p->nslots], p->readsz, &got, &stop);
			pthread_mutex_lock(&p->mu);
			if (r != 0) {
				fail_locked(p, r);
				break;
			}
			if (stop)
				break;
			p->len[j % p->nslots] = got;
			p->read_n = j + 1;
			if (got < p->readsz)
				p->eof = 1;
			pthread_cond_broadcast(&p->cv);
		} else if (p->hashed_n < hashable) {
			j = p->hashed_n;
			n = p->mode == COFFER_SPIPE_OPEN ? p->len[j % p->nslots] :
			    p->hlen[j % p->nslots];
			pthread_mutex_unlock(&p->mu);
			r = coffer_hash_update(p->h, p->slot[j % p->nslots], n);
			pthread_mutex_lock(&p->mu);
			if (r != 0) {
				fail_locked(p, r);
				break;
			}
			p->hashed_n = j + 1;
			pthread_cond_broadcast(&p->cv);
		} else if (p->ending) {
			break;
		} else {
			pthread_cond_wait(&p->cv, &p->mu);
		}
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
coffer_spipe_new(enum coffer_spipe_mode mode, int in, struct coffer_hash *h,
    size_t slot_size, size_t readsz, size_t nslots, struct coffer_spipe **out)
{
	struct coffer_spipe *p;
	sigset_t all, old;
	size_t i;
	int e;

	if ((mode != COFFER_SPIPE_OPEN && mode != COFFER_SPIPE_SEAL) ||
	    h == NULL || slot_size == 0 || readsz > slot_size || nslots < 2 ||
	    nslots > MAX_SLOTS)
		return coffer_errf(COFFER_E_INVAL, "sealed pipe: %zu slots of %zu "
		    "bytes, reads of %zu", nslots, slot_size, readsz);
	if ((p = coffer_calloc(1, sizeof(*p))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "sealed pipe");
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		coffer_free_secret(p, sizeof(*p));
		return coffer_errf(COFFER_E_INTERNAL, "sealed pipe: mutex");
	}
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		coffer_free_secret(p, sizeof(*p));
		return coffer_errf(COFFER_E_INTERNAL, "sealed pipe: condition "
		    "variable");
	}
	/* from here on coffer_spipe_free undoes everything */
	p->mode = mode;
	p->in = in;
	p->h = h;
	p->slot_size = slot_size;
	p->readsz = readsz;
	p->nslots = nslots;
	for (i = 0; i < nslots; i++)
		if ((p->slot[i] = coffer_malloc(slot_size)) == NULL) {
			coffer_spipe_free(p);
			return coffer_errf(COFFER_E_NOMEM, "sealed pipe: %zu buffers of "
			    "%zu bytes", nslots, slot_size);
		}
	/* The thread inherits a mask with every signal blocked: signals go to
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
	*out = p;
	return 0;
}

/* With the lock held: the thread's error as the caller's own. */
static int
thread_err(const struct coffer_spipe *p)
{
	return coffer_errf(p->err, "%s", p->detail);
}

int
coffer_spipe_next(struct coffer_spipe *p, uint8_t **buf, size_t *len)
{
	int r = 0;

	pthread_mutex_lock(&p->mu);
	while (p->read_n == p->taken_n && !p->eof && !p->stopping && !p->ending)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->err != 0)
		r = thread_err(p);
	else if (p->read_n == p->taken_n || p->stopping || p->ending)
		r = coffer_errf(COFFER_E_STATE, "sealed pipe: no more input");
	else {
		*buf = p->slot[p->taken_n % p->nslots];
		*len = p->len[p->taken_n % p->nslots];
		p->taken_n++;
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

void
coffer_spipe_done(struct coffer_spipe *p, size_t hashlen)
{
	pthread_mutex_lock(&p->mu);
	if (p->mode == COFFER_SPIPE_SEAL && p->done_n < p->taken_n &&
	    hashlen <= p->slot_size) {
		p->hlen[p->done_n % p->nslots] = hashlen;
		p->done_n++;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void
coffer_spipe_release(struct coffer_spipe *p)
{
	pthread_mutex_lock(&p->mu);
	/* seal: a buffer is released only after it was sealed (_done) */
	if (p->released_n < (p->mode == COFFER_SPIPE_SEAL ? p->done_n :
	    p->taken_n)) {
		p->released_n++;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
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
	uint64_t want;
	int r = 0;

	pthread_mutex_lock(&p->mu);
	p->ending = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	join(p);
	/* the thread has exited: its fields are ours to read */
	want = p->mode == COFFER_SPIPE_OPEN ? p->read_n : p->done_n;
	if (p->err != 0)
		r = thread_err(p);
	else if (p->hashed_n != want || p->released_n != p->taken_n)
		r = coffer_errf(COFFER_E_INTERNAL, "sealed pipe: %llu of %llu "
		    "buffers hashed, %llu of %llu released",
		    (unsigned long long)p->hashed_n, (unsigned long long)want,
		    (unsigned long long)p->released_n,
		    (unsigned long long)p->taken_n);
	return r;
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
