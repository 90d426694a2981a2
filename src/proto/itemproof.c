// SPDX-License-Identifier: Apache-2.0
// Item proofs and answers (doc/format/item-proof.md). Fixed offsets, one
// length check, one HMAC: this is verified 20,000 times a second, so it
// allocates nothing and touches no JSON.
#include <string.h>

#include <openssl/crypto.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "proto/itemproof.h"
#include "proto/jfield.h"

#define PROOF_LABEL "coffer/item-proof/v1" /* + its NUL: the 0x00 */
#define ACK_LABEL "coffer/item-ack/v1"
#define SALT_LABEL "coffer/output-salt/v1"
/* Section 9: 21 + 1 + 16 + 1 + 8 + 32 = 79 bytes. */
#define SALT_MSG_LEN (sizeof(SALT_LABEL) + 16 + 1 + 8 + 32)
#define PROOF_BODY 152
#define ACK_BODY 48

/* Section 2 offsets. */
enum {
	O_MAGIC = 0, O_VERSION = 4, O_STAGE = 5, O_RESULT = 6, O_RES1 = 7,
	O_JOB = 8, O_SESSION = 24, O_SEQ = 40, O_ITEM = 48, O_ATTEMPT = 56,
	O_IN = 72, O_OUT = 104, O_SIZE = 136, O_ERROR = 144, O_RES2 = 148,
	O_MAC = 152,
};

static const struct {
	uint16_t code;
	const char *name;
} reasons[] = {
	{ 1, "proof.bad_mac" },
	{ 2, "proof.job_mismatch" },
	{ 3, "proof.seq_reused" },
	{ 4, "job.closed" },
	{ 5, "stage.closed" },
	{ 6, "item.unknown" },
	{ 7, "input.mismatch" },
	{ 8, "coordinator.rolled_back" },
	{ 9, "policy.revoked" },
	{ 10, "policy.unapproved" },
	{ 11, "policy.superseded" },
	{ 12, "policy.expired" },
	{ 13, "measurement.revoked" },
	{ 14, "proof.malformed" },
};

const char *
coffer_itemproof_reason_name(uint16_t code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].name;
	return NULL;
}

uint16_t
coffer_itemproof_reason_code(const char *name)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].name, name) == 0)
			return reasons[i].code;
	return 0;
}

const char *
coffer_itemack_outcome_name(uint8_t outcome)
{
	static const char *const names[] = { NULL, "committed", "failure",
		"duplicate", "disagreement", "refused" };

	return outcome >= 1 && outcome <= 5 ? names[outcome] : NULL;
}

/* HMAC(h's key, label || 0x00 || body), streamed from h's keyed state:
 * after the final h is ready for the next message under the same key
 * (crypto/hash.h), so a batch's proofs and answers key it once. */
static int
mac_with(struct coffer_hmac *h, const char *label, const uint8_t *body,
    size_t n, uint8_t out[32])
{
	int r;

	if ((r = coffer_hmac_update(h, label, strlen(label) + 1)) == 0 &&
	    (r = coffer_hmac_update(h, body, n)) == 0)
		r = coffer_hmac_final(h, out);
	return r;
}

/* This thread's context keyed with key, for one MAC (crypto/hash.h). */
static int
keyed(const uint8_t key[32], struct coffer_hmac **h)
{
	if ((*h = coffer_hmac_thread()) == NULL)
		return coffer_errf(COFFER_E_CRYPTO, "no HMAC context");
	return coffer_hmac_key(*h, key, 32);
}

/* IP4 to IP7 over a decoded proof. */
static int
check_fields(const struct coffer_itemproof *p, int err)
{
	if (p->stage > COFFER_STAGE_REDUCE)
		return coffer_errf(err, "item proof: stage %u (IP4)", p->stage);
	if (p->result != COFFER_RESULT_OK && p->result != COFFER_RESULT_FAILED)
		return coffer_errf(err, "item proof: result %u (IP4)", p->result);
	if (p->result == COFFER_RESULT_OK && p->error != 0)
		return coffer_errf(err, "item proof: OK with error %u (IP6)", p->error);
	if (p->result == COFFER_RESULT_FAILED &&
	    (!coffer_jfield_all_zero(p->output_digest, 32) || p->output_size != 0 || p->error == 0))
		return coffer_errf(err, "item proof: FAILED needs a zero output and a "
		    "non-zero error (IP6)");
	if (p->stage == COFFER_STAGE_REDUCE && p->item != 0)
		return coffer_errf(err, "item proof: reduce item %llu (IP7)",
		    (unsigned long long)p->item);
	return 0;
}

int
coffer_itemproof_encode(struct coffer_itemproof *p, const uint8_t key[32],
    uint8_t out[COFFER_ITEMPROOF_LEN])
{
	struct coffer_hmac *h;
	int r;

	if ((r = keyed(key, &h)) != 0)
		return r;
	return coffer_itemproof_encode_with(p, h, out);
}

