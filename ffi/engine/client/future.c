/* future.c — FDBFuture (see future.h) and its fdb_future_* functions. */
#include "client/future.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "client/database.h"
#include "util/timer.h"

/* One lock for every pending future: completions are rare (commits,
 * watches, retries) and short, so sharing it saves initialising a mutex per
 * read. A thread blocked on a future waits on a lock and condition of its
 * own, listed in the future, and is woken outside the shared lock: a
 * completion wakes only the threads waiting for that future, and they do
 * not then queue for the shared lock behind the thread completing the next
 * one (with one shared condition, 64 committing threads made 64 wake-ups
 * per commit, and each woken thread blocked again on the lock). */
static pthread_mutex_t future_lock = PTHREAD_MUTEX_INITIALIZER;

struct future_blocked {
    atomic_uint woken;
#ifndef __linux__
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
    struct future_blocked *next;
};

#ifdef __linux__
/* Linux: the waiter sleeps on its `woken` word itself (a futex), so waking
 * it is one atomic store and one system call, and the woken thread takes
 * no lock on its way out. The wake may reach the word after its owner has
 * returned: harmless, a futex wake on memory nobody waits on does nothing,
 * and every futex user re-checks its condition. */
static void block_init(struct future_blocked *b) { atomic_init(&b->woken, 0); }
static void block_done(struct future_blocked *b) { (void)b; }

