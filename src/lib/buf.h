/* SPDX-License-Identifier: Apache-2.0 */
/* The bounded byte buffer used everywhere, and a read cursor for parsing
 * wire formats out of memory that someone else owns. */
#ifndef COFFER_LIB_BUF_H
#define COFFER_LIB_BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A growable byte buffer with a hard maximum size. data is always
 * NUL-terminated (data[len] == 0) once anything was put, so text can be
 * built in it; data is NULL while nothing was ever put.
 *
 * Writes append at len; reads (coffer_buf_get_*) consume from off. A write
 * that would make len exceed max fails with COFFER_E_LIMIT and changes
 * nothing. A secret buffer wipes every region it gives back to the
 * allocator, on growth as well as on release.
 */
struct coffer_buf {
	uint8_t *data;
	size_t len;   /* bytes stored */
	size_t alloc; /* bytes allocated, excluding nothing: alloc > len */
	size_t max;   /* limit on len */
	size_t off;   /* read cursor, off <= len */
	int secret;   /* wipe on growth and release */
};

#define COFFER_BUF_MAX_DEFAULT ((size_t)64 << 20)
#define COFFER_BUF_INIT(max_) { NULL, 0, 0, (max_), 0, 0 }
#define COFFER_BUF_INIT_SECRET(max_) { NULL, 0, 0, (max_), 0, 1 }

void coffer_buf_init(struct coffer_buf *b, size_t max);
void coffer_buf_init_secret(struct coffer_buf *b, size_t max);
/* Free the storage (wiping it if the buffer is secret); b may be reused. */
void coffer_buf_release(struct coffer_buf *b);
/* Wipe then free, whatever the buffer's flag. */
void coffer_buf_release_secret(struct coffer_buf *b);
/* dst (released first) takes src's storage with the n bytes at offset off
 * of src moved to its start, instead of a copy of them; src is left empty,
 * as released (a secret src wipes the bytes it leaves behind). Errors:
 * COFFER_E_INVAL (off + n past src's bytes, or src secret and dst not),
 * COFFER_E_LIMIT (n > dst->max); then neither changes. */
int coffer_buf_take(struct coffer_buf *dst, struct coffer_buf *src, size_t off,
    size_t n) __attribute__((warn_unused_result));
/* Forget the contents (len = off = 0), keep the storage. Secret: wipes. */
void coffer_buf_reset(struct coffer_buf *b);

/* Make room for n more bytes and return where they go in *p; the caller
 * then writes them and calls coffer_buf_commit(b, n). */
int coffer_buf_reserve(struct coffer_buf *b, size_t n, uint8_t **p)
	__attribute__((warn_unused_result));
void coffer_buf_commit(struct coffer_buf *b, size_t n);

int coffer_buf_put(struct coffer_buf *b, const void *p, size_t n)
	__attribute__((warn_unused_result));
int coffer_buf_puts(struct coffer_buf *b, const char *s)
	__attribute__((warn_unused_result));
