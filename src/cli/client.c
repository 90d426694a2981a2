// SPDX-License-Identifier: Apache-2.0
// The CLI's HTTP client for coffer-manager (client.h). libcurl is reached
// only through curl_shim.h: it is loaded on the first request.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/curl_shim.h"
#include "coffer/error.h"
#include "lib/file.h"
#include "lib/json.h"

#define REPLY_MAX ((size_t)64 << 20)

int
cli_up_state_path(char *out, size_t outlen)
{
	const char *rt = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	int n;

	if (rt != NULL && rt[0] == '/')
		n = snprintf(out, outlen, "%s/coffer/up.json", rt);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, outlen, "%s/.config/coffer/up.json", home);
	else
		return coffer_errf(COFFER_E_NOTFOUND,
		    "neither XDG_RUNTIME_DIR nor HOME is set");
	if (n < 0 || (size_t)n >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "state file path too long");
	return 0;
}

/*
 * kill(pid, 0) alone takes any process for the coffer up that wrote the
 * state file. Under ~/.config (no XDG_RUNTIME_DIR) the file outlives a
 * reboot, and its pid may by then belong to another process: coffer job
 * then tried a dead port, and the next coffer up kept the dead file to
 * "give back" when it stopped. The command name tells them apart.
 */
int
cli_up_running(long long pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || pid > INT_MAX ||
	    (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT && access("/proc/self/comm", R_OK) == 0 ? 0 : 1;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "coffer", 6) == 0;
}

static int
copy(char *dst, size_t dstlen, const char *src, const char *what)
{
	size_t n = strlen(src);

	if (n >= dstlen)
		return coffer_errf(COFFER_E_LIMIT, "%s is too long", what);
	memcpy(dst, src, n + 1);
	return 0;
}

/* The state file the token came from, if it did: a 401 then says what
 * to do (one endpoint per process: one command). */
static char token_state_file[4096];

static int
from_state_file(struct cli_endpoint *ep)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char path[4096];
	const char *url = NULL, *token = NULL;
	json_t *j = NULL;
	json_int_t pid;
	int r;

	if ((r = cli_up_state_path(path, sizeof(path))) != 0)
		return r;
	if ((r = coffer_file_read(path, 1 << 20, &b)) != 0) {
		coffer_buf_release(&b);
		return coffer_errf(COFFER_E_NOTFOUND,
		    "no manager given: use --url and --token, set COFFER_URL and "
		    "COFFER_TOKEN, or start one with 'coffer up' (no %s)", path);
	}
	if ((r = coffer_json_parse(coffer_buf_str(&b), b.len, 1 << 20, 8, &j)) != 0 ||
	    (r = coffer_json_get_str(j, NULL, "url", 1, &url)) != 0 ||
	    (r = coffer_json_get_str(j, NULL, "token", 1, &token)) != 0) {
		r = coffer_errctx(r, "%s", path);
		goto out;
	}
	/* A coffer up killed with SIGKILL (or a crash) leaves its state
	 * file behind: say so, rather than "connection refused" on a port
	 * nobody listens on any more. */
	pid = json_integer_value(json_object_get(j, "pid"));
	if (pid > 0 && !cli_up_running(pid)) {
		const char *dir = json_string_value(json_object_get(j, "dir"));

		r = coffer_errf(COFFER_E_CONNECT, "no coffer up is running: %s "
		    "was written by coffer up pid %d, which is gone (killed?): "
		    "start it again with 'coffer up%s%s'", path, (int)pid,
		    dir != NULL ? " --dir " : "", dir != NULL ? dir : "");
		goto out;
	}
	if ((r = copy(ep->url, sizeof(ep->url), url, "url")) != 0 ||
	    (r = copy(ep->token, sizeof(ep->token), token, "token")) != 0)
		goto out;
	snprintf(token_state_file, sizeof(token_state_file), "%s", path);
out:
	json_decref(j);
	coffer_buf_release_secret(&b);
	return r;
}

int
cli_endpoint_resolve(const char *url, const char *token,
    struct cli_endpoint *ep)
{
	struct cli_endpoint e;
	const char *ca = getenv("COFFER_CACERT");
	size_t n;
	int r;

	memset(&e, 0, sizeof(e));
	if (url == NULL)
		url = getenv("COFFER_URL");
	if (token == NULL)
		token = getenv("COFFER_TOKEN");
	if (url == NULL) {
		if ((r = from_state_file(&e)) != 0)
			return r;
	} else if ((r = copy(e.url, sizeof(e.url), url, "url")) != 0) {
		return r;
	}
	if (token != NULL) {
		if ((r = copy(e.token, sizeof(e.token), token, "token")) != 0)
			return r;
		token_state_file[0] = '\0'; /* not the state file's */
	}
	if (ca != NULL && (r = copy(e.cacert, sizeof(e.cacert), ca,
	    "COFFER_CACERT")) != 0)
		return r;
	if (strncmp(e.url, "http://", 7) != 0 && strncmp(e.url, "https://", 8) != 0)
		return coffer_errf(COFFER_E_INVAL,
		    "url '%s' is not http:// or https://", e.url);
	n = strlen(e.url);
	while (n > 0 && e.url[n - 1] == '/')
		e.url[--n] = '\0';
	*ep = e;
	return 0;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	return coffer_buf_put(arg, p, size * n) == 0 ? size * n : 0;
}

