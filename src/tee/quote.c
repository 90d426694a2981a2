// SPDX-License-Identifier: Apache-2.0
// Parsing Intel ECDSA quotes: SGX v3, SGX/TDX v4 and v5 (Intel SGX ECDSA
// Quote Library API, appendix "Quote Format"; Intel TDX DCAP Quoting
// Library API, appendices 3 and 4), with every length checked against the
// bytes present. doc/format/evidence.md section 3.
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "tee/tee_int.h"

#define HEADER_LEN 48
#define SGX_BODY_LEN 384
#define TDX10_BODY_LEN 584
#define TDX15_BODY_LEN 648
#define QE_REPORT_LEN 384
#define TEE_TYPE_SGX 0x00000000u
#define TEE_TYPE_TDX 0x00000081u
#define ATT_KEY_ECDSA_P256 2

/* Certification data of type 5 (PCK certificate chain, PEM) or, in v4/v5,
 * type 6 (QE report certification data wrapping a type 5). cur is on the
 * type field. */
static int
parse_cert_data(struct coffer_cur *cur, struct tee_quote *q, int nested)
{
	uint16_t type;
	uint32_t size;
	const uint8_t *data;
	int r;

	if ((r = coffer_cur_u16le(cur, &type)) != 0 || (r = coffer_cur_u32le(cur, &size)) != 0)
		return coffer_errf(COFFER_E_TRUNCATED, "quote: certification data "
		    "header at offset %zu is cut off", cur->off);
	if (size > coffer_cur_left(cur))
		return coffer_errf(COFFER_E_TRUNCATED, "quote: certification data of "
		    "type %u declares %u bytes but %zu remain (offset %zu)", type, size,
		    coffer_cur_left(cur), cur->off);
	if ((r = coffer_cur_ptr(cur, size, &data)) != 0)
		return r;
	if (type == 6 && !nested && q->version >= 4) {
		struct coffer_cur in;
		uint16_t alen;

		/* QE Report Certification Data: QE report, its signature, QE
		 * auth data, then the inner certification data, and exactly
		 * that (QVL verifyCertificationData). */
		coffer_cur_init(&in, data, size);
		if (coffer_cur_ptr(&in, QE_REPORT_LEN, &q->qe_report) != 0 ||
		    coffer_cur_ptr(&in, 64, &q->qe_report_sig) != 0 ||
		    coffer_cur_u16le(&in, &alen) != 0 ||
		    coffer_cur_ptr(&in, alen, &q->qe_auth) != 0)
			return coffer_errf(COFFER_E_TRUNCATED, "quote: QE report "
			    "certification data (%u bytes) is cut off", size);
		q->qe_auth_len = alen;
		if ((r = parse_cert_data(&in, q, 1)) != 0)
			return r;
		if (coffer_cur_left(&in) != 0)
			return coffer_errf(COFFER_E_FORMAT, "quote: %zu bytes after the "
			    "PCK chain inside the QE report certification data",
			    coffer_cur_left(&in));
		return 0;
	}
	if (type != 5)
		return coffer_errf(COFFER_E_UNSUPPORTED, "quote: certification data "
		    "type %u is not supported (only 5, the PCK certificate chain%s)",
		    type, q->version >= 4 ? ", inside type 6" : "");
	if (q->version >= 4 && !nested)
		return coffer_errf(COFFER_E_FORMAT, "quote v%u: certification data "
		    "type 5 must be inside type 6", q->version);
	q->pck_pem = data;
	q->pck_pem_len = size;
	return 0;
}

