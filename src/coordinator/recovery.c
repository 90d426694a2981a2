// SPDX-License-Identifier: Apache-2.0
// The state key at start-up, and recovery with k of n owners
// (doc/format/sealed-state.md sections 5 and 9, doc/format/recovery.md):
// unseal state.key with this TEE's sealing key, or make a new state key at
// the first start; when it cannot be unsealed and the operator asked for
// it (--recover), serve only the recovery routes until k owners have
// handed their shares to this attested instance, rebuild the key, check
// that it opens this state and seal it to this platform. The record of
// who holds shares is made once, kept in the state and in
// DIR/recovery.json (readable without the key, for a recovery).
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "coordinator/statekey.h"
#include "crypto/dh.h"
#include "crypto/pagecrypt.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "proto/recovery.h"
#include "proto/signed.h"

#define RECORD_FILE "recovery.json"

static void
path_of(const struct coord *c, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", c->data_abs, name);
}

static int
exists(const struct coord *c, const char *name)
{
	char p[4200];
	struct stat st;

	path_of(c, name, p, sizeof(p));
	return stat(p, &st) == 0;
}

/* ------------------------------------------------------------------
 * Recovery mode (doc/format/recovery.md sections 5 and 6)
 */

struct rec_mode {
	struct coord *c;
	struct coffer_recovery_record rec;
	struct coffer_buf env;           /* the record's envelope text */
	uint8_t sk[32], pk[32];          /* the session key (secret half wiped) */
	uint8_t *evidence;
	size_t evidence_len;
	char reason[512];                /* why the key could not be unsealed */
	uint8_t have[COFFER_RECOVERY_MAX_OWNERS];
	uint8_t y[COFFER_RECOVERY_MAX_OWNERS][32]; /* shares received: secret */
	unsigned received;
	int done;
	uint8_t key[32];                 /* the rebuilt state key */
	const struct coffer_tee_sealing *seal; /* NULL: no sealing key (TDX) */
	struct event_base *base;
	struct http_server *http;
	struct event *drain_ev;
	int drain_ticks;
};

static void
rec_healthz(struct http_req *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "status", "recovering"));
}

static void
rec_status(struct http_req *r)
{
	struct rec_mode *m = r->ctx;
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)2 << 20);
	char pk[65];
	json_t *j = NULL, *env = NULL;

	coffer_hex_encode(m->pk, 32, pk);
	if (coffer_b64url_put(&ev, m->evidence, m->evidence_len) != 0 ||
	    coffer_json_parse((const char *)m->env.data, m->env.len,
	    COFFER_SIGNED_MAX, 32, &env) != 0) {
		coffer_buf_release(&ev);
		http_reply_coffer_err(r, COFFER_E_INTERNAL);
		return;
	}
	j = json_pack("{s:s, s:o, s:s, s:s, s:i, s:i, s:s}", "mode", "recovering",
	    "record", env, "session_pk", pk, "evidence", (const char *)ev.data,
	    "received", (int)m->received, "threshold", (int)m->rec.threshold,
	    "reason", m->reason);
	coffer_buf_release(&ev);
	http_reply_json(r, 200, j);
}

/* Once recovered: stop the recovery loop when the last answer has left
 * (its connection closed), or after 2 s if a client keeps it open. */
static void
drain(evutil_socket_t fd, short what, void *arg)
{
	struct rec_mode *m = arg;
	struct http_server_stats hs;

	(void)fd;
	(void)what;
	http_server_stats(m->http, &hs);
	if (hs.open == 0 || ++m->drain_ticks > 200)
		event_base_loopexit(m->base, NULL);
}

