// SPDX-License-Identifier: Apache-2.0
// Unit tests for the two-thread pipeline of the sealed fd paths
// (src/crypto/sealed_pipe.c): what the caller hands over is hashed and
// written in order, whichever thread writes (a regular file, where the
// helper helps, and a pipe, where it does not), pieces with gaps
// included; a buffer changed after _wait_hashed is hashed as it was; write
// errors reach the caller; bad rings and pieces are refused; under _run
// (seal) batches produced on either thread are hashed and written in
// order, the caller alone produces when the helper may not, and a
// producer's error or a write error ends the run.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/sealed_pipe.h"
#include "lib/file.h"

#define TOTAL 300001
#define PIECE 1000
#define SLOT (4 * PIECE)

static uint8_t data[TOTAL];

static int
setup(void **state)
{
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < TOTAL; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (uint8_t)(x >> 16);
	}
	return 0;
}

/* Everything written to fd (a memfd), from its start. */
static uint8_t *
read_back(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *p = malloc((size_t)end + 1);
	size_t got;

	assert_non_null(p);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(coffer_read_full(fd, p, (size_t)end, &got), 0);
	assert_int_equal(got, (size_t)end);
	*len = got;
	return p;
}

/*
 * Hand data over through a ring of nslots buffers of up to 4 pieces: each
 * buffer is hashed whole, then (as opening does) changed in place after
 * _wait_hashed, and written as its pieces without the last 16 bytes of
 * each. The digest into dig, what was written into *w.
 */
static void
run_through(int out, int helper_writes, size_t nslots, uint8_t dig[32],
    uint64_t *w)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	struct iovec v[4];
	uint8_t *buf;
	size_t off = 0, n, i;
	int cnt;

	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(h, out, helper_writes, SLOT, nslots,
	    &p), 0);
	while (off < TOTAL) {
		n = TOTAL - off < SLOT ? TOTAL - off : SLOT;
		assert_int_equal(coffer_spipe_take(p, &buf), 0);
		memcpy(buf, data + off, n);
		coffer_spipe_hash(p, n);
		assert_int_equal(coffer_spipe_wait_hashed(p), 0);
		for (i = 0, cnt = 0; i < n; i += PIECE, cnt++) {
			size_t m = n - i < PIECE ? n - i : PIECE;

			memset(buf + i + (m > 16 ? m - 16 : 0), 0xee, m > 16 ? 16 : m);
			v[cnt].iov_base = buf + i;
			v[cnt].iov_len = m > 16 ? m - 16 : 0;
		}
		assert_int_equal(coffer_spipe_write(p, v, cnt), 0);
		off += n;
	}
	assert_int_equal(coffer_spipe_end(p), 0);
	assert_int_equal(coffer_hash_final(h, dig, 32), 0);
	assert_true(coffer_spipe_cpu_s(p) >= 0);
	*w = coffer_spipe_written(p);
	/* nothing is taken after _end */
	assert_int_equal(coffer_spipe_take(p, &buf), COFFER_E_STATE);
	coffer_spipe_free(p);
	coffer_hash_free(h);
}

/* What run_through must have written: data less the last 16 bytes of
 * every piece of PIECE bytes. */
static size_t
expected(uint8_t *e)
{
	size_t m = 0, i, k;

	for (i = 0; i < TOTAL; i += PIECE) {
		k = TOTAL - i < PIECE ? TOTAL - i : PIECE;
		k = k > 16 ? k - 16 : 0;
		memcpy(e + m, data + i, k);
		m += k;
	}
	return m;
}

static void
test_spipe__hashes_and_writes_in_order(void **state)
{
	static uint8_t want_out[TOTAL];
	uint8_t want[32], got[32], *back;
	const size_t rings[] = { 2, 3, 4, 16 };
	size_t m = expected(want_out), len;
	uint64_t w;

	(void)state;
	assert_int_equal(coffer_sha256(data, TOTAL, want), 0);
	for (size_t i = 0; i < sizeof(rings) / sizeof(rings[0]); i++)
		for (int helper = 0; helper <= 1; helper++) {
			int out = memfd_create("spipe-out", MFD_CLOEXEC);

			assert_true(out >= 0);
			run_through(out, helper, rings[i], got, &w);
			assert_memory_equal(got, want, 32);
			back = read_back(out, &len);
			assert_int_equal(len, m);
			assert_int_equal(w, m);
			assert_memory_equal(back, want_out, m);
			free(back);
			close(out);
		}
}

