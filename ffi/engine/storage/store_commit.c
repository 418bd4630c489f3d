/*
 * store_commit.c — group commit. One thread per store drains the queue and
 * applies the whole batch in one LMDB write transaction and one fsync;
 * LMDB's writer lock orders batches across processes.
 *
 * Within a batch, requests are taken in queue order: each is checked for
 * conflicts (against history newer than its read version and against the
 * requests accepted before it in the batch), then its mutations are applied.
 * Mutations are validated before anything is written, so the only failures
 * after that are LMDB's own (disk full, I/O), which fail the whole batch.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/atomic.h"
#include "util/gen_errors.h"
#include "util/gen_options.h"
#include "storage/store_internal.h"

struct batch {
    commit_request **req;
    int *err;
    uint16_t *index;
    int n;
    /* write ranges of accepted requests, for conflicts within the batch */
    const key_range **ranges;
    int *n_ranges;
    int n_accepted;
    /* versionstamped keys resolved at commit, recorded as write ranges */
    key_range *stamped;
    uint8_t *stamped_keys;
    uint8_t *scratch;   /* ATOMIC_MAX_RESULT bytes for atomic results */
    MDB_cursor *cursor; /* for store_data_put, while the batch's transaction lasts */
    int64_t version;
    int fail; /* the whole batch failed with this error */
    struct batch *next_done;
};

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Offset of the versionstamp in a versionstamped key or value, or -1. */
static int64_t stamp_offset(const uint8_t *p, int len) {
    if (len < 4) return -1;
    uint32_t off = le32(p + len - 4);
    return (int64_t)off + 10 <= len - 4 ? (int64_t)off : -1;
}

static int validate(const commit_request *r) {
    for (int i = 0; i < r->n_mutations; i++) {
        const mutation *m = &r->mutations[i];
        int key_len = m->key_len;
        if (m->kind == MUT_CLEAR_RANGE) continue;
        if (m->kind == MUT_ATOMIC) {
            if (!atomic_is_valid_op(m->op)) return FDB_ERR_INVALID_MUTATION_TYPE;
            if (m->op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY) {
                if (stamp_offset(m->key, m->key_len) < 0) return FDB_ERR_CLIENT_INVALID_OPERATION;
                key_len -= 4;
            }
            if (m->op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE &&
                stamp_offset(m->param, m->param_len) < 0)
                return FDB_ERR_CLIENT_INVALID_OPERATION;
            if (m->param_len > ATOMIC_MAX_RESULT + 4) return FDB_ERR_VALUE_TOO_LARGE;
        } else if (m->kind != MUT_SET) {
            return FDB_ERR_INVALID_MUTATION_TYPE;
        }
        if (key_len > STORE_KEY_LIMIT) return FDB_ERR_KEY_TOO_LARGE;
    }
    return 0;
}

static int atomic(MDB_txn *txn, store *s, batch *b, const mutation *m, uint8_t *scratch) {
    const uint8_t *old = NULL;
    int found, old_len = 0, out_len = 0, present = 0;
    int err = store_data_get(txn, s, m->key, m->key_len, &found, &old, &old_len);
    if (err) return err == FDB_ERR_FILE_CORRUPT ? MDB_CORRUPTED : EIO;
    if (atomic_apply(m->op, found, old, old_len, m->param, m->param_len, scratch, &out_len, &present))
        return MDB_BAD_VALSIZE; /* unreachable: ops were validated */
    if (!present) return found ? store_data_del(txn, s, m->key, m->key_len) : 0;
    return store_data_put(txn, s, &b->cursor, m->key, m->key_len, scratch, out_len);
}

static void store_stamp(uint8_t out[10], int64_t version, uint16_t index) {
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)((uint64_t)version >> (56 - 8 * i));
    out[8] = (uint8_t)(index >> 8);
    out[9] = (uint8_t)index;
}

/* Apply one request's mutations; versionstamped keys are appended to
 * b->stamped (with their keys copied into *keys) as extra write ranges. */
