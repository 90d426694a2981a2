// SPDX-License-Identifier: Apache-2.0
// Redacting URLs for logs (redact.h). The user-info part ends at the last
// '@' before the first '/' after "://" (a password may itself contain an
// unescaped '@', '?' or '#': src/queue/redis_url.c reads it the same way,
// and over-redacting an odd URL is harmless), and the password starts
// after the first ':' of the user-info.
#include <stdio.h>
#include <string.h>

#include "lib/redact.h"

void
coffer_redact_url(const char *url, char *out, size_t outlen)
{
	const char *sep, *auth, *end, *at = NULL, *colon;

	if (outlen == 0)
		return;
	if (url == NULL) {
		out[0] = '\0';
		return;
	}
	sep = strstr(url, "://");
	if (sep == NULL) {
		snprintf(out, outlen, "%s", url);
		return;
	}
	auth = sep + 3;
	end = auth + strcspn(auth, "/");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon == NULL) {
		snprintf(out, outlen, "%s", url);
		return;
	}
	/* scheme://user: + *** + @rest */
	snprintf(out, outlen, "%.*s***%s", (int)(colon + 1 - url), url, at);
}
