// SPDX-License-Identifier: Apache-2.0
// Reading a job's items (workload.h). Asperathos's manager fetched
// redis_workload with requests.get(url).text.split('\n')[:-1], which drops
// the last line when the file does not end with a newline, and pushes empty
// lines as items; we keep every non-empty line. What may be read is the
// operator's policy (policy.h), checked here again when the job starts.
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "coffer/error.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "lib/redact.h"
#include "manager/policy.h"
#include "manager/workload.h"
#include "store/store.h"

void
mgr_workload_release(struct mgr_workload *w)
{
	free(w->items);
	coffer_buf_release(&w->text);
	w->items = NULL;
	w->n = 0;
}

int
mgr_workload_split(const char *text, size_t len, struct mgr_workload *w)
{
	struct mgr_workload t;
	size_t lines = 0, i;
	char *p, *end;
	int r;

	memset(&t, 0, sizeof(t));
	coffer_buf_init(&t.text, MGR_WORKLOAD_MAX_BYTES + 1);
	if ((r = coffer_buf_put(&t.text, text, len)) != 0 ||
	    (r = coffer_buf_puts(&t.text, "\n")) != 0)
		goto fail;
	p = (char *)t.text.data;
	end = p + t.text.len;
	for (i = 0; i < t.text.len; i++)
		if (p[i] == '\n')
			lines++;
	if ((t.items = coffer_mallocarray(lines, sizeof(*t.items))) == NULL) {
		r = COFFER_E_NOMEM;
		goto fail;
	}
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);

		*nl = '\0';
		if (n > 0 && p[n - 1] == '\r')
			p[--n] = '\0';
		if (n > 0) {
			if (memchr(p, '\0', n) != NULL) {
				r = coffer_errf(COFFER_E_FORMAT,
				    "workload line %zu: NUL byte", t.n + 1);
				goto fail;
			}
			if (t.n >= MGR_JOB_MAX_ITEMS) {
				r = coffer_errf(COFFER_E_LIMIT,
				    "workload: more than %d items", MGR_JOB_MAX_ITEMS);
				goto fail;
			}
			t.items[t.n++] = p;
		}
		p = nl + 1;
	}
	*w = t;
	return 0;
fail:
	mgr_workload_release(&t);
	return r;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct coffer_buf *b = arg;

	if (coffer_buf_put(b, p, size * n) != 0)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	return size * n;
}

struct fetch_ctx {
	char refused[64];       /* the address a connection was refused to */
};

/* Every connection libcurl opens, redirects included, and after name
 * resolution (so a name that resolves to a metadata address is caught). */
static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fetch_ctx *f = arg;

	(void)purpose;
	if (!mgr_policy_addr_allowed(&a->addr, a->addrlen)) {
		char host[INET6_ADDRSTRLEN] = "?";
		const void *ip = a->family == AF_INET6 ?
		    (const void *)&((const struct sockaddr_in6 *)(const void *)
		    &a->addr)->sin6_addr :
		    (const void *)&((const struct sockaddr_in *)(const void *)
		    &a->addr)->sin_addr;

		if (a->family == AF_INET || a->family == AF_INET6)
			inet_ntop(a->family, ip, host, sizeof(host));
		snprintf(f->refused, sizeof(f->refused), "%s", host);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static int
fetch(const char *url, struct coffer_buf *b)
{
	struct fetch_ctx f;
	CURL *c = NULL;
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE] = "", shown[1024];
	long status = 0;
	int r = 0;

	memset(&f, 0, sizeof(f));
	/* Errors and logs show the URL without its password. */
	coffer_redact_url(url, shown, sizeof(shown));
	if ((c = curl_easy_init()) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* No proxy from the environment: the address check below must see
	 * the server itself. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &f);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)MGR_WORKLOAD_MAX_BYTES);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	if (f.refused[0] != '\0' && cc != CURLE_OK) {
		r = coffer_errf(COFFER_E_POLICY, "workload %s: refused to connect to "
		    "%s: link-local and cloud metadata addresses are never fetched",
		    shown, f.refused);
	} else if (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED) {
		r = coffer_errf(COFFER_E_LIMIT, "workload %s: larger than %zu bytes",
		    shown, MGR_WORKLOAD_MAX_BYTES);
	} else if (cc != CURLE_OK) {
		r = coffer_errf(COFFER_E_HTTP, "workload %s: %s", shown,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status < 200 || status > 299)
			r = coffer_errf(COFFER_E_HTTP, "workload %s: HTTP status %ld",
			    shown, status);
	}
	curl_easy_cleanup(c);
	return r;
}

