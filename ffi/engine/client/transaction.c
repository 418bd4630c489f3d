/*
 * transaction.c — FDBTransaction lifecycle, writes, conflict ranges,
 * commit, on_error (see transaction.h). Reads are in reads.c.
 */
#include "client/transaction.h"

#include <stdlib.h>
#include <string.h>

#include "util/atomic.h"
#include "util/buggify.h"
#include "client/future.h"
#include "client/options.h"
#include "client/special_keys.h"
#include "util/timer.h"
#include "client/tx_watch.h"

/* ---- pooled write sets ---------------------------------------------------- */

#define WRITES_POOL_MAX 64
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static tx_writes *pool;
static int pool_size;

static void after_fork_child(void) { pthread_mutex_init(&pool_lock, NULL); /* see future.c */ }

__attribute__((constructor)) static void register_fork_handler(void) {
    pthread_atfork(NULL, NULL, after_fork_child);
}

tx_writes *tx_writes_new(void) {
    pthread_mutex_lock(&pool_lock);
    tx_writes *wr = pool;
    if (wr) {
        pool = wr->next_free;
        pool_size--;
    }
    pthread_mutex_unlock(&pool_lock);
    if (!wr) {
        wr = calloc(1, sizeof *wr);
        if (!wr) return NULL;
        arena_init(&wr->a);
        vec_init(&wr->mutations, sizeof(mutation));
        vec_init(&wr->reads, sizeof(key_range));
        vec_init(&wr->writes, sizeof(key_range));
    }
    wr->size = 0;
    wr->next_free = NULL;
    if (ryw_init(&wr->w, &wr->a)) {
        arena_free(&wr->a);
        free(wr);
        return NULL;
    }
    return wr;
}

static void writes_free(tx_writes *wr) {
    arena_free(&wr->a);
    ryw_free_scratch(&wr->w);
    vec_free(&wr->mutations);
    vec_free(&wr->reads);
    vec_free(&wr->writes);
    free(wr);
}

