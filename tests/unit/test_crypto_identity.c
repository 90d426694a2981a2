// SPDX-License-Identifier: Apache-2.0
// Unit tests for party identities (src/crypto/identity*.c): the documented
// test vector, round trips, and every rejection of doc/format/identity.md
// sections 2 and 3.
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
#include "crypto/identity.h"
#include "crypto/sign.h"
#include "lib/buf.h"
#include "lib/enc.h"

#define VLINE "coffer-id1:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURqFIPAJiTCnVH" \
	"SLfdy0PvdaDb86DSY4GvTrpKmOqptOag:alice:BscHCNfz"
#define VFILE "coffer-identity1\nname: alice\n" \
	"ed25519-secret: nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n" \
	"x25519-secret: dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo\n" \
	"public: " VLINE "\n"

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t got;

	assert_int_equal(coffer_hex_decode(s, strlen(s), out, n, &got), 0);
	assert_int_equal(got, n);
}

/* doc/format/identity.md section 2 and 3 examples. */
static void
test_identity__documented_vector(void **state)
{
	struct coffer_identity id;
	struct coffer_identity_public p;
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(4096);
	char fp[COFFER_ID_FINGERPRINT_HEX];
	uint8_t want_ed[32], want_x[32];

	(void)state;
	unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	    want_ed, 32);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    want_x, 32);
	assert_int_equal(coffer_identity_parse_public(VLINE, strlen(VLINE), &p), 0);
	assert_string_equal(p.name, "alice");
	assert_memory_equal(p.sign_pk, want_ed, 32);
	assert_memory_equal(p.kx_pk, want_x, 32);
	assert_int_equal(coffer_identity_fingerprint(&p, fp), 0);
	assert_string_equal(fp,
	    "422e8dd4b8aed6b9cf40567efd79e9a4d5fb85412857331a2a9764e54add39f4");
	assert_int_equal(coffer_identity_parse_secret(VFILE, strlen(VFILE), &id),
	    0);
	assert_memory_equal(&id.pub, &p, sizeof(p));
	/* Formatting gives back the same bytes. */
	assert_int_equal(coffer_identity_format_secret(&id, &b), 0);
	assert_string_equal(coffer_buf_str(&b), VFILE);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_identity_format_public(&p, &b), 0);
	assert_string_equal(coffer_buf_str(&b), VLINE);
	coffer_identity_wipe(&id);
	coffer_buf_release(&b);
}

static void
test_identity__generate_save_load_and_use(void **state)
{
	char dir[64], file[96];
	struct coffer_identity id, back;
	struct stat st;
	uint8_t sig[64];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/coffer-id.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/me.id", dir);
	assert_int_equal(coffer_identity_generate("bob@site-b", &id), 0);
	assert_int_equal(coffer_identity_save(file, &id), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(coffer_identity_save(file, &id), COFFER_E_EXISTS);
	assert_int_equal(coffer_identity_load(file, &back), 0);
	assert_memory_equal(&back, &id, sizeof(id));
	/* The keys work: sign with the loaded secret, verify with the public. */
	assert_int_equal(coffer_sign(back.sign_sk, "m", 1, sig), 0);
	assert_int_equal(coffer_sign_verify(id.pub.sign_pk, "m", 1, sig, 64), 0);
	assert_int_equal(chmod(file, 0640), 0);
	assert_int_equal(coffer_identity_load(file, &back), COFFER_E_PERM);
	/* Empty name. */
	assert_int_equal(coffer_identity_generate(NULL, &id), 0);
	assert_string_equal(id.pub.name, "");
	assert_int_equal(coffer_identity_generate("bad name", &id), COFFER_E_INVAL);
	assert_int_equal(coffer_identity_generate(
	    "a23456789012345678901234567890123456789012345678901234567890123456",
	    &id), COFFER_E_INVAL);
	coffer_identity_wipe(&id);
	coffer_identity_wipe(&back);
	unlink(file);
	rmdir(dir);
}

static int
parse_line(const char *s)
{
	struct coffer_identity_public p;

	memset(&p, 0x77, sizeof(p));
	int r = coffer_identity_parse_public(s, strlen(s), &p);

	if (r != 0)
		for (size_t i = 0; i < sizeof(p); i++)
			assert_int_equal(((uint8_t *)&p)[i], 0x77);
	return r;
}

static void
test_identity__public_line_rejections(void **state)
{
	char line[256];
	size_t n = strlen(VLINE);

	(void)state;
	assert_int_equal(parse_line(VLINE), 0);
	/* Every single-character change is caught (checksum or structure). */
	for (size_t i = 0; i < n; i++) {
		static const char subst[] = "Aa0_-:.@";

		for (size_t k = 0; k < sizeof(subst) - 1; k++) {
			memcpy(line, VLINE, n + 1);
			if (line[i] == subst[k])
				continue;
			line[i] = subst[k];
			if (parse_line(line) == 0)
				fail_msg("changed line accepted: %s", line);
		}
	}
	/* Transposed neighbours. */
	for (size_t i = 0; i + 1 < n; i++) {
		memcpy(line, VLINE, n + 1);
		if (line[i] == line[i + 1])
			continue;
		line[i] = VLINE[i + 1];
		line[i + 1] = VLINE[i];
		assert_int_not_equal(parse_line(line), 0);
	}
	/* Specific errors and their details. */
	assert_int_equal(parse_line(""), COFFER_E_FORMAT);
	assert_int_equal(parse_line("coffer-id2:abc:x:y"), COFFER_E_VERSION);
	assert_int_equal(parse_line(" " VLINE), COFFER_E_FORMAT);
	assert_int_equal(parse_line(VLINE "\n"), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "check field"));
	assert_int_equal(parse_line(VLINE ":"), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "four fields"));
	assert_int_equal(parse_line("coffer-id1:abc:alice:BscHCNfz"),
	    COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "keys field"));
	/* The name: a change is caught by the checksum; a bad char first. */
	snprintf(line, sizeof(line), "%s", VLINE);
	memcpy(strstr(line, ":alice:") + 1, "alicE", 5);
	assert_int_equal(parse_line(line), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "checksum"));
	memcpy(strstr(line, ":alicE:") + 1, "al ce", 5);
	assert_int_equal(parse_line(line), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "not allowed"));
	/* A small-order X25519 key, with a correct checksum. */
	{
		struct coffer_identity_public p;
		struct coffer_buf b = COFFER_BUF_INIT(256);

		assert_int_equal(coffer_identity_parse_public(VLINE, n, &p), 0);
		memset(p.kx_pk, 0, 32);
		assert_int_equal(coffer_identity_format_public(&p, &b), 0);
		assert_int_equal(parse_line(coffer_buf_str(&b)), COFFER_E_FORMAT);
		assert_non_null(strstr(coffer_errdetail(), "small order"));
		coffer_buf_release(&b);
	}
}

