/* SPDX-License-Identifier: Apache-2.0 */
/* Data keys: 256-bit symmetric keys an owner seals datasets under, stored
 * in a one-line text file (doc/format/identity.md, "Data key file"), and
 * the key id derived from a key. */
#ifndef COFFER_CRYPTO_DATAKEY_H
#define COFFER_CRYPTO_DATAKEY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define COFFER_DATAKEY_LEN 32
#define COFFER_DATAKEY_ID_LEN 16

/*
 * Read a data key file (format: doc/format/identity.md, "Data key file").
 * On success key gets the 32 key bytes (the caller wipes them with
 * coffer_wipe when done). Errors: COFFER_E_NOTFOUND / COFFER_E_IO (cannot
 * read), COFFER_E_PERM (the file is readable or writable by group or
 * others), COFFER_E_FORMAT / COFFER_E_VERSION (not a data key file). key
 * is written only on success.
 */
int coffer_datakey_load(const char *path, uint8_t key[32])
	__attribute__((warn_unused_result));

/*
 * The key id of a data key: HKDF-SHA256(salt = "", ikm = key,
 * info = "coffer/v1/key-id", L = 16) (doc/format/identity.md, "Key id").
 * It identifies a key without revealing it; the sealed format stores it.
 */
int coffer_datakey_id(const uint8_t key[32], uint8_t id[16])
	__attribute__((warn_unused_result));

/* Create a new random data key. */
int coffer_datakey_generate(uint8_t key[32]) __attribute__((warn_unused_result));

/* The data key file's text ("coffer-key1:<base64url>\n") into out, which
 * should be a secret buffer (appends). */
int coffer_datakey_format(const uint8_t key[32], struct coffer_buf *out)
	__attribute__((warn_unused_result));

/* Parse a data key file's contents (text[0..len), no NUL needed). Errors:
 * COFFER_E_FORMAT, COFFER_E_VERSION. key is written only on success. */
int coffer_datakey_parse(const char *text, size_t len, uint8_t key[32])
	__attribute__((warn_unused_result));

/* Write key to a new file at path: mode 0600, atomic, never overwriting
 * (COFFER_E_EXISTS). */
int coffer_datakey_save(const char *path, const uint8_t key[32])
	__attribute__((warn_unused_result));

#endif
