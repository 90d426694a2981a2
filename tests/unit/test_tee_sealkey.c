// SPDX-License-Identifier: Apache-2.0
// The sealing key of each backend (src/tee/sealkey.c): the sim key against
// the independent vectors (a given platform key and executable), bound to
// the measurement and the host; Gramine's key file through its label; the
// tsm refusals that can be shown without SEV-SNP or TDX hardware.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/file.h"
#include "../support/tmpdir.h"
#include "../support/vectors.h"

static void
put(const char *dir, const char *name, const void *data, size_t len, int mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* The sim key of host h and executable e, as the vectors define them. */
static void
sim_key(const json_t *v, struct coffer_tee_sealing *s, int *err)
{
	char dir[] = "/tmp/coffer-sealkey.XXXXXX", exe[600];
	const char *pem = vec_str(v, "pem"), *text = vec_str(v, "executable");
	const char *files[1] = { exe };
	struct coffer_tee_backend_opts o;

	assert_non_null(mkdtemp(dir));
	put(dir, "sim-platform.key", pem, strlen(pem), 0600);
	put(dir, "exe", text, strlen(text), 0700);
	snprintf(exe, sizeof(exe), "%s/exe", dir);
	memset(&o, 0, sizeof(o));
	o.sim_dir = dir;
	o.measure = files;
	o.n_measure = 1;
	*err = coffer_tee_sealing_key(COFFER_TEE_BACKEND_SIM, &o, s);
	assert_int_equal(test_rm_rf(dir), 0);
}

static void
test_sealkey__sim_matches_the_vectors_and_binds_host_and_measurement(void **state)
{
	struct coffer_tee_sealing s[4];
	uint8_t want[48];
	json_t *root = NULL, *v;
	size_t i;
	int err;

	(void)state;
	assert_int_equal(vec_load("state/sealed-state.json", &root), 0);
	json_array_foreach(json_object_get(root, "sim_sealing_key"), i, v) {
		assert_true(i < 4);
		sim_key(v, &s[i], &err);
		assert_int_equal(err, 0);
		assert_int_equal(s[i].backend, COFFER_TEE_BACKEND_SIM);
		assert_int_equal(vec_hex_exact(v, "measurement", want, 48), 0);
		assert_memory_equal(s[i].measurement, want, 48);
		assert_int_equal(vec_hex_exact(v, "platform", want, 32), 0);
		assert_memory_equal(s[i].platform, want, 32);
		assert_int_equal(vec_hex_exact(v, "sealing_key", want, 32), 0);
		assert_memory_equal(s[i].key, want, 32);
	}
	assert_int_equal(i, 4);
	/* Two hosts, two executables: four different keys. */
	for (i = 0; i < 4; i++)
		for (size_t j = 0; j < i; j++)
			assert_memory_not_equal(s[i].key, s[j].key, 32);
	for (i = 0; i < 4; i++)
		coffer_tee_sealing_wipe(&s[i]);
	json_decref(root);
}

static void
test_sealkey__sim_refuses_a_key_file_others_can_read(void **state)
{
	struct coffer_tee_sealing s;
	json_t *root = NULL, *v;
	char dir[] = "/tmp/coffer-sealkey.XXXXXX";
	struct coffer_tee_backend_opts o;
	const char *pem;

	(void)state;
	assert_int_equal(vec_load("state/sealed-state.json", &root), 0);
	v = json_array_get(json_object_get(root, "sim_sealing_key"), 0);
	pem = vec_str(v, "pem");
	assert_non_null(mkdtemp(dir));
	put(dir, "sim-platform.key", pem, strlen(pem), 0644);
	memset(&o, 0, sizeof(o));
	o.sim_dir = dir;
	assert_int_equal(coffer_tee_sealing_key(COFFER_TEE_BACKEND_SIM, &o, &s),
	    COFFER_E_PERM);
	assert_int_equal(test_rm_rf(dir), 0);
	json_decref(root);
}

static void
test_sealkey__gramine_key_goes_through_the_label(void **state)
{
	char dir[] = "/tmp/coffer-sealkey.XXXXXX", keys[600];
	uint8_t gk[16], mr[32], want[32], ti[512];
	struct coffer_tee_backend_opts o;
	struct coffer_tee_sealing s;
	json_t *root = NULL, *v;

	(void)state;
	assert_int_equal(vec_load("state/sealed-state.json", &root), 0);
	v = json_object_get(root, "sgx_sealing_key");
	assert_int_equal(vec_hex_exact(v, "gramine_key", gk, 16), 0);
	assert_int_equal(vec_hex_exact(v, "mrenclave", mr, 32), 0);
	assert_int_equal(vec_hex_exact(v, "sealing_key", want, 32), 0);
	assert_non_null(mkdtemp(dir));
	memset(&o, 0, sizeof(o));
	o.device_root = dir;
	/* No device at all: not in Gramine. */
	assert_int_equal(coffer_tee_sealing_key(COFFER_TEE_BACKEND_SGX_GRAMINE, &o,
	    &s), COFFER_E_NOTFOUND);
	memset(ti, 0xee, sizeof(ti));
	memcpy(ti, mr, 32);
	put(dir, "my_target_info", ti, sizeof(ti), 0600);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	assert_int_equal(mkdir(keys, 0700), 0);
	/* A short key file is the device breaking its interface. */
	put(dir, "keys/_sgx_mrenclave", gk, 15, 0600);
	assert_int_equal(coffer_tee_sealing_key(COFFER_TEE_BACKEND_SGX_GRAMINE, &o,
	    &s), COFFER_E_PROTO);
	put(dir, "keys/_sgx_mrenclave", gk, 16, 0600);
	assert_int_equal(coffer_tee_sealing_key(COFFER_TEE_BACKEND_SGX_GRAMINE, &o,
	    &s), 0);
	assert_memory_equal(s.key, want, 32);
	assert_memory_equal(s.measurement, mr, 32);
	for (int i = 32; i < 48; i++)
		assert_int_equal(s.measurement[i], 0);
	coffer_tee_sealing_wipe(&s);
	assert_int_equal(test_rm_rf(dir), 0);
	json_decref(root);
}

static void
test_sealkey__tsm_says_tdx_has_none_and_snp_needs_its_device(void **state)
{
	char dir[] = "/tmp/coffer-sealkey.XXXXXX";
	struct coffer_tee_backend_opts o;
	struct coffer_tee_sealing s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&o, 0, sizeof(o));
	o.device_root = dir;
	assert_int_equal(coffer_tee_sealing_key(COFFER_TEE_BACKEND_TSM, &o, &s),
	    COFFER_E_NOTFOUND);
	put(dir, "tdx_guest", "", 0, 0600);
	assert_int_equal(coffer_tee_sealing_key(COFFER_TEE_BACKEND_TSM, &o, &s),
	    COFFER_E_UNSUPPORTED);
	assert_non_null(strstr(coffer_errdetail(), "--recover"));
	/* A file that is not the SEV-SNP device: the ioctl fails, named. */
	put(dir, "sev-guest", "", 0, 0600);
	assert_int_equal(coffer_tee_sealing_key(COFFER_TEE_BACKEND_TSM, &o, &s),
	    COFFER_E_IO);
	assert_non_null(strstr(coffer_errdetail(), "SNP_GET_REPORT"));
	assert_int_equal(test_rm_rf(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sealkey__sim_matches_the_vectors_and_binds_host_and_measurement),
		cmocka_unit_test(test_sealkey__sim_refuses_a_key_file_others_can_read),
		cmocka_unit_test(test_sealkey__gramine_key_goes_through_the_label),
		cmocka_unit_test(test_sealkey__tsm_says_tdx_has_none_and_snp_needs_its_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
