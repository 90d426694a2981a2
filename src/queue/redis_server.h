/* SPDX-License-Identifier: Apache-2.0 */
/* Start and stop a private redis-server on a free loopback port, with its
 * data in a directory of its own: for `coffer run`, `coffer up` and the
 * tests. The server is a child of the calling process, stopped by PID. */
#ifndef COFFER_QUEUE_REDIS_SERVER_H
#define COFFER_QUEUE_REDIS_SERVER_H

#include <sys/types.h>

struct coffer_redis_server_opts {
	const char *exe;     /* NULL: "redis-server" found in PATH */
	const char *dir;     /* data directory (must exist); NULL: a new
	                        temporary directory, removed by stop() */
	int port;            /* 0: pick a free loopback port (retrying a few
	                        times if another process takes it first) */
	int appendonly;      /* 1: AOF on (appendfsync everysec) */
	int start_timeout_ms;/* 0 = 10000 */
};

struct coffer_redis_server {
	pid_t pid;
	int port;
	char *dir;           /* its data directory; redis.log is in it */
	char url[64];        /* "redis://127.0.0.1:<port>" */
	int own_dir;         /* dir was created by start() */
	char *exe;           /* resolved path of redis-server */
	int appendonly;
	int start_timeout_ms;
};

/*
 * Start redis-server in the foreground as a child (--bind 127.0.0.1
 * --save '' --daemonize no), wait until it answers PING. Errors:
 * COFFER_E_NOTFOUND if redis-server is not installed (the detail says how
 * to install it), COFFER_E_TIMEOUT / COFFER_E_IO if it did not come up
 * (the detail has the end of redis.log; for an append-only file Redis
 * cannot load, one line with its full path and how to repair it).
 */
int coffer_redis_server_start(const struct coffer_redis_server_opts *o,
    struct coffer_redis_server **out) __attribute__((warn_unused_result));

/* SIGTERM (Redis writes its AOF and exits), wait up to 10 s, then SIGKILL;
 * reap it. The handle stays valid for coffer_redis_server_restart(). */
int coffer_redis_server_stop(struct coffer_redis_server *s);

/* Start it again on the same port and directory (its data is kept). */
int coffer_redis_server_restart(struct coffer_redis_server *s)
	__attribute__((warn_unused_result));

/* Stop if running, remove the directory if start() created it, free. NULL
 * is a no-op. */
void coffer_redis_server_free(struct coffer_redis_server *s);

#endif