static int apply(MDB_txn *txn, store *s, batch *b, const commit_request *r, int64_t version, uint16_t index,
                 int *n_stamped, uint8_t **keys) {
    uint8_t stamp[10];
    store_stamp(stamp, version, index);
    for (int i = 0; i < r->n_mutations; i++) {
        const mutation *m = &r->mutations[i];
        int rc = 0;
        if (m->kind == MUT_SET) {
            rc = store_data_put(txn, s, &b->cursor, m->key, m->key_len, m->param, m->param_len);
        } else if (m->kind == MUT_CLEAR_RANGE) {
            rc = store_data_clear_range(txn, s, m->key, m->key_len, m->end, m->end_len);
        } else if (m->op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY) {
            int len = m->key_len - 4;
            uint8_t *key = *keys;
            memcpy(key, m->key, (size_t)len);
            memcpy(key + le32(m->key + len), stamp, 10);
            key[len] = 0; /* the range [key, key + \0) */
            b->stamped[*n_stamped] = (key_range){key, len, key, len + 1};
            ++*n_stamped;
            *keys += len + 1;
            rc = store_data_put(txn, s, &b->cursor, key, len, m->param, m->param_len);
        } else if (m->op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE) {
            int len = m->param_len - 4;
            memcpy(b->scratch, m->param, (size_t)len);
            memcpy(b->scratch + le32(m->param + len), stamp, 10);
            rc = store_data_put(txn, s, &b->cursor, m->key, m->key_len, b->scratch, len);
        } else {
            rc = atomic(txn, s, b, m, b->scratch);
        }
        if (rc) return rc;
    }
    return 0;
}

static int conflicts_in_batch(const batch *b, const read_set *rs) {
    for (int i = 0; i < b->n_accepted; i++)
        if (conflicts_ranges_meet(rs, b->ranges[i], b->n_ranges[i])) return 1;
    return 0;
}

/* Whether request r may commit: 0, 1007 or 1020 in *verdict; an LMDB error
 * (or ENOMEM) as the result. */
static int decide(MDB_txn *txn, store *s, const batch *b, const commit_request *r, int64_t floor,
                  int *verdict) {
    read_set rs = {NULL, 0};
    int conflict = 0, rc = 0;
    *verdict = 0;
    if (r->n_reads == 0) return 0;
    if (r->read_version < floor) {
        *verdict = FDB_ERR_TRANSACTION_TOO_OLD;
        return 0;
    }
    rc = conflicts_check(txn, s, r, &rs, &conflict);
    if (!rc && !conflict && b->n_accepted) {
        if (!rs.r) rc = conflicts_reads_prepare(r->reads, r->n_reads, &rs);
        if (!rc) conflict = conflicts_in_batch(b, &rs);
    }
    conflicts_reads_free(&rs);
    if (conflict) *verdict = FDB_ERR_NOT_COMMITTED;
    return rc;
}

/* Decide and apply every request of the batch inside `txn`. */
static int run_batch(MDB_txn *txn, store *s, batch *b, int64_t version) {
    int64_t floor;
    int rc = conflicts_prune(txn, s, version);
    if (!rc) rc = conflicts_floor(txn, s, &floor);
    if (rc) return rc;
    int n_stamped = 0;
    uint8_t *keys = b->stamped_keys;
    uint16_t next_index = 0;
    for (int i = 0; i < b->n; i++) {
        commit_request *r = b->req[i];
        if ((rc = decide(txn, s, b, r, floor, &b->err[i]))) return rc;
        if (b->err[i] || (b->err[i] = validate(r))) continue;
        b->index[i] = next_index++;
        if ((rc = apply(txn, s, b, r, version, b->index[i], &n_stamped, &keys))) return rc;
        b->ranges[b->n_accepted] = r->writes;
        b->n_ranges[b->n_accepted++] = r->n_writes;
    }
    if (!b->n_accepted) return 0; /* nothing to write: the caller aborts */
    /* One history entry for the whole batch (one entry per request cost a
     * B-tree insert each and a page more per fsync). */
    b->ranges[b->n_accepted] = b->stamped;
    b->n_ranges[b->n_accepted] = n_stamped;
    if ((rc = conflicts_record(txn, s, version, b->ranges, b->n_ranges, b->n_accepted + 1))) return rc;
    return store_meta_put_i64(txn, s, "version", version);
}

