// SPDX-License-Identifier: Apache-2.0
// dicom-deid's job parameters: one declaration table (name, type, default,
// allowed values, help) that init() parses against and the documentation
// lists, and the app secret (the worker's reserved "coffer.app_secret", or
// a key file under `coffer run`).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "deid.h"

#define SECRET_MIN 32
#define SECRET_MAX 128

const struct deid_param_def deid_param_defs[] = {
	{ "secret_file", "path", "", "",
	  "file with the app secret as hex (32-128 bytes: `openssl rand -hex 32`);"
	  " for `coffer run` (confidential jobs get coffer.app_secret)" },
	{ "coffer.app_secret", "hex", "", "",
	  "reserved: the app secret the worker passes in confidential jobs" },
	{ "retain_safe_private", "string", "", "gggg,ee=CREATOR;...",
	  "Retain Safe Private Option: the private elements to keep, as group,"
	  " element byte (or xx) and private creator; empty: option off" },
	{ "retain_uids", "bool", "no", "yes, no", "Retain UIDs Option" },
	{ "retain_device_identity", "bool", "no", "yes, no",
	  "Retain Device Identity Option" },
	{ "retain_institution_identity", "bool", "no", "yes, no",
	  "Retain Institution Identity Option" },
	{ "retain_patient_characteristics", "bool", "no", "yes, no",
	  "Retain Patient Characteristics Option" },
	{ "retain_dates", "enum", "none", "none, full, modified",
	  "Retain Longitudinal Temporal Information: full dates, or dates"
	  " shifted per patient (modified)" },
	{ "clean_descriptors", "bool", "no", "yes, no", "Clean Descriptors Option" },
	{ "clean_structured_content", "bool", "no", "yes, no",
	  "Clean Structured Content Option" },
	{ "clean_graphics", "bool", "no", "yes, no", "Clean Graphics Option" },
	{ "date_shift_max_days", "int", "365", "1-36500",
	  "with retain_dates=modified: each patient's shift is in"
	  " [-N, -1] or [1, N] days" },
	{ "pseudonym_prefix", "string", "ANON-", "0-32 of A-Z a-z 0-9 _ -",
	  "prefix of the pseudonymous Patient ID and Patient's Name" },
	{ "conformance", "enum", "keep-iod", "keep-iod, strict",
	  "X/Z, X/D, Z/D, X/Z/D and X/Z/U*: keep-iod takes the weaker action"
	  " that keeps every IOD valid, strict the stronger (X or Z)" },
	{ "burned_in_annotation", "enum", "refuse", "refuse, accept",
	  "refuse images that say or may have text burned into the pixels" },
	{ "max_inflate_bytes", "int", "268435456", "1024-4294967296",
	  "limit on a deflated data set once inflated" },
	{ "max_depth", "int", "32", "1-64", "limit on sequence nesting" },
	{ "max_elements", "int", "1000000", "16-100000000",
	  "limit on elements and items in one file" },
};
const size_t deid_param_defs_n = sizeof(deid_param_defs) / sizeof(deid_param_defs[0]);
_Static_assert(sizeof(deid_param_defs) / sizeof(deid_param_defs[0]) == DEID_NPARAMS,
    "DEID_NPARAMS");

