// SPDX-License-Identifier: Apache-2.0
// The bounded byte buffer and the read cursor (lib/buf.h).
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/mem.h"

void
coffer_buf_init(struct coffer_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
coffer_buf_init_secret(struct coffer_buf *b, size_t max)
{
	coffer_buf_init(b, max);
	b->secret = 1;
}

void
coffer_buf_release(struct coffer_buf *b)
{
	if (b->secret)
		coffer_free_secret(b->data, b->alloc);
	else
		free(b->data);
	b->data = NULL;
	b->len = b->alloc = b->off = 0;
}

void
coffer_buf_release_secret(struct coffer_buf *b)
{
	coffer_free_secret(b->data, b->alloc);
	b->data = NULL;
	b->len = b->alloc = b->off = 0;
}

int
coffer_buf_take(struct coffer_buf *dst, struct coffer_buf *src, size_t off,
    size_t n)
{
	if (src->data == NULL || off > src->len || n > src->len - off ||
	    (src->secret && !dst->secret))
		return coffer_errf(COFFER_E_INVAL, "buffer: nothing to take there");
	if (n > dst->max)
		return coffer_errf(COFFER_E_LIMIT, "buffer: %zu bytes over the limit"
		    " of %zu", n, dst->max);
	coffer_buf_release(dst);
	memmove(src->data, src->data + off, n);
	if (src->secret)
		coffer_wipe(src->data + n, src->len - n);
	src->data[n] = '\0';
	dst->data = src->data;
	dst->len = n;
	dst->alloc = src->alloc;
	dst->off = 0;
	src->data = NULL;
	src->len = src->alloc = src->off = 0;
	return 0;
}

void
coffer_buf_reset(struct coffer_buf *b)
{
	if (b->data != NULL) {
		if (b->secret)
			coffer_wipe(b->data, b->len);
		b->data[0] = '\0';
	}
	b->len = b->off = 0;
}

/* Grow to hold need bytes plus the NUL. A secret buffer never uses realloc,
 * which could leave a copy of the secret in freed memory. */
static int
grow(struct coffer_buf *b, size_t need)
{
	size_t nalloc;
	uint8_t *p;

	if (need + 1 <= b->alloc)
		return 0;
	nalloc = b->alloc < 64 ? 64 : b->alloc;
	/* An empty buffer filled at once (an object read whole, an item
	 * opened or sealed into it) gets what it asks for: doubling is for
	 * appends, and a doubled big buffer would hold up to twice its bytes,
	 * all of them resident once a secret one's release wipes them
	 * (doc/worker.md 9.4, "Memory"). */
	if (b->len == 0 && nalloc < need + 1)
		nalloc = need + 1;
	while (nalloc < need + 1)
		nalloc = nalloc > SIZE_MAX / 2 ? need + 1 : nalloc * 2;
	if (b->max < SIZE_MAX && nalloc > b->max + 1)
		nalloc = b->max + 1;
	if (b->secret) {
		if ((p = coffer_malloc(nalloc)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "buffer of %zu bytes", nalloc);
		if (b->data != NULL) {
			memcpy(p, b->data, b->len + 1);
			coffer_free_secret(b->data, b->alloc);
		}
	} else if ((p = realloc(b->data, nalloc)) == NULL) {
		return coffer_errf(COFFER_E_NOMEM, "buffer of %zu bytes", nalloc);
	}
	if (b->data == NULL)
		p[0] = '\0';
	b->data = p;
	b->alloc = nalloc;
	return 0;
}

int
coffer_buf_reserve(struct coffer_buf *b, size_t n, uint8_t **p)
{
	int r;

	if (n > b->max || b->len > b->max - n)
		return coffer_errf(COFFER_E_LIMIT,
		    "buffer limit of %zu bytes exceeded", b->max);
	if ((r = grow(b, b->len + n)) != 0)
		return r;
	*p = b->data + b->len;
	return 0;
}

void
coffer_buf_commit(struct coffer_buf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

int
coffer_buf_put(struct coffer_buf *b, const void *p, size_t n)
{
	uint8_t *w;
	int r;

	if ((r = coffer_buf_reserve(b, n, &w)) != 0)
		return r;
	if (n > 0)
		memcpy(w, p, n);
	coffer_buf_commit(b, n);
	return 0;
}

int
coffer_buf_puts(struct coffer_buf *b, const char *s)
{
	return coffer_buf_put(b, s, strlen(s));
}

int
coffer_buf_putf(struct coffer_buf *b, const char *fmt, ...)
{
	va_list ap;
	uint8_t *w;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return coffer_errf(COFFER_E_INVAL, "bad format string");
	if ((r = coffer_buf_reserve(b, (size_t)n, &w)) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)w, (size_t)n + 1, fmt, ap);
	va_end(ap);
	coffer_buf_commit(b, (size_t)n);
	return 0;
}

int
coffer_buf_put_u8(struct coffer_buf *b, uint8_t v)
{
	return coffer_buf_put(b, &v, 1);
}

int
coffer_buf_put_u16be(struct coffer_buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return coffer_buf_put(b, p, sizeof(p));
}

int
coffer_buf_put_u32be(struct coffer_buf *b, uint32_t v)
{
	uint8_t p[4];

	coffer_store_u32be(p, v);
	return coffer_buf_put(b, p, sizeof(p));
}

int
coffer_buf_put_u64be(struct coffer_buf *b, uint64_t v)
{
	uint8_t p[8];

	coffer_store_u64be(p, v);
	return coffer_buf_put(b, p, sizeof(p));
}

int
coffer_buf_put_u16le(struct coffer_buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	return coffer_buf_put(b, p, sizeof(p));
}

int
coffer_buf_put_u32le(struct coffer_buf *b, uint32_t v)
{
	uint8_t p[4];

	coffer_store_u32le(p, v);
	return coffer_buf_put(b, p, sizeof(p));
}

int
coffer_buf_put_u64le(struct coffer_buf *b, uint64_t v)
{
	uint8_t p[8];

	coffer_store_u64le(p, v);
	return coffer_buf_put(b, p, sizeof(p));
}

size_t
coffer_buf_avail(const struct coffer_buf *b)
{
	return b->len - b->off;
}

const uint8_t *
coffer_buf_ptr(const struct coffer_buf *b)
{
	static const uint8_t empty[1];

	return b->data != NULL ? b->data + b->off : empty;
}

const char *
coffer_buf_str(const struct coffer_buf *b)
{
	return b->data != NULL ? (const char *)b->data : "";
}

int
coffer_buf_get(struct coffer_buf *b, void *out, size_t n)
{
	if (coffer_buf_avail(b) < n)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "need %zu bytes, %zu left", n, coffer_buf_avail(b));
	if (n > 0)
		memcpy(out, b->data + b->off, n);
	b->off += n;
	return 0;
}

int
coffer_buf_detach(struct coffer_buf *b, uint8_t **out, size_t *len)
{
	int r;

	if (b->data == NULL && (r = grow(b, 0)) != 0)
		return r;
	*out = b->data;
	*len = b->len;
	b->data = NULL;
	b->len = b->alloc = b->off = 0;
	return 0;
}

void
coffer_cur_init(struct coffer_cur *c, const void *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
}

size_t
coffer_cur_left(const struct coffer_cur *c)
{
	return c->len - c->off;
}

int
coffer_cur_ptr(struct coffer_cur *c, size_t n, const uint8_t **p)
{
	if (coffer_cur_left(c) < n)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "need %zu bytes at offset %zu, %zu left", n, c->off,
		    coffer_cur_left(c));
	*p = c->p + c->off;
	c->off += n;
	return 0;
}

