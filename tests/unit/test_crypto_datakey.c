// SPDX-License-Identifier: Apache-2.0
// Unit tests for data key files and key ids (src/crypto/datakey.c) and the
// secret-file rules they share with identities (src/crypto/keyfile.c).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "crypto/datakey.h"
#include "crypto/keyfile.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/file.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/coffer-dk.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
path(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void
write_file(const char *name, const char *text, mode_t mode)
{
	unlink(path(name));
	assert_int_equal(coffer_file_write_atomic(path(name), text, strlen(text),
	    mode, 0), 0);
	assert_int_equal(chmod(path(name), mode), 0);
}

/* doc/format/identity.md section 5 test vector. */
static void
test_datakey__key_id_vector_and_file_format(void **state)
{
	uint8_t key[32], id[16], back[32];
	char hex[33];
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(256);

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(coffer_datakey_id(key, id), 0);
	coffer_hex_encode(id, sizeof(id), hex);
	assert_string_equal(hex, "0365e1ebe93082f1a696d0198e9a8075");
	assert_int_equal(coffer_datakey_format(key, &b), 0);
	assert_string_equal(coffer_buf_str(&b),
	    "coffer-key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n");
	assert_int_equal(coffer_datakey_parse((const char *)b.data, b.len, back),
	    0);
	assert_memory_equal(back, key, 32);
	/* Without the final newline too. */
	assert_int_equal(coffer_datakey_parse((const char *)b.data, b.len - 1,
	    back), 0);
	coffer_buf_release(&b);
}

static void
test_datakey__save_load_round_trip_0600_no_overwrite(void **state)
{
	uint8_t key[32], back[32], other[32];
	struct stat st;

	(void)state;
	assert_int_equal(coffer_datakey_generate(key), 0);
	assert_int_equal(coffer_datakey_generate(other), 0);
	assert_memory_not_equal(key, other, 32);
	assert_int_equal(coffer_datakey_save(path("k"), key), 0);
	assert_int_equal(stat(path("k"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(coffer_datakey_load(path("k"), back), 0);
	assert_memory_equal(back, key, 32);
	/* Never overwritten. */
	assert_int_equal(coffer_datakey_save(path("k"), other), COFFER_E_EXISTS);
	assert_int_equal(coffer_datakey_load(path("k"), back), 0);
	assert_memory_equal(back, key, 32);
}

static void
test_datakey__rejects_malformed_files(void **state)
{
	static const struct {
		const char *text;
		int err;
		const char *detail;
	} bad[] = {
		{ "", COFFER_E_FORMAT, "not a data key file" },
		{ "coffer-key1:", COFFER_E_FORMAT, "43 base64url" },
		{ "coffer-key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n\n",
		  COFFER_E_FORMAT, "43 base64url" },
		{ "coffer-key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 \n",
		  COFFER_E_FORMAT, "43 base64url" },
		{ "coffer-key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh\n",
		  COFFER_E_FORMAT, "43 base64url" },
		{ "coffer-key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+\n",
		  COFFER_E_FORMAT, "base64" },
		{ "coffer-key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9\n",
		  COFFER_E_FORMAT, "non-canonical" },
		{ "coffer-key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\r\n",
		  COFFER_E_FORMAT, "43 base64url" },
		{ "coffer-key2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		  COFFER_E_VERSION, "coffer-key2" },
		{ "coffer-identity1\nname: x\n", COFFER_E_FORMAT, "identity file" },
		{ "COFFER-KEY1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		  COFFER_E_FORMAT, "not a data key file" },
	};
	uint8_t key[32], sentinel[32];

	(void)state;
	memset(sentinel, 0x5a, sizeof(sentinel));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(key, sentinel, 32);
		assert_int_equal(coffer_datakey_parse(bad[i].text, strlen(bad[i].text),
		    key), bad[i].err);
		if (strstr(coffer_errdetail(), bad[i].detail) == NULL)
			fail_msg("case %zu: detail '%s' lacks '%s'", i,
			    coffer_errdetail(), bad[i].detail);
		assert_memory_equal(key, sentinel, 32); /* untouched */
	}
}

static void
test_datakey__secret_files_must_be_private(void **state)
{
	static const char good[] =
	    "coffer-key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n";
	static const mode_t open_modes[] = { 0640, 0604, 0660, 0644, 0610, 0602 };
	uint8_t key[32];
	char big[COFFER_KEYFILE_MAX + 2];

	(void)state;
	write_file("g", good, 0600);
	assert_int_equal(coffer_datakey_load(path("g"), key), 0);
	write_file("r", good, 0400);
	assert_int_equal(coffer_datakey_load(path("r"), key), 0);
	for (size_t i = 0; i < sizeof(open_modes) / sizeof(open_modes[0]); i++) {
		write_file("o", good, open_modes[i]);
		assert_int_equal(coffer_datakey_load(path("o"), key), COFFER_E_PERM);
		assert_non_null(strstr(coffer_errdetail(), "chmod 600"));
	}
	assert_int_equal(coffer_datakey_load(path("missing"), key),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_datakey_load(dir, key), COFFER_E_IO);
	assert_non_null(strstr(coffer_errdetail(), "not a regular file"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file("big", big, 0600);
	assert_int_equal(coffer_datakey_load(path("big"), key), COFFER_E_LIMIT);
	write_file("bad", "coffer-key1:x\n", 0600);
	assert_int_equal(coffer_datakey_load(path("bad"), key), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), path("bad")));
	/* Exactly the maximum size is read (and then rejected as a format). */
	big[COFFER_KEYFILE_MAX] = '\0';
	write_file("max", big, 0600);
	assert_int_equal(coffer_datakey_load(path("max"), key), COFFER_E_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datakey__key_id_vector_and_file_format),
		cmocka_unit_test(test_datakey__save_load_round_trip_0600_no_overwrite),
		cmocka_unit_test(test_datakey__rejects_malformed_files),
		cmocka_unit_test(test_datakey__secret_files_must_be_private),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
