// SPDX-License-Identifier: Apache-2.0
// `coffer key`: create a data key file, show a key's id, and upload a key
// to the pinned coordinator for a policy. Formats: doc/format/identity.md,
// sections 4 and 5; doc/protocol/key-release.md section 4.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/audit_cli.h"
#include "cli/cli.h"
#include "cli/coord_client.h"
#include "cli/policy_cli.h"
#include "cli/sealed_cli.h"
#include "coffer/error.h"
#include "crypto/datakey.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "proto/keyrelease.h"

#define USAGE "coffer key new FILE | coffer key show FILE | " \
	"coffer key upload FILE --policy HASH|FILE --id FILE"

static void
help(void)
{
	printf("usage: coffer key new FILE\n"
	    "       coffer key show FILE\n"
	    "       coffer key upload FILE --policy HASH|FILE --id FILE\n"
	    "                  [--coordinator URL] [--pin-file FILE]\n\n"
	    "A data key is a 256-bit key that datasets are sealed under\n"
	    "(doc/format/identity.md).\n\n"
	    "  new    create FILE (mode 0600; never replaces a file) holding a new\n"
	    "         random data key, and print its key id\n"
	    "  show   print the key id of the key in FILE (32 hex digits); the id\n"
	    "         names the key without revealing it\n"
	    "  upload wrap the key in FILE to the pinned coordinator (HPKE auth\n"
	    "         mode from your identity, bound to the policy and key id) and\n"
	    "         send it; accepted only if the policy says your identity holds\n"
	    "         the dataset sealed under that key\n");
}

enum { O_POLICY = 256, O_ID, O_COORD, O_PIN };

