// SPDX-License-Identifier: Apache-2.0
// Unit tests for the sealed format (src/crypto/sealed*.c) against
// doc/format/sealed.md: round trips, every tampering of section 7 with its
// error class, random access, streaming through fds and pipes, and the
// key schedule recomputed independently with OpenSSL.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "coffer/error.h"
#include "crypto/datakey.h"
#include "crypto/hash.h"
#include "crypto/sealed.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/random.h"

#define C4K 4096u
#define F4K (C4K + 16u)
#define HDR COFFER_SEALED_HEADER_LEN
#define BIG ((size_t)512 << 20)

static uint8_t key1[32], key2[32];

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++) {
		key1[i] = (uint8_t)i;
		key2[i] = (uint8_t)(0x80 + i);
	}
	return 0;
}

static uint8_t *
random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n > 0)
		assert_int_equal(coffer_random(p, n), 0);
	return p;
}

static void
seal_c(const uint8_t *key, const uint8_t *pt, size_t n, uint32_t c, int suite,
    struct coffer_buf *out, struct coffer_sealed_info *info)
{
	struct coffer_sealed_opts o = { suite, c, 0 };

	coffer_buf_reset(out);
	assert_int_equal(coffer_sealed_seal_mem(key, &o, pt, n, out, info), 0);
}

/* Open in memory; on failure the output buffer must be untouched. */
static int
open_m(const uint8_t *key, const uint8_t *s, size_t n, struct coffer_buf *pt,
    struct coffer_sealed_info *info)
{
	size_t before;
	int r;

	coffer_buf_reset(pt);
	before = pt->len;
	r = coffer_sealed_open_mem(key, s, n, pt, info);
	if (r != 0)
		assert_int_equal(pt->len, before);
	return r;
}

static int
memfd_with(const uint8_t *p, size_t n)
{
	int fd = memfd_create("sealed-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(coffer_write_all(fd, p, n), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void
read_back(int fd, struct coffer_buf *b)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *p;
	size_t got;

	assert_true(end >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	coffer_buf_reset(b);
	assert_int_equal(coffer_buf_reserve(b, (size_t)end, &p), 0);
	assert_int_equal(coffer_read_full(fd, p, (size_t)end, &got), 0);
	assert_int_equal(got, (size_t)end);
	coffer_buf_commit(b, got);
}

static void
check_info(const struct coffer_sealed_info *in, size_t p, uint32_t c,
    const uint8_t *sealed, size_t slen)
{
	uint8_t d[32];
	uint64_t n = p / c + 1;

	assert_int_equal(in->version, 1);
	assert_int_equal(in->chunk_size, c);
	assert_int_equal(in->plaintext_size, p);
	assert_int_equal(in->chunks, n);
	assert_int_equal(in->sealed_size, HDR + p + 16 * n);
	assert_int_equal(in->sealed_size, slen);
	assert_true(in->has_digest);
	assert_int_equal(coffer_sha256(sealed, slen, d), 0);
	assert_memory_equal(in->digest, d, 32);
}

/* ------------------------------------------------------------------ */

static void
test_sealed__round_trips_sizes_around_chunk_boundaries(void **state)
{
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si, oi;
	const uint32_t cs[] = { C4K, COFFER_SEALED_CHUNK_DEFAULT };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		uint32_t c = cs[k];
		const size_t sizes[] = { 0, 1, c - 1, c, c + 1, 2 * c, 3 * c + 7 };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint8_t *p = random_bytes(sizes[i]);

			seal_c(key1, p, sizes[i], c, 0, &s, &si);
			check_info(&si, sizes[i], c, s.data, s.len);
			assert_int_equal(open_m(key1, s.data, s.len, &pt, &oi), 0);
			assert_int_equal(pt.len, sizes[i]);
			if (sizes[i] > 0)
				assert_memory_equal(pt.data, p, sizes[i]);
			check_info(&oi, sizes[i], c, s.data, s.len);
			assert_memory_equal(oi.digest, si.digest, 32);
			free(p);
		}
	}
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

static void
test_sealed__round_trips_10mib_through_fds(void **state)
{
	const size_t n = (size_t)10 << 20;
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si, oi, ii;
	uint8_t *p = random_bytes(n);
	uint64_t written = 0;
	int in = memfd_with(p, n), mid = memfd_create("s", 0), out = memfd_create("o", 0);

	(void)state;
	assert_true(mid >= 0 && out >= 0);
	assert_int_equal(coffer_sealed_seal_fd(key1, NULL, in, mid, &si), 0);
	read_back(mid, &s);
	check_info(&si, n, COFFER_SEALED_CHUNK_DEFAULT, s.data, s.len);
	assert_int_equal(lseek(mid, 0, SEEK_SET), 0);
	assert_int_equal(coffer_sealed_open_fd(key1, NULL, mid, out, &oi, &written), 0);
	assert_int_equal(written, n);
	read_back(out, &pt);
	assert_int_equal(pt.len, n);
	assert_memory_equal(pt.data, p, n);
	assert_memory_equal(oi.digest, si.digest, 32);
	/* inspect needs no key and computes the same digest and layout */
	assert_int_equal(lseek(mid, 0, SEEK_SET), 0);
	assert_int_equal(coffer_sealed_inspect_fd(mid, &ii), 0);
	assert_memory_equal(ii.digest, si.digest, 32);
	assert_int_equal(ii.chunks, si.chunks);
	assert_int_equal(ii.plaintext_size, n);
	assert_memory_equal(ii.key_id, si.key_id, 16);
	/* the in-memory reader accepts what the fd writer produced */
	assert_int_equal(open_m(key1, s.data, s.len, &pt, &oi), 0);
	assert_memory_equal(pt.data, p, n);
	close(in);
	close(mid);
	close(out);
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

/* Fork a child that writes p[0..n) into a pipe and exits; returns the
 * read end. */
static int
pipe_from(const uint8_t *p, size_t n, pid_t *pid)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		close(fds[0]);
		_exit(coffer_write_all(fds[1], p, n) == 0 ? 0 : 1);
	}
	close(fds[1]);
	return fds[0];
}

static void
test_sealed__streams_from_pipes(void **state)
{
	const size_t n = 300000; /* more than a pipe buffer */
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si, oi;
	uint8_t *p = random_bytes(n);
	int mid = memfd_create("s", 0), out = memfd_create("o", 0), in, st;
	pid_t pid;

	(void)state;
	in = pipe_from(p, n, &pid);
	assert_int_equal(coffer_sealed_seal_fd(key1, NULL, in, mid, &si), 0);
	close(in);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	read_back(mid, &s);
	check_info(&si, n, COFFER_SEALED_CHUNK_DEFAULT, s.data, s.len);

	in = pipe_from(s.data, s.len, &pid);
	assert_int_equal(coffer_sealed_open_fd(key1, NULL, in, out, &oi, NULL), 0);
	close(in);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	read_back(out, &pt);
	assert_int_equal(pt.len, n);
	assert_memory_equal(pt.data, p, n);
	assert_memory_equal(oi.digest, si.digest, 32);
	close(mid);
	close(out);
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

static void
test_sealed__chacha20_poly1305_suite_round_trips(void **state)
{
	struct coffer_buf s = COFFER_BUF_INIT(BIG), s2 = COFFER_BUF_INIT(BIG);
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si, oi;
	uint8_t *p = random_bytes(3 * C4K + 9);

	(void)state;
	seal_c(key1, p, 3 * C4K + 9, C4K, COFFER_SEALED_CHACHA20POLY1305, &s, &si);
	assert_int_equal(si.suite, 2);
	assert_int_equal(s.data[9], 2);
	assert_int_equal(open_m(key1, s.data, s.len, &pt, &oi), 0);
	assert_int_equal(oi.suite, 2);
	assert_memory_equal(pt.data, p, 3 * C4K + 9);
	/* The suite byte is bound: relabelling a ChaCha file as AES fails. */
	s.data[9] = 1;
	assert_int_equal(open_m(key1, s.data, s.len, &pt, NULL), COFFER_E_AUTH);
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&s2);
	coffer_buf_release(&pt);
}

