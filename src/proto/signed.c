// SPDX-License-Identifier: Apache-2.0
// Signed statements (doc/format/policy.md section 2.2). The signature is
// over the canonical form recomputed from the parsed value, never over
// the received text: member order and white space cannot matter, and a
// verifier needs no byte-exact copy of what the signer sent.
#include <string.h>

#include "coffer/error.h"
#include "crypto/jcs.h"
#include "crypto/sign.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "proto/jfield.h"
#include "proto/signed.h"

static const struct {
	const char *type, *label;
} labels[] = {
	{ "coffer-approval", "coffer/approval/v1" },
	{ "coffer-revocation", "coffer/revocation/v1" },
	{ "coffer-key-upload", "coffer/key-upload/v1" },
	{ "coffer-tree-head", "coffer/tree-head/v1" },
	{ "coffer-receipt", "coffer/receipt/v1" },
	{ "coffer-recovery-record", "coffer/recovery-record/v1" },
};

const char *
coffer_signed_label(const char *type)
{
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(type, labels[i].type) == 0)
			return labels[i].label;
	return NULL;
}

void
coffer_signed_init(struct coffer_signed *s)
{
	memset(s, 0, sizeof(*s));
	coffer_buf_init(&s->jcs, COFFER_SIGNED_RECEIPT_MAX);
}

void
coffer_signed_release(struct coffer_signed *s)
{
	json_decref(s->statement);
	s->statement = NULL;
	coffer_buf_release(&s->jcs);
}

int
coffer_signed_from_json(const json_t *env, const char *type,
    struct coffer_signed *out)
{
	static const char *const members[] = { "signature", "statement", NULL };
	struct coffer_signed s;
	json_t *st;
	int r;

	coffer_signed_init(&s);
	/* G1: exactly the two members. */
	if ((r = coffer_jfield_keys(env, "envelope", members, NULL)) != 0)
		goto out;
	/* G2: an object of the expected type. */
	st = json_object_get(env, "statement");
	if (!json_is_object(st)) {
		r = coffer_errf(COFFER_E_FORMAT, "statement: expected an object");
		goto out;
	}
	if ((r = coffer_jfield_type(st, "statement", type)) != 0)
		goto out;
	/* G3 */
	if ((r = coffer_jfield_hex(env, NULL, "signature", s.sig, 64)) != 0)
		goto out;
	/* G4: integers only, and canonicalizable. */
	if ((r = coffer_json_no_reals(st, "statement")) != 0 ||
	    (r = coffer_jcs_put(st, &s.jcs)) != 0)
		goto out;
	s.statement = json_incref(st);
	*out = s;
	return 0;
out:
	coffer_signed_release(&s);
	return r;
}

int
coffer_signed_parse(const char *text, size_t len, size_t max, const char *type,
    struct coffer_signed *out)
{
	json_t *env = NULL;
	int r;

	if ((r = coffer_json_parse(text, len, max, COFFER_JSON_MAX_DEPTH_DEFAULT,
	    &env)) != 0)
		return coffer_errctx(r, "%s envelope", type);
	r = coffer_signed_from_json(env, type, out);
	json_decref(env);
	return r;
}

int
coffer_signed_verify(const struct coffer_signed *s, const uint8_t pk[32])
{
	const char *type = json_string_value(json_object_get(s->statement, "type"));
	const char *label = type != NULL ? coffer_signed_label(type) : NULL;

	if (label == NULL)
		return coffer_errf(COFFER_E_INTERNAL, "statement without a label");
	/* G5 */
	if (coffer_sign_verify_labeled(pk, label, s->jcs.data, s->jcs.len, s->sig,
	    sizeof(s->sig)) != 0)
		return coffer_errf(COFFER_E_SIGNATURE, "the %s signature does not "
		    "verify under the signer's key", type);
	return 0;
}

int
coffer_signed_make(const json_t *statement, const uint8_t sk[32],
    struct coffer_buf *out)
{
	struct coffer_buf msg = COFFER_BUF_INIT(COFFER_SIGNED_RECEIPT_MAX);
	const char *type = json_string_value(json_object_get(statement, "type"));
	const char *label = type != NULL ? coffer_signed_label(type) : NULL;
	char sighex[129];
	uint8_t sig[64];
	size_t mark = out->len;
	int r;

	if (label == NULL)
		return coffer_errf(COFFER_E_INVAL, "statement type %s is not signed",
		    type ? type : "(none)");
	if ((r = coffer_jcs_put(statement, &msg)) != 0 ||
	    (r = coffer_sign_labeled(sk, label, msg.data, msg.len, sig)) != 0)
		goto out;
	coffer_hex_encode(sig, sizeof(sig), sighex);
	/* The envelope in canonical form: "signature" sorts before "statement". */
	if ((r = coffer_buf_puts(out, "{\"signature\":\"")) != 0 ||
	    (r = coffer_buf_puts(out, sighex)) != 0 ||
	    (r = coffer_buf_puts(out, "\",\"statement\":")) != 0 ||
	    (r = coffer_buf_put(out, msg.data, msg.len)) != 0 ||
	    (r = coffer_buf_puts(out, "}")) != 0)
		goto out;
out:
	if (r != 0 && out->len > mark) {
		out->len = mark;
		if (out->data != NULL)
			out->data[mark] = 0;
	}
	coffer_buf_release(&msg);
	return r;
}

int
coffer_signed_peek_policy(const char *text, size_t len, uint8_t out[32])
{
	json_t *env = NULL;
	int r;

	if ((r = coffer_json_parse(text, len, COFFER_SIGNED_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &env)) != 0)
		return r;
	r = coffer_jfield_hex(json_object_get(env, "statement"), "statement",
	    "policy", out, 32);
	json_decref(env);
	return r;
}
