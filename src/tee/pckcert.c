// SPDX-License-Identifier: Apache-2.0
// The PCK certificate of an Intel quote, read without a general X.509
// parser: only the fields doc/format/evidence.md section 4 checks, in the
// one shape section 4.1 allows (rules C1-C10), and the issuer checks I1-I4.
// Each platform has its own PCK certificate, and OpenSSL 3.0 takes as long
// to parse one as to verify two P-256 signatures.
#include <string.h>

#include <openssl/x509v3.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/utf8.h"
#include "tee/tee_int.h"

#define PCK_MAX_EXTENSIONS 32

/* OID contents (the bytes after 06 len). */
static const uint8_t oid_cn[] = { 0x55, 0x04, 0x03 };
static const uint8_t oid_basic_constraints[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_key_usage[] = { 0x55, 0x1d, 0x0f };
static const uint8_t oid_akid[] = { 0x55, 0x1d, 0x23 };
static const uint8_t oid_sgx[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

/* SEQUENCE { OID ecdsa-with-SHA256 } (C4). */
static const uint8_t alg_ecdsa_sha256[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
/* SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING { 00 04 } }
 * followed by x and y (C7). */
static const uint8_t spki_p256[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00, 0x04 };

static int
bad(const char *rule, const char *what)
{
	return coffer_errf(COFFER_E_FORMAT, "PCK certificate: %s (evidence.md 4.1 %s)",
	    what, rule);
}

static int
oid_is(const uint8_t *oid, size_t len, const uint8_t *want, size_t wlen)
{
	return len == wlen && memcmp(oid, want, wlen) == 0;
}

/* The next TLV, with its length in the shortest form (C1). */
static int
next(struct tee_der *d, uint8_t *tag, const uint8_t **val, size_t *vlen)
{
	size_t start = d->off, hdr;

	if (tee_der_next(d, tag, val, vlen) != 0)
		return bad("C1", coffer_errdetail());
	hdr = (size_t)(*val - (d->p + start));
	if (hdr != (size_t)2 + (*vlen >= 0x80) + (*vlen >= 0x100) + (*vlen >= 0x10000) +
	    (*vlen >= 0x1000000))
		return bad("C1", "a length not in its shortest form");
	return 0;
}

static int
expect(struct tee_der *d, uint8_t tag, const uint8_t **val, size_t *vlen,
    const char *rule, const char *what)
{
	uint8_t t;

	if (d->off >= d->len)
		return bad(rule, what);
	if (next(d, &t, val, vlen) != 0)
		return COFFER_E_FORMAT;
	return t == tag ? 0 : bad(rule, what);
}

/* An OBJECT IDENTIFIER in DER (X.690 8.19): not empty, each subidentifier
 * in its fewest bytes (none starts with 80), the last one complete (C1). */
static int
expect_oid(struct tee_der *d, const uint8_t **val, size_t *vlen, const char *rule,
    const char *what)
{
	if (expect(d, 0x06, val, vlen, rule, what) != 0)
		return COFFER_E_FORMAT;
	if (*vlen == 0 || ((*val)[*vlen - 1] & 0x80) != 0)
		return bad("C1", "an OBJECT IDENTIFIER that is not DER");
	for (size_t i = 0; i < *vlen; i++)
		if ((*val)[i] == 0x80 && (i == 0 || ((*val)[i - 1] & 0x80) == 0))
			return bad("C1", "an OBJECT IDENTIFIER that is not DER");
	return 0;
}

/* The whole TLV the last next()/expect() read. */
static void
tlv_of(const struct tee_der *d, size_t start, const uint8_t **p, size_t *len)
{
	*p = d->p + start;
	*len = d->off - start;
}

/* C5: the string types a name's values may have, with valid contents. */
static int
name_value_ok(uint8_t tag, const uint8_t *v, size_t n)
{
	static const char printable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789 '()+,-./:=?";

	if (tag == 0x0c)
		return coffer_utf8_valid((const char *)v, n);
	for (size_t i = 0; i < n; i++)
		if ((tag == 0x13 && (v[i] == 0 || strchr(printable, v[i]) == NULL)) ||
		    (tag == 0x16 && v[i] >= 0x80) || (tag != 0x13 && tag != 0x16))
			return 0;
	return tag == 0x13 || tag == 0x16;
}

/* C5: a Name; *cn gets the first common name if it is a UTF8String or
 * PrintableString (cn may be NULL). */
static int
read_name(const uint8_t *p, size_t len, const uint8_t **cn, size_t *cn_len)
{
	struct tee_der d, set, atv;
	const uint8_t *sv, *av, *oid, *val;
	size_t sl, al, oidlen, vlen;
	int seen_cn = 0;
	uint8_t tag;

	tee_der_init(&d, p, len);
	while (d.off < d.len) {
		if (expect(&d, 0x31, &sv, &sl, "C5", "a name is not a sequence of "
		    "sets") != 0)
			return COFFER_E_FORMAT;
		if (sl == 0)
			return bad("C5", "an empty set in a name");
		tee_der_init(&set, sv, sl);
		while (set.off < set.len) {
			if (expect(&set, 0x30, &av, &al, "C5", "a name attribute is "
			    "not a sequence") != 0)
				return COFFER_E_FORMAT;
			tee_der_init(&atv, av, al);
			if (expect_oid(&atv, &oid, &oidlen, "C5", "a name attribute "
			    "has no type") != 0 || atv.off >= atv.len ||
			    next(&atv, &tag, &val, &vlen) != 0 || atv.off != atv.len)
				return bad("C5", "a name attribute is not (type, value)");
			if (!name_value_ok(tag, val, vlen))
				return bad("C5", "a name attribute's value is not a valid "
				    "UTF8String, PrintableString or IA5String");
			if (cn == NULL || seen_cn || !oid_is(oid, oidlen, oid_cn, sizeof(oid_cn)))
				continue;
			seen_cn = 1;
			if (tag == 0x0c || tag == 0x13) {
				*cn = val;
				*cn_len = vlen;
			}
		}
	}
	return 0;
}

static int
digits(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* C6: a UTCTime or GeneralizedTime in seconds, with a Z. */
static int
read_time(struct tee_der *d, int64_t *out)
{
	const uint8_t *v, *rest;
	char s[32];
	size_t n;
	uint8_t tag;
	int year;

	if (d->off >= d->len || next(d, &tag, &v, &n) != 0)
		return bad("C6", "a validity time is missing");
	if (tag == 0x17 && n == 13 && digits(v, 12)) {
		year = (v[0] - '0') * 10 + (v[1] - '0');
		year += year < 50 ? 2000 : 1900;
		rest = v + 2;
	} else if (tag == 0x18 && n == 15 && digits(v, 14)) {
		year = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 +
		    (v[3] - '0');
		rest = v + 4;
	} else {
		return bad("C6", "a validity time is not YYMMDDHHMMSSZ or "
		    "YYYYMMDDHHMMSSZ");
	}
	if (rest[10] != 'Z' || rest[8] > '5')
		return bad("C6", "a validity time is not YYMMDDHHMMSSZ or "
		    "YYYYMMDDHHMMSSZ");
	snprintf(s, sizeof(s), "%04d-%.2s-%.2sT%.2s:%.2s:%.2sZ", year,
	    (const char *)rest, (const char *)rest + 2, (const char *)rest + 4,
	    (const char *)rest + 6, (const char *)rest + 8);
	if (coffer_time_parse(s, out) != 0)
		return bad("C6", "a validity time is not a valid date and time");
	return 0;
}

/* C9: basicConstraints' value. */
static int
read_basic_constraints(const uint8_t *p, size_t len, struct tee_pck_cert *c)
{
	struct tee_der d, seq;
	const uint8_t *v, *val;
	size_t n, vlen;
	uint8_t tag;

	tee_der_init(&d, p, len);
	if (expect(&d, 0x30, &v, &n, "C9", "basicConstraints is not a sequence") != 0 ||
	    d.off != d.len)
		return bad("C9", "basicConstraints is not a sequence");
	tee_der_init(&seq, v, n);
	c->has_bc = 1;
	if (seq.off < seq.len && seq.p[seq.off] == 0x01) {
		if (next(&seq, &tag, &val, &vlen) != 0 || vlen != 1 || val[0] != 0xff)
			return bad("C1", "a BOOLEAN that is not ff");
		c->bc_ca = 1;
	}
	if (seq.off < seq.len) {
		uint64_t u;

		if (expect(&seq, 0x02, &val, &vlen, "C9", "basicConstraints: not an "
		    "INTEGER after cA") != 0 || tee_der_uint(val, vlen, 255, &u) != 0 ||
		    (vlen > 1 && val[0] == 0 && !(val[1] & 0x80)))
			return bad("C9", "basicConstraints: pathLenConstraint is not a "
			    "small INTEGER");
	}
	return seq.off == seq.len ? 0 : bad("C9", "basicConstraints: bytes after "
	    "its members");
}

/* C9: keyUsage's value; only keyCertSign (bit 5) is kept. */
static int
read_key_usage(const uint8_t *p, size_t len, struct tee_pck_cert *c)
{
	struct tee_der d;
	const uint8_t *v;
	size_t n;

	tee_der_init(&d, p, len);
	/* DER (X.690 11.2): the unused bits are zero, and a named bit list
	 * has no trailing zero bits, so its last byte is not zero. */
	if (expect(&d, 0x03, &v, &n, "C9", "keyUsage is not a BIT STRING") != 0 ||
	    d.off != d.len || n == 0 || v[0] > 7 || (n == 1 && v[0] != 0) ||
	    (n > 1 && (v[n - 1] == 0 || (v[n - 1] & ((1u << v[0]) - 1)) != 0)))
		return bad("C9", "keyUsage is not a DER BIT STRING");
	c->ku_cert_sign = n >= 2 && (v[1] & 0x04) != 0;
	return 0;
}

/* C9: authorityKeyIdentifier's value: only [0] keyIdentifier. */
static int
read_akid(const uint8_t *p, size_t len, struct tee_pck_cert *c)
{
	struct tee_der d, seq;
	const uint8_t *v;
	size_t n;

	tee_der_init(&d, p, len);
	if (expect(&d, 0x30, &v, &n, "C9", "authorityKeyIdentifier is not a "
	    "sequence") != 0 || d.off != d.len)
		return bad("C9", "authorityKeyIdentifier is not a sequence");
	tee_der_init(&seq, v, n);
	if (seq.off < seq.len) {
		if (expect(&seq, 0x80, &c->akid, &c->akid_len, "C9",
		    "authorityKeyIdentifier names its issuer other than by a key "
		    "identifier") != 0)
			return COFFER_E_FORMAT;
		if (seq.off != seq.len)
			return bad("C9", "authorityKeyIdentifier names its issuer other "
			    "than by a key identifier");
	}
	return 0;
}

/* C8, C9: [3] EXPLICIT Extensions, the value of the [3]. */
static int
read_extensions(const uint8_t *p, size_t len, struct tee_pck_cert *c)
{
	struct tee_der outer, d, ext;
	const uint8_t *seq, *ev, *oid, *val, *oids[PCK_MAX_EXTENSIONS];
	size_t seqlen, el, oidlen, vlen, oidlens[PCK_MAX_EXTENSIONS], n = 0;
	uint8_t tag;
	int r;

	tee_der_init(&outer, p, len);
	if (expect(&outer, 0x30, &seq, &seqlen, "C8", "extensions are not a "
	    "sequence") != 0 || outer.off != outer.len || seqlen == 0)
		return bad("C8", "extensions are not one non-empty sequence");
	tee_der_init(&d, seq, seqlen);
	while (d.off < d.len) {
		int critical = 0;

		if (n == PCK_MAX_EXTENSIONS)
			return bad("C9", "more than 32 extensions");
		if (expect(&d, 0x30, &ev, &el, "C9", "an extension is not a "
		    "sequence") != 0)
			return COFFER_E_FORMAT;
		tee_der_init(&ext, ev, el);
		if (expect_oid(&ext, &oid, &oidlen, "C9", "an extension has no "
		    "OID") != 0)
			return COFFER_E_FORMAT;
		for (size_t i = 0; i < n; i++)
			if (oid_is(oid, oidlen, oids[i], oidlens[i]))
				return bad("C9", "an extension appears twice");
		oids[n] = oid;
		oidlens[n++] = oidlen;
		if (ext.off < ext.len && ext.p[ext.off] == 0x01) {
			if (next(&ext, &tag, &val, &vlen) != 0 || vlen != 1 || val[0] != 0xff)
				return bad("C1", "a BOOLEAN that is not ff");
			critical = 1;
		}
		if (expect(&ext, 0x04, &val, &vlen, "C9", "an extension's value is "
		    "not an OCTET STRING") != 0 || ext.off != ext.len)
			return bad("C9", "an extension is not (OID, [critical], value)");
		if (oid_is(oid, oidlen, oid_basic_constraints, sizeof(oid_basic_constraints)))
			r = read_basic_constraints(val, vlen, c);
		else if (oid_is(oid, oidlen, oid_key_usage, sizeof(oid_key_usage)))
			r = read_key_usage(val, vlen, c);
		else if (oid_is(oid, oidlen, oid_akid, sizeof(oid_akid)))
			r = critical ? bad("C9", "a critical authorityKeyIdentifier") :
			    read_akid(val, vlen, c);
		else if (oid_is(oid, oidlen, oid_sgx, sizeof(oid_sgx))) {
			c->sgx = val;
			c->sgx_len = vlen;
			r = 0;
			c->unknown_critical |= critical;
		} else {
			c->unknown_critical |= critical;
			r = 0;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

int
tee_pck_cert_read(const uint8_t *der, size_t len, struct tee_pck_cert *out)
{
	struct tee_pck_cert c;
	struct tee_der d, cert, tbs, sub;
	const uint8_t *v, *alg;
	size_t n, alglen, start;
	uint8_t tag;

	memset(&c, 0, sizeof(c));
	/* C1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
	 * signatureValue }, nothing after it. */
	tee_der_init(&d, der, len);
	if (expect(&d, 0x30, &v, &n, "C1", "not a DER SEQUENCE") != 0 || d.off != len)
		return bad("C1", "not one DER SEQUENCE");
	tee_der_init(&cert, v, n);
	start = cert.off;
	if (expect(&cert, 0x30, &v, &n, "C1", "no tbsCertificate") != 0)
		return COFFER_E_FORMAT;
	tlv_of(&cert, start, &c.tbs, &c.tbs_len);
	tee_der_init(&tbs, v, n);
	start = cert.off;
	if (expect(&cert, 0x30, &v, &n, "C4", "no signatureAlgorithm") != 0)
		return COFFER_E_FORMAT;
	tlv_of(&cert, start, &alg, &alglen);
	if (!oid_is(alg, alglen, alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256)))
		return bad("C4", "the signature algorithm is not ecdsa-with-SHA256");
	/* C10 */
	if (expect(&cert, 0x03, &v, &n, "C10", "no signatureValue BIT STRING") != 0 ||
	    n < 2 || v[0] != 0)
		return bad("C10", "the signatureValue is not a BIT STRING of whole "
		    "bytes");
	c.sig = v + 1;
	c.sig_len = n - 1;
	if (cert.off != cert.len)
		return bad("C1", "bytes after the signatureValue");

	/* C2: version v3. */
	if (expect(&tbs, 0xa0, &v, &n, "C2", "no version") != 0 || n != 3 ||
	    memcmp(v, "\x02\x01\x02", 3) != 0)
		return bad("C2", "the version is not v3");
	/* C3 */
	start = tbs.off;
	if (expect(&tbs, 0x02, &v, &n, "C3", "no serialNumber") != 0)
		return COFFER_E_FORMAT;
	/* (a value of 20 bytes with its top bit set has a sign byte) */
	if (n < 1 || n > 21 || (n == 21 && v[0] != 0) || (v[0] & 0x80) != 0 ||
	    (n == 1 && v[0] == 0) || (n > 1 && v[0] == 0 && (v[1] & 0x80) == 0))
		return bad("C3", "the serialNumber is not a positive INTEGER of at "
		    "most 20 bytes in its shortest form");
	tlv_of(&tbs, start, &c.serial, &c.serial_len);
	/* C4 */
	start = tbs.off;
	if (expect(&tbs, 0x30, &v, &n, "C4", "no signature algorithm") != 0)
		return COFFER_E_FORMAT;
	tlv_of(&tbs, start, &v, &n);
	if (!oid_is(v, n, alg, alglen))
		return bad("C4", "the two signature algorithms differ");
	/* C5: issuer */
	start = tbs.off;
	if (expect(&tbs, 0x30, &v, &n, "C5", "no issuer") != 0 ||
	    read_name(v, n, NULL, NULL) != 0)
		return COFFER_E_FORMAT;
	tlv_of(&tbs, start, &c.issuer, &c.issuer_len);
	/* C6 */
	if (expect(&tbs, 0x30, &v, &n, "C6", "no validity") != 0)
		return COFFER_E_FORMAT;
	tee_der_init(&sub, v, n);
	if (read_time(&sub, &c.not_before) != 0 || read_time(&sub, &c.not_after) != 0)
		return COFFER_E_FORMAT;
	if (sub.off != sub.len)
		return bad("C6", "bytes after notAfter");
	/* C5: subject */
	if (expect(&tbs, 0x30, &v, &n, "C5", "no subject") != 0 ||
	    read_name(v, n, &c.cn, &c.cn_len) != 0)
		return COFFER_E_FORMAT;
	/* C7 */
	start = tbs.off;
	if (expect(&tbs, 0x30, &v, &n, "C7", "no subjectPublicKeyInfo") != 0)
		return COFFER_E_FORMAT;
	tlv_of(&tbs, start, &v, &n);
	if (n != sizeof(spki_p256) + 64 || memcmp(v, spki_p256, sizeof(spki_p256)) != 0)
		return bad("C7", "the key is not an uncompressed P-256 point");
	memcpy(c.key, v + sizeof(spki_p256), 64);
	/* C8: no unique identifiers; extensions last. */
	if (tbs.off >= tbs.len || next(&tbs, &tag, &v, &n) != 0 || tag != 0xa3)
		return bad("C8", "not extensions after the subjectPublicKeyInfo");
	if (read_extensions(v, n, &c) != 0)
		return COFFER_E_FORMAT;
	if (tbs.off != tbs.len)
		return bad("C8", "bytes after the extensions");
	*out = c;
	return 0;
}

int
tee_pck_cert_issued_by(const struct tee_pck_cert *c, X509 *ca)
{
	const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(ca);
	const unsigned char *name;
	size_t namelen;

	/* I1 */
	if (!X509_NAME_get0_der(X509_get_subject_name(ca), &name, &namelen) ||
	    namelen != c->issuer_len || memcmp(name, c->issuer, namelen) != 0)
		return 0;
	/* I2 */
	if (c->akid != NULL && skid != NULL &&
	    ((size_t)ASN1_STRING_length(skid) != c->akid_len ||
	    memcmp(ASN1_STRING_get0_data(skid), c->akid, c->akid_len) != 0))
		return 0;
	/* I3 (X509_get_key_usage gives every bit when there is no keyUsage) */
	return (X509_get_key_usage(ca) & KU_KEY_CERT_SIGN) != 0;
}

int
tee_pck_cert_signed_by(const struct coffer_tee_collateral *coll,
    const struct tee_pck_cert *c, const uint8_t h[32], X509 *ca, const uint8_t cah[32])
{
	struct coffer_ecdsa_key *k = NULL;
	int ok;

	if (tee_cert_sig_known(coll, h, cah))
		return 1;
	/* I4: ecdsa-with-SHA256 (C4) needs a P-256 key. */
	ok = coffer_ecdsa_pub_from_pkey(X509_get0_pubkey(ca), &k) == 0 &&
	    coffer_ecdsa_key_curve(k) == COFFER_ECDSA_P256 &&
	    coffer_ecdsa_verify(k, c->tbs, c->tbs_len, c->sig, c->sig_len,
	    COFFER_ECDSA_SIG_DER) == 0;
	coffer_ecdsa_key_free(k);
	coffer_errclear();
	if (ok)
		tee_cert_sig_remember(coll, h, cah);
	return ok;
}
