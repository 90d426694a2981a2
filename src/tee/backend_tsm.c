// SPDX-License-Identifier: Apache-2.0
// The tsm backend: Linux configfs-tsm (Documentation/ABI/testing/
// configfs-tsm-report), the one interface for TDX and SEV-SNP guests.
// mkdir an entry under /sys/kernel/config/tsm/report, read generation,
// write 64 bytes to inblob, read outblob (and auxblob for SEV-SNP) and
// provider, checking after each read that generation advanced exactly by
// our one write (no other writer raced us), then rmdir the entry.
// Untested on TDX/SNP hardware: the tests reproduce the interface in a
// directory (doc/attestation.md).
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/random.h"
#include "tee/tee_int.h"

#define TSM_ROOT "/sys/kernel/config/tsm/report"
#define OUTBLOB_MAX ((size_t)32 << 10)   /* TSM_OUTBLOB_MAX */
#define AUXBLOB_MAX ((size_t)64 << 10)

static int
read_attr(const char *entry, const char *name, size_t max, struct coffer_buf *b)
{
	char path[4200];
	uint8_t chunk[4096];
	ssize_t n;
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", entry, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_PROTO : COFFER_E_IO,
		    "configfs-tsm: %s: %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* The kernel reports the TSM's failure to make a report as
			 * a read error of outblob (EINVAL, EIO, EBUSY...). */
			r = coffer_errf(COFFER_E_IO, "configfs-tsm: read %s: %s", path,
			    strerror(errno));
			break;
		}
		if (b->len + (size_t)n > max) {
			r = coffer_errf(COFFER_E_PROTO, "configfs-tsm: %s is larger than "
			    "%zu bytes", path, max);
			break;
		}
		if ((r = coffer_buf_put(b, chunk, (size_t)n)) != 0)
			break;
	}
	close(fd);
	return r;
}

static int
read_generation(const char *entry, unsigned long long *gen)
{
	struct coffer_buf b = COFFER_BUF_INIT(64);
	const char *s;
	char *end;
	int r;

	if ((r = read_attr(entry, "generation", 32, &b)) != 0)
		goto out;
	s = coffer_buf_str(&b);
	errno = 0;
	*gen = strtoull(s, &end, 10);
	if (end == s || errno != 0 || (*end != '\0' && strcmp(end, "\n") != 0))
		r = coffer_errf(COFFER_E_PROTO, "configfs-tsm: generation \"%s\" is "
		    "not a number", s);
out:
	coffer_buf_release(&b);
	return r;
}

/* Read an attribute, then check the generation is still `want`. */
static int
read_checked(const char *entry, const char *name, size_t max,
    unsigned long long want, struct coffer_buf *b)
{
	unsigned long long gen;
	int r;

	if ((r = read_attr(entry, name, max, b)) != 0 ||
	    (r = read_generation(entry, &gen)) != 0)
		return r;
	if (gen != want)
		return coffer_errf(COFFER_E_PROTO, "configfs-tsm: generation is %llu "
		    "after reading %s, expected %llu: another process wrote to %s",
		    gen, name, want, entry);
	return 0;
}

int
tee_tsm_get(const struct coffer_tee_backend_opts *o, const uint8_t report_data[64],
    struct coffer_buf *outblob, struct coffer_buf *auxblob, char *provider,
    size_t provlen)
{
	const char *root = o != NULL && o->device_root != NULL ? o->device_root : TSM_ROOT;
	struct coffer_buf prov = COFFER_BUF_INIT(64);
	char entry[4096], rnd_hex[17];
	uint8_t rnd[8];
	unsigned long long gen;
	struct stat st;
	int fd, r, made = 0;
	size_t pl;

	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
		return coffer_errf(COFFER_E_NOTFOUND, "%s is not a directory: no "
		    "configfs-tsm here (not a TDX or SEV-SNP guest, Linux < 6.7, or "
		    "configfs not mounted)", root);
	if ((r = coffer_random(rnd, sizeof(rnd))) != 0)
		return r;
	coffer_hex_encode(rnd, sizeof(rnd), rnd_hex);
	/* One entry per request, as the ABI recommends, so that concurrent
	 * requesters never share one. */
	snprintf(entry, sizeof(entry), "%s/coffer-%ld-%s", root, (long)getpid(), rnd_hex);
	if (mkdir(entry, 0700) != 0) {
		r = coffer_errf(COFFER_E_IO, "configfs-tsm: mkdir %s: %s", entry,
		    strerror(errno));
		goto out;
	}
	made = 1;
	if (o != NULL && o->tsm_after_mkdir != NULL)
		o->tsm_after_mkdir(entry, o->tsm_hook_arg);
	if ((r = read_generation(entry, &gen)) != 0)
		goto out;
	{
		char path[4200];

		snprintf(path, sizeof(path), "%s/inblob", entry);
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
			r = coffer_errf(errno == ENOENT ? COFFER_E_PROTO : COFFER_E_IO,
			    "configfs-tsm: %s: %s", path, strerror(errno));
			goto out;
		}
		r = coffer_write_all(fd, report_data, 64);
		if (close(fd) != 0 && r == 0)
			r = coffer_errf(COFFER_E_IO, "configfs-tsm: close %s: %s", path,
			    strerror(errno));
		if (r != 0)
			goto out;
	}
	gen++;
	if ((r = read_checked(entry, "outblob", OUTBLOB_MAX, gen, outblob)) != 0 ||
	    (r = read_checked(entry, "provider", 32, gen, &prov)) != 0)
		goto out;
	pl = prov.len;
	while (pl > 0 && prov.data[pl - 1] == '\n')
		pl--;
	if (pl == 0 || pl >= provlen) {
		r = coffer_errf(COFFER_E_PROTO, "configfs-tsm: bad provider name");
		goto out;
	}
	memcpy(provider, prov.data, pl);
	provider[pl] = '\0';
	/* SEV-SNP's auxblob holds the certificate table (VCEK, ASK, ARK) when
	 * the host provides it; it may be empty. */
	if (strcmp(provider, "sev_guest") == 0 &&
	    (r = read_checked(entry, "auxblob", AUXBLOB_MAX, gen, auxblob)) != 0)
		goto out;
	if (outblob->len == 0)
		r = coffer_errf(COFFER_E_PROTO, "configfs-tsm: empty outblob");
out:
	/* configfs removes the entry's attributes with it. A failure here
	 * leaves an entry behind but does not change the evidence. */
	if (made)
		(void)rmdir(entry);
	coffer_buf_release(&prov);
	return r;
}
