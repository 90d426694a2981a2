/* SPDX-License-Identifier: Apache-2.0 */
/* The analysis app plugin ABI, version 1: what a C plugin (.so) exports so
 * that coffer-worker can run it over a job's items. Apps see plaintext
 * bytes only; sealing, keys and proofs stay in the worker. Specified in
 * doc/format/app-abi.md (layout, loader checks, rules for plugins). */
#ifndef COFFER_APP_H
#define COFFER_APP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COFFER_APP_ABI_VERSION 1u

/* The one symbol a plugin exports; coffer-worker dlsym()s this name. */
#define COFFER_APP_ENTRY_SYMBOL "coffer_app_entry_v1"

/* A job parameter, given to init() as key/value strings. */
struct coffer_app_param {
	const char *key;
	const char *value;
};

/* Types of a declared parameter (struct coffer_app_param_decl). */
enum coffer_app_param_type {
	COFFER_APP_PARAM_STRING = 1, /* any text; values/min/max may narrow it */
	COFFER_APP_PARAM_INT = 2,    /* a decimal integer in [min, max] */
	COFFER_APP_PARAM_NUMBER = 3, /* a decimal number in [min, max] */
	COFFER_APP_PARAM_BOOL = 4,   /* "true" or "false" */
};

/*
 * A parameter the app takes (doc/format/app-abi.md section 5): the
 * manager and `coffer run` check a job's parameters against these before
 * anything runs, and the coordinator's policies list allowed parameters
 * from them. Names are [A-Za-z0-9_.-], 1-64 bytes, and never start with
 * "coffer." (reserved for what the worker itself passes).
 */
struct coffer_app_param_decl {
	const char *name;
	uint32_t type;         /* enum coffer_app_param_type */
	uint32_t required;     /* 1: a job must give it */
	double min, max;       /* INT, NUMBER: the value's range; STRING: its
	                          length's; no limit when min == max == 0 */
	const char *values;    /* STRING: the allowed values separated by '|'
	                          ("cksum|upper"), or NULL for any */
	const char *help;      /* one line, or NULL */
};

/*
 * Where process() and reduce_finish() write their output. write() returns
 * 0, or a negative coffer error code (e.g. COFFER_E_LIMIT when the output
 * exceeds the job's maximum item size); the app should then stop and
 * return that code.
 */
struct coffer_app_writer {
	int (*write)(struct coffer_app_writer *w, const void *p, size_t n);
	void *opaque; /* the worker's; apps must not touch it */
};

/*
 * The item being processed, for the app's information. Fields are only
 * appended; a field is there when size covers it (COFFER_APP_ITEM_HAS):
 * a plugin may run in a worker older than its header.
 */
struct coffer_app_item {
	uint32_t size;      /* sizeof(struct coffer_app_item) as the worker has it */
	const char *id;     /* the item's id (the input object's key) */
	uint32_t attempt;   /* 1 for the first try */
	/* Appended (doc/format/app-abi.md section 2.1): the data owner the
	 * input belongs to, as the worker knows it (from the job's policy in
	 * a confidential job; from the owner map under `coffer run`), or
	 * NULL when unknown. Printable ASCII, 1-128 bytes. */
	const char *owner;
};

/* Whether the worker filled in an appended field of *item. */
#define COFFER_APP_ITEM_HAS(item, field)                                     \
	((item)->size >= offsetof(struct coffer_app_item, field) +           \
	    sizeof((item)->field))

/*
 * The plugin's description. The first two fields are fixed forever; the
 * others may only be appended to in later ABI versions. The worker rejects
 * a plugin whose abi_version it does not know, or whose size is smaller
 * than the version's struct.
 *
 * Every function returns 0 on success or a negative coffer error code
 * (include/coffer/error.h; COFFER_E_APP when nothing fits better), and
 * may write a NUL-terminated message of at most errlen bytes to err. The
 * worker records that message as the item's error.
 */
struct coffer_app {
	uint32_t size;        /* sizeof(struct coffer_app) in the plugin */
	uint32_t abi_version; /* COFFER_APP_ABI_VERSION */
	const char *name;     /* short name, e.g. "checksum" */
	const char *version;  /* the app's own version string */

	/* Once per worker process, before any item. *state is the app's own
	 * and is passed to every later call. May be NULL. */
	int (*init)(const struct coffer_app_param *params, size_t nparams,
	    void **state, char *err, size_t errlen);

	/* Map one item: in[0..inlen) -> out. Must not keep pointers to in
	 * after returning. Required. */
	int (*process)(void *state, const struct coffer_app_item *item,
	    const uint8_t *in, size_t inlen, struct coffer_app_writer *out,
	    char *err, size_t errlen);

	/* Optional reduce stage, over the map outputs: reduce_add() once per
	 * map output, in ascending item-id order, then reduce_finish() once.
	 * Both NULL when the app has no reduce stage. */
	int (*reduce_add)(void *state, const char *item_id, const uint8_t *in,
	    size_t inlen, char *err, size_t errlen);
	int (*reduce_finish)(void *state, struct coffer_app_writer *out,
	    char *err, size_t errlen);

	/* Once, when the worker exits. May be NULL. */
	void (*fini)(void *state);

	/* Appended to version 1 (a struct of at least 80 bytes has them):
	 * the parameters init() takes. params NULL and nparams 0: not
	 * declared, and any parameter is given to init(). */
	const struct coffer_app_param_decl *params;
	size_t nparams;
};

/* The type of the exported entry point. It returns a pointer to a static
 * struct coffer_app; it is called once, with no other side effect. */
typedef const struct coffer_app *(*coffer_app_entry_fn)(void);

/* Convenience for plugins: COFFER_APP_EXPORT(my_app) defines the entry
 * (with its prototype, for -Wmissing-prototypes builds). */
#define COFFER_APP_EXPORT(app_struct)                                        \
	__attribute__((visibility("default"))) const struct coffer_app *     \
	coffer_app_entry_v1(void);                                           \
	__attribute__((visibility("default"))) const struct coffer_app *     \
	coffer_app_entry_v1(void) { return &(app_struct); }

#ifdef __cplusplus
}
#endif
#endif
