// SPDX-License-Identifier: Apache-2.0
// Safe values for the daemons' JSON output (jsonout.h). Every number and
// every free-text string the API shows goes through these: a job whose
// estimates overflowed, or whose reason was cut inside a character, must
// still be listed and shown (doc/api.md section 1).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/utf8.h"
#include "http/jsonout.h"

json_t *
http_json_real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *
http_json_real_or_null(double v)
{
	return isfinite(v) && v >= 0 ? json_real(v) : json_null();
}

json_t *
http_json_str(const char *s)
{
	json_t *j;
	char *c;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	if ((c = coffer_strdup(s)) == NULL)
		return NULL;
	coffer_utf8_sanitize(c);
	j = json_string(c);
	free(c);
	return j;
}
