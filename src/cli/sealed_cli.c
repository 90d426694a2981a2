// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the sealed-data commands (cli/sealed_cli.h): input and
// output checks done before any work, so a refused command writes nothing;
// and the after-the-fact checks (stdout, directory sync) and escaped file
// names that `coffer key` and `coffer id` use too.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/buf.h"
#include "lib/file.h"

#include "cli/sealed_cli.h"
#include "crypto/datakey.h"
#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/utf8.h"

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

void
sealed_cli_print_cpu(FILE *f, const struct coffer_sealed_info *info)
{
	if (info->threads == 2)
		fprintf(f, "%-12s %.3f s on this thread, %.3f s on the second "
		    "(each does whichever task is due)\n", "cpu", info->cpu_s[0],
		    info->cpu_s[1]);
	else
		fprintf(f, "%-12s %.3f s\n", "cpu", info->cpu_s[0]);
}

int
sealed_cli_parse_threads(const char *s, int *out)
{
	if (strcmp(s, "auto") == 0)
		*out = 0;
	else if (strcmp(s, "1") == 0)
		*out = 1;
	else if (strcmp(s, "2") == 0)
		*out = 2;
	else
		return coffer_errf(COFFER_E_INVAL,
		    "threads '%s': expected auto, 1 or 2", s);
	return 0;
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

int
sealed_cli_check_stdout(const char *written, const char *what)
{
	int e = 0;

	errno = 0;
	if (fflush(stdout) != 0)
		e = errno != 0 ? errno : EIO;
	else if (ferror(stdout))
		e = EIO;
	if (e == 0)
		return 0;
	if (written != NULL)
		return coffer_errf(COFFER_E_IO, "%s was written, but %s could not "
		    "be printed: standard output: %s", written, what, strerror(e));
	return coffer_errf(COFFER_E_IO, "%s could not be printed: standard "
	    "output: %s", what, strerror(e));
}

int
sealed_cli_check_synced(const char *path)
{
	int e = coffer_atomic_unsynced();

	if (e == 0)
		return 0;
	return coffer_errf(COFFER_E_IO, "%s was written and is complete, but "
	    "syncing its directory failed (%s): it may be lost if the system "
	    "crashes before the directory is written back (run sync)", path,
	    strerror(e));
}

void
sealed_cli_put_name(FILE *f, const char *name)
{
	const char *p = name, *end = name + strlen(name);

	while (p < end) {
		uint32_t cp = 0;
		size_t n = coffer_utf8_decode(p, (size_t)(end - p), &cp);

		if (n == 1 && *p == '\\') {
			fputs("\\\\", f);
		} else if (n == 1 && *p == '\n') {
			fputs("\\n", f);
		} else if (n == 1 && *p == '\r') {
			fputs("\\r", f);
		} else if (n == 1 && *p == '\t') {
			fputs("\\t", f);
		} else if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			/* A control character or a byte outside valid UTF-8. */
			size_t k = n == 0 ? 1 : n;

			for (size_t i = 0; i < k; i++)
				fprintf(f, "\\x%02x", (unsigned char)p[i]);
			p += k;
			continue;
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
	}
}

/* name as a JSON string: valid UTF-8 as is (jansson escapes the control
 * characters), each byte outside valid UTF-8 replaced by U+FFFD, so the
 * member is never dropped (json_string refuses invalid UTF-8). */
static json_t *
json_name(const char *name)
{
	struct coffer_buf b = COFFER_BUF_INIT(3 * strlen(name) + 1);
	const char *p = name, *end = name + strlen(name);
	json_t *j = NULL;

	while (p < end) {
		size_t n = coffer_utf8_seq(p, (size_t)(end - p));

		if (n == 0) {
			if (coffer_buf_put(&b, "\xef\xbf\xbd", 3) != 0)
				goto out;
			p++;
		} else {
			if (coffer_buf_put(&b, p, n) != 0)
				goto out;
			p += n;
		}
	}
	j = json_stringn(coffer_buf_str(&b), b.len);
out:
	coffer_buf_release(&b);
	return j;
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
			json_object_set_new(o, "input", json_name(in));
		if (out != NULL)
			json_object_set_new(o, "output", json_name(out));
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
		if (info->threads > 0)
			json_object_set_new(o, "threads", json_integer(info->threads));
		if (verified >= 0)
			json_object_set_new(o, "verified", json_boolean(verified));
		json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', f);
		json_decref(o);
		return;
	}
	if (in != NULL) {
		fprintf(f, "%-12s ", "input");
		sealed_cli_put_name(f, in);
		fputc('\n', f);
	}
	if (out != NULL) {
		fprintf(f, "%-12s ", "output");
		sealed_cli_put_name(f, out);
		fputc('\n', f);
	}
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
	if (info->threads == 2)
		fprintf(f, "%-12s 2 (reading, AEAD, digest and writes shared by "
		    "two threads)\n", "threads");
	else if (info->threads == 1)
		fprintf(f, "%-12s 1 (AEAD and digest one after the other)\n",
		    "threads");
	if (verified == 1)
		fprintf(f, "%-12s yes (every chunk, and the end of the stream)\n",
		    "verified");
	else if (verified == 0)
		fprintf(f, "%-12s no (inspect needs no key and checks only the "
		    "structure; coffer open verifies)\n", "verified");
}

