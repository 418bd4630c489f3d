/*
 * versions.c — commit versions and the snapshots that read at them.
 *
 * A commit version is max(previous + 1, wall-clock microseconds), kept in
 * the "meta" database and advanced inside the LMDB write transaction, so it
 * rises strictly across every process sharing the directory at about
 * 1,000,000 per second, as FoundationDB's do.
 *
 * A snapshot is an LMDB read transaction plus the version read inside it.
 * Transactions that start while nothing was committed share one snapshot;
 * a ring of recent snapshots serves store_snapshot_at (set_read_version).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/gen_errors.h"
#include "storage/store_internal.h"

int64_t versions_next(int64_t last) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return now > last ? now : last + 1;
}

/* LMDB's reader table (shared by every process) is full: give back the
 * slots of the snapshots kept only for snapshot_at. 1 when any were held.
 * Caller holds snap_mu. */
static int release_retained(store *s) {
    int had = s->n_recent;
    for (int i = 0; i < s->n_recent; i++) snapshot_release(s->recent[i]);
    s->n_recent = 0;
    return had > 0;
}

/* A new snapshot of the newest committed state; NULL with *err set on failure. */
static snapshot *snapshot_new(store *s, int *err) {
    snapshot *snap = malloc(sizeof *snap);
    if (!snap) {
        *err = FDB_ERR_INTERNAL_ERROR;
        return NULL;
    }
    MDB_stat st;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &snap->txn);
    if (rc == MDB_READERS_FULL && release_retained(s)) /* make room, once */
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &snap->txn);
    if (rc) {
        free(snap);
        /* Every slot of lock.mdb's reader table holds a live snapshot: like
         * FoundationDB's GRV proxies out of room, a condition to retry. */
        *err = rc == MDB_READERS_FULL ? FDB_ERR_GRV_PROXY_MEMORY_LIMIT_EXCEEDED : store_lmdb_error(rc);
        return NULL;
    }
    rc = store_meta_get_i64(snap->txn, s, "version", &snap->version);
    /* Touch every database now: LMDB refreshes a named database's root
     * lazily on first use, which must not happen while threads share it. */
    if (!rc) rc = mdb_stat(snap->txn, s->data, &st);
    if (!rc) rc = mdb_stat(snap->txn, s->hist, &st);
    if (!rc) rc = mdb_stat(snap->txn, s->sample, &st);
    if (rc) {
        mdb_txn_abort(snap->txn);
        free(snap);
        *err = store_lmdb_error(rc);
        return NULL;
    }
    snap->s = s;
    snap->txnid = mdb_txn_id(snap->txn);
    atomic_init(&snap->refs, 1);
    int64_t seen = atomic_load(&s->committed);
    while (seen < snap->version && !atomic_compare_exchange_weak(&s->committed, &seen, snap->version)) {}
    *err = 0;
    return snap;
}

void snapshot_release(snapshot *snap) {
    if (snap && atomic_fetch_sub(&snap->refs, 1) == 1) {
        if (!store_inherited(snap->s)) mdb_txn_abort(snap->txn); /* else the parent's slot */
        free(snap);
    }
}

int64_t snapshot_version(const snapshot *snap) { return snap->version; }

static void retire_old(store *s, int64_t newest);

/* Retire the current newest snapshot into the ring, dropping entries that
 * are too old to matter or beyond the ring's size. Caller holds snap_mu. */
static void retire_latest(store *s, int64_t newest) {
    if (!s->latest) return;
    if (s->n_recent == STORE_RETAIN_SNAPSHOTS) {
        snapshot_release(s->recent[0]);
        memmove(s->recent, s->recent + 1, sizeof s->recent[0] * --s->n_recent);
    }
    s->recent[s->n_recent++] = s->latest;
    s->latest = NULL;
    retire_old(s, newest);
}

/* Release retained snapshots too old for snapshot_at. Caller holds snap_mu. */
static void retire_old(store *s, int64_t newest) {
    int old = 0;
    while (old < s->n_recent && s->recent[old]->version < newest - STORE_HISTORY_VERSIONS)
        snapshot_release(s->recent[old++]);
    memmove(s->recent, s->recent + old, sizeof s->recent[0] * (size_t)(s->n_recent - old));
    s->n_recent -= old;
}