int
coffer_itemproof_encode_with(struct coffer_itemproof *p, struct coffer_hmac *h,
    uint8_t out[COFFER_ITEMPROOF_LEN])
{
	uint8_t b[COFFER_ITEMPROOF_LEN];
	int r;

	if ((r = check_fields(p, COFFER_E_INVAL)) != 0)
		return r;
	memset(b, 0, sizeof(b));
	memcpy(b + O_MAGIC, "CFIP", 4);
	b[O_VERSION] = 1;
	b[O_STAGE] = p->stage;
	b[O_RESULT] = p->result;
	memcpy(b + O_JOB, p->job, 16);
	memcpy(b + O_SESSION, p->session, 16);
	coffer_store_u64be(b + O_SEQ, p->seq);
	coffer_store_u64be(b + O_ITEM, p->item);
	memcpy(b + O_ATTEMPT, p->attempt, 16);
	memcpy(b + O_IN, p->input_digest, 32);
	memcpy(b + O_OUT, p->output_digest, 32);
	coffer_store_u64be(b + O_SIZE, p->output_size);
	coffer_store_u32be(b + O_ERROR, p->error);
	if ((r = mac_with(h, PROOF_LABEL, b, PROOF_BODY, b + O_MAC)) != 0)
		return r;
	memcpy(p->mac, b + O_MAC, 32);
	memcpy(out, b, sizeof(b));
	return 0;
}

int
coffer_itemproof_parse(const uint8_t *b, size_t n, struct coffer_itemproof *out)
{
	struct coffer_itemproof p;
	int r;

	/* IP1 to IP3 */
	if (n < COFFER_ITEMPROOF_LEN)
		return coffer_errf(COFFER_E_TRUNCATED, "item proof of %zu bytes, "
		    "expected 184 (IP1)", n);
	if (n > COFFER_ITEMPROOF_LEN)
		return coffer_errf(COFFER_E_FORMAT, "item proof of %zu bytes, expected "
		    "184 (IP1)", n);
	if (memcmp(b + O_MAGIC, "CFIP", 4) != 0)
		return coffer_errf(COFFER_E_FORMAT, "not an item proof (IP2)");
	if (b[O_VERSION] != 1)
		return coffer_errf(COFFER_E_VERSION, "item proof version %u (IP3)",
		    b[O_VERSION]);
	memset(&p, 0, sizeof(p));
	p.stage = b[O_STAGE];
	p.result = b[O_RESULT];
	memcpy(p.job, b + O_JOB, 16);
	memcpy(p.session, b + O_SESSION, 16);
	p.seq = coffer_load_u64be(b + O_SEQ);
	p.item = coffer_load_u64be(b + O_ITEM);
	memcpy(p.attempt, b + O_ATTEMPT, 16);
	memcpy(p.input_digest, b + O_IN, 32);
	memcpy(p.output_digest, b + O_OUT, 32);
	p.output_size = coffer_load_u64be(b + O_SIZE);
	p.error = coffer_load_u32be(b + O_ERROR);
	memcpy(p.mac, b + O_MAC, 32);
	/* IP4 */
	if (p.stage > COFFER_STAGE_REDUCE ||
	    (p.result != COFFER_RESULT_OK && p.result != COFFER_RESULT_FAILED))
		return check_fields(&p, COFFER_E_FORMAT);
	/* IP5 */
	if (b[O_RES1] != 0 || coffer_load_u32be(b + O_RES2) != 0)
		return coffer_errf(COFFER_E_FORMAT, "item proof: a reserved field is "
		    "not zero (IP5)");
	/* IP6, IP7 */
	if ((r = check_fields(&p, COFFER_E_FORMAT)) != 0)
		return r;
	*out = p;
	return 0;
}

int
coffer_itemproof_verify_mac_with(const uint8_t b[COFFER_ITEMPROOF_LEN],
    struct coffer_hmac *h)
{
	uint8_t m[32];
	int r;

	if ((r = mac_with(h, PROOF_LABEL, b, PROOF_BODY, m)) != 0)
		return r;
	if (CRYPTO_memcmp(m, b + O_MAC, 32) != 0)
		return coffer_errf(COFFER_E_AUTH, "item proof: the MAC does not verify "
		    "under the session key (IP8)");
	return 0;
}

int
coffer_itemproof_verify_mac(const uint8_t b[COFFER_ITEMPROOF_LEN],
    const uint8_t key[32])
{
	struct coffer_hmac *h;
	int r;

	if ((r = keyed(key, &h)) != 0)
		return r;
	return coffer_itemproof_verify_mac_with(b, h);
}

