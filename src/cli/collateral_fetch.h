/* SPDX-License-Identifier: Apache-2.0 */
/* `coffer collateral fetch`: which pieces evidence needs and from where
 * (doc/protocol/collateral.md sections 1 and 2), fetching them, checking
 * them as the coordinator will, and writing those that pass. */
#ifndef COFFER_CLI_COLLATERAL_FETCH_H
#define COFFER_CLI_COLLATERAL_FETCH_H

#include <stddef.h>

#include "cli/fetch_http.h"
#include "coffer/tee.h"
#include "lib/buf.h"

#define CLI_COLL_DEFAULT_PCS "https://api.trustedservices.intel.com"
#define CLI_COLL_DEFAULT_ROOT_CRL \
	"https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
#define CLI_COLL_DEFAULT_KDS "https://kdsintf.amd.com"

/* Where to ask (section 2). URLs without a trailing slash. */
struct cli_coll_src {
	const char *intel;     /* Intel PCS, or the PCCS when pccs */
	int pccs;
	const char *root_crl;  /* Intel's root CA CRL (not with pccs) */
	const char *kds;       /* AMD KDS */
	const char *update;    /* "early", "standard", or NULL */
};

/* One request and what came of it. */
struct cli_coll_item {
	char what[160];        /* "TCB Info (SGX, FMSPC 00A067110000)" */
	char url[1024];
	char file[128];        /* the name it is written as */
	const char *chain_hdr[2];  /* headers carrying its issuer chain, or NULL */
	char chain_file[128];
	int rank;              /* checking order: CRLs 1, TCB Info 2, VCEK 3 */
	enum coffer_tee_coll_kind expect_kind; /* what the answer must be */
	char expect_slot[64];  /* and its slot, when known ("" otherwise) */
	char missing[384];     /* what a 404 means and what to do */
	/* results */
	int err;               /* 0: fetched (and, after check, accepted) */
	struct coffer_buf body, chain;
	struct coffer_tee_collateral_file desc, chain_desc;
	int written;
};

struct cli_coll_plan {
	struct cli_coll_item *items;
	size_t n;
};

void cli_coll_plan_release(struct cli_coll_plan *p);

/* Add the requests platform pl needs (repeats are merged). Errors:
 * COFFER_E_LIMIT (a URL too long), COFFER_E_NOMEM. */
int cli_coll_plan_add(struct cli_coll_plan *p, const struct cli_coll_src *s,
    const struct coffer_tee_platform *pl) __attribute__((warn_unused_result));

/* Fetch every item; each item's err says how it went (the detail is
 * printed to stderr as "coffer collateral fetch: ..."). */
void cli_coll_fetch(struct cli_coll_plan *p, const struct cli_fetch_opts *o);

/* Check what was fetched strictly (section 2.4) with the default anchors;
 * items that fail get err set and their message printed. */
int cli_coll_check(struct cli_coll_plan *p) __attribute__((warn_unused_result));

/* Write the accepted items into dir (created if missing). */
int cli_coll_write(struct cli_coll_plan *p, const char *dir)
	__attribute__((warn_unused_result));

#endif
