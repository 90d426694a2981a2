/* SPDX-License-Identifier: Apache-2.0 */
/* The one source of random bytes in Coffer (doc/DEVELOPING.md,
 * "Randomness only from coffer_random()"). */
#ifndef COFFER_LIB_RANDOM_H
#define COFFER_LIB_RANDOM_H

#include <stddef.h>

/*
 * Fill buf with n bytes from OpenSSL's CSPRNG (RAND_bytes: the default
 * DRBG, seeded from the operating system, reseeded after fork). Every key,
 * salt, nonce, token and random name comes from here, so that there is one
 * generator to audit and to seed.
 *
 * Returns 0, or COFFER_E_CRYPTO with the OpenSSL reason if the generator
 * fails (it is not seeded, or OpenSSL has failed); buf is then zeroed, and
 * the caller must not use it as random.
 */
int coffer_random(void *buf, size_t n) __attribute__((warn_unused_result));

#endif
