// SPDX-License-Identifier: Apache-2.0
// The PCK certificate reader (src/tee/pckcert.c, doc/format/evidence.md
// section 4.1): every real PCK certificate in the samples reads as OpenSSL
// parses it; each rule C1-C10 refuses what it names; the issuer checks
// I1-I4 hold for certificates OpenSSL makes, and a signature remembered for
// one issuer does not count for another.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "test_tee_common.h"
#include "crypto/ecdsa.h"
#include "crypto/hash.h"
#include "tee/tee_int.h"

static const char *const samples[] = {
	ATT "sgx/dcap-qvl/sgx_quote",
	ATT "tdx/dcap-qvl/tdx_quote",
	ATT "tdx/dcap-qvl/tdx_quote_outdated",
	ATT "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat",
	ATT "tdx/go-tdx-guest/quote_v5_sample.dat",
	ATT "tdx/trustee/tdx_quote_4.dat",
	ATT "tdx/trustee/tdx_quote_5.dat",
	ATT "tdx/trustee/tdx_quote_6.dat",
	ATT "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat",
	NULL,
};

/* The DER of the first two certificates of a sample quote's PCK chain. */
static void
sample_chain(const char *rel, struct coffer_buf *leaf, struct coffer_buf *ca)
{
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_buf der[3] = { COFFER_BUF_INIT(65536), COFFER_BUF_INIT(65536),
	    COFFER_BUF_INIT(65536) };
	struct tee_quote q;
	size_t n = 0;

	tt_read(rel, &ev);
	assert_int_equal(tee_quote_parse(ev.data, ev.len, &q), 0);
	assert_int_equal(tee_pem_certs(q.pck_pem, q.pck_pem_len, der, 3, &n), 0);
	assert_true(n >= 2);
	coffer_buf_reset(leaf);
	coffer_buf_reset(ca);
	assert_int_equal(coffer_buf_put(leaf, der[0].data, der[0].len), 0);
	assert_int_equal(coffer_buf_put(ca, der[1].data, der[1].len), 0);
	for (int i = 0; i < 3; i++)
		coffer_buf_release(&der[i]);
	coffer_buf_release(&ev);
}

static X509 *
parse(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	assert_ptr_equal(p, der + len);
	return x;
}

