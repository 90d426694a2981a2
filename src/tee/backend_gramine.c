// SPDX-License-Identifier: Apache-2.0
// The sgx-gramine backend: Gramine's /dev/attestation pseudo-files
// (Gramine documentation, "Attestation and Secret Provisioning",
// /dev/attestation interface): read attestation_type, write the 64-byte
// user_report_data, then read quote. Untested on SGX hardware: the tests
// reproduce the interface in a directory (doc/attestation.md).
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "tee/tee_int.h"

#define GRAMINE_ROOT "/dev/attestation"
#define QUOTE_MAX ((size_t)1 << 16)

/* Read a pseudo-file whole, whatever its type (Gramine's are not all
 * regular files; a test's may be a FIFO). */
static int
read_all(const char *path, size_t max, struct coffer_buf *b)
{
	uint8_t chunk[4096];
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "%s: %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = coffer_errf(COFFER_E_IO, "read %s: %s", path, strerror(errno));
			break;
		}
		if (b->len + (size_t)n > max) {
			r = coffer_errf(COFFER_E_LIMIT, "%s: more than %zu bytes", path, max);
			break;
		}
		if ((r = coffer_buf_put(b, chunk, (size_t)n)) != 0)
			break;
	}
	close(fd);
	return r;
}

int
tee_gramine_get(const char *root, const uint8_t report_data[64], struct coffer_buf *quote)
{
	struct coffer_buf type = COFFER_BUF_INIT(64);
	char path[4096];
	const char *t;
	size_t tl;
	int fd, r;

	if (root == NULL)
		root = GRAMINE_ROOT;
	snprintf(path, sizeof(path), "%s/attestation_type", root);
	if ((r = read_all(path, 32, &type)) != 0) {
		if (r == COFFER_E_NOTFOUND)
			r = coffer_errf(COFFER_E_NOTFOUND, "%s not found: not running "
			    "inside Gramine-SGX", path);
		goto out;
	}
	t = coffer_buf_str(&type);
	tl = type.len;
	while (tl > 0 && (t[tl - 1] == '\n' || t[tl - 1] == '\0'))
		tl--;
	if (tl == 4 && memcmp(t, "dcap", 4) == 0) {
		r = 0;
	} else if (tl == 4 && memcmp(t, "none", 4) == 0) {
		r = coffer_errf(COFFER_E_UNSUPPORTED, "Gramine's remote attestation is "
		    "off (sgx.remote_attestation = \"none\" in the manifest); set it "
		    "to \"dcap\"");
		goto out;
	} else if (tl == 4 && memcmp(t, "epid", 4) == 0) {
		r = coffer_errf(COFFER_E_UNSUPPORTED, "Gramine uses EPID attestation; "
		    "only DCAP (ECDSA) quotes are supported");
		goto out;
	} else {
		r = coffer_errf(COFFER_E_PROTO, "%s: unknown attestation type \"%.*s\"",
		    path, (int)tl, t);
		goto out;
	}
	/* Writing user_report_data makes Gramine take an SGX report with it;
	 * reading quote then returns the quote for that report. */
	snprintf(path, sizeof(path), "%s/user_report_data", root);
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0) {
		r = coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	r = coffer_write_all(fd, report_data, 64);
	if (close(fd) != 0 && r == 0)
		r = coffer_errf(COFFER_E_IO, "close %s: %s", path, strerror(errno));
	if (r != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/quote", root);
	if ((r = read_all(path, QUOTE_MAX, quote)) != 0)
		goto out;
	if (quote->len == 0)
		r = coffer_errf(COFFER_E_PROTO, "%s: empty quote", path);
out:
	coffer_buf_release(&type);
	return r;
}