static void block_wait(struct future_blocked *b) {
    while (!atomic_load_explicit(&b->woken, memory_order_acquire))
        syscall(SYS_futex, &b->woken, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static void block_wake(struct future_blocked *b) {
    atomic_store_explicit(&b->woken, 1, memory_order_release);
    syscall(SYS_futex, &b->woken, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
#else
static void block_init(struct future_blocked *b) {
    atomic_init(&b->woken, 0);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
}

static void block_done(struct future_blocked *b) {
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

static void block_wait(struct future_blocked *b) {
    pthread_mutex_lock(&b->mu);
    while (!atomic_load(&b->woken)) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

/* Signalled under its lock: the record is gone once its owner sees `woken`. */
static void block_wake(struct future_blocked *b) {
    pthread_mutex_lock(&b->mu);
    atomic_store(&b->woken, 1);
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}
#endif

#ifdef __linux__
static atomic_uint group_word;    /* bumped by every group wake */
static atomic_int group_sleepers; /* threads asleep on it */
static _Thread_local int group_deferring, future_group_pending;

static void group_wake_all(void) {
    atomic_thread_fence(memory_order_seq_cst); /* the futures' `ready` first */
    atomic_fetch_add(&group_word, 1);
    if (atomic_load(&group_sleepers))
        syscall(SYS_futex, &group_word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Sleep until f is ready. The word is read before `ready`, so a wake between
 * the two changes it and the futex call returns at once. */
static void group_wait(FDBFuture *f) {
    atomic_fetch_add(&group_sleepers, 1);
    for (;;) {
        unsigned seen = atomic_load(&group_word);
        if (atomic_load(&f->ready)) break;
        syscall(SYS_futex, &group_word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
    }
    atomic_fetch_sub(&group_sleepers, 1);
}

static void group_completed(void) {
    if (group_deferring)
        future_group_pending = 1;
    else
        group_wake_all();
}

void future_wake_as_group(FDBFuture *f) { f->group_wake = 1; }
void future_defer_group_wakes(void) { group_deferring = 1; }

void future_flush_group_wakes(void) {
    group_deferring = 0;
    if (future_group_pending) {
        future_group_pending = 0;
        group_wake_all();
    }
}
#else
/* Elsewhere group futures keep per-waiter wakes. */
static void group_completed(void) {}
void future_wake_as_group(FDBFuture *f) { (void)f; }
void future_defer_group_wakes(void) {}
void future_flush_group_wakes(void) {}
#endif

/* Recycled futures keep their buffers to avoid malloc churn: each buffer up
 * to a whole iterator-mode batch (120,000 bytes of pairs and their array),
 * the pool's buffers up to POOL_BYTES_MAX together. Freeing a range batch's
 * buffers made the next batch grow them again from 64 bytes, and glibc
 * served and returned sizes like these with mmap, a page fault per 4 KiB. */
#define POOL_MAX       128
#define KEEP_BUF_MAX   (256 * 1024)
#define POOL_BYTES_MAX (4 << 20)
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static FDBFuture *pool;
static int pool_size;
static size_t pool_bytes; /* buffer bytes held by pooled futures */

static size_t buffer_bytes(const FDBFuture *f) { return f->buf_cap + f->kvs_cap * sizeof(FDBKeyValue); }

/* A child forked while another thread held one of these locks would
 * deadlock on its first future: give the child fresh ones. */
static void after_fork_child(void) {
    pthread_mutex_init(&future_lock, NULL);
    pthread_mutex_init(&pool_lock, NULL);
}

__attribute__((constructor)) static void register_fork_handler(void) {
    pthread_atfork(NULL, NULL, after_fork_child);
}

static FDBFuture *pool_take(void) {
    pthread_mutex_lock(&pool_lock);
    FDBFuture *f = pool;
    if (f) {
        pool = f->link;
        pool_size--;
        pool_bytes -= buffer_bytes(f);
    }
    pthread_mutex_unlock(&pool_lock);
    return f;
}

/* What the future holds besides its buffers is released by its maker's
 * hook (a database nobody took: api_unsupported.c). */
static void free_payload(FDBFuture *f) {
    if (f->on_free) f->on_free(f->hook_ctx);
}

static void recycle(FDBFuture *f) {
    free_payload(f);
    if (f->buf_cap > KEEP_BUF_MAX) {
        free(f->buf);
        f->buf = NULL;
        f->buf_cap = 0;
    }
    if (f->kvs_cap * sizeof(FDBKeyValue) > KEEP_BUF_MAX) {
        free(f->kvs);
        f->kvs = NULL;
        f->kvs_cap = 0;
    }
    pthread_mutex_lock(&pool_lock);
    if (pool_size < POOL_MAX) {
        if (pool_bytes + buffer_bytes(f) > POOL_BYTES_MAX) {
            free(f->buf);
            free(f->kvs);
            f->buf = NULL, f->kvs = NULL;
            f->buf_cap = f->kvs_cap = 0;
        }
        pool_bytes += buffer_bytes(f);
        f->link = pool;
        pool = f;
        pool_size++;
        f = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    if (f) {
        free(f->buf);
        free(f->kvs);
        free(f);
    }
}

FDBFuture *future_new(int kind) {
    FDBFuture *f = pool_take();
    uint8_t *buf = NULL;
    size_t buf_cap = 0;
    FDBKeyValue *kvs = NULL;
    size_t kvs_cap = 0;
    if (f) {
        buf = f->buf;
        buf_cap = f->buf_cap;
        kvs = f->kvs;
        kvs_cap = f->kvs_cap;
    } else {
        f = malloc(sizeof(FDBFuture));
        if (!f) return NULL;
    }
    memset(f, 0, sizeof(*f));
    f->buf = buf;
    f->buf_cap = buf_cap;
    f->kvs = kvs;
    f->kvs_cap = kvs_cap;
    f->kind = kind;
    atomic_init(&f->ready, 0);
    atomic_init(&f->refs, 1);
    return f;
}

/* Futures that cannot even be allocated still need a valid handle: a
 * static one, complete with internal_error, that destroy never frees. */
static FDBFuture oom_future = {.ready = 1, .refs = 1 << 30, .err = FDB_ERR_INTERNAL_ERROR};

FDBFuture *future_error(int err) {
    FDBFuture *f = future_new(FK_NONE);
    if (!f) return &oom_future;
    future_set_ready_fresh(f, err);
    return f;
}

void future_retain(FDBFuture *f) { atomic_fetch_add(&f->refs, 1); }

void future_release(FDBFuture *f) {
    if (f == &oom_future) return;
    if (atomic_fetch_sub(&f->refs, 1) == 1) recycle(f);
}

uint8_t *future_reserve(FDBFuture *f, size_t n) {
    if (n > f->buf_cap) {
        size_t cap = f->buf_cap ? f->buf_cap : 64;
        while (cap < n) cap *= 2;
        uint8_t *b = realloc(f->buf, cap);
        if (!b) return NULL;
        f->buf = b;
        f->buf_cap = cap;
    }
    return f->buf;
}

int future_reserve_kvs(FDBFuture *f, size_t n) {
    if (n > f->kvs_cap) {
        size_t cap = f->kvs_cap ? f->kvs_cap : 16;
        while (cap < n) cap *= 2;
        FDBKeyValue *k = realloc(f->kvs, cap * sizeof(FDBKeyValue));
        if (!k) return FDB_ERR_INTERNAL_ERROR;
        f->kvs = k;
        f->kvs_cap = cap;
    }
    return 0;
}

static void drop_timer_reference(FDBFuture *f) {
    int before = atomic_fetch_sub(&f->refs, 1);
    assert(before > 1);
    (void)before;
}

int future_complete(FDBFuture *f, int err) {
    pthread_mutex_lock(&future_lock);
    if (atomic_load(&f->ready)) {
        pthread_mutex_unlock(&future_lock);
        return 1;
    }
    f->err = err;
    FDBCallback cb = f->callback;
    void *param = f->callback_param;
    f->callback = NULL;
    f->on_cancel = NULL;
    atomic_store_explicit(&f->ready, 1, memory_order_release);
    uint64_t timer = f->deadline_timer;
    f->deadline_timer = 0;
    struct future_blocked *blocked = f->blocked;
    f->blocked = NULL;
    int group = f->group_wake;
    pthread_mutex_unlock(&future_lock);
    if (group) group_completed();
    while (blocked) {
        /* The record lives on its waiter's stack: read `next` before waking. */
        struct future_blocked *next = blocked->next;
        block_wake(blocked);
        blocked = next;
    }
    if (cb) cb(f, param);
    /* Completed first: the deadline's reference goes with its timer. The
     * caller still holds a reference, so it is never the last one: dropped
     * without the recycling path of future_release. */
    if (timer && timer_cancel(timer)) drop_timer_reference(f);
    return 0;
}

static void deadline_passed(void *ctx) {
    FDBFuture *f = ctx;
    future_abort(f, f->deadline_err);
    future_release(f);
}

void future_set_deadline(FDBFuture *f, int64_t deadline_ns, int err) {
    pthread_mutex_lock(&future_lock);
    int pending = !atomic_load(&f->ready);
    if (pending) f->deadline_err = err;
    pthread_mutex_unlock(&future_lock);
    if (!pending) return;
    future_retain(f); /* the timer's reference */
    uint64_t id = timer_after(deadline_ns - now_ns(), deadline_passed, f);
    pthread_mutex_lock(&future_lock);
    if (id && !atomic_load(&f->ready)) {
        f->deadline_timer = id;
        id = 0;
    }
    pthread_mutex_unlock(&future_lock);
    /* Completed meanwhile: take the timer back if it has not run. */
    if (id && timer_cancel(id)) future_release(f);
}

/* --- C API ---------------------------------------------------------------- */

FDB_EXPORT fdb_bool_t fdb_future_is_ready(FDBFuture *f) {
    return atomic_load_explicit(&f->ready, memory_order_acquire) != 0;
}

FDB_EXPORT fdb_bool_t fdb_future_is_error(FDBFuture *f) { return fdb_future_is_ready(f) && f->err != 0; }

FDB_EXPORT fdb_error_t fdb_future_block_until_ready(FDBFuture *f) {
    if (fdb_future_is_ready(f)) return 0;
#ifdef __linux__
    if (f->group_wake) {
        group_wait(f);
        return 0;
    }
#endif
    struct future_blocked me;
    block_init(&me);
    pthread_mutex_lock(&future_lock);
    int pending = !atomic_load(&f->ready);
    if (pending) {
        me.next = f->blocked;
        f->blocked = &me;
    }
    pthread_mutex_unlock(&future_lock);
    if (pending) block_wait(&me);
    block_done(&me);
    return 0;
}

FDB_EXPORT fdb_error_t fdb_future_set_callback(FDBFuture *f, FDBCallback callback, void *callback_parameter) {
    if (!fdb_future_is_ready(f)) {
        pthread_mutex_lock(&future_lock);
        if (!atomic_load(&f->ready)) {
            f->callback = callback;
            f->callback_param = callback_parameter;
            pthread_mutex_unlock(&future_lock);
            return 0;
        }
        pthread_mutex_unlock(&future_lock);
    }
    callback(f, callback_parameter);
    return 0;
}

void future_abort(FDBFuture *f, int err) {
    if (fdb_future_is_ready(f)) return;
    pthread_mutex_lock(&future_lock);
    void (*hook)(void *) = atomic_load(&f->ready) ? NULL : f->on_cancel;
    void *ctx = f->hook_ctx;
    f->on_cancel = NULL;
    pthread_mutex_unlock(&future_lock);
    future_complete(f, err);
    if (hook) hook(ctx);
}

FDB_EXPORT void fdb_future_cancel(FDBFuture *f) { future_abort(f, FDB_ERR_OPERATION_CANCELLED); }

FDB_EXPORT void fdb_future_release_memory(FDBFuture *f) {
    if (!fdb_future_is_ready(f) || f == &oom_future) return;
    f->released = 1;
}

FDB_EXPORT void fdb_future_destroy(FDBFuture *f) {
    if (!f) return;
    fdb_future_cancel(f);
    future_release(f);
}

FDB_EXPORT fdb_error_t fdb_future_get_error(FDBFuture *f) {
    if (!fdb_future_is_ready(f)) return FDB_ERR_FUTURE_NOT_SET;
    return f->err;
}

/* Common checks of every result accessor. */
static int check(FDBFuture *f, int kind) {
    if (!fdb_future_is_ready(f)) return FDB_ERR_FUTURE_NOT_SET;
    if (f->err) return f->err;
    if (f->released) return FDB_ERR_FUTURE_RELEASED;
    if (f->kind != kind) return FDB_ERR_CLIENT_INVALID_OPERATION;
    return 0;
}

FDB_EXPORT fdb_error_t fdb_future_get_int64(FDBFuture *f, int64_t *out) {
    int err = check(f, FK_INT64);
    if (!err) *out = f->u.i64;
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_version(FDBFuture *f, int64_t *out_version) {
    return fdb_future_get_int64(f, out_version);
}

FDB_EXPORT fdb_error_t fdb_future_get_uint64(FDBFuture *f, uint64_t *out) {
    int err = check(f, FK_INT64);
    if (!err) *out = (uint64_t)f->u.i64;
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_double(FDBFuture *f, double *out) {
    int err = check(f, FK_DOUBLE);
    if (!err) *out = f->u.d;
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_bool(FDBFuture *f, fdb_bool_t *out) {
    int err = check(f, FK_BOOL);
    if (!err) *out = f->u.b;
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_key(FDBFuture *f, const uint8_t **out_key, int *out_key_length) {
    int err = check(f, FK_KEY);
    if (!err) {
        *out_key = f->buf ? f->buf : (const uint8_t *)"";
        *out_key_length = (int)f->buf_len;
    }
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_value(FDBFuture *f, fdb_bool_t *out_present, const uint8_t **out_value,
                                            int *out_value_length) {
    int err = check(f, FK_VALUE);
    if (!err) {
        *out_present = f->present;
        *out_value = f->present ? (f->buf ? f->buf : (const uint8_t *)"") : NULL;
        *out_value_length = f->present ? (int)f->buf_len : 0;
    }
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_keyvalue_array(FDBFuture *f, const FDBKeyValue **out_kv, int *out_count,
                                                     fdb_bool_t *out_more) {
    int err = check(f, FK_KV_ARRAY);
    if (!err) {
        *out_kv = f->kvs;
        *out_count = f->count;
        *out_more = f->more;
    }
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_key_array(FDBFuture *f, const FDBKey **out_key_array, int *out_count) {
    int err = check(f, FK_KEY_ARRAY);
    if (!err) {
        *out_key_array = (const FDBKey *)f->kvs;
        *out_count = f->count;
    }
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_string_array(FDBFuture *f, const char ***out_strings, int *out_count) {
    int err = check(f, FK_STRING_ARRAY);
    if (!err) {
        *out_strings = (const char **)f->kvs;
        *out_count = f->count;
    }
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_database(FDBFuture *f, FDBDatabase **out_database) {
    int err = check(f, FK_DATABASE);
    if (!err) {
        *out_database = (FDBDatabase *)f->u.ptr;
        f->u.ptr = NULL; /* the caller owns it now */
    }
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_cluster(FDBFuture *f, FDBCluster **out_cluster) {
    int err = check(f, FK_CLUSTER);
    if (!err) *out_cluster = (FDBCluster *)f->u.ptr;
    return err;
}

/* Kinds the engine never produces: a ready future of another kind gives
 * client_invalid_operation, like any accessor of the wrong type. */
FDB_EXPORT fdb_error_t fdb_future_get_mappedkeyvalue_array(FDBFuture *f, const FDBMappedKeyValue **out_kv,
                                                           int *out_count, fdb_bool_t *out_more) {
    (void)out_kv;
    (void)out_count;
    (void)out_more;
    int err = check(f, -1);
    return err;
}

FDB_EXPORT fdb_error_t fdb_future_get_keyrange_array(FDBFuture *f, const FDBKeyRange **out_ranges,
                                                     int *out_count) {
    (void)out_ranges;
    (void)out_count;
    return check(f, -1);
}

FDB_EXPORT fdb_error_t fdb_future_get_granule_summary_array(FDBFuture *f,
                                                            const FDBGranuleSummary **out_summaries,
                                                            int *out_count) {
    (void)out_summaries;
    (void)out_count;
    return check(f, -1);
}

FDB_EXPORT fdb_error_t fdb_future_get_shared_state(FDBFuture *f, DatabaseSharedState **out_state) {
    (void)out_state;
    return check(f, -1);
}

FDB_EXPORT fdb_error_t fdb_future_readbg_get_descriptions(FDBFuture *f, FDBBGFileDescription **out,
                                                          int *desc_count) {
    (void)out;
    (void)desc_count;
    return check(f, -1);
}