static void
test_spipe__writes_to_a_pipe_on_the_callers_thread(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	struct iovec v;
	uint8_t *buf, back[3 * PIECE], dig[32];
	size_t got;
	int fds[2];

	(void)state;
	/* The caller writes (helper_writes 0), each piece before _write
	 * returns: its reader may be waiting for it. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(h, fds[1], 0, SLOT, 2, &p), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(coffer_spipe_take(p, &buf), 0);
		memcpy(buf, data + i * PIECE, PIECE);
		coffer_spipe_hash(p, PIECE);
		v.iov_base = buf;
		v.iov_len = PIECE;
		assert_int_equal(coffer_spipe_write(p, &v, 1), 0);
		assert_int_equal(coffer_spipe_written(p), (uint64_t)(i + 1) * PIECE);
		assert_int_equal(coffer_read_full(fds[0], back + i * PIECE, PIECE,
		    &got), 0);
		assert_int_equal(got, PIECE);
	}
	assert_int_equal(coffer_spipe_end(p), 0);
	assert_memory_equal(back, data, sizeof(back));
	assert_int_equal(coffer_hash_final(h, dig, 32), 0);
	coffer_spipe_free(p);
	coffer_hash_free(h);
	close(fds[0]);
	close(fds[1]);
}

static void
test_spipe__a_write_error_reaches_the_caller(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC), r = 0;
	struct iovec v;
	uint8_t *buf;

	(void)state;
	assert_true(full >= 0);
	for (int helper = 0; helper <= 1; helper++) {
		assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
		assert_int_equal(coffer_spipe_new(h, full, helper, SLOT, 3, &p), 0);
		/* the error comes back from _take, _wait_hashed or _end */
		for (int i = 0; i < 10 && r == 0; i++) {
			if ((r = coffer_spipe_take(p, &buf)) != 0)
				break;
			coffer_spipe_hash(p, PIECE);
			v.iov_base = buf;
			v.iov_len = PIECE;
			r = coffer_spipe_write(p, &v, 1);
		}
		if (r == 0)
			r = coffer_spipe_end(p);
		assert_int_equal(r, COFFER_E_IO);
		assert_non_null(strstr(coffer_errdetail(), "write"));
		assert_int_equal(coffer_spipe_written(p), 0);
		coffer_spipe_free(p);
		coffer_hash_free(h);
		r = 0;
	}
	close(full);
}

