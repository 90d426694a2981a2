// SPDX-License-Identifier: Apache-2.0
// RFC 9180 HPKE (crypto/hpke.h): DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-128-GCM / AES-256-GCM / ChaCha20-Poly1305, all four modes. Written
// directly from the RFC's pseudocode; section numbers are cited inline.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/aead.h"
#include "crypto/dh.h"
#include "crypto/hpke.h"
#include "crypto/hpke_internal.h"
#include "crypto/kdf.h"
#include "lib/mem.h"
#include "lib/random.h"

#define NH 32 /* HKDF-SHA256 output size */
#define NN 12 /* AEAD nonce size for all three AEADs */

enum role { ROLE_SENDER = 1, ROLE_RECEIVER = 2 };

struct coffer_hpke {
	enum role role;
	enum coffer_hpke_aead aead_id;
	struct coffer_aead *aead;
	uint8_t base_nonce[NN];
	uint8_t exporter_secret[NH];
	uint64_t seq;
	int exhausted;
};

/* A suite_id: "KEM" || I2OSP(kem_id, 2) or "HPKE" || kem || kdf || aead. */
struct suite {
	uint8_t id[10];
	size_t len;
};

static void
kem_suite(struct suite *s)
{
	/* Section 4.1: suite_id = concat("KEM", I2OSP(kem_id, 2)). */
	memcpy(s->id, "KEM", 3);
	s->id[3] = COFFER_HPKE_KEM_X25519_SHA256 >> 8;
	s->id[4] = COFFER_HPKE_KEM_X25519_SHA256 & 0xff;
	s->len = 5;
}

static void
hpke_suite(struct suite *s, enum coffer_hpke_aead aead)
{
	/* Section 5.1: concat("HPKE", I2OSP(kem_id, 2), I2OSP(kdf_id, 2),
	 * I2OSP(aead_id, 2)). */
	memcpy(s->id, "HPKE", 4);
	s->id[4] = COFFER_HPKE_KEM_X25519_SHA256 >> 8;
	s->id[5] = COFFER_HPKE_KEM_X25519_SHA256 & 0xff;
	s->id[6] = COFFER_HPKE_KDF_HKDF_SHA256 >> 8;
	s->id[7] = COFFER_HPKE_KDF_HKDF_SHA256 & 0xff;
	s->id[8] = 0;
	s->id[9] = (uint8_t)aead;
	s->len = 10;
}

#define HPKE_V1 "HPKE-v1"
#define HPKE_V1_LEN 7

/*
 * Section 4: LabeledExtract(salt, label, ikm) =
 *   Extract(salt, concat("HPKE-v1", suite_id, label, ikm)).
 * The concatenation holds secrets (ikm, psk), so it lives in a secret buffer.
 */
static int
labeled_extract(const struct suite *s, const uint8_t *salt, size_t saltlen,
    const char *label, const uint8_t *ikm, size_t ikmlen, uint8_t prk[NH])
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(COFFER_HPKE_INPUT_MAX + 128);
	int r;

	if ((r = coffer_buf_put(&b, HPKE_V1, HPKE_V1_LEN)) != 0 ||
	    (r = coffer_buf_put(&b, s->id, s->len)) != 0 ||
	    (r = coffer_buf_puts(&b, label)) != 0 ||
	    (ikmlen > 0 && (r = coffer_buf_put(&b, ikm, ikmlen)) != 0))
		goto out;
	r = coffer_hkdf_sha256_extract(salt, saltlen, b.data, b.len, prk);
out:
	coffer_buf_release(&b);
	return r;
}

/*
 * LabeledExpand(prk, label, info, L) = Expand(prk, concat(I2OSP(L, 2),
 * "HPKE-v1", suite_id, label, info), L).
 */
static int
labeled_expand(const struct suite *s, const uint8_t prk[NH], const char *label,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t L)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_HPKE_INPUT_MAX + 128);
	int r;

	if (L > COFFER_HKDF_SHA256_MAX_OUT)
		return coffer_errf(COFFER_E_INVAL, "HPKE: %zu output bytes requested, "
		    "at most %d", L, COFFER_HKDF_SHA256_MAX_OUT);
	if ((r = coffer_buf_put_u16be(&b, (uint16_t)L)) != 0 ||
	    (r = coffer_buf_put(&b, HPKE_V1, HPKE_V1_LEN)) != 0 ||
	    (r = coffer_buf_put(&b, s->id, s->len)) != 0 ||
	    (r = coffer_buf_puts(&b, label)) != 0 ||
	    (infolen > 0 && (r = coffer_buf_put(&b, info, infolen)) != 0))
		goto out;
	r = coffer_hkdf_sha256_expand(prk, NH, b.data, b.len, out, L);
