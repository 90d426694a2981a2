// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the PCK certificate reader (src/tee/pckcert.c,
// doc/format/evidence.md section 4.1), checked against OpenSSL: whatever
// the reader accepts, OpenSSL must parse to the same serial number, issuer,
// validity, key and SGX extension (the reader is stricter, never looser).
// The issuer checks run against the PCK CA of the SGX sample quote.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/log.h"
#include "tee/tee_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *ca;
static int inited;

/* The PCK CA of the SGX sample quote, if the vectors are where
 * tests/fuzz/run starts (the target also works without it). */
static void
init(void)
{
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_buf der[3] = { COFFER_BUF_INIT(65536), COFFER_BUF_INIT(65536),
	    COFFER_BUF_INIT(65536) };
	struct tee_quote q;
	size_t n = 0;

	inited = 1;
	coffer_log_setup("fuzz", COFFER_LOG_OFF, COFFER_LOG_HUMAN, NULL);
	if (coffer_file_read("tests/vectors/attestation/sgx/dcap-qvl/sgx_quote", 1 << 20, &ev) == 0 &&
	    tee_quote_parse(ev.data, ev.len, &q) == 0 &&
	    tee_pem_certs(q.pck_pem, q.pck_pem_len, der, 3, &n) == 0 && n >= 2) {
		const uint8_t *p = der[1].data;

		ca = d2i_X509(NULL, &p, (long)der[1].len);
	}
	for (int i = 0; i < 3; i++)
		coffer_buf_release(&der[i]);
	coffer_buf_release(&ev);
	coffer_errclear();
}

static void
same(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen || (alen > 0 && memcmp(a, b, alen) != 0))
		abort();
}

/* What the reader accepted, as OpenSSL parses it. */
static void
compare(const uint8_t *data, size_t size, const struct tee_pck_cert *c)
{
	const uint8_t *p = data, *sp = c->serial;
	X509 *x;
	ASN1_INTEGER *serial;
	const unsigned char *name;
	size_t namelen, rawlen = 0;
	uint8_t raw[65];

	ERR_clear_error();
	x = d2i_X509(NULL, &p, (long)size);
	/* OpenSSL 3.0 also decodes the extensions it knows, which the reader
	 * skips unread (C9): a refusal from there is not a disagreement. */
	if (x == NULL && ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_X509V3) {
		ERR_clear_error();
		return;
	}
	if (x == NULL || p != data + size)
		abort();
	if ((serial = d2i_ASN1_INTEGER(NULL, &sp, (long)c->serial_len)) == NULL ||
	    ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(x)) != 0)
		abort();
	ASN1_INTEGER_free(serial);
	if (!X509_NAME_get0_der(X509_get_issuer_name(x), &name, &namelen))
		abort();
	same(name, namelen, c->issuer, c->issuer_len);
	if (c->not_before != tee_asn1_time(X509_get0_notBefore(x)) ||
	    c->not_after != tee_asn1_time(X509_get0_notAfter(x)))
		abort();
	{
		EVP_PKEY *k = X509_get0_pubkey(x);

		/* OpenSSL decodes the key lazily; a point off the curve is
		 * refused later, when the key is made (tee_p256_key_get). */
		if (k != NULL && (!EVP_PKEY_get_octet_string_param(k, "encoded-pub-key",
		    raw, sizeof(raw), &rawlen) || rawlen != 65 || raw[0] != 4 ||
		    memcmp(raw + 1, c->key, 64) != 0))
			abort();
	}
	if (c->sgx != NULL) {
		ASN1_OBJECT *o = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
		int idx = X509_get_ext_by_OBJ(x, o, -1);
		const ASN1_OCTET_STRING *v;

		ASN1_OBJECT_free(o);
		if (idx < 0)
			abort();
		v = X509_EXTENSION_get_data(X509_get_ext(x, idx));
		same(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), c->sgx,
		    c->sgx_len);
	}
	X509_free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tee_pck_cert c;
	struct tee_pck_ext ext;
	uint8_t h[32] = { 0 };

	if (!inited)
		init();
	if (tee_pck_cert_read(data, size, &c) != 0) {
		coffer_errclear();
		return 0;
	}
	/* Every pointer points into the input. */
	if (c.tbs < data || c.tbs + c.tbs_len > data + size ||
	    c.sig < data || c.sig + c.sig_len > data + size)
		abort();
	compare(data, size, &c);
	if (c.sgx != NULL)
		(void)tee_pck_ext_parse(c.sgx, c.sgx_len, &ext);
	if (ca != NULL && tee_pck_cert_issued_by(&c, ca))
		(void)tee_pck_cert_signed_by(NULL, &c, h, ca, h);
	coffer_errclear();
	ERR_clear_error();
	return 0;
}
