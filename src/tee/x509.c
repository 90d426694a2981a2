// SPDX-License-Identifier: Apache-2.0
// X.509 helpers of the verifier: parsing certificate bundles, names,
// validity at a given time, and path validation with OpenSSL's X509
// verifier (signatures, CA constraints, validity) at an explicit time.
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "tee/tee_int.h"

/* One PEM body: its line breaks and blanks dropped, then lib/enc's strict
 * base64 (RFC 4648 section 4: padding only at the end, zero unused bits,
 * so a certificate has one encoding). */
static int
pem_b64(const uint8_t *s, const uint8_t *e, struct coffer_buf *out)
{
	struct coffer_buf t = COFFER_BUF_INIT((size_t)(e - s) + 1);
	uint8_t *w, *w0;
	int r;

	if ((r = coffer_buf_reserve(&t, (size_t)(e - s) + 1, &w0)) != 0)
		return r;
	w = w0;
	for (const uint8_t *q = s; q < e; q++)
		if (*q != '\n' && *q != '\r' && *q != ' ' && *q != '\t')
			*w++ = *q;
	coffer_buf_commit(&t, (size_t)(w - w0));
	r = coffer_b64_decode_buf((const char *)t.data, t.len, out);
	coffer_buf_release(&t);
	coffer_errclear();
	return r;
}

int
tee_pem_certs(const uint8_t *p, size_t len, struct coffer_buf *der, size_t max,
    size_t *n)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	size_t pos = 0, count = 0;

	for (;;) {
		const uint8_t *s, *e;

		if (pos >= len || (s = memmem(p + pos, len - pos, begin, sizeof(begin) - 1)) == NULL)
			break;
		s += sizeof(begin) - 1;
		if ((e = memmem(s, (size_t)(p + len - s), end, sizeof(end) - 1)) == NULL)
			return coffer_errf(COFFER_E_FORMAT, "PEM certificate %zu has no "
			    "END line", count + 1);
		if (count == max)
			return coffer_errf(COFFER_E_LIMIT, "more than %zu PEM certificates",
			    max);
		if (pem_b64(s, e, &der[count]) != 0 || der[count].len == 0)
			return coffer_errf(COFFER_E_FORMAT, "PEM certificate %zu: bad "
			    "base64", count + 1);
		count++;
		pos = (size_t)(e - p) + sizeof(end) - 1;
	}
	if (count == 0)
		return coffer_errf(COFFER_E_FORMAT, "no PEM certificate");
	*n = count;
	return 0;
}

int
tee_certs_parse(const uint8_t *p, size_t len, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = NULL;
	BIO *bio = NULL;
	X509 *x;
	int r = 0;

	if (len == 0 || len > (1u << 20))
		return coffer_errf(COFFER_E_FORMAT, "certificates: %zu bytes", len);
	if ((sk = sk_X509_new_null()) == NULL)
		return COFFER_E_NOMEM;
	if (memmem(p, len, "-----BEGIN", 10) != NULL) {
		if ((bio = BIO_new_mem_buf(p, (int)len)) == NULL) {
			r = COFFER_E_NOMEM;
			goto out;
		}
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (!sk_X509_push(sk, x)) {
				X509_free(x);
				r = COFFER_E_NOMEM;
				goto out;
			}
		}
		/* The loop ends at the first block that is not a certificate
		 * (or at the end): anything but PEM_R_NO_START_LINE after the
		 * last certificate is a corrupt block. */
		if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
			r = coffer_errf(COFFER_E_FORMAT, "PEM certificate %d does not "
			    "parse", sk_X509_num(sk) + 1);
			goto out;
		}
	} else {
		const uint8_t *q = p;

		if ((x = d2i_X509(NULL, &q, (long)len)) == NULL) {
			r = coffer_errf(COFFER_E_FORMAT, "not a DER certificate");
			goto out;
		}
		if (q != p + len) {
			X509_free(x);
			r = coffer_errf(COFFER_E_FORMAT, "%zu bytes after a DER certificate",
			    (size_t)(p + len - q));
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			r = COFFER_E_NOMEM;
			goto out;
		}
	}
	if (sk_X509_num(sk) == 0) {
		r = coffer_errf(COFFER_E_FORMAT, "no certificate in PEM text");
		goto out;
	}
	*out = sk;
	sk = NULL;
out:
	ERR_clear_error();
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

