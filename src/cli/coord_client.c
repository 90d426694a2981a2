// SPDX-License-Identifier: Apache-2.0
// Pinned coordinators (coord_client.h). Trust in a coordinator comes from
// one act, `coffer coordinator verify`, which checks its evidence and
// writes its keys here; every later command compares the keys the
// coordinator presents with the pinned ones before it sends anything, and
// checks every signed answer with the pinned signing key.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/audit_cli.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/coord_client.h"
#include "coffer/error.h"
#include "lib/file.h"
#include "lib/json.h"

#define PIN_FILE_MAX ((size_t)1 << 20)
#define SIM_WARNING "INSECURE SIMULATION: no TEE protects this code or data"

int
cli_pin_path(const char *opt, char *out, size_t outlen)
{
	const char *env = getenv("COFFER_PIN_FILE"), *xdg = getenv("XDG_CONFIG_HOME"),
	    *home = getenv("HOME");
	int n;

	if (opt != NULL)
		n = snprintf(out, outlen, "%s", opt);
	else if (env != NULL && env[0] != '\0')
		n = snprintf(out, outlen, "%s", env);
	else if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/coffer/coordinators.json", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, outlen, "%s/.config/coffer/coordinators.json", home);
	else
		return coffer_errf(COFFER_E_NOTFOUND, "no pin file: give --pin-file, "
		    "or set COFFER_PIN_FILE or HOME");
	if (n < 0 || (size_t)n >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "pin file path too long");
	return 0;
}

/* mkdir -p of path's parent, mode 0700 for what is made. */
static int
make_parent(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return coffer_errf(COFFER_E_LIMIT, "path too long");
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return coffer_errf(COFFER_E_IO, "mkdir %s: %s", tmp,
			    strerror(errno));
		*p = '/';
	}
	return 0;
}

static int
load(const char *path, json_t **out)
{
	struct coffer_buf b = COFFER_BUF_INIT(PIN_FILE_MAX);
	json_t *j = NULL, *m;
	int64_t v = 0;
	int r;

	if ((r = coffer_file_read(path, PIN_FILE_MAX, &b)) != 0)
		goto out;
	if ((r = coffer_json_parse(coffer_buf_str(&b), b.len, PIN_FILE_MAX, 8,
	    &j)) != 0 ||
	    (r = coffer_json_get_int(j, NULL, "version", 1, 1, 1, &v)) != 0 ||
	    (r = coffer_json_get_obj(j, NULL, "coordinators", 1, &m)) != 0) {
		r = coffer_errctx(r, "pin file %s", path);
		goto out;
	}
	*out = j;
	j = NULL;
out:
	json_decref(j);
	coffer_buf_release(&b);
	return r;
}

