// SPDX-License-Identifier: Apache-2.0
// `coffer audit`: check the pinned coordinator's audit log
// (doc/format/audit-log.md): its signed head against the head this owner
// kept (the client rule, H1 to H7, with a consistency proof), every entry
// replayed into the signed root, one entry's inclusion proof; and accept
// its current history after a rollback the owners agreed to. Every check
// runs here, with the pinned key: the coordinator's answers are only
// data. Manual: doc/cli.md.
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit_cli.h"
#include "cli/cli.h"
#include "cli/coord_client.h"
#include "coffer/error.h"
#include "lib/enc.h"
#include "proto/merkle.h"

#define USAGE "coffer audit verify|proof|accept|show ... (coffer audit --help)"

static void
help(void)
{
	printf("usage: coffer audit verify [--entries]\n"
	    "       coffer audit proof INDEX\n"
	    "       coffer audit accept\n"
	    "       coffer audit show\n"
	    "  every verb also takes [--coordinator URL] [--pin-file FILE]\n\n"
	    "verify   fetch the coordinator's signed log head, check its signature\n"
	    "         with the pinned key, and check that its log extends the head\n"
	    "         you kept (a consistency proof); keep the new head. With\n"
	    "         --entries, also fetch every entry, check each, recompute the\n"
	    "         root and print the entries, one 'INDEX ENTRY' line each\n"
	    "proof    after verify's checks, fetch entry INDEX and its inclusion\n"
	    "         proof under the kept head, check it and print the entry\n"
	    "accept   keep the coordinator's current head in place of the one you\n"
	    "         kept: after a rollback the owners agreed to; then approve\n"
	    "         your policies again\n"
	    "show     print the head kept for the coordinator (no network)\n\n"
	    "Heads are kept per coordinator identity in the file next to the pin\n"
	    "file (coordinators.heads.json).\n\n"
	    "Exit codes: 0 the log extends what you saw; 4 a signature or a proof\n"
	    "fails; 8 coordinator unreachable; 9 its keys are not the pinned ones;\n"
	    "10 rollback: it shows fewer entries than you verified before; 11\n"
	    "fork: its log does not extend the one you verified.\n");
}

enum { O_COORD = 256, O_PIN, O_ENTRIES };

const struct option cli_audit_options[] = {
	{ "coordinator", required_argument, NULL, O_COORD },
	{ "pin-file", required_argument, NULL, O_PIN },
	{ "entries", no_argument, NULL, O_ENTRIES },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *coord, *pin;
	int entries;
};

static int
parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_audit_options, NULL)) != -1) {
		switch (c) {
		case O_COORD: o->coord = optarg; break;
		case O_PIN: o->pin = optarg; break;
		case O_ENTRIES: o->entries = 1; break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail(cmd, USAGE, cli_audit_options, c, argv);
		}
	}
	if (o->entries && strcmp(cmd, "audit verify") != 0)
		return cli_usage(cmd, USAGE, "--entries is an option of 'audit verify'");
	return -1;
}

/* A head, one line; on f (stderr when stdout carries entries). */
static void
print_head(FILE *f, const char *what, const struct coffer_tree_head *h)
{
	char root[65];

	coffer_hex_encode(h->root, 32, root);
	fprintf(f, "%-9s %" PRIu64 " entries, root %s, signed at %" PRIu64 "\n",
	    what, h->size, root, h->time);
}

/* Replaying entries: each checked (E1 to E4), streamed into the root. */
struct replay {
	struct coffer_merkle_stream s;
	uint64_t next;
	int print;
};

static int
on_entry(uint64_t index, const uint8_t *e, size_t n, void *arg)
{
	struct replay *x = arg;
	coffer_merkle_hash leaf;
	int r;

	if (index != x->next)
		return coffer_errf(COFFER_E_PROTO, "entries: got entry %" PRIu64
		    " where %" PRIu64 " was asked for", index, x->next);
	if ((r = coffer_auditlog_entry_check(e, n, NULL)) != 0)
		return coffer_errctx(r, "log entry %" PRIu64, index);
	if ((r = coffer_merkle_leaf(e, n, leaf)) != 0 ||
	    (r = coffer_merkle_stream_add(&x->s, leaf)) != 0)
		return r;
	if (x->print)
		printf("%" PRIu64 " %.*s\n", index, (int)n, (const char *)e);
	x->next++;
	return 0;
}

