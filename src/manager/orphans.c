// SPDX-License-Identifier: Apache-2.0
// Replicas left by an earlier incarnation of this manager (mgr.h). A
// manager killed with SIGKILL cannot stop its replicas; they keep running,
// reparented to init. Every replica's environment carries the absolute
// path of the job store and the incarnation that started it, so the next
// start finds them in /proc, stops them (SIGTERM, then SIGKILL after the
// grace period) and starts fresh replicas of its own: no replica is counted
// twice and none runs forever. Their leased items come back through the
// queue's reaper when the leases expire.
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/num.h"
#include "lib/mem.h"
#include "manager/mgr.h"

#define ENVIRON_MAX ((size_t)1 << 20)

/* 1 if pid's environment names our store and another incarnation. */
static int
is_orphan(const struct mgr *m, pid_t pid)
{
	char path[64], want_db[4200];
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, db = 0, other = 0, local = 1;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if ((buf = malloc(ENVIRON_MAX + 1)) == NULL) {
		close(fd);
		return 0;
	}
	while (len < ENVIRON_MAX &&
	    (n = read(fd, buf + len, ENVIRON_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	snprintf(want_db, sizeof(want_db), "COFFER_MANAGER_DB=%s", m->db_abs);
	for (size_t off = 0; off < len;) {
		const char *e = buf + off;
		size_t el = strnlen(e, len - off);

		if (strcmp(e, want_db) == 0)
			db = 1;
		else if (strncmp(e, "COFFER_MANAGER_INCARNATION=", 27) == 0 &&
		    strcmp(e + 27, m->incarnation) != 0)
			other = 1;
		/* Another backend's replica that runs here (a Slurm node, a
		 * test cluster's pod) is that backend's: the new incarnation
		 * adopts it (actuator.h). Replicas of before this variable
		 * have none, and were local. */
		else if (strncmp(e, "COFFER_ACTUATOR=", 16) == 0)
			local = strcmp(e + 16, "local") == 0;
		off += el + 1;
	}
	free(buf);
	return db && other && local;
}

int
mgr_orphans_find(struct mgr *m)
{
	DIR *d;
	struct dirent *de;
	int64_t deadline = coffer_mono_ms() + m->cfg.grace_ms;

	if ((d = opendir("/proc")) == NULL)
		return coffer_errf(COFFER_E_IO, "/proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		int pid = 0;
		struct mgr_orphan *p;

		if (coffer_parse_int(de->d_name, 2, INT_MAX, &pid) != 0 ||
		    pid == (int)getpid() || !is_orphan(m, (pid_t)pid))
			continue;
		if (kill((pid_t)pid, SIGTERM) != 0)
			continue;
		coffer_logkv(COFFER_LOG_WARN, "stopping a replica of an earlier run",
		    "pid", de->d_name, NULL);
		p = coffer_reallocarray(m->orphans, m->norphans + 1, sizeof(*p));
		if (p == NULL)
			continue;
		p[m->norphans].pid = (pid_t)pid;
		p[m->norphans].deadline_ms = deadline;
		m->norphans++;
		m->orphans = p;
	}
	closedir(d);
	return 0;
}

void
mgr_orphans_tick(struct mgr *m)
{
	int64_t now = coffer_mono_ms();

	for (size_t i = 0; i < m->norphans;) {
		struct mgr_orphan *o = &m->orphans[i];

		if (kill(o->pid, 0) != 0 && errno == ESRCH) {
			m->orphans[i] = m->orphans[--m->norphans];
			continue;
		}
		if (now >= o->deadline_ms) {
			/* Check again that the PID is still that replica. */
			if (is_orphan(m, o->pid)) {
				char pid[16];

				snprintf(pid, sizeof(pid), "%d", (int)o->pid);
				coffer_logkv(COFFER_LOG_WARN,
				    "killing a replica of an earlier run", "pid", pid,
				    NULL);
				kill(o->pid, SIGKILL);
			}
			m->orphans[i] = m->orphans[--m->norphans];
			continue;
		}
		i++;
	}
}
