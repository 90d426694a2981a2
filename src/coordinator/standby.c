// SPDX-License-Identifier: Apache-2.0
// The standby sessions (doc/protocol/key-release.md 6.7.4, 6.7.5): kept in
// this process's memory only, so that a restart, a recovery or a rollback
// of the sealed state forgets them all, as it forgets nonces. S is wiped
// the moment a session is consumed, expires or is dropped. The table is a
// fixed array searched linearly: at most 1024 live sessions (twice that
// with the consumed and expired ones, kept without S or evidence for one
// more lifetime to answer standby.used or standby.expired rather than
// standby.unknown), a 16-byte compare each, microseconds beside the
// verification a bind does.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/standby.h"
#include "lib/mem.h"
#include "lib/random.h"

struct entry {
	int in_use;
	int used;              /* consumed (past BD5) or expired: S and evidence gone */
	int64_t created_ms;
	uint8_t id[16];
	uint8_t s[COFFER_STANDBY_SECRET_LEN];
	uint8_t nonce[32];
	uint8_t worker_pk[32];
	uint8_t *evidence;
	size_t evidence_len;
};

struct coord_standbys {
	int64_t ttl_ms;
	size_t max, max_bytes;
	size_t cap;            /* 2 * max: room for consumed entries */
	size_t live, bytes;
	struct entry *e;
};

int
coord_standbys_new(int64_t ttl_ms, size_t max, size_t max_bytes,
    struct coord_standbys **out)
{
	struct coord_standbys *t;

	if (ttl_ms <= 0 || max == 0 || max_bytes == 0 || max > ((size_t)1 << 20))
		return coffer_errf(COFFER_E_INVAL, "standby table: bad bounds");
	if ((t = coffer_calloc(1, sizeof(*t))) == NULL)
		return COFFER_E_NOMEM;
	t->ttl_ms = ttl_ms;
	t->max = max;
	t->max_bytes = max_bytes;
	t->cap = 2 * max;
	if ((t->e = coffer_calloc(t->cap, sizeof(*t->e))) == NULL) {
		free(t);
		return COFFER_E_NOMEM;
	}
	*out = t;
	return 0;
}

/* Forget an entry: its S and evidence wiped, its slot free. */
static void
drop(struct coord_standbys *t, struct entry *x)
{
	if (!x->in_use)
		return;
	if (!x->used) {
		t->live--;
		t->bytes -= x->evidence_len;
	}
	free(x->evidence);
	coffer_wipe(x, sizeof(*x));
}

void
coord_standbys_free(struct coord_standbys *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->cap; i++)
		drop(t, &t->e[i]);
	coffer_free_secret(t->e, t->cap * sizeof(*t->e));
	free(t);
}

static int
expired(const struct coord_standbys *t, const struct entry *x, int64_t now_ms)
{
	return now_ms - x->created_ms >= t->ttl_ms;
}

/* Keep only the id: S and the evidence go, the session counts no more. */
static void
retire(struct coord_standbys *t, struct entry *x)
{
	if (x->used)
		return;
	t->live--;
	t->bytes -= x->evidence_len;
	free(x->evidence);
	x->evidence = NULL;
	x->evidence_len = 0;
	coffer_wipe(x->s, sizeof(x->s));
	x->used = 1;
}

void
coord_standbys_sweep(struct coord_standbys *t, int64_t now_ms)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct entry *x = &t->e[i];

		if (!x->in_use)
			continue;
		if (now_ms - x->created_ms >= 2 * t->ttl_ms)
			drop(t, x);
		else if (expired(t, x, now_ms))
			retire(t, x);
	}
}

int
coord_standby_room(struct coord_standbys *t, int64_t now_ms, size_t evlen)
{
	if (t->live >= t->max || t->bytes + evlen > t->max_bytes)
		coord_standbys_sweep(t, now_ms);
	if (t->live >= t->max || t->bytes + evlen > t->max_bytes)
		return coffer_errf(COFFER_E_BUSY, "standby.full: %zu standby sessions "
		    "holding %zu bytes of evidence (limits %zu and %zu)", t->live,
		    t->bytes, t->max, t->max_bytes);
	return 0;
}

