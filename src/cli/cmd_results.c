// SPDX-License-Identifier: Apache-2.0
// `coffer results`: a recipient's side of a confidential job
// (doc/protocol/key-release.md section 7). `fetch` checks the signed
// receipt with the pinned key, gets the job's output key wrapped to the
// recipient (rules RR1 to RR4), checks the final stage's result entries
// against the receipt's root, and copies each OK output from the object
// store after checking its digest and size against its entry; `open`
// decrypts what fetch copied. Nobody but a recipient the policy names can
// unwrap the key, and only the outputs the receipt lists are fetched.
// Manual: doc/cli.md.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/coord_client.h"
#include "cli/sealed_cli.h"
#include "coffer/error.h"
#include "crypto/datakey.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/sealed.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/keyrelease.h"
#include "proto/ledger.h"
#include "proto/merkle.h"
#include "proto/policy.h"
#include "proto/receipt.h"
#include "proto/signed.h"
#include "store/store.h"

#define USAGE "coffer results fetch|open ... (coffer results --help)"
#define KEY_FILE "result.key"
#define RECEIPT_FILE "receipt.json"
/* The largest output fetched: a sealed object of up to 4 GiB. */
#define OUTPUT_MAX ((uint64_t)4 << 30)

static void
help(void)
{
	printf("usage: coffer results fetch JOB --id FILE --store LOCATION\n"
	    "                  [--prefix P] [--out DIR] [--coordinator URL]\n"
	    "                  [--pin-file FILE]\n"
	    "       coffer results open DIR [--out DIR] [--force]\n\n"
	    "fetch  as a recipient the job's policy names (--id, your identity):\n"
	    "       check the job's signed receipt with the pinned coordinator's\n"
	    "       key, get the job's output key wrapped to you, check the final\n"
	    "       stage's results against the receipt, and copy each output\n"
	    "       from the object store (LOCATION, a directory; outputs are\n"
	    "       named <prefix><item>.<attempt>; without --prefix, '' then\n"
	    "       'out/', the workers' defaults) into --out (default\n"
	    "       results-JOB) after checking its digest and size: <item>.sealed\n"
	    "       ('/' in an item's name becomes '_'), the key as result.key\n"
	    "       (mode 0600) and the receipt as receipt.json\n"
	    "open   decrypt every .sealed file of DIR with DIR/result.key into\n"
	    "       --out (default DIR), each without its .sealed; --force\n"
	    "       replaces files that exist\n\n"
	    "Exit codes: 0 done; 2 usage; 3 a file does not open with the key;\n"
	    "4 an output, the receipt or the key does not verify (tampered,\n"
	    "replaced, or not from the pinned coordinator); 5 malformed; 6 not\n"
	    "found (an output missing from the store, or you are not a recipient:\n"
	    "recipient.unknown); 7 refused (job.open: the job is not closed yet);\n"
	    "8 coordinator unreachable; 9 its keys are not the pinned ones\n"
	    "(doc/cli.md).\n");
}

enum { O_COORD = 256, O_PIN, O_ID, O_STORE, O_PREFIX, O_OUT, O_FORCE };

const struct option cli_results_options[] = {
	{ "coordinator", required_argument, NULL, O_COORD },
	{ "pin-file", required_argument, NULL, O_PIN },
	{ "id", required_argument, NULL, O_ID },
	{ "store", required_argument, NULL, O_STORE },
	{ "prefix", required_argument, NULL, O_PREFIX },
	{ "out", required_argument, NULL, O_OUT },
	{ "force", no_argument, NULL, O_FORCE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *coord, *pin, *id, *store, *prefix, *out;
	int force;
	int prefix_given;
};

static int
parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->prefix = "";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_results_options, NULL)) != -1) {
		switch (c) {
		case O_COORD: o->coord = optarg; break;
		case O_PIN: o->pin = optarg; break;
		case O_ID: o->id = optarg; break;
		case O_STORE: o->store = optarg; break;
		case O_PREFIX: o->prefix = optarg; o->prefix_given = 1; break;
		case O_OUT: o->out = optarg; break;
		case O_FORCE: o->force = 1; break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail(cmd, USAGE, cli_results_options, c, argv);
		}
	}
	return -1;
}

