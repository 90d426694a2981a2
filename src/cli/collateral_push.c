// SPDX-License-Identifier: Apache-2.0
// Pushing collateral to a coordinator (collateral_push.h). The files go as
// they are: the coordinator checks every signature itself against the
// roots compiled into it, so this side needs no trust and no credentials
// (doc/protocol/collateral.md section 3.2); the body is src/proto's
// (collpush.h), which refuses early what the coordinator would refuse as
// malformed, with a clearer message.
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


static int
add_file(struct coffer_collpush *s, const char *path)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_COLLPUSH_ITEM_MAX);
	const char *base = strrchr(path, '/');
	int r;

	base = base != NULL ? base + 1 : path;
	if ((r = coffer_file_read(path, COFFER_COLLPUSH_ITEM_MAX, &b)) != 0)
		r = coffer_errctx(r, "%s", path);
	else
		r = coffer_collpush_add(s, base, b.data, b.len);
	coffer_buf_release(&b);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
cli_push_add_path(struct coffer_collpush *s, const char *path)
{
	char *names[COFFER_COLLPUSH_ITEMS + 1];
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
		if (n == COFFER_COLLPUSH_ITEMS) {
			r = coffer_errf(COFFER_E_LIMIT, "%s: more than %d files", path,
			    COFFER_COLLPUSH_ITEMS);
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
cli_push(const char *cmd, const char *url, const struct coffer_collpush *s)
{
	struct coffer_buf body = COFFER_BUF_INIT((size_t)4 << 20);
	int r;

	if ((r = coffer_collpush_make(s, &body)) != 0) {
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
