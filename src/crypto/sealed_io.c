// SPDX-License-Identifier: Apache-2.0
// The sealed format over file descriptors (crypto/sealed.h): streaming seal,
// open and inspect in constant memory whatever the file size, on one
// thread or two, and random access to chunks through pread(2).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/sealed_pipe.h"
#include "crypto/hash.h"
#include "crypto/sealed.h"
#include "lib/file.h"
#include "lib/mem.h"

#define FULL(c) ((size_t)(c) + COFFER_SEALED_TAG_LEN)

/* From a regular file, seal and open work on batches of whole chunks of
 * up to BATCH_BYTES of plaintext (64 KiB chunks: 4), each read and
 * written with one system call and handed between the threads as one:
 * fewer system calls and hand-overs (writing a new tmpfs file costs the
 * same per byte in writes of 64 KiB to 4 MiB, BENCHMARKS.md). The
 * two-thread path has a ring of such buffers of RING_BYTES of plaintext
 * (64 KiB chunks: 4 buffers), which keeps `coffer seal` under its 8 MiB
 * goal, and at least two (16 MiB chunks: 32 MiB). */
#define BATCH_BYTES ((size_t)256 * 1024)
#define RING_BYTES ((size_t)1024 * 1024)

/* opts->threads (sealed.h): 0 chooses 2 when there is a second CPU and
 * the input is not a regular file shorter than the ring, which one thread
 * is done with before a second would have started and filled its ring. */
static int
threads_of(const struct coffer_sealed_opts *opts, int in)
{
	int t = opts != NULL ? opts->threads : 0;
	struct stat st;

	if (t == 1 || t == 2)
		return t;
	if (fstat(in, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size < (off_t)RING_BYTES)
		return 1;
	return coffer_spipe_useful() ? 2 : 1;
}

static int
is_regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* Chunks of c bytes per batch: several from a regular file; one from
 * anything else, where waiting for a whole batch would hold back chunks
 * that have arrived (from a pipe whose writer waits for the output). */
static size_t
batch_of(int in, size_t c)
{
	size_t k = BATCH_BYTES / c;

	if (!is_regular(in) || k < 1)
		return 1;
	return k > COFFER_SPIPE_MAX_PIECES ? COFFER_SPIPE_MAX_PIECES : k;
}

/*
 * The helper thread (crypto/sealed_pipe.h) and a ring of batches of k
 * chunks of c bytes, with a SHA-256 that has hashed hdr already; it
 * writes to out only when out is a regular file. The ring holds
 * RING_BYTES of plaintext, 2 to 4 batches (their tags come on top:
 * counting them made it 3 batches of 64 KiB chunks, not the 4 intended,
 * and most sleeps left in a traced seal or open were a thread finding
 * that ring full while the other wrote). Returns
 * COFFER_E_INTERNAL if no thread could be started (the caller does it
 * all on its own thread).
 */
static int
pipe_start(int out, const uint8_t *hdr, size_t k, size_t c,
    struct coffer_hash **h, struct coffer_spipe **p)
{
	size_t n = RING_BYTES / (k * c);
	int r;

	*h = NULL;
	*p = NULL;
	if ((r = coffer_hash_new(COFFER_HASH_SHA256, h)) != 0 ||
	    (r = coffer_hash_update(*h, hdr, COFFER_SEALED_HEADER_LEN)) != 0 ||
	    (r = coffer_spipe_new(*h, out, is_regular(out), k * FULL(c),
	    n < 2 ? 2 : n > 4 ? 4 : n, p)) != 0) {
		coffer_hash_free(*h);
		*h = NULL;
		return r;
	}
	return 0;
}

/* After coffer_spipe_end: the digest and the helper's CPU time. */
static int
pipe_digest(struct coffer_hash *h, struct coffer_spipe *p,
    struct coffer_sealed_info *res)
{
	int r;

	if ((r = coffer_hash_final(h, res->digest, sizeof(res->digest))) != 0)
		return r;
	res->has_digest = 1;
	res->cpu_s[1] = coffer_spipe_cpu_s(p);
	return 0;
}

/*
 * Read up to k * c bytes into k pieces of c bytes, piece i at buf + i *
 * (c + 16), with as few system calls as the input allows (one readv(2)
 * per batch from a regular file), until every piece is full or the input
 * ends; *got is the bytes read, which fill the pieces in order.
 */
static int
read_pieces(int in, uint8_t *buf, size_t c, size_t k, size_t *got)
{
	struct iovec v[COFFER_SPIPE_MAX_PIECES];
	int first = 0, cnt = (int)k;
	ssize_t r;

	for (int i = 0; i < cnt; i++) {
		v[i].iov_base = buf + (size_t)i * FULL(c);
		v[i].iov_len = c;
	}
	*got = 0;
	while (first < cnt) {
		r = readv(in, v + first, cnt - first);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return coffer_errf(COFFER_E_IO, "read: %s", strerror(errno));
		}
		if (r == 0)
			break;
		*got += (size_t)r;
		coffer_spipe_iov_advance(v, cnt, &first, (size_t)r);
	}
	return 0;
}