out:
	coffer_buf_release(&b);
	return r;
}

/* Section 4.1: ExtractAndExpand(dh, kem_context). */
static int
extract_and_expand(const uint8_t *dh, size_t dhlen, const uint8_t *kem_ctx,
    size_t kem_ctx_len, uint8_t shared[NH])
{
	struct suite s;
	uint8_t prk[NH];
	int r;

	kem_suite(&s);
	if ((r = labeled_extract(&s, NULL, 0, "eae_prk", dh, dhlen, prk)) == 0)
		r = labeled_expand(&s, prk, "shared_secret", kem_ctx, kem_ctx_len,
		    shared, NH);
	coffer_wipe(prk, sizeof(prk));
	return r;
}

int
coffer_hpke_derive_keypair(const uint8_t *ikm, size_t ikmlen, uint8_t sk[32],
    uint8_t pk[32])
{
	struct suite s;
	uint8_t prk[NH], k[32], p[32];
	int r;

	/* Section 7.1.3: ikm SHOULD have at least Nsk bytes of entropy. */
	if (ikmlen < COFFER_HPKE_SK_LEN || ikmlen > COFFER_HPKE_INPUT_MAX)
		return coffer_errf(COFFER_E_INVAL, "HPKE DeriveKeyPair: ikm of %zu "
		    "bytes (want %d to %d)", ikmlen, COFFER_HPKE_SK_LEN,
		    COFFER_HPKE_INPUT_MAX);
	kem_suite(&s);
	/* For X25519: dkp_prk = LabeledExtract("", "dkp_prk", ikm);
	 * sk = LabeledExpand(dkp_prk, "sk", "", Nsk). */
	if ((r = labeled_extract(&s, NULL, 0, "dkp_prk", ikm, ikmlen, prk)) != 0 ||
	    (r = labeled_expand(&s, prk, "sk", NULL, 0, k, sizeof(k))) != 0 ||
	    (r = coffer_dh_public(k, p)) != 0)
		goto out;
	memcpy(sk, k, sizeof(k));
	memcpy(pk, p, sizeof(p));
out:
	coffer_wipe(prk, sizeof(prk));
	coffer_wipe(k, sizeof(k));
	return r;
}

int
coffer_hpke_keygen(uint8_t sk[32], uint8_t pk[32])
{
	return coffer_dh_keygen(sk, pk);
}

/*
 * Section 4.1 Encap / AuthEncap (given the ephemeral key) and Decap /
 * AuthDecap share one shape: dh = DH(..) [|| DH(..)], kem_context =
 * enc || pkR [|| pkS], shared_secret = ExtractAndExpand(dh, kem_context).
 */
static int
kem_shared(const uint8_t dh[64], size_t dhlen, const uint8_t enc[32],
    const uint8_t pkR[32], const uint8_t *pkS, uint8_t shared[NH])
{
	uint8_t kem_ctx[96];
	size_t n = 0;

	memcpy(kem_ctx, enc, 32);
	memcpy(kem_ctx + 32, pkR, 32);
	n = 64;
	if (pkS != NULL) {
		memcpy(kem_ctx + 64, pkS, 32);
		n = 96;
	}
	return extract_and_expand(dh, dhlen, kem_ctx, n, shared);
}

/* Encap (S NULL) or AuthEncap with the sender's key S, decoded by the
 * caller: a sender that wraps often (the coordinator's key release)
 * decodes its key once (crypto/dh.h). */
