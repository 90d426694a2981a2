// SPDX-License-Identifier: Apache-2.0
// `coffer job`: submit, list, show, stop, delete, timeline and watch jobs
// on a coffer-manager (doc/api.md). A job file in Asperathos's format (it
// has "plugin") goes to POST /submissions, a native one to POST /v1/jobs.
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/json.h"

static const char usage_text[] =
    "coffer job submit FILE | list [--state S] | show ID | timeline ID |\n"
    "           stop ID | delete ID | watch ID [--interval SECONDS]\n"
    "           [--url URL] [--token TOKEN]";

#define JOB_FILE_MAX ((size_t)1 << 20)

struct job_opts {
	const char *url;
	const char *token;
	const char *state;
	double interval;
};

static int
request(const char *cmd, const struct cli_endpoint *ep, const char *method,
    const char *path, const char *body, size_t len, long want, json_t **reply)
{
	long status = 0;
	json_t *j = NULL;
	int r;

	if ((r = cli_http(ep, method, path, body, len, &status, &j, NULL)) != 0)
		return cli_fail(r, cmd);
	if (status != want && !(want == 200 && (status == 201 || status == 202 ||
	    status == 204))) {
		r = cli_http_fail(cmd, status, j);
		json_decref(j);
		return r;
	}
	if (reply != NULL)
		*reply = j;
	else
		json_decref(j);
	return CLI_OK;
}

static void
print_json(const json_t *j)
{
	/* 15 digits: the manager's 4.579 stays 4.579, not 4.5789999999999997. */
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS |
	    JSON_REAL_PRECISION(15));

	if (s != NULL) {
		puts(s);
		free(s);
	}
}

static int
job_submit(const struct cli_endpoint *ep, const char *file)
{
	struct coffer_buf b = COFFER_BUF_INIT(JOB_FILE_MAX);
	json_t *j = NULL, *reply = NULL;
	const char *id;
	int r, asperathos;

	if ((r = coffer_file_read(file, JOB_FILE_MAX, &b)) != 0) {
		coffer_buf_release(&b);
		return cli_fail(r, "job submit");
	}
	if ((r = coffer_json_parse(coffer_buf_str(&b), b.len, JOB_FILE_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &j)) != 0) {
		coffer_buf_release(&b);
		coffer_errctx(r, "%s", file);
		return cli_fail(r, "job submit");
	}
	asperathos = json_is_object(j) && json_object_get(j, "plugin") != NULL;
	json_decref(j);
	r = request("job submit", ep, "POST", asperathos ? "/submissions" :
	    "/v1/jobs", coffer_buf_str(&b), b.len, 200, &reply);
	coffer_buf_release(&b);
	if (r != CLI_OK)
		return r;
	id = json_string_value(json_object_get(reply, asperathos ? "job_id" : "id"));
	if (id == NULL) {
		json_decref(reply);
		fprintf(stderr, "coffer job submit: the manager answered without a job id\n");
		return CLI_FAIL;
	}
	printf("%s\n", id);
	if (asperathos) {
		json_t *ign = json_object_get(reply, "ignored");

		if (json_array_size(ign) > 0) {
			size_t i;
			json_t *v;

			fprintf(stderr, "ignored fields:");
			json_array_foreach(ign, i, v)
				fprintf(stderr, " %s", json_string_value(v));
			fputc('\n', stderr);
		}
	}
	json_decref(reply);
	return CLI_OK;
}

static long long
jint(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_number(v) ? (long long)json_number_value(v) : 0;
}

static double
jnum(const json_t *o, const char *a, const char *b, double def)
{
	const json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_number(v) ? json_number_value(v) : def;
}

