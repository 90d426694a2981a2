// SPDX-License-Identifier: Apache-2.0
// Coffer's evidence envelope: a JSON object carrying raw evidence, the
// backend that made it and the certificates a verifier needs with it (SNP
// VCEK/VLEK), doc/format/evidence.md section 2. Also the SEV-SNP extended
// report certificate table that configfs-tsm returns as auxblob.
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "tee/tee_int.h"

#define ENV_TYPE "coffer-evidence"
#define ENV_VERSION 1
#define ENV_MAX ((size_t)1 << 20)
#define ENV_MAX_CERTS 16

static const char *const env_keys[] = {
	"type", "version", "tee", "backend", "provider", "evidence", "certs",
	"warning", NULL,
};

static int
name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

void
tee_envelope_release(struct tee_envelope *e)
{
	coffer_buf_release(&e->evidence);
	sk_X509_pop_free(e->certs, X509_free);
	e->certs = NULL;
}

int
tee_envelope_parse(const uint8_t *p, size_t len, struct tee_envelope *out)
{
	struct tee_envelope e;
	struct coffer_buf der = COFFER_BUF_INIT(ENV_MAX);
	json_t *doc = NULL, *certs = NULL, *c;
	const char *type, *tee, *backend, *ev, *prov = NULL, *warn = NULL;
	int64_t version;
	size_t i;
	int r;

	memset(&e, 0, sizeof(e));
	coffer_buf_init(&e.evidence, ENV_MAX);
	if ((r = coffer_json_parse((const char *)p, len, ENV_MAX, 8, &doc)) != 0)
		return coffer_errctx(r, "evidence envelope");
	if (!json_is_object(doc)) {
		r = coffer_errf(COFFER_E_FORMAT, "evidence envelope: not a JSON object");
		goto out;
	}
	if ((r = coffer_json_check_keys(doc, "evidence envelope", env_keys)) != 0 ||
	    (r = coffer_json_get_str(doc, "evidence envelope", "type", 1, &type)) != 0 ||
	    (r = coffer_json_get_int(doc, "evidence envelope", "version", 1, 0, 1000,
	    &version)) != 0 ||
	    (r = coffer_json_get_str(doc, "evidence envelope", "tee", 1, &tee)) != 0 ||
	    (r = coffer_json_get_str(doc, "evidence envelope", "backend", 1, &backend)) != 0 ||
	    (r = coffer_json_get_str(doc, "evidence envelope", "evidence", 1, &ev)) != 0 ||
	    (r = coffer_json_get_str(doc, "evidence envelope", "provider", 0, &prov)) != 0 ||
	    (r = coffer_json_get_str(doc, "evidence envelope", "warning", 0, &warn)) != 0 ||
	    (r = coffer_json_get_arr(doc, "evidence envelope", "certs", 0, &certs)) != 0)
		goto out;
	if (strcmp(type, ENV_TYPE) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "evidence envelope: type \"%s\", "
		    "expected \"%s\"", type, ENV_TYPE);
		goto out;
	}
	if (version != ENV_VERSION) {
		r = coffer_errf(COFFER_E_VERSION, "evidence envelope: version %lld is "
		    "not supported (1)", (long long)version);
		goto out;
	}
	if (strcmp(tee, "sgx") != 0 && strcmp(tee, "tdx") != 0 &&
	    strcmp(tee, "sev-snp") != 0 && strcmp(tee, "sim") != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "evidence envelope: tee \"%s\" is not "
		    "sgx, tdx, sev-snp or sim", tee);
		goto out;
	}
	if (!name_ok(backend, sizeof(e.backend)) ||
	    (prov != NULL && !name_ok(prov, sizeof(e.provider)))) {
		r = coffer_errf(COFFER_E_FORMAT, "evidence envelope: backend or "
		    "provider is not a short lower-case name");
		goto out;
	}
	/* Sim evidence must say what it is wherever it goes. */
	if ((strcmp(tee, "sim") == 0) != (warn != NULL) ||
	    (warn != NULL && strcmp(warn, TEE_SIM_WARNING) != 0)) {
		r = coffer_errf(COFFER_E_FORMAT, "evidence envelope: \"warning\" must "
		    "be present exactly for sim evidence, with the text \"%s\"",
		    TEE_SIM_WARNING);
		goto out;
	}
	snprintf(e.tee, sizeof(e.tee), "%s", tee);
	snprintf(e.backend, sizeof(e.backend), "%s", backend);
	if (prov != NULL)
		snprintf(e.provider, sizeof(e.provider), "%s", prov);
	if ((r = coffer_b64url_decode_buf(ev, strlen(ev), &e.evidence)) != 0) {
		r = coffer_errctx(r, "evidence envelope: evidence");
		goto out;
	}
	if (e.evidence.len == 0) {
		r = coffer_errf(COFFER_E_FORMAT, "evidence envelope: empty evidence");
		goto out;
	}
	if (certs != NULL) {
		if (json_array_size(certs) > ENV_MAX_CERTS) {
			r = coffer_errf(COFFER_E_LIMIT, "evidence envelope: more than %d "
			    "certificates", ENV_MAX_CERTS);
			goto out;
		}
		if ((e.certs = sk_X509_new_null()) == NULL) {
			r = COFFER_E_NOMEM;
			goto out;
		}
		json_array_foreach(certs, i, c) {
			const char *s = json_string_value(c);
			const uint8_t *q;
			X509 *x;

			coffer_buf_reset(&der);
			if (s == NULL || coffer_b64url_decode_buf(s, strlen(s), &der) != 0 ||
			    der.len == 0) {
				r = coffer_errf(COFFER_E_FORMAT, "evidence envelope: certs[%zu] "
				    "is not base64url", i);
				goto out;
			}
			q = der.data;
			if ((x = d2i_X509(NULL, &q, (long)der.len)) == NULL ||
			    q != der.data + der.len) {
				X509_free(x);
				ERR_clear_error();
				r = coffer_errf(COFFER_E_FORMAT, "evidence envelope: certs[%zu] "
				    "is not one DER certificate", i);
				goto out;
			}
			if (!sk_X509_push(e.certs, x)) {
				X509_free(x);
				r = COFFER_E_NOMEM;
				goto out;
			}
		}
	}
	*out = e;
	memset(&e, 0, sizeof(e));
