// SPDX-License-Identifier: Apache-2.0
// `coffer token`: list, create and revoke a coffer-manager's bearer tokens
// over its API (/v1/tokens, doc/api.md section 8), found as `coffer job`
// finds it. A token is shown once, when it is created.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "coffer/error.h"
#include "lib/num.h"

static const char usage_text[] =
    "coffer token list | create [--name NAME] [--scope read|admin] | revoke ID\n"
    "             [--url URL] [--token TOKEN]";

const struct option cli_token_options[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "token", required_argument, NULL, 't' },
	{ "name", required_argument, NULL, 'n' },
	{ "scope", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
help(void)
{
	printf("usage: %s\n\n"
	    "Manage the bearer tokens of a coffer-manager (admin token needed).\n"
	    "The manager is --url/--token, else $COFFER_URL/$COFFER_TOKEN, else\n"
	    "the state file of 'coffer up'.\n\n"
	    "  list            id, scope, creation time and name of every token\n"
	    "  create          a new token, printed once (--name, default\n"
	    "                  'token'; --scope read (default) or admin)\n"
	    "  revoke ID       refuse token ID from now on\n", usage_text);
}

static int
token_verb(int argc, char **argv)
{
	const char *verb = argv[0], *url = NULL, *token = NULL, *name = "token",
	    *scope = "read", *arg = NULL;
	struct cli_endpoint ep;
	json_t *reply = NULL, *body, *v;
	long status = 0;
	char path[64], cmd[32], *text;
	int64_t id = 0;
	size_t i;
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_token_options, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 't': token = optarg; break;
		case 'n': name = optarg; break;
		case 's':
			if (strcmp(optarg, "read") != 0 && strcmp(optarg, "admin") != 0)
				return cli_usage("token", usage_text, "--scope: '%s' is "
				    "not read or admin", optarg);
			scope = optarg;
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail("token", usage_text, cli_token_options, c,
			    argv);
		}
	}
	if (optind < argc)
		arg = argv[optind++];
	if (optind < argc)
		return cli_usage("token", usage_text, "unexpected argument '%s'",
		    argv[optind]);
	if ((strcmp(verb, "revoke") == 0) != (arg != NULL))
		return cli_usage("token", usage_text, strcmp(verb, "revoke") == 0 ?
		    "'token revoke' needs the token's id ('coffer token list')" :
		    "'token %s' takes no argument", verb);
	if (arg != NULL && coffer_parse_i64(arg, 1, INT64_MAX, &id) != 0)
		return cli_usage("token", usage_text, "'%s' is not a token id", arg);
	snprintf(cmd, sizeof(cmd), "token %s", verb);
	if ((r = cli_endpoint_resolve(url, token, &ep)) != 0)
		return cli_fail(r, cmd);
	if (strcmp(verb, "list") == 0) {
		r = cli_http(&ep, "GET", "/v1/tokens", NULL, 0, &status, &reply, NULL);
	} else if (strcmp(verb, "create") == 0) {
		body = json_pack("{s:s, s:s}", "name", name, "scope", scope);
		text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
		if (text == NULL)
			return cli_fail(COFFER_E_NOMEM, "token");
		r = cli_http(&ep, "POST", "/v1/tokens", text, strlen(text), &status,
		    &reply, NULL);
		free(text);
	} else {
		snprintf(path, sizeof(path), "/v1/tokens/%lld", (long long)id);
		r = cli_http(&ep, "DELETE", path, NULL, 0, &status, &reply, NULL);
	}
	if (r != 0)
		return cli_fail(r, cmd);
	if (status < 200 || status > 299) {
		r = cli_http_fail(cmd, status, reply);
		json_decref(reply);
		return r;
	}
	if (strcmp(verb, "list") == 0) {
		printf("%-6s %-6s %-21s %s\n", "ID", "SCOPE", "CREATED", "NAME");
		json_array_foreach(json_object_get(reply, "tokens"), i, v)
			printf("%-6lld %-6s %-21s %s\n", (long long)json_integer_value(
			    json_object_get(v, "id")),
			    json_string_value(json_object_get(v, "scope")),
			    json_string_value(json_object_get(v, "created_at")),
			    json_string_value(json_object_get(v, "name")));
	} else if (strcmp(verb, "create") == 0) {
		printf("%s\n", json_string_value(json_object_get(reply, "token")));
	}
	json_decref(reply);
	return CLI_OK;
}

const struct cli_verb cli_token_verbs[] = {
	{ "list", token_verb },
	{ "create", token_verb },
	{ "revoke", token_verb },
	{ NULL, NULL },
};

int
cmd_token(int argc, char **argv)
{
	return cli_dispatch("token", cli_token_verbs, usage_text, help, argc, argv);
}
