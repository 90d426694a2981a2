// SPDX-License-Identifier: Apache-2.0
// Pushing collateral to a coordinator (collateral_push.h). The files go as
// they are: the coordinator checks every signature itself against the
// roots compiled into it, so this side needs no trust and no credentials
// (doc/protocol/collateral.md section 3.2); it only refuses early what the
// coordinator would refuse as malformed, with a clearer message.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/collateral_push.h"
#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/mem.h"


void
cli_push_set_release(struct cli_push_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		coffer_buf_release(&s->f[i].data);
	free(s->f);
	memset(s, 0, sizeof(*s));
}

/* Rule C3: 1 to 100 of A-Z a-z 0-9 . _ -, not starting with '.'. */
static int
name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 100 || n[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static struct cli_push_file *
slot(struct cli_push_set *s, const char *name, int *err)
{
	struct cli_push_file *f;

	if (!name_ok(name)) {
		*err = coffer_errf(COFFER_E_INVAL, "%s: a collateral file's name is 1 to "
		    "100 of A-Z a-z 0-9 . _ - and does not start with '.'", name);
		return NULL;
	}
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->f[i].name, name) == 0) {
			*err = coffer_errf(COFFER_E_INVAL, "%s: two files of that name",
			    name);
			return NULL;
		}
	if (s->n == CLI_PUSH_MAX_ITEMS) {
		*err = coffer_errf(COFFER_E_LIMIT, "more than %d collateral files in "
		    "one push", CLI_PUSH_MAX_ITEMS);
		return NULL;
	}
	if ((f = coffer_reallocarray(s->f, s->n + 1, sizeof(*f))) == NULL) {
		*err = COFFER_E_NOMEM;
		return NULL;
	}
	s->f = f;
	f = &s->f[s->n++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	coffer_buf_init(&f->data, CLI_PUSH_ITEM_MAX);
	*err = 0;
	return f;
}

int
cli_push_set_add(struct cli_push_set *s, const char *name, const uint8_t *data,
    size_t len)
{
	struct cli_push_file *f;
	int r;

	if ((f = slot(s, name, &r)) == NULL)
		return r;
	if ((r = coffer_buf_put(&f->data, data, len)) != 0)
		return coffer_errctx(r, "%s", name);
	return 0;
}

