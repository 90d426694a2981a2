// SPDX-License-Identifier: Apache-2.0
// `coffer run`: a whole job on this machine. One item per input file; a
// private redis-server unless --redis is given; N coffer-workers started
// through the local actuator (crashed ones replaced); this process reaps
// expired leases and shows progress; exit 0 only when every item is done,
// else the dead letters are printed (doc/worker.md section 6).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actuator/actuator.h"
#include "cli/cli.h"
#include "cli/curl_shim.h"
#include "cli/run_progress.h"
#include "coffer/error.h"
#include "lib/appdir.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/appparams.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "lib/num.h"
#include "lib/random.h"
#include "queue/queue.h"
#include "queue/redis_server.h"
#include "store/store.h"

static const char usage[] =
    "coffer run --app APP --inputs DIR --outputs DIR [--replicas N] [--redis URL]\n"
    "           [--job ID] [--param K=V]... [--owner PREFIX=NAME]...\n"
    "           [--app-kind plugin|exec] [--app-arg ARG]...\n"
    "           [--lease-ms N] [--max-attempts N] [--backoff-ms N]\n"
    "           [--item-timeout-ms N] [--max-item-bytes N] [--allow-empty-output]\n"
    "           [--reduce NAME] [--worker-log FILE] [--keep-job] [--quiet]\n"
    "           [--force | --resume] [--json]\n"
    "           [--actuator local|slurm|kubernetes] [--actuator-opt KEY=VALUE]...";

static const char help[] =
    "Run a job end to end on this machine: every regular file of --inputs is\n"
    "one item; the app's output for it is written to --outputs under the same\n"
    "name. APP is a plugin (.so, coffer/app.h) or any executable (item on\n"
    "stdin, output on stdout, exit status 0 = success).\n"
    "\n"
    "  --replicas N        workers to run (default: the number of CPUs)\n"
    "  --redis URL         use this Redis (default: start a private redis-server)\n"
    "  --job ID            job id (default run-<random>)\n"
    "  --param K=V         parameter for the app (repeatable)\n"
    "  --owner PREFIX=NAME inputs whose name starts with PREFIX belong to data\n"
    "                      owner NAME (repeatable; the longest prefix wins);\n"
    "                      apps see it as the item's owner\n"
    "  --app-kind KIND     plugin or exec (default: plugin if APP ends in .so)\n"
    "  --app-arg ARG       extra argument of an executable app (repeatable)\n"
    "  --lease-ms N        lease TTL of an item (default 30000)\n"
    "  --max-attempts N    attempts before an item is dead-lettered (default 3)\n"
    "  --backoff-ms N      first retry delay, doubled per attempt (default 1000)\n"
    "  --item-timeout-ms N the app's time limit per item (default 3600000,\n"
    "                      0: none)\n"
    "  --max-item-bytes N  limit on an input and on an output (default 64 MiB)\n"
    "  --allow-empty-output  an app that writes nothing succeeds\n"
    "  --reduce NAME       then run the app's reduce stage over the outputs into\n"
    "                      --outputs/NAME\n"
    "  --worker-log FILE   where workers log (default: a file in a temporary\n"
    "                      directory, kept and shown if the job fails)\n"
    "  --keep-job          leave the job's keys in Redis (--redis only)\n"
    "  --quiet             no progress display\n"
    "  --force             replace outputs (and the reduce file) that exist\n"
    "  --resume            skip the items whose output exists (a run that was\n"
    "                      interrupted goes on where it stopped)\n"
    "  --json              print the summary as one JSON object\n"
    "  --actuator NAME     where workers run: local (default), slurm (batch\n"
    "                      jobs) or kubernetes (pods); not local needs --redis\n"
    "                      and directories every node sees\n"
    "  --actuator-opt K=V  an option of the actuator (repeatable; doc/manager.md\n"
    "                      section 5: partition=, qos=, namespace=, ...)\n"
    "\n"
    "Exit status: 0 when every item is done; 1 when some were dead-lettered\n"
    "(they are listed with their errors); see doc/cli.md for the others.\n";

/* The worker's argv: --param, --owner and --app-arg lists (two entries
 * each) and at most 40 fixed ones. */
#define ARGV_MAX (3 * 2 * MAX_LIST + 40)
#define MAX_LIST 64
#define LOOP_MS 100
#define REAP_MS 500

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct run {
	/* options */
	const char *app, *inputs, *outputs, *redis, *job, *reduce, *worker_log;
	const char *app_kind;
	const char *params[MAX_LIST], *app_args[MAX_LIST], *owners[MAX_LIST];
	int nparams, napp_args, nowners;
	const char *actuator;
	char *act_opts[MAX_LIST + 1];
	int nact_opts;
	struct coffer_actuator_config ac;
	int replicas, lease_ms, max_attempts, backoff_ms, item_timeout_ms;
	long long max_item_bytes;
	int allow_empty, keep_job, quiet, force, resume, json;
	size_t skipped;                   /* --resume: items with an output */
	/* state */
	char app_abs[PATH_MAX], in_abs[PATH_MAX], out_abs[PATH_MAX];
	char worker[PATH_MAX], job_buf[COFFER_QUEUE_JOB_MAX + 1];
	char rundir[PATH_MAX], logpath[PATH_MAX];
	char **items;
	size_t nitems;
	struct coffer_redis_server *srv;
	const char *url;
	struct coffer_queue *q;
	struct coffer_actuator *act;
	int keep_rundir;
};

