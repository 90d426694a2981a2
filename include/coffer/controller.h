/* SPDX-License-Identifier: Apache-2.0 */
/* The replica controller plugin ABI, version 1. The manager (and the
 * controller benchmark's simulator) calls a controller at every check
 * interval with what the monitor observed; the controller answers with a
 * desired replica count and a reason. Controllers are pure: no I/O, no
 * clocks, no globals; all time comes in the observation. */
#ifndef COFFER_CONTROLLER_H
#define COFFER_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COFFER_CONTROLLER_ABI_VERSION 1u
#define COFFER_CONTROLLER_ENTRY_SYMBOL "coffer_controller_entry_v1"

/* A controller parameter as given in the job ("trigger_up" -> "0.1"). */
struct coffer_ctl_param {
	const char *key;
	const char *value;
};

/* What the host's actuator does (coffer_ctl_config.host_flags). */
#define COFFER_CTL_HOST_STOPS_IDLE_FIRST 0x1u /* a scale-down stops the
	replicas that hold no item (starting or idle) first, newest first,
	and only then busy ones, the most recent item first; a busy replica
	gets a grace period to finish its item (coffer-manager with a native
	job: src/actuator/actuator.h, set_replicas_hint) */

/* What the controller is created with. Fields may only be appended; read
 * `size` before reading a field added after version 1. */
struct coffer_ctl_config {
	uint32_t size;            /* sizeof(struct coffer_ctl_config) of the host */
	int32_t min_replicas;     /* >= 0 */
	int32_t max_replicas;     /* >= min_replicas, >= 1 */
	double expected_time_s;   /* deadline, seconds after the job's start */
	double check_interval_s;  /* how often decide() is called */
	const struct coffer_ctl_param *params;
	size_t nparams;
	/* appended after version 1 (still ABI version 1: read size first) */
	uint32_t host_flags;      /* COFFER_CTL_HOST_*; 0: nothing promised */
};

/*
 * One observation, taken by the monitor at a tick. Counts are exact (from
 * the queue); rates and estimates are the host's and may be 0 when not yet
 * known. Fields may only be appended; read `size` before reading a field
 * added after version 1.
 */
struct coffer_ctl_obs {
	uint32_t size;              /* sizeof(struct coffer_ctl_obs) of the host */
	double now_s;               /* seconds since the job started, monotonic */
	int64_t total;              /* items in the job */
	int64_t done;               /* acknowledged, each counted once */
	int64_t failed;             /* dead-lettered after max attempts */
	int64_t in_flight;          /* leased by a worker right now */
	int64_t queued;             /* waiting in the queue */
	double progress;            /* p = (done + failed) / total, 1 when total == 0 */
	double time_progress;       /* r = now_s / expected_time_s */
	double error;               /* Asperathos's e = p - r */
	int32_t replicas;           /* current replicas (started, not yet stopped) */
	int32_t replicas_ready;     /* of those, the ones past start-up: they
	                               have taken at least one item */
	int32_t replicas_desired;   /* the last count the actuator was asked for */
	double replica_seconds;     /* integral of ready replicas (and of a reduce
	                               stage's replica) over time so far */
	double throughput;          /* smoothed items/s of the whole job */
	double item_time_mean_s;    /* mean processing time per item (0: unknown) */
	double item_time_var_s2;    /* its variance (0: unknown), over the
	                               items finished so far */
	double startup_s;           /* measured replica start-up + attestation time */
};

/* Flags a decision may carry. */
#define COFFER_CTL_INFEASIBLE 0x1u /* the deadline cannot be met even at max */

/* The controller's answer. */
struct coffer_ctl_decision {
	int32_t replicas;  /* desired count; the host clamps to [min, max] */
	uint32_t flags;    /* COFFER_CTL_* */
	char reason[256];  /* why, in one line, e.g. "e=-0.12 < -trigger_up: +1" */
};

struct coffer_controller {
	uint32_t size;         /* sizeof(struct coffer_controller) in the plugin */
	uint32_t abi_version;  /* COFFER_CONTROLLER_ABI_VERSION */
	const char *name;      /* e.g. "asperathos-default" */
	const char *summary;   /* one line for `coffer-manager controllers` */

	/*
	 * Validate the configuration and create the controller's state.
	 * Unknown or invalid parameters fail with COFFER_E_INVAL and a message
	 * in err naming the parameter ("trigger_up: expected a number >= 0").
	 * Required.
	 */
	int (*create)(const struct coffer_ctl_config *cfg, void **state,
	    char *err, size_t errlen);

	/* Decide at one tick. Must always fill out; returns 0 or a negative
	 * coffer error code (the host then keeps the current count). */
	int (*decide)(void *state, const struct coffer_ctl_obs *obs,
	    struct coffer_ctl_decision *out);

	/* Free the state. NULL state is a no-op. */
	void (*destroy)(void *state);
};

typedef const struct coffer_controller *(*coffer_controller_entry_fn)(void);

/* COFFER_CONTROLLER_EXPORT(def) defines the entry point of a plugin .so
 * (with its prototype, for -Wmissing-prototypes builds). */
#define COFFER_CONTROLLER_EXPORT(def)                                          \
	__attribute__((visibility("default"))) const struct coffer_controller *\
	coffer_controller_entry_v1(void);                                      \
	__attribute__((visibility("default"))) const struct coffer_controller *\
	coffer_controller_entry_v1(void) { return &(def); }

#ifdef __cplusplus
}
#endif
#endif
