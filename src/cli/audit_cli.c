// SPDX-License-Identifier: Apache-2.0
// Kept heads and the client rule of the coordinator's audit log
// (audit_cli.h; doc/format/audit-log.md section 6.1). The heads file:
//   {"version": 1, "heads": {FINGERPRINT: {"head": ENVELOPE, "url": URL,
//    "kept_at": TIME}}}
// mode 0600, next to the pin file. A head is kept per coordinator
// identity, not per URL: two coordinators started from one copy of a
// state (same keys, two addresses) share it, so a fork between them is
// caught.
#include <stdio.h>
#include <string.h>

#include "cli/audit_cli.h"
#include "cli/cli.h"
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"

#define HEADS_FILE_MAX ((size_t)1 << 20)

int
cli_heads_path(const char *pin_path, char *out, size_t outlen)
{
	size_t n = strlen(pin_path);
	int w;

	if (n > 5 && strcmp(pin_path + n - 5, ".json") == 0)
		w = snprintf(out, outlen, "%.*s.heads.json", (int)(n - 5), pin_path);
	else
		w = snprintf(out, outlen, "%s.heads", pin_path);
	if (w < 0 || (size_t)w >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "heads file path too long");
	return 0;
}

/* The heads file as JSON, or a new empty one. */
static int
heads_load(const struct cli_coord *cc, char *path, size_t pathlen, json_t **out)
{
	struct coffer_buf b = COFFER_BUF_INIT(HEADS_FILE_MAX);
	json_t *j = NULL, *m;
	int64_t v;
	int r;

	*out = NULL;
	if ((r = cli_heads_path(cc->pin_path, path, pathlen)) != 0)
		return r;
	r = coffer_file_read(path, HEADS_FILE_MAX, &b);
	if (r == COFFER_E_NOTFOUND) {
		coffer_buf_release(&b);
		*out = json_pack("{s:i, s:{}}", "version", 1, "heads");
		return *out == NULL ? COFFER_E_NOMEM : 0;
	}
	if (r == 0 && ((r = coffer_json_parse(coffer_buf_str(&b), b.len,
	    HEADS_FILE_MAX, 8, &j)) != 0 ||
	    (r = coffer_json_get_int(j, NULL, "version", 1, 1, 1, &v)) != 0 ||
	    (r = coffer_json_get_obj(j, NULL, "heads", 1, &m)) != 0))
		r = coffer_errctx(r, "heads file %s", path);
	coffer_buf_release(&b);
	if (r != 0) {
		json_decref(j);
		return r;
	}
	*out = j;
	return 0;
}

int
cli_head_load(struct cli_coord *cc)
{
	struct coffer_buf env = COFFER_BUF_INIT(COFFER_AUDITLOG_HEAD_MAX);
	char path[4200];
	json_t *j = NULL, *h;
	int r;

	cc->has_head = 0;
	if ((r = heads_load(cc, path, sizeof(path), &j)) != 0)
		return r;
	h = json_object_get(json_object_get(json_object_get(j, "heads"),
	    cc->pin.fingerprint), "head");
	if (h == NULL)
		goto out;
	/* Kept only after it verified; verified again, as the file could
	 * have been edited. */
	if ((r = coffer_json_dump(h, &env)) != 0)
		goto out;
	if (env.len > COFFER_AUDITLOG_HEAD_MAX ||
	    (r = coffer_auditlog_head_verify(coffer_buf_str(&env), env.len,
	    cc->pin.id.sign_pk, &cc->head)) != 0) {
		r = coffer_errctx(r ? r : COFFER_E_LIMIT, "heads file %s: the head "
		    "kept for %s", path, cc->pin.fingerprint);
		goto out;
	}
	memcpy(cc->head_env, env.data, env.len);
	cc->head_env[env.len] = '\0';
	cc->has_head = 1;
out:
	json_decref(j);
	coffer_buf_release(&env);
	return r;
}

