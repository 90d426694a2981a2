// SPDX-License-Identifier: Apache-2.0
// The coordinator's identity (doc/coordinator.md section 2): an Ed25519
// key that signs the answers owners rely on and an X25519 key that owners
// wrap their data keys to. Both are made inside the TEE at the first start
// and never change (owners pinned them); the evidence binds both through
// its report data, so an owner who verified the evidence knows that only
// the measured code holds the secret halves.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "crypto/dh.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "proto/coord_identity.h"

#define ID_NAME "coordinator"

/* The identity and the root secret are made together, in one commit, at
 * the first start; later starts load both. */
static int
load_or_make(struct coord *c)
{
	int r;

	r = coord_state_identity_get(c->st, &c->id);
	if (r == 0) {
		if ((r = coord_state_root_get(c->st, c->root)) == COFFER_E_NOTFOUND)
			r = coffer_errf(COFFER_E_STATE, "state: an identity without a "
			    "root secret");
		return r;
	}
	if (r != COFFER_E_NOTFOUND)
		return r;
	if ((r = coffer_identity_generate(ID_NAME, &c->id)) != 0 ||
	    (r = coffer_random(c->root, sizeof(c->root))) != 0 ||
	    (r = coord_state_begin(c->st)) != 0)
		goto fail;
	if ((r = coord_state_identity_put(c->st, &c->id)) != 0 ||
	    (r = coord_state_root_put(c->st, c->root)) != 0 ||
	    (r = coord_state_commit(c->st)) != 0) {
		coord_state_rollback(c->st);
		goto fail;
	}
	coffer_info("first start: made the coordinator identity and root secret");
	return 0;
fail:
	coffer_identity_wipe(&c->id);
	coffer_wipe(c->root, sizeof(c->root));
	return r;
}

int
coord_identity_setup(struct coord *c)
{
	struct coffer_tee_backend_opts bo;
	struct coffer_buf line = COFFER_BUF_INIT(sizeof(c->id_line));
	int r;

	if ((r = load_or_make(c)) != 0 ||
	    (r = coffer_dh_key_new(c->id.kx_sk, &c->kx)) != 0)
		return r;
	if ((r = coffer_identity_format_public(&c->id.pub, &line)) != 0 ||
	    (r = coffer_identity_fingerprint(&c->id.pub, c->fingerprint)) != 0)
		goto out;
	memcpy(c->id_line, line.data, line.len + 1);
	if ((r = coffer_coord_identity_report_data(c->id.pub.sign_pk,
	    c->id.pub.kx_pk, c->report_data)) != 0)
		goto out;
	/* Made once and served as is: it binds keys that never change. The
	 * sim backend measures this executable (/proc/self/exe). */
	memset(&bo, 0, sizeof(bo));
	bo.sim_dir = c->cfg.sim_dir;
	bo.device_root = c->cfg.device_root;
	if ((r = coffer_tee_evidence_get(c->cfg.backend, c->report_data, &bo,
	    &c->evidence, &c->evidence_len)) != 0) {
		r = coffer_errctx(r, "getting evidence from the %s backend",
		    coffer_tee_backend_name(c->cfg.backend));
		goto out;
	}
	c->insecure = c->cfg.backend == COFFER_TEE_BACKEND_SIM;
out:
	coffer_buf_release(&line);
	return r;
}

void
coord_identity_release(struct coord *c)
{
	coffer_identity_wipe(&c->id);
	coffer_dh_key_free(c->kx); /* clears the secret */
	c->kx = NULL;
	coffer_wipe(c->root, sizeof(c->root));
	free(c->evidence);
	c->evidence = NULL;
	c->evidence_len = 0;
}
