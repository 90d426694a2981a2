// SPDX-License-Identifier: Apache-2.0
// The confidential steps of one item (worker/confidential.h,
// doc/worker.md 9.4). Without a job they pass the bytes through: no copy,
// the app reads the stored bytes and the output is stored as written.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/sealed.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "store/store.h"
#include "worker/app.h"
#include "worker/confidential.h"

size_t
conf_sealed_max(size_t max)
{
	/* A sealed output is its plaintext and a header and a tag per chunk. */
	return max + (max >> 10) + 4096;
}

/* The runner's contexts for the job's constant keys. Each sealed key
 * borrows its key from the key page (it holds no copy); the contexts hold
 * the payload key of the last file until the next item re-keys them. */
struct conf_crypto {
	struct coffer_hash *sha;          /* the pin check, the salt's digest */
	struct coffer_sealed_key *output, *intermediate;
	/* HMAC keyed once with the output and the intermediate key for the
	 * outputs' salts (doc/format/item-proof.md section 9). */
	struct coffer_hmac *salt_output, *salt_intermediate;
	struct coffer_hmac *session;      /* keyed with the session key: proofs */
	size_t ndata;
	struct coffer_sealed_key **data;  /* per dataset of the policy */
	uint8_t ids[32 * 16];             /* attempt ids not used yet */
	size_t ids_left;
};

void
conf_job_crypto_free(struct conf_job *j)
{
	struct conf_crypto *c = j->crypto;

	if (c == NULL)
		return;
	coffer_hash_free(c->sha);
	coffer_sealed_key_free(c->output);
	coffer_sealed_key_free(c->intermediate);
	coffer_hmac_free(c->salt_output);
	coffer_hmac_free(c->salt_intermediate);
	coffer_hmac_free(c->session);
	for (size_t i = 0; i < c->ndata; i++)
		coffer_sealed_key_free(c->data[i]);
	free(c->data);
	coffer_free_secret(c, sizeof(*c));
	j->crypto = NULL;
}

/* j's contexts, made at the first call. */
static int
job_crypto(struct conf_job *j, struct conf_crypto **out)
{
	struct conf_crypto *c = j->crypto;
	int r;

	if (c == NULL) {
		if ((c = coffer_calloc(1, sizeof(*c))) == NULL ||
		    (c->data = calloc(j->policy->ndatasets ? j->policy->ndatasets :
		    1, sizeof(*c->data))) == NULL) {
			free(c);
			return coffer_errf(COFFER_E_NOMEM, "job crypto");
		}
		c->ndata = j->policy->ndatasets;
		j->crypto = c;
		if ((r = coffer_hash_new(COFFER_HASH_SHA256, &c->sha)) != 0) {
			conf_job_crypto_free(j);
			return r;
		}
	}
	*out = c;
	return 0;
}

/* The kept sealed key *sk for key, made at the first call. */
static int
sealed_key(const uint8_t *key, struct coffer_sealed_key **sk)
{
	return *sk != NULL ? 0 : coffer_sealed_key_new(key, sk);
}

/* The kept HMAC context *h keyed with key, made and keyed at the first
 * call. */
static int
kept_mac(const uint8_t *key, struct coffer_hmac **h)
{
	int r;

	if (*h != NULL)
		return 0;
	if ((r = coffer_hmac_new(h)) != 0)
		return r;
	if ((r = coffer_hmac_key(*h, key, 32)) != 0) {
		coffer_hmac_free(*h);
		*h = NULL;
	}
	return r;
}

/* The next attempt id: 16 bytes of the CSPRNG, drawn for 32 items at a
 * time (one RAND_bytes call costs about as much for 512 bytes as for 16),
 * each used once and wiped from the pool. */
static int
attempt_id(struct conf_job *j, uint8_t id[16])
{
	struct conf_crypto *c;
	uint8_t *p;
	int r;

	if ((r = job_crypto(j, &c)) != 0)
		return r;
	if (c->ids_left == 0) {
		if ((r = coffer_random(c->ids, sizeof(c->ids))) != 0)
			return r;
		c->ids_left = sizeof(c->ids) / 16;
	}
	p = c->ids + (--c->ids_left) * 16;
	memcpy(id, p, 16);
	coffer_wipe(p, 16);
	return 0;
}

/* The rest of an item's start, its buffers in place. */
static int
item_init(struct conf_item *ci, struct conf_job *job, const char *id,
    uint32_t attempt)
{
	ci->job = job;
	ci->id = id;
	ci->attempt = attempt;
	/* The attempt id comes from here, never from the queue's counter,
	 * which the host controls (doc/format/item-proof.md section 2). */
	if (job != NULL && attempt_id(job, ci->attempt_id) != 0)
		return coffer_errctx(COFFER_E_CRYPTO, "attempt id");
	return 0;
}

