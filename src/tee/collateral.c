// SPDX-License-Identifier: Apache-2.0
// Collateral: loading Intel TCB Info / QE Identity (PCS body form and
// dcap-qvl's *_collateral.json), CRLs and certificates (PEM, DER, hex)
// from files or memory, checking their signatures once at load, publishing
// them as an immutable set that verifications read without locks, and
// choosing the piece that applies at a verification time.
// doc/format/evidence.md section 6.
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "tee/tee_int.h"

#define COLL_FILE_MAX ((size_t)4 << 20)
#define COLL_MAX_ITEMS 4096

/* What one add call collected before it is checked and published. */
struct pending {
	struct tee_coll_batch b;
	STACK_OF(X509) *certs;
	/* the file each of certs came from, for messages (same index) */
	struct { char src[64]; } *cert_src;
	/* signed texts waiting for their signature check */
	struct sigwait {
		int kind;            /* 1 tcb, 2 identity */
		size_t idx;
		struct coffer_buf text;
		uint8_t sig[64];
	} *waits;
	size_t n_waits;
};

static void
batch_release(struct tee_coll_batch *b)
{
	for (size_t i = 0; i < b->n_tcb; i++) {
		tee_tcb_info_release(&b->tcb[i].info);
		sk_X509_pop_free(b->tcb[i].signers, X509_free);
	}
	free(b->tcb);
	for (size_t i = 0; i < b->n_ids; i++) {
		tee_identity_release(&b->ids[i].id);
		sk_X509_pop_free(b->ids[i].signers, X509_free);
	}
	free(b->ids);
	for (size_t i = 0; i < b->n_crls; i++)
		X509_CRL_free(b->crls[i].crl);
	free(b->crls);
	memset(b, 0, sizeof(*b));
}

static void
pending_release(struct pending *p)
{
	batch_release(&p->b);
	sk_X509_pop_free(p->certs, X509_free);
	free(p->cert_src);
	for (size_t i = 0; i < p->n_waits; i++)
		coffer_buf_release(&p->waits[i].text);
	free(p->waits);
	memset(p, 0, sizeof(*p));
}

static int
grow(void **arr, size_t n, size_t size)
{
	void *q;

	if (n >= COLL_MAX_ITEMS)
		return coffer_errf(COFFER_E_LIMIT, "collateral: more than %d items",
		    COLL_MAX_ITEMS);
	if ((q = coffer_reallocarray(*arr, n + 1, size)) == NULL)
		return COFFER_E_NOMEM;
	memset((char *)q + n * size, 0, size);
	*arr = q;
	return 0;
}

static int
add_cert(struct pending *p, X509 *x, const char *src)
{
	int n = sk_X509_num(p->certs), r;

	if ((r = grow((void **)&p->cert_src, (size_t)n, sizeof(*p->cert_src))) != 0)
		return r;
	snprintf(p->cert_src[n].src, sizeof(p->cert_src[n].src), "%s", src);
	if (!X509_up_ref(x))
		return COFFER_E_INTERNAL;
	if (!sk_X509_push(p->certs, x)) {
		X509_free(x);
		return COFFER_E_NOMEM;
	}
	return 0;
}

static int
add_crl(struct pending *p, X509_CRL *crl, const char *src)
{
	struct tee_crl *c;
	int r;

	if ((r = grow((void **)&p->b.crls, p->b.n_crls, sizeof(*p->b.crls))) != 0)
		return r;
	c = &p->b.crls[p->b.n_crls];
	c->this_update = tee_asn1_time(X509_CRL_get0_lastUpdate(crl));
	c->next_update = X509_CRL_get0_nextUpdate(crl) != NULL ?
	    tee_asn1_time(X509_CRL_get0_nextUpdate(crl)) : INT64_MAX;
	if (c->this_update < 0 || c->next_update < 0)
		return coffer_errf(COFFER_E_FORMAT, "%s: CRL dates do not parse", src);
	if (!X509_CRL_up_ref(crl))
		return COFFER_E_INTERNAL;
	c->crl = crl;
	snprintf(c->src, sizeof(c->src), "%s", src);
	p->b.n_crls++;
	return 0;
}

/* Certificates and CRLs from PEM text (any mix), or from one DER object. */
static int
load_pki(struct pending *p, const uint8_t *d, size_t len, const char *src)
{
	int r = 0;

	if (memmem(d, len, "-----BEGIN", 10) != NULL) {
		STACK_OF(X509_INFO) *infos;
		BIO *bio;
		int n = 0;

		if ((bio = BIO_new_mem_buf(d, (int)len)) == NULL)
			return COFFER_E_NOMEM;
		infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
		BIO_free(bio);
		ERR_clear_error();
		if (infos == NULL)
			return coffer_errf(COFFER_E_FORMAT, "%s: PEM does not parse", src);
		for (int i = 0; r == 0 && i < sk_X509_INFO_num(infos); i++) {
			X509_INFO *xi = sk_X509_INFO_value(infos, i);

			if (xi->x509 != NULL && (r = add_cert(p, xi->x509, src)) == 0)
				n++;
			if (r == 0 && xi->crl != NULL && (r = add_crl(p, xi->crl, src)) == 0)
				n++;
		}
		sk_X509_INFO_pop_free(infos, X509_INFO_free);
		if (r == 0 && n == 0)
			r = coffer_errf(COFFER_E_FORMAT, "%s: no certificate or CRL in PEM",
			    src);
		return r;
	} else {
		const uint8_t *q = d;
		X509 *x;
		X509_CRL *crl;

		if ((x = d2i_X509(NULL, &q, (long)len)) != NULL && q == d + len) {
			r = add_cert(p, x, src);
			X509_free(x);
			return r;
		}
		X509_free(x);
		q = d;
		if ((crl = d2i_X509_CRL(NULL, &q, (long)len)) != NULL && q == d + len) {
			r = add_crl(p, crl, src);
			X509_CRL_free(crl);
			return r;
		}
		X509_CRL_free(crl);
		ERR_clear_error();
		return coffer_errf(COFFER_E_FORMAT, "%s: not a certificate, CRL, TCB "
		    "Info or identity (PEM, DER or JSON)", src);
	}
}

