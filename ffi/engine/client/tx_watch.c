/* tx_watch.c — see tx_watch.h. */
#include "client/tx_watch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "client/future.h"

struct tx_watch {
    tx_watch *next;
    FDBFuture *f;
    pthread_mutex_t lock;
    atomic_int refs; /* the future's hold + the store's while registered */
    store_watch *w;  /* set while registered and not yet fired */
    uint8_t *key;
    int key_len;
    int present;
    uint8_t *value;
    int value_len;
};

static void unref(tx_watch *x) {
    if (atomic_fetch_sub(&x->refs, 1) == 1) {
        pthread_mutex_destroy(&x->lock);
        free(x->key);
        free(x->value);
        free(x);
    }
}

/* Future hooks: cancelling asks the store to drop the watch; freeing the
 * future gives up its hold on the record. */
static void tx_on_cancel(void *ctx) {
    tx_watch *x = ctx;
    pthread_mutex_lock(&x->lock);
    /* Cancel only a watch the store has not fired: once fired it is freed
     * by the store. The fire path takes this lock before clearing x->w. */
    if (x->w) store_watch_cancel(x->w);
    pthread_mutex_unlock(&x->lock);
}

static void tx_on_free(void *ctx) { unref(ctx); }

tx_watch *txw_new(const uint8_t *key, int key_len, FDBFuture **out_future) {
    tx_watch *x = calloc(1, sizeof *x);
    FDBFuture *f = future_new(FK_NONE);
    if (!x || !f || !(x->key = malloc((size_t)key_len + 1))) {
        free(x ? x->key : NULL);
        free(x);
        if (f) future_release(f);
        return NULL;
    }
    memcpy(x->key, key, (size_t)key_len);
    x->key_len = key_len;
    pthread_mutex_init(&x->lock, NULL);
    atomic_init(&x->refs, 1);
    f->on_cancel = tx_on_cancel;
    f->on_free = tx_on_free;
    f->hook_ctx = x;
    /* The transaction's pending list holds a future reference until the
     * watch is activated or failed. */
    future_retain(f);
    x->f = f;
    *out_future = f;
    return x;
}

tx_watch *txw_push(tx_watch *list, tx_watch *x) {
    x->next = list;
    return x;
}

int txw_capture(tx_watch *list, txw_read_fn read, void *ctx) {
    for (tx_watch *x = list; x; x = x->next) {
        int present = 0, len = 0;
        const uint8_t *v = NULL;
        int err = read(ctx, x->key, x->key_len, &present, &v, &len);
        if (err == FDB_ERR_ACCESSED_UNREADABLE) {
            present = 0; /* a versionstamped value: differs from any stored one */
            err = 0;
        }
        if (err) return err;
        free(x->value);
        x->value = malloc((size_t)len + 1);
        if (!x->value) return FDB_ERR_INTERNAL_ERROR;
        if (len) memcpy(x->value, v, (size_t)len);
        x->present = present;
        x->value_len = len;
    }
    return 0;
}

static void tx_fire(void *ctx, int err) {
    tx_watch *x = ctx;
    on_store_thread = 1;
    pthread_mutex_lock(&x->lock);
    x->w = NULL;
    pthread_mutex_unlock(&x->lock);
    future_complete(x->f, err);
    future_release(x->f);
    unref(x);
    on_store_thread = 0;
}

void txw_activate(tx_watch *list, store *s, int limit) {
    while (list) {
        tx_watch *x = list;
        list = x->next;
        if (fdb_future_is_ready(x->f)) { /* cancelled before its commit */
            future_release(x->f);
            continue;
        }
        atomic_fetch_add(&x->refs, 1);
        pthread_mutex_lock(&x->lock);
        store_watch *w = NULL;
        int err =
            store_watch_add(s, x->key, x->key_len, x->present, x->value, x->value_len, limit, tx_fire, x, &w);
        if (!err) x->w = w;
        pthread_mutex_unlock(&x->lock);
        if (err) {
            atomic_fetch_sub(&x->refs, 1);
            future_complete(x->f, err);
            future_release(x->f);
        }
    }
}

void txw_fail(tx_watch *list, int err) {
    while (list) {
        tx_watch *x = list;
        list = x->next;
        future_complete(x->f, err);
        future_release(x->f);
    }
}