size_t
deid_param_decls(struct coffer_app_param_decl *out)
{
	/* bool and enum rows list their values as "a, b": as "a|b" here. */
	static char values[DEID_NPARAMS][96];
	size_t n = 0;

	for (size_t i = 0; i < deid_param_defs_n; i++) {
		const struct deid_param_def *d = &deid_param_defs[i];
		struct coffer_app_param_decl *o = &out[n];
		long long lo, hi;

		if (strncmp(d->name, "coffer.", 7) == 0)
			continue;
		memset(o, 0, sizeof(*o));
		o->name = d->name;
		o->help = d->help;
		o->type = COFFER_APP_PARAM_STRING;
		if (strcmp(d->type, "int") == 0 && sscanf(d->allowed, "%lld-%lld", &lo, &hi) == 2) {
			o->type = COFFER_APP_PARAM_INT;
			o->min = (double)lo;
			o->max = (double)hi;
		} else if (strcmp(d->type, "bool") == 0 || strcmp(d->type, "enum") == 0) {
			size_t k = 0;

			for (const char *p = d->allowed; *p != '\0' && k + 1 < sizeof(values[i]); p++)
				if (*p != ' ')
					values[i][k++] = *p == ',' ? '|' : *p;
			values[i][k] = '\0';
			o->values = values[i];
		}
		n++;
	}
	return n;
}

static const struct deid_param_def *
find_def(const char *name)
{
	for (size_t i = 0; i < deid_param_defs_n; i++)
		if (strcmp(deid_param_defs[i].name, name) == 0)
			return &deid_param_defs[i];
	return NULL;
}

static int
bad(char *err, size_t errlen, const struct deid_param_def *d, const char *v)
{
	snprintf(err, errlen, "parameter %s: '%s' is not one of: %s", d->name, v,
	    d->allowed);
	return COFFER_E_INVAL;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Hex (whitespace around it ignored) into key; 0 or -1. */
static int
parse_secret(const char *s, size_t n, uint8_t *key, size_t *keylen)
{
	size_t k = 0;

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	while (n > 0 && (*s == ' ' || *s == '\n')) {
		s++;
		n--;
	}
	if (n % 2 != 0 || n / 2 < SECRET_MIN || n / 2 > SECRET_MAX)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		key[k++] = (uint8_t)(hi << 4 | lo);
	}
	*keylen = k;
	return 0;
}

