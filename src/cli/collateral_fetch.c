// SPDX-License-Identifier: Apache-2.0
// The requests of `coffer collateral fetch` (doc/protocol/collateral.md
// section 2), and what happens to their answers: each is checked as the
// coordinator will check it before it is written (section 2.4), so a
// broken or forged answer never reaches the directory that `coffer attest
// verify --collateral` and the coordinator read, and each failure says
// what is missing, where it was asked for, and what to do.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/collateral_fetch.h"
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/mem.h"

#define MAX_ITEMS 64

void
cli_coll_plan_release(struct cli_coll_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		coffer_buf_release(&p->items[i].body);
		coffer_buf_release(&p->items[i].chain);
	}
	free(p->items);
	memset(p, 0, sizeof(*p));
}

static int
fmt(char *out, size_t outlen, const char *f, ...) __attribute__((format(printf, 3, 4)));

static int
fmt(char *out, size_t outlen, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(out, outlen, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "collateral fetch: a URL or name "
		    "longer than %zu bytes", outlen - 1);
	return 0;
}

/* A new item, or NULL when one with this URL is planned already. */
static struct cli_coll_item *
item_new(struct cli_coll_plan *p, const char *url, int *err)
{
	struct cli_coll_item *it;

	*err = 0;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].url, url) == 0)
			return NULL;
	if (p->n == MAX_ITEMS) {
		*err = coffer_errf(COFFER_E_LIMIT, "collateral fetch: more than %d "
		    "requests", MAX_ITEMS);
		return NULL;
	}
	if ((it = coffer_reallocarray(p->items, p->n + 1, sizeof(*it))) == NULL) {
		*err = COFFER_E_NOMEM;
		return NULL;
	}
	p->items = it;
	it = &p->items[p->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->url, sizeof(it->url), "%s", url);
	coffer_buf_init(&it->body, CLI_FETCH_BODY_MAX);
	coffer_buf_init(&it->chain, CLI_FETCH_BODY_MAX);
	return it;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static void
