/*
 * store.h — the engine's durable core: one LMDB environment in a local
 * directory, shared by every process that opens it.
 *
 * The client side of the engine (C API, futures, transactions with their
 * read-your-writes cache) sits above this interface; everything that must be
 * shared between processes (data, versions, conflict history, watches) sits
 * below it. Every function returns 0 or a FoundationDB error code (gen_errors.h)
 * unless its comment says otherwise.
 */
#ifndef FOUND_ENGINE_STORE_H
#define FOUND_ENGINE_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct store store;
typedef struct snapshot snapshot;
typedef struct store_cursor store_cursor;
typedef struct store_watch store_watch;

/* --- opening ------------------------------------------------------------ */

/* Open (or create) the store in directory `dir`. Opening the same directory
 * twice in one process returns the same store with its reference count
 * raised (LMDB forbids two environments on one file in one process).
 * On failure, writes a human-readable detail naming the offending file into
 * `detail` (e.g. "…/data.mdb: not a found engine file (bad magic)").
 * A store must not be used across fork(): in the child, a store the parent
 * opened answers 2000 client_invalid_operation to everything (a commit's
 * done() runs at once) and store_close ignores it; the child may open the
 * directory again and gets its own store. */
int store_open(const char *dir, store **out, char *detail, size_t detail_len);
void store_close(store *s);
const char *store_path(const store *s);

/* --- reading: snapshots ---------------------------------------------------
 * A snapshot is a consistent view of committed data at one version. Several
 * threads may read one snapshot at the same time (transactions share them):
 * each uses its own cursors; see docs/engine-storage.md, "Threads and
 * snapshots", for why that is safe with LMDB. */

/* The newest committed state. Each snapshot alive holds a slot of LMDB's
 * reader table (shared by every process, STORE_MAX_READERS slots): when all
 * are taken, 1078 grv_proxy_memory_limit_exceeded (retryable). */
int store_snapshot_latest(store *s, snapshot **out);
/* The state at exactly `version`: 1007 transaction_too_old when that version
 * is no longer retained, 1009 future_version when it is newer than the newest
 * commit. */
int store_snapshot_at(store *s, int64_t version, snapshot **out);
int64_t snapshot_version(const snapshot *snap);
void snapshot_release(snapshot *snap);

/* Point read. Returns 0 and sets *found; the value stays valid until the
 * snapshot is released. */
int snapshot_get(snapshot *snap, const uint8_t *key, int key_len, int *found, const uint8_t **value,
                 int *value_len);

/* Ordered iteration. seek_ge positions at the first key >= key, seek_lt at
 * the last key < key (pass key_len 0 with a NULL key for "past the end").
 * Each call sets *valid to 0 when the cursor has run off the data. */
int snapshot_cursor_open(snapshot *snap, store_cursor **out);
int cursor_seek_ge(store_cursor *c, const uint8_t *key, int key_len, int *valid);
int cursor_seek_lt(store_cursor *c, const uint8_t *key, int key_len, int *valid);
int cursor_next(store_cursor *c, int *valid);
int cursor_prev(store_cursor *c, int *valid);
void cursor_current(store_cursor *c, const uint8_t **key, int *key_len, const uint8_t **value,
                    int *value_len);
void cursor_close(store_cursor *c);

/* Approximate bytes stored in [begin, end) (keys + values), for
 * get_estimated_range_size_bytes and get_range_split_points. */
int store_estimate_range(snapshot *snap, const uint8_t *begin, int begin_len, const uint8_t *end, int end_len,
                         int64_t *bytes);

/* --- writing: commits ----------------------------------------------------- */

enum mutation_kind {
    MUT_SET = 0,         /* key ← param */
    MUT_CLEAR_RANGE = 1, /* clear [key, end) */
    MUT_ATOMIC = 2,      /* key ← atomic_apply(op, current, param); op is an
                             FDB_MUTATION_TYPE_* code (atomic.h), including the
                             versionstamp ops, which the store resolves */
};

typedef struct mutation {
    int kind;
    int op; /* FDB_MUTATION_TYPE_* for MUT_ATOMIC */
    const uint8_t *key;
    int key_len;
    const uint8_t *end;
    int end_len; /* MUT_CLEAR_RANGE */
    const uint8_t *param;
    int param_len; /* value or atomic operand */
} mutation;

typedef struct key_range {
    const uint8_t *begin;
    int begin_len;
    const uint8_t *end;
    int end_len;
} key_range;

typedef struct commit_request commit_request;
/* Called exactly once per request, from a store thread (the store's
 * completion thread, so the next batch can commit meanwhile; or the commit
 * thread itself when nothing waits for the next batch), after the batch
 * holding it is durable (fsync'd) or has failed; requests complete in the
 * order they were committed. On success `version`
 * is the commit version and `batch_index` the transaction's order in its
 * batch (the last 2 bytes of its versionstamp). */
typedef void (*commit_done_fn)(commit_request *req, int err, int64_t version, uint16_t batch_index);

struct commit_request {
    int64_t read_version; /* conflicts are checked against commits after it */
    const key_range *reads;
    int n_reads; /* read conflict ranges */
    const key_range *writes;
    int n_writes; /* write conflict ranges */
    const mutation *mutations;
    int n_mutations; /* in the order the client issued them */
    commit_done_fn done;
    void *ctx;            /* for the caller */
    commit_request *next; /* owned by the store while queued */
    /* Optional: run on the same thread right after done(), or, when the
     * next request of the batch has the same after_batch, after that one's:
     * lets a client wake a whole batch's waiters at once. */
    void (*after_batch)(void);
};

/* Queue a commit. The store batches everything queued into one LMDB write
 * transaction and one fsync (group commit), checks each request's read ranges
 * against the write ranges of commits newer than its read version (and of
 * earlier requests in the same batch) → 1020 not_committed, and 1007 when the
 * read version is older than the retained conflict history. All memory the
 * request points to must stay valid until `done` runs. */
void store_commit_submit(store *s, commit_request *req);

/* For report_conflicting_keys after a 1020: hit[i] = 1 for each read range
 * meeting a write committed after read_version (others left as they are).
 * 0 or an FDB error. */
int store_conflicting_reads(store *s, int64_t read_version, const key_range *reads, int n,
                            unsigned char *hit);

/* The newest committed version, as seen by this process now. */
int64_t store_committed_version(store *s);

/* --- watches -------------------------------------------------------------- */

typedef void (*watch_fire_fn)(void *ctx, int err);

/* Watch `key`, whose value at the watching transaction's commit (or read
 * version) was (present, value). `fire` runs once, from a store thread, with
 * err 0 when a commit from any process changes the value, or with err 1101
 * operation_cancelled after store_watch_cancel (or when the store closes).
 * 1032 too_many_watches when `limit` watches are already active on this
 * store handle; 1101 when the store is closing. */
int store_watch_add(store *s, const uint8_t *key, int key_len, int present, const uint8_t *value,
                    int value_len, int limit, watch_fire_fn fire, void *ctx, store_watch **out);
void store_watch_cancel(store_watch *w);

#endif