static int
parse_num(const char *opt, const char *v, long long min, long long max,
    long long *out)
{
	int64_t x = 0;

	if (coffer_parse_i64(v, min, max, &x) != 0)
		return cli_usage("run", usage, "%s: %s", opt, coffer_errdetail());
	*out = x;
	return 0;
}

enum {
	O_APP = 256, O_INPUTS, O_OUTPUTS, O_REPLICAS, O_REDIS, O_JOB, O_PARAM,
	O_KIND, O_APP_ARG, O_LEASE, O_ATTEMPTS, O_BACKOFF, O_TIMEOUT, O_MAXB,
	O_EMPTY, O_REDUCE, O_WLOG, O_KEEP, O_QUIET, O_HELP, O_OWNER, O_FORCE,
	O_RESUME, O_JSON,
	O_ACTUATOR, O_ACTUATOR_OPT,
};

const struct option cli_run_options[] = {
	{ "app", required_argument, NULL, O_APP },
	{ "inputs", required_argument, NULL, O_INPUTS },
	{ "outputs", required_argument, NULL, O_OUTPUTS },
	{ "replicas", required_argument, NULL, O_REPLICAS },
	{ "redis", required_argument, NULL, O_REDIS },
	{ "job", required_argument, NULL, O_JOB },
	{ "param", required_argument, NULL, O_PARAM },
	{ "owner", required_argument, NULL, O_OWNER },
	{ "app-kind", required_argument, NULL, O_KIND },
	{ "app-arg", required_argument, NULL, O_APP_ARG },
	{ "lease-ms", required_argument, NULL, O_LEASE },
	{ "max-attempts", required_argument, NULL, O_ATTEMPTS },
	{ "backoff-ms", required_argument, NULL, O_BACKOFF },
	{ "item-timeout-ms", required_argument, NULL, O_TIMEOUT },
	{ "max-item-bytes", required_argument, NULL, O_MAXB },
	{ "allow-empty-output", no_argument, NULL, O_EMPTY },
	{ "reduce", required_argument, NULL, O_REDUCE },
	{ "worker-log", required_argument, NULL, O_WLOG },
	{ "keep-job", no_argument, NULL, O_KEEP },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "force", no_argument, NULL, O_FORCE },
	{ "resume", no_argument, NULL, O_RESUME },
	{ "json", no_argument, NULL, O_JSON },
	{ "help", no_argument, NULL, O_HELP },
	{ "actuator", required_argument, NULL, O_ACTUATOR },
	{ "actuator-opt", required_argument, NULL, O_ACTUATOR_OPT },
	{ NULL, 0, NULL, 0 },
};

