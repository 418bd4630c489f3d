/*
 * store_read.c — point reads and ordered cursors over a snapshot.
 *
 * Values and keys handed out point into LMDB's read-only map: no copy, no
 * allocation, valid while the snapshot lives.
 */
#include <stdlib.h>
#include <string.h>

#include "gen_errors.h"
#include "store_internal.h"

int snapshot_get(snapshot *snap, const uint8_t *key, int key_len,
                 int *found, const uint8_t **value, int *value_len)
{
    uint8_t buf[STORE_MAX_KEY + 2];
    MDB_val k, v;
    *found = 0;
    if (key_len > STORE_MAX_KEY) return 0;   /* no such key can be stored */
    _store_encode_key(key, key_len, buf, &k);
    int rc = mdb_get(snap->txn, snap->s->data, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return _store_lmdb_error(rc);
    *found = 1;
    *value = v.mv_data;
    *value_len = (int)v.mv_size;
    return 0;
}

int snapshot_cursor_open(snapshot *snap, store_cursor **out)
{
    store_cursor *c = calloc(1, sizeof *c);
    if (!c) return FDB_ERR_INTERNAL_ERROR;
    int rc = mdb_cursor_open(snap->txn, snap->s->data, &c->mc);
    if (rc) { free(c); return _store_lmdb_error(rc); }
    c->snap = snap;
    *out = c;
    return 0;
}

/* Position with `op`; MDB_NOTFOUND means "ran off the data", not an error. */
static int _move(store_cursor *c, MDB_cursor_op op, int *valid)
{
    int rc = mdb_cursor_get(c->mc, &c->k, &c->v, op);
    c->valid = rc == 0;
    *valid = c->valid;
    return rc == MDB_NOTFOUND ? 0 : _store_lmdb_error(rc);
}

int cursor_seek_ge(store_cursor *c, const uint8_t *key, int key_len, int *valid)
{
    uint8_t buf[STORE_MAX_KEY + 2];
    int long_key = key_len > STORE_MAX_KEY;
    /* Stored keys are at most STORE_MAX_KEY long, so the first one >= a
     * longer key is the first one > its STORE_MAX_KEY-byte prefix. */
    _store_encode_key(key, long_key ? STORE_MAX_KEY : key_len, buf, &c->k);
    int err = _move(c, MDB_SET_RANGE, valid);
    if (!err && *valid && long_key && c->k.mv_size == STORE_MAX_KEY + 1 &&
        !memcmp(c->k.mv_data, buf, STORE_MAX_KEY + 1))
        err = _move(c, MDB_NEXT, valid);
    return err;
}

int cursor_seek_lt(store_cursor *c, const uint8_t *key, int key_len, int *valid)
{
    if (!key && !key_len) return _move(c, MDB_LAST, valid);
    int err = cursor_seek_ge(c, key, key_len, valid);
    if (err) return err;
    return _move(c, *valid ? MDB_PREV : MDB_LAST, valid);
}

int cursor_next(store_cursor *c, int *valid)
{
    return _move(c, MDB_NEXT, valid);
}

int cursor_prev(store_cursor *c, int *valid)
{
    return _move(c, MDB_PREV, valid);
}

void cursor_current(store_cursor *c, const uint8_t **key, int *key_len,
                    const uint8_t **value, int *value_len)
{
    *key = (const uint8_t *)c->k.mv_data + 1;
    *key_len = (int)c->k.mv_size - 1;
    *value = c->v.mv_data;
    *value_len = (int)c->v.mv_size;
}

void cursor_close(store_cursor *c)
{
    if (!c) return;
    mdb_cursor_close(c->mc);
    free(c);
}

static int _user_cmp(const uint8_t *a, int a_len, const uint8_t *b, int b_len)
{
    int c = memcmp(a, b, (size_t)(a_len < b_len ? a_len : b_len));
    return c ? c : (a_len > b_len) - (a_len < b_len);
}

int store_estimate_range(snapshot *snap, const uint8_t *begin, int begin_len,
                         const uint8_t *end, int end_len, int64_t *bytes)
{
    store_cursor *c;
    int valid, err = snapshot_cursor_open(snap, &c);
    *bytes = 0;
    if (err) return err;
    for (err = cursor_seek_ge(c, begin, begin_len, &valid); !err && valid; err = cursor_next(c, &valid)) {
        const uint8_t *k, *v;
        int kl, vl;
        cursor_current(c, &k, &kl, &v, &vl);
        if (_user_cmp(k, kl, end, end_len) >= 0) break;
        *bytes += kl + vl;
    }
    cursor_close(c);
    return err;
}
