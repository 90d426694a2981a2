/* SPDX-License-Identifier: Apache-2.0 */
/* A real redis-server for cmocka tests: started on a free loopback port
 * with AOF on and its data in a temp dir, stopped by PID. Thin wrapper over
 * queue/redis_server.h that fails the current test when Redis cannot run. */
#ifndef COFFER_TEST_REDIS_SERVER_H
#define COFFER_TEST_REDIS_SERVER_H

#include <hiredis/hiredis.h>

struct test_redis {
	struct coffer_redis_server *srv;
	const char *url; /* "redis://127.0.0.1:<port>" */
	int port;
	redisContext *c; /* a direct connection for inspecting keys */
};

/* Start a server (fails the test with redis.log's tail if it cannot). */
void test_redis_start(struct test_redis *r);
/* Stop gracefully (AOF flushed) and start again on the same port and data. */
void test_redis_restart(struct test_redis *r);
/* Stop, remove the data, free. Zeroed struct: no-op. */
void test_redis_stop(struct test_redis *r);

/* Run a command on the inspection connection (printf-style, hiredis
 * format: %s and %b). Returns the reply, which the caller frees; fails
 * the test if there is none. */
redisReply *test_redis_cmd(struct test_redis *r, const char *fmt, ...);
/* The same for a command whose reply is an integer (or a nil = -1, or a
 * string holding an integer). */
long long test_redis_int(struct test_redis *r, const char *fmt, ...);

#endif
