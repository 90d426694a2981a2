// SPDX-License-Identifier: Apache-2.0
// Test tool: drive one actuator (actuator/actuator.h) from a shell test,
// one command per line on stdin, one line of answer each on stdout.
//
//   actuatorctl BACKEND [--opt K=V]... [--name N] [--label K=V]...
//       [--env K=V]... [--grace-ms N] [--restart] [--log PATH] [--image I]
//       [--tee T] [--cpu-milli N] [--memory BYTES] [--tee-memory BYTES]
//       -- PROGRAM [ARG]...
//
// Commands:
//   set N [ID=BUSY_S]...   set_replicas_hint (BUSY_S < 0: age unknown)
//   wait R [S]             tick until R running (of which 0 starting) and
//                          none stopping; S seconds at most (default 60)
//   tick S                 tick for S seconds
//   status                 desired= running= starting= stopping= started=
//                          crashed= killed= completed= adopted= startups=
//                          error=
//   list                   "ID PHASE NODE ADOPTED;..." sorted by id
//   detach                 detach, free, and make a new actuator of the
//                          same spec (which adopts what is listed)
//   stopall                stop_all (blocks)
//   quit                   free and exit
// Answers to set/wait/tick/detach/stopall: "ok" or "error <detail>".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actuator/actuator.h"
#include "actuator/curl_api.h"
#include "coffer/error.h"
#include "lib/clock.h"

#define MAXV 64


static int
cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct coffer_replica_info *)a)->id,
	    ((const struct coffer_replica_info *)b)->id);
}

static void
answer(int r)
{
	if (r == 0)
		printf("ok\n");
	else
		printf("error %s: %s\n", coffer_strerror(r), coffer_errdetail());
	fflush(stdout);
}

