/* SPDX-License-Identifier: Apache-2.0 */
/* The sealed data format v1 (doc/format/sealed.md): chunked AEAD (STREAM)
 * under a per-file key derived from a data key, with key commitment, a
 * content digest, streaming over file descriptors and random access. */
#ifndef COFFER_CRYPTO_SEALED_H
#define COFFER_CRYPTO_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define COFFER_SEALED_VERSION 1
#define COFFER_SEALED_HEADER_LEN 96
#define COFFER_SEALED_TAG_LEN 16
#define COFFER_SEALED_KEY_LEN 32
#define COFFER_SEALED_KEY_ID_LEN 16
#define COFFER_SEALED_SALT_LEN 32
#define COFFER_SEALED_COMMIT_LEN 32
#define COFFER_SEALED_DIGEST_LEN 32
#define COFFER_SEALED_CHUNK_MIN ((uint32_t)1 << 12)     /* 4 KiB */
#define COFFER_SEALED_CHUNK_MAX ((uint32_t)1 << 24)     /* 16 MiB */
#define COFFER_SEALED_CHUNK_DEFAULT ((uint32_t)1 << 16) /* 64 KiB */
#define COFFER_SEALED_MAX_CHUNKS ((uint64_t)1 << 32)

/* Section 3.1. */
enum coffer_sealed_suite {
	COFFER_SEALED_AES256GCM = 1,
	COFFER_SEALED_CHACHA20POLY1305 = 2,
};

/* "AES-256-GCM", "ChaCha20-Poly1305", or NULL for an unknown suite. */
const char *coffer_sealed_suite_name(int suite);
/* Parse "aes-256-gcm" / "chacha20-poly1305" (case-insensitive) or a
 * number. COFFER_E_UNSUPPORTED for anything else. */
int coffer_sealed_suite_parse(const char *s, int *suite)
	__attribute__((warn_unused_result));

/* Writer options; a zero field means the default (suite 1, 64 KiB).
 * threads is for the fd functions (seal and open): 0 chooses (2 when this
 * process may run on two or more CPUs and the input is not a regular file
 * shorter than 1 MiB, else 1), 1 does everything on the
 * caller's thread, 2 shares reading, the AEAD, the content digest and the
 * writes between the caller's thread and a second one, each taking
 * whichever task is due (same output, same verdicts; see
 * crypto/sealed_pipe.h). */
struct coffer_sealed_opts {
	int suite;
	uint32_t chunk_size;
	int threads;
};

/*
 * What is known about a sealed file. The header fields are always set;
 * chunks, plaintext_size and sealed_size once the file's length is known;
 * digest (SHA-256 of the whole sealed file, section 8) only when every
 * byte was read or written in one pass (has_digest = 1).
 */
struct coffer_sealed_info {
	uint8_t version;
	uint8_t suite;
	uint32_t chunk_size;
	uint8_t key_id[COFFER_SEALED_KEY_ID_LEN];
	uint8_t salt[COFFER_SEALED_SALT_LEN];
	uint8_t commitment[COFFER_SEALED_COMMIT_LEN];
	uint64_t chunks;          /* including the last chunk, >= 1 */
	uint64_t plaintext_size;
	uint64_t sealed_size;     /* header and chunks */
	int has_digest;
	uint8_t digest[COFFER_SEALED_DIGEST_LEN];
	int threads;              /* the fd functions: threads used (1 or 2) */
	double cpu_s[2];          /* the fd functions: CPU seconds of the
	                             caller's thread during the call, and of
	                             the second thread (0 with one) */
};

/*
 * Check and decode a header without a key (section 6.1, rules R1-R7) from
 * the first len bytes of a file (len may be more than the header). Fills
 * the header fields of *info and zeroes the rest. Errors: COFFER_E_FORMAT,
 * COFFER_E_TRUNCATED, COFFER_E_VERSION, COFFER_E_UNSUPPORTED.
 */
int coffer_sealed_header_parse(const uint8_t *p, size_t len,
    struct coffer_sealed_info *info) __attribute__((warn_unused_result));

/*
 * The chunk count and plaintext length of a sealed file of sealed_size
 * bytes with this chunk size (section 2, rules R9-R11). Errors:
 * COFFER_E_TRUNCATED, COFFER_E_FORMAT. Outputs written only on success.
 */
