// SPDX-License-Identifier: Apache-2.0
// App parameter declarations and the one check of a job's parameters
// against them (appparams.h). A misspelt parameter used to be found 18 s
// into a job, by every replica's init() in turn; now it is a 400 that names
// it and says what was meant.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/appparams.h"
#include "lib/num.h"
#include "lib/suggest.h"

static const char *const type_names[] = { NULL, "string", "int", "number",
	"bool" };

int
coffer_app_param_reserved(const char *name)
{
	return strncmp(name, COFFER_APP_PARAM_RESERVED,
	    strlen(COFFER_APP_PARAM_RESERVED)) == 0;
}

static int
valid_name(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 64)
		return 0;
	for (const char *p = k; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

int
coffer_app_decls_check(const json_t *decls)
{
	size_t i;
	json_t *d;

	if (!json_is_array(decls))
		return coffer_errf(COFFER_E_FORMAT, "params: expected an array");
	json_array_foreach(decls, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *type = json_string_value(json_object_get(d, "type"));
		json_t *v = json_object_get(d, "values");
		int t = 0;

		if (!json_is_object(d) || name == NULL || !valid_name(name) ||
		    coffer_app_param_reserved(name))
			return coffer_errf(COFFER_E_FORMAT, "params[%zu]: a name of "
			    "1-64 [A-Za-z0-9_.-], not starting with 'coffer.'", i);
		for (t = 1; t <= 4 && type != NULL; t++)
			if (strcmp(type, type_names[t]) == 0)
				break;
		if (type == NULL || t > 4)
			return coffer_errf(COFFER_E_FORMAT, "params[%zu] (%s): type "
			    "must be string, int, number or bool", i, name);
		if ((json_object_get(d, "min") != NULL &&
		    !json_is_number(json_object_get(d, "min"))) ||
		    (json_object_get(d, "max") != NULL &&
		    !json_is_number(json_object_get(d, "max"))) ||
		    (v != NULL && !json_is_string(v)))
			return coffer_errf(COFFER_E_FORMAT, "params[%zu] (%s): min and "
			    "max are numbers, values a string", i, name);
	}
	return 0;
}

json_t *
coffer_app_decls_json(const struct coffer_app_param_decl *d, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++) {
		json_t *o = json_pack("{s:s?, s:s, s:b}", "name", d[i].name, "type",
		    d[i].type >= 1 && d[i].type <= 4 ? type_names[d[i].type] : "?",
		    "required", d[i].required != 0);

		if (o == NULL) {
			json_decref(a);
			return NULL;
		}
		if (d[i].min != 0 || d[i].max != 0) {
			json_object_set_new(o, "min", json_real(d[i].min));
			json_object_set_new(o, "max", json_real(d[i].max));
		}
		if (d[i].values != NULL)
			json_object_set_new(o, "values", json_string(d[i].values));
		if (d[i].help != NULL)
			json_object_set_new(o, "help", json_string(d[i].help));
		json_array_append_new(a, o);
	}
	return a;
}

static const json_t *
find_decl(const json_t *decls, const char *name)
{
	size_t i;
	json_t *d;

	json_array_foreach(decls, i, d)
		if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
			return d;
	return NULL;
}

/* "" if v is a value d allows, else why not (msg). */
static void
check_value(const json_t *d, const char *v, char *msg, size_t msglen)
{
	const char *type = json_string_value(json_object_get(d, "type"));
	const char *values = json_string_value(json_object_get(d, "values"));
	double min = json_number_value(json_object_get(d, "min"));
	double max = json_number_value(json_object_get(d, "max"));
	int ranged = min != 0 || max != 0;
	double x = 0;
	char *end = NULL;

	msg[0] = '\0';
	if (strcmp(type, "bool") == 0) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			snprintf(msg, msglen, "expected true or false, not '%.64s'", v);
		return;
	}
	if (strcmp(type, "int") == 0) {
		int64_t i = 0;

		if (coffer_parse_i64(v, INT64_MIN, INT64_MAX, &i) != 0) {
			snprintf(msg, msglen, "expected an integer, not '%.64s'", v);
			return;
		}
		x = (double)i;
	} else if (strcmp(type, "number") == 0) {
		errno = 0;
		x = strtod(v, &end);
		if (v[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(x)) {
			snprintf(msg, msglen, "expected a number, not '%.64s'", v);
			return;
		}
	} else {
		x = (double)strlen(v);
		if (values != NULL) {
			size_t n = strlen(v);

			for (const char *p = values; *p != '\0';) {
				size_t k = strcspn(p, "|");

				if (k == n && strncmp(p, v, n) == 0)
					return;
				p += k;
				if (*p == '|')
					p++;
			}
			snprintf(msg, msglen, "'%.64s' is not one of %s", v, values);
			return;
		}
		if (ranged && (x < min || x > max))
			snprintf(msg, msglen, "length %.0f is out of range [%g, %g]", x,
			    min, max);
		return;
	}
	if (ranged && (x < min || x > max))
		snprintf(msg, msglen, "%.64s is out of range [%g, %g]", v, min, max);
}

size_t
coffer_app_params_check(const json_t *decls, const char *const *keys,
    const char *const *values, size_t n,
    void (*fn)(void *arg, const char *name, const char *message), void *arg)
{
	const char *names[128];
	char msg[256];
	size_t errors = 0, nn = 0, i;
	json_t *d;

	json_array_foreach(decls, i, d)
		if (nn < sizeof(names) / sizeof(names[0]))
			names[nn++] = json_string_value(json_object_get(d, "name"));
	for (i = 0; i < n; i++) {
		const json_t *decl;

		if (coffer_app_param_reserved(keys[i])) {
			fn(arg, keys[i], "parameters starting with 'coffer.' are "
			    "reserved for the worker");
			errors++;
			continue;
		}
		if (decls == NULL)
			continue;
		if ((decl = find_decl(decls, keys[i])) == NULL) {
			const char *close = coffer_suggest(keys[i], names, nn);

			if (close != NULL)
				snprintf(msg, sizeof(msg), "unknown parameter (did you mean "
				    "'%s'?)", close);
			else if (nn == 0)
				snprintf(msg, sizeof(msg), "unknown parameter (the app takes "
				    "none)");
			else
				snprintf(msg, sizeof(msg), "unknown parameter");
			fn(arg, keys[i], msg);
			errors++;
			continue;
		}
		check_value(decl, values[i], msg, sizeof(msg));
		if (msg[0] != '\0') {
			fn(arg, keys[i], msg);
			errors++;
		}
	}
	json_array_foreach(decls, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		size_t k;

		if (!json_is_true(json_object_get(d, "required")))
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(keys[k], name) == 0)
				break;
		if (k == n) {
			fn(arg, name, "missing (the app requires it)");
			errors++;
		}
	}
	return errors;
}
