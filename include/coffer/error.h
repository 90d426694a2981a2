/* SPDX-License-Identifier: Apache-2.0 */
/* Coffer's one error type: negative codes, never renumbered, plus a
 * per-thread detail message saying exactly what went wrong. */
#ifndef COFFER_ERROR_H
#define COFFER_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every Coffer function that can fail returns 0 on success or one of these
 * negative codes. Codes are categories; the detail text (coffer_errdetail)
 * names the field, file, offset or peer. Values are part of the ABI: append
 * new codes at the end, never renumber or reuse one.
 */
enum coffer_err {
	COFFER_OK = 0,
	COFFER_E_INTERNAL = -1,    /* a bug in Coffer itself */
	COFFER_E_NOMEM = -2,       /* allocation failed */
	COFFER_E_INVAL = -3,       /* invalid argument or option */
	COFFER_E_IO = -4,          /* a system call failed (detail has errno text) */
	COFFER_E_FORMAT = -5,      /* malformed input: file, message, JSON */
	COFFER_E_VERSION = -6,     /* well-formed but unsupported version */
	COFFER_E_TRUNCATED = -7,   /* input ends before its declared end */
	COFFER_E_AUTH = -8,        /* authentication failed: data corrupt or tampered */
	COFFER_E_WRONG_KEY = -9,   /* data was sealed or signed under another key */
	COFFER_E_LIMIT = -10,      /* a size, depth or count limit was exceeded */
	COFFER_E_NOTFOUND = -11,   /* no such object, file, job or item */
	COFFER_E_EXISTS = -12,     /* already exists */
	COFFER_E_PERM = -13,       /* not permitted (file mode, token scope) */
	COFFER_E_TIMEOUT = -14,    /* gave up waiting */
	COFFER_E_UNSUPPORTED = -15,/* feature, suite or backend not supported */
	COFFER_E_CRYPTO = -16,     /* the crypto library failed (not a forgery) */
	COFFER_E_SIGNATURE = -17,  /* a signature does not verify */
	COFFER_E_CERT = -18,       /* a certificate or chain is invalid */
	COFFER_E_EXPIRED = -19,    /* outside a validity window */
	COFFER_E_REVOKED = -20,    /* revoked by a CRL or policy */
	COFFER_E_UNTRUSTED = -21,  /* valid, but not trusted by this verifier */
	COFFER_E_POLICY = -22,     /* rejected by policy */
	COFFER_E_REDIS = -23,      /* Redis answered with an error */
	COFFER_E_CONNECT = -24,    /* could not reach or lost a peer */
	COFFER_E_PROTO = -25,      /* a peer broke the protocol */
	COFFER_E_APP = -26,        /* the analysis app failed */
	COFFER_E_ABI = -27,        /* plugin ABI or size mismatch */
	COFFER_E_STATE = -28,      /* not allowed in the current state */
	COFFER_E_BUSY = -29,       /* resource busy, try again */
	COFFER_E_CANCELLED = -30,  /* stopped on request */
	COFFER_E_DB = -31,         /* the embedded database failed */
	COFFER_E_HTTP = -32,       /* an HTTP exchange failed */
};

/* Static English text for an error code; never NULL. */
const char *coffer_strerror(int err);

/*
 * The detail of the last error set on this thread with coffer_errf() (or
 * "" if none). Valid until the next coffer_errf() on this thread.
 */
const char *coffer_errdetail(void);

/*
 * Record a detail message for this thread and return err, so that a failing
 * function can write `return coffer_errf(COFFER_E_FORMAT, "...", ...);`.
 */
int coffer_errf(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Prepend context to the current detail ("reading x.sealed: " + detail) and
 * return err unchanged. Use where a callee already set a precise detail.
 */
int coffer_errctx(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Clear this thread's detail. */
void coffer_errclear(void);

#ifdef __cplusplus
}
#endif
#endif
