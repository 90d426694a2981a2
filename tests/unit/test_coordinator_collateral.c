// SPDX-License-Identifier: Apache-2.0
// The coordinator's collateral cache (src/coordinator/collcache.c,
// doc/protocol/collateral.md section 3): the statuses (added, unchanged,
// replaced, older)
// and newest-per-slot, refusals C4 to C7 that keep nothing, and the cache
// read back from the state by a new coordinator, with which a recorded
// SGX quote verifies at its time: offline, nothing fetched.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../support/pcsfiles.h"
#include "../support/tmpdir.h"
#include "../support/vectors.h"
#include "coffer/error.h"
#include "coordinator/audit.h"
#include "coordinator/collcache.h"
#include "coordinator/coord.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/log.h"
#include "proto/collpush.h"

static char dir[64];
/* The state is sealed (sealvfs.h); its key and id, fixed here. */
static const uint8_t skey[32] = { 7 }, sid[16] = { 8 };

static int
setup(void **state)
{
	(void)state;
	coffer_log_setup("test", COFFER_LOG_OFF, COFFER_LOG_HUMAN, NULL);
	return test_tmpdir("coll-test", dir, sizeof(dir));
}

static int
teardown(void **state)
{
	(void)state;
	return test_rm_rf(dir);
}

/* What collcache needs of a coordinator: its state, roots and collateral
 * object, loaded as coord_open loads them. */
static struct coord *
coord_new(void)
{
	struct coord *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(coord_state_open(dir, skey, sid, &c->st), 0);
	assert_int_equal(coffer_tee_anchors_new_default(&c->anchors), 0);
	assert_int_equal(coffer_tee_collateral_new(c->anchors, &c->collateral), 0);
	assert_int_equal(coord_coll_load(c), 0);
	return c;
}

static void
coord_free(struct coord *c)
{
	coffer_tee_collateral_free(c->collateral);
	coffer_tee_anchors_free(c->anchors);
	coord_state_close(c->st);
	free(c);
}

/* A push body of (name, bytes, length) triples, NULL-name terminated. */
struct f {
	const char *name;
	const void *data;
	size_t len;
};

/* Push through the body the CLI makes and the coordinator parses (src/
 * proto/collpush.c); returns the error (0: *answer set), *reason the
 * refusal name. */
static int
push(struct coord *c, const struct f *fs, const char **reason, json_t **answer)
{
	struct coffer_collpush out = { NULL, 0 }, in = { NULL, 0 };
	struct coffer_buf body = COFFER_BUF_INIT((size_t)8 << 20);
	int r;

	*answer = NULL;
	for (size_t i = 0; fs[i].name != NULL; i++)
		assert_int_equal(coffer_collpush_add(&out, fs[i].name, fs[i].data,
		    fs[i].len), 0);
	assert_int_equal(coffer_collpush_make(&out, &body), 0);
	assert_int_equal(coffer_collpush_parse((const char *)body.data, body.len, &in), 0);
	r = coord_coll_apply(c, &in, reason, answer);
	coffer_collpush_release(&in);
	coffer_collpush_release(&out);
	coffer_buf_release(&body);
	return r;
}

/* The status the answer gives item i. */
static const char *
status(const json_t *answer, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(
	    answer, "items"), i), "status"));
}

static long long
cached(struct coord *c)
{
	json_t *l = NULL;
	long long n;

	assert_int_equal(coord_coll_list(c, &l), 0);
	n = json_integer_value(json_object_get(json_object_get(l, "cache"), "items"));
	json_decref(l);
	return n;
}

/* The audit log's size: each item kept is one `collateral` event. */
static uint64_t
logged(struct coord *c)
{
	uint64_t n = 0;

	assert_int_equal(coord_audit_size(c->st, &n), 0);
	return n;
}

static void
read_vec(const char *rel, struct coffer_buf *b)
{
	char path[512];

	assert_int_equal(vec_path(rel, path, sizeof(path)), 0);
	coffer_buf_reset(b);
	assert_int_equal(coffer_file_read(path, b->max, b), 0);
}