static void
test_pckcert__reads_every_sample_as_openssl_does(void **state)
{
	struct coffer_buf leaf = COFFER_BUF_INIT(65536), ca = COFFER_BUF_INIT(65536);

	(void)state;
	for (int i = 0; samples[i] != NULL; i++) {
		struct tee_pck_cert c;
		X509 *x, *cax;
		const unsigned char *name;
		size_t namelen, rawlen = 0;
		const uint8_t *sp;
		ASN1_INTEGER *serial;
		uint8_t raw[65];
		char cn[128];
		X509_EXTENSION *ext;
		ASN1_OBJECT *sgx = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
		int idx;

		sample_chain(samples[i], &leaf, &ca);
		if (tee_pck_cert_read(leaf.data, leaf.len, &c) != 0)
			fail_msg("%s: %s", samples[i], coffer_errdetail());
		x = parse(leaf.data, leaf.len);
		cax = parse(ca.data, ca.len);
		/* serial, issuer, validity, subject CN */
		sp = c.serial;
		serial = d2i_ASN1_INTEGER(NULL, &sp, (long)c.serial_len);
		assert_non_null(serial);
		assert_int_equal(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(x)), 0);
		ASN1_INTEGER_free(serial);
		assert_true(X509_NAME_get0_der(X509_get_issuer_name(x), &name, &namelen));
		assert_int_equal(namelen, c.issuer_len);
		assert_memory_equal(name, c.issuer, namelen);
		assert_int_equal(c.not_before, tee_asn1_time(X509_get0_notBefore(x)));
		assert_int_equal(c.not_after, tee_asn1_time(X509_get0_notAfter(x)));
		tee_cn(x, cn, sizeof(cn));
		assert_non_null(c.cn);
		assert_int_equal(c.cn_len, strlen(cn));
		assert_memory_equal(c.cn, cn, c.cn_len);
		/* the key */
		assert_true(EVP_PKEY_get_octet_string_param(X509_get0_pubkey(x), "encoded-pub-key",
		    raw, sizeof(raw), &rawlen));
		assert_int_equal(rawlen, 65);
		assert_memory_equal(raw + 1, c.key, 64);
		/* extensions: not a CA, nothing critical unknown, the SGX one */
		assert_true(c.has_bc);
		assert_false(c.bc_ca);
		assert_int_equal(X509_check_ca(x), 0);
		assert_false(c.unknown_critical);
		assert_int_equal(X509_get_extension_flags(x) & EXFLAG_CRITICAL, 0);
		idx = X509_get_ext_by_OBJ(x, sgx, -1);
		ASN1_OBJECT_free(sgx);
		assert_true(idx >= 0);
		ext = X509_get_ext(x, idx);
		assert_int_equal(c.sgx_len, ASN1_STRING_length(X509_EXTENSION_get_data(ext)));
		assert_memory_equal(c.sgx, ASN1_STRING_get0_data(X509_EXTENSION_get_data(ext)),
		    c.sgx_len);
		assert_non_null(c.akid);
		assert_int_equal(c.akid_len, ASN1_STRING_length(X509_get0_authority_key_id(x)));
		/* issued by its CA, signature and all; not by another */
		assert_int_equal(X509_check_issued(cax, x), X509_V_OK);
		assert_true(tee_pck_cert_issued_by(&c, cax));
		assert_true(tee_pck_cert_signed_by(NULL, &c, (uint8_t[32]){ 0 }, cax,
		    (uint8_t[32]){ 0 }));
		assert_false(tee_pck_cert_issued_by(&c, x));
		X509_free(x);
		X509_free(cax);
	}
	coffer_buf_release(&leaf);
	coffer_buf_release(&ca);
}

/* ------------------------------------------------------------------ */
/* Certificates made with OpenSSL in the shapes each rule is about. */

static EVP_PKEY *
ec_key(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(k);
	return k;
}

struct shape {
	int version;              /* 0 for v1, 2 for v3 */
	long serial;
	const char *md;           /* "SHA256" */
	const char *cn;
	EVP_PKEY *key;            /* subject key */
	const char *exts[6];      /* "nid-name:value" for X509V3_EXT_conf */
	int sgx_critical;         /* add an SGX-extension-like value, critical? (-1 none) */
	int dup_sgx;
};

static X509 *
make(const struct shape *s, X509 *issuer, EVP_PKEY *issuer_k)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;

	assert_non_null(x);
	X509_set_version(x, s->version);
	ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)s->cn,
	    -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Test",
	    -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400L);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, s->key);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (int i = 0; i < 6 && s->exts[i] != NULL; i++) {
		char name[64];
		const char *colon = strchr(s->exts[i], ':');
		X509_EXTENSION *e;

		assert_non_null(colon);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - s->exts[i]), s->exts[i]);
		e = X509V3_EXT_conf(NULL, &ctx, name, colon + 1);
		if (e == NULL)
			fail_msg("extension %s", s->exts[i]);
		assert_true(X509_add_ext(x, e, -1));
		X509_EXTENSION_free(e);
	}
	for (int k = 0; s->sgx_critical >= 0 && k < 1 + s->dup_sgx; k++) {
		ASN1_OBJECT *o = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e;

		ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x30\x00", 2);
		e = X509_EXTENSION_create_by_OBJ(NULL, o, s->sgx_critical, os);
		assert_non_null(e);
		assert_true(X509_add_ext(x, e, -1));
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(o);
	}
	assert_true(X509_sign(x, issuer_k, EVP_get_digestbyname(s->md)) > 0);
	X509_NAME_free(n);
	return x;
}

static void
der_of(X509 *x, struct coffer_buf *b)
{
	uint8_t *der = NULL;
	int n = i2d_X509(x, &der);

	assert_true(n > 0);
	coffer_buf_reset(b);
	assert_int_equal(coffer_buf_put(b, der, (size_t)n), 0);
	OPENSSL_free(der);
}

