// SPDX-License-Identifier: Apache-2.0
// The INSECURE SIMULATION backend (src/tee/sim.c) and the evidence
// envelope (src/tee/envelope.c): generate, verify, and reject when the
// platform key is not trusted, the report data differs or a byte changed.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "crypto/hash.h"
#include "test_tee_common.h"
#include "tee/tee_int.h"

struct fixture {
	char dir[64], dir2[64], file1[96], file2[96];
};

static int
setup(void **state)
{
	static struct fixture f;
	FILE *fp;

	snprintf(f.dir, sizeof(f.dir), "/tmp/coffer-sim.XXXXXX");
	snprintf(f.dir2, sizeof(f.dir2), "/tmp/coffer-sim2.XXXXXX");
	if (mkdtemp(f.dir) == NULL || mkdtemp(f.dir2) == NULL)
		return -1;
	snprintf(f.file1, sizeof(f.file1), "%s/worker", f.dir);
	snprintf(f.file2, sizeof(f.file2), "%s/plugin.so", f.dir);
	if ((fp = fopen(f.file1, "w")) == NULL)
		return -1;
	fputs("#!/bin/sh\necho pretend worker\n", fp);
	fclose(fp);
	if ((fp = fopen(f.file2, "w")) == NULL)
		return -1;
	fputs("pretend plugin", fp);
	fclose(fp);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", f->dir, f->dir2);
	return system(cmd) == 0 ? 0 : -1;
}

static const uint8_t rd1[64] = "report data one: an X25519 key and a nonce";

static void
get_sim(struct fixture *f, const char *dir, const uint8_t rd[64], struct coffer_buf *out)
{
	const char *files[] = { f->file1, f->file2 };
	struct coffer_tee_backend_opts o = { dir, files, 2, NULL, NULL, NULL };
	uint8_t *ev = NULL;
	size_t n = 0;

	if (coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd, &o, &ev, &n) != 0)
		fail_msg("sim evidence: %s", coffer_errdetail());
	coffer_buf_reset(out);
	assert_int_equal(coffer_buf_put(out, ev, n), 0);
	free(ev);
}

static struct coffer_tee_anchors *
trusting(const char *dir)
{
	struct coffer_tee_anchors *a = NULL;
	char *pem = NULL;

	assert_int_equal(coffer_tee_anchors_new_default(&a), 0);
	if (dir != NULL) {
		assert_int_equal(coffer_tee_sim_public_key(dir, &pem), 0);
		assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
		assert_int_equal(coffer_tee_anchors_add_sim_key(a, pem, strlen(pem)), 0);
		free(pem);
	}
	return a;
}

static void
test_sim__generate_and_verify_with_trusted_key(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *a;
	struct coffer_tee_claims *c = NULL;
	struct coffer_tee_verify_opts o = { 0, rd1 };
	const char *files[] = { f->file1, f->file2 };
	uint8_t m[48];
	char path[128], *js = NULL;
	struct stat st;

	get_sim(f, f->dir, rd1, &ev);
	/* The envelope says what it is. */
	assert_non_null(strstr(coffer_buf_str(&ev), "INSECURE SIMULATION"));
	assert_non_null(strstr(coffer_buf_str(&ev), "\"tee\":\"sim\""));
	/* The platform key was made on first use, mode 0600. */
	snprintf(path, sizeof(path), "%s/sim-platform.key", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	a = trusting(f->dir);
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, a, NULL, 0, &o, &c), 0);
	assert_int_equal(c->verdict, COFFER_TEE_OK);
	assert_int_equal(c->tee, COFFER_TEE_SIM);
	assert_string_equal(coffer_tee_type_name(c->tee), "sim");
	assert_string_equal(c->backend, "sim");
	assert_true(c->debug);
	assert_memory_equal(c->report_data, rd1, 64);
	assert_int_equal(coffer_tee_sim_measure(files, 2, m), 0);
	assert_memory_equal(c->sim.measurement, m, 48);
	assert_true(coffer_tee_claims_has_reason(c, "sim.insecure"));
	assert_int_equal(coffer_tee_claims_json(c, &js), 0);
	assert_non_null(strstr(js, "INSECURE SIMULATION"));
	assert_non_null(strstr(js, "\"tee\":\"sim\""));
	free(js);
	coffer_tee_claims_free(c);
	coffer_tee_anchors_free(a);
	coffer_buf_release(&ev);
}

