// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: coffer-worker's configuration parsers
// (src/worker/config.c): COFFER_PARAMS (the first NUL-separated piece of
// the input), the command line (every piece an argument), and a standby
// worker's assignment (the whole input, src/worker/assign.c) with the
// configuration parsed from it. Whatever an operator sets, a parameter
// that reaches an app has a key of 1-64 characters of [A-Za-z0-9_.-] and
// a value of at most 4096 bytes without NUL, and at most 64 of them
// exist; an assignment's names are [A-Za-z_][A-Za-z0-9_]{0,127}, given
// once, its values without CR or LF.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct worker_config *c)
{
	if (c->nparams > WORKER_MAX_PARAMS)
		abort();
	for (size_t i = 0; i < c->nparams; i++) {
		const char *k = c->params[i].key;
		size_t n = strlen(k);

		if (n == 0 || n > 64 || strlen(c->params[i].value) > 4096)
			abort();
		for (size_t j = 0; j < n; j++)
			if (!((k[j] >= 'a' && k[j] <= 'z') || (k[j] >= 'A' && k[j] <= 'Z') ||
			    (k[j] >= '0' && k[j] <= '9') || k[j] == '_' || k[j] == '.' ||
			    k[j] == '-'))
				abort();
	}
	for (int i = 0; i < c->napp_env; i++)
		if (strncmp(c->app_env[i], "COFFER_", 7) == 0 ||
		    strncmp(c->app_env[i], "REDIS_", 6) == 0)
			abort();
}

static void
check_assign(const struct worker_assign *a)
{
	if (a->n > WORKER_ASSIGN_MAX_VARS)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		size_t n = strlen(a->name[i]);

		if (n == 0 || n > 128 || (a->name[i][0] >= '0' && a->name[i][0] <= '9') ||
		    strspn(a->name[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_") != n || strpbrk(a->value[i], "\r\n") != NULL)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->name[i], a->name[j]) == 0)
				abort();
		if (worker_assign_get((void *)a, a->name[i]) != a->value[i])
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct worker_config c;
	struct worker_assign a;
	char *s = malloc(size + 1), *argv[66];
	int argc = 0;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&c, 0, sizeof(c));
	if (worker_params_decode(s, &c) == 0)
		check(&c);
	worker_config_release(&c);

	argv[argc++] = (char *)"coffer-worker";
	for (size_t i = 0; i < size && argc < 65;) {
		argv[argc++] = s + i;
		i += strlen(s + i) + 1;
	}
	argv[argc] = NULL;
	if (worker_config_parse(argc, argv, &c) == 0)
		check(&c);
	worker_config_release(&c);

	if (worker_assign_parse((const char *)data, size, &a) == 0) {
		check_assign(&a);
		argv[1] = NULL;
		if (worker_config_parse_vars(1, argv, worker_assign_get, &a, &c) == 0)
			check(&c);
		worker_config_release(&c);
	}
	worker_assign_release(&a);
	free(s);
	return 0;
}