/* k shares are in: rebuild, check against this state, seal (RS5). */
static int
finish(struct rec_mode *m)
{
	struct coord_state *st = NULL;
	struct coffer_identity id;
	uint8_t xs[COFFER_RECOVERY_MAX_OWNERS], ys[COFFER_RECOVERY_MAX_OWNERS][32];
	unsigned n = 0;
	int r;

	memset(&id, 0, sizeof(id));
	for (unsigned i = 0; i < m->rec.n && n < m->rec.threshold; i++)
		if (m->have[i]) {
			xs[n] = (uint8_t)m->rec.shares[i].x;
			memcpy(ys[n++], m->y[i], 32);
		}
	r = coffer_recovery_combine(&m->rec, xs, (const uint8_t (*)[32])ys, n,
	    m->key);
	coffer_wipe(ys, sizeof(ys));
	if (r != 0)
		return r;
	/* The key must open this state, whose identity must be the record's
	 * coordinator: the record on disk is not trusted. */
	if ((r = coord_state_open(m->c->data_abs, m->key, m->rec.state_id,
	    &st)) != 0 || (r = coord_state_identity_get(st, &id)) != 0)
		goto out;
	if (memcmp(id.pub.sign_pk, m->rec.coordinator.sign_pk, 32) != 0 ||
	    memcmp(id.pub.kx_pk, m->rec.coordinator.kx_pk, 32) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "the recovered state's identity is not "
		    "the coordinator the recovery record names");
		goto out;
	}
	if (m->seal != NULL && (r = statekey_store(m->c->data_abs, m->seal,
	    m->rec.state_id, m->key, 0)) != 0)
		goto out;
out:
	coffer_identity_wipe(&id);
	coord_state_close(st);
	return r;
}

static void
rec_share(struct http_req *r)
{
	struct rec_mode *m = r->ctx;
	unsigned i;
	uint8_t y[32];
	int e;

	if (m->done) {
		coord_refuse(r, "recovery.not_recovering", NULL, "the state is "
		    "recovered; the coordinator is starting");
		return;
	}
	e = coffer_recovery_submit_open(&m->rec, r->body, r->body_len, m->sk,
	    m->pk, &i, y);
	if (e == COFFER_E_FORMAT || e == COFFER_E_LIMIT) {              /* RS1 */
		coord_refuse_err(r, e, "request.malformed");
		return;
	}
	if (e == COFFER_E_NOTFOUND) {                                  /* RS2 */
		coord_refuse(r, "recovery.unknown_owner", "owner", "%s",
		    coffer_errdetail());
		return;
	}
	if (e != 0) {                                                  /* RS3, RS4 */
		coord_refuse(r, strstr(coffer_errdetail(), "commitment") ?
		    "recovery.bad_share" : "recovery.bad_wrap", "share", "%s",
		    coffer_errdetail());
		return;
	}
	if (!m->have[i]) {
		m->have[i] = 1;
		m->received++;
	}
	memcpy(m->y[i], y, 32);
	coffer_wipe(y, sizeof(y));
	coffer_logkv(COFFER_LOG_INFO, "recovery share accepted", "owner",
	    m->rec.shares[i].owner.name, NULL);
	if (m->received >= m->rec.threshold) {
		if ((e = finish(m)) != 0) {                                /* RS5 */
			coffer_logkv(COFFER_LOG_ERROR, "recovery failed: every share "
			    "received is forgotten", "detail", coffer_errdetail(), NULL);
			coffer_wipe(m->y, sizeof(m->y));
			memset(m->have, 0, sizeof(m->have));
			m->received = 0;
			coord_refuse(r, "recovery.failed", NULL, "%s",
			    coffer_errdetail());
			return;
		}
		m->done = 1;
		coffer_wipe(m->y, sizeof(m->y));
		coffer_info("recovery: the state key is rebuilt and sealed to this "
		    "platform; starting");
		/* Stop the recovery loop once this answer has left. */
		{
			struct timeval tv = { 0, 10000 };

			if ((m->drain_ev = event_new(m->base, -1, EV_PERSIST, drain,
			    m)) == NULL || event_add(m->drain_ev, &tv) != 0)
				event_base_loopexit(m->base, &tv);
		}
	}
	http_reply_json(r, 200, json_pack("{s:i, s:i, s:b}", "received",
	    (int)m->received, "threshold", (int)m->rec.threshold, "recovered",
	    m->done));
}

static const struct http_route rec_routes[] = {
	{ "GET",  "/healthz",           rec_healthz, HTTP_SCOPE_NONE, 0 },
	{ "GET",  "/v1/recovery",       rec_status,  HTTP_SCOPE_NONE, 0 },
	{ "POST", "/v1/recovery/share", rec_share,   HTTP_SCOPE_NONE, 4096 },
};

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static int
load_record(struct coord *c, struct coffer_buf *env,
    struct coffer_recovery_record *rec)
{
	char p[4200];
	int r;

