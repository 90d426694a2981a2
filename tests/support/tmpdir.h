/* SPDX-License-Identifier: Apache-2.0 */
/* A private temporary directory for a unit test, and its removal. */
#ifndef COFFER_TESTS_TMPDIR_H
#define COFFER_TESTS_TMPDIR_H

#include <stddef.h>

/* Make /tmp/coffer-<name>.XXXXXX (mode 0700) into out (n bytes): 0, or
 * -1 with errno. */
int test_tmpdir(const char *name, char *out, size_t n);

/* Remove dir and everything below it: 0, or -1. */
int test_rm_rf(const char *dir);

#endif
