// SPDX-License-Identifier: Apache-2.0
// Test tool: a stand-in coordinator on loopback HTTP for the worker's
// integration tests (tests/integration/worker_confidential_*.sh) while
// coffer-coordinator does not serve item proofs yet. It is
// tests/support/fake_coord.c behind libevent's HTTP server: its own sim
// evidence, key release under the policy given, the policy text, proofs.
//
//   fakecoord --identity FILE --policy FILE --job HEX --app NAME
//             --key FILE... --measure FILE... [--sim-dir DIR]
//             [--param K=V]... [--listen HOST:PORT] [--ready-file FILE]
//             [--refuse-release NAME] [--refuse-bind NAME] [--refuse-proofs NAME]
//             [--count-file FILE] [--save-output-key FILE]
//
// --measure: the files its own sim evidence measures (so a test knows the
// coordinator's measurement: `coffer attest measure FILE...`).
// --count-file: rewritten after each request with "nonces N releases N
// proofs N" for the test to read. --save-output-key: the job's output key
// as a data key file, for the test to open outputs as a recipient would.
// Runs until SIGTERM.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "crypto/datakey.h"
#include "crypto/identity.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "proto/coord_identity.h"
#include "proto/itemproof.h"
#include "../support/fake_coord.h"

#define MAX_MEASURE 8

static struct fake_coord fc;
static const char *count_file;

static void
die(const char *what)
{
	fprintf(stderr, "fakecoord: %s: %s\n", what, coffer_errdetail());
	exit(1);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer *out = evbuffer_new();
	struct coffer_buf body = COFFER_BUF_INIT(4 << 20);
	struct coffer_buf reply = COFFER_BUF_INIT(8 << 20);
	size_t n = evbuffer_get_length(in);
	const char *path = evhttp_request_get_uri(req);
	int status = 500;

	(void)arg;
	if (n > 0) {
		uint8_t *p;

		if (coffer_buf_reserve(&body, n, &p) != 0)
			die("body");
		evbuffer_remove(in, p, n);
		coffer_buf_commit(&body, n);
	}
	if (fake_coord_request(&fc, evhttp_request_get_command(req) == EVHTTP_REQ_POST ?
	    "POST" : "GET", path, evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type"), body.data, body.len, 8 << 20, &status, &reply) != 0) {
		/* A dropped answer (fail_requests): close without one. */
		evhttp_send_reply(req, 500, "Internal", NULL);
	} else {
		evbuffer_add(out, reply.data ? reply.data : (const uint8_t *)"", reply.len);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", status == 200 && fc.last_batch > 0 &&
		    strstr(path, "/proofs") != NULL ? "application/octet-stream" :
		    "application/json");
		evhttp_send_reply(req, status, status == 200 ? "OK" : "Refused", out);
	}
	if (count_file != NULL) {
		char t[128];

		snprintf(t, sizeof(t), "nonces %d releases %d proofs %d standbys %d"
		    " binds %d\n", fc.nonces, fc.releases, fc.proofs, fc.standbys,
		    fc.binds);
		if (coffer_file_write_atomic(count_file, t, strlen(t), 0644, 0) != 0)
			die(count_file);
	}
	evbuffer_free(out);
	coffer_buf_release(&body);
	coffer_buf_release(&reply);
}

