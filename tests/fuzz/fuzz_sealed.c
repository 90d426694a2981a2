// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the sealed format's reader (doc/format/sealed.md):
// the input is a sealed file opened with a fixed key (00 01 ... 1f, the
// key of the committed corpus) through every entry point: in memory, over
// fds, by inspect and by random access. They must agree, never crash and
// never leak; a short input is also sealed and opened back (round trip).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/sealed.h"
#include "lib/buf.h"
#include "lib/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define MAX_FD_INPUT ((size_t)1 << 20)
#define MAX_RA_CHUNKS 64
#define PIPE_INPUT ((size_t)60000) /* < the 64 KiB a pipe holds */

static uint8_t key[32];
/* A kept key (as a worker holds its job's), shared by every input: after
 * whatever the last input did to it, it must open this one as the
 * one-shot reader does. */
static struct coffer_sealed_key *kept;

static int
memfd_with(const uint8_t *p, size_t n)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(coffer_write_all(fd, p, n) == 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

static void
round_trip(const uint8_t *data, size_t size)
{
	struct coffer_buf s = COFFER_BUF_INIT((size_t)4 << 20);
	struct coffer_buf p = COFFER_BUF_INIT_SECRET((size_t)4 << 20);
	struct coffer_sealed_opts o = { size > 0 && (data[0] & 1) ? 2 : 1, 4096, 0 };
	struct coffer_sealed_info si, oi;

	CHECK(coffer_sealed_seal_mem(key, &o, data, size, &s, &si) == 0);
	CHECK(coffer_sealed_open_mem(key, s.data, s.len, &p, &oi) == 0);
	CHECK(p.len == size && (size == 0 || memcmp(p.data, data, size) == 0));
	CHECK(memcmp(si.digest, oi.digest, 32) == 0);
	CHECK(si.sealed_size == s.len && oi.plaintext_size == size);
	/* Sealed over fds (a batch of chunks per readv(2)) on one and on two
	 * threads: the bytes of seal_mem_salted for that file's salt. */
	for (int t = 1; t <= 2; t++) {
		struct coffer_sealed_opts f = { o.suite, o.chunk_size, t };
		int in = memfd_with(data, size), out = memfd_create("rt", MFD_CLOEXEC);
		uint8_t *b;
		size_t got;

		CHECK(out >= 0);
		CHECK(coffer_sealed_seal_fd(key, &f, in, out, &si) == 0);
		CHECK(si.threads == t);
		CHECK((b = malloc((size_t)si.sealed_size)) != NULL);
		CHECK(lseek(out, 0, SEEK_SET) == 0);
		CHECK(coffer_read_full(out, b, (size_t)si.sealed_size, &got) == 0);
		CHECK(got == si.sealed_size);
		coffer_buf_reset(&s);
		CHECK(coffer_sealed_seal_mem_salted(key, &o, b + 32, data, size, &s,
		    &oi) == 0);
		CHECK(s.len == got && memcmp(s.data, b, got) == 0);
		CHECK(memcmp(si.digest, oi.digest, 32) == 0);
		free(b);
		close(in);
		close(out);
	}
	coffer_buf_release(&s);
	coffer_buf_release_secret(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET((size_t)64 << 20);
	struct coffer_sealed_info hi, mi, ii, fi, fi2;
	struct coffer_sealed_opts one = { 0, 0, 1 }, two = { 0, 0, 2 };
	struct coffer_sealed_file *f = NULL;
	uint8_t d[32], *chunk = NULL;
	uint64_t chunks, psize, written, written2;
	int rm, rh, rl = -1, rf, rf2, ri, in, out;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;

	/* Header alone, and the framing it implies. */
	rh = coffer_sealed_header_parse(data, size, &hi);
	if (rh == 0)
		rl = coffer_sealed_layout(hi.chunk_size, size, &chunks, &psize);

	/* In memory: success means every invariant of section 2 and 8. */
	rm = coffer_sealed_open_mem(key, data, size, &pt, &mi);
	if (rm == 0) {
		CHECK(rh == 0 && rl == 0);
		CHECK(pt.len == mi.plaintext_size && mi.plaintext_size == psize);
		CHECK(mi.sealed_size == size && mi.chunks == chunks);
		CHECK(coffer_sha256(data, size, d) == 0);
		CHECK(memcmp(d, mi.digest, 32) == 0);
	} else {
		CHECK(pt.len == 0);
	}
	/* The kept key: the same verdict (error code) and plaintext. */
	if (kept == NULL)
		CHECK(coffer_sealed_key_new(key, &kept) == 0);
	{
		struct coffer_buf kp = COFFER_BUF_INIT_SECRET((size_t)64 << 20);
		int rk = coffer_sealed_key_open_mem(kept, data, size, &kp);

		CHECK(rk == rm && kp.len == pt.len);
		CHECK(kp.len == 0 || memcmp(kp.data, pt.data, kp.len) == 0);
		coffer_buf_release_secret(&kp);
	}
	if (size > MAX_FD_INPUT)
		goto out;

	/* Over fds: the same verdict and the same plaintext. */
	in = memfd_with(data, size);
	out = memfd_create("fuzz-out", MFD_CLOEXEC);
	CHECK(out >= 0);
	rf = coffer_sealed_open_fd(key, &one, in, out, &fi, &written);
	CHECK((rf == 0) == (rm == 0));
	CHECK(written <= size);
	if (rf == 0) {
		CHECK(written == pt.len);
		CHECK(memcmp(fi.digest, mi.digest, 32) == 0);
	}
	close(out);
	/* The two-thread path (the digest on a second thread): the same
	 * verdict, the same bytes written before a failure, the same digest. */
	CHECK(lseek(in, 0, SEEK_SET) == 0);
	out = memfd_create("fuzz-out2", MFD_CLOEXEC);
	CHECK(out >= 0);
	rf2 = coffer_sealed_open_fd(key, &two, in, out, &fi2, &written2);
	CHECK(rf2 == rf);
	CHECK(written2 == written);
	if (rf2 == 0) {
		CHECK(fi2.threads == 2 && fi.threads == 1);
		CHECK(memcmp(fi2.digest, fi.digest, 32) == 0);
	}
	close(out);
	/* From a pipe (one chunk per batch instead of several from a file):
	 * the same again. An input that fits in the pipe's buffer is written
	 * whole before the open reads it. */
	if (size <= PIPE_INPUT) {
		int fds[2];

		CHECK(pipe(fds) == 0);
		CHECK(coffer_write_all(fds[1], data, size) == 0);
		close(fds[1]);
		out = memfd_create("fuzz-out3", MFD_CLOEXEC);
		CHECK(out >= 0);
		CHECK(coffer_sealed_open_fd(key, &two, fds[0], out, &fi2,
		    &written2) == rf);
		CHECK(written2 == written);
		if (rf == 0)
			CHECK(memcmp(fi2.digest, fi.digest, 32) == 0);
		close(fds[0]);
		close(out);
	}

	/* inspect: structure only, so it accepts whatever open accepts. */
	CHECK(lseek(in, 0, SEEK_SET) == 0);
	ri = coffer_sealed_inspect_fd(in, &ii);
	CHECK((ri == 0) == (rh == 0 && rl == 0));
	if (rm == 0)
		CHECK(ri == 0 && memcmp(ii.digest, mi.digest, 32) == 0);

	/* Random access: each chunk that opens equals its slice. */
	if (coffer_sealed_file_new(key, in, &f) == 0) {
		const struct coffer_sealed_info *inf = coffer_sealed_file_info(f);
		size_t got;

		CHECK(rh == 0 && rl == 0 && inf->chunks == chunks);
		chunk = malloc(inf->chunk_size);
		CHECK(chunk != NULL);
		for (uint64_t i = 0; i < chunks && i < MAX_RA_CHUNKS; i++) {
			if (coffer_sealed_file_chunk(f, i, chunk, inf->chunk_size,
			    &got) != 0)
				continue;
			if (rm == 0)
				CHECK(memcmp(chunk, pt.data + i * inf->chunk_size,
				    got) == 0);
		}
		free(chunk);
		coffer_sealed_file_free(f);
	}
	close(in);

	/* The writer, on the input as plaintext. */
	if (size <= 65536)
		round_trip(data, size);
out:
	coffer_buf_release_secret(&pt);
	return 0;
}
