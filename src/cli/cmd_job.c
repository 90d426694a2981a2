// SPDX-License-Identifier: Apache-2.0
// `coffer job`: submit, list, show, stop, delete, timeline, watch and wait
// for jobs
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
#include "lib/suggest.h"

static const char usage_text[] =
    "coffer job submit FILE | list [--state S] [-o json|wide] |\n"
    "           show ID [-o json|wide] | timeline ID | logs ID | stop ID |\n"
    "           delete ID [--force] | watch ID [--interval SECONDS] |\n"
    "           wait ID [--timeout SECONDS]\n"
    "           [--url URL] [--token TOKEN]";

/* The states a job can be in (doc/manager.md section 2). */
static const char *const job_states[] = { "pending", "running", "completed",
	"failed", "stopped", NULL };

#define JOB_FILE_MAX ((size_t)1 << 20)

struct job_opts {
	const char *url;
	const char *token;
	const char *state;
	const char *output;   /* NULL (table), "json", "wide" */
	int force;
	double interval;
	double timeout;       /* wait: seconds, 0 none */
};

/* Ids are [A-Za-z0-9_.-], 1 to 64: nothing to escape in a path. */
static int
job_id_ok(const char *id)
{
	return id[0] != '\0' && strlen(id) <= 64 &&
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") == strlen(id);
}

/* A state a job does not leave (doc/manager.md section 2). */
static int
job_ended(const char *state)
{
	return strcmp(state, "completed") == 0 || strcmp(state, "failed") == 0 ||
	    strcmp(state, "stopped") == 0;
}

/* Set once: the endpoint has no token (for the hint on a 401). */
static int no_token;

/* An HTTP error, with what to do when no token was sent at all. */
static int
fail_status(const char *cmd, long status, const json_t *reply)
{
	int r = cli_http_fail(cmd, status, reply);

	if (status == 401 && no_token)
		fprintf(stderr, "coffer %s: no token was sent: give --token, set "
		    "COFFER_TOKEN, or use the state file of 'coffer up' (no "
		    "--url)\n", cmd);
	return r;
}

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
		r = fail_status(cmd, status, j);
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
	/* An empty file (an editor's save that failed, a '>' in place of
	 * '>>') is said as one, not as a JSON token expected at its end. */
	if (strspn(coffer_buf_str(&b), " \t\r\n") == b.len) {
		coffer_buf_release(&b);
		return cli_fail(coffer_errf(COFFER_E_FORMAT, "%s is empty: a job file "
		    "is one JSON object (doc/api.md)", file), "job submit");
	}
	if ((r = coffer_json_parse(coffer_buf_str(&b), b.len, JOB_FILE_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &j)) != 0) {
		coffer_buf_release(&b);
		coffer_errctx(r, "%s", file);
		return cli_fail(r, "job submit");
	}
	/* A JSON file that is no object (an array of jobs, a string) is the
	 * user's to fix here, before the manager says "the body". */
	if (!json_is_object(j)) {
		r = coffer_errf(COFFER_E_FORMAT, "%s: a job file is one JSON "
		    "object, not %s (one job per file)", file, json_is_array(j) ?
		    "an array" : "a JSON value of another type");
		json_decref(j);
		coffer_buf_release(&b);
		return cli_fail(r, "job submit");
	}
	asperathos = json_is_object(j) && json_object_get(j, "plugin") != NULL;
	json_decref(j);
	/* Only the id and the warnings are printed: the light answer
	 * (doc/api.md section 4), without the spec. */
	r = request("job submit", ep, "POST", asperathos ? "/submissions" :
	    "/v1/jobs?view=status", coffer_buf_str(&b), b.len, 200, &reply);
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
	{
		/* What the manager accepted but expects to go wrong (an app
		 * build the policy does not approve, ...): said at once, not only
		 * by `job show` later. */
		size_t i;
		json_t *w;

		json_array_foreach(json_object_get(reply, "warnings"), i, w) {
			const char *msg = json_string_value(json_object_get(w,
			    "message"));

			if (msg != NULL)
				fprintf(stderr, "warning: %s\n", msg);
		}
	}
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