int
conf_item_init_bufs(struct conf_item *ci, struct conf_job *job, const char *id,
    uint32_t attempt, struct coffer_buf *plain, struct coffer_buf *sealed)
{
	memset(ci, 0, sizeof(*ci));
	coffer_buf_reset(plain);
	coffer_buf_reset(sealed);
	ci->scratch_in = plain;
	ci->scratch_out = sealed;
	return item_init(ci, job, id, attempt);
}

int
conf_item_init(struct conf_item *ci, struct conf_job *job, const char *id,
    uint32_t attempt, size_t max)
{
	memset(ci, 0, sizeof(*ci));
	coffer_buf_init_secret(&ci->own_in, max);
	coffer_buf_init(&ci->own_out, conf_sealed_max(max));
	ci->scratch_in = &ci->own_in;
	ci->scratch_out = &ci->own_out;
	return item_init(ci, job, id, attempt);
}

/* A big input being streamed (doc/worker.md 9.4, BI1 to BI7). */
struct conf_stream {
	int fd;                           /* borrowed */
	uint64_t size;                    /* in the first pass */
	uint64_t off, index, chunks;      /* the next chunk */
	uint32_t chunk;                   /* the header's chunk size */
	uint8_t hdr[COFFER_SEALED_HEADER_LEN];
	struct coffer_hash *sha;          /* the second pass's digest */
	struct coffer_sealed_reader *rd;  /* the dataset key's (BI3) */
	uint8_t *buf;                     /* one sealed chunk, opened in place */
	size_t cap, shown;                /* plaintext at buf to wipe */
	int failed;
};

static void
stream_free(struct conf_stream *st)
{
	if (st == NULL)
		return;
	coffer_hash_free(st->sha);
	coffer_free_secret(st->buf, st->cap);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
}

void
conf_item_release(struct conf_item *ci)
{
	/* Its own buffers go; the caller's keep their memory, wiped of what
	 * this item put there. */
	if (ci->scratch_in == &ci->own_in) {
		coffer_buf_release(&ci->own_in);
		coffer_buf_release(&ci->own_out);
	} else if (ci->scratch_in != NULL) {
		coffer_buf_reset(ci->scratch_in);
		coffer_buf_reset(ci->scratch_out);
	}
	stream_free(ci->stream);
	ci->stream = NULL;
	ci->plain = ci->sealed = NULL;
	ci->plainlen = ci->sealedlen = 0;
}

static int
cmp_key(const void *k, const void *item)
{
	return strcmp(k, ((const struct coffer_policy_item *)item)->key);
}

const struct coffer_policy_item *
conf_find_item(const struct conf_job *j, const char *key)
{
	return bsearch(key, j->items, j->nitems, sizeof(*j->items), cmp_key);
}

static void
digest_hex(const uint8_t d[32], char out[72])
{
	memcpy(out, "sha256:", 7);
	coffer_hex_encode(d, 32, out + 7);
}

/* The input is not the object the policy pins: proved FAILED with the
 * digest found (doc/worker.md 9.4), never retried. */
static int
refuse_digest(struct conf_item *ci)
{
	char got[72], want[72];

	ci->input_refused = 1;
	digest_hex(ci->input_digest, got);
	digest_hex(ci->item->digest, want);
	return coffer_errf(COFFER_E_AUTH, "object '%s' is %s, not the %s the"
	    " policy pins: tampered with, rolled back to an older version, or"
	    " swapped", ci->id, got, want);
}

static int
not_input(const struct conf_item *ci)
{
	return coffer_errf(COFFER_E_AUTH, "'%s' is not an input of app '%s' in"
	    " the job's policy", ci->id, ci->job->app->name);
}

/* The pinned object itself does not open (the cause kept as context). */
static int
pinned_unopened(const struct conf_item *ci)
{
	return coffer_errctx(COFFER_E_AUTH, "object '%s' is the pinned one but"
	    " does not open with the key of dataset '%s'", ci->id,
	    ci->job->policy->datasets[ci->item->dataset].name);
}

/* The kept sealed key of the item's dataset, in *sk. */
static int
item_data_key(const struct conf_item *ci, struct conf_crypto *c,
    struct coffer_sealed_key **sk)
{
	const struct conf_job *j = ci->job;
	const struct coffer_policy_dataset *ds;
	const uint8_t *key;
	int r;

