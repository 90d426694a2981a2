// SPDX-License-Identifier: Apache-2.0
// Key release (doc/protocol/key-release.md), the worker's side: it makes
// the release request (section 6.4) and opens the answer (section 6.5,
// rules W1 to W4).
#include <string.h>

#include "coffer/error.h"
#include "crypto/box.h"
#include "crypto/dh.h"
#include "crypto/jcs.h"
#include "crypto/wrap.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/jfield.h"
#include "proto/keyrelease.h"
#include "proto/keyrelease_int.h"

/* ---- Release request ---- */

int
coffer_release_request_make(const uint8_t job[16], const uint8_t nonce[32],
    const uint8_t w_pk[32], const uint8_t *evidence, size_t evlen,
    struct coffer_buf *out)
{
	struct coffer_buf ev = COFFER_BUF_INIT(2 * COFFER_RELEASE_EVIDENCE_MAX);
	char jh[33], nh[65], ph[65];
	json_t *o;
	int r;

	if (evlen == 0 || evlen > COFFER_RELEASE_EVIDENCE_MAX)
		return coffer_errf(COFFER_E_INVAL, "evidence of %zu bytes", evlen);
	if ((r = coffer_b64url_put(&ev, evidence, evlen)) != 0)
		goto out;
	coffer_hex_encode(job, 16, jh);
	coffer_hex_encode(nonce, 32, nh);
	coffer_hex_encode(w_pk, 32, ph);
	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "type",
	    "coffer-release-request", "version", 1, "job", jh, "nonce", nh,
	    "worker_pk", ph, "evidence", coffer_buf_str(&ev));
	if (o == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	r = coffer_jcs_put(o, out);
	json_decref(o);
out:
	coffer_buf_release(&ev);
	return r;
}

/* ---- Release answer ---- */

/* W4: the payload's members (also the bind answer's, standby_worker.c). */
int
keyrelease_parse_payload(json_t *o, struct coffer_release_payload *p)
{
	static const char *const members[] = { "type", "version", "job", "policy",
		"app", "app_sha256", "reduce", "session", "session_key", "keys",
		"output_key", "params", "limits", "app_secret", NULL };
	static const char *const optional[] = { "intermediate_key", NULL };
	static const char *const kmembers[] = { "key_id", "key", NULL };
	char kp[COFFER_JFIELD_PATH_MAX];
	const char *app, *k;
	json_t *keys, *e, *v;
	size_t i;
	int r;

	if ((r = coffer_jfield_keys(o, "payload", members, optional)) != 0 ||
	    (r = coffer_jfield_type(o, "payload", "coffer-release-payload")) != 0 ||
	    (r = coffer_jfield_version(o, "payload")) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "job", p->job, 16)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "policy", p->policy, 32)) != 0 ||
	    (r = coffer_jfield_str(o, "payload", "app", 1, COFFER_POLICY_NAME_MAX,
	    COFFER_JFIELD_LOWER_NAME, &app)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "app_sha256", p->app_sha256, 32)) != 0 ||
	    (r = coffer_jfield_bool(o, "payload", "reduce", &p->reduce)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "session", p->session, 16)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "session_key", p->session_key,
	    32)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "output_key", p->output_key, 32)) != 0 ||
	    (r = coffer_jfield_hex(o, "payload", "app_secret", p->app_secret, 32)) != 0)
		return r;
	memcpy(p->app, app, strlen(app) + 1);
	if (p->reduce != (json_object_get(o, "intermediate_key") != NULL))
		return coffer_errf(COFFER_E_FORMAT, "payload.intermediate_key: present "
		    "exactly when the job has a reduce stage");
	if (p->reduce && (r = coffer_jfield_hex(o, "payload", "intermediate_key",
	    p->intermediate_key, 32)) != 0)
		return r;
	keys = json_object_get(o, "keys");
	if (!json_is_array(keys) || json_array_size(keys) < 1 ||
	    json_array_size(keys) > 4096)
		return coffer_errf(COFFER_E_FORMAT, "payload.keys: expected 1 to 4096 keys");
	p->keys = coffer_calloc(json_array_size(keys), sizeof(*p->keys));
	if (p->keys == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	json_array_foreach(keys, i, e) {
		coffer_jfield_index(kp, "payload.keys", i);
		if ((r = coffer_jfield_keys(e, kp, kmembers, NULL)) != 0 ||
		    (r = coffer_jfield_hex(e, kp, "key_id", p->keys[i].key_id, 16)) != 0 ||
		    (r = coffer_jfield_hex(e, kp, "key", p->keys[i].key, 32)) != 0)
			return r;
		p->nkeys++;
		for (size_t j = 0; j < i; j++)
			if (memcmp(p->keys[j].key_id, p->keys[i].key_id, 16) == 0)
				return coffer_errf(COFFER_E_FORMAT, "%s: a key id given twice", kp);
	}
	p->params = json_incref(json_object_get(o, "params"));
	p->limits = json_incref(json_object_get(o, "limits"));
	if (!json_is_object(p->params) || !json_is_object(p->limits))
		return coffer_errf(COFFER_E_FORMAT, "payload: params and limits are "
		    "objects");
	json_object_foreach(p->params, k, v)
		if (!json_is_string(v))
			return coffer_errf(COFFER_E_FORMAT, "payload.params.%s: expected a "
			    "string", k);
	json_object_foreach(p->limits, k, v)
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return coffer_errf(COFFER_E_FORMAT, "payload.limits.%s: expected an "
			    "integer", k);
	return 0;
}

