/* SPDX-License-Identifier: Apache-2.0 */
/* controllers_real: one real job to check the controller simulator against.
 * A private redis-server, a local store of small items, real coffer-worker
 * replicas (behind a start-up delay) run by the local actuator, and a
 * controller driven through the ABI from the queue's counts, as
 * coffer-manager's monitor fills the observation (with the item times the
 * workers' acks report), scaling down with coffer-manager's hint (the
 * workers holding items: idle replicas stop first). Prints met and cost. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actuator/local.h"
#include "coffer/controller.h"
#include "coffer/error.h"
#include "controllers/registry.h"
#include "lib/clock.h"
#include "queue/queue.h"
#include "queue/redis_server.h"
#include "store/store.h"

struct opts {
	const char *worker, *app, *controller, *params, *trace;
	long items, item_ms, max, grace_ms, lease_ms;
	double startup_s, deadline_s, interval_s;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: controllers_real --worker PATH --app PATH --deadline S\n"
	    "           [--controller NAME|PATH] [--params k=v,...] [--items N]\n"
	    "           [--item-ms N] [--startup S] [--max N] [--interval S]\n"
	    "           [--grace-ms N] [--lease-ms N] [--trace FILE]\n");
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The workers holding items, and since when (src/manager/busy.c does the
 * same for coffer-manager). */
#define MAX_BUSY 128
struct busy {
	char worker[COFFER_QUEUE_WORKER_MAX + 1];
	char item[COFFER_QUEUE_ITEM_MAX + 1];
	double since;
};

static int
busy_refresh(struct coffer_queue *q, struct busy *b, size_t *nb, int *known,
    double t)
{
	struct coffer_queue_holder *h = NULL;
	struct busy nw[MAX_BUSY];
	size_t n = 0, k = 0;
	int r;

	if ((r = coffer_queue_holders(q, &h, &n)) != 0)
		return r;
	for (size_t i = 0; i < n && k < MAX_BUSY; i++, k++) {
		snprintf(nw[k].worker, sizeof(nw[k].worker), "%s", h[i].worker);
		snprintf(nw[k].item, sizeof(nw[k].item), "%s", h[i].item);
		nw[k].since = *known ? t : -1;
		for (size_t j = 0; j < *nb; j++)
			if (strcmp(b[j].worker, nw[k].worker) == 0 &&
			    strcmp(b[j].item, nw[k].item) == 0)
				nw[k].since = b[j].since;
	}
	coffer_queue_holders_free(h, n);
	memcpy(b, nw, k * sizeof(*b));
	*nb = k;
	*known = 1;
	return 0;
}

static int
die(const char *what, int r)
{
	fprintf(stderr, "controllers_real: %s: %s: %s\n", what, coffer_strerror(r),
	    coffer_errdetail());
	return 1;
}