int coffer_sealed_layout(uint32_t chunk_size, uint64_t sealed_size,
    uint64_t *chunks, uint64_t *plaintext_size)
	__attribute__((warn_unused_result));

/* ------------------------------------------------------------------ */
/* Push: seal a stream chunk by chunk (for any transport). */

struct coffer_sealed_writer;

/*
 * Start a sealed stream under the data key (copied; the caller still wipes
 * its own copy): draws the salt, derives the keys, builds the header.
 * opts may be NULL. Errors: COFFER_E_INVAL (bad chunk size),
 * COFFER_E_UNSUPPORTED (suite), COFFER_E_NOMEM, COFFER_E_CRYPTO.
 */
int coffer_sealed_writer_new(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, struct coffer_sealed_writer **out)
	__attribute__((warn_unused_result));
/* The same with the header's salt given (32 bytes; NULL: random). Only
 * for the deterministic salt of an output of a confidential job
 * (doc/format/item-proof.md section 9), which is unique per plaintext:
 * any other fixed salt would reuse nonces. */
int coffer_sealed_writer_new_salted(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, const uint8_t *salt,
    struct coffer_sealed_writer **out) __attribute__((warn_unused_result));
/* The 96-byte header, to be written first. */
const uint8_t *coffer_sealed_writer_header(const struct coffer_sealed_writer *w);
/* The chunk size in use. */
uint32_t coffer_sealed_writer_chunk_size(const struct coffer_sealed_writer *w);
/*
 * Seal the next chunk. n == chunk size seals a full chunk; n < chunk size
 * seals the last chunk (possibly empty) and ends the stream. out receives
 * n + COFFER_SEALED_TAG_LEN bytes and may equal pt (in place). The writer
 * keeps the counter, so a chunk can never be sealed twice under one nonce.
 * Errors: COFFER_E_INVAL (n > chunk size), COFFER_E_STATE (the stream
 * already ended), COFFER_E_LIMIT (2^32 chunks), COFFER_E_CRYPTO.
 */
int coffer_sealed_writer_push(struct coffer_sealed_writer *w,
    const uint8_t *pt, size_t n, uint8_t *out)
	__attribute__((warn_unused_result));
/* After the last chunk: fill *info, digest included (it covers the header
 * and every chunk pushed). COFFER_E_STATE if the last chunk was not pushed. */
int coffer_sealed_writer_finish(struct coffer_sealed_writer *w,
    struct coffer_sealed_info *info) __attribute__((warn_unused_result));
/* Wipe and free. NULL is a no-op. */
void coffer_sealed_writer_free(struct coffer_sealed_writer *w);
/* The caller computes the digest (over the header and every chunk, in
 * order): from now on _push does not hash, and _finish leaves has_digest
 * 0. Call before the first _push. */
void coffer_sealed_writer_digest_elsewhere(struct coffer_sealed_writer *w);

/* ------------------------------------------------------------------ */
/* Pull: verify and open a stream chunk by chunk, or chunks at random. */

struct coffer_sealed_reader;

/*
 * Check a header (R1-R8) against the data key: hdr holds the first len
 * bytes of the file (at least the header for success). Errors: those of
 * coffer_sealed_header_parse, COFFER_E_WRONG_KEY (sealed under another
 * key; the detail names both key ids), COFFER_E_AUTH (the header is
 * damaged), COFFER_E_NOMEM, COFFER_E_CRYPTO.
 */
int coffer_sealed_reader_new(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const uint8_t *hdr, size_t len, struct coffer_sealed_reader **out)
	__attribute__((warn_unused_result));
/* The header fields (sizes and digest not set). */
const struct coffer_sealed_info *coffer_sealed_reader_info(
    const struct coffer_sealed_reader *r);
/*
 * Sequential: verify and decrypt the next chunk of the stream, n bytes of
 * ciphertext and tag. n == chunk size + 16 is a full chunk; 16 <= n <
 * chunk size + 16 the last one, which ends the stream. pt (may equal ct)
 * receives n - 16 bytes, written only if the chunk verified (on failure it
 * is wiped). The digest is accumulated. Errors: COFFER_E_AUTH (the detail
 * names the chunk), COFFER_E_TRUNCATED (n < 16), COFFER_E_INVAL (n too
 * large), COFFER_E_STATE (after the last chunk or a failure),
 * COFFER_E_FORMAT (2^32 chunks).
 */