/* The error class section 6 prescribes for a header byte changed to v. */
static int
expected_for_header_change(const uint8_t *orig, size_t off, uint8_t v)
{
	uint8_t h[HDR];
	uint32_t c;

	if (off < 8)
		return COFFER_E_FORMAT;
	if (off == 8)
		return COFFER_E_VERSION;
	if (off == 9)
		return coffer_sealed_suite_name(v) != NULL ? COFFER_E_AUTH :
		    COFFER_E_UNSUPPORTED;
	if (off < 12)
		return COFFER_E_FORMAT;
	if (off < 16) {
		memcpy(h, orig, HDR);
		h[off] = v;
		c = (uint32_t)h[12] << 24 | (uint32_t)h[13] << 16 |
		    (uint32_t)h[14] << 8 | h[15];
		return c >= 4096 && c <= (1u << 24) && (c & (c - 1)) == 0 ?
		    COFFER_E_AUTH : COFFER_E_FORMAT;
	}
	return COFFER_E_AUTH; /* key id (commitment still matches), salt, commitment */
}

static void
test_sealed__every_byte_flip_is_detected_with_its_class(void **state)
{
	const size_t n = 2 * C4K + 100;
	const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si;
	uint8_t *p = random_bytes(n), *t;
	size_t fails = 0;

	(void)state;
	seal_c(key1, p, n, C4K, 0, &s, &si);
	assert_int_equal(s.len, HDR + n + 3 * 16);
	t = malloc(s.len);
	assert_non_null(t);
	for (size_t m = 0; m < sizeof(masks); m++) {
		for (size_t off = 0; off < s.len; off++) {
			int want, got;

			memcpy(t, s.data, s.len);
			t[off] ^= masks[m];
			want = off < HDR ?
			    expected_for_header_change(s.data, off, t[off]) :
			    COFFER_E_AUTH;
			got = open_m(key1, t, s.len, &pt, NULL);
			if (got != want) {
				fails++;
				print_message("# offset %zu mask %02x: got %d (%s), "
				    "want %d\n", off, masks[m], got,
				    coffer_errdetail(), want);
			}
		}
	}
	assert_int_equal(fails, 0);
	/* The key id case says what happened. */
	memcpy(t, s.data, s.len);
	t[20] ^= 1;
	assert_int_equal(open_m(key1, t, s.len, &pt, NULL), COFFER_E_AUTH);
	assert_non_null(strstr(coffer_errdetail(), "key id field is damaged"));
	free(t);
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

static void
test_sealed__rejects_truncation_at_every_length(void **state)
{
	const size_t n = 2 * C4K + 100;
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	uint8_t *p = random_bytes(n);
	size_t fails = 0, boundaries = 0;

	(void)state;
	seal_c(key1, p, n, C4K, 0, &s, NULL);
	for (size_t len = 0; len < s.len; len++) {
		size_t rem = len >= HDR ? (len - HDR) % F4K : 0;
		int want, got;

		if (len < HDR || rem < 16)
			want = COFFER_E_TRUNCATED; /* includes every chunk boundary */
		else
			want = COFFER_E_AUTH;
		if (len >= HDR && rem == 0)
			boundaries++;
		got = open_m(key1, s.data, len, &pt, NULL);
		if (got != want) {
			fails++;
			print_message("# length %zu: got %d (%s), want %d\n", len, got,
			    coffer_errdetail(), want);
		}
	}
	assert_int_equal(boundaries, 3); /* after the header, chunk 0, chunk 1 */
	assert_int_equal(fails, 0);
	/* The chunk-boundary case says so. */
	assert_int_equal(open_m(key1, s.data, HDR + 2 * F4K, &pt, NULL),
	    COFFER_E_TRUNCATED);
	assert_non_null(strstr(coffer_errdetail(), "chunk boundary"));
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

static void
test_sealed__rejects_truncation_through_fds(void **state)
{
	const size_t n = 2 * C4K + 100;
	struct coffer_buf s = COFFER_BUF_INIT(BIG);
	uint8_t *p = random_bytes(n);
	const size_t cuts[] = { 0, 50, HDR, HDR + F4K, HDR + 2 * F4K,
	    HDR + F4K + 7, HDR + F4K + 70, HDR + 2 * F4K + 20 };
	const int want[] = { COFFER_E_TRUNCATED, COFFER_E_TRUNCATED,
	    COFFER_E_TRUNCATED, COFFER_E_TRUNCATED, COFFER_E_TRUNCATED,
	    COFFER_E_TRUNCATED, COFFER_E_AUTH, COFFER_E_AUTH };

	(void)state;
	seal_c(key1, p, n, C4K, 0, &s, NULL);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		int in = memfd_with(s.data, cuts[i]), out = memfd_create("o", 0);
		uint64_t written = 99;

		assert_int_equal(coffer_sealed_open_fd(key1, NULL, in, out, NULL, &written),
		    want[i]);
		/* Only whole verified chunks ever reached the output. */
		assert_int_equal(written % C4K, 0);
		assert_int_equal(lseek(out, 0, SEEK_END), (off_t)written);
		close(in);
		close(out);
	}
	free(p);
	coffer_buf_release(&s);
}

/* ------------------------------------------------------------------ */
/* The fd paths on one and on two threads (opts.threads, sealed.h): the
 * same bytes, the same digest, the same verdicts, and verified chunks
 * only, whichever runs. */

static const struct coffer_sealed_opts one_thread = { 0, C4K, 1 };
static const struct coffer_sealed_opts two_threads = { 0, C4K, 2 };

/* Seal p[0..n) through fds with opts; the sealed bytes into *s. */
static void
seal_fd_with(const struct coffer_sealed_opts *o, const uint8_t *p, size_t n,
    struct coffer_buf *s, struct coffer_sealed_info *si)
{
	int in = memfd_with(p, n), out = memfd_create("s", 0);

	assert_true(out >= 0);
	assert_int_equal(coffer_sealed_seal_fd(key1, o, in, out, si), 0);
	assert_int_equal(si->threads, o->threads);
	read_back(out, s);
	close(in);
	close(out);
}

/* Open s[0..len) through fds with opts: the result, the bytes written
 * (into *pt) and *written. */
static int
open_fd_with(const struct coffer_sealed_opts *o, const uint8_t *s, size_t len,
    struct coffer_buf *pt, struct coffer_sealed_info *oi, uint64_t *written)
{
	int in = memfd_with(s, len), out = memfd_create("o", 0), r;

	assert_true(out >= 0);
	r = coffer_sealed_open_fd(key1, o, in, out, oi, written);
	read_back(out, pt);
	close(in);
	close(out);
	return r;
}

static void
test_sealed__two_threads_seal_and_open_the_same_format(void **state)
{
	/* 4 KiB chunks: batches of 16 chunks, a ring of 4 batches, so 100
	 * chunks wrap it; the other sizes are the boundary cases of a chunk,
	 * a batch (16 * C4K: an empty last chunk alone in the next batch) and
	 * the ring (64 chunks) */
	const size_t sizes[] = { 0, 1, C4K - 1, C4K, C4K + 1, 16 * C4K - 1,
	    16 * C4K, 17 * C4K + 5, 32 * C4K, 64 * C4K, 100 * C4K + 7 };
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_buf pt2 = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si, oi, oi2;
	uint64_t w1 = 0, w2 = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = random_bytes(sizes[i]);

		/* sealed on two threads: the layout of section 2, the digest of
		 * the bytes written */
		seal_fd_with(&two_threads, p, sizes[i], &s, &si);
		check_info(&si, sizes[i], C4K, s.data, s.len);
		/* opened on one and on two threads, and in memory */
		assert_int_equal(open_fd_with(&one_thread, s.data, s.len, &pt, &oi,
		    &w1), 0);
		assert_int_equal(open_fd_with(&two_threads, s.data, s.len, &pt2,
		    &oi2, &w2), 0);
		assert_int_equal(oi.threads, 1);
		assert_int_equal(oi2.threads, 2);
		assert_int_equal(w1, sizes[i]);
		assert_int_equal(w2, sizes[i]);
		assert_int_equal(pt2.len, sizes[i]);
		if (sizes[i] > 0) {
			assert_memory_equal(pt.data, p, sizes[i]);
			assert_memory_equal(pt2.data, p, sizes[i]);
		}
		check_info(&oi2, sizes[i], C4K, s.data, s.len);
		assert_memory_equal(oi2.digest, si.digest, 32);
		assert_memory_equal(oi.digest, si.digest, 32);
		assert_int_equal(open_m(key1, s.data, s.len, &pt, &oi), 0);
		/* sealed on one thread: opened on two */
		seal_fd_with(&one_thread, p, sizes[i], &s, &si);
		check_info(&si, sizes[i], C4K, s.data, s.len);
		assert_int_equal(open_fd_with(&two_threads, s.data, s.len, &pt2,
		    &oi2, &w2), 0);
		assert_memory_equal(oi2.digest, si.digest, 32);
		free(p);
	}
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
	coffer_buf_release(&pt2);
}