/* Read the certificate of shape s; its result and (on error) detail. */
static int
read_shape(const struct shape *s, X509 *ca, EVP_PKEY *ca_k, struct tee_pck_cert *c)
{
	struct coffer_buf b = COFFER_BUF_INIT(65536);
	X509 *x = make(s, ca, ca_k);
	int r;

	der_of(x, &b);
	r = tee_pck_cert_read(b.data, b.len, c);
	X509_free(x);
	coffer_buf_release(&b);
	return r;
}

static void
expect_rule(int r, const char *rule)
{
	char want[32];

	assert_int_equal(r, COFFER_E_FORMAT);
	snprintf(want, sizeof(want), "4.1 %s)", rule);
	if (strstr(coffer_errdetail(), want) == NULL)
		fail_msg("expected rule %s, got: %s", rule, coffer_errdetail());
}

#define LEAF_EXTS "basicConstraints:critical,CA:FALSE", "keyUsage:critical,digitalSignature", \
	"authorityKeyIdentifier:keyid:always"

static void
test_pckcert__each_shape_rule_refuses_what_it_names(void **state)
{
	EVP_PKEY *ca_k = ec_key("P-256"), *k = ec_key("P-256"), *k384 = ec_key("P-384");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	struct shape ca_s = { 2, 1, "SHA256", "Test PCK CA", ca_k,
	    { "basicConstraints:critical,CA:TRUE", "keyUsage:critical,keyCertSign,cRLSign",
	    "subjectKeyIdentifier:hash", NULL }, -1, 0 };
	struct shape s = { 2, 77, "SHA256", "Test SGX PCK Certificate", k,
	    { LEAF_EXTS, NULL }, 0, 0 };
	struct tee_pck_cert c;
	X509 *ca;

	(void)state;
	assert_non_null(rsa);
	ca = make(&ca_s, NULL, ca_k);

	/* The shape Intel issues reads, with what each field says. */
	assert_int_equal(read_shape(&s, ca, ca_k, &c), 0);
	assert_true(c.has_bc && !c.bc_ca && !c.ku_cert_sign &&
	    !c.unknown_critical && c.akid != NULL && c.sgx_len == 2);
	assert_int_equal(c.cn_len, strlen("Test SGX PCK Certificate"));

	/* C2: a v1 certificate (no extensions either). */
	s.version = 0;
	s.exts[0] = NULL;
	s.sgx_critical = -1;
	expect_rule(read_shape(&s, ca, ca_k, &c), "C2");
	s.version = 2;
	s.exts[0] = "basicConstraints:critical,CA:FALSE";
	s.sgx_critical = 0;
	/* C3: negative and zero serial numbers. */
	s.serial = -5;
	expect_rule(read_shape(&s, ca, ca_k, &c), "C3");
	s.serial = 0;
	expect_rule(read_shape(&s, ca, ca_k, &c), "C3");
	s.serial = 77;
	/* C4: ecdsa-with-SHA384. */
	s.md = "SHA384";
	expect_rule(read_shape(&s, ca, ca_k, &c), "C4");
	s.md = "SHA256";
	/* C7: a P-384 or an RSA key. */
	s.key = k384;
	expect_rule(read_shape(&s, ca, ca_k, &c), "C7");
	s.key = rsa;
	expect_rule(read_shape(&s, ca, ca_k, &c), "C7");
	s.key = k;
	/* C8: no extensions at all. */
	s.exts[0] = NULL;
	s.sgx_critical = -1;
	expect_rule(read_shape(&s, ca, ca_k, &c), "C8");
	/* C9: an extension twice; an authority key identifier naming the
	 * issuer and serial. */
	s.exts[0] = "basicConstraints:critical,CA:FALSE";
	s.sgx_critical = 0;
	s.dup_sgx = 1;
	expect_rule(read_shape(&s, ca, ca_k, &c), "C9");
	s.dup_sgx = 0;
	s.exts[1] = "authorityKeyIdentifier:keyid:always,issuer:always";
	expect_rule(read_shape(&s, ca, ca_k, &c), "C9");
	/* Recorded, not refused: a CA, no basicConstraints, keyCertSign, a
	 * critical unknown extension, a critical SGX extension. */
	s.exts[1] = NULL;
	s.exts[0] = "basicConstraints:critical,CA:TRUE";
	assert_int_equal(read_shape(&s, ca, ca_k, &c), 0);
	assert_true(c.has_bc && c.bc_ca);
	s.exts[0] = "keyUsage:keyCertSign";
	assert_int_equal(read_shape(&s, ca, ca_k, &c), 0);
	assert_true(!c.has_bc && c.ku_cert_sign);
	s.exts[0] = "basicConstraints:critical,CA:FALSE";
	s.exts[1] = "extendedKeyUsage:critical,serverAuth";
	assert_int_equal(read_shape(&s, ca, ca_k, &c), 0);
	assert_true(c.unknown_critical);
	s.exts[1] = NULL;
	s.sgx_critical = 1;
	assert_int_equal(read_shape(&s, ca, ca_k, &c), 0);
	assert_true(c.unknown_critical);
	/* No common name: none at all, or one that is a BMPString (which
	 * C5 refuses: not a string type OpenSSL's names are compared in). */
	s.sgx_critical = 0;
	{
		static const struct {
			const char *field;
			int type, rule;           /* a V_ASN1_ type: the bytes as given */
			const char *v;
			int len;
		} subj[] = { { "O", V_ASN1_UTF8STRING, 0, "SGX PCK Certificate", 19 },
		    { "CN", V_ASN1_BMPSTRING, 1, "\0S\0G\0X", 6 } };
		X509 *x = make(&s, ca, ca_k);
		struct coffer_buf b = COFFER_BUF_INIT(65536);

		for (size_t i = 0; i < sizeof(subj) / sizeof(subj[0]); i++) {
			X509_NAME *n = X509_NAME_new();

			assert_true(X509_NAME_add_entry_by_txt(n, subj[i].field, subj[i].type,
			    (const unsigned char *)subj[i].v, subj[i].len, -1, 0));
			X509_set_subject_name(x, n);
			der_of(x, &b);
			if (subj[i].rule)
				expect_rule(tee_pck_cert_read(b.data, b.len, &c), "C5");
			else {
				assert_int_equal(tee_pck_cert_read(b.data, b.len, &c), 0);
				assert_null(c.cn);
			}
			X509_NAME_free(n);
		}
		X509_free(x);
		coffer_buf_release(&b);
	}
	X509_free(ca);
	EVP_PKEY_free(ca_k);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k384);
	EVP_PKEY_free(rsa);
}