void
tee_cn(X509 *x, char *out, size_t outlen)
{
	X509_NAME *n = X509_get_subject_name(x);

	out[0] = '\0';
	if (n == NULL || X509_NAME_get_text_by_NID(n, NID_commonName, out, (int)outlen) < 0)
		out[0] = '\0';
}

int
tee_cn_contains(X509 *x, const char *s)
{
	char cn[256];

	tee_cn(x, cn, sizeof(cn));
	return strstr(cn, s) != NULL;
}

int
tee_cert_sha256(X509 *x, uint8_t out[32])
{
	unsigned int n = 32;

	if (!X509_digest(x, EVP_sha256(), out, &n) || n != 32) {
		ERR_clear_error();
		return coffer_errf(COFFER_E_CRYPTO, "X509_digest failed");
	}
	return 0;
}

int
tee_validity_ok(int64_t nb, int64_t na, int64_t at, const char *what)
{
	char t1[32], t2[32], t3[32];

	if (nb < 0 || na < 0)
		return coffer_errf(COFFER_E_CERT, "%s: unreadable validity dates", what);
	if (at < nb || at > na) {
		tee_fmt_time(nb, t1);
		tee_fmt_time(na, t2);
		tee_fmt_time(at, t3);
		return coffer_errf(COFFER_E_EXPIRED, "%s is valid from %s to %s, "
		    "not at %s", what, t1, t2, t3);
	}
	return 0;
}

int
tee_cert_time_ok(X509 *x, int64_t at, const char *what)
{
	return tee_validity_ok(tee_asn1_time(X509_get0_notBefore(x)),
	    tee_asn1_time(X509_get0_notAfter(x)), at, what);
}

int
tee_chain_verify(struct tee_vctx *v, X509_STORE *store, X509 *leaf,
    STACK_OF(X509) *untrusted, const char *what, STACK_OF(X509) **chain)
{
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *pm;
	int ok, e, depth, r;
	char cn[128] = "";
	X509 *cur;

	if (store == NULL) {
		tee_fail(v, COFFER_E_UNTRUSTED, "chain.untrusted_root",
		    "%s: no trusted root is configured for it", what);
		return COFFER_E_UNTRUSTED;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
		X509_STORE_CTX_free(ctx);
		ERR_clear_error();
		/* Fail closed: a caller that only looks at the verdict must
		 * not see an unchecked chain as a good one. */
		tee_fail(v, COFFER_E_NOMEM, "chain.invalid", "%s: could not be "
		    "checked (X509_STORE_CTX_init failed)", what);
		return coffer_errf(COFFER_E_NOMEM, "X509_STORE_CTX_init failed");
	}
	pm = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(pm, (time_t)v->at);
	X509_VERIFY_PARAM_set_depth(pm, 4);
	ok = X509_verify_cert(ctx);
	if (ok == 1) {
		if (chain != NULL && (*chain = X509_STORE_CTX_get1_chain(ctx)) == NULL) {
			tee_fail(v, COFFER_E_NOMEM, "chain.invalid", "%s: its chain "
			    "could not be copied", what);
			r = COFFER_E_NOMEM;
		} else
			r = 0;
		X509_STORE_CTX_free(ctx);
		return r;
	}
	e = X509_STORE_CTX_get_error(ctx);
	depth = X509_STORE_CTX_get_error_depth(ctx);
	if ((cur = X509_STORE_CTX_get_current_cert(ctx)) != NULL)
		tee_cn(cur, cn, sizeof(cn));
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID: {
		char t[32];

		tee_fmt_time(v->at, t);
		tee_fail(v, COFFER_E_EXPIRED, "chain.expired", "%s: certificate "
		    "\"%s\" (depth %d) %s at %s", what, cn, depth,
		    e == X509_V_ERR_CERT_HAS_EXPIRED ? "has expired" : "is not yet valid", t);
		r = COFFER_E_EXPIRED;
		break;
	}
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		tee_fail(v, COFFER_E_UNTRUSTED, "chain.untrusted_root", "%s: does not "
		    "chain to a trusted root (at \"%s\", depth %d: %s)", what, cn,
		    depth, X509_verify_cert_error_string(e));
		r = COFFER_E_UNTRUSTED;
		break;
	default:
		tee_fail(v, COFFER_E_CERT, "chain.invalid", "%s: certificate \"%s\" "
		    "(depth %d): %s", what, cn, depth, X509_verify_cert_error_string(e));
		r = COFFER_E_CERT;
		break;
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return r;
}