	ds = &j->policy->datasets[ci->item->dataset];
	if ((key = keys_data(j->keys, ds->key_id)) == NULL)
		return coffer_errf(COFFER_E_INTERNAL, "no key for dataset '%s'",
		    ds->name);
	if ((r = sealed_key(key, &c->data[ci->item->dataset])) != 0)
		return r;
	*sk = c->data[ci->item->dataset];
	return 0;
}

int
conf_open_input(struct conf_item *ci, const struct coffer_buf *stored)
{
	struct conf_job *j = ci->job;
	struct coffer_sealed_key *sk;
	const uint8_t *in;
	struct conf_crypto *c;
	int r;

	if (j == NULL) {
		ci->plain = stored->data ? stored->data : (const uint8_t *)"";
		ci->plainlen = stored->len;
		return 0;
	}
	/* The policy fixes the inputs (doc/format/policy.md section 6). */
	if ((ci->item = conf_find_item(j, ci->id)) == NULL)
		return not_input(ci);
	if ((r = job_crypto(j, &c)) != 0)
		return r;
	in = stored->data ? stored->data : (const uint8_t *)"";
	/* Its content digest first: the sealed format cannot tell one
	 * authentic object from another under the same key
	 * (doc/format/sealed.md section 7); the policy's digest can. The
	 * reader below computes no second one (doc/worker.md 9.4). */
	if ((r = coffer_hash_once(c->sha, in, stored->len, ci->input_digest,
	    sizeof(ci->input_digest))) != 0)
		return r;
	if (memcmp(ci->input_digest, ci->item->digest, 32) != 0)
		return refuse_digest(ci);
	if ((r = item_data_key(ci, c, &sk)) != 0)
		return r;
	coffer_buf_reset(ci->scratch_in);
	if ((r = coffer_sealed_key_open_mem(sk, in,
	    stored->len, ci->scratch_in)) != 0)
		/* The pinned object itself does not open: a broken object or
		 * the wrong key uploaded; no retry makes it open. */
		return pinned_unopened(ci);
	ci->plain = ci->scratch_in->data ? ci->scratch_in->data : (const uint8_t *)"";
	ci->plainlen = ci->scratch_in->len;
	ci->owner = j->owners[ci->item->owner];
	return 0;
}

/* The first pass reads in blocks of this size (BI2, BI7). */
#define STREAM_BLOCK ((size_t)256 << 10)

/* n bytes at off, all of them: a short read is the object changed (or
 * gone) since it was opened (BI6). */
static int
read_at(struct conf_item *ci, uint8_t *p, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t m = pread(ci->stream->fd, p + got, n - got, (off_t)(off + got));

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0)
			return coffer_errf(COFFER_E_IO, "object '%s': %s", ci->id,
			    strerror(errno));
		if (m == 0)
			return coffer_errf(COFFER_E_IO, "object '%s' changed while it"
			    " was read: it is shorter than its %llu bytes", ci->id,
			    (unsigned long long)ci->stream->size);
		got += (size_t)m;
	}
	return 0;
}

/* Hash bytes [off, size) of the object into st->sha (the stream's
 * buffer as the block). */
static int
hash_rest(struct conf_item *ci, uint64_t off)
{
	struct conf_stream *st = ci->stream;
	int r;

	while (off < st->size) {
		size_t n = st->size - off < st->cap ? (size_t)(st->size - off) : st->cap;

		if ((r = read_at(ci, st->buf, n, off)) != 0 ||
		    (r = coffer_hash_update(st->sha, st->buf, n)) != 0)
			return r;
		off += n;
	}
	return 0;
}

