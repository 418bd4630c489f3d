/*
 * commit.c — fdb_transaction_commit: hand the write set to the store and
 * complete the commit future (plus versionstamp futures and watches) when
 * the store's commit thread reports back.
 */
#include <stdlib.h>
#include <string.h>

#include "util/buggify.h"
#include "client/future.h"
#include "client/special_keys.h"
#include "util/timer.h"
#include "client/transaction.h"
#include "client/tx_watch.h"

typedef struct commit_job {
    commit_request req;
    FDBTransaction *tr;
    unsigned generation;
    tx_writes *wr;
    FDBFuture *f;
    FDBFuture *waiters; /* versionstamp futures */
    tx_watch *watches;
    int report_unknown;   /* buggify: applied, reported as 1021 */
    int report_conflicts; /* report_conflicting_keys */
    int64_t latency_ns;   /* buggify: complete this much later */
    int err;
    int64_t version;
    uint16_t index;
} commit_job;

static void commit_stamp(uint8_t out[10], int64_t version, uint16_t index) {
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)((uint64_t)version >> (56 - 8 * i));
    out[8] = (uint8_t)(index >> 8);
    out[9] = (uint8_t)index;
}

static void complete_waiters(FDBFuture *waiters, int err, const uint8_t stamp[10]) {
    while (waiters) {
        FDBFuture *next = waiters->link;
        int e = err;
        if (!e && future_reserve(waiters, 10)) {
            memcpy(waiters->buf, stamp, 10);
            waiters->buf_len = 10;
        } else if (!e) {
            e = FDB_ERR_INTERNAL_ERROR;
        }
        future_complete(waiters, e);
        future_release(waiters);
        waiters = next;
    }
}

/* The read ranges that made the commit fail with 1020, in one block with
 * their bytes (NULL when none can be told). */