static void
test_sealed__two_threads_stop_at_a_tampered_chunk(void **state)
{
	const size_t n = 40 * C4K + 123;
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_buf pt2 = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si;
	uint8_t *p = random_bytes(n);
	const size_t bad[] = { 0, 5, 17, 39, 40 }; /* 40: the last chunk */

	(void)state;
	seal_fd_with(&two_threads, p, n, &s, &si);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t w1 = 99, w2 = 99;

		s.data[HDR + bad[i] * F4K + 3] ^= 0x20;
		assert_int_equal(open_fd_with(&two_threads, s.data, s.len, &pt2,
		    NULL, &w2), COFFER_E_AUTH);
		assert_non_null(strstr(coffer_errdetail(), "authentication failed"));
		assert_int_equal(open_fd_with(&one_thread, s.data, s.len, &pt, NULL,
		    &w1), COFFER_E_AUTH);
		/* exactly the chunks before the bad one reached the output, and
		 * they are the plaintext: nothing of the bad chunk or after */
		assert_int_equal(w2, bad[i] * C4K);
		assert_int_equal(w1, w2);
		assert_int_equal(pt2.len, w2);
		if (w2 > 0)
			assert_memory_equal(pt2.data, p, w2);
		s.data[HDR + bad[i] * F4K + 3] ^= 0x20;
	}
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
	coffer_buf_release(&pt2);
}

static void
test_sealed__two_threads_reject_truncation_as_one_does(void **state)
{
	const size_t n = 20 * C4K + 100;
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si;
	uint8_t *p = random_bytes(n);
	const size_t cuts[] = { 0, 50, HDR, HDR + F4K, HDR + 19 * F4K,
	    HDR + 20 * F4K, HDR + 7 * F4K + 9, HDR + 7 * F4K + 300,
	    HDR + 20 * F4K + 20 };
	const int want[] = { COFFER_E_TRUNCATED, COFFER_E_TRUNCATED,
	    COFFER_E_TRUNCATED, COFFER_E_TRUNCATED, COFFER_E_TRUNCATED,
	    COFFER_E_TRUNCATED, COFFER_E_TRUNCATED, COFFER_E_AUTH, COFFER_E_AUTH };

	(void)state;
	seal_fd_with(&one_thread, p, n, &s, &si);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		uint64_t w1 = 99, w2 = 99;

		assert_int_equal(open_fd_with(&two_threads, s.data, cuts[i], &pt,
		    NULL, &w2), want[i]);
		assert_int_equal(w2 % C4K, 0);
		assert_int_equal(pt.len, w2);
		assert_int_equal(open_fd_with(&one_thread, s.data, cuts[i], &pt,
		    NULL, &w1), want[i]);
		assert_int_equal(w1, w2);
	}
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

static void
test_sealed__two_threads_give_up_on_a_pipe_that_stays_open(void **state)
{
	const size_t n = 40 * C4K;
	struct coffer_buf s = COFFER_BUF_INIT(BIG);
	struct coffer_sealed_info si;
	uint8_t *p = random_bytes(n);
	uint64_t w = 99;
	int fds[2], out = memfd_create("o", 0);

	(void)state;
	/* Chunk 1 is tampered with and the writer of the pipe stays, idle:
	 * the reading thread waits for more while the caller fails on chunk
	 * 1; the open must return (the reader is cancelled), not hang. */
	seal_fd_with(&one_thread, p, n, &s, &si);
	s.data[HDR + F4K + 9] ^= 1;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(coffer_write_all(fds[1], s.data, HDR + 4 * F4K), 0);
	assert_int_equal(coffer_sealed_open_fd(key1, &two_threads, fds[0], out,
	    NULL, &w), COFFER_E_AUTH);
	assert_int_equal(w, C4K);
	close(fds[0]);
	close(fds[1]);
	close(out);
	free(p);
	coffer_buf_release(&s);
}

static void
test_sealed__two_threads_report_read_and_write_errors(void **state)
{
	const size_t n = 30 * C4K;
	struct coffer_buf s = COFFER_BUF_INIT(BIG);
	struct coffer_sealed_info si;
	uint8_t *p = random_bytes(n);
	int in, full, dir;
	uint64_t w = 99;

	(void)state;
	seal_fd_with(&one_thread, p, n, &s, &si);
	full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(full >= 0 && dir >= 0);
	for (int t = 1; t <= 2; t++) {
		const struct coffer_sealed_opts *o = t == 1 ? &one_thread :
		    &two_threads;

		/* the output cannot be written (ENOSPC): seal and open fail */
		in = memfd_with(p, n);
		assert_int_equal(coffer_sealed_seal_fd(key1, o, in, full, &si),
		    COFFER_E_IO);
		close(in);
		in = memfd_with(s.data, s.len);
		assert_int_equal(coffer_sealed_open_fd(key1, o, in, full, NULL, &w),
		    COFFER_E_IO);
		assert_int_equal(w, 0);
		close(in);
		/* the input cannot be read (EISDIR) */
		assert_int_equal(coffer_sealed_seal_fd(key1, o, dir, full, &si),
		    COFFER_E_IO);
		assert_int_equal(coffer_sealed_open_fd(key1, o, dir, full, NULL, &w),
		    COFFER_E_IO);
	}
	close(full);
	close(dir);
	free(p);
	coffer_buf_release(&s);
}

/* A pipe whose reader, a child process, copies everything into the
 * memfd *sink (shared with this process), so that the output is not a
 * regular file and the helper thread does not write. */
static int
pipe_to(int *sink, pid_t *pid)
{
	uint8_t b[4096];
	size_t got = sizeof(b);
	int fds[2];

	*sink = memfd_create("sealed-sink", MFD_CLOEXEC);
	assert_true(*sink >= 0);
	assert_int_equal(pipe(fds), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		close(fds[1]);
		while (got == sizeof(b))
			if (coffer_read_full(fds[0], b, sizeof(b), &got) != 0 ||
			    coffer_write_all(*sink, b, got) != 0)
				_exit(1);
		_exit(0);
	}
	close(fds[0]);
	return fds[1];
}

