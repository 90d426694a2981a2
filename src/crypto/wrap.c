// SPDX-License-Identifier: Apache-2.0
// Key wrapping with HPKE (crypto/wrap.h), doc/format/wrap.md.
#include <string.h>

#include "coffer/error.h"
#include "crypto/dh.h"
#include "crypto/hpke.h"
#include "crypto/wrap.h"
#include "lib/buf.h"
#include "lib/mem.h"

#define MAGIC "CFWK"
#define VERSION 1
#define INFO_PREFIX "coffer/v1/wrap" /* followed by a NUL byte */
#define INFO_PREFIX_LEN (sizeof(INFO_PREFIX)) /* with the NUL */

static void
put_header(uint8_t h[COFFER_WRAP_HEADER_LEN], int mode, int aead)
{
	memcpy(h, MAGIC, 4);
	h[4] = VERSION;
	h[5] = (uint8_t)mode;
	h[6] = COFFER_HPKE_KEM_X25519_SHA256 >> 8;
	h[7] = COFFER_HPKE_KEM_X25519_SHA256 & 0xff;
	h[8] = COFFER_HPKE_KDF_HKDF_SHA256 >> 8;
	h[9] = COFFER_HPKE_KDF_HKDF_SHA256 & 0xff;
	h[10] = 0;
	h[11] = (uint8_t)aead;
}

/* hpke_info = "coffer/v1/wrap" || 0x00 || info; hpke_aad = header || aad. */
static int
build_inputs(const uint8_t *header, const uint8_t *info, size_t infolen,
    const uint8_t *aad, size_t aadlen, struct coffer_buf *hinfo,
    struct coffer_buf *haad)
{
	int r;

	if (infolen > COFFER_HPKE_INPUT_MAX - INFO_PREFIX_LEN)
		return coffer_errf(COFFER_E_LIMIT, "wrap: info of %zu bytes is too "
		    "long", infolen);
	if ((r = coffer_buf_put(hinfo, INFO_PREFIX, INFO_PREFIX_LEN)) != 0 ||
	    (infolen > 0 && (r = coffer_buf_put(hinfo, info, infolen)) != 0) ||
	    (r = coffer_buf_put(haad, header, COFFER_WRAP_HEADER_LEN)) != 0 ||
	    (aadlen > 0 && (r = coffer_buf_put(haad, aad, aadlen)) != 0))
		return r;
	return 0;
}

/* coffer_wrap_with with the sender's key decoded (S NULL: base mode). */
static int
wrap(enum coffer_hpke_aead aead, const uint8_t pkR[32],
    const struct coffer_dh_key *S, const uint8_t *info, size_t infolen,
    const uint8_t *aad, size_t aadlen, const uint8_t *key, size_t keylen,
    struct coffer_buf *out)
{
	struct coffer_buf hinfo = COFFER_BUF_INIT(COFFER_HPKE_INPUT_MAX),
	    haad = COFFER_BUF_INIT(COFFER_BUF_MAX_DEFAULT),
	    blob = COFFER_BUF_INIT(COFFER_WRAP_OVERHEAD + COFFER_WRAP_MAX_SECRET),
	    ct = COFFER_BUF_INIT(COFFER_WRAP_MAX_SECRET + 16);
	struct coffer_hpke_params p;
	uint8_t header[COFFER_WRAP_HEADER_LEN], enc[32];
	int mode = S != NULL ? COFFER_HPKE_MODE_AUTH : COFFER_HPKE_MODE_BASE, r;

	if (aead != COFFER_HPKE_AES256GCM && aead != COFFER_HPKE_CHACHA20POLY1305)
		return coffer_errf(COFFER_E_UNSUPPORTED, "wrap: AEAD id %d (Coffer "
		    "wraps with 2, AES-256-GCM, or 3, ChaCha20-Poly1305)", (int)aead);
	if (keylen == 0 || keylen > COFFER_WRAP_MAX_SECRET)
		return coffer_errf(COFFER_E_INVAL, "wrap: a secret of %zu bytes (want "
		    "1 to %d)", keylen, COFFER_WRAP_MAX_SECRET);
	put_header(header, mode, aead);
	if ((r = build_inputs(header, info, infolen, aad, aadlen, &hinfo,
	    &haad)) != 0)
		goto out;
	memset(&p, 0, sizeof(p));
	p.aead = aead;
	p.info = hinfo.data;
	p.info_len = hinfo.len;
	if ((r = coffer_hpke_seal_once_key(&p, pkR, S, haad.data, haad.len, key,
	    keylen, enc, &ct)) != 0 ||
	    (r = coffer_buf_put(&blob, header, sizeof(header))) != 0 ||
	    (r = coffer_buf_put(&blob, enc, sizeof(enc))) != 0 ||
	    (r = coffer_buf_put(&blob, ct.data, ct.len)) != 0)
		goto out;
	r = coffer_buf_put(out, blob.data, blob.len);
out:
	coffer_buf_release(&hinfo);
	coffer_buf_release(&haad);
	coffer_buf_release(&blob);
	coffer_buf_release(&ct);
	return r != 0 ? coffer_errctx(r, "wrapping a key") : 0;
}

int
coffer_wrap_with(enum coffer_hpke_aead aead, const uint8_t pkR[32],
    const uint8_t *skS, const uint8_t *info, size_t infolen,
    const uint8_t *aad, size_t aadlen, const uint8_t *key, size_t keylen,
    struct coffer_buf *out)
{
	struct coffer_dh_key *S = NULL;
	int r;