static int
parse(struct run *R, int argc, char **argv)
{
	long long x = 0;
	int o, r;

	optind = 1;
	opterr = 0;
	R->replicas = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (R->replicas < 1)
		R->replicas = 1;
	while ((o = getopt_long(argc, argv, ":h", cli_run_options, NULL)) != -1) {
		r = 0;
		switch (o) {
		case O_APP: R->app = optarg; break;
		case O_INPUTS: R->inputs = optarg; break;
		case O_OUTPUTS: R->outputs = optarg; break;
		case O_REDIS: R->redis = optarg; break;
		case O_JOB: R->job = optarg; break;
		case O_KIND: R->app_kind = optarg; break;
		case O_REDUCE: R->reduce = optarg; break;
		case O_WLOG: R->worker_log = optarg; break;
		case O_EMPTY: R->allow_empty = 1; break;
		case O_KEEP: R->keep_job = 1; break;
		case O_QUIET: R->quiet = 1; break;
		case O_FORCE: R->force = 1; break;
		case O_RESUME: R->resume = 1; break;
		case O_JSON: R->json = 1; break;
		case O_ACTUATOR: R->actuator = optarg; break;
		case O_ACTUATOR_OPT:
			if (R->nact_opts == MAX_LIST)
				return cli_usage("run", usage, "too many --actuator-opt");
			R->act_opts[R->nact_opts++] = optarg;
			break;
		case O_PARAM:
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				return cli_usage("run", usage, "--param '%s': expected K=V", optarg);
			if (R->nparams == MAX_LIST)
				return cli_usage("run", usage, "too many --param");
			R->params[R->nparams++] = optarg;
			break;
		case O_OWNER:
			/* The worker checks the characters (doc/worker.md 2.1). */
			if (strchr(optarg, '=') == NULL)
				return cli_usage("run", usage, "--owner '%s': expected"
				    " PREFIX=NAME", optarg);
			if (R->nowners == MAX_LIST)
				return cli_usage("run", usage, "too many --owner");
			R->owners[R->nowners++] = optarg;
			break;
		case O_APP_ARG:
			if (R->napp_args == MAX_LIST)
				return cli_usage("run", usage, "too many --app-arg");
			R->app_args[R->napp_args++] = optarg;
			break;
		case O_REPLICAS:
			if ((r = parse_num("--replicas", optarg, 1, 1000, &x)) == 0)
				R->replicas = (int)x;
			break;
		case O_LEASE:
			if ((r = parse_num("--lease-ms", optarg, 100, 86400000, &x)) == 0)
				R->lease_ms = (int)x;
			break;
		case O_ATTEMPTS:
			if ((r = parse_num("--max-attempts", optarg, 1, 1000000, &x)) == 0)
				R->max_attempts = (int)x;
			break;
		case O_BACKOFF:
			if ((r = parse_num("--backoff-ms", optarg, 1, 3600000, &x)) == 0)
				R->backoff_ms = (int)x;
			break;
		case O_TIMEOUT:
			if ((r = parse_num("--item-timeout-ms", optarg, 0, INT_MAX, &x)) == 0)
				R->item_timeout_ms = (int)x;
			break;
		case O_MAXB:
			if ((r = parse_num("--max-item-bytes", optarg, 1, (long long)1 << 34,
			    &x)) == 0)
				R->max_item_bytes = x;
			break;
		case 'h':
		case O_HELP:
			printf("usage: %s\n\n%s", usage, help);
			return -1;
		default:
			return cli_opt_fail("run", usage, cli_run_options, o, argv);
		}
		if (r != 0)
			return r;
	}
	if (optind < argc)
		return cli_usage("run", usage, "unexpected argument '%s'", argv[optind]);
	if (R->app == NULL || R->inputs == NULL || R->outputs == NULL)
		return cli_usage("run", usage, "--app, --inputs and --outputs are required");
	if (R->app_kind != NULL && strcmp(R->app_kind, "plugin") != 0 &&
	    strcmp(R->app_kind, "exec") != 0)
		return cli_usage("run", usage, "--app-kind must be plugin or exec");
	if (R->actuator != NULL && strcmp(R->actuator, "local") != 0 &&
	    R->redis == NULL)
		return cli_usage("run", usage, "--actuator %s: workers run on other "
		    "machines and must reach the queue: give --redis URL (a private"
		    " Redis listens on 127.0.0.1 only)", R->actuator);
	if (R->keep_job && R->redis == NULL)
		return cli_usage("run", usage, "--keep-job needs --redis (a private"
		    " Redis ends with the run)");
	if (R->force && R->resume)
		return cli_usage("run", usage, "--force and --resume exclude each other");
	/* Before anything runs: a bad --reduce name is found now, not after
	 * the whole job. */
	if (R->reduce != NULL && (coffer_store_check_key(R->reduce) != 0 ||
	    strchr(R->reduce, '/') != NULL)) {
		coffer_errclear();
		return cli_usage("run", usage, "--reduce '%s': not a file name (no "
		    "'/', no '..')", R->reduce);
	}
	return 0;
}

/* coffer-worker next to this program, else from PATH. */
static void
find_worker(struct run *R)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(R->worker, sizeof(R->worker), "%s/coffer-worker", self);
			if (access(R->worker, X_OK) == 0)
				return;
		}
	}
	snprintf(R->worker, sizeof(R->worker), "coffer-worker");
}

/*
 * --app NAME, as a job file names an app: the plugin NAME.so, else the
 * executable NAME, of this build's apps/ directory (beside bin/, as
 * coffer up gives the manager). Not found: the one meant and the apps
 * there are, not only ENOENT.
 */
static int
app_by_name(struct run *R)
{
	struct coffer_buf list = COFFER_BUF_INIT(4096);
	char bindir[PATH_MAX], apps[PATH_MAX + 8], path[PATH_MAX * 2], meant[256] = "";
	const char *slash = strrchr(R->app, '/'), *word;
	int e = errno, r;

	if (coffer_exe_dir(bindir, sizeof(bindir)) != 0) {
		coffer_errclear();
		bindir[0] = '\0';
	}
	snprintf(apps, sizeof(apps), "%s/../apps", bindir);
	if (slash == NULL && bindir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/%s.so", apps, R->app);
		if (realpath(path, R->app_abs) != NULL)
			return 0;
		snprintf(path, sizeof(path), "%s/%s", apps, R->app);
		if (access(path, X_OK) == 0 && realpath(path, R->app_abs) != NULL)
			return 0;
	}
	/* A path: the apps of its directory; a name: those of the build. */
	if (slash != NULL)
		snprintf(path, sizeof(path), "%.*s", (int)(slash - R->app), R->app);
	else
		snprintf(path, sizeof(path), "%s", apps);
	word = slash != NULL ? slash + 1 : R->app;
	{
		char w[256];
		size_t wl = strlen(word);

		snprintf(w, sizeof(w), "%.*s", (int)(wl > 3 &&
		    strcmp(word + wl - 3, ".so") == 0 ? wl - 3 : wl), word);
		if (coffer_appdir_list(path[0] ? path : "/", w, &list, meant,
		    sizeof(meant)) != 0)
			coffer_buf_reset(&list);
	}
	r = coffer_errf(COFFER_E_NOTFOUND, "--app %s: %s%s%s%s%s%s%s", R->app,
	    strerror(e), meant[0] ? " (did you mean '" : "", meant,
	    meant[0] ? "'?)" : "", list.len ? "; the apps in " : "",
	    list.len ? path : "", list.len ? ": " : "");
	if (list.len) {
		char head[2048];

		snprintf(head, sizeof(head), "%s", coffer_errdetail());
		r = coffer_errf(r, "%s%s", head, coffer_buf_str(&list));
	}
	coffer_buf_release(&list);
	return r;
}