/* Byte surgery on a real PCK certificate: DER rules the shapes above
 * cannot make. */
static void
test_pckcert__refuses_what_is_not_der(void **state)
{
	struct coffer_buf leaf = COFFER_BUF_INIT(65536), ca = COFFER_BUF_INIT(65536);
	struct coffer_buf b = COFFER_BUF_INIT(65536);
	struct tee_pck_cert c;
	size_t tbs_off, hdr;

	(void)state;
	sample_chain(samples[0], &leaf, &ca);
	assert_int_equal(tee_pck_cert_read(leaf.data, leaf.len, &c), 0);
	/* C1: a byte after the certificate; cut short. */
	assert_int_equal(coffer_buf_put(&b, leaf.data, leaf.len), 0);
	assert_int_equal(coffer_buf_put(&b, "\0", 1), 0);
	expect_rule(tee_pck_cert_read(b.data, b.len, &c), "C1");
	expect_rule(tee_pck_cert_read(leaf.data, leaf.len - 1, &c), "C1");
	/* C1: the outer length in a longer form than needed (82 xx xx ->
	 * 83 00 xx xx). */
	assert_int_equal(leaf.data[1], 0x82);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_buf_put(&b, "\x30\x83\x00", 3), 0);
	assert_int_equal(coffer_buf_put(&b, leaf.data + 2, leaf.len - 2), 0);
	expect_rule(tee_pck_cert_read(b.data, b.len, &c), "C1");
	/* C10: a signature BIT STRING with unused bits: its first content
	 * byte follows the tbsCertificate and the algorithm. */
	tbs_off = 4;
	hdr = (size_t)(c.tbs - leaf.data);
	assert_int_equal(hdr, tbs_off);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_buf_put(&b, leaf.data, leaf.len), 0);
	b.data[(size_t)(c.sig - leaf.data) - 1] = 1;
	expect_rule(tee_pck_cert_read(b.data, b.len, &c), "C10");
	/* C6: a validity time without its Z: the UTCTime tag 17 0d, 13
	 * digits with Z at the end. */
	{
		const uint8_t *t = memmem(leaf.data, leaf.len, "\x17\x0d", 2);

		assert_non_null(t);
		coffer_buf_reset(&b);
		assert_int_equal(coffer_buf_put(&b, leaf.data, leaf.len), 0);
		b.data[(size_t)(t - leaf.data) + 14] = '0';
		expect_rule(tee_pck_cert_read(b.data, b.len, &c), "C6");
		b.data[(size_t)(t - leaf.data) + 14] = 'Z';
		b.data[(size_t)(t - leaf.data) + 4] = '1';   /* month 1x */
		b.data[(size_t)(t - leaf.data) + 5] = '3';   /* month 13 */
		expect_rule(tee_pck_cert_read(b.data, b.len, &c), "C6");
	}
	/* C1: an OBJECT IDENTIFIER whose last subidentifier is cut short
	 * (basicConstraints' 55 1d 13 -> 55 1d 93). */
	{
		const uint8_t *t = memmem(leaf.data, leaf.len, "\x06\x03\x55\x1d\x13", 5);

		assert_non_null(t);
		coffer_buf_reset(&b);
		assert_int_equal(coffer_buf_put(&b, leaf.data, leaf.len), 0);
		b.data[(size_t)(t - leaf.data) + 4] |= 0x80;
		expect_rule(tee_pck_cert_read(b.data, b.len, &c), "C1");
	}
	/* C9: a keyUsage BIT STRING with a set bit among its unused bits
	 * (OID 55 1d 0f, [BOOLEAN], OCTET STRING { BIT STRING 03 02 uu bb }). */
	{
		const uint8_t *t = memmem(leaf.data, leaf.len, "\x55\x1d\x0f", 3);
		const uint8_t *bs;

		assert_non_null(t);
		bs = memmem(t, leaf.len - (size_t)(t - leaf.data), "\x03\x02", 2);
		assert_non_null(bs);
		assert_true(bs[3] != 0);
		coffer_buf_reset(&b);
		assert_int_equal(coffer_buf_put(&b, leaf.data, leaf.len), 0);
		b.data[(size_t)(bs - leaf.data) + 2] = 7;
		expect_rule(tee_pck_cert_read(b.data, b.len, &c), "C9");
	}
	coffer_buf_release(&b);
	coffer_buf_release(&leaf);
	coffer_buf_release(&ca);
}