int
conf_stream_open(struct conf_item *ci, int fd, uint64_t size)
{
	struct conf_job *j = ci->job;
	const struct coffer_sealed_info *info;
	struct coffer_sealed_key *sk;
	struct conf_crypto *c;
	struct conf_stream *st;
	uint64_t plain;
	/* The header's bytes, or the whole object when it is shorter. */
	size_t hlen = size < sizeof(st->hdr) ? (size_t)size : sizeof(st->hdr);
	uint8_t *nb;
	int r;

	if ((st = coffer_calloc(1, sizeof(*st))) == NULL ||
	    (st->buf = coffer_malloc(STREAM_BLOCK)) == NULL) {
		free(st);
		close(fd);
		return coffer_errf(COFFER_E_NOMEM, "input stream");
	}
	st->cap = STREAM_BLOCK;
	st->fd = fd;
	st->size = size;
	ci->stream = st;
	if (j == NULL)
		return coffer_errf(COFFER_E_INVAL, "a plaintext input is not streamed");
	/* The policy fixes the inputs (doc/format/policy.md section 6). */
	if ((ci->item = conf_find_item(j, ci->id)) == NULL)
		return not_input(ci);
	if ((r = job_crypto(j, &c)) != 0)
		return r;
	/* BI2: the whole object against the pin before any decryption; its
	 * header kept from this pass. */
	if ((r = coffer_hash_new(COFFER_HASH_SHA256, &st->sha)) != 0 ||
	    (r = read_at(ci, st->hdr, hlen, 0)) != 0 ||
	    (r = coffer_hash_update(st->sha, st->hdr, hlen)) != 0 ||
	    (r = hash_rest(ci, sizeof(st->hdr))) != 0 ||
	    (r = coffer_hash_final(st->sha, ci->input_digest, 32)) != 0)
		return r;
	if (memcmp(ci->input_digest, ci->item->digest, 32) != 0)
		return refuse_digest(ci);
	/* BI3: the kept header under the dataset's key, and the layout of
	 * the size hashed. */
	if ((r = item_data_key(ci, c, &sk)) != 0)
		return r;
	if ((r = coffer_sealed_key_reader(sk, st->hdr, hlen, &st->rd)) != 0 ||
	    (info = coffer_sealed_reader_info(st->rd),
	    r = coffer_sealed_layout(info->chunk_size, size, &st->chunks, &plain)) != 0)
		return pinned_unopened(ci);
	coffer_sealed_reader_digest_elsewhere(st->rd);
	st->chunk = info->chunk_size;
	/* BI7: one sealed chunk at a time from now on. */
	if ((size_t)st->chunk + COFFER_SEALED_TAG_LEN > st->cap) {
		if ((nb = coffer_malloc((size_t)st->chunk + COFFER_SEALED_TAG_LEN)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "input stream");
		coffer_free_secret(st->buf, st->cap);
		st->buf = nb;
		st->cap = (size_t)st->chunk + COFFER_SEALED_TAG_LEN;
	}
	/* BI4: the second digest starts with the header that keys the
	 * reader, not with whatever the store holds there now. */
	if ((r = coffer_hash_reset(st->sha)) != 0 ||
	    (r = coffer_hash_update(st->sha, st->hdr, sizeof(st->hdr))) != 0)
		return r;
	st->off = sizeof(st->hdr);
	ci->plain = NULL;
	ci->plainlen = (size_t)plain;
	ci->owner = j->owners[ci->item->owner];
	return 0;
}

/* The sealed length of chunk i (R9 to R11: every chunk but the last is
 * whole). */
static size_t
chunk_len(const struct conf_stream *st, uint64_t i)
{
	uint64_t whole = (uint64_t)st->chunk + COFFER_SEALED_TAG_LEN;

	return i + 1 < st->chunks ? (size_t)whole : (size_t)(st->size -
	    COFFER_SEALED_HEADER_LEN - (st->chunks - 1) * whole);
}

/* BI6: the second pass failed with r at a chunk already hashed up to
 * off. The pinned object itself does not open (the bytes read are the
 * pin's, hashed to the end): COFFER_E_AUTH; else the object changed. */
static int
stream_fail(struct conf_item *ci, int r, uint64_t off, int final)
{
	struct conf_stream *st = ci->stream;
	uint8_t d[32];
	char why[300];

	snprintf(why, sizeof(why), "%s", coffer_errdetail());
	if (r == COFFER_E_AUTH && (final || (hash_rest(ci, off) == 0 &&
	    coffer_hash_final(st->sha, d, sizeof(d)) == 0 &&
	    memcmp(d, ci->item->digest, 32) == 0)))
		r = coffer_errf(COFFER_E_AUTH, "object '%s' is the pinned one but"
		    " does not open: %s", ci->id, why);
	else if (r == COFFER_E_AUTH)
		r = coffer_errf(COFFER_E_IO, "object '%s' changed while it was"
		    " read (a chunk does not verify)", ci->id);
	st->failed = r;
	return r;
}

int
conf_stream_next(struct conf_item *ci, const uint8_t **p, size_t *n)
{
	struct conf_stream *st = ci->stream;
	struct coffer_sealed_info info;
	uint8_t tail[COFFER_SEALED_TAG_LEN], d[32];
	size_t len, tlen = 0;
	int r, last;

	if (st == NULL || st->failed || st->index >= st->chunks)
		return coffer_errf(COFFER_E_STATE, "input stream of '%s': nothing"
		    " to read", ci->id);
	coffer_wipe(st->buf, st->shown);
	st->shown = 0;
	len = chunk_len(st, st->index);
	/* The chunk that ends the plaintext: the last, or the one before an
	 * empty last chunk, read with it. */
	last = st->index + 1 == st->chunks;
	if (st->index + 2 == st->chunks && chunk_len(st, st->index + 1) ==
	    COFFER_SEALED_TAG_LEN) {
		last = 1;
		tlen = COFFER_SEALED_TAG_LEN;
	}
	if ((r = read_at(ci, st->buf, len, st->off)) != 0 ||
	    (r = coffer_hash_update(st->sha, st->buf, len)) != 0 ||
	    (tlen > 0 && ((r = read_at(ci, tail, tlen, st->off + len)) != 0 ||
	    (r = coffer_hash_update(st->sha, tail, tlen)) != 0)))
		return stream_fail(ci, r, 0, 0);
	/* BI4: nothing that ends the plaintext before the second digest is
	 * the pin. */
	if (last) {
		if ((r = coffer_hash_final(st->sha, d, sizeof(d))) != 0)
			return stream_fail(ci, r, 0, 0);
		if (memcmp(d, ci->item->digest, 32) != 0)
			return stream_fail(ci, coffer_errf(COFFER_E_IO, "object '%s'"
			    " changed while it was read: its digest is no longer the"
			    " pin", ci->id), 0, 0);
	}
	/* R12 at this index, in place: released only once verified (BI4). */
	if ((r = coffer_sealed_reader_pull(st->rd, st->buf, len, st->buf)) != 0 ||
	    (tlen > 0 && (r = coffer_sealed_reader_pull(st->rd, tail, tlen,
	    tail)) != 0) || (last && (r = coffer_sealed_reader_finish(st->rd,
	    &info)) != 0))
		return stream_fail(ci, r, st->off + len + tlen, last);
	st->off += len + tlen;
	st->index += tlen > 0 ? 2 : 1;
	st->shown = len - COFFER_SEALED_TAG_LEN;
	*p = st->buf;
	*n = st->shown;
	return 0;
}

int
conf_stream_failed(const struct conf_item *ci)
{
	return ci->stream != NULL ? ci->stream->failed : 0;
}

int
conf_output_key(const struct conf_item *ci, const char *prefix, char *out,
    size_t outlen)
{
	char att[33];
	size_t n;

	if (ci->job == NULL) {
		n = (size_t)snprintf(out, outlen, "%s%s", prefix, ci->id);
	} else {
		coffer_hex_encode(ci->attempt_id, 16, att);
		n = (size_t)snprintf(out, outlen, "%s%s.%s", prefix, ci->id, att);
	}
	if (n >= outlen || n > COFFER_STORE_KEY_MAX)
		return coffer_errf(COFFER_E_LIMIT, "output key for '%s' is too long",
		    ci->id);
	return 0;
}

static int output_salt_d(struct conf_item *ci, const uint8_t *pt, size_t n,
    const uint8_t *dg, struct coffer_sealed_key **skp, uint8_t salt[32]);

/* The kept sealed key of ci's output and the output's salt
 * (doc/format/item-proof.md section 9) for plaintext pt[0..n). */
static int
output_salt(struct conf_item *ci, const uint8_t *pt, size_t n,
    struct coffer_sealed_key **skp, uint8_t salt[32])
{
	return output_salt_d(ci, pt, n, NULL, skp, salt);
}

/* output_salt, the plaintext's SHA-256 given (dg) when not NULL. */
static int
output_salt_d(struct conf_item *ci, const uint8_t *pt, size_t n,
    const uint8_t *dg, struct coffer_sealed_key **skp, uint8_t salt[32])
{
	struct conf_job *j = ci->job;
	struct coffer_sealed_key **sk;
	struct coffer_hmac **mac;
	struct conf_crypto *c;
	const uint8_t *key;
	uint8_t d[32];
	int r;

	if ((r = job_crypto(j, &c)) != 0)
		return r;
	/* Map outputs of a job with a reduce stage stay among attested
	 * workers (the intermediate key is never wrapped to anyone); final
	 * outputs open for the policy's recipients. */
	if (j->reduce && ci->item != NULL) {
		key = j->keys->intermediate_key;
		sk = &c->intermediate;
		mac = &c->salt_intermediate;
	} else {
		key = j->keys->output_key;
		sk = &c->output;
		mac = &c->salt_output;
	}
	/* Sealed deterministically (doc/format/item-proof.md section 9): the
	 * same output of the same item is the same object, so that a second
	 * execution is a duplicate and only another output disagrees. */
	if ((r = sealed_key(key, sk)) != 0 || (r = kept_mac(key, mac)) != 0)
		return r;
	if (dg != NULL)
		memcpy(d, dg, sizeof(d));
	else if ((r = coffer_hash_once(c->sha, pt, n, d, sizeof(d))) != 0)
		return r;
	if ((r = coffer_itemproof_output_salt_with(*mac, j->job, ci->item != NULL ?
	    COFFER_STAGE_MAP : COFFER_STAGE_REDUCE, ci->item != NULL ?
	    ci->item->index : 0, d, salt)) != 0) {
		/* A failed context is keyed again for the next output. */
		coffer_hmac_free(*mac);
		*mac = NULL;
		return r;
	}
	*skp = *sk;
	return 0;
}

int
conf_seal_output(struct conf_item *ci, const struct coffer_buf *plain)
{
	struct coffer_sealed_info info;
	struct coffer_sealed_key *sk;
	const uint8_t *pt = plain->data ? plain->data : (const uint8_t *)"";
	uint8_t salt[32];
	int r;

	if (ci->job == NULL) {
		ci->sealed = pt;
		ci->sealedlen = plain->len;
		return 0;
	}
	coffer_buf_reset(ci->scratch_out);
	if ((r = output_salt(ci, pt, plain->len, &sk, salt)) != 0 ||
	    (r = coffer_sealed_key_seal_mem(sk, NULL, salt, pt, plain->len,
	    ci->scratch_out, &info)) != 0)
		return r;
	memcpy(ci->output_digest, info.digest, 32);
	ci->sealed = ci->scratch_out->data;
	ci->sealedlen = ci->scratch_out->len;
	return 0;
}

/*
 * BO1 (doc/worker.md 9.4): w's header, then the len plaintext bytes one
 * chunk at a time into p (sealed bytes, not secret), the bytes of
 * conf_seal_output; ci gets the output's digest and sealed size. The
 * plaintext is mem when not NULL, else read from fd with pread (HF4:
 * never mapped) into *blk, the caller's secret buffer of *blkn bytes,
 * replaced by one of a chunk when smaller (the caller frees it).
 */
static int
seal_put_chunks(struct conf_item *ci, struct coffer_sealed_writer *w,
    const uint8_t *mem, int fd, uint8_t **blk, size_t *blkn, size_t len,
    struct coffer_store_put *p)
{
	struct coffer_sealed_info info;
	const uint8_t *pt;
	uint8_t *chunk = NULL;
	size_t c, off = 0, k;
	int r;

	c = coffer_sealed_writer_chunk_size(w);
	if (mem == NULL && c > *blkn) {
		coffer_free_secret(*blk, *blkn);
		*blkn = 0;
		if ((*blk = coffer_malloc(c)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "output chunk");
		*blkn = c;
	}
	if ((chunk = coffer_malloc(c + COFFER_SEALED_TAG_LEN)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "output chunk");
	if ((r = coffer_store_put_write(p, coffer_sealed_writer_header(w),
	    COFFER_SEALED_HEADER_LEN)) != 0)
		goto out;
	do {
		k = len - off < c ? len - off : c;
		if (mem != NULL)
			pt = mem + off;
		else if ((r = apphost_pread(fd, off, *blk, k)) != 0)
			goto out;
		else
			pt = *blk;
		if ((r = coffer_sealed_writer_push(w, pt, k, chunk)) != 0 ||
		    (r = coffer_store_put_write(p, chunk, k + COFFER_SEALED_TAG_LEN)) != 0)
			goto out;
		off += k;
	} while (k == c);
	if ((r = coffer_sealed_writer_finish(w, &info)) != 0)
		goto out;
	memcpy(ci->output_digest, info.digest, 32);
	ci->sealed = NULL;
	ci->sealedlen = (size_t)info.sealed_size;
out:
	free(chunk);
	return r;
}

int
conf_seal_output_put(struct conf_item *ci, const struct coffer_buf *plain,
    struct coffer_store_put *p)
{
	struct coffer_sealed_writer *w;
	struct coffer_sealed_key *sk;
	const uint8_t *pt = plain->data ? plain->data : (const uint8_t *)"";
	uint8_t salt[32];
	int r;

	if (ci->job == NULL)
		return coffer_errf(COFFER_E_INVAL, "a plaintext output is stored as is");
	if ((r = output_salt(ci, pt, plain->len, &sk, salt)) != 0 ||
	    (r = coffer_sealed_key_writer(sk, NULL, salt, &w)) != 0)
		return r;
	return seal_put_chunks(ci, w, pt, -1, NULL, NULL, plain->len, p);
}

int
conf_seal_output_put_fd(struct conf_item *ci, int fd, size_t len,
    struct coffer_store_put *p)
{
	struct coffer_sealed_writer *w;
	struct coffer_sealed_key *sk;
	struct conf_crypto *c;
	uint8_t salt[32], d[32], *pt = NULL;
	size_t off, k, ptn = 0;
	int r;

	if (ci->job == NULL)
		return coffer_errf(COFFER_E_INVAL, "a plaintext output is stored as is");
	if ((r = job_crypto(ci->job, &c)) != 0)
		return r;
	/* BO1, first pass: the plaintext's digest for the salt, read in
	 * blocks into one secret buffer (HF4: never mapped). */
	ptn = STREAM_BLOCK;
	if ((pt = coffer_malloc(ptn)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "output block");
	if ((r = coffer_hash_reset(c->sha)) != 0)
		goto out;
	for (off = 0; off < len; off += k) {
		k = len - off < ptn ? len - off : ptn;
		if ((r = apphost_pread(fd, off, pt, k)) != 0 ||
		    (r = coffer_hash_update(c->sha, pt, k)) != 0)
			goto out;
	}
	if ((r = coffer_hash_final(c->sha, d, sizeof(d))) != 0 ||
	    (r = output_salt_d(ci, NULL, len, d, &sk, salt)) != 0 ||
	    (r = coffer_sealed_key_writer(sk, NULL, salt, &w)) != 0)
		goto out;
	/* Second pass: the chunks, read again into the same buffer. */
	r = seal_put_chunks(ci, w, NULL, fd, &pt, &ptn, len, p);
out:
	coffer_free_secret(pt, ptn);
	coffer_wipe(d, sizeof(d));
	return r;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* WA2 to WA4 (doc/format/item-proof.md section 8) for the proof of item
 * id; err gets the reason of BURY and STOP. */
static enum conf_verdict
verdict(struct conf_job *j, const char *id, const struct coffer_itemack *a,
    char *err, size_t errlen)
{
	const char *name;

	switch (a->outcome) {
	case COFFER_ACK_COMMITTED:
	case COFFER_ACK_DUPLICATE:
		return CONF_ACK;
	case COFFER_ACK_DISAGREEMENT:
		/* The item has its result; this execution differed from it.
		 * The coordinator counts and logs it for the owners. */
		coffer_logkv(COFFER_LOG_WARN, "the coordinator flagged this"
		    " execution as disagreeing with the item's committed result",
		    "item", id, NULL);
		return CONF_ACK;
	case COFFER_ACK_FAILURE:
		return CONF_RETRY;
	}
	name = coffer_itemproof_reason_name(a->reason);
	if (name == NULL)
		name = "unknown";
	if (strcmp(name, "input.mismatch") == 0) {
		snprintf(err, errlen, "the coordinator refused the proof: input.mismatch"
		    " (the input is not the one the policy pins)");
		return CONF_BURY;
	}
	if (strncmp(name, "proof.", 6) == 0 || strcmp(name, "item.unknown") == 0)
		snprintf(j->stopped, sizeof(j->stopped), "the coordinator refused a"
		    " proof as %s: a bug in this worker or in the coordinator", name);
	else
		snprintf(j->stopped, sizeof(j->stopped), "the coordinator refused a"
		    " proof as %s: the job is over for this worker", name);
	snprintf(err, errlen, "%s", j->stopped);
	return CONF_STOP;
}

int
conf_make_proof(struct conf_item *ci, uint32_t app_error,
    uint8_t out[COFFER_ITEMPROOF_LEN])
{
	struct conf_job *j = ci->job;
	struct coffer_itemproof p;
	struct conf_crypto *c;
	int r;

	if ((r = job_crypto(j, &c)) != 0 ||
	    (r = kept_mac(j->keys->session_key, &c->session)) != 0)
		return r;
	memset(&p, 0, sizeof(p));
	p.stage = ci->item != NULL ? COFFER_STAGE_MAP : COFFER_STAGE_REDUCE;
	p.result = app_error == 0 ? COFFER_RESULT_OK : COFFER_RESULT_FAILED;
	memcpy(p.job, j->job, 16);
	memcpy(p.session, j->session, 16);
	/* Each proof its own seq, in the order made (IP10, C1). */
	p.seq = j->seq++;
	p.item = ci->item != NULL ? ci->item->index : 0;
	memcpy(p.attempt, ci->attempt_id, 16);
	memcpy(p.input_digest, ci->input_digest, 32);
	if (app_error == 0) {
		memcpy(p.output_digest, ci->output_digest, 32);
		p.output_size = ci->sealedlen;
	}
	p.error = app_error;
	/* The session key is the job's: its context keyed once. */
	if ((r = coffer_itemproof_encode_with(&p, c->session, out)) != 0) {
		coffer_hmac_free(c->session);
		c->session = NULL;
	}
	return r;
}

int
conf_send_proofs(struct conf_job *j, struct conf_proof *pr, size_t n)
{
	uint8_t (*b)[COFFER_ITEMPROOF_LEN] = NULL;
	struct coffer_itemack *ack = NULL;
	size_t *at = NULL, m;
	int64_t end;
	int r = 0, *ok = NULL, delay = 100;

	if (n == 0)
		return 0;
	if (n > COFFER_ITEMPROOF_BATCH_MAX)
		return coffer_errf(COFFER_E_INVAL, "%zu proofs in one batch", n);
	if ((b = calloc(n, sizeof(*b))) == NULL || (ack = calloc(n, sizeof(*ack))) == NULL ||
	    (at = calloc(n, sizeof(*at))) == NULL || (ok = calloc(n, sizeof(*ok))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "proof batch");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		pr[i].answered = 0;
	/* The same bytes and seqs until answered: a retry of a request whose
	 * answer was lost is answered again, never counted twice (rule C1);
	 * a proof whose answer did not verify (WA1) is sent again alone with
	 * the others still unanswered. */
	end = coffer_mono_ms() + j->proof_retry_ms;
	for (;;) {
		m = 0;
		for (size_t i = 0; i < n; i++)
			if (!pr[i].answered) {
				memcpy(b[m], pr[i].bytes, COFFER_ITEMPROOF_LEN);
				at[m++] = i;
			}
		if (m == 0) {
			r = 0;
			break;
		}
		r = coord_send_proofs(&j->t, j->job, (const uint8_t (*)[COFFER_ITEMPROOF_LEN])b,
		    m, j->keys->session_key, ack, ok);
		if (r == COFFER_E_POLICY) {
			/* The batch itself was refused (session.unknown): no
			 * answer can be trusted from this session any more. */
			snprintf(j->stopped, sizeof(j->stopped), "%s", coffer_errdetail());
			for (size_t k = 0; k < m; k++) {
				struct conf_proof *p = &pr[at[k]];

				p->answered = 1;
				p->verdict = CONF_STOP;
				snprintf(p->why, sizeof(p->why), "%s", j->stopped);
			}
			r = 0;
			break;
		}
		for (size_t k = 0; r == 0 && k < m; k++) {
			struct conf_proof *p = &pr[at[k]];

			if (!ok[k])
				continue;
			p->answered = 1;
			p->why[0] = '\0';
			p->verdict = verdict(j, p->id, &ack[k], p->why, sizeof(p->why));
		}
		if (r == 0) {
			size_t left = 0;

			for (size_t k = 0; k < m; k++)
				left += !ok[k];
			if (left == 0)
				continue;
			r = coffer_errf(COFFER_E_PROTO, "the coordinator's answer to %zu"
			    " of %zu proofs does not verify (WA1)", left, m);
		}
		if (j->stop != NULL && *j->stop && end - coffer_mono_ms() > 10000)
			end = coffer_mono_ms() + 10000;
		if (coffer_mono_ms() + delay > end) {
			r = coffer_errctx(r, "the proof was not answered");
			break;
		}
		sleep_ms(delay);
		delay = delay < 2000 ? delay * 2 : 2000;
	}
out:
	free(b);
	free(ack);
	free(at);
	free(ok);
	return r;
}

int
conf_report_proof(struct conf_item *ci, uint32_t app_error,
    enum conf_verdict *v, char *err, size_t errlen)
{
	struct conf_proof p;
	int r;

	if (ci->job == NULL) {
		*v = CONF_ACK;
		return 0;
	}
	memset(&p, 0, sizeof(p));
	p.id = ci->id;
	if ((r = conf_make_proof(ci, app_error, p.bytes)) != 0 ||
	    (r = conf_send_proofs(ci->job, &p, 1)) != 0)
		return r;
	*v = p.verdict;
	if (p.why[0] != '\0')
		snprintf(err, errlen, "%s", p.why);
	return 0;
}
