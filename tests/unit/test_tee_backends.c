// SPDX-License-Identifier: Apache-2.0
// The hardware backends against directory trees that reproduce their
// interfaces (src/tee/backend_gramine.c, backend_tsm.c): Gramine's
// /dev/attestation and Linux configfs-tsm. The "device" side is a thread
// behind a FIFO: it answers only after the report data was written, with a
// real quote or report for that report data, so the write/read order is
// checked, and the evidence that comes back verifies end to end.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

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

static void
write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static size_t
read_small(const char *dir, const char *name, uint8_t *out, size_t max)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(out, 1, max, f);
	fclose(f);
	return n;
}

/* The device: serve `answer` through the FIFO dir/fifo once the reader
 * opens it, but only if dir/in holds exactly `want` (the report data);
 * else serve nothing. Optionally bump dir/generation first. */
struct device {
	char dir[512];
	const char *fifo, *in;
	uint8_t want[64];
	struct coffer_buf answer;
	const char *generation;  /* written before answering, or NULL */
	pthread_t th;
	int started;
	int saw_report_data;     /* the reader wrote before it read */
};

static void *
device_main(void *arg)
{
	struct device *d = arg;
	char path[600];
	uint8_t got[128];
	size_t n;
	int fd = -1;

	snprintf(path, sizeof(path), "%s/%s", d->dir, d->fifo);
	/* Wait (up to 20 s) for the reader: O_NONBLOCK open of a FIFO for
	 * writing fails with ENXIO while nobody reads it. */
	for (int i = 0; i < 2000 && fd < 0; i++) {
		if ((fd = open(path, O_WRONLY | O_NONBLOCK)) < 0) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	if (fd < 0)
		return NULL;
	fcntl(fd, F_SETFL, 0);
	n = read_small(d->dir, d->in, got, sizeof(got));
	d->saw_report_data = n == 64 && memcmp(got, d->want, 64) == 0;
	if (d->saw_report_data) {
		if (d->generation != NULL)
			write_file(d->dir, "generation", d->generation, strlen(d->generation));
		if (write(fd, d->answer.data, d->answer.len) != (ssize_t)d->answer.len)
			d->saw_report_data = 0;
	}
	close(fd);
	return NULL;
}

static void
device_start(struct device *d)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", d->dir, d->fifo);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pthread_create(&d->th, NULL, device_main, d), 0);
	d->started = 1;
}

static void
device_stop(struct device *d)
{
	if (d->started)
		pthread_join(d->th, NULL);
	d->started = 0;
	coffer_buf_release(&d->answer);
}

static void
rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* ------------------------------------------------------------------ */
/* Gramine: attestation_type, user_report_data, quote. */

static void
gramine_dir(struct device *d, const char *type)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/coffer-gramine.XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	write_file(d->dir, "attestation_type", type, strlen(type));
	write_file(d->dir, "user_report_data", "", 0);
	d->fifo = "quote";
	d->in = "user_report_data";
	coffer_buf_init(&d->answer, 1 << 20);
}

static void
test_gramine__quote_for_the_written_report_data_verifies(void **state)
{
	static const char *const coll[] = { ATT "sgx/dcap-qvl/sgx_quote_collateral.json", NULL };
	struct device d;
	struct coffer_tee_collateral *c;
	struct coffer_tee_claims *cl = NULL;
	uint8_t rd[64] = "Hello, world!", *ev = NULL, seen[80];
	size_t n = 0;

	(void)state;
	gramine_dir(&d, "dcap");
	memcpy(d.want, rd, 64);
	tt_read(ATT "sgx/dcap-qvl/sgx_quote", &d.answer);
	device_start(&d);
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SGX_GRAMINE, rd,
	    &(struct coffer_tee_backend_opts){ .device_root = d.dir }, &ev, &n), 0);
	device_stop(&d);
	assert_true(d.saw_report_data);
	assert_int_equal(read_small(d.dir, "user_report_data", seen, sizeof(seen)), 64);
	assert_memory_equal(seen, rd, 64);
	assert_non_null(strstr((char *)ev, "\"backend\":\"sgx-gramine\""));
	assert_non_null(strstr((char *)ev, "\"tee\":\"sgx\""));
	c = tt_coll(anchors, coll);
	assert_int_equal(coffer_tee_verify(ev, n, anchors, c,
	    tt_time("2025-07-19T10:01:17Z"), &(struct coffer_tee_verify_opts){ 0, rd, NULL },
	    &cl), 0);
	assert_int_equal(cl->tee, COFFER_TEE_SGX);
	assert_string_equal(cl->backend, "sgx-gramine");
	assert_int_equal(cl->tcb_status, COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
	coffer_tee_claims_free(cl);
	coffer_tee_collateral_free(c);
	free(ev);
	rm_rf(d.dir);
}

