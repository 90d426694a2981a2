// SPDX-License-Identifier: Apache-2.0
// Test tool: drive a job's queue from shell tests, through the same API
// the manager uses (queue/queue.h).
//   queuectl load    URL JOB [opts] (ITEM... | --dir DIR | --stdin)
//   queuectl stats   URL JOB [opts]      "total=N done=N failed=N in_flight=N queued=N"
//   queuectl reap    URL JOB [opts]      "moved=N"
//   queuectl dead    URL JOB [opts]      "<id>\t<attempts>\t<error>" per dead letter
//   queuectl wait    URL JOB [opts]      reap and poll until done+failed == total
//   queuectl meta    URL JOB [opts]      "exists=N owner=ID state=S total=N"
//   queuectl destroy URL JOB [opts]
// opts: --layout asperathos, --lease-ms N, --max-attempts N, --backoff-ms N,
//       --stale-ms N, --timeout-s N (wait; default 120), --owner ID
//       (Asperathos layout: load records it, destroy checks it)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "queue/queue.h"

static int
die(int r, const char *what)
{
	fprintf(stderr, "queuectl: %s: %s: %s\n", what, coffer_strerror(r),
	    coffer_errdetail());
	return 1;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
on_dead(const char *id, uint32_t attempts, const char *error, void *arg)
{
	(void)arg;
	printf("%s\t%u\t%s\n", id, attempts, error);
}

int
main(int argc, char **argv)
{
	struct coffer_queue_opts o;
	struct coffer_queue *q = NULL;
	struct coffer_queue_stats s;
	const char *cmd, *dir = NULL;
	char **items = NULL;
	size_t n = 0, cap = 0;
	int r, i, use_stdin = 0, timeout_s = 120, rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: queuectl CMD REDIS_URL JOB [opts] [items]\n");
		return 2;
	}
	memset(&o, 0, sizeof(o));
	cmd = argv[1];
	o.redis_url = argv[2];
	o.job = argv[3];
	for (i = 4; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--layout") == 0 && i + 1 < argc) {
			o.layout = strcmp(argv[++i], "asperathos") == 0 ?
			    COFFER_QUEUE_LAYOUT_ASPERATHOS : COFFER_QUEUE_LAYOUT_COFFER;
		} else if (strcmp(a, "--lease-ms") == 0 && i + 1 < argc) {
			o.lease_ms = (int)strtol(argv[++i], NULL, 10);
		} else if (strcmp(a, "--max-attempts") == 0 && i + 1 < argc) {
			o.max_attempts = (int)strtol(argv[++i], NULL, 10);
		} else if (strcmp(a, "--backoff-ms") == 0 && i + 1 < argc) {
			o.backoff_ms = (int)strtol(argv[++i], NULL, 10);
		} else if (strcmp(a, "--owner") == 0 && i + 1 < argc) {
			o.owner = argv[++i];
		} else if (strcmp(a, "--stale-ms") == 0 && i + 1 < argc) {
			o.stale_ms = (int)strtol(argv[++i], NULL, 10);
		} else if (strcmp(a, "--timeout-s") == 0 && i + 1 < argc) {
			timeout_s = (int)strtol(argv[++i], NULL, 10);
		} else if (strcmp(a, "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(a, "--stdin") == 0) {
			use_stdin = 1;
		} else {
			if (n == cap && (items = realloc(items, (cap = cap * 2 + 16) *
			    sizeof(*items))) == NULL)
				return 1;
			items[n++] = strdup(a);
		}
	}
	if (dir != NULL) {
		DIR *d = opendir(dir);
		struct dirent *e;

		if (d == NULL) {
			fprintf(stderr, "queuectl: %s: %s\n", dir, strerror(errno));
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (n == cap && (items = realloc(items, (cap = cap * 2 + 16) *
			    sizeof(*items))) == NULL)
				return 1;
			items[n++] = strdup(e->d_name);
		}
		closedir(d);
		qsort(items, n, sizeof(*items), cmp);
	}
	if (use_stdin) {
		char line[4096];

		while (fgets(line, sizeof(line), stdin) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] == '\0')
				continue;
			if (n == cap && (items = realloc(items, (cap = cap * 2 + 16) *
			    sizeof(*items))) == NULL)
				return 1;
			items[n++] = strdup(line);
		}
	}
	if ((r = coffer_queue_open(&o, &q)) != 0)
		return die(r, "open");
	if (strcmp(cmd, "load") == 0) {
		if ((r = coffer_queue_load(q, (const char *const *)items, n)) != 0)
			rc = die(r, "load");
		else
			printf("loaded=%zu\n", n);
	} else if (strcmp(cmd, "stats") == 0) {
		if ((r = coffer_queue_stats(q, &s)) != 0)
			rc = die(r, "stats");
		else
			printf("total=%lld done=%lld failed=%lld in_flight=%lld queued=%lld\n",
			    (long long)s.total, (long long)s.done, (long long)s.failed,
			    (long long)s.in_flight, (long long)s.queued);
	} else if (strcmp(cmd, "reap") == 0) {
		size_t moved = 0;

		if ((r = coffer_queue_reap(q, &moved)) != 0)
			rc = die(r, "reap");
		else
			printf("moved=%zu\n", moved);
	} else if (strcmp(cmd, "dead") == 0) {
		if ((r = coffer_queue_dead_letters(q, on_dead, NULL)) != 0)
			rc = die(r, "dead");
	} else if (strcmp(cmd, "wait") == 0) {
		int64_t end = coffer_mono_ms() + (int64_t)timeout_s * 1000;

		for (;;) {
			struct timespec ts = { 0, 100 * 1000000L };
			size_t moved;

			/* Redis may be restarting under us: retry quietly. */
			if (coffer_queue_reap(q, &moved) == 0 &&
			    coffer_queue_stats(q, &s) == 0 &&
			    coffer_queue_stats_finished(&s))
				break;
			if (coffer_mono_ms() > end) {
				fprintf(stderr, "queuectl: wait: not finished after %d s\n",
				    timeout_s);
				rc = 1;
				break;
			}
			nanosleep(&ts, NULL);
		}
	} else if (strcmp(cmd, "meta") == 0) {
		struct coffer_queue_meta m;

		if ((r = coffer_queue_meta(q, &m)) != 0)
			rc = die(r, "meta");
		else
			printf("exists=%d owner=%s state=%s total=%lld\n", m.exists,
			    m.owner, m.state, (long long)m.total);
	} else if (strcmp(cmd, "destroy") == 0) {
		if ((r = coffer_queue_destroy(q)) != 0)
			rc = die(r, "destroy");
	} else {
		fprintf(stderr, "queuectl: unknown command %s\n", cmd);
		rc = 2;
	}
	coffer_queue_close(q);
	for (size_t k = 0; k < n; k++)
		free(items[k]);
	free(items);
	return rc;
}