static void
test_sim__rejects_untrusted_key_and_other_report_data(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *none = trusting(NULL), *other = trusting(f->dir2),
	    *mine = trusting(f->dir);
	struct coffer_tee_claims *c = NULL;
	uint8_t rd2[64];

	get_sim(f, f->dir, rd1, &ev);
	/* Nobody trusts sim keys by default. */
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, none, NULL, 0, NULL, &c),
	    COFFER_E_UNTRUSTED);
	assert_int_equal(c->verdict, COFFER_TEE_REJECTED);
	assert_true(tt_fatal_are(c, "sim.untrusted_key"));
	coffer_tee_claims_free(c);
	/* Another host's key is not this one. */
	c = NULL;
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, other, NULL, 0, NULL, &c),
	    COFFER_E_UNTRUSTED);
	coffer_tee_claims_free(c);
	/* Report data other than expected (a replay, another nonce). */
	memcpy(rd2, rd1, 64);
	rd2[63] ^= 1;
	c = NULL;
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, mine, NULL, 0,
	    &(struct coffer_tee_verify_opts){ 0, rd2 }, &c), COFFER_E_POLICY);
	assert_true(tt_fatal_are(c, "report_data.mismatch"));
	coffer_tee_claims_free(c);
	coffer_tee_anchors_free(none);
	coffer_tee_anchors_free(other);
	coffer_tee_anchors_free(mine);
	coffer_buf_release(&ev);
}

static void
test_sim__tampered_evidence_fails(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20), env2 = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *a = trusting(f->dir);
	struct tee_envelope e;
	size_t offs[] = { 0x18, 0x47, 0x48, 0x87, 0xE9, 0x120, 0x148 };

	get_sim(f, f->dir, rd1, &ev);
	assert_int_equal(tee_envelope_parse(ev.data, ev.len, &e), 0);
	assert_int_equal(e.evidence.len, TEE_SIM_LEN);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		struct coffer_tee_claims *c = NULL;
		int rc;

		e.evidence.data[offs[i]] ^= 1;
		coffer_buf_reset(&env2);
		assert_int_equal(tee_envelope_write("sim", "sim", NULL, e.evidence.data,
		    e.evidence.len, NULL, &env2), 0);
		rc = coffer_tee_verify(env2.data, env2.len, a, NULL, 0, NULL, &c);
		if (rc == 0)
			fail_msg("sim evidence with byte 0x%zx flipped verifies", offs[i]);
		coffer_tee_claims_free(c);
		e.evidence.data[offs[i]] ^= 1;
	}
	/* Raw sim evidence (no envelope) is recognised too. */
	{
		struct coffer_tee_claims *c = NULL;

		assert_int_equal(coffer_tee_verify(e.evidence.data, e.evidence.len, a,
		    NULL, 0, NULL, &c), 0);
		coffer_tee_claims_free(c);
	}
	tee_envelope_release(&e);
	coffer_tee_anchors_free(a);
	coffer_buf_release(&ev);
	coffer_buf_release(&env2);
}

static void
test_sim__measurement_is_sha384_of_file_digests(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->file1, f->file2 };
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20), cat = COFFER_BUF_INIT(1 << 20);
	uint8_t m[48], want[48], d[48];

	/* doc/format/evidence.md: SHA-384("coffer-sim-measurement-v1" 0x00 ||
	 * SHA-384(file 1) || SHA-384(file 2) ...) */
	assert_int_equal(coffer_buf_put(&cat, "coffer-sim-measurement-v1", 26), 0);
	for (int i = 0; i < 2; i++) {
		coffer_buf_reset(&b);
		assert_int_equal(coffer_file_read(files[i], 1 << 20, &b), 0);
		assert_int_equal(coffer_sha384(b.data, b.len, d), 0);
		assert_int_equal(coffer_buf_put(&cat, d, 48), 0);
	}
	assert_int_equal(coffer_sha384(cat.data, cat.len, want), 0);
	assert_int_equal(coffer_tee_sim_measure(files, 2, m), 0);
	assert_memory_equal(m, want, 48);
	/* order matters */
	{
		const char *rev[] = { f->file2, f->file1 };

		assert_int_equal(coffer_tee_sim_measure(rev, 2, m), 0);
		assert_memory_not_equal(m, want, 48);
	}
	{
		const char *missing[] = { "/nonexistent/exe" };

		assert_int_equal(coffer_tee_sim_measure(missing, 1, m), COFFER_E_NOTFOUND);
	}
	coffer_buf_release(&b);
	coffer_buf_release(&cat);
}