	path_of(c, RECORD_FILE, p, sizeof(p));
	if ((r = coffer_file_read(p, COFFER_SIGNED_MAX, env)) == COFFER_E_NOTFOUND)
		return coffer_errf(COFFER_E_NOTFOUND, "%s is missing: this state has "
		    "no recovery owners, or lost their record; it cannot be "
		    "recovered", p);
	if (r != 0 || (r = coffer_recovery_parse((const char *)env->data,
	    env->len, rec)) != 0)
		return coffer_errctx(r, "%s", p);
	return 0;
}

/* Serve the recovery routes until the state key is rebuilt (key, id). */
static int
recover(struct coord *c, const struct coffer_tee_sealing *seal,
    const char *reason, uint8_t key[32], uint8_t state_id[16])
{
	struct rec_mode *m = NULL;
	struct coffer_tee_backend_opts bo;
	struct http_server_opts ho;
	struct http_server *http = NULL;
	struct event *sig[2] = { NULL, NULL };
	uint8_t rd[64];
	int r;

	if ((m = coffer_calloc(1, sizeof(*m))) == NULL)
		return COFFER_E_NOMEM;
	m->c = c;
	m->seal = seal;
	coffer_buf_init(&m->env, COFFER_SIGNED_MAX);
	snprintf(m->reason, sizeof(m->reason), "%s", reason);
	if ((r = load_record(c, &m->env, &m->rec)) != 0 ||
	    (r = coffer_dh_keygen(m->sk, m->pk)) != 0 ||
	    (r = coffer_recovery_report_data(m->rec.state_id, m->pk, rd)) != 0)
		goto out;
	memset(&bo, 0, sizeof(bo));
	bo.sim_dir = c->cfg.sim_dir;
	bo.device_root = c->cfg.device_root;
	if ((r = coffer_tee_evidence_get(c->cfg.backend, rd, &bo, &m->evidence,
	    &m->evidence_len)) != 0) {
		r = coffer_errctx(r, "recovery evidence");
		goto out;
	}
	if ((m->base = event_base_new()) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "event_base_new failed");
		goto out;
	}
	memset(&ho, 0, sizeof(ho));
	ho.listen = c->cfg.listen;
	ho.max_body = 8192;
	ho.routes = rec_routes;
	ho.nroutes = sizeof(rec_routes) / sizeof(rec_routes[0]);
	ho.ctx = m;
	if ((r = http_server_new(m->base, &ho, &http)) != 0)
		goto out;
	m->http = http;
	if ((sig[0] = evsignal_new(m->base, SIGINT, on_signal, m->base)) == NULL ||
	    (sig[1] = evsignal_new(m->base, SIGTERM, on_signal, m->base)) == NULL ||
	    event_add(sig[0], NULL) != 0 || event_add(sig[1], NULL) != 0) {
		r = coffer_errf(COFFER_E_INTERNAL, "signal events");
		goto out;
	}
	{
		char msg[160], url[64];

		snprintf(msg, sizeof(msg), "RECOVERY: the state key cannot be "
		    "unsealed here; waiting for %u of the %u recovery owners to run "
		    "`coffer coordinator recover`", m->rec.threshold, m->rec.n);
		snprintf(url, sizeof(url), "port %d", http_server_port(http));
		coffer_logkv(COFFER_LOG_WARN, msg, "listening", url, "reason",
		    reason, NULL);
	}
	event_base_dispatch(m->base);
	if (!m->done) {
		r = coffer_errf(COFFER_E_CANCELLED, "stopped before %u of the %u "
		    "owners' shares arrived (%u did)", m->rec.threshold, m->rec.n,
		    m->received);
		goto out;
	}
	memcpy(key, m->key, 32);
	memcpy(state_id, m->rec.state_id, 16);
	r = 0;
