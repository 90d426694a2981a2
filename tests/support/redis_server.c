// SPDX-License-Identifier: Apache-2.0
// Test helper: a private redis-server per test group (redis_server.h).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "queue/redis_server.h"
#include "redis_server.h" /* tests/support/ */

static void
connect_inspector(struct test_redis *r)
{
	struct timeval tv = { 5, 0 };

	if (r->c != NULL)
		redisFree(r->c);
	r->c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
	if (r->c == NULL || r->c->err)
		fail_msg("cannot connect to the test redis-server on port %d", r->port);
}

void
test_redis_start(struct test_redis *r)
{
	struct coffer_redis_server_opts o = { 0 };
	int e;

	memset(r, 0, sizeof(*r));
	o.appendonly = 1;
	if ((e = coffer_redis_server_start(&o, &r->srv)) != 0)
		fail_msg("redis-server: %s: %s", coffer_strerror(e), coffer_errdetail());
	r->url = r->srv->url;
	r->port = r->srv->port;
	connect_inspector(r);
}

void
test_redis_restart(struct test_redis *r)
{
	int e;

	if (r->c != NULL)
		redisFree(r->c);
	r->c = NULL;
	coffer_redis_server_stop(r->srv);
	if ((e = coffer_redis_server_restart(r->srv)) != 0)
		fail_msg("redis-server restart: %s: %s", coffer_strerror(e),
		    coffer_errdetail());
	connect_inspector(r);
}

void
test_redis_stop(struct test_redis *r)
{
	if (r->c != NULL)
		redisFree(r->c);
	coffer_redis_server_free(r->srv);
	memset(r, 0, sizeof(*r));
}

redisReply *
test_redis_cmd(struct test_redis *r, const char *fmt, ...)
{
	va_list ap;
	redisReply *rep;

	va_start(ap, fmt);
	rep = redisvCommand(r->c, fmt, ap);
	va_end(ap);
	if (rep == NULL)
		fail_msg("redis command '%s' failed: %s", fmt, r->c->errstr);
	return rep;
}

long long
test_redis_int(struct test_redis *r, const char *fmt, ...)
{
	va_list ap;
	redisReply *rep;
	long long v = 0;

	va_start(ap, fmt);
	rep = redisvCommand(r->c, fmt, ap);
	va_end(ap);
	if (rep == NULL)
		fail_msg("redis command '%s' failed: %s", fmt, r->c->errstr);
	if (rep->type == REDIS_REPLY_INTEGER)
		v = rep->integer;
	else if (rep->type == REDIS_REPLY_NIL)
		v = -1;
	else if (rep->type == REDIS_REPLY_STRING)
		v = strtoll(rep->str, NULL, 10);
	else
		fail_msg("redis command '%s': reply type %d is not an integer", fmt,
		    rep->type);
	freeReplyObject(rep);
	return v;
}