int coffer_sealed_reader_pull(struct coffer_sealed_reader *r,
    const uint8_t *ct, size_t n, uint8_t *pt)
	__attribute__((warn_unused_result));
/* After the last chunk: fill *info, digest included. COFFER_E_TRUNCATED
 * if the stream ended before its last chunk (R9). */
int coffer_sealed_reader_finish(struct coffer_sealed_reader *r,
    struct coffer_sealed_info *info) __attribute__((warn_unused_result));
/*
 * Random access: verify and decrypt chunk index of a file of `chunks`
 * chunks (the last one is index chunks - 1); n as for _pull but checked
 * against that position (a non-last chunk must be full, the last one
 * short). Stateless: does not touch the sequential position or digest.
 */
int coffer_sealed_reader_chunk(struct coffer_sealed_reader *r,
    uint64_t index, uint64_t chunks, const uint8_t *ct, size_t n,
    uint8_t *pt) __attribute__((warn_unused_result));
void coffer_sealed_reader_free(struct coffer_sealed_reader *r);
/* As coffer_sealed_writer_digest_elsewhere, for _pull and _finish. */
void coffer_sealed_reader_digest_elsewhere(struct coffer_sealed_reader *r);

/* ------------------------------------------------------------------ */
/* File descriptors: streaming in constant memory (one chunk buffer). */

/*
 * Seal everything read from in (until end of file; a pipe is fine) to
 * out. *info (may be NULL) gets the result, digest included, and the
 * threads used (opts->threads). Nothing is done about out on failure: the
 * caller writes to a temporary file (coffer_atomic_*) and discards it.
 * Memory: one buffer of chunks on one thread (from a regular file, as
 * many chunks as fit in 256 KiB, at least one; else one chunk); with two,
 * a ring of such buffers of about 1 MiB (2 to 4 buffers). Errors: those
 * of the writer, COFFER_E_IO.
 */
int coffer_sealed_seal_fd(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, int in, int out,
    struct coffer_sealed_info *info) __attribute__((warn_unused_result));

/*
 * Open the sealed stream read from in and write the plaintext to out,
 * each chunk only after it verified. Success means the whole stream
 * verified, up to its last chunk and nothing after it. On failure, out may
 * have received the verified chunks before the failing one (see section
 * 6.3 for what the caller must do); *written (may be NULL) tells how many
 * plaintext bytes went out in either case. opts (may be NULL) is read for
 * its threads only (the rest comes from the header). Memory as for
 * seal_fd. From a regular file, chunks are verified a batch at a time
 * (seal_fd's buffer), each written only after it verified; on two
 * threads a batch is verified once it is hashed (from a pipe: once the
 * next chunk arrived or the input ended).
 * Errors: those of the reader, COFFER_E_TRUNCATED, COFFER_E_IO.
 */
int coffer_sealed_open_fd(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, int in, int out,
    struct coffer_sealed_info *info, uint64_t *written)
	__attribute__((warn_unused_result));

/*
 * Without a key: check the header and the framing (R1-R7, R9-R11) of the
 * stream read from in and compute its digest. Nothing is authenticated.
 */
int coffer_sealed_inspect_fd(int in, struct coffer_sealed_info *info)
	__attribute__((warn_unused_result));

/* Random access to a sealed regular file through pread(2). */
struct coffer_sealed_file;

/*
 * Check the header and the key (R1-R11) of the regular file open at fd
 * (borrowed: the caller closes it after _free). Errors: those of
 * coffer_sealed_reader_new and coffer_sealed_layout, COFFER_E_IO (not a
 * regular file, read error).
 */
int coffer_sealed_file_new(const uint8_t key[COFFER_SEALED_KEY_LEN], int fd,
    struct coffer_sealed_file **out) __attribute__((warn_unused_result));
/* Header fields, chunks, sizes (no digest). */
const struct coffer_sealed_info *coffer_sealed_file_info(
    const struct coffer_sealed_file *f);