static const char *
jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static int
job_list(const struct cli_endpoint *ep, const struct job_opts *o)
{
	json_t *reply = NULL, *jobs, *v;
	char path[128];
	size_t i;
	int r;

	/* A state is a lower-case word: nothing to escape in the query. */
	if (o->state != NULL && (o->state[0] == '\0' || strlen(o->state) > 32 ||
	    strspn(o->state, "abcdefghijklmnopqrstuvwxyz") != strlen(o->state)))
		return cli_usage("job list", usage_text, "--state: '%s' is not a "
		    "job state", o->state);
	if (o->state != NULL)
		snprintf(path, sizeof(path), "/v1/jobs?state=%s", o->state);
	else
		snprintf(path, sizeof(path), "/v1/jobs");
	if ((r = request("job list", ep, "GET", path, NULL, 0, 200, &reply)) != CLI_OK)
		return r;
	jobs = json_object_get(reply, "jobs");
	printf("%-20s %-10s %-10s %13s %9s %17s\n", "ID", "STATE", "KIND",
	    "DONE/TOTAL", "REPLICAS", "ELAPSED/EXPECTED");
	json_array_foreach(jobs, i, v) {
		char items[32], reps[16], times[32];

		snprintf(items, sizeof(items), "%lld/%lld", jint(v, "items", "done"),
		    jint(v, "items", "total"));
		snprintf(reps, sizeof(reps), "%lld", jint(v, "replicas", "running"));
		snprintf(times, sizeof(times), "%.0fs/%.0fs",
		    jnum(v, "elapsed_s", NULL, 0), jnum(v, "expected_time_s", NULL, 0));
		printf("%-20s %-10s %-10s %13s %9s %17s\n", jstr(v, "id"),
		    jstr(v, "state"), jstr(v, "kind"), items, reps, times);
	}
	json_decref(reply);
	return CLI_OK;
}

