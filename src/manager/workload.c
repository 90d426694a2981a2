// SPDX-License-Identifier: Apache-2.0
// Reading a job's items (workload.h). Asperathos's manager fetched
// redis_workload with requests.get(url).text.split('\n')[:-1], which drops
// the last line when the file does not end with a newline, and pushes empty
// lines as items; we keep every non-empty line.
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "coffer/error.h"
#include "lib/file.h"
#include "lib/mem.h"
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

static int
fetch(const char *url, struct coffer_buf *b)
{
	CURL *c = NULL;
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	int r = 0;

	if ((c = curl_easy_init()) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)MGR_WORKLOAD_MAX_BYTES);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	if (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED) {
		r = coffer_errf(COFFER_E_LIMIT, "workload %s: larger than %zu bytes",
		    url, MGR_WORKLOAD_MAX_BYTES);
	} else if (cc != CURLE_OK) {
		r = coffer_errf(COFFER_E_HTTP, "workload %s: %s", url,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	} else if (strncmp(url, "file://", 7) != 0) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status < 200 || status > 299)
			r = coffer_errf(COFFER_E_HTTP, "workload %s: HTTP status %ld",
			    url, status);
	}
	curl_easy_cleanup(c);
	return r;
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
		if ((r = coffer_file_read(s->items_file, MGR_WORKLOAD_MAX_BYTES,
		    &b)) != 0)
			r = coffer_errctx(r, "workload file %s", s->items_file);
	} else if (s->items_url != NULL) {
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
