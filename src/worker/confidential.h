/* SPDX-License-Identifier: Apache-2.0 */
/* The confidential steps of the per-item pipeline (doc/worker.md section
 * 3): open the sealed input, seal the output, report the item's proof.
 * Today they pass plaintext through unchanged; the coordinator milestone
 * fills them in here, and nothing else in the pipeline has to change.
 * Apps only ever see what conf_open_input() produced. */
#ifndef COFFER_WORKER_CONFIDENTIAL_H
#define COFFER_WORKER_CONFIDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct conf_item {
	const char *job;
	const char *id;
	uint32_t attempt;
	const char *out_key;
	/* The data owner the input belongs to, or NULL (passed to the app,
	 * struct coffer_app_item.owner). Set by the caller before
	 * conf_open_input() from the worker's owner map (plaintext jobs,
	 * doc/worker.md 2.1). HOOK: in a confidential job conf_open_input()
	 * sets it from the policy, to the owner whose dataset lists this
	 * object (the one whose key opened it), whatever the map said. */
	const char *owner;
	/* What the app reads (set by conf_open_input). */
	const uint8_t *plain;
	size_t plainlen;
	/* What is stored as the output (set by conf_seal_output). */
	const uint8_t *sealed;
	size_t sealedlen;
	/* Storage the steps own (secret: wiped on release). */
	struct coffer_buf scratch_in;
	struct coffer_buf scratch_out;
};

void conf_item_init(struct conf_item *ci, const char *job, const char *id,
    uint32_t attempt, size_t max);
void conf_item_release(struct conf_item *ci);

/* stored: the input object as fetched. Later: verify and decrypt it with
 * the job's data key (COFFER_E_AUTH on tampering, never retried). */
int conf_open_input(struct conf_item *ci, const struct coffer_buf *stored)
	__attribute__((warn_unused_result));
/* plain: the app's output. Later: seal it to the job's output key. */
int conf_seal_output(struct conf_item *ci, const struct coffer_buf *plain)
	__attribute__((warn_unused_result));
/* Later: send the coordinator the item's proof (digests of the stored
 * input and output, attempt, worker identity) before the ack. */
int conf_report_proof(struct conf_item *ci)
	__attribute__((warn_unused_result));

#endif