/*
 * Read up to k chunks of plaintext into buf, each at its place in the
 * sealed layout (chunk i at i * (c + 16)): *got bytes, which fill the
 * chunks in order. Fewer than k * c is the input's end (*last = 1).
 */
static int
read_plain(struct coffer_sealed_writer *w, int in, uint8_t *buf, size_t k,
    size_t *got, int *last)
{
	size_t c = coffer_sealed_writer_chunk_size(w);
	int r;

	if ((r = read_pieces(in, buf, c, k, got)) != 0)
		return r;
	*last = *got < k * c;
	return 0;
}

/*
 * Seal in place the *n bytes of plaintext that read_plain put in buf (k
 * chunks at most): each tag lands right after its ciphertext, so
 * buf[0..*n) is then sealed bytes in file order. A chunk shorter than c
 * is the last one (section 2), sealed as such.
 */
static int
seal_plain(struct coffer_sealed_writer *w, uint8_t *buf, size_t k,
    size_t *n)
{
	size_t c = coffer_sealed_writer_chunk_size(w), got = *n, len, i;
	int r;

	for (i = 0, *n = 0, len = c; i < k && len == c; i++) {
		len = got - i * c < c ? got - i * c : c;
		if ((r = coffer_sealed_writer_push(w, buf + *n, len,
		    buf + *n)) != 0)
			return r;
		*n += len + COFFER_SEALED_TAG_LEN;
	}
	return 0;
}

struct seal_src {
	struct coffer_sealed_writer *w;
	int in;
	size_t k;
};

static int
seal_produce(void *arg, uint8_t *buf, size_t *n, int *last)
{
	struct seal_src *s = arg;

	return read_plain(s->w, s->in, buf, s->k, n, last);
}

static int
seal_prepare(void *arg, uint8_t *buf, size_t *n)
{
	struct seal_src *s = arg;

	return seal_plain(s->w, buf, s->k, n);
}

/* Seal on two threads: each reads the next batch, seals one, hashes or
 * writes one, whichever is due (from a pipe only this one reads). */
static int
seal_two(struct coffer_sealed_writer *w, struct coffer_spipe *p, int in,
    size_t k)
{
	struct seal_src s = { w, in, k };
	struct coffer_spipe_job job = {
		.produce = seal_produce,
		.prepare = seal_prepare,
		.arg = &s,
		.helper_produces = is_regular(in),
	};

	return coffer_spipe_run(p, &job);
}