static int
hex_pki(struct pending *p, const json_t *o, const char *key, const char *src)
{
	struct coffer_buf b = COFFER_BUF_INIT(COLL_FILE_MAX);
	const char *s;
	char where[96];
	int r;

	if ((r = coffer_json_get_str(o, NULL, key, 1, &s)) != 0)
		return coffer_errctx(r, "%s", src);
	snprintf(where, sizeof(where), "%s: %s", src, key);
	if ((r = coffer_hex_decode_buf(s, strlen(s), &b)) != 0)
		r = coffer_errf(COFFER_E_FORMAT, "%s: not hex", where);
	else
		r = load_pki(p, b.data, b.len, where);
	coffer_buf_release(&b);
	return r;
}

static int
pem_pki(struct pending *p, const json_t *o, const char *key, const char *src)
{
	const char *s;
	char where[96];
	int r;

	if ((r = coffer_json_get_str(o, NULL, key, 1, &s)) != 0)
		return coffer_errctx(r, "%s", src);
	snprintf(where, sizeof(where), "%s: %s", src, key);
	return load_pki(p, (const uint8_t *)s, strlen(s), where);
}

static int
sig_hex(const char *s, uint8_t out[64], const char *where)
{
	size_t got;

	if (s == NULL || strlen(s) != 128 || coffer_hex_decode(s, 128, out, 64, &got) != 0)
		return coffer_errf(COFFER_E_FORMAT, "%s: signature is not 128 hex digits "
		    "(raw ECDSA P-256 r||s)", where);
	return 0;
}

/* A signed TCB Info (kind 1) or identity (kind 2) given as its exact text. */
static int
add_signed(struct pending *p, int kind, const char *text, size_t len,
    const uint8_t sig[64], const char *src)
{
	struct sigwait *w;
	int r;

	if ((r = grow((void **)&p->waits, p->n_waits, sizeof(*p->waits))) != 0)
		return r;
	w = &p->waits[p->n_waits];
	coffer_buf_init(&w->text, COLL_FILE_MAX);
	p->n_waits++;
	if ((r = coffer_buf_put(&w->text, text, len)) != 0)
		return r;
	memcpy(w->sig, sig, 64);
	w->kind = kind;
	if (kind == 1) {
		struct tee_coll_batch *b = &p->b;

		if ((r = grow((void **)&b->tcb, b->n_tcb, sizeof(*b->tcb))) != 0)
			return r;
		if ((r = tee_tcb_info_parse(text, len, &b->tcb[b->n_tcb].info)) != 0)
			return coffer_errctx(r, "%s", src);
		snprintf(b->tcb[b->n_tcb].src, sizeof(b->tcb[0].src), "%s", src);
		w->idx = b->n_tcb++;
	} else {
		struct tee_coll_batch *b = &p->b;

		if ((r = grow((void **)&b->ids, b->n_ids, sizeof(*b->ids))) != 0)
			return r;
		if ((r = tee_identity_parse(text, len, &b->ids[b->n_ids].id)) != 0)
			return coffer_errctx(r, "%s", src);
		snprintf(b->ids[b->n_ids].src, sizeof(b->ids[0].src), "%s", src);
		w->idx = b->n_ids++;
	}
	return 0;
}

/* PCS body form: {"tcbInfo": {...}, "signature": "<hex>"}; the signature
 * covers the exact bytes of the inner object in the file. */
static int
load_pcs_body(struct pending *p, const char *text, size_t len, const json_t *doc,
    const char *member, int kind, const char *src)
{
	const char *sig = NULL;
	uint8_t s[64];
	size_t a, b;
	int r;

	if ((r = coffer_json_get_str(doc, NULL, "signature", 1, &sig)) != 0)
		return coffer_errctx(r, "%s", src);
	if ((r = sig_hex(sig, s, src)) != 0)
		return r;
	if ((r = tee_json_span(text, len, member, &a, &b)) != 0)
		return coffer_errctx(r, "%s", src);
	return add_signed(p, kind, text + a, b - a, s, src);
}

/* dcap-qvl QuoteCollateralV3: PEM chains, hex DER CRLs, and the signed
 * TCB Info / QE Identity texts with hex signatures. */
static int
load_qvl(struct pending *p, const json_t *doc, const char *src)
{
	const char *ti, *tis, *qe, *qes;
	uint8_t s[64];
	int r;

	if ((r = pem_pki(p, doc, "tcb_info_issuer_chain", src)) != 0 ||
	    (r = pem_pki(p, doc, "qe_identity_issuer_chain", src)) != 0 ||
	    (r = pem_pki(p, doc, "pck_crl_issuer_chain", src)) != 0 ||
	    (r = hex_pki(p, doc, "root_ca_crl", src)) != 0 ||
	    (r = hex_pki(p, doc, "pck_crl", src)) != 0)
		return r;
	if ((r = coffer_json_get_str(doc, NULL, "tcb_info", 1, &ti)) != 0 ||
	    (r = coffer_json_get_str(doc, NULL, "tcb_info_signature", 1, &tis)) != 0 ||
	    (r = coffer_json_get_str(doc, NULL, "qe_identity", 1, &qe)) != 0 ||
	    (r = coffer_json_get_str(doc, NULL, "qe_identity_signature", 1, &qes)) != 0)
		return coffer_errctx(r, "%s", src);
	if ((r = sig_hex(tis, s, src)) != 0 ||
	    (r = add_signed(p, 1, ti, strlen(ti), s, src)) != 0)
		return r;
	if ((r = sig_hex(qes, s, src)) != 0 ||
	    (r = add_signed(p, 2, qe, strlen(qe), s, src)) != 0)
		return r;
	return 0;
}