static int
replay_all(const struct cli_coord *cc, const struct coffer_tree_head *h)
{
	struct coffer_buf raw = COFFER_BUF_INIT(COFFER_AUDITLOG_ENTRIES_MAX);
	struct replay x;
	coffer_merkle_hash root;
	char path[128];
	uint64_t before;
	int r = 0;

	memset(&x, 0, sizeof(x));
	coffer_merkle_stream_init(&x.s);
	x.print = 1;
	while (x.next < h->size) {
		raw.len = 0;
		before = x.next;
		snprintf(path, sizeof(path), "/v1/log/entries?start=%" PRIu64
		    "&count=%" PRIu64, x.next, h->size - x.next < 256 ?
		    h->size - x.next : 256);
		if ((r = cli_log_get(cc, path, &raw)) != 0 ||
		    (r = coffer_auditlog_entries_parse(coffer_buf_str(&raw), raw.len,
		    on_entry, &x)) != 0)
			goto out;
		if (x.next == before) {
			r = coffer_errf(COFFER_E_PROTO, "entries: no progress");
			goto out;
		}
	}
	/* Entries past the head (the log grew meanwhile) are not asked for;
	 * the root of the first h->size is the head's. */
	if ((r = coffer_merkle_stream_root(&x.s, root)) != 0)
		goto out;
	if (x.next != h->size || memcmp(root, h->root, 32) != 0)
		r = coffer_errf(COFFER_E_AUTH, "the %" PRIu64 " entries the "
		    "coordinator serves do not hash to the root it signed", h->size);
out:
	coffer_buf_release(&raw);
	return r;
}

static int
audit_verify(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_tree_head before;
	int r, rc, had;

	memset(&cc, 0, sizeof(cc));
	if ((rc = parse("audit verify", argc, argv, &o)) >= 0)
		return rc;
	if (argc != optind)
		return cli_usage("audit verify", USAGE, "no arguments expected");
	if ((r = cli_coord_open_pin(o.pin, o.coord, &cc)) != 0 ||
	    (r = cli_head_load(&cc)) != 0)
		return cli_coord_fail(&cc, r, "audit verify");
	had = cc.has_head;
	before = cc.head;
	/* The client rule (H1 to H7); on a rollback or a fork the coordinator
	 * is told, both heads are printed, and the exit status names it. */
	if ((r = cli_head_follow(&cc)) != 0)
		return cli_coord_fail(&cc, r, "audit verify");
	if (had)
		print_head(o.entries ? stderr : stdout, "kept", &before);
	print_head(o.entries ? stderr : stdout, had && before.size == cc.head.size ?
	    "same" : had ? "advanced" : "first", &cc.head);
	if (o.entries && (r = replay_all(&cc, &cc.head)) != 0)
		return cli_coord_fail(&cc, r, "audit verify");
	fprintf(stderr, "coffer audit verify: the log of %s extends every head "
	    "you verified before%s\n", cc.pin.url, o.entries ? "; every entry "
	    "checked and replayed into its root" : "");
	return CLI_OK;
}

/* The one entry of a proof: checked, printed, its leaf hash kept. */
struct one {
	uint64_t index;
	int got;
	coffer_merkle_hash leaf;
};

static int
on_one(uint64_t index, const uint8_t *e, size_t n, void *arg)
{
	struct one *x = arg;
	int r;

	if (index != x->index || x->got)
		return coffer_errf(COFFER_E_PROTO, "entries: not entry %" PRIu64,
		    x->index);
	if ((r = coffer_auditlog_entry_check(e, n, NULL)) != 0)
		return coffer_errctx(r, "log entry %" PRIu64, index);
	if ((r = coffer_merkle_leaf(e, n, x->leaf)) != 0)
		return r;
	printf("%" PRIu64 " %.*s\n", index, (int)n, (const char *)e);
	x->got = 1;
	return 0;
}

