// SPDX-License-Identifier: Apache-2.0
// The sealed format in memory (crypto/sealed.h), for callers that hold a
// whole object anyway (a worker's item, a test). Same writer and reader as
// the streaming path, so both produce and accept exactly the same bytes;
// the one-shot functions make and free theirs, the _key_ ones take the
// kept ones of a struct coffer_sealed_key.
#include <string.h>

#include "coffer/error.h"
#include "crypto/sealed.h"
#include "lib/mem.h"

/* Seal pt[0..n) with w, which has written nothing yet, appending to out;
 * out as it was on failure. */
static int
seal_with(struct coffer_sealed_writer *w, const uint8_t *pt, size_t n,
    struct coffer_buf *out, struct coffer_sealed_info *info)
{
	struct coffer_sealed_info res;
	size_t start = out->len, c, off = 0, k;
	uint8_t *dst;
	int r;

	c = coffer_sealed_writer_chunk_size(w);
	if ((r = coffer_buf_put(out, coffer_sealed_writer_header(w),
	    COFFER_SEALED_HEADER_LEN)) != 0)
		goto out;
	do {
		k = n - off < c ? n - off : c;
		if ((r = coffer_buf_reserve(out, k + COFFER_SEALED_TAG_LEN,
		    &dst)) != 0 ||
		    (r = coffer_sealed_writer_push(w, pt + off, k, dst)) != 0)
			goto out;
		coffer_buf_commit(out, k + COFFER_SEALED_TAG_LEN);
		off += k;
	} while (k == c);
	if ((r = coffer_sealed_writer_finish(w, &res)) != 0)
		goto out;
	if (info != NULL)
		*info = res;
out:
	if (r != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	return r;
}

/* Open in[0..n) with rd, started on its header, appending to pt; pt as it
 * was on failure (anything appended wiped). */
static int
open_with(struct coffer_sealed_reader *rd, const uint8_t *in, size_t n,
    struct coffer_buf *pt, struct coffer_sealed_info *info)
{
	struct coffer_sealed_info res;
	size_t start = pt->len, full, off, k;
	uint64_t chunks, ptsize;
	uint8_t *dst;
	int r;

	full = (size_t)coffer_sealed_reader_info(rd)->chunk_size +
	    COFFER_SEALED_TAG_LEN;
	/* The length is known: check the framing (R9-R11) before any work. */
	if ((r = coffer_sealed_layout(coffer_sealed_reader_info(rd)->chunk_size,
	    n, &chunks, &ptsize)) != 0)
		goto out;
	for (off = COFFER_SEALED_HEADER_LEN; off < n; off += k) {
		k = n - off < full ? n - off : full;
		if ((r = coffer_buf_reserve(pt, k - COFFER_SEALED_TAG_LEN,
		    &dst)) != 0 ||
		    (r = coffer_sealed_reader_pull(rd, in + off, k, dst)) != 0)
			goto out;
		coffer_buf_commit(pt, k - COFFER_SEALED_TAG_LEN);
	}
	if ((r = coffer_sealed_reader_finish(rd, &res)) != 0)
		goto out;
	if (info != NULL)
		*info = res;
out:
	if (r != 0) {
		if (pt->data != NULL) {
			coffer_wipe(pt->data + start, pt->len - start);
			pt->data[start] = '\0';
		}
		pt->len = start;
		if (pt->off > start)
			pt->off = start;
	}
	return r;
}

int
coffer_sealed_seal_mem(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, const uint8_t *pt, size_t n,
    struct coffer_buf *out, struct coffer_sealed_info *info)
{
	return coffer_sealed_seal_mem_salted(key, opts, NULL, pt, n, out, info);
}

int
coffer_sealed_seal_mem_salted(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, const uint8_t *salt,
    const uint8_t *pt, size_t n, struct coffer_buf *out,
    struct coffer_sealed_info *info)
{
	struct coffer_sealed_writer *w = NULL;
	int r;

	if ((r = coffer_sealed_writer_new_salted(key, opts, salt, &w)) != 0)
		return r;
	r = seal_with(w, pt, n, out, info);
	coffer_sealed_writer_free(w);
	return r;
}

int
coffer_sealed_key_seal_mem(struct coffer_sealed_key *k,
    const struct coffer_sealed_opts *opts, const uint8_t *salt,
    const uint8_t *pt, size_t n, struct coffer_buf *out,
    struct coffer_sealed_info *info)
{
	struct coffer_sealed_writer *w;
	int r;

	if ((r = coffer_sealed_key_writer(k, opts, salt, &w)) != 0)
		return r;
	return seal_with(w, pt, n, out, info);
}

int
coffer_sealed_open_mem(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const uint8_t *in, size_t n, struct coffer_buf *pt,
    struct coffer_sealed_info *info)
{
	struct coffer_sealed_reader *rd = NULL;
	int r;

	if ((r = coffer_sealed_reader_new(key, in, n, &rd)) != 0)
		return r;
	/* Nobody asks for the content digest: no second pass over the
	 * bytes (a worker has hashed them already, against the policy). */
	if (info == NULL)
		coffer_sealed_reader_digest_elsewhere(rd);
	r = open_with(rd, in, n, pt, info);
	coffer_sealed_reader_free(rd);
	return r;
}

int
coffer_sealed_key_open_mem(struct coffer_sealed_key *k, const uint8_t *in,
    size_t n, struct coffer_buf *pt)
{
	struct coffer_sealed_reader *rd;
	int r;

	if ((r = coffer_sealed_key_reader(k, in, n, &rd)) != 0)
		return r;
	return open_with(rd, in, n, pt, NULL);
}
