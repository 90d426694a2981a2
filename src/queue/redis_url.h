/* SPDX-License-Identifier: Apache-2.0 */
/* Redis connection addresses: parsing redis:// and unix:// URLs and the
 * REDIS_HOST/REDIS_PORT environment that Asperathos consumers use. */
#ifndef COFFER_QUEUE_REDIS_URL_H
#define COFFER_QUEUE_REDIS_URL_H

#include <stddef.h>

#define COFFER_REDIS_URL_MAX 1024
#define COFFER_REDIS_DEFAULT_PORT 6379

/* A parsed address. Strings are owned; release with
 * coffer_redis_url_release(). */
struct coffer_redis_url {
	char *host;     /* host name or IP (no brackets); NULL for unix */
	int port;       /* 1-65535 */
	char *path;     /* unix socket path; NULL for TCP */
	char *user;     /* ACL user name (Redis 6+); NULL if none */
	char *password; /* NULL if none */
	int db;         /* database number, 0-65535 */
};

/*
 * Parse, strictly:
 *   redis://[[user]:password@]host[:port][/db]   host may be [v6-address]
 *   unix:///path/to/socket[?db=N]                or a bare absolute path
 * Percent-escapes (%XX) are decoded in user and password. Anything else
 * (another scheme, an empty host, a port out of range, trailing garbage,
 * control characters, more than COFFER_REDIS_URL_MAX bytes) is
 * COFFER_E_FORMAT with a detail naming the part. *u is written only on
 * success.
 */
int coffer_redis_url_parse(const char *s, struct coffer_redis_url *u)
	__attribute__((warn_unused_result));

/* Build "redis://host:port" from REDIS_HOST and REDIS_PORT (default 6379)
 * into out (outlen bytes). COFFER_E_NOTFOUND if REDIS_HOST is unset,
 * COFFER_E_FORMAT if a value is invalid. */
int coffer_redis_url_from_env(char *out, size_t outlen)
	__attribute__((warn_unused_result));
/* The same from the two values (NULL: unset), wherever they come from
 * (a standby worker's assignment, doc/worker.md 2.2). */
int coffer_redis_url_from_host_port(const char *host, const char *port,
    char *out, size_t outlen) __attribute__((warn_unused_result));

/* The URL without its password, for logs: "redis://host:port/db". */
void coffer_redis_url_redacted(const struct coffer_redis_url *u, char *out,
    size_t outlen);

void coffer_redis_url_release(struct coffer_redis_url *u);

#endif
