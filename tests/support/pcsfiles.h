/* SPDX-License-Identifier: Apache-2.0 */
/* The files Intel PCS serves for a platform (the TCB Info and QE Identity
 * bodies, their issuer chain, the PCK CRL and its chain, the root CA CRL),
 * rebuilt from a recorded dcap-qvl collateral file under tests/vectors, as
 * `coffer collateral fetch` writes them (doc/protocol/collateral.md). */
#ifndef COFFER_TESTS_PCSFILES_H
#define COFFER_TESTS_PCSFILES_H

#include "lib/buf.h"

struct tt_pcs {
	char *tcb, *qe;               /* {"tcbInfo":...,"signature":...}, ... */
	char *chain, *pck_crl_chain;  /* PEM */
	struct coffer_buf pck_crl, root_crl; /* DER */
};

/* Load tests/vectors/<rel>; COFFER_E_NOTFOUND / _FORMAT. */
int tt_pcs_load(const char *rel, struct tt_pcs *out)
	__attribute__((warn_unused_result));
void tt_pcs_free(struct tt_pcs *p);

#endif