static int
ack_ok(uint8_t outcome, uint16_t reason)
{
	if (outcome < COFFER_ACK_COMMITTED || outcome > COFFER_ACK_REFUSED)
		return 0;
	if (outcome == COFFER_ACK_REFUSED)
		return coffer_itemproof_reason_name(reason) != NULL;
	return reason == 0;
}

int
coffer_itemack_encode_with(const struct coffer_itemack *a, struct coffer_hmac *h,
    uint8_t out[COFFER_ITEMACK_LEN])
{
	uint8_t b[COFFER_ITEMACK_LEN];
	int r;

	if (!ack_ok(a->outcome, a->reason))
		return coffer_errf(COFFER_E_INVAL, "answer: outcome %u with reason %u",
		    a->outcome, a->reason);
	memcpy(b, "CFIA", 4);
	b[4] = 1;
	b[5] = a->outcome;
	b[6] = (uint8_t)(a->reason >> 8);
	b[7] = (uint8_t)a->reason;
	coffer_store_u64be(b + 8, a->log_index);
	memcpy(b + 16, a->proof_mac, 32);
	if ((r = mac_with(h, ACK_LABEL, b, ACK_BODY, b + ACK_BODY)) != 0)
		return r;
	memcpy(out, b, sizeof(b));
	return 0;
}

int
coffer_itemack_encode(const struct coffer_itemack *a, const uint8_t key[32],
    uint8_t out[COFFER_ITEMACK_LEN])
{
	struct coffer_hmac *h;
	int r;

	if ((r = keyed(key, &h)) != 0)
		return r;
	return coffer_itemack_encode_with(a, h, out);
}

int
coffer_itemack_open(const uint8_t *b, size_t n, const uint8_t key[32],
    struct coffer_itemack *out)
{
	struct coffer_hmac *h;
	int r;

	if ((r = keyed(key, &h)) != 0)
		return r;
	return coffer_itemack_open_with(b, n, h, out);
}

int
coffer_itemack_open_with(const uint8_t *b, size_t n, struct coffer_hmac *h,
    struct coffer_itemack *out)
{
	struct coffer_itemack a;
	uint8_t m[32];
	int r;

	if (n < COFFER_ITEMACK_LEN)
		return coffer_errf(COFFER_E_TRUNCATED, "answer of %zu bytes, expected 80", n);
	if (n > COFFER_ITEMACK_LEN || memcmp(b, "CFIA", 4) != 0 || b[4] != 1)
		return coffer_errf(COFFER_E_FORMAT, "not a version 1 item proof answer");
	a.outcome = b[5];
	a.reason = (uint16_t)(b[6] << 8 | b[7]);
	a.log_index = coffer_load_u64be(b + 8);
	memcpy(a.proof_mac, b + 16, 32);
	if (!ack_ok(a.outcome, a.reason))
		return coffer_errf(COFFER_E_FORMAT, "answer: outcome %u with reason %u",
		    a.outcome, a.reason);
	if ((r = mac_with(h, ACK_LABEL, b, ACK_BODY, m)) != 0)
		return r;
	if (CRYPTO_memcmp(m, b + ACK_BODY, 32) != 0)
		return coffer_errf(COFFER_E_AUTH, "answer: the MAC does not verify under "
		    "the session key");
	*out = a;
	return 0;
}

/* Section 9: the salt's message, the label with its NUL, then the item
 * and its output. */
static void
salt_message(const uint8_t job[16], uint8_t stage, uint64_t item,
    const uint8_t pt_digest[32], uint8_t m[SALT_MSG_LEN])
{
	uint8_t *p = m;

	memcpy(p, SALT_LABEL, sizeof(SALT_LABEL));
	p += sizeof(SALT_LABEL);
	memcpy(p, job, 16);
	p += 16;
	*p++ = stage;
	coffer_store_u64be(p, item);
	p += 8;
	memcpy(p, pt_digest, 32);
}

int
coffer_itemproof_output_salt(const uint8_t key[32], const uint8_t job[16],
    uint8_t stage, uint64_t item, const uint8_t pt_digest[32], uint8_t salt[32])
{
	uint8_t m[SALT_MSG_LEN];

	salt_message(job, stage, item, pt_digest, m);
	return coffer_hmac_sha256(key, 32, m, sizeof(m), salt);
}

int
coffer_itemproof_output_salt_with(struct coffer_hmac *keyed,
    const uint8_t job[16], uint8_t stage, uint64_t item,
    const uint8_t pt_digest[32], uint8_t salt[32])
{
	uint8_t m[SALT_MSG_LEN];
	int r;

	salt_message(job, stage, item, pt_digest, m);
	/* The next message under the key set once (crypto/hash.h). */
	if ((r = coffer_hmac_update(keyed, m, sizeof(m))) != 0 ||
	    (r = coffer_hmac_final(keyed, salt)) != 0)
		return r;
	return 0;
}
