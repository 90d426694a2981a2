/* SPDX-License-Identifier: Apache-2.0 */
/* The two-thread pipeline of the sealed format's fd paths
 * (crypto/sealed_io.c): a small ring of buffers and a helper thread. The
 * caller's thread and the helper produce the batches (read), prepare
 * them (to seal: the AEAD), compute the content digest
 * (doc/format/sealed.md section 8) of each, transform them (to open:
 * verify and decrypt once hashed) and write them, each thread taking
 * whichever task is due, so that neither waits while there is work it
 * may do (BENCHMARKS.md, "Sealed format throughput"). Each task is done
 * one batch at a time and in order; a slot is reused only after its
 * batch was hashed and written. */
#ifndef COFFER_CRYPTO_SEALED_PIPE_H
#define COFFER_CRYPTO_SEALED_PIPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "crypto/hash.h"

/* At most this many pieces per batch to write. */
#define COFFER_SPIPE_MAX_PIECES 16

struct coffer_spipe;

/*
 * Start the helper thread. The ring has nslots buffers (2 to 16) of
 * slot_size bytes, wiped when freed (they may hold plaintext). h
 * (borrowed) is updated by either thread until _end or _free returns;
 * the caller finalises it. out is the output; the helper writes to it
 * only if helper_writes is 1 (say so only for a regular file: a write
 * there never waits for another process, so the helper cannot hang in
 * one; otherwise the caller writes alone). The helper runs with every
 * signal blocked, so handlers (coffer_atomic_install_signal_cleanup) run
 * on the caller's threads. Errors: COFFER_E_INVAL, COFFER_E_NOMEM,
 * COFFER_E_INTERNAL (no thread: the caller may do the work on one thread
 * instead; nothing was done).
 */
int coffer_spipe_new(struct coffer_hash *h, int out, int helper_writes,
    size_t slot_size, size_t nslots, struct coffer_spipe **out_p)
	__attribute__((warn_unused_result));

/*
 * Produces the next batch into buf (slot_size bytes): *n bytes to hash
 * (and, without a transform, to write), *last = 1 for the last batch.
 */
typedef int (*coffer_spipe_produce_fn)(void *arg, uint8_t *buf, size_t *n,
    int *last);

/*
 * Prepares a produced batch for its digest, in place: *n bytes in, *n
 * bytes (at most slot_size) out, which are hashed and, without a
 * transform, written.
 */
typedef int (*coffer_spipe_prepare_fn)(void *arg, uint8_t *buf, size_t *n);

/*
 * Transforms a batch of n bytes once it is hashed (it may change buf in
 * place) and gives the pieces of it to write (*cnt at most
 * COFFER_SPIPE_MAX_PIECES, each inside buf). An error ends the run once the pieces given with it,
 * and those of the batches before, are written.
 */
typedef int (*coffer_spipe_transform_fn)(void *arg, uint8_t *buf, size_t n,
    struct iovec *piece, int *cnt);

/* What _run does. Each callback is called one batch at a time and in
 * order, on either thread; the mutex orders each call after the previous
 * one. */
struct coffer_spipe_job {
	coffer_spipe_produce_fn produce;
	coffer_spipe_prepare_fn prepare;     /* NULL: hash each batch as
	                                        produced */
	coffer_spipe_transform_fn transform; /* NULL: write each batch whole */
	void *arg;
	int helper_produces;  /* 1 only for a regular input: a read there
	                         never waits for another process (so the
	                         helper reads too, and a thread reads the
	                         next batch before it writes one) */
	unsigned ahead;       /* at most this many batches produced beyond
	                         those transformed (0: as the ring allows) */
};

/*
 * Let both threads produce the batches, prepare, hash, transform and
 * write them, each thread taking whichever task is due (the digest
 * first, then preparing, transforming, then writing and producing the
 * next batch, producing first if helper_produces). Returns when the
 * last batch is hashed, transformed and written, or at the first error
 * (the producer's, the preparer's, the digest's, a write's, or the
 * transform's once what it gave is written) once the other thread's
 * task is over: when it returns no callback of the job is under way.
 * Call once; then _end.
 */
int coffer_spipe_run(struct coffer_spipe *p,
    const struct coffer_spipe_job *job) __attribute__((warn_unused_result));

/* Stop the helper, once _run returned. 0, or the first error (not the
 * transform's: _run returned it). */
int coffer_spipe_end(struct coffer_spipe *p)
	__attribute__((warn_unused_result));

/* The bytes written to out so far. */
uint64_t coffer_spipe_written(struct coffer_spipe *p);

/* After _end: the CPU seconds the helper used. */
double coffer_spipe_cpu_s(const struct coffer_spipe *p);

/* Stop the helper without waiting for what is pending (a write under way
 * ends first), join it, wipe and free the buffers. NULL is a no-op. */
void coffer_spipe_free(struct coffer_spipe *p);

/* writev(2) until all cnt pieces (<= COFFER_SPIPE_MAX_PIECES) are out,
 * retrying on EINTR and short writes; *n gets the bytes written, also on
 * failure. COFFER_E_IO, COFFER_E_INVAL. */
int coffer_spipe_writev(int fd, const struct iovec *piece, int cnt,
    uint64_t *n) __attribute__((warn_unused_result));

/* After k bytes of v[*first..cnt) went through readv(2) or writev(2):
 * step *first past the pieces done and into the one partly done. */
void coffer_spipe_iov_advance(struct iovec *v, int cnt, int *first,
    size_t k);

/* The CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID;
 * 0 if unknown). */
double coffer_spipe_thread_cpu_s(void);

/* 1 if this process may run on two or more CPUs (sched_getaffinity). */
int coffer_spipe_useful(void);

#endif
