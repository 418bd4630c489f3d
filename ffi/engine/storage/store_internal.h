/*
 * store_internal.h — shared structures of the storage core (store*.c,
 * versions.c, conflicts.c, watches.c). Not part of the engine's interface.
 *
 * On disk: one LMDB environment (data.mdb + lock.mdb) with four named
 * databases (docs/engine-storage.md):
 *   "data"   user keys, each prefixed by one byte (LMDB rejects empty keys);
 *            keys too long for LMDB share "bucket" records (store_keys.c)
 *   "meta"   format magic, committed version, conflict-history floor
 *   "hist"   conflict history: version (8 BE) + 2 zero bytes → the write
 *            ranges of that batch's commits (files written before one entry
 *            per batch have one per transaction, the 2 bytes its batch index;
 *            both read alike)
 *   "sample" the byte sample for range size estimates (store_sample.c)
 */
#ifndef FOUND_ENGINE_STORE_INTERNAL_H
#define FOUND_ENGINE_STORE_INTERNAL_H

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "storage/store.h"
#include "util/gen_errors.h"

#define STORE_MAGIC       "found-engine-lmdb"
#define STORE_FORMAT      1
#define STORE_MAP_SIZE    (64ull << 30) /* sparse; grows on disk as used */
#define STORE_MAX_READERS 8192          /* snapshots alive at once, all processes */
/* lock.mdb: LMDB's header (192 bytes) and 64 bytes per reader slot, with room to spare */
#define STORE_LOCK_FILE_BYTES    (STORE_MAX_READERS * 64 + 4096)
#define STORE_HISTORY_VERSIONS   5000000        /* ~5 s of versions kept for conflicts */
#define STORE_RETAIN_SNAPSHOTS   32             /* recent read txns kept for snapshot_at (set_read_version) */
#define STORE_EXPIRE_NS          1000000000ll   /* retained snapshots, dead readers: checked every second */
#define STORE_VERIFY_MAX_BYTES   (256ull << 20) /* larger files are not walked at open */
#define STORE_SAMPLE_BYTES       4096           /* byte sample: one entry per ~4 KB */
#define STORE_ESTIMATE_WALK      4096           /* ranges this short are measured exactly */
#define STORE_BATCH_MAX_REQUESTS 4096
#define STORE_BATCH_MAX_BYTES    (64 << 20) /* bounds one batch's write transaction */
#define STORE_WATCH_POLL_NS      5000000    /* 5 ms: notices other processes' commits */
#define STORE_KEY_PREFIX         0x00
#define STORE_MAX_KEY            509                 /* longest key with a record of its own */
#define STORE_BUCKET_KEY         (STORE_MAX_KEY + 2) /* record of the longer keys (store_keys.c) */
#define STORE_KEY_LIMIT          (1 << 20)           /* the store's own bound; clients enforce 10,000 */

struct snapshot {
    store *s;
    MDB_txn *txn;
    int64_t version;
    size_t txnid; /* LMDB txn id: equal ids, equal contents */
    atomic_int refs;
};

typedef struct batch batch; /* store_commit.c */

/* The commit thread's choice of how long a batch may fill (store_gather.c). */
typedef struct gather_policy {
    int short_wait;          /* the way in use: 0 long, 1 short */
    int duel_window;         /* the window of a duel under way (0..3), else -1 */
    int windows_left;        /* until the next duel */
    int gap;                 /* windows between duels */
    int64_t window_start_ns; /* 0 before the first batch */
    int64_t idle_ns;         /* spent in this window with nothing queued */
    long requests;           /* batched in this window */
    long duel_requests[2];   /* in the duel: [0] the other way, [1] the way in use */
    int64_t duel_ns[2];
} gather_policy;

/* A request's read ranges, sorted and merged (conflicts.c); r NULL until built. */
typedef struct read_set {
    key_range *r;
    int n;
} read_set;

/* One long key's entry inside a bucket record. */
typedef struct bucket_entry {
    const uint8_t *key;
    int key_len;
    const uint8_t *val;
    int val_len;
    size_t off, next; /* offsets of this entry and the next */
} bucket_entry;

struct store_cursor {
    snapshot *snap;
    MDB_cursor *mc;
    MDB_val k, v;  /* the LMDB record under the cursor */
    int in_bucket; /* on a bucket record: `e` is the entry */
    bucket_entry e;
};

struct store_watch {
    store *s;
    store_watch *next;
    uint8_t *key;
    int key_len;
    int present;
    uint8_t *value;
    int value_len;
    watch_fire_fn fire;
    void *ctx;
    int cancelled;
};

struct store {
    store *next_open; /* the process-wide list of open stores */
    int refs;
    char *path;
    int generation; /* store_forks when opened (store.c) */
    MDB_env *env;
    MDB_dbi data, meta, hist, sample;

    /* commit queue, drained by `committer` */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    commit_request *head, *tail;
    int queued;       /* requests in the queue */
    int wake_at;      /* the committer waits for this many (INT_MAX: busy) */
    uint8_t *scratch; /* the committer's room for atomic results */
    int stopping;
    pthread_t committer;
    /* the committer's own */
    gather_policy gathering;
    /* finished batches, whose done() calls run on `completer` */
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;
    batch *done_head, *done_tail;
    int done_stopping;
    int done_busy; /* the completer is calling done()s */
    pthread_t completer;
    atomic_llong committed; /* newest version this process has seen */