/* Make s->latest the newest committed state. Caller holds snap_mu. */
static int refresh_latest(store *s) {
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    if (s->latest && s->latest->txnid == info.me_last_txnid) return 0;
    int err;
    snapshot *snap = snapshot_new(s, &err);
    if (!snap) return err;
    if (s->latest && s->latest->txnid == snap->txnid) { /* raced a reader, same state */
        snapshot_release(snap);
        return 0;
    }
    retire_latest(s, snap->version);
    s->latest = snap;
    return 0;
}

int store_snapshot_latest(store *s, snapshot **out) {
    if (store_inherited(s)) return FDB_ERR_CLIENT_INVALID_OPERATION;
    pthread_mutex_lock(&s->snap_mu);
    int err = refresh_latest(s);
    if (!err) {
        atomic_fetch_add(&s->latest->refs, 1);
        *out = s->latest;
    }
    pthread_mutex_unlock(&s->snap_mu);
    return err;
}

/* 1 when some commit has a version in (after, upto]. */
static int commit_between(store *s, snapshot *latest, int64_t after, int64_t upto) {
    uint8_t kb[10] = {0};
    uint64_t v = (uint64_t)after + 1;
    for (int i = 0; i < 8; i++) kb[i] = (uint8_t)(v >> (56 - 8 * i));
    MDB_cursor *c;
    MDB_val k = {sizeof kb, kb}, d;
    if (mdb_cursor_open(latest->txn, s->hist, &c)) return 1;
    int rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
    int found = 1;
    if (rc == MDB_NOTFOUND)
        found = 0;
    else if (!rc && k.mv_size >= 8) {
        uint64_t at = 0;
        for (int i = 0; i < 8; i++) at = at << 8 | ((uint8_t *)k.mv_data)[i];
        found = (int64_t)at <= upto;
    }
    mdb_cursor_close(c);
    return found;
}

int store_snapshot_at(store *s, int64_t version, snapshot **out) {
    if (store_inherited(s)) return FDB_ERR_CLIENT_INVALID_OPERATION;
    pthread_mutex_lock(&s->snap_mu);
    int err = refresh_latest(s);
    snapshot *pick = NULL;
    if (err) goto done;
    if (version > s->latest->version) {
        err = FDB_ERR_FUTURE_VERSION;
        goto done;
    }
    pick = s->latest;
    /* The newest retained snapshot at or before `version`; it shows the
     * state at `version` only when no commit happened in between. */
    for (int i = s->n_recent - 1; i >= 0 && pick->version > version; i--) pick = s->recent[i];
    if (pick->version > version)
        err = FDB_ERR_TRANSACTION_TOO_OLD;
    else if (pick->version < version && commit_between(s, s->latest, pick->version, version))
        err = FDB_ERR_TRANSACTION_TOO_OLD;
done:
    if (!err) {
        atomic_fetch_add(&pick->refs, 1);
        *out = pick;
    }
    pthread_mutex_unlock(&s->snap_mu);
    return err;
}

void versions_snapshots_expire(store *s) {
    int dead;
    mdb_reader_check(s->env, &dead); /* slots of readers killed mid-read */
    int64_t oldest = versions_next(0) - STORE_HISTORY_VERSIONS;
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    pthread_mutex_lock(&s->snap_mu);
    if (s->latest && s->latest->txnid != info.me_last_txnid && s->latest->version < oldest)
        retire_latest(s, versions_next(0));
    else if (s->n_recent)
        retire_old(s, versions_next(0));
    pthread_mutex_unlock(&s->snap_mu);
}

void versions_snapshot_retain_all_release(store *s) {
    pthread_mutex_lock(&s->snap_mu);
    for (int i = 0; i < s->n_recent; i++) snapshot_release(s->recent[i]);
    s->n_recent = 0;
    snapshot_release(s->latest);
    s->latest = NULL;
    pthread_mutex_unlock(&s->snap_mu);
}

int64_t store_committed_version(store *s) {
    if (store_inherited(s)) return atomic_load(&s->committed);
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    pthread_mutex_lock(&s->snap_mu);
    int stale = !s->latest || s->latest->txnid != info.me_last_txnid;
    pthread_mutex_unlock(&s->snap_mu);
    if (stale) {
        snapshot *snap;
        if (!store_snapshot_latest(s, &snap)) snapshot_release(snap);
    }
    return atomic_load(&s->committed);
}
