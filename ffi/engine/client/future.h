/*
 * future.h — FDBFuture: a one-shot result cell, thread-safe.
 *
 * Reads build their result and complete the future before returning it (no
 * thread hop); commits, watches and on_error delays complete it later from a
 * store or timer thread. The callback runs exactly once: at completion, or
 * immediately in fdb_future_set_callback's caller when already complete.
 * References: the caller's (dropped by fdb_future_destroy) plus one per
 * producer still holding the future (future_retain / future_release).
 */
#ifndef FOUND_ENGINE_FUTURE_H
#define FOUND_ENGINE_FUTURE_H

#include <stdatomic.h>
#include <stdint.h>
#include "util/base.h"

enum future_kind {
    FK_NONE = 0, /* error only / void */
    FK_INT64,
    FK_DOUBLE,
    FK_BOOL,
    FK_KEY,   /* bytes in buf */
    FK_VALUE, /* present + bytes in buf */
    FK_KV_ARRAY,
    FK_KEY_ARRAY,
    FK_STRING_ARRAY,
    FK_DATABASE,
    FK_CLUSTER,
};

struct FDB_future {
    atomic_int ready;
    atomic_int refs;
    int err;
    int kind;
    int released; /* fdb_future_release_memory was called */
    FDBCallback callback;
    void *callback_param;
    /* Optional hook run (outside locks) when the caller cancels a pending
     * future, e.g. to cancel a store watch. */
    void (*on_cancel)(void *ctx);
    /* Optional hook run when the future is freed. */
    void (*on_free)(void *ctx);
    void *hook_ctx;
    struct FDB_future *link;        /* free list / a transaction's pending list */
    struct future_blocked *blocked; /* threads in fdb_future_block_until_ready */
    int group_wake;                 /* blocked threads sleep on the shared group word */
    uint64_t deadline_timer;        /* timer that fails it when a timeout elapses */
    int deadline_err;               /* ... with this error */
    union {
        int64_t i64;
        double d;
        int b;
        void *ptr;
    } u;
    int present;
    uint8_t *buf;
    size_t buf_len, buf_cap;
    FDBKeyValue *kvs;
    int count, more;
    size_t kvs_cap;
};

/* A new pending future of `kind` with one reference (the caller's). */
FDBFuture *future_new(int kind);
/* A future already complete with error `err`. */
FDBFuture *future_error(int err);
void future_retain(FDBFuture *f);
void future_release(FDBFuture *f);

/* Room for n bytes in f->buf (previous contents kept); NULL on OOM. */
uint8_t *future_reserve(FDBFuture *f, size_t n);
/* Room for n key-values in f->kvs; 0 or 4100. */
int future_reserve_kvs(FDBFuture *f, size_t n);

/* Complete (value fields set by the producer beforehand, or err != 0).
 * Returns 0 if this call completed it, 1 if it was already complete (then
 * nothing changes). Runs the callback in this thread. */
int future_complete(FDBFuture *f, int err);

/* Group wakes, for futures that complete many at a time on one thread
 * (commits: a whole batch on the store's completion thread). Threads blocked
 * on a future marked with future_wake_as_group sleep on one shared word; a
 * thread that called future_defer_group_wakes completes such futures without
 * waking anyone, then future_flush_group_wakes wakes every sleeper with one
 * system call. One call per waiter made each woken thread preempt the
 * completing thread on its own CPU, so a batch's waiters ran one at a time.
 * Elsewhere they wake at once. */
void future_wake_as_group(FDBFuture *f);
void future_defer_group_wakes(void);
void future_flush_group_wakes(void);
/* Complete a pending future with err and run its on_cancel hook (what
 * fdb_future_cancel does with 1101). */
void future_abort(FDBFuture *f, int err);
/* Fail the pending future f with err at monotonic time deadline_ns unless
 * it completes first (the timer is then dropped). */
void future_set_deadline(FDBFuture *f, int64_t deadline_ns, int err);
/* Mark a read result complete without callback bookkeeping: only for a
 * future nobody else can see yet. */
static inline void future_set_ready_fresh(FDBFuture *f, int err) {
    f->err = err;
    atomic_store_explicit(&f->ready, 1, memory_order_release);
}

#endif