/* Seal on one thread, a batch at a time in buf. */
static int
seal_one(struct coffer_sealed_writer *w, int in, int out, uint8_t *buf,
    size_t k)
{
	size_t n;
	int r, last = 0;

	while (!last)
		if ((r = read_plain(w, in, buf, k, &n, &last)) != 0 ||
		    (r = seal_plain(w, buf, k, &n)) != 0 ||
		    (r = coffer_write_all(out, buf, n)) != 0)
			return r;
	return 0;
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
	uint8_t *own = NULL;
	size_t bufsz = 0, k;
	int r, threads = threads_of(opts, in);
	double cpu0 = coffer_spipe_thread_cpu_s();

	if ((r = coffer_sealed_writer_new(key, opts, &w)) != 0)
		return r;
	k = batch_of(in, coffer_sealed_writer_chunk_size(w));
	bufsz = k * FULL(coffer_sealed_writer_chunk_size(w));
	if (threads == 2) {
		r = pipe_start(out, coffer_sealed_writer_header(w), k,
		    coffer_sealed_writer_chunk_size(w), &h, &p);
		if (r == COFFER_E_INTERNAL)
			threads = 1;
		else if (r != 0)
			goto out;
		else
			coffer_sealed_writer_digest_elsewhere(w);
	}
	if (threads == 1 && (own = coffer_malloc(bufsz)) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "buffer of %zu bytes", bufsz);
		goto out;
	}
	/* The header first: nothing was handed for writing yet. */
	if ((r = coffer_write_all(out, coffer_sealed_writer_header(w),
	    COFFER_SEALED_HEADER_LEN)) != 0 ||
	    (r = p != NULL ? seal_two(w, p, in, k) :
	    seal_one(w, in, out, own, k)) != 0 ||
	    (r = coffer_sealed_writer_finish(w, &res)) != 0 ||
	    (p != NULL && ((r = coffer_spipe_end(p)) != 0 ||
	    (r = pipe_digest(h, p, &res)) != 0)))
		goto out;
	res.threads = threads;
	res.cpu_s[0] = coffer_spipe_thread_cpu_s() - cpu0;
	if (info != NULL)
		*info = res;
out:
	coffer_spipe_free(p); /* stops the helper first; wipes the ring */
	coffer_hash_free(h);
	if (own != NULL)
		coffer_free_secret(own, bufsz);
	coffer_sealed_writer_free(w);
	return r;
}

/* Read up to k sealed chunks (full bytes each) into buf, in one read(2)
 * from a regular file; *n bytes were read. A batch shorter than k full
 * chunks is the input's end, and its last piece shorter than a full chunk
 * the last chunk (*last = 1); end of input right after a full chunk is
 * caught by _finish (R9). */
static int
read_batch(int in, uint8_t *buf, size_t k, size_t full, size_t *n,
    int *last)
{
	int r;

	if ((r = coffer_read_full(in, buf, k * full, n)) != 0)
		return r;
	*last = *n < k * full;
	return 0;
}

/*
 * Verify and decrypt in place each chunk of the n sealed bytes in buf,
 * stopping at the first that fails; v[0..*cnt) are the plaintexts of
 * those that verified, to be written even if one after them failed
 * (section 6.3), so that both paths leave the same output.
 */
static int
open_pieces(struct coffer_sealed_reader *rd, uint8_t *buf, size_t n,
    size_t full, struct iovec *v, int *cnt)
{
	size_t off, len;
	int r = 0;

	*cnt = 0;
	for (off = 0; r == 0 && off < n; off += len) {
		len = n - off < full ? n - off : full;
		if ((r = coffer_sealed_reader_pull(rd, buf + off, len,
		    buf + off)) == 0) {
			v[*cnt].iov_base = buf + off;
			v[(*cnt)++].iov_len = len - COFFER_SEALED_TAG_LEN;
		}
	}
	return r;
}

struct open_src {
	struct coffer_sealed_reader *rd;
	int in;
	size_t full, k;
};

static int
open_produce(void *arg, uint8_t *buf, size_t *n, int *last)
{
	struct open_src *s = arg;

	return read_batch(s->in, buf, s->k, s->full, n, last);
}