static void
test_gramine__device_answering_for_other_report_data_is_caught(void **state)
{
	struct device d;
	uint8_t rd[64] = "not what the quote holds", *ev = NULL;
	size_t n;

	(void)state;
	/* A broken device that returns its quote whatever was written. */
	gramine_dir(&d, "dcap\n");
	tt_read(ATT "sgx/dcap-qvl/sgx_quote", &d.answer);
	memcpy(d.want, rd, 64);
	device_start(&d);
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SGX_GRAMINE, rd,
	    &(struct coffer_tee_backend_opts){ .device_root = d.dir }, &ev, &n),
	    COFFER_E_PROTO);
	device_stop(&d);
	assert_null(ev);
	rm_rf(d.dir);
}

static void
test_gramine__errors_of_the_interface(void **state)
{
	struct device d;
	uint8_t rd[64] = { 0 }, *ev = NULL;
	size_t n;
	struct { const char *type; int want; } cases[] = {
		{ "none", COFFER_E_UNSUPPORTED }, { "epid", COFFER_E_UNSUPPORTED },
		{ "magic", COFFER_E_PROTO },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gramine_dir(&d, cases[i].type);
		assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SGX_GRAMINE,
		    rd, &(struct coffer_tee_backend_opts){ .device_root = d.dir }, &ev, &n),
		    cases[i].want);
		coffer_buf_release(&d.answer);
		rm_rf(d.dir);
	}
	/* Not in Gramine at all */
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SGX_GRAMINE, rd,
	    &(struct coffer_tee_backend_opts){ .device_root = "/nonexistent/attestation" },
	    &ev, &n), COFFER_E_NOTFOUND);
	/* An empty quote (the device answers nothing: wrong report data) */
	gramine_dir(&d, "dcap");
	memset(d.want, 0xff, 64);
	device_start(&d);
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SGX_GRAMINE, rd,
	    &(struct coffer_tee_backend_opts){ .device_root = d.dir }, &ev, &n),
	    COFFER_E_PROTO);
	device_stop(&d);
	rm_rf(d.dir);
}

/* ------------------------------------------------------------------ */
/* configfs-tsm: mkdir entry; generation, inblob, outblob, provider,
 * auxblob. The hook plays the kernel populating a new entry. */

struct tsm {
	char root[128];
	const char *provider;
	const char *outblob_rel;
	struct coffer_buf aux;
	const char *generation_after;  /* what the "kernel" sets on inblob write */
	uint8_t want[64];
	struct device dev;
	char entry[512];
};

static void
tsm_populate(const char *entry, void *arg)
{
	struct tsm *t = arg;

	snprintf(t->entry, sizeof(t->entry), "%s", entry);
	write_file(entry, "generation", "0\n", 2);
	write_file(entry, "inblob", "", 0);
	write_file(entry, "provider", t->provider, strlen(t->provider));
	write_file(entry, "auxblob", t->aux.data != NULL ? t->aux.data : (uint8_t *)"",
	    t->aux.len);
	write_file(entry, "privlevel_floor", "0\n", 2);
	memset(&t->dev, 0, sizeof(t->dev));
	snprintf(t->dev.dir, sizeof(t->dev.dir), "%s", entry);
	t->dev.fifo = "outblob";
	t->dev.in = "inblob";
	t->dev.generation = t->generation_after;
	memcpy(t->dev.want, t->want, 64);
	coffer_buf_init(&t->dev.answer, 1 << 20);
	tt_read(t->outblob_rel, &t->dev.answer);
	device_start(&t->dev);
}

