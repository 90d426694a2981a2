// SPDX-License-Identifier: Apache-2.0
// Collateral (src/tee/collateral.c, jspan.c, tcbinfo.c): the JSON span
// extractor, every accepted form (PCS body, dcap-qvl, DER/PEM/hex CRLs),
// tampering, choosing by time, and the TCB-level matching with modified
// TCB Info the way the origins' own tests modify it.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "test_tee_common.h"
#include "tee/tee_int.h"

static struct coffer_tee_anchors *anchors;

static int
setup(void **state)
{
	(void)state;
	return coffer_tee_anchors_new_default(&anchors) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	coffer_tee_anchors_free(anchors);
	return 0;
}

/* ------------------------------------------------------------------ */

static void
span_is(const char *json, const char *key, const char *want)
{
	size_t a = 0, b = 0;

	if (tee_json_span(json, strlen(json), key, &a, &b) != 0)
		fail_msg("span %s in %s: %s", key, json, coffer_errdetail());
	assert_int_equal(b - a, strlen(want));
	assert_memory_equal(json + a, want, b - a);
}

static void
test_span__finds_exact_bytes_of_top_level_values(void **state)
{
	size_t a, b;

	(void)state;
	span_is("{\"tcbInfo\":{\"a\":1},\"signature\":\"ab\"}", "tcbInfo", "{\"a\":1}");
	span_is("{\"signature\":\"ab\", \"tcbInfo\" : { \"a\" : [1, {\"b\":\"}\"}] } }",
	    "tcbInfo", "{ \"a\" : [1, {\"b\":\"}\"}] }");
	span_is("{\"x\":\"\\\"tcbInfo\\\":{}\",\"tcbInfo\":[]}", "tcbInfo", "[]");
	span_is("{\"n\":-1.5e3,\"t\":true,\"k\":null}", "t", "true");
	span_is("{\"n\":-1.5e3,\"t\":true,\"k\":null}", "n", "-1.5e3");
	/* only top-level members count */
	assert_int_equal(tee_json_span("{\"a\":{\"tcbInfo\":1}}", 19, "tcbInfo", &a, &b),
	    COFFER_E_NOTFOUND);
	assert_int_equal(tee_json_span("{}", 2, "k", &a, &b), COFFER_E_NOTFOUND);
	assert_int_equal(tee_json_span("{\"k\":1,\"k\":2}", 13, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("[1]", 3, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("{\"k\":{\"a\":1}", 12, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("{\"k\":\"abc", 9, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("{\"k\" 1}", 7, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("{\"k\":1 \"j\":2}", 13, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("", 0, "k", &a, &b), COFFER_E_FORMAT);
}

static void
test_span__pcs_sample_span_is_what_intel_signed(void **state)
{
	struct coffer_buf f = COFFER_BUF_INIT(1 << 20);
	const char *s;
	size_t a, b;

	(void)state;
	tt_read(ATT "tdx/go-tdx-guest/sample_tcbInfo_response", &f);
	s = (const char *)f.data;
	assert_int_equal(tee_json_span(s, f.len, "tcbInfo", &a, &b), 0);
	assert_int_equal(s[a], '{');
	assert_int_equal(s[b - 1], '}');
	assert_non_null(strstr(s + b, "\"signature\""));
	coffer_buf_release(&f);
}

static void
test_pem__strict_base64_and_block_limits(void **state)
{
	struct coffer_buf der[3] = { COFFER_BUF_INIT(1 << 16), COFFER_BUF_INIT(1 << 16),
	    COFFER_BUF_INIT(1 << 16) };
	const char *ok = "junk\n-----BEGIN CERTIFICATE-----\nTWFu\nTWE=\r\n"
	    "-----END CERTIFICATE-----\n\0";
	size_t n = 0;

	(void)state;
	assert_int_equal(tee_pem_certs((const uint8_t *)ok, strlen(ok) + 1, der, 3, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(der[0].len, 5);
	assert_memory_equal(der[0].data, "ManMa", 5);
	/* Non-zero unused bits ("TWF=" would be a second encoding of "Ma"),
	 * a character outside the alphabet, padding in the middle, a
	 * missing END line, no block at all: all rejected. */
	{
		static const char *const bad[] = {
			"-----BEGIN CERTIFICATE-----\nTWF=\n-----END CERTIFICATE-----",
			"-----BEGIN CERTIFICATE-----\nTW-u\n-----END CERTIFICATE-----",
			"-----BEGIN CERTIFICATE-----\nTW==TWFu\n-----END CERTIFICATE-----",
			"-----BEGIN CERTIFICATE-----\nTWFu\n",
			"-----BEGIN CERTIFICATE-----\nTWF\n-----END CERTIFICATE-----",
			"no pem here",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			coffer_buf_reset(&der[0]);
			if (tee_pem_certs((const uint8_t *)bad[i], strlen(bad[i]), der, 3, &n) == 0)
				fail_msg("accepted bad PEM %zu", i);
		}
	}
	{
		char four[512] = "";

		for (int i = 0; i < 4; i++)
			snprintf(four + strlen(four), sizeof(four) - strlen(four),
			    "-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERTIFICATE-----\n");
		for (int i = 0; i < 3; i++)
			coffer_buf_reset(&der[i]);
		assert_int_equal(tee_pem_certs((const uint8_t *)four, strlen(four), der, 3, &n),
		    COFFER_E_LIMIT);
	}
	for (int i = 0; i < 3; i++)
		coffer_buf_release(&der[i]);
}

/* ------------------------------------------------------------------ */

static int
add_mem(struct coffer_tee_collateral *c, const struct coffer_buf *b)
{
	return coffer_tee_collateral_add_mem(c, "test", b->data, b->len);
}

static void
test_collateral__pcs_body_signature_covers_the_inner_object(void **state)
{
	struct coffer_buf sig = COFFER_BUF_INIT(1 << 20), f = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_collateral *c = NULL;
	char *p;

	(void)state;
	tt_read(ATT "intel-pki/intel_sgx_tcb_signing_2018-2025.der", &sig);
	tt_read(ATT "tdx/go-tdx-guest/sample_tcbInfo_response", &f);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	/* Without the TCB signing certificate it cannot be checked. */
	assert_int_equal(add_mem(c, &f), COFFER_E_UNTRUSTED);
	assert_int_equal(add_mem(c, &sig), 0);
	assert_int_equal(add_mem(c, &f), 0);
	assert_int_equal(c->n_tcb, 1);
	assert_true(c->tcb[0].info.tdx);
	tt_hex_eq(c->tcb[0].info.fmspc, 6, "50806f000000");
	assert_int_equal(sk_X509_num(c->tcb[0].signers), 1);
	/* A change inside the signed object is caught... */
	p = strstr((char *)f.data, "\"pceId\":\"0000\"");
	assert_non_null(p);
	p[10] = '1';
	assert_int_equal(add_mem(c, &f), COFFER_E_SIGNATURE);
	p[10] = '0';
	/* ...white space outside it is not signed and does not matter. */
	{
		struct coffer_buf g = COFFER_BUF_INIT(1 << 20);

		assert_int_equal(coffer_buf_puts(&g, "  \n"), 0);
		assert_int_equal(coffer_buf_put(&g, f.data, f.len), 0);
		assert_int_equal(coffer_buf_puts(&g, "\n"), 0);
		assert_int_equal(add_mem(c, &g), 0);
		coffer_buf_release(&g);
	}
	/* A corrupt signature field */
	p = strstr((char *)f.data, "\"signature\":\"");
	assert_non_null(p);
	p[14] = p[14] == 'a' ? 'b' : 'a';
	assert_int_equal(add_mem(c, &f), COFFER_E_SIGNATURE);
	coffer_tee_collateral_free(c);
	coffer_buf_release(&sig);
	coffer_buf_release(&f);
}

static void
test_collateral__dcap_qvl_bundle_tamper_is_caught(void **state)
{
	struct coffer_buf f = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_collateral *c = NULL;
	char *p;

	(void)state;
	tt_read(ATT "sgx/dcap-qvl/sgx_quote_collateral.json", &f);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	assert_int_equal(add_mem(c, &f), 0);
	assert_int_equal(c->n_tcb, 1);
	assert_int_equal(c->n_ids, 1);
	assert_int_equal(c->n_crls, 2);
	/* The CRLs were verified at load: root CRL by the root, PCK CRL by
	 * the Processor CA of the issuer chain. */
	assert_true(c->crls[0].verified);
	assert_true(c->crls[1].verified);
	/* tcbEvaluationDataNumber 17 -> 18 inside the signed text */
	p = strstr((char *)f.data, "tcbEvaluationDataNumber\\\":17");
	assert_non_null(p);
	assert_int_equal(p[27], '7');
	p[27] = '8';
	assert_int_equal(add_mem(c, &f), COFFER_E_SIGNATURE);
	p[27] = '7';
	/* a byte of the root CA CRL (hex) */
	p = strstr((char *)f.data, "\"root_ca_crl\"");
	assert_non_null(p);
	p = strchr(p + 14, '"');
	assert_non_null(p);
	p[1 + 300] = p[1 + 300] == '0' ? '1' : '0';
	assert_int_not_equal(add_mem(c, &f), 0);
	assert_int_equal(c->n_tcb, 1); /* nothing of a failed call is kept */
	coffer_tee_collateral_free(c);
	coffer_buf_release(&f);
}

static void
test_collateral__crl_in_der_pem_and_hex(void **state)
{
	struct coffer_buf der = COFFER_BUF_INIT(1 << 20), txt = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_collateral *c = NULL;
	X509_CRL *crl;
	BIO *bio;
	const uint8_t *q;
	char *pem;
	long n;

	(void)state;
	tt_read(ATT "tdx/go-tdx-guest/rootcrl.der", &der);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	assert_int_equal(add_mem(c, &der), 0);
	assert_true(c->crls[0].verified);
	/* hex text, as PCCS stores CRLs */
	assert_int_equal(coffer_hex_put(&txt, der.data, der.len), 0);
	assert_int_equal(coffer_buf_puts(&txt, "\n"), 0);
	assert_int_equal(add_mem(c, &txt), 0);
	/* PEM */
	q = der.data;
	assert_non_null(crl = d2i_X509_CRL(NULL, &q, (long)der.len));
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
	n = BIO_get_mem_data(bio, &pem);
	assert_int_equal(coffer_tee_collateral_add_mem(c, "pem", (uint8_t *)pem, (size_t)n), 0);
	assert_int_equal(c->n_crls, 3);
	BIO_free(bio);
	X509_CRL_free(crl);
	/* A CRL claiming to be the root's with a broken signature */
	der.data[der.len - 5] ^= 1;
	assert_int_equal(add_mem(c, &der), COFFER_E_SIGNATURE);
	/* Junk */
	coffer_buf_reset(&txt);
	assert_int_equal(coffer_buf_puts(&txt, "hello, collateral"), 0);
	assert_int_equal(add_mem(c, &txt), COFFER_E_FORMAT);
	coffer_buf_reset(&txt);
	assert_int_equal(coffer_buf_puts(&txt, "{\"tcbInfo2\":{}}"), 0);
	assert_int_equal(add_mem(c, &txt), COFFER_E_FORMAT);
	coffer_tee_collateral_free(c);
	coffer_buf_release(&der);
	coffer_buf_release(&txt);
}

static void
test_collateral__directory_and_missing_paths(void **state)
{
	struct coffer_tee_collateral *c = NULL;
	char path[PATH_MAX], tmpl[] = "/tmp/coffer-coll.XXXXXX", *dir;

	(void)state;
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	tt_path(ATT "tdx/go-tdx-guest/ccel", path, sizeof(path));
	/* a directory of files that are not collateral */
	assert_int_equal(coffer_tee_collateral_add_path(c, path), COFFER_E_FORMAT);
	assert_int_equal(coffer_tee_collateral_add_path(c, "/nonexistent/coll"),
	    COFFER_E_NOTFOUND);
	assert_non_null(dir = mkdtemp(tmpl));
	assert_int_equal(coffer_tee_collateral_add_path(c, dir), COFFER_E_NOTFOUND);
	rmdir(dir);
	/* the amd-pki directory: certificates only (ASKs, ARKs) */
	tt_path(ATT "amd-pki", path, sizeof(path));
	assert_int_equal(coffer_tee_collateral_add_path(c, path), 0);
	assert_int_equal(sk_X509_num(c->certs), 8);
	coffer_tee_collateral_free(c);
}

/* Two dcap-qvl bundles in one collection: each quote is judged with the
 * TD_QE identity valid at its own time (eval numbers 17 and 18). */
static void
test_collateral__chooses_the_piece_valid_at_the_time(void **state)
{
	static const char *const both[] = {
		ATT "tdx/dcap-qvl/tdx_quote_collateral.json",
		ATT "tdx/dcap-qvl/tdx_quote_outdated_collateral.json", NULL,
	};
	struct coffer_tee_collateral *c;
	const struct tee_signed_identity *id;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_claims *cl = NULL;
	struct coffer_tee_anchors *other = NULL;

	(void)state;
	c = tt_coll(anchors, both);
	id = tee_coll_identity(c, "TD_QE", tt_time("2025-07-01T00:00:00Z"));
	assert_non_null(id);
	assert_int_equal(id->id.eval_num, 17);
	id = tee_coll_identity(c, "TD_QE", tt_time("2026-03-01T00:00:00Z"));
	assert_int_equal(id->id.eval_num, 18);
	/* Out of every window: the newest, so the verifier reports expiry. */
	id = tee_coll_identity(c, "TD_QE", tt_time("2030-01-01T00:00:00Z"));
	assert_int_equal(id->id.eval_num, 18);
	assert_null(tee_coll_identity(c, "QE", tt_time("2025-07-01T00:00:00Z")));
	tt_read(ATT "tdx/dcap-qvl/tdx_quote", &ev);
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, c,
	    tt_time("2025-07-01T00:00:00Z"), NULL, &cl), 0);
	assert_int_equal(cl->tcb_status, COFFER_TCB_UP_TO_DATE);
	coffer_tee_claims_free(cl);
	/* Collateral loaded for other anchors is refused. */
	assert_int_equal(coffer_tee_anchors_new_default(&other), 0);
	cl = NULL;
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, other, c,
	    tt_time("2025-07-01T00:00:00Z"), NULL, &cl), COFFER_E_INVAL);
	assert_null(cl);
	coffer_tee_anchors_free(other);
	coffer_tee_collateral_free(c);
	coffer_buf_release(&ev);
}

/* One collateral object, several threads verifying at once (its caches
 * and lazily checked CRLs are shared; the verdicts must not change). */
struct worker_arg {
	struct coffer_tee_collateral *c;
	const struct coffer_buf *ev;
	int64_t at;
	int ok;
};

static void *
worker(void *p)
{
	struct worker_arg *w = p;

	w->ok = 1;
	for (int i = 0; i < 40; i++) {
		struct coffer_tee_claims *cl = NULL;

		if (coffer_tee_verify(w->ev->data, w->ev->len, anchors, w->c, w->at, NULL,
		    &cl) != 0 || cl->tcb_status != COFFER_TCB_UP_TO_DATE)
			w->ok = 0;
		coffer_tee_claims_free(cl);
	}
	return NULL;
}

static void
test_collateral__shared_by_threads(void **state)
{
	static const char *const coll[] = { ATT "tdx/dcap-qvl/tdx_quote_collateral.json", NULL };
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct worker_arg w[4];
	pthread_t th[4];

	(void)state;
	tt_read(ATT "tdx/dcap-qvl/tdx_quote", &ev);
	w[0].c = tt_coll(anchors, coll);
	for (int i = 0; i < 4; i++) {
		w[i].c = w[0].c;
		w[i].ev = &ev;
		w[i].at = tt_time("2025-07-01T00:00:00Z");
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(w[i].ok);
	}
	coffer_tee_collateral_free(w[0].c);
	coffer_buf_release(&ev);
}

/* ------------------------------------------------------------------ */
/* TCB level matching, on parsed collateral modified in memory (no
 * signature involved: tee_tcb_evaluate works on the parsed form). */

struct eval {
	struct coffer_tee_claims claims;
	struct tee_vctx v;
	struct tee_tcb_input in;
	struct tee_tcb_info ti;
	struct tee_enclave_identity qe;
};

/* Inputs from a real quote, collateral from a dcap-qvl bundle. */
static void
eval_setup(struct eval *e, const char *quote_rel, const char *coll_rel)
{
	struct coffer_buf q = COFFER_BUF_INIT(1 << 20), f = COFFER_BUF_INIT(1 << 20);
	struct tee_quote tq;
	struct tee_pck_ext ext;
	STACK_OF(X509) *pem = NULL;
	json_t *doc;
	const char *s;

	memset(e, 0, sizeof(*e));
	e->v.c = &e->claims;
	e->v.anchors = anchors;
	tt_read(quote_rel, &q);
	assert_int_equal(tee_quote_parse(q.data, q.len, &tq), 0);
	assert_int_equal(tee_certs_parse(tq.pck_pem, tq.pck_pem_len, &pem), 0);
	assert_int_equal(tee_pck_ext_get(sk_X509_value(pem, 0), &ext), 0);
	memcpy(e->in.comp_svn, ext.comp_svn, 16);
	e->in.pcesvn = ext.pcesvn;
	e->in.tdx = tq.tee_type == 0x81;
	e->in.quote_version = tq.version;
	if (e->in.tdx) {
		memcpy(e->in.tee_tcb_svn, tq.body, 16);
		memcpy(e->in.mrsigner_seam, tq.body + 64, 48);
		memcpy(e->in.seam_attributes, tq.body + 112, 8);
		e->in.is_v15 = tq.body_type == 3;
		if (e->in.is_v15)
			memcpy(e->in.tee_tcb_svn2, tq.body + 584, 16);
	}
	e->in.qe_miscselect = coffer_load_u32le(tq.qe_report + 16);
	memcpy(e->in.qe_attributes, tq.qe_report + 48, 16);
	memcpy(e->in.qe_mrsigner, tq.qe_report + 128, 32);
	e->in.qe_isvprodid = coffer_load_u16le(tq.qe_report + 256);
	e->in.qe_isvsvn = coffer_load_u16le(tq.qe_report + 258);
	sk_X509_pop_free(pem, X509_free);
	tt_read(coll_rel, &f);
	assert_non_null(doc = json_loadb((char *)f.data, f.len, 0, NULL));
	s = json_string_value(json_object_get(doc, "tcb_info"));
	assert_int_equal(tee_tcb_info_parse(s, strlen(s), &e->ti), 0);
	s = json_string_value(json_object_get(doc, "qe_identity"));
	assert_int_equal(tee_identity_parse(s, strlen(s), &e->qe), 0);
	json_decref(doc);
	coffer_buf_release(&q);
	coffer_buf_release(&f);
}

static enum coffer_tee_tcb_status
eval_run(struct eval *e)
{
	memset(&e->claims, 0, sizeof(e->claims));
	e->v.first_err = 0;
	return tee_tcb_evaluate(&e->v, &e->ti, &e->qe, &e->in);
}

static void
eval_release(struct eval *e)
{
	tee_tcb_info_release(&e->ti);
	tee_identity_release(&e->qe);
}

static void
test_tcb__tdx2_all_levels_out_of_date_gives_out_of_date(void **state)
{
	struct eval e;

	(void)state;
	eval_setup(&e, ATT "tdx/dcap-qvl/tdx_quote", ATT "tdx/dcap-qvl/tdx_quote_collateral.json");
	assert_int_equal(eval_run(&e), COFFER_TCB_UP_TO_DATE);
	assert_int_equal(e.claims.n_reasons, 0);
	/* verify_tcb_override.rs: every TCB level forced to OutOfDate */
	for (size_t i = 0; i < e.ti.n_levels; i++)
		e.ti.levels[i].status = COFFER_TCB_OUT_OF_DATE;
	assert_int_equal(eval_run(&e), COFFER_TCB_OUT_OF_DATE);
	assert_true(coffer_tee_claims_has_reason(&e.claims, "tcb.out_of_date"));
	assert_int_equal(e.v.first_err, 0); /* a note: acceptance is policy */
	/* A revoked level is fatal. */
	e.ti.levels[0].status = COFFER_TCB_REVOKED;
	assert_int_equal(eval_run(&e), COFFER_TCB_REVOKED);
	assert_int_equal(e.v.first_err, COFFER_E_REVOKED);
	/* The TDX module identity TDX_01's signer must match MRSIGNERSEAM. */
	e.ti.levels[0].status = COFFER_TCB_UP_TO_DATE;
	for (size_t i = 0; i < e.ti.n_modules; i++)
		e.ti.modules[i].mrsigner[0] ^= 1;
	assert_int_equal(eval_run(&e), COFFER_TCB_NOT_SUPPORTED);
	assert_true(coffer_tee_claims_has_reason(&e.claims, "tdx.module_mismatch"));
	for (size_t i = 0; i < e.ti.n_modules; i++)
		e.ti.modules[i].mrsigner[0] ^= 1;
	/* An out-of-date TDX module makes an UpToDate platform OutOfDate. */
	for (size_t i = 0; i < e.ti.n_modules; i++)
		for (size_t k = 0; k < e.ti.modules[i].n_levels; k++)
			e.ti.modules[i].levels[k].status = COFFER_TCB_OUT_OF_DATE;
	assert_int_equal(eval_run(&e), COFFER_TCB_OUT_OF_DATE);
	eval_release(&e);
}

static void
test_tcb__tdx3_permissive_level_gives_up_to_date(void **state)
{
	struct eval e;
	struct tee_tcb_level *lv;

	(void)state;
	eval_setup(&e, ATT "tdx/dcap-qvl/tdx_quote_outdated",
	    ATT "tdx/dcap-qvl/tdx_quote_outdated_collateral.json");
	assert_int_equal(eval_run(&e), COFFER_TCB_NOT_SUPPORTED);
	assert_true(coffer_tee_claims_has_reason(&e.claims, "tcb.not_supported"));
	/* outdated_fixture_with_override_matches_expected_status: insert an
	 * all-zero level forced to UpToDate. */
	assert_non_null(lv = realloc(e.ti.levels, (e.ti.n_levels + 1) * sizeof(*lv)));
	e.ti.levels = lv;
	memmove(lv + 1, lv, e.ti.n_levels * sizeof(*lv));
	memset(lv, 0, sizeof(*lv));
	lv->has_tdx = 1;
	lv->status = COFFER_TCB_UP_TO_DATE;
	e.ti.n_levels++;
	assert_int_equal(eval_run(&e), COFFER_TCB_UP_TO_DATE);
	eval_release(&e);
}

static void
test_tcb__sgx1_qe_out_of_date_converges(void **state)
{
	struct eval e;

	(void)state;
	eval_setup(&e, ATT "sgx/dcap-qvl/sgx_quote", ATT "sgx/dcap-qvl/sgx_quote_collateral.json");
	assert_int_equal(eval_run(&e), COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
	assert_int_equal(e.claims.n_advisory_ids, 2);
	/* A QE identity whose newest level is above the QE's ISVSVN 10: the
	 * QE is OutOfDate and QVL's convergence gives
	 * OutOfDateConfigurationNeeded; the QE level's advisory is added. */
	e.qe.levels[0].isvsvn = 11;
	assert_int_equal(eval_run(&e), COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	assert_true(coffer_tee_claims_has_reason(&e.claims,
	    "tcb.out_of_date_configuration_needed"));
	/* A QE of another signer is not the QE. */
	e.qe.levels[0].isvsvn = 8;
	e.qe.mrsigner[5] ^= 1;
	assert_int_equal(eval_run(&e), COFFER_TCB_NOT_SUPPORTED);
	assert_true(coffer_tee_claims_has_reason(&e.claims, "qe.identity_mismatch"));
	assert_int_equal(e.v.first_err, COFFER_E_POLICY);
	e.qe.mrsigner[5] ^= 1;
	/* A platform one PCESVN short of every level is not supported. */
	e.in.pcesvn = 0;
	assert_int_equal(eval_run(&e), COFFER_TCB_NOT_SUPPORTED);
	eval_release(&e);
}

static void
test_tcb__tdx1_zeroed_first_level_matches(void **state)
{
	struct coffer_buf f = COFFER_BUF_INIT(1 << 20), q = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_claims claims;
	struct tee_vctx v;
	struct tee_tcb_info ti;
	struct tee_tcb_input in;
	struct tee_quote tq;
	struct tee_pck_ext ext;
	STACK_OF(X509) *pem = NULL;
	size_t a, b;

	(void)state;
	tt_read(ATT "tdx/go-tdx-guest/sample_tcbInfo_response", &f);
	assert_int_equal(tee_json_span((char *)f.data, f.len, "tcbInfo", &a, &b), 0);
	assert_int_equal(tee_tcb_info_parse((char *)f.data + a, b - a, &ti), 0);
	tt_read(ATT "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat", &q);
	assert_int_equal(tee_quote_parse(q.data, q.len, &tq), 0);
	assert_int_equal(tee_certs_parse(tq.pck_pem, tq.pck_pem_len, &pem), 0);
	assert_int_equal(tee_pck_ext_get(sk_X509_value(pem, 0), &ext), 0);
	memset(&in, 0, sizeof(in));
	memcpy(in.comp_svn, ext.comp_svn, 16);
	in.pcesvn = ext.pcesvn;
	in.tdx = 1;
	in.quote_version = 4;
	memcpy(in.tee_tcb_svn, tq.body, 16);
	memset(&claims, 0, sizeof(claims));
	memset(&v, 0, sizeof(v));
	v.c = &claims;
	assert_int_equal(tee_tcb_evaluate(&v, &ti, NULL, &in), COFFER_TCB_NOT_SUPPORTED);
	/* validate_test.go zeroes every SVN of tcbLevels[0] */
	memset(ti.levels[0].sgx_comp, 0, 16);
	memset(ti.levels[0].tdx_comp, 0, 16);
	ti.levels[0].pcesvn = 0;
	memset(&claims, 0, sizeof(claims));
	assert_int_equal(tee_tcb_evaluate(&v, &ti, NULL, &in),
	    (enum coffer_tee_tcb_status)ti.levels[0].status);
	assert_int_equal(ti.levels[0].status, COFFER_TCB_UP_TO_DATE);
	tee_tcb_info_release(&ti);
	sk_X509_pop_free(pem, X509_free);
	coffer_buf_release(&f);
	coffer_buf_release(&q);
}

static void
test_tcb__rejects_malformed_tcb_info(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"id\":\"TDX\",\"version\":4}",
		"{\"id\":\"XYZ\",\"version\":3}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"yesterday\",\"nextUpdate\":"
		    "\"2025-01-01T00:00:00Z\",\"fmspc\":\"00a067110000\",\"pceId\":\"0000\","
		    "\"tcbType\":0,\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[]}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
		    "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00a0671100\","
		    "\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":1,"
		    "\"tcbLevels\":[]}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
		    "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00a067110000\","
		    "\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":1,"
		    "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[],\"pcesvn\":1},"
		    "\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
		    "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00a067110000\","
		    "\"pceId\":\"0000\",\"tcbType\":1,\"tcbEvaluationDataNumber\":1,"
		    "\"tcbLevels\":[]}",
	};
	struct tee_tcb_info ti;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = tee_tcb_info_parse(bad[i], strlen(bad[i]), &ti);

		if (r == 0)
			fail_msg("accepted bad TCB Info %zu", i);
		assert_true(coffer_errdetail()[0] != '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span__finds_exact_bytes_of_top_level_values),
		cmocka_unit_test(test_span__pcs_sample_span_is_what_intel_signed),
		cmocka_unit_test(test_pem__strict_base64_and_block_limits),
		cmocka_unit_test(test_collateral__pcs_body_signature_covers_the_inner_object),
		cmocka_unit_test(test_collateral__dcap_qvl_bundle_tamper_is_caught),
		cmocka_unit_test(test_collateral__crl_in_der_pem_and_hex),
		cmocka_unit_test(test_collateral__directory_and_missing_paths),
		cmocka_unit_test(test_collateral__chooses_the_piece_valid_at_the_time),
		cmocka_unit_test(test_collateral__shared_by_threads),
		cmocka_unit_test(test_tcb__tdx2_all_levels_out_of_date_gives_out_of_date),
		cmocka_unit_test(test_tcb__tdx3_permissive_level_gives_up_to_date),
		cmocka_unit_test(test_tcb__sgx1_qe_out_of_date_converges),
		cmocka_unit_test(test_tcb__tdx1_zeroed_first_level_matches),
		cmocka_unit_test(test_tcb__rejects_malformed_tcb_info),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
