// SPDX-License-Identifier: Apache-2.0
// Unit tests for the two-thread pipeline of the sealed fd paths
// (src/crypto/sealed_pipe.c): batches produced on either thread are
// prepared, hashed, transformed and written in order, whichever thread
// writes (a regular file, where the helper helps, and a pipe, where it
// does not), pieces with gaps included; a batch is hashed as prepared
// and as it was before the transform changed it; the helper never reads
// or writes where it may not; a producer's, a preparer's, a transform's
// or a write's error ends the run; bad rings, runs, batches and pieces
// are refused.
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

/* What transform() below writes: data less the last 16 bytes of every
 * piece of PIECE bytes. */
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

/* The producer of _run: data in batches of up to SLOT - 7 bytes (so
 * that a batch never fills its slot), each call checked to come in
 * order; fail_at > 0 fails that call. */
struct src {
	size_t off, calls, fail_at;
	size_t on_caller, on_helper;
	pthread_t caller;
	size_t stop;     /* > 0: data[0..stop) instead of all of it */
	int check_fd;    /* > 0: read what came out so far, into seen */
	size_t seen;
};

static int
produce(void *arg, uint8_t *buf, size_t *n, int *last)
{
	struct src *s = arg;

	if (pthread_equal(pthread_self(), s->caller))
		s->on_caller++;
	else
		s->on_helper++;
	size_t end = s->stop > 0 ? s->stop : TOTAL;

	if (++s->calls == s->fail_at)
		return coffer_errf(COFFER_E_IO, "read: test failure at call %zu",
		    s->calls);
	if (s->check_fd > 0) {
		uint8_t b[SLOT];
		ssize_t k;

		/* everything before this batch is out, and is the data */
		while ((k = read(s->check_fd, b, sizeof(b))) > 0) {
			assert_memory_equal(b, data + s->seen, (size_t)k);
			s->seen += (size_t)k;
		}
		assert_int_equal(s->seen, s->off);
	}
	*n = end - s->off < SLOT - 7 ? end - s->off : SLOT - 7;
	memcpy(buf, data + s->off, *n);
	s->off += *n;
	*last = s->off == end;
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
			struct coffer_spipe_job job = { .produce = produce };
			int out = memfd_create("spipe-run", MFD_CLOEXEC);

			assert_true(out >= 0);
			s.caller = pthread_self();
			assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
			assert_int_equal(coffer_spipe_new(h, out, helper, SLOT,
			    rings[i], &p), 0);
			job.arg = &s;
			job.helper_produces = helper;
			assert_int_equal(coffer_spipe_run(p, &job), 0);
			/* once only */
			assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_STATE);
			assert_int_equal(coffer_spipe_end(p), 0);
			assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_STATE);
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
		struct coffer_spipe_job job = { .produce = produce, .arg = &s,
		    .helper_produces = c & 1 };
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

/* The preparer of _run, as sealing does: before the digest, change the
 * batch in place (each byte XOR its offset in the stream) and append
 * 7 bytes (as seal appends tags), checking that the calls come in order;
 * at call fail_at > 0, fail. grow > 7 appends more than the slot holds. */
struct prep {
	struct src s;
	size_t off, calls, fail_at, on_helper, grow;
};

static int
prep_produce(void *arg, uint8_t *buf, size_t *n, int *last)
{
	return produce(&((struct prep *)arg)->s, buf, n, last);
}

static int
prepare(void *arg, uint8_t *buf, size_t *n)
{
	struct prep *x = arg;

	if (!pthread_equal(pthread_self(), x->s.caller))
		x->on_helper++;
	if (++x->calls == x->fail_at)
		return coffer_errf(COFFER_E_LIMIT, "prepare: test failure at "
		    "call %zu", x->calls);
	assert_memory_equal(buf, data + x->off, *n);
	for (size_t i = 0; i < *n; i++)
		buf[i] ^= (uint8_t)(x->off + i);
	x->off += *n;
	memset(buf + *n, 0x77, 7); /* grow claims more, past the slot */
	*n += x->grow > 0 ? x->grow : 7;
	return 0;
}

/* What prepare() makes of data[0..TOTAL) in batches of SLOT - 7 bytes. */
static size_t
prepared_stream(uint8_t *e)
{
	size_t m = 0, i, k;

	for (i = 0; i < TOTAL; i += k) {
		k = TOTAL - i < SLOT - 7 ? TOTAL - i : SLOT - 7;
		for (size_t j = 0; j < k; j++)
			e[m++] = data[i + j] ^ (uint8_t)(i + j);
		memset(e + m, 0x77, 7);
		m += 7;
	}
	return m;
}

