// SPDX-License-Identifier: Apache-2.0
// The sealed format's core (doc/format/sealed.md): header, key schedule and
// the STREAM chunk construction, as a push writer and a pull reader that
// any transport (fds, memory, later HTTP bodies) drives.
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "coffer/error.h"
#include "crypto/aead.h"
#include "crypto/datakey.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/sealed.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "lib/random.h"

/* Section 3: header offsets. */
#define OFF_VERSION 8
#define OFF_SUITE 9
#define OFF_RESERVED 10
#define OFF_CHUNK 12
#define OFF_KEYID 16
#define OFF_SALT 32
#define OFF_COMMIT 64
#define H64_LEN 64

#define PREFIX_LEN 7
#define NONCE_LEN 12

static const uint8_t MAGIC[8] = { 0x89, 'C', 'O', 'F', 'F', 'E', 'R', 0x0a };

/* Section 4: HKDF info labels, followed by H64. */
#define LABEL_COMMIT "coffer/v1/sealed/commitment"
#define LABEL_PAYLOAD "coffer/v1/sealed/payload"

/* Where a writer or reader is: chunks may be pushed or pulled only while
 * OPEN; _finish only once ENDED (by the last chunk), after which the
 * digest is spent. */
enum stream_state {
	STREAM_OPEN = 0,
	STREAM_ENDED = 1,
	STREAM_FINISHED = 2,
	STREAM_FAILED = -1,
};

static int
state_err(int state)
{
	switch (state) {
	case STREAM_ENDED:
		return coffer_errf(COFFER_E_STATE,
		    "sealed stream already ended with its last chunk");
	case STREAM_FINISHED:
		return coffer_errf(COFFER_E_STATE, "sealed stream already finished");
	case STREAM_OPEN:
		return coffer_errf(COFFER_E_STATE,
		    "sealed stream not ended with its last chunk");
	}
	return coffer_errf(COFFER_E_STATE, "sealed stream failed earlier");
}

struct coffer_sealed_writer {
	struct coffer_aead *aead;
	struct coffer_hash *hash;
	uint8_t header[COFFER_SEALED_HEADER_LEN];
	uint8_t prefix[PREFIX_LEN];
	uint32_t chunk_size;
	uint64_t next;      /* index of the next chunk */
	uint64_t ptsize;
	uint64_t sealed;    /* bytes produced, header included */
	int state;          /* enum stream_state */
	int no_digest;      /* the caller hashes (digest_elsewhere) */
};

struct coffer_sealed_reader {
	struct coffer_aead *aead;
	struct coffer_hash *hash;
	uint8_t header[COFFER_SEALED_HEADER_LEN];
	uint8_t prefix[PREFIX_LEN];
	struct coffer_sealed_info info;
	uint64_t next;
	uint64_t ptsize;
	uint64_t sealed;
	int state;          /* enum stream_state */
	int no_digest;      /* the caller hashes (digest_elsewhere) */
};

const char *
coffer_sealed_suite_name(int suite)
{
	switch (suite) {
	case COFFER_SEALED_AES256GCM: return "AES-256-GCM";
	case COFFER_SEALED_CHACHA20POLY1305: return "ChaCha20-Poly1305";
	}
	return NULL;
}

int
coffer_sealed_suite_parse(const char *s, int *suite)
{
	if (strcasecmp(s, "aes-256-gcm") == 0 || strcmp(s, "1") == 0)
		*suite = COFFER_SEALED_AES256GCM;
	else if (strcasecmp(s, "chacha20-poly1305") == 0 || strcmp(s, "2") == 0)
		*suite = COFFER_SEALED_CHACHA20POLY1305;
	else
		return coffer_errf(COFFER_E_UNSUPPORTED,
		    "suite '%s' is unknown (aes-256-gcm or chacha20-poly1305)", s);
	return 0;
}

