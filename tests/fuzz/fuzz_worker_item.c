// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: coffer-worker's item pipeline (src/worker/item.c) on
// hostile input: the item id (from Redis) and the input object (from the
// store) come from the fuzzer, as "<id>\0<object>". An in-memory store and
// an app that echoes its input. Whatever they hold, the pipeline settles
// the item one way, says why unless it succeeded, and stores an output
// only for an item it acknowledges, with exactly what the app wrote.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "worker/app.h"
#include "worker/worker.h"
#include "../support/fake_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
echo(void *state, const struct coffer_app_item *item, const uint8_t *in,
    size_t inlen, struct coffer_app_writer *out, char *err, size_t errlen)
{
	(void)state;
	(void)item;
	(void)err;
	(void)errlen;
	return out->write(out, in, inlen);
}

static struct coffer_app app_def = {
	.size = sizeof(struct coffer_app),
	.abi_version = COFFER_APP_ABI_VERSION,
	.name = "echo",
	.version = "1",
	.process = echo,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct worker_config cfg;
	struct worker w;
	struct coffer_store *st = NULL, *ost = NULL;
	struct fake_store *fs = NULL, *ofs = NULL;
	struct coffer_queue_item it;
	struct item_result res;
	struct coffer_buf got = COFFER_BUF_INIT(1024);
	const uint8_t *nul = memchr(data, 0, size);
	char *id, key[1100];
	size_t idlen = nul ? (size_t)(nul - data) : size;
	const uint8_t *obj = nul ? nul + 1 : (const uint8_t *)"";
	size_t objlen = nul ? size - idlen - 1 : 0;

	if ((id = malloc(idlen + 1)) == NULL)
		return 0;
	memcpy(id, data, idlen);
	id[idlen] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	memset(&w, 0, sizeof(w));
	cfg.job = (char *)"fuzz";
	cfg.app_kind = APP_KIND_PLUGIN;
	cfg.max_item_bytes = 1024;
	cfg.allow_empty_output = size & 1;
	if (fake_store_new(&st, &fs) != 0 || fake_store_new(&ost, &ofs) != 0 ||
	    app_open_def(&cfg, &app_def, &w.app, NULL) != 0)
		abort();
	w.cfg = &cfg;
	w.in = st;
	w.out = ost;
	w.prefix = "out/";
	worker_bufs_init(&w, cfg.max_item_bytes);
	if (idlen > 0 && strlen(id) == idlen)
		fake_store_set(fs, id, obj, objlen);
	it.id = id;
	it.attempt = 1;
	(void)worker_item_run(&w, &it, &res);
	if (res.outcome != ITEM_ACK && res.outcome != ITEM_FAIL &&
	    res.outcome != ITEM_BURY)
		abort();
	if ((res.outcome == ITEM_ACK) != (res.err[0] == '\0'))
		abort();
	if (fake_store_count(ofs, "") != (res.outcome == ITEM_ACK))
		abort();
	if (res.outcome == ITEM_ACK) {
		snprintf(key, sizeof(key), "out/%s", id);
		if (coffer_store_get(ost, key, 1024, &got) != 0 || got.len != objlen ||
		    (objlen > 0 && memcmp(got.data, obj, objlen) != 0))
			abort();
	}
	coffer_buf_release(&got);
	worker_bufs_release(&w);
	app_close(w.app);
	coffer_store_free(st);
	coffer_store_free(ost);
	free(id);
	return 0;
}
