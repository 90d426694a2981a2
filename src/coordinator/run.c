// SPDX-License-Identifier: Apache-2.0
// The coordinator daemon's life (coord.h): lock the data directory, open
// the state, load or make the identity, get evidence, listen; on SIGINT,
// SIGTERM or SIGHUP commit the pending group of item proofs, stop listening, close
// the state and wipe the keys. Every answer was committed before it was
// sent, so stopping loses nothing.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "coordinator/group.h"
#include "coordinator/waiters.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/signals.h"

/* SIGINT, SIGTERM or SIGHUP, each logged with its sender (lib/signals.h,
 * doc/coordinator.md "Stopping"). */
static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct coord *c = arg;
	struct coffer_signal s;
	int any = 0;

	(void)fd;
	(void)what;
	while (coffer_signal_take(&s)) {
		coffer_signal_log(&s, "stopping");
		any = 1;
	}
	if (!any)
		return;
	/* G2: the pending group is committed, its answers on their way. */
	coord_group_flush(c->group);
	event_base_loopexit(c->base, NULL);
}

static void
banner(const struct coord *c)
{
	if (!c->insecure)
		return;
	/* On stderr whatever the log format: an operator must not miss it. */
	fprintf(stderr,
	    "**********************************************************************\n"
	    "*** %s ***\n"
	    "*** backend 'sim': the keys this coordinator holds are readable by ***\n"
	    "*** anyone with access to this host. Never use it for real data.   ***\n"
	    "**********************************************************************\n",
	    COORD_SIM_WARNING);
}

/* Workers' evidence verifies to the compiled-in roots with the collateral
 * given and the collateral pushed before (collcache.h, loaded from the
 * state: offline, nothing fetched); which sim platform keys are accepted
 * (INSECURE) is each policy's verification object's to say, not the
 * coordinator's. */
static int
load_trust(struct coord *c)
{
	int r;

	if ((r = coffer_tee_anchors_new_default(&c->anchors)) != 0 ||
	    (r = coffer_tee_collateral_new(c->anchors, &c->collateral)) != 0)
		return r;
	for (size_t i = 0; i < c->cfg.n_collateral; i++)
		if ((r = coffer_tee_collateral_add_path(c->collateral,
		    c->cfg.collateral[i])) != 0)
			return r;
	return coord_coll_load(c);
}

/* Forget presented nonces once they expired, so memory follows the rate
 * of releases, not their total. */
static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct coord *c = arg;

	(void)fd;
	(void)what;
	coord_nonces_sweep(c->nonces, coffer_mono_ms());
	coord_standbys_sweep(c->standbys, coffer_mono_ms());
}

/* The loop. With the changelist, a connection's read event turned off
 * for its handler and on again for its next request in one turn of the
 * loop costs no epoll_ctl(2): a tenth of the CPU of a proof sent one per
 * request from many workers (BENCHMARKS.md, "Coordinator ledger"). The
 * changelist's caveat (a file descriptor dup(2)ed into the loop) does not
 * apply: every descriptor is a socket of its own. */
static int
new_base(struct event_base **out)
{
	struct event_config *cfg = event_config_new();
	struct event_base *b = NULL;

	if (cfg != NULL &&
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == 0)
		b = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (b == NULL)
		return coffer_errf(COFFER_E_NOMEM, "event_base_new failed");
	*out = b;
	return 0;
}

int
coord_open(const struct coord_config *cfg, struct coord **out)
{
	struct coord *c = NULL;
	struct http_server_opts ho;
	uint8_t key[32], state_id[16];
	int r;

	if ((c = coffer_calloc(1, sizeof(*c))) == NULL)
		return COFFER_E_NOMEM;
	c->cfg = *cfg;
	c->lock_fd = -1;
	c->start_ms = coffer_wall_ms();
	if (c->cfg.nonce_ttl_ms <= 0)
		c->cfg.nonce_ttl_ms = COORD_NONCE_TTL_MS_DEFAULT;
	if (c->cfg.standby_ttl_ms <= 0)
		c->cfg.standby_ttl_ms = COORD_STANDBY_TTL_MS_DEFAULT;
	if (c->cfg.standby_max == 0)
		c->cfg.standby_max = COORD_STANDBY_MAX_DEFAULT;
	/* Every file the coordinator makes holds or indexes secrets. */
	umask(077);
	if ((r = coord_datadir_open(c)) != 0 ||
	    (r = coord_state_key(c, key, state_id)) != 0 ||
	    (r = coord_state_open(c->data_abs, key, state_id, &c->st)) != 0 ||
	    (r = coord_identity_setup(c)) != 0 ||
	    (r = coord_recovery_setup(c, key, state_id)) != 0 ||
	    (r = coord_book_new(c->st, &c->book)) != 0 ||
	    (r = coord_ledger_new(c, &c->ledger)) != 0 ||
	    (r = coord_keycache_new(&c->keys)) != 0 ||
	    (r = coord_nonces_new(c->cfg.nonce_ttl_ms, COORD_NONCE_USED_MAX,
	    &c->nonces)) != 0 ||
	    (r = coord_standbys_new(c->cfg.standby_ttl_ms, c->cfg.standby_max,
	    COORD_STANDBY_BYTES_MAX, &c->standbys)) != 0 ||
	    (r = load_trust(c)) != 0 ||
	    (r = coord_log_start(c)) != 0)
		goto fail;
	if ((r = new_base(&c->base)) != 0)
		goto fail;
	/* The group commit runs when nothing else is ready (group.h). */
	if (event_base_priority_init(c->base, COORD_PRIORITIES) != 0) {
		r = coffer_errf(COFFER_E_INTERNAL, "event_base_priority_init failed");
		goto fail;
	}
	if ((r = coord_group_new(c, &c->group)) != 0 ||
	    (r = coord_waiters_new(c, &c->waiters)) != 0)
		goto fail;
	memset(&ho, 0, sizeof(ho));
	ho.listen = c->cfg.listen;
	ho.max_body = COORD_BODY_CAP;
	ho.max_conns = COORD_MAX_CONNS;
	ho.max_conns_per_client = COORD_MAX_CONNS;
	ho.routes = coord_routes;
	ho.nroutes = coord_nroutes;
	ho.ctx = c;
	ho.before = coord_before_route;
	if ((r = http_server_new(c->base, &ho, &c->http)) != 0)
		goto fail;
	coffer_wipe(key, sizeof(key));
	*out = c;
	return 0;
fail:
	coffer_wipe(key, sizeof(key));
	coord_close(c);
	return r;
}

