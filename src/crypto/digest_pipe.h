/* SPDX-License-Identifier: Apache-2.0 */
/* A streaming digest computed on a second thread, fed in order through a
 * small ring of fixed-size buffers: the sealed format's fd paths
 * (crypto/sealed_io.c) encrypt or decrypt and do the I/O of chunk i on the
 * caller's thread while the digest of the chunks before it runs on
 * another core (doc/format/sealed.md section 8). */
#ifndef COFFER_CRYPTO_DIGEST_PIPE_H
#define COFFER_CRYPTO_DIGEST_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

struct coffer_dpipe;

/*
 * Start the hashing thread. h (borrowed) is updated only by that thread
 * until _end or _free returns; the caller finalises it after _end. The
 * ring holds nslots buffers of slot_size bytes (2 <= nslots <= 64), wiped
 * when freed (they may hold plaintext). The thread runs with every signal
 * blocked, so handlers (coffer_atomic_install_signal_cleanup) run on the
 * caller's threads. Errors: COFFER_E_INVAL, COFFER_E_NOMEM,
 * COFFER_E_INTERNAL (the thread could not be started: the caller may do
 * the work on one thread instead).
 */
int coffer_dpipe_new(struct coffer_hash *h, size_t slot_size, size_t nslots,
    struct coffer_dpipe **out) __attribute__((warn_unused_result));

/*
 * The next buffer to fill, slot_size bytes, waiting until the hashing
 * thread is done with it. The caller owns it until _push: it may read it
 * after _push too (write(2) it, decrypt from it), but must not change it,
 * and may keep reading it until its next call to _next. Errors: those of
 * the hashing thread (COFFER_E_CRYPTO), COFFER_E_STATE (after _end).
 */
int coffer_dpipe_next(struct coffer_dpipe *p, uint8_t **slot)
	__attribute__((warn_unused_result));

/* Hand the first len bytes of the buffer _next returned to the hashing
 * thread, after everything pushed before. */
void coffer_dpipe_push(struct coffer_dpipe *p, size_t len);

/* Wait until everything pushed is hashed and stop the thread. 0, or the
 * hashing thread's error. */
int coffer_dpipe_end(struct coffer_dpipe *p) __attribute__((warn_unused_result));

/* Stop the thread without hashing what is still pending (if _end was not
 * called), join it, wipe and free the buffers. NULL is a no-op. */
void coffer_dpipe_free(struct coffer_dpipe *p);

/* 1 if this process may run on two or more CPUs (sched_getaffinity), so
 * that a second thread can overlap. */
int coffer_dpipe_useful(void);

#endif