static int
aead_alg(int suite, enum coffer_aead_alg *alg)
{
	switch (suite) {
	case COFFER_SEALED_AES256GCM:
		*alg = COFFER_AEAD_AES256GCM;
		return 0;
	case COFFER_SEALED_CHACHA20POLY1305:
		*alg = COFFER_AEAD_CHACHA20POLY1305;
		return 0;
	}
	return coffer_errf(COFFER_E_UNSUPPORTED,
	    "sealed header: suite %d is unknown (1 = AES-256-GCM, "
	    "2 = ChaCha20-Poly1305)", suite);
}

static int
chunk_size_ok(uint32_t c)
{
	return c >= COFFER_SEALED_CHUNK_MIN && c <= COFFER_SEALED_CHUNK_MAX &&
	    (c & (c - 1)) == 0;
}

/*
 * Section 4. From the data key and the 64 header bytes before the
 * commitment: the commitment, an AEAD context keyed with the payload key
 * for direction dir (*aead re-keyed if it is one already, else made), and
 * the nonce prefix. Every intermediate secret is wiped.
 */
static int
key_schedule(const uint8_t key[COFFER_SEALED_KEY_LEN], const uint8_t h64[H64_LEN],
    uint8_t commit[COFFER_SEALED_COMMIT_LEN], int dir, struct coffer_aead **aead,
    uint8_t prefix[PREFIX_LEN])
{
	uint8_t prk[COFFER_HKDF_SHA256_PRK_LEN];
	uint8_t kn[COFFER_AEAD_KEY_LEN + PREFIX_LEN];
	uint8_t info[sizeof(LABEL_COMMIT) - 1 + H64_LEN];
	enum coffer_aead_alg alg = COFFER_AEAD_AES256GCM;
	struct coffer_hmac *h;
	int r;

	if ((r = aead_alg(h64[OFF_SUITE], &alg)) != 0)
		return r;
	if ((r = coffer_hkdf_sha256_extract(h64 + OFF_SALT,
	    COFFER_SEALED_SALT_LEN, key, COFFER_SEALED_KEY_LEN, prk)) != 0)
		goto out;
	/* Both expansions from one keying of the PRK (this thread's HMAC
	 * context, which nothing else uses meanwhile). */
	if ((h = coffer_hmac_thread()) == NULL) {
		r = coffer_errf(COFFER_E_CRYPTO, "sealed key schedule: no HMAC context");
		goto out;
	}
	if ((r = coffer_hmac_key(h, prk, sizeof(prk))) != 0)
		goto out;
	memcpy(info, LABEL_COMMIT, sizeof(LABEL_COMMIT) - 1);
	memcpy(info + sizeof(LABEL_COMMIT) - 1, h64, H64_LEN);
	if ((r = coffer_hkdf_sha256_expand_with(h, info,
	    sizeof(LABEL_COMMIT) - 1 + H64_LEN, commit,
	    COFFER_SEALED_COMMIT_LEN)) != 0)
		goto out;
	memcpy(info, LABEL_PAYLOAD, sizeof(LABEL_PAYLOAD) - 1);
	memcpy(info + sizeof(LABEL_PAYLOAD) - 1, h64, H64_LEN);
	if ((r = coffer_hkdf_sha256_expand_with(h, info,
	    sizeof(LABEL_PAYLOAD) - 1 + H64_LEN, kn, sizeof(kn))) != 0)
		goto out;
	if ((r = *aead != NULL ? coffer_aead_rekey(*aead, alg, kn,
	    COFFER_AEAD_KEY_LEN) : coffer_aead_new_dir(alg, dir, kn,
	    COFFER_AEAD_KEY_LEN, aead)) != 0)
		goto out;
	memcpy(prefix, kn + COFFER_AEAD_KEY_LEN, PREFIX_LEN);
out:
	coffer_wipe(prk, sizeof(prk));
	coffer_wipe(kn, sizeof(kn));
	return r;
}

/* Section 8: the content digest, started with the header; *h reset if it
 * is a context already (a kept writer or reader), else made. */