static int
audit_proof(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_buf raw = COFFER_BUF_INIT(COFFER_AUDITLOG_ENTRIES_MAX);
	struct coffer_buf pr = COFFER_BUF_INIT(64 * 1024);
	coffer_merkle_hash path[COFFER_MERKLE_MAX_PATH];
	struct one x;
	char url[160], *end = NULL;
	uint64_t a, b;
	size_t np;
	int r, rc;

	memset(&cc, 0, sizeof(cc));
	memset(&x, 0, sizeof(x));
	if ((rc = parse("audit proof", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("audit proof", USAGE, "expected one INDEX");
	x.index = strtoull(argv[optind], &end, 10);
	if (argv[optind][0] < '0' || argv[optind][0] > '9' || *end != '\0')
		return cli_usage("audit proof", USAGE, "INDEX: a log index");
	/* The client rule first: the proof is checked under the kept head. */
	if ((r = cli_coord_open(o.pin, o.coord, &cc)) != 0)
		goto fail;
	if (x.index >= cc.head.size) {
		r = coffer_errf(COFFER_E_NOTFOUND, "index %" PRIu64 ": the log has %"
		    PRIu64 " entries", x.index, cc.head.size);
		goto fail;
	}
	snprintf(url, sizeof(url), "/v1/log/entries?start=%" PRIu64 "&count=1",
	    x.index);
	if ((r = cli_log_get(&cc, url, &raw)) != 0 ||
	    (r = coffer_auditlog_entries_parse(coffer_buf_str(&raw), raw.len,
	    on_one, &x)) != 0)
		goto fail;
	snprintf(url, sizeof(url), "/v1/log/inclusion?index=%" PRIu64 "&size=%"
	    PRIu64, x.index, cc.head.size);
	if ((r = cli_log_get(&cc, url, &pr)) != 0 ||
	    (r = coffer_auditlog_proof_parse(coffer_buf_str(&pr), pr.len, 0, &a, &b,
	    path, &np)) != 0)
		goto fail;
	/* N1 to N4 against the root the coordinator signed. */
	if (!x.got || a != x.index || b != cc.head.size ||
	    coffer_merkle_verify_inclusion(x.leaf, x.index, cc.head.size,
	    (const coffer_merkle_hash *)path, np, cc.head.root) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "entry %" PRIu64 " is not in the log "
		    "under the signed head of %" PRIu64 " entries: its inclusion "
		    "proof fails", x.index, cc.head.size);
		goto fail;
	}
	fprintf(stderr, "coffer audit proof: entry %" PRIu64 " is in the log "
	    "under the signed head of %" PRIu64 " entries\n", x.index,
	    cc.head.size);
	rc = CLI_OK;
	goto done;
fail:
	rc = cli_coord_fail(&cc, r, "audit proof");
done:
	coffer_buf_release(&raw);
	coffer_buf_release(&pr);
	return rc;
}

static int
audit_accept(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_buf text = COFFER_BUF_INIT(COFFER_AUDITLOG_HEAD_MAX);
	struct coffer_tree_head before, now;
	int r, rc, had;

	memset(&cc, 0, sizeof(cc));
	if ((rc = parse("audit accept", argc, argv, &o)) >= 0)
		return rc;
	if (argc != optind)
		return cli_usage("audit accept", USAGE, "no arguments expected");
	if ((r = cli_coord_open_pin(o.pin, o.coord, &cc)) != 0)
		goto fail;
	/* A kept head that no longer verifies is replaced too. */
	if ((r = cli_head_load(&cc)) != 0) {
		(void)cli_fail(r, "audit accept");
		cc.has_head = 0;
	}
	if ((r = cli_log_get(&cc, "/v1/log/head", &text)) != 0)
		goto fail;
	/* H1 only: the head must be the pinned coordinator's; whether it
	 * extends the kept one is what the owner decided to set aside. */
	if ((r = coffer_auditlog_head_verify(coffer_buf_str(&text), text.len,
	    cc.pin.id.sign_pk, &now)) != 0)
		goto fail;
	had = cc.has_head;
	before = cc.head;
	if ((r = cli_head_keep(&cc, coffer_buf_str(&text), text.len)) != 0)
		goto fail;
	if (had)
		print_head(stdout, "replaced", &before);
	print_head(stdout, "kept", &now);
	fprintf(stderr, "coffer audit accept: from now on the log of %s is "
	    "checked against this head; approve your policies again (approvals "
	    "made before a rollback no longer count)\n", cc.pin.url);
	rc = CLI_OK;
	goto done;
fail:
	rc = cli_coord_fail(&cc, r, "audit accept");
done:
	coffer_buf_release(&text);
	return rc;
}

static int
audit_show(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	char path[4096];
	int r, rc;

	memset(&cc, 0, sizeof(cc));
	if ((rc = parse("audit show", argc, argv, &o)) >= 0)
		return rc;
	if (argc != optind)
		return cli_usage("audit show", USAGE, "no arguments expected");
	/* No network: the pin and the kept head only. */
	if ((r = cli_pin_path(o.pin, cc.pin_path, sizeof(cc.pin_path))) != 0 ||
	    (r = cli_pin_get(cc.pin_path, o.coord, &cc.pin)) != 0 ||
	    (r = cli_head_load(&cc)) != 0)
		return cli_fail(r, "audit show");
	if (!cc.has_head) {
		(void)!cli_heads_path(cc.pin_path, path, sizeof(path));
		fprintf(stderr, "coffer audit show: no head kept for %s (%s) in %s\n",
		    cc.pin.url, cc.pin.fingerprint, path);
		return CLI_IO;
	}
	print_head(stdout, "kept", &cc.head);
	printf("%s\n", cc.head_env);
	return CLI_OK;
}

const struct cli_verb cli_audit_verbs[] = {
	{ "verify", audit_verify },
	{ "proof", audit_proof },
	{ "accept", audit_accept },
	{ "show", audit_show },
	{ NULL, NULL },
};

int
cmd_audit(int argc, char **argv)
{
	return cli_dispatch("audit", cli_audit_verbs, USAGE, help, argc, argv);
}