static int
read_secret_file(const char *path, uint8_t *key, size_t *keylen, char *err,
    size_t errlen)
{
	char buf[2 * SECRET_MAX + 16];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r = 0;

	if (fd < 0) {
		snprintf(err, errlen, "parameter secret_file: %s: %s", path, strerror(errno));
		return COFFER_E_INVAL;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n == (ssize_t)sizeof(buf) || parse_secret(buf, (size_t)n, key, keylen) != 0) {
		snprintf(err, errlen, "parameter secret_file: %s must hold %d to %d bytes"
		    " as hex digits (make one with: openssl rand -hex 32 > %s)", path,
		    SECRET_MIN, SECRET_MAX, path);
		r = COFFER_E_INVAL;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

/* "gggg,ee=CREATOR;..." into the allow-list. */
static int
parse_safe_private(struct deid_config *c, const char *v, char *err, size_t errlen)
{
	size_t cap = 1;

	for (const char *p = v; *p; p++)
		cap += *p == ';';
	if ((c->safe = calloc(cap, sizeof(*c->safe))) == NULL)
		return COFFER_E_NOMEM;
	while (*v != '\0') {
		const char *end = strchr(v, ';'), *eq;
		size_t len = end ? (size_t)(end - v) : strlen(v);
		struct deid_safe_private *s = &c->safe[c->nsafe];
		unsigned g = 0, e = 0;
		int ok = len > 8 && v[4] == ',' && v[7] == '=';

		for (int i = 0; ok && i < 4; i++)
			ok = hexval(v[i]) >= 0 && (g = g << 4 | (unsigned)hexval(v[i]), 1);
		if (ok && (v[5] == 'x' || v[5] == 'X') && (v[6] == 'x' || v[6] == 'X'))
			s->any_elem = 1;
		else
			for (int i = 5; ok && i < 7; i++)
				ok = hexval(v[i]) >= 0 && (e = e << 4 | (unsigned)hexval(v[i]), 1);
		eq = v + 8;
		s->creator_len = len - 8;
		if (!ok || (g & 1) == 0 || g < 0x0009 || s->creator_len == 0 || s->creator_len > 64) {
			snprintf(err, errlen, "parameter retain_safe_private: '%.*s' is not"
			    " gggg,ee=CREATOR (gggg an odd group in hex, ee two hex digits"
			    " or xx, CREATOR 1-64 characters)", (int)len, v);
			return COFFER_E_INVAL;
		}
		s->group = (uint16_t)g;
		s->elem = (uint8_t)e;
		memcpy(s->creator, eq, s->creator_len);
		c->nsafe++;
		v += len + (end != NULL);
	}
	return 0;
}

static int
parse_int(const struct deid_param_def *d, const char *v, long long *out,
    char *err, size_t errlen)
{
	long long lo, hi, x;
	char *end;

	if (sscanf(d->allowed, "%lld-%lld", &lo, &hi) != 2)
		return COFFER_E_APP;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (v[0] == '\0' || *end != '\0' || errno != 0 || x < lo || x > hi) {
		snprintf(err, errlen, "parameter %s: '%s' is not an integer in [%lld, %lld]",
		    d->name, v, lo, hi);
		return COFFER_E_INVAL;
	}
	*out = x;
	return 0;
}

/* One parameter onto c. */
static int
apply(struct deid_config *c, const struct deid_param_def *d, const char *v,
    int *have_secret, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		int col;
	} bools[] = {
		{ "retain_uids", DD_COL_UIDS },
		{ "retain_device_identity", DD_COL_DEVICE },
		{ "retain_institution_identity", DD_COL_INSTITUTION },
		{ "retain_patient_characteristics", DD_COL_PATIENT_CHARS },
		{ "clean_descriptors", DD_COL_DESCRIPTORS },
		{ "clean_structured_content", DD_COL_STRUCTURED },
		{ "clean_graphics", DD_COL_GRAPHICS },
	};
	uint8_t key[SECRET_MAX];
	size_t keylen = 0;
	long long x;
	int r;

	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (strcmp(d->name, bools[i].name) == 0) {
			if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
				c->opt[bools[i].col] = 1;
			else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
				c->opt[bools[i].col] = 0;
			else
				return bad(err, errlen, d, v);
			return 0;
		}
	if (strcmp(d->name, "retain_dates") == 0) {
		if (strcmp(v, "none") == 0)
			c->dates = DEID_DATES_REMOVE;
		else if (strcmp(v, "full") == 0)
			c->dates = DEID_DATES_FULL;
		else if (strcmp(v, "modified") == 0)
			c->dates = DEID_DATES_MODIFIED;
		else
			return bad(err, errlen, d, v);
		c->opt[DD_COL_FULL_DATES] = c->dates == DEID_DATES_FULL;
		c->opt[DD_COL_MODIFIED_DATES] = c->dates == DEID_DATES_MODIFIED;
		return 0;
	}
	if (strcmp(d->name, "conformance") == 0) {
		if (strcmp(v, "keep-iod") != 0 && strcmp(v, "strict") != 0)
			return bad(err, errlen, d, v);
		c->strict = strcmp(v, "strict") == 0;
		return 0;
	}
	if (strcmp(d->name, "burned_in_annotation") == 0) {
		if (strcmp(v, "refuse") != 0 && strcmp(v, "accept") != 0)
			return bad(err, errlen, d, v);
		c->accept_burned_in = strcmp(v, "accept") == 0;
		return 0;
	}
	if (strcmp(d->name, "pseudonym_prefix") == 0) {
		size_t n = strlen(v);

		for (size_t i = 0; i < n; i++)
			if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
			    (v[i] >= '0' && v[i] <= '9') || v[i] == '_' || v[i] == '-'))
				n = 99;
		if (n > 32)
			return bad(err, errlen, d, v);
		memcpy(c->prefix, v, strlen(v) + 1);
		return 0;
	}
	if (strcmp(d->name, "retain_safe_private") == 0) {
		free(c->safe);
		c->safe = NULL;
		c->nsafe = 0;
		c->opt[DD_COL_SAFE_PRIVATE] = v[0] != '\0';
		return parse_safe_private(c, v, err, errlen);
	}
	if (strcmp(d->name, "secret_file") == 0 || strcmp(d->name, "coffer.app_secret") == 0) {
		if (*have_secret) {
			snprintf(err, errlen, "parameter %s: the app secret is already given"
			    " (secret_file and coffer.app_secret are exclusive)", d->name);
			return COFFER_E_INVAL;
		}
		if (d->name[0] == 's')
			r = read_secret_file(v, key, &keylen, err, errlen);
		else if ((r = parse_secret(v, strlen(v), key, &keylen)) != 0) {
			snprintf(err, errlen, "parameter coffer.app_secret: not %d to %d bytes"
			    " of hex", SECRET_MIN, SECRET_MAX);
			r = COFFER_E_INVAL;
		}
		if (r == 0 && (r = deid_keys_derive(key, keylen, &c->keys)) != 0)
			snprintf(err, errlen, "deriving keys from the app secret failed");
		OPENSSL_cleanse(key, sizeof(key));
		*have_secret = r == 0;
		return r;
	}
	if ((r = parse_int(d, v, &x, err, errlen)) != 0)
		return r;
	if (strcmp(d->name, "date_shift_max_days") == 0)
		c->date_shift_max = (int)x;
	else if (strcmp(d->name, "max_inflate_bytes") == 0)
		c->lim.max_inflated = (uint64_t)x;
	else if (strcmp(d->name, "max_depth") == 0)
		c->lim.max_depth = (uint32_t)x;
	else if (strcmp(d->name, "max_elements") == 0)
		c->lim.max_elements = (uint64_t)x;
	else
		return COFFER_E_APP;
	return 0;
}

