// SPDX-License-Identifier: Apache-2.0
// The sealed format over file descriptors (crypto/sealed.h): streaming seal,
// open and inspect with one chunk-sized buffer, so memory stays constant
// whatever the file size, and random access to chunks through pread(2).
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/sealed_pipe.h"
#include "crypto/hash.h"
#include "crypto/sealed.h"
#include "lib/file.h"
#include "lib/mem.h"

#define FULL(c) ((size_t)(c) + COFFER_SEALED_TAG_LEN)

/* The ring of the two-thread path: about this many bytes, 2 to 16 chunks
 * (64 KiB chunks: 8). Enough to ride over a slow read or write without
 * stalling the digest, small next to the 8 MiB goal of `coffer seal`. */
#define RING_BYTES ((size_t)512 * 1024)

static size_t
ring_slots(size_t full)
{
	size_t n = RING_BYTES / full;

	return n < 2 ? 2 : n > 16 ? 16 : n;
}

/* opts->threads (sealed.h): 0 chooses 2 when there is a second CPU. */
static int
threads_of(const struct coffer_sealed_opts *opts)
{
	int t = opts != NULL ? opts->threads : 0;

	if (t == 1 || t == 2)
		return t;
	return coffer_spipe_useful() ? 2 : 1;
}

/*
 * The second thread (crypto/sealed_pipe.h) reads `in` in pieces of readsz
 * bytes and hashes, into a SHA-256 that has hashed hdr already. Returns
 * COFFER_E_INTERNAL if no thread could be started (nothing was read: the
 * caller does it all on its own thread).
 */
static int
pipe_start(enum coffer_spipe_mode mode, int in, const uint8_t *hdr,
    size_t full, size_t readsz, struct coffer_hash **h,
    struct coffer_spipe **p)
{
	int r;

	*h = NULL;
	*p = NULL;
	if ((r = coffer_hash_new(COFFER_HASH_SHA256, h)) != 0 ||
	    (r = coffer_hash_update(*h, hdr, COFFER_SEALED_HEADER_LEN)) != 0 ||
	    (r = coffer_spipe_new(mode, in, *h, full, readsz, ring_slots(full),
	    p)) != 0) {
		coffer_hash_free(*h);
		*h = NULL;
		return r;
	}
	return 0;
}

/* Wait for the second thread and put the digest in *res. */
static int
pipe_end(struct coffer_hash *h, struct coffer_spipe *p,
    struct coffer_sealed_info *res)
{
	int r;

	if ((r = coffer_spipe_end(p)) != 0 ||
	    (r = coffer_hash_final(h, res->digest, sizeof(res->digest))) != 0)
		return r;
	res->has_digest = 1;
	res->cpu_s[1] = coffer_spipe_cpu_s(p);
	return 0;
}

/* The next piece of input: from the second thread, or read here. */
static int
next_in(struct coffer_spipe *p, int in, uint8_t *own, size_t n,
    uint8_t **buf, size_t *got)
{
	if (p != NULL)
		return coffer_spipe_next(p, buf, got);
	*buf = own;
	return coffer_read_full(in, own, n, got);
}

int
coffer_sealed_seal_fd(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, int in, int out,
    struct coffer_sealed_info *info)
{
	struct coffer_sealed_writer *w = NULL;
	struct coffer_sealed_info res;
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	uint8_t *own = NULL, *buf;
	size_t c = 0, got;
	int r, threads = threads_of(opts);
	double cpu0 = coffer_spipe_thread_cpu_s();

	if ((r = coffer_sealed_writer_new(key, opts, &w)) != 0)
		return r;
	c = coffer_sealed_writer_chunk_size(w);
	if (threads == 2) {
		r = pipe_start(COFFER_SPIPE_SEAL, in, coffer_sealed_writer_header(w),
		    FULL(c), c, &h, &p);
		if (r == COFFER_E_INTERNAL)
			threads = 1;
		else if (r != 0)
			goto out;
		else
			coffer_sealed_writer_digest_elsewhere(w);
	}
	if (threads == 1 && (own = coffer_malloc(FULL(c))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "chunk buffer of %zu bytes", FULL(c));
		goto out;
	}
	if ((r = coffer_write_all(out, coffer_sealed_writer_header(w),
	    COFFER_SEALED_HEADER_LEN)) != 0)
		goto out;
	/* A chunk shorter than c is the last one (section 2): a read returns
	 * less than c only at end of input. Encrypt in place; the tag lands
	 * right after the ciphertext, so each chunk is one write. With two
	 * threads the other one read the chunk, and hashes it while it is
	 * written. */
	do {
		if ((r = next_in(p, in, own, c, &buf, &got)) != 0 ||
		    (r = coffer_sealed_writer_push(w, buf, got, buf)) != 0)
			goto out;
		if (p != NULL)
			coffer_spipe_done(p, got + COFFER_SEALED_TAG_LEN);
		r = coffer_write_all(out, buf, got + COFFER_SEALED_TAG_LEN);
		if (p != NULL)
			coffer_spipe_release(p);
		if (r != 0)
			goto out;
	} while (got == c);
	if ((r = coffer_sealed_writer_finish(w, &res)) != 0 ||
	    (p != NULL && (r = pipe_end(h, p, &res)) != 0))
		goto out;
	res.threads = threads;
	res.cpu_s[0] = coffer_spipe_thread_cpu_s() - cpu0;
	if (info != NULL)
		*info = res;
out:
	coffer_spipe_free(p); /* stops the thread first; wipes the ring */
	coffer_hash_free(h);
	if (own != NULL)
		coffer_free_secret(own, FULL(c));
	coffer_sealed_writer_free(w);
	return r;
}