/* What fetch learns from the signed receipt. */
struct job_view {
	uint8_t policy[32];
	char policy_hex[65];
	int reduce;              /* the final stage is the reduce stage */
	uint64_t count;          /* its items */
	uint8_t root[32];        /* its root */
	const char *outcome, *reason;
};

/* The receipt, verified under the pinned key (G1 to G5): its job must be
 * JOB; the final stage's root is what the leaves must hash to. */
static int
read_receipt(const struct cli_coord *cc, const char *job, const char *text,
    size_t len, struct coffer_signed *sig, struct job_view *v)
{
	const json_t *st, *stages, *last;
	const char *s;
	size_t n;
	int r;

	if ((r = coffer_signed_parse(text, len, COFFER_SIGNED_RECEIPT_MAX,
	    "coffer-receipt", sig)) != 0 ||
	    (r = coffer_signed_verify(sig, cc->pin.id.sign_pk)) != 0)
		return coffer_errctx(r, "the job's receipt");
	st = sig->statement;
	stages = json_object_get(st, "stages");
	last = json_array_get(stages, json_array_size(stages) - 1);
	if ((r = coffer_json_get_str(st, "receipt", "job", 1, &s)) != 0 ||
	    strcmp(s, job) != 0)
		return r ? r : coffer_errf(COFFER_E_AUTH, "the receipt is of another job");
	if ((r = coffer_json_get_str(st, "receipt", "policy", 1, &s)) != 0 ||
	    strlen(s) != 64 || coffer_hex_decode(s, 64, v->policy, 32, &n) != 0)
		return r ? r : coffer_errf(COFFER_E_FORMAT, "receipt.policy");
	memcpy(v->policy_hex, s, 65);
	if ((r = coffer_json_get_str(st, "receipt", "outcome", 1, &v->outcome)) != 0 ||
	    (r = coffer_json_get_str(st, "receipt", "reason", 0, &v->reason)) != 0 ||
	    (r = coffer_json_get_str(last, "receipt.stages", "root", 1, &s)) != 0 ||
	    strlen(s) != 64 || coffer_hex_decode(s, 64, v->root, 32, &n) != 0 ||
	    !json_is_integer(json_object_get(last, "count")))
		return r ? r : coffer_errf(COFFER_E_FORMAT, "receipt.stages");
	v->count = (uint64_t)json_integer_value(json_object_get(last, "count"));
	v->reduce = json_array_size(stages) == 2;
	return 0;
}

/* The final stage's entries, checked against the receipt's root and count. */
static int
read_leaves(const char *text, size_t len, const struct job_view *v,
    struct coffer_result_entry **out)
{
	struct coffer_result_entry *e = NULL;
	coffer_merkle_hash *h = NULL, root;
	uint8_t raw[COFFER_RESULT_ENTRY_LEN];
	json_t *j = NULL, *a, *x;
	size_t i;
	int r;

	if ((r = coffer_json_parse(text, len, len + 1, 4, &j)) != 0)
		return coffer_errctx(r, "results");
	a = json_object_get(j, "leaves");
	if (!json_is_array(a) || json_array_size(a) != v->count) {
		r = coffer_errf(COFFER_E_AUTH, "results: %zu entries where the receipt "
		    "has %" PRIu64, json_array_size(a), v->count);
		goto out;
	}
	if ((e = coffer_calloc(v->count + 1, sizeof(*e))) == NULL ||
	    (h = coffer_calloc(v->count + 1, sizeof(*h))) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	json_array_foreach(a, i, x) {
		if (!json_is_string(x) || coffer_b64url_decode_exact(json_string_value(x),
		    json_string_length(x), raw, sizeof(raw)) != 0 ||
		    (r = coffer_receipt_result_parse(raw, sizeof(raw), &e[i])) != 0) {
			r = coffer_errf(COFFER_E_FORMAT, "results: entry %zu", i);
			goto out;
		}
		if ((r = coffer_merkle_leaf(raw, sizeof(raw), h[i])) != 0)
			goto out;
	}
	if ((r = coffer_merkle_root(h, v->count, root)) != 0)
		goto out;
	if (memcmp(root, v->root, 32) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "results: the entries do not hash to the "
		    "root the signed receipt names");
		goto out;
	}
	*out = e;
	e = NULL;
out:
	free(e);
	free(h);
	json_decref(j);
	return r;
}