static int batch_alloc(batch *b, commit_request *list) {
    if (!list) return FDB_ERR_INTERNAL_ERROR; /* the commit thread never forms an empty batch */
    int n = 0, n_stamped = 0;
    size_t key_bytes = 0;
    for (commit_request *r = list; r; r = r->next, n++)
        for (int i = 0; i < r->n_mutations; i++)
            if (r->mutations[i].kind == MUT_ATOMIC &&
                r->mutations[i].op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY)
                n_stamped++, key_bytes += (size_t)r->mutations[i].key_len;
    b->n = n;
    b->n_accepted = 0;
    if (!(b->req = malloc(sizeof *b->req * (size_t)n))) return FDB_ERR_INTERNAL_ERROR;
    n = 0;
    for (commit_request *r = list; r; r = r->next) b->req[n++] = r;
    b->err = calloc((size_t)n, sizeof *b->err);
    b->index = calloc((size_t)n, sizeof *b->index);
    b->ranges = malloc(sizeof *b->ranges * (size_t)(n + 1)); /* + the stamped keys */
    b->n_ranges = malloc(sizeof *b->n_ranges * (size_t)(n + 1));
    b->stamped = malloc(sizeof *b->stamped * (size_t)(n_stamped + 1));
    b->stamped_keys = malloc(key_bytes + 1);
    if (!b->err || !b->index || !b->ranges || !b->n_ranges || !b->stamped || !b->stamped_keys)
        return FDB_ERR_INTERNAL_ERROR;
    return 0;
}

static void batch_free(batch *b) {
    free(b->req);
    free(b->err);
    free(b->index);
    free(b->ranges);
    free(b->n_ranges);
    free(b->stamped);
    free(b->stamped_keys);
    free(b);
}

/* 1 when nothing in the batch writes: no LMDB write transaction needed. */
static int read_only(const batch *b) {
    for (int i = 0; i < b->n; i++)
        if (b->req[i]->n_mutations || b->req[i]->n_writes) return 0;
    return 1;
}

/* Call every request's done() and free the batch: on the completer thread,
 * so the committer can start the next batch (and its fsync) meanwhile. */
static void complete(store *s, batch *b) {
    for (int i = 0; i < b->n; i++) {
        int e = b->fail ? b->fail : b->err[i];
        /* read first: done() may free the request */
        void (*after)(void) = b->req[i]->after_batch;
        b->req[i]->done(b->req[i], e, e ? 0 : b->version, e ? 0 : b->index[i]);
        if (after && (i + 1 == b->n || b->req[i + 1]->after_batch != after)) after();
    }
    int kick = !b->fail;
    batch_free(b);
    if (kick) watches_kick(s);
}

/* Woken by the commit thread as it hands a batch over, the completion
 * thread must not take that thread's CPU. Under Linux's default policy it
 * often preempts its waker, which then waits through the batch's done()
 * calls (~20 µs for 32 requests) before it can start the next fsync. A
 * batch thread never preempts on waking: it runs on the other CPU, or on
 * this one once the commit thread sleeps in fsync. Measured with 64
 * asyncio tasks: the hand-over 20.8 -> 1.5 µs per batch, +3-5 % commits/s;
 * blocking and callback clients unchanged. Best effort; elsewhere a no-op. */