static void
list_line(const json_t *v, int wide)
{
	char items[32], reps[16], times[32];

	if (json_is_null(json_object_get(json_object_get(v, "items"), "done")))
		snprintf(items, sizeof(items), "?");
	else
		snprintf(items, sizeof(items), "%lld/%lld", jint(v, "items", "done"),
		    jint(v, "items", "total"));
	snprintf(reps, sizeof(reps), "%lld", jint(v, "replicas", "running"));
	snprintf(times, sizeof(times), "%.0fs/%.0fs",
	    jnum(v, "elapsed_s", NULL, 0), jnum(v, "expected_time_s", NULL, 0));
	printf("%-20s %-10s %-10s %13s %9s %17s", jstr(v, "id"),
	    jstr(v, "state"), jstr(v, "kind"), items, reps, times);
	if (wide)
		printf("  %-20s %s", jstr(v, "name")[0] ? jstr(v, "name") : "-",
		    jstr(v, "reason"));
	putchar('\n');
}

static void
list_header(int wide)
{
	printf("%-20s %-10s %-10s %13s %9s %17s", "ID", "STATE", "KIND",
	    "DONE/TOTAL", "REPLICAS", "ELAPSED/EXPECTED");
	if (wide)
		printf("  %-20s %s", "NAME", "REASON");
	putchar('\n');
}

static int
job_list(const struct cli_endpoint *ep, const struct job_opts *o)
{
	json_t *reply = NULL, *jobs, *v;
	char path[128];
	size_t i;
	int r;

	if (o->state != NULL) {
		for (i = 0; job_states[i] != NULL; i++)
			if (strcmp(job_states[i], o->state) == 0)
				break;
		if (job_states[i] == NULL)
			return cli_usage("job list", usage_text, "--state: '%s' is not "
			    "a job state (pending, running, completed, failed, stopped)",
			    o->state);
		snprintf(path, sizeof(path), "/v1/jobs?state=%s", o->state);
	} else {
		snprintf(path, sizeof(path), "/v1/jobs");
	}
	if ((r = request("job list", ep, "GET", path, NULL, 0, 200, &reply)) != CLI_OK)
		return r;
	jobs = json_object_get(reply, "jobs");
	if (o->output != NULL && strcmp(o->output, "json") == 0) {
		print_json(jobs);
		json_decref(reply);
		return CLI_OK;
	}
	list_header(o->output != NULL);
	json_array_foreach(jobs, i, v)
		list_line(v, o->output != NULL);
	json_decref(reply);
	return CLI_OK;
}

static int
job_get(const struct cli_endpoint *ep, const char *cmd, const char *method,
    const char *id, const char *suffix, int print, const char *output)
{
	json_t *reply = NULL;
	char path[256];
	int r;

	if (!job_id_ok(id))
		return cli_usage(cmd, usage_text, "'%s' is not a job id", id);
	snprintf(path, sizeof(path), "/v1/jobs/%s%s", id, suffix);
	if ((r = request(cmd, ep, method, path, NULL, 0, 200, &reply)) != CLI_OK)
		return r;
	if (print && reply != NULL && output != NULL && strcmp(output, "wide") == 0) {
		list_header(1);
		list_line(reply, 1);
	} else if (print && reply != NULL) {
		print_json(reply);
	}
	json_decref(reply);
	return CLI_OK;
}

/* GET /v1/jobs/{id}/log: the tail of the replicas' log, as it is. */
static int
job_logs(const struct cli_endpoint *ep, const char *id)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)1 << 20);
	char path[256];
	long status = 0;
	json_t *j = NULL;
	int r;

	if (!job_id_ok(id))
		return cli_usage("job logs", usage_text, "'%s' is not a job id", id);
	snprintf(path, sizeof(path), "/v1/jobs/%s/log", id);
	if ((r = cli_http(ep, "GET", path, NULL, 0, &status, &j, &b)) != 0) {
		coffer_buf_release(&b);
		return cli_fail(r, "job logs");
	}
	if (status != 200) {
		r = fail_status("job logs", status, j);
		json_decref(j);
		coffer_buf_release(&b);
		return r;
	}
	json_decref(j);
	if (b.len > 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
		r = CLI_IO;
	coffer_buf_release(&b);
	return r == 0 ? CLI_OK : r;
}

/* DELETE, waiting while the manager answers 409 "busy" (a stopped job's
 * replicas still exiting: doc/api.md), for up to two minutes. */
