// SPDX-License-Identifier: Apache-2.0
// The confidential pipeline steps (worker/confidential.h). Pass-through
// until the coordinator exists: no copy is made, the app reads the stored
// bytes and the output is stored as the app wrote it.
#include <string.h>

#include "worker/confidential.h"

void
conf_item_init(struct conf_item *ci, const char *job, const char *id,
    uint32_t attempt, size_t max)
{
	memset(ci, 0, sizeof(*ci));
	ci->job = job;
	ci->id = id;
	ci->attempt = attempt;
	coffer_buf_init_secret(&ci->scratch_in, max);
	coffer_buf_init_secret(&ci->scratch_out, max);
}

void
conf_item_release(struct conf_item *ci)
{
	coffer_buf_release(&ci->scratch_in);
	coffer_buf_release(&ci->scratch_out);
	ci->plain = ci->sealed = NULL;
	ci->plainlen = ci->sealedlen = 0;
}

int
conf_open_input(struct conf_item *ci, const struct coffer_buf *stored)
{
	ci->plain = stored->data ? stored->data : (const uint8_t *)"";
	ci->plainlen = stored->len;
	return 0;
}

int
conf_seal_output(struct conf_item *ci, const struct coffer_buf *plain)
{
	ci->sealed = plain->data ? plain->data : (const uint8_t *)"";
	ci->sealedlen = plain->len;
	return 0;
}

int
conf_report_proof(struct conf_item *ci)
{
	(void)ci;
	return 0;
}
