// SPDX-License-Identifier: Apache-2.0
// The verifier's set-up for a coordinator's evidence (trust_cli.h), one
// for every command that judges it, so that `coffer receipt verify` trusts
// exactly what `coffer coordinator verify` trusted when it pinned.
#include "cli/trust_cli.h"
#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/file.h"

int
cli_trust_add(struct cli_trust *t, int collateral, const char *arg)
{
	if ((collateral ? t->n_coll : t->n_sim) == CLI_TRUST_MAX_LIST)
		return -1;
	if (collateral)
		t->coll[t->n_coll++] = arg;
	else
		t->sim_keys[t->n_sim++] = arg;
	return 0;
}

int
cli_trust_make(const struct cli_trust *t, struct coffer_tee_anchors **anchors,
    struct coffer_tee_collateral **coll, struct coffer_tee_policy *tp)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)1 << 20);
	int r;

	coffer_tee_policy_init(tp);
	if (t->verification != NULL &&
	    ((r = coffer_file_read(t->verification, (size_t)1 << 20, &b)) != 0 ||
	    (r = coffer_tee_policy_parse((const char *)b.data, b.len, tp)) != 0)) {
		r = coffer_errctx(r, "--verification %s", t->verification);
		goto out;
	}
	for (size_t i = 0; i < t->n_sim; i++) {
		coffer_buf_reset(&b);
		if (tp->n_sim_keys == COFFER_TEE_POLICY_MAX_SIM_KEYS) {
			r = coffer_errf(COFFER_E_LIMIT, "at most %d sim keys",
			    COFFER_TEE_POLICY_MAX_SIM_KEYS);
			goto out;
		}
		if ((r = coffer_file_read(t->sim_keys[i], (size_t)1 << 20, &b)) != 0 ||
		    (r = coffer_tee_sim_key_fingerprint((const char *)b.data, b.len,
		    tp->sim_keys[tp->n_sim_keys])) != 0) {
			/* Where the file comes from, for one not made yet. */
			if (r == COFFER_E_NOTFOUND)
				r = coffer_errf(r, "--trust-sim-key %s: %s (the sim host's "
				    "public key: 'coffer attest sim-key > %s' on the host "
				    "the coordinator runs on writes it; coffer up prints its "
				    "own as 'sim key')", t->sim_keys[i], coffer_errdetail(),
				    t->sim_keys[i]);
			else
				r = coffer_errctx(r, "--trust-sim-key %s", t->sim_keys[i]);
			goto out;
		}
		tp->n_sim_keys++;
	}
	if ((r = coffer_tee_anchors_new_default(anchors)) != 0)
		goto out;
	if (t->n_coll > 0 && (r = coffer_tee_collateral_new(*anchors, coll)) != 0)
		goto out;
	for (size_t i = 0; i < t->n_coll; i++)
		if ((r = coffer_tee_collateral_add_path(*coll, t->coll[i])) != 0)
			goto out;
out:
	coffer_buf_release(&b);
	return r;
}

int
cli_trust_measurement_hex(const struct coffer_tee_claims *c,
    char out[CLI_TRUST_MEASUREMENT_HEX])
{
	struct coffer_policy_measurement m;
	int r;

	if ((r = coffer_policy_measurement(c, &m)) != 0)
		return r;
	coffer_hex_encode(m.value, m.len, out);
	return 0;
}
