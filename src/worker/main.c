// SPDX-License-Identifier: Apache-2.0
// coffer-worker: takes items of one job from the Redis queue and runs the
// analysis app on each (doc/worker.md). This process is the supervisor;
// the app runs in its child, the runner (worker/supervisor.c,
// worker/runner.c). SIGTERM/SIGINT finish the current item, then exit 0.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/random.h"
#include "lib/signals.h"
#include "store/store.h"
#include "queue/queue.h"
#include "worker/app.h"
#include "worker/worker.h"

/* host-pid-random, with the host name reduced to [A-Za-z0-9_.-]; or, for
 * a replica started by an actuator (COFFER_REPLICA_ID in the environment),
 * "<replica id>_<8 hex random>", so that the manager can tell from the
 * queue which replica holds an item (doc/queue.md section 1). */
static void
default_worker_id(const char *replica, char *out, size_t outlen)
{
	char host[64] = "host";
	uint8_t rnd[4] = { 0 };

	if (coffer_random(rnd, sizeof(rnd)) != 0)
		rnd[0] = (uint8_t)time(NULL);
	if (replica != NULL && replica[0] != '\0') {
		uint32_t x = (uint32_t)rnd[0] << 24 | (uint32_t)rnd[1] << 16 |
		    (uint32_t)rnd[2] << 8 | rnd[3];

		if (coffer_queue_replica_worker_id(replica, x, out, outlen) == 0)
			return;
		coffer_logkv(COFFER_LOG_WARN, "COFFER_REPLICA_ID is not a replica id;"
		    " using a worker id without it", "error", coffer_errdetail(), NULL);
	}
	(void)gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	for (char *c = host; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
			*c = '-';
	snprintf(out, outlen, "%s-%d-%02x%02x%02x%02x", host[0] ? host : "host",
	    (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* The configuration's error, as exit status 2. */
static int
bad_config(int r)
{
	const char *d = coffer_errdetail();

	fprintf(stderr, "coffer-worker: bad configuration: %s%s%s\n"
	    "usage: coffer-worker --help\n", coffer_strerror(r),
	    d[0] ? ": " : "", d);
	return 2;
}

int
main(int argc, char **argv)
{
	static volatile sig_atomic_t standby_stop;
	static struct worker_assign assign;
	struct worker_config cfg;
	char idbuf[COFFER_QUEUE_WORKER_MAX + 1];
	const char *prefix, *replica;
	int64_t t0 = coffer_mono_ms(), ta;
	int r, rc;

	/* Before any other OpenSSL call (doc/worker.md 9.1). No
	 * OPENSSL_cleanup at exit: it freed every provider, algorithm and
	 * DRBG of the supervisor, the runner and the host at each exit
	 * (0.3-0.6 ms of CPU per worker, BENCHMARKS.md "The confidential
	 * start's CPU"), memory the kernel takes back anyway; the keys are
	 * wiped by their owners before. And no configuration file: OpenSSL
	 * would read the one $OPENSSL_CONF names, from an environment the
	 * untrusted actuator writes, or the host's openssl.cnf, and load the
	 * provider modules (shared objects) it lists into this process,
	 * code no measurement covers; the built-in default provider is the
	 * only one Coffer uses. Reading openssl.cnf also cost every worker
	 * about 0.5 ms of CPU at its first OpenSSL call. */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT |
	    OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	coffer_log_setup_env("worker");
	/* The plugin host of a confidential job (worker/apphost.c): started
	 * by the runner, never by people. */
	if (argc >= 2 && strcmp(argv[1], "--app-host") == 0)
		return apphost_main(argc, argv);
	memset(&cfg, 0, sizeof(cfg));
	if (standby_is_on()) {
		/* doc/worker.md 2.2: ready now, the job's settings later. */
		if (argc > 1) {
			fprintf(stderr, "coffer-worker: bad configuration: a standby"
			    " worker (COFFER_STANDBY=1) takes no arguments: its settings"
			    " come from the environment and its assignment\n");
			return 2;
		}
		if (coffer_signal_watch_stop(&standby_stop) < 0) {
			fprintf(stderr, "coffer-worker: %s\n", coffer_errdetail());
			return 1;
		}
		standby_log_ready(t0);
		if (standby_wait(&standby_stop, &assign, &rc) != 0)
			return rc;
		ta = coffer_mono_ms();
		if ((r = standby_log_file(&assign)) != 0 ||
		    (r = standby_config(&assign, &cfg)) != 0) {
			worker_config_release(&cfg);
			worker_assign_release(&assign);
			return bad_config(r);
		}
		cfg.assigned_ms = ta;
		replica = standby_lookup(&assign, "COFFER_REPLICA_ID");
	} else {
		if ((r = worker_config_parse(argc, argv, &cfg)) != 0) {
			if (r == COFFER_E_CANCELLED) {
				fputs(worker_usage, stdout);
				worker_config_release(&cfg);
				return 0;
			}
			worker_config_release(&cfg);
			return bad_config(r);
		}
		replica = getenv("COFFER_REPLICA_ID");
	}
	if (cfg.describe_app) {
		rc = worker_describe_app(&cfg);
		goto out;
	}
	if (cfg.check_app) {
		rc = supervisor_main(&cfg, RUNNER_CHECK);
		goto out;
	}
	/* The output prefix the runner will use (runner.c, open_stores). */
	prefix = cfg.output_prefix ? cfg.output_prefix : cfg.outputs ? "" : "out/";
	/* Compared by device and inode, not by spelling ("d", "d/", "./d",
	 * "file://$PWD/d" and a symlink to d are one place). */
	if (prefix[0] == '\0' && (cfg.outputs == NULL ||
	    coffer_store_same_location(cfg.outputs, cfg.store))) {
		fprintf(stderr, "coffer-worker: outputs would overwrite inputs: give"
		    " --outputs elsewhere or a non-empty --output-prefix\n");
		rc = 2;
		goto out;
	}
	if (cfg.reduce_key != NULL) {
		rc = supervisor_main(&cfg, RUNNER_REDUCE);
		goto out;
	}
	if (cfg.worker_id == NULL) {
		default_worker_id(replica, idbuf, sizeof(idbuf));
		if ((cfg.worker_id = strdup(idbuf)) == NULL) {
			rc = 1;
			goto out;
		}
	}
	rc = supervisor_main(&cfg, RUNNER_SERVE);
out:
	worker_config_release(&cfg);
	worker_assign_release(&assign);
	return rc;
}