/* The reduce output's name in the store: the one object under prefix
 * whose name ends in ".<attempt>" and whose digest is the entry's. */
struct find {
	struct coffer_store *s;
	const struct coffer_result_entry *e;
	char suffix[40];
	char key[COFFER_STORE_KEY_MAX + 1];
	int found;
};

static int
on_key(const char *key, void *arg)
{
	struct find *f = arg;
	size_t n = strlen(key), m = strlen(f->suffix);

	if (!f->found && n > m && strcmp(key + n - m, f->suffix) == 0) {
		snprintf(f->key, sizeof(f->key), "%s", key);
		f->found = 1;
	}
	return 0;
}

/* Copy one output, checked against its entry, to out/name. */
static int
copy_output(struct coffer_store *s, const char *key,
    const struct coffer_result_entry *e, const char *dir, const char *name)
{
	struct coffer_buf b = COFFER_BUF_INIT(OUTPUT_MAX);
	uint8_t d[32];
	char path[4096];
	int r;

	if (e->output_size > OUTPUT_MAX)
		return coffer_errf(COFFER_E_LIMIT, "output '%s' of %" PRIu64 " bytes",
		    key, e->output_size);
	if ((r = coffer_store_get(s, key, (size_t)e->output_size, &b)) != 0) {
		r = r == COFFER_E_LIMIT ? coffer_errf(COFFER_E_AUTH, "output '%s' is "
		    "larger than the receipt's entry says: replaced or tampered with",
		    key) : coffer_errctx(r, "output '%s'", key);
		goto out;
	}
	if ((r = coffer_sha256(b.data ? b.data : (const uint8_t *)"", b.len, d)) != 0)
		goto out;
	if (b.len != e->output_size || memcmp(d, e->output_digest, 32) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "output '%s' is not the one the receipt "
		    "lists (its digest or size differs): replaced or tampered with", key);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = coffer_file_write_atomic(path, b.data, b.len, 0644, 0);
out:
	coffer_buf_release(&b);
	return r;
}