static int
encap(const uint8_t pkR[32], const struct coffer_dh_key *S,
    const uint8_t skE[32], uint8_t shared[NH], uint8_t enc[32])
{
	struct coffer_dh_key *E = NULL;
	uint8_t dh[64], pkE[32], pkS[32];
	size_t dhlen = 32;
	int r;

	/* Each secret key decoded once (crypto/dh.h). */
	if ((r = coffer_dh_key_new(skE, &E)) != 0 ||
	    (r = coffer_dh_key_public(E, pkE)) != 0 ||
	    (r = coffer_dh_key_agree(E, pkR, dh)) != 0)
		goto out;
	if (S != NULL) {
		/* AuthEncap: dh = concat(DH(skE, pkR), DH(skS, pkR)). */
		if ((r = coffer_dh_key_agree(S, pkR, dh + 32)) != 0 ||
		    (r = coffer_dh_key_public(S, pkS)) != 0)
			goto out;
		dhlen = 64;
	}
	if ((r = kem_shared(dh, dhlen, pkE, pkR, S != NULL ? pkS : NULL,
	    shared)) != 0)
		goto out;
	memcpy(enc, pkE, 32);
out:
	coffer_wipe(dh, sizeof(dh));
	coffer_dh_key_free(E);
	return r != 0 ? coffer_errctx(r, "HPKE encapsulation") : 0;
}

static int
decap(const uint8_t enc[32], const uint8_t skR[32], const uint8_t *pkS,
    uint8_t shared[NH])
{
	struct coffer_dh_key *R = NULL;
	uint8_t dh[64], pkR[32];
	size_t dhlen = 32;
	int r;

	/* Section 7.1.4: DH() fails on an all-zero output (ValidationError). */
	if ((r = coffer_dh_key_new(skR, &R)) != 0 ||
	    (r = coffer_dh_key_agree(R, enc, dh)) != 0 ||
	    (r = coffer_dh_key_public(R, pkR)) != 0)
		goto out;
	if (pkS != NULL) {
		if ((r = coffer_dh_key_agree(R, pkS, dh + 32)) != 0)
			goto out;
		dhlen = 64;
	}
	r = kem_shared(dh, dhlen, enc, pkR, pkS, shared);
out:
	coffer_wipe(dh, sizeof(dh));
	coffer_dh_key_free(R);
	return r != 0 ? coffer_errctx(r, "HPKE decapsulation") : 0;
}

static enum coffer_aead_alg
aead_alg(enum coffer_hpke_aead a)
{
	switch (a) {
	case COFFER_HPKE_AES128GCM: return COFFER_AEAD_AES128GCM;
	case COFFER_HPKE_AES256GCM: return COFFER_AEAD_AES256GCM;
	case COFFER_HPKE_CHACHA20POLY1305: return COFFER_AEAD_CHACHA20POLY1305;
	}
	return 0;
}

/* Section 5.1 VerifyPSKInputs, plus Coffer's limits and supported suites. */
static int
check_params(const struct coffer_hpke_params *p, enum coffer_hpke_mode *mode,
    int auth)
{
	int got_psk = p->psk != NULL && p->psk_len > 0,
	    got_id = p->psk_id != NULL && p->psk_id_len > 0;

	if (aead_alg(p->aead) == 0)
		return coffer_errf(COFFER_E_UNSUPPORTED, "HPKE AEAD id %d is not "
		    "supported (1, 2 and 3 are)", (int)p->aead);
	if (got_psk != got_id)
		return coffer_errf(COFFER_E_INVAL, "HPKE: a PSK and a PSK id must be "
		    "given together (RFC 9180 section 5.1)");
	if (got_psk && p->psk_len < COFFER_HPKE_PSK_MIN)
		return coffer_errf(COFFER_E_INVAL, "HPKE: a PSK of %zu bytes is too "
		    "short (at least %d, RFC 9180 section 9.5)", p->psk_len,
		    COFFER_HPKE_PSK_MIN);
	if (p->info_len > COFFER_HPKE_INPUT_MAX ||
	    p->psk_len > COFFER_HPKE_INPUT_MAX ||
	    p->psk_id_len > COFFER_HPKE_INPUT_MAX)
		return coffer_errf(COFFER_E_LIMIT, "HPKE: info, psk or psk_id longer "
		    "than %d bytes", COFFER_HPKE_INPUT_MAX);
	if (p->info_len > 0 && p->info == NULL)
		return coffer_errf(COFFER_E_INVAL, "HPKE: info is NULL");
	*mode = got_psk ? (auth ? COFFER_HPKE_MODE_AUTH_PSK : COFFER_HPKE_MODE_PSK) :
	    (auth ? COFFER_HPKE_MODE_AUTH : COFFER_HPKE_MODE_BASE);
	return 0;
}