static int
digest_start(struct coffer_hash **h, const uint8_t header[COFFER_SEALED_HEADER_LEN])
{
	int r;

	if ((r = *h != NULL ? coffer_hash_reset(*h) :
	    coffer_hash_new(COFFER_HASH_SHA256, h)) != 0)
		return r;
	return coffer_hash_update(*h, header, COFFER_SEALED_HEADER_LEN);
}

/* Section 5: prefix (7) || BE32(i) || last (1). */
static void
nonce_of(const uint8_t prefix[PREFIX_LEN], uint64_t i, int last,
    uint8_t nonce[NONCE_LEN])
{
	memcpy(nonce, prefix, PREFIX_LEN);
	coffer_store_u32be(nonce + PREFIX_LEN, (uint32_t)i);
	nonce[NONCE_LEN - 1] = last ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Header without a key: section 6.1, rules R1-R7. */

int
coffer_sealed_header_parse(const uint8_t *p, size_t len,
    struct coffer_sealed_info *info)
{
	size_t m = len < sizeof(MAGIC) ? len : sizeof(MAGIC);
	uint32_t c;

	/* R1 before R2/R4: a short text file is "not sealed", not "short". */
	if (memcmp(p, MAGIC, m) != 0)
		return coffer_errf(COFFER_E_FORMAT,
		    "not a Coffer sealed file (its first bytes are not the "
		    "sealed-format magic)");
	if (len == 0)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "empty file (a sealed file has at least %d bytes)",
		    COFFER_SEALED_HEADER_LEN + COFFER_SEALED_TAG_LEN);
	if (len <= OFF_VERSION)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "%zu bytes, shorter than the %d-byte sealed header", len,
		    COFFER_SEALED_HEADER_LEN);
	if (p[OFF_VERSION] != COFFER_SEALED_VERSION)
		return coffer_errf(COFFER_E_VERSION,
		    "sealed format version %u is not supported (this Coffer "
		    "reads version %d)", p[OFF_VERSION], COFFER_SEALED_VERSION);
	if (len < COFFER_SEALED_HEADER_LEN)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "%zu bytes, shorter than the %d-byte sealed header", len,
		    COFFER_SEALED_HEADER_LEN);
	if (coffer_sealed_suite_name(p[OFF_SUITE]) == NULL)
		return coffer_errf(COFFER_E_UNSUPPORTED,
		    "sealed header: suite %u is unknown (1 = AES-256-GCM, "
		    "2 = ChaCha20-Poly1305)", p[OFF_SUITE]);
	if (p[OFF_RESERVED] != 0 || p[OFF_RESERVED + 1] != 0)
		return coffer_errf(COFFER_E_FORMAT,
		    "sealed header: reserved bytes 10-11 are %02x %02x, must "
		    "be zero", p[OFF_RESERVED], p[OFF_RESERVED + 1]);
	c = coffer_load_u32be(p + OFF_CHUNK);
	if (!chunk_size_ok(c))
		return coffer_errf(COFFER_E_FORMAT,
		    "sealed header: chunk size %u is not a power of two in "
		    "[%u, %u]", c, COFFER_SEALED_CHUNK_MIN,
		    COFFER_SEALED_CHUNK_MAX);
	memset(info, 0, sizeof(*info));
	info->version = p[OFF_VERSION];
	info->suite = p[OFF_SUITE];
	info->chunk_size = c;
	memcpy(info->key_id, p + OFF_KEYID, COFFER_SEALED_KEY_ID_LEN);
	memcpy(info->salt, p + OFF_SALT, COFFER_SEALED_SALT_LEN);
	memcpy(info->commitment, p + OFF_COMMIT, COFFER_SEALED_COMMIT_LEN);
	return 0;
}

