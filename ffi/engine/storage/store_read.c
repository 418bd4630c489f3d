/*
 * store_read.c — point reads and ordered cursors over a snapshot.
 *
 * Values and keys handed out point into LMDB's read-only map: no copy, no
 * allocation, valid while the snapshot lives. A cursor walks LMDB records
 * and, on a bucket record (store_keys.c), the long keys inside it.
 */
#include <stdlib.h>
#include <string.h>

#include "util/gen_errors.h"
#include "storage/store_internal.h"

int snapshot_get(snapshot *snap, const uint8_t *key, int key_len, int *found, const uint8_t **value,
                 int *value_len) {
    *found = 0;
    if (store_inherited(snap->s)) return FDB_ERR_CLIENT_INVALID_OPERATION;
    if (key_len <= STORE_MAX_KEY) { /* the common case, inline */
        uint8_t buf[STORE_BUCKET_KEY];
        MDB_val k, v;
        store_encode_key(key, key_len, buf, &k);
        int rc = mdb_get(snap->txn, snap->s->data, &k, &v);
        *found = rc == 0;
        if (rc) return rc == MDB_NOTFOUND ? 0 : store_lmdb_error(rc);
        *value = v.mv_data;
        *value_len = (int)v.mv_size;
        return 0;
    }
    return store_data_get(snap->txn, snap->s, key, key_len, found, value, value_len);
}

int snapshot_cursor_open(snapshot *snap, store_cursor **out) {
    if (store_inherited(snap->s)) return FDB_ERR_CLIENT_INVALID_OPERATION;
    store_cursor *c = calloc(1, sizeof *c);
    if (!c) return FDB_ERR_INTERNAL_ERROR;
    int rc = mdb_cursor_open(snap->txn, snap->s->data, &c->mc);
    if (rc) {
        free(c);
        return store_lmdb_error(rc);
    }
    c->snap = snap;
    *out = c;
    return 0;
}

/* Enter the record just reached: a bucket at its first entry (forward) or
 * its last (backward). */
static int enter(store_cursor *c, int backward) {
    c->in_bucket = c->k.mv_size == STORE_BUCKET_KEY;
    if (!c->in_bucket) return 0;
    size_t off = 0;
    int rc;
    while (!(rc = store_bucket_entry(&c->v, off, &c->e)) && backward && c->e.next < c->v.mv_size)
        off = c->e.next;
    return rc ? FDB_ERR_FILE_CORRUPT : 0;
}

/* Move the LMDB cursor with `op`; MDB_NOTFOUND means "ran off the data". */
static int move(store_cursor *c, MDB_cursor_op op, int *valid) {
    int rc = mdb_cursor_get(c->mc, &c->k, &c->v, op);
    *valid = rc == 0;
    c->in_bucket = 0;
    if (rc) return rc == MDB_NOTFOUND ? 0 : store_lmdb_error(rc);
    return enter(c, op == MDB_PREV || op == MDB_LAST);
}

int cursor_seek_ge(store_cursor *c, const uint8_t *key, int key_len, int *valid) {
    uint8_t buf[STORE_BUCKET_KEY];
    *valid = 0;
    if (store_inherited(c->snap->s)) return FDB_ERR_CLIENT_INVALID_OPERATION;
    if (key_len <= STORE_MAX_KEY) {
        store_encode_key(key, key_len, buf, &c->k);
        return move(c, MDB_SET_RANGE, valid); /* a bucket reached is all > key */
    }
    /* A long key: find its prefix, step over the short key equal to it,
     * then search the prefix's bucket. */
    store_encode_key(key, STORE_MAX_KEY, buf, &c->k);
    int err = move(c, MDB_SET_RANGE, valid);
    if (!err && *valid && !c->in_bucket && c->k.mv_size == STORE_MAX_KEY + 1 &&
        !memcmp(c->k.mv_data, buf, STORE_MAX_KEY + 1))
        err = move(c, MDB_NEXT, valid);
    if (err || !*valid || !c->in_bucket || memcmp(c->k.mv_data, buf, STORE_MAX_KEY + 1)) return err;
    size_t off;
    if (store_bucket_seek(&c->v, key, key_len, &off)) return FDB_ERR_FILE_CORRUPT;
    if (off == c->v.mv_size) return move(c, MDB_NEXT, valid);
    return store_bucket_entry(&c->v, off, &c->e) ? FDB_ERR_FILE_CORRUPT : 0;
}

int cursor_seek_lt(store_cursor *c, const uint8_t *key, int key_len, int *valid) {
    *valid = 0;
    if (store_inherited(c->snap->s)) return FDB_ERR_CLIENT_INVALID_OPERATION;
    if (!key && !key_len) return move(c, MDB_LAST, valid);
    int err = cursor_seek_ge(c, key, key_len, valid);
    if (err) return err;
    return *valid ? cursor_prev(c, valid) : move(c, MDB_LAST, valid);
}

int cursor_next(store_cursor *c, int *valid) {
    if (c->in_bucket && c->e.next < c->v.mv_size) {
        *valid = 1;
        return store_bucket_entry(&c->v, c->e.next, &c->e) ? FDB_ERR_FILE_CORRUPT : 0;
    }
    return move(c, MDB_NEXT, valid);
}

int cursor_prev(store_cursor *c, int *valid) {
    if (c->in_bucket && c->e.off > 0) {
        size_t target = c->e.off, off = 0;
        *valid = 1;
        while (!store_bucket_entry(&c->v, off, &c->e) && c->e.next < target) off = c->e.next;
        return c->e.next == target ? 0 : FDB_ERR_FILE_CORRUPT;
    }
    return move(c, MDB_PREV, valid);
}

void cursor_current(store_cursor *c, const uint8_t **key, int *key_len, const uint8_t **value,
                    int *value_len) {
    if (c->in_bucket) {
        *key = c->e.key, *key_len = c->e.key_len;
        *value = c->e.val, *value_len = c->e.val_len;
        return;
    }
    *key = (const uint8_t *)c->k.mv_data + 1;
    *key_len = (int)c->k.mv_size - 1;
    *value = c->v.mv_data;
    *value_len = (int)c->v.mv_size;
}

void cursor_close(store_cursor *c) {
    if (!c) return;
    mdb_cursor_close(c->mc);
    free(c);
}

/* Exact bytes of [begin, end) when the range holds at most `cap` pairs;
 * -1 when it holds more. */
static int measure(snapshot *snap, const uint8_t *begin, int begin_len, const uint8_t *end, int end_len,
                   int cap, int64_t *bytes) {
    store_cursor *c;
    int valid, n = 0, err = snapshot_cursor_open(snap, &c);
    *bytes = 0;
    if (err) return err;
    for (err = cursor_seek_ge(c, begin, begin_len, &valid); !err && valid; err = cursor_next(c, &valid)) {
        const uint8_t *k, *v;
        int kl, vl;
        cursor_current(c, &k, &kl, &v, &vl);
        if (store_user_cmp(k, kl, end, end_len) >= 0) break;
        if (++n > cap) {
            *bytes = -1;
            break;
        }
        *bytes += kl + vl;
    }
    cursor_close(c);
    return err;
}

int store_estimate_range(snapshot *snap, const uint8_t *begin, int begin_len, const uint8_t *end, int end_len,
                         int64_t *bytes) {
    int err = measure(snap, begin, begin_len, end, end_len, STORE_ESTIMATE_WALK, bytes);
    if (err || *bytes >= 0) return err;
    int rc = store_sample_sum(snap->txn, snap->s, begin, begin_len, end, end_len, bytes);
    return store_lmdb_error(rc);
}