upper(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

/* Section 2.1. */
static int
plan_intel(struct cli_coll_plan *p, const struct cli_coll_src *s,
    const struct coffer_tee_platform *pl)
{
	const char *t = pl->tee == COFFER_TEE_TDX ? "tdx" : "sgx";
	const char *T = pl->tee == COFFER_TEE_TDX ? "TDX" : "SGX";
	const char *ca = pl->pck_ca_platform ? "platform" : "processor";
	char F[13], f[13], upd[32] = "", url[1024];
	struct cli_coll_item *it;
	int r;

	coffer_hex_encode(pl->fmspc, 6, f);
	memcpy(F, f, sizeof(F));
	upper(F);
	if (s->update != NULL)
		snprintf(upd, sizeof(upd), "update=%s", s->update);

	if ((r = fmt(url, sizeof(url), "%s/%s/certification/v4/tcb?fmspc=%s%s%s",
	    s->intel, t, F, upd[0] ? "&" : "", upd)) != 0)
		return r;
	if ((it = item_new(p, url, &r)) != NULL) {
		snprintf(it->what, sizeof(it->what), "TCB Info (%s, FMSPC %s)", T, F);
		snprintf(it->file, sizeof(it->file), "intel-%s-tcb-info-%s.json", t, f);
		snprintf(it->chain_file, sizeof(it->chain_file),
		    "intel-%s-tcb-info-%s.chain.pem", t, f);
		it->chain_hdr[0] = "TCB-Info-Issuer-Chain";
		it->chain_hdr[1] = "SGX-TCB-Info-Issuer-Chain";
		it->rank = 2;
		it->expect_kind = COFFER_TEE_COLL_TCB_INFO;
		snprintf(it->expect_slot, sizeof(it->expect_slot), "tcb-info/%s/%s", t, f);
		snprintf(it->missing, sizeof(it->missing), "Intel has no TCB Info for "
		    "FMSPC %s (a platform it does not support)%s", F, s->pccs ?
		    ", or the PCCS has not cached it: refresh the PCCS, or fetch "
		    "from Intel PCS (--intel-pcs)" : "");
	}
	if (r != 0)
		return r;

	if ((r = fmt(url, sizeof(url), "%s/%s/certification/v4/qe/identity%s%s",
	    s->intel, t, upd[0] ? "?" : "", upd)) != 0)
		return r;
	if ((it = item_new(p, url, &r)) != NULL) {
		snprintf(it->what, sizeof(it->what), "QE Identity (%s)", T);
		snprintf(it->file, sizeof(it->file), "intel-%s-qe-identity.json", t);
		snprintf(it->chain_file, sizeof(it->chain_file),
		    "intel-%s-qe-identity.chain.pem", t);
		it->chain_hdr[0] = "SGX-Enclave-Identity-Issuer-Chain";
		it->rank = 2;
		it->expect_kind = COFFER_TEE_COLL_IDENTITY;
		snprintf(it->expect_slot, sizeof(it->expect_slot), "identity/%s",
		    pl->tee == COFFER_TEE_TDX ? "TD_QE" : "QE");
		snprintf(it->missing, sizeof(it->missing), "the service has no %s QE "
		    "Identity%s", T, s->pccs ? " (a PCCS serves it only once it was "
		    "filled from Intel PCS)" : "");
	}
	if (r != 0)
		return r;

	if ((r = fmt(url, sizeof(url), "%s/sgx/certification/v4/pckcrl?ca=%s%s",
	    s->intel, ca, s->pccs ? "" : "&encoding=der")) != 0)
		return r;
	if ((it = item_new(p, url, &r)) != NULL) {
		snprintf(it->what, sizeof(it->what), "PCK CRL (%s CA)", ca);
		snprintf(it->file, sizeof(it->file), "intel-pck-crl-%s.crl", ca);
		snprintf(it->chain_file, sizeof(it->chain_file),
		    "intel-pck-crl-%s.chain.pem", ca);
		it->chain_hdr[0] = "SGX-PCK-CRL-Issuer-Chain";
		it->rank = 1;
		it->expect_kind = COFFER_TEE_COLL_CRL;
		snprintf(it->missing, sizeof(it->missing), "the service has no CRL of "
		    "the PCK %s CA%s", ca, s->pccs ? " (a PCCS serves it only once it "
		    "was filled from Intel PCS)" : "");
	}
	if (r != 0)
		return r;

	if (s->pccs)
		r = fmt(url, sizeof(url), "%s/sgx/certification/v4/rootcacrl", s->intel);
	else
		r = fmt(url, sizeof(url), "%s", s->root_crl);
	if (r != 0)
		return r;
	if ((it = item_new(p, url, &r)) != NULL) {
		snprintf(it->what, sizeof(it->what), "Intel SGX Root CA CRL");
		snprintf(it->file, sizeof(it->file), "intel-root-ca.crl");
		it->rank = 1;
		it->expect_kind = COFFER_TEE_COLL_CRL;
		snprintf(it->missing, sizeof(it->missing), "the service has no root CA "
		    "CRL%s", s->pccs ? " (a PCCS serves it only once it was filled "
		    "from Intel PCS; or give --intel-root-crl without --pccs)" : "");
	}
	return r;
}

/* Section 2.2. */
static int
plan_amd(struct cli_coll_plan *p, const struct cli_coll_src *s,
    const struct coffer_tee_platform *pl)
{
	const struct coffer_tee_snp_tcb *t = &pl->tcb;
	int turin = strcmp(pl->product, "Turin") == 0;
	const char *kind = pl->vlek ? "vlek" : "vcek";
	char hwid[129], prod[16], url[1024], fmc[24] = "";
	struct cli_coll_item *it;
	int r = 0;

	coffer_hex_encode(pl->chip_id, turin ? 8 : 64, hwid);
	snprintf(prod, sizeof(prod), "%s", pl->product);
	lower(prod);
	if (!pl->vlek) {
		if (turin)
			snprintf(fmc, sizeof(fmc), "fmcSPL=%u&", t->fmc);
		if ((r = fmt(url, sizeof(url), "%s/vcek/v1/%s/%s?%sblSPL=%u&teeSPL=%u"
		    "&snpSPL=%u&ucodeSPL=%u", s->kds, pl->product, hwid, fmc,
		    t->bootloader, t->tee, t->snp, t->microcode)) != 0)
			return r;
		if ((it = item_new(p, url, &r)) != NULL) {
			snprintf(it->what, sizeof(it->what), "VCEK (%s, chip %.16s..., "
			    "TCB bl %u tee %u snp %u ucode %u)", pl->product, hwid,
			    t->bootloader, t->tee, t->snp, t->microcode);
			if (turin)
				snprintf(it->file, sizeof(it->file), "amd-%s-vcek-%.16s-%u-%u-"
				    "%u-%u-%u.der", prod, hwid, t->bootloader, t->tee, t->snp,
				    t->microcode, t->fmc);
			else
				snprintf(it->file, sizeof(it->file), "amd-%s-vcek-%.16s-%u-%u-"
				    "%u-%u.der", prod, hwid, t->bootloader, t->tee, t->snp,
				    t->microcode);
			it->rank = 3;
			it->expect_kind = COFFER_TEE_COLL_CERTS;
			snprintf(it->missing, sizeof(it->missing), "KDS knows no VCEK for "
			    "this chip at this TCB (a REPORTED_TCB the firmware never had, "
			    "or a report signed with a VLEK)");
		}
		if (r != 0)
			return r;
	}
	if ((r = fmt(url, sizeof(url), "%s/%s/v1/%s/cert_chain", s->kds, kind,
	    pl->product)) != 0)
		return r;
	if ((it = item_new(p, url, &r)) != NULL) {
		snprintf(it->what, sizeof(it->what), "%s and ARK (%s)", pl->vlek ?
		    "ASVK" : "ASK", pl->product);
		snprintf(it->file, sizeof(it->file), "amd-%s-%s-chain.pem", prod, kind);
		it->rank = 0;
		it->expect_kind = COFFER_TEE_COLL_CERTS;
		snprintf(it->missing, sizeof(it->missing), "KDS has no certificate "
		    "chain for \"%s\"", pl->product);
	}
	if (r != 0)
		return r;
	if ((r = fmt(url, sizeof(url), "%s/%s/v1/%s/crl", s->kds, kind, pl->product)) != 0)
		return r;
	if ((it = item_new(p, url, &r)) != NULL) {
		snprintf(it->what, sizeof(it->what), "ARK CRL (%s, %s)", pl->product,
		    pl->vlek ? "VLEK" : "VCEK");
		snprintf(it->file, sizeof(it->file), "amd-%s-%s.crl", prod, kind);
		it->rank = 1;
		it->expect_kind = COFFER_TEE_COLL_CRL;
		snprintf(it->missing, sizeof(it->missing), "without it the verifier "
		    "refuses the report with crl.missing, unless the verification "
		    "policy has allow_missing_crl");
	}
	return r;
}

int
cli_coll_plan_add(struct cli_coll_plan *p, const struct cli_coll_src *s,
    const struct coffer_tee_platform *pl)
{
	switch (pl->tee) {
	case COFFER_TEE_SGX:
	case COFFER_TEE_TDX:
		return plan_intel(p, s, pl);
	case COFFER_TEE_SEV_SNP:
		return plan_amd(p, s, pl);
	default:
		return 0; /* sim: nothing */
	}
}

/* ------------------------------------------------------------------ */

static void
item_fail(struct cli_coll_item *it, int err, const char *fmtstr, ...)
	__attribute__((format(printf, 3, 4)));

static void
item_fail(struct cli_coll_item *it, int err, const char *fmtstr, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmtstr);
	vsnprintf(msg, sizeof(msg), fmtstr, ap);
	va_end(ap);
	it->err = err;
	fprintf(stderr, "coffer collateral fetch: %s: %s\n", it->what, msg);
}

