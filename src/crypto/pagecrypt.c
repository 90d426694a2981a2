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
	if ((r = hkdf_label(NULL, 0, state_key, LABEL_PAGE, pc->page_key)) != 0 ||
	    (r = hkdf_label(NULL, 0, state_key, LABEL_MAC, pc->mac_key)) != 0) {
		coffer_pagecrypt_wipe(pc);
		return r;
	}
	memcpy(pc->state_id, state_id, COFFER_STATE_ID_LEN);
	return 0;
}

void
coffer_pagecrypt_wipe(struct coffer_pagecrypt *pc)
{
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

/* A new context keyed with k = HKDF(salt, K_page, "coffer/state/page-key/v1"). */
static int
page_aead(const struct coffer_pagecrypt *pc, const uint8_t *salt,
    struct coffer_aead **out)
{
	uint8_t k[32];
	int r;

	if ((r = hkdf_label(salt, COFFER_PAGE_SALT_LEN, pc->page_key,
	    LABEL_PAGE_KEY, k)) == 0)
		r = coffer_aead_new(COFFER_AEAD_AES256GCM, k, sizeof(k), out);
	coffer_wipe(k, sizeof(k));
	return r;
}

int
coffer_pagecrypt_seal_salted(const struct coffer_pagecrypt *pc, uint64_t pgno,
    const uint8_t salt[COFFER_PAGE_SALT_LEN], const uint8_t *pt, size_t n,
    uint8_t *slot)
{
	static const uint8_t nonce[COFFER_AEAD_NONCE_LEN]; /* zero: the key is new */
	struct coffer_aead *a = NULL;
	uint8_t aad[24];
	int r;

	if (n == 0 || n > MAX_PAGE)
		return coffer_errf(COFFER_E_INVAL, "page of %zu bytes", n);
	memmove(slot, salt, COFFER_PAGE_SALT_LEN);
	page_aad(pc, pgno, aad);
	if ((r = page_aead(pc, slot, &a)) == 0)
		r = coffer_aead_encrypt(a, nonce, aad, sizeof(aad), pt, n,
		    slot + COFFER_PAGE_LEAF_LEN, slot + COFFER_PAGE_SALT_LEN);
	coffer_aead_free(a);
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
	struct coffer_aead *a = NULL;
	uint8_t aad[24];
	int r;

	if (n == 0 || n > MAX_PAGE)
		return coffer_errf(COFFER_E_INVAL, "page of %zu bytes", n);
	page_aad(pc, pgno, aad);
	if ((r = page_aead(pc, slot, &a)) == 0) {
		/* aead.c wipes pt when the tag does not verify. */
		r = coffer_aead_decrypt(a, nonce, aad, sizeof(aad),
		    slot + COFFER_PAGE_LEAF_LEN, n, slot + COFFER_PAGE_SALT_LEN, pt);
		if (r == COFFER_E_AUTH)
			r = coffer_errf(COFFER_E_AUTH, "page %llu does not authenticate "
			    "(changed, moved, or of another state)",
			    (unsigned long long)pgno);
	}
	coffer_aead_free(a);
	return r;
}

int
coffer_pagecrypt_mac(const struct coffer_pagecrypt *pc, const char *label,
    const uint8_t *data, size_t n, uint8_t out[32])
{
	size_t ll = strlen(label);
	uint8_t *msg;
	int r;

	if (n > SIZE_MAX - ll - 1)
		return coffer_errf(COFFER_E_LIMIT, "MAC input too long");
	if ((msg = coffer_malloc(ll + 1 + n)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "MAC input");
	memcpy(msg, label, ll);
	msg[ll] = 0;
	if (n > 0)
		memcpy(msg + ll + 1, data, n);
	r = coffer_hmac_sha256(pc->mac_key, sizeof(pc->mac_key), msg, ll + 1 + n,
	    out);
	free(msg);
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