int
tee_quote_parse(const uint8_t *p, size_t len, struct tee_quote *out)
{
	struct tee_quote q;
	struct coffer_cur cur;
	uint32_t siglen, body_size;
	size_t sig_start;
	int r;

	memset(&q, 0, sizeof(q));
	q.raw = p;
	q.len = len;
	if (len < HEADER_LEN)
		return coffer_errf(COFFER_E_TRUNCATED, "quote: %zu bytes, shorter than "
		    "its %d-byte header", len, HEADER_LEN);
	q.version = coffer_load_u16le(p);
	q.att_key_type = coffer_load_u16le(p + 2);
	q.tee_type = coffer_load_u32le(p + 4);
	q.qe_svn = coffer_load_u16le(p + 8);
	q.pce_svn = coffer_load_u16le(p + 10);
	q.qe_vendor_id = p + 12;
	q.user_data = p + 28;
	if (q.version < 3 || q.version > 5)
		return coffer_errf(COFFER_E_VERSION, "quote: version %u is not "
		    "supported (3, 4 and 5 are)", q.version);
	if (q.att_key_type != ATT_KEY_ECDSA_P256)
		return coffer_errf(COFFER_E_UNSUPPORTED, "quote: attestation key type "
		    "%u is not supported (2, ECDSA-256-with-P-256)", q.att_key_type);
	/* In v3 the tee_type field is reserved (zero). */
	if (q.tee_type != TEE_TYPE_SGX && (q.version == 3 || q.tee_type != TEE_TYPE_TDX))
		return coffer_errf(COFFER_E_UNSUPPORTED, "quote v%u: TEE type 0x%x is "
		    "not SGX (0) or TDX (0x81)", q.version, q.tee_type);
	if (memcmp(q.qe_vendor_id, TEE_QE_VENDOR_INTEL, 16) != 0)
		return coffer_errf(COFFER_E_UNSUPPORTED, "quote: QE vendor id is not "
		    "Intel's (939a7233f79c4ca9940a0db3957f0607)");
	coffer_cur_init(&cur, p, len);
	if ((r = coffer_cur_skip(&cur, HEADER_LEN)) != 0)
		return r;
	if (q.version <= 4) {
		q.body_type = q.tee_type == TEE_TYPE_TDX ? TEE_BODY_TDX10 : TEE_BODY_SGX;
		q.body_len = q.body_type == TEE_BODY_SGX ? SGX_BODY_LEN : TDX10_BODY_LEN;
	} else {
		if ((r = coffer_cur_u16le(&cur, &q.body_type)) != 0 ||
		    (r = coffer_cur_u32le(&cur, &body_size)) != 0)
			return coffer_errf(COFFER_E_TRUNCATED, "quote v5: body descriptor "
			    "is cut off");
		switch (q.body_type) {
		case TEE_BODY_SGX: q.body_len = SGX_BODY_LEN; break;
		case TEE_BODY_TDX10: q.body_len = TDX10_BODY_LEN; break;
		case TEE_BODY_TDX15: q.body_len = TDX15_BODY_LEN; break;
		default:
			return coffer_errf(COFFER_E_UNSUPPORTED, "quote v5: body type %u "
			    "is not 1 (SGX), 2 (TDX 1.0) or 3 (TDX 1.5)", q.body_type);
		}
		if (body_size != q.body_len)
			return coffer_errf(COFFER_E_FORMAT, "quote v5: body type %u must "
			    "be %zu bytes, header says %u", q.body_type, q.body_len, body_size);
		if ((q.body_type == TEE_BODY_SGX) != (q.tee_type == TEE_TYPE_SGX))
			return coffer_errf(COFFER_E_FORMAT, "quote v5: body type %u does "
			    "not match TEE type 0x%x", q.body_type, q.tee_type);
	}
	if ((r = coffer_cur_ptr(&cur, q.body_len, &q.body)) != 0)
		return coffer_errf(COFFER_E_TRUNCATED, "quote: %zu bytes, the body "
		    "needs %zu", len, cur.off + q.body_len);
	q.signed_len = cur.off;
	if ((r = coffer_cur_u32le(&cur, &siglen)) != 0)
		return coffer_errf(COFFER_E_TRUNCATED, "quote: signature data length "
		    "at offset %zu is cut off", cur.off);
	if (siglen > coffer_cur_left(&cur))
		return coffer_errf(COFFER_E_TRUNCATED, "quote: signature data declares "
		    "%u bytes but only %zu follow", siglen, coffer_cur_left(&cur));
	sig_start = cur.off;
	/* Parse inside exactly the declared signature data. */
	coffer_cur_init(&cur, p + sig_start, siglen);
	if (coffer_cur_ptr(&cur, 64, &q.sig) != 0 ||
	    coffer_cur_ptr(&cur, 64, &q.att_key) != 0)
		return coffer_errf(COFFER_E_TRUNCATED, "quote: signature data (%u "
		    "bytes) too short for the signature and attestation key", siglen);
	if (q.version == 3) {
		uint16_t alen;

		if (coffer_cur_ptr(&cur, QE_REPORT_LEN, &q.qe_report) != 0 ||
		    coffer_cur_ptr(&cur, 64, &q.qe_report_sig) != 0 ||
		    coffer_cur_u16le(&cur, &alen) != 0 ||
		    coffer_cur_ptr(&cur, alen, &q.qe_auth) != 0)
			return coffer_errf(COFFER_E_TRUNCATED, "quote v3: QE report or "
			    "its auth data is cut off");
		q.qe_auth_len = alen;
	}
	if ((r = parse_cert_data(&cur, &q, 0)) != 0)
		return r;
	if (coffer_cur_left(&cur) != 0)
		return coffer_errf(COFFER_E_FORMAT, "quote: signature data declares %u "
		    "bytes but its parts take %zu", siglen, cur.off);
	if (q.qe_report == NULL)
		return coffer_errf(COFFER_E_FORMAT, "quote: no QE report");
	/* Bytes after the declared signature data are not signed by anything;
	 * real quotes carry them (zero padding of a fixed buffer), and Intel's
	 * and the other reference verifiers ignore them. */
	q.end = sig_start + siglen;
	*out = q;
	return 0;
}

