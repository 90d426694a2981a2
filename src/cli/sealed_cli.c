// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the sealed-data commands (cli/sealed_cli.h): input and
// output checks done before any work, so a refused command writes nothing.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/sealed_cli.h"
#include "coffer/error.h"
#include "lib/enc.h"

static const char *
kind_of(mode_t m)
{
	if (S_ISDIR(m)) return "a directory";
	if (S_ISCHR(m)) return "a character device";
	if (S_ISBLK(m)) return "a block device";
	if (S_ISSOCK(m)) return "a socket";
	if (S_ISLNK(m)) return "a symbolic link";
	if (S_ISFIFO(m)) return "a pipe";
	return "not a regular file";
}

int
sealed_cli_open_input(const char *path, int *fd)
{
	struct stat st, st2;
	int f;

	if (strcmp(path, "-") == 0) {
		*fd = STDIN_FILENO;
		return 0;
	}
	/* stat first: opening a device may have side effects. */
	if (stat(path, &st) != 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		return coffer_errf(COFFER_E_IO,
		    "%s: not a regular file (it is %s); use '-' and a redirection "
		    "to read a stream", path, kind_of(st.st_mode));
	if ((f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND :
		    errno == EACCES ? COFFER_E_PERM : COFFER_E_IO,
		    "%s: %s", path, strerror(errno));
	/* The path may have been swapped between stat and open. */
	if (fstat(f, &st2) != 0 ||
	    (!S_ISREG(st2.st_mode) && !S_ISFIFO(st2.st_mode))) {
		close(f);
		return coffer_errf(COFFER_E_IO, "%s: not a regular file", path);
	}
	*fd = f;
	return 0;
}

int
sealed_cli_check_output(const char *path, int force)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return 0;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return coffer_errf(COFFER_E_IO,
		    "%s exists and is %s; refusing to replace it (write to '-' "
		    "and redirect instead)", path, kind_of(st.st_mode));
	if (!force)
		return coffer_errf(COFFER_E_EXISTS,
		    "%s already exists (use --force to replace it)", path);
	return 0;
}

/* A copy of the temporary file's path, set once it exists and cleared
 * once it is renamed or removed; the handler may only make
 * async-signal-safe calls. */
static char guard_path[PATH_MAX];
static volatile sig_atomic_t guarded;

static void
on_signal(int sig)
{
	if (guarded)
		unlink(guard_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

void
sealed_cli_guard(const char *path)
{
	struct sigaction sa;

	if (strlen(path) >= sizeof(guard_path))
		return;
	guarded = 0;
	memcpy(guard_path, path, strlen(path) + 1);
	guarded = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void
sealed_cli_unguard(void)
{
	guarded = 0;
}

int
sealed_cli_parse_size(const char *s, uint32_t *out)
{
	char *end = NULL;
	unsigned long long v;
	unsigned long long mul = 1;

	errno = 0;
	if (s[0] < '0' || s[0] > '9' ||
	    (v = strtoull(s, &end, 10), errno != 0))
		goto bad;
	if (strcmp(end, "") == 0)
		mul = 1;
	else if (strcmp(end, "K") == 0 || strcmp(end, "k") == 0 ||
	    strcmp(end, "KiB") == 0)
		mul = 1024;
	else if (strcmp(end, "M") == 0 || strcmp(end, "m") == 0 ||
	    strcmp(end, "MiB") == 0)
		mul = 1024 * 1024;
	else
		goto bad;
	if (v > UINT32_MAX / mul)
		goto bad;
	*out = (uint32_t)(v * mul);
	return 0;
bad:
	return coffer_errf(COFFER_E_INVAL,
	    "chunk size '%s': expected a number of bytes, optionally with K or M",
	    s);
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	coffer_hex_encode(p, n, out);
}

void
sealed_cli_print(FILE *f, int json, const char *in, const char *out,
    const struct coffer_sealed_info *info, int verified)
{
	char kid[2 * COFFER_SEALED_KEY_ID_LEN + 1];
	char salt[2 * COFFER_SEALED_SALT_LEN + 1];
	char commit[2 * COFFER_SEALED_COMMIT_LEN + 1];
	char digest[sizeof("sha256:") + 2 * COFFER_SEALED_DIGEST_LEN];
	const char *suite = coffer_sealed_suite_name(info->suite);

	hex(info->key_id, sizeof(info->key_id), kid);
	hex(info->salt, sizeof(info->salt), salt);
	hex(info->commitment, sizeof(info->commitment), commit);
	memcpy(digest, "sha256:", 7);
	hex(info->digest, sizeof(info->digest), digest + 7);
	if (suite == NULL)
		suite = "unknown";

	if (json) {
		json_t *o = json_object();

		if (o == NULL)
			return;
		if (in != NULL)
			json_object_set_new(o, "input", json_string(in));
		if (out != NULL)
			json_object_set_new(o, "output", json_string(out));
		json_object_set_new(o, "format", json_string("coffer-sealed"));
		json_object_set_new(o, "version", json_integer(info->version));
		json_object_set_new(o, "suite", json_string(suite));
		json_object_set_new(o, "suite_id", json_integer(info->suite));
		json_object_set_new(o, "chunk_size", json_integer(info->chunk_size));
		json_object_set_new(o, "key_id", json_string(kid));
		json_object_set_new(o, "salt", json_string(salt));
		json_object_set_new(o, "commitment", json_string(commit));
		json_object_set_new(o, "chunks", json_integer((json_int_t)info->chunks));
		json_object_set_new(o, "plaintext_size",
		    json_integer((json_int_t)info->plaintext_size));
		json_object_set_new(o, "sealed_size",
		    json_integer((json_int_t)info->sealed_size));
		if (info->has_digest)
			json_object_set_new(o, "digest", json_string(digest));
		if (verified >= 0)
			json_object_set_new(o, "verified", json_boolean(verified));
		json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', f);
		json_decref(o);
		return;
	}
	if (in != NULL)
		fprintf(f, "%-12s %s\n", "input", in);
	if (out != NULL)
		fprintf(f, "%-12s %s\n", "output", out);
	fprintf(f, "%-12s coffer sealed v%u\n", "format", info->version);
	fprintf(f, "%-12s %s\n", "suite", suite);
	fprintf(f, "%-12s %u\n", "chunk-size", info->chunk_size);
	fprintf(f, "%-12s %s\n", "key-id", kid);
	fprintf(f, "%-12s %s\n", "salt", salt);
	fprintf(f, "%-12s %s\n", "commitment", commit);
	fprintf(f, "%-12s %llu\n", "chunks", (unsigned long long)info->chunks);
	fprintf(f, "%-12s %llu bytes\n", "plaintext",
	    (unsigned long long)info->plaintext_size);
	fprintf(f, "%-12s %llu bytes\n", "sealed",
	    (unsigned long long)info->sealed_size);
	if (info->has_digest)
		fprintf(f, "%-12s %s\n", "digest", digest);
	if (verified == 1)
		fprintf(f, "%-12s yes (every chunk, and the end of the stream)\n",
		    "verified");
	else if (verified == 0)
		fprintf(f, "%-12s no (inspect needs no key and checks only the "
		    "structure; coffer open verifies)\n", "verified");
}