    /* snapshots: the newest plus a ring of recent ones for snapshot_at */
    pthread_mutex_t snap_mu;
    snapshot *latest;
    snapshot *recent[STORE_RETAIN_SNAPSHOTS];
    int n_recent;

    /* watches, served by `watcher` */
    pthread_mutex_t watch_mu;
    pthread_cond_t watch_cv;
    store_watch *watches;
    int n_watches;
    int watch_kick;
    pthread_t watcher;
    int watcher_running;
    int watch_stopping;
};

/* store.c */
extern atomic_int store_forks; /* fork()s this process came through */
/* 1 in a child of fork() for a store its parent opened: it must not touch
 * LMDB (the reader slots and locks are the parent's) nor wait for threads
 * that exist only in the parent. */
static inline int store_inherited(const store *s) {
    return s->generation != atomic_load_explicit(&store_forks, memory_order_relaxed);
}

/* LMDB's error as FoundationDB's: 0 only for 0. Inline so that every caller
 * (and the static analyzer) sees that a failure never maps to success. */
static inline int store_lmdb_error(int rc) {
    if (!rc) return 0;
    switch (rc) {
    case ENOENT: return FDB_ERR_FILE_NOT_FOUND;
    case EACCES:
    case EROFS: return FDB_ERR_FILE_NOT_WRITABLE;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
    case MDB_BAD_TXN: return FDB_ERR_FILE_CORRUPT;
    case MDB_BAD_VALSIZE: return FDB_ERR_KEY_TOO_LARGE;
    default: return FDB_ERR_IO_ERROR; /* MDB_MAP_FULL, ENOSPC, EIO, ... */
    }
}

/* store_base.c: the leaf helpers */
int store_meta_get_i64(MDB_txn *txn, store *s, const char *name, int64_t *out);
int store_meta_put_i64(MDB_txn *txn, store *s, const char *name, int64_t v);
int store_user_cmp(const uint8_t *a, int a_len, const uint8_t *b, int b_len);
void store_encode_key(const uint8_t *key, int key_len, uint8_t *buf, MDB_val *out);

/* store_keys.c */
void store_bucket_key(const uint8_t *key, uint8_t *buf, MDB_val *out);
int store_bucket_entry(const MDB_val *b, size_t off, bucket_entry *e);
int store_bucket_seek(const MDB_val *b, const uint8_t *key, int key_len, size_t *off);
int store_data_get(MDB_txn *txn, store *s, const uint8_t *key, int key_len, int *found, const uint8_t **value,
                   int *value_len);
/* *cursor: a cursor on the data database that the caller keeps across puts
 * of one write transaction (NULL at first: opened here) and closes before
 * the transaction ends (one cursor per put cost a malloc and a free). */
int store_data_put(MDB_txn *txn, store *s, MDB_cursor **cursor, const uint8_t *key, int key_len,
                   const uint8_t *val, int val_len);
int store_data_del(MDB_txn *txn, store *s, const uint8_t *key, int key_len);
int store_data_clear_range(MDB_txn *txn, store *s, const uint8_t *b, int bl, const uint8_t *e, int el);

/* store_verify.c */
int store_verify(MDB_env *env);

/* store_sample.c */
int store_sample_note(MDB_txn *txn, store *s, const uint8_t *key, int key_len, int val_len);
/* store_sample_note for a key shorter than STORE_MAX_KEY (its sample entry
 * is its own) whose old value had old_val_len bytes (-1: the key was absent). */
int store_sample_replace(MDB_txn *txn, store *s, const uint8_t *key, int key_len, int old_val_len,
                         int val_len);
int store_sample_forget(MDB_txn *txn, store *s, const uint8_t *key, int key_len);
int store_sample_clear(MDB_txn *txn, store *s, const uint8_t *b, int bl, const uint8_t *e, int el);
int store_sample_sum(MDB_txn *txn, store *s, const uint8_t *b, int bl, const uint8_t *e, int el,
                     int64_t *sum);

/* versions.c */
int64_t versions_next(int64_t last);
void versions_snapshot_retain_all_release(store *s);
void versions_snapshots_expire(store *s);

/* conflicts.c */
int conflicts_floor(MDB_txn *txn, store *s, int64_t *floor);
int conflicts_check(MDB_txn *txn, store *s, const commit_request *req, read_set *rs, int *conflict);
/* One history entry for a batch: the n_lists lists of write ranges of its
 * accepted requests (and the keys its versionstamped-key mutations made). */
int conflicts_record(MDB_txn *txn, store *s, int64_t version, const key_range *const *lists,
                     const int *counts, int n_lists);
int conflicts_prune(MDB_txn *txn, store *s, int64_t version);
int conflicts_reads_prepare(const key_range *reads, int n, read_set *out);
void conflicts_reads_free(read_set *rs);
int conflicts_reads_meet(const read_set *rs, const uint8_t *b, int bl, const uint8_t *e, int el);
int conflicts_ranges_meet(const read_set *rs, const key_range *writes, int n);

/* store_gather.c */
void gather_init(gather_policy *p);
int64_t gather_wait_ns(const gather_policy *p, int64_t last_sync_ns);
void gather_note_idle(gather_policy *p, int64_t ns);
void gather_note_batch(gather_policy *p, int n, int64_t now_ns);

/* store_commit.c */
int store_commit_start(store *s);
void store_commit_stop(store *s);

/* watches.c */
void watches_stop(store *s);
void watches_kick(store *s);

#endif