	if (skS != NULL && (r = coffer_dh_key_new(skS, &S)) != 0)
		return coffer_errctx(r, "wrapping a key");
	r = wrap(aead, pkR, S, info, infolen, aad, aadlen, key, keylen, out);
	coffer_dh_key_free(S);
	return r;
}

int
coffer_wrap_key(const uint8_t pkR[32], const struct coffer_dh_key *S,
    const uint8_t *info, size_t infolen, const uint8_t *aad, size_t aadlen,
    const uint8_t *key, size_t keylen, struct coffer_buf *out)
{
	return wrap(COFFER_HPKE_AES256GCM, pkR, S, info, infolen, aad, aadlen,
	    key, keylen, out);
}

int
coffer_wrap(const uint8_t pkR[32], const uint8_t *skS, const uint8_t *info,
    size_t infolen, const uint8_t *aad, size_t aadlen, const uint8_t *key,
    size_t keylen, struct coffer_buf *out)
{
	return coffer_wrap_with(COFFER_HPKE_AES256GCM, pkR, skS, info, infolen,
	    aad, aadlen, key, keylen, out);
}

/* doc/format/wrap.md, "What a reader must reject", steps 1 to 6. */
static int
check_header(const uint8_t *blob, size_t len, const uint8_t *pkS,
    enum coffer_hpke_aead *aead)
{
	const uint8_t *h = blob;
	unsigned kem, kdf, a;

	if (len < COFFER_WRAP_OVERHEAD + 1)
		return coffer_errf(COFFER_E_TRUNCATED, "wrapped key of %zu bytes is "
		    "shorter than the minimum of %d", len, COFFER_WRAP_OVERHEAD + 1);
	if (len > COFFER_WRAP_OVERHEAD + COFFER_WRAP_MAX_SECRET)
		return coffer_errf(COFFER_E_LIMIT, "wrapped key of %zu bytes is longer "
		    "than the maximum of %d", len,
		    COFFER_WRAP_OVERHEAD + COFFER_WRAP_MAX_SECRET);
	if (memcmp(h, MAGIC, 4) != 0)
		return coffer_errf(COFFER_E_FORMAT, "not a wrapped key (magic is not "
		    "'" MAGIC "')");
	if (h[4] != VERSION)
		return coffer_errf(COFFER_E_VERSION, "wrapped key version %u is not "
		    "supported (this Coffer reads version %d)", h[4], VERSION);
	if (h[5] != COFFER_HPKE_MODE_BASE && h[5] != COFFER_HPKE_MODE_AUTH)
		return coffer_errf(COFFER_E_FORMAT, "wrapped key: HPKE mode %u (want "
		    "0 or 2)", h[5]);
	kem = (unsigned)h[6] << 8 | h[7];
	kdf = (unsigned)h[8] << 8 | h[9];
	a = (unsigned)h[10] << 8 | h[11];
	if (kem != COFFER_HPKE_KEM_X25519_SHA256 ||
	    kdf != COFFER_HPKE_KDF_HKDF_SHA256 ||
	    (a != COFFER_HPKE_AES256GCM && a != COFFER_HPKE_CHACHA20POLY1305))
		return coffer_errf(COFFER_E_UNSUPPORTED, "wrapped key: HPKE suite "
		    "kem 0x%04x, kdf 0x%04x, aead 0x%04x is not supported", kem, kdf,
		    a);
	if (pkS != NULL && h[5] != COFFER_HPKE_MODE_AUTH)
		return coffer_errf(COFFER_E_POLICY, "wrapped key is not "
		    "sender-authenticated (HPKE base mode), but a sender was "
		    "expected");
	if (pkS == NULL && h[5] == COFFER_HPKE_MODE_AUTH)
		return coffer_errf(COFFER_E_INVAL, "wrapped key is "
		    "sender-authenticated (HPKE auth mode): the sender's public key "
		    "is needed to open it");
	*aead = (enum coffer_hpke_aead)a;
	return 0;
}

int
coffer_unwrap(const uint8_t skR[32], const uint8_t *pkS, const uint8_t *info,
    size_t infolen, const uint8_t *aad, size_t aadlen, const uint8_t *blob,
    size_t bloblen, struct coffer_buf *key)
{
	struct coffer_buf hinfo = COFFER_BUF_INIT(COFFER_HPKE_INPUT_MAX),
	    haad = COFFER_BUF_INIT(COFFER_BUF_MAX_DEFAULT),
	    pt = COFFER_BUF_INIT_SECRET(COFFER_WRAP_MAX_SECRET);
	struct coffer_hpke_params p;
	enum coffer_hpke_aead aead = COFFER_HPKE_AES256GCM;
	int r;

	if ((r = check_header(blob, bloblen, pkS, &aead)) != 0)
		return r;
	if ((r = build_inputs(blob, info, infolen, aad, aadlen, &hinfo, &haad)) != 0)
		goto out;
	memset(&p, 0, sizeof(p));
	p.aead = aead;
	p.info = hinfo.data;
	p.info_len = hinfo.len;
	r = coffer_hpke_open_once(&p, blob + COFFER_WRAP_HEADER_LEN, skR, pkS,
	    haad.data, haad.len, blob + COFFER_WRAP_HEADER_LEN + 32,
	    bloblen - COFFER_WRAP_HEADER_LEN - 32, &pt);
	if (r == COFFER_E_AUTH)
		r = coffer_errf(COFFER_E_AUTH, "wrapped key does not authenticate "
		    "(wrong recipient key, wrong sender, other info or aad, or "
		    "tampered)");
	if (r != 0)
		goto out;
	r = coffer_buf_put(key, pt.data, pt.len);
out:
	coffer_buf_release(&hinfo);
	coffer_buf_release(&haad);
	coffer_buf_release(&pt);
	return r;
}
