// SPDX-License-Identifier: Apache-2.0
// GET with retries for Intel PCS, a PCCS and AMD KDS (fetch_http.h,
// doc/protocol/collateral.md section 2.3). Both services rate-limit with
// 429 and Retry-After, and a fleet refreshing at once must back off and
// spread out, not hammer them; and a refresh run from cron must end, so
// every attempt has a timeout and every wait a bound.
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/curl_shim.h"
#include "cli/fetch_http.h"
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "lib/random.h"

#define BACKOFF_CAP_MS 60000L
#define HEADER_MAX 16384

void
cli_fetch_opts_init(struct cli_fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_s = 30;
	o->retries = 4;
	o->retry_delay_ms = 1000;
	o->max_wait_s = 120;
}

void
cli_fetch_reply_init(struct cli_fetch_reply *r)
{
	memset(r, 0, sizeof(*r));
	coffer_buf_init(&r->body, CLI_FETCH_BODY_MAX);
}

static void
headers_clear(struct cli_fetch_reply *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->n_headers = 0;
}

void
cli_fetch_reply_release(struct cli_fetch_reply *r)
{
	headers_clear(r);
	coffer_buf_release(&r->body);
}

const char *
cli_fetch_header(const struct cli_fetch_reply *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

int
cli_fetch_status_retryable(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 ||
	    status == 504;
}

long
cli_fetch_backoff_ms(long base_ms, int n, uint32_t rnd)
{
	long d = base_ms < 0 ? 0 : base_ms;

	for (int i = 1; i < n && d < BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	return d + (long)(rnd % (uint32_t)(d / 4 + 1));
}

long
cli_fetch_retry_after(const char *v, int64_t now)
{
	struct tm tm;
	const char *end;
	char *e = NULL;
	time_t t;
	long s;

	while (*v == ' ' || *v == '\t')
		v++;
	if (isdigit((unsigned char)*v)) {
		errno = 0;
		s = strtol(v, &e, 10);
		while (e != NULL && (*e == ' ' || *e == '\t'))
			e++;
		if (errno != 0 || e == NULL || *e != '\0' || s < 0)
			return -1;
		return s;
	}
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	return (int64_t)t > now ? (long)((int64_t)t - now) : 0;
}

int
cli_fetch_url_decode(const char *s, struct coffer_buf *out)
{
	int r;

	for (size_t i = 0; s[i] != '\0'; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c == '%') {
			size_t got = 0;

			if (s[i + 1] == '\0' || s[i + 2] == '\0' ||
			    coffer_hex_decode(s + i + 1, 2, &c, 1, &got) != 0)
				return coffer_errf(COFFER_E_FORMAT, "a malformed %%-escape "
				    "at offset %zu", i);
			i += 2;
		}
		if ((r = coffer_buf_put(out, &c, 1)) != 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

struct xfer {
	struct cli_fetch_reply *r;
	int too_big;
	int header_failed;
};

static size_t
body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (coffer_buf_put(&x->r->body, p, size * n) != 0) {
		x->too_big = 1;
		return 0;
	}
	return size * n;
}

/* One header line ("Name: value\r\n"); the status line and the end of the
 * headers have no colon and are skipped. */
static size_t
header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, k, v;
	char *name, *value;

	if (len > HEADER_MAX || x->r->n_headers == CLI_FETCH_HEADERS_MAX)
		return len; /* not one we need: ours are short, and few */
	for (k = 0; k < len && p[k] != ':'; k++)
		;
	if (k == 0 || k == len)
		return len;
	for (v = k + 1; v < len && (p[v] == ' ' || p[v] == '\t'); v++)
		;
	while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
	    p[len - 1] == ' '))
		len--;
	name = strndup(p, k);
	value = strndup(p + v, len - v);
	if (name == NULL || value == NULL) {
		free(name);
		free(value);
		x->header_failed = 1;
		return 0;
	}
	x->r->headers[x->r->n_headers].name = name;
	x->r->headers[x->r->n_headers].value = value;
	x->r->n_headers++;
	return size * n;
}

static int
curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return 1;
	default:
		return 0;
	}
}