static void
test_pckcert__issued_by_name_key_id_usage_and_signature(void **state)
{
	EVP_PKEY *root_k = ec_key("P-256"), *ca1_k = ec_key("P-256"), *ca2_k = ec_key("P-256");
	EVP_PKEY *k = ec_key("P-256");
	struct shape ca_s = { 2, 1, "SHA256", "Test PCK CA", ca1_k,
	    { "basicConstraints:critical,CA:TRUE", "keyUsage:critical,keyCertSign,cRLSign",
	    "subjectKeyIdentifier:hash", NULL }, -1, 0 };
	struct shape leaf_s = { 2, 9, "SHA256", "SGX PCK Certificate", k,
	    { LEAF_EXTS, NULL }, 0, 0 };
	struct coffer_tee_anchors *a = NULL;
	struct coffer_tee_collateral *coll = NULL;
	struct coffer_buf b = COFFER_BUF_INIT(65536);
	struct tee_pck_cert c;
	uint8_t h[32], ca1_h[32], ca2_h[32];
	X509 *ca1, *ca2, *ca3, *leaf, *root;

	(void)state;
	root = make(&ca_s, NULL, root_k);
	ca1 = make(&ca_s, root, root_k);
	/* ca2: same name, another key; ca3: another name; */
	ca_s.key = ca2_k;
	ca2 = make(&ca_s, root, root_k);
	/* ca3: another name, ca1's key (so the same key identifier) */
	ca_s.key = ca1_k;
	ca_s.cn = "Another CA";
	ca3 = make(&ca_s, root, root_k);
	leaf = make(&leaf_s, ca1, ca1_k);
	der_of(leaf, &b);
	assert_int_equal(tee_pck_cert_read(b.data, b.len, &c), 0);
	assert_int_equal(coffer_sha256(b.data, b.len, h), 0);
	assert_int_equal(tee_cert_sha256(ca1, ca1_h), 0);
	assert_int_equal(tee_cert_sha256(ca2, ca2_h), 0);

	/* I1: by name; I2: ca2's key identifier is not the leaf's authority
	 * key identifier. */
	assert_true(tee_pck_cert_issued_by(&c, ca1));
	assert_false(tee_pck_cert_issued_by(&c, ca3));
	assert_false(tee_pck_cert_issued_by(&c, ca2));
	/* I4, with a collateral remembering a success: for ca1 only. */
	assert_int_equal(coffer_tee_anchors_new_default(&a), 0);
	assert_int_equal(coffer_tee_collateral_new(a, &coll), 0);
	assert_false(tee_cert_sig_known(coll, h, ca1_h));
	assert_true(tee_pck_cert_signed_by(coll, &c, h, ca1, ca1_h));
	assert_true(tee_cert_sig_known(coll, h, ca1_h));
	assert_false(tee_pck_cert_signed_by(coll, &c, h, ca2, ca2_h));
	assert_false(tee_cert_sig_known(coll, h, ca2_h));
	assert_true(tee_pck_cert_signed_by(coll, &c, h, ca1, ca1_h));
	/* A changed tbsCertificate does not verify (without the memo). */
	b.data[(size_t)(c.tbs - b.data) + 20] ^= 1;
	if (tee_pck_cert_read(b.data, b.len, &c) == 0)
		assert_false(tee_pck_cert_signed_by(NULL, &c, h, ca1, ca1_h));
	coffer_tee_collateral_free(coll);
	coffer_tee_anchors_free(a);
	X509_free(ca3);
	/* I3: a CA whose keyUsage lacks keyCertSign issues nothing. */
	ca_s.cn = "Test PCK CA";
	ca_s.key = ca1_k;
	ca_s.exts[1] = "keyUsage:critical,cRLSign";
	ca3 = make(&ca_s, root, root_k);
	der_of(leaf, &b);
	assert_int_equal(tee_pck_cert_read(b.data, b.len, &c), 0);
	assert_false(tee_pck_cert_issued_by(&c, ca3));
	/* I4: a P-384 CA key does not verify ecdsa-with-SHA256. */
	X509_free(ca3);
	ca_s.exts[1] = "keyUsage:critical,keyCertSign,cRLSign";
	EVP_PKEY_free(ca2_k);
	ca2_k = ec_key("P-384");
	ca_s.key = ca2_k;
	ca3 = make(&ca_s, root, root_k);
	assert_false(tee_pck_cert_signed_by(NULL, &c, h, ca3, ca2_h));

	coffer_buf_release(&b);
	X509_free(root);
	X509_free(ca1);
	X509_free(ca2);
	X509_free(ca3);
	X509_free(leaf);
	EVP_PKEY_free(root_k);
	EVP_PKEY_free(ca1_k);
	EVP_PKEY_free(ca2_k);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pckcert__reads_every_sample_as_openssl_does),
		cmocka_unit_test(test_pckcert__each_shape_rule_refuses_what_it_names),
		cmocka_unit_test(test_pckcert__refuses_what_is_not_der),
		cmocka_unit_test(test_pckcert__issued_by_name_key_id_usage_and_signature),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
