// SPDX-License-Identifier: Apache-2.0
// The closest known name to a mistyped one (suggest.h): the optimal string
// alignment distance (Damerau-Levenshtein without repeated edits of one
// substring), which counts "sleep_sm" -> "sleep_ms" as one edit.
#include <string.h>

#include "lib/suggest.h"

#define WORD_MAX 64

unsigned
coffer_edit_distance(const char *a, const char *b)
{
	unsigned d[WORD_MAX + 1][WORD_MAX + 1];
	size_t n = strlen(a), m = strlen(b);

	if (n > WORD_MAX || m > WORD_MAX)
		return 255;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[n][m] > 255 ? 255 : d[n][m];
}

const char *
coffer_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word);
	unsigned limit = len <= 4 ? 1 : len <= 8 ? 2 : 3, best = limit + 1;
	const char *pick = NULL;

	if (len == 0 || len > WORD_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned dist;

		if (cands[i] == NULL || strcmp(cands[i], word) == 0)
			continue;
		dist = coffer_edit_distance(word, cands[i]);
		if (dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	return pick;
}