static void
tsm_init(struct tsm *t, const char *provider, const char *outblob_rel)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->root, sizeof(t->root), "/tmp/coffer-tsm.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	t->provider = provider;
	t->outblob_rel = outblob_rel;
	t->generation_after = "1\n";
	coffer_buf_init(&t->aux, 1 << 20);
}

static int
tsm_get(struct tsm *t, const uint8_t rd[64], uint8_t **ev, size_t *n)
{
	struct coffer_tee_backend_opts o = { .device_root = t->root,
	    .tsm_after_mkdir = tsm_populate, .tsm_hook_arg = t };
	int r = coffer_tee_evidence_get(COFFER_TEE_BACKEND_TSM, rd, &o, ev, n);

	device_stop(&t->dev);
	return r;
}

static void
tsm_done(struct tsm *t)
{
	coffer_buf_release(&t->aux);
	rm_rf(t->root);
}

static void
test_tsm__tdx_quote_through_configfs_verifies(void **state)
{
	static const char *const coll[] = { ATT "tdx/dcap-qvl/tdx_quote_collateral.json", NULL };
	struct tsm t;
	struct coffer_tee_collateral *c;
	struct coffer_tee_claims *cl = NULL;
	uint8_t *ev = NULL;
	size_t n = 0;
	char prefix[160];

	(void)state;
	tsm_init(&t, "tdx_guest\n", ATT "tdx/dcap-qvl/tdx_quote");
	assert_int_equal(coffer_hex_decode("9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20",
	    128, t.want, 64, &n), 0);
	assert_int_equal(tsm_get(&t, t.want, &ev, &n), 0);
	assert_true(t.dev.saw_report_data);
	/* one entry per request, made under the report directory */
	snprintf(prefix, sizeof(prefix), "%s/coffer-", t.root);
	assert_int_equal(strncmp(t.entry, prefix, strlen(prefix)), 0);
	assert_non_null(strstr((char *)ev, "\"provider\":\"tdx_guest\""));
	c = tt_coll(anchors, coll);
	assert_int_equal(coffer_tee_verify(ev, n, anchors, c, tt_time("2025-07-01T00:00:00Z"),
	    &(struct coffer_tee_verify_opts){ 0, t.want, NULL }, &cl), 0);
	assert_int_equal(cl->tee, COFFER_TEE_TDX);
	assert_string_equal(cl->backend, "tsm");
	assert_int_equal(cl->tcb_status, COFFER_TCB_UP_TO_DATE);
	coffer_tee_claims_free(cl);
	coffer_tee_collateral_free(c);
	free(ev);
	tsm_done(&t);
}

/* The certificate table of an extended SNP report (GHCB spec): VCEK
 * entry, terminator, then the certificate. */