/* Seal (open = 0) or open data[0..n) from a regular file or a pipe
 * (in_pipe) to a regular file or a pipe (out_pipe) on `threads`; the
 * output into *res, the bytes written into *w (open). */
static int
run_fd(int open, int in_pipe, int out_pipe, int threads, const uint8_t *data,
    size_t n, struct coffer_buf *res, struct coffer_sealed_info *info,
    uint64_t *w)
{
	struct coffer_sealed_opts o = { 0, C4K, threads };
	int sink = -1, in, out, r, st;
	pid_t pid = 0, feeder = 0;

	in = in_pipe ? pipe_from(data, n, &feeder) : memfd_with(data, n);

	out = out_pipe ? pipe_to(&sink, &pid) : memfd_create("o", MFD_CLOEXEC);
	assert_true(out >= 0);
	r = open ? coffer_sealed_open_fd(key1, &o, in, out, info, w) :
	    coffer_sealed_seal_fd(key1, &o, in, out, info);
	if (out_pipe) {
		close(out);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		out = sink;
	}
	read_back(out, res);
	close(out);
	close(in);
	if (in_pipe)
		assert_int_equal(waitpid(feeder, &st, 0), feeder);
	return r;
}

static void
test_sealed__files_and_pipes_give_the_same_bytes(void **state)
{
	/* From a regular file a batch holds 16 chunks of 4 KiB; from a pipe,
	 * one; to a regular file both threads write, to a pipe the caller
	 * alone. Every combination seals to the same layout and opens to the
	 * same bytes, digest and verdict, a tampered chunk included. */
	const size_t sizes[] = { 0, C4K, 16 * C4K, 33 * C4K + 5 };
	struct coffer_buf s = COFFER_BUF_INIT(BIG);
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si, oi;
	uint64_t w;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = random_bytes(sizes[i]);

		for (int c = 0; c < 8; c++) {
			int ip = c & 1, op = (c >> 1) & 1, t = 1 + (c >> 2);

			assert_int_equal(run_fd(0, ip, op, t, p, sizes[i], &s, &si,
			    NULL), 0);
			check_info(&si, sizes[i], C4K, s.data, s.len);
			/* opened the other way round, and on the other count */
			assert_int_equal(run_fd(1, !ip, !op, 3 - t, s.data, s.len,
			    &pt, &oi, &w), 0);
			assert_int_equal(w, sizes[i]);
			assert_int_equal(pt.len, sizes[i]);
			if (sizes[i] > 0)
				assert_memory_equal(pt.data, p, sizes[i]);
			assert_memory_equal(oi.digest, si.digest, 32);
			if (sizes[i] < 20 * C4K)
				continue;
			/* chunk 18, in the second batch from a file */
			s.data[HDR + 18 * F4K + 5] ^= 1;
			assert_int_equal(run_fd(1, ip, op, t, s.data, s.len, &pt, NULL,
			    &w), COFFER_E_AUTH);
			assert_int_equal(w, 18 * C4K);
			assert_int_equal(pt.len, 18 * C4K);
			assert_memory_equal(pt.data, p, 18 * C4K);
		}
		free(p);
	}
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

/* Fork a child that writes p[0..n) into a pipe in pieces of 1 to 3000
 * bytes, so that the reader meets short reads; returns the read end. */
static int
pipe_dribbling(const uint8_t *p, size_t n, pid_t *pid)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		size_t off = 0, k;

		close(fds[0]);
		for (unsigned i = 1; off < n; off += k, i = i * 7 % 3001) {
			k = n - off < i ? n - off : i;
			if (coffer_write_all(fds[1], p + off, k) != 0)
				_exit(1);
			if (i % 5 == 0)
				sched_yield();
		}
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

static void
test_sealed__fd_paths_write_the_bytes_of_memory_for_one_salt(void **state)
{
	/* Whatever reads the input (a batch of up to 16 chunks per readv(2)
	 * from a regular file; one chunk from a pipe, in short reads) and
	 * whichever thread count runs, the sealed bytes are those that
	 * coffer_sealed_seal_mem_salted makes for the same salt. */
	const size_t sizes[] = { 0, 1, 15 * C4K + 1, 16 * C4K, 16 * C4K + 7,
	    47 * C4K + 3 };
	struct coffer_buf s = COFFER_BUF_INIT(BIG), m = COFFER_BUF_INIT(BIG);
	struct coffer_sealed_info si, mi;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = random_bytes(sizes[i]);

		for (int c = 0; c < 4; c++) {
			struct coffer_sealed_opts o = { 0, C4K, 1 + (c & 1) };
			int in, out = memfd_create("o", MFD_CLOEXEC), st;
			pid_t pid = 0;

			in = c & 2 ? pipe_dribbling(p, sizes[i], &pid) :
			    memfd_with(p, sizes[i]);
			assert_true(out >= 0);
			assert_int_equal(coffer_sealed_seal_fd(key1, &o, in, out, &si),
			    0);
			assert_int_equal(si.threads, o.threads);
			if (c & 2) {
				assert_int_equal(waitpid(pid, &st, 0), pid);
				assert_int_equal(st, 0);
			}
			read_back(out, &s);
			close(in);
			close(out);
			coffer_buf_reset(&m);
			assert_int_equal(coffer_sealed_seal_mem_salted(key1, &o,
			    s.data + 32, p, sizes[i], &m, &mi), 0);
			assert_int_equal(s.len, m.len);
			assert_memory_equal(s.data, m.data, m.len);
			assert_memory_equal(si.digest, mi.digest, 32);
		}
		free(p);
	}
	coffer_buf_release(&s);
	coffer_buf_release(&m);
}

struct grower {
	int fd;          /* appends to the file being sealed */
	const uint8_t *p;
	size_t from, to; /* appends p[from..to) */
};

static void *
grow(void *arg)
{
	struct grower *g = arg;

	for (size_t off = g->from; off < g->to; off += 3 * C4K + 5) {
		size_t k = g->to - off < 3 * C4K + 5 ? g->to - off : 3 * C4K + 5;

		if (coffer_write_all(g->fd, g->p + off, k) != 0)
			return (void *)1;
		sched_yield();
	}
	return NULL;
}