/* Section 5.1 KeySchedule<ROLE>(mode, shared_secret, info, psk, psk_id). */
static int
key_schedule(enum role role, enum coffer_hpke_mode mode,
    const struct coffer_hpke_params *p, const uint8_t shared[NH],
    struct coffer_hpke **out, struct coffer_hpke_trace *trace)
{
	enum coffer_aead_alg alg = aead_alg(p->aead);
	size_t nk = coffer_aead_key_len(alg);
	struct coffer_hpke *h = NULL;
	struct suite s;
	uint8_t ksc[1 + 2 * NH], secret[NH], key[32];
	int r;

	hpke_suite(&s, p->aead);
	if ((h = coffer_calloc(1, sizeof(*h))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "HPKE context");
	h->role = role;
	h->aead_id = p->aead;
	/* key_schedule_context = concat(mode, psk_id_hash, info_hash). */
	ksc[0] = (uint8_t)mode;
	if ((r = labeled_extract(&s, NULL, 0, "psk_id_hash", p->psk_id,
	    p->psk_id_len, ksc + 1)) != 0 ||
	    (r = labeled_extract(&s, NULL, 0, "info_hash", p->info, p->info_len,
	    ksc + 1 + NH)) != 0 ||
	    /* secret = LabeledExtract(shared_secret, "secret", psk) */
	    (r = labeled_extract(&s, shared, NH, "secret", p->psk, p->psk_len,
	    secret)) != 0 ||
	    (r = labeled_expand(&s, secret, "key", ksc, sizeof(ksc), key, nk)) != 0 ||
	    (r = labeled_expand(&s, secret, "base_nonce", ksc, sizeof(ksc),
	    h->base_nonce, NN)) != 0 ||
	    (r = labeled_expand(&s, secret, "exp", ksc, sizeof(ksc),
	    h->exporter_secret, NH)) != 0 ||
	    (r = coffer_aead_new(alg, key, nk, &h->aead)) != 0)
		goto out;
	if (trace != NULL) {
		trace->mode = mode;
		memcpy(trace->shared_secret, shared, NH);
		memcpy(trace->key_schedule_context, ksc, sizeof(ksc));
		memcpy(trace->secret, secret, NH);
		memcpy(trace->key, key, nk);
		trace->key_len = nk;
		memcpy(trace->base_nonce, h->base_nonce, NN);
		memcpy(trace->exporter_secret, h->exporter_secret, NH);
	}
	*out = h;
	h = NULL;
out:
	coffer_wipe(secret, sizeof(secret));
	coffer_wipe(key, sizeof(key));
	coffer_hpke_free(h);
	return r;
}

/* SetupBaseS / SetupPSKS (S NULL), SetupAuthS / SetupAuthPSKS. */
static int
setup_sender(const struct coffer_hpke_params *p, const uint8_t pkR[32],
    const struct coffer_dh_key *S, const uint8_t skE[32], uint8_t enc[32],
    struct coffer_hpke **out, struct coffer_hpke_trace *trace)
{
	enum coffer_hpke_mode mode;
	uint8_t shared[NH], e[32];
	int r;

	if ((r = check_params(p, &mode, S != NULL)) != 0)
		return r;
	if ((r = encap(pkR, S, skE, shared, e)) == 0 &&
	    (r = key_schedule(ROLE_SENDER, mode, p, shared, out, trace)) == 0)
		memcpy(enc, e, sizeof(e));
	coffer_wipe(shared, sizeof(shared));
	return r;
}

/* The sender's secret key skS (NULL: none) decoded for setup_sender. */
static int
sender_key(const uint8_t *skS, struct coffer_dh_key **S)
{
	int r;

	*S = NULL;
	if (skS != NULL && (r = coffer_dh_key_new(skS, S)) != 0)
		return coffer_errctx(r, "HPKE encapsulation");
	return 0;
}

int
coffer_hpke__setup_sender(const struct coffer_hpke_params *p,
    const uint8_t pkR[32], const uint8_t *skS, const uint8_t skE[32],
    uint8_t enc[32], struct coffer_hpke **out, struct coffer_hpke_trace *trace)
{
	struct coffer_dh_key *S;
	int r;

	if ((r = sender_key(skS, &S)) == 0)
		r = setup_sender(p, pkR, S, skE, enc, out, trace);
	coffer_dh_key_free(S);
	return r;
}

int
coffer_hpke_setup_sender_key(const struct coffer_hpke_params *p,
    const uint8_t pkR[32], const struct coffer_dh_key *S, uint8_t enc[32],
    struct coffer_hpke **out)
{
	uint8_t skE[32];
	int r;