int
coffer_cur_skip(struct coffer_cur *c, size_t n)
{
	const uint8_t *p;

	return coffer_cur_ptr(c, n, &p);
}

int
coffer_cur_get(struct coffer_cur *c, void *out, size_t n)
{
	const uint8_t *p;
	int r;

	if ((r = coffer_cur_ptr(c, n, &p)) != 0)
		return r;
	if (n > 0)
		memcpy(out, p, n);
	return 0;
}

#define CUR_GET(name, type, load)                                     \
	int name(struct coffer_cur *c, type *v)                         \
	{                                                               \
		const uint8_t *p;                                       \
		int r;                                                  \
		if ((r = coffer_cur_ptr(c, sizeof(type), &p)) != 0)     \
			return r;                                       \
		*v = load(p);                                           \
		return 0;                                               \
	}

static inline uint8_t load_u8(const uint8_t *p) { return p[0]; }
CUR_GET(coffer_cur_u8, uint8_t, load_u8)
CUR_GET(coffer_cur_u16be, uint16_t, coffer_load_u16be)
CUR_GET(coffer_cur_u32be, uint32_t, coffer_load_u32be)
CUR_GET(coffer_cur_u64be, uint64_t, coffer_load_u64be)
CUR_GET(coffer_cur_u16le, uint16_t, coffer_load_u16le)
CUR_GET(coffer_cur_u32le, uint32_t, coffer_load_u32le)
CUR_GET(coffer_cur_u64le, uint64_t, coffer_load_u64le)