static void
announce(const struct cli_fetch_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
announce(const struct cli_fetch_opts *o, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->note != NULL)
		o->note(msg, o->note_arg);
	else
		fprintf(stderr, "%s\n", msg);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One attempt. *cc gets libcurl's result. */
static int
attempt(const struct cli_curl *cu, const struct cli_fetch_opts *o, const char *url,
    struct cli_fetch_reply *r, CURLcode *cc, char errbuf[CURL_ERROR_SIZE])
{
	struct curl_slist *h = NULL, *n;
	struct xfer x = { r, 0, 0 };
	long timeout = o->timeout_s > 0 ? o->timeout_s : 30;
	CURL *c;

	coffer_buf_reset(&r->body);
	headers_clear(r);
	r->status = 0;
	errbuf[0] = '\0';
	if ((c = cu->easy_init()) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "curl_easy_init failed");
	if ((n = cu->slist_append(h, "Accept: */*")) == NULL) {
		cu->easy_cleanup(c);
		return coffer_errf(COFFER_E_NOMEM, "curl_slist_append failed");
	}
	h = n;
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_HTTPGET, 1L);
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cu->easy_setopt(c, CURLOPT_USERAGENT, "coffer/" COFFER_VERSION);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
	cu->easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, &x);
	cu->easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	cu->easy_setopt(c, CURLOPT_HEADERDATA, &x);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (o->cacert != NULL)
		cu->easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	*cc = cu->easy_perform(c);
	if (*cc == CURLE_OK)
		cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	cu->slist_free_all(h);
	cu->easy_cleanup(c);
	if (x.too_big)
		return coffer_errf(COFFER_E_LIMIT, "GET %s: the answer is larger than "
		    "%zu bytes", url, CLI_FETCH_BODY_MAX);
	if (x.header_failed)
		return COFFER_E_NOMEM;
	return 0;
}

int
cli_fetch_get(const struct cli_fetch_opts *o, const char *url,
    struct cli_fetch_reply *out)
{
	char errbuf[CURL_ERROR_SIZE];
	const struct cli_curl *cu;
	CURLcode cc = CURLE_OK;
	int r;

	if ((r = cli_curl_load(&cu)) != 0)
		return r;
	for (int n = 1;; n++) {
		const char *ra;
		long wait_ms;
		uint32_t rnd = 0;
		char why[CURL_ERROR_SIZE + 64];

		out->attempts = n;
		if ((r = attempt(cu, o, url, out, &cc, errbuf)) != 0)
			return r;
		if (cc == CURLE_PEER_FAILED_VERIFICATION) /* R7 */
			return coffer_errf(COFFER_E_UNTRUSTED, "GET %s: the server's "
			    "TLS certificate is not trusted: %s", url,
			    errbuf[0] ? errbuf : cu->easy_strerror(cc));
		if (cc != CURLE_OK && !curl_retryable(cc))
			return coffer_errf(COFFER_E_HTTP, "GET %s: %s", url,
			    errbuf[0] ? errbuf : cu->easy_strerror(cc));
		if (cc == CURLE_OK && !cli_fetch_status_retryable(out->status))
			return 0;
		if (cc != CURLE_OK)
			snprintf(why, sizeof(why), "%s", errbuf[0] ? errbuf :
			    cu->easy_strerror(cc));
		else
			snprintf(why, sizeof(why), "HTTP %ld", out->status);
		if (n > o->retries) {
			if (cc == CURLE_OK)
				return 0; /* the caller names the status */
			return coffer_errf(COFFER_E_CONNECT, "GET %s: %s (%d attempt%s)",
			    url, why, n, n > 1 ? "s" : "");
		}
		/* R4: the server says how long; more than max_wait is not waited. */
		ra = cc == CURLE_OK && (out->status == 429 || out->status == 503) ?
		    cli_fetch_header(out, "Retry-After") : NULL;
		if (ra != NULL && cli_fetch_retry_after(ra, coffer_wall_ms() / 1000) >= 0) {
			long s = cli_fetch_retry_after(ra, coffer_wall_ms() / 1000);

			if (s > o->max_wait_s)
				return coffer_errf(COFFER_E_CONNECT, "GET %s: HTTP %ld: the "
				    "server asks to be called again in %ld s (Retry-After: "
				    "%s), longer than the %ld s this command waits "
				    "(--max-wait): try again later", url, out->status, s,
				    ra, o->max_wait_s);
			wait_ms = s * 1000;
		} else {
			if (coffer_random(&rnd, sizeof(rnd)) != 0)
				rnd = 0;
			wait_ms = cli_fetch_backoff_ms(o->retry_delay_ms, n, rnd);
		}
		announce(o, "GET %s: %s, again in %ld.%01ld s (attempt %d of %d)", url,
		    why, wait_ms / 1000, wait_ms % 1000 / 100, n + 1, o->retries + 1);
		sleep_ms(wait_ms);
	}
}