static int
copy_str(const json_t *o, const char *ctx, const char *key, char *out,
    size_t outlen)
{
	const char *s = NULL;
	int r;

	if ((r = coffer_json_get_str(o, ctx, key, 1, &s)) != 0)
		return r;
	if (strlen(s) >= outlen)
		return coffer_errf(COFFER_E_FORMAT, "%s.%s: too long", ctx, key);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int
parse_pin(const json_t *o, const char *url, struct cli_coord_pin *p)
{
	static const char *const keys[] = { "identity", "fingerprint", "tee",
	    "measurement", "insecure", "verified_at", NULL };
	const char *line = NULL;
	char ctx[600];
	int r, insecure = 0;

	snprintf(ctx, sizeof(ctx), "coordinators[%s]", url);
	memset(p, 0, sizeof(*p));
	if (strlen(url) >= sizeof(p->url))
		return coffer_errf(COFFER_E_FORMAT, "%s: URL too long", ctx);
	memcpy(p->url, url, strlen(url) + 1);
	if ((r = coffer_json_check_keys(o, ctx, keys)) != 0 ||
	    (r = coffer_json_get_str(o, ctx, "identity", 1, &line)) != 0 ||
	    (r = copy_str(o, ctx, "tee", p->tee, sizeof(p->tee))) != 0 ||
	    (r = copy_str(o, ctx, "measurement", p->measurement,
	    sizeof(p->measurement))) != 0 ||
	    (r = copy_str(o, ctx, "verified_at", p->verified_at,
	    sizeof(p->verified_at))) != 0 ||
	    (r = coffer_json_get_bool(o, ctx, "insecure", 0, &insecure)) != 0)
		return r;
	if ((r = coffer_identity_parse_public(line, strlen(line), &p->id)) != 0)
		return coffer_errctx(r, "%s.identity", ctx);
	if ((r = coffer_identity_fingerprint(&p->id, p->fingerprint)) != 0)
		return r;
	p->insecure = insecure;
	return 0;
}

int
cli_pin_get(const char *path, const char *url, struct cli_coord_pin *out)
{
	json_t *j = NULL, *o;
	const char *def = NULL;
	int r;

	if ((r = load(path, &j)) != 0) {
		if (r == COFFER_E_NOTFOUND)
			r = coffer_errf(COFFER_E_NOTFOUND, "no coordinator is pinned "
			    "(no %s): verify one first with 'coffer coordinator "
			    "verify URL --expect MEASUREMENT'", path);
		return r;
	}
	if (url == NULL) {
		if ((r = coffer_json_get_str(j, NULL, "default", 1, &def)) != 0) {
			r = coffer_errctx(r, "pin file %s", path);
			goto out;
		}
		url = def;
	}
	o = json_object_get(json_object_get(j, "coordinators"), url);
	if (o == NULL || !json_is_object(o)) {
		r = coffer_errf(COFFER_E_NOTFOUND, "coordinator %s is not pinned in "
		    "%s: verify it first with 'coffer coordinator verify %s --expect "
		    "MEASUREMENT'", url, path, url);
		goto out;
	}
	if ((r = parse_pin(o, url, out)) != 0)
		r = coffer_errctx(r, "pin file %s", path);
out:
	json_decref(j);
	return r;
}

int
cli_pin_put(const char *path, const struct cli_coord_pin *p)
{
	struct coffer_buf line = COFFER_BUF_INIT(COFFER_ID_LINE_MAX + 1);
	struct coffer_buf out = COFFER_BUF_INIT(PIN_FILE_MAX);
	json_t *j = NULL, *o = NULL;
	int r;

	r = load(path, &j);
	if (r == COFFER_E_NOTFOUND) {
		j = json_pack("{s:i, s:{}}", "version", 1, "coordinators");
		if (j == NULL) {
			r = COFFER_E_NOMEM;
			goto out;
		}
	} else if (r != 0) {
		goto out;
	}
	if ((r = coffer_identity_format_public(&p->id, &line)) != 0)
		goto out;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "identity",
	    coffer_buf_str(&line), "fingerprint", p->fingerprint, "tee", p->tee,
	    "measurement", p->measurement, "verified_at", p->verified_at);
	if (o == NULL || (p->insecure &&
	    json_object_set_new(o, "insecure", json_true()) != 0) ||
	    json_object_set_new(json_object_get(j, "coordinators"), p->url, o) != 0) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	o = NULL;
	if (json_object_set_new(j, "default", json_string(p->url)) != 0) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	if ((r = coffer_json_dump(j, &out)) != 0 ||
	    (r = coffer_buf_puts(&out, "\n")) != 0 ||
	    (r = make_parent(path)) != 0 ||
	    (r = coffer_file_write_atomic(path, out.data, out.len, 0600, 0)) != 0)
		goto out;
out:
	json_decref(o);
	json_decref(j);
	coffer_buf_release(&line);
	coffer_buf_release(&out);
	return r;
}

int
cli_coord_http(const char *url, const char *method, const char *path,
    const char *body, size_t len, long *status, json_t **reply,
    struct coffer_buf *raw)
{
	struct cli_endpoint ep;
	int r;

	/* No token: the coordinator authenticates what is signed, not who
	 * connects (doc/api-coordinator.md). */
	if ((r = cli_endpoint_resolve(url, "", &ep)) != 0)
		return r;
	return cli_http(&ep, method, path, body, len, status, reply, raw);
}

int
cli_coord_open(const char *pin_file, const char *url, struct cli_coord *cc)
{
	int r;

	if ((r = cli_coord_open_pin(pin_file, url, cc)) != 0)
		return r;
	return cli_head_follow(cc);
}

int
cli_coord_call(const struct cli_coord *cc, const char *method,
    const char *path, const char *body, size_t len, long *status,
    json_t **reply, struct coffer_buf *raw)
{
	struct cli_endpoint ep;
	int r;

	if ((r = cli_endpoint_resolve(cc->pin.url, "", &ep)) != 0 ||
	    (r = cli_head_header(cc, ep.header, sizeof(ep.header))) != 0)
		return r;
	return cli_http(&ep, method, path, body, len, status, reply, raw);
}