static void
test_spipe__run_prepares_before_the_digest(void **state)
{
	static uint8_t want_out[TOTAL + TOTAL / (SLOT - 7) * 7 + 7];
	size_t m = prepared_stream(want_out), len;
	uint8_t want[32], got[32], *back;

	(void)state;
	assert_int_equal(coffer_sha256(want_out, m, want), 0);
	/* c 0-7: to the end, rings of 2 and 4, the helper reading or not,
	 * writing or not; c 8, 9: the preparer fails at its 7th call */
	for (int c = 0; c < 10; c++) {
		struct coffer_hash *h = NULL;
		struct coffer_spipe *p = NULL;
		struct prep x = { .fail_at = c >= 8 ? 7 : 0 };
		struct coffer_spipe_job job = { .produce = prep_produce,
		    .prepare = prepare, .arg = &x,
		    .helper_produces = c & 1 };
		int out = memfd_create("spipe-prep", MFD_CLOEXEC);

		assert_true(out >= 0);
		x.s.caller = pthread_self();
		assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
		assert_int_equal(coffer_spipe_new(h, out, (c >> 1) & 1, SLOT,
		    c & 4 ? 4 : 2, &p), 0);
		if (c < 8) {
			assert_int_equal(coffer_spipe_run(p, &job), 0);
			assert_int_equal(coffer_spipe_end(p), 0);
			/* the digest and the output are of the prepared bytes */
			assert_int_equal(coffer_hash_final(h, got, 32), 0);
			assert_memory_equal(got, want, 32);
			assert_int_equal(x.off, TOTAL);
		} else {
			assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_LIMIT);
			assert_non_null(strstr(coffer_errdetail(), "call 7"));
			assert_int_equal(x.calls, 7);
			m = 6 * SLOT; /* at most the 6 batches before */
		}
		back = read_back(out, &len);
		assert_true(len <= m);
		assert_int_equal(coffer_spipe_written(p), len);
		assert_memory_equal(back, want_out, len);
		if (c < 8)
			assert_int_equal(len, m);
		if (!(c & 1))
			assert_int_equal(x.s.on_helper, 0);
		free(back);
		coffer_spipe_free(p);
		coffer_hash_free(h);
		close(out);
	}
}

/* A helper still inside the producer when the caller's preparer fails:
 * the caller produces batch 0 and prepares it, failing once the helper
 * is inside the producer for batch 1, which returns 50 ms later. */
struct late {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t caller;
	int in_produce, produce_over;
};

static int
late_produce(void *arg, uint8_t *buf, size_t *n, int *last)
{
	struct late *l = arg;

	memset(buf, 1, 100);
	*n = 100;
	*last = 0;
	if (pthread_equal(pthread_self(), l->caller))
		return 0;
	pthread_mutex_lock(&l->mu);
	l->in_produce = 1;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	usleep(50000);
	pthread_mutex_lock(&l->mu);
	l->produce_over = 1;
	pthread_mutex_unlock(&l->mu);
	*last = 1;
	return 0;
}

static int
late_prepare(void *arg, uint8_t *buf, size_t *n)
{
	struct late *l = arg;

	(void)buf;
	(void)n;
	assert_true(pthread_equal(pthread_self(), l->caller));
	pthread_mutex_lock(&l->mu);
	while (!l->in_produce)
		pthread_cond_wait(&l->cv, &l->mu);
	pthread_mutex_unlock(&l->mu);
	return coffer_errf(COFFER_E_LIMIT, "prepare: test failure");
}

static void
test_spipe__run_returns_once_no_callback_is_under_way(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	struct late l = { .in_produce = 0 };
	struct coffer_spipe_job job = { .produce = late_produce,
	    .prepare = late_prepare, .arg = &l, .helper_produces = 1 };
	int out = memfd_create("spipe-late", MFD_CLOEXEC);

	(void)state;
	assert_true(out >= 0);
	assert_int_equal(pthread_mutex_init(&l.mu, NULL), 0);
	assert_int_equal(pthread_cond_init(&l.cv, NULL), 0);
	l.caller = pthread_self();
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(h, out, 1, SLOT, 4, &p), 0);
	assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_LIMIT);
	/* the helper's producer returned before _run did: the job (here on
	 * this stack, as seal's) may go */
	pthread_mutex_lock(&l.mu);
	assert_int_equal(l.produce_over, 1);
	pthread_mutex_unlock(&l.mu);
	coffer_spipe_free(p);
	coffer_hash_free(h);
	pthread_cond_destroy(&l.cv);
	pthread_mutex_destroy(&l.mu);
	close(out);
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
		struct coffer_spipe_job job = { .produce = both_produce,
		    .transform = both_transform, .arg = &b,
		    .helper_produces = c & 1, .ahead = c >= 4 ? 2 : 0 };
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