int
coffer_release_answer_open(const char *text, size_t len, const uint8_t job[16],
    const uint8_t nonce[32], const uint8_t w_sk[32], const uint8_t coord_kx_pk[32],
    struct coffer_release_payload *out)
{
	static const char *const members[] = { "type", "version", "job", "session",
		"key", "payload", NULL };
	struct coffer_release_payload p;
	struct coffer_buf wrapped = COFFER_BUF_INIT(256);
	struct coffer_buf boxed = COFFER_BUF_INIT(2 * COFFER_RELEASE_PAYLOAD_MAX);
	struct coffer_buf K = COFFER_BUF_INIT_SECRET(64);
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(COFFER_RELEASE_PAYLOAD_MAX);
	uint8_t aj[16], as[16], w_pk[32], info[128];
	json_t *root = NULL, *po = NULL;
	size_t infolen;
	int r;

	memset(&p, 0, sizeof(p));
	/* W1 */
	if ((r = coffer_json_parse(text, len, 3 * COFFER_RELEASE_PAYLOAD_MAX,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &root)) != 0 ||
	    (r = coffer_jfield_keys(root, "answer", members, NULL)) != 0 ||
	    (r = coffer_jfield_type(root, "answer", "coffer-release")) != 0 ||
	    (r = coffer_jfield_version(root, "answer")) != 0 ||
	    (r = coffer_jfield_hex(root, "answer", "job", aj, 16)) != 0 ||
	    (r = coffer_jfield_hex(root, "answer", "session", as, 16)) != 0 ||
	    (r = coffer_jfield_blob(root, "answer", "key", 256, &wrapped)) != 0 ||
	    (r = coffer_jfield_blob(root, "answer", "payload",
	    2 * COFFER_RELEASE_PAYLOAD_MAX, &boxed)) != 0)
		goto out;
	if (memcmp(aj, job, 16) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "answer.job: not the job asked for");
		goto out;
	}
	if ((r = coffer_dh_public(w_sk, w_pk)) != 0)
		goto out;
	infolen = keyrelease_release_info(info, job, nonce, w_pk);
	/* W2: from the pinned coordinator (auth mode), for this job, nonce
	 * and key. */
	if ((r = coffer_unwrap(w_sk, coord_kx_pk, info, infolen, NULL, 0,
	    wrapped.data, wrapped.len, &K)) != 0 || K.len != 32) {
		r = coffer_errf(COFFER_E_AUTH, "answer.key: does not open as the "
		    "pinned coordinator's answer to this request");
		goto out;
	}
	/* W3 */
	if ((r = coffer_box_open(K.data, info, infolen, boxed.data, boxed.len,
	    &pt)) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "answer.payload: does not open under the "
		    "answer key");
		goto out;
	}
	/* W4 */
	if ((r = coffer_json_parse((const char *)pt.data, pt.len,
	    COFFER_RELEASE_PAYLOAD_MAX, COFFER_JSON_MAX_DEPTH_DEFAULT, &po)) != 0 ||
	    (r = keyrelease_parse_payload(po, &p)) != 0)
		goto out;
	if (memcmp(p.job, job, 16) != 0 || memcmp(p.session, as, 16) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "payload: another job or session than "
		    "the answer's");
		goto out;
	}
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	coffer_release_payload_clear(&p);
	if (po != NULL)
		keyrelease_wipe_payload_json(po);
	json_decref(po);
	json_decref(root);
	coffer_buf_release(&wrapped);
	coffer_buf_release(&boxed);
	coffer_buf_release_secret(&K);
	coffer_buf_release_secret(&pt);
	return r != 0 ? coffer_errctx(r, "release answer") : 0;
}
