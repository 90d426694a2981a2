/* SPDX-License-Identifier: Apache-2.0 */
/* Party identities: what the identity line (identity.c) and the identity
 * file (identity_secret.c) check alike. Internal to src/crypto. */
#ifndef COFFER_CRYPTO_IDENTITY_INT_H
#define COFFER_CRYPTO_IDENTITY_INT_H

#include <stddef.h>

/* 0 if name (len bytes) is a valid identity name (doc/format/identity.md
 * section 1), else err naming the character. */
int identity_check_name(const char *name, size_t len, int err);
/* The length of "<prefix><digits>" when s starts with it followed by
 * `term`: another version of one of our formats. 0 otherwise. */
size_t identity_other_version(const char *s, size_t len, const char *prefix,
    char term);

#endif