static void
test_spipe__refuses_bad_rings_and_pieces(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	struct iovec v;
	uint8_t *buf, other[16];

	(void)state;
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(h, 1, 0, SLOT, 1, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new(h, 1, 0, SLOT, 17, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new(h, 1, 0, 0, 4, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new(NULL, 1, 0, SLOT, 4, &p),
	    COFFER_E_INVAL);
	assert_null(p);
	/* pieces outside the buffer, too many, or with nothing taken */
	assert_int_equal(coffer_spipe_new(h, -1, 0, SLOT, 3, &p), 0);
	v.iov_base = other;
	v.iov_len = 1;
	assert_int_equal(coffer_spipe_write(p, &v, 1), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_wait_hashed(p), COFFER_E_STATE);
	assert_int_equal(coffer_spipe_take(p, &buf), 0);
	assert_int_equal(coffer_spipe_write(p, &v, 1), COFFER_E_INVAL);
	v.iov_base = buf + 1;
	v.iov_len = SLOT;
	assert_int_equal(coffer_spipe_write(p, &v, 1), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_write(p, &v, COFFER_SPIPE_MAX_PIECES + 1),
	    COFFER_E_INVAL);
	coffer_spipe_free(p); /* with a buffer taken and never handed over */
	coffer_spipe_free(NULL);
	coffer_hash_free(h);
}

/* The producer of _run: data in batches of up to SLOT - 7 bytes (so
 * that a batch never fills its slot), each call checked to come in
 * order; fail_at > 0 fails that call. */
struct src {
	size_t off, calls, fail_at;
	size_t on_caller, on_helper;
	pthread_t caller;
};

static int
produce(void *arg, uint8_t *buf, size_t *n, int *last)
{
	struct src *s = arg;

	if (pthread_equal(pthread_self(), s->caller))
		s->on_caller++;
	else
		s->on_helper++;
	if (++s->calls == s->fail_at)
		return coffer_errf(COFFER_E_IO, "read: test failure at call %zu",
		    s->calls);
	*n = TOTAL - s->off < SLOT - 7 ? TOTAL - s->off : SLOT - 7;
	memcpy(buf, data + s->off, *n);
	s->off += *n;
	*last = s->off == TOTAL;
	return 0;
}

static void
test_spipe__run_produces_hashes_and_writes_in_order(void **state)
{
	const size_t rings[] = { 2, 3, 4, 16 };
	uint8_t want[32], got[32], *back;
	size_t len;

	(void)state;
	assert_int_equal(coffer_sha256(data, TOTAL, want), 0);
	for (size_t i = 0; i < sizeof(rings) / sizeof(rings[0]); i++)
		for (int helper = 0; helper <= 1; helper++) {
			struct coffer_hash *h = NULL;
			struct coffer_spipe *p = NULL;
			struct src s = { 0 };
			struct coffer_spipe_job job = { produce, NULL, NULL, 0, 0 };
			int out = memfd_create("spipe-run", MFD_CLOEXEC);
			uint8_t *buf;

			assert_true(out >= 0);
			s.caller = pthread_self();
			assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
			assert_int_equal(coffer_spipe_new(h, out, helper, SLOT,
			    rings[i], &p), 0);
			job.arg = &s;
			job.helper_produces = helper;
			assert_int_equal(coffer_spipe_run(p, &job), 0);
			/* once only, and not with _take */
			assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_STATE);
			assert_int_equal(coffer_spipe_end(p), 0);
			assert_int_equal(coffer_spipe_take(p, &buf), COFFER_E_STATE);
			assert_int_equal(coffer_hash_final(h, got, 32), 0);
			assert_memory_equal(got, want, 32);
			assert_int_equal(coffer_spipe_written(p), TOTAL);
			back = read_back(out, &len);
			assert_int_equal(len, TOTAL);
			assert_memory_equal(back, data, TOTAL);
			/* where the helper may not produce, it never does */
			assert_int_equal(s.on_caller + s.on_helper, s.calls);
			if (!helper)
				assert_int_equal(s.on_helper, 0);
			free(back);
			coffer_spipe_free(p);
			coffer_hash_free(h);
			close(out);
		}
}

static void
test_spipe__run_stops_at_the_first_error(void **state)
{
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);

	(void)state;
	assert_true(full >= 0);
	for (int c = 0; c < 4; c++) {
		struct coffer_hash *h = NULL;
		struct coffer_spipe *p = NULL;
		struct src s = { 0 };
		struct coffer_spipe_job job = { produce, NULL, &s, c & 1, 0 };
		int out = c < 2 ? memfd_create("spipe-run", MFD_CLOEXEC) : full;

		/* c 0, 1: the producer fails at its 7th call, on either thread;
		 * c 2, 3: every write fails (ENOSPC), whoever writes */
		assert_true(out >= 0);
		s.caller = pthread_self();
		s.fail_at = c < 2 ? 7 : 0;
		assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
		assert_int_equal(coffer_spipe_new(h, out, c & 1, SLOT, 3, &p), 0);
		if (c < 2) {
			assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_IO);
			assert_non_null(strstr(coffer_errdetail(), "call 7"));
			assert_int_equal(s.calls, 7);
			assert_true(coffer_spipe_written(p) <= 6 * (SLOT - 7));
		} else {
			assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_IO);
			assert_non_null(strstr(coffer_errdetail(), "write"));
			assert_int_equal(coffer_spipe_written(p), 0);
			/* a ring of 3 slots: no more than 3 batches were produced */
			assert_true(s.calls <= 3);
		}
		coffer_spipe_free(p);
		coffer_hash_free(h);
		if (out != full)
			close(out);
	}
	close(full);
}

/* The transform of _run, as opening does: after the digest, change the
 * batch in place and write it as pieces of PIECE bytes less their last
 * 16; at the batch that holds byte fail_off, give the pieces before it
 * and fail. */
struct xf {
	size_t off, fail_off;
};