static int
job_delete(const struct cli_endpoint *ep, const char *id, int force)
{
	const char *cmd = "job delete";
	char path[256];
	int waited = 0;

	if (!job_id_ok(id))
		return cli_usage(cmd, usage_text, "'%s' is not a job id", id);
	snprintf(path, sizeof(path), "/v1/jobs/%s%s", id, force ? "?force=true" : "");
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
			r = fail_status(cmd, status, j);
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
	if (json_is_null(json_object_get(json_object_get(j, "items"), "done"))) {
		/* The manager does not know the counts now (a restart, or the
		 * queue does not answer): say so, not a stale number. */
		snprintf(out, outlen, "%s ?/? done (counts unknown: %s) replicas "
		    "%lld/%lld time left %s -", state, jstr(j, "reason"),
		    jint(j, "replicas", "running"), jint(j, "replicas", "desired"), tl);
		return;
	}
	snprintf(out, outlen,
	    "%s%s%s%s %lld/%lld done%s %.1f items/s replicas %lld/%lld "
	    "eta %s time left %s %s",
	    bar ? "[" : "", bar ? bars : "", bar ? "] " : "", state, done, total,
	    fs, rate, jint(j, "replicas", "running"),
	    jint(j, "replicas", "desired"), eta, tl, track);
}

/* Whether the endpoint is coffer up's, from its state file (no --url,
 * no COFFER_URL): then a restart of coffer up can be followed. */
static int from_up;

/* A poll's answer that means the manager went away: refused, reset, or
 * 503 while it stops. */
static int
manager_gone(int r, long status)
{
	return from_up && (r == COFFER_E_CONNECT || r == COFFER_E_HTTP ||
	    (r == 0 && status == 503));
}

/*
 * coffer up stopped or restarted under watch or wait: its manager comes
 * back on another port (the state file says which), and the job, kept in
 * the job store, goes on. Both used to end with "Connection reset by
 * peer" or "HTTP 503: the manager is stopping". Say so once, then follow
 * the state file until its manager answers again: 0 with *ep renewed; 1
 * on Ctrl-C (watch); 2 when end (coffer_mono_ms, 0: none) has passed.
 */
static int
await_manager(const char *cmd, const char *id, const char *path,
    struct cli_endpoint *ep, int64_t end)
{
	fprintf(stderr, "coffer %s: the manager of coffer up has stopped (coffer "
	    "up stopped or restarted?); %s goes on: waiting for coffer up to "
	    "answer again (Ctrl-C stops waiting)\n", cmd, id);
	for (;;) {
		struct cli_endpoint e;
		json_t *j = NULL;
		long status = 0;
		int r;

		coffer_nap_ms(500);
		if (watch_stop)
			return 1;
		if (end != 0 && coffer_mono_ms() >= end)
			return 2;
		if (cli_endpoint_resolve(NULL, NULL, &e) == 0 &&
		    (r = cli_http(&e, "GET", path, NULL, 0, &status, &j, NULL)) == 0 &&
		    status != 503) {
			json_decref(j);
			*ep = e;
			fprintf(stderr, "coffer %s: coffer up answers again at %s\n",
			    cmd, ep->url);
			return 0;
		}
		json_decref(j);
		coffer_errclear();
	}
}