static int
results_fetch(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_identity id;
	struct coffer_signed sig;
	struct job_view v;
	struct coffer_buf rtext = COFFER_BUF_INIT(COFFER_SIGNED_RECEIPT_MAX);
	struct coffer_buf ptext = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES + 4096);
	struct coffer_buf ktext = COFFER_BUF_INIT(COFFER_RESULTKEY_ANSWER_MAX);
	struct coffer_buf ltext = COFFER_BUF_INIT((size_t)COFFER_POLICY_MAX_OBJECTS *
	    180 + 4096);
	struct coffer_result_entry *e = NULL;
	struct coffer_policy *p = NULL;
	struct coffer_policy_item *items = NULL;
	const struct coffer_policy_app *app;
	struct coffer_store *store = NULL;
	uint8_t key[32], fp[32];
	char fhex[COFFER_ID_FINGERPRINT_HEX], path[256], dir[4096], kpath[4200];
	char okey[COFFER_STORE_KEY_MAX + 1], name[COFFER_STORE_KEY_MAX + 16];
	const char *job;
	size_t nitems = 0, n, fetched = 0;
	int made_dir = 0;
	int r, rc = CLI_OK;

	memset(&cc, 0, sizeof(cc));
	memset(&id, 0, sizeof(id));
	coffer_signed_init(&sig);
	if ((rc = parse("results fetch", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind != 1 || o.id == NULL || o.store == NULL)
		return cli_usage("results fetch", USAGE, "expected JOB, --id FILE (you, "
		    "a recipient) and --store LOCATION (where the outputs are)");
	job = argv[optind];
	if ((rc = cli_coord_job_arg("results fetch", USAGE, job)) >= 0)
		return rc;
	snprintf(dir, sizeof(dir), "%s", o.out ? o.out : "");
	if (o.out == NULL)
		snprintf(dir, sizeof(dir), "results-%s", job);
	memset(&v, 0, sizeof(v));
	if ((r = coffer_identity_load(o.id, &id)) != 0 ||
	    (r = coffer_identity_fingerprint(&id.pub, fhex)) != 0 ||
	    coffer_hex_decode(fhex, 64, fp, 32, &n) != 0 ||
	    (r = cli_coord_open(o.pin, o.coord, &cc)) != 0)
		goto fail;
	/* The receipt first: only what it lists is fetched. */
	snprintf(path, sizeof(path), "/v1/jobs/%s/receipt", job);
	if ((r = cli_coord_get(&cc, "results fetch", path, &rtext, &rc)) != 0 ||
	    (r = read_receipt(&cc, job, coffer_buf_str(&rtext), rtext.len, &sig,
	    &v)) != 0)
		goto fail;
	/* The key: RR1 to RR4, from the pinned coordinator to this identity. */
	snprintf(path, sizeof(path), "/v1/jobs/%s/result-key/%s", job, fhex);
	{
		uint8_t jb[16];

		if (coffer_hex_decode(job, 32, jb, 16, &n) != 0) {
			r = COFFER_E_INTERNAL;
			goto fail;
		}
		if ((r = cli_coord_get(&cc, "results fetch", path, &ktext, &rc)) != 0 ||
		    (r = coffer_resultkey_answer_open(coffer_buf_str(&ktext), ktext.len,
		    jb, v.policy, fp, id.kx_sk, cc.pin.id.kx_pk, key)) != 0)
			goto fail;
	}
	/* The items' names, from the policy the receipt names. */
	snprintf(path, sizeof(path), "/v1/policies/%s", v.policy_hex);
	if ((r = cli_coord_get(&cc, "results fetch", path, &ptext, &rc)) != 0 ||
	    (r = coffer_policy_parse(coffer_buf_str(&ptext), ptext.len, &p)) != 0)
		goto fail;
	if (memcmp(p->hash, v.policy, 32) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "the coordinator answered another policy "
		    "than the receipt's");
		goto fail;
	}
	if ((app = coffer_policy_app(p, json_string_value(json_object_get(
	    sig.statement, "app")))) == NULL ||
	    (r = coffer_policy_items(p, app, &items, &nitems)) != 0) {
		r = r ? r : coffer_errf(COFFER_E_FORMAT, "receipt.app: not in the policy");
		goto fail;
	}
	snprintf(path, sizeof(path), "/v1/jobs/%s/stages/%s/leaves", job,
	    v.reduce ? "reduce" : "map");
	if ((r = cli_coord_get(&cc, "results fetch", path, &ltext, &rc)) != 0 ||
	    (r = read_leaves(coffer_buf_str(&ltext), ltext.len, &v, &e)) != 0 ||
	    (r = coffer_store_open(o.store, 0, &store)) != 0)
		goto fail;
	if (mkdir(dir, 0700) == 0)
		made_dir = 1;
	else if (errno != EEXIST) {
		r = coffer_errf(COFFER_E_IO, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	/* Fetching again into DIR rewrites the same checked files; another
	 * job's results there would be replaced in part (its key and receipt,
	 * the outputs of the same names) and the rest left under the new key.
	 * A job's signed receipt is one text: another text is another job. */
	{
		struct coffer_buf old = COFFER_BUF_INIT(COFFER_SIGNED_RECEIPT_MAX);

		snprintf(kpath, sizeof(kpath), "%s/%s", dir, RECEIPT_FILE);
		r = coffer_file_read(kpath, COFFER_SIGNED_RECEIPT_MAX, &old);
		if (r == 0 && (old.len != rtext.len ||
		    memcmp(old.data, rtext.data, old.len) != 0))
			r = coffer_errf(COFFER_E_EXISTS, "%s holds the results of another "
			    "job (its %s is not this job's receipt): nothing was written; "
			    "give another --out", dir, RECEIPT_FILE);
		else if (r == COFFER_E_NOTFOUND)
			r = 0;
		coffer_buf_release(&old);
		if (r != 0)
			goto fail;
	}
	for (uint64_t i = 0; i < v.count; i++) {
		struct find f;

		if (e[i].status != COFFER_ITEM_OK) {
			printf("  %-9s %s\n", e[i].status == COFFER_ITEM_FAILED ? "FAILED" :
			    "ABANDONED", v.reduce ? "result" : items[e[i].index].key);
			continue;
		}
		memset(&f, 0, sizeof(f));
		f.suffix[0] = '.';
		coffer_hex_encode(e[i].attempt, 16, f.suffix + 1);
		if (v.reduce) {
			if ((r = coffer_store_list(store, o.prefix, on_key, &f)) != 0)
				goto fail;
			if (!f.found) {
				/* A mistyped --prefix: look in the whole store, and
				 * name the prefix where the output is. */
				struct find any = f;

				if (o.prefix[0] != '\0' &&
				    coffer_store_list(store, "", on_key, &any) == 0 && any.found) {
					char *slash = strrchr(any.key, '/');

					r = coffer_errf(COFFER_E_NOTFOUND, "no object under '%s' "
					    "ending in '%s' in %s: the reduce output is '%s': give "
					    "--prefix '%.*s' (the job's outputs.prefix); nothing "
					    "was fetched", o.prefix, f.suffix, o.store, any.key,
					    slash != NULL ? (int)(slash - any.key + 1) : 0, any.key);
				} else {
					coffer_errclear();
					r = coffer_errf(COFFER_E_NOTFOUND, "no object under '%s' "
					    "ending in '%s' in %s: the reduce output", o.prefix,
					    f.suffix, o.store);
				}
				goto fail;
			}
			snprintf(okey, sizeof(okey), "%s", f.key);
			snprintf(name, sizeof(name), "result.sealed");
		} else {
			if ((size_t)snprintf(okey, sizeof(okey), "%s%s%s", o.prefix,
			    items[e[i].index].key, f.suffix) >= sizeof(okey)) {
				r = coffer_errf(COFFER_E_LIMIT, "output name too long");
				goto fail;
			}
			snprintf(name, sizeof(name), "%s.sealed", items[e[i].index].key);
			for (char *q = name; *q; q++)
				if (*q == '/')
					*q = '_';
		}
		r = copy_output(store, okey, &e[i], dir, name);
		/* Without --prefix: the workers' default is out/ when outputs
		 * go to the input store, as under coffer up (doc/worker.md
		 * section 2), and "" in a store of their own. Try the other
		 * once; the attempt in the name makes a wrong match impossible,
		 * and the digest is checked all the same. */
		if (r == COFFER_E_NOTFOUND && !o.prefix_given && !v.reduce) {
			coffer_errclear();
			o.prefix = "out/";
			o.prefix_given = 1;
			snprintf(okey, sizeof(okey), "%s%s%s", o.prefix,
			    items[e[i].index].key, f.suffix);
			r = copy_output(store, okey, &e[i], dir, name);
		}
		if (r == COFFER_E_NOTFOUND) {
			char why[512];

			snprintf(why, sizeof(why), "%s", coffer_errdetail());
			r = coffer_errf(r, "%s (outputs are named <prefix><item>."
			    "<attempt>: give --prefix, the job's outputs.prefix)",
			    why);
		}
		if (r != 0)
			goto fail;
		printf("  OK        %s -> %s/%s\n", okey, dir, name);
		fetched++;
	}
	snprintf(kpath, sizeof(kpath), "%s/%s", dir, KEY_FILE);
	(void)!unlink(kpath);
	if ((r = coffer_datakey_save(kpath, key)) != 0)
		goto fail;
	snprintf(kpath, sizeof(kpath), "%s/%s", dir, RECEIPT_FILE);
	if ((r = coffer_file_write_atomic(kpath, rtext.data, rtext.len, 0644, 0)) != 0)
		goto fail;
	printf("job %s %s%s%s: %zu output(s) fetched and checked against the signed "
	    "receipt into %s\nnext: coffer results open %s\n", job, v.outcome,
	    v.reason ? ": " : "", v.reason ? v.reason : "", fetched, dir, dir);
	rc = CLI_OK;
	goto done;
fail:
	if (rc == CLI_OK)
		rc = cli_coord_fail(&cc, r, "results fetch");
	/* A directory this run made, and left empty, is not left behind. */
	if (made_dir && fetched == 0)
		(void)rmdir(dir);
done:
	coffer_wipe(key, sizeof(key));
	coffer_identity_wipe(&id);
	coffer_signed_release(&sig);
	coffer_store_free(store);
	coffer_policy_free(p);
	free(items);
	free(e);
	coffer_buf_release(&rtext);
	coffer_buf_release(&ptext);
	coffer_buf_release(&ktext);
	coffer_buf_release(&ltext);
	return rc;
}

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && strcmp(s + n - m, suf) == 0;
}

/* Open one sealed file into out (atomically; never half-written). */
static int
open_one(const uint8_t key[32], const char *in, const char *out, int force)
{
	struct coffer_atomic at = COFFER_ATOMIC_INIT;
	int infd = -1, r;

	if ((r = sealed_cli_check_output(out, force)) != 0)
		return r;
	if ((infd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
		return coffer_errf(COFFER_E_IO, "%s: %s", in, strerror(errno));
	if ((r = coffer_atomic_open(&at, out, 0600)) == 0 &&
	    (r = coffer_sealed_open_fd(key, NULL, infd, at.fd, NULL, NULL)) == 0)
		r = coffer_atomic_commit(&at, !force);
	if (r != 0) {
		coffer_atomic_abort(&at);
		r = coffer_errctx(r, "%s", in);
	}
	close(infd);
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
results_open(int argc, char **argv)
{
	struct opts o;
	char path[4096], out[4096], **names = NULL;
	const char *dir, *to;
	struct dirent *d;
	size_t n = 0, cap = 0;
	uint8_t key[32];
	DIR *dh = NULL;
	int r = 0, rc;

	if ((rc = parse("results open", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind != 1 || o.id || o.store || o.coord || o.pin || o.prefix[0])
		return cli_usage("results open", USAGE, "expected one DIR (what "
		    "'results fetch' wrote), and only --out and --force");
	dir = argv[optind];
	to = o.out ? o.out : dir;
	/* DIR is what 'results fetch' wrote: a mistyped one, or a file (a
	 * single .sealed output), is said as such, not as a missing key. */
	{
		struct stat st;
		int missing = stat(dir, &st) != 0;

		if (missing || !S_ISDIR(st.st_mode))
			return cli_fail(coffer_errf(missing ? COFFER_E_NOTFOUND :
			    COFFER_E_IO, "%s: %s: give the directory 'coffer results "
			    "fetch' wrote (its --out, default results-JOB)", dir,
			    missing ? strerror(errno) : "not a directory"), "results open");
	}
	snprintf(path, sizeof(path), "%s/%s", dir, KEY_FILE);
	if ((r = sealed_cli_load_key(path, key)) != 0) {
		if (r == COFFER_E_NOTFOUND)
			r = coffer_errf(r, "%s has no %s: it is not what 'coffer "
			    "results fetch' wrote (run that first, with --out %s)",
			    dir, KEY_FILE, dir);
		return cli_fail(r, "results open");
	}
	if ((dh = opendir(dir)) == NULL) {
		r = coffer_errf(COFFER_E_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	/* In name order, so that output and errors do not depend on the
	 * directory's. */
	while ((d = readdir(dh)) != NULL) {
		if (!has_suffix(d->d_name, ".sealed"))
			continue;
		if (n == cap) {
			char **v = coffer_reallocarray(names, cap ? 2 * cap : 16,
			    sizeof(*v));

			if (v == NULL) {
				r = COFFER_E_NOMEM;
				goto out;
			}
			names = v;
			cap = cap ? 2 * cap : 16;
		}
		if ((names[n] = coffer_strdup(d->d_name)) == NULL) {
			r = COFFER_E_NOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	if (o.out != NULL && mkdir(to, 0700) != 0 && errno != EEXIST) {
		r = coffer_errf(COFFER_E_IO, "%s: %s", to, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(out, sizeof(out), "%s/%.*s", to,
		    (int)(strlen(names[i]) - strlen(".sealed")), names[i]);
		if ((r = open_one(key, path, out, o.force)) != 0)
			goto out;
		printf("opened %s -> %s\n", path, out);
	}
	if (n == 0)
		r = coffer_errf(COFFER_E_NOTFOUND, "%s holds no .sealed file (run "
		    "'coffer results fetch' first)", dir);
out:
	coffer_wipe(key, sizeof(key));
	if (dh != NULL)
		closedir(dh);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r != 0 ? cli_fail(r, "results open") : CLI_OK;
}

const struct cli_verb cli_results_verbs[] = {
	{ "fetch", results_fetch },
	{ "open", results_open },
	{ NULL, NULL },
};

int
cmd_results(int argc, char **argv)
{
	return cli_dispatch("results", cli_results_verbs, USAGE, help, argc, argv);
}
