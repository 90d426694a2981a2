// SPDX-License-Identifier: Apache-2.0
// The candidate we measured and did not take (doc/http.md section 1): a
// server on Debian's libmicrohttpd 0.9.75 doing what coffer-manager's
// server does at the edges (bearer token checked in the first call of the
// handler, after the headers; route body limit; caps overall and per IP;
// its connection timeout), so bench/http.sh can put it through the same
// misbehaving clients. Built by bench/http.sh only when libmicrohttpd-dev
// is installed; not part of Coffer.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <microhttpd.h>

static const char *token = "Bearer cft_bench";

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned code, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body),
	    (void *)body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, code, r);

	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	const char *auth, *len;
	size_t *got = *con_cls;

	(void)cls; (void)url; (void)method; (void)version; (void)upload;
	if (got == NULL) {
		/* First call: headers only. */
		auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Authorization");
		if (strcmp(url, "/healthz") == 0)
			return reply(c, 200, "{\"status\":\"ok\"}\n");
		if (auth == NULL || strcmp(auth, token) != 0)
			return reply(c, 401, "{\"error\":{\"code\":\"unauthorized\"}}\n");
		len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Content-Length");
		if (len != NULL && strtoull(len, NULL, 10) > (1u << 20))
			return reply(c, 413, "{\"error\":{\"code\":\"payload_too_large\"}}\n");
		if ((got = calloc(1, sizeof(*got))) == NULL)
			return MHD_NO;
		*con_cls = got;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*got += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	free(got);
	*con_cls = NULL;
	return reply(c, 200, "{}\n");
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	int port = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 0;

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	    (uint16_t)port, NULL, NULL, handler, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)40,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)10,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)1,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	    MHD_OPTION_END);
	if (d == NULL)
		return 1;
	printf("listening %d\n", port);
	fflush(stdout);
	pause();
	MHD_stop_daemon(d);
	return 0;
}