static int
add_file(struct cli_push_set *s, const char *path)
{
	const char *base = strrchr(path, '/');
	struct cli_push_file *f;
	int r;

	base = base != NULL ? base + 1 : path;
	if ((f = slot(s, base, &r)) == NULL)
		return r;
	if ((r = coffer_file_read(path, CLI_PUSH_ITEM_MAX, &f->data)) != 0)
		return coffer_errctx(r, "%s", path);
	if (f->data.len == 0)
		return coffer_errf(COFFER_E_FORMAT, "%s: empty file", path);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
cli_push_set_add_path(struct cli_push_set *s, const char *path)
{
	char *names[CLI_PUSH_MAX_ITEMS + 1];
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d;
	int r = 0;

	if (stat(path, &st) != 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return add_file(s, path);
	if ((d = opendir(path)) == NULL)
		return coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char full[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == CLI_PUSH_MAX_ITEMS) {
			r = coffer_errf(COFFER_E_LIMIT, "%s: more than %d files", path,
			    CLI_PUSH_MAX_ITEMS);
			break;
		}
		if ((names[n] = strdup(full)) == NULL) {
			r = COFFER_E_NOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r == 0 && n == 0)
		r = coffer_errf(COFFER_E_NOTFOUND, "%s: no collateral files", path);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_file(s, names[i]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return r;
}

int
cli_push_body(const struct cli_push_set *s, struct coffer_buf *out)
{
	int r;

	/* Names are checked (name_ok) and need no escaping. */
	if ((r = coffer_buf_puts(out, "{\"type\":\"coffer-collateral\",\"version\":1,"
	    "\"items\":[")) != 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		if ((r = coffer_buf_puts(out, i > 0 ? ",{\"name\":\"" : "{\"name\":\"")) != 0 ||
		    (r = coffer_buf_puts(out, s->f[i].name)) != 0 ||
		    (r = coffer_buf_puts(out, "\",\"data\":\"")) != 0 ||
		    (r = coffer_b64url_put(out, s->f[i].data.data, s->f[i].data.len)) != 0 ||
		    (r = coffer_buf_puts(out, "\"}")) != 0)
			return r;
	}
	return coffer_buf_puts(out, "]}");
}

/* One line per item and the cache (section 3.4). */
static void
print_answer(const json_t *j)
{
	const json_t *items = json_object_get(j, "items"), *it, *cache;
	size_t i;

	json_array_foreach(items, i, it) {
		const char *status = json_string_value(json_object_get(it, "status"));
		const char *slot = json_string_value(json_object_get(it, "slot"));

		printf("%-9s %-44s %-12s expires %s%s%s\n", status ? status : "cached",
		    json_string_value(json_object_get(it, "name")) ?: "?",
		    json_string_value(json_object_get(it, "kind")) ?: "?",
		    json_string_value(json_object_get(it, "expires")) ?: "?",
		    slot && slot[0] ? "  " : "", slot ? slot : "");
	}
	cache = json_object_get(j, "cache");
	printf("the coordinator holds %lld collateral item(s), %lld bytes; the "
	    "earliest expires %s\n",
	    (long long)json_integer_value(json_object_get(cache, "items")),
	    (long long)json_integer_value(json_object_get(cache, "bytes")),
	    json_string_value(json_object_get(cache, "earliest_expiry")) ?: "-");
}

/* A refusal by name (doc/protocol/collateral.md section 3.2), and the exit
 * code of what it means: 4 a forged piece, 5 a malformed one, 7 one no
 * root vouches for, 1 a full cache. */
static int
refused(const char *cmd, long status, const json_t *reply)
{
	const json_t *e = reply != NULL ? json_object_get(reply, "error") : NULL;
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (code == NULL)
		return cli_http_fail(cmd, status, reply);
	fprintf(stderr, "coffer %s: HTTP %ld %s: %s\n", cmd, status, code,
	    msg != NULL ? msg : "");
	if (strcmp(code, "collateral.signature") == 0)
		return CLI_AUTH;
	if (strcmp(code, "collateral.untrusted") == 0)
		return CLI_REJECTED;
	if (strcmp(code, "collateral.malformed") == 0 ||
	    strcmp(code, "request.malformed") == 0)
		return CLI_FORMAT;
	return status >= 500 && status != 507 ? CLI_UNAVAILABLE : CLI_FAIL;
}

static int
exchange(const char *cmd, const char *url, const char *method, const char *body,
    size_t len)
{
	struct cli_endpoint ep;
	json_t *reply = NULL;
	long status = 0;
	int r;

	if ((r = cli_endpoint_resolve(url, NULL, &ep)) != 0)
		return cli_fail(r, cmd);
	ep.token[0] = '\0'; /* collateral needs none (section 3.2) */
	if ((r = cli_http(&ep, method, "/v1/collateral", body, len, &status, &reply,
	    NULL)) != 0)
		return cli_fail(r, cmd);
	if (status != 200) {
		r = refused(cmd, status, reply);
		json_decref(reply);
		return r;
	}
	if (reply == NULL || !json_is_object(reply)) {
		json_decref(reply);
		return cli_fail(coffer_errf(COFFER_E_PROTO, "%s: the answer is not a "
		    "JSON object", url), cmd);
	}
	print_answer(reply);
	json_decref(reply);
	return CLI_OK;
}

int
cli_push(const char *cmd, const char *url, const struct cli_push_set *s)
{
	struct coffer_buf body = COFFER_BUF_INIT((size_t)4 << 20);
	int r;

	if ((r = cli_push_body(s, &body)) != 0) {
		coffer_buf_release(&body);
		return cli_fail(r, cmd);
	}
	r = exchange(cmd, url, "POST", coffer_buf_str(&body), body.len);
	coffer_buf_release(&body);
	return r;
}

int
cli_push_show(const char *cmd, const char *url)
{
	return exchange(cmd, url, "GET", NULL, 0);
}
