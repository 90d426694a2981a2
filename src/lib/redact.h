/* SPDX-License-Identifier: Apache-2.0 */
/* Credentials out of what is logged or shown: URLs with a password in
 * their user-info part (redis://:secret@host, https://user:secret@host). */
#ifndef COFFER_LIB_REDACT_H
#define COFFER_LIB_REDACT_H

#include <stddef.h>

/*
 * Copy url into out (outlen bytes, always NUL-terminated) with the
 * password of its user-info part (RFC 3986 section 3.2.1,
 * "scheme://user:password@host...") replaced by "***": the user name, the
 * host and everything after it are kept. A URL without a password is
 * copied as it is; so is a string that is not a URL. An output that does
 * not fit is cut, never showing more of the password.
 */
void coffer_redact_url(const char *url, char *out, size_t outlen);

#endif