int
deid_config_init(struct deid_config *c, const struct coffer_app_param *p,
    size_t n, char *err, size_t errlen)
{
	int have_secret = 0, r;

	memset(c, 0, sizeof(*c));
	c->opt[DD_COL_BASIC] = 1;
	/* Defaults: each row's default, through the same parser. */
	for (size_t i = 0; i < deid_param_defs_n; i++)
		if (deid_param_defs[i].def[0] != '\0' &&
		    (r = apply(c, &deid_param_defs[i], deid_param_defs[i].def, &have_secret,
		    err, errlen)) != 0)
			goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct deid_param_def *d = find_def(p[i].key);

		/* The worker's other reserved parameters (a policy's limits,
		 * coffer.limit.<name>, go to every app of the policy) are not
		 * ours to refuse, as in pooled-stats. */
		if (d == NULL && strncmp(p[i].key, "coffer.", 7) == 0)
			continue;
		if (d == NULL) {
			size_t o = (size_t)snprintf(err, errlen, "unknown parameter '%s'"
			    " (known:", p[i].key);

			for (size_t k = 0; k < deid_param_defs_n && o < errlen; k++)
				o += (size_t)snprintf(err + o, errlen - o, " %s",
				    deid_param_defs[k].name);
			if (o < errlen)
				snprintf(err + o, errlen - o, ")");
			r = COFFER_E_INVAL;
			goto fail;
		}
		if ((r = apply(c, d, p[i].value, &have_secret, err, errlen)) != 0)
			goto fail;
	}
	if (!have_secret) {
		snprintf(err, errlen, "no app secret: replacement UIDs and pseudonyms are"
		    " keyed. Under coffer run, give --param secret_file=PATH (a file made"
		    " with: openssl rand -hex 32 > PATH, kept as safe as the data)");
		r = COFFER_E_INVAL;
		goto fail;
	}
	return 0;
fail:
	deid_config_release(c);
	return r;
}

void
deid_config_release(struct deid_config *c)
{
	free(c->safe);
	deid_keys_wipe(&c->keys);
	memset(c, 0, sizeof(*c));
}