/* Intel's error headers, quoted when present (R6). */
static void
intel_error(const struct cli_fetch_reply *r, char *out, size_t outlen)
{
	const char *code = cli_fetch_header(r, "Error-Code");
	const char *msg = cli_fetch_header(r, "Error-Message");
	const char *id = cli_fetch_header(r, "Request-ID");

	snprintf(out, outlen, "%s%s%s%s%s%s%s", code || msg || id ? " (" : "",
	    code ? "Error-Code " : "", code ? code : "", msg ? ", " : "",
	    msg ? msg : "", id ? ", Request-ID " : "", id ? id : "");
	if (code || msg || id)
		snprintf(out + strlen(out), outlen - strlen(out), ")");
}

static void
fetch_one(struct cli_coll_item *it, const struct cli_fetch_opts *o)
{
	struct cli_fetch_reply rep;
	const char *chain = NULL;
	char extra[512];
	int r;

	cli_fetch_reply_init(&rep);
	if ((r = cli_fetch_get(o, it->url, &rep)) != 0) {
		item_fail(it, r, "%s", coffer_errdetail());
		goto out;
	}
	intel_error(&rep, extra, sizeof(extra));
	if (rep.status == 404) {
		item_fail(it, COFFER_E_NOTFOUND, "GET %s: HTTP 404: missing%s: %s",
		    it->url, extra, it->missing);
		goto out;
	}
	if (rep.status != 200) {
		item_fail(it, cli_fetch_status_retryable(rep.status) ? COFFER_E_CONNECT :
		    COFFER_E_PROTO, "GET %s: HTTP %ld%s%s", it->url, rep.status, extra,
		    cli_fetch_status_retryable(rep.status) ? ", still after every "
		    "retry: try again later" : "");
		goto out;
	}
	if (rep.body.len == 0) {
		item_fail(it, COFFER_E_PROTO, "GET %s: an empty answer", it->url);
		goto out;
	}
	for (int k = 0; k < 2 && chain == NULL && it->chain_hdr[k] != NULL; k++)
		chain = cli_fetch_header(&rep, it->chain_hdr[k]);
	if (chain != NULL && (r = cli_fetch_url_decode(chain, &it->chain)) != 0) {
		item_fail(it, COFFER_E_PROTO, "GET %s: the %s header: %s", it->url,
		    it->chain_hdr[0], coffer_errdetail());
		goto out;
	}
	if ((r = coffer_buf_put(&it->body, rep.body.data, rep.body.len)) != 0)
		item_fail(it, r, "out of memory");
out:
	cli_fetch_reply_release(&rep);
}