/* A workload file, if the policy allows it where it resolves. */
static int
read_file(const char *path, struct coffer_buf *b)
{
	char real[PATH_MAX];
	int r;

	if ((r = mgr_policy_workload_file(mgr_policy_get(), path, real,
	    sizeof(real))) != 0)
		return r;
	if ((r = coffer_file_read(real, MGR_WORKLOAD_MAX_BYTES, b)) != 0)
		return coffer_errctx(r, "workload file %s", path);
	return 0;
}

static int
list_cb(const char *key, void *arg)
{
	struct coffer_buf *b = arg;
	int r;

	if ((r = coffer_buf_puts(b, key)) != 0 || (r = coffer_buf_puts(b, "\n")) != 0)
		return r;
	return 0;
}

static int
list_prefix(const char *store, const char *prefix, struct coffer_buf *b)
{
	struct coffer_store *st = NULL;
	int r;

	if (store == NULL)
		return coffer_errf(COFFER_E_FORMAT,
		    "inputs.store: a prefix needs a store (none given, no default)");
	if ((r = coffer_store_open(store, 0, &st)) != 0)
		return coffer_errctx(r, "input store %s", store);
	r = coffer_store_list(st, prefix, list_cb, b);
	coffer_store_free(st);
	if (r != 0)
		return coffer_errctx(r, "listing %s in %s", prefix, store);
	return 0;
}

int
mgr_workload_read(const struct mgr_jobspec *s, const char *default_store,
    struct mgr_workload *w)
{
	struct coffer_buf b = COFFER_BUF_INIT(MGR_WORKLOAD_MAX_BYTES);
	struct mgr_workload t;
	int r;

	memset(&t, 0, sizeof(t));
	if (s->items != NULL) {
		/* Inline: point at the spec's own strings, no copy. */
		if ((t.items = coffer_mallocarray(s->nitems, sizeof(*t.items))) == NULL)
			return COFFER_E_NOMEM;
		memcpy(t.items, s->items, s->nitems * sizeof(*t.items));
		t.n = s->nitems;
		*w = t;
		return 0;
	}
	if (s->items_file != NULL) {
		r = read_file(s->items_file, &b);
	} else if (s->items_url != NULL && strncmp(s->items_url, "file://", 7) == 0) {
		char path[PATH_MAX];

		if ((r = mgr_policy_file_url_path(s->items_url, path,
		    sizeof(path))) != 0)
			r = coffer_errctx(r, "workload %s", s->items_url);
		else
			r = read_file(path, &b);
	} else if (s->items_url != NULL) {
		if (!mgr_policy_get()->allow_workload_url)
			r = coffer_errf(COFFER_E_POLICY, "workload URL: this manager "
			    "does not fetch workload URLs (start it with "
			    "--allow-workload-url)");
		else
			r = fetch(s->items_url, &b);
	} else if (s->items_prefix != NULL) {
		r = list_prefix(s->input_store != NULL ? s->input_store :
		    default_store, s->items_prefix, &b);
	} else {
		r = coffer_errf(COFFER_E_INVAL, "job has no item source");
	}
	if (r == 0)
		r = mgr_workload_split(coffer_buf_str(&b), b.len, w);
	coffer_buf_release(&b);
	return r;
}
