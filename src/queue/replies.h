/* SPDX-License-Identifier: Apache-2.0 */
/* The replies of the queue's commands and scripts (doc/queue.md section 4)
 * read into the queue's structures, with no connection, so that a fuzzer
 * can feed them what a server could send (tests/fuzz/fuzz_queue_replies.c).
 * Whatever Redis answers is untrusted: every reader checks types, counts
 * and ranges, and fails with COFFER_E_PROTO ("redis <where>: <what>: ...")
 * on anything else. Internal to src/queue. */
#ifndef COFFER_QUEUE_REPLIES_H
#define COFFER_QUEUE_REPLIES_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "queue/queue.h"

/* The most elements an array in a reply may declare (doc/queue.md, its introduction).
 * hiredis 0.14 allocates an array's element pointers when it reads the
 * declared count, before any element arrives, with no bound of its own: a
 * server could make a client reserve 16 GiB of address space with 13
 * bytes. The largest array the queue asks for is a holders or dead-letter
 * page, three elements per item. */
#define QUEUE_REPLY_ARRAY_MAX (1 << 20)

/* Make reader r (a context's c->reader) refuse an array that declares more
 * than QUEUE_REPLY_ARRAY_MAX elements: its read fails (hiredis says "Out of
 * memory") and queue_reader_refused() returns the declared count. */
void queue_reader_cap(redisReader *r);
/* The count of the last array refused on this thread since the last call,
 * or 0; reading it resets it. */
long long queue_reader_refused(void);

/* (queue.c) A worker id: 1 to COFFER_QUEUE_WORKER_MAX of [A-Za-z0-9_.-]; else
 * COFFER_E_INVAL. */
int queue_check_worker(const char *w);

/* COFFER_E_PROTO: "redis <where>: <what>: unexpected reply". */
int queue_reply_unexpected(const char *where, const char *what);

/* An integer reply. */
int queue_reply_int(const redisReply *rep, const char *where,
    const char *what, long long *v);
/* An array of n integer replies. */
int queue_reply_ints(const redisReply *rep, const char *where,
    const char *what, long long *v, size_t n);
/* SCRIPT LOAD's answer: the script's SHA-1, 40 characters, into sha. */
int queue_reply_sha(const redisReply *rep, const char *where,
    const char *what, char sha[41]);

/* claim (4.2), {claimed, attempt}: *claimed 1 with the attempt in
 * [1, UINT32_MAX], or 0 (already done, or taken back). */
int queue_reply_claim(const redisReply *rep, const char *where, int *claimed,
    uint32_t *attempt);

/* A queue entry that is not an item (or has no attempt): the caller
 * dead-letters it. Returns what the dead-lettering returned. */
typedef int (*queue_malformed_fn)(const char *raw, size_t len, void *arg);

/*
 * ack_next (4.3), {added, ours, next or false, attempt}: *refused 1 when
 * the ack was refused (added < 0; nothing else is read); else *got 1 with
 * *next (its id allocated) when an item came, 0 when none did or the one
 * that came was malformed (malformed was called; its error other than
 * COFFER_E_FORMAT is returned).
 */
int queue_reply_ack_next(const redisReply *rep, const char *where,
    int *refused, struct coffer_queue_item *next, int *got,
    queue_malformed_fn malformed, void *arg);

/* take_more (4.3a), {item, attempt, ...}, at most want pairs: the items
 * into next[*got..] (*got counts up; ids allocated, freed by the caller
 * whatever the result); malformed entries go to malformed and are
 * skipped. */
int queue_reply_take_more(const redisReply *rep, const char *where,
    size_t want, struct coffer_queue_item *next, size_t *got,
    queue_malformed_fn malformed, void *arg);

/* fail (4.6): "retry", "dead" (*dead 1) or "refused" (*refused 1). */
int queue_reply_fail(const redisReply *rep, const char *where, int *refused,
    int *dead);

/* stats (4.8): 5 counts and, in the Coffer layout (coffer 1), 3 stored
 * time sums, which read as unknown (0) when malformed. */
int queue_reply_stats(const redisReply *rep, const char *where, int coffer,
    struct coffer_queue_stats *s);

/* meta (4.8): {exists, owner, state, total}; what is not a job id, a
 * known state or a count reads as "?" or -1. */
int queue_reply_meta(const redisReply *rep, const char *where,
    struct coffer_queue_meta *m);

/* holders: {worker, item, count, ...} into *out (n entries; NULL if 0),
 * freed with coffer_queue_holders_free. */
int queue_reply_holders(const redisReply *rep, const char *where,
    struct coffer_queue_holder **out, size_t *n);

/* A page of dead letters, {id, attempts, error, ...}: fn for each (id and
 * error NUL-terminated; an id need not be an item id, it is what the
 * queue held), *n the page's entries. */
int queue_reply_dead_page(const redisReply *rep, const char *where,
    void (*fn)(const char *id, uint32_t attempts, const char *error, void *arg),
    void *arg, size_t *n);

#endif