int
sealed_cli_load_key(const char *path, uint8_t key[32])
{
	static const char magic[8] = "\x89" "COFFER\n";
	static const char kprefix[10] = "coffer-key";
	char head[10];
	struct stat st;
	ssize_t n = -1;
	int fd, r;

	if ((r = coffer_datakey_load(path, key)) == 0)
		return 0;
	/* The first bytes of a sealed file, or of a key file, are not
	 * secret (inspect shows them to anyone): peek at a regular file,
	 * to say what is wrong. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			n = read(fd, head, sizeof(head));
		close(fd);
	}
	if (n >= (ssize_t)sizeof(magic) && memcmp(head, magic, sizeof(magic)) == 0)
		return coffer_errf(COFFER_E_INVAL, "%s is a sealed file, not a key: "
		    "give the key file that 'coffer key new' made", path);
	/* A data file readable by others (a CSV, say) was refused for its
	 * permissions, with advice to chmod 600 it: say what it is not. */
	if (r == COFFER_E_PERM && n >= 0 && (n < (ssize_t)sizeof(kprefix) ||
	    memcmp(head, kprefix, sizeof(kprefix)) != 0))
		return coffer_errf(COFFER_E_INVAL, "%s is not a data key file (one "
		    "starts with 'coffer-key1:'): give the key file that 'coffer "
		    "key new' made", path);
	return r;
}

/* The note a signal prints while OUT is being written: built before,
 * written with write(2) alone (async-signal-safe) by the handler. */
static char intr_note[512];
static volatile sig_atomic_t intr_len;
static const int intr_signals[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction intr_prev[3];
static int intr_armed;

static void
on_interrupt(int sig)
{
	int e = errno;
	size_t i;

	if (intr_len > 0 && write(STDERR_FILENO, intr_note, (size_t)intr_len) < 0) {
		/* nothing else to say it with */
	}
	errno = e;
	for (i = 0; i < 3 && intr_signals[i] != sig; i++)
		;
	/* The handler main() installed removes the temporary file and
	 * re-raises; without one, die of the signal here. */
	if (i < 3 && (intr_prev[i].sa_flags & SA_SIGINFO) == 0 &&
	    intr_prev[i].sa_handler != SIG_DFL && intr_prev[i].sa_handler != SIG_IGN) {
		intr_prev[i].sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void
sealed_cli_interrupt_arm(const char *cmd, const char *out)
{
	struct sigaction sa;
	FILE *f;
	long n;

	intr_len = 0;
	if ((f = fmemopen(intr_note, sizeof(intr_note), "w")) == NULL)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	if (out != NULL) {
		fprintf(f, "coffer %s: interrupted: nothing written to ", cmd);
		sealed_cli_put_name(f, out);
		fputc('\n', f);
	} else {
		fprintf(f, "coffer %s: interrupted: what went to standard output is "
		    "incomplete\n", cmd);
	}
	n = ftell(f);
	fclose(f);
	/* A name too long for the buffer: no note rather than a cut one. */
	if (n <= 0 || (size_t)n >= sizeof(intr_note) - 1 || intr_note[n - 1] != '\n')
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 3; i++)
		sigaddset(&sa.sa_mask, intr_signals[i]);
	for (size_t i = 0; i < 3; i++) {
		if (sigaction(intr_signals[i], NULL, &intr_prev[i]) != 0 ||
		    ((intr_prev[i].sa_flags & SA_SIGINFO) == 0 &&
		    intr_prev[i].sa_handler == SIG_IGN))
			continue;
		(void)sigaction(intr_signals[i], &sa, NULL);
	}
	intr_armed = 1;
	intr_len = (sig_atomic_t)n;
}

void
sealed_cli_interrupt_disarm(void)
{
	struct sigaction cur;

	intr_len = 0;
	if (!intr_armed)
		return;
	for (size_t i = 0; i < 3; i++)
		if (sigaction(intr_signals[i], NULL, &cur) == 0 &&
		    (cur.sa_flags & SA_SIGINFO) == 0 && cur.sa_handler == on_interrupt)
			(void)sigaction(intr_signals[i], &intr_prev[i], NULL);
	intr_armed = 0;
}
