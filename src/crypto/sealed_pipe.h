/* SPDX-License-Identifier: Apache-2.0 */
/* The two-thread pipeline of the sealed format's fd paths
 * (crypto/sealed_io.c): a helper thread reads the input into a small ring
 * of chunk buffers and computes the content digest (doc/format/sealed.md
 * section 8), while the caller's thread encrypts or decrypts and writes.
 * The digest is the slowest step and reading the cheapest, so this split
 * keeps the two threads about equally busy. */
#ifndef COFFER_CRYPTO_SEALED_PIPE_H
#define COFFER_CRYPTO_SEALED_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

struct coffer_spipe;

/* What the thread hashes. */
enum coffer_spipe_mode {
	COFFER_SPIPE_OPEN = 1, /* every byte read, as read (sealed input) */
	COFFER_SPIPE_SEAL = 2, /* what the caller leaves in each buffer after
	                          processing it (coffer_spipe_done): the
	                          sealed chunk it made in place */
};

/*
 * Start the thread, reading in from now on. Each buffer is slot_size
 * bytes; the thread reads up to readsz (<= slot_size) bytes into each,
 * until end of input: the first buffer with fewer than readsz bytes
 * (possibly 0) is the last. h (borrowed) is updated only by the thread
 * until _end or _free returns; the caller finalises it. The ring has
 * nslots buffers (2 to 64), wiped when freed (they may hold plaintext).
 * The thread runs with every signal blocked, so handlers
 * (coffer_atomic_install_signal_cleanup) run on the caller's threads.
 * Errors: COFFER_E_INVAL, COFFER_E_NOMEM, COFFER_E_INTERNAL (no thread: the
 * caller may do the work on one thread instead; nothing was read).
 */
int coffer_spipe_new(enum coffer_spipe_mode mode, int in,
    struct coffer_hash *h, size_t slot_size, size_t readsz, size_t nslots,
    struct coffer_spipe **out) __attribute__((warn_unused_result));

/*
 * The next buffer of the input, in order, and how many bytes were read
 * into it (< readsz: the last one). The caller owns it until _release: it
 * may change it (seal in place) until _done (seal mode) and read it until
 * _release. Errors: COFFER_E_IO (a read error, with its detail),
 * COFFER_E_CRYPTO (hashing), COFFER_E_STATE (after the last buffer or
 * _end).
 */
int coffer_spipe_next(struct coffer_spipe *p, uint8_t **buf, size_t *len)
	__attribute__((warn_unused_result));

/* Seal mode: the buffer of the last _next now holds hashlen bytes to
 * hash (<= slot_size), after those of the buffers before it. The caller
 * may keep reading it until _release. */
void coffer_spipe_done(struct coffer_spipe *p, size_t hashlen);

/* The caller is done with the buffer of the last _next. */
void coffer_spipe_release(struct coffer_spipe *p);

/* After the last buffer was released: wait until everything is hashed
 * and stop the thread. 0, or the thread's error. */
int coffer_spipe_end(struct coffer_spipe *p) __attribute__((warn_unused_result));

/* After _end: the CPU seconds the thread used (reading and hashing). */
double coffer_spipe_cpu_s(const struct coffer_spipe *p);

/* Stop the thread without waiting for what is pending (if _end was not
 * called; a thread waiting for input sees it within 200 ms), join it,
 * wipe and free the buffers. NULL is a no-op. */
void coffer_spipe_free(struct coffer_spipe *p);

/* The CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID;
 * 0 if unknown). */
double coffer_spipe_thread_cpu_s(void);

/* 1 if this process may run on two or more CPUs (sched_getaffinity). */
int coffer_spipe_useful(void);

#endif