void
cli_coll_fetch(struct cli_coll_plan *p, const struct cli_fetch_opts *o)
{
	for (size_t i = 0; i < p->n; i++)
		fetch_one(&p->items[i], o);
}

/* Add one item (its chain with it) to c, strictly. */
static int
check_one(struct coffer_tee_collateral *c, struct cli_coll_item *it)
{
	struct coffer_tee_collateral_file f[2];
	size_t n = 0;
	int r;

	if (it->chain.len > 0) {
		memset(&f[n], 0, sizeof(f[n]));
		f[n].name = it->chain_file;
		f[n].data = it->chain.data;
		f[n].len = it->chain.len;
		n++;
	}
	memset(&f[n], 0, sizeof(f[n]));
	f[n].name = it->file;
	f[n].data = it->body.data;
	f[n].len = it->body.len;
	n++;
	if ((r = coffer_tee_collateral_add_files(c, f, n, COFFER_TEE_COLL_STRICT |
	    COFFER_TEE_COLL_DRY_RUN)) != 0)
		return r;
	/* A piece that verifies but is not the one asked for (another FMSPC,
	 * the SGX identity for a TDX quote) is as useless as none. */
	if (f[n - 1].kind != it->expect_kind || (it->expect_slot[0] != '\0' &&
	    strcmp(f[n - 1].slot, it->expect_slot) != 0))
		return coffer_errf(COFFER_E_PROTO, "the answer is %s%s%s, not the %s "
		    "asked for", coffer_tee_coll_kind_name(f[n - 1].kind),
		    f[n - 1].slot[0] ? " " : "", f[n - 1].slot, it->expect_slot[0] ?
		    it->expect_slot : coffer_tee_coll_kind_name(it->expect_kind));
	if ((r = coffer_tee_collateral_add_files(c, f, n, COFFER_TEE_COLL_STRICT)) != 0)
		return r;
	it->desc = f[n - 1];
	if (n == 2)
		it->chain_desc = f[0];
	return 0;
}