void
coord_close(struct coord *c)
{
	if (c == NULL)
		return;
	/* Commits what is pending (its answers are dropped with the
	 * connections: the workers send those proofs again, C1). The held
	 * requests first: coord_waiters_free commits the group before it
	 * answers them (LW4, JW4), the commit waking those it closed. */
	coord_waiters_free(c->waiters);
	c->waiters = NULL;
	coord_group_free(c->group);
	if (c->http != NULL)
		http_server_free(c->http);
	for (size_t i = 0; i < 2; i++)
		if (c->sig_ev[i] != NULL)
			event_free(c->sig_ev[i]);
	if (c->sweep_ev != NULL)
		event_free(c->sweep_ev);
	if (c->base != NULL)
		event_base_free(c->base);
	coord_nonces_free(c->nonces);
	coord_standbys_free(c->standbys);
	coord_keycache_free(c->keys);
	coffer_tee_collateral_free(c->collateral);
	coffer_tee_anchors_free(c->anchors);
	coord_ledger_free(c->ledger); /* before the state: it holds statements */
	coord_book_free(c->book);
	coord_identity_release(c);
	free(c->recovery_env);
	coord_state_close(c->st);
	coord_datadir_close(c);
	coffer_wipe(c, sizeof(*c));
	free(c);
}

int
coord_run(const struct coord_config *cfg)
{
	struct coord *c = NULL;
	struct timeval sweep;
	char url[300], line[302];
	int r;

	signal(SIGPIPE, SIG_IGN);
	if ((r = coord_open(cfg, &c)) != 0)
		return r;
	banner(c);
	if ((r = coffer_signal_watch_stop(NULL)) < 0) {
		r = COFFER_E_INTERNAL;
		goto out;
	}
	c->sig_ev[0] = event_new(c->base, r, EV_READ | EV_PERSIST, on_signal, c);
	c->sweep_ev = event_new(c->base, -1, EV_PERSIST, on_sweep, c);
	sweep.tv_sec = c->cfg.nonce_ttl_ms / 1000 + 1;
	sweep.tv_usec = 0;
	if (c->sig_ev[0] == NULL || c->sweep_ev == NULL ||
	    event_add(c->sig_ev[0], NULL) != 0 ||
	    event_add(c->sweep_ev, &sweep) != 0) {
		r = coffer_errf(COFFER_E_INTERNAL, "cannot watch signals");
		goto out;
	}
	http_server_url(c->http, c->cfg.listen, url, sizeof(url));
	if ((r = coord_datadir_note_url(c, url)) != 0)
		goto out;
	if (c->cfg.ready_file != NULL) {
		/* Written once the socket listens: a script may poll for it. */
		snprintf(line, sizeof(line), "%s\n", url);
		if ((r = coffer_file_write_atomic(c->cfg.ready_file, line,
		    strlen(line), 0644, 0)) != 0)
			goto out;
	}
	coffer_logkv(COFFER_LOG_INFO, "coordinator started", "url", url,
	    "data", c->data_abs, "backend", coffer_tee_backend_name(c->cfg.backend),
	    "identity", c->fingerprint, "insecure", c->insecure ? "yes" : "no",
	    NULL);
	if (event_base_dispatch(c->base) < 0) {
		r = coffer_errf(COFFER_E_INTERNAL, "event loop failed");
		goto out;
	}
	coffer_info("stopped");
	r = 0;
out:
	coord_close(c);
	return r;
}

uint64_t
coord_now(void)
{
	return (uint64_t)(coffer_wall_ms() / 1000);
}
