// SPDX-License-Identifier: Apache-2.0
// Temporary directories for unit tests (tmpdir.h): made with mkdtemp,
// removed depth first with nftw, without a shell.
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tmpdir.h"

int
test_tmpdir(const char *name, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "/tmp/coffer-%s.XXXXXX", name) >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(out) != NULL ? 0 : -1;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int
test_rm_rf(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