static void
test_spipe__to_a_pipe_the_caller_writes_each_batch_before_the_next(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	struct src s = { 0 };
	struct coffer_spipe_job job = { .produce = produce, .arg = &s };
	int fds[2];

	(void)state;
	/* The helper neither reads nor writes (helper_produces and
	 * helper_writes 0, as for pipes): the caller writes each batch
	 * before it produces the next, so a reader waiting for that batch
	 * gets it. produce() checks that every byte before the batch it is
	 * asked for has already reached the pipe. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	s.caller = pthread_self();
	s.check_fd = fds[0];
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(h, fds[1], 0, SLOT, 3, &p), 0);
	s.stop = 5 * (SLOT - 7);
	assert_int_equal(coffer_spipe_run(p, &job), 0);
	assert_int_equal(coffer_spipe_end(p), 0);
	assert_int_equal(s.on_helper, 0);
	assert_int_equal(s.seen, s.stop - (SLOT - 7)); /* all but the last */
	assert_int_equal(coffer_spipe_written(p), s.stop);
	coffer_spipe_free(p);
	coffer_hash_free(h);
	close(fds[0]);
	close(fds[1]);
}

/* A transform that gives a piece outside its batch. */
static int
transform_outside(void *arg, uint8_t *buf, size_t n, struct iovec *v,
    int *cnt)
{
	(void)arg;
	v[0].iov_base = buf + n;
	v[0].iov_len = SLOT;
	*cnt = 1;
	return 0;
}

static void
test_spipe__refuses_bad_rings_runs_and_pieces(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	struct src s = { 0 };
	struct coffer_spipe_job job = { .arg = &s };
	int out = memfd_create("spipe-bad", MFD_CLOEXEC);

	(void)state;
	assert_true(out >= 0);
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(h, 1, 0, SLOT, 1, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new(h, 1, 0, SLOT, 17, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new(h, 1, 0, 0, 4, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new(NULL, 1, 0, SLOT, 4, &p),
	    COFFER_E_INVAL);
	assert_null(p);
	/* no producer */
	assert_int_equal(coffer_spipe_new(h, out, 1, SLOT, 3, &p), 0);
	assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_STATE);
	/* a piece outside its batch ends the run, before it is written */
	s.caller = pthread_self();
	job.produce = produce;
	job.transform = transform_outside;
	assert_int_equal(coffer_spipe_run(p, &job), COFFER_E_INTERNAL);
	assert_int_equal(coffer_spipe_written(p), 0);
	coffer_spipe_free(p);
	/* a preparer that overflows its slot ends the run, before a write */
	{
		struct prep x = { .grow = 8 };
		struct coffer_spipe_job pj = { .produce = prep_produce,
		    .prepare = prepare, .arg = &x };

		x.s.caller = pthread_self();
		assert_int_equal(coffer_spipe_new(h, out, 1, SLOT, 3, &p), 0);
		assert_int_equal(coffer_spipe_run(p, &pj), COFFER_E_INTERNAL);
		assert_non_null(strstr(coffer_errdetail(), "batch of"));
		assert_int_equal(coffer_spipe_written(p), 0);
		coffer_spipe_free(p);
	}
	/* freed with the helper never asked for anything */
	assert_int_equal(coffer_spipe_new(h, out, 1, SLOT, 3, &p), 0);
	coffer_spipe_free(p);
	coffer_spipe_free(NULL);
	coffer_hash_free(h);
	close(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spipe__run_produces_hashes_and_writes_in_order),
		cmocka_unit_test(test_spipe__run_stops_at_the_first_error),
		cmocka_unit_test(test_spipe__run_prepares_before_the_digest),
		cmocka_unit_test(test_spipe__run_returns_once_no_callback_is_under_way),
		cmocka_unit_test(test_spipe__run_transforms_after_the_digest),
		cmocka_unit_test(test_spipe__to_a_pipe_the_caller_writes_each_batch_before_the_next),
		cmocka_unit_test(test_spipe__refuses_bad_rings_runs_and_pieces),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