/* curl_slist_append returns NULL on failure and leaves the list as it was:
 * a lost header (the token) must not go unnoticed. */
static int
add_header(const struct cli_curl *cu, struct curl_slist **h, const char *line)
{
	struct curl_slist *n = cu->slist_append(*h, line);

	if (n == NULL)
		return coffer_errf(COFFER_E_NOMEM, "curl_slist_append failed");
	*h = n;
	return 0;
}

int
cli_http(const struct cli_endpoint *ep, const char *method, const char *path,
    const char *body, size_t len, long *status, json_t **reply,
    struct coffer_buf *raw)
{
	struct coffer_buf b = COFFER_BUF_INIT(REPLY_MAX);
	const struct cli_curl *cu;
	struct curl_slist *h = NULL;
	char url[1024], auth[300], errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = NULL;
	CURLcode cc;
	int r = 0;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", ep->url, path) >= sizeof(url))
		return coffer_errf(COFFER_E_LIMIT, "URL too long");
	if ((r = cli_curl_load(&cu)) != 0)
		return r;
	if ((c = cu->easy_init()) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "curl_easy_init failed");
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	cu->easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, &b);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (ep->cacert[0] != '\0')
		cu->easy_setopt(c, CURLOPT_CAINFO, ep->cacert);
	if (ep->token[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ep->token);
		if ((r = add_header(cu, &h, auth)) != 0)
			goto out;
	}
	if (ep->header[0] != '\0' && (r = add_header(cu, &h, ep->header)) != 0)
		goto out;
	/* A POST or PUT without a body still says Content-Length: 0. */
	if (body == NULL && (strcmp(method, "POST") == 0 ||
	    strcmp(method, "PUT") == 0)) {
		body = "";
		len = 0;
	}
	if (body != NULL) {
		if ((r = add_header(cu, &h, "Content-Type: application/json")) != 0)
			goto out;
		cu->easy_setopt(c, CURLOPT_POSTFIELDS, body);
		cu->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cc = cu->easy_perform(c);
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	    cc == CURLE_OPERATION_TIMEDOUT) {
		r = coffer_errf(COFFER_E_CONNECT, "%s: %s", ep->url,
		    errbuf[0] ? errbuf : cu->easy_strerror(cc));
		goto out;
	}
	if (cc == CURLE_PEER_FAILED_VERIFICATION) {
		r = coffer_errf(COFFER_E_UNTRUSTED, "%s %s: the server's TLS "
		    "certificate is not trusted: %s", method, url,
		    errbuf[0] ? errbuf : cu->easy_strerror(cc));
		goto out;
	}
	if (cc != CURLE_OK) {
		r = coffer_errf(COFFER_E_HTTP, "%s %s: %s", method, url,
		    errbuf[0] ? errbuf : cu->easy_strerror(cc));
		goto out;
	}
	cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (reply != NULL) {
		*reply = NULL;
		if (b.len > 0)
			(void)!coffer_json_parse(coffer_buf_str(&b), b.len, REPLY_MAX,
			    64, reply);
	}
	if (raw != NULL && b.len > 0 && (r = coffer_buf_put(raw, b.data, b.len)) != 0)
		goto out;
out:
	cu->slist_free_all(h);
	cu->easy_cleanup(c);
	coffer_buf_release(&b);
	return r;
}

int
cli_http_fail(const char *cmd, long status, const json_t *reply)
{
	const char *msg = NULL, *field = NULL;
	json_t *e = reply != NULL ? json_object_get(reply, "error") : NULL;

	if (e != NULL) {
		msg = json_string_value(json_object_get(e, "message"));
		field = json_string_value(json_object_get(e, "field"));
	}
	if (json_array_size(json_object_get(e, "errors")) > 1) {
		/* Every field error of the body, one line each. */
		size_t i;
		json_t *v;

		fprintf(stderr, "coffer %s: HTTP %ld: %zu errors:\n", cmd, status,
		    json_array_size(json_object_get(e, "errors")));
		json_array_foreach(json_object_get(e, "errors"), i, v)
			fprintf(stderr, "  %s\n", json_string_value(json_object_get(v,
			    "message")) != NULL ? json_string_value(json_object_get(v,
			    "message")) : "?");
	} else if (field != NULL)
		fprintf(stderr, "coffer %s: HTTP %ld: %s (field %s)\n", cmd, status,
		    msg != NULL ? msg : "error", field);
	else
		fprintf(stderr, "coffer %s: HTTP %ld: %s\n", cmd, status,
		    msg != NULL ? msg : "error");
	/* coffer up's own token, revoked (`coffer token revoke 1`): a
	 * restart of coffer up makes a new one. */
	if (status == 401 && token_state_file[0] != '\0')
		fprintf(stderr, "coffer %s: the token in %s was refused (revoked?): "
		    "stop coffer up and start it again, it makes a new one\n", cmd,
		    token_state_file);
	if (status == 401 || status == 403)
		return CLI_AUTH;
	if (status == 404)
		return CLI_IO;
	if (status == 400 || status == 413)
		return CLI_FORMAT;
	if (status >= 500)
		return CLI_UNAVAILABLE;
	return CLI_FAIL;
}