static int
load_json(struct pending *p, const char *text, size_t len, const char *src)
{
	json_t *doc = NULL;
	int r;

	if ((r = coffer_json_parse(text, len, COLL_FILE_MAX, 32, &doc)) != 0)
		return coffer_errctx(r, "%s", src);
	if (!json_is_object(doc))
		r = coffer_errf(COFFER_E_FORMAT, "%s: not a JSON object", src);
	else if (json_object_get(doc, "tcbInfo") != NULL)
		r = load_pcs_body(p, text, len, doc, "tcbInfo", 1, src);
	else if (json_object_get(doc, "enclaveIdentity") != NULL)
		r = load_pcs_body(p, text, len, doc, "enclaveIdentity", 2, src);
	else if (json_object_get(doc, "tcb_info") != NULL)
		r = load_qvl(p, doc, src);
	else
		r = coffer_errf(COFFER_E_FORMAT, "%s: JSON that is neither a TCB Info, "
		    "an enclave identity nor a dcap-qvl collateral file", src);
	json_decref(doc);
	return r;
}

static int
load_bytes(struct pending *p, const uint8_t *d, size_t len, const char *src)
{
	size_t i = 0;

	while (i < len && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
		i++;
	if (i < len && d[i] == '{')
		return load_json(p, (const char *)d, len, src);
	/* A CRL in hex (as PCCS stores them) */
	if (len >= 2 && d[0] == '3' && d[1] == '0') {
		struct coffer_buf b = COFFER_BUF_INIT(COLL_FILE_MAX);
		size_t n = len;
		int r;

		while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == '\r'))
			n--;
		if (coffer_hex_decode_buf((const char *)d, n, &b) == 0) {
			r = load_pki(p, b.data, b.len, src);
			coffer_buf_release(&b);
			return r;
		}
		coffer_buf_release(&b);
	}
	return load_pki(p, d, len, src);
}

/* ------------------------------------------------------------------ */
/* Checking (section 6.2) */

static int
x509_issued_by(X509 *x, X509 *issuer)
{
	int ok = X509_check_issued(issuer, x) == X509_V_OK &&
	    X509_verify(x, X509_get0_pubkey(issuer)) == 1;

	ERR_clear_error();
	return ok;
}

/* TCB Signing certificates: issued directly by the Intel root, not CAs. */
static STACK_OF(X509) *
tcb_signers(const struct coffer_tee_collateral *c, const struct tee_coll_set *s,
    const struct pending *p)
{
	STACK_OF(X509) *all[2] = { s->certs, p->certs }, *out = sk_X509_new_null();

	if (out == NULL || c->anchors->intel_root == NULL)
		return out;
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < sk_X509_num(all[k]); i++) {
			X509 *x = sk_X509_value(all[k], i);

			if (X509_check_ca(x) != 0 || !x509_issued_by(x, c->anchors->intel_root))
				continue;
			if (!X509_up_ref(x) || !sk_X509_push(out, x)) {
				sk_X509_pop_free(out, X509_free);
				return NULL;
			}
		}
	}
	return out;
}

static int
check_signed(const struct coffer_tee_collateral *c, const struct tee_coll_set *s,
    struct pending *p)
{
	STACK_OF(X509) *cand = NULL;
	int r = 0;

	if (p->n_waits == 0)
		return 0;
	if (c->anchors->intel_root == NULL)
		return coffer_errf(COFFER_E_UNTRUSTED, "collateral: Intel TCB Info or "
		    "identity given, but no Intel root is trusted");
	if ((cand = tcb_signers(c, s, p)) == NULL)
		return COFFER_E_NOMEM;
	for (size_t i = 0; r == 0 && i < p->n_waits; i++) {
		struct sigwait *w = &p->waits[i];
		STACK_OF(X509) **signers = w->kind == 1 ? &p->b.tcb[w->idx].signers :
		    &p->b.ids[w->idx].signers;
		const char *src = w->kind == 1 ? p->b.tcb[w->idx].src : p->b.ids[w->idx].src;

		if ((*signers = sk_X509_new_null()) == NULL) {
			r = COFFER_E_NOMEM;
			break;
		}
		for (int k = 0; k < sk_X509_num(cand); k++) {
			X509 *x = sk_X509_value(cand, k);
			struct coffer_ecdsa_key *key = NULL;

			if (coffer_ecdsa_pub_from_pkey(X509_get0_pubkey(x), &key) != 0)
				continue;
			if (coffer_ecdsa_verify(key, w->text.data, w->text.len, w->sig, 64,
			    COFFER_ECDSA_SIG_RAW) == 0) {
				if (!X509_up_ref(x) || !sk_X509_push(*signers, x))
					r = COFFER_E_NOMEM;
			}
			coffer_ecdsa_key_free(key);
		}
		if (r == 0 && sk_X509_num(*signers) == 0) {
			if (sk_X509_num(cand) == 0)
				r = coffer_errf(COFFER_E_UNTRUSTED, "%s: no TCB Signing "
				    "certificate issued by the trusted Intel root is in the "
				    "collateral (add the TCB-Info-Issuer-Chain)", src);
			else
				r = coffer_errf(COFFER_E_SIGNATURE, "%s: the %s signature "
				    "does not verify with the TCB Signing key", src,
				    w->kind == 1 ? "tcbInfo" : "enclaveIdentity");
		}
	}
	if (r == 0)
		coffer_errclear();
	sk_X509_pop_free(cand, X509_free);
	return r;
}