static int
check_dirs(struct run *R)
{
	struct stat st;

	if (stat(R->inputs, &st) != 0)
		return coffer_errf(COFFER_E_NOTFOUND, "--inputs %s: %s", R->inputs,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return coffer_errf(COFFER_E_INVAL, "--inputs %s: not a directory",
		    R->inputs);
	if (realpath(R->inputs, R->in_abs) == NULL)
		return coffer_errf(COFFER_E_IO, "%s: %s", R->inputs, strerror(errno));
	if (mkdir(R->outputs, 0700) != 0 && errno != EEXIST)
		return coffer_errf(COFFER_E_IO, "--outputs %s: %s", R->outputs,
		    strerror(errno));
	if (stat(R->outputs, &st) != 0 || !S_ISDIR(st.st_mode))
		return coffer_errf(COFFER_E_INVAL, "--outputs %s: not a directory",
		    R->outputs);
	if (realpath(R->outputs, R->out_abs) == NULL)
		return coffer_errf(COFFER_E_IO, "%s: %s", R->outputs, strerror(errno));
	if (strcmp(R->in_abs, R->out_abs) == 0)
		return coffer_errf(COFFER_E_INVAL, "--inputs and --outputs are the same"
		    " directory: outputs would overwrite inputs");
	if (realpath(R->app, R->app_abs) == NULL)
		return app_by_name(R);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of the inputs directory, by name; names must be
 * valid item ids and object keys (reported all at once). */
static int
list_inputs(struct run *R)
{
	DIR *d = opendir(R->in_abs);
	struct dirent *e;
	size_t cap = 0, bad = 0, skipped = 0;
	int r = 0;

	if (d == NULL)
		return coffer_errf(COFFER_E_IO, "%s: %s", R->in_abs, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode)) {
			if (skipped++ < 5)
				fprintf(stderr, "coffer run: skipping '%s' (not a regular"
				    " file)\n", e->d_name);
			continue;
		}
		if (coffer_queue_check_item(e->d_name, strlen(e->d_name)) != 0 ||
		    coffer_store_check_key(e->d_name) != 0) {
			if (bad++ < 10)
				fprintf(stderr, "coffer run: input name '%s' cannot be an"
				    " item id: %s\n", e->d_name, coffer_errdetail());
			continue;
		}
		if (R->nitems == cap) {
			char **v = coffer_reallocarray(R->items, cap = cap * 2 + 256,
			    sizeof(*v));

			if (v == NULL) {
				r = coffer_errf(COFFER_E_NOMEM, "inputs");
				break;
			}
			R->items = v;
		}
		if ((R->items[R->nitems] = coffer_strdup(e->d_name)) == NULL) {
			r = coffer_errf(COFFER_E_NOMEM, "inputs");
			break;
		}
		R->nitems++;
	}
	closedir(d);
	if (r == 0 && bad > 0)
		r = coffer_errf(COFFER_E_FORMAT, "%zu input file name(s) are not valid"
		    " item ids (1-1024 printable ASCII characters, no space, not"
		    " '.'/'..', no '.tmp-<12 hex>' suffix)", bad);
	if (r == 0 && R->nitems == 0)
		r = coffer_errf(COFFER_E_NOTFOUND, "no input files in %s", R->in_abs);
	if (r == 0)
		qsort(R->items, R->nitems, sizeof(*R->items), cmp_names);
	return r;
}

/* Every --owner prefix must name some input (a typo would silently leave
 * inputs without an owner); inputs that no prefix names are listed. */
static int
check_owners(struct run *R)
{
	size_t orphans = 0;

	if (R->nowners == 0)
		return 0;
	for (int i = 0; i < R->nowners; i++) {
		size_t pn = (size_t)(strchr(R->owners[i], '=') - R->owners[i]), k;

		for (k = 0; k < R->nitems; k++)
			if (strncmp(R->items[k], R->owners[i], pn) == 0)
				break;
		if (k == R->nitems)
			return coffer_errf(COFFER_E_INVAL, "--owner '%s': no input"
			    " name starts with '%.*s'", R->owners[i], (int)pn,
			    R->owners[i]);
	}
	for (size_t k = 0; k < R->nitems; k++) {
		int i;

		for (i = 0; i < R->nowners; i++)
			if (strncmp(R->items[k], R->owners[i],
			    (size_t)(strchr(R->owners[i], '=') - R->owners[i])) == 0)
				break;
		if (i == R->nowners && orphans++ < 5)
			fprintf(stderr, "coffer run: input '%s' has no owner (no --owner"
			    " prefix matches it)\n", R->items[k]);
	}
	if (orphans > 5)
		fprintf(stderr, "coffer run: ... %zu inputs in all have no owner\n",
		    orphans);
	return 0;
}

/* The worker's command line, shared by the replicas, --check-app and
 * --reduce. extra: mode flags appended at the end. */