static void
test_sim__refuses_a_key_file_others_can_read(void **state)
{
	struct fixture *f = *state;
	char path[128], *pem = NULL;
	uint8_t *ev = NULL;
	size_t n;

	snprintf(path, sizeof(path), "%s/sim-platform.key", f->dir2);
	assert_int_equal(coffer_tee_sim_public_key(f->dir2, &pem), 0);
	free(pem);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd1,
	    &(struct coffer_tee_backend_opts){ f->dir2, NULL, 0, NULL, NULL, NULL },
	    &ev, &n), COFFER_E_PERM);
	assert_null(ev);
	assert_int_equal(chmod(path, 0600), 0);
}

static void
test_envelope__rejects_inconsistent_envelopes(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20), bad = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *a = trusting(f->dir);
	struct tee_envelope e;
	struct coffer_tee_claims *c = NULL;
	static const char *const junk[] = {
		"{\"type\":\"coffer-evidence\",\"version\":2,\"tee\":\"sim\"}",
		"{\"type\":\"other\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"x\",\"evidence\":\"AA\"}",
		"{\"type\":\"coffer-evidence\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"x\",\"evidence\":\"AA\",\"extra\":1}",
		"{\"type\":\"coffer-evidence\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"x\",\"evidence\":\"!!\"}",
		"{\"type\":\"coffer-evidence\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"x\",\"evidence\":\"AA\",\"certs\":[\"AA\"]}",
		"{\"type\":\"coffer-evidence\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"X Y\",\"evidence\":\"AA\"}",
		"[1,2,3]",
	};

	get_sim(f, f->dir, rd1, &ev);
	assert_int_equal(tee_envelope_parse(ev.data, ev.len, &e), 0);
	/* sim evidence under another tee name */
	assert_int_equal(tee_envelope_write("sgx", "sim", NULL, e.evidence.data,
	    e.evidence.len, NULL, &bad), 0);
	assert_int_equal(coffer_tee_verify(bad.data, bad.len, a, NULL, 0, NULL, &c),
	    COFFER_E_FORMAT);
	assert_null(c);
	/* a sim envelope without its warning */
	{
		char *s = strdup(coffer_buf_str(&ev)), *w = strstr(s, ",\"warning\"");

		assert_non_null(w);
		memcpy(w, "}\n", 3);
		assert_int_equal(coffer_tee_verify((uint8_t *)s, strlen(s), a, NULL, 0,
		    NULL, &c), COFFER_E_FORMAT);
		free(s);
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		int rc = coffer_tee_verify((const uint8_t *)junk[i], strlen(junk[i]), a,
		    NULL, 0, NULL, &c);

		if (rc == 0 || c != NULL)
			fail_msg("junk envelope %zu accepted", i);
	}
	tee_envelope_release(&e);
	coffer_tee_anchors_free(a);
	coffer_buf_release(&ev);
	coffer_buf_release(&bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim__generate_and_verify_with_trusted_key),
		cmocka_unit_test(test_sim__rejects_untrusted_key_and_other_report_data),
		cmocka_unit_test(test_sim__tampered_evidence_fails),
		cmocka_unit_test(test_sim__measurement_is_sha384_of_file_digests),
		cmocka_unit_test(test_sim__refuses_a_key_file_others_can_read),
		cmocka_unit_test(test_envelope__rejects_inconsistent_envelopes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