int coffer_buf_putf(struct coffer_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
int coffer_buf_put_u8(struct coffer_buf *b, uint8_t v)
	__attribute__((warn_unused_result));
int coffer_buf_put_u16be(struct coffer_buf *b, uint16_t v)
	__attribute__((warn_unused_result));
int coffer_buf_put_u32be(struct coffer_buf *b, uint32_t v)
	__attribute__((warn_unused_result));
int coffer_buf_put_u64be(struct coffer_buf *b, uint64_t v)
	__attribute__((warn_unused_result));
int coffer_buf_put_u16le(struct coffer_buf *b, uint16_t v)
	__attribute__((warn_unused_result));
int coffer_buf_put_u32le(struct coffer_buf *b, uint32_t v)
	__attribute__((warn_unused_result));
int coffer_buf_put_u64le(struct coffer_buf *b, uint64_t v)
	__attribute__((warn_unused_result));

/* Unread bytes (len - off) and a pointer to them. */
size_t coffer_buf_avail(const struct coffer_buf *b);
const uint8_t *coffer_buf_ptr(const struct coffer_buf *b);
/* The whole contents as a C string ("" when empty). */
const char *coffer_buf_str(const struct coffer_buf *b);

/* Typed reads from the cursor; COFFER_E_TRUNCATED if not enough bytes,
 * and then nothing is consumed. */
int coffer_buf_get(struct coffer_buf *b, void *out, size_t n)
	__attribute__((warn_unused_result));

/*
 * Hand the storage to the caller (who frees it, with coffer_free_secret for
 * a secret buffer) and leave b empty. *len gets the byte count; the data is
 * NUL-terminated. An empty buffer yields an allocated "".
 */
int coffer_buf_detach(struct coffer_buf *b, uint8_t **out, size_t *len)
	__attribute__((warn_unused_result));

/*
 * A bounds-checked read cursor over memory owned by someone else. Every
 * get fails with COFFER_E_TRUNCATED, consuming nothing, when fewer bytes
 * remain than asked for.
 */
struct coffer_cur {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void coffer_cur_init(struct coffer_cur *c, const void *p, size_t len);
size_t coffer_cur_left(const struct coffer_cur *c);
int coffer_cur_skip(struct coffer_cur *c, size_t n)
	__attribute__((warn_unused_result));
/* Point *p at the next n bytes (no copy) and consume them. */
int coffer_cur_ptr(struct coffer_cur *c, size_t n, const uint8_t **p)
	__attribute__((warn_unused_result));
int coffer_cur_get(struct coffer_cur *c, void *out, size_t n)
	__attribute__((warn_unused_result));
int coffer_cur_u8(struct coffer_cur *c, uint8_t *v)
	__attribute__((warn_unused_result));
int coffer_cur_u16be(struct coffer_cur *c, uint16_t *v)
	__attribute__((warn_unused_result));
int coffer_cur_u32be(struct coffer_cur *c, uint32_t *v)
	__attribute__((warn_unused_result));
int coffer_cur_u64be(struct coffer_cur *c, uint64_t *v)
	__attribute__((warn_unused_result));
int coffer_cur_u16le(struct coffer_cur *c, uint16_t *v)
	__attribute__((warn_unused_result));
int coffer_cur_u32le(struct coffer_cur *c, uint32_t *v)
	__attribute__((warn_unused_result));
int coffer_cur_u64le(struct coffer_cur *c, uint64_t *v)
	__attribute__((warn_unused_result));

/* Byte-order helpers for fixed-layout formats. */
static inline uint16_t coffer_load_u16le(const uint8_t *p)
{ return (uint16_t)(p[0] | (uint16_t)p[1] << 8); }
static inline uint32_t coffer_load_u32le(const uint8_t *p)
{ return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t coffer_load_u64le(const uint8_t *p)
{ return (uint64_t)coffer_load_u32le(p) | (uint64_t)coffer_load_u32le(p + 4) << 32; }
static inline uint16_t coffer_load_u16be(const uint8_t *p)
{ return (uint16_t)((uint16_t)p[0] << 8 | p[1]); }
static inline uint32_t coffer_load_u32be(const uint8_t *p)
{ return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3]; }
static inline uint64_t coffer_load_u64be(const uint8_t *p)
{ return (uint64_t)coffer_load_u32be(p) << 32 | (uint64_t)coffer_load_u32be(p + 4); }
static inline void coffer_store_u32be(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static inline void coffer_store_u64be(uint8_t *p, uint64_t v)
{ coffer_store_u32be(p, (uint32_t)(v >> 32)); coffer_store_u32be(p + 4, (uint32_t)v); }
static inline void coffer_store_u32le(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static inline void coffer_store_u64le(uint8_t *p, uint64_t v)
{ coffer_store_u32le(p, (uint32_t)v); coffer_store_u32le(p + 4, (uint32_t)(v >> 32)); }

#endif
