// SPDX-License-Identifier: Apache-2.0
// Unit tests for the two-thread pipeline of the sealed fd paths
// (src/crypto/sealed_pipe.c): the input comes back in order and in pieces,
// the digest is that of what was read (open) or of what the caller made of
// it (seal), whatever the ring size; read errors reach the caller; giving
// up while the thread waits on an idle pipe neither hangs nor leaks.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/sealed_pipe.h"
#include "lib/file.h"

#define TOTAL 300001
#define READSZ 1000
#define SLOT (READSZ + 16)

static uint8_t data[TOTAL], made[TOTAL + TOTAL / READSZ * 16 + 16];

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

static int
memfd_with(const uint8_t *p, size_t n)
{
	int fd = memfd_create("spipe-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(coffer_write_all(fd, p, n), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Run data through a pipe of nslots in mode; check the pieces; the
 * digest into out. Seal mode: the caller turns each piece of n bytes into
 * n + 16 bytes (xor 0x5a, then 16 bytes of n), as sealing does in place. */
static void
run_through(enum coffer_spipe_mode mode, size_t nslots, uint8_t out[32],
    size_t *madelen)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	size_t off = 0, got, m = 0;
	uint8_t *buf;
	int in = memfd_with(data, TOTAL);

	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(mode, in, h, SLOT, READSZ, nslots, &p),
	    0);
	do {
		assert_int_equal(coffer_spipe_next(p, &buf, &got), 0);
		assert_true(got <= READSZ);
		assert_memory_equal(buf, data + off, got);
		off += got;
		if (mode == COFFER_SPIPE_SEAL) {
			for (size_t i = 0; i < got; i++)
				buf[i] ^= 0x5a;
			memset(buf + got, (int)(got & 0xff), 16);
			memcpy(made + m, buf, got + 16);
			m += got + 16;
			coffer_spipe_done(p, got + 16);
		}
		coffer_spipe_release(p);
	} while (got == READSZ);
	assert_int_equal(off, TOTAL);
	/* nothing after the last piece */
	assert_int_equal(coffer_spipe_next(p, &buf, &got), COFFER_E_STATE);
	assert_int_equal(coffer_spipe_end(p), 0);
	assert_int_equal(coffer_hash_final(h, out, 32), 0);
	assert_true(coffer_spipe_cpu_s(p) >= 0);
	coffer_spipe_free(p);
	coffer_hash_free(h);
	close(in);
	*madelen = m;
}

static void
test_spipe__open_hashes_what_it_read_in_order(void **state)
{
	uint8_t want[32], got[32];
	const size_t rings[] = { 2, 3, 8, 64 };
	size_t m;

	(void)state;
	assert_int_equal(coffer_sha256(data, TOTAL, want), 0);
	for (size_t i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
		run_through(COFFER_SPIPE_OPEN, rings[i], got, &m);
		assert_memory_equal(got, want, 32);
	}
}

static void
test_spipe__seal_hashes_what_the_caller_made(void **state)
{
	uint8_t want[32], got[32];
	const size_t rings[] = { 2, 5, 16 };
	size_t m;

	(void)state;
	for (size_t i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
		run_through(COFFER_SPIPE_SEAL, rings[i], got, &m);
		assert_int_equal(m, TOTAL + (TOTAL / READSZ + 1) * 16);
		assert_int_equal(coffer_sha256(made, m, want), 0);
		assert_memory_equal(got, want, 32);
	}
}

static void
test_spipe__a_read_error_reaches_the_caller(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	int dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint8_t *buf;
	size_t got;

	(void)state;
	assert_true(dir >= 0);
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(COFFER_SPIPE_OPEN, dir, h, SLOT, READSZ,
	    4, &p), 0);
	assert_int_equal(coffer_spipe_next(p, &buf, &got), COFFER_E_IO);
	assert_non_null(strstr(coffer_errdetail(), "read"));
	coffer_spipe_free(p);
	coffer_hash_free(h);
	close(dir);
}

static void
test_spipe__giving_up_on_an_idle_pipe_returns(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	int fds[2];
	uint8_t *buf;
	size_t got;

	(void)state;
	/* Two pieces arrive, then the writer keeps the pipe open and idle:
	 * the thread waits in read(2) for the third. The caller takes one
	 * piece, gives up (as after a failed chunk), and _free must still
	 * return: the thread is cancelled in read(2). */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(coffer_write_all(fds[1], data, 2 * READSZ), 0);
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(COFFER_SPIPE_OPEN, fds[0], h, SLOT,
	    READSZ, 4, &p), 0);
	assert_int_equal(coffer_spipe_next(p, &buf, &got), 0);
	assert_int_equal(got, READSZ);
	coffer_spipe_free(p);
	coffer_hash_free(h);
	close(fds[0]);
	close(fds[1]);
}

static void
test_spipe__refuses_bad_rings(void **state)
{
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;

	(void)state;
	assert_int_equal(coffer_hash_new(COFFER_HASH_SHA256, &h), 0);
	assert_int_equal(coffer_spipe_new(COFFER_SPIPE_OPEN, 0, h, SLOT, READSZ,
	    1, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new(COFFER_SPIPE_OPEN, 0, h, SLOT, READSZ,
	    65, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new(COFFER_SPIPE_OPEN, 0, h, SLOT, SLOT + 1,
	    4, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new(COFFER_SPIPE_SEAL, 0, NULL, SLOT,
	    READSZ, 4, &p), COFFER_E_INVAL);
	assert_int_equal(coffer_spipe_new((enum coffer_spipe_mode)9, 0, h, SLOT,
	    READSZ, 4, &p), COFFER_E_INVAL);
	assert_null(p);
	coffer_spipe_free(NULL);
	coffer_hash_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spipe__open_hashes_what_it_read_in_order),
		cmocka_unit_test(test_spipe__seal_hashes_what_the_caller_made),
		cmocka_unit_test(test_spipe__a_read_error_reaches_the_caller),
		cmocka_unit_test(test_spipe__giving_up_on_an_idle_pipe_returns),
		cmocka_unit_test(test_spipe__refuses_bad_rings),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
