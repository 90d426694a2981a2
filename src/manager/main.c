// SPDX-License-Identifier: Apache-2.0
// coffer-manager: the job API daemon (serve), its token tool (token create,
// token list) and the list of controllers. doc/manager.md has the manual.
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "coffer/error.h"
#include "controllers/registry.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/num.h"
#include "manager/mgr.h"
#include "manager/conf.h"
#include "manager/policy.h"
#include "manager/tokens.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "0.0.0-dev"
#endif

static const char usage_text[] =
    "usage: coffer-manager serve --db PATH [--listen HOST:PORT] [--redis URL]\n"
    "           [--asperathos-redis URL] [--store DIR] [--worker PATH]\n"
    "           [--apps DIR] [--actuator local|slurm|kubernetes]\n"
    "           [--actuator-opt KEY=VALUE]... [--log-dir DIR]\n"
    "           [--ready-file PATH] [--tls-cert PEM --tls-key PEM]\n"
    "           [--tick-ms N] [--grace-ms N] [--allow-cmd[=yes|no]]\n"
    "           [--workload-dir DIR]... [--allow-workload-url[=yes|no]]\n"
    "           [--env-deny NAME|PREFIX*]... [--max-connections N]\n"
    "           [--max-connections-per-client N] [--header-timeout-ms N]\n"
    "           [--body-timeout-ms N] [--asperathos-open]\n"
    "           [--coordinator URL] [--tee-backend sim|sgx|tdx|snp]\n"
    "           [--measured-config FILE] [--tee-collateral PATH]\n"
    "           [--coordinator-timeout-ms N]\n"
    "           [--standby-replicas N]\n"
    "       coffer-manager token create --db PATH [--name NAME] [--scope admin|read]\n"
    "       coffer-manager token list --db PATH\n"
    "       coffer-manager token revoke --db PATH ID\n"
    "       coffer-manager token verify --db PATH < TOKEN\n"
    "       coffer-manager controllers\n"
    "       coffer-manager --version\n";

static int
usage0(void)
{
	fputs(usage_text, stderr);
	return 2;
}

static int
usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "coffer-manager: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return usage0();
}

static int
fail(int err, const char *what)
{
	const char *d = coffer_errdetail();

	fprintf(stderr, "coffer-manager %s: %s%s%s\n", what, coffer_strerror(err),
	    d[0] ? ": " : "", d);
	return 1;
}

static int
parse_ms(const char *s, int *out)
{
	return coffer_parse_int(s, 10, 3600000, out) != 0 ? -1 : 0;
}

/* The coffer-worker next to this program. */
static void
default_worker(char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0) {
		snprintf(out, outlen, "coffer-worker");
		return;
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(out, outlen, "%s/coffer-worker", self);
}

static int
parse_yesno(const char *opt, const char *v, int *out)
{
	if (v == NULL || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "no") == 0 || strcmp(v, "0") == 0 || strcmp(v, "false") == 0) {
		*out = 0;
		return 0;
	}
	return usage("--%s: '%s' is not yes or no", opt, v);
}

/* An environment variable's value, removed from the environment so that
 * the replicas (which inherit it through the actuator) never see it. */