static int
worker_argv(struct run *R, char **argv, int with_queue, const char *extra1,
    const char *extra2)
{
	static char nbuf[8][32];
	int n = 0;

	argv[n++] = R->worker;
	/* The Redis URL goes in the environment (start_workers): it may hold a
	 * password, and every local user can read a process's arguments. */
	if (with_queue) {
		argv[n++] = "--job";
		argv[n++] = (char *)R->job;
	}
	argv[n++] = "--store";
	argv[n++] = R->in_abs;
	argv[n++] = "--outputs";
	argv[n++] = R->out_abs;
	argv[n++] = "--app";
	argv[n++] = R->app_abs;
	if (R->app_kind != NULL) {
		argv[n++] = "--app-kind";
		argv[n++] = (char *)R->app_kind;
	}
	for (int i = 0; i < R->nparams; i++) {
		argv[n++] = "--param";
		argv[n++] = (char *)R->params[i];
	}
	for (int i = 0; i < R->nowners; i++) {
		argv[n++] = "--owner";
		argv[n++] = (char *)R->owners[i];
	}
	for (int i = 0; i < R->napp_args; i++) {
		argv[n++] = "--app-arg";
		argv[n++] = (char *)R->app_args[i];
	}
	if (R->lease_ms) {
		snprintf(nbuf[0], sizeof(nbuf[0]), "%d", R->lease_ms);
		argv[n++] = "--lease-ms";
		argv[n++] = nbuf[0];
	}
	if (R->backoff_ms) {
		snprintf(nbuf[1], sizeof(nbuf[1]), "%d", R->backoff_ms);
		argv[n++] = "--backoff-ms";
		argv[n++] = nbuf[1];
	}
	if (R->item_timeout_ms) {
		snprintf(nbuf[2], sizeof(nbuf[2]), "%d", R->item_timeout_ms);
		argv[n++] = "--item-timeout-ms";
		argv[n++] = nbuf[2];
	}
	if (R->max_item_bytes) {
		snprintf(nbuf[3], sizeof(nbuf[3]), "%lld", R->max_item_bytes);
		argv[n++] = "--max-item-bytes";
		argv[n++] = nbuf[3];
	}
	if (R->allow_empty)
		argv[n++] = "--allow-empty-output";
	if (extra1 != NULL)
		argv[n++] = (char *)extra1;
	if (extra2 != NULL)
		argv[n++] = (char *)extra2;
	argv[n] = NULL;
	return n;
}

/* Run the worker in a mode (--check-app, --reduce) and wait; its output
 * (both streams) goes to out. Returns its exit status, or -1. */
