/*
 * retry.c — fdb_transaction_on_error: retry FoundationDB's retryable errors
 * after an exponential, jittered backoff; return the others.
 */
#include <stdint.h>
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
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (double)(x >> 11) / (double)(1ULL << 53);
}

/* How long to wait before the next attempt, as FoundationDB's client:
 * 1007/1009 wait a fixed 10 ms; the others a random part of a backoff that
 * starts at 10 ms and doubles up to max_retry_delay. */
static int64_t retry_delay_ns(FDBTransaction *tr, fdb_error_t code) {
    int64_t max_ns = tr->opt.max_retry_delay_ms * 1000000LL;
    int64_t delay_ns;
    if (code == FDB_ERR_TRANSACTION_TOO_OLD || code == FDB_ERR_FUTURE_VERSION) {
        delay_ns = INITIAL_BACKOFF_MS * 1000000LL;
    } else {
        delay_ns = (int64_t)((double)tr->backoff_ms * 1e6 * random01());
        int64_t next = tr->backoff_ms * 2;
        tr->backoff_ms = next < tr->opt.max_retry_delay_ms ? next : tr->opt.max_retry_delay_ms;
    }
    return delay_ns < max_ns ? delay_ns : max_ns;
}

/* FoundationDB's ReadYourWritesTransaction::onError: a dead transaction
 * (cancelled, timed out) answers with its error; past the retry limit, and
 * for an error that is not retryable (0 included: 2000), on_error fails and
 * the transaction is cancelled until reset. Retries are counted even past
 * the limit, so a limit set later applies to them. */
static FDBFuture *on_error_locked(FDBTransaction *tr, fdb_error_t code) {
    if (tx_timeout_check(tr)) return future_error(tr->cancel_err);
    int limit_hit = tr->opt.retry_limit >= 0 && tr->retries >= tr->opt.retry_limit;
    if (tr->retries < INT32_MAX) tr->retries++;
    int err = limit_hit ? code : 0;
    if (!err && code == 0) err = FDB_ERR_CLIENT_INVALID_OPERATION;
    if (!err && !fdb_error_predicate(FDB_ERROR_PREDICATE_RETRYABLE, code)) err = code;
    if (err) {
        tx_kill(tr, FDB_ERR_TRANSACTION_CANCELLED);
        return future_error(err);
    }
    int64_t delay_ns = retry_delay_ns(tr, code);
    tx_abandon_attempt(tr, FDB_ERR_TRANSACTION_CANCELLED);
    tx_reset_ryw_options(tr);
    FDBFuture *f = future_new(FK_NONE);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    if (delay_ns <= 0) {
        future_set_ready_fresh(f, 0);
        return f;
    }
    /* Until it completes, a cancel or the timeout ends the wait with its
     * error (the transaction's reference, dropped by the next attempt). */
    future_retain(f);
    pthread_mutex_lock(&tr->lock);
    tr->retry_future = f;
    pthread_mutex_unlock(&tr->lock);
    if (tr->opt.timeout_ms) future_set_deadline(f, tx_deadline_ns(tr), FDB_ERR_TRANSACTION_TIMED_OUT);
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