static int
parse_file(const char *s)
{
	struct coffer_identity id;

	return coffer_identity_parse_secret(s, strlen(s), &id);
}

static void
test_identity__secret_file_rejections(void **state)
{
	static const struct {
		const char *from, *to;
		int err;
		const char *detail;
	} edits[] = {
		{ "coffer-identity1\n", "coffer-identity2\n", COFFER_E_VERSION,
		  "coffer-identity2" },
		{ "coffer-identity1\n", "coffer-identity\n", COFFER_E_FORMAT,
		  "first line" },
		{ "name: alice\n", "name: bob\n", COFFER_E_FORMAT, "does not match" },
		{ "name: alice\n", "name:alice\n", COFFER_E_FORMAT, "line 2" },
		{ "name: alice\n", "name: al ice\n", COFFER_E_FORMAT, "not allowed" },
		{ "name: alice\n", "Name: alice\n", COFFER_E_FORMAT, "line 2" },
		{ "ed25519-secret: nW", "ed25519-secret: mW", COFFER_E_FORMAT,
		  "does not match" },
		{ "ed25519-secret: nW", "ed25519-secret:  nW", COFFER_E_FORMAT,
		  "line 3" },
		{ "x25519-secret: dw", "x25519-secret: dx", COFFER_E_FORMAT,
		  "does not match" },
		{ "x25519-secret: dw", "x25519-secret: d+", COFFER_E_FORMAT,
		  "line 4" },
		{ "\nx25519-secret", "\n\nx25519-secret", COFFER_E_FORMAT, "line 4" },
		{ "BscHCNfz\n", "BscHCNfz", COFFER_E_FORMAT, "line 5" },
		{ "BscHCNfz\n", "BscHCNfz\n\n", COFFER_E_FORMAT, "after line 5" },
		{ "BscHCNfz\n", "BscHCNfz\r\n", COFFER_E_FORMAT, "0x0d" },
		{ "name: alice\n", "name: alice\t\n", COFFER_E_FORMAT, "0x09" },
		{ "public: ", "public:  ", COFFER_E_FORMAT, "does not match" },
		{ "coffer-identity1\n", "coffer-key1:", COFFER_E_FORMAT,
		  "data key file" },
	};
	char buf[1024];

	(void)state;
	assert_int_equal(parse_file(VFILE), 0);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const char *at = strstr(VFILE, edits[i].from);
		size_t pre;

		assert_non_null(at);
		pre = (size_t)(at - VFILE);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)pre, VFILE, edits[i].to,
		    at + strlen(edits[i].from));
		assert_int_equal(parse_file(buf), edits[i].err);
		if (strstr(coffer_errdetail(), edits[i].detail) == NULL)
			fail_msg("edit %zu: detail '%s' lacks '%s'", i,
			    coffer_errdetail(), edits[i].detail);
	}
	/* Every truncation fails. */
	for (size_t n = 0; n < strlen(VFILE); n++) {
		struct coffer_identity id;

		assert_int_not_equal(coffer_identity_parse_secret(VFILE, n, &id), 0);
	}
	/* Swapped lines 3 and 4. */
	snprintf(buf, sizeof(buf), "coffer-identity1\nname: alice\n"
	    "x25519-secret: dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo\n"
	    "ed25519-secret: nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n"
	    "public: " VLINE "\n");
	assert_int_equal(parse_file(buf), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "line 3"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity__documented_vector),
		cmocka_unit_test(test_identity__generate_save_load_and_use),
		cmocka_unit_test(test_identity__public_line_rejections),
		cmocka_unit_test(test_identity__secret_file_rejections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
