// SPDX-License-Identifier: Apache-2.0
// Key-release nonces (nonce.h). Layout of the 32 bytes, opaque to workers:
//
//     issued_ms (8, big-endian) || random (8) || tag (16)
//     tag = HMAC-SHA-256(K, "coffer/nonce/v1" || 0x00 || issued_ms || random)[0, 16)
//
// K is 32 random bytes made at start and never stored: a nonce from an
// earlier run no longer verifies, so a restart can only make outstanding
// nonces fail (the worker asks for another), never accept one twice.
// Anyone may ask for nonces without limit, so issuing allocates nothing;
// only nonces that verify are remembered, until they expire.
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "coffer/error.h"
#include "coordinator/nonce.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/random.h"

#define LABEL "coffer/nonce/v1"
#define TAG_OFF 16

struct used {
	uint8_t nonce[COORD_NONCE_LEN];
	int64_t expires_ms;
	struct used *next;
};

struct coord_nonces {
	uint8_t key[32];
	int64_t ttl_ms;
	size_t used_max, count;
	struct used **bucket;
	size_t nbuckets; /* a power of two */
};

static int
tag_of(const struct coord_nonces *n, const uint8_t head[16], uint8_t tag[16])
{
	uint8_t msg[sizeof(LABEL) + 16], mac[32];
	int r;

	memcpy(msg, LABEL, sizeof(LABEL)); /* with its NUL */
	memcpy(msg + sizeof(LABEL), head, 16);
	if ((r = coffer_hmac_sha256(n->key, sizeof(n->key), msg, sizeof(msg),
	    mac)) != 0)
		return r;
	memcpy(tag, mac, 16);
	return 0;
}

int
coord_nonces_new(int64_t ttl_ms, size_t used_max, struct coord_nonces **out)
{
	struct coord_nonces *n;
	int r;

	if (ttl_ms <= 0 || used_max == 0)
		return coffer_errf(COFFER_E_INVAL, "nonces: bad lifetime or limit");
	if ((n = coffer_calloc(1, sizeof(*n))) == NULL)
		return COFFER_E_NOMEM;
	n->ttl_ms = ttl_ms;
	n->used_max = used_max;
	n->nbuckets = 1024;
	if ((n->bucket = coffer_calloc(n->nbuckets, sizeof(*n->bucket))) == NULL) {
		free(n);
		return COFFER_E_NOMEM;
	}
	if ((r = coffer_random(n->key, sizeof(n->key))) != 0) {
		coord_nonces_free(n);
		return r;
	}
	*out = n;
	return 0;
}

void
coord_nonces_free(struct coord_nonces *n)
{
	struct used *u, *next;

	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nbuckets; i++)
		for (u = n->bucket[i]; u != NULL; u = next) {
			next = u->next;
			free(u);
		}
	free(n->bucket);
	coffer_wipe(n, sizeof(*n));
	free(n);
}

int
coord_nonce_issue(struct coord_nonces *n, int64_t now_ms,
    uint8_t out[COORD_NONCE_LEN])
{
	uint8_t nonce[COORD_NONCE_LEN];
	int r;

	coffer_store_u64be(nonce, (uint64_t)now_ms);
	if ((r = coffer_random(nonce + 8, 8)) != 0 ||
	    (r = tag_of(n, nonce, nonce + TAG_OFF)) != 0)
		return r;
	memcpy(out, nonce, sizeof(nonce));
	return 0;
}

/* The tag is a MAC output: its bytes are as good as a hash. */
static size_t
slot(const struct coord_nonces *n, const uint8_t nonce[COORD_NONCE_LEN])
{
	return (size_t)(coffer_load_u64be(nonce + TAG_OFF) & (n->nbuckets - 1));
}

static void
grow(struct coord_nonces *n)
{
	struct used **b, *u, *next;
	size_t nb = n->nbuckets * 2, old = n->nbuckets;

	if ((b = coffer_calloc(nb, sizeof(*b))) == NULL)
		return; /* longer chains, still correct */
	n->nbuckets = nb;
	for (size_t i = 0; i < old; i++)
		for (u = n->bucket[i]; u != NULL; u = next) {
			size_t s;

			next = u->next;
			s = slot(n, u->nonce);
			u->next = b[s];
			b[s] = u;
		}
	free(n->bucket);
	n->bucket = b;
}

void
coord_nonces_sweep(struct coord_nonces *n, int64_t now_ms)
{
	struct used **pp, *u;

	for (size_t i = 0; i < n->nbuckets; i++)
		for (pp = &n->bucket[i]; (u = *pp) != NULL;) {
			if (u->expires_ms <= now_ms) {
				*pp = u->next;
				free(u);
				n->count--;
			} else {
				pp = &u->next;
			}
		}
}

size_t
coord_nonces_used(const struct coord_nonces *n)
{
	return n->count;
}

int
coord_nonce_take(struct coord_nonces *n, int64_t now_ms,
    const uint8_t nonce[COORD_NONCE_LEN])
{
	uint8_t tag[16];
	int64_t issued;
	struct used *u;
	size_t s;
	int r;

	if ((r = tag_of(n, nonce, tag)) != 0)
		return r;
	if (CRYPTO_memcmp(tag, nonce + TAG_OFF, sizeof(tag)) != 0)
		return coffer_errf(COFFER_E_AUTH, "nonce.unknown: this coordinator "
		    "did not issue the nonce (forged, or issued before a restart)");
	issued = (int64_t)coffer_load_u64be(nonce);
	/* A nonce is valid in [issued, issued + ttl). */
	if (now_ms - issued >= n->ttl_ms || now_ms < issued)
		return coffer_errf(COFFER_E_EXPIRED, "nonce.expired: the nonce was "
		    "issued %lld ms ago; it is valid for %lld ms",
		    (long long)(now_ms - issued), (long long)n->ttl_ms);
	s = slot(n, nonce);
	for (u = n->bucket[s]; u != NULL; u = u->next)
		if (memcmp(u->nonce, nonce, COORD_NONCE_LEN) == 0)
			return coffer_errf(COFFER_E_STATE, "nonce.replayed: the nonce "
			    "was already used");
	if (n->count >= n->used_max) {
		coord_nonces_sweep(n, now_ms);
		if (n->count >= n->used_max)
			return coffer_errf(COFFER_E_BUSY, "too many key releases in "
			    "the last %lld ms; try again", (long long)n->ttl_ms);
	}
	if ((u = coffer_calloc(1, sizeof(*u))) == NULL)
		return COFFER_E_NOMEM;
	memcpy(u->nonce, nonce, COORD_NONCE_LEN);
	u->expires_ms = issued + n->ttl_ms;
	s = slot(n, nonce);
	u->next = n->bucket[s];
	n->bucket[s] = u;
	if (++n->count > 2 * n->nbuckets)
		grow(n);
	return 0;
}