static void
test_sealed__seals_a_prefix_of_a_file_that_grows_meanwhile(void **state)
{
	/* Another writer appends to the input while it is sealed: the output
	 * is a valid sealed file of what was read, a prefix of the final
	 * content at least as long as the file was at the start, whatever
	 * the interleaving. */
	const size_t start = 20 * C4K + 9, end = 400 * C4K + 11;
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si, oi;
	uint8_t *p = random_bytes(end);
	char path[64];

	(void)state;
	for (int t = 1; t <= 2; t++) {
		struct coffer_sealed_opts o = { 0, C4K, t };
		struct grower g = { -1, p, start, end };
		int in = memfd_with(p, start), out = memfd_create("o", MFD_CLOEXEC);
		pthread_t th;
		void *res;

		/* a second open file description: its own offset, appending */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", in);
		g.fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		assert_true(g.fd >= 0 && out >= 0);
		assert_int_equal(pthread_create(&th, NULL, grow, &g), 0);
		assert_int_equal(coffer_sealed_seal_fd(key1, &o, in, out, &si), 0);
		assert_int_equal(pthread_join(th, &res), 0);
		assert_null(res);
		read_back(out, &s);
		check_info(&si, (size_t)si.plaintext_size, C4K, s.data, s.len);
		assert_true(si.plaintext_size >= start && si.plaintext_size <= end);
		assert_int_equal(open_m(key1, s.data, s.len, &pt, &oi), 0);
		assert_int_equal(pt.len, si.plaintext_size);
		assert_memory_equal(pt.data, p, pt.len);
		close(g.fd);
		close(in);
		close(out);
	}
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

static void
test_sealed__report_write_errors_on_a_regular_file(void **state)
{
	/* To a regular file the second thread writes too: a write that fails
	 * there, at once (a descriptor not open for writing) or in the middle
	 * (the file size limit, EFBIG), fails seal and open with COFFER_E_IO on
	 * either thread count. */
	const size_t n = 300 * C4K;
	struct coffer_buf s = COFFER_BUF_INIT(BIG);
	struct coffer_sealed_info si;
	struct rlimit old, lim;
	uint8_t *p = random_bytes(n);
	void (*oldh)(int);
	char path[64];
	uint64_t w;

	(void)state;
	seal_fd_with(&one_thread, p, n, &s, &si);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	oldh = signal(SIGXFSZ, SIG_IGN);
	for (int c = 0; c < 4; c++) {
		struct coffer_sealed_opts o = { 0, C4K, 1 + (c & 1) };
		int in = memfd_with(p, n), in2 = memfd_with(s.data, s.len), ro;
		int out = memfd_create("o", MFD_CLOEXEC);

		/* the inputs first: the size limit applies to every file */
		assert_true(out >= 0);
		if (c & 2) {
			ro = out;
			lim = old;
			lim.rlim_cur = 100 * C4K + 123;
			assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
		} else {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", out);
			ro = open(path, O_RDONLY | O_CLOEXEC);
			assert_true(ro >= 0);
		}
		assert_int_equal(coffer_sealed_seal_fd(key1, &o, in, ro, &si),
		    COFFER_E_IO);
		assert_non_null(strstr(coffer_errdetail(), "write"));
		assert_int_equal(ftruncate(out, 0), 0);
		assert_int_equal(lseek(out, 0, SEEK_SET), 0);
		w = 0;
		assert_int_equal(coffer_sealed_open_fd(key1, &o, in2, ro, NULL, &w),
		    COFFER_E_IO);
		assert_non_null(strstr(coffer_errdetail(), "write"));
		assert_true(w <= 100 * C4K + 123);
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
		if (ro != out)
			close(ro);
		close(in);
		close(in2);
		close(out);
	}
	signal(SIGXFSZ, oldh);
	free(p);
	coffer_buf_release(&s);
}

static void
test_sealed__rejects_reordered_and_duplicated_chunks(void **state)
{
	const size_t n = 3 * C4K + 100;
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	uint8_t *p = random_bytes(n), *t, *c0, *c1;

	(void)state;
	seal_c(key1, p, n, C4K, 0, &s, NULL);
	t = malloc(s.len);
	assert_non_null(t);
	c0 = t + HDR;
	c1 = t + HDR + F4K;
	/* swap chunks 0 and 1 */
	memcpy(t, s.data, s.len);
	memcpy(c0, s.data + HDR + F4K, F4K);
	memcpy(c1, s.data + HDR, F4K);
	assert_int_equal(open_m(key1, t, s.len, &pt, NULL), COFFER_E_AUTH);
	assert_non_null(strstr(coffer_errdetail(), "chunk 0"));
	/* chunk 0 duplicated over chunk 1 */
	memcpy(t, s.data, s.len);
	memcpy(c1, s.data + HDR, F4K);
	assert_int_equal(open_m(key1, t, s.len, &pt, NULL), COFFER_E_AUTH);
	assert_non_null(strstr(coffer_errdetail(), "chunk 1"));
	/* a chunk dropped from the middle (the file shrinks by one chunk) */
	memcpy(t, s.data, HDR + F4K);
	memcpy(t + HDR + F4K, s.data + HDR + 2 * F4K, s.len - HDR - 2 * F4K);
	assert_int_equal(open_m(key1, t, s.len - F4K, &pt, NULL), COFFER_E_AUTH);
	/* the original still opens */
	assert_int_equal(open_m(key1, s.data, s.len, &pt, NULL), 0);
	free(t);
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

static void
test_sealed__rejects_chunks_and_headers_from_another_file(void **state)
{
	const size_t n = 2 * C4K + 100;
	struct coffer_buf a = COFFER_BUF_INIT(BIG), b = COFFER_BUF_INIT(BIG);
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info ai, bi, oi;
	uint8_t *p = random_bytes(n), *t;

	(void)state;
	/* Same key, same plaintext, same size: only the salt differs. */
	seal_c(key1, p, n, C4K, 0, &a, &ai);
	seal_c(key1, p, n, C4K, 0, &b, &bi);
	assert_int_equal(a.len, b.len);
	t = malloc(a.len);
	assert_non_null(t);
	for (size_t i = 0; i < 3; i++) {
		size_t off = HDR + i * F4K, len = i < 2 ? F4K : a.len - off;

		memcpy(t, a.data, a.len);
		memcpy(t + off, b.data + off, len);
		assert_int_equal(open_m(key1, t, a.len, &pt, NULL), COFFER_E_AUTH);
	}
	/* b's header on a's chunks: the header verifies, the chunks do not */
	memcpy(t, a.data, a.len);
	memcpy(t, b.data, HDR);
	assert_int_equal(open_m(key1, t, a.len, &pt, NULL), COFFER_E_AUTH);
	assert_non_null(strstr(coffer_errdetail(), "chunk 0"));
	/*
	 * Section 7: a whole file swapped for another valid file under the
	 * same key opens (a reader cannot tell), but its digest differs, which
	 * is what receipts pin.
	 */
	assert_int_equal(open_m(key1, b.data, b.len, &pt, &oi), 0);
	assert_memory_equal(pt.data, p, n);
	assert_memory_equal(oi.digest, bi.digest, 32);
	assert_memory_not_equal(oi.digest, ai.digest, 32);
	free(t);
	free(p);
	coffer_buf_release(&a);
	coffer_buf_release(&b);
	coffer_buf_release(&pt);
}

static void
test_sealed__rejects_extension(void **state)
{
	const size_t n = 2 * C4K + 100;
	struct coffer_buf s = COFFER_BUF_INIT(BIG), o = COFFER_BUF_INIT(BIG);
	struct coffer_buf t = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	uint8_t *p = random_bytes(n);
	static const uint8_t zeros[F4K];

	(void)state;
	seal_c(key1, p, n, C4K, 0, &s, NULL);
	seal_c(key1, p, C4K + 5, C4K, 0, &o, NULL);
	/* one byte, a tag's worth of zeros, a full chunk of this file, and the
	 * last chunk of another file under the same key */
	const struct { const uint8_t *p; size_t n; } ext[] = {
		{ zeros, 1 }, { zeros, 16 }, { s.data + HDR, F4K },
		{ o.data + HDR + F4K, o.len - HDR - F4K }, { zeros, F4K },
	};
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		int r;

		coffer_buf_reset(&t);
		assert_int_equal(coffer_buf_put(&t, s.data, s.len), 0);
		assert_int_equal(coffer_buf_put(&t, ext[i].p, ext[i].n), 0);
		r = open_m(key1, t.data, t.len, &pt, NULL);
		assert_true(r == COFFER_E_AUTH || r == COFFER_E_TRUNCATED);
	}
	/* A file ending in an empty last chunk, extended by a valid chunk. */
	seal_c(key1, p, 2 * C4K, C4K, 0, &s, NULL);
	assert_int_equal(s.len, HDR + 2 * F4K + 16);
	coffer_buf_reset(&t);
	assert_int_equal(coffer_buf_put(&t, s.data, s.len), 0);
	assert_int_equal(coffer_buf_put(&t, s.data + HDR + 2 * F4K, 16), 0);
	assert_int_equal(open_m(key1, t.data, t.len, &pt, NULL), COFFER_E_AUTH);
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&o);
	coffer_buf_release(&t);
	coffer_buf_release(&pt);
}

