// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: what evidence needs fetched (coffer_tee_evidence_platform,
// src/tee/platform.c; doc/protocol/collateral.md section 1), on hostile
// evidence in every form it takes: envelope, hex, quote, report, sim. The
// first byte picks the AMD product given (none, Milan, Genoa, Turin).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const products[] = { NULL, "Milan", "Genoa", "Turin" };
	static int init;
	struct coffer_tee_platform pl;

	if (!init) {
		coffer_log_setup("fuzz", COFFER_LOG_OFF, COFFER_LOG_HUMAN, NULL);
		init = 1;
	}
	if (size < 1)
		return 0;
	if (coffer_tee_evidence_platform(data + 1, size - 1, products[data[0] % 4],
	    &pl) == 0) {
		if (pl.tee == COFFER_TEE_SEV_SNP && strcmp(pl.product, "Milan") != 0 &&
		    strcmp(pl.product, "Genoa") != 0 && strcmp(pl.product, "Turin") != 0)
			abort();
		if (pl.tee == COFFER_TEE_UNKNOWN)
			abort();
	}
	return 0;
}