/* ------------------------------------------------------------------ */

static void
test_push__statuses_and_the_newest_per_slot(void **state)
{
	struct coffer_buf old_qe = COFFER_BUF_INIT(1 << 20), new_qe = COFFER_BUF_INIT(1 << 20);
	struct coord *c = coord_new();
	struct tt_pcs sgx, tdx;
	const char *reason;
	json_t *a = NULL;

	(void)state;
	assert_int_equal(tt_pcs_load("attestation/sgx/dcap-qvl/sgx_quote_collateral.json",
	    &sgx), 0);
	assert_int_equal(tt_pcs_load("attestation/tdx/dcap-qvl/tdx_quote_collateral.json",
	    &tdx), 0);
	read_vec("attestation/tdx/go-tdx-guest/sample_qeIdentity_response", &old_qe);
	read_vec("attestation/tdx/trustee/enclaveIdentity.json", &new_qe);
	{
		/* The TCB Info before its chain: one push is checked as one. */
		const struct f fs[] = { { "tcb.json", sgx.tcb, strlen(sgx.tcb) },
		    { "chain.pem", sgx.chain, strlen(sgx.chain) }, { NULL, NULL, 0 } };

		assert_int_equal(push(c, fs, &reason, &a), 0);
		assert_string_equal(status(a, 0), "added");
		assert_string_equal(status(a, 1), "added");
		assert_string_equal(json_string_value(json_object_get(json_array_get(
		    json_object_get(a, "items"), 0), "slot")), "tcb-info/sgx/00a067110000");
		assert_string_equal(json_string_value(json_object_get(json_array_get(
		    json_object_get(a, "items"), 0), "expires")), "2025-07-19T10:56:11Z");
		assert_int_equal(json_integer_value(json_object_get(json_object_get(a,
		    "cache"), "items")), 2);
		json_decref(a);
	}
	{
		/* The same bytes again, under another name: unchanged. */
		const struct f fs[] = { { "again.json", sgx.tcb, strlen(sgx.tcb) },
		    { NULL, NULL, 0 } };

		assert_int_equal(push(c, fs, &reason, &a), 0);
		assert_string_equal(status(a, 0), "unchanged");
		json_decref(a);
	}
	{
		/* TD_QE of 2023 then of 2025-10 (eval 15, 17) in one push: only
		 * the newer is kept; then the 2025-06 one (eval 17, earlier). */
		const struct f fs[] = { { "old.json", old_qe.data, old_qe.len },
		    { "new.json", new_qe.data, new_qe.len }, { NULL, NULL, 0 } };
		const struct f fs2[] = { { "mid.json", tdx.qe, strlen(tdx.qe) },
		    { NULL, NULL, 0 } };
		const struct f fs3[] = { { "old.json", old_qe.data, old_qe.len },
		    { NULL, NULL, 0 } };

		assert_int_equal(push(c, fs, &reason, &a), 0);
		assert_string_equal(status(a, 0), "older");
		assert_string_equal(status(a, 1), "added");
		json_decref(a);
		assert_int_equal(cached(c), 3);
		assert_int_equal(push(c, fs2, &reason, &a), 0);
		assert_string_equal(status(a, 0), "older");
		json_decref(a);
		assert_int_equal(push(c, fs3, &reason, &a), 0);
		assert_string_equal(status(a, 0), "older");
		json_decref(a);
		assert_int_equal(cached(c), 3);
	}
	{
		/* The SGX QE Identity, a new slot; then the TDX TCB Info of
		 * another FMSPC, and its PCK CRL with the chain. */
		const struct f fs[] = { { "qe.json", sgx.qe, strlen(sgx.qe) },
		    { "tdx-tcb.json", tdx.tcb, strlen(tdx.tcb) },
		    { "pck.crl", tdx.pck_crl.data, tdx.pck_crl.len },
		    { "pck.chain.pem", tdx.pck_crl_chain, strlen(tdx.pck_crl_chain) },
		    { NULL, NULL, 0 } };

		assert_int_equal(push(c, fs, &reason, &a), 0);
		for (size_t i = 0; i < 4; i++)
			assert_string_equal(status(a, i), "added");
		json_decref(a);
		assert_int_equal(cached(c), 7);
	}
	{
		/* CRLs: one slot per issuer. The root CA's of 2023 (go-tdx-guest),
		 * then of 2025 (the TDX sample's) replaces it; the SGX sample's
		 * is the same bytes. */
		struct coffer_buf r23 = COFFER_BUF_INIT(1 << 20);
		const struct f fs[] = { { "root-2023.crl", NULL, 0 }, { NULL, NULL, 0 } };
		const struct f fs2[] = { { "root-tdx.crl", tdx.root_crl.data, tdx.root_crl.len },
		    { NULL, NULL, 0 } };
		const struct f fs3[] = { { "root-sgx.crl", sgx.root_crl.data, sgx.root_crl.len },
		    { NULL, NULL, 0 } };
		struct f first[2];

		read_vec("attestation/tdx/go-tdx-guest/rootcrl.der", &r23);
		memcpy(first, fs, sizeof(first));
		first[0].data = r23.data;
		first[0].len = r23.len;
		assert_int_equal(push(c, first, &reason, &a), 0);
		assert_string_equal(status(a, 0), "added");
		json_decref(a);
		assert_int_equal(cached(c), 8);
		assert_int_equal(push(c, fs2, &reason, &a), 0);
		assert_string_equal(status(a, 0), "replaced");
		json_decref(a);
		assert_int_equal(push(c, fs3, &reason, &a), 0);
		assert_string_equal(status(a, 0), "unchanged");
		json_decref(a);
		assert_int_equal(push(c, first, &reason, &a), 0);
		assert_string_equal(status(a, 0), "older");
		json_decref(a);
		assert_int_equal(cached(c), 8);
		coffer_buf_release(&r23);
	}
	/* 8 added, 1 replaced; nothing for unchanged or older items. */
	assert_int_equal(logged(c), 9);
	coord_free(c);
	tt_pcs_free(&sgx);
	tt_pcs_free(&tdx);
	coffer_buf_release(&old_qe);
	coffer_buf_release(&new_qe);
}