static void
test_sealed__reports_wrong_key_as_wrong_key(void **state)
{
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info si;
	uint8_t id1[16], id2[16];
	char h1[33], h2[33];
	int in, out;
	uint8_t *p = random_bytes(5000);

	(void)state;
	seal_c(key1, p, 5000, C4K, 0, &s, &si);
	assert_int_equal(coffer_datakey_id(key1, id1), 0);
	assert_int_equal(coffer_datakey_id(key2, id2), 0);
	assert_memory_equal(si.key_id, id1, 16);
	assert_int_equal(open_m(key2, s.data, s.len, &pt, NULL), COFFER_E_WRONG_KEY);
	coffer_hex_encode(id1, 16, h1);
	coffer_hex_encode(id2, 16, h2);
	assert_non_null(strstr(coffer_errdetail(), h1));
	assert_non_null(strstr(coffer_errdetail(), h2));
	in = memfd_with(s.data, s.len);
	out = memfd_create("o", 0);
	assert_int_equal(coffer_sealed_open_fd(key2, NULL, in, out, NULL, NULL),
	    COFFER_E_WRONG_KEY);
	assert_int_equal(lseek(out, 0, SEEK_END), 0);
	close(in);
	close(out);
	free(p);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

static void
test_sealed__random_access_opens_each_chunk_alone(void **state)
{
	const size_t n = 5 * C4K + 1234;
	struct coffer_buf s = COFFER_BUF_INIT(BIG);
	uint8_t *p = random_bytes(n), out[C4K];
	struct coffer_sealed_file *f = NULL;
	const struct coffer_sealed_info *fi;
	size_t got;
	int fd;
	const size_t k = 2;

	(void)state;
	seal_c(key1, p, n, C4K, 0, &s, NULL);
	fd = memfd_with(s.data, s.len);
	assert_int_equal(coffer_sealed_file_new(key1, fd, &f), 0);
	fi = coffer_sealed_file_info(f);
	assert_int_equal(fi->chunks, 6);
	assert_int_equal(fi->plaintext_size, n);
	/* backwards, so no chunk is read after its predecessor */
	for (size_t i = 6; i-- > 0;) {
		size_t want = i < 5 ? C4K : 1234;

		assert_int_equal(coffer_sealed_file_chunk(f, i, out, sizeof(out),
		    &got), 0);
		assert_int_equal(got, want);
		assert_memory_equal(out, p + i * C4K, want);
	}
	assert_int_equal(coffer_sealed_file_chunk(f, 6, out, sizeof(out), &got),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_sealed_file_chunk(f, 0, out, 100, &got),
	    COFFER_E_INVAL);
	coffer_sealed_file_free(f);
	f = NULL;

	/* Tamper with chunk k on disk: k fails, every other chunk opens. */
	assert_int_equal(pwrite(fd, "\x42", 1, HDR + k * F4K + 77), 1);
	assert_int_equal(coffer_sealed_file_new(key1, fd, &f), 0);
	for (size_t i = 0; i < 6; i++) {
		int r = coffer_sealed_file_chunk(f, i, out, sizeof(out), &got);

		if (i == k) {
			assert_int_equal(r, COFFER_E_AUTH);
		} else {
			assert_int_equal(r, 0);
			assert_memory_equal(out, p + i * C4K, got);
		}
	}
	coffer_sealed_file_free(f);
	/* wrong key, and a non-regular file */
	assert_int_equal(coffer_sealed_file_new(key2, fd, &f), COFFER_E_WRONG_KEY);
	close(fd);
	{
		int fds[2];

		assert_int_equal(pipe(fds), 0);
		assert_int_equal(coffer_sealed_file_new(key1, fds[0], &f), COFFER_E_IO);
		close(fds[0]);
		close(fds[1]);
	}
	free(p);
	coffer_buf_release(&s);
}

static void
test_sealed__random_access_checks_the_file_length(void **state)
{
	struct coffer_buf s = COFFER_BUF_INIT(BIG);
	uint8_t *p = random_bytes(2 * C4K);
	struct coffer_sealed_file *f = NULL;
	int fd;

	(void)state;
	seal_c(key1, p, 2 * C4K, C4K, 0, &s, NULL);
	/* cut the empty last chunk: ends at a chunk boundary */
	fd = memfd_with(s.data, s.len - 16);
	assert_int_equal(coffer_sealed_file_new(key1, fd, &f), COFFER_E_TRUNCATED);
	close(fd);
	fd = memfd_with(s.data, s.len - 3);
	assert_int_equal(coffer_sealed_file_new(key1, fd, &f), COFFER_E_TRUNCATED);
	close(fd);
	free(p);
	coffer_buf_release(&s);
}

static void
test_sealed__rejects_malformed_headers(void **state)
{
	struct coffer_buf s = COFFER_BUF_INIT(BIG), pt = COFFER_BUF_INIT_SECRET(BIG);
	struct coffer_sealed_info in;
	uint8_t t[HDR + 200];
	const uint32_t bad_sizes[] = { 0, 1, 2048, 4095, 4097, 6000, 1u << 25,
	    0xffffffffu, (1u << 24) + 1 };

	(void)state;
	seal_c(key1, (const uint8_t *)"hello", 5, C4K, 0, &s, NULL);
	assert_true(s.len <= sizeof(t));
#define TRY(want) do { \
		assert_int_equal(open_m(key1, t, s.len, &pt, NULL), want); \
		assert_int_equal(coffer_sealed_header_parse(t, s.len, &in), \
		    want == COFFER_E_AUTH ? 0 : want); \
	} while (0)
	memcpy(t, s.data, s.len);
	t[8] = 2;
	TRY(COFFER_E_VERSION);
	assert_non_null(strstr(coffer_errdetail(), "version 2"));
	memcpy(t, s.data, s.len);
	t[8] = 0;
	TRY(COFFER_E_VERSION);
	memcpy(t, s.data, s.len);
	t[10] = 1;
	TRY(COFFER_E_FORMAT);
	memcpy(t, s.data, s.len);
	t[11] = 0x80;
	TRY(COFFER_E_FORMAT);
	memcpy(t, s.data, s.len);
	t[9] = 0;
	TRY(COFFER_E_UNSUPPORTED);
	memcpy(t, s.data, s.len);
	t[9] = 3;
	TRY(COFFER_E_UNSUPPORTED);
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		memcpy(t, s.data, s.len);
		coffer_store_u32be(t + 12, bad_sizes[i]);
		TRY(COFFER_E_FORMAT);
	}
	memcpy(t, s.data, s.len);
	memcpy(t, "col1,col2\n1,2\n", 14);
	TRY(COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "not a Coffer sealed file"));