const struct option cli_key_options[] = {
	{ "policy", required_argument, NULL, O_POLICY },
	{ "id", required_argument, NULL, O_ID },
	{ "coordinator", required_argument, NULL, O_COORD },
	{ "pin-file", required_argument, NULL, O_PIN },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* upload's options; the other verbs take none. */
static const char *opt_policy, *opt_id, *opt_coord, *opt_pin;

static int
parse(const char *cmd, int argc, char **argv)
{
	int c, upload = strcmp(cmd, "key upload") == 0;

	optind = 0;
	opterr = 0;
	opt_policy = opt_id = opt_coord = opt_pin = NULL;
	while ((c = getopt_long(argc, argv, ":h", cli_key_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			help();
			return CLI_OK;
		case O_POLICY:
		case O_ID:
		case O_COORD:
		case O_PIN:
			if (upload) {
				*(c == O_POLICY ? &opt_policy : c == O_ID ? &opt_id :
				    c == O_COORD ? &opt_coord : &opt_pin) = optarg;
				break;
			}
			/* FALLTHROUGH */
		default:
			return cli_opt_fail(cmd, USAGE, cli_key_options, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cmd, USAGE, "expected one FILE argument, got %d",
		    argc - optind);
	return -1;
}

static int
print_id(const uint8_t key[COFFER_DATAKEY_LEN])
{
	uint8_t id[COFFER_DATAKEY_ID_LEN];
	char hex[2 * COFFER_DATAKEY_ID_LEN + 1];
	int r;

	if ((r = coffer_datakey_id(key, id)) != 0)
		return r;
	coffer_hex_encode(id, sizeof(id), hex);
	printf("%s\n", hex);
	return 0;
}

/* argv[0] is the verb. */
static int
key_new(int argc, char **argv)
{
	uint8_t key[COFFER_DATAKEY_LEN];
	const char *path;
	int r;

	if ((r = parse("key new", argc, argv)) >= 0)
		return r;
	path = argv[optind];
	/* Once saved, the key exists: every later failure says so, and the
	 * key id is still printed if it can be. */
	if ((r = coffer_datakey_generate(key)) == 0 &&
	    (r = coffer_datakey_save(path, key)) == 0 &&
	    (r = print_id(key)) == 0 &&
	    (r = sealed_cli_check_stdout(path, "its key id")) == 0)
		r = sealed_cli_check_synced(path);
	coffer_wipe(key, sizeof(key));
	return r == 0 ? CLI_OK : cli_fail(r, "key new");
}

static int
key_show(int argc, char **argv)
{
	uint8_t key[COFFER_DATAKEY_LEN];
	int r;

	if ((r = parse("key show", argc, argv)) >= 0)
		return r;
	if ((r = sealed_cli_load_key(argv[optind], key)) == 0 &&
	    (r = print_id(key)) == 0)
		r = sealed_cli_check_stdout(NULL, "the key id");
	coffer_wipe(key, sizeof(key));
	return r == 0 ? CLI_OK : cli_fail(r, "key show");
}

static int
key_upload(int argc, char **argv)
{
	struct cli_coord cc;
	struct coffer_identity id;
	struct coffer_policy *p = NULL;
	struct coffer_buf env = COFFER_BUF_INIT(COFFER_KEYUPLOAD_MAX);
	uint8_t key[COFFER_DATAKEY_LEN], kid[COFFER_DATAKEY_ID_LEN], fp[32];
	char kidhex[33], fphex[65];
	size_t hexlen;
	json_t *reply = NULL;
	long code = 0;
	int r, rc, owner, holder;

	memset(&id, 0, sizeof(id));
	memset(&cc, 0, sizeof(cc));
	if ((rc = parse("key upload", argc, argv)) >= 0)
		return rc;
	if (opt_policy == NULL || opt_id == NULL)
		return cli_usage("key upload", USAGE, "--policy and --id are required");
	if ((r = sealed_cli_load_key(argv[optind], key)) != 0 ||
	    (r = coffer_datakey_id(key, kid)) != 0 ||
	    (r = coffer_identity_load(opt_id, &id)) != 0 ||
	    (r = coffer_identity_fingerprint(&id.pub, fphex)) != 0 ||
	    (r = coffer_hex_decode(fphex, 64, fp, 32, &hexlen)) != 0 ||
	    (r = cli_coord_open(opt_pin, opt_coord, &cc)) != 0 ||
	    (r = cli_policy_get(&cc, opt_policy, &p, NULL)) != 0)
		goto fail;
	coffer_hex_encode(kid, sizeof(kid), kidhex);
	/* The coordinator checks this too (rule UP5); say it here first. */
	owner = coffer_policy_owner_index(p, fp);
	holder = coffer_policy_key_owner(p, kid);
	if (holder < 0) {
		r = coffer_errf(COFFER_E_POLICY, "policy %s has no dataset sealed "
		    "under key %s", p->name, kidhex);
		goto fail;
	}
	if (owner != holder) {
		r = coffer_errf(COFFER_E_POLICY, "the policy says the dataset of key "
		    "%s is held by %s, not by this identity (%s)", kidhex,
		    p->owners[holder].id.name, id.pub.name);
		goto fail;
	}
	if ((r = coffer_keyupload_make(&id, p->hash, kid, key, cc.pin.id.kx_pk,
	    &env)) != 0)
		goto fail;
	if ((r = cli_coord_call(&cc, "POST", "/v1/keys",
	    (const char *)env.data, env.len, &code, &reply, NULL)) != 0)
		goto fail;
	if (code != 200) {
		rc = cli_coord_refused("key upload", code, reply);
		goto done;
	}
	printf("key %s uploaded for policy %s\n", kidhex, p->name);
	/* Keep a head that covers the upload. */
	if ((r = cli_head_refresh(&cc)) != 0)
		goto fail;
	rc = CLI_OK;
	goto done;
fail:
	rc = cli_coord_fail(&cc, r, "key upload");
done:
	coffer_wipe(key, sizeof(key));
	coffer_identity_wipe(&id);
	coffer_policy_free(p);
	coffer_buf_release(&env);
	json_decref(reply);
	return rc;
}

const struct cli_verb cli_key_verbs[] = {
	{ "new", key_new },
	{ "show", key_show },
	{ "upload", key_upload },
	{ NULL, NULL },
};

int
cmd_key(int argc, char **argv)
{
	return cli_dispatch("key", cli_key_verbs, USAGE, help, argc, argv);
}