void tx_writes_recycle(tx_writes *wr) {
    if (!wr) return;
    arena_reset(&wr->a);
    vec_clear(&wr->mutations);
    vec_clear(&wr->reads);
    vec_clear(&wr->writes);
    pthread_mutex_lock(&pool_lock);
    if (pool_size < WRITES_POOL_MAX) {
        wr->next_free = pool;
        pool = wr;
        pool_size++;
        wr = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    if (wr) writes_free(wr);
}

/* Clear the pending writes in place for reuse by the same transaction. */
static int writes_reset(tx_writes *wr) {
    arena_reset(&wr->a);
    vec_clear(&wr->mutations);
    vec_clear(&wr->reads);
    vec_clear(&wr->writes);
    wr->size = 0;
    return ryw_init(&wr->w, &wr->a);
}

/* ---- create / destroy / reset ----------------------------------------------- */

static void release_snapshot(FDBTransaction *tr) {
    if (tr->cur) cursor_close(tr->cur);
    if (tr->snap) snapshot_release(tr->snap);
    tr->cur = NULL;
    tr->snap = NULL;
}

/* The attempt's reads are over (its commit was sent or refused, or it was
 * cancelled): give back the snapshot, and so its slot in LMDB's reader table
 * and the old pages it pins, now rather than at reset or destroy — a client
 * may keep a finished transaction alive for long (a traceback, a cycle).
 * A read after a failed commit reads at the same version again. */
void tx_release_snapshot(FDBTransaction *tr) {
    if (tr->snap && tr->wanted_read_version < 0) tr->wanted_read_version = snapshot_version(tr->snap);
    release_snapshot(tr);
}

void tx_reset_ryw_options(FDBTransaction *tr) {
    tr->opt.snapshot_ryw_disable = tr->db->defaults.snapshot_ryw_disable;
    tr->ryw_disable = 0;
    tr->read_system = tr->write_system = 0;
    tr->next_write_no_conflict = 0;
    tr->sk_relaxed = tr->sk_writes = 0;
}

static void options_from_db(FDBTransaction *tr) {
    tr->opt = tr->db->defaults;
    tr->report_conflicting_keys = 0;
    tx_reset_ryw_options(tr);
}

void tx_enter(FDBTransaction *tr) { pthread_mutex_lock(&tr->op_lock); }

void tx_leave(FDBTransaction *tr) { pthread_mutex_unlock(&tr->op_lock); }

static void free_transaction(FDBTransaction *tr) {
    if (tr->wr) tx_writes_recycle(tr->wr);
    if (tr->retry_future) future_release(tr->retry_future);
    free(tr->conflicting);
    pthread_mutex_destroy(&tr->lock);
    pthread_mutex_destroy(&tr->op_lock);
    database_release(tr->db);
    free(tr);
}

/* Freed in whichever thread drops the last reference, a store thread
 * included (a commit finishing after its transaction was destroyed, the
 * common case): only closing the store must not happen there, and
 * database_release already hands that to the timer thread. Handing every
 * such free over cost a timer-thread wake-up per commit. */
void tx_unref(FDBTransaction *tr) {
    if (atomic_fetch_sub(&tr->refs, 1) != 1) return;
    free_transaction(tr);
}

FDB_EXPORT fdb_error_t fdb_database_create_transaction(FDBDatabase *d, FDBTransaction **out) {
    FDBTransaction *tr = calloc(1, sizeof *tr);
    if (!tr) return FDB_ERR_INTERNAL_ERROR;
    tr->wr = tx_writes_new();
    if (!tr->wr) {
        free(tr);
        return FDB_ERR_INTERNAL_ERROR;
    }
    pthread_mutex_init(&tr->lock, NULL);
    pthread_mutexattr_t recursive;
    pthread_mutexattr_init(&recursive);
    pthread_mutexattr_settype(&recursive, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&tr->op_lock, &recursive);
    pthread_mutexattr_destroy(&recursive);
    atomic_init(&tr->refs, 1);
    atomic_init(&tr->state, TX_ACTIVE);
    database_retain(d);
    tr->db = d;
    options_from_db(tr);
    tr->deferred_err = d->open_err;
    tr->wanted_read_version = -1;
    tr->committed_version = -1;
    tr->start_ns = now_ns();
    tr->backoff_ms = INITIAL_BACKOFF_MS;
    *out = tr;
    return 0;
}

/* Complete with err what an ended attempt leaves waiting: an on_error
 * future, versionstamp futures (a list through ->link), uncommitted watches.
 * Called without tr->lock: completion runs callbacks. */
static void fail_waiting(FDBFuture *retry, FDBFuture *waiters, tx_watch *watches, int err) {
    if (retry) {
        future_complete(retry, err);
        future_release(retry);
    }
    while (waiters) {
        FDBFuture *next = waiters->link;
        future_complete(waiters, err);
        future_release(waiters);
        waiters = next;
    }
    txw_fail(watches, err);
}

/* Fail everything waiting on this attempt (versionstamps, uncommitted
 * watches) and drop the attempt's state; options and retry state stay. */
/* keep_writes: 0 when the transaction is being destroyed — its pending
 * writes go straight back to the pool instead of being emptied for reuse
 * (which built fresh read-your-writes lists nobody would use). */
static void abandon(FDBTransaction *tr, int err, int keep_writes) {
    pthread_mutex_lock(&tr->lock);
    FDBFuture *waiters = tr->versionstamp_waiters;
    tx_watch *watches = tr->watches;
    FDBFuture *retry = tr->retry_future;
    key_range *conflicting = tr->conflicting;
    tr->versionstamp_waiters = NULL;
    tr->watches = NULL;
    tr->commit_future = NULL;
    tr->retry_future = NULL;
    tr->conflicting = NULL;
    tr->n_conflicting = 0;
    tr->generation++;
    pthread_mutex_unlock(&tr->lock);
    free(conflicting);
    fail_waiting(retry, waiters, watches, err);
    release_snapshot(tr);
    if (!keep_writes) {
        tx_writes_recycle(tr->wr); /* no API call may follow destroy */
        tr->wr = NULL;
    } else if (!tr->wr) {
        tr->wr = tx_writes_new();
    } else if (writes_reset(tr->wr)) {
        writes_free(tr->wr);
        tr->wr = tx_writes_new();
    }
    tr->deferred_err = tr->wr ? tr->db->open_err : FDB_ERR_INTERNAL_ERROR;
    tr->wanted_read_version = -1;
    tr->committed_version = -1;
    tr->versionstamp_err = 0;
    tr->sk_tenant_sets = 0;
    tr->cancel_err = 0;
    atomic_store(&tr->state, TX_ACTIVE);
}

void tx_abandon_attempt(FDBTransaction *tr, int err) { abandon(tr, err, 1); }

static void reset_locked(FDBTransaction *tr) {
    tx_abandon_attempt(tr, FDB_ERR_TRANSACTION_CANCELLED);
    options_from_db(tr);
    tr->retries = 0;
    tr->backoff_ms = INITIAL_BACKOFF_MS;
    tr->start_ns = now_ns();
}

FDB_EXPORT void fdb_transaction_destroy(FDBTransaction *tr) {
    if (!tr) return;
    tx_enter(tr);
    abandon(tr, FDB_ERR_TRANSACTION_CANCELLED, 0);
    tx_leave(tr);
    tx_unref(tr);
}

void tx_kill(FDBTransaction *tr, int err) {
    pthread_mutex_lock(&tr->lock);
    if (atomic_load(&tr->state) == TX_CANCELLED) {
        pthread_mutex_unlock(&tr->lock);
        return;
    }
    FDBFuture *commit = tr->commit_future;
    if (commit) future_retain(commit);
    FDBFuture *waiters = tr->versionstamp_waiters;
    tx_watch *watches = tr->watches;
    FDBFuture *retry = tr->retry_future;
    tr->commit_future = NULL;
    tr->versionstamp_waiters = NULL;
    tr->watches = NULL;
    tr->retry_future = NULL;
    tr->cancel_err = err;
    atomic_store(&tr->state, TX_CANCELLED);
    pthread_mutex_unlock(&tr->lock);
    tx_release_snapshot(tr);
    if (commit) {
        future_complete(commit, err);
        future_release(commit);
    }
    fail_waiting(retry, waiters, watches, err);
}

/* The timeout option as an absolute deadline. Options keep the timeout
 * within a C int of milliseconds, as FoundationDB does; saturating anyway
 * keeps the arithmetic defined whatever start_ns is. */
int64_t tx_deadline_ns(const FDBTransaction *tr) {
    int64_t ms = tr->opt.timeout_ms;
    if (ms > (INT64_MAX - tr->start_ns) / 1000000LL) return INT64_MAX;
    return tr->start_ns + ms * 1000000LL;
}

int tx_timeout_check(FDBTransaction *tr) {
    if (tr->opt.timeout_ms && now_ns() >= tx_deadline_ns(tr)) tx_kill(tr, FDB_ERR_TRANSACTION_TIMED_OUT);
    return atomic_load(&tr->state) == TX_CANCELLED;
}

FDB_EXPORT void fdb_transaction_cancel(FDBTransaction *tr) {
    tx_enter(tr);
    tx_kill(tr, FDB_ERR_TRANSACTION_CANCELLED);
    tx_leave(tr);
}

static fdb_error_t set_option_locked(FDBTransaction *tr, int option, const uint8_t *value, int value_length) {
    /* A timeout that has already elapsed has fired: a new value (0
     * included) does not revive the transaction. */
    if (option == FDB_TR_OPTION_TIMEOUT) tx_timeout_check(tr);
    return transaction_option(tr, option, value, value_length);
}

/* ---- shared checks ------------------------------------------------------------ */

int tx_check_usable(FDBTransaction *tr) {
    if (tx_timeout_check(tr)) return tr->cancel_err;
    if (atomic_load_explicit(&tr->state, memory_order_acquire) == TX_COMMITTING)
        return FDB_ERR_USED_DURING_COMMIT;
    return tr->deferred_err;
}

int tx_ensure_snapshot(FDBTransaction *tr) {
    if (tr->snap) {
        if (coarse_now_ns() - tr->snap_time > TRANSACTION_LIFETIME_NS) return FDB_ERR_TRANSACTION_TOO_OLD;
        return 0;
    }
    store *s = tr->db->s;
    int err = tr->wanted_read_version >= 0 ? store_snapshot_at(s, tr->wanted_read_version, &tr->snap)
                                           : store_snapshot_latest(s, &tr->snap);
    if (err) {
        tr->snap = NULL;
        return err;
    }
    tr->snap_time = coarse_now_ns();
    return 0;
}

int tx_cursor(FDBTransaction *tr, store_cursor **out) {
    if (!tr->cur) {
        int err = snapshot_cursor_open(tr->snap, &tr->cur);
        if (err) {
            tr->cur = NULL;
            return err;
        }
    }
    *out = tr->cur;
    return 0;
}

void tx_max_read_key(const FDBTransaction *tr, const uint8_t **key, int *len) {
    *key = (const uint8_t *)"\xff\xff";
    *len = tr->read_system ? 2 : 1;
}

static int push_range(vec *v, arena *a, const uint8_t *b, int bl, const uint8_t *e, int el) {
    key_range *r = vec_push(v);
    if (!r) return FDB_ERR_INTERNAL_ERROR;
    r->begin = arena_dup(a, b, (size_t)bl);
    r->end = arena_dup(a, e, (size_t)el);
    if (!r->begin || !r->end) return FDB_ERR_INTERNAL_ERROR;
    r->begin_len = bl;
    r->end_len = el;
    return 0;
}

/* [key, key + \0) into v. */
static int push_key_range(vec *v, arena *a, const uint8_t *key, int key_len) {
    key_range *r = vec_push(v);
    if (!r) return FDB_ERR_INTERNAL_ERROR;
    uint8_t *k = arena_alloc(a, (size_t)key_len + 1);
    if (!k) return FDB_ERR_INTERNAL_ERROR;
    memcpy(k, key, (size_t)key_len);
    k[key_len] = 0;
    *r = (key_range){k, key_len, k, key_len + 1};
    return 0;
}

int tx_add_read_conflict(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el) {
    if (bytes_cmp(b, bl, e, el) >= 0) return 0;
    tr->wr->size += bl + el;
    return push_range(&tr->wr->reads, &tr->wr->a, b, bl, e, el);
}

/* The next stretch of [pos, e) the transaction's own writes answer on
 * their own (a cleared range or a known value); 0 when there is none. */
static int next_independent(ryw_node **clear, ryw_node **point, const uint8_t *e, int el, const uint8_t **xb,
                            int *xbl, const uint8_t **xe, int *xel, int *point_key) {
    while (*point && (*point)->kind != W_VALUE) *point = ryw_next(*point);
    ryw_node *c = *clear && bytes_cmp((*clear)->key, (*clear)->key_len, e, el) < 0 ? *clear : NULL;
    ryw_node *p = *point && bytes_cmp((*point)->key, (*point)->key_len, e, el) < 0 ? *point : NULL;
    if (!c && !p) return 0;
    if (c && (!p || bytes_cmp(c->key, c->key_len, p->key, p->key_len) <= 0)) {
        *xb = c->key;
        *xbl = c->key_len;
        *xe = c->end;
        *xel = c->end_len;
        *point_key = 0;
        *clear = c->next[0];
    } else {
        *xb = p->key;
        *xbl = p->key_len;
        *point_key = 1;
        *point = ryw_next(p);
    }
    return 1;
}

int tx_add_read_conflict_ryw(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el) {
    ryw *w = tx_ryw_for_read(tr, 0);
    if (!w) return tx_add_read_conflict(tr, b, bl, e, el);
    /* Like FoundationDB, leave out what the transaction's own writes
     * decide: only stored data read can conflict. */
    ryw_node *clear = ryw_clear_from(w, b, bl);
    ryw_node *point = ryw_seek_ge(w, b, bl);
    const uint8_t *pos = b;
    int pl = bl, err = 0;
    const uint8_t *xb, *xe;
    int xbl, xel, point_key;
    while (!err && bytes_cmp(pos, pl, e, el) < 0) {
        if (!next_independent(&clear, &point, e, el, &xb, &xbl, &xe, &xel, &point_key))
            return tx_add_read_conflict(tr, pos, pl, e, el);
        if (point_key) {
            uint8_t *after = arena_alloc(&tr->wr->a, (size_t)xbl + 1);
            if (!after) return FDB_ERR_INTERNAL_ERROR;
            memcpy(after, xb, (size_t)xbl);
            after[xbl] = 0;
            xe = after;
            xel = xbl + 1;
        }
        if (bytes_cmp(xe, xel, pos, pl) <= 0) continue; /* wholly before pos */
        if (bytes_cmp(pos, pl, xb, xbl) < 0) {
            const uint8_t *gap_end = xb;
            int gap_len = xbl;
            if (bytes_cmp(gap_end, gap_len, e, el) > 0) {
                gap_end = e;
                gap_len = el;
            }
            err = tx_add_read_conflict(tr, pos, pl, gap_end, gap_len);
        }
        pos = xe;
        pl = xel;
    }
    return err;
}

int tx_add_read_conflict_key(FDBTransaction *tr, const uint8_t *key, int key_len) {
    tr->wr->size += 2 * key_len + 1;
    return push_key_range(&tr->wr->reads, &tr->wr->a, key, key_len);
}

ryw *tx_ryw_for_read(FDBTransaction *tr, int snapshot) {
    if (tr->ryw_disable || (snapshot && tr->opt.snapshot_ryw_disable)) return NULL;
    return ryw_empty(&tr->wr->w) ? NULL : &tr->wr->w;
}

/* ---- writes ------------------------------------------------------------------ */

/* Write-time errors are remembered and reported by later reads and the
 * commit, as FoundationDB does; the first one wins. */
static void defer(FDBTransaction *tr, int err) {
    if (err && !tr->deferred_err) tr->deferred_err = err;
}

static int check_write_key(FDBTransaction *tr, const uint8_t *key, int key_len) {
    int system = key_len > 0 && key[0] == 0xff;
    if (system && !tr->write_system) return FDB_ERR_KEY_OUTSIDE_LEGAL_RANGE;
    if (system && key_len >= 2 && key[1] == 0xff) return FDB_ERR_KEY_OUTSIDE_LEGAL_RANGE;
    if (key_len > (system ? SYSTEM_KEY_SIZE_LIMIT : KEY_SIZE_LIMIT)) return FDB_ERR_KEY_TOO_LARGE;
    return 0;
}

/* Common entry of set/clear/atomic: 0 when the write may proceed. */
static int writable(FDBTransaction *tr) {
    int state = atomic_load(&tr->state);
    if (state == TX_COMMITTING) {
        defer(tr, FDB_ERR_USED_DURING_COMMIT);
        return FDB_ERR_USED_DURING_COMMIT;
    }
    if (state == TX_CANCELLED) return tr->cancel_err;
    if (!tr->wr) return FDB_ERR_INTERNAL_ERROR;
    return 0;
}

static int transaction_log(FDBTransaction *tr, int kind, int op, const uint8_t *key, int key_len,
                           const uint8_t *end, int end_len, const uint8_t *param, int param_len) {
    tx_writes *wr = tr->wr;
    mutation *m = vec_push(&wr->mutations);
    if (!m) return FDB_ERR_INTERNAL_ERROR;
    m->kind = kind;
    m->op = op;
    m->key = arena_dup(&wr->a, key, (size_t)key_len);
    m->key_len = key_len;
    if (end) {
        m->end = arena_dup(&wr->a, end, (size_t)end_len);
        m->end_len = end_len;
    }
    if (param) {
        m->param = arena_dup(&wr->a, param, (size_t)param_len);
        m->param_len = param_len;
    }
    if (!m->key || (end && !m->end) || (param && !m->param)) return FDB_ERR_INTERNAL_ERROR;
    wr->size += key_len + end_len + param_len + 16;
    return 0;
}

/* The write conflict range of one write, unless next_write_no_write_conflict_range. */
static int write_conflict(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el) {
    if (tr->next_write_no_conflict) {
        tr->next_write_no_conflict = 0;
        return 0;
    }
    tr->wr->size += bl + el;
    if (!e) return push_key_range(&tr->wr->writes, &tr->wr->a, b, bl);
    return push_range(&tr->wr->writes, &tr->wr->a, b, bl, e, el);
}

static void set_locked(FDBTransaction *tr, const uint8_t *key, int key_len, const uint8_t *value,
                       int value_len) {
    if (writable(tr)) return;
    if (sk_contains_key(key, key_len)) {
        defer(tr, sk_set(tr, key, key_len));
        return;
    }
    int err = check_write_key(tr, key, key_len);
    if (!err && value_len > VALUE_SIZE_LIMIT) err = FDB_ERR_VALUE_TOO_LARGE;
    if (!err) err = transaction_log(tr, MUT_SET, 0, key, key_len, NULL, 0, value, value_len);
    if (!err) err = ryw_set(&tr->wr->w, key, key_len, value, value_len);
    if (!err) err = write_conflict(tr, key, key_len, NULL, 0);
    defer(tr, err);
}

static void clear_range(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el) {
    int err = 0;
    const uint8_t *maxk = (const uint8_t *)"\xff\xff";
    int max_len = tr->write_system ? 2 : 1;
    if (bytes_cmp(b, bl, e, el) > 0)
        err = FDB_ERR_INVERTED_RANGE;
    else if (sk_routes_range(b, bl, e, el)) {
        defer(tr, sk_clear_range(tr, b, bl, e, el));
        return;
    } else if (bytes_cmp(b, bl, maxk, max_len) > 0 || bytes_cmp(e, el, maxk, max_len) > 0)
        err = FDB_ERR_KEY_OUTSIDE_LEGAL_RANGE;
    if (err) {
        defer(tr, err);
        return;
    }
    if (bytes_cmp(b, bl, e, el) == 0) return;
    err = transaction_log(tr, MUT_CLEAR_RANGE, 0, b, bl, e, el, NULL, 0);
    if (!err) err = ryw_clear_range(&tr->wr->w, b, bl, e, el);
    if (!err) err = write_conflict(tr, b, bl, e, el);
    defer(tr, err);
}

static void clear_locked(FDBTransaction *tr, const uint8_t *key, int key_len) {
    if (writable(tr)) return;
    if (sk_contains_key(key, key_len)) {
        defer(tr, sk_clear_key(tr, key, key_len));
        return;
    }
    int err = check_write_key(tr, key, key_len);
    if (err == FDB_ERR_KEY_TOO_LARGE) return; /* no key that long exists: FoundationDB ignores it */
    if (err) {
        defer(tr, err);
        return;
    }
    uint8_t *end = arena_alloc(&tr->wr->a, (size_t)key_len + 1);
    if (!end) {
        defer(tr, FDB_ERR_INTERNAL_ERROR);
        return;
    }
    memcpy(end, key, (size_t)key_len);
    end[key_len] = 0;
    clear_range(tr, key, key_len, end, key_len + 1);
}

static void clear_range_locked(FDBTransaction *tr, const uint8_t *begin, int begin_len, const uint8_t *end,
                               int end_len) {
    if (writable(tr)) return;
    clear_range(tr, begin, begin_len, end, end_len);
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Offset of the 10-byte placeholder in a versionstamped key or value (the
 * last 4 bytes, little-endian), or -1 when it does not fit. */
static int64_t stamp_offset(const uint8_t *p, int len) {
    if (len < 4) return -1;
    int64_t off = le32(p + len - 4);
    return off + 10 <= len - 4 ? off : -1;
}

static int versionstamped_key(FDBTransaction *tr, const uint8_t *key, int key_len, const uint8_t *param,
                              int param_len) {
    int64_t off = stamp_offset(key, key_len);
    if (off < 0) return FDB_ERR_CLIENT_INVALID_OPERATION;
    int err = check_write_key(tr, key, key_len - 4);
    if (err) return err;
    if (param_len > VALUE_SIZE_LIMIT) return FDB_ERR_VALUE_TOO_LARGE;
    err = transaction_log(tr, MUT_ATOMIC, FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY, key, key_len, NULL, 0,
                          param, param_len);
    if (err) return err;
    /* The key is only known at commit: conflict with every key it may be. */
    int n = key_len - 4;
    uint8_t *lo = arena_alloc(&tr->wr->a, (size_t)n);
    uint8_t *hi = arena_alloc(&tr->wr->a, (size_t)n + 1);
    if (!lo || !hi) return FDB_ERR_INTERNAL_ERROR;
    memcpy(lo, key, (size_t)n);
    memcpy(hi, key, (size_t)n);
    memset(lo + off, 0x00, 10);
    memset(hi + off, 0xff, 10);
    hi[n] = 0;
    err = ryw_mark_unreadable_range(&tr->wr->w, lo, n, hi, n + 1);
    return err ? err : write_conflict(tr, lo, n, hi, n + 1);
}

static void atomic_op_locked(FDBTransaction *tr, const uint8_t *key, int key_len, const uint8_t *param,
                             int param_len, int op) {
    if (writable(tr)) return;
    int err;
    if (!atomic_is_valid_op(op)) {
        err = FDB_ERR_INVALID_MUTATION_TYPE;
    } else if (op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY) {
        err = versionstamped_key(tr, key, key_len, param, param_len);
    } else {
        err = check_write_key(tr, key, key_len);
        if (!err && param_len > VALUE_SIZE_LIMIT + (op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE ? 4 : 0))
            err = FDB_ERR_VALUE_TOO_LARGE;
        if (!err && op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE && stamp_offset(param, param_len) < 0)
            err = FDB_ERR_CLIENT_INVALID_OPERATION;
        if (!err) err = transaction_log(tr, MUT_ATOMIC, op, key, key_len, NULL, 0, param, param_len);
        if (!err) {
            err = op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE
                      ? ryw_mark_unreadable(&tr->wr->w, key, key_len)
                      : ryw_atomic(&tr->wr->w, key, key_len, op, param, param_len);
        }
        if (!err) err = write_conflict(tr, key, key_len, NULL, 0);
    }
    defer(tr, err);
}

static fdb_error_t add_conflict_range_locked(FDBTransaction *tr, const uint8_t *begin, int begin_len,
                                             const uint8_t *end, int end_len, int type) {
    int err = tx_check_usable(tr);
    if (err) return err;
    if (type != FDB_CONFLICT_RANGE_TYPE_READ && type != FDB_CONFLICT_RANGE_TYPE_WRITE)
        return FDB_ERR_INVALID_OPTION_VALUE;
    if (bytes_cmp(begin, begin_len, end, end_len) > 0) return FDB_ERR_INVERTED_RANGE;
    const uint8_t *maxk;
    int max_len;
    tx_max_read_key(tr, &maxk, &max_len);
    if (bytes_cmp(begin, begin_len, maxk, max_len) > 0 || bytes_cmp(end, end_len, maxk, max_len) > 0)
        return FDB_ERR_KEY_OUTSIDE_LEGAL_RANGE;
    if (bytes_cmp(begin, begin_len, end, end_len) == 0) return 0;
    if (type == FDB_CONFLICT_RANGE_TYPE_READ) return tx_add_read_conflict(tr, begin, begin_len, end, end_len);
    tr->wr->size += begin_len + end_len;
    return push_range(&tr->wr->writes, &tr->wr->a, begin, begin_len, end, end_len);
}

/* ---- versions, sizes ------------------------------------------------------------ */

static void set_read_version_locked(FDBTransaction *tr, int64_t version) {
    /* As FoundationDB: once the transaction has a read version (read,
     * get_read_version or set_read_version) 2010, a version <= 0 2011;
     * reported by the next operations, like write errors. */
    if (tr->snap || tr->wanted_read_version >= 0)
        defer(tr, FDB_ERR_READ_VERSION_ALREADY_SET);
    else if (version <= 0)
        defer(tr, FDB_ERR_VERSION_INVALID);
    else
        tr->wanted_read_version = version;
}

static FDBFuture *get_read_version_locked(FDBTransaction *tr) {
    int err = tx_check_usable(tr);
    if (!err) err = tx_ensure_snapshot(tr);
    if (err) return future_error(err);
    FDBFuture *f = future_new(FK_INT64);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    f->u.i64 = tr->wanted_read_version >= 0 ? tr->wanted_read_version : snapshot_version(tr->snap);
    future_set_ready_fresh(f, 0);
    return f;
}

FDB_EXPORT fdb_error_t fdb_transaction_get_committed_version(FDBTransaction *tr, int64_t *out_version) {
    pthread_mutex_lock(&tr->lock);
    *out_version = tr->committed_version;
    pthread_mutex_unlock(&tr->lock);
    return 0;
}

static FDBFuture *get_approximate_size_locked(FDBTransaction *tr) {
    FDBFuture *f = future_new(FK_INT64);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    f->u.i64 = tr->wr ? tr->wr->size : 0;
    future_set_ready_fresh(f, 0);
    return f;
}

static FDBFuture *get_versionstamp_locked(FDBTransaction *tr) {
    int state = atomic_load(&tr->state);
    if (state == TX_CANCELLED) return future_error(tr->cancel_err);
    if (state == TX_COMMITTING) return future_error(FDB_ERR_USED_DURING_COMMIT);
    FDBFuture *f = future_new(FK_KEY);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    pthread_mutex_lock(&tr->lock);
    if (atomic_load(&tr->state) == TX_COMMITTED) {
        int err = tr->versionstamp_err;
        if (!err && future_reserve(f, 10)) {
            memcpy(f->buf, tr->versionstamp, 10);
            f->buf_len = 10;
        } else if (!err) {
            err = FDB_ERR_INTERNAL_ERROR;
        }
        pthread_mutex_unlock(&tr->lock);
        future_set_ready_fresh(f, err);
        return f;
    }
    future_retain(f);
    f->link = tr->versionstamp_waiters;
    tr->versionstamp_waiters = f;
    pthread_mutex_unlock(&tr->lock);
    return f;
}

FDB_EXPORT FDBFuture *fdb_transaction_get_tag_throttled_duration(FDBTransaction *tr) {
    (void)tr;
    FDBFuture *f = future_new(FK_DOUBLE);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    f->u.d = 0.0;
    future_set_ready_fresh(f, 0);
    return f;
}

static FDBFuture *get_total_cost_locked(FDBTransaction *tr) {
    FDBFuture *f = future_new(FK_INT64);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    f->u.i64 = tr->wr ? tr->wr->size : 0;
    future_set_ready_fresh(f, 0);
    return f;
}

/* ---- watches ------------------------------------------------------------------ */

static FDBFuture *watch_locked(FDBTransaction *tr, const uint8_t *key, int key_len) {
    int err = tx_check_usable(tr);
    if (!err && tr->ryw_disable) err = FDB_ERR_WATCHES_DISABLED;
    const uint8_t *maxk;
    int max_len;
    tx_max_read_key(tr, &maxk, &max_len);
    if (!err && bytes_cmp(key, key_len, maxk, max_len) >= 0) err = FDB_ERR_KEY_OUTSIDE_LEGAL_RANGE;
    if (!err && key_len > (key_len && key[0] == 0xff ? SYSTEM_KEY_SIZE_LIMIT : KEY_SIZE_LIMIT))
        err = FDB_ERR_KEY_TOO_LARGE;
    if (err) return future_error(err);
    FDBFuture *f = NULL;
    tx_watch *x = txw_new(key, key_len, &f);
    if (!x) return future_error(FDB_ERR_INTERNAL_ERROR);
    pthread_mutex_lock(&tr->lock);
    tr->watches = txw_push(tr->watches, x);
    pthread_mutex_unlock(&tr->lock);
    if (tr->opt.timeout_ms) /* the timeout also ends its watches */
        future_set_deadline(f, tx_deadline_ns(tr), FDB_ERR_TRANSACTION_TIMED_OUT);
    return f;
}

/* ---- entry points: one caller at a time per transaction ---- */

FDB_EXPORT void fdb_transaction_reset(FDBTransaction *tr) {
    tx_enter(tr);
    reset_locked(tr);
    tx_leave(tr);
}

FDB_EXPORT fdb_error_t fdb_transaction_set_option(FDBTransaction *tr, int option, const uint8_t *value,
                                                  int value_length) {
    tx_enter(tr);
    fdb_error_t result = set_option_locked(tr, option, bytes_or_empty(value), value_length);
    tx_leave(tr);
    return result;
}

FDB_EXPORT void fdb_transaction_set(FDBTransaction *tr, const uint8_t *key, int key_len, const uint8_t *value,
                                    int value_len) {
    tx_enter(tr);
    set_locked(tr, bytes_or_empty(key), key_len, bytes_or_empty(value), value_len);
    tx_leave(tr);
}

FDB_EXPORT void fdb_transaction_clear(FDBTransaction *tr, const uint8_t *key, int key_len) {
    tx_enter(tr);
    clear_locked(tr, bytes_or_empty(key), key_len);
    tx_leave(tr);
}

FDB_EXPORT void fdb_transaction_clear_range(FDBTransaction *tr, const uint8_t *begin, int begin_len,
                                            const uint8_t *end, int end_len) {
    tx_enter(tr);
    clear_range_locked(tr, bytes_or_empty(begin), begin_len, bytes_or_empty(end), end_len);
    tx_leave(tr);
}

FDB_EXPORT void fdb_transaction_atomic_op(FDBTransaction *tr, const uint8_t *key, int key_len,
                                          const uint8_t *param, int param_len, int op) {
    tx_enter(tr);
    atomic_op_locked(tr, bytes_or_empty(key), key_len, bytes_or_empty(param), param_len, op);
    tx_leave(tr);
}

FDB_EXPORT fdb_error_t fdb_transaction_add_conflict_range(FDBTransaction *tr, const uint8_t *begin,
                                                          int begin_len, const uint8_t *end, int end_len,
                                                          int type) {
    tx_enter(tr);
    fdb_error_t result =
        add_conflict_range_locked(tr, bytes_or_empty(begin), begin_len, bytes_or_empty(end), end_len, type);
    tx_leave(tr);
    return result;
}

FDB_EXPORT void fdb_transaction_set_read_version(FDBTransaction *tr, int64_t version) {
    tx_enter(tr);
    set_read_version_locked(tr, version);
    tx_leave(tr);
}

FDB_EXPORT FDBFuture *fdb_transaction_get_read_version(FDBTransaction *tr) {
    tx_enter(tr);
    FDBFuture *result = get_read_version_locked(tr);
    tx_leave(tr);
    return result;
}

FDB_EXPORT FDBFuture *fdb_transaction_get_approximate_size(FDBTransaction *tr) {
    tx_enter(tr);
    FDBFuture *result = get_approximate_size_locked(tr);
    tx_leave(tr);
    return result;
}

FDB_EXPORT FDBFuture *fdb_transaction_get_versionstamp(FDBTransaction *tr) {
    tx_enter(tr);
    FDBFuture *result = get_versionstamp_locked(tr);
    tx_leave(tr);
    return result;
}

FDB_EXPORT FDBFuture *fdb_transaction_get_total_cost(FDBTransaction *tr) {
    tx_enter(tr);
    FDBFuture *result = get_total_cost_locked(tr);
    tx_leave(tr);
    return result;
}

FDB_EXPORT FDBFuture *fdb_transaction_watch(FDBTransaction *tr, const uint8_t *key, int key_len) {
    tx_enter(tr);
    FDBFuture *result = watch_locked(tr, bytes_or_empty(key), key_len);
    tx_leave(tr);
    return result;
}
