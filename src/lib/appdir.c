// SPDX-License-Identifier: Apache-2.0
// The apps of an apps directory, for "did you mean" and "its apps: ..."
// when a job or `coffer run` names one that is not there (appdir.h).
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/appdir.h"
#include "lib/mem.h"
#include "lib/suggest.h"

#define APPDIR_MAX 64

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
coffer_appdir_list(const char *dir, const char *word, struct coffer_buf *list,
    char *meant, size_t meantlen)
{
	char *names[APPDIR_MAX];
	const char *best;
	struct dirent *d;
	size_t n = 0;
	DIR *dh;
	int r = 0;

	if (meant != NULL && meantlen > 0)
		meant[0] = '\0';
	if ((dh = opendir(dir)) != NULL) {
		while ((d = readdir(dh)) != NULL && n < APPDIR_MAX) {
			size_t len = strlen(d->d_name);
			int plugin = len > 3 && strcmp(d->d_name + len - 3, ".so") == 0;
			char path[PATH_MAX], *name;
			int dup = 0;

			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			if (plugin)
				len -= 3;
			else if (strchr(d->d_name, '.') != NULL || access(path, X_OK) != 0)
				continue;
			for (size_t i = 0; i < n && !dup; i++)
				dup = strlen(names[i]) == len &&
				    strncmp(names[i], d->d_name, len) == 0;
			if (dup)
				continue;
			if ((name = coffer_malloc(len + 1)) == NULL) {
				r = COFFER_E_NOMEM;
				break;
			}
			memcpy(name, d->d_name, len);
			name[len] = '\0';
			names[n++] = name;
		}
		closedir(dh);
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n && r == 0; i++)
		r = coffer_buf_putf(list, "%s%s", i ? ", " : "", names[i]);
	if (r == 0 && meant != NULL && meantlen > 0 && word != NULL &&
	    (best = coffer_suggest(word, (const char *const *)names, n)) != NULL)
		snprintf(meant, meantlen, "%s", best);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return r;
}
