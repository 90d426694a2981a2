// SPDX-License-Identifier: Apache-2.0
// Page sealing (crypto/pagecrypt.h), doc/format/sealed-state.md sections 2
// and 3.1. A page write derives its own AES-256-GCM key from a fresh
// 128-bit salt, so the all-zero nonce is never used twice under one key,
// however long the coordinator lives and whatever state a host restores.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "coffer/error.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/pagecrypt.h"
#include "lib/mem.h"
#include "lib/random.h"

#define MAX_PAGE 65536
#define LABEL_PAGE "coffer/state/page/v1"
#define LABEL_MAC "coffer/state/mac/v1"
#define LABEL_PAGE_KEY "coffer/state/page-key/v1"
#define LABEL_KEY_CHECK "coffer/state/key-check/v1"

static int
hkdf_label(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    const char *label, uint8_t out[32])
{
	return coffer_hkdf_sha256(salt, saltlen, ikm, 32, (const uint8_t *)label,
	    strlen(label), out, 32);
}

int
coffer_pagecrypt_init(struct coffer_pagecrypt *pc,
    const uint8_t state_key[COFFER_STATE_KEY_LEN],
    const uint8_t state_id[COFFER_STATE_ID_LEN])
{
	int r;

	/* Section 2: K_page and K_mac, empty salt. */
	pc->mac = NULL;
	pc->seal = pc->open = NULL;
	if ((r = hkdf_label(NULL, 0, state_key, LABEL_PAGE, pc->page_key)) != 0 ||
	    (r = hkdf_label(NULL, 0, state_key, LABEL_MAC, pc->mac_key)) != 0) {
		coffer_pagecrypt_wipe(pc);
		return r;
	}
	memcpy(pc->state_id, state_id, COFFER_STATE_ID_LEN);
	/* The contexts. The AEAD ones start under K_page only because a
	 * context needs a key: every page sets its own before use (3.1). */
	if ((r = coffer_hmac_new(&pc->mac)) != 0 ||
	    (r = coffer_hmac_key(pc->mac, pc->mac_key, sizeof(pc->mac_key))) != 0 ||
	    (r = coffer_aead_new_dir(COFFER_AEAD_AES256GCM, COFFER_AEAD_ENCRYPT,
	    pc->page_key, sizeof(pc->page_key), &pc->seal)) != 0 ||
	    (r = coffer_aead_new_dir(COFFER_AEAD_AES256GCM, COFFER_AEAD_DECRYPT,
	    pc->page_key, sizeof(pc->page_key), &pc->open)) != 0) {
		coffer_pagecrypt_wipe(pc);
		return r;
	}
	return 0;
}

void
coffer_pagecrypt_wipe(struct coffer_pagecrypt *pc)
{
	/* Freeing wipes them (OpenSSL clears a context's key schedule). */
	coffer_hmac_free(pc->mac);
	coffer_aead_free(pc->seal);
	coffer_aead_free(pc->open);
	coffer_wipe(pc, sizeof(*pc));
}

/* Section 3.1: aad = state_id || BE64(p). */
static void
page_aad(const struct coffer_pagecrypt *pc, uint64_t pgno, uint8_t aad[24])
{
	memcpy(aad, pc->state_id, COFFER_STATE_ID_LEN);
	for (int i = 0; i < 8; i++)
		aad[16 + i] = (uint8_t)(pgno >> (56 - 8 * i));
}

/* The kept context a keyed with k = HKDF(salt, K_page,
 * "coffer/state/page-key/v1"): a new key per page write, as 3.1 says; only
 * the context's memory is reused. */
static int
page_key(const struct coffer_pagecrypt *pc, const uint8_t *salt,
    struct coffer_aead *a)
{
	uint8_t k[32];
	int r;

	if ((r = hkdf_label(salt, COFFER_PAGE_SALT_LEN, pc->page_key,
	    LABEL_PAGE_KEY, k)) == 0)
		r = coffer_aead_rekey(a, COFFER_AEAD_AES256GCM, k, sizeof(k));
	coffer_wipe(k, sizeof(k));
	return r;
}