static void
refused(struct coord *c, const struct f *fs, const char *want)
{
	const char *reason = NULL;
	long long before = cached(c);
	uint64_t events = logged(c);
	json_t *a = NULL;

	assert_int_not_equal(push(c, fs, &reason, &a), 0);
	assert_null(a);
	if (reason == NULL || strcmp(reason, want) != 0)
		fail_msg("refused with %s (%s), not %s", reason ? reason : "NULL",
		    coffer_errdetail(), want);
	assert_int_equal(cached(c), before);
	assert_int_equal(logged(c), events);
}

static void
test_push__refusals_c4_to_c7_keep_nothing(void **state)
{
	struct coffer_buf qvl = COFFER_BUF_INIT(1 << 20), crl = COFFER_BUF_INIT(1 << 20);
	struct coord *c = coord_new();
	struct tt_pcs sgx;
	char *forged;

	(void)state;
	assert_int_equal(tt_pcs_load("attestation/sgx/dcap-qvl/sgx_quote_collateral.json",
	    &sgx), 0);
	read_vec("attestation/sgx/dcap-qvl/sgx_quote_collateral.json", &qvl);
	read_vec("attestation/tdx/go-tdx-guest/pckcrl", &crl);
	forged = strdup(sgx.tcb);
	*(strstr(forged, "\"signature\":\"") + 20) ^= 1;
	{
		const struct f text[] = { { "a.txt", "hello", 5 }, { NULL, NULL, 0 } };
		const struct f mixed[] = { { "qvl.json", qvl.data, qvl.len },
		    { NULL, NULL, 0 } };
		const struct f bad[] = { { "chain.pem", sgx.chain, strlen(sgx.chain) },
		    { "tcb.json", forged, strlen(forged) }, { NULL, NULL, 0 } };
		const struct f alone[] = { { "pckcrl", crl.data, crl.len },
		    { NULL, NULL, 0 } };
		const struct f nosigner[] = { { "tcb.json", sgx.tcb, strlen(sgx.tcb) },
		    { NULL, NULL, 0 } };

		refused(c, text, "collateral.malformed");
		assert_non_null(strstr(coffer_errdetail(), "a.txt"));
		refused(c, mixed, "collateral.malformed");
		assert_non_null(strstr(coffer_errdetail(), "one piece per item"));
		/* With a good chain in the same push: nothing of it is kept. */
		refused(c, bad, "collateral.signature");
		refused(c, alone, "collateral.untrusted");
		refused(c, nosigner, "collateral.untrusted");
	}
	{
		/* C7 with a cache of at most 2 items. */
		const struct f three[] = { { "tcb.json", sgx.tcb, strlen(sgx.tcb) },
		    { "qe.json", sgx.qe, strlen(sgx.qe) },
		    { "chain.pem", sgx.chain, strlen(sgx.chain) }, { NULL, NULL, 0 } };
		const struct f two[] = { { "tcb.json", sgx.tcb, strlen(sgx.tcb) },
		    { "chain.pem", sgx.chain, strlen(sgx.chain) }, { NULL, NULL, 0 } };
		const char *reason;
		json_t *a = NULL;

		c->cfg.coll_max_items = 2;
		refused(c, three, "collateral.full");
		assert_non_null(strstr(coffer_errdetail(), "nothing of this push"));
		assert_int_equal(push(c, two, &reason, &a), 0);
		json_decref(a);
		assert_int_equal(cached(c), 2);
		c->cfg.coll_max_items = 0;
		c->cfg.coll_max_bytes = 4000; /* the two hold about 6.5 KB */
		refused(c, three, "collateral.full");
		c->cfg.coll_max_bytes = 0;
	}
	free(forged);
	coord_free(c);
	tt_pcs_free(&sgx);
	coffer_buf_release(&qvl);
	coffer_buf_release(&crl);
}

