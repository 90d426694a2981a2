/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only: page sealing with a given salt, so that the vectors of
 * tests/vectors/state/ can be reproduced. Nothing outside tests includes
 * this header. */
#ifndef COFFER_CRYPTO_PAGECRYPT_INTERNAL_H
#define COFFER_CRYPTO_PAGECRYPT_INTERNAL_H

#include "crypto/pagecrypt.h"

int coffer_pagecrypt_seal_salted(const struct coffer_pagecrypt *pc,
    uint64_t pgno, const uint8_t salt[COFFER_PAGE_SALT_LEN], const uint8_t *pt,
    size_t n, uint8_t *slot) __attribute__((warn_unused_result));

#endif