static const char *
take_env(const char *name, char *buf, size_t buflen)
{
	const char *v = getenv(name);
	int fits;

	if (v == NULL)
		return NULL;
	fits = strlen(v) < buflen;
	if (fits)
		snprintf(buf, buflen, "%s", v);
	unsetenv(name);
	/* Longer than any valid URL: the URL parser says so. */
	return fits ? buf : "(too long)";
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "redis", required_argument, NULL, 'r' },
		{ "asperathos-redis", required_argument, NULL, 'A' },
		{ "store", required_argument, NULL, 's' },
		{ "worker", required_argument, NULL, 'w' },
		{ "apps", required_argument, NULL, 'a' },
		{ "actuator", required_argument, NULL, 'u' },
		{ "actuator-opt", required_argument, NULL, 'o' },
		{ "log-dir", required_argument, NULL, 'L' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "tick-ms", required_argument, NULL, 't' },
		{ "grace-ms", required_argument, NULL, 'g' },
		{ "allow-cmd", optional_argument, NULL, 'C' },
		{ "workload-dir", required_argument, NULL, 'W' },
		{ "allow-workload-url", optional_argument, NULL, 'U' },
		{ "env-deny", required_argument, NULL, 'E' },
		{ "max-connections", required_argument, NULL, 'M' },
		{ "max-connections-per-client", required_argument, NULL, 'P' },
		{ "header-timeout-ms", required_argument, NULL, 'H' },
		{ "body-timeout-ms", required_argument, NULL, 'B' },
		{ "asperathos-open", no_argument, NULL, 'O' },
		{ "coordinator", required_argument, NULL, 'K' },
		{ "tee-backend", required_argument, NULL, 'T' },
		{ "measured-config", required_argument, NULL, 'm' },
		{ "tee-collateral", required_argument, NULL, 'X' },
		{ "coordinator-timeout-ms", required_argument, NULL, 'Y' },
		{ "standby-replicas", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mgr_config cfg;
	struct mgr_policy pol;
	struct coffer_actuator_config ac;
	static char *act_opts[MGR_ACTUATOR_OPTS_MAX + 1];
	size_t nact_opts = 0;
	char worker[PATH_MAX];
	static char measured[PATH_MAX];
	static char env_redis[4096], env_aredis[4096];
	const char *v;
	int c, r, rc = 2;

	memset(&cfg, 0, sizeof(cfg));
	mgr_policy_init(&pol);
	cfg.listen = "127.0.0.1:8080";
	/* A URL with a password is best given in the environment: the
	 * arguments of a process are readable by every local user. */
	cfg.redis_url = (v = take_env("COFFER_REDIS_URL", env_redis,
	    sizeof(env_redis))) != NULL ? v : "redis://127.0.0.1:6379";
	cfg.asperathos_redis_url = take_env("COFFER_ASPERATHOS_REDIS_URL",
	    env_aredis, sizeof(env_aredis));
	cfg.actuator = "local";
	default_worker(worker, sizeof(worker));
	cfg.worker = worker;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cfg.db_path = optarg; break;
		case 'l': cfg.listen = optarg; break;
		case 'r': cfg.redis_url = optarg; break;
		case 'A': cfg.asperathos_redis_url = optarg; break;
		case 's': cfg.store = optarg; break;
		case 'w': cfg.worker = optarg; break;
		case 'a': cfg.apps_dir = optarg; break;
		case 'u': cfg.actuator = optarg; break;
		case 'o':
			if (nact_opts == MGR_ACTUATOR_OPTS_MAX) {
				usage("--actuator-opt: at most %d", MGR_ACTUATOR_OPTS_MAX);
				goto out;
			}
			act_opts[nact_opts++] = optarg;
			cfg.actuator_opts = act_opts;
			break;
		case 'L': cfg.log_dir = optarg; break;
		case 'R': cfg.ready_file = optarg; break;
		case 'c': cfg.tls_cert = optarg; break;
		case 'k': cfg.tls_key = optarg; break;
		case 't':
			if (parse_ms(optarg, &cfg.tick_ms) != 0) {
				usage("--tick-ms: '%s' is not in [10, 3600000]", optarg);
				goto out;
			}
			break;
		case 'g':
			if (parse_ms(optarg, &cfg.grace_ms) != 0) {
				usage("--grace-ms: '%s' is not in [10, 3600000]", optarg);
				goto out;
			}
			break;
		case 'Y':
			if (parse_ms(optarg, &cfg.coordinator_timeout_ms) != 0) {
				usage("--coordinator-timeout-ms: '%s' is not in [10, 3600000]",
				    optarg);
				goto out;
			}
			break;
		case 'C':
			if (parse_yesno("allow-cmd", optarg, &pol.allow_cmd) != 0)
				goto out;
			break;
		case 'U':
			if (parse_yesno("allow-workload-url", optarg,
			    &pol.allow_workload_url) != 0)
				goto out;
			break;
		case 'W':
			if ((r = mgr_policy_add_workload_dir(&pol, optarg)) != 0) {
				usage("--workload-dir: %s", coffer_errdetail());
				goto out;
			}
			break;
		case 'E':
			if ((r = mgr_policy_add_env_deny(&pol, optarg)) != 0) {
				usage("--env-deny: %s", coffer_errdetail());
				goto out;
			}
			break;
		case 'M':
		case 'P':
			if (coffer_parse_int(optarg, 1, 100000, c == 'M' ?
			    &cfg.http.max_conns : &cfg.http.max_conns_per_client) != 0) {
				usage("--%s: '%s' is not in [1, 100000]", c == 'M' ?
				    "max-connections" : "max-connections-per-client",
				    optarg);
				goto out;
			}
			break;
		case 'H':
		case 'B':
			if (parse_ms(optarg, c == 'H' ? &cfg.http.header_timeout_ms :
			    &cfg.http.body_timeout_ms) != 0) {
				usage("--%s: '%s' is not in [10, 3600000]", c == 'H' ?
				    "header-timeout-ms" : "body-timeout-ms", optarg);
				goto out;
			}
			break;
		case 'K': cfg.coordinator = optarg; break;
		case 'T': cfg.tee_backend = optarg; break;
		case 'm': cfg.measured_config = optarg; break;
		case 'X': cfg.tee_collateral = optarg; break;
		case 'S':
			if (coffer_parse_int(optarg, 0, 64, &cfg.standby_replicas) != 0) {
				usage("--standby-replicas: '%s' is not in [0, 64]", optarg);
				goto out;
			}
			break;
		case 'O':
			cfg.asperathos_open = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			rc = 0;
			goto out;
		default:
			usage0();
			goto out;
		}
	}
	if (optind != argc) {
		usage("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (cfg.asperathos_open && strncmp(cfg.listen, "127.", 4) != 0 &&
	    strncmp(cfg.listen, "[::1]:", 6) != 0 &&
	    strncmp(cfg.listen, "localhost:", 10) != 0) {
		usage("--asperathos-open needs a loopback --listen address (127.x, "
		    "[::1]): routes without a token are for this machine only");
		goto out;
	}
	if (cfg.db_path == NULL) {
		usage("serve needs --db PATH");
		goto out;
	}
	/* A typo in the actuator or its options is found now, not when the
	 * first job starts. */
	mgr_actuator_config(&cfg, &ac);
	if ((r = coffer_actuator_check(&ac)) != 0) {
		usage("--actuator %s: %s", cfg.actuator, coffer_errdetail());
		goto out;
	}
	/* Confidential jobs (doc/manager.md section 9): mistakes found now,
	 * not when the first job starts. */
	if (cfg.coordinator != NULL && strncmp(cfg.coordinator, "http://", 7) != 0) {
		usage("--coordinator: '%s' is not an http:// URL", cfg.coordinator);
		goto out;
	}
	if (cfg.tee_backend != NULL && mgr_conf_worker_backend(cfg.tee_backend) == NULL) {
		usage("--tee-backend: '%s' is not one of sim, sgx, tdx, snp",
		    cfg.tee_backend);
		goto out;
	}
	if (cfg.measured_config != NULL) {
		/* Absolute: replicas may start in another directory. */
		if (realpath(cfg.measured_config, measured) == NULL ||
		    access(measured, R_OK) != 0) {
			usage("--measured-config: %s: %s", cfg.measured_config,
			    strerror(errno));
			goto out;
		}
		cfg.measured_config = measured;
	}
	if ((r = mgr_policy_set_store(&pol, cfg.store)) != 0) {
		rc = fail(r, "serve");
		goto out;
	}
	mgr_policy_set(&pol);
	rc = (r = mgr_run(&cfg)) != 0 ? fail(r, "serve") : 0;
out:
	mgr_policy_release(&pol);
	explicit_bzero(env_redis, sizeof(env_redis));
	explicit_bzero(env_aredis, sizeof(env_aredis));
	return rc;
}