static int
usage(void)
{
	fprintf(stderr, "usage: actuatorctl BACKEND [options] -- PROGRAM [ARG]...\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static char *opts[MAXV + 1], *labels[MAXV + 1], *env[MAXV + 1];
	struct coffer_actuator_config ac = { 0 };
	struct coffer_replica_spec spec = { 0 };
	struct coffer_actuator *a = NULL;
	char line[4096];
	int no = 0, nl = 0, ne = 0, i, r;

	if (argc < 2)
		return usage();
	ac.backend = argv[1];
	ac.curl = coffer_curl_api_linked();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			return usage();
		i++;
		if (strcmp(o, "--opt") == 0 && no < MAXV)
			opts[no++] = (char *)v;
		else if (strcmp(o, "--label") == 0 && nl < MAXV)
			labels[nl++] = (char *)v;
		else if (strcmp(o, "--env") == 0 && ne < MAXV)
			env[ne++] = (char *)v;
		else if (strcmp(o, "--name") == 0)
			spec.name = v;
		else if (strcmp(o, "--grace-ms") == 0)
			spec.grace_ms = (int)strtol(v, NULL, 10);
		else if (strcmp(o, "--restart") == 0) {
			spec.restart_crashed = (int)strtol(v, NULL, 10);
		} else if (strcmp(o, "--log") == 0)
			spec.log_path = v;
		else if (strcmp(o, "--image") == 0)
			spec.image = v;
		else if (strcmp(o, "--tee") == 0)
			spec.tee = v;
		else if (strcmp(o, "--cpu-milli") == 0)
			spec.res.cpu_milli = (int)strtol(v, NULL, 10);
		else if (strcmp(o, "--memory") == 0)
			spec.res.memory_bytes = strtoll(v, NULL, 10);
		else if (strcmp(o, "--tee-memory") == 0)
			spec.res.tee_memory_bytes = strtoll(v, NULL, 10);
		else
			return usage();
	}
	if (i + 1 >= argc)
		return usage();
	spec.argv = &argv[i + 1];
	ac.options = opts;
	spec.labels = labels;
	spec.env = env;
	if ((r = coffer_actuator_new(&ac, &spec, &a)) != 0) {
		answer(r);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *save = NULL, *cmd = strtok_r(line, " \n", &save);

		if (cmd == NULL)
			continue;
		if (strcmp(cmd, "set") == 0) {
			struct coffer_replica_hint hint[MAXV];
			char *t, *n = strtok_r(NULL, " \n", &save);
			size_t nh = 0;

			while ((t = strtok_r(NULL, " \n", &save)) != NULL && nh < MAXV) {
				char *eq = strchr(t, '=');

				if (eq == NULL)
					continue;
				*eq = '\0';
				hint[nh].replica_id = t;
				hint[nh].busy_s = strtod(eq + 1, NULL);
				nh++;
			}
			answer(n == NULL ? COFFER_E_INVAL :
			    coffer_actuator_set_replicas_hint(a,
			    (int)strtol(n, NULL, 10), hint, nh));
		} else if (strcmp(cmd, "wait") == 0 || strcmp(cmd, "tick") == 0) {
			char *x = strtok_r(NULL, " \n", &save);
			char *y = strtok_r(NULL, " \n", &save);
			int waiting = strcmp(cmd, "wait") == 0;
			int want = waiting && x != NULL ? (int)strtol(x, NULL, 10) : 0;
			double secs = strtod(waiting ? (y ? y : "60") : (x ? x : "1"),
			    NULL);
			int64_t end = coffer_mono_ms() + (int64_t)(secs * 1000);
			struct coffer_actuator_status st;

			for (;;) {
				(void)coffer_actuator_tick(a);
				memset(&st, 0, sizeof(st));
				(void)coffer_actuator_status(a, &st);
				if (waiting && st.running == want && st.starting == 0 &&
				    st.stopping == 0)
					break;
				if (coffer_mono_ms() >= end)
					break;
				coffer_sleep_ms(20);
			}
			if (waiting && coffer_mono_ms() >= end)
				printf("error timeout: running %d starting %d stopping %d"
				    " (%s)\n", st.running, st.starting, st.stopping,
				    st.error);
			else
				printf("ok\n");
			fflush(stdout);
		} else if (strcmp(cmd, "status") == 0) {
			struct coffer_actuator_status st;

			memset(&st, 0, sizeof(st));
			(void)coffer_actuator_status(a, &st);
			printf("desired=%d running=%d starting=%d stopping=%d started=%lld"
			    " crashed=%lld killed=%lld completed=%lld adopted=%lld"
			    " startups=%lld error=%s\n", st.desired, st.running,
			    st.starting, st.stopping, (long long)st.started_total,
			    (long long)st.crashed_total, (long long)st.killed_total,
			    (long long)st.completed_total, (long long)st.adopted_total,
			    (long long)st.startups, st.error);
			fflush(stdout);
		} else if (strcmp(cmd, "list") == 0) {
			static const char *const phase[] = { "starting", "running",
				"stopping" };
			struct coffer_replica_info *v = NULL;
			size_t n = 0;

			if ((r = coffer_actuator_list(a, &v, &n)) != 0) {
				answer(r);
				continue;
			}
			qsort(v, n, sizeof(*v), cmp_info);
			for (size_t k = 0; k < n; k++)
				printf("%s%s %s %s %d", k ? ";" : "", v[k].id,
				    phase[v[k].phase % 3], v[k].node[0] ? v[k].node : "-",
				    v[k].adopted);
			printf("\n");
			fflush(stdout);
			free(v);
		} else if (strcmp(cmd, "detach") == 0) {
			if ((r = coffer_actuator_detach(a)) == 0) {
				coffer_actuator_free(a);
				a = NULL;
				r = coffer_actuator_new(&ac, &spec, &a);
			}
			answer(r);
			if (a == NULL)
				return 1;
		} else if (strcmp(cmd, "stopall") == 0) {
			answer(coffer_actuator_stop_all(a));
		} else if (strcmp(cmd, "quit") == 0) {
			break;
		} else {
			printf("error unknown command %s\n", cmd);
			fflush(stdout);
		}
	}
	coffer_actuator_free(a);
	return 0;
}