int
coffer_pagecrypt_seal_salted(const struct coffer_pagecrypt *pc, uint64_t pgno,
    const uint8_t salt[COFFER_PAGE_SALT_LEN], const uint8_t *pt, size_t n,
    uint8_t *slot)
{
	static const uint8_t nonce[COFFER_AEAD_NONCE_LEN]; /* zero: the key is new */
	uint8_t aad[24];
	int r;

	if (n == 0 || n > MAX_PAGE)
		return coffer_errf(COFFER_E_INVAL, "page of %zu bytes", n);
	if (pc->seal == NULL)
		return coffer_errf(COFFER_E_STATE, "page keys not initialised");
	memmove(slot, salt, COFFER_PAGE_SALT_LEN);
	page_aad(pc, pgno, aad);
	if ((r = page_key(pc, slot, pc->seal)) == 0)
		r = coffer_aead_encrypt(pc->seal, nonce, aad, sizeof(aad), pt, n,
		    slot + COFFER_PAGE_LEAF_LEN, slot + COFFER_PAGE_SALT_LEN);
	return r;
}

int
coffer_pagecrypt_seal(const struct coffer_pagecrypt *pc, uint64_t pgno,
    const uint8_t *pt, size_t n, uint8_t *slot)
{
	uint8_t salt[COFFER_PAGE_SALT_LEN];
	int r;

	if ((r = coffer_random(salt, sizeof(salt))) != 0)
		return r;
	return coffer_pagecrypt_seal_salted(pc, pgno, salt, pt, n, slot);
}

int
coffer_pagecrypt_open(const struct coffer_pagecrypt *pc, uint64_t pgno,
    const uint8_t *slot, size_t n, uint8_t *pt)
{
	static const uint8_t nonce[COFFER_AEAD_NONCE_LEN];
	uint8_t aad[24];
	int r;

	if (n == 0 || n > MAX_PAGE)
		return coffer_errf(COFFER_E_INVAL, "page of %zu bytes", n);
	if (pc->open == NULL)
		return coffer_errf(COFFER_E_STATE, "page keys not initialised");
	page_aad(pc, pgno, aad);
	if ((r = page_key(pc, slot, pc->open)) == 0) {
		/* aead.c wipes pt when the tag does not verify. */
		r = coffer_aead_decrypt(pc->open, nonce, aad, sizeof(aad),
		    slot + COFFER_PAGE_LEAF_LEN, n, slot + COFFER_PAGE_SALT_LEN, pt);
		if (r == COFFER_E_AUTH)
			r = coffer_errf(COFFER_E_AUTH, "page %llu does not authenticate "
			    "(changed, moved, or of another state)",
			    (unsigned long long)pgno);
	}
	return r;
}

int
coffer_pagecrypt_mac(const struct coffer_pagecrypt *pc, const char *label,
    const uint8_t *data, size_t n, uint8_t out[32])
{
	int r;

	if (pc->mac == NULL)
		return coffer_errf(COFFER_E_STATE, "page keys not initialised");
	/* label || 0x00 || data, streamed into the context keyed at init:
	 * each final leaves it keyed for the next MAC (crypto/hash.h). */
	if ((r = coffer_hmac_update(pc->mac, label, strlen(label) + 1)) == 0 &&
	    (r = coffer_hmac_update(pc->mac, data, n)) == 0 &&
	    (r = coffer_hmac_final(pc->mac, out)) == 0)
		return 0;
	/* A failure leaves the context unkeyed: key it again for the next
	 * MAC (if that fails too, the next MAC fails with COFFER_E_STATE). */
	{
		int k = coffer_hmac_key(pc->mac, pc->mac_key, sizeof(pc->mac_key));

		(void)k;
	}
	return r;
}

int
coffer_pagecrypt_mac_check(const struct coffer_pagecrypt *pc, const char *label,
    const uint8_t *data, size_t n, const uint8_t mac[32])
{
	uint8_t want[32];
	int r;

	if ((r = coffer_pagecrypt_mac(pc, label, data, n, want)) != 0)
		return r;
	r = CRYPTO_memcmp(want, mac, sizeof(want)) == 0 ? 0 : COFFER_E_AUTH;
	coffer_wipe(want, sizeof(want));
	return r;
}

int
coffer_pagecrypt_key_check(const struct coffer_pagecrypt *pc, uint8_t out[32])
{
	return coffer_pagecrypt_mac(pc, LABEL_KEY_CHECK, pc->state_id,
	    COFFER_STATE_ID_LEN, out);
}