static void
cert_table(struct coffer_buf *b, const struct coffer_buf *vcek)
{
	static const uint8_t vcek_guid[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64,
		0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
	uint8_t zero[24] = { 0 };

	assert_int_equal(coffer_buf_put(b, vcek_guid, 16), 0);
	assert_int_equal(coffer_buf_put_u32le(b, 48), 0);
	assert_int_equal(coffer_buf_put_u32le(b, (uint32_t)vcek->len), 0);
	assert_int_equal(coffer_buf_put(b, zero, 24), 0);
	assert_int_equal(coffer_buf_put(b, vcek->data, vcek->len), 0);
}

static void
test_tsm__snp_report_with_vcek_in_auxblob_verifies(void **state)
{
	struct coffer_buf vcek = COFFER_BUF_INIT(1 << 20);
	struct tsm t;
	struct coffer_tee_claims *cl = NULL;
	uint8_t *ev = NULL;
	size_t n = 0;

	(void)state;
	tsm_init(&t, "sev_guest\n", ATT "sev-snp/go-sev-guest/attestation.bin");
	tt_read(ATT "sev-snp/go-sev-guest/vcek.testcer", &vcek);
	cert_table(&t.aux, &vcek);
	t.want[0] = 1, t.want[1] = 2, t.want[2] = 3, t.want[3] = 4, t.want[4] = 5;
	assert_int_equal(tsm_get(&t, t.want, &ev, &n), 0);
	assert_non_null(strstr((char *)ev, "\"certs\":["));
	/* No collateral: the VCEK came with the evidence. */
	assert_int_equal(coffer_tee_verify(ev, n, anchors, NULL, tt_time("2024-01-01T00:00:00Z"),
	    &(struct coffer_tee_verify_opts){ COFFER_TEE_ALLOW_NO_CRL, t.want, NULL }, &cl), 0);
	assert_int_equal(cl->tee, COFFER_TEE_SEV_SNP);
	assert_string_equal(cl->snp.product, "Milan");
	coffer_tee_claims_free(cl);
	free(ev);
	tsm_done(&t);
	coffer_buf_release(&vcek);
}

static void
test_tsm__generation_race_and_bad_provider_are_errors(void **state)
{
	struct tsm t;
	uint8_t *ev = NULL, rd[64] = { 1, 2, 3, 4, 5 };
	size_t n;

	(void)state;
	/* Another writer bumped generation twice: the outblob may not be ours. */
	tsm_init(&t, "sev_guest\n", ATT "sev-snp/go-sev-guest/attestation.bin");
	memcpy(t.want, rd, 64);
	t.generation_after = "2\n";
	assert_int_equal(tsm_get(&t, rd, &ev, &n), COFFER_E_PROTO);
	assert_null(ev);
	tsm_done(&t);
	/* An unknown provider */
	tsm_init(&t, "arm_cca_guest\n", ATT "sev-snp/go-sev-guest/attestation.bin");
	memcpy(t.want, rd, 64);
	assert_int_equal(tsm_get(&t, rd, &ev, &n), COFFER_E_UNSUPPORTED);
	tsm_done(&t);
	/* The device answers with nothing (it saw other report data). */
	tsm_init(&t, "sev_guest\n", ATT "sev-snp/go-sev-guest/attestation.bin");
	memset(t.want, 0xee, 64);
	assert_int_equal(tsm_get(&t, rd, &ev, &n), COFFER_E_PROTO);
	tsm_done(&t);
	/* No configfs-tsm */
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_TSM, rd,
	    &(struct coffer_tee_backend_opts){ .device_root = "/nonexistent/tsm" }, &ev,
	    &n), COFFER_E_NOTFOUND);
}

static void
test_tsm__snp_cert_table_is_bounds_checked(void **state)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	uint8_t t[24 * 2 + 8];

	(void)state;
	memset(t, 0, sizeof(t));
	t[0] = 0x63;                /* an entry... */
	coffer_store_u32le(t + 16, 40);
	coffer_store_u32le(t + 20, 1000);  /* ...pointing past the end */
	assert_int_equal(tee_snp_cert_table_parse(t, sizeof(t), sk), COFFER_E_FORMAT);
	assert_int_equal(tee_snp_cert_table_parse(t, 10, sk), COFFER_E_FORMAT);
	memset(t, 0, sizeof(t));
	assert_int_equal(tee_snp_cert_table_parse(t, sizeof(t), sk), 0);
	assert_int_equal(sk_X509_num(sk), 0);
	sk_X509_free(sk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gramine__quote_for_the_written_report_data_verifies),
		cmocka_unit_test(test_gramine__device_answering_for_other_report_data_is_caught),
		cmocka_unit_test(test_gramine__errors_of_the_interface),
		cmocka_unit_test(test_tsm__tdx_quote_through_configfs_verifies),
		cmocka_unit_test(test_tsm__snp_report_with_vcek_in_auxblob_verifies),
		cmocka_unit_test(test_tsm__generation_race_and_bad_provider_are_errors),
		cmocka_unit_test(test_tsm__snp_cert_table_is_bounds_checked),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