static void
test_push__a_new_coordinator_verifies_with_the_stored_cache(void **state)
{
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_claims *claims = NULL;
	struct coord *c = coord_new();
	struct tt_pcs sgx;
	const char *reason;
	json_t *a = NULL;
	int64_t at = 0;

	(void)state;
	assert_int_equal(tt_pcs_load("attestation/sgx/dcap-qvl/sgx_quote_collateral.json",
	    &sgx), 0);
	{
		const struct f fs[] = { { "tcb.json", sgx.tcb, strlen(sgx.tcb) },
		    { "qe.json", sgx.qe, strlen(sgx.qe) },
		    { "chain.pem", sgx.chain, strlen(sgx.chain) },
		    { "pck.crl", sgx.pck_crl.data, sgx.pck_crl.len },
		    { "pck.chain.pem", sgx.pck_crl_chain, strlen(sgx.pck_crl_chain) },
		    { "root.crl", sgx.root_crl.data, sgx.root_crl.len }, { NULL, NULL, 0 } };

		assert_int_equal(push(c, fs, &reason, &a), 0);
		json_decref(a);
	}
	coord_free(c);
	/* The next start: only the state. */
	c = coord_new();
	assert_int_equal(c->coll.items, 6);
	assert_int_equal(coffer_time_parse("2025-07-19T10:01:17Z", &at), 0);
	read_vec("attestation/sgx/dcap-qvl/sgx_quote", &ev);
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, c->anchors, c->collateral, at,
	    NULL, &claims), 0);
	assert_int_equal(claims->tcb_status, COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
	coffer_tee_claims_free(claims);
	coord_free(c);
	coffer_buf_release(&ev);
	tt_pcs_free(&sgx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push__statuses_and_the_newest_per_slot,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_push__refusals_c4_to_c7_keep_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_push__a_new_coordinator_verifies_with_the_stored_cache, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