/* ------------------------------------------------------------------ */
/* PCK certificate extensions (Intel SGX PCK Certificate and CRL Profile,
 * section "SGX Extensions"): SEQUENCE OF SEQUENCE { OID, value }. */

/* DER of OID 1.2.840.113741.1.13.1 */
static const uint8_t sgx_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

/* The arc after the SGX extension OID: 1 byte (".4") or 2 (".2.17"). */
static int
sub_oid(const uint8_t *oid, size_t n, int *a, int *b)
{
	if (n < sizeof(sgx_oid) + 1 || memcmp(oid, sgx_oid, sizeof(sgx_oid)) != 0)
		return -1;
	oid += sizeof(sgx_oid);
	n -= sizeof(sgx_oid);
	if (n > 2 || (oid[0] & 0x80) || (n == 2 && (oid[1] & 0x80)))
		return -1;
	*a = oid[0];
	*b = n == 2 ? oid[1] : 0;
	return 0;
}

static int
octets(const uint8_t *val, size_t vlen, uint8_t *out, size_t n, const char *what)
{
	if (vlen != n)
		return coffer_errf(COFFER_E_FORMAT, "PCK extension %s: %zu bytes, "
		    "expected %zu", what, vlen, n);
	memcpy(out, val, n);
	return 0;
}

static int
parse_tcb(const uint8_t *p, size_t len, struct tee_pck_ext *e)
{
	struct tee_der d, item;
	const uint8_t *seq, *oid, *val;
	size_t seqlen, oidlen, vlen;
	unsigned seen = 0;
	uint8_t tag;
	uint64_t u;
	int a, b, r;

	tee_der_init(&d, p, len);
	while (d.off < d.len) {
		if ((r = tee_der_expect(&d, 0x30, &seq, &seqlen)) != 0)
			return r;
		tee_der_init(&item, seq, seqlen);
		if ((r = tee_der_expect(&item, 0x06, &oid, &oidlen)) != 0 ||
		    (r = tee_der_next(&item, &tag, &val, &vlen)) != 0)
			return r;
		if (sub_oid(oid, oidlen, &a, &b) != 0 || a != 2 || b < 1 || b > 18)
			continue;
		if (b <= 17) {
			if (tag != 0x02 || (r = tee_der_uint(val, vlen,
			    b == 17 ? 65535 : 255, &u)) != 0)
				return coffer_errf(COFFER_E_FORMAT, "PCK extension TCB "
				    "component %d: not a small INTEGER", b);
			if (b == 17)
				e->pcesvn = (uint16_t)u;
			else
				e->comp_svn[b - 1] = (uint8_t)u;
		} else {
			if (tag != 0x04 || (r = octets(val, vlen, e->cpusvn, 16, "CPUSVN")) != 0)
				return coffer_errf(COFFER_E_FORMAT, "PCK extension CPUSVN: "
				    "not 16 octets");
		}
		seen |= 1u << b;
	}
	/* all of .2.1 - .2.18 */
	if ((seen & 0x7fffeu) != 0x7fffeu)
		return coffer_errf(COFFER_E_FORMAT, "PCK extension TCB: components "
		    "missing (have mask 0x%x)", seen);
	return 0;
}

