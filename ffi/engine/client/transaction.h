/*
 * transaction.h — FDBTransaction: a snapshot of the store taken at the first
 * read, the pending writes (ryw.h), conflict ranges and the mutation log
 * handed to store_commit_submit, options, and retry state.
 */
#ifndef FOUND_ENGINE_TRANSACTION_H
#define FOUND_ENGINE_TRANSACTION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/base.h"
#include "client/database.h"
#include "client/ryw.h"
#include "storage/store.h"

/* Everything a commit hands to the store; moved into the commit job so
 * the transaction can be reset or destroyed while the commit runs. */
typedef struct tx_writes {
    arena a;
    ryw w;
    vec mutations; /* mutation, in issue order */
    vec reads;     /* key_range: read conflict ranges */
    vec writes;    /* key_range: write conflict ranges */
    int64_t size;  /* approximate bytes (get_approximate_size) */
    struct tx_writes *next_free;
} tx_writes;

enum tx_state { TX_ACTIVE = 0, TX_COMMITTING, TX_COMMITTED, TX_CANCELLED };

typedef struct tx_watch tx_watch;

struct FDB_transaction {
    FDBDatabase *db;
    atomic_int refs;         /* the caller's + one per commit in flight */
    pthread_mutex_t op_lock; /* one C API call at a time (recursive: callbacks may re-enter) */
    pthread_mutex_t lock;    /* fields written by the commit thread */
    atomic_int state;        /* enum tx_state */
    int cancel_err;          /* TX_CANCELLED: what every operation fails with
                                 * (1025 cancelled, 1031 timed out) until reset */
    unsigned generation;     /* bumped by reset: stale commits leave us be */
    tx_writes *wr;

    /* reading */
    snapshot *snap;
    store_cursor *cur;
    int64_t snap_time;
    int64_t wanted_read_version; /* set_read_version, or -1 */

    /* options */
    tx_defaults opt;
    int ryw_disable;
    int read_system;  /* read_system_keys or access_system_keys */
    int write_system; /* access_system_keys */
    int next_write_no_conflict;
    int report_conflicting_keys;
    int sk_relaxed; /* special_key_space_relaxed */
    int sk_writes;  /* special_key_space_enable_writes */

    /* special key space state of this attempt (special_keys.h) */
    int sk_tenant_sets;     /* tenant-map writes: tenants_disabled at commit */
    key_range *conflicting; /* report_conflicting_keys: the read ranges that made the
                                 * last commit fail (one block with their bytes; under lock) */
    int n_conflicting;

    /* errors and retries */
    int deferred_err; /* from set/clear/atomic: reported by later ops */
    int64_t start_ns; /* for the timeout option */
    int retries;
    int64_t backoff_ms;
    FDBFuture *retry_future; /* on_error's pending delay (cancel ends it) */

    /* commit results */
    int64_t committed_version;
    uint8_t versionstamp[10];
    int versionstamp_err; /* valid once TX_COMMITTED */
    FDBFuture *versionstamp_waiters;
    tx_watch *watches;        /* registered at commit */
    FDBFuture *commit_future; /* while TX_COMMITTING */
};

/* Around every C API call on a transaction: libfdb_c's transactions may be
 * used from several threads, so calls are serialized. */
void tx_enter(FDBTransaction *tr);
void tx_leave(FDBTransaction *tr);

/* Checks common to every operation; 0 or the error it must report. A
 * timeout found elapsed fires here (the transaction is then dead). */
int tx_check_usable(FDBTransaction *tr);
/* End the transaction until reset, as FoundationDB's client does on cancel,
 * on a timeout and when on_error gives up: everything pending (commit,
 * versionstamps, watches, on_error's delay) and every later operation fail
 * with err. A transaction already dead keeps its first error. */
void tx_kill(FDBTransaction *tr, int err);
/* Fire the timeout if it has elapsed; 1 when the transaction is dead. */
int64_t tx_deadline_ns(const FDBTransaction *tr);
int tx_timeout_check(FDBTransaction *tr);
/* Take the read snapshot if not yet taken; 0 or an error. */
int tx_ensure_snapshot(FDBTransaction *tr);
/* Give the read snapshot back before the attempt ends (commit sent or
 * refused, cancel); later reads take one at the same version. */
void tx_release_snapshot(FDBTransaction *tr);
/* The largest key readable: \xff, or \xff\xff with system-key access. */
void tx_max_read_key(const FDBTransaction *tr, const uint8_t **key, int *len);
/* Record a read conflict range (copied). 0 or 4100. */
int tx_add_read_conflict(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el);
/* Record a read conflict range less the parts the transaction's own
 * writes decide (cleared ranges, keys with a known value). */
int tx_add_read_conflict_ryw(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el);
/* Record [key, key+\0) as a read conflict. */
int tx_add_read_conflict_key(FDBTransaction *tr, const uint8_t *key, int key_len);
/* The transaction's pending writes to read through, or NULL when
 * read-your-writes does not apply to this read. */
ryw *tx_ryw_for_read(FDBTransaction *tr, int snapshot);

/* The value the transaction reads at key (through its writes unless
 * snapshot-without-RYW); *value stays valid until the next read. */
int tx_read_value(FDBTransaction *tr, const uint8_t *key, int key_len, int snapshot, int *present,
                  const uint8_t **value, int *value_len, int *from_store);
/* Write sets come from a small pool (their arenas keep a chunk). */
tx_writes *tx_writes_new(void);
void tx_writes_recycle(tx_writes *wr);
/* Drop a reference; the last one frees the transaction. */
void tx_unref(FDBTransaction *tr);
/* End the current attempt: fail its waiters with err, drop its snapshot
 * and writes (a commit in flight keeps its own). Options stay. */
void tx_abandon_attempt(FDBTransaction *tr, int err);
/* What on_error does to options, as FoundationDB's ReadYourWritesTransaction:
 * its own options go back to their defaults (read_your_writes_disable,
 * snapshot_ryw_*, read/access_system_keys, next_write_no_write_conflict_range,
 * special_key_space_*); the persistent ones (timeout, retry_limit,
 * max_retry_delay) and the native transaction's (size_limit, ...) stay. */
void tx_reset_ryw_options(FDBTransaction *tr);

/* The transaction's store cursor (opened on first use). */
int tx_cursor(FDBTransaction *tr, store_cursor **out);

#endif
