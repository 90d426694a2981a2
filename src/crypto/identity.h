/* SPDX-License-Identifier: Apache-2.0 */
/* Party identities: an Ed25519 signing key and an X25519 key-exchange key,
 * their one-line public form ("coffer-id1:...") and the secret file.
 * Formats: doc/format/identity.md, sections 1 to 3. */
#ifndef COFFER_CRYPTO_IDENTITY_H
#define COFFER_CRYPTO_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define COFFER_ID_NAME_MAX 64
/* "coffer-id1:" + 86 + ":" + name + ":" + 8 */
#define COFFER_ID_LINE_MAX (11 + 86 + 1 + COFFER_ID_NAME_MAX + 1 + 8)
#define COFFER_ID_FINGERPRINT_HEX 65 /* 64 hex digits and a NUL */

struct coffer_identity_public {
	char name[COFFER_ID_NAME_MAX + 1]; /* may be "" */
	uint8_t sign_pk[32];               /* Ed25519 */
	uint8_t kx_pk[32];                 /* X25519 */
};

/* Holds secrets: end its life with coffer_identity_wipe(). */
struct coffer_identity {
	struct coffer_identity_public pub;
	uint8_t sign_sk[32]; /* Ed25519 seed */
	uint8_t kx_sk[32];   /* X25519 secret */
};

/* 0 if name is a valid identity name (section 2: 0 to 64 characters from
 * A-Z a-z 0-9 . _ @ + -), else COFFER_E_INVAL naming the problem. */
int coffer_identity_check_name(const char *name)
	__attribute__((warn_unused_result));

/* New random keys with the given name (NULL means ""). */
int coffer_identity_generate(const char *name, struct coffer_identity *id)
	__attribute__((warn_unused_result));

/* Wipe all of id. */
void coffer_identity_wipe(struct coffer_identity *id);

/* Append the public identity line (no newline) to out. */
int coffer_identity_format_public(const struct coffer_identity_public *p,
    struct coffer_buf *out) __attribute__((warn_unused_result));

/*
 * Parse a public identity line (line[0..len), without its newline) as
 * section 2 says, checksum and small-order check included. Errors:
 * COFFER_E_FORMAT (the detail names the field), COFFER_E_VERSION. out is
 * written only on success.
 */
int coffer_identity_parse_public(const char *line, size_t len,
    struct coffer_identity_public *out) __attribute__((warn_unused_result));

/* Lower-case hex SHA-256 of sign_pk || kx_pk (section 2, fingerprint). */
int coffer_identity_fingerprint(const struct coffer_identity_public *p,
    char hex[COFFER_ID_FINGERPRINT_HEX]) __attribute__((warn_unused_result));

/* The secret file's text (section 3) appended to out, which should be a
 * secret buffer. */
int coffer_identity_format_secret(const struct coffer_identity *id,
    struct coffer_buf *out) __attribute__((warn_unused_result));

/* Parse a secret file's contents. Errors: COFFER_E_FORMAT with the line and
 * field, COFFER_E_VERSION. out is written only on success. */
int coffer_identity_parse_secret(const char *text, size_t len,
    struct coffer_identity *out) __attribute__((warn_unused_result));

/* Write id to a new file: mode 0600, atomic, never overwriting
 * (COFFER_E_EXISTS). */
int coffer_identity_save(const char *path, const struct coffer_identity *id)
	__attribute__((warn_unused_result));

/* Read a secret file; errors of coffer_keyfile_read (COFFER_E_PERM for a
 * file others can access) and of coffer_identity_parse_secret, with the
 * path prepended. */
int coffer_identity_load(const char *path, struct coffer_identity *id)
	__attribute__((warn_unused_result));

#endif