	/* Encap: skE, pkE = GenerateKeyPair(), fresh for every setup: for
	 * X25519 32 random bytes (section 7.1.3 and RFC 7748 section 6.1);
	 * encap() computes pkE. */
	if ((r = coffer_random(skE, sizeof(skE))) == 0)
		r = setup_sender(p, pkR, S, skE, enc, out, NULL);
	coffer_wipe(skE, sizeof(skE));
	return r;
}

int
coffer_hpke_setup_sender(const struct coffer_hpke_params *p,
    const uint8_t pkR[32], const uint8_t *skS, uint8_t enc[32],
    struct coffer_hpke **out)
{
	struct coffer_dh_key *S;
	int r;

	if ((r = sender_key(skS, &S)) == 0)
		r = coffer_hpke_setup_sender_key(p, pkR, S, enc, out);
	coffer_dh_key_free(S);
	return r;
}

int
coffer_hpke__setup_receiver(const struct coffer_hpke_params *p,
    const uint8_t enc[32], const uint8_t skR[32], const uint8_t *pkS,
    struct coffer_hpke **out, struct coffer_hpke_trace *trace)
{
	enum coffer_hpke_mode mode;
	uint8_t shared[NH];
	int r;

	if ((r = check_params(p, &mode, pkS != NULL)) != 0)
		return r;
	if ((r = decap(enc, skR, pkS, shared)) == 0)
		r = key_schedule(ROLE_RECEIVER, mode, p, shared, out, trace);
	coffer_wipe(shared, sizeof(shared));
	return r;
}

int
coffer_hpke_setup_receiver(const struct coffer_hpke_params *p,
    const uint8_t enc[32], const uint8_t skR[32], const uint8_t *pkS,
    struct coffer_hpke **out)
{
	return coffer_hpke__setup_receiver(p, enc, skR, pkS, out, NULL);
}

void
coffer_hpke__set_seq(struct coffer_hpke *h, uint64_t seq)
{
	h->seq = seq;
	h->exhausted = 0;
}

/* Section 5.2 ComputeNonce(seq) = xor(base_nonce, I2OSP(seq, Nn)). */
static void
compute_nonce(const struct coffer_hpke *h, uint8_t nonce[NN])
{
	memcpy(nonce, h->base_nonce, NN);
	for (int i = 0; i < 8; i++)
		nonce[NN - 1 - i] ^= (uint8_t)(h->seq >> (8 * i));
}

/* IncrementSeq: the last usable value is 2^64 - 1; after it, refuse. */
static void
increment_seq(struct coffer_hpke *h)
{
	if (h->seq == UINT64_MAX)
		h->exhausted = 1;
	else
		h->seq++;
}

int
coffer_hpke_seal(struct coffer_hpke *h, const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t n, struct coffer_buf *ct)
{
	uint8_t nonce[NN], *w;
	size_t start = ct->len;
	int r;

	if (h->role != ROLE_SENDER)
		return coffer_errf(COFFER_E_STATE, "HPKE: seal on a receiver context");
	if (h->exhausted)
		return coffer_errf(COFFER_E_LIMIT, "HPKE: sequence numbers exhausted "
		    "(MessageLimitReachedError)");
	if (n > SIZE_MAX - COFFER_HPKE_TAG_LEN)
		return coffer_errf(COFFER_E_LIMIT, "HPKE: message too long");
	if ((r = coffer_buf_reserve(ct, n + COFFER_HPKE_TAG_LEN, &w)) != 0)
		return r;
	compute_nonce(h, nonce);
	if ((r = coffer_aead_encrypt(h->aead, nonce, aad, aadlen, pt, n, w,
	    w + n)) != 0) {
		ct->data[start] = '\0';
		return r;
	}
	coffer_buf_commit(ct, n + COFFER_HPKE_TAG_LEN);
	increment_seq(h);
	return 0;
}

int
coffer_hpke_open(struct coffer_hpke *h, const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t n, struct coffer_buf *pt)
{
	uint8_t nonce[NN], *w;
	size_t m;
	int r;

	if (h->role != ROLE_RECEIVER)
		return coffer_errf(COFFER_E_STATE, "HPKE: open on a sender context");
	if (h->exhausted)
		return coffer_errf(COFFER_E_LIMIT, "HPKE: sequence numbers exhausted "
		    "(MessageLimitReachedError)");
	if (n < COFFER_HPKE_TAG_LEN)
		return coffer_errf(COFFER_E_TRUNCATED, "HPKE: ciphertext of %zu bytes "
		    "is shorter than the %d-byte tag", n, COFFER_HPKE_TAG_LEN);
	m = n - COFFER_HPKE_TAG_LEN;
	if ((r = coffer_buf_reserve(pt, m, &w)) != 0)
		return r;
	compute_nonce(h, nonce);
	/* aead.c wipes w on failure; nothing is committed to pt then. */
	if ((r = coffer_aead_decrypt(h->aead, nonce, aad, aadlen, ct, m, ct + m,
	    w)) != 0)
		return r == COFFER_E_AUTH ? coffer_errf(r, "HPKE: message %llu does "
		    "not authenticate (wrong key, wrong aad or tampered)",
		    (unsigned long long)h->seq) : r;
	coffer_buf_commit(pt, m);
	increment_seq(h);
	return 0;
}

int
coffer_hpke_export(const struct coffer_hpke *h, const uint8_t *exporter_ctx,
    size_t ctxlen, uint8_t *out, size_t L)
{
	struct suite s;

	/* Section 5.3: LabeledExpand(exporter_secret, "sec", exporter_context, L)
	 * with aead-dependent suite_id. */
	if (ctxlen > COFFER_HPKE_INPUT_MAX)
		return coffer_errf(COFFER_E_LIMIT, "HPKE: exporter context of %zu "
		    "bytes", ctxlen);
	hpke_suite(&s, h->aead_id);
	return labeled_expand(&s, h->exporter_secret, "sec", exporter_ctx, ctxlen,
	    out, L);
}

void
coffer_hpke_free(struct coffer_hpke *h)
{
	if (h == NULL)
		return;
	coffer_aead_free(h->aead);
	coffer_free_secret(h, sizeof(*h));
}

int
coffer_hpke_seal_once(const struct coffer_hpke_params *p, const uint8_t pkR[32],
    const uint8_t *skS, const uint8_t *aad, size_t aadlen, const uint8_t *pt,
    size_t n, uint8_t enc[32], struct coffer_buf *ct)
{
	struct coffer_dh_key *S;
	int r;

	if ((r = sender_key(skS, &S)) == 0)
		r = coffer_hpke_seal_once_key(p, pkR, S, aad, aadlen, pt, n, enc, ct);
	coffer_dh_key_free(S);
	return r;
}

int
coffer_hpke_seal_once_key(const struct coffer_hpke_params *p,
    const uint8_t pkR[32], const struct coffer_dh_key *S, const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t n, uint8_t enc[32],
    struct coffer_buf *ct)
{
	struct coffer_hpke *h = NULL;
	uint8_t e[32];
	int r;

	if ((r = coffer_hpke_setup_sender_key(p, pkR, S, e, &h)) != 0)
		return r;
	if ((r = coffer_hpke_seal(h, aad, aadlen, pt, n, ct)) == 0)
		memcpy(enc, e, sizeof(e));
	coffer_hpke_free(h);
	return r;
}

int
coffer_hpke_open_once(const struct coffer_hpke_params *p, const uint8_t enc[32],
    const uint8_t skR[32], const uint8_t *pkS, const uint8_t *aad,
    size_t aadlen, const uint8_t *ct, size_t n, struct coffer_buf *pt)
{
	struct coffer_hpke *h = NULL;
	int r;

	if ((r = coffer_hpke_setup_receiver(p, enc, skR, pkS, &h)) != 0)
		return r;
	r = coffer_hpke_open(h, aad, aadlen, ct, n, pt);
	coffer_hpke_free(h);
	return r;
}