static key_range *commit_conflicting(commit_job *job, int *n_out) {
    const key_range *reads = job->req.reads;
    int n = job->req.n_reads, hits = 0;
    size_t bytes = 0;
    *n_out = 0;
    unsigned char *hit = calloc((size_t)n + 1, 1);
    if (!hit || store_conflicting_reads(job->tr->db->s, job->req.read_version, reads, n, hit)) {
        free(hit);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (hit[i]) hits++, bytes += (size_t)reads[i].begin_len + (size_t)reads[i].end_len;
    key_range *out = hits ? malloc(sizeof *out * (size_t)hits + bytes) : NULL;
    uint8_t *p = out ? (uint8_t *)(out + hits) : NULL;
    for (int i = 0, j = 0; out && i < n; i++) {
        if (!hit[i]) continue;
        out[j] = reads[i];
        out[j].begin = memcpy(p, reads[i].begin, (size_t)reads[i].begin_len);
        p += reads[i].begin_len;
        out[j].end = memcpy(p, reads[i].end, (size_t)reads[i].end_len);
        p += reads[i].end_len;
        j++;
    }
    free(hit);
    if (out) *n_out = hits;
    return out;
}

static void finish(commit_job *job) {
    FDBTransaction *tr = job->tr;
    uint8_t stamp[10];
    commit_stamp(stamp, job->version, job->index);
    int n_conflicting = 0;
    key_range *conflicting = job->err == FDB_ERR_NOT_COMMITTED && job->report_conflicts
                                 ? commit_conflicting(job, &n_conflicting)
                                 : NULL;
    pthread_mutex_lock(&tr->lock);
    if (tr->generation == job->generation) {
        key_range *old = tr->conflicting;
        tr->conflicting = conflicting;
        tr->n_conflicting = n_conflicting;
        conflicting = old;
        tr->committed_version = job->err ? -1 : job->version;
        memcpy(tr->versionstamp, stamp, 10);
        tr->versionstamp_err = job->err;
        tr->commit_future = NULL;
        if (atomic_load(&tr->state) == TX_COMMITTING)
            atomic_store(&tr->state, job->err ? TX_ACTIVE : TX_COMMITTED);
    }
    pthread_mutex_unlock(&tr->lock);
    free(conflicting);
    complete_waiters(job->waiters, job->err, stamp);
    if (job->err)
        txw_fail(job->watches, job->err);
    else
        txw_activate(job->watches, tr->db->s, tr->db->max_watches);
    future_complete(job->f, job->err);
    future_release(job->f);
    tx_writes_recycle(job->wr);
    tx_unref(tr);
    free(job);
}

static void finish_later(void *ctx) { finish(ctx); }

static void commit_done(commit_request *req, int err, int64_t version, uint16_t batch_index) {
    commit_job *job = req->ctx;
    on_store_thread = 1;
    future_defer_group_wakes(); /* flushed by after_batch */
    if (!err && job->report_unknown) {
        err = FDB_ERR_COMMIT_UNKNOWN_RESULT;
        buggify_count(BUG_COMMIT_UNKNOWN_APPLIED);
    }
    job->err = err;
    job->version = version;
    job->index = batch_index;
    if (job->latency_ns)
        timer_after(job->latency_ns, finish_later, job);
    else
        finish(job);
    on_store_thread = 0;
}

/* The value a watch registered in the transaction ctx compares against:
 * through its own writes, whatever snapshot_ryw says. */
static int watched_value(void *ctx, const uint8_t *key, int key_len, int *present, const uint8_t **value,
                         int *value_len) {
    int from_store = 0;
    return tx_read_value(ctx, key, key_len, 0, present, value, value_len, &from_store);
}

/* A read-only transaction: nothing to send, no version (-1). */
static FDBFuture *commit_read_only(FDBTransaction *tr) {
    int err = txw_capture(tr->watches, watched_value, tr);
    if (err) return future_error(err);
    pthread_mutex_lock(&tr->lock);
    FDBFuture *waiters = tr->versionstamp_waiters;
    tx_watch *watches = tr->watches;
    tr->versionstamp_waiters = NULL;
    tr->watches = NULL;
    tr->committed_version = -1;
    tr->versionstamp_err = FDB_ERR_NO_COMMIT_VERSION;
    atomic_store(&tr->state, TX_COMMITTED);
    pthread_mutex_unlock(&tr->lock);
    tx_release_snapshot(tr);
    complete_waiters(waiters, FDB_ERR_NO_COMMIT_VERSION, NULL);
    txw_activate(watches, tr->db->s, tr->db->max_watches);
    return future_error(0);
}

static int injected_commit_error(void) {
    /* FoundationDB's (its 1021 of this site is our commit_unknown_not_applied) */
    static const int codes[] = {FDB_ERR_NOT_COMMITTED, FDB_ERR_TRANSACTION_TOO_OLD,
                                FDB_ERR_COMMIT_PROXY_MEMORY_LIMIT_EXCEEDED};
    return codes[buggify_random(3)];
}

/* A commit that fails before reaching the store: its watches and
 * versionstamp futures get the same error, as in FoundationDB. */
static FDBFuture *fail_commit(FDBTransaction *tr, int err) {
    pthread_mutex_lock(&tr->lock);
    FDBFuture *waiters = tr->versionstamp_waiters;
    tx_watch *watches = tr->watches;
    tr->versionstamp_waiters = NULL;
    tr->watches = NULL;
    pthread_mutex_unlock(&tr->lock);
    tx_release_snapshot(tr);
    complete_waiters(waiters, err, NULL);
    txw_fail(watches, err);
    return future_error(err);
}

/* Why this commit cannot start, or 0. */
static int precheck(FDBTransaction *tr) {
    tx_writes *wr = tr->wr;
    if (!wr->mutations.len && !wr->writes.len) return 0; /* read-only: no checks */
    if (wr->size > tr->opt.size_limit) return FDB_ERR_TRANSACTION_TOO_LARGE;
    if (wr->reads.len && tr->snap && coarse_now_ns() - tr->snap_time > TRANSACTION_LIFETIME_NS)
        return FDB_ERR_TRANSACTION_TOO_OLD;
    if (buggify_fires(BUG_COMMIT_ERROR)) return injected_commit_error();
    return txw_capture(tr->watches, watched_value, tr);
}

static FDBFuture *commit_locked(FDBTransaction *tr) {
    int err = tx_check_usable(tr);
    int state = atomic_load(&tr->state);
    if (err && (state == TX_COMMITTING || state == TX_CANCELLED)) return future_error(err);
    if (!err) err = sk_commit_check(tr);
    if (!err) err = precheck(tr);
    if (err) return fail_commit(tr, err);
    tx_writes *wr = tr->wr;
    if (!wr->mutations.len && !wr->writes.len) return commit_read_only(tr);

    commit_job *job = calloc(1, sizeof *job);
    FDBFuture *f = future_new(FK_NONE);
    tx_writes *fresh = tx_writes_new();
    if (!job || !f || !fresh) {
        free(job);
        if (f) future_release(f);
        if (fresh) tx_writes_recycle(fresh);
        return future_error(FDB_ERR_INTERNAL_ERROR);
    }
    job->req.read_version = tr->snap                       ? snapshot_version(tr->snap)
                            : tr->wanted_read_version >= 0 ? tr->wanted_read_version
                                                           : store_committed_version(tr->db->s);
    tx_release_snapshot(tr);
    job->req.reads = wr->reads.items;
    job->req.n_reads = (int)wr->reads.len;
    job->req.writes = wr->writes.items;
    job->req.n_writes = (int)wr->writes.len;
    job->req.mutations = wr->mutations.items;
    job->req.n_mutations = (int)wr->mutations.len;
    job->req.done = commit_done;
    job->req.after_batch = future_flush_group_wakes;
    job->req.ctx = job;
    job->tr = tr;
    job->wr = wr;
    job->f = f;
    job->report_conflicts = tr->report_conflicting_keys;
    future_wake_as_group(f);
    future_retain(f); /* the job's reference */
    atomic_fetch_add(&tr->refs, 1);

    pthread_mutex_lock(&tr->lock);
    job->generation = tr->generation;
    job->waiters = tr->versionstamp_waiters;
    job->watches = tr->watches;
    tr->versionstamp_waiters = NULL;
    tr->watches = NULL;
    tr->commit_future = f;
    tr->wr = fresh;
    atomic_store(&tr->state, TX_COMMITTING);
    pthread_mutex_unlock(&tr->lock);

    if (tr->opt.timeout_ms) {
        /* As in FoundationDB, the timeout also ends a commit still in flight
         * (which may nonetheless be applied). */
        future_set_deadline(f, tx_deadline_ns(tr), FDB_ERR_TRANSACTION_TIMED_OUT);
    }
    if (buggify_fires(BUG_COMMIT_LATENCY)) job->latency_ns = (1 + (int64_t)buggify_random(50)) * 1000000LL;
    if (buggify_fires(BUG_COMMIT_UNKNOWN_NOT_APPLIED)) {
        job->err = FDB_ERR_COMMIT_UNKNOWN_RESULT;
        timer_after(job->latency_ns, finish_later, job);
        return f;
    }
    job->report_unknown = buggify_decides(BUG_COMMIT_UNKNOWN_APPLIED); /* counted if applied */
    store_commit_submit(tr->db->s, &job->req);
    return f;
}

/* ---- entry points: one caller at a time per transaction ---- */

FDB_EXPORT FDBFuture *fdb_transaction_commit(FDBTransaction *tr) {
    tx_enter(tr);
    FDBFuture *result = commit_locked(tr);
    tx_leave(tr);
    return result;
}