#undef TRY
	/* lengths: empty, part of the magic, the magic alone, a header alone */
	assert_int_equal(open_m(key1, s.data, 0, &pt, NULL), COFFER_E_TRUNCATED);
	assert_int_equal(open_m(key1, s.data, 5, &pt, NULL), COFFER_E_TRUNCATED);
	assert_int_equal(open_m(key1, (const uint8_t *)"PK\3\4", 4, &pt, NULL),
	    COFFER_E_FORMAT);
	assert_int_equal(open_m(key1, s.data, 8, &pt, NULL), COFFER_E_TRUNCATED);
	assert_int_equal(open_m(key1, s.data, 9, &pt, NULL), COFFER_E_TRUNCATED);
	assert_int_equal(open_m(key1, s.data, HDR - 1, &pt, NULL),
	    COFFER_E_TRUNCATED);
	assert_int_equal(open_m(key1, s.data, HDR, &pt, NULL), COFFER_E_TRUNCATED);
	assert_int_equal(coffer_sealed_header_parse(s.data, HDR, &in), 0);
	assert_int_equal(in.chunk_size, C4K);
	coffer_buf_release(&s);
	coffer_buf_release(&pt);
}

/* A kept key (struct coffer_sealed_key) writes and opens exactly what the
 * one-shot functions do, file after file, across suites and chunk sizes
 * (its contexts re-keyed, the cipher changed), and after every kind of
 * failure midway: a tampered file, another key's file, a damaged header,
 * a truncated file, refused options. */
static void
test_sealed__kept_key_matches_one_shot_over_many_files(void **state)
{
	static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 31000, 70000 };
	struct coffer_buf a = COFFER_BUF_INIT(1 << 20), b = COFFER_BUF_INIT(1 << 20),
	    pt = COFFER_BUF_INIT_SECRET(1 << 20), other = COFFER_BUF_INIT(1 << 20);
	struct coffer_sealed_info ia, ib;
	struct coffer_sealed_key *k = NULL;
	uint8_t *p = random_bytes(70000), salt[32];

	(void)state;
	assert_int_equal(coffer_sealed_key_new(key1, &k), 0);
	seal_c(key2, p, 100, C4K, 1, &other, NULL);
	for (int i = 0; i < 42; i++) {
		size_t n = sizes[i % 7];
		struct coffer_sealed_opts o = { 1 + (i / 7) % 2, i % 3 ? C4K : 0, 0 };

		assert_int_equal(coffer_random(salt, sizeof(salt)), 0);
		coffer_buf_reset(&a);
		coffer_buf_reset(&b);
		assert_int_equal(coffer_sealed_seal_mem_salted(key1, &o, salt, p, n,
		    &a, &ia), 0);
		assert_int_equal(coffer_sealed_key_seal_mem(k, &o, salt, p, n, &b,
		    &ib), 0);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
		assert_memory_equal(&ia, &ib, sizeof(ia));
		coffer_buf_reset(&pt);
		assert_int_equal(coffer_sealed_key_open_mem(k, b.data, b.len, &pt), 0);
		assert_int_equal(pt.len, n);
		if (n > 0)
			assert_memory_equal(pt.data, p, n);
		/* A failure of each kind, then the next file as if none. */
		coffer_buf_reset(&pt);
		switch (i % 6) {
		case 0:
			b.data[b.len - 1] ^= 1;
			assert_int_equal(coffer_sealed_key_open_mem(k, b.data, b.len,
			    &pt), COFFER_E_AUTH);
			break;
		case 1:
			assert_int_equal(coffer_sealed_key_open_mem(k, other.data,
			    other.len, &pt), COFFER_E_WRONG_KEY);
			break;
		case 2:
			b.data[40] ^= 1;   /* the salt */
			assert_int_equal(coffer_sealed_key_open_mem(k, b.data, b.len,
			    &pt), COFFER_E_AUTH);
			break;
		case 3:
			assert_int_equal(coffer_sealed_key_open_mem(k, b.data,
			    b.len - 1 - n % 5, &pt) != 0, 1);
			break;
		case 4:
			o.chunk_size = 1000;
			assert_int_equal(coffer_sealed_key_seal_mem(k, &o, salt, p, n,
			    &pt, NULL), COFFER_E_INVAL);
			break;
		case 5:
			assert_int_equal(coffer_sealed_key_open_mem(k, b.data, 50, &pt),
			    COFFER_E_TRUNCATED);
			break;
		}
		assert_int_equal(pt.len, 0);
	}
	coffer_sealed_key_free(k);
	coffer_sealed_key_free(NULL);
	free(p);
	coffer_buf_release(&a);
	coffer_buf_release(&b);
	coffer_buf_release(&pt);
	coffer_buf_release(&other);
}

static void
test_sealed__layout_follows_section_2(void **state)
{
	uint64_t n = 0, p = 0;
	const uint64_t F = F4K;

	(void)state;
	assert_int_equal(coffer_sealed_layout(C4K, HDR + 16, &n, &p), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p, 0);
	assert_int_equal(coffer_sealed_layout(C4K, HDR + F + 16, &n, &p), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p, C4K);
	assert_int_equal(coffer_sealed_layout(C4K, HDR + F + F - 1, &n, &p), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p, 2 * C4K - 1);
	assert_int_equal(coffer_sealed_layout(C4K, HDR + 2 * F, &n, &p),
	    COFFER_E_TRUNCATED);
	assert_int_equal(coffer_sealed_layout(C4K, HDR + F + 15, &n, &p),
	    COFFER_E_TRUNCATED);
	/* 2^32 chunks is the most there can be; one more is malformed */
	assert_int_equal(coffer_sealed_layout(C4K,
	    HDR + (((uint64_t)1 << 32) - 1) * F + 16, &n, &p), 0);
	assert_int_equal(n, (uint64_t)1 << 32);
	assert_int_equal(coffer_sealed_layout(C4K,
	    HDR + ((uint64_t)1 << 32) * F + 16, &n, &p), COFFER_E_FORMAT);
	assert_int_equal(coffer_sealed_layout(3000, HDR + 16, &n, &p),
	    COFFER_E_FORMAT);
}