int
coffer_sealed_open_fd(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, int in, int out,
    struct coffer_sealed_info *info, uint64_t *written)
{
	struct coffer_sealed_reader *rd = NULL;
	struct coffer_sealed_info res;
	struct coffer_hash *h = NULL;
	struct coffer_spipe *p = NULL;
	uint8_t hdr[COFFER_SEALED_HEADER_LEN], *buf, *pt = NULL;
	uint64_t done = 0;
	size_t full = 0, got;
	int r, threads = threads_of(opts);
	double cpu0 = coffer_spipe_thread_cpu_s();

	if ((r = coffer_read_full(in, hdr, sizeof(hdr), &got)) != 0 ||
	    (r = coffer_sealed_reader_new(key, hdr, got, &rd)) != 0)
		goto out;
	full = FULL(coffer_sealed_reader_info(rd)->chunk_size);
	if (threads == 2) {
		r = pipe_start(COFFER_SPIPE_OPEN, in, hdr, full, full, &h, &p);
		if (r == COFFER_E_INTERNAL)
			threads = 1;
		else if (r != 0)
			goto out;
		else
			coffer_sealed_reader_digest_elsewhere(rd);
	}
	/* One thread reads and decrypts in place in pt; two decrypt out of
	 * place, from the other thread's buffer, which it may be hashing. */
	if ((pt = coffer_malloc(full)) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "chunk buffer of %zu bytes", full);
		goto out;
	}
	/* A piece shorter than a full chunk is the last chunk; end of input
	 * right after a full chunk is caught by _finish (R9). Each chunk is
	 * written only after it verified (section 6.3); the other thread only
	 * reads and hashes sealed bytes. */
	for (;;) {
		if ((r = next_in(p, in, pt, full, &buf, &got)) != 0)
			goto out;
		if (got == 0) {
			if (p != NULL)
				coffer_spipe_release(p);
			break;
		}
		r = coffer_sealed_reader_pull(rd, buf, got, pt);
		if (p != NULL)
			coffer_spipe_release(p);
		if (r != 0 || (r = coffer_write_all(out, pt,
		    got - COFFER_SEALED_TAG_LEN)) != 0)
			goto out;
		done += got - COFFER_SEALED_TAG_LEN;
		if (got < full)
			break;
	}
	if ((r = coffer_sealed_reader_finish(rd, &res)) != 0 ||
	    (p != NULL && (r = pipe_end(h, p, &res)) != 0))
		goto out;
	res.threads = threads;
	res.cpu_s[0] = coffer_spipe_thread_cpu_s() - cpu0;
	if (info != NULL)
		*info = res;
out:
	if (written != NULL)
		*written = done;
	coffer_spipe_free(p);
	coffer_hash_free(h);
	if (pt != NULL)
		coffer_free_secret(pt, full);
	coffer_sealed_reader_free(rd);
	return r;
}

