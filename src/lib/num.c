// SPDX-License-Identifier: Apache-2.0
// Checked decimal integers (num.h). strtoll alone accepts leading spaces,
// a '+', and stops at the first bad character; every caller used to check
// the end pointer, errno and the range by hand, each a little differently.
#include <errno.h>
#include <stdlib.h>

#include "coffer/error.h"
#include "lib/num.h"

int
coffer_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	const char *p = s;
	char *end = NULL;
	long long v;

	if (s == NULL)
		return coffer_errf(COFFER_E_FORMAT, "missing integer");
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		goto bad;
	*out = (int64_t)v;
	return 0;
bad:
	return coffer_errf(COFFER_E_FORMAT, "'%.64s' is not an integer in [%lld, %lld]",
	    s, (long long)min, (long long)max);
}

int
coffer_parse_int(const char *s, int min, int max, int *out)
{
	int64_t v;
	int r;

	if ((r = coffer_parse_i64(s, min, max, &v)) != 0)
		return r;
	*out = (int)v;
	return 0;
}