static void
test_sealed__writer_and_reader_refuse_misuse(void **state)
{
	struct coffer_sealed_writer *w = NULL;
	struct coffer_sealed_reader *rd = NULL;
	struct coffer_sealed_info info;
	struct coffer_sealed_opts o = { 0, C4K, 0 };
	uint8_t buf[F4K + 1] = { 0 }, hdr[HDR];

	(void)state;
	o.chunk_size = 5000;
	assert_int_equal(coffer_sealed_writer_new(key1, &o, &w), COFFER_E_INVAL);
	o.chunk_size = 1u << 25;
	assert_int_equal(coffer_sealed_writer_new(key1, &o, &w), COFFER_E_INVAL);
	o.chunk_size = C4K;
	o.suite = 9;
	assert_int_equal(coffer_sealed_writer_new(key1, &o, &w),
	    COFFER_E_UNSUPPORTED);
	o.suite = 0;
	assert_int_equal(coffer_sealed_writer_new(key1, &o, &w), 0);
	memcpy(hdr, coffer_sealed_writer_header(w), HDR);
	assert_int_equal(coffer_sealed_writer_finish(w, &info), COFFER_E_STATE);
	assert_int_equal(coffer_sealed_writer_push(w, buf, C4K + 1, buf),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_sealed_writer_push(w, buf, C4K, buf), 0);
	assert_int_equal(coffer_sealed_writer_push(w, buf, 10, buf), 0);
	assert_int_equal(coffer_sealed_writer_push(w, buf, 10, buf), COFFER_E_STATE);
	assert_int_equal(coffer_sealed_writer_finish(w, &info), 0);
	assert_int_equal(info.chunks, 2);
	assert_int_equal(coffer_sealed_writer_finish(w, &info), COFFER_E_STATE);
	assert_non_null(strstr(coffer_errdetail(), "already finished"));
	coffer_sealed_writer_free(w);

	assert_int_equal(coffer_sealed_reader_new(key1, hdr, HDR, &rd), 0);
	assert_int_equal(coffer_sealed_reader_finish(rd, &info), COFFER_E_TRUNCATED);
	assert_int_equal(coffer_sealed_reader_pull(rd, buf, F4K + 1, buf),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_sealed_reader_chunk(rd, 3, 3, buf, 16, buf),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_sealed_reader_chunk(rd, 0, 3, buf, 100, buf),
	    COFFER_E_TRUNCATED);
	assert_int_equal(coffer_sealed_reader_chunk(rd, 2, 3, buf, F4K, buf),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_sealed_reader_pull(rd, buf, 15, buf),
	    COFFER_E_TRUNCATED);
	assert_int_equal(coffer_sealed_reader_pull(rd, buf, 16, buf), COFFER_E_STATE);
	coffer_sealed_reader_free(rd);
	coffer_sealed_writer_free(NULL);
	coffer_sealed_reader_free(NULL);
	coffer_sealed_file_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Section 4 and 5 recomputed with OpenSSL directly, not through Coffer. */

static void
hkdf(int mode, const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM ps[6], *q = ps;

	assert_non_null(ctx);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	if (salt != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, saltlen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm,
	    ikmlen);
	if (info != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		    (void *)info, infolen);
	*q = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_KDF_derive(ctx, out, outlen, ps), 1);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

/* Build a sealed file of one (last) chunk from scratch, per the spec. */
static size_t
reference_seal(const uint8_t key[32], const uint8_t salt[32], uint32_t c,
    const uint8_t *pt, size_t n, uint8_t *out)
{
	static const uint8_t magic[8] = { 0x89, 'C', 'O', 'F', 'F', 'E', 'R', 0x0a };
	uint8_t prk[32], kn[39], info[27 + 64], nonce[12];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l;

	memset(out, 0, HDR);
	memcpy(out, magic, 8);
	out[8] = 1;
	out[9] = 1;
	out[12] = (uint8_t)(c >> 24);
	out[13] = (uint8_t)(c >> 16);
	out[14] = (uint8_t)(c >> 8);
	out[15] = (uint8_t)c;
	hkdf(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, NULL, 0, key, 32,
	    (const uint8_t *)"coffer/v1/key-id", 16, out + 16, 16);
	memcpy(out + 32, salt, 32);
	hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, 32, key, 32, NULL, 0, prk, 32);
	memcpy(info, "coffer/v1/sealed/commitment", 27);
	memcpy(info + 27, out, 64);
	hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, prk, 32, info, 27 + 64,
	    out + 64, 32);
	memcpy(info, "coffer/v1/sealed/payload", 24);
	memcpy(info + 24, out, 64);
	hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, prk, 32, info, 24 + 64, kn, 39);
	memcpy(nonce, kn + 32, 7);
	memset(nonce + 7, 0, 4);   /* BE32(0) */
	nonce[11] = 1;             /* the last chunk */
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kn,
	    nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &l, out, HDR), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, out + HDR, &l, pt, (int)n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, out + HDR + n, &l), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
	    out + HDR + n), 1);
	EVP_CIPHER_CTX_free(ctx);
	return HDR + n + 16;
}

/* doc/format/sealed.md section 11: key 00..1f, salt 20..3f, C = 4096,
 * plaintext "coffer". */
static const char SPEC_VECTOR[] =
    "89434f464645520a01010000000010000365e1ebe93082f1a696d0198e9a8075"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "737458e2e3e2aa508a795896228779a3feb1f330a77657aeb79d8bd3c4e19ffd"
    "96deb2a318ed75bb3dfed13506260a4498d111dedb2b";

static void
test_sealed__matches_the_spec_vector(void **state)
{
	uint8_t salt[32], ref[HDR + 6 + 16], kid[16];
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(1024);
	struct coffer_buf s = COFFER_BUF_INIT(BIG), hexs = COFFER_BUF_INIT(4096);
	struct coffer_sealed_info oi;
	size_t n;

	(void)state;
	for (int i = 0; i < 32; i++)
		salt[i] = (uint8_t)(0x20 + i);
	n = reference_seal(key1, salt, C4K, (const uint8_t *)"coffer", 6, ref);
	/* the key id is the one of doc/format/identity.md section 5 */
	assert_int_equal(coffer_datakey_id(key1, kid), 0);
	assert_memory_equal(ref + 16, kid, 16);
	/* Coffer opens the independently built file ... */
	assert_int_equal(open_m(key1, ref, n, &pt, &oi), 0);
	assert_int_equal(pt.len, 6);
	assert_memory_equal(pt.data, "coffer", 6);
	/* ... which is, byte for byte, the vector printed in the spec */
	assert_int_equal(coffer_hex_put(&hexs, ref, n), 0);
	if (strcmp(SPEC_VECTOR, coffer_buf_str(&hexs)) != 0)
		print_message("# reference file: %s\n", coffer_buf_str(&hexs));
	assert_string_equal(SPEC_VECTOR, coffer_buf_str(&hexs));

	/* And a file Coffer sealed, re-derived from its own salt, matches the
	 * reference construction byte for byte. */
	seal_c(key1, (const uint8_t *)"coffer", 6, C4K, 0, &s, NULL);
	n = reference_seal(key1, s.data + 32, C4K, (const uint8_t *)"coffer", 6, ref);
	assert_int_equal(s.len, n);
	assert_memory_equal(s.data, ref, n);
	coffer_buf_release(&pt);
	coffer_buf_release(&s);
	coffer_buf_release(&hexs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sealed__round_trips_sizes_around_chunk_boundaries),
		cmocka_unit_test(test_sealed__round_trips_10mib_through_fds),
		cmocka_unit_test(test_sealed__streams_from_pipes),
		cmocka_unit_test(test_sealed__chacha20_poly1305_suite_round_trips),
		cmocka_unit_test(test_sealed__every_byte_flip_is_detected_with_its_class),
		cmocka_unit_test(test_sealed__rejects_truncation_at_every_length),
		cmocka_unit_test(test_sealed__rejects_truncation_through_fds),
		cmocka_unit_test(test_sealed__two_threads_seal_and_open_the_same_format),
		cmocka_unit_test(test_sealed__two_threads_stop_at_a_tampered_chunk),
		cmocka_unit_test(test_sealed__two_threads_reject_truncation_as_one_does),
		cmocka_unit_test(test_sealed__two_threads_give_up_on_a_pipe_that_stays_open),
		cmocka_unit_test(test_sealed__two_threads_report_read_and_write_errors),
		cmocka_unit_test(test_sealed__files_and_pipes_give_the_same_bytes),
		cmocka_unit_test(test_sealed__fd_paths_write_the_bytes_of_memory_for_one_salt),
		cmocka_unit_test(test_sealed__seals_a_prefix_of_a_file_that_grows_meanwhile),
		cmocka_unit_test(test_sealed__report_write_errors_on_a_regular_file),
		cmocka_unit_test(test_sealed__rejects_reordered_and_duplicated_chunks),
		cmocka_unit_test(test_sealed__rejects_chunks_and_headers_from_another_file),
		cmocka_unit_test(test_sealed__rejects_extension),
		cmocka_unit_test(test_sealed__reports_wrong_key_as_wrong_key),
		cmocka_unit_test(test_sealed__random_access_opens_each_chunk_alone),
		cmocka_unit_test(test_sealed__random_access_checks_the_file_length),
		cmocka_unit_test(test_sealed__rejects_malformed_headers),
		cmocka_unit_test(test_sealed__layout_follows_section_2),
		cmocka_unit_test(test_sealed__kept_key_matches_one_shot_over_many_files),
		cmocka_unit_test(test_sealed__writer_and_reader_refuse_misuse),
		cmocka_unit_test(test_sealed__matches_the_spec_vector),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