static int
same_name(X509_CRL *crl, X509 *x)
{
	return X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(x)) == 0;
}

/* Record that crl verifies with issuer's key, if it does. */
static int
crl_try(struct tee_crl *crl, X509 *issuer)
{
	int ok = X509_CRL_verify(crl->crl, X509_get0_pubkey(issuer)) == 1;

	ERR_clear_error();
	if (ok && tee_cert_sha256(issuer, crl->verified_by) == 0) {
		crl->verified = 1;
		return 1;
	}
	coffer_errclear();
	return 0;
}

/*
 * Verify each CRL whose issuer is a root or a collateral certificate
 * issued by the Intel root: with the key of one certificate of that name
 * (two CAs may share a name, not a key). One that none of them verifies
 * is an error. The others (a PCK CA's CRL without its chain) are verified,
 * once per issuer, the first time a quote's PCK CA is their issuer.
 */
static int
check_crls(const struct coffer_tee_collateral *c, const struct tee_coll_set *s,
    struct pending *p)
{
	const struct coffer_tee_anchors *a = c->anchors;
	STACK_OF(X509) *all[2] = { s->certs, p->certs };

	for (size_t i = 0; i < p->b.n_crls; i++) {
		struct tee_crl *crl = &p->b.crls[i];
		X509 *named = NULL;

		if (a->intel_root != NULL && same_name(crl->crl, a->intel_root)) {
			named = a->intel_root;
			if (crl_try(crl, named))
				continue;
		}
		for (size_t k = 0; !crl->verified && k < a->n_amd; k++)
			if (same_name(crl->crl, a->amd[k].ark)) {
				named = a->amd[k].ark;
				crl_try(crl, named);
			}
		for (int k = 0; !crl->verified && a->intel_root != NULL && k < 2; k++)
			for (int j = 0; !crl->verified && j < sk_X509_num(all[k]); j++) {
				X509 *x = sk_X509_value(all[k], j);

				if (!same_name(crl->crl, x) || X509_check_ca(x) < 1 ||
				    !x509_issued_by(x, a->intel_root))
					continue;
				named = x;
				crl_try(crl, x);
			}
		if (named != NULL && !crl->verified) {
			char cn[128];

			tee_cn(named, cn, sizeof(cn));
			return coffer_errf(COFFER_E_SIGNATURE, "%s: CRL signature does not "
			    "verify with the key of \"%s\"", crl->src, cn);
		}
	}
	return 0;
}

static int has_cert(STACK_OF(X509) *sk, X509 *x);

/* The CN of a name, for messages. */
static void
name_cn(X509_NAME *n, char *out, size_t outlen)
{
	if (X509_NAME_get_text_by_NID(n, NID_commonName, out, (int)outlen) < 0)
		snprintf(out, outlen, "?");
	ERR_clear_error();
}

static int
is_anchor(const struct coffer_tee_anchors *a, X509 *x)
{
	if (a->intel_root != NULL && X509_cmp(a->intel_root, x) == 0)
		return 1;
	for (size_t k = 0; k < a->n_amd; k++)
		if (X509_cmp(a->amd[k].ark, x) == 0)
			return 1;
	return a->amd_inter != NULL && has_cert(a->amd_inter, x);
}

/* Issued (name and signature) by a root, an AMD ASK/ASVK, or a CA
 * certificate of the collateral that the Intel root issued. */
static int
issued_by_trusted(const struct coffer_tee_anchors *a, STACK_OF(X509) *const all[2],
    X509 *x)
{
	if (a->intel_root != NULL && x509_issued_by(x, a->intel_root))
		return 1;
	for (size_t k = 0; k < a->n_amd; k++)
		if (x509_issued_by(x, a->amd[k].ark))
			return 1;
	for (int k = 0; a->amd_inter != NULL && k < sk_X509_num(a->amd_inter); k++)
		if (x509_issued_by(x, sk_X509_value(a->amd_inter, k)))
			return 1;
	for (int k = 0; a->intel_root != NULL && k < 2; k++)
		for (int j = 0; j < sk_X509_num(all[k]); j++) {
			X509 *ca = sk_X509_value(all[k], j);

			if (ca != x && X509_check_ca(ca) >= 1 &&
			    x509_issued_by(ca, a->intel_root) && x509_issued_by(x, ca))
				return 1;
		}
	return 0;
}

/* doc/protocol/collateral.md section 4, S1 and S2: nothing that no root
 * vouches for, for a cache that anyone may feed. */
static int
check_strict(const struct coffer_tee_collateral *c, const struct tee_coll_set *s,
    const struct pending *p)
{
	STACK_OF(X509) *const all[2] = { s->certs, p->certs };
	char cn[128];

	for (size_t i = 0; i < p->b.n_crls; i++) {
		const struct tee_crl *crl = &p->b.crls[i];

		if (crl->verified)
			continue;
		name_cn(X509_CRL_get_issuer(crl->crl), cn, sizeof(cn));
		return coffer_errf(COFFER_E_UNTRUSTED, "%s: the CRL of \"%s\" cannot "
		    "be checked: its issuer is neither a root nor a CA certificate "
		    "of the collateral issued by the Intel root (give its issuer "
		    "chain with it)", crl->src, cn);
	}
	for (int i = 0; i < sk_X509_num(p->certs); i++) {
		X509 *x = sk_X509_value(p->certs, i);

		if (is_anchor(c->anchors, x) || issued_by_trusted(c->anchors, all, x))
			continue;
		tee_cn(x, cn, sizeof(cn));
		return coffer_errf(COFFER_E_UNTRUSTED, "%s: certificate \"%s\" is not "
		    "issued by a trusted root, an AMD ASK/ASVK, or an Intel CA the "
		    "root issued", p->cert_src[i].src, cn);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sets (section 6.4) */

struct tee_coll_set *
tee_coll_set_get(const struct coffer_tee_collateral *cc)
{
	struct coffer_tee_collateral *c = (struct coffer_tee_collateral *)cc;
	struct tee_coll_set *s;

	if (c == NULL)
		return NULL;
	pthread_mutex_lock(&c->lock);
	s = c->cur;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&c->lock);
	return s;
}

void
tee_coll_set_put(struct tee_coll_set *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	free(s->tcb);
	free(s->ids);
	free(s->crls);
	sk_X509_pop_free(s->certs, X509_free);
	free(s);
}

static int
has_cert(STACK_OF(X509) *sk, X509 *x)
{
	for (int i = 0; i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), x) == 0)
			return 1;
	return 0;
}