static int
job_get(const struct cli_endpoint *ep, const char *cmd, const char *method,
    const char *id, const char *suffix, int print)
{
	json_t *reply = NULL;
	char path[256];
	int r;

	/* Ids are [A-Za-z0-9_.-]: nothing to escape, but refuse the rest. */
	if (strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") != strlen(id) || id[0] == '\0' || strlen(id) > 64)
		return cli_usage(cmd, usage_text, "'%s' is not a job id", id);
	snprintf(path, sizeof(path), "/v1/jobs/%s%s", id, suffix);
	if ((r = request(cmd, ep, method, path, NULL, 0, 200, &reply)) != CLI_OK)
		return r;
	if (print && reply != NULL)
		print_json(reply);
	json_decref(reply);
	return CLI_OK;
}

/* DELETE, waiting while the manager answers 409 "busy" (a stopped job's
 * replicas still exiting: doc/api.md), for up to two minutes. */
static int
job_delete(const struct cli_endpoint *ep, const char *id)
{
	const char *cmd = "job delete";
	char path[256];
	int waited = 0;

	if (strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") != strlen(id) || id[0] == '\0' || strlen(id) > 64)
		return cli_usage(cmd, usage_text, "'%s' is not a job id", id);
	snprintf(path, sizeof(path), "/v1/jobs/%s", id);
	for (int tries = 0;; tries++) {
		long status = 0;
		json_t *j = NULL;
		const char *code;
		int r;

		if ((r = cli_http(ep, "DELETE", path, NULL, 0, &status, &j, NULL)) != 0)
			return cli_fail(r, cmd);
		if (status == 200 || status == 204) {
			json_decref(j);
			return CLI_OK;
		}
		code = json_string_value(json_object_get(json_object_get(j, "error"),
		    "code"));
		if (status != 409 || code == NULL || strcmp(code, "busy") != 0 ||
		    tries >= 240) {
			r = cli_http_fail(cmd, status, j);
			json_decref(j);
			return r;
		}
		json_decref(j);
		if (!waited++)
			fprintf(stderr, "coffer %s: waiting for the job's replicas to"
			    " exit\n", cmd);
		coffer_nap_ms(500);
	}
}

static volatile sig_atomic_t watch_stop;

static void
on_sigint(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static void
fmt_secs(double s, char *out, size_t outlen)
{
	if (s < 0) {
		snprintf(out, outlen, "-%s", "");
		fmt_secs(-s, out + 1, outlen - 1);
		return;
	}
	/* Whole seconds in integers: no libm (fmod), which would cost every
	 * `coffer` command 300 KiB of RSS. A server's absurd value is "?". */
	if (!(s < 1e12))
		snprintf(out, outlen, "?");
	else if (s >= 3600)
		snprintf(out, outlen, "%lldh%02lldm", (long long)s / 3600,
		    (long long)s / 60 % 60);
	else if (s >= 60)
		snprintf(out, outlen, "%lldm%02llds", (long long)s / 60,
		    (long long)s % 60);
	else
		snprintf(out, outlen, "%.1fs", s);
}

/* One status line: done/total, rate, replicas, time left, on track. */
static void
watch_line(const json_t *j, char *out, size_t outlen, int bar)
{
	long long done = jint(j, "items", "done"), total = jint(j, "items", "total"),
	    failed = jint(j, "items", "failed");
	double rate = jnum(j, "throughput", "items_per_s", 0);
	double left = jnum(j, "expected_time_s", NULL, 0) -
	    jnum(j, "elapsed_s", NULL, 0);
	const json_t *ot = json_object_get(j, "on_track");
	const char *state = jstr(j, "state");
	const char *track = json_is_true(ot) ? "on track" :
	    json_is_false(ot) ? "LATE" : "-";
	char bars[41], tl[32], eta[32], fs[48];
	int width = 30, fill;

	fmt_secs(left, tl, sizeof(tl));
	if (json_is_number(json_object_get(j, "eta_s")))
		fmt_secs(jnum(j, "eta_s", NULL, 0), eta, sizeof(eta));
	else
		snprintf(eta, sizeof(eta), "?");
	fill = total > 0 ? (int)((double)(done + failed) * width / (double)total) : width;
	if (fill > width)
		fill = width;
	memset(bars, '#', (size_t)fill);
	memset(bars + fill, '.', (size_t)(width - fill));
	bars[width] = '\0';
	if (failed > 0)
		snprintf(fs, sizeof(fs), " (%lld failed)", failed);
	else
		fs[0] = '\0';
	snprintf(out, outlen,
	    "%s%s%s%s %lld/%lld done%s %.1f items/s replicas %lld/%lld "
	    "eta %s time left %s %s",
	    bar ? "[" : "", bar ? bars : "", bar ? "] " : "", state, done, total,
	    fs, rate, jint(j, "replicas", "running"),
	    jint(j, "replicas", "desired"), eta, tl, track);
}

static int
job_watch(const struct cli_endpoint *ep, const char *id, double interval)
{
	json_t *j = NULL;
	char path[256], line[512], last[512] = "";
	int tty = cli_isatty(STDOUT_FILENO), r;
	long status = 0;

	if (strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") != strlen(id) || id[0] == '\0' || strlen(id) > 64)
		return cli_usage("job watch", usage_text, "'%s' is not a job id", id);
	snprintf(path, sizeof(path), "/v1/jobs/%s", id);
	signal(SIGINT, on_sigint);
	for (;;) {
		const char *state;

		if ((r = cli_http(ep, "GET", path, NULL, 0, &status, &j, NULL)) != 0) {
			if (tty)
				fputc('\n', stdout);
			return cli_fail(r, "job watch");
		}
		if (status != 200) {
			if (tty)
				fputc('\n', stdout);
			r = cli_http_fail("job watch", status, j);
			json_decref(j);
			return r;
		}
		watch_line(j, line, sizeof(line), tty);
		if (tty) {
			printf("\r%s\033[K", line);
			fflush(stdout);
		} else if (strcmp(line, last) != 0) {
			printf("%s\n", line);
			fflush(stdout);
			snprintf(last, sizeof(last), "%s", line);
		}
		state = jstr(j, "state");
		if (strcmp(state, "completed") == 0 || strcmp(state, "failed") == 0 ||
		    strcmp(state, "stopped") == 0) {
			if (tty)
				fputc('\n', stdout);
			printf("%s %s: %s\n", id, state, jstr(j, "reason"));
			r = strcmp(state, "completed") == 0 ? CLI_OK : CLI_FAIL;
			json_decref(j);
			return r;
		}
		json_decref(j);
		j = NULL;
		if (watch_stop) {
			if (tty)
				fputc('\n', stdout);
			return CLI_OK;
		}
		coffer_nap_ms((int64_t)(interval * 1000));
		if (watch_stop) {
			if (tty)
				fputc('\n', stdout);
			return CLI_OK;
		}
	}
}

static void
help(void)
{
	printf("usage: %s\n\n"
	    "Talk to a coffer-manager (doc/manager.md section 7, doc/api.md). The\n"
	    "manager is --url/--token, else $COFFER_URL/$COFFER_TOKEN (and\n"
	    "$COFFER_CACERT), else the state file of 'coffer up'.\n\n"
	    "  submit FILE     submit a job file (native, or Asperathos's format when\n"
	    "                  it has \"plugin\"); prints the job id\n"
	    "  list            one line per job (--state S: only jobs in state S)\n"
	    "  show ID         the job as JSON\n"
	    "  timeline ID     the job's samples and decisions as JSON\n"
	    "  stop ID         stop the job\n"
	    "  delete ID       delete the job\n"
	    "  watch ID        follow the job until it ends (--interval SECONDS,\n"
	    "                  0.1 to 3600, default 1); exit 0 if it completes,\n"
	    "                  1 if it fails or is stopped\n\n"
	    "  --url URL       the manager's URL (http:// or https://)\n"
	    "  --token TOKEN   a bearer token (cft_...)\n", usage_text);
}

const struct option cli_job_options[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "token", required_argument, NULL, 't' },
	{ "state", required_argument, NULL, 's' },
	{ "interval", required_argument, NULL, 'i' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Every verb: argv[0] is the verb, then the options and its argument. */
static int
job_verb(int argc, char **argv)
{
	struct job_opts o = { NULL, NULL, NULL, 1.0 };
	struct cli_endpoint ep;
	const char *verb = argv[0], *arg = NULL;
	char *end = NULL;
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_job_options, NULL)) != -1) {
		switch (c) {
		case 'u': o.url = optarg; break;
		case 't': o.token = optarg; break;
		case 's': o.state = optarg; break;
		case 'i':
			o.interval = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(o.interval >= 0.1) ||
			    o.interval > 3600)
				return cli_usage("job", usage_text,
				    "--interval: '%s' is not in [0.1, 3600]", optarg);
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail("job", usage_text, cli_job_options, c, argv);
		}
	}
	if (optind < argc)
		arg = argv[optind++];
	if (optind < argc)
		return cli_usage("job", usage_text, "unexpected argument '%s'",
		    argv[optind]);
	if (strcmp(verb, "list") != 0 && arg == NULL)
		return cli_usage("job", usage_text, "'job %s' needs an argument", verb);
	if (strcmp(verb, "list") == 0 && arg != NULL)
		return cli_usage("job", usage_text, "'job list' takes no argument");
	if ((r = cli_endpoint_resolve(o.url, o.token, &ep)) != 0)
		return cli_fail(r, "job");
	if (strcmp(verb, "submit") == 0)
		return job_submit(&ep, arg);
	if (strcmp(verb, "list") == 0)
		return job_list(&ep, &o);
	if (strcmp(verb, "show") == 0)
		return job_get(&ep, "job show", "GET", arg, "", 1);
	if (strcmp(verb, "timeline") == 0)
		return job_get(&ep, "job timeline", "GET", arg, "/timeline", 1);
	if (strcmp(verb, "stop") == 0)
		return job_get(&ep, "job stop", "POST", arg, "/stop", 0);
	if (strcmp(verb, "delete") == 0)
		return job_delete(&ep, arg);
	if (strcmp(verb, "watch") == 0)
		return job_watch(&ep, arg, o.interval);
	return cli_usage("job", usage_text, "unknown verb '%s'", verb);
}

/* One handler for all: the verbs share their options and the endpoint. */
const struct cli_verb cli_job_verbs[] = {
	{ "submit", job_verb },
	{ "list", job_verb },
	{ "show", job_verb },
	{ "timeline", job_verb },
	{ "stop", job_verb },
	{ "delete", job_verb },
	{ "watch", job_verb },
	{ NULL, NULL },
};

int
cmd_job(int argc, char **argv)
{
	return cli_dispatch("job", cli_job_verbs, usage_text, help, argc, argv);
}