/*
 * Read, verify and decrypt chunk index (0-based) into pt, which holds
 * ptmax bytes (the chunk size suffices); *ptlen gets its length. Reads
 * only that chunk. Errors: COFFER_E_INVAL (no such chunk, pt too small),
 * COFFER_E_AUTH, COFFER_E_TRUNCATED (the file shrank), COFFER_E_IO.
 */
int coffer_sealed_file_chunk(struct coffer_sealed_file *f, uint64_t index,
    uint8_t *pt, size_t ptmax, size_t *ptlen)
	__attribute__((warn_unused_result));
void coffer_sealed_file_free(struct coffer_sealed_file *f);

/* ------------------------------------------------------------------ */
/* In memory. */

/* Seal pt[0..n) and append the sealed file to out. */
int coffer_sealed_seal_mem(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, const uint8_t *pt, size_t n,
    struct coffer_buf *out, struct coffer_sealed_info *info)
	__attribute__((warn_unused_result));

/* The same with the header's salt given (coffer_sealed_writer_new_salted). */
int coffer_sealed_seal_mem_salted(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, const uint8_t *salt,
    const uint8_t *pt, size_t n, struct coffer_buf *out,
    struct coffer_sealed_info *info) __attribute__((warn_unused_result));

/* Verify and open the sealed file in[0..n) and append the plaintext to pt
 * (use a secret buffer). On failure pt is left as it was (anything
 * appended is wiped). info may be NULL: then the content digest is not
 * computed (the same verdicts, one SHA-256 pass fewer). */
int coffer_sealed_open_mem(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const uint8_t *in, size_t n, struct coffer_buf *pt,
    struct coffer_sealed_info *info) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ */
/* A data key kept for many files in memory (a worker's job keys). */

struct coffer_sealed_key;

/*
 * Keep key for the _key_ functions below: its key id is computed once,
 * and one writer's and one reader's contexts (AEAD, SHA-256) are made
 * once and keyed again for every file instead of made and freed (the
 * per-file key schedule of section 4 is the format's and is not saved).
 * key is borrowed: it must stay in place and unchanged until _free (a
 * worker's key page). The files written and the verdicts are those of
 * coffer_sealed_seal_mem_salted and coffer_sealed_open_mem, byte for
 * byte, also after a failure. One thread at a time. The contexts hold
 * the payload key of the last file until the next one or _free, which
 * wipes them. Errors: COFFER_E_NOMEM, COFFER_E_CRYPTO.
 */
int coffer_sealed_key_new(const uint8_t key[COFFER_SEALED_KEY_LEN],
    struct coffer_sealed_key **out) __attribute__((warn_unused_result));
/* Wipe and free. NULL is a no-op. */
void coffer_sealed_key_free(struct coffer_sealed_key *k);
/* coffer_sealed_seal_mem_salted under k's key (salt NULL: random). */
int coffer_sealed_key_seal_mem(struct coffer_sealed_key *k,
    const struct coffer_sealed_opts *opts, const uint8_t *salt,
    const uint8_t *pt, size_t n, struct coffer_buf *out,
    struct coffer_sealed_info *info) __attribute__((warn_unused_result));
/* coffer_sealed_open_mem under k's key without the content digest (the
 * caller computed it: a worker checks it against the policy's before it
 * opens anything). */
int coffer_sealed_key_open_mem(struct coffer_sealed_key *k, const uint8_t *in,
    size_t n, struct coffer_buf *pt) __attribute__((warn_unused_result));
/* For sealed_mem.c: k's own writer or reader, started for a new file as
 * coffer_sealed_writer_new_salted and coffer_sealed_reader_new (the
 * reader without the digest) would; valid until the next call on k, and
 * never freed by the caller. */
int coffer_sealed_key_writer(struct coffer_sealed_key *k,
    const struct coffer_sealed_opts *opts, const uint8_t *salt,
    struct coffer_sealed_writer **w) __attribute__((warn_unused_result));
int coffer_sealed_key_reader(struct coffer_sealed_key *k, const uint8_t *hdr,
    size_t len, struct coffer_sealed_reader **rd)
	__attribute__((warn_unused_result));

#endif