static int
push_ref(STACK_OF(X509) *sk, X509 *x)
{
	if (!X509_up_ref(x))
		return COFFER_E_INTERNAL;
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		return COFFER_E_NOMEM;
	}
	return 0;
}

/* The set after old with the pieces of batch b and the certificates of
 * certs that are new (their count in *n_new, appended last). */
static int
set_build(const struct tee_coll_set *old, const struct tee_coll_batch *b,
    STACK_OF(X509) *certs, struct tee_coll_set **out, int *n_new)
{
	struct tee_coll_set *s;
	int r = COFFER_E_NOMEM;

	*n_new = 0;
	if ((s = coffer_calloc(1, sizeof(*s))) == NULL)
		return COFFER_E_NOMEM;
	atomic_init(&s->refs, 1);
	if ((s->tcb = coffer_mallocarray(old->n_tcb + b->n_tcb + 1, sizeof(*s->tcb))) == NULL ||
	    (s->ids = coffer_mallocarray(old->n_ids + b->n_ids + 1, sizeof(*s->ids))) == NULL ||
	    (s->crls = coffer_mallocarray(old->n_crls + b->n_crls + 1, sizeof(*s->crls))) == NULL ||
	    (s->certs = sk_X509_new_null()) == NULL)
		goto fail;
	for (size_t i = 0; i < old->n_tcb; i++)
		s->tcb[s->n_tcb++] = old->tcb[i];
	for (size_t i = 0; i < b->n_tcb; i++)
		s->tcb[s->n_tcb++] = &b->tcb[i];
	for (size_t i = 0; i < old->n_ids; i++)
		s->ids[s->n_ids++] = old->ids[i];
	for (size_t i = 0; i < b->n_ids; i++)
		s->ids[s->n_ids++] = &b->ids[i];
	for (size_t i = 0; i < old->n_crls; i++)
		s->crls[s->n_crls++] = old->crls[i];
	for (size_t i = 0; i < b->n_crls; i++)
		s->crls[s->n_crls++] = &b->crls[i];
	for (int i = 0; i < sk_X509_num(old->certs); i++)
		if ((r = push_ref(s->certs, sk_X509_value(old->certs, i))) != 0)
			goto fail;
	/* A refresh that brings the same certificates again adds nothing. */
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (has_cert(s->certs, x))
			continue;
		if ((r = push_ref(s->certs, x)) != 0)
			goto fail;
		(*n_new)++;
	}
	*out = s;
	return 0;
fail:
	tee_coll_set_put(s);
	return r;
}

/* Check the pending pieces against the current set, then publish the
 * set that holds them (not with COFFER_TEE_COLL_DRY_RUN). On error nothing
 * of p is kept. */
static int
commit(struct coffer_tee_collateral *c, struct pending *p, unsigned flags)
{
	struct tee_coll_set *old, *s = NULL;
	struct tee_coll_batch *b = NULL;
	int r, n_new = 0;

	pthread_mutex_lock(&c->add_lock);
	old = tee_coll_set_get(c);
	if ((r = check_signed(c, old, p)) != 0 || (r = check_crls(c, old, p)) != 0)
		goto out;
	if ((flags & COFFER_TEE_COLL_STRICT) && (r = check_strict(c, old, p)) != 0)
		goto out;
	if (flags & COFFER_TEE_COLL_DRY_RUN)
		goto out;
	if ((b = coffer_calloc(1, sizeof(*b))) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	/* The batch's arrays are final: the set points into them. */
	*b = p->b;
	if ((r = set_build(old, b, p->certs, &s, &n_new)) != 0) {
		free(b);
		goto out;
	}
	memset(&p->b, 0, sizeof(p->b));
	b->next = c->batches;
	c->batches = b;
	pthread_mutex_lock(&c->lock);
	for (int i = sk_X509_num(s->certs) - n_new; i < sk_X509_num(s->certs); i++)
		tee_cert_cache_pin(c, sk_X509_value(s->certs, i));
	c->cur = s;
	pthread_mutex_unlock(&c->lock);
	/* The collateral's reference to the old set; readers keep theirs. */
	tee_coll_set_put(old);
out:
	tee_coll_set_put(old);
	pthread_mutex_unlock(&c->add_lock);
	return r;
}

int
coffer_tee_collateral_new(const struct coffer_tee_anchors *a,
    struct coffer_tee_collateral **out)
{
	struct coffer_tee_collateral *c;

	if (a == NULL)
		return coffer_errf(COFFER_E_INVAL, "collateral: no trust anchors");
	if ((c = coffer_calloc(1, sizeof(*c))) == NULL)
		return COFFER_E_NOMEM;
	if ((c->cur = coffer_calloc(1, sizeof(*c->cur))) == NULL ||
	    (c->cur->certs = sk_X509_new_null()) == NULL ||
	    (c->slots = coffer_calloc(TEE_CACHE_SLOTS, sizeof(*c->slots))) == NULL ||
	    (c->keys = coffer_calloc(TEE_MAX_KEYS, sizeof(*c->keys))) == NULL) {
		if (c->cur != NULL)
			sk_X509_free(c->cur->certs);
		free(c->cur);
		free(c->slots);
		free(c);
		return COFFER_E_NOMEM;
	}
	atomic_init(&c->cur->refs, 1);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->add_lock, NULL);
	c->anchors = a;
	*out = c;
	return 0;
}

