// SPDX-License-Identifier: Apache-2.0
// TLS for the HTTP server's listener (http.h, struct http_tls): OpenSSL
// under libevent's bufferevent_openssl. In a file of its own so that only
// the binaries that offer TLS link it: the coordinator does not, and so
// never loads libssl (scripts/check-layers checks that it does not).

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "coffer/error.h"
#include "http/http.h"

static const char *
reason(void)
{
	const char *s = ERR_reason_error_string(ERR_get_error());

	return s != NULL ? s : "unreadable";
}

static void
tls_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

static int
tls_setup(void **out, const char *cert, const char *key)
{
	SSL_CTX *c;
	int r;

	if ((c = SSL_CTX_new(TLS_server_method())) == NULL)
		return coffer_errf(COFFER_E_CRYPTO, "SSL_CTX_new failed");
	if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) {
		r = coffer_errf(COFFER_E_CRYPTO, "cannot require TLS 1.2");
		goto fail;
	}
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(c, cert) != 1) {
		r = coffer_errf(COFFER_E_INVAL, "TLS certificate %s: %s", cert,
		    reason());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c) != 1) {
		r = coffer_errf(COFFER_E_INVAL, "TLS key %s: %s", key, reason());
		goto fail;
	}
	*out = c;
	return 0;
fail:
	SSL_CTX_free(c);
	return r;
}

static struct bufferevent *
tls_wrap(void *ctx, struct event_base *base, int fd)
{
	struct bufferevent *bev;
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	/* On failure the SSL is still ours; on success the bufferevent's. */
	if ((bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		SSL_free(ssl);
	return bev;
}

const struct http_tls http_tls_openssl = { tls_setup, tls_wrap, tls_free };