static int
run_worker_mode(char **argv, struct coffer_buf *out)
{
	int p[2], st = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		char buf[4096];
		ssize_t n = read(p[0], buf, sizeof(buf));

		if (n > 0) {
			if (coffer_buf_put(out, buf, (size_t)n) != 0)
				coffer_errclear(); /* keep what fits */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
check_app(struct run *R)
{
	char *argv[ARGV_MAX];
	struct coffer_buf out = COFFER_BUF_INIT(1 << 16);
	int st, r = 0;

	worker_argv(R, argv, 0, "--check-app", NULL);
	st = run_worker_mode(argv, &out);
	if (st != 0) {
		const char *s = coffer_buf_str(&out);
		size_t n = strlen(s);

		while (n > 0 && s[n - 1] == '\n')
			n--;
		if (strncmp(s, "coffer-worker: app: ", 20) == 0) {
			s += 20;
			n -= 20;
		}
		if (st == 127)
			r = coffer_errf(COFFER_E_NOTFOUND, "cannot run %s (is coffer-worker"
			    " installed next to coffer?)", R->worker);
		else
			r = coffer_errf(COFFER_E_APP, "the app cannot be used: %.*s", (int)n, s);
	}
	coffer_buf_release(&out);
	return r;
}

static void
print_param_error(void *arg, const char *name, const char *message)
{
	(void)arg;
	fprintf(stderr, "coffer run: --param %s: %s\n", name, message);
}

/*
 * What the app declares (coffer-worker --describe-app): its parameters,
 * checked against --param, and whether it has a reduce stage, checked
 * against --reduce. Before anything runs. CLI_USAGE (errors printed), 0,
 * or -1 when the app could not be described (check_app says why).
 */
static int
describe_check(struct run *R)
{
	char *argv[8];
	struct coffer_buf out = COFFER_BUF_INIT(1 << 18);
	const char *keys[MAX_LIST], *vals[MAX_LIST];
	char kbuf[MAX_LIST][80];
	json_t *d = NULL, *decls;
	size_t nerr;
	int n = 0, st;

	argv[n++] = R->worker;
	argv[n++] = "--describe-app";
	argv[n++] = "--app";
	argv[n++] = R->app_abs;
	if (R->app_kind != NULL) {
		argv[n++] = "--app-kind";
		argv[n++] = (char *)R->app_kind;
	}
	argv[n] = NULL;
	st = run_worker_mode(argv, &out);
	if (st != 0 || coffer_json_parse(coffer_buf_str(&out), out.len, 1 << 18, 16,
	    &d) != 0) {
		coffer_errclear();
		coffer_buf_release(&out);
		return -1;
	}
	coffer_buf_release(&out);
	for (int i = 0; i < R->nparams; i++) {
		size_t k = strcspn(R->params[i], "=");

		snprintf(kbuf[i], sizeof(kbuf[i]), "%.*s", (int)k, R->params[i]);
		keys[i] = kbuf[i];
		vals[i] = R->params[i] + k + (R->params[i][k] == '=');
	}
	decls = json_object_get(d, "params");
	nerr = coffer_app_params_check(json_is_array(decls) ? decls : NULL, keys,
	    vals, (size_t)R->nparams, print_param_error, NULL);
	if (R->reduce != NULL && !json_is_true(json_object_get(d, "reduce"))) {
		fprintf(stderr, "coffer run: --reduce %s: the app has no reduce stage\n",
		    R->reduce);
		nerr++;
	}
	json_decref(d);
	if (nerr > 0)
		return cli_usage("run", usage, "%zu problem(s) with the app's options"
		    " (above); nothing was run", nerr);
	return 0;
}

/*
 * Outputs that exist already: refused without --force (doc/cli.md:
 * nothing is replaced without it); with --resume their items are left out
 * of the job, so a run interrupted by Ctrl-C goes on where it stopped.
 */
static int
check_outputs(struct run *R)
{
	size_t exist = 0, k = 0;
	char p[PATH_MAX], first[3][256];
	struct stat st;

	for (size_t i = 0; i < R->nitems; i++) {
		snprintf(p, sizeof(p), "%s/%s", R->out_abs, R->items[i]);
		if (lstat(p, &st) != 0)
			continue;
		if (exist < 3)
			snprintf(first[exist], sizeof(first[0]), "%s", R->items[i]);
		exist++;
		if (R->resume) {
			free(R->items[i]);
			R->items[i] = NULL;
		}
	}
	if (R->resume) {
		for (size_t i = 0; i < R->nitems; i++)
			if (R->items[i] != NULL)
				R->items[k++] = R->items[i];
		R->nitems = k;
		R->skipped = exist;
	} else if (exist > 0 && !R->force) {
		return coffer_errf(COFFER_E_EXISTS, "%zu output(s) exist already in "
		    "%s (%s%s%s%s%s%s): --force replaces them, --resume skips their "
		    "items", exist, R->out_abs, first[0], exist > 1 ? ", " : "",
		    exist > 1 ? first[1] : "", exist > 2 ? ", " : "",
		    exist > 2 ? first[2] : "", exist > 3 ? ", ..." : "");
	}
	if (R->reduce != NULL && !R->force) {
		snprintf(p, sizeof(p), "%s/%s", R->out_abs, R->reduce);
		if (lstat(p, &st) == 0)
			return coffer_errf(COFFER_E_EXISTS, "--reduce %s: %s exists "
			    "already: --force replaces it", R->reduce, p);
	}
	return 0;
}

/* The actuator and its options, checked before anything runs. */
static int
check_actuator(struct run *R)
{
	int r;

	R->ac.backend = R->actuator;
	R->ac.options = R->act_opts;
	if (R->actuator != NULL && strcmp(R->actuator, "kubernetes") == 0 &&
	    (r = cli_curl_actuator_api(&R->ac.curl)) != 0)
		return r;
	return coffer_actuator_check(&R->ac);
}

static int
make_rundir(struct run *R)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(R->rundir, sizeof(R->rundir), "%s/coffer-run.XXXXXX",
	    tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(R->rundir) == NULL)
		return coffer_errf(COFFER_E_IO, "mkdtemp: %s", strerror(errno));
	if (R->worker_log != NULL)
		snprintf(R->logpath, sizeof(R->logpath), "%s", R->worker_log);
	else
		snprintf(R->logpath, sizeof(R->logpath), "%s/workers.log", R->rundir);
	return 0;
}

static int
start_redis(struct run *R)
{
	struct coffer_redis_server_opts o = { 0 };
	int r;

	if (R->redis != NULL) {
		R->url = R->redis;
		return 0;
	}
	/* The job lives as long as this command: no AOF needed. */
	o.appendonly = 0;
	if ((r = coffer_redis_server_start(&o, &R->srv)) != 0)
		return coffer_errctx(r, "starting a private redis-server");
	R->url = R->srv->url;
	return 0;
}

static int
load_job(struct run *R)
{
	struct coffer_queue_opts o = { 0 };
	int r;

	if (R->job == NULL) {
		uint8_t rnd[4] = { 0 };

		if (coffer_random(rnd, sizeof(rnd)) != 0)
			rnd[0] = (uint8_t)getpid();
		snprintf(R->job_buf, sizeof(R->job_buf), "run-%02x%02x%02x%02x", rnd[0],
		    rnd[1], rnd[2], rnd[3]);
		R->job = R->job_buf;
	}
	o.redis_url = R->url;
	o.job = R->job;
	o.lease_ms = R->lease_ms;
	o.max_attempts = R->max_attempts;
	o.backoff_ms = R->backoff_ms;
	if ((r = coffer_queue_open(&o, &R->q)) != 0)
		return r;
	if ((r = coffer_queue_load(R->q, (const char *const *)R->items, R->nitems)) != 0) {
		if (r == COFFER_E_EXISTS)
			return coffer_errf(r, "job '%s' already exists in %s: choose another"
			    " --job", R->job, R->url);
		return r;
	}
	return 0;
}

static int
start_workers(struct run *R)
{
	char *argv[ARGV_MAX], *env[2] = { NULL, NULL };
	char name[64], label[80], *labels[2] = { label, NULL };
	struct coffer_replica_spec spec = { 0 };
	int r;

	worker_argv(R, argv, 1, NULL, NULL);
	/* The backend's objects are named after the job, and labelled so
	 * that they are told from every other job's. */
	coffer_actuator_name_from("coffer-", R->job, name, sizeof(name));
	snprintf(label, sizeof(label), "coffer-run=%s", name);
	spec.name = name;
	spec.labels = labels;
	/* The actuator copies the environment. */
	if (asprintf(&env[0], "COFFER_REDIS_URL=%s", R->url) < 0)
		return coffer_errf(COFFER_E_NOMEM, "worker environment");
	spec.argv = argv;
	spec.env = env;
	spec.log_path = R->logpath;
	spec.grace_ms = 30000;
	spec.restart_crashed = 1;
	r = coffer_actuator_new(&R->ac, &spec, &R->act);
	free(env[0]);
	if (r != 0)
		return r;
	return coffer_actuator_set_replicas(R->act, R->replicas);
}

struct dead_print {
	size_t n;
};

static void
print_dead(const char *id, uint32_t attempts, const char *error, void *arg)
{
	struct dead_print *d = arg;

	if (d->n++ < 50)
		fprintf(stderr, "  %s (attempts %u): %s\n", id, attempts, error);
}

/* Wait for the job, keeping the pool, the reaper and the display going. */
static int
supervise(struct run *R, struct coffer_queue_stats *s)
{
	struct run_progress p;
	struct coffer_actuator_status st;
	int64_t last_reap = 0, last_progress_ms = coffer_mono_ms(), last_done = -1;
	int r;

	run_progress_init(&p, stderr, cli_isatty(2), R->quiet);
	for (;;) {
		if (interrupted)
			return coffer_errf(COFFER_E_CANCELLED, "interrupted");
		(void)coffer_actuator_tick(R->act);
		if (coffer_mono_ms() - last_reap >= REAP_MS) {
			if (coffer_queue_reap(R->q, NULL) != 0)
				coffer_errclear(); /* transient: next round */
			last_reap = coffer_mono_ms();
		}
		if ((r = coffer_queue_stats(R->q, s)) != 0) {
			/* A transient error: keep going, Redis may come back. */
			if (r != COFFER_E_CONNECT && r != COFFER_E_BUSY)
				return r;
			coffer_nap_ms(LOOP_MS);
			continue;
		}
		(void)coffer_actuator_status(R->act, &st);
		if (s->done + s->failed != last_done) {
			last_done = s->done + s->failed;
			last_progress_ms = coffer_mono_ms();
		}
		/* Over only when the counts add up with nothing in flight or
		 * queued (queue.h): done + failed alone could be reached by
		 * acks of ids that are not the job's. */
		if (coffer_queue_stats_finished(s)) {
			run_progress_end(&p, s->done, s->failed, s->total, st.running);
			return 0;
		}
		run_progress_update(&p, s->done, s->failed, s->total, st.running);
		/* Workers that die over and over without progress (an app that
		 * kills them at start, a broken installation): give up. */
		if (st.crashed_total >= 3 * (int64_t)R->replicas + 5 &&
		    coffer_mono_ms() - last_progress_ms > 15000) {
			if (p.drawn)
				fputc('\n', stderr);
			return coffer_errf(COFFER_E_APP, "workers keep crashing (%lld"
			    " crashes, no progress for 15 s); see %s",
			    (long long)st.crashed_total, R->logpath);
		}
		coffer_nap_ms(LOOP_MS);
	}
}

static int
run_reduce(struct run *R)
{
	char *argv[ARGV_MAX];
	struct coffer_buf out = COFFER_BUF_INIT(1 << 16);
	int st, r = 0;

	if (coffer_store_check_key(R->reduce) != 0 || strchr(R->reduce, '/') != NULL)
		return coffer_errf(COFFER_E_FORMAT, "--reduce '%s': not a valid file name",
		    R->reduce);
	worker_argv(R, argv, 0, "--reduce", R->reduce);
	st = run_worker_mode(argv, &out);
	if (st != 0) {
		const char *s = coffer_buf_str(&out);
		size_t n = strlen(s);

		while (n > 0 && s[n - 1] == '\n')
			n--;
		r = coffer_errf(COFFER_E_APP, "reduce stage failed: %.*s", (int)n, s);
	}
	coffer_buf_release(&out);
	return r;
}

static int
rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	return rmdir(dir);
}