out:
	for (int i = 0; i < 2; i++)
		if (sig[i] != NULL)
			event_free(sig[i]);
	if (m->drain_ev != NULL)
		event_free(m->drain_ev);
	http_server_free(http);
	if (m->base != NULL)
		event_base_free(m->base);
	free(m->evidence);
	coffer_buf_release(&m->env);
	coffer_free_secret(m, sizeof(*m));
	return r;
}

/* ------------------------------------------------------------------
 * The state key at start-up
 */

int
coord_state_key(struct coord *c, uint8_t key[32], uint8_t state_id[16])
{
	struct coffer_tee_backend_opts bo;
	struct coffer_tee_sealing seal;
	const struct coffer_tee_sealing *sp = &seal;
	char reason[512];
	int r, created = 0;

	memset(&bo, 0, sizeof(bo));
	bo.sim_dir = c->cfg.sim_dir;
	bo.device_root = c->cfg.device_root;
	r = coffer_tee_sealing_key(c->cfg.backend, &bo, &seal);
	if (r == COFFER_E_UNSUPPORTED) {
		/* TDX: no sealing key. A new state lives on its recovery owners
		 * alone; an existing one needs them at every start. */
		sp = NULL;
		snprintf(reason, sizeof(reason), "%s", coffer_errdetail());
		if (!exists(c, "state.db") && !exists(c, "state.log")) {
			if (c->cfg.recovery_owners == NULL)
				return coffer_errf(COFFER_E_UNSUPPORTED, "%s; a new state "
				    "needs --recovery-owners, or it is lost at the first "
				    "restart", reason);
			if ((r = coffer_random(key, 32)) != 0 ||
			    (r = coffer_random(state_id, 16)) != 0)
				return r;
			coffer_logkv(COFFER_LOG_WARN, "no sealing key: the state key "
			    "lives in memory and with the recovery owners", NULL);
			return 0;
		}
		r = COFFER_E_WRONG_KEY;
	} else if (r != 0) {
		return coffer_errctx(r, "the %s backend's sealing key",
		    coffer_tee_backend_name(c->cfg.backend));
	} else if ((r = statekey_load(c->data_abs, &seal, state_id, key,
	    &created)) == 0) {
		if (created)
			coffer_info("first start: made the state key, sealed to this "
			    "TEE");
		goto out;
	} else {
		snprintf(reason, sizeof(reason), "%s", coffer_errdetail());
	}
	/* Cannot be unsealed (K3 to K7, a missing state.key, TDX). */
	if (!c->cfg.recover) {
		if (r != COFFER_E_WRONG_KEY && r != COFFER_E_NOTFOUND &&
		    r != COFFER_E_AUTH)
			goto out;
		r = coffer_errf(r, "%s", reason);
		goto out;
	}
	r = recover(c, sp, reason, key, state_id);
out:
	coffer_tee_sealing_wipe(&seal);
	return r;
}

/* ------------------------------------------------------------------
 * The record at set-up (doc/format/recovery.md section 1)
 */

/* Identity lines of FILE: one a line, '#' comments and empty lines
 * skipped. */
static int
read_owners(const char *path, struct coffer_identity_public *out, unsigned *n)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)1 << 20);
	char *line, *save = NULL;
	int r;

	*n = 0;
	if ((r = coffer_file_read(path, (size_t)1 << 20, &b)) != 0)
		return coffer_errctx(r, "--recovery-owners %s", path);
	for (line = strtok_r((char *)b.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);

		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (*n == COFFER_RECOVERY_MAX_OWNERS) {
			r = coffer_errf(COFFER_E_LIMIT, "--recovery-owners %s: more than "
			    "%d owners", path, COFFER_RECOVERY_MAX_OWNERS);
			break;
		}
		if ((r = coffer_identity_parse_public(line, len, &out[*n])) != 0) {
			r = coffer_errctx(r, "--recovery-owners %s, owner %u", path,
			    *n + 1);
			break;
		}
		(*n)++;
	}
	coffer_buf_release(&b);
	return r;
}

/* The record's owners and k are those of the options, in order. */
static int
same_set(const struct coffer_recovery_record *rec,
    const struct coffer_identity_public *o, unsigned n, unsigned k)
{
	if (rec->n != n || rec->threshold != k)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (memcmp(rec->shares[i].owner.sign_pk, o[i].sign_pk, 32) != 0 ||
		    memcmp(rec->shares[i].owner.kx_pk, o[i].kx_pk, 32) != 0)
			return 0;
	return 1;
}