static int
transform(void *arg, uint8_t *buf, size_t n, struct iovec *v, int *cnt)
{
	struct xf *x = arg;
	size_t i, m;

	*cnt = 0;
	for (i = 0; i < n; i += m) {
		m = n - i < PIECE ? n - i : PIECE;
		if (x->off + i <= x->fail_off && x->fail_off < x->off + i + m)
			return coffer_errf(COFFER_E_AUTH, "piece at %zu",
			    x->off + i);
		memset(buf + i + (m > 16 ? m - 16 : 0), 0xee, m > 16 ? 16 : m);
		v[*cnt].iov_base = buf + i;
		v[(*cnt)++].iov_len = m > 16 ? m - 16 : 0;
	}
	x->off += n;
	return 0;
}

/* produce() in batches of whole pieces (SLOT bytes), for transform() */
static int
produce_slots(void *arg, uint8_t *buf, size_t *n, int *last)
{
	struct src *s = arg;

	*n = TOTAL - s->off < SLOT ? TOTAL - s->off : SLOT;
	memcpy(buf, data + s->off, *n);
	s->off += *n;
	*last = s->off == TOTAL;
	s->calls++;
	return 0;
}

struct both {
	struct src s;
	struct xf x;
};

static int
both_produce(void *arg, uint8_t *buf, size_t *n, int *last)
{
	return produce_slots(&((struct both *)arg)->s, buf, n, last);
}

static int
both_transform(void *arg, uint8_t *buf, size_t n, struct iovec *v, int *cnt)
{
	return transform(&((struct both *)arg)->x, buf, n, v, cnt);
}

static void
test_spipe__run_transforms_after_the_digest(void **state)
{
	static uint8_t want_out[TOTAL];
	uint8_t want[32], got[32], *back;
	size_t m = expected(want_out), len;

	(void)state;
	assert_int_equal(coffer_sha256(data, TOTAL, want), 0);
	/* c 0-3: to the end, rings of 2 and 4, the helper writing or not;
	 * c 4-5: the transform fails in the 30th batch, at its third piece,
	 * with a pipe's look-ahead (two batches beyond those verified) */
	for (int c = 0; c < 6; c++) {
		struct coffer_hash *h = NULL;
		struct coffer_spipe *p = NULL;
		struct both b = { { 0 }, { 0, (size_t)-1 } };
		struct coffer_spipe_job job = { both_produce, both_transform, &b,
		    c & 1, c >= 4 ? 2 : 0 };
		int out = memfd_create("spipe-xf", MFD_CLOEXEC);
		size_t bad = 29 * SLOT + 2 * PIECE + 5, good;

		assert_true(out >= 0);
		if (c >= 4)
			b.x.fail_off = bad;
		assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
		assert_int_equal(coffer_spipe_new(h, out, c & 1, SLOT,
		    c & 2 ? 4 : 2, &p), 0);
		if (c < 4) {
			assert_int_equal(coffer_spipe_run(p, &job), 0);
			assert_int_equal(coffer_spipe_end(p), 0);
			/* the digest is of the bytes as produced, before the
			 * transform changed them */
			assert_int_equal(coffer_hash_final(h, got, 32), 0);
			assert_memory_equal(got, want, 32);
			good = m;
		} else {
			assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_AUTH);
			assert_non_null(strstr(coffer_errdetail(), "piece at"));
			/* _end still finishes: every batch produced is hashed */
			assert_int_equal(coffer_spipe_end(p), 0);
			/* no batch after the failing one was produced beyond the
			 * look-ahead: two batches at most */
			assert_true(b.s.calls <= 31);
			/* the pieces before the failing one, and nothing else */
			good = (29 * SLOT / PIECE + 2) * (PIECE - 16);
		}
		back = read_back(out, &len);
		assert_int_equal(len, good);
		assert_int_equal(coffer_spipe_written(p), good);
		assert_memory_equal(back, want_out, good);
		free(back);
		coffer_spipe_free(p);
		coffer_hash_free(h);
		close(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spipe__hashes_and_writes_in_order),
		cmocka_unit_test(test_spipe__writes_to_a_pipe_on_the_callers_thread),
		cmocka_unit_test(test_spipe__a_write_error_reaches_the_caller),
		cmocka_unit_test(test_spipe__refuses_bad_rings_and_pieces),
		cmocka_unit_test(test_spipe__run_produces_hashes_and_writes_in_order),
		cmocka_unit_test(test_spipe__run_stops_at_the_first_error),
		cmocka_unit_test(test_spipe__run_transforms_after_the_digest),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
