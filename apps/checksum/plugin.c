// SPDX-License-Identifier: Apache-2.0
// Example app (plugin): per item, the line `cksum` prints for it
// ("<crc> <bytes> <item id>"), or with format=upper the item upper-cased.
// Its reduce stage concatenates the map outputs in item order. Tests
// compare its outputs with the real cksum(1) run over the inputs.
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "cksum.h"

struct state {
	int upper;
	/* Reduce: the concatenated map outputs. */
	unsigned char *acc;
	size_t acclen, acccap;
};

static int
ck_init(const struct coffer_app_param *params, size_t nparams, void **state,
    char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return COFFER_E_NOMEM;
	for (size_t i = 0; i < nparams; i++) {
		if (strcmp(params[i].key, "format") == 0) {
			if (strcmp(params[i].value, "upper") == 0) {
				s->upper = 1;
			} else if (strcmp(params[i].value, "cksum") != 0) {
				snprintf(err, errlen, "format must be cksum or upper, not '%s'",
				    params[i].value);
				free(s);
				return COFFER_E_INVAL;
			}
		} else if (strncmp(params[i].key, "coffer.", 7) != 0) {
			/* coffer.* are the worker's (coffer.app_secret, ...):
			 * this app uses none of them. */
			snprintf(err, errlen, "unknown parameter '%s' (known: format)",
			    params[i].key);
			free(s);
			return COFFER_E_INVAL;
		}
	}
	*state = s;
	return 0;
}

static int
ck_process(void *state, const struct coffer_app_item *item, const uint8_t *in,
    size_t inlen, struct coffer_app_writer *out, char *err, size_t errlen)
{
	struct state *s = state;
	char line[1200];
	int n;

	if (s->upper) {
		unsigned char buf[4096];

		for (size_t off = 0; off < inlen;) {
			size_t k = inlen - off < sizeof(buf) ? inlen - off : sizeof(buf);
			int r;

			for (size_t i = 0; i < k; i++) {
				unsigned char c = in[off + i];

				buf[i] = c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
			}
			if ((r = out->write(out, buf, k)) != 0) {
				snprintf(err, errlen, "writing output failed");
				return r;
			}
			off += k;
		}
		return 0;
	}
	n = snprintf(line, sizeof(line), "%lu %zu %s\n",
	    (unsigned long)app_cksum(in, inlen), inlen, item->id);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		snprintf(err, errlen, "item id too long");
		return COFFER_E_LIMIT;
	}
	return out->write(out, line, (size_t)n);
}

static int
ck_reduce_add(void *state, const char *item_id, const uint8_t *in, size_t inlen,
    char *err, size_t errlen)
{
	struct state *s = state;

	(void)item_id;
	if (s->acclen + inlen > s->acccap) {
		size_t cap = (s->acclen + inlen) * 2 + 4096;
		unsigned char *p = realloc(s->acc, cap);

		if (p == NULL) {
			snprintf(err, errlen, "out of memory");
			return COFFER_E_NOMEM;
		}
		s->acc = p;
		s->acccap = cap;
	}
	memcpy(s->acc + s->acclen, in, inlen);
	s->acclen += inlen;
	return 0;
}

static int
ck_reduce_finish(void *state, struct coffer_app_writer *out, char *err,
    size_t errlen)
{
	struct state *s = state;

	(void)err;
	(void)errlen;
	return s->acclen ? out->write(out, s->acc, s->acclen) : 0;
}

static void
ck_fini(void *state)
{
	struct state *s = state;

	if (s != NULL)
		free(s->acc);
	free(s);
}

/* Declared parameters (coffer/app.h): checked before init() sees them. */
static const struct coffer_app_param_decl checksum_params[] = {
	{ "format", COFFER_APP_PARAM_STRING, 0, 0, 0, "cksum|upper",
	  "cksum (default): the cksum(1) line; upper: the item upper-cased" },
};

static const struct coffer_app checksum_app = {
	.size = sizeof(struct coffer_app),
	.abi_version = COFFER_APP_ABI_VERSION,
	.name = "checksum",
	.version = "1.0",
	.init = ck_init,
	.process = ck_process,
	.reduce_add = ck_reduce_add,
	.reduce_finish = ck_reduce_finish,
	.fini = ck_fini,
	.params = checksum_params,
	.nparams = sizeof(checksum_params) / sizeof(checksum_params[0]),
};

COFFER_APP_EXPORT(checksum_app)