out:
	tee_envelope_release(&e);
	coffer_buf_release(&der);
	json_decref(doc);
	return r;
}

int
tee_envelope_write(const char *tee, const char *backend, const char *provider,
    const uint8_t *ev, size_t evlen, STACK_OF(X509) *certs, struct coffer_buf *out)
{
	struct coffer_buf b = COFFER_BUF_INIT(ENV_MAX * 2);
	json_t *o = NULL, *arr = NULL;
	uint8_t *der = NULL;
	int r = COFFER_E_NOMEM, bad;

	if ((o = json_object()) == NULL)
		goto out;
	if ((r = coffer_b64url_put(&b, ev, evlen)) != 0)
		goto out;
	r = COFFER_E_NOMEM;
	bad = json_object_set_new(o, "type", json_string(ENV_TYPE)) |
	    json_object_set_new(o, "version", json_integer(ENV_VERSION)) |
	    json_object_set_new(o, "tee", json_string(tee)) |
	    json_object_set_new(o, "backend", json_string(backend)) |
	    json_object_set_new(o, "evidence", json_string(coffer_buf_str(&b)));
	if (provider != NULL && provider[0] != '\0')
		bad |= json_object_set_new(o, "provider", json_string(provider));
	if (strcmp(tee, "sim") == 0)
		bad |= json_object_set_new(o, "warning", json_string(TEE_SIM_WARNING));
	if (bad)
		goto out;
	if (certs != NULL && sk_X509_num(certs) > 0) {
		if ((arr = json_array()) == NULL)
			goto out;
		for (int i = 0; i < sk_X509_num(certs); i++) {
			int n = i2d_X509(sk_X509_value(certs, i), &der);

			if (n <= 0)
				goto out;
			coffer_buf_reset(&b);
			if ((r = coffer_b64url_put(&b, der, (size_t)n)) != 0)
				goto out;
			r = COFFER_E_NOMEM;
			OPENSSL_free(der);
			der = NULL;
			if (json_array_append_new(arr, json_string(coffer_buf_str(&b))) != 0)
				goto out;
		}
		if (json_object_set(o, "certs", arr) != 0)
			goto out;
	}
	if ((r = coffer_json_dump(o, out)) != 0 || (r = coffer_buf_puts(out, "\n")) != 0)
		goto out;
	r = 0;
out:
	OPENSSL_free(der);
	json_decref(arr);
	json_decref(o);
	coffer_buf_release(&b);
	return r;
}

/* GHCB specification, MSG_REPORT_REQ extended request: a table of
 * { GUID (16), offset u32le, length u32le } entries ended by an all-zero
 * entry; offsets are from the start of the table. */
static const uint8_t guid_vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
	0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t guid_vlek[16] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
	0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 };
static const uint8_t guid_ask[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
	0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t guid_ark[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
	0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

int
tee_snp_cert_table_parse(const uint8_t *p, size_t len, STACK_OF(X509) *certs)
{
	static const uint8_t zero[24];

	for (size_t off = 0;; off += 24) {
		uint32_t o, n;
		const uint8_t *q;
		X509 *x;

		if (len - off < 24 || off > len)
			return coffer_errf(COFFER_E_FORMAT, "SNP certificate table: no "
			    "terminating entry");
		if (memcmp(p + off, zero, 24) == 0)
			return 0;
		if (off / 24 >= 64)
			return coffer_errf(COFFER_E_LIMIT, "SNP certificate table: more "
			    "than 64 entries");
		o = coffer_load_u32le(p + off + 16);
		n = coffer_load_u32le(p + off + 20);
		if (o > len || n > len - o || n == 0)
			return coffer_errf(COFFER_E_FORMAT, "SNP certificate table: entry "
			    "%zu points outside the table (%u + %u > %zu)", off / 24, o, n, len);
		if (memcmp(p + off, guid_vcek, 16) != 0 && memcmp(p + off, guid_vlek, 16) != 0 &&
		    memcmp(p + off, guid_ask, 16) != 0 && memcmp(p + off, guid_ark, 16) != 0)
			continue; /* other entries (e.g. a CRL) are not ours to judge */
		q = p + o;
		if ((x = d2i_X509(NULL, &q, (long)n)) == NULL) {
			ERR_clear_error();
			return coffer_errf(COFFER_E_FORMAT, "SNP certificate table: entry "
			    "%zu is not a DER certificate", off / 24);
		}
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			return COFFER_E_NOMEM;
		}
	}
}