void
coffer_tee_collateral_free(struct coffer_tee_collateral *c)
{
	if (c == NULL)
		return;
	/* No reader may be left (tee.h): the collateral's reference is the
	 * last one. */
	tee_coll_set_put(c->cur);
	while (c->batches != NULL) {
		struct tee_coll_batch *b = c->batches;

		c->batches = b->next;
		batch_release(b);
		free(b);
	}
	tee_cert_cache_release(c);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->add_lock);
	free(c);
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

static int
load_file(struct pending *p, const char *path)
{
	struct coffer_buf b = COFFER_BUF_INIT(COLL_FILE_MAX);
	int r;

	if ((r = coffer_file_read(path, COLL_FILE_MAX, &b)) != 0)
		return coffer_errctx(r, "%s", path);
	if (b.len == 0)
		r = coffer_errf(COFFER_E_FORMAT, "%s: empty file", path);
	else
		r = load_bytes(p, b.data, b.len, base_name(path));
	coffer_buf_release(&b);
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
coffer_tee_collateral_add_path(struct coffer_tee_collateral *c, const char *path)
{
	struct pending p;
	struct stat st;
	DIR *dir = NULL;
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	memset(&p, 0, sizeof(p));
	if ((p.certs = sk_X509_new_null()) == NULL)
		return COFFER_E_NOMEM;
	if (stat(path, &st) != 0) {
		r = coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent *de;

		if ((dir = opendir(path)) == NULL) {
			r = coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		/* Sorted, so errors and choices do not depend on readdir order. */
		while ((de = readdir(dir)) != NULL) {
			char *full;

			if (de->d_name[0] == '.')
				continue;
			if (n >= COLL_MAX_ITEMS ||
			    (full = coffer_malloc(strlen(path) + strlen(de->d_name) + 2)) == NULL) {
				r = n >= COLL_MAX_ITEMS ? coffer_errf(COFFER_E_LIMIT,
				    "%s: too many files", path) : COFFER_E_NOMEM;
				goto out;
			}
			snprintf(full, strlen(path) + strlen(de->d_name) + 2, "%s/%s",
			    path, de->d_name);
			if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
				free(full);
				continue;
			}
			if (grow((void **)&names, n, sizeof(*names)) != 0) {
				free(full);
				r = COFFER_E_NOMEM;
				goto out;
			}
			names[n++] = full;
		}
		if (n == 0) {
			r = coffer_errf(COFFER_E_NOTFOUND, "%s: no collateral files", path);
			goto out;
		}
		qsort(names, n, sizeof(*names), cmp_names);
		for (size_t i = 0; r == 0 && i < n; i++)
			r = load_file(&p, names[i]);
	} else {
		r = load_file(&p, path);
	}
	if (r == 0)
		r = commit(c, &p, 0);
out:
	if (dir != NULL)
		closedir(dir);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	pending_release(&p);
	return r;
}

int
coffer_tee_collateral_add_mem(struct coffer_tee_collateral *c, const char *name,
    const uint8_t *data, size_t len)
{
	struct pending p;
	int r;

	memset(&p, 0, sizeof(p));
	if (len == 0 || len > COLL_FILE_MAX)
		return coffer_errf(COFFER_E_FORMAT, "%s: %zu bytes", name, len);
	if ((p.certs = sk_X509_new_null()) == NULL)
		return COFFER_E_NOMEM;
	if ((r = load_bytes(&p, data, len, name)) == 0)
		r = commit(c, &p, 0);
	pending_release(&p);
	return r;
}

const char *
coffer_tee_coll_kind_name(enum coffer_tee_coll_kind k)
{
	switch (k) {
	case COFFER_TEE_COLL_CERTS: return "certificates";
	case COFFER_TEE_COLL_TCB_INFO: return "tcb-info";
	case COFFER_TEE_COLL_IDENTITY: return "identity";
	case COFFER_TEE_COLL_CRL: return "crl";
	case COFFER_TEE_COLL_MIXED: return "mixed";
	}
	return "?";
}

/* Where one file's pieces start in a pending add. */
struct mark {
	size_t tcb, ids, crls;
	int certs;
};

static void
mark_now(const struct pending *p, struct mark *m)
{
	m->tcb = p->b.n_tcb;
	m->ids = p->b.n_ids;
	m->crls = p->b.n_crls;
	m->certs = sk_X509_num(p->certs);
}

static void
earlier(int64_t *t, int64_t v)
{
	if (v < *t)
		*t = v;
}

/* The kind, slot, order and expiry of the pieces [a, b) of one file
 * (doc/protocol/collateral.md section 3.3). */
static int
describe(const struct pending *p, const struct mark *a, const struct mark *b,
    struct coffer_tee_collateral_file *f)
{
	size_t nt = b->tcb - a->tcb, ni = b->ids - a->ids, nc = b->crls - a->crls;
	int nx = b->certs - a->certs;
	char hex[33];

	f->slot[0] = '\0';
	f->eval_num = 0;
	f->issued = 0;
	f->expires = INT64_MAX;
	if (nt == 1 && ni == 0 && nc == 0 && nx == 0) {
		const struct tee_tcb_info *t = &p->b.tcb[a->tcb].info;

		f->kind = COFFER_TEE_COLL_TCB_INFO;
		coffer_hex_encode(t->fmspc, 6, hex);
		snprintf(f->slot, sizeof(f->slot), "tcb-info/%s/%s", t->tdx ? "tdx" : "sgx",
		    hex);
	} else if (nt == 0 && ni == 1 && nc == 0 && nx == 0) {
		f->kind = COFFER_TEE_COLL_IDENTITY;
		snprintf(f->slot, sizeof(f->slot), "identity/%s", p->b.ids[a->ids].id.id);
	} else if (nt == 0 && ni == 0 && nc == 1 && nx == 0) {
		X509_NAME *n = X509_CRL_get_issuer(p->b.crls[a->crls].crl);
		unsigned char *der = NULL;
		uint8_t h[32];
		int len = i2d_X509_NAME(n, &der);

		if (len <= 0 || coffer_sha256(der, (size_t)len, h) != 0) {
			OPENSSL_free(der);
			return coffer_errf(COFFER_E_CRYPTO, "%s: CRL issuer name", f->name);
		}
		OPENSSL_free(der);
		coffer_hex_encode(h, 16, hex);
		f->kind = COFFER_TEE_COLL_CRL;
		snprintf(f->slot, sizeof(f->slot), "crl/%s", hex);
	} else if (nt == 0 && ni == 0 && nc == 0 && nx > 0) {
		f->kind = COFFER_TEE_COLL_CERTS;
	} else {
		f->kind = COFFER_TEE_COLL_MIXED;
	}
	for (size_t i = a->tcb; i < b->tcb; i++) {
		f->eval_num = p->b.tcb[i].info.eval_num;
		f->issued = p->b.tcb[i].info.issue_date;
		earlier(&f->expires, p->b.tcb[i].info.next_update);
	}
	for (size_t i = a->ids; i < b->ids; i++) {
		f->eval_num = p->b.ids[i].id.eval_num;
		f->issued = p->b.ids[i].id.issue_date;
		earlier(&f->expires, p->b.ids[i].id.next_update);
	}
	for (size_t i = a->crls; i < b->crls; i++) {
		f->issued = p->b.crls[i].this_update;
		earlier(&f->expires, p->b.crls[i].next_update);
	}
	for (int i = a->certs; i < b->certs; i++) {
		X509 *x = sk_X509_value(p->certs, i);
		int64_t nb = tee_asn1_time(X509_get0_notBefore(x));
		int64_t na = tee_asn1_time(X509_get0_notAfter(x));

		if (nb < 0 || na < 0)
			return coffer_errf(COFFER_E_FORMAT, "%s: certificate dates do not "
			    "parse", f->name);
		if (f->kind == COFFER_TEE_COLL_CERTS && nb > f->issued)
			f->issued = nb;
		earlier(&f->expires, na);
	}
	return 0;
}

int
coffer_tee_collateral_add_files(struct coffer_tee_collateral *c,
    struct coffer_tee_collateral_file *files, size_t n, unsigned flags)
{
	struct coffer_tee_collateral_file *out = NULL;
	struct mark *marks = NULL;
	struct pending p;
	int r = 0;

	memset(&p, 0, sizeof(p));
	if (n == 0 || n > COLL_MAX_ITEMS)
		return coffer_errf(COFFER_E_INVAL, "collateral: %zu files in one add", n);
	if ((p.certs = sk_X509_new_null()) == NULL ||
	    (marks = coffer_calloc(n + 1, sizeof(*marks))) == NULL ||
	    (out = coffer_calloc(n, sizeof(*out))) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		mark_now(&p, &marks[i]);
		if (files[i].len == 0 || files[i].len > COLL_FILE_MAX)
			r = coffer_errf(COFFER_E_FORMAT, "%s: %zu bytes", files[i].name,
			    files[i].len);
		else
			r = load_bytes(&p, files[i].data, files[i].len, files[i].name);
	}
	if (r != 0)
		goto out;
	mark_now(&p, &marks[n]);
	/* Described before commit: it moves the pieces into the set. */
	for (size_t i = 0; r == 0 && i < n; i++) {
		out[i] = files[i];
		r = describe(&p, &marks[i], &marks[i + 1], &out[i]);
	}
	if (r == 0 && (r = commit(c, &p, flags)) == 0)
		memcpy(files, out, n * sizeof(*out));
out:
	free(marks);
	free(out);
	pending_release(&p);
	return r;
}

/* ------------------------------------------------------------------ */
/* Choosing collateral at a time (section 6.3) */

static int
in_window(int64_t from, int64_t to, int64_t at)
{
	return from <= at && at < to;
}

const struct tee_signed_tcb *
tee_coll_tcb_info(const struct tee_coll_set *s, int tdx, const uint8_t fmspc[6],
    int64_t at)
{
	const struct tee_signed_tcb *best = NULL;
	int best_in = 0;

	for (size_t i = 0; s != NULL && i < s->n_tcb; i++) {
		const struct tee_signed_tcb *t = s->tcb[i];
		int in = in_window(t->info.issue_date, t->info.next_update, at);

		if (t->info.tdx != tdx || memcmp(t->info.fmspc, fmspc, 6) != 0)
			continue;
		if (best == NULL || in > best_in ||
		    (in == best_in && t->info.eval_num > best->info.eval_num) ||
		    (in == best_in && t->info.eval_num == best->info.eval_num &&
		    t->info.issue_date > best->info.issue_date)) {
			best = t;
			best_in = in;
		}
	}
	return best;
}

const struct tee_signed_identity *
tee_coll_identity(const struct tee_coll_set *s, const char *id, int64_t at)
{
	const struct tee_signed_identity *best = NULL;
	int best_in = 0;

	for (size_t i = 0; s != NULL && i < s->n_ids; i++) {
		const struct tee_signed_identity *e = s->ids[i];
		int in = in_window(e->id.issue_date, e->id.next_update, at);

		if (strcmp(e->id.id, id) != 0)
			continue;
		if (best == NULL || in > best_in ||
		    (in == best_in && e->id.eval_num > best->id.eval_num) ||
		    (in == best_in && e->id.eval_num == best->id.eval_num &&
		    e->id.issue_date > best->id.issue_date)) {
			best = e;
			best_in = in;
		}
	}
	return best;
}

/* 1 if crl verifies with the key of issuer (SHA-256 ih): remembered per
 * CRL for the last issuer it verified with, under the lock. */
static int
crl_signed_by(struct tee_vctx *v, struct tee_crl *crl, X509 *issuer, const uint8_t ih[32])
{
	struct coffer_tee_collateral *c = (struct coffer_tee_collateral *)v->coll;
	int ok;

	pthread_mutex_lock(&c->lock);
	ok = crl->verified && memcmp(crl->verified_by, ih, 32) == 0;
	pthread_mutex_unlock(&c->lock);
	if (ok)
		return 1;
	ok = X509_CRL_verify(crl->crl, X509_get0_pubkey(issuer)) == 1;
	ERR_clear_error();
	if (ok) {
		pthread_mutex_lock(&c->lock);
		crl->verified = 1;
		memcpy(crl->verified_by, ih, 32);
		pthread_mutex_unlock(&c->lock);
	}
	return ok;
}

/*
 * The CRL of issuer for time v->at: among the CRLs that carry the
 * issuer's name and verify with its key, one current at T with the latest
 * thisUpdate, else the newest (so that its expiry is reported). *named
 * gets how many CRLs carry the name.
 */
static struct tee_crl *
coll_crl(struct tee_vctx *v, X509 *issuer, const uint8_t ih[32], size_t *named)
{
	const struct tee_coll_set *s = v->set;
	struct tee_crl *best = NULL;
	int best_in = 0;

	*named = 0;
	for (size_t i = 0; s != NULL && i < s->n_crls; i++) {
		struct tee_crl *t = s->crls[i];
		int in = in_window(t->this_update, t->next_update, v->at);

		if (!same_name(t->crl, issuer))
			continue;
		(*named)++;
		/* Only a CRL that would be chosen costs a signature check. */
		if (best != NULL && !(in > best_in ||
		    (in == best_in && t->this_update > best->this_update)))
			continue;
		if (!crl_signed_by(v, t, issuer, ih))
			continue;
		best = t;
		best_in = in;
	}
	return best;
}

void
tee_check_revocation(struct tee_vctx *v, X509 *cert, X509 *issuer, const char *what)
{
	char cn[128];
	uint8_t ih[32];

	if (tee_cert_sha256(issuer, ih) != 0) {
		tee_cn(issuer, cn, sizeof(cn));
		tee_fail(v, COFFER_E_CRYPTO, "crl.signature", "the CRL of \"%s\" could "
		    "not be checked (no digest of the issuer)", cn);
		return;
	}
	tee_check_revocation_serial(v, X509_get0_serialNumber(cert), issuer, ih, what);
}

void
tee_check_revocation_serial(struct tee_vctx *v, const ASN1_INTEGER *serial,
    X509 *issuer, const uint8_t ih[32], const char *what)
{
	char cn[128], t1[32], t2[32], t3[32];
	X509_REVOKED *rev = NULL;
	struct tee_crl *crl = NULL;
	size_t named = 0;

	tee_cn(issuer, cn, sizeof(cn));
	crl = coll_crl(v, issuer, ih, &named);
	if (crl == NULL && named > 0) {
		tee_fail(v, COFFER_E_SIGNATURE, "crl.signature", "the collateral has "
		    "%zu CRL%s named for \"%s\", none of which verifies with that "
		    "CA's key", named, named > 1 ? "s" : "", cn);
		return;
	}
	if (crl == NULL) {
		tee_missing(v, v->flags & COFFER_TEE_ALLOW_NO_CRL, "crl.missing",
		    "no CRL of \"%s\" in the collateral: cannot check that the %s is "
		    "not revoked", cn, what);
		return;
	}
	if (!in_window(crl->this_update, crl->next_update, v->at)) {
		tee_fmt_time(crl->this_update, t1);
		tee_fmt_time(crl->next_update, t2);
		tee_fmt_time(v->at, t3);
		tee_fail(v, COFFER_E_EXPIRED, "crl.expired", "the CRL of \"%s\" (%s) is "
		    "valid from %s to %s, not at %s", cn, crl->src, t1, t2, t3);
	}
	/* By serial number (section 4, step 3): the CRLs Intel and AMD issue
	 * are not indirect, so the CRL's issuer is the certificate's. */
	if (X509_CRL_get0_by_serial(crl->crl, &rev, serial) == 1) {
		tee_fmt_time(tee_asn1_time(X509_REVOKED_get0_revocationDate(rev)), t1);
		tee_fail(v, COFFER_E_REVOKED, "chain.revoked", "the %s is revoked by "
		    "the CRL of \"%s\" (since %s)", what, cn, t1);
	}
	ERR_clear_error();
}

int
tee_check_signers(struct tee_vctx *v, STACK_OF(X509) *signers, const char *what)
{
	const struct coffer_tee_anchors *a = v->anchors;
	char t[32];

	for (int i = 0; i < sk_X509_num(signers); i++) {
		X509 *x = sk_X509_value(signers, i);

		if (tee_cert_time_ok(x, v->at, "TCB Signing certificate") != 0)
			continue;
		coffer_errclear();
		if (a->intel_root != NULL)
			tee_check_revocation(v, x, a->intel_root, "TCB Signing certificate");
		return 0;
	}
	coffer_errclear();
	tee_fmt_time(v->at, t);
	tee_fail(v, COFFER_E_EXPIRED, "collateral.expired", "%s: no TCB Signing "
	    "certificate that signed it is valid at %s", what, t);
	return COFFER_E_EXPIRED;
}