int
tee_pck_ext_parse(const uint8_t *p, size_t len, struct tee_pck_ext *out)
{
	struct tee_pck_ext e;
	struct tee_der d, outer, item;
	const uint8_t *seq, *oid, *val, *body;
	size_t seqlen, oidlen, vlen, bodylen;
	unsigned seen = 0;
	uint8_t tag;
	uint64_t u;
	int a, b, r;

	memset(&e, 0, sizeof(e));
	tee_der_init(&outer, p, len);
	if ((r = tee_der_expect(&outer, 0x30, &body, &bodylen)) != 0)
		return coffer_errctx(r, "PCK SGX extension");
	if (outer.off != len)
		return coffer_errf(COFFER_E_FORMAT, "PCK SGX extension: %zu bytes "
		    "after the sequence", len - outer.off);
	tee_der_init(&d, body, bodylen);
	while (d.off < d.len) {
		if ((r = tee_der_expect(&d, 0x30, &seq, &seqlen)) != 0)
			return coffer_errctx(r, "PCK SGX extension");
		tee_der_init(&item, seq, seqlen);
		if ((r = tee_der_expect(&item, 0x06, &oid, &oidlen)) != 0 ||
		    (r = tee_der_next(&item, &tag, &val, &vlen)) != 0)
			return coffer_errctx(r, "PCK SGX extension");
		if (sub_oid(oid, oidlen, &a, &b) != 0 || b != 0)
			continue;
		switch (a) {
		case 1:
			if (tag != 0x04 || (r = octets(val, vlen, e.ppid, 16, "PPID")) != 0)
				return coffer_errf(COFFER_E_FORMAT, "PCK extension PPID: "
				    "not 16 octets");
			break;
		case 2:
			if (tag != 0x30 || (r = parse_tcb(val, vlen, &e)) != 0)
				return tag != 0x30 ? coffer_errf(COFFER_E_FORMAT, "PCK "
				    "extension TCB: not a sequence") : r;
			break;
		case 3:
			if (tag != 0x04 || (r = octets(val, vlen, e.pceid, 2, "PCE-ID")) != 0)
				return coffer_errf(COFFER_E_FORMAT, "PCK extension PCE-ID: "
				    "not 2 octets");
			break;
		case 4:
			if (tag != 0x04 || (r = octets(val, vlen, e.fmspc, 6, "FMSPC")) != 0)
				return coffer_errf(COFFER_E_FORMAT, "PCK extension FMSPC: "
				    "not 6 octets");
			break;
		case 5:
			if (tag != 0x0a || tee_der_uint(val, vlen, 2, &u) != 0)
				return coffer_errf(COFFER_E_FORMAT, "PCK extension SGX "
				    "Type: not an ENUMERATED 0-2");
			e.sgx_type = (int)u;
			break;
		case 6:
			if (tag != 0x04 || octets(val, vlen, e.platform_instance_id, 16,
			    "Platform Instance ID") != 0)
				return coffer_errf(COFFER_E_FORMAT, "PCK extension Platform "
				    "Instance ID: not 16 octets");
			e.has_platform_instance_id = 1;
			break;
		default:
			break;
		}
		if (a < 32)
			seen |= 1u << a;
	}
	coffer_errclear();
	if ((seen & 0x3eu) != 0x3eu)
		return coffer_errf(COFFER_E_FORMAT, "PCK SGX extension: PPID, TCB, "
		    "PCE-ID, FMSPC or SGX Type missing");
	*out = e;
	return 0;
}

int
tee_pck_ext_get(X509 *x, struct tee_pck_ext *out)
{
	ASN1_OBJECT *obj;
	ASN1_OCTET_STRING *os;
	X509_EXTENSION *ext;
	int i;

	if ((obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1)) == NULL)
		return COFFER_E_NOMEM;
	i = X509_get_ext_by_OBJ(x, obj, -1);
	ASN1_OBJECT_free(obj);
	if (i < 0 || (ext = X509_get_ext(x, i)) == NULL ||
	    (os = X509_EXTENSION_get_data(ext)) == NULL) {
		ERR_clear_error();
		return coffer_errf(COFFER_E_FORMAT, "PCK certificate has no SGX "
		    "extension (1.2.840.113741.1.13.1)");
	}
	return tee_pck_ext_parse(ASN1_STRING_get0_data(os),
	    (size_t)ASN1_STRING_length(os), out);
}
