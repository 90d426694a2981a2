/* SPDX-License-Identifier: Apache-2.0 */
/* "Did you mean ...?": the known name closest to a mistyped one, for error
 * messages about commands, controllers and parameters. */
#ifndef COFFER_LIB_SUGGEST_H
#define COFFER_LIB_SUGGEST_H

#include <stddef.h>

/*
 * The candidate closest to word by edit distance (insertions, deletions,
 * substitutions and swaps of two neighbours each count 1), if it is close
 * enough to be a typo: at most 1 for words of up to 4 characters, 2 up to
 * 8, else 3; ties go to the first candidate. NULL when none is. cands has
 * n entries (NULL entries are skipped); words longer than 64 bytes are
 * never matched.
 */
const char *coffer_suggest(const char *word, const char *const *cands, size_t n);

/* The edit distance described above, capped at 255. */
unsigned coffer_edit_distance(const char *a, const char *b);

#endif