int
coord_recovery_setup(struct coord *c, const uint8_t key[32],
    const uint8_t state_id[16])
{
	struct coffer_identity_public owners[COFFER_RECOVERY_MAX_OWNERS];
	struct coffer_buf env = COFFER_BUF_INIT(COFFER_SIGNED_MAX),
	    disk = COFFER_BUF_INIT(COFFER_SIGNED_MAX);
	struct coffer_recovery_record rec;
	struct coffer_pagecrypt pc;
	uint8_t check[32];
	unsigned n = 0, k = c->cfg.recovery_threshold;
	char p[4200];
	int r;

	if (c->cfg.recovery_owners != NULL) {
		if ((r = read_owners(c->cfg.recovery_owners, owners, &n)) != 0)
			goto out;
		if (k == 0)
			k = n;
	}
	r = coord_state_recovery_get(c->st, &env);
	if (r == COFFER_E_NOTFOUND && n == 0) {
		coffer_logkv(COFFER_LOG_WARN, "no recovery owners: if this state key "
		    "cannot be unsealed (another machine or build), the state is "
		    "lost; give --recovery-owners at a start to make a record", NULL);
		r = 0;
		goto out;
	}
	if (r == COFFER_E_NOTFOUND) {
		/* Section 1: made once, from the state key and this identity. */
		if ((r = coffer_pagecrypt_init(&pc, key, state_id)) != 0)
			goto out;
		r = coffer_pagecrypt_key_check(&pc, check);
		coffer_pagecrypt_wipe(&pc);
		if (r != 0 || (r = coffer_recovery_make(&c->id, state_id, key, check,
		    k, owners, n, &env)) != 0 ||
		    (r = coord_state_recovery_put(c->st, (const char *)env.data,
		    env.len)) != 0)
			goto out;
		coffer_logkv(COFFER_LOG_INFO, "made the recovery record", "owners",
		    n == 1 ? "1" : "several", NULL);
	} else if (r != 0) {
		goto out;
	}
	if ((r = coffer_recovery_parse((const char *)env.data, env.len, &rec)) != 0)
		goto out;
	if (n > 0 && !same_set(&rec, owners, n, k)) {
		r = coffer_errf(COFFER_E_STATE, "--recovery-owners and "
		    "--recovery-threshold differ from this state's recovery record "
		    "(%u of %u owners), made at its first start: the owners who can "
		    "recover a state never change", rec.threshold, rec.n);
		goto out;
	}
	if (rec.threshold == 1)
		coffer_logkv(COFFER_LOG_WARN, "recovery threshold 1: any one recovery "
		    "owner can rebuild the state key", NULL);
	/* DIR/recovery.json: what a recovery reads, rewritten if it changed. */
	path_of(c, RECORD_FILE, p, sizeof(p));
	if (coffer_file_read(p, COFFER_SIGNED_MAX, &disk) != 0 ||
	    disk.len != env.len || memcmp(disk.data, env.data, env.len) != 0) {
		if ((r = coffer_file_write_atomic(p, env.data, env.len, 0600, 0)) != 0)
			goto out;
	}
	free(c->recovery_env);
	if ((c->recovery_env = coffer_strdup((const char *)env.data)) == NULL)
		r = COFFER_E_NOMEM;
out:
	coffer_buf_release(&env);
	coffer_buf_release(&disk);
	return r;
}

/* GET /v1/recovery while running (section 6.1). */
void
api_recovery(struct http_req *r)
{
	struct coord *c = r->ctx;
	json_t *env = NULL;

	if (c->recovery_env == NULL) {
		coord_refuse(r, "recovery.none", NULL, "this coordinator has no "
		    "recovery owners");
		return;
	}
	if (coffer_json_parse(c->recovery_env, strlen(c->recovery_env),
	    COFFER_SIGNED_MAX, 32, &env) != 0) {
		http_reply_coffer_err(r, COFFER_E_INTERNAL);
		return;
	}
	http_reply_json(r, 200, json_pack("{s:s, s:o}", "mode", "running",
	    "record", env));
}
