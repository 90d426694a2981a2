/* SPDX-License-Identifier: Apache-2.0 */
/* GET with retries, back-off and rate-limit handling, for the commands that
 * download from services outside Coffer (`coffer collateral fetch`: Intel
 * PCS or a PCCS, AMD KDS). Rules R1 to R6 of doc/protocol/collateral.md
 * section 2.3. libcurl through curl_shim.h. */
#ifndef COFFER_CLI_FETCH_HTTP_H
#define COFFER_CLI_FETCH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define CLI_FETCH_BODY_MAX ((size_t)4 << 20)
#define CLI_FETCH_HEADERS_MAX 48

struct cli_fetch_opts {
	const char *cacert;     /* PEM bundle to trust, or NULL: the system's */
	long timeout_s;         /* per attempt, total (R1); 0: 30 */
	int retries;            /* after the first attempt (R2) */
	long retry_delay_ms;    /* base of the back-off (R3) */
	long max_wait_s;        /* the longest Retry-After waited for (R4) */
	/* Where waits are announced (R5); NULL: stderr. */
	void (*note)(const char *msg, void *arg);
	void *note_arg;
};

/* Defaults: 30 s, 4 retries, 1 s, 120 s. */
void cli_fetch_opts_init(struct cli_fetch_opts *o);

struct cli_fetch_reply {
	long status;             /* of the last attempt */
	struct coffer_buf body;  /* at most CLI_FETCH_BODY_MAX */
	size_t n_headers;
	struct { char *name, *value; } headers[CLI_FETCH_HEADERS_MAX];
	int attempts;
};

void cli_fetch_reply_init(struct cli_fetch_reply *r);
void cli_fetch_reply_release(struct cli_fetch_reply *r);
/* The value of a response header (case-insensitive name), or NULL. */
const char *cli_fetch_header(const struct cli_fetch_reply *r, const char *name);

/*
 * GET url, retrying as R2 to R4 say. Returns 0 with the reply of the last
 * attempt whatever its status, once it is not retryable or the retries are
 * spent (out->status says which; the caller judges it, R6). Errors: no
 * answer at all after the last attempt, or a Retry-After longer than
 * max_wait_s: COFFER_E_CONNECT; a body over CLI_FETCH_BODY_MAX:
 * COFFER_E_LIMIT; libcurl missing: COFFER_E_NOTFOUND; other transfer
 * failures (TLS verification, a bad URL): COFFER_E_HTTP. The detail names
 * the URL.
 */
int cli_fetch_get(const struct cli_fetch_opts *o, const char *url,
    struct cli_fetch_reply *out) __attribute__((warn_unused_result));

/* The pure parts, for tests. */

/* 1 if an HTTP status is retried (R2). */
int cli_fetch_status_retryable(long status);
/* The wait before retry n (1, 2, ...) in ms (R3): base * 2^(n-1), at most
 * 60 s, plus jitter in [0, a quarter of it] taken from rnd. */
long cli_fetch_backoff_ms(long base_ms, int n, uint32_t rnd);
/* A Retry-After value (delay-seconds or an IMF-fixdate, RFC 9110 section
 * 10.2.3) as seconds from now (0 if in the past); -1 if malformed. */
long cli_fetch_retry_after(const char *value, int64_t now);
/* Percent-decode (%XX only; every other byte is kept): COFFER_E_FORMAT
 * on a malformed escape. Appends to out. */
int cli_fetch_url_decode(const char *s, struct coffer_buf *out)
	__attribute__((warn_unused_result));

#endif
