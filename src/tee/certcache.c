// SPDX-License-Identifier: Apache-2.0
// The collateral's caches: parsed certificates and the signatures already
// checked on certificates, keyed by the SHA-256 of their DER, and the P-256
// keys of quotes. Caching by content hash cannot change a verdict: a
// changed certificate has another hash. doc/format/evidence.md section 6.4.
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "tee/tee_int.h"

/* Open addressing on the hash; when three quarters full the cache is
 * emptied (entries in use keep their own references). A slot may hold a
 * signature without a parsed certificate (a PCK certificate is read by
 * pckcert.c, not parsed). Lookups and inserts hold c->lock; parsing and
 * signature checks do not. */

static struct tee_cert_slot *
slot_find(struct coffer_tee_collateral *c, const uint8_t h[32], int *found)
{
	size_t i = coffer_load_u32le(h) % TEE_CACHE_SLOTS;

	for (size_t k = 0; k < TEE_CACHE_SLOTS; k++, i = (i + 1) % TEE_CACHE_SLOTS) {
		if (!c->slots[i].used) {
			*found = 0;
			return &c->slots[i];
		}
		if (memcmp(c->slots[i].h, h, 32) == 0) {
			*found = 1;
			return &c->slots[i];
		}
	}
	*found = 0;
	return NULL;
}

/* Drop the entries that did not come with the collateral; c->lock held. */
static void
cache_flush(struct coffer_tee_collateral *c)
{
	struct tee_cert_slot keep[64];
	size_t nk = 0;

	for (size_t i = 0; i < TEE_CACHE_SLOTS; i++) {
		if (!c->slots[i].used)
			continue;
		if (c->slots[i].pinned && nk < sizeof(keep) / sizeof(keep[0]))
			keep[nk++] = c->slots[i];
		else
			X509_free(c->slots[i].x);
	}
	memset(c->slots, 0, TEE_CACHE_SLOTS * sizeof(*c->slots));
	c->n_slots_used = 0;
	for (size_t i = 0; i < nk; i++) {
		int found;
		struct tee_cert_slot *s = slot_find(c, keep[i].h, &found);

		*s = keep[i];
		c->n_slots_used++;
	}
}

/* The slot of hash h, made if absent, with x (a new reference) unless it
 * holds one already (x may be NULL); NULL if the cache is full or x cannot
 * be referenced. c->lock held. */
static struct tee_cert_slot *
cache_put(struct coffer_tee_collateral *c, X509 *x, const uint8_t h[32])
{
	struct tee_cert_slot *s;
	int found;

	if (c->n_slots_used >= TEE_CACHE_SLOTS * 3 / 4)
		cache_flush(c);
	if ((s = slot_find(c, h, &found)) == NULL)
		return NULL;
	if (!found) {
		memset(s, 0, sizeof(*s));
		memcpy(s->h, h, 32);
		s->used = 1;
		c->n_slots_used++;
	}
	if (s->x == NULL && x != NULL) {
		if (!X509_up_ref(x))
			return NULL;
		s->x = x;
	}
	return s;
}

void
tee_cert_cache_pin(struct coffer_tee_collateral *c, X509 *x)
{
	const struct coffer_tee_anchors *a = c->anchors;
	struct tee_cert_slot *s;
	uint8_t h[32];

	/* The PCK CA certificates of the collateral serve the quotes that
	 * carry the same ones: kept parsed, with their signature under the
	 * Intel root checked once, here. */
	if (tee_cert_sha256(x, h) != 0 || (s = cache_put(c, x, h)) == NULL) {
		coffer_errclear();
		return;
	}
	s->pinned = 1;
	if (a->intel_root != NULL && X509_check_ca(x) >= 1 &&
	    X509_check_issued(a->intel_root, x) == X509_V_OK &&
	    X509_verify(x, X509_get0_pubkey(a->intel_root)) == 1) {
		s->sig_ok = 1;
		memcpy(s->issuer_h, a->intel_root_sha256, 32);
	}
	ERR_clear_error();
}

void
tee_cert_cache_release(struct coffer_tee_collateral *c)
{
	for (size_t i = 0; c->slots != NULL && i < TEE_CACHE_SLOTS; i++)
		X509_free(c->slots[i].x);
	free(c->slots);
	for (size_t i = 0; i < c->n_keys; i++)
		coffer_ecdsa_key_free(c->keys[i].key);
	free(c->keys);
}