static int
open_transform(void *arg, uint8_t *buf, size_t n, struct iovec *v, int *cnt)
{
	struct open_src *s = arg;

	return open_pieces(s->rd, buf, n, s->full, v, cnt);
}

/*
 * Open on two threads: each reads the next batch, hashes one, verifies
 * and decrypts one once it is hashed, or writes one, whichever is due;
 * from a pipe only this thread reads, at most one batch ahead of those
 * verified (a chunk goes out once the next one arrived, as before a
 * failure that must not wait for input that may never come). Then wait
 * until everything is hashed and written (the chunks that verified before
 * a failure too, as one thread does).
 */
static int
open_two(struct coffer_sealed_reader *rd, struct coffer_spipe *p, int in,
    size_t full, size_t k)
{
	struct open_src s = { rd, in, full, k };
	struct coffer_spipe_job job = {
		.produce = open_produce,
		.transform = open_transform,
		.arg = &s,
		.helper_produces = is_regular(in),
		.ahead = is_regular(in) ? 0 : 2,
	};
	char detail[256];
	int r = coffer_spipe_run(p, &job);

	if (r == 0)
		return coffer_spipe_end(p);
	snprintf(detail, sizeof(detail), "%s", coffer_errdetail());
	if (coffer_spipe_end(p) != 0)
		r = coffer_errf(r, "%s", detail);
	return r;
}

/* Open on one thread, a batch at a time in buf. */
static int
open_one(struct coffer_sealed_reader *rd, int in, int out, uint8_t *buf,
    size_t full, size_t k, uint64_t *done)
{
	struct iovec v[COFFER_SPIPE_MAX_PIECES];
	uint64_t m;
	size_t n;
	int r, w, cnt, last = 0;

	while (!last) {
		if ((r = read_batch(in, buf, k, full, &n, &last)) != 0)
			return r;
		r = open_pieces(rd, buf, n, full, v, &cnt);
		w = coffer_spipe_writev(out, v, cnt, &m);
		*done += m;
		if (r != 0 || w != 0)
			return r != 0 ? r : w;
	}
	return 0;
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
	uint8_t hdr[COFFER_SEALED_HEADER_LEN], *own = NULL;
	uint64_t done = 0;
	size_t full = 0, got, k = 1, bufsz = 0;
	int r, threads = threads_of(opts, in);
	double cpu0 = coffer_spipe_thread_cpu_s();

	if ((r = coffer_read_full(in, hdr, sizeof(hdr), &got)) != 0 ||
	    (r = coffer_sealed_reader_new(key, hdr, got, &rd)) != 0)
		goto out;
	full = FULL(coffer_sealed_reader_info(rd)->chunk_size);
	k = batch_of(in, coffer_sealed_reader_info(rd)->chunk_size);
	bufsz = k * full;
	if (threads == 2) {
		r = pipe_start(out, hdr, k,
		    coffer_sealed_reader_info(rd)->chunk_size, &h, &p);
		if (r == COFFER_E_INTERNAL)
			threads = 1;
		else if (r != 0)
			goto out;
		else
			coffer_sealed_reader_digest_elsewhere(rd);
	}
	if (threads == 1 && (own = coffer_malloc(bufsz)) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "buffer of %zu bytes", bufsz);
		goto out;
	}
	if ((r = p != NULL ? open_two(rd, p, in, full, k) :
	    open_one(rd, in, out, own, full, k, &done)) != 0 ||
	    (r = coffer_sealed_reader_finish(rd, &res)) != 0 ||
	    (p != NULL && (r = pipe_digest(h, p, &res)) != 0))
		goto out;
	res.threads = threads;
	res.cpu_s[0] = coffer_spipe_thread_cpu_s() - cpu0;
	if (info != NULL)
		*info = res;
out:
	if (p != NULL)
		done = coffer_spipe_written(p);
	if (written != NULL)
		*written = done;
	coffer_spipe_free(p);
	coffer_hash_free(h);
	if (own != NULL)
		coffer_free_secret(own, bufsz);
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
