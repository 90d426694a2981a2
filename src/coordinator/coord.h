/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator daemon's inside: its configuration, its identity and
 * evidence, and what the HTTP handlers share. One thread, one libevent
 * loop: handlers never run at the same time. doc/coordinator.md. */
#ifndef COFFER_COORDINATOR_COORD_H
#define COFFER_COORDINATOR_COORD_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/tee.h"
#include "coordinator/state.h"
#include "crypto/identity.h"
#include "http/http.h"

#define COORD_BODY_CAP ((size_t)1 << 20) /* libevent's own limit */
#define COORD_SIM_WARNING "INSECURE SIMULATION: no TEE protects this code or data"

struct coord_config {
	const char *data_dir;    /* state, lock */
	const char *listen;      /* "127.0.0.1:8600"; port 0 picks one */
	enum coffer_tee_backend backend;
	const char *sim_dir;     /* sim platform key directory, or NULL */
	const char *device_root; /* sgx-gramine / tsm device directory, or NULL */
	const char *ready_file;  /* written with the URL once listening */
};

struct coord {
	struct coord_config cfg;
	char data_abs[4096];       /* the data directory, absolute */
	int lock_fd;               /* holds the data directory's lock */
	struct coord_state *st;
	struct event_base *base;
	struct http_server *http;
	struct event *sig_ev[2];
	int64_t start_ms;

	/* Identity (secret keys: wiped at exit) and what the evidence says. */
	struct coffer_identity id;
	uint8_t root[32];          /* jobkeys.h derives from it */
	char id_line[COFFER_ID_LINE_MAX + 1];
	char fingerprint[COFFER_ID_FINGERPRINT_HEX];
	uint8_t report_data[COFFER_TEE_REPORT_DATA_LEN];
	uint8_t *evidence;         /* the envelope, served as is */
	size_t evidence_len;
	int insecure;              /* the sim backend */
};

/* Run the daemon until SIGINT or SIGTERM. Errors at start-up are returned
 * (a second instance on the same data directory is COFFER_E_BUSY). */
int coord_run(const struct coord_config *cfg) __attribute__((warn_unused_result));

/* datadir.c: create or check the data directory (mode 0700, owned by us)
 * and take its lock, or fail with COFFER_E_BUSY naming the process that
 * holds it. */
int coord_datadir_open(struct coord *c) __attribute__((warn_unused_result));
/* Record the URL in the lock file once listening. */
int coord_datadir_note_url(struct coord *c, const char *url)
	__attribute__((warn_unused_result));
void coord_datadir_close(struct coord *c);

/* identity.c: load the identity from the state, or make it on first start;
 * then get evidence binding it from the backend. */
int coord_identity_setup(struct coord *c) __attribute__((warn_unused_result));
void coord_identity_release(struct coord *c);

/* The route table (routes.c) and its handlers (api_*.c). */
extern const struct http_route coord_routes[];
extern const size_t coord_nroutes;
void api_healthz(struct http_req *r);
void api_identity(struct http_req *r);
void api_evidence(struct http_req *r);

#endif
