// SPDX-License-Identifier: Apache-2.0
// Error codes and the per-thread detail message (include/coffer/error.h).
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/utf8.h"

#define DETAIL_MAX 1024

static _Thread_local char detail[DETAIL_MAX];

/* A detail cut at DETAIL_MAX bytes must not end in the middle of a
 * character: it ends up in JSON replies and job reasons. */
static void
cut(char *s, int n, size_t size)
{
	if (n >= 0 && (size_t)n >= size)
		s[coffer_utf8_trim(s, size - 1)] = '\0';
}

const char *
coffer_strerror(int err)
{
	switch (err) {
	case COFFER_OK: return "success";
	case COFFER_E_INTERNAL: return "internal error";
	case COFFER_E_NOMEM: return "out of memory";
	case COFFER_E_INVAL: return "invalid argument";
	case COFFER_E_IO: return "input/output error";
	case COFFER_E_FORMAT: return "malformed input";
	case COFFER_E_VERSION: return "unsupported version";
	case COFFER_E_TRUNCATED: return "truncated input";
	case COFFER_E_AUTH: return "authentication failed (data corrupt or tampered with)";
	case COFFER_E_WRONG_KEY: return "wrong key";
	case COFFER_E_LIMIT: return "limit exceeded";
	case COFFER_E_NOTFOUND: return "not found";
	case COFFER_E_EXISTS: return "already exists";
	case COFFER_E_PERM: return "permission denied";
	case COFFER_E_TIMEOUT: return "timed out";
	case COFFER_E_UNSUPPORTED: return "not supported";
	case COFFER_E_CRYPTO: return "cryptographic library failure";
	case COFFER_E_SIGNATURE: return "bad signature";
	case COFFER_E_CERT: return "invalid certificate";
	case COFFER_E_EXPIRED: return "expired or not yet valid";
	case COFFER_E_REVOKED: return "revoked";
	case COFFER_E_UNTRUSTED: return "not trusted";
	case COFFER_E_POLICY: return "rejected by policy";
	case COFFER_E_REDIS: return "Redis error";
	case COFFER_E_CONNECT: return "connection failed";
	case COFFER_E_PROTO: return "protocol error";
	case COFFER_E_APP: return "application failed";
	case COFFER_E_ABI: return "plugin ABI mismatch";
	case COFFER_E_STATE: return "invalid state";
	case COFFER_E_BUSY: return "busy";
	case COFFER_E_CANCELLED: return "cancelled";
	case COFFER_E_DB: return "database error";
	case COFFER_E_HTTP: return "HTTP error";
	}
	return "unknown error";
}

const char *
coffer_errdetail(void)
{
	return detail;
}

void
coffer_errclear(void)
{
	detail[0] = '\0';
}

int
coffer_errf(int err, const char *fmt, ...)
{
	char d[DETAIL_MAX];
	va_list ap;
	int n;

	/* Formatted aside first: callers pass coffer_errdetail() as an
	 * argument ("commit %llu ... (%s)"), which vsnprintf straight into
	 * detail would overwrite while reading it. */
	va_start(ap, fmt);
	n = vsnprintf(d, sizeof(d), fmt, ap);
	va_end(ap);
	cut(d, n, sizeof(d));
	memcpy(detail, d, sizeof(detail));
	return err;
}

int
coffer_errctx(int err, const char *fmt, ...)
{
	char prefix[DETAIL_MAX], old[DETAIL_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	cut(prefix, n, sizeof(prefix));
	memcpy(old, detail, sizeof(old));
	if (old[0] != '\0')
		n = snprintf(detail, sizeof(detail), "%s: %s", prefix, old);
	else
		n = snprintf(detail, sizeof(detail), "%s: %s", prefix, coffer_strerror(err));
	cut(detail, n, sizeof(detail));
	return err;
}
