/*
 * watches.c — watches on single keys, served by one thread per store.
 *
 * The watcher re-reads every watched key when this process commits (the
 * commit thread kicks it) and when LMDB's last transaction id moves, which
 * it polls every STORE_WATCH_POLL_NS to notice other processes' commits.
 * A watch fires once, when the value differs from the one it was set with.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/gen_errors.h"
#include "storage/store_internal.h"

static void free_watch(store_watch *w) {
    free(w->key);
    free(w->value);
    free(w);
}

/* 1 when the watched value in `snap` differs from the one recorded. */
static int changed(snapshot *snap, const store_watch *w) {
    int found = 0, len = 0;
    const uint8_t *v = NULL;
    if (snapshot_get(snap, w->key, w->key_len, &found, &v, &len)) return 0;
    if (found != w->present) return 1;
    return found && (len != w->value_len || memcmp(v, w->value, (size_t)len));
}

/* Move the watches that must fire (changed, or cancelled when err is
 * given) from the store's list to *fire_list. Caller holds watch_mu. */
static void collect(store *s, snapshot *snap, store_watch **fire_list) {
    for (store_watch **p = &s->watches; *p;) {
        store_watch *w = *p;
        if (w->cancelled || (snap && changed(snap, w))) {
            *p = w->next;
            s->n_watches--;
            w->next = *fire_list;
            *fire_list = w;
        } else {
            p = &w->next;
        }
    }
}

static void fire_all(store_watch *list) {
    for (store_watch *w = list, *next; w; w = next) {
        next = w->next;
        w->fire(w->ctx, w->cancelled ? FDB_ERR_OPERATION_CANCELLED : 0);
        free_watch(w);
    }
}

static void *watches_watcher(void *arg) {
    store *s = arg;
    size_t seen_txnid = 0;
    pthread_mutex_lock(&s->watch_mu);
    while (!s->watch_stopping) {
        if (!s->watches) {
            pthread_cond_wait(&s->watch_cv, &s->watch_mu);
        } else if (!s->watch_kick) {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            t.tv_nsec += STORE_WATCH_POLL_NS;
            if (t.tv_nsec >= 1000000000) t.tv_sec++, t.tv_nsec -= 1000000000;
            pthread_cond_timedwait(&s->watch_cv, &s->watch_mu, &t);
        }
        MDB_envinfo info;
        mdb_env_info(s->env, &info);
        if (!s->watch_kick && info.me_last_txnid == seen_txnid) continue;
        s->watch_kick = 0;
        store_watch *fire_list = NULL;
        snapshot *snap = NULL;
        if (s->watches && store_snapshot_latest(s, &snap)) snap = NULL;
        /* The snapshot's own id, not the one just polled: a commit being
         * published shows in the meta page before a new reader can see it. */
        seen_txnid = snap ? snap->txnid : info.me_last_txnid;
        collect(s, snap, &fire_list);
        pthread_mutex_unlock(&s->watch_mu);
        snapshot_release(snap);
        fire_all(fire_list);
        pthread_mutex_lock(&s->watch_mu);
    }
    /* closing: every remaining watch is cancelled */
    for (store_watch *w = s->watches; w; w = w->next) w->cancelled = 1;
    store_watch *fire_list = NULL;
    collect(s, NULL, &fire_list);
    pthread_mutex_unlock(&s->watch_mu);
    fire_all(fire_list);
    return NULL;
}

static uint8_t *watches_dup(const uint8_t *p, int len) {
    uint8_t *d = malloc((size_t)len + 1);
    if (d && len) memcpy(d, p, (size_t)len);
    return d;
}

int store_watch_add(store *s, const uint8_t *key, int key_len, int present, const uint8_t *value,
                    int value_len, int limit, watch_fire_fn fire, void *ctx, store_watch **out) {
    if (store_inherited(s)) return FDB_ERR_CLIENT_INVALID_OPERATION;
    store_watch *w = calloc(1, sizeof *w);
    if (!w) return FDB_ERR_INTERNAL_ERROR;
    *w = (store_watch){.s = s,
                       .key = watches_dup(key, key_len),
                       .key_len = key_len,
                       .present = present,
                       .value = watches_dup(value, present ? value_len : 0),
                       .value_len = present ? value_len : 0,
                       .fire = fire,
                       .ctx = ctx};
    if (!w->key || !w->value) {
        free_watch(w);
        return FDB_ERR_INTERNAL_ERROR;
    }
    pthread_mutex_lock(&s->watch_mu);
    int err = 0;
    if (s->watch_stopping)
        err = FDB_ERR_OPERATION_CANCELLED; /* the store is closing */
    else if (s->n_watches >= limit)
        err = FDB_ERR_TOO_MANY_WATCHES;
    else if (!s->watcher_running && pthread_create(&s->watcher, NULL, watches_watcher, s))
        err = FDB_ERR_INTERNAL_ERROR;
    if (!err) {
        s->watcher_running = 1;
        w->next = s->watches;
        s->watches = w;
        s->n_watches++;
        s->watch_kick = 1; /* the value may have changed already */
        pthread_cond_signal(&s->watch_cv);
    }
    pthread_mutex_unlock(&s->watch_mu);
    if (err)
        free_watch(w);
    else
        *out = w;
    return err;
}

void store_watch_cancel(store_watch *w) {
    store *s = w->s;
    if (store_inherited(s)) return;
    pthread_mutex_lock(&s->watch_mu);
    /* Only a watch still listed is live; one already taken off the list is
     * firing (or has fired) and the call is a no-op. */
    for (store_watch *x = s->watches; x; x = x->next)
        if (x == w) {
            w->cancelled = 1;
            s->watch_kick = 1;
            pthread_cond_signal(&s->watch_cv);
            break;
        }
    pthread_mutex_unlock(&s->watch_mu);
}

void watches_kick(store *s) {
    pthread_mutex_lock(&s->watch_mu);
    if (s->watches) {
        s->watch_kick = 1;
        pthread_cond_signal(&s->watch_cv);
    }
    pthread_mutex_unlock(&s->watch_mu);
}

void watches_stop(store *s) {
    pthread_mutex_lock(&s->watch_mu);
    int running = s->watcher_running;
    s->watch_stopping = 1;
    pthread_cond_signal(&s->watch_cv);
    pthread_mutex_unlock(&s->watch_mu);
    if (running) pthread_join(s->watcher, NULL);
}
