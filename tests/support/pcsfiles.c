// SPDX-License-Identifier: Apache-2.0
// Intel PCS answers from a dcap-qvl collateral file (pcsfiles.h): the
// signed texts are embedded exactly as Intel signed them, so the bodies
// verify as PCS's own do.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "pcsfiles.h"
#include "vectors.h"

static char *
body(const char *member, const char *text, const char *sig)
{
	size_t n = strlen(member) + strlen(text) + strlen(sig) + 32;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "{\"%s\":%s,\"signature\":\"%s\"}", member, text, sig);
	return s;
}

static const char *
str(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s != NULL ? s : "";
}

int
tt_pcs_load(const char *rel, struct tt_pcs *p)
{
	json_t *j = NULL;
	int r;

	memset(p, 0, sizeof(*p));
	coffer_buf_init(&p->pck_crl, 1 << 20);
	coffer_buf_init(&p->root_crl, 1 << 20);
	if ((r = vec_load(rel, &j)) != 0)
		return r;
	p->tcb = body("tcbInfo", str(j, "tcb_info"), str(j, "tcb_info_signature"));
	p->qe = body("enclaveIdentity", str(j, "qe_identity"),
	    str(j, "qe_identity_signature"));
	p->chain = strdup(str(j, "tcb_info_issuer_chain"));
	p->pck_crl_chain = strdup(str(j, "pck_crl_issuer_chain"));
	if (p->tcb == NULL || p->qe == NULL || p->chain == NULL || p->pck_crl_chain == NULL)
		r = COFFER_E_NOMEM;
	if (r == 0)
		r = coffer_hex_decode_buf(str(j, "pck_crl"), strlen(str(j, "pck_crl")),
		    &p->pck_crl);
	if (r == 0)
		r = coffer_hex_decode_buf(str(j, "root_ca_crl"),
		    strlen(str(j, "root_ca_crl")), &p->root_crl);
	json_decref(j);
	if (r != 0)
		tt_pcs_free(p);
	return r;
}

void
tt_pcs_free(struct tt_pcs *p)
{
	free(p->tcb);
	free(p->qe);
	free(p->chain);
	free(p->pck_crl_chain);
	coffer_buf_release(&p->pck_crl);
	coffer_buf_release(&p->root_crl);
	memset(p, 0, sizeof(*p));
}
