// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: what the worker reads from the network and from the
// plugin host, none of which it trusts before checking (src/worker/coord.c,
// apphost.c): the coordinator's nonce answer (its identity, evidence and
// policy text, key-release.md 6.2) and that policy text, the standby
// nonce answer and the bind answer (6.7.2, 6.7.6), a refusal's
// error object, the answers to a batch of proofs (WA1), and the host's
// DONE frame (its output in the frame or in a shared region) and its
// BATCH_DONE frame (doc/worker.md 9.5, BD1 to BD6). The first
// byte picks the reader and the HTTP status (for the DONE frame: whether
// there is a region); the rest is the body. A proof answer is believed
// only if it verifies under the session key, which the fuzzer does not
// have.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "worker/app.h"
#include "proto/receipt.h"
#include "worker/coord.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct canned {
	const uint8_t *p;
	size_t n;
	int status;
};

static int
canned_request(void *arg, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, size_t max, int *status,
    struct coffer_buf *reply)
{
	struct canned *c = arg;

	(void)method;
	(void)path;
	(void)ctype;
	(void)body;
	(void)len;
	if (c->n > max)
		return coffer_errf(COFFER_E_LIMIT, "canned answer over the limit");
	*status = c->status;
	return coffer_buf_put(reply, c->n ? c->p : (const uint8_t *)"", c->n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = { 1 };
	static uint8_t proofs[2][COFFER_ITEMPROOF_LEN];
	struct canned c;
	struct coord_transport t = { canned_request, &c };
	struct coffer_itemack acks[2];
	int ok[2];

	if (size < 1)
		return 0;
	c.p = data + 1;
	c.n = size - 1;
	c.status = data[0] & 0x80 ? 403 : 200;
	switch (data[0] & 0x7f) {
	case 0: {
		struct coord_hello h;
		struct measured_config mc;
		uint8_t job[16] = { 0 };

		/* The nonce answer (key-release.md 6.2); its evidence can
		 * never verify: the measured configuration names no key. */
		memset(&mc, 0, sizeof(mc));
		mc.coord.tee = COFFER_TEE_SIM;
		if (coord_hello(&t, job, &mc, NULL, NULL, 0, &h) == 0)
			abort();
		break;
	}
	case 5: {
		struct coord_hello h;
		struct measured_config mc;

		/* The standby nonce answer (key-release.md 6.7.2): the same
		 * head without policy_len, nothing after its LF; its evidence
		 * can never verify either. */
		memset(&mc, 0, sizeof(mc));
		mc.coord.tee = COFFER_TEE_SIM;
		if (coord_standby_hello(&t, &mc, NULL, NULL, 0, &h) == 0)
			abort();
		break;
	}
	case 6: {
		struct coffer_release_payload pl;
		struct coffer_buf pol = COFFER_BUF_INIT((size_t)1 << 20);
		static const uint8_t s[COFFER_STANDBY_SECRET_LEN] = { 2 };
		uint8_t job[16] = { 0 }, id[16] = { 0 };

		/* The bind answer (6.7.6): its payload is sealed under S_box,
		 * which the fuzzer does not have (WB2). */
		memset(&pl, 0, sizeof(pl));
		if (coord_bind(&t, job, id, s, &pl, &pol) == 0)
			abort();
		coffer_buf_release(&pol);
		break;
	}
	case 1: {
		/* Two proofs, two answers at most; none may verify. */
		memset(ok, 0, sizeof(ok));
		if (coord_send_proofs(&t, key, (const uint8_t (*)[COFFER_ITEMPROOF_LEN])
		    proofs, 2, key, acks, ok) == 0 && (ok[0] || ok[1]))
			abort();
		break;
	}
	case 2: {
		int32_t status;
		const uint8_t *msg, *out;
		uint32_t nmsg, nout;
		int in_fd;

		/* With and without a shared region (halves of 4 KiB) and a
		 * passed descriptor (with the region): an output in the
		 * region is never larger than its half, one in the descriptor
		 * always larger and only with status 0 (doc/worker.md 9.5
		 * HF1), and nothing may follow either in the frame. */
		size_t half = data[0] & 0x80 ? 4096 : 0;

		if (apphost_parse_done(c.p, c.n, half, half > 0, &status, &msg,
		    &nmsg, &out, &nout, &in_fd) == 0 && (status > 0 || nmsg > 1024 ||
		    (out != NULL && (in_fd || (size_t)(out - c.p) + nout != c.n)) ||
		    (out == NULL && (half == 0 || (in_fd ? nout <= half || status != 0 :
		    nout > half) || (size_t)(msg - c.p) + nmsg + 8 != c.n))))
			abort();
		break;
	}
	case 4: {
		struct apphost_answer a[APPHOST_BATCH_MAX];
		size_t got, asked = (data[0] & 0x80) ? 3 : APPHOST_BATCH_MAX;
		uint64_t end = 0;

		/* BATCH_DONE to a BATCH of 3 or 32 items, halves of 4 KiB,
		 * items of at most 8 KiB (doc/worker.md 9.5, BD1 to BD6):
		 * what it accepts has answers in range, region outputs back to
		 * back inside the half, at most one output in the frame and
		 * last, and ends exactly at the frame's end. */
		if (apphost_parse_batch_done(c.p, c.n, asked, 4096, 8192, a, &got) != 0)
			break;
		if (got == 0 || got > asked)
			abort();
		for (size_t k = 0; k < got; k++) {
			if (a[k].status > 0 || a[k].nmsg > 1024 || (a[k].status < 0 &&
			    (a[k].len != 0 || a[k].off != 0)))
				abort();
			/* A failure has no output (HB2): not one of the outputs. */
			if (a[k].status < 0) {
				if (a[k].data != NULL)
					abort();
				continue;
			}
			if (a[k].off == 0xffffffffu) {
				if (k + 1 != got || a[k].len > 8192 || a[k].data == NULL ||
				    (size_t)(a[k].data - c.p) + a[k].len != c.n)
					abort();
				continue;
			}
			if (a[k].data != NULL || a[k].off != end || end + a[k].len > 4096)
				abort();
			end += a[k].len;
		}
		if (got < asked && a[got - 1].off != 0xffffffffu)
			abort();
		break;
	}
	case 3: {
		struct coffer_result_entry *e = NULL;
		uint8_t root[32], job[16] = { 0 };

		/* The map results for a reduce stage of four items: exactly
		 * four entries, each the map result of its index. */
		if (coord_map_leaves(&t, job, 0, 4, &e, root) == 0) {
			for (size_t i = 0; i < 4; i++)
				if (e[i].stage != 0 || e[i].index != i)
					abort();
			free(e);
		}
		break;
	}
	default: {
		struct coord_hello h;
		struct coffer_policy *p = NULL;
		uint8_t hh[32] = { 0 };

		/* A policy text (the nonce answer's) for a hash it cannot
		 * have (W5). */
		memset(&h, 0, sizeof(h));
		h.policy.data = (uint8_t *)c.p;
		h.policy.len = c.n;
		if (coord_policy_check(&h, hh, "a", &p) == 0)
			abort();
		break;
	}
	}
	return 0;
}