static void
on_term(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char **argv)
{
	const char *measure[MAX_MEASURE], *listen = "127.0.0.1:0", *ready = NULL;
	const char *idfile = NULL, *polfile = NULL, *sim_dir = NULL, *save = NULL;
	size_t n_measure = 0;
	struct coffer_identity id;
	struct coffer_buf ptext = COFFER_BUF_INIT(1 << 20);
	struct coffer_policy *policy = NULL;
	struct coffer_tee_backend_opts bo;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct event *term;
	uint8_t rd[64], *ev = NULL;
	size_t evlen = 0, got;
	char host[64], url[128];
	int port;

	fc.params = json_object();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			die(a);
		i++;
		if (strcmp(a, "--identity") == 0)
			idfile = v;
		else if (strcmp(a, "--policy") == 0)
			polfile = v;
		else if (strcmp(a, "--job") == 0) {
			if (coffer_hex_decode(v, strlen(v), fc.job, 16, &got) != 0 || got != 16)
				die("--job");
		} else if (strcmp(a, "--app") == 0)
			fc.app = v;
		else if (strcmp(a, "--key") == 0) {
			if (fc.nkeys == FAKE_COORD_MAX_KEYS ||
			    coffer_datakey_load(v, fc.keys[fc.nkeys]) != 0 ||
			    coffer_datakey_id(fc.keys[fc.nkeys], fc.key_ids[fc.nkeys]) != 0)
				die(v);
			fc.nkeys++;
		} else if (strcmp(a, "--measure") == 0 && n_measure < MAX_MEASURE)
			measure[n_measure++] = v;
		else if (strcmp(a, "--sim-dir") == 0)
			sim_dir = v;
		else if (strcmp(a, "--param") == 0) {
			const char *eq = strchr(v, '=');
			char k[128];

			if (eq == NULL || (size_t)(eq - v) >= sizeof(k))
				die("--param");
			snprintf(k, sizeof(k), "%.*s", (int)(eq - v), v);
			json_object_set_new(fc.params, k, json_string(eq + 1));
		} else if (strcmp(a, "--listen") == 0)
			listen = v;
		else if (strcmp(a, "--ready-file") == 0)
			ready = v;
		else if (strcmp(a, "--refuse-release") == 0)
			fc.refuse_release = v;
		else if (strcmp(a, "--refuse-bind") == 0)
			fc.refuse_bind = v;
		else if (strcmp(a, "--refuse-proofs") == 0)
			fc.refuse_proofs = coffer_itemproof_reason_code(v);
		else if (strcmp(a, "--count-file") == 0)
			count_file = v;
		else if (strcmp(a, "--save-output-key") == 0)
			save = v;
		else
			die(a);
	}
	if (idfile == NULL || polfile == NULL || fc.app == NULL || n_measure == 0)
		die("--identity, --policy, --app and --measure are required");
	if (coffer_identity_load(idfile, &id) != 0)
		die(idfile);
	if (coffer_file_read(polfile, 1 << 20, &ptext) != 0 ||
	    coffer_policy_parse((const char *)ptext.data, ptext.len, &policy) != 0)
		die(polfile);
	if (coffer_policy_app(policy, fc.app) == NULL)
		die("--app: not an app of the policy");
	fc.id = &id;
	fc.policy = policy;
	fc.limits = json_object();
	for (size_t i = 0; i < policy->nlimits; i++)
		json_object_set_new(fc.limits, policy->limits[i].name,
		    json_integer((json_int_t)policy->limits[i].value));
	if (fake_coord_init(&fc) != 0)
		die("keys");
	if (save != NULL && coffer_datakey_save(save, fc.output_key) != 0)
		die(save);
	/* Its evidence, bound to its identity as coffer-coordinator's is. */
	memset(&bo, 0, sizeof(bo));
	bo.sim_dir = sim_dir;
	bo.measure = measure;
	bo.n_measure = n_measure;
	if (coffer_coord_identity_report_data(id.pub.sign_pk, id.pub.kx_pk, rd) != 0 ||
	    coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd, &bo, &ev, &evlen) != 0)
		die("evidence");
	fc.evidence = ev;
	fc.evidence_len = evlen;

	if (sscanf(listen, "%63[^:]:%d", host, &port) != 2)
		die("--listen");
	if ((base = event_base_new()) == NULL || (http = evhttp_new(base)) == NULL ||
	    (sock = evhttp_bind_socket_with_handle(http, host, (unsigned short)port)) == NULL)
		die("listen");
	evhttp_set_gencb(http, on_request, NULL);
	evhttp_set_max_body_size(http, 4 << 20);
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	snprintf(url, sizeof(url), "http://%s:%d\n", host, port);
	if (ready != NULL && coffer_file_write_atomic(ready, url, strlen(url), 0644, 0) != 0)
		die(ready);
	term = evsignal_new(base, SIGTERM, on_term, base);
	event_add(term, NULL);
	signal(SIGPIPE, SIG_IGN);
	event_base_dispatch(base);
	event_free(term);
	evhttp_free(http);
	event_base_free(base);
	coffer_policy_free(policy);
	coffer_buf_release(&ptext);
	json_decref(fc.params);
	json_decref(fc.limits);
	coffer_identity_wipe(&id);
	free(ev);
	return 0;
}