/* Section 2, rules R9-R11. */
int
coffer_sealed_layout(uint32_t chunk_size, uint64_t sealed_size,
    uint64_t *chunks, uint64_t *plaintext_size)
{
	uint64_t full = (uint64_t)chunk_size + COFFER_SEALED_TAG_LEN, body, q, rem;

	if (!chunk_size_ok(chunk_size))
		return coffer_errf(COFFER_E_FORMAT, "chunk size %u is invalid",
		    chunk_size);
	if (sealed_size < COFFER_SEALED_HEADER_LEN)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "%llu bytes, shorter than the %d-byte sealed header",
		    (unsigned long long)sealed_size, COFFER_SEALED_HEADER_LEN);
	body = sealed_size - COFFER_SEALED_HEADER_LEN;
	q = body / full;
	rem = body % full;
	if (body == 0)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "the file ends after the header: no last chunk");
	if (rem == 0)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "the file ends after chunk %llu, a full chunk, without its "
		    "last chunk (truncated at a chunk boundary)",
		    (unsigned long long)(q - 1));
	if (rem < COFFER_SEALED_TAG_LEN)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "the last chunk (%llu) is %llu bytes, shorter than its "
		    "%d-byte tag", (unsigned long long)q,
		    (unsigned long long)rem, COFFER_SEALED_TAG_LEN);
	if (q >= COFFER_SEALED_MAX_CHUNKS)
		return coffer_errf(COFFER_E_FORMAT,
		    "the file would have %llu chunks, more than 2^32",
		    (unsigned long long)q + 1);
	*chunks = q + 1;
	*plaintext_size = q * chunk_size + rem - COFFER_SEALED_TAG_LEN;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Writer (section 10). */

int
coffer_sealed_writer_new(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, struct coffer_sealed_writer **out)
{
	return coffer_sealed_writer_new_salted(key, opts, NULL, out);
}

/* Set w up for a new file under key, whose key id is id: header, salt,
 * key schedule, digest. w's contexts are re-keyed when it has them (a
 * kept writer, struct coffer_sealed_key), else made. */
static int
writer_start(struct coffer_sealed_writer *w, const uint8_t key[COFFER_SEALED_KEY_LEN],
    const uint8_t id[COFFER_SEALED_KEY_ID_LEN], int suite, uint32_t c,
    const uint8_t *salt)
{
	int r;

	memset(w->header, 0, sizeof(w->header));
	w->chunk_size = c;
	memcpy(w->header, MAGIC, sizeof(MAGIC));
	w->header[OFF_VERSION] = COFFER_SEALED_VERSION;
	w->header[OFF_SUITE] = (uint8_t)suite;
	coffer_store_u32be(w->header + OFF_CHUNK, c);
	memcpy(w->header + OFF_KEYID, id, COFFER_SEALED_KEY_ID_LEN);
	if (salt != NULL)
		memcpy(w->header + OFF_SALT, salt, COFFER_SEALED_SALT_LEN);
	else if ((r = coffer_random(w->header + OFF_SALT, COFFER_SEALED_SALT_LEN)) != 0)
		return r;
	if ((r = key_schedule(key, w->header, w->header + OFF_COMMIT,
	    COFFER_AEAD_ENCRYPT, &w->aead, w->prefix)) != 0)
		return r;
	if (!w->no_digest && (r = digest_start(&w->hash, w->header)) != 0)
		return r;
	w->next = 0;
	w->ptsize = 0;
	w->sealed = COFFER_SEALED_HEADER_LEN;
	w->state = STREAM_OPEN;
	return 0;
}

/* The suite and chunk size of opts, checked. */
static int
writer_opts(const struct coffer_sealed_opts *opts, int *suite, uint32_t *c)
{
	enum coffer_aead_alg alg = COFFER_AEAD_AES256GCM;
	int r;

	*suite = opts != NULL && opts->suite != 0 ? opts->suite :
	    COFFER_SEALED_AES256GCM;
	*c = opts != NULL && opts->chunk_size != 0 ? opts->chunk_size :
	    COFFER_SEALED_CHUNK_DEFAULT;
	if ((r = aead_alg(*suite, &alg)) != 0)
		return r;
	if (!chunk_size_ok(*c))
		return coffer_errf(COFFER_E_INVAL,
		    "chunk size %u is not a power of two in [%u, %u]", *c,
		    COFFER_SEALED_CHUNK_MIN, COFFER_SEALED_CHUNK_MAX);
	return 0;
}