int
main(int argc, char **argv)
{
	struct opts o = { NULL, NULL, "deadline", NULL, NULL, 300, 1000, 8, 10000,
	    30000, 3, 0, 1 };
	struct coffer_redis_server_opts rso;
	struct coffer_redis_server *rs = NULL;
	struct coffer_store *store = NULL;
	struct coffer_queue_opts qo;
	struct coffer_queue *q = NULL;
	struct coffer_actuator *act = NULL;
	struct coffer_replica_spec spec;
	const struct coffer_controller *def = NULL;
	struct coffer_ctl_param params[16];
	struct coffer_ctl_config cfg;
	void *dl = NULL, *st = NULL;
	char dir[] = "/tmp/coffer-ctlreal-XXXXXX", storedir[600], logpath[600];
	char err[256], sleep_param[64], lease_arg[32], shcmd[128], pbuf[512];
	char **items = NULL;
	char *wargv[32];
	size_t np = 0;
	long i;
	int r, rc = 1, a = 0, desired = 1, scale_events = 0, peak = 0, met;
	int64_t t0, now, next_tick, last_sample;
	double cost = 0, finish = -1;
	/* the manager's monitor (src/manager/monitor.c) */
	double mon_rs = 0, mon_t = 0, thr = 0, startup_seen = 0;
	int mon_have = 0, mon_last_ready = 0;
	int64_t last_resolved = 0;
	double last_item_mean = 0;
	static struct busy busy[MAX_BUSY];
	size_t nbusy = 0;
	int busy_known = 0;
	FILE *trace = NULL;

	for (i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (v == NULL) {
			usage();
			return 2;
		}
		i++;
		errno = 0;
		if (strcmp(k, "--worker") == 0)
			o.worker = v;
		else if (strcmp(k, "--app") == 0)
			o.app = v;
		else if (strcmp(k, "--controller") == 0)
			o.controller = v;
		else if (strcmp(k, "--params") == 0)
			o.params = v;
		else if (strcmp(k, "--trace") == 0)
			o.trace = v;
		else if (strcmp(k, "--items") == 0)
			o.items = strtol(v, &end, 10);
		else if (strcmp(k, "--item-ms") == 0)
			o.item_ms = strtol(v, &end, 10);
		else if (strcmp(k, "--max") == 0)
			o.max = strtol(v, &end, 10);
		else if (strcmp(k, "--grace-ms") == 0)
			o.grace_ms = strtol(v, &end, 10);
		else if (strcmp(k, "--lease-ms") == 0)
			o.lease_ms = strtol(v, &end, 10);
		else if (strcmp(k, "--startup") == 0)
			o.startup_s = strtod(v, &end);
		else if (strcmp(k, "--deadline") == 0)
			o.deadline_s = strtod(v, &end);
		else if (strcmp(k, "--interval") == 0)
			o.interval_s = strtod(v, &end);
		else {
			usage();
			return 2;
		}
		if (end != NULL && (*end != '\0' || errno != 0)) {
			fprintf(stderr, "controllers_real: %s: not a number: %s\n", k, v);
			return 2;
		}
	}
	if (o.worker == NULL || o.app == NULL || !(o.deadline_s > 0) ||
	    o.items < 1 || o.items > 100000 || o.max < 1 || o.max > 64 ||
	    o.item_ms < 0 || !(o.interval_s > 0) || o.startup_s < 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	/* the controller, as the manager would load it */
	if ((r = coffer_controller_find(o.controller, &def, &dl)) != 0)
		return die("controller", r);
	if (o.params != NULL && *o.params != '\0') {
		char *save = NULL, *tok;

		snprintf(pbuf, sizeof(pbuf), "%s", o.params);
		for (tok = strtok_r(pbuf, ",", &save); tok != NULL && np < 16;
		    tok = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(tok, '=');

			if (eq == NULL)
				continue;
			*eq = '\0';
			params[np].key = tok;
			params[np++].value = eq + 1;
		}
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg);
	cfg.min_replicas = 1;
	cfg.max_replicas = (int32_t)o.max;
	cfg.expected_time_s = o.deadline_s;
	cfg.check_interval_s = o.interval_s;
	cfg.params = params;
	cfg.nparams = np;
	/* the actuator gets coffer-manager's hint below */
	cfg.host_flags = COFFER_CTL_HOST_STOPS_IDLE_FIRST;
	if (def->create(&cfg, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "controllers_real: %s: %s\n", def->name, err);
		goto out;
	}

	/* redis, store, items */
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "controllers_real: mkdtemp: %s\n", strerror(errno));
		goto out;
	}
	memset(&rso, 0, sizeof(rso));
	if ((r = coffer_redis_server_start(&rso, &rs)) != 0) {
		rc = die("redis-server", r);
		goto out;
	}
	snprintf(storedir, sizeof(storedir), "%s/store", dir);
	snprintf(logpath, sizeof(logpath), "%s/workers.log", dir);
	if ((r = coffer_store_open(storedir, 1, &store)) != 0) {
		rc = die("store", r);
		goto out;
	}
	if ((items = calloc((size_t)o.items, sizeof(*items))) == NULL)
		goto out;
	for (i = 0; i < o.items; i++) {
		char key[64], body[64];

		snprintf(key, sizeof(key), "in/item-%05ld", i);
		snprintf(body, sizeof(body), "item %ld\n", i);
		if ((items[i] = strdup(key)) == NULL)
			goto out;
		if ((r = store->ops->put(store->impl, key, body, strlen(body))) != 0) {
			rc = die("store put", r);
			goto out;
		}
	}
	memset(&qo, 0, sizeof(qo));
	qo.redis_url = rs->url;
	qo.job = "ctlreal";
	qo.lease_ms = (int)o.lease_ms;
	if ((r = coffer_queue_open(&qo, &q)) != 0 ||
	    (r = coffer_queue_load(q, (const char *const *)items, (size_t)o.items)) != 0) {
		rc = die("queue", r);
		goto out;
	}

	/* replicas: a shell that waits the start-up time, then the worker */
	snprintf(shcmd, sizeof(shcmd), "sleep %.3f; exec \"$0\" \"$@\"", o.startup_s);
	snprintf(sleep_param, sizeof(sleep_param), "sleep_ms=%ld", o.item_ms);
	snprintf(lease_arg, sizeof(lease_arg), "%ld", o.lease_ms);
	wargv[a++] = "/bin/sh";
	wargv[a++] = "-c";
	wargv[a++] = shcmd;
	wargv[a++] = (char *)o.worker;
	wargv[a++] = "--job";
	wargv[a++] = "ctlreal";
	wargv[a++] = "--redis";
	wargv[a++] = rs->url;
	wargv[a++] = "--store";
	wargv[a++] = storedir;
	wargv[a++] = "--app";
	wargv[a++] = (char *)o.app;
	wargv[a++] = "--param";
	wargv[a++] = sleep_param;
	wargv[a++] = "--lease-ms";
	wargv[a++] = lease_arg;
	wargv[a] = NULL;
	memset(&spec, 0, sizeof(spec));
	spec.argv = wargv;
	spec.log_path = logpath;
	spec.grace_ms = (int)o.grace_ms;
	spec.restart_crashed = 1;
	if (o.trace != NULL && (trace = fopen(o.trace, "w")) != NULL)
		fprintf(trace, "# real run; deadline %.1f s\n"
		    "# t alive ready desired progress%% queued in_flight flags\n",
		    o.deadline_s);

	/* the job starts with one replica, as in the simulator */
	if ((r = coffer_actuator_local_new(&spec, &act)) != 0 ||
	    (r = coffer_actuator_set_replicas(act, 1)) != 0) {
		rc = die("actuator", r);
		goto out;
	}
	t0 = coffer_mono_ms();
	next_tick = t0;
	last_sample = t0;
	for (;;) {
		struct coffer_actuator_status as;
		struct coffer_queue_stats qs;

		if ((r = coffer_actuator_tick(act)) != 0)
			fprintf(stderr, "controllers_real: actuator: %s\n",
			    coffer_errdetail());
		now = coffer_mono_ms();
		if ((r = coffer_actuator_status(act, &as)) != 0) {
			rc = die("actuator status", r);
			goto out;
		}
		cost += (double)(now - last_sample) / 1000.0 * (as.running + as.stopping);
		last_sample = now;
		if (as.running + as.stopping > peak)
			peak = as.running + as.stopping;
		if ((r = coffer_queue_stats(q, &qs)) != 0) {
			rc = die("queue stats", r);
			goto out;
		}
		if (qs.done + qs.failed >= qs.total) {
			finish = (double)(now - t0) / 1000.0;
			break;
		}
		if (now >= next_tick) {
			struct coffer_ctl_obs ob;
			struct coffer_ctl_decision d;
			double t = (double)(now - t0) / 1000.0;
			int64_t resolved = qs.done + qs.failed;
			int ready = qs.in_flight < as.running ? (int)qs.in_flight : as.running;

			if ((r = coffer_queue_reap(q, NULL)) != 0)
				fprintf(stderr, "controllers_real: reap: %s\n",
				    coffer_errdetail());
			/* monitor, as src/manager/monitor.c computes it */
			if (mon_have) {
				double dt = t - mon_t;

				mon_rs += dt * mon_last_ready;
				if (dt > 0)
					thr += (1 - exp(-dt / 10.0)) *
					    ((double)(resolved - last_resolved) / dt - thr);
			}
			if (startup_seen == 0 && (qs.in_flight > 0 || resolved > 0))
				startup_seen = t > 0 ? t : 1e-3;
			mon_have = 1;
			mon_t = t;
			mon_last_ready = ready;
			last_resolved = resolved;
			memset(&ob, 0, sizeof(ob));
			ob.size = sizeof(ob);
			ob.now_s = t;
			ob.total = qs.total;
			ob.done = qs.done;
			ob.failed = qs.failed;
			ob.in_flight = qs.in_flight;
			ob.queued = qs.queued;
			ob.progress = qs.total > 0 ? (double)resolved / (double)qs.total : 1;
			ob.time_progress = t / o.deadline_s;
			ob.error = ob.progress - ob.time_progress;
			ob.replicas = as.running;
			ob.replicas_ready = ready;
			ob.replicas_desired = desired;
			ob.replica_seconds = mon_rs;
			ob.throughput = thr;
			{
				/* as mgr_monitor_obs(): the acks' item times */
				double n = (double)qs.timed, var;

				if (qs.timed >= 1 && qs.time_sum_s > 0) {
					ob.item_time_mean_s = qs.time_sum_s / n;
					last_item_mean = ob.item_time_mean_s;
				} else
					ob.item_time_mean_s = resolved > 0 && mon_rs > 0 ?
					    mon_rs / (double)resolved : 0;
				if (qs.timed >= 2 && qs.time_sum_s > 0) {
					var = (qs.time_sq_sum_s2 - qs.time_sum_s *
					    (qs.time_sum_s / n)) / (n - 1);
					ob.item_time_var_s2 = var > 1e-6 / 12 ? var : 1e-6 / 12;
				}
			}
			ob.startup_s = startup_seen;
			if (busy_refresh(q, busy, &nbusy, &busy_known, t) != 0)
				fprintf(stderr, "controllers_real: holders: %s\n",
				    coffer_errdetail());
			memset(&d, 0, sizeof(d));
			if (def->decide(st, &ob, &d) == 0) {
				int n = d.replicas < 1 ? 1 : d.replicas > o.max ?
				    (int)o.max : d.replicas;

				if (n != desired) {
					struct coffer_replica_hint hint[MAX_BUSY];
					char ids[MAX_BUSY][COFFER_REPLICA_ID_MAX + 1];
					size_t k = 0;

					/* the workers holding items name their replicas */
					for (size_t b = 0; n < desired && b < nbusy; b++)
						if (coffer_queue_worker_replica(busy[b].worker, ids[k],
						    sizeof(ids[k])) == 0) {
							hint[k].replica_id = ids[k];
							hint[k].busy_s = busy[b].since >= 0 ?
							    t - busy[b].since : -1;
							k++;
						}
					scale_events++;
					desired = n;
					if ((r = coffer_actuator_set_replicas_hint(act, n, hint,
					    k)) != 0)
						fprintf(stderr, "controllers_real: scale: %s\n",
						    coffer_errdetail());
				}
			}
			if (trace != NULL)
				fprintf(trace, "%.1f %d %d %d %.5f %lld %lld %u\n", t,
				    as.running + as.stopping, ready, desired,
				    ob.progress * 100, (long long)qs.queued,
				    (long long)qs.in_flight, (unsigned)d.flags);
			next_tick += (int64_t)(o.interval_s * 1000);
		}
		sleep_ms(20);
	}
	met = finish <= o.deadline_s;
	{
		struct coffer_actuator_status as;

		memset(&as, 0, sizeof(as));
		if (coffer_actuator_status(act, &as) != 0)
			fprintf(stderr, "controllers_real: status: %s\n", coffer_errdetail());
		printf("real: controller=%s items=%ld item_ms=%ld startup_s=%.1f "
		    "deadline=%.1f max=%ld finish=%.1f met=%d cost=%.1f peak=%d "
		    "scale_events=%d started=%lld killed=%lld crashed=%lld "
		    "measured_item_s=%.3f measured_startup_s=%.1f\n", def->name,
		    o.items, o.item_ms, o.startup_s, o.deadline_s, o.max, finish, met,
		    cost, peak, scale_events, (long long)as.started_total,
		    (long long)as.killed_total, (long long)as.crashed_total,
		    last_item_mean > 0 ? last_item_mean : last_resolved > 0 ?
		    mon_rs / (double)last_resolved : 0, startup_seen);
	}
	if (trace != NULL)
		fprintf(trace, "# finished %.1f met %d cost %.0f\n", finish, met, cost);
	rc = 0;
out:
	if (trace != NULL)
		fclose(trace);
	if (act != NULL) {
		if (coffer_actuator_stop_all(act) != 0)
			fprintf(stderr, "controllers_real: stop: %s\n", coffer_errdetail());
		coffer_actuator_free(act);
	}
	if (def != NULL && st != NULL)
		def->destroy(st);
	coffer_controller_unload(dl);
	if (q != NULL)
		coffer_queue_close(q);
	coffer_store_free(store);
	coffer_redis_server_free(rs);
	if (items != NULL) {
		for (i = 0; i < o.items; i++)
			free(items[i]);
		free(items);
	}
	if (dir[sizeof(dir) - 7] != 'X') {
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "controllers_real: could not remove %s\n", dir);
	}
	return rc;
}
