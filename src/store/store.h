/* SPDX-License-Identifier: Apache-2.0 */
/* The object store: put/get/list/delete of whole objects by key, with
 * atomic put (a reader sees the old object or the new one, never a part).
 * Backends: a local directory (the default); S3 and Swift come later
 * behind the same operations. The store is untrusted: confidential jobs
 * keep only sealed objects in it. */
#ifndef COFFER_STORE_H
#define COFFER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/*
 * Keys: 1-1024 bytes of printable ASCII without space, made of '/'-
 * separated components; no empty component (no leading, trailing or double
 * '/'), no "." or "..", and no component ending in ".tmp-" followed by 12
 * hex digits (the local backend's temporary names). Anything else is
 * COFFER_E_FORMAT.
 */
#define COFFER_STORE_KEY_MAX 1024
int coffer_store_check_key(const char *key)
	__attribute__((warn_unused_result));
/* 1 if the n-byte name ends in ".tmp-" and 12 hex digits (lib/file.c's
 * temporary names). */
int coffer_store_is_tmp_name(const char *name, size_t n);

struct coffer_store_ops {
	const char *name; /* "local", later "s3", "swift" */
	/* Replace or create key atomically; the object is durable when put
	 * returns 0. */
	int (*put)(void *impl, const char *key, const void *data, size_t len);
	/* Append the object to out; COFFER_E_NOTFOUND if there is none,
	 * COFFER_E_LIMIT if it is larger than max bytes (out unchanged). */
	int (*get)(void *impl, const char *key, size_t max, struct coffer_buf *out);
	/* Call fn for every key starting with prefix ("" = all), in ascending
	 * byte order; fn returning non-zero stops the listing and is returned. */
	int (*list)(void *impl, const char *prefix,
	    int (*fn)(const char *key, void *arg), void *arg);
	/* Remove key; COFFER_E_NOTFOUND if there is none. */
	int (*del)(void *impl, const char *key);
	void (*free)(void *impl);
	/* Remove what interrupted puts left behind (temporary files, or
	 * incomplete multipart uploads) older than older_than_ms; *removed
	 * gets the count. Appended: may be NULL in a backend. */
	int (*sweep)(void *impl, int64_t older_than_ms, size_t *removed);
	/* Open key for reading: a descriptor (the caller closes it) that
	 * pread(2) reads, and the object's size at the open; the errors of
	 * get. Appended: may be NULL in a backend. */
	int (*open_read)(void *impl, const char *key, size_t max, int *fd,
	    uint64_t *size);
	/* A put in pieces: open (*h the put's), write as often as needed,
	 * then commit (the object is in place and durable when it returns
	 * 0) or abort; commit and abort free h. Appended: may be NULL. */
	int (*put_open)(void *impl, const char *key, void **h);
	int (*put_write)(void *h, const void *data, size_t len);
	int (*put_commit)(void *h);
	void (*put_abort)(void *h);
};

struct coffer_store {
	const struct coffer_store_ops *ops;
	void *impl;
};

/*
 * Open a store from a location: "file:///abs/dir", or a plain directory
 * path (relative paths are made absolute). s3:// and swift:// are
 * COFFER_E_UNSUPPORTED for now. With create != 0 a missing local directory
 * is created (mode 0700); otherwise it is COFFER_E_NOTFOUND.
 */
int coffer_store_open(const char *location, int create,
    struct coffer_store **out) __attribute__((warn_unused_result));

/* 1 if locations a and b are the same local directory however they are
 * spelled ("file:///x", "x/", a relative path, a symbolic link to it):
 * the same device and inode. 0 otherwise, also when either does not exist
 * (yet) or is not a local directory. For refusing outputs that would land
 * on the inputs. */
int coffer_store_same_location(const char *a, const char *b);

/* The local-directory backend. Keys map to files under dir; a key's '/'
 * makes subdirectories. Put writes a temporary file in the target
 * directory, fsyncs it, renames it over the key and fsyncs the directory. */
int coffer_store_local_new(const char *dir, int create,
    struct coffer_store **out) __attribute__((warn_unused_result));

/* Every operation checks the key first (coffer_store_check_key). */
int coffer_store_put(struct coffer_store *s, const char *key, const void *data,
    size_t len) __attribute__((warn_unused_result));
int coffer_store_get(struct coffer_store *s, const char *key, size_t max,
    struct coffer_buf *out) __attribute__((warn_unused_result));
int coffer_store_list(struct coffer_store *s, const char *prefix,
    int (*fn)(const char *key, void *arg), void *arg)
	__attribute__((warn_unused_result));
int coffer_store_del(struct coffer_store *s, const char *key)
	__attribute__((warn_unused_result));

/* An object to read in pieces, as often as needed (a worker streams a
 * big input in two passes, doc/worker.md 9.4 BI1 to BI7): *fd (the
 * caller's to close) is open on it, *size its size when opened. The
 * store is untrusted: the bytes may change between two reads, and a
 * reader must check what it reads. COFFER_E_UNSUPPORTED for a backend
 * without it; else the errors of get. Outputs written only on success. */
int coffer_store_open_read(struct coffer_store *s, const char *key, size_t max,
    int *fd, uint64_t *size) __attribute__((warn_unused_result));

/* An object written in pieces, as put writes it (atomic: nothing is
 * visible under key before commit returns 0, and a writer that dies or
 * aborts leaves nothing there). The worker seals a big output chunk by
 * chunk into it (doc/worker.md 9.4 BO1). open: COFFER_E_UNSUPPORTED for a
 * backend without it; else the errors of put. commit and abort end the
 * put (*p freed) whatever commit returns; abort(NULL) is a no-op. */
struct coffer_store_put;
int coffer_store_put_open(struct coffer_store *s, const char *key,
    struct coffer_store_put **p) __attribute__((warn_unused_result));
int coffer_store_put_write(struct coffer_store_put *p, const void *data,
    size_t len) __attribute__((warn_unused_result));
int coffer_store_put_commit(struct coffer_store_put *p)
	__attribute__((warn_unused_result));
void coffer_store_put_abort(struct coffer_store_put *p);

/* Sweep leftovers of puts interrupted by a crash (kill -9 between the
 * temporary write and the rename). Only safe for leftovers older than any
 * put still running could be: use 0 only when no writer is alive. */
int coffer_store_sweep(struct coffer_store *s, int64_t older_than_ms,
    size_t *removed) __attribute__((warn_unused_result));

/* NULL is a no-op. */
void coffer_store_free(struct coffer_store *s);

#endif