const struct coffer_ecdsa_key *
tee_p256_key_get(const struct coffer_tee_collateral *cc, const uint8_t raw[64],
    struct coffer_ecdsa_key **owned)
{
	struct coffer_tee_collateral *c = (struct coffer_tee_collateral *)cc;
	struct coffer_ecdsa_key *k = NULL;
	const struct coffer_ecdsa_key *found = NULL;

	*owned = NULL;
	if (c != NULL) {
		pthread_mutex_lock(&c->lock);
		for (size_t i = 0; i < c->n_keys && found == NULL; i++)
			if (memcmp(c->keys[i].raw, raw, 64) == 0)
				found = c->keys[i].key;
		pthread_mutex_unlock(&c->lock);
		if (found != NULL)
			return found;
	}
	if (coffer_ecdsa_pub_from_raw(COFFER_ECDSA_P256, raw, 64, &k) != 0)
		return NULL;
	if (c != NULL) {
		pthread_mutex_lock(&c->lock);
		if (c->n_keys < TEE_MAX_KEYS) {
			memcpy(c->keys[c->n_keys].raw, raw, 64);
			c->keys[c->n_keys++].key = k;
			found = k;
		}
		pthread_mutex_unlock(&c->lock);
		if (found != NULL)
			return found;
	}
	*owned = k;
	return k;
}

void
tee_cert_cache_flush(struct coffer_tee_collateral *c)
{
	pthread_mutex_lock(&c->lock);
	cache_flush(c);
	for (size_t i = 0; i < c->n_keys; i++)
		coffer_ecdsa_key_free(c->keys[i].key);
	c->n_keys = 0;
	pthread_mutex_unlock(&c->lock);
}

X509 *
tee_cert_get(const struct coffer_tee_collateral *cc, const uint8_t *der, size_t len,
    uint8_t h[32])
{
	struct coffer_tee_collateral *c = (struct coffer_tee_collateral *)cc;
	struct tee_cert_slot *s;
	const uint8_t *q = der;
	X509 *x = NULL;
	int found = 0;

	if (coffer_sha256(der, len, h) != 0)
		return NULL;
	if (c != NULL) {
		pthread_mutex_lock(&c->lock);
		if ((s = slot_find(c, h, &found)) != NULL && found && s->x != NULL &&
		    X509_up_ref(s->x))
			x = s->x;
		pthread_mutex_unlock(&c->lock);
		if (x != NULL)
			return x;
	}
	if ((x = d2i_X509(NULL, &q, (long)len)) == NULL || q != der + len) {
		X509_free(x);
		ERR_clear_error();
		coffer_errf(COFFER_E_FORMAT, "a certificate of %zu bytes does not parse", len);
		return NULL;
	}
	if (c != NULL) {
		pthread_mutex_lock(&c->lock);
		cache_put(c, x, h);
		pthread_mutex_unlock(&c->lock);
	}
	return x;
}

int
tee_cert_sig_known(const struct coffer_tee_collateral *cc, const uint8_t xh[32],
    const uint8_t ih[32])
{
	struct coffer_tee_collateral *c = (struct coffer_tee_collateral *)cc;
	struct tee_cert_slot *s;
	int found = 0, ok = 0;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->lock);
	if ((s = slot_find(c, xh, &found)) != NULL && found && s->sig_ok &&
	    memcmp(s->issuer_h, ih, 32) == 0)
		ok = 1;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

void
tee_cert_sig_remember(const struct coffer_tee_collateral *cc, const uint8_t xh[32],
    const uint8_t ih[32])
{
	struct coffer_tee_collateral *c = (struct coffer_tee_collateral *)cc;
	struct tee_cert_slot *s;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if ((s = cache_put(c, NULL, xh)) != NULL) {
		s->sig_ok = 1;
		memcpy(s->issuer_h, ih, 32);
	}
	pthread_mutex_unlock(&c->lock);
}

int
tee_cert_signed_by(const struct coffer_tee_collateral *c, X509 *x, const uint8_t xh[32],
    X509 *issuer, const uint8_t ih[32])
{
	int ok;

	if (tee_cert_sig_known(c, xh, ih))
		return 1;
	ok = X509_verify(x, X509_get0_pubkey(issuer)) == 1;
	ERR_clear_error();
	if (ok)
		tee_cert_sig_remember(c, xh, ih);
	return ok;
}
