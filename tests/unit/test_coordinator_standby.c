// SPDX-License-Identifier: Apache-2.0
// Unit tests for the standby session table (src/coordinator/standby.c,
// doc/protocol/key-release.md 6.7.4 and 6.7.5): bounds in count and
// evidence bytes, expiry, single use, a wrong MAC that consumes nothing,
// consumed entries giving way to new sessions, and S handed out once.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "coordinator/standby.h"

static const uint8_t NONCE[32] = { 1 }, WPK[32] = { 2 };
static const uint8_t EV[100] = { 3 };

static int
mac_ok(const uint8_t s[COFFER_STANDBY_SECRET_LEN], void *arg)
{
	(void)s;
	(void)arg;
	return 0;
}

static int
mac_bad(const uint8_t s[COFFER_STANDBY_SECRET_LEN], void *arg)
{
	(void)s;
	(void)arg;
	return COFFER_E_AUTH;
}

/* The session's S, as the MAC check sees it. */
static int
mac_sees(const uint8_t s[COFFER_STANDBY_SECRET_LEN], void *arg)
{
	return memcmp(s, arg, COFFER_STANDBY_SECRET_LEN) == 0 ? 0 : COFFER_E_AUTH;
}

static void
test_standby__a_session_binds_once_with_its_secret(void **state)
{
	struct coord_standbys *t;
	struct coord_standby_taken x;
	uint8_t id[16], s[64];

	(void)state;
	assert_int_equal(coord_standbys_new(1000, 4, 1 << 20, &t), 0);
	assert_int_equal(coord_standby_add(t, 0, NONCE, WPK, EV, sizeof(EV), id, s), 0);
	assert_int_equal(coord_standbys_live(t), 1);
	assert_int_equal(coord_standbys_bytes(t), sizeof(EV));
	memset(&x, 0, sizeof(x));
	/* A wrong MAC consumes nothing (BD5). */
	assert_int_equal(coord_standby_take(t, 10, id, mac_bad, NULL, &x), COFFER_E_AUTH);
	assert_int_equal(coord_standbys_live(t), 1);
	assert_null(x.evidence);
	assert_int_equal(coord_standby_take(t, 10, id, mac_sees, s, &x), 0);
	assert_memory_equal(x.s, s, 64);
	assert_memory_equal(x.nonce, NONCE, 32);
	assert_memory_equal(x.worker_pk, WPK, 32);
	assert_int_equal(x.evidence_len, sizeof(EV));
	assert_memory_equal(x.evidence, EV, sizeof(EV));
	coord_standby_taken_clear(&x);
	assert_int_equal(coord_standbys_live(t), 0);
	assert_int_equal(coord_standbys_bytes(t), 0);
	/* Single use (BD4); expired after its time; unknown a lifetime
	 * later. */
	assert_int_equal(coord_standby_take(t, 20, id, mac_ok, NULL, &x), COFFER_E_STATE);
	coord_standbys_sweep(t, 1000);
	assert_int_equal(coord_standby_take(t, 1001, id, mac_ok, NULL, &x),
	    COFFER_E_EXPIRED);
	coord_standbys_sweep(t, 2000);
	assert_int_equal(coord_standby_take(t, 2001, id, mac_ok, NULL, &x),
	    COFFER_E_NOTFOUND);
	coord_standbys_free(t);
}

/* A session whose answer could not be made is forgotten at once: no
 * longer live, its bytes freed, and a bind is told standby.used. */
static void
test_standby__forgotten_when_its_answer_fails(void **state)
{
	struct coord_standbys *t;
	struct coord_standby_taken x;
	uint8_t id[16], id2[16], s[64], other[16] = { 7 };

	(void)state;
	memset(&x, 0, sizeof(x));
	assert_int_equal(coord_standbys_new(1000, 4, 1 << 20, &t), 0);
	assert_int_equal(coord_standby_add(t, 0, NONCE, WPK, EV, sizeof(EV), id, s), 0);
	assert_int_equal(coord_standby_add(t, 0, NONCE, WPK, EV, sizeof(EV), id2, s), 0);
	coord_standby_forget(t, other); /* none: nothing changes */
	assert_int_equal(coord_standbys_live(t), 2);
	coord_standby_forget(t, id);
	assert_int_equal(coord_standbys_live(t), 1);
	assert_int_equal(coord_standbys_bytes(t), sizeof(EV));
	assert_int_equal(coord_standby_take(t, 10, id, mac_ok, NULL, &x), COFFER_E_STATE);
	assert_int_equal(coord_standby_take(t, 10, id2, mac_ok, NULL, &x), 0);
	coord_standby_taken_clear(&x);
	coord_standbys_free(t);
}

