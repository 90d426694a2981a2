/* SPDX-License-Identifier: Apache-2.0 */
/* Page sealing for the coordinator's state: each write of a page gets a
 * fresh salt, hence its own AES-256-GCM key, bound to the state and the
 * page number. doc/format/sealed-state.md sections 2 and 3. */
#ifndef COFFER_CRYPTO_PAGECRYPT_H
#define COFFER_CRYPTO_PAGECRYPT_H

#include <stddef.h>
#include <stdint.h>

#define COFFER_PAGE_SALT_LEN 16
#define COFFER_PAGE_LEAF_LEN 32   /* salt || tag: the start of a slot */
#define COFFER_STATE_ID_LEN 16
#define COFFER_STATE_KEY_LEN 32

struct coffer_hmac;
struct coffer_aead;

/* The keys of one state (section 2): secret, wipe with
 * coffer_pagecrypt_wipe(), which also frees the kept contexts. The
 * contexts are kept from call to call so that a page costs no allocation
 * or cipher lookup, and a MAC no keying of K_mac: the functions below
 * change them although pc is const, so one struct is for one thread at a
 * time (the coordinator's state has one). */
struct coffer_pagecrypt {
	uint8_t page_key[32];  /* K_page */
	uint8_t mac_key[32];   /* K_mac */
	uint8_t state_id[COFFER_STATE_ID_LEN];
	struct coffer_hmac *mac;   /* keyed with K_mac at init */
	struct coffer_aead *seal;  /* encrypt only; each page's key set per use */
	struct coffer_aead *open;  /* decrypt only; the same */
};

/* Derive K_page and K_mac from the state key, and make the contexts.
 * Errors: COFFER_E_NOMEM, COFFER_E_CRYPTO (pc is then wiped). */
int coffer_pagecrypt_init(struct coffer_pagecrypt *pc,
    const uint8_t state_key[COFFER_STATE_KEY_LEN],
    const uint8_t state_id[COFFER_STATE_ID_LEN])
	__attribute__((warn_unused_result));
void coffer_pagecrypt_wipe(struct coffer_pagecrypt *pc);

/*
 * Seal page pgno (n plaintext bytes, 1 to 65536) with a new salt: slot
 * gets salt || tag (32 bytes) then the n ciphertext bytes (slot and pt may
 * not overlap). Errors: COFFER_E_INVAL, COFFER_E_CRYPTO.
 */
int coffer_pagecrypt_seal(const struct coffer_pagecrypt *pc, uint64_t pgno,
    const uint8_t *pt, size_t n, uint8_t *slot)
	__attribute__((warn_unused_result));

/*
 * The same with the salt given: 16 bytes of coffer_random drawn for this
 * one page write (a commit draws its pages' salts in one call). A salt
 * used twice would use one AEAD key and nonce twice: never pass anything
 * else.
 */
int coffer_pagecrypt_seal_salted(const struct coffer_pagecrypt *pc,
    uint64_t pgno, const uint8_t salt[COFFER_PAGE_SALT_LEN], const uint8_t *pt,
    size_t n, uint8_t *slot) __attribute__((warn_unused_result));

/*
 * Open a slot of page pgno (32 + n bytes) into pt (n bytes). COFFER_E_AUTH
 * if it does not authenticate (another page, another state, tampered);
 * pt is then wiped.
 */
int coffer_pagecrypt_open(const struct coffer_pagecrypt *pc, uint64_t pgno,
    const uint8_t *slot, size_t n, uint8_t *pt)
	__attribute__((warn_unused_result));

/* MAC(label, data) = HMAC-SHA256(K_mac, label || 0x00 || data)
 * (section 2). */
int coffer_pagecrypt_mac(const struct coffer_pagecrypt *pc, const char *label,
    const uint8_t *data, size_t n, uint8_t out[32])
	__attribute__((warn_unused_result));

/* 0 if mac is MAC(label, data), else COFFER_E_AUTH (compared in constant
 * time). */
int coffer_pagecrypt_mac_check(const struct coffer_pagecrypt *pc,
    const char *label, const uint8_t *data, size_t n, const uint8_t mac[32])
	__attribute__((warn_unused_result));

/* The key check (section 2): MAC("coffer/state/key-check/v1", state_id). */
int coffer_pagecrypt_key_check(const struct coffer_pagecrypt *pc,
    uint8_t out[32]) __attribute__((warn_unused_result));

#endif