int
coffer_sealed_writer_new_salted(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const struct coffer_sealed_opts *opts, const uint8_t *salt,
    struct coffer_sealed_writer **out)
{
	struct coffer_sealed_writer *w = NULL;
	uint8_t id[COFFER_SEALED_KEY_ID_LEN];
	uint32_t c;
	int suite, r;

	if ((r = writer_opts(opts, &suite, &c)) != 0)
		return r;
	if ((w = coffer_calloc(1, sizeof(*w))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "sealed writer");
	if ((r = coffer_datakey_id(key, id)) != 0 ||
	    (r = writer_start(w, key, id, suite, c, salt)) != 0) {
		coffer_sealed_writer_free(w);
		return r;
	}
	*out = w;
	return 0;
}

const uint8_t *
coffer_sealed_writer_header(const struct coffer_sealed_writer *w)
{
	return w->header;
}

uint32_t
coffer_sealed_writer_chunk_size(const struct coffer_sealed_writer *w)
{
	return w->chunk_size;
}

int
coffer_sealed_writer_push(struct coffer_sealed_writer *w, const uint8_t *pt,
    size_t n, uint8_t *out)
{
	uint8_t nonce[NONCE_LEN];
	int last = n < w->chunk_size, r;

	if (w->state != STREAM_OPEN)
		return state_err(w->state);
	if (n > w->chunk_size)
		return coffer_errf(COFFER_E_INVAL,
		    "chunk of %zu bytes exceeds the chunk size %u", n,
		    w->chunk_size);
	/* A full chunk at the last index would need a chunk 2^32 after it. */
	if (!last && w->next >= COFFER_SEALED_MAX_CHUNKS - 1) {
		w->state = STREAM_FAILED;
		return coffer_errf(COFFER_E_LIMIT,
		    "plaintext too long: more than 2^32 chunks of %u bytes",
		    w->chunk_size);
	}
	nonce_of(w->prefix, w->next, last, nonce);
	if ((r = coffer_aead_encrypt(w->aead, nonce, w->header,
	    sizeof(w->header), pt, n, out, out + n)) != 0 ||
	    (!w->no_digest && (r = coffer_hash_update(w->hash, out,
	    n + COFFER_SEALED_TAG_LEN)) != 0)) {
		w->state = STREAM_FAILED;
		return r;
	}
	w->next++;
	w->ptsize += n;
	w->sealed += n + COFFER_SEALED_TAG_LEN;
	if (last)
		w->state = STREAM_ENDED;
	return 0;
}

int
coffer_sealed_writer_finish(struct coffer_sealed_writer *w,
    struct coffer_sealed_info *info)
{
	struct coffer_sealed_info in;
	int r;