static void yield_to_committer(void) {
#ifdef SCHED_BATCH
    struct sched_param none = {0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
#endif
}

static void *store_completer(void *arg) {
    store *s = arg;
    yield_to_committer();
    pthread_mutex_lock(&s->done_mu);
    for (;;) {
        while (!s->done_head && !s->done_stopping) pthread_cond_wait(&s->done_cv, &s->done_mu);
        batch *list = s->done_head;
        if (!list) break;
        s->done_head = s->done_tail = NULL;
        s->done_busy = 1;
        pthread_mutex_unlock(&s->done_mu);
        for (batch *b = list, *next; b; b = next) {
            next = b->next_done;
            complete(s, b);
        }
        pthread_mutex_lock(&s->done_mu);
        s->done_busy = 0;
    }
    pthread_mutex_unlock(&s->done_mu);
    return NULL;
}

/* When no request waits for the next batch and the completion thread is
 * idle, the commit thread tells this batch's clients itself: the next batch
 * is most likely theirs, so nothing is gained by handing over, and two
 * thread wake-ups per batch are saved. Completion order holds: every earlier
 * batch is already complete. */
static int complete_here(store *s, batch *b) {
    pthread_mutex_lock(&s->mu);
    int waiting = s->head != NULL;
    pthread_mutex_unlock(&s->mu);
    if (waiting) return 0;
    pthread_mutex_lock(&s->done_mu);
    int idle = !s->done_head && !s->done_busy;
    pthread_mutex_unlock(&s->done_mu);
    if (!idle) return 0; /* only this thread hands batches over: stays idle */
    complete(s, b);
    return 1;
}

static void hand_to_completer(store *s, batch *b) {
    pthread_mutex_lock(&s->done_mu);
    if (s->done_tail)
        s->done_tail->next_done = b;
    else
        s->done_head = b;
    s->done_tail = b;
    pthread_cond_signal(&s->done_cv);
    pthread_mutex_unlock(&s->done_mu);
}

/* Complete a request outside any batch (refused or out of memory). */
static void complete_alone(commit_request *r, int err) {
    void (*after)(void) = r->after_batch;
    r->done(r, err, 0, 0);
    if (after) after();
}

static void commit_batch(store *s, commit_request *list, uint8_t *scratch) {
    batch *b = calloc(1, sizeof *b);
    int err = b ? batch_alloc(b, list) : FDB_ERR_INTERNAL_ERROR;
    if (!b || !b->req) { /* out of memory before the batch began */
        for (commit_request *r = list, *next; r; r = next) {
            next = r->next;
            complete_alone(r, FDB_ERR_INTERNAL_ERROR);
        }
        if (b) batch_free(b);
        return;
    }
    b->scratch = scratch;
    if (!err && read_only(b)) {
        b->version = store_committed_version(s);
    } else if (!err) {
        MDB_txn *txn;
        int64_t last;
        int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        if (!rc) {
            rc = store_meta_get_i64(txn, s, "version", &last);
            if (!rc) b->version = versions_next(last);
            if (!rc) rc = run_batch(txn, s, b, b->version);
            if (b->cursor) mdb_cursor_close(b->cursor);
            b->cursor = NULL;
            if (!rc && b->n_accepted)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn); /* failed, or every request was refused */
        }
        err = store_lmdb_error(rc);
        if (!err && b->n_accepted) {
            int64_t seen = atomic_load(&s->committed);
            while (seen < b->version && !atomic_compare_exchange_weak(&s->committed, &seen, b->version)) {}
        }
    }
    b->fail = err;
    b->scratch = NULL;
    if (!complete_here(s, b)) hand_to_completer(s, b);
}

/* Let a batch fill up: when fewer requests wait than recent batches held
 * (`expect`, the largest recent batch, decaying), their clients are most
 * likely still being told of the last batch and about to commit again, so
 * wait for them — for as long as s->gathering says (store_gather.c) —
 * rather than pay a whole fsync for a few. A lone sequential client never
 * waits (its batches hold one request). Caller holds s->mu. */
static void gather(store *s, int expect, int64_t last_sync_ns) {
    if (s->queued >= expect || s->stopping) return;
    int64_t wait = gather_wait_ns(&s->gathering, last_sync_ns);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += (long)wait;
    while (t.tv_nsec >= 1000000000) t.tv_sec++, t.tv_nsec -= 1000000000;
    s->wake_at = expect;
    while (s->queued < expect && !s->stopping)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &t)) break;
    s->wake_at = INT_MAX;
}

static int64_t store_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static size_t request_bytes(const commit_request *r) {
    size_t n = 0;
    for (int i = 0; i < r->n_mutations; i++)
        n += (size_t)r->mutations[i].key_len + (size_t)r->mutations[i].end_len +
             (size_t)r->mutations[i].param_len;
    return n;
}