static void
print_token(int64_t id, const char *name, const char *scope,
    int64_t created_ms, void *arg)
{
	char t[32];

	(void)arg;
	coffer_time_format(created_ms / 1000, t, sizeof(t));
	printf("%lld\t%s\t%s\t%s\n", (long long)id, scope, t, name);
}

/* The token on standard input (never on the command line, which every
 * local user can read). */
static int
read_token(char *out, size_t outlen)
{
	size_t n;

	if (fgets(out, (int)outlen, stdin) == NULL)
		return -1;
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

static int
cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "scope", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db_path = NULL, *name = "token", *verb, *arg = NULL;
	enum http_scope scope = HTTP_SCOPE_ADMIN;
	struct mgr_db *db = NULL;
	char tok[MGR_TOKEN_STR_LEN + 64], tname[256];
	int64_t id = 0;
	int c, r;

	if (argc < 2)
		return usage("token needs 'create', 'list', 'revoke' or 'verify'");
	verb = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_path = optarg; break;
		case 'n': name = optarg; break;
		case 's':
			if (strcmp(optarg, "admin") == 0)
				scope = HTTP_SCOPE_ADMIN;
			else if (strcmp(optarg, "read") == 0)
				scope = HTTP_SCOPE_READ;
			else
				return usage("--scope: '%s' is not admin or read", optarg);
			break;
		default:
			return usage0();
		}
	}
	if (strcmp(verb, "revoke") == 0 && optind < argc)
		arg = argv[optind++];
	if (optind != argc)
		return usage("unexpected argument '%s'", argv[optind]);
	if (db_path == NULL)
		return usage("token needs --db PATH");
	if (strcmp(verb, "create") != 0 && strcmp(verb, "list") != 0 &&
	    strcmp(verb, "revoke") != 0 && strcmp(verb, "verify") != 0)
		return usage("token: unknown verb '%s'", verb);
	if (strcmp(verb, "revoke") == 0 &&
	    (arg == NULL || coffer_parse_i64(arg, 1, INT64_MAX, &id) != 0))
		return usage("token revoke needs the token's id (token list)");
	if ((r = mgr_db_open(db_path, &db)) != 0)
		return fail(r, "token");
	if (strcmp(verb, "create") == 0) {
		if ((r = mgr_token_create(db, name, scope, tok)) == 0) {
			/* Shown once: only its digest is stored. */
			printf("%s\n", tok);
			explicit_bzero(tok, sizeof(tok));
		}
	} else if (strcmp(verb, "revoke") == 0) {
		r = mgr_db_token_revoke(db, id);
	} else if (strcmp(verb, "verify") == 0) {
		if (read_token(tok, sizeof(tok)) != 0) {
			mgr_db_close(db);
			return usage("token verify reads the token on standard input");
		}
		r = mgr_token_find(db, tok, &id, tname, sizeof(tname), &scope);
		explicit_bzero(tok, sizeof(tok));
		if (r == 0)
			printf("%lld\t%s\t%s\n", (long long)id,
			    scope == HTTP_SCOPE_ADMIN ? "admin" : "read", tname);
		else if (r == COFFER_E_AUTH) {
			mgr_db_close(db);
			fprintf(stderr, "coffer-manager token: not a valid token of "
			    "this store\n");
			return 4;
		}
	} else {
		r = mgr_db_token_list(db, print_token, NULL);
	}
	mgr_db_close(db);
	if (r != 0)
		return fail(r, "token");
	return 0;
}

static int
cmd_controllers(void)
{
	const struct coffer_controller *def = NULL;
	size_t n = coffer_controller_builtin(0, &def);

	for (size_t i = 0; i < n; i++) {
		def = NULL;
		if (coffer_controller_builtin(i, &def) > i && def != NULL)
			printf("%-20s %s\n", def->name, def->summary ? def->summary : "");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int r;

	coffer_log_setup_env("manager");
	if (argc < 2)
		return usage0();
	if (strcmp(argv[1], "--version") == 0) {
		printf("coffer-manager %s\n", COFFER_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return fail(COFFER_E_INTERNAL, "serve");
		r = cmd_serve(argc - 1, argv + 1);
		curl_global_cleanup();
		return r;
	}
	if (strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	if (strcmp(argv[1], "controllers") == 0)
		return cmd_controllers();
	return usage("unknown command '%s'", argv[1]);
}