static int
job_watch(const struct cli_endpoint *ep0, const char *id, double interval)
{
	struct cli_endpoint epv = *ep0, *ep = &epv;
	json_t *j = NULL;
	char path[256], line[512], last[512] = "";
	int tty = cli_isatty(STDOUT_FILENO), r, warned = 0;
	long status = 0;

	if (!job_id_ok(id))
		return cli_usage("job watch", usage_text, "'%s' is not a job id", id);
	/* The light form: a poll needs no spec (doc/api.md section 4). */
	snprintf(path, sizeof(path), "/v1/jobs/%s?view=status", id);
	signal(SIGINT, on_sigint);
	for (;;) {
		const char *state;

		r = cli_http(ep, "GET", path, NULL, 0, &status, &j, NULL);
		if (manager_gone(r, status)) {
			json_decref(j);
			j = NULL;
			coffer_errclear();
			if (tty)
				fputc('\n', stdout);
			if (await_manager("job watch", id, path, ep, 0) == 0)
				continue;
			fprintf(stderr, "coffer job watch: stopped watching; %s goes on "
			    "(coffer job stop %s stops it)\n", id, id);
			return CLI_OK;
		}
		if (r != 0) {
			if (tty)
				fputc('\n', stdout);
			return cli_fail(r, "job watch");
		}
		if (status != 200) {
			if (tty)
				fputc('\n', stdout);
			r = fail_status("job watch", status, j);
			json_decref(j);
			return r;
		}
		{
			/* Each kind of warning once (the numbers in a measured one
			 * change from poll to poll). */
			size_t i;
			json_t *w;

			json_array_foreach(json_object_get(j, "warnings"), i, w) {
				const char *msg = json_string_value(json_object_get(w,
				    "message"));
				int measured = msg != NULL && strstr(msg, "(measured)") != NULL;

				if (msg == NULL || (warned & (measured ? 2 : 1)))
					continue;
				fprintf(stderr, "warning: %s\n", msg);
				warned |= measured ? 2 : 1;
			}
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
		if (job_ended(state)) {
			if (tty)
				fputc('\n', stdout);
			printf("%s %s: %s\n", id, state, jstr(j, "reason"));
			r = strcmp(state, "completed") == 0 ? CLI_OK : CLI_FAIL;
			json_decref(j);
			return r;
		}
		json_decref(j);
		j = NULL;
		if (!watch_stop)
			coffer_nap_ms((int64_t)(interval * 1000));
		if (watch_stop) {
			if (tty)
				fputc('\n', stdout);
			/* Ctrl-C stops the watching, not the job: a user who
			 * meant to cancel it must not believe they did. */
			fprintf(stderr, "coffer job watch: stopped watching; %s "
			    "goes on (coffer job stop %s stops it)\n", id, id);
			return CLI_OK;
		}
	}
}

/* `job wait`: held requests (doc/manager.md 7.1) of at most 60 s each
 * until the job ends or timeout_s (0: none) passes. Exit 0 if it
 * completed; 1 if it failed or was stopped, or if time ran out first
 * (said on stderr). */
static int
job_wait(const struct cli_endpoint *ep0, const char *id, double timeout_s)
{
	struct cli_endpoint epv = *ep0, *ep = &epv;
	int64_t end = timeout_s > 0 ? coffer_mono_ms() +
	    (int64_t)(timeout_s * 1000) : 0;
	char suffix[32];
	long status = 0;
	json_t *j = NULL;
	int r;

	if (!job_id_ok(id))
		return cli_usage("job wait", usage_text, "'%s' is not a job id", id);
	for (;;) {
		int64_t left = end != 0 ? end - coffer_mono_ms() : 60000;
		const char *state;
		char path[256];

		if (left <= 0) {
			fprintf(stderr, "coffer job wait: %s has not ended after %g s\n",
			    id, timeout_s);
			return CLI_FAIL;
		}
		snprintf(suffix, sizeof(suffix), "?view=status&wait_s=%lld",
		    (long long)(left >= 60000 ? 60 : left < 1000 ? 1 : left / 1000));
		snprintf(path, sizeof(path), "/v1/jobs/%s%s", id, suffix);
		r = cli_http(ep, "GET", path, NULL, 0, &status, &j, NULL);
		if (manager_gone(r, status)) {
			json_decref(j);
			j = NULL;
			coffer_errclear();
			snprintf(path, sizeof(path), "/v1/jobs/%s?view=status", id);
			if (await_manager("job wait", id, path, ep, end) == 0)
				continue;
			fprintf(stderr, "coffer job wait: %s has not ended after %g s\n",
			    id, timeout_s);
			return CLI_FAIL;
		}
		if (r != 0)
			return cli_fail(r, "job wait");
		if (status != 200) {
			r = fail_status("job wait", status, j);
			json_decref(j);
			return r;
		}
		state = jstr(j, "state");
		if (job_ended(state)) {
			printf("%s %s: %s\n", id, state, jstr(j, "reason"));
			r = strcmp(state, "completed") == 0 ? CLI_OK : CLI_FAIL;
			json_decref(j);
			return r;
		}
		json_decref(j);
		j = NULL;
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
	    "  logs ID         the last 64 KiB of the job's replicas' log\n"
	    "  stop ID         stop the job\n"
	    "  delete ID       delete the job (--force: even when its queue server\n"
	    "                  is gone; its keys, if any, stay)\n"
	    "  watch ID        follow the job until it ends (--interval SECONDS,\n"
	    "                  0.1 to 3600, default 1); exit 0 if it completes,\n"
	    "                  1 if it fails or is stopped\n"
	    "  wait ID         wait for the job's end without polling (held\n"
	    "                  requests; --timeout SECONDS, default none): exit 0\n"
	    "                  if it completes, 1 if it fails or is stopped or\n"
	    "                  the timeout comes first (said on stderr)\n\n"
	    "  --url URL       the manager's URL (http:// or https://)\n"
	    "  --token TOKEN   a bearer token (cft_...)\n"
	    "  -o, --output json|wide  list, show: JSON, or a table with the name\n"
	    "                  and reason\n"
	    "  --force         delete: see above\n",
	    usage_text);
}

const struct option cli_job_options[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "token", required_argument, NULL, 't' },
	{ "state", required_argument, NULL, 's' },
	{ "interval", required_argument, NULL, 'i' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Every verb: argv[0] is the verb, then the options and its argument. */
static int
job_verb(int argc, char **argv)
{
	struct job_opts o = { NULL, NULL, NULL, NULL, 0, 1.0, 0 };
	struct cli_endpoint ep;
	const char *verb = argv[0], *arg = NULL;
	char *end = NULL;
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:f", cli_job_options, NULL)) != -1) {
		switch (c) {
		case 'f': o.force = 1; break;
		case 'o':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "wide") != 0)
				return cli_usage("job", usage_text, "-o: '%s' is not json "
				    "or wide", optarg);
			o.output = optarg;
			break;
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
		case 'T':
			o.timeout = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(o.timeout > 0) ||
			    o.timeout > 31622400)
				return cli_usage("job", usage_text,
				    "--timeout: '%s' is not in (0, 31622400]", optarg);
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
	/* The command line first: a mistyped state is a usage error (exit
	 * 2, doc/cli.md) with or without a manager to ask. */
	if (o.state != NULL) {
		size_t i;

		for (i = 0; job_states[i] != NULL; i++)
			if (strcmp(job_states[i], o.state) == 0)
				break;
		if (job_states[i] == NULL) {
			const char *meant = coffer_suggest(o.state, job_states, i);

			return cli_usage("job list", usage_text, "--state: '%s' is not "
			    "a job state (pending, running, completed, failed, stopped)"
			    "%s%s%s", o.state, meant ? "; did you mean '" : "",
			    meant ? meant : "", meant ? "'?" : "");
		}
	}
	if ((r = cli_endpoint_resolve(o.url, o.token, &ep)) != 0) {
		char cmd[32];

		/* "coffer job submit: ...", as every other error of the verb. */
		snprintf(cmd, sizeof(cmd), "job %s", verb);
		return cli_fail(r, cmd);
	}
	no_token = ep.token[0] == '\0';
	from_up = o.url == NULL && getenv("COFFER_URL") == NULL;
	if (strcmp(verb, "submit") == 0)
		return job_submit(&ep, arg);
	if (strcmp(verb, "list") == 0)
		return job_list(&ep, &o);
	if (strcmp(verb, "show") == 0)
		return job_get(&ep, "job show", "GET", arg, "", 1, o.output);
	if (strcmp(verb, "timeline") == 0)
		return job_get(&ep, "job timeline", "GET", arg, "/timeline", 1, NULL);
	if (strcmp(verb, "logs") == 0)
		return job_logs(&ep, arg);
	if (strcmp(verb, "stop") == 0)
		return job_get(&ep, "job stop", "POST", arg, "/stop", 0, NULL);
	if (strcmp(verb, "delete") == 0)
		return job_delete(&ep, arg, o.force);
	if (strcmp(verb, "watch") == 0)
		return job_watch(&ep, arg, o.interval);
	if (strcmp(verb, "wait") == 0)
		return job_wait(&ep, arg, o.timeout);
	return cli_usage("job", usage_text, "unknown verb '%s'", verb);
}

/* One handler for all: the verbs share their options and the endpoint. */
const struct cli_verb cli_job_verbs[] = {
	{ "submit", job_verb },
	{ "list", job_verb },
	{ "show", job_verb },
	{ "timeline", job_verb },
	{ "logs", job_verb },
	{ "stop", job_verb },
	{ "delete", job_verb },
	{ "watch", job_verb },
	{ "wait", job_verb },
	{ NULL, NULL },
};

int
cmd_job(int argc, char **argv)
{
	return cli_dispatch("job", cli_job_verbs, usage_text, help, argc, argv);
}
