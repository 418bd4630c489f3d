/*
 * retry.c — fdb_transaction_on_error: retry FoundationDB's retryable errors
 * after an exponential, jittered backoff; return the others.
 */
#include <stdlib.h>

#include "client/future.h"
#include "util/timer.h"
#include "client/transaction.h"

static void retry_ready(void *ctx) {
    FDBFuture *f = ctx;
    future_complete(f, 0);
    future_release(f);
}

/* Jitter need not be reproducible (and must not consume buggify's PRNG). */
static double random01(void) {
    static _Thread_local uint64_t x;
    if (!x) x = (uint64_t)now_ns() | 1;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return (double)(x >> 11) / (double)(1ULL << 53);
}

static FDBFuture *on_error_locked(FDBTransaction *tr, fdb_error_t code) {
    if (!fdb_error_predicate(FDB_ERROR_PREDICATE_RETRYABLE, code)) return future_error(code);
    if (tr->opt.timeout_ms && now_ns() - tr->start_ns >= tr->opt.timeout_ms * 1000000LL)
        return future_error(FDB_ERR_TRANSACTION_TIMED_OUT);
    if (tr->opt.retry_limit >= 0 && tr->retries >= tr->opt.retry_limit) return future_error(code);
    tr->retries++;
    int64_t delay_ns = (int64_t)((double)tr->backoff_ms * 1e6 * random01());
    int64_t next = tr->backoff_ms * 2;
    tr->backoff_ms = next < tr->opt.max_retry_delay_ms ? next : tr->opt.max_retry_delay_ms;
    if (delay_ns > tr->opt.max_retry_delay_ms * 1000000LL) delay_ns = tr->opt.max_retry_delay_ms * 1000000LL;
    tx_abandon_attempt(tr, FDB_ERR_TRANSACTION_CANCELLED);
    FDBFuture *f = future_new(FK_NONE);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    if (delay_ns <= 0) {
        future_set_ready_fresh(f, 0);
        return f;
    }
    future_retain(f);
    timer_after(delay_ns, retry_ready, f);
    return f;
}

/* ---- entry points: one caller at a time per transaction ---- */

FDB_EXPORT FDBFuture *fdb_transaction_on_error(FDBTransaction *tr, fdb_error_t code) {
    tx_enter(tr);
    FDBFuture *result = on_error_locked(tr, code);
    tx_leave(tr);
    return result;
}