int
coord_standby_add(struct coord_standbys *t, int64_t now_ms,
    const uint8_t nonce[32], const uint8_t w_pk[32], const uint8_t *ev,
    size_t evlen, uint8_t id[16], uint8_t s[COFFER_STANDBY_SECRET_LEN])
{
	struct entry *x = NULL, *spent = NULL;
	int r;

	/* SB3, after the expired ones are gone. */
	if ((r = coord_standby_room(t, now_ms, evlen)) != 0)
		return r;
	for (size_t i = 0; i < t->cap && x == NULL; i++) {
		if (!t->e[i].in_use)
			x = &t->e[i];
		else if (t->e[i].used && spent == NULL)
			spent = &t->e[i];
	}
	/* Live ones are at most half the slots, so a retired one is there
	 * to give way: a bind of it is then told standby.unknown. */
	if (x == NULL && spent != NULL) {
		drop(t, spent);
		x = spent;
	}
	if (x == NULL)
		return coffer_errf(COFFER_E_INTERNAL, "standby table: no slot");
	if ((x->evidence = coffer_malloc(evlen ? evlen : 1)) == NULL)
		return COFFER_E_NOMEM;
	if ((r = coffer_random(x->id, 16)) != 0 ||
	    (r = coffer_random(x->s, sizeof(x->s))) != 0) {
		free(x->evidence);
		coffer_wipe(x, sizeof(*x));
		return r;
	}
	memcpy(x->evidence, ev, evlen);
	x->evidence_len = evlen;
	memcpy(x->nonce, nonce, 32);
	memcpy(x->worker_pk, w_pk, 32);
	x->created_ms = now_ms;
	x->in_use = 1;
	t->live++;
	t->bytes += evlen;
	memcpy(id, x->id, 16);
	memcpy(s, x->s, sizeof(x->s));
	return 0;
}

void
coord_standby_forget(struct coord_standbys *t, const uint8_t id[16])
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].in_use && !t->e[i].used &&
		    memcmp(t->e[i].id, id, 16) == 0) {
			retire(t, &t->e[i]);
			return;
		}
}

int
coord_standby_take(struct coord_standbys *t, int64_t now_ms,
    const uint8_t id[16],
    int (*check)(const uint8_t s[COFFER_STANDBY_SECRET_LEN], void *arg),
    void *arg, struct coord_standby_taken *out)
{
	struct entry *x = NULL;
	int r;

	for (size_t i = 0; i < t->cap && x == NULL; i++)
		if (t->e[i].in_use && memcmp(t->e[i].id, id, 16) == 0)
			x = &t->e[i];
	/* BD4 */
	if (x == NULL)
		return coffer_errf(COFFER_E_NOTFOUND, "standby.unknown: no such "
		    "standby session in this coordinator process");
	if (expired(t, x, now_ms)) {
		retire(t, x);
		return coffer_errf(COFFER_E_EXPIRED, "standby.expired: the standby "
		    "session's %lld s are over", (long long)(t->ttl_ms / 1000));
	}
	if (x->used)
		return coffer_errf(COFFER_E_STATE, "standby.used: the standby session "
		    "was bound before");
	/* BD5: a wrong MAC leaves the session as it was. */
	if ((r = check(x->s, arg)) != 0)
		return r;
	/* Past BD5: consumed, whatever follows (6.7.5). */
	memcpy(out->s, x->s, sizeof(out->s));
	memcpy(out->nonce, x->nonce, 32);
	memcpy(out->worker_pk, x->worker_pk, 32);
	out->evidence = x->evidence;
	out->evidence_len = x->evidence_len;
	x->evidence = NULL; /* handed over */
	t->live--;
	t->bytes -= x->evidence_len;
	x->evidence_len = 0;
	coffer_wipe(x->s, sizeof(x->s));
	x->used = 1;
	return 0;
}

void
coord_standby_taken_clear(struct coord_standby_taken *x)
{
	free(x->evidence);
	coffer_wipe(x, sizeof(*x));
}

size_t
coord_standbys_live(const struct coord_standbys *t)
{
	return t->live;
}

size_t
coord_standbys_bytes(const struct coord_standbys *t)
{
	return t->bytes;
}