static void
test_standby__expired_and_unknown(void **state)
{
	struct coord_standbys *t;
	struct coord_standby_taken x;
	uint8_t id[16], s[64], other[16] = { 9 };

	(void)state;
	memset(&x, 0, sizeof(x));
	assert_int_equal(coord_standbys_new(1000, 4, 1 << 20, &t), 0);
	assert_int_equal(coord_standby_add(t, 0, NONCE, WPK, EV, sizeof(EV), id, s), 0);
	assert_int_equal(coord_standby_take(t, 0, other, mac_ok, NULL, &x),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coord_standby_take(t, 999, id, mac_bad, NULL, &x), COFFER_E_AUTH);
	assert_int_equal(coord_standby_take(t, 1000, id, mac_ok, NULL, &x),
	    COFFER_E_EXPIRED);
	/* Retired when found expired: no longer live, still expired (also
	 * after a sweep), unknown once a lifetime more has passed. */
	assert_int_equal(coord_standbys_live(t), 0);
	assert_int_equal(coord_standbys_bytes(t), 0);
	coord_standbys_sweep(t, 1500);
	assert_int_equal(coord_standby_take(t, 1500, id, mac_ok, NULL, &x),
	    COFFER_E_EXPIRED);
	coord_standbys_sweep(t, 2000);
	assert_int_equal(coord_standby_take(t, 2000, id, mac_ok, NULL, &x),
	    COFFER_E_NOTFOUND);
	coord_standbys_free(t);
}

static void
test_standby__bounds_count_and_bytes_and_expired_make_room(void **state)
{
	struct coord_standbys *t;
	uint8_t id[16], s[64];

	(void)state;
	assert_int_equal(coord_standbys_new(1000, 2, 250, &t), 0);
	assert_int_equal(coord_standby_add(t, 0, NONCE, WPK, EV, 100, id, s), 0);
	assert_int_equal(coord_standby_add(t, 1, NONCE, WPK, EV, 100, id, s), 0);
	/* SB3: count. */
	assert_int_equal(coord_standby_room(t, 2, 10), COFFER_E_BUSY);
	assert_int_equal(coord_standby_add(t, 2, NONCE, WPK, EV, 10, id, s),
	    COFFER_E_BUSY);
	/* The first expires: room again. */
	assert_int_equal(coord_standby_room(t, 1000, 10), 0);
	assert_int_equal(coord_standbys_live(t), 1);
	/* SB3: bytes (100 held + 160 > 250). */
	assert_int_equal(coord_standby_add(t, 1000, NONCE, WPK, EV, 100, id, s), 0);
	coord_standbys_sweep(t, 1001); /* the second one goes */
	assert_int_equal(coord_standbys_live(t), 1);
	assert_int_equal(coord_standby_room(t, 1001, 151), COFFER_E_BUSY);
	assert_int_equal(coord_standby_room(t, 1001, 150), 0);
	coord_standbys_free(t);
}

static void
test_standby__consumed_sessions_give_way(void **state)
{
	struct coord_standbys *t;
	struct coord_standby_taken x;
	uint8_t id[8][16], s[64];

	(void)state;
	assert_int_equal(coord_standbys_new(100000, 2, 1 << 20, &t), 0);
	/* Bind 6 sessions in turn: 2 live at most, 4 slots, the consumed
	 * ones (kept to answer standby.used) are reused. */
	for (int i = 0; i < 6; i++) {
		memset(&x, 0, sizeof(x));
		assert_int_equal(coord_standby_add(t, i, NONCE, WPK, EV, 10, id[i], s), 0);
		assert_int_equal(coord_standby_take(t, i, id[i], mac_ok, NULL, &x), 0);
		coord_standby_taken_clear(&x);
	}
	assert_int_equal(coord_standbys_live(t), 0);
	/* The latest ones still say used; the earliest gave way. */
	assert_int_equal(coord_standby_take(t, 7, id[5], mac_ok, NULL, &x), COFFER_E_STATE);
	assert_int_equal(coord_standby_take(t, 7, id[0], mac_ok, NULL, &x),
	    COFFER_E_NOTFOUND);
	coord_standbys_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standby__a_session_binds_once_with_its_secret),
		cmocka_unit_test(test_standby__forgotten_when_its_answer_fails),
		cmocka_unit_test(test_standby__expired_and_unknown),
		cmocka_unit_test(test_standby__bounds_count_and_bytes_and_expired_make_room),
		cmocka_unit_test(test_standby__consumed_sessions_give_way),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