int
coffer_sealed_inspect_fd(int in, struct coffer_sealed_info *info)
{
	struct coffer_sealed_info res;
	struct coffer_hash *h = NULL;
	uint8_t hdr[COFFER_SEALED_HEADER_LEN], *buf = NULL;
	uint64_t total;
	size_t got, bufsz = 0;
	int r;

	if ((r = coffer_read_full(in, hdr, sizeof(hdr), &got)) != 0 ||
	    (r = coffer_sealed_header_parse(hdr, got, &res)) != 0)
		return r;
	bufsz = FULL(res.chunk_size);
	if ((buf = coffer_malloc(bufsz)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "buffer of %zu bytes", bufsz);
	if ((r = coffer_hash_new(COFFER_HASH_SHA256, &h)) != 0 ||
	    (r = coffer_hash_update(h, hdr, sizeof(hdr))) != 0)
		goto out;
	total = sizeof(hdr);
	do {
		if ((r = coffer_read_full(in, buf, bufsz, &got)) != 0 ||
		    (r = coffer_hash_update(h, buf, got)) != 0)
			goto out;
		total += got;
	} while (got == bufsz);
	if ((r = coffer_sealed_layout(res.chunk_size, total, &res.chunks,
	    &res.plaintext_size)) != 0 ||
	    (r = coffer_hash_final(h, res.digest, sizeof(res.digest))) != 0)
		goto out;
	res.sealed_size = total;
	res.has_digest = 1;
	*info = res;
out:
	coffer_hash_free(h);
	free(buf);
	return r;
}

/* ------------------------------------------------------------------ */
/* Random access. */

struct coffer_sealed_file {
	int fd;
	struct coffer_sealed_reader *rd;
	struct coffer_sealed_info info;
	uint64_t last_len;  /* bytes of the last chunk, tag included */
	uint8_t *buf;       /* one full chunk of ciphertext */
};

/* pread until n bytes or end of file. */
static int
pread_full(int fd, void *p, size_t n, uint64_t off, size_t *got)
{
	uint8_t *q = p;
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(fd, q + done, n - done, (off_t)(off + done));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return coffer_errf(COFFER_E_IO, "pread: %s", strerror(errno));
		}
		if (k == 0)
			break;
		done += (size_t)k;
	}
	*got = done;
	return 0;
}

int
coffer_sealed_file_new(const uint8_t key[COFFER_SEALED_KEY_LEN], int fd,
    struct coffer_sealed_file **out)
{
	struct coffer_sealed_file *f = NULL;
	uint8_t hdr[COFFER_SEALED_HEADER_LEN];
	struct stat st;
	size_t got;
	int r;

	if (fstat(fd, &st) != 0)
		return coffer_errf(COFFER_E_IO, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return coffer_errf(COFFER_E_IO,
		    "random access needs a regular file");
	if ((f = coffer_calloc(1, sizeof(*f))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "sealed file");
	f->fd = fd;
	if ((r = pread_full(fd, hdr, sizeof(hdr), 0, &got)) != 0 ||
	    (r = coffer_sealed_reader_new(key, hdr, got, &f->rd)) != 0)
		goto fail;
	f->info = *coffer_sealed_reader_info(f->rd);
	if ((r = coffer_sealed_layout(f->info.chunk_size, (uint64_t)st.st_size,
	    &f->info.chunks, &f->info.plaintext_size)) != 0)
		goto fail;
	f->info.sealed_size = (uint64_t)st.st_size;
	f->last_len = f->info.plaintext_size -
	    (f->info.chunks - 1) * f->info.chunk_size + COFFER_SEALED_TAG_LEN;
	if ((f->buf = coffer_malloc(FULL(f->info.chunk_size))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "chunk buffer");
		goto fail;
	}
	*out = f;
	return 0;
fail:
	coffer_sealed_file_free(f);
	return r;
}

const struct coffer_sealed_info *
coffer_sealed_file_info(const struct coffer_sealed_file *f)
{
	return &f->info;
}

int
coffer_sealed_file_chunk(struct coffer_sealed_file *f, uint64_t index,
    uint8_t *pt, size_t ptmax, size_t *ptlen)
{
	size_t full = FULL(f->info.chunk_size), n, got;
	int r;

	if (index >= f->info.chunks)
		return coffer_errf(COFFER_E_INVAL,
		    "chunk %llu does not exist (the file has %llu chunks)",
		    (unsigned long long)index,
		    (unsigned long long)f->info.chunks);
	n = index == f->info.chunks - 1 ? (size_t)f->last_len : full;
	if (ptmax < n - COFFER_SEALED_TAG_LEN)
		return coffer_errf(COFFER_E_INVAL,
		    "output of %zu bytes is too small for chunk %llu (%zu bytes)",
		    ptmax, (unsigned long long)index, n - COFFER_SEALED_TAG_LEN);
	if ((r = pread_full(f->fd, f->buf, n,
	    COFFER_SEALED_HEADER_LEN + index * (uint64_t)full, &got)) != 0)
		return r;
	if (got < n)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "chunk %llu: the file shrank (read %zu of %zu bytes)",
		    (unsigned long long)index, got, n);
	if ((r = coffer_sealed_reader_chunk(f->rd, index, f->info.chunks, f->buf,
	    n, pt)) != 0)
		return r;
	*ptlen = n - COFFER_SEALED_TAG_LEN;
	return 0;
}

void
coffer_sealed_file_free(struct coffer_sealed_file *f)
{
	if (f == NULL)
		return;
	coffer_sealed_reader_free(f->rd);
	free(f->buf);
	free(f);
}