/* The summary: one line, or one JSON object with --json. */
static void
print_summary(const struct run *R, const struct coffer_queue_stats *s,
    int64_t ms)
{
	double secs = (double)ms / 1000.0;
	long long total = s != NULL ? s->total : 0, done = s != NULL ? s->done : 0,
	    failed = s != NULL ? s->failed : 0;
	char dur[32];

	if (R->json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:i, s:s?}",
		    "job", R->job != NULL ? R->job : "", "items", (json_int_t)total,
		    "done", (json_int_t)done, "failed", (json_int_t)failed,
		    "skipped", (json_int_t)R->skipped, "seconds", secs,
		    "workers", R->replicas, "reduce", R->reduce);
		char *t = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		if (t != NULL)
			puts(t);
		free(t);
		json_decref(o);
	} else if (s == NULL) {
		printf("nothing to run: all %zu items have their outputs (--resume)\n",
		    R->skipped);
	} else {
		run_format_duration(secs, dur, sizeof(dur));
		printf("job %s: %lld items: %lld done, %lld failed in %s (%.1f items/s,"
		    " %d workers)%s\n", R->job, total, done, failed, dur,
		    secs > 0 ? (double)done / secs : 0.0, R->replicas,
		    R->skipped > 0 ? "; outputs of earlier runs kept" : "");
		if (R->skipped > 0)
			printf("  (%zu items skipped: their outputs exist, --resume)\n",
			    R->skipped);
	}
	fflush(stdout);
}