/* Detach the next batch from the queue: everything queued, up to
 * STORE_BATCH_MAX_REQUESTS requests or STORE_BATCH_MAX_BYTES of mutations
 * (at least one request), so one batch's write transaction stays bounded.
 * Caller holds s->mu. */
static commit_request *take_batch(store *s, int *n) {
    commit_request *list = s->head, *last = list;
    size_t bytes = request_bytes(list);
    *n = 1;
    while (last->next && *n < STORE_BATCH_MAX_REQUESTS &&
           (bytes += request_bytes(last->next)) <= STORE_BATCH_MAX_BYTES) {
        last = last->next;
        ++*n;
    }
    s->head = last->next;
    if (!s->head) s->tail = NULL;
    last->next = NULL;
    s->queued -= *n;
    return list;
}

static void *store_committer(void *arg) {
    store *s = arg;
    int expect = 0;
    int64_t last_sync_ns = 0, last_expire_ns = store_now_ns();
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping) {
            /* idle: every second, let go of what pins old pages */
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            t.tv_sec += 1;
            s->wake_at = 1;
            int64_t idle_since = store_now_ns();
            int timed_out = pthread_cond_timedwait(&s->cv, &s->mu, &t);
            gather_note_idle(&s->gathering, store_now_ns() - idle_since);
            s->wake_at = INT_MAX;
            if (timed_out && !s->head) {
                pthread_mutex_unlock(&s->mu);
                versions_snapshots_expire(s);
                pthread_mutex_lock(&s->mu);
            }
        }
        if (!s->head) break;
        gather(s, expect, last_sync_ns);
        int n = 0;
        commit_request *list = take_batch(s, &n);
        expect = n > expect * 7 / 8 ? n : expect * 7 / 8;
        pthread_mutex_unlock(&s->mu);
        int64_t start = store_now_ns();
        commit_batch(s, list, s->scratch);
        int64_t end = store_now_ns();
        last_sync_ns = end - start;
        gather_note_batch(&s->gathering, n, end);
        if (start - last_expire_ns >= STORE_EXPIRE_NS) {
            /* busy for a second: do it anyway — the reader slots of a process
             * killed mid-read pin every page freed since, for as long as the
             * load goes on, unless someone clears them */
            versions_snapshots_expire(s);
            last_expire_ns = start;
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void store_commit_submit(store *s, commit_request *req) {
    req->next = NULL;
    if (store_inherited(s)) { /* no commit thread here: refuse at once */
        complete_alone(req, FDB_ERR_CLIENT_INVALID_OPERATION);
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (s->tail)
        s->tail->next = req;
    else
        s->head = req;
    s->tail = req;
    /* wake the committer only when it waits for this many requests */
    if (++s->queued >= s->wake_at) pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Named for top, gdb and perf (Linux; a no-op elsewhere). */
static void name_thread(pthread_t t, const char *name) {
#ifdef __linux__
    pthread_setname_np(t, name);
#else
    (void)t;
    (void)name;
#endif
}

int store_commit_start(store *s) {
    if (!(s->scratch = malloc(ATOMIC_MAX_RESULT + 16))) return -1;
    if (pthread_create(&s->completer, NULL, store_completer, s)) return -1;
    name_thread(s->completer, "found-complete");
    if (!pthread_create(&s->committer, NULL, store_committer, s)) {
        name_thread(s->committer, "found-commit");
        return 0;
    }
    pthread_mutex_lock(&s->done_mu);
    s->done_stopping = 1;
    pthread_cond_signal(&s->done_cv);
    pthread_mutex_unlock(&s->done_mu);
    pthread_join(s->completer, NULL);
    return -1;
}

void store_commit_stop(store *s) {
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->committer, NULL);
    pthread_mutex_lock(&s->done_mu); /* then let every done() run */
    s->done_stopping = 1;
    pthread_cond_signal(&s->done_cv);
    pthread_mutex_unlock(&s->done_mu);
    pthread_join(s->completer, NULL);
}
