/* SPDX-License-Identifier: Apache-2.0 */
/* The apps of an apps directory (a build's apps/, the manager's --apps),
 * named for messages about a mistyped app: the manager's job check and
 * `coffer run --app NAME`. */
#ifndef COFFER_LIB_APPDIR_H
#define COFFER_LIB_APPDIR_H

#include <stddef.h>

#include "lib/buf.h"

/*
 * The apps in dir, sorted and joined by ", " into list (appended): each
 * plugin NAME.so and each executable NAME without a dot (the
 * NAME.params.json beside them are no apps); at most 64. If meant is not
 * NULL it gets the one closest to word (coffer_suggest), or "" when none
 * is close. A directory that cannot be read lists nothing. 0, or
 * COFFER_E_NOMEM / COFFER_E_LIMIT from list.
 */
int coffer_appdir_list(const char *dir, const char *word, struct coffer_buf *list,
    char *meant, size_t meantlen) __attribute__((warn_unused_result));

#endif
