// SPDX-License-Identifier: Apache-2.0
// Trust anchors: the pinned Intel SGX Root CA, AMD ARKs (with the
// ASK/ASVK each signs) and explicitly trusted sim platform keys. The
// compiled-in set comes from anchors_data.c; tests replace it.
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "crypto/hash.h"
#include "lib/mem.h"
#include "tee/tee_int.h"

/* SHA-256 of the DER of the production Intel SGX Root CA (Intel's PCS
 * documentation; tests/vectors/attestation/README.md). */
static const uint8_t intel_root_pin[32] = {
	0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9,
	0x5b, 0x80, 0x7a, 0x35, 0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85,
	0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3,
};

int
coffer_tee_anchors_new_empty(struct coffer_tee_anchors **out)
{
	struct coffer_tee_anchors *a;

	if ((a = coffer_calloc(1, sizeof(*a))) == NULL)
		return COFFER_E_NOMEM;
	if ((a->amd_inter = sk_X509_new_null()) == NULL) {
		free(a);
		return COFFER_E_NOMEM;
	}
	*out = a;
	return 0;
}

void
coffer_tee_anchors_free(struct coffer_tee_anchors *a)
{
	if (a == NULL)
		return;
	X509_free(a->intel_root);
	OPENSSL_free(a->intel_root_der);
	X509_STORE_free(a->intel_store);
	for (size_t i = 0; i < a->n_amd; i++)
		X509_free(a->amd[i].ark);
	sk_X509_pop_free(a->amd_inter, X509_free);
	X509_STORE_free(a->amd_store);
	for (size_t i = 0; i < a->n_sim; i++)
		coffer_ecdsa_key_free(a->sim[i].key);
	free(a);
}

/* 1 if x is self-issued and its own key verifies its signature. */
static int
self_signed(X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	int ok = k != NULL && X509_check_issued(x, x) == X509_V_OK &&
	    X509_verify(x, k) == 1;

	ERR_clear_error();
	return ok;
}

static int
set_intel_root(struct coffer_tee_anchors *a, X509 *root)
{
	X509_STORE *st;
	uint8_t *der = NULL;
	int r, n;

	if (!self_signed(root))
		return coffer_errf(COFFER_E_CERT, "Intel root: not a self-signed "
		    "certificate");
	if (X509_check_ca(root) < 1)
		return coffer_errf(COFFER_E_CERT, "Intel root: not a CA certificate");
	if ((st = X509_STORE_new()) == NULL || !X509_STORE_add_cert(st, root)) {
		X509_STORE_free(st);
		ERR_clear_error();
		return COFFER_E_NOMEM;
	}
	if ((r = tee_cert_sha256(root, a->intel_root_sha256)) != 0) {
		X509_STORE_free(st);
		return r;
	}
	if ((n = i2d_X509(root, &der)) <= 0 || !X509_up_ref(root)) {
		OPENSSL_free(der);
		X509_STORE_free(st);
		return COFFER_E_INTERNAL;
	}
	X509_free(a->intel_root);
	OPENSSL_free(a->intel_root_der);
	X509_STORE_free(a->intel_store);
	a->intel_root = root;
	a->intel_root_der = der;
	a->intel_root_der_len = (size_t)n;
	a->intel_store = st;
	return 0;
}

int
coffer_tee_anchors_set_intel_root(struct coffer_tee_anchors *a,
    const uint8_t *cert, size_t len)
{
	STACK_OF(X509) *sk = NULL;
	int r;

	if ((r = tee_certs_parse(cert, len, &sk)) != 0)
		return coffer_errctx(r, "Intel root");
	if (sk_X509_num(sk) != 1)
		r = coffer_errf(COFFER_E_FORMAT, "Intel root: %d certificates, "
		    "expected one", sk_X509_num(sk));
	else
		r = set_intel_root(a, sk_X509_value(sk, 0));
	sk_X509_pop_free(sk, X509_free);
	return r;
}

