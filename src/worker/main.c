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
	const char *replica;
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
		if ((r = worker_config_standby(&cfg)) != 0) {
			worker_config_release(&cfg);
			return bad_config(r);
		}
		/* A confidential one attests before its assignment, in its
		 * runner (doc/worker.md 9.9). */
		if (WORKER_CONFIDENTIAL(&cfg)) {
			rc = supervisor_standby(&cfg, t0);
			worker_config_release(&cfg);
			return rc;
		}
		worker_config_release(&cfg);
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
	if ((r = worker_config_ready(&cfg, replica)) != 0) {
		fprintf(stderr, "coffer-worker: %s\n", coffer_errdetail());
		rc = r == COFFER_E_NOMEM ? 1 : 2;
		goto out;
	}
	rc = supervisor_main(&cfg, cfg.reduce_key != NULL ? RUNNER_REDUCE :
	    RUNNER_SERVE);
out:
	worker_config_release(&cfg);
	worker_assign_release(&assign);
	return rc;
}