	if (w->state != STREAM_ENDED)
		return state_err(w->state);
	if ((r = coffer_sealed_header_parse(w->header, sizeof(w->header),
	    &in)) != 0)
		return coffer_errf(COFFER_E_INTERNAL, "own header does not parse");
	if (!w->no_digest &&
	    (r = coffer_hash_final(w->hash, in.digest, sizeof(in.digest))) != 0)
		return r;
	w->state = STREAM_FINISHED; /* the hash is spent */
	in.has_digest = !w->no_digest;
	in.chunks = w->next;
	in.plaintext_size = w->ptsize;
	in.sealed_size = w->sealed;
	*info = in;
	return 0;
}

void
coffer_sealed_writer_digest_elsewhere(struct coffer_sealed_writer *w)
{
	w->no_digest = 1;
}

void
coffer_sealed_writer_free(struct coffer_sealed_writer *w)
{
	if (w == NULL)
		return;
	coffer_aead_free(w->aead);
	coffer_hash_free(w->hash);
	coffer_free_secret(w, sizeof(*w));
}

/* ------------------------------------------------------------------ */
/* Reader (section 6). */

/* Set rd up for the file whose first len bytes are hdr under key, whose
 * key id is id (R1-R8); rd's contexts are re-keyed when it has them (a
 * kept reader, struct coffer_sealed_key), else made. The digest only if
 * it was not left to the caller (digest_elsewhere). */
static int
reader_start(struct coffer_sealed_reader *rd, const uint8_t key[COFFER_SEALED_KEY_LEN],
    const uint8_t id[COFFER_SEALED_KEY_ID_LEN], const uint8_t *hdr, size_t len)
{
	uint8_t h64[H64_LEN], commit[COFFER_SEALED_COMMIT_LEN];
	char want[2 * COFFER_SEALED_KEY_ID_LEN + 1], have[sizeof(want)];
	int r, commit_ok, id_ok;

	rd->state = STREAM_FAILED;   /* until it is set up */
	if ((r = coffer_sealed_header_parse(hdr, len, &rd->info)) != 0)
		return r;
	memcpy(rd->header, hdr, sizeof(rd->header));
	/* Section 6.2: the schedule over H64 with the key id of our key, so
	 * that a damaged key id field is told apart from another key. */
	memcpy(h64, hdr, H64_LEN);
	memcpy(h64 + OFF_KEYID, id, COFFER_SEALED_KEY_ID_LEN);
	if ((r = key_schedule(key, h64, commit, COFFER_AEAD_DECRYPT, &rd->aead,
	    rd->prefix)) != 0)
		goto out;
	commit_ok = CRYPTO_memcmp(commit, hdr + OFF_COMMIT, sizeof(commit)) == 0;
	id_ok = memcmp(id, hdr + OFF_KEYID, COFFER_SEALED_KEY_ID_LEN) == 0;
	if (!commit_ok || !id_ok) {
		coffer_hex_encode(hdr + OFF_KEYID, COFFER_SEALED_KEY_ID_LEN, want);
		coffer_hex_encode(id, COFFER_SEALED_KEY_ID_LEN, have);
		if (commit_ok)
			r = coffer_errf(COFFER_E_AUTH,
			    "sealed header: the key id field is damaged (%s; the "
			    "key given, %s, matches the key commitment)", want, have);
		else if (id_ok)
			r = coffer_errf(COFFER_E_AUTH,
			    "sealed header: the key commitment does not match: the "
			    "header is damaged or was tampered with");
		else
			r = coffer_errf(COFFER_E_WRONG_KEY,
			    "sealed under key id %s; the key given has id %s", want,
			    have);
		goto out;
	}
	if (!rd->no_digest && (r = digest_start(&rd->hash, rd->header)) != 0)
		goto out;
	rd->next = 0;
	rd->ptsize = 0;
	rd->sealed = COFFER_SEALED_HEADER_LEN;
	rd->state = STREAM_OPEN;
out:
	coffer_wipe(commit, sizeof(commit));
	return r;
}

int
coffer_sealed_reader_new(const uint8_t key[COFFER_SEALED_KEY_LEN],
    const uint8_t *hdr, size_t len, struct coffer_sealed_reader **out)
{
	struct coffer_sealed_reader *rd = NULL;
	uint8_t id[COFFER_SEALED_KEY_ID_LEN];
	int r;

	if ((rd = coffer_calloc(1, sizeof(*rd))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "sealed reader");
	/* R1-R7 first: a file that is not sealed is named so before any key
	 * work. */
	if ((r = coffer_sealed_header_parse(hdr, len, &rd->info)) != 0 ||
	    (r = coffer_datakey_id(key, id)) != 0 ||
	    (r = reader_start(rd, key, id, hdr, len)) != 0) {
		coffer_sealed_reader_free(rd);
		return r;
	}
	*out = rd;
	return 0;
}

const struct coffer_sealed_info *
coffer_sealed_reader_info(const struct coffer_sealed_reader *r)
{
	return &r->info;
}

/* Decrypt chunk i of ct[0..n) (tag included) as last or not into pt. */
static int
open_chunk(struct coffer_sealed_reader *rd, uint64_t i, int last,
    const uint8_t *ct, size_t n, uint8_t *pt)
{
	uint8_t nonce[NONCE_LEN];
	size_t m = n - COFFER_SEALED_TAG_LEN;
	int r;

	nonce_of(rd->prefix, i, last, nonce);
	r = coffer_aead_decrypt(rd->aead, nonce, rd->header, sizeof(rd->header),
	    ct, m, ct + m, pt);
	if (r == COFFER_E_AUTH) {
		if (last)
			return coffer_errf(COFFER_E_AUTH,
			    "chunk %llu (the last, %zu bytes): authentication "
			    "failed: corrupt, truncated or extended",
			    (unsigned long long)i, n);
		return coffer_errf(COFFER_E_AUTH,
		    "chunk %llu: authentication failed: corrupt, reordered or "
		    "taken from another file", (unsigned long long)i);
	}
	return r;
}

int
coffer_sealed_reader_pull(struct coffer_sealed_reader *rd, const uint8_t *ct,
    size_t n, uint8_t *pt)
{
	size_t full = (size_t)rd->info.chunk_size + COFFER_SEALED_TAG_LEN;
	int last = n < full, r;

	if (rd->state != STREAM_OPEN)
		return state_err(rd->state);
	if (n > full)
		return coffer_errf(COFFER_E_INVAL,
		    "chunk of %zu bytes exceeds the full chunk size %zu", n, full);
	if (n < COFFER_SEALED_TAG_LEN) {
		rd->state = STREAM_FAILED;
		return coffer_errf(COFFER_E_TRUNCATED,
		    "the last chunk (%llu) is %zu bytes, shorter than its %d-byte "
		    "tag", (unsigned long long)rd->next, n, COFFER_SEALED_TAG_LEN);
	}
	/* R11: a full chunk at index 2^32 - 1 means a chunk 2^32 follows. */
	if (!last && rd->next >= COFFER_SEALED_MAX_CHUNKS - 1) {
		rd->state = STREAM_FAILED;
		return coffer_errf(COFFER_E_FORMAT,
		    "the stream has more than 2^32 chunks");
	}
	if ((!rd->no_digest && (r = coffer_hash_update(rd->hash, ct, n)) != 0) ||
	    (r = open_chunk(rd, rd->next, last, ct, n, pt)) != 0) {
		rd->state = STREAM_FAILED;
		return r;
	}
	rd->next++;
	rd->ptsize += n - COFFER_SEALED_TAG_LEN;
	rd->sealed += n;
	if (last)
		rd->state = STREAM_ENDED;
	return 0;
}

int
coffer_sealed_reader_finish(struct coffer_sealed_reader *rd,
    struct coffer_sealed_info *info)
{
	struct coffer_sealed_info in = rd->info;
	int r;

	if (rd->state == STREAM_FAILED || rd->state == STREAM_FINISHED)
		return state_err(rd->state);
	if (rd->state == STREAM_OPEN) {
		if (rd->next == 0)
			return coffer_errf(COFFER_E_TRUNCATED,
			    "the file ends after the header: no last chunk");
		return coffer_errf(COFFER_E_TRUNCATED,
		    "the file ends after chunk %llu, a full chunk, without its "
		    "last chunk (truncated at a chunk boundary)",
		    (unsigned long long)(rd->next - 1));
	}
	if (!rd->no_digest &&
	    (r = coffer_hash_final(rd->hash, in.digest, sizeof(in.digest))) != 0)
		return r;
	rd->state = STREAM_FINISHED; /* the hash is spent */
	in.has_digest = !rd->no_digest;
	in.chunks = rd->next;
	in.plaintext_size = rd->ptsize;
	in.sealed_size = rd->sealed;
	*info = in;
	return 0;
}

int
coffer_sealed_reader_chunk(struct coffer_sealed_reader *rd, uint64_t index,
    uint64_t chunks, const uint8_t *ct, size_t n, uint8_t *pt)
{
	size_t full = (size_t)rd->info.chunk_size + COFFER_SEALED_TAG_LEN;
	int last;

	if (chunks == 0 || chunks > COFFER_SEALED_MAX_CHUNKS || index >= chunks)
		return coffer_errf(COFFER_E_INVAL,
		    "chunk %llu does not exist (the file has %llu chunks)",
		    (unsigned long long)index, (unsigned long long)chunks);
	last = index == chunks - 1;
	if (last && (n < COFFER_SEALED_TAG_LEN || n >= full))
		return coffer_errf(n < COFFER_SEALED_TAG_LEN ? COFFER_E_TRUNCATED :
		    COFFER_E_FORMAT, "the last chunk (%llu) is %zu bytes; it must "
		    "be %d to %zu", (unsigned long long)index, n,
		    COFFER_SEALED_TAG_LEN, full - 1);
	if (!last && n != full)
		return coffer_errf(COFFER_E_TRUNCATED,
		    "chunk %llu is %zu bytes; every chunk but the last is %zu",
		    (unsigned long long)index, n, full);
	return open_chunk(rd, index, last, ct, n, pt);
}

void
coffer_sealed_reader_digest_elsewhere(struct coffer_sealed_reader *rd)
{
	rd->no_digest = 1;
}

void
coffer_sealed_reader_free(struct coffer_sealed_reader *rd)
{
	if (rd == NULL)
		return;
	coffer_aead_free(rd->aead);
	coffer_hash_free(rd->hash);
	coffer_free_secret(rd, sizeof(*rd));
}

/* ------------------------------------------------------------------ */
/* A data key kept for many files (crypto/sealed.h). */

struct coffer_sealed_key {
	const uint8_t *key;                 /* borrowed */
	uint8_t id[COFFER_SEALED_KEY_ID_LEN];
	struct coffer_sealed_writer w;      /* started again for every file */
	struct coffer_sealed_reader rd;
};

int
coffer_sealed_key_new(const uint8_t key[COFFER_SEALED_KEY_LEN],
    struct coffer_sealed_key **out)
{
	struct coffer_sealed_key *k;
	int r;

	if ((k = coffer_calloc(1, sizeof(*k))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "sealed key");
	k->key = key;
	/* The reader's caller hashes (a worker, against the pin). */
	k->rd.no_digest = 1;
	k->w.state = k->rd.state = STREAM_FAILED;   /* until started */
	if ((r = coffer_datakey_id(key, k->id)) != 0) {
		coffer_sealed_key_free(k);
		return r;
	}
	*out = k;
	return 0;
}

void
coffer_sealed_key_free(struct coffer_sealed_key *k)
{
	if (k == NULL)
		return;
	coffer_aead_free(k->w.aead);
	coffer_hash_free(k->w.hash);
	coffer_aead_free(k->rd.aead);
	coffer_hash_free(k->rd.hash);
	coffer_free_secret(k, sizeof(*k));
}

int
coffer_sealed_key_writer(struct coffer_sealed_key *k,
    const struct coffer_sealed_opts *opts, const uint8_t *salt,
    struct coffer_sealed_writer **w)
{
	uint32_t c;
	int suite, r;

	if ((r = writer_opts(opts, &suite, &c)) != 0)
		return r;
	if ((r = writer_start(&k->w, k->key, k->id, suite, c, salt)) != 0) {
		k->w.state = STREAM_FAILED;
		return r;
	}
	*w = &k->w;
	return 0;
}

int
coffer_sealed_key_reader(struct coffer_sealed_key *k, const uint8_t *hdr,
    size_t len, struct coffer_sealed_reader **rd)
{
	int r;

	if ((r = reader_start(&k->rd, k->key, k->id, hdr, len)) != 0)
		return r;
	*rd = &k->rd;
	return 0;
}