static int
rebuild_amd_store(struct coffer_tee_anchors *a)
{
	X509_STORE *st;

	if ((st = X509_STORE_new()) == NULL)
		return COFFER_E_NOMEM;
	for (size_t i = 0; i < a->n_amd; i++) {
		if (!X509_STORE_add_cert(st, a->amd[i].ark)) {
			X509_STORE_free(st);
			ERR_clear_error();
			return COFFER_E_NOMEM;
		}
	}
	X509_STORE_free(a->amd_store);
	a->amd_store = st;
	return 0;
}

/*
 * Add the certificates of sk: self-signed ones become ARKs; every other one
 * must be signed by one of the ARKs now known (an ASK or ASVK) and is kept
 * as an intermediate.
 */
static int
add_amd_certs(struct coffer_tee_anchors *a, STACK_OF(X509) *sk)
{
	size_t n_amd0 = a->n_amd;
	int n_inter0 = sk_X509_num(a->amd_inter), r;
	char cn[64];

	for (int i = 0; i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		if (!self_signed(x))
			continue;
		if (a->n_amd == TEE_MAX_AMD) {
			r = coffer_errf(COFFER_E_LIMIT, "more than %d AMD roots", TEE_MAX_AMD);
			goto fail;
		}
		tee_cn(x, cn, sizeof(cn));
		if (!X509_up_ref(x)) {
			r = COFFER_E_INTERNAL;
			goto fail;
		}
		a->amd[a->n_amd].ark = x;
		snprintf(a->amd[a->n_amd].product, sizeof(a->amd[0].product), "%s",
		    strncmp(cn, "ARK-", 4) == 0 ? cn + 4 : cn);
		a->n_amd++;
	}
	for (int i = 0; i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);
		int signed_by_ark = 0;

		if (self_signed(x))
			continue;
		for (size_t j = 0; j < a->n_amd && !signed_by_ark; j++)
			signed_by_ark = X509_verify(x, X509_get0_pubkey(a->amd[j].ark)) == 1;
		ERR_clear_error();
		if (!signed_by_ark) {
			tee_cn(x, cn, sizeof(cn));
			r = coffer_errf(COFFER_E_CERT, "AMD certificate \"%s\" is not "
			    "signed by any trusted ARK", cn);
			goto fail;
		}
		if (!X509_up_ref(x) || !sk_X509_push(a->amd_inter, x)) {
			r = COFFER_E_NOMEM;
			goto fail;
		}
	}
	if ((r = rebuild_amd_store(a)) != 0)
		goto fail;
	return 0;
fail:
	while (a->n_amd > n_amd0)
		X509_free(a->amd[--a->n_amd].ark);
	while (sk_X509_num(a->amd_inter) > n_inter0)
		X509_free(sk_X509_pop(a->amd_inter));
	return r;
}