int
cli_head_keep(struct cli_coord *cc, const char *env, size_t len)
{
	struct coffer_buf out = COFFER_BUF_INIT(HEADS_FILE_MAX);
	char path[4200], now[32];
	json_t *j = NULL, *h = NULL, *o;
	int r;

	if (len > COFFER_AUDITLOG_HEAD_MAX)
		return coffer_errf(COFFER_E_LIMIT, "tree head too long");
	if ((r = coffer_auditlog_head_verify(env, len, cc->pin.id.sign_pk,
	    &cc->head)) != 0 ||
	    (r = heads_load(cc, path, sizeof(path), &j)) != 0)
		goto out;
	if ((h = json_loadb(env, len, 0, NULL)) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	coffer_time_format(coffer_wall_ms() / 1000, now, sizeof(now));
	o = json_pack("{s:O, s:s, s:s}", "head", h, "url", cc->pin.url, "kept_at",
	    now);
	if (o == NULL || json_object_set_new(json_object_get(j, "heads"),
	    cc->pin.fingerprint, o) != 0) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	if ((r = coffer_json_dump(j, &out)) != 0 ||
	    (r = coffer_buf_puts(&out, "\n")) != 0 ||
	    (r = coffer_file_write_atomic(path, out.data, out.len, 0600, 0)) != 0)
		goto out;
	memcpy(cc->head_env, env, len);
	cc->head_env[len] = '\0';
	cc->has_head = 1;
out:
	json_decref(h);
	json_decref(j);
	coffer_buf_release(&out);
	return r;
}

int
cli_log_get(const struct cli_coord *cc, const char *path, struct coffer_buf *raw)
{
	long code = 0;
	int r;

	if ((r = cli_coord_http(cc->pin.url, "GET", path, NULL, 0, &code, NULL,
	    raw)) != 0)
		return r;
	if (code != 200)
		return coffer_errf(COFFER_E_PROTO, "%s%s: HTTP %ld: %.200s",
		    cc->pin.url, path, code, raw->len ? coffer_buf_str(raw) : "");
	return 0;
}

int
cli_head_check(struct cli_coord *cc, struct cli_head_seen *seen)
{
	struct coffer_buf text = COFFER_BUF_INIT(COFFER_AUDITLOG_HEAD_MAX);
	struct coffer_buf pr = COFFER_BUF_INIT(64 * 1024);
	coffer_merkle_hash proof[COFFER_MERKLE_MAX_CONSISTENCY];
	struct coffer_tree_head peek;
	uint64_t from = 0, to = 0;
	size_t np = 0;
	char path[128];
	int r;

	memset(seen, 0, sizeof(*seen));
	if ((r = cli_log_get(cc, "/v1/log/head", &text)) != 0)
		goto out;
	/* The consistency proof from the kept size, if the log grew (H6,
	 * H7); a head that does not verify is H1 below either way. */
	if (cc->has_head && coffer_auditlog_head_verify(coffer_buf_str(&text),
	    text.len, cc->pin.id.sign_pk, &peek) == 0 && peek.size > cc->head.size) {
		snprintf(path, sizeof(path), "/v1/log/consistency?from=%llu&to=%llu",
		    (unsigned long long)cc->head.size, (unsigned long long)peek.size);
		if ((r = cli_log_get(cc, path, &pr)) != 0 ||
		    (r = coffer_auditlog_proof_parse(coffer_buf_str(&pr), pr.len, 1,
		    &from, &to, proof, &np)) != 0)
			goto out;
		if (from != cc->head.size || to != peek.size) {
			r = coffer_errf(COFFER_E_PROTO, "%s: a consistency proof for "
			    "another pair of sizes", cc->pin.url);
			goto out;
		}
	}
	if ((r = coffer_auditlog_client(cc->has_head ? &cc->head : NULL,
	    coffer_buf_str(&text), text.len, cc->pin.id.sign_pk,
	    (const coffer_merkle_hash *)proof, np, &seen->outcome,
	    &seen->now)) != 0)
		goto out;
	if (seen->outcome != COFFER_LOG_BAD_SIGNATURE) {
		memcpy(seen->env, text.data, text.len);
		seen->env[text.len] = '\0';
	}
	if (seen->outcome == COFFER_LOG_FIRST || seen->outcome == COFFER_LOG_ADVANCED)
		r = cli_head_keep(cc, coffer_buf_str(&text), text.len);
out:
	coffer_buf_release(&text);
	coffer_buf_release(&pr);
	return r;
}

int
cli_head_follow(struct cli_coord *cc)
{
	int r;

	if ((r = cli_head_load(cc)) != 0)
		return r;
	return cli_head_refresh(cc);
}

int
cli_head_refresh(struct cli_coord *cc)
{
	struct cli_head_seen seen;
	long code = 0;
	int r;

	if ((r = cli_head_check(cc, &seen)) != 0)
		return r;
	switch (seen.outcome) {
	case COFFER_LOG_FIRST:
	case COFFER_LOG_SAME:
	case COFFER_LOG_ADVANCED:
		return 0;
	case COFFER_LOG_BAD_SIGNATURE:
		return coffer_errf(COFFER_E_SIGNATURE, "the coordinator at %s "
		    "answered a log head its pinned key did not sign", cc->pin.url);
	default:
		break;
	}
	/* Tell the coordinator: it records the rollback and stops releasing
	 * keys until the owners approve again (audit-log.md 6.2). */
	(void)!cli_coord_call(cc, "GET", "/v1/policies", NULL, 0, &code, NULL, NULL);
	cc->log_exit = coffer_auditlog_outcome_exit(seen.outcome);
	fprintf(stderr, "coffer: the head you kept:\n%s\ncoffer: the head the "
	    "coordinator shows now:\n%s\n", cc->head_env, seen.env);
	return coffer_errf(COFFER_E_UNTRUSTED, "%s: the coordinator at %s shows "
	    "a log of %llu entries; you verified %llu entries before, and %s. It "
	    "runs from an older or another copy of its state. Both heads above "
	    "are signed by its key. Compare with the other owners ('coffer audit "
	    "verify'); to go on with its current log, 'coffer audit accept', then "
	    "approve your policies again",
	    coffer_auditlog_outcome_name(seen.outcome), cc->pin.url,
	    (unsigned long long)seen.now.size, (unsigned long long)cc->head.size,
	    seen.outcome == COFFER_LOG_ROLLBACK ? "it now shows fewer" :
	    "its log does not extend the one you verified (a fork)");
}

int
cli_head_header(const struct cli_coord *cc, char *out, size_t outlen)
{
	struct coffer_buf b = COFFER_BUF_INIT(4096);
	int r, n;

	out[0] = '\0';
	if (!cc->has_head)
		return 0;
	if ((r = coffer_b64url_put(&b, (const uint8_t *)cc->head_env,
	    strlen(cc->head_env))) != 0)
		goto out;
	n = snprintf(out, outlen, "Coffer-Seen-Head: %s", coffer_buf_str(&b));
	if (n < 0 || (size_t)n >= outlen)
		r = coffer_errf(COFFER_E_LIMIT, "Coffer-Seen-Head too long");
out:
	coffer_buf_release(&b);
	return r;
}