int
cmd_run(int argc, char **argv)
{
	struct run R;
	struct coffer_queue_stats s = { 0 };
	struct sigaction sa, old_int, old_term;
	int64_t t0 = 0, t1 = 0;
	int r, rc = CLI_OK;

	memset(&R, 0, sizeof(R));
	if ((r = parse(&R, argc, argv)) != 0)
		return r < 0 ? CLI_OK : r;
	find_worker(&R);
	if ((r = check_actuator(&R)) != 0 || (r = check_dirs(&R)) != 0 ||
	    (r = list_inputs(&R)) != 0 || (r = check_owners(&R)) != 0) {
		rc = cli_fail(r, "run");
		goto out;
	}
	if ((rc = describe_check(&R)) > 0)
		goto out;
	rc = CLI_OK;
	if ((r = check_app(&R)) != 0 || (r = check_outputs(&R)) != 0) {
		rc = cli_fail(r, "run");
		goto out;
	}
	if (R.nitems == 0) {
		/* --resume, and every item has its output. */
		if (R.reduce == NULL || (r = run_reduce(&R)) == 0) {
			print_summary(&R, NULL, 0);
			goto out;
		}
		rc = cli_fail(r, "run");
		goto out;
	}
	if ((r = make_rundir(&R)) != 0) {
		rc = cli_fail(r, "run");
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if ((r = start_redis(&R)) != 0 || (r = load_job(&R)) != 0)
		goto failed;
	t0 = coffer_mono_ms();
	if ((r = start_workers(&R)) != 0 || (r = supervise(&R, &s)) != 0) {
failed:
		rc = cli_fail(r, "run");
		R.keep_rundir = 1;
		if (r == COFFER_E_CANCELLED)
			rc = 130;
		goto stop;
	}
stop:
	t1 = coffer_mono_ms();
	if (R.act != NULL) {
		struct coffer_store *out = NULL;
		size_t swept = 0;

		(void)coffer_actuator_stop_all(R.act);
		coffer_actuator_free(R.act);
		R.act = NULL;
		/* No worker is alive now: a temporary file in the outputs is what
		 * a worker killed in the middle of a put left behind. */
		if (coffer_store_open(R.out_abs, 0, &out) != 0 ||
		    coffer_store_sweep(out, 0, &swept) != 0)
			fprintf(stderr, "coffer run: cleaning %s: %s\n", R.out_abs,
			    coffer_errdetail());
		coffer_store_free(out);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc != CLI_OK)
		goto out;
	print_summary(&R, &s, t1 - t0);
	if (s.failed > 0) {
		struct dead_print d = { 0 };

		fprintf(stderr, "coffer run: %lld item(s) failed after their last"
		    " attempt:\n", (long long)s.failed);
		if (coffer_queue_dead_letters(R.q, print_dead, &d) != 0)
			fprintf(stderr, "  (cannot list them: %s)\n", coffer_errdetail());
		if (d.n > 50)
			fprintf(stderr, "  ... and %zu more\n", d.n - 50);
		R.keep_rundir = 1;
		rc = CLI_FAIL;
		goto out;
	}
	if (R.reduce != NULL && (r = run_reduce(&R)) != 0) {
		rc = cli_fail(r, "run");
		R.keep_rundir = 1;
		goto out;
	}
	if (R.redis != NULL && !R.keep_job)
		if (coffer_queue_destroy(R.q) != 0)
			fprintf(stderr, "coffer run: could not delete the job's keys: %s\n",
			    coffer_errdetail());
out:
	if (R.keep_rundir && R.logpath[0] && access(R.logpath, F_OK) != 0)
		R.keep_rundir = 0; /* no worker ran: no log to show */
	if (R.keep_rundir && R.logpath[0])
		fprintf(stderr, "coffer run: worker log: %s\n", R.logpath);
	if (R.rundir[0] && !(R.keep_rundir && R.worker_log == NULL))
		rm_tree(R.rundir);
	coffer_queue_close(R.q);
	coffer_redis_server_free(R.srv);
	for (size_t i = 0; i < R.nitems; i++)
		free(R.items[i]);
	free(R.items);
	return rc;
}