int
cli_coll_check(struct cli_coll_plan *p)
{
	struct coffer_tee_anchors *a = NULL;
	struct coffer_tee_collateral *c = NULL;
	int r;

	if ((r = coffer_tee_anchors_new_default(&a)) != 0 ||
	    (r = coffer_tee_collateral_new(a, &c)) != 0)
		goto out;
	/* Chains first, then CRLs, TCB Info and identities, VCEKs: each piece
	 * is checked against what passed before it. */
	for (int rank = 0; rank <= 3; rank++)
		for (size_t i = 0; i < p->n; i++) {
			struct cli_coll_item *it = &p->items[i];

			if (it->err != 0 || it->rank != rank)
				continue;
			if ((r = check_one(c, it)) != 0) {
				if (r == COFFER_E_NOMEM)
					goto out;
				item_fail(it, r, "GET %s: refused, not written: %s", it->url,
				    coffer_errdetail());
			}
		}
	r = 0;
out:
	coffer_tee_collateral_free(c);
	coffer_tee_anchors_free(a);
	return r;
}

/* "TCB Info (SGX, ...): evaluation 17, next update ..." */
static void
print_written(const char *dir, const char *file, const char *what,
    const struct coffer_tee_collateral_file *d)
{
	char t[32];

	coffer_time_format(d->expires, t, sizeof(t));
	printf("wrote %s/%s: %s", dir, file, what);
	if (d->kind == COFFER_TEE_COLL_TCB_INFO || d->kind == COFFER_TEE_COLL_IDENTITY)
		printf(", evaluation data number %u", d->eval_num);
	if (d->kind == COFFER_TEE_COLL_CERTS)
		printf(", valid until %s\n", d->expires == INT64_MAX ? "-" : t);
	else
		printf(", next update %s\n", d->expires == INT64_MAX ? "-" : t);
}

static int
write_file(const char *dir, const char *name, const struct coffer_buf *b)
{
	char path[4096];
	int r;

	if ((r = fmt(path, sizeof(path), "%s/%s", dir, name)) != 0)
		return r;
	if ((r = coffer_file_write_atomic(path, b->data, b->len, 0644, 0)) != 0)
		return coffer_errctx(r, "%s", path);
	return 0;
}

int
cli_coll_write(struct cli_coll_plan *p, const char *dir)
{
	char what[192];
	int r;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return coffer_errf(COFFER_E_IO, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i < p->n; i++) {
		struct cli_coll_item *it = &p->items[i];

		if (it->err != 0)
			continue;
		if (it->chain.len > 0) {
			if ((r = write_file(dir, it->chain_file, &it->chain)) != 0)
				return r;
			snprintf(what, sizeof(what), "the issuer chain of the %s", it->what);
			print_written(dir, it->chain_file, what, &it->chain_desc);
		}
		if ((r = write_file(dir, it->file, &it->body)) != 0)
			return r;
		print_written(dir, it->file, it->what, &it->desc);
		it->written = 1;
	}
	return 0;
}