int
cli_coord_get(const struct cli_coord *cc, const char *cmd, const char *path,
    struct coffer_buf *raw, int *rc)
{
	json_t *reply = NULL;
	long code = 0;
	int r;

	*rc = CLI_OK;
	if ((r = cli_coord_call(cc, "GET", path, NULL, 0, &code, &reply, raw)) != 0)
		return r;
	if (code != 200) {
		*rc = cli_coord_refused(cmd, code, reply);
		r = COFFER_E_POLICY;
	}
	json_decref(reply);
	return r;
}

int
cli_coord_open_pin(const char *pin_file, const char *url, struct cli_coord *cc)
{
	struct coffer_identity_public live;
	char path[4096], fp[COFFER_ID_FINGERPRINT_HEX];
	const char *line = NULL;
	json_t *reply = NULL;
	long status = 0;
	int r;

	memset(cc, 0, sizeof(*cc));
	if ((r = cli_pin_path(pin_file, path, sizeof(path))) != 0 ||
	    (r = cli_pin_get(path, url, &cc->pin)) != 0)
		return r;
	memcpy(cc->pin_path, path, sizeof(cc->pin_path));
	if (cc->pin.insecure)
		fprintf(stderr, "coffer: %s: coordinator %s runs on the sim "
		    "backend\n", SIM_WARNING, cc->pin.url);
	if ((r = cli_coord_http(cc->pin.url, "GET", "/v1/identity", NULL, 0,
	    &status, &reply, NULL)) != 0)
		return r;
	if (status != 200 || reply == NULL ||
	    coffer_json_get_str(reply, NULL, "identity", 1, &line) != 0) {
		r = coffer_errf(COFFER_E_PROTO, "%s/v1/identity: HTTP %ld without "
		    "an identity", cc->pin.url, status);
		goto out;
	}
	if ((r = coffer_identity_parse_public(line, strlen(line), &live)) != 0) {
		r = coffer_errctx(r, "%s/v1/identity", cc->pin.url);
		goto out;
	}
	/* Same keys, same coordinator; the name is only a label. */
	if (memcmp(live.sign_pk, cc->pin.id.sign_pk, 32) != 0 ||
	    memcmp(live.kx_pk, cc->pin.id.kx_pk, 32) != 0) {
		cc->changed = 1;
		(void)!coffer_identity_fingerprint(&live, fp);
		r = coffer_errf(COFFER_E_UNTRUSTED, "the coordinator at %s now "
		    "presents identity %s, not the pinned %s (verified %s): "
		    "refusing to talk to it. If the change is expected, verify it "
		    "again with 'coffer coordinator verify %s --expect MEASUREMENT "
		    "--replace'", cc->pin.url, fp, cc->pin.fingerprint,
		    cc->pin.verified_at, cc->pin.url);
		goto out;
	}
out:
	json_decref(reply);
	return r;
}

int
cli_coord_fail(const struct cli_coord *cc, int err, const char *cmd)
{
	int code = cli_fail(err, cmd);

	if (cc != NULL && cc->log_exit != 0)
		return cc->log_exit;
	return cc != NULL && cc->changed ? CLI_PIN_CHANGED : code;
}

int
cli_coord_refused(const char *cmd, long status, const json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	fprintf(stderr, "coffer %s: refused: %s: %s\n", cmd,
	    code != NULL ? code : "?", msg != NULL ? msg : "(no message)");
	if (status >= 500 || (code != NULL && strcmp(code, "coordinator.busy") == 0))
		return CLI_UNAVAILABLE;
	if (code == NULL)
		return CLI_FAIL;
	if (strcmp(code, "request.malformed") == 0 || status == 400 || status == 413)
		return CLI_FORMAT;
	if (strcmp(code, "signature.invalid") == 0)
		return CLI_AUTH;
	if (strcmp(code, "coordinator.rolled_back") == 0)
		return CLI_ROLLBACK;
	if (status == 404)
		return CLI_IO;
	return CLI_REJECTED;
}

int
cli_coord_job_arg(const char *cmd, const char *usage, const char *s)
{
	if (strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32)
		return -1;
	/* The id a user has at hand is the one `coffer job submit` printed. */
	if (strncmp(s, "job-", 4) == 0)
		return cli_usage(cmd, usage, "JOB: '%s' is the manager's job id; "
		    "give the coordinator's (32 hex digits): 'coffer job watch %s' "
		    "ends with it, 'coffer job show %s' has it as tee.job", s, s, s);
	return cli_usage(cmd, usage, "JOB: the coordinator's job id, 32 "
	    "lower-case hex digits");
}
