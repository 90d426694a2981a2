// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segv.h"

int
test_segv_stays_a_signal(void)
{
	const char *o = getenv("ASAN_OPTIONS");
	char b[1024];

	if (o != NULL && strstr(o, "handle_segv=0") != NULL)
		return 0;
	snprintf(b, sizeof(b), "%s%shandle_segv=0", o ? o : "", o && *o ? ":" : "");
	return setenv("ASAN_OPTIONS", b, 1);
}