int
coffer_tee_anchors_add_amd(struct coffer_tee_anchors *a, const uint8_t *certs,
    size_t len)
{
	STACK_OF(X509) *sk = NULL;
	int r;

	if ((r = tee_certs_parse(certs, len, &sk)) != 0)
		return coffer_errctx(r, "AMD root");
	r = add_amd_certs(a, sk);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

void
coffer_tee_anchors_clear_amd(struct coffer_tee_anchors *a)
{
	while (a->n_amd > 0)
		X509_free(a->amd[--a->n_amd].ark);
	while (sk_X509_num(a->amd_inter) > 0)
		X509_free(sk_X509_pop(a->amd_inter));
	X509_STORE_free(a->amd_store);
	a->amd_store = NULL;
}

int
coffer_tee_anchors_add_sim_key(struct coffer_tee_anchors *a, const char *pem,
    size_t len)
{
	struct coffer_ecdsa_key *k = NULL;
	int r;

	if (a->n_sim == TEE_MAX_SIM)
		return coffer_errf(COFFER_E_LIMIT, "more than %d sim platform keys",
		    TEE_MAX_SIM);
	if ((r = coffer_ecdsa_pub_from_pem(pem, len, &k)) != 0)
		return coffer_errctx(r, "sim platform key");
	if (coffer_ecdsa_key_curve(k) != COFFER_ECDSA_P384) {
		coffer_ecdsa_key_free(k);
		return coffer_errf(COFFER_E_FORMAT, "sim platform key: not a P-384 key");
	}
	if ((r = coffer_ecdsa_pub_raw(k, a->sim[a->n_sim].raw, 97)) != 0 ||
	    (r = coffer_sha256(a->sim[a->n_sim].raw, 97, a->sim[a->n_sim].sha256)) != 0) {
		coffer_ecdsa_key_free(k);
		return r;
	}
	a->sim[a->n_sim++].key = k;
	return 0;
}

/* The compiled-in Intel root, checked against its pin. */
static int
add_default_intel(struct coffer_tee_anchors *a)
{
	const uint8_t *p = tee_anchor_intel_root.der;
	X509 *x;
	uint8_t fp[32];
	int r;

	if ((x = d2i_X509(NULL, &p, (long)tee_anchor_intel_root.len)) == NULL)
		return coffer_errf(COFFER_E_INTERNAL, "compiled-in Intel root does not parse");
	if ((r = tee_cert_sha256(x, fp)) == 0 && memcmp(fp, intel_root_pin, 32) != 0)
		r = coffer_errf(COFFER_E_INTERNAL, "compiled-in Intel root has the wrong "
		    "fingerprint");
	if (r == 0)
		r = set_intel_root(a, x);
	X509_free(x);
	return r;
}

/* The compiled-in AMD ARKs and the ASKs/ASVKs they sign. */
static int
add_default_amd(struct coffer_tee_anchors *a)
{
	STACK_OF(X509) *sk;
	const uint8_t *p;
	int r = 0;

	if ((sk = sk_X509_new_null()) == NULL)
		return COFFER_E_NOMEM;
	for (const struct tee_anchor_der *d = tee_anchor_amd; d->name != NULL; d++) {
		X509 *y;

		p = d->der;
		if ((y = d2i_X509(NULL, &p, (long)d->len)) == NULL || !sk_X509_push(sk, y)) {
			X509_free(y);
			r = coffer_errf(COFFER_E_INTERNAL, "compiled-in %s does not parse",
			    d->name);
			goto out;
		}
	}
	if ((r = add_amd_certs(a, sk)) != 0)
		r = coffer_errctx(COFFER_E_INTERNAL, "compiled-in AMD anchors");
out:
	sk_X509_pop_free(sk, X509_free);
	return r;
}

int
coffer_tee_anchors_new_for(enum coffer_tee_type tee, struct coffer_tee_anchors **out)
{
	struct coffer_tee_anchors *a = NULL;
	int r;

	if ((r = coffer_tee_anchors_new_empty(&a)) != 0)
		return r;
	/* Each root costs its parse and its self-signature check (RSA-4096
	 * for AMD's: about 2 ms in all at every start of a worker): only
	 * those the type's evidence chains to. Sim evidence chains to none:
	 * a verification policy names the platform keys it trusts. */
	if ((tee == COFFER_TEE_UNKNOWN || tee == COFFER_TEE_SGX ||
	    tee == COFFER_TEE_TDX) && (r = add_default_intel(a)) != 0)
		goto out;
	if ((tee == COFFER_TEE_UNKNOWN || tee == COFFER_TEE_SEV_SNP) &&
	    (r = add_default_amd(a)) != 0)
		goto out;
	*out = a;
	a = NULL;
out:
	ERR_clear_error();
	coffer_tee_anchors_free(a);
	return r;
}

int
coffer_tee_anchors_new_default(struct coffer_tee_anchors **out)
{
	return coffer_tee_anchors_new_for(COFFER_TEE_UNKNOWN, out);
}
